//! `regctl creds list`: every registry with credentials, from `auths`, `credHelpers` and the
//! `credsStore`'s own list, with the store and username. Secrets are never read out to the user.

use std::collections::BTreeMap;

use serde_json::json;

use super::helper_store;
use crate::context::Context;
use crate::error::Result;
use crate::files::docker_config::{self as dc, StoreRef};
use crate::files::json_file::{FileKind, JsonFile};
use crate::output::Outcome;

struct Row {
    store: String,
    username: Option<String>,
    plaintext: bool,
    error: Option<String>,
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

pub fn run(ctx: &Context) -> Result<Outcome> {
    let path = ctx.paths.client_config();
    let file = JsonFile::read(&path, FileKind::CLIENT_CONFIG)?;
    let config = &file.value;
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut out = Outcome::new("");
    let mut keys: Vec<String> = dc::all_auths(config, &path)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.extend(dc::all_cred_helpers(config).into_iter().map(|(k, _)| k));
    for key in keys {
        // One row per registry: `docker.io` and Docker Hub's URL key are the same registry.
        let shown = crate::registry::names::parse(&key)
            .map(|n| n.cred_key)
            .unwrap_or_else(|_| key.clone());
        if rows.contains_key(&shown) {
            continue;
        }
        let store = dc::store_for(config, &key);
        let row = match store.helper() {
            None => match dc::get_auth(config, &path, &key)? {
                Some(a) => Row {
                    store: "file".into(),
                    username: Some(if a.username.is_empty() {
                        crate::creds::IDENTITY_TOKEN_USER.into()
                    } else {
                        a.username
                    }),
                    plaintext: true,
                    error: None,
                },
                None => continue,
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
                }
            }
        };
        rows.insert(shown, row);
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
        let user = match (&r.username, &r.error) {
            (Some(u), _) => u.clone(),
            (None, Some(e)) => format!("(error: {e})"),
            (None, None) => String::new(),
        };
        let flag = if r.plaintext { "  (plain text)" } else { "" };
        text.push_str(&format!("{key:<width$}  {:<sw$}  {user}{flag}\n", r.store));
        list.push(json!({
            "registry": key,
            "store": r.store,
            "username": r.username,
            "plaintext": r.plaintext,
            "error": r.error,
        }));
    }
    let plain = rows.values().filter(|r| r.plaintext).count();
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
