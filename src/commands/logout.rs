//! `regctl logout`: erase a registry's credentials under every key docker erases
//! (`[KEY, host, http://host, https://host]`), from its credential store and from `auths`.
//! For an Amazon ECR registry: its cached token, its saved login choices and the
//! `credHelpers` entry pointing at regctl. Changed only when something existed.

use std::collections::BTreeSet;
use std::time::SystemTime;

use serde_json::json;

use super::creds::helper_store;
use crate::context::Context;
use crate::creds::ecr;
use crate::creds::regctl_helper::EcrStore;
use crate::creds::REGCTL_HELPER;
use crate::error::Result;
use crate::files::docker_config as dc;
use crate::files::json_file::{FileKind, JsonFile};
use crate::names;
use crate::output::Outcome;

pub fn run(registry: Option<&str>, all: bool, ctx: &Context) -> Result<Outcome> {
    let path = ctx.paths.client_config();
    // Read without the lock: helpers and the keychain are asked first; config.json is locked only
    // to re-read, edit and write it at the end (docker takes no lock at all).
    let config = JsonFile::read(&path, FileKind::CLIENT_CONFIG)?.value;
    let mut out = Outcome::new("");
    // (credential key, every key docker erases for it)
    let targets: Vec<(String, Vec<String>)> = if all {
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for (k, decoded) in dc::auth_keys(&config, &path)? {
            // An entry docker cannot decode either goes too (it is a secret left behind and
            // stops docker from reading the file at all); the user is told which one.
            if let Err(e) = decoded {
                out = out.warn(format!("{e}; removing it as well"));
            }
            keys.insert(k);
        }
        keys.extend(dc::all_cred_helpers(&config).into_iter().map(|(k, _)| k));
        // ECR logins whose config.json entries are gone still have a token and choices.
        keys.extend(
            ctx.paths
                .ecr_dirs()
                .settings()
                .list()?
                .into_iter()
                .map(|(host, _)| host),
        );
        // One target per registry: `r.io` and `https://r.io/v1/` are both erased with it.
        let mut targets: Vec<(String, Vec<String>)> = Vec::new();
        for k in keys {
            let (key, mut erase) = match names::parse(&k) {
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
        targets
    } else {
        let n = names::parse(registry.unwrap_or(""))?;
        vec![(n.cred_key.clone(), n.logout_keys())]
    };
    let mut erased = Vec::new();
    let mut store_changed = false;
    let ecr_store = EcrStore::new(ctx.env.aws.clone(), ctx.paths.ecr_dirs(), SystemTime::now());
    // Per registry: the auths keys to remove and the credHelpers entry to drop, applied under
    // the lock at the end.
    let mut edits: Vec<(String, Vec<String>, bool, bool)> = Vec::new();
    for (key, keys) in &targets {
        let mut found = false;
        let mut keys = keys.clone();
        // Older URL-style keys docker would fall back to once KEY is gone (`https://host/v1/`):
        // docker's own logout leaves them, and then still logs in with them.
        for k in dc::auth_keys_for(&config, &path, key).unwrap_or_default() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        let helper = dc::store_for(&config, key).helper().map(str::to_string);
        // An ECR registry: forget regctl's cached token and saved login choices, and drop the
        // credHelpers entry regctl's ECR login wrote (docker-credential-regctl would otherwise
        // keep minting tokens for it).
        let ecr_registry = ecr_store.serves(key);
        let mut drop_helper = false;
        if ecr_registry {
            let removed = if ctx.check {
                ecr_store.logged_in(key)?
            } else {
                ecr::logout(key, &ctx.env.aws, &ctx.paths.ecr_dirs())?
            };
            found |= removed;
            store_changed |= removed;
            drop_helper = dc::cred_helper(&config, key) == Some(REGCTL_HELPER);
        }
        match helper {
            Some(h) if ecr_registry && h == REGCTL_HELPER => {}
            Some(h) => {
                let mut store = helper_store(&h, ctx);
                for k in &keys {
                    let res = if ctx.check {
                        store.get(k).map(|c| c.is_some())
                    } else {
                        store.erase(k)
                    };
                    match res {
                        Ok(true) => {
                            found = true;
                            store_changed = true;
                        }
                        Ok(false) => {}
                        // docker warns and goes on to clean config.json.
                        Err(e) => {
                            out =
                                out.warn(format!("could not erase {k} from {}: {e}", store.name()))
                        }
                    }
                }
            }
            None => {}
        }
        edits.push((key.clone(), keys, drop_helper, found));
    }
    // Locked from here to the write: the removals apply to the file as it is now.
    let mut file = JsonFile::edit(&path, FileKind::CLIENT_CONFIG, ctx.check)?;
    for (key, keys, drop_helper, mut found) in edits {
        if drop_helper && dc::cred_helper(&file.value, &key) == Some(REGCTL_HELPER) {
            found |= dc::remove_cred_helper(&mut file.value, &key);
        }
        found |= dc::remove_auths(&mut file.value, &keys);
        if found {
            erased.push(key);
        }
    }
    // docker keeps credHelpers entries on logout, and so does regctl (except ECR's, above).
    let saved = file.save(ctx.check)?;
    out = out.with_save(&saved);
    out.changed |= store_changed;
    out.msg = if erased.is_empty() {
        match (all, targets.first()) {
            (false, Some((k, _))) => format!("not logged in to {k}"),
            _ => "no stored credentials".to_string(),
        }
    } else {
        format!(
            "{} {}",
            ctx.did("logged out of", "would log out of"),
            erased.join(", ")
        )
    };
    Ok(out.data("registries", json!(erased)))
}
