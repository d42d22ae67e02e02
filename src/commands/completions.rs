//! `regctl completions SHELL` prints the shell's registration script, and the dynamic completer
//! that offers registry names known from config.json and certs.d while a user types.
//!
//! The script calls back into `regctl` with `COMPLETE=SHELL` set (clap_complete's dynamic
//! completion), so completions always match the installed binary.

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;
use clap_complete::env::Shells;
use serde_json::{json, Value};

use crate::cli::CompletionShell;
use crate::context::{Context, Environment, PathFlags, Paths};
use crate::error::Result;
use crate::files::json_file::{FileKind, JsonFile};
use crate::output::Outcome;

/// The environment variable that switches regctl into completion mode.
pub const COMPLETE_VAR: &str = "COMPLETE";

/// The registration script for a shell (the same text `COMPLETE=SHELL regctl` prints).
pub fn registration(shell: CompletionShell) -> String {
    let name = match shell {
        CompletionShell::Bash => "bash",
        CompletionShell::Zsh => "zsh",
        CompletionShell::Fish => "fish",
        CompletionShell::Powershell => "powershell",
        CompletionShell::Elvish => "elvish",
    };
    let shells = Shells::builtins();
    let completer = shells
        .completer(name)
        .expect("clap_complete has a completer for every shell regctl lists");
    let mut out = Vec::new();
    completer
        .write_registration(COMPLETE_VAR, "regctl", "regctl", "regctl", &mut out)
        .expect("writing to memory does not fail");
    String::from_utf8(out).expect("registration scripts are UTF-8")
}

pub fn run(shell: CompletionShell, _ctx: &Context) -> Result<Outcome> {
    Ok(Outcome::new(String::new())
        .data("shell", json!(format!("{shell:?}").to_lowercase()))
        .data("script", json!(registration(shell)))
        .text(registration(shell)))
}

/// Registry names for REGISTRY arguments: config.json `auths` and `credHelpers` keys, and the
/// folders of the certs directory, that start with what was typed.
pub fn registry_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let typed = current.to_string_lossy();
    let paths = Paths::resolve(&PathFlags::from_env(), &Environment::from_process());
    let mut names: Vec<(String, &'static str)> = Vec::new();
    if let Ok(config) = JsonFile::read(&paths.client_config(), FileKind::CLIENT_CONFIG) {
        for (key, what) in [("auths", "logged in"), ("credHelpers", "credential helper")] {
            if let Some(map) = config.value.get(key).and_then(Value::as_object) {
                names.extend(map.keys().map(|k| (k.clone(), what)));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(&paths.certs_dir) {
        names.extend(
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), "certs.d")),
        );
    }
    let mut seen = Vec::new();
    names
        .into_iter()
        .filter(|(n, _)| n.starts_with(typed.as_ref()))
        .filter(|(n, _)| {
            let new = !seen.contains(n);
            seen.push(n.clone());
            new
        })
        .map(|(n, what)| CompletionCandidate::new(n).help(Some(what.into())))
        .collect()
}
