//! `regctl credential-helper ACTION` and `docker-credential-regctl ACTION`: the Docker
//! credential-helper protocol served from the OS keychain. Output is the protocol itself (errors
//! on stdout, exit 1), not regctl's usual text or JSON.

use std::ffi::OsString;

use crate::creds::serve::{self, KeychainOnly};

/// Serves one request on stdin/stdout; returns the exit code.
pub fn run(action: &str) -> i32 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    serve::serve(action, &mut stdin.lock(), &mut stdout.lock(), &KeychainOnly)
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
            println!("Usage: docker-credential-regctl <store|get|erase|list|version>");
            1
        }
    }
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
