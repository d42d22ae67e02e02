//! `regctl creds list`: every registry with credentials, from `auths`, `credHelpers` and the
//! `credsStore`'s own list, with the store and username; Amazon ECR logins also with when their
//! token ends. Secrets are never read out to the user (and no ECR token is minted).

use std::collections::BTreeMap;
use std::time::SystemTime;

use serde_json::json;

use super::helper_store;
use crate::context::Context;
use crate::creds::ecr::{self, EcrHost, Listed};
use crate::creds::regctl_helper::EcrStore;
use crate::error::Result;
use crate::files::docker_config::{self as dc, StoreRef};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::output::Outcome;

struct Row {
    store: String,
    username: Option<String>,
    plaintext: bool,
    error: Option<String>,
    /// ECR logins: when the token ends (`Some(None)`: no token yet).
    ecr_expiry: Option<Option<SystemTime>>,
}

fn store_label(s: &StoreRef) -> String {
    match s {
        StoreRef::File => "file".into(),
        StoreRef::Helper(h) | StoreRef::CredsStore(h) if h == crate::creds::REGCTL_HELPER => {
            "keychain".into()
        }
        StoreRef::Helper(h) | StoreRef::CredsStore(h) => format!("helper:{h}"),
    }
}

/// The row of a registry whose tokens docker-credential-regctl mints.
fn ecr_row(listed: Option<&Listed>, expiry: Option<SystemTime>) -> Row {
    Row {
        store: "ecr".into(),
        username: Some("AWS".into()),
        plaintext: false,
        error: listed
            .and_then(|l| l.problem.as_ref())
            .map(|e| e.to_string()),
        ecr_expiry: Some(listed.map_or(expiry, |l| l.expires_at)),
    }
}

/// `(token until …)`, `(token expired …)` or `(no token yet)`.
fn expiry_text(expiry: Option<SystemTime>, now: SystemTime) -> String {
    match expiry {
        Some(t) if t > now => format!("(token until {})", ecr::rfc3339(t)),
        Some(t) => format!("(token expired {})", ecr::rfc3339(t)),
        None => "(no token yet)".into(),
    }
}

pub fn run(ctx: &Context) -> Result<Outcome> {
    let path = ctx.paths.client_config();
    let file = JsonFile::read(&path, FileKind::CLIENT_CONFIG)?;
    let config = &file.value;
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut out = Outcome::new("");
    let now = SystemTime::now();
    let ecr_store = EcrStore::new(ctx.env.aws.clone(), ctx.paths.ecr_dirs(), now);
    // ECR logins by host name (without a port), from regctl's saved login choices.
    let mut ecr_logins: BTreeMap<String, Listed> =
        match ecr::list(&ctx.env.aws, &ctx.paths.ecr_dirs()) {
            Ok(list) => list.into_iter().map(|l| (l.host.clone(), l)).collect(),
            Err(e) => {
                out = out.warn(format!("cannot list ECR logins: {e}"));
                BTreeMap::new()
            }
        };
    // Every key docker reads (each spelling of `auths` and `credHelpers`), one row per registry,
    // looked up as docker looks it up: by the registry's key, exact `auths` key first.
    let mut keys: Vec<String> = dc::auth_keys(config, &path)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.extend(dc::all_cred_helpers(config).into_iter().map(|(k, _)| k));
    for raw in keys {
        // One row per registry: `docker.io` and Docker Hub's URL key are the same registry, and
        // so are `r.io` and `https://r.io/v1/`.
        let key = crate::names::parse(&raw)
            .map(|n| n.cred_key)
            .unwrap_or_else(|_| raw.clone());
        if rows.contains_key(&key) {
            continue;
        }
        let shown = key.clone();
        let store = dc::store_for(config, &key);
        let listed = ecr_logins.remove(&EcrHost::forced(&key).hostname);
        let row = match store.helper() {
            Some(crate::creds::REGCTL_HELPER) if ecr_store.serves(&key) => {
                ecr_row(listed.as_ref(), ecr_store.cached_expiry(&key))
            }
            None => match dc::get_auth(config, &path, &key) {
                Ok(Some(a)) => Row {
                    store: "file".into(),
                    username: Some(if a.username.is_empty() {
                        crate::creds::IDENTITY_TOKEN_USER.into()
                    } else {
                        a.username
                    }),
                    plaintext: true,
                    error: None,
                    // `login --ecr --store file`: the token in auths is the one regctl cached.
                    ecr_expiry: listed.map(|l| l.expires_at),
                },
                Ok(None) => continue,
                // docker cannot read this entry either: shown, with why.
                Err(e) => Row {
                    store: "file".into(),
                    username: None,
                    plaintext: true,
                    error: Some(e.to_string()),
                    ecr_expiry: None,
                },
            },
            Some(h) => {
                let (username, error) = match helper_store(h, ctx).get(&key) {
                    Ok(Some(c)) => (Some(c.username), None),
                    Ok(None) => continue,
                    Err(e) => (None, Some(e.to_string())),
                };
                Row {
                    store: store_label(&store),
                    username,
                    plaintext: false,
                    error,
                    ecr_expiry: None,
                }
            }
        };
        rows.insert(shown, row);
    }
    // ECR logins config.json no longer sends docker to (its entries were edited away).
    for (host, listed) in ecr_logins {
        let mut row = ecr_row(Some(&listed), None);
        row.error
            .get_or_insert_with(|| hints::ecr_not_in_config(&host));
        rows.entry(host).or_insert(row);
    }
    if let Some(ecr_hosts) = ecr::ecr_login_creds_store(config) {
        out = out.warn(format!(
            "{}; {}",
            ecr::ecr_login_creds_store_problem(&path),
            hints::ecr_login_creds_store(&path, &ecr_hosts)
        ));
    }
    if let Some(cs) = dc::creds_store(config) {
        match helper_store(cs, ctx).list() {
            Ok(list) => {
                for (url, user) in list {
                    rows.entry(url).or_insert(Row {
                        store: store_label(&StoreRef::CredsStore(cs.to_string())),
                        username: Some(user),
                        plaintext: false,
                        error: None,
                        ecr_expiry: None,
                    });
                }
            }
            Err(e) => out = out.warn(format!("cannot list credsStore {cs}: {e}")),
        }
    }
    let mut text = String::new();
    let width = rows.keys().map(String::len).max().unwrap_or(8).max(8);
    let sw = rows
        .values()
        .map(|r| r.store.len())
        .max()
        .unwrap_or(5)
        .max(5);
    if !rows.is_empty() {
        text.push_str(&format!(
            "{:<width$}  {:<sw$}  USERNAME\n",
            "REGISTRY", "STORE"
        ));
    }
    let mut list = Vec::new();
    for (key, r) in &rows {
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
        text.push_str(&format!("{key:<width$}  {:<sw$}  {user}{flag}\n", r.store));
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
    // An ECR token in plain text is better replaced than moved (its login said how).
    let plain = rows
        .values()
        .filter(|r| r.plaintext && r.ecr_expiry.is_none())
        .count();
    if plain > 0 {
        out = out.info(format!(
            "{plain} in plain text in {}; move them with: regctl creds migrate --to keychain",
            path.display()
        ));
    }
    out.msg = format!(
        "{} registr{} with stored credentials",
        rows.len(),
        if rows.len() == 1 { "y" } else { "ies" }
    );
    Ok(out.text(text).data("credentials", json!(list)))
}
