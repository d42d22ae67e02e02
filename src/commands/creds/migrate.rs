//! `regctl creds migrate --to keychain`: `creds::ops::migrate` moves each plain-text `auths`
//! entry docker reads into the destination and points `credHelpers` at it; this says what moved.
//! Idempotent; `--check` writes neither the keychain nor the file.

use serde_json::json;

use super::{places, regctl_helper_note, writes};
use crate::cli::MigrateTarget;
use crate::context::Context;
use crate::creds::ops::migrate::{self, Destination, MigrateWarning};
use crate::error::Result;
use crate::output::Outcome;

pub fn run(to: MigrateTarget, ctx: &Context) -> Result<Outcome> {
    let places = places(ctx);
    let to = match to {
        MigrateTarget::Keychain => Destination::Keychain,
    };
    let mut out = Outcome::new("");
    let Some(done) = migrate::migrate(&places, to, writes(ctx))? else {
        out.msg = "no plain-text credentials to migrate".into();
        return Ok(out.data("migrated", json!([])));
    };
    let path = places.config.display();
    for w in &done.warnings {
        let MigrateWarning::ChangedMeanwhile { key } = w;
        out = out.warn(format!(
            "auths[{key:?}] changed in {path} while migrating; left as it is now (run again to move it)"
        ));
    }
    out = out.with_save(&done.saved);
    out.changed |= !done.migrated.is_empty();
    let dropped = &done.dropped;
    if !dropped.is_empty() {
        out = out.info(format!(
            "{} plain-text {} that docker never reads (another key or a credential helper wins) {} from {path}: {}",
            dropped.len(),
            if dropped.len() == 1 { "entry" } else { "entries" },
            ctx.did("removed", "would be removed"),
            dropped.join(", ")
        ));
    }
    if !done.migrated.is_empty() && places.regctl_helper_missing() {
        out = out.warn(regctl_helper_note("read the keychain"));
    }
    out.msg = if done.migrated.is_empty() {
        "no plain-text credentials docker uses to migrate".into()
    } else {
        format!(
            "{} {} into the keychain",
            ctx.did("moved", "would move"),
            done.migrated.join(", ")
        )
    };
    Ok(out
        .data("migrated", json!(done.migrated))
        .data("removed", json!(dropped)))
}
