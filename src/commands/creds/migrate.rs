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
use crate::names;
use crate::output::Outcome;

/// One registry's move: the credential docker reads for it (from its best `auths` key), and
/// every plain-text key of that registry, which all go from the file.
struct Move {
    key: String,
    /// The auths key docker reads and what it held (checked again under the lock).
    from: Option<(String, dc::AuthEntry)>,
    /// Plain-text keys docker never reads for this registry (shadowed by a better key, or by a
    /// credential helper), removed with it.
    shadowed: Vec<(String, Option<dc::AuthEntry>)>,
}

pub fn run(ctx: &Context) -> Result<Outcome> {
    let path = ctx.paths.client_config();
    // Read without the lock: the keychain is written first; config.json is locked only to
    // re-read, edit and write it at the end.
    let config = JsonFile::read(&path, FileKind::CLIENT_CONFIG)?.value;
    let plain: Vec<(String, dc::AuthEntry)> = dc::all_auths(&config, &path)?
        .into_iter()
        .filter_map(|(k, a)| a.map(|a| (k, a)))
        .collect();
    let mut out = Outcome::new("");
    if plain.is_empty() {
        out.msg = "no plain-text credentials to migrate".into();
        return Ok(out.data("migrated", json!([])));
    }
    // Per registry, what docker reads, by docker's lookup: credHelpers/credsStore first, then
    // the exact auths key, then older URL-style keys. A lesser key never wins.
    let mut moves: Vec<Move> = Vec::new();
    for (old_key, _) in &plain {
        let key = names::parse(old_key)
            .map(|n| n.cred_key)
            .unwrap_or_else(|_| old_key.clone());
        if moves.iter().any(|m| m.key == key) {
            continue;
        }
        let candidates = dc::auth_keys_for(&config, &path, &key)?;
        let mut candidates = if candidates.is_empty() {
            vec![old_key.clone()]
        } else {
            candidates
        };
        // An older key that does not convert to the registry's key (parse normalises more than
        // docker's ConvertToHostname) is still one of its spellings.
        for (k, _) in &plain {
            let same = names::parse(k).map(|n| n.cred_key == key).unwrap_or(false);
            if same && !candidates.contains(k) {
                candidates.push(k.clone());
            }
        }
        let decoded = |k: &str| plain.iter().find(|(p, _)| p == k).map(|(_, a)| a.clone());
        let helper_first = dc::store_for(&config, &key) != dc::StoreRef::File;
        let best = candidates.remove(0);
        let from = match (helper_first, decoded(&best)) {
            (false, Some(a)) => Some((best.clone(), a)),
            _ => {
                candidates.insert(0, best);
                None
            }
        };
        moves.push(Move {
            key,
            from,
            shadowed: candidates.iter().map(|k| (k.clone(), decoded(k))).collect(),
        });
    }
    let mut keychain = Keychain::new(ctx.paths.keychain.clone());
    if moves.iter().any(|m| m.from.is_some()) {
        keychain.available()?;
    }
    for m in &moves {
        let Some((_, a)) = &m.from else { continue };
        let cred = credential(&m.key, a);
        if !ctx.check && keychain.get(&m.key)?.as_ref() != Some(&cred) {
            keychain.store(&cred)?;
        }
    }
    // Locked from here to the write: the edit applies to the file as it is now, and only where
    // it still holds what was moved.
    let mut file = JsonFile::edit(&path, FileKind::CLIENT_CONFIG, ctx.check)?;
    let mut migrated = Vec::new();
    let mut dropped = Vec::new();
    for m in moves {
        if let Some((from, a)) = &m.from {
            if entry_now(&file.value, &path, from).as_ref() != Some(a) {
                out = out.warn(format!(
                    "auths[{from:?}] changed in {} while migrating; left as it is now (run again to move it)",
                    path.display()
                ));
                continue;
            }
            if from != &m.key {
                dc::remove_auths(&mut file.value, std::slice::from_ref(from));
            }
            super::set_cred_helper(&mut file.value, &path, &m.key, REGCTL_HELPER)?;
            dc::set_auth(&mut file.value, &path, &m.key, None)?;
            migrated.push(m.key.clone());
        }
        for (k, a) in &m.shadowed {
            if a.is_none() || entry_now(&file.value, &path, k) != *a {
                continue;
            }
            if k == &m.key {
                dc::set_auth(&mut file.value, &path, k, None)?;
            } else {
                dc::remove_auths(&mut file.value, std::slice::from_ref(k));
            }
            dropped.push(k.clone());
        }
    }
    let saved = file.save(ctx.check)?;
    out = out.with_save(&saved);
    out.changed |= !migrated.is_empty();
    if !dropped.is_empty() {
        out = out.info(format!(
            "{} plain-text {} that docker never reads (another key or a credential helper wins) {} from {}: {}",
            dropped.len(),
            if dropped.len() == 1 { "entry" } else { "entries" },
            ctx.did("removed", "would be removed"),
            path.display(),
            dropped.join(", ")
        ));
    }
    if !migrated.is_empty() {
        if let Some(note) = regctl_helper_note(ctx, "read the keychain") {
            out = out.warn(note);
        }
    }
    out.msg = if migrated.is_empty() {
        "no plain-text credentials docker uses to migrate".into()
    } else {
        format!(
            "{} {} into the keychain",
            ctx.did("moved", "would move"),
            migrated.join(", ")
        )
    };
    Ok(out
        .data("migrated", json!(migrated))
        .data("removed", json!(dropped)))
}

/// The decoded plain-text entry under exactly `key` in the file as it is now.
fn entry_now(
    config: &serde_json::Map<String, serde_json::Value>,
    path: &std::path::Path,
    key: &str,
) -> Option<dc::AuthEntry> {
    dc::auth_keys(config, path)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, a)| a.ok().flatten())
}

/// The keychain item for a plain-text entry (an identity token as docker stores it).
fn credential(key: &str, a: &dc::AuthEntry) -> Credential {
    match &a.identity_token {
        Some(t) => Credential {
            server_url: key.to_string(),
            username: IDENTITY_TOKEN_USER.into(),
            secret: t.clone(),
        },
        None => Credential {
            server_url: key.to_string(),
            username: a.username.clone(),
            secret: a.password.clone(),
        },
    }
}
