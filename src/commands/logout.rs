//! `regctl logout`: erase a registry's credentials (`creds::ops::logout` knows every key docker
//! erases and the ECR state regctl keeps) and say what went. Changed only when something existed.

use std::time::SystemTime;

use serde_json::json;

use super::creds::{places, writes};
use crate::context::Context;
use crate::creds::ops::logout::{self, LogoutWarning, Which};
use crate::error::Result;
use crate::names;
use crate::output::Outcome;

pub fn run(registry: Option<&str>, all: bool, ctx: &Context) -> Result<Outcome> {
    let name;
    let which = if all {
        Which::All
    } else {
        name = names::parse(registry.unwrap_or(""))?;
        Which::One(&name)
    };
    let done = logout::logout(&places(ctx), which, SystemTime::now(), writes(ctx))?;
    let mut out = Outcome::new("");
    for w in &done.warnings {
        out = out.warn(match w {
            LogoutWarning::Undecodable(e) => format!("{e}; removing it as well"),
            LogoutWarning::EraseFailed { key, store, error } => {
                format!("could not erase {key} from {store}: {error}")
            }
        });
    }
    out = out.with_save(&done.saved);
    out.changed |= done.store_changed;
    out.msg = match (&done.asked, done.erased.is_empty()) {
        (Some(k), true) => format!("not logged in to {k}"),
        (None, true) => "no stored credentials".to_string(),
        (_, false) => format!(
            "{} {}",
            ctx.did("logged out of", "would log out of"),
            done.erased.join(", ")
        ),
    };
    Ok(out.data("registries", json!(done.erased)))
}
