//! The OS keychain through the `keyring` crate (v4): the Secret Service over D-Bus on Linux
//! (zbus), Keychain Services on macOS, Credential Manager on Windows. There is no fallback:
//! no Secret Service, or a locked one, is an error the user sees (never a mock or a
//! non-persistent store).
//!
//! One item per registry: attribute `service` = `docker-credential-regctl`, `username` = the
//! registry's credential key, and the secret `{"Username": .., "Secret": ..}` as JSON. Docker's
//! own secretservice helper cannot read these items (different attributes); docker, skopeo and
//! podman read them through `docker-credential-regctl` (see `serve`).

use std::collections::{BTreeMap, HashMap};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Credential, CredsError, Store};
use crate::registry::names;

/// The `service` attribute of regctl's keychain items.
pub const SERVICE: &str = "docker-credential-regctl";

pub struct Keychain {
    pub timeout: Duration,
}

impl Default for Keychain {
    fn default() -> Self {
        Self::new()
    }
}

/// The key an item is stored under: the normalised credential key when the URL parses.
pub fn item_key(server_url: &str) -> String {
    names::parse(server_url)
        .map(|n| n.cred_key)
        .unwrap_or_else(|_| server_url.trim().to_string())
}

fn map_err(e: keyring_core::Error) -> CredsError {
    use keyring_core::Error as K;
    let detail = crate::error::chain(&e);
    match e {
        K::NoStorageAccess(_) => CredsError::KeychainLocked { detail },
        K::NoDefaultStore => CredsError::KeychainUnavailable { detail },
        K::PlatformFailure(_)
            if [
                "ServiceUnknown",
                "org.freedesktop.secrets",
                "DBUS_SESSION_BUS_ADDRESS",
                "address",
                "Address",
                "No such file",
                "Connection refused",
            ]
            .iter()
            .any(|w| detail.contains(w)) =>
        {
            CredsError::KeychainUnavailable { detail }
        }
        _ => CredsError::Keychain { detail },
    }
}

impl Keychain {
    pub fn new() -> Keychain {
        Keychain {
            timeout: Duration::from_secs(20),
        }
    }

    /// Runs a keychain operation on a thread, so that a Secret Service that never answers (or
    /// waits on an unlock prompt nobody can see) becomes an error instead of a hang.
    fn with_timeout<T: Send + 'static>(
        &self,
        op: impl FnOnce() -> Result<T, CredsError> + Send + 'static,
    ) -> Result<T, CredsError> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let result = match keyring::Entry::store_status() {
                Ok(()) => op(),
                Err(e) => Err(CredsError::KeychainUnavailable {
                    detail: crate::error::chain(e),
                }),
            };
            let _ = tx.send(result);
        });
        rx.recv_timeout(self.timeout)
            .unwrap_or(Err(CredsError::KeychainTimeout {
                secs: self.timeout.as_secs(),
            }))
    }

    /// Whether the keychain answers at all (used by `--store auto`).
    pub fn available(&self) -> Result<(), CredsError> {
        self.with_timeout(|| {
            keyring_core::Entry::search(&HashMap::from([("service", SERVICE)]))
                .map(|_| ())
                .map_err(map_err)
        })
    }
}

fn entry(key: &str) -> Result<keyring_core::Entry, CredsError> {
    let label = format!("regctl: docker credentials for {key}");
    let mods = HashMap::from([("label", label.as_str())]);
    keyring_core::Entry::new_with_modifiers(SERVICE, key, &mods).map_err(map_err)
}

fn decode(key: &str, bytes: &[u8]) -> Result<(String, String), CredsError> {
    let garbage = || CredsError::KeychainGarbage {
        server: key.to_string(),
    };
    let v: Value = serde_json::from_slice(bytes).map_err(|_| garbage())?;
    let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    match (field("Username"), field("Secret")) {
        (Some(u), Some(s)) => Ok((u, s)),
        _ => Err(garbage()),
    }
}

impl Store for Keychain {
    fn name(&self) -> String {
        "keychain".into()
    }

    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError> {
        let key = item_key(server_url);
        let url = server_url.to_string();
        self.with_timeout(move || {
            let e = entry(&key)?;
            match e.get_secret() {
                Ok(bytes) => {
                    let (username, secret) = decode(&key, &bytes)?;
                    Ok(Some(Credential {
                        server_url: url,
                        username,
                        secret,
                    }))
                }
                Err(keyring_core::Error::NoEntry) => Ok(None),
                Err(e) => Err(map_err(e)),
            }
        })
    }

    fn store(&mut self, cred: &Credential) -> Result<(), CredsError> {
        if cred.username.is_empty() {
            return Err(CredsError::EmptyUsername {
                server: cred.server_url.clone(),
            });
        }
        let key = item_key(&cred.server_url);
        let secret = json!({"Username": cred.username, "Secret": cred.secret}).to_string();
        self.with_timeout(move || entry(&key)?.set_secret(secret.as_bytes()).map_err(map_err))
    }

    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError> {
        let key = item_key(server_url);
        self.with_timeout(move || match entry(&key)?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        })
    }

    fn list(&self) -> Result<BTreeMap<String, String>, CredsError> {
        self.with_timeout(|| {
            let found = keyring_core::Entry::search(&HashMap::from([("service", SERVICE)]))
                .map_err(map_err)?;
            let mut out = BTreeMap::new();
            for e in found {
                let Some((_, key)) = e.get_specifiers() else {
                    continue;
                };
                let bytes = e.get_secret().map_err(map_err)?;
                if let Ok((user, _)) = decode(&key, &bytes) {
                    out.insert(key, user);
                }
            }
            Ok(out)
        })
    }
}
