//! `regctl creds migrate --to keychain`: each plain-text `auths` entry goes into the OS keychain,
//! `credHelpers[KEY]` points at regctl, and `auths[KEY]` keeps only docker's empty marker.
//! Idempotent; `--check` writes neither the keychain nor the file.

use serde_json::json;

use super::regctl_helper_note;
use crate::context::Context;
use crate::creds::keychain::Keychain;
use crate::creds::{Credential, Store, IDENTITY_TOKEN_USER, REGCTL_HELPER};
use crate::error::Result;
use crate::files::docker_config as dc;
use crate::files::json_file::{FileKind, JsonFile};
use crate::output::Outcome;
use crate::registry::names;

pub fn run(ctx: &Context) -> Result<Outcome> {
    let path = ctx.paths.client_config();
    let mut file = JsonFile::edit(&path, FileKind::CLIENT_CONFIG, ctx.check)?;
    let plain: Vec<(String, dc::AuthEntry)> = dc::all_auths(&file.value, &path)?
        .into_iter()
        .filter_map(|(k, a)| a.map(|a| (k, a)))
        .collect();
    let mut out = Outcome::new("");
    if plain.is_empty() {
        out.msg = "no plain-text credentials to migrate".into();
        return Ok(out.data("migrated", json!([])));
    }
    let mut keychain = Keychain::new(ctx.paths.keychain.clone());
    keychain.available()?;
    let mut migrated = Vec::new();
    for (old_key, a) in plain {
        // Older URL-style keys move to the key docker looks up today.
        let key = names::parse(&old_key)
            .map(|n| n.cred_key)
            .unwrap_or_else(|_| old_key.clone());
        let cred = match &a.identity_token {
            Some(t) => Credential {
                server_url: key.clone(),
                username: IDENTITY_TOKEN_USER.into(),
                secret: t.clone(),
            },
            None => Credential {
                server_url: key.clone(),
                username: a.username.clone(),
                secret: a.password.clone(),
            },
        };
        if !ctx.check && keychain.get(&key)?.as_ref() != Some(&cred) {
            keychain.store(&cred)?;
        }
        if old_key != key {
            dc::remove_auths(&mut file.value, std::slice::from_ref(&old_key));
        }
        super::set_cred_helper(&mut file.value, &path, &key, REGCTL_HELPER)?;
        dc::set_auth(&mut file.value, &path, &key, None)?;
        migrated.push(key);
    }
    let saved = file.save(ctx.check)?;
    out = out.with_save(&saved);
    out.changed = true;
    if let Some(note) = regctl_helper_note(ctx, "read the keychain") {
        out = out.warn(note);
    }
    out.msg = format!(
        "{} {} into the keychain",
        ctx.did("moved", "would move"),
        migrated.join(", ")
    );
    Ok(out.data("migrated", json!(migrated)))
}
