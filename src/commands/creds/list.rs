//! `regctl creds list`: the table (or JSON list) of `creds::ops::inventory`: every registry with
//! credentials, its store and username; Amazon ECR logins also with when their token ends.

use std::time::SystemTime;

use serde_json::json;

use super::places;
use crate::context::Context;
use crate::creds::ecr;
use crate::creds::ops::inventory::{self, Entry, InventoryWarning};
use crate::error::Result;
use crate::hints;
use crate::output::Outcome;

/// `(token until …)`, `(token expired …)` or `(no token yet)`.
fn expiry_text(expiry: Option<SystemTime>, now: SystemTime) -> String {
    match expiry {
        Some(t) if t > now => format!("(token until {})", ecr::rfc3339(t)),
        Some(t) => format!("(token expired {})", ecr::rfc3339(t)),
        None => "(no token yet)".into(),
    }
}

/// The USERNAME column: the username, the token's expiry, the error, the plain-text flag.
fn user_column(r: &Entry, now: SystemTime) -> String {
    let mut user = match (&r.username, &r.error) {
        (Some(u), _) => u.clone(),
        (None, Some(e)) => format!("(error: {e})"),
        (None, None) => String::new(),
    };
    if let Some(expiry) = r.ecr_expiry {
        user = format!("{user}  {}", expiry_text(expiry, now));
    }
    if let (Some(_), Some(e)) = (&r.username, &r.error) {
        user = format!("{user}  (error: {e})");
    }
    let flag = if r.plaintext { "  (plain text)" } else { "" };
    format!("{user}{flag}")
}

pub fn run(ctx: &Context) -> Result<Outcome> {
    let places = places(ctx);
    let now = SystemTime::now();
    let found = inventory::inventory(&places, now)?;
    let mut out = Outcome::new("");
    for w in &found.warnings {
        out = out.warn(match w {
            InventoryWarning::EcrList(e) => format!("cannot list ECR logins: {e}"),
            InventoryWarning::EcrLoginCredsStore { ecr_hosts } => format!(
                "{}; {}",
                ecr::ecr_login_creds_store_problem(&places.config),
                hints::ecr_login_creds_store(&places.config, ecr_hosts)
            ),
            InventoryWarning::CredsStoreList { helper, error } => {
                format!("cannot list credsStore {helper}: {error}")
            }
        });
    }
    let rows = &found.entries;
    let width = rows.keys().map(String::len).max().unwrap_or(8).max(8);
    let sw = rows.values().map(|r| r.store.len()).max().unwrap_or(5);
    let sw = sw.max(5);
    let mut text = String::new();
    if !rows.is_empty() {
        text.push_str(&format!(
            "{:<width$}  {:<sw$}  USERNAME\n",
            "REGISTRY", "STORE"
        ));
    }
    let mut list = Vec::new();
    for (key, r) in rows {
        let user = user_column(r, now);
        text.push_str(&format!("{key:<width$}  {:<sw$}  {user}\n", r.store));
        let mut row = json!({
            "registry": key,
            "store": r.store,
            "username": r.username,
            "plaintext": r.plaintext,
            "error": r.error,
        });
        if let Some(expiry) = r.ecr_expiry {
            row["expires_at"] = json!(expiry.map(ecr::rfc3339));
        }
        list.push(row);
    }
    let plain = found.movable_plaintext();
    if plain > 0 {
        out = out.info(format!(
            "{plain} in plain text in {}; {}",
            places.config.display(),
            crate::hints::migrate_to_keychain()
        ));
    }
    out.msg = format!(
        "{} registr{} with stored credentials",
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" }
    );
    Ok(out.text(text).data("credentials", json!(list)))
}
