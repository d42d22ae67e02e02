//! `creds list`'s routing: every registry with credentials, from `auths`, `credHelpers` and the
//! `credsStore`'s own list, with the store and username, looked up as docker looks them up (by
//! the registry's key, exact `auths` key first); Amazon ECR logins also with when their token
//! ends. Secrets are never returned (and no ECR token is minted).

use std::collections::BTreeMap;
use std::time::SystemTime;

use super::{registry_key, store_label, OpsError, Places};
use crate::creds::ecr::{self, EcrError, EcrHost, Listed};
use crate::creds::{CredsError, IDENTITY_TOKEN_USER, REGCTL_HELPER};
use crate::files::docker_config::{self as dc, StoreRef};
use crate::hints;

/// One registry's stored credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `file`, `keychain`, `helper:NAME` or `ecr`.
    pub store: String,
    pub username: Option<String>,
    pub plaintext: bool,
    /// Why the entry could not be read (docker could not either), or what is wrong with it.
    pub error: Option<String>,
    /// ECR logins: when the token ends (`Some(None)`: no token yet).
    pub ecr_expiry: Option<Option<SystemTime>>,
}

/// Something `creds list` could not look at, or should warn about.
#[derive(Debug)]
pub enum InventoryWarning {
    /// regctl's saved ECR logins could not be read.
    EcrList(EcrError),
    /// `credsStore: ecr-login` sends every registry to amazon-ecr-credential-helper.
    EcrLoginCredsStore { ecr_hosts: Vec<String> },
    /// The credsStore's own list failed.
    CredsStoreList { helper: String, error: CredsError },
}

/// Every registry with stored credentials, by registry key.
#[derive(Debug)]
pub struct Inventory {
    pub entries: BTreeMap<String, Entry>,
    pub warnings: Vec<InventoryWarning>,
}

impl Inventory {
    /// Plain-text entries that are better moved into the keychain (an ECR token in plain text
    /// is better replaced than moved: its login said how).
    pub fn movable_plaintext(&self) -> usize {
        self.entries
            .values()
            .filter(|r| r.plaintext && r.ecr_expiry.is_none())
            .count()
    }
}

/// The entry of a registry whose tokens docker-credential-regctl mints.
fn ecr_entry(listed: Option<&Listed>, expiry: Option<SystemTime>) -> Entry {
    Entry {
        store: "ecr".into(),
        username: Some("AWS".into()),
        plaintext: false,
        error: listed
            .and_then(|l| l.problem.as_ref())
            .map(|e| e.to_string()),
        ecr_expiry: Some(listed.map_or(expiry, |l| l.expires_at)),
    }
}

/// Reads config.json and asks each store for usernames (never secrets) at `now`.
pub fn inventory(places: &Places, now: SystemTime) -> Result<Inventory, OpsError> {
    let path = &places.config;
    let config = &places.read_config()?;
    let mut entries: BTreeMap<String, Entry> = BTreeMap::new();
    let mut warnings = Vec::new();
    let ecr_store = places.ecr_store(now);
    // ECR logins by host name (without a port), from regctl's saved login choices.
    let mut ecr_logins: BTreeMap<String, Listed> = match ecr::list(&places.aws, &places.ecr_dirs) {
        Ok(list) => list.into_iter().map(|l| (l.host.clone(), l)).collect(),
        Err(e) => {
            warnings.push(InventoryWarning::EcrList(e));
            BTreeMap::new()
        }
    };
    // Every key docker reads (each spelling of `auths` and `credHelpers`), one entry per registry.
    let mut keys: Vec<String> = dc::auth_keys(config, path)?
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    keys.extend(dc::all_cred_helpers(config).into_iter().map(|(k, _)| k));
    for raw in keys {
        let key = registry_key(&raw);
        if entries.contains_key(&key) {
            continue;
        }
        let store = dc::store_for(config, &key);
        let listed = ecr_logins.remove(&EcrHost::forced(&key).hostname);
        let entry = match store.helper() {
            Some(REGCTL_HELPER) if ecr_store.serves(&key) => {
                ecr_entry(listed.as_ref(), ecr_store.cached_expiry(&key))
            }
            None => match dc::get_auth(config, path, &key) {
                Ok(Some(a)) => Entry {
                    store: "file".into(),
                    username: Some(if a.username.is_empty() {
                        IDENTITY_TOKEN_USER.into()
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
                Err(e) => Entry {
                    store: "file".into(),
                    username: None,
                    plaintext: true,
                    error: Some(e.to_string()),
                    ecr_expiry: None,
                },
            },
            Some(h) => {
                let (username, error) = match places.helper_store(h).get(&key) {
                    Ok(Some(c)) => (Some(c.username), None),
                    Ok(None) => continue,
                    Err(e) => (None, Some(e.to_string())),
                };
                Entry {
                    store: store_label(&store),
                    username,
                    plaintext: false,
                    error,
                    ecr_expiry: None,
                }
            }
        };
        entries.insert(key, entry);
    }
    // ECR logins config.json no longer sends docker to (its entries were edited away).
    for (host, listed) in ecr_logins {
        let mut entry = ecr_entry(Some(&listed), None);
        entry
            .error
            .get_or_insert_with(|| hints::ecr_not_in_config(&host));
        entries.entry(host).or_insert(entry);
    }
    if let Some(ecr_hosts) = ecr::ecr_login_creds_store(config) {
        warnings.push(InventoryWarning::EcrLoginCredsStore { ecr_hosts });
    }
    if let Some(cs) = dc::creds_store(config) {
        match places.helper_store(cs).list() {
            Ok(list) => {
                for (url, user) in list {
                    entries.entry(url).or_insert(Entry {
                        store: store_label(&StoreRef::CredsStore(cs.to_string())),
                        username: Some(user),
                        plaintext: false,
                        error: None,
                        ecr_expiry: None,
                    });
                }
            }
            Err(error) => warnings.push(InventoryWarning::CredsStoreList {
                helper: cs.to_string(),
                error,
            }),
        }
    }
    Ok(Inventory { entries, warnings })
}
