//! `regctl credential-helper ACTION` and `docker-credential-regctl ACTION`: the Docker
//! credential-helper protocol, answered with ECR tokens for ECR registries and from the OS
//! keychain for the rest. Output is the protocol itself (errors on stdout, exit 1), not regctl's
//! usual text or JSON; for people and logs, a store's failure is repeated on stderr with its
//! hint, and warnings about a served token (a refresh that failed while the cached token still
//! works) go to stderr too.

use std::ffi::OsString;
use std::time::SystemTime;

use crate::context::{Environment, PathFlags, Paths};
use crate::creds::regctl_helper::RegctlHelper;
use crate::creds::serve;
use crate::output::{ColorChoice, Format, Printer};

/// Serves one request on stdin/stdout; returns the exit code.
pub fn run(action: &str) -> i32 {
    let env = Environment::from_process();
    let paths = Paths::resolve(&PathFlags::from_env(), &env);
    let backends = RegctlHelper::new(env.aws, paths.ecr_dirs(), SystemTime::now(), paths.keychain);
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    let (code, error) =
        serve::serve_reporting(action, &mut stdin.lock(), &mut stdout.lock(), &backends);
    let printer = printer();
    for w in backends.ecr.take_warnings() {
        printer.helper_note("warning", &w.to_string(), w.hint().as_deref());
    }
    if let Some(e) = error {
        printer.helper_note(
            "error",
            &e.to_string(),
            crate::error::creds_hint(&e).as_deref(),
        );
    }
    code
}

/// Entry point when started as `docker-credential-regctl`: exactly one argument.
pub fn main(argv: &[OsString]) -> i32 {
    let args: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    match args.as_slice() {
        [action] if action == "--version" || action == "-v" => run("version"),
        [action] => run(action),
        _ => {
            printer().stdout_line("Usage: docker-credential-regctl <store|get|erase|list|version>");
            1
        }
    }
}

/// Plain text on stderr, never coloured: the helper's stdout is the protocol and its stderr
/// goes to logs.
fn printer() -> Printer {
    Printer::new(Format::Text, ColorChoice::Never, true, false, false, false)
}

/// Whether argv[0] names the helper binary (regctl symlinked as docker-credential-regctl).
pub fn invoked_as_helper(argv: &[OsString]) -> bool {
    argv.first()
        .and_then(|a| {
            std::path::Path::new(a)
                .file_name()
                .map(|n| n.to_os_string())
        })
        .is_some_and(|n| n.to_string_lossy().starts_with("docker-credential-"))
}
