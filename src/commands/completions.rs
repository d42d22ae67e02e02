//! `regctl completions SHELL` prints the shell's registration script; the names it offers while
//! a user types come from `crate::candidates`.
//!
//! The script calls back into `regctl` with `COMPLETE=SHELL` set (clap_complete's dynamic
//! completion), so completions always match the installed binary.

use clap_complete::env::Shells;
use serde_json::json;

use crate::cli::CompletionShell;
use crate::context::Context;
use crate::error::Result;
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
