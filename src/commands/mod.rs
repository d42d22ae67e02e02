//! One file per verb; nouns get a folder. Each verb is `run(args, &Context) -> Result<Outcome>`.
//! This is the only layer (with `output`) that talks to people.

use std::ffi::OsString;
use std::io::{self, IsTerminal};

use crate::cli::{
    CertsCommand, Command, CredsCommand, DaemonCommand, InsecureCommand, MirrorCommand,
};
use crate::context::{Context, Environment, PathFlags, Paths};
use crate::error::{exit, Error, Result};
use crate::output::{ColorChoice, Format, Outcome, Printer};

pub mod certs;
pub mod completions;
pub mod credential_helper;
pub mod creds;
pub mod daemon;
pub mod daemon_list;
pub mod doctor;
pub mod help;
pub mod host_targets;
pub mod insecure;
pub mod login;
pub mod logout;
pub mod man;
pub mod mirror;
pub mod trust_ca;

/// Runs regctl with these arguments and returns the exit code.
pub fn main(argv: Vec<OsString>) -> i32 {
    if credential_helper::invoked_as_helper(&argv) {
        return credential_helper::main(&argv);
    }
    // The shell's completion callback (COMPLETE=bash regctl -- ...) answers and exits here.
    clap_complete::CompleteEnv::with_factory(help::command)
        .var(completions::COMPLETE_VAR)
        .bin("regctl")
        .completer("regctl")
        .complete();
    let cli = match help::parse(&argv) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            if !e.use_stderr() {
                return exit::OK; // --help, --version
            }
            let err = Error::Usage(usage_message(&e));
            if wants_json(&argv) {
                // `-o json` promises one document on stdout, usage errors included.
                let printer =
                    Printer::new(Format::Json, ColorChoice::Never, true, false, false, false);
                let _ = printer.error(&err, Some(crate::hints::usage(&command_path(&argv))));
            }
            return err.exit_code();
        }
    };
    if let Command::CredentialHelper { action } = &cli.command {
        let name = clap::ValueEnum::to_possible_value(action)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default();
        return credential_helper::run(&name);
    }
    let env = Environment::from_process();
    let g = &cli.global;
    let format = if g.json { Format::Json } else { g.output };
    let printer = Printer::new(format, g.color, env.no_color, g.quiet, g.verbose, g.diff);
    let env_for_paths = env.clone();
    let paths = Paths::resolve(
        &PathFlags {
            config_dir: g.config_dir.clone(),
            daemon_config: g.daemon_config.clone(),
            certs_dir: g.certs_dir.clone(),
            containers_certs_dir: g.containers_certs_dir.clone(),
            system_trust_root: match &cli.command {
                Command::TrustCa(a) => a.system_trust_root.clone(),
                _ => None,
            },
            containerd_certs_dir: g.containerd_certs_dir.clone(),
            containerd_config: g.containerd_config.clone(),
            registries_conf_d: g.registries_conf_d.clone(),
        },
        &env_for_paths,
    );
    // A closed stderr is no reason to stop before the command runs.
    let _ = printer.verbose(&format!(
        "daemon config: {}; client config: {}; certs: {}{}",
        paths.daemon_config.display(),
        paths.client_config().display(),
        paths.certs_dir.display(),
        if paths.rootless {
            " (rootless dockerd)"
        } else {
            ""
        }
    ));
    let ctx = Context {
        paths,
        check: g.check,
        diff: g.diff,
        interactive: !g.non_interactive && std::io::stdin().is_terminal(),
        env,
        // Kept for hints that repeat the command line, so without the value of `-p`.
        argv: crate::hints::mask_secret_args(
            &argv
                .iter()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>(),
        ),
        dockerd_version: g.dockerd_version,
        dockerd_cache: Default::default(),
    };
    match run(cli.command, &ctx, &printer) {
        Ok(outcome) => match printer.outcome(&outcome) {
            // `regctl ... | head`: the reader left; nothing more to say, as head expects.
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => exit::OK,
            _ if outcome.failed => exit::FAILED,
            _ => exit::OK,
        },
        Err(err) => {
            let _ = printer.error(&err, err.hint(&ctx.argv, ctx.paths.rootless));
            exit::FAILED
        }
    }
}

/// clap's message without its `error: ` prefix and usage lines: the first line.
fn usage_message(e: &clap::Error) -> String {
    let text = e.render().to_string();
    let first = text.lines().next().unwrap_or_default();
    first.strip_prefix("error: ").unwrap_or(first).to_string()
}

/// The subcommands a refused command line names (`["mirror", "list"]`), read along clap's tree.
fn command_path(argv: &[OsString]) -> Vec<String> {
    let mut cmd = help::command();
    let mut path = Vec::new();
    for word in argv.iter().skip(1).map(|a| a.to_string_lossy()) {
        if word.starts_with('-') {
            continue;
        }
        // Anything else is a flag's value or an argument: only a subcommand of where the
        // path is now moves it on.
        let Some(sub) = cmd.find_subcommand(word.as_ref()).cloned() else {
            continue;
        };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path
}

/// Whether the command line asks for JSON (`--json`, `-o json`, `-ojson`, `--output[=]json`),
/// read without clap when clap refused the line.
fn wants_json(argv: &[OsString]) -> bool {
    let words: Vec<String> = argv
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .take_while(|a| a != "--")
        .collect();
    words.iter().enumerate().any(|(i, w)| {
        let next_is_json = words.get(i + 1).is_some_and(|n| n == "json");
        w == "--json"
            || ((w == "-o" || w == "--output") && next_is_json)
            || matches!(w.as_str(), "-ojson" | "-o=json" | "--output=json")
    })
}

fn run(command: Command, ctx: &Context, printer: &Printer) -> Result<Outcome> {
    match command {
        Command::Mirror(m) => match m {
            MirrorCommand::Add {
                urls,
                registry,
                targets,
                skip_verify,
            } => mirror::add::run(&urls, registry.as_deref(), targets, skip_verify, ctx),
            MirrorCommand::Remove {
                urls,
                registry,
                targets,
            } => mirror::remove::run(&urls, registry.as_deref(), targets, ctx),
            MirrorCommand::List {
                probe,
                probe_image,
                timeout,
            } => mirror::list::run(probe, &probe_image, timeout, ctx),
        },
        Command::Insecure(i) => match i {
            InsecureCommand::Add { entries, targets } => insecure::add::run(&entries, targets, ctx),
            InsecureCommand::Remove { entries, targets } => {
                insecure::remove::run(&entries, targets, ctx)
            }
            InsecureCommand::List => insecure::list::run(ctx),
        },
        Command::Doctor(args) => doctor::run(&args, ctx),
        Command::Completions { shell } => completions::run(shell, ctx),
        Command::Man { dir } => man::run(&dir, ctx),
        Command::Daemon(d) => match d {
            DaemonCommand::Show => daemon::show::run(ctx),
            DaemonCommand::Get { key } => daemon::get::run(&key, ctx),
            DaemonCommand::Set { key, value, force } => daemon::set::run(&key, &value, force, ctx),
            DaemonCommand::Unset { key } => daemon::unset::run(&key, ctx),
            DaemonCommand::Validate => daemon::validate::run(ctx),
            DaemonCommand::Reload { pidfile } => daemon::reload::run(pidfile, ctx),
        },
        Command::TrustCa(args) => trust_ca::run(&args, ctx, printer),
        Command::Certs(c) => match c {
            CertsCommand::List {
                registry,
                containers,
                containerd,
            } => certs::list::run(registry.as_deref(), containers, containerd, ctx),
        },
        Command::Login(args) => login::run(args, ctx),
        Command::Logout { registry, all } => logout::run(registry.as_deref(), all, ctx),
        Command::Creds(c) => match c {
            CredsCommand::List => creds::list::run(ctx),
            CredsCommand::Migrate { to } => creds::migrate::run(to, ctx),
        },
        // Served by `main` before a Context exists.
        Command::CredentialHelper { .. } => unreachable!("credential-helper is served by main"),
    }
}
