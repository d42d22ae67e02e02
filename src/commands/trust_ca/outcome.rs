//! The outcome of `trust-ca`'s install: the files and hosts.toml edits, the CA's summary, the
//! notes and warnings gathered on the way, and what to do for the change to take effect.

use std::path::PathBuf;

use serde_json::{Map, Value};

use super::report::report;
use crate::cli::TrustCaArgs;
use crate::context::Context;
use crate::files::certs_dir::x509::Bundle;
use crate::files::certs_dir::{FileChange, CA_FILE};
use crate::files::json_file::Saved;
use crate::hints;
use crate::output::Outcome;

/// What an install changed, for [`installed`].
pub struct Installed {
    pub dirs: Vec<PathBuf>,
    pub changes: Vec<FileChange>,
    pub data: Map<String, Value>,
    pub saves: Vec<Saved>,
    /// A realm's CA went into the OS trust store: dockerd reads it only at start.
    pub restart_hint: bool,
}

/// The outcome of an install: the files, the hosts.toml edits, the CA's summary, then the
/// notes and warnings gathered, then what to do for it to take effect.
pub fn installed(
    args: &TrustCaArgs,
    folder: &str,
    ca: Option<&Bundle>,
    done: Installed,
    (notes, warnings): (Vec<String>, Vec<String>),
    ctx: &Context,
) -> Outcome {
    let (dirs, changes, saves, restart_hint) =
        (&done.dirs, done.changes, &done.saves, done.restart_hint);
    let mut outcome = report(folder, dirs, changes, ctx, ("wrote", "would write"));
    for (k, v) in done.data {
        outcome = outcome.data(&k, v);
    }
    for s in saves.iter().filter(|s| s.changed) {
        outcome.msg.push_str(&format!(
            "; {} ca = \"{CA_FILE}\" in {}",
            ctx.did("named", "would name"),
            s.path.display()
        ));
        outcome = outcome.with_save(s);
    }
    let text: String = ca
        .iter()
        .flat_map(|b| &b.certs)
        .map(|c| format!("{CA_FILE}  {}\n", c.summary()))
        .collect();
    outcome = outcome.text(text);
    for n in notes {
        outcome = outcome.info(n);
    }
    for w in warnings {
        outcome = outcome.warn(w);
    }
    let rootless = ctx.paths.rootless;
    if restart_hint && !args.system {
        outcome = outcome.info(hints::system_roots_take_effect(rootless));
    }
    if outcome.changed {
        outcome = outcome.info(if args.system {
            hints::system_roots_take_effect(rootless)
        } else {
            hints::certs_take_effect(args.containers)
        });
    }
    outcome
}
