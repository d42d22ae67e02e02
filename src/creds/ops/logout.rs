//! `logout`'s routing: every key docker erases for a registry (`[KEY, host, http://host,
//! https://host]`, plus older URL-style keys docker would fall back to), from its credential
//! store and from `auths`; for an Amazon ECR registry also its cached token, saved login choices
//! and the `credHelpers` entry pointing at regctl. `--all` covers every registry config.json
//! or regctl's ECR state knows.

use std::collections::BTreeSet;
use std::time::SystemTime;

use serde_json::{Map, Value};

use super::{OpsError, Places, Writes};
use crate::creds::{CredsError, REGCTL_HELPER};
use crate::files::docker_config::{self as dc, DockerConfigError};
use crate::files::json_file::Saved;
use crate::names::RegistryName;

/// Which registries to log out of.
pub enum Which<'a> {
    One(&'a RegistryName),
    All,
}

/// Something that went wrong on the way, without stopping the logout (docker warns and goes on).
#[derive(Debug)]
pub enum LogoutWarning {
    /// An `auths` entry docker cannot decode either; `--all` removes it as well.
    Undecodable(DockerConfigError),
    /// A credential store refused to erase a key.
    EraseFailed {
        key: String,
        store: String,
        error: CredsError,
    },
}

/// What a logout did.
#[derive(Debug)]
pub struct LoggedOut {
    /// The registries something was erased for (or would be).
    pub erased: Vec<String>,
    /// The registry asked for (with `Which::One`), to say when nothing was stored.
    pub asked: Option<String>,
    /// A credential store or ECR state changed (or would change).
    pub store_changed: bool,
    pub saved: Saved,
    pub warnings: Vec<LogoutWarning>,
}

/// One registry's removals from config.json, applied under the lock at the end.
struct Edit {
    key: String,
    auths: Vec<String>,
    drop_ecr_helper: bool,
    found: bool,
}

/// Erases the stores first, then locks config.json to remove what points at them.
pub fn logout(
    places: &Places,
    which: Which<'_>,
    now: SystemTime,
    writes: Writes,
) -> Result<LoggedOut, OpsError> {
    let path = &places.config;
    let config = places.read_config()?;
    let mut warnings = Vec::new();
    let (targets, asked) = match which {
        Which::All => (every_registry(places, &config, &mut warnings)?, None),
        Which::One(n) => (
            vec![(n.cred_key.clone(), n.logout_keys())],
            Some(n.cred_key.clone()),
        ),
    };
    let mut store_changed = false;
    let ecr_store = places.ecr_store(now);
    let mut edits = Vec::new();
    for (key, keys) in targets {
        let mut found = false;
        let mut keys = keys;
        // Older URL-style keys docker would fall back to once KEY is gone (`https://host/v1/`):
        // docker's own logout leaves them, and then still logs in with them.
        for k in dc::auth_keys_for(&config, path, &key).unwrap_or_default() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let helper = dc::store_for(&config, &key).helper().map(str::to_string);
        // An ECR registry: forget regctl's cached token and saved login choices, and drop the
        // credHelpers entry regctl's ECR login wrote (docker-credential-regctl would otherwise
        // keep minting tokens for it).
        let ecr_registry = ecr_store.serves(&key);
        let mut drop_ecr_helper = false;
        if ecr_registry {
            let removed = writes.ecr_logout(places, &key, now)?;
            found |= removed;
            store_changed |= removed;
            drop_ecr_helper = dc::cred_helper(&config, &key) == Some(REGCTL_HELPER);
        }
        match helper {
            Some(h) if ecr_registry && h == REGCTL_HELPER => {}
            Some(h) => {
                let mut store = places.helper_store(&h);
                for k in &keys {
                    match writes.erase(store.as_mut(), k) {
                        Ok(true) => {
                            found = true;
                            store_changed = true;
                        }
                        Ok(false) => {}
                        // docker warns and goes on to clean config.json.
                        Err(error) => warnings.push(LogoutWarning::EraseFailed {
                            key: k.clone(),
                            store: store.name(),
                            error,
                        }),
                    }
                }
            }
            None => {}
        }
        edits.push(Edit {
            key,
            auths: keys,
            drop_ecr_helper,
            found,
        });
    }
    // Locked from here to the write: the removals apply to the file as it is now.
    let mut file = writes.edit(places)?;
    let mut erased = Vec::new();
    for mut e in edits {
        if e.drop_ecr_helper && dc::cred_helper(&file.value, &e.key) == Some(REGCTL_HELPER) {
            e.found |= dc::remove_cred_helper(&mut file.value, &e.key);
        }
        e.found |= dc::remove_auths(&mut file.value, &e.auths);
        if e.found {
            erased.push(e.key);
        }
    }
    // docker keeps credHelpers entries on logout, and so does regctl (except ECR's, above).
    Ok(LoggedOut {
        erased,
        asked,
        store_changed,
        saved: writes.save(file)?,
        warnings,
    })
}

/// `--all`: one target per registry (`r.io` and `https://r.io/v1/` are both erased with it),
/// from `auths`, `credHelpers` and ECR logins whose config.json entries are gone.
fn every_registry(
    places: &Places,
    config: &Map<String, Value>,
    warnings: &mut Vec<LogoutWarning>,
) -> Result<Vec<(String, Vec<String>)>, OpsError> {
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for (k, decoded) in dc::auth_keys(config, &places.config)? {
        // An entry docker cannot decode either goes too (it is a secret left behind and stops
        // docker from reading the file at all); the user is told which one.
        if let Err(e) = decoded {
            warnings.push(LogoutWarning::Undecodable(e));
        }
        keys.insert(k);
    }
    keys.extend(dc::all_cred_helpers(config).into_iter().map(|(k, _)| k));
    keys.extend(
        places
            .ecr_dirs
            .settings()
            .list()?
            .into_iter()
            .map(|(host, _)| host),
    );
    let mut targets: Vec<(String, Vec<String>)> = Vec::new();
    for k in keys {
        let (key, mut erase) = match crate::names::parse(&k) {
            Ok(n) => (n.cred_key.clone(), n.logout_keys()),
            Err(_) => (k.clone(), Vec::new()),
        };
        erase.push(k);
        match targets.iter_mut().find(|(t, _)| *t == key) {
            Some((_, known)) => known.extend(erase),
            None => targets.push((key, erase)),
        }
    }
    for (_, erase) in &mut targets {
        let mut seen = BTreeSet::new();
        erase.retain(|k| seen.insert(k.clone()));
    }
    Ok(targets)
}
