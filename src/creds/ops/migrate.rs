//! `creds migrate`'s routing: each plain-text `auths` entry docker reads goes into the
//! destination store, `credHelpers[KEY]` points at it, and `auths[KEY]` keeps only docker's
//! empty marker; plain-text keys docker never reads for that registry go too. Per registry, what
//! docker reads is found by docker's lookup: credHelpers/credsStore first, then the exact
//! `auths` key, then older URL-style keys (a lesser key never wins).

use serde_json::{Map, Value};

use super::{set_cred_helper, OpsError, Places, Writes};
use crate::creds::keychain::Keychain;
use crate::creds::{Credential, IDENTITY_TOKEN_USER, REGCTL_HELPER};
use crate::files::docker_config::{self as dc, AuthEntry};
use crate::files::json_file::Saved;
use crate::names;

/// Where plain-text credentials go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Destination {
    /// The OS keychain, served to docker by `docker-credential-regctl`.
    Keychain,
}

impl Destination {
    /// The helper name config.json's `credHelpers` points at for this destination.
    pub fn helper(self) -> &'static str {
        match self {
            Destination::Keychain => REGCTL_HELPER,
        }
    }
}

/// Something the user should know about a migration.
#[derive(Debug)]
pub enum MigrateWarning {
    /// `auths[KEY]` changed while migrating: left as it is now.
    ChangedMeanwhile { key: String },
}

/// What a migration did.
#[derive(Debug)]
pub struct Migrated {
    /// Registries moved into the destination (or that would be).
    pub migrated: Vec<String>,
    /// Plain-text keys docker never read, removed (or that would be).
    pub dropped: Vec<String>,
    pub saved: Saved,
    pub warnings: Vec<MigrateWarning>,
}

/// One registry's move: the credential docker reads for it (from its best `auths` key), and
/// every plain-text key of that registry, which all go from the file.
struct Move {
    key: String,
    /// The auths key docker reads and what it held (checked again under the lock).
    from: Option<(String, AuthEntry)>,
    /// Plain-text keys docker never reads for this registry (shadowed by a better key, or by a
    /// credential helper), removed with it.
    shadowed: Vec<(String, Option<AuthEntry>)>,
}

/// Moves every plain-text credential docker reads into `to`; `Ok(None)` when config.json holds
/// none at all. The destination is written first, config.json locked only for the edit.
pub fn migrate(
    places: &Places,
    to: Destination,
    writes: Writes,
) -> Result<Option<Migrated>, OpsError> {
    let path = &places.config;
    let config = places.read_config()?;
    let plain: Vec<(String, AuthEntry)> = dc::all_auths(&config, path)?
        .into_iter()
        .filter_map(|(k, a)| a.map(|a| (k, a)))
        .collect();
    if plain.is_empty() {
        return Ok(None);
    }
    let moves = plan(&config, places, &plain)?;
    let mut store = match to {
        Destination::Keychain => Keychain::new(places.keychain.clone()),
    };
    if moves.iter().any(|m| m.from.is_some()) {
        store.available()?;
    }
    for m in &moves {
        if let Some((_, a)) = &m.from {
            writes.put(&mut store, &credential(&m.key, a))?;
        }
    }
    // Locked from here to the write: the edit applies to the file as it is now, and only where
    // it still holds what was moved.
    let mut file = writes.edit(places)?;
    let (mut migrated, mut dropped, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    for m in moves {
        if let Some((from, a)) = &m.from {
            if entry_now(&file.value, path, from).as_ref() != Some(a) {
                warnings.push(MigrateWarning::ChangedMeanwhile { key: from.clone() });
                continue;
            }
            if from != &m.key {
                dc::remove_auths(&mut file.value, std::slice::from_ref(from));
            }
            set_cred_helper(&mut file.value, path, &m.key, to.helper())?;
            dc::set_auth(&mut file.value, path, &m.key, None)?;
            migrated.push(m.key.clone());
        }
        for (k, a) in &m.shadowed {
            if a.is_none() || entry_now(&file.value, path, k) != *a {
                continue;
            }
            if k == &m.key {
                dc::set_auth(&mut file.value, path, k, None)?;
            } else {
                dc::remove_auths(&mut file.value, std::slice::from_ref(k));
            }
            dropped.push(k.clone());
        }
    }
    Ok(Some(Migrated {
        migrated,
        dropped,
        saved: writes.save(file)?,
        warnings,
    }))
}

/// Per registry, what docker reads and which plain-text keys it never reads.
fn plan(
    config: &Map<String, Value>,
    places: &Places,
    plain: &[(String, AuthEntry)],
) -> Result<Vec<Move>, OpsError> {
    let mut moves: Vec<Move> = Vec::new();
    for (old_key, _) in plain {
        let key = super::registry_key(old_key);
        if moves.iter().any(|m| m.key == key) {
            continue;
        }
        let mut candidates = dc::auth_keys_for(config, &places.config, &key)?;
        if candidates.is_empty() {
            candidates.push(old_key.clone());
        }
        // An older key that does not convert to the registry's key (parse normalises more than
        // docker's ConvertToHostname) is still one of its spellings.
        for (k, _) in plain {
            let same = names::parse(k).map(|n| n.cred_key == key).unwrap_or(false);
            if same && !candidates.contains(k) {
                candidates.push(k.clone());
            }
        }
        let decoded = |k: &str| plain.iter().find(|(p, _)| p == k).map(|(_, a)| a.clone());
        let helper_first = dc::store_for(config, &key) != dc::StoreRef::File;
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
    Ok(moves)
}

/// The decoded plain-text entry under exactly `key` in the file as it is now.
fn entry_now(config: &Map<String, Value>, path: &std::path::Path, key: &str) -> Option<AuthEntry> {
    dc::auth_keys(config, path)
        .ok()?
        .into_iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, a)| a.ok().flatten())
}

/// The stored item for a plain-text entry (an identity token as docker stores it).
fn credential(key: &str, a: &AuthEntry) -> Credential {
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
