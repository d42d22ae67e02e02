//! The OS keychain: on Linux the Secret Service over D-Bus, spoken directly (`secret_service`
//! and `dbus`: one socket, a plain session, pipelined calls, no threads, because
//! docker-credential-regctl runs once per pull, and keyring 4's DH session and zbus's threads
//! were most of its cost); on macOS and Windows Keychain Services and Credential Manager through the `keyring`
//! crate (v4). There is no fallback: no Secret Service, or a locked one, is an error the user
//! sees (never a mock or a non-persistent store).
//!
//! One item per registry: attribute `service` = `docker-credential-regctl`, `username` = the
//! registry's credential key, label `regctl: docker credentials for KEY`, and the secret
//! `{"Username": .., "Secret": ..}` as JSON: exactly what keyring 4 wrote, so items stored by
//! earlier versions keep working. Docker's own secretservice helper cannot read these items
//! (different attributes); docker, skopeo and podman read them through
//! `docker-credential-regctl` (see `serve`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Credential, CredsError, Store};
use crate::names;

#[cfg(target_os = "linux")]
#[path = "keychain/linux.rs"]
mod backend;
#[cfg(not(target_os = "linux"))]
#[path = "keychain/native.rs"]
mod backend;

/// The `service` attribute of regctl's keychain items.
pub const SERVICE: &str = "docker-credential-regctl";

/// Where the keychain is reached. On Linux: the D-Bus session bus and the user to
/// authenticate as (unused elsewhere).
#[derive(Debug, Clone, Default)]
pub struct KeychainEnv {
    /// The session bus address, as in DBUS_SESSION_BUS_ADDRESS.
    pub session_bus: Option<String>,
    pub euid: u32,
}

impl KeychainEnv {
    /// DBUS_SESSION_BUS_ADDRESS when set, else the bus the login session puts in
    /// XDG_RUNTIME_DIR (as libdbus and zbus look for it).
    pub fn new(
        session_bus_address: Option<String>,
        xdg_runtime_dir: Option<&Path>,
        euid: u32,
    ) -> KeychainEnv {
        let escape = |p: &Path| {
            p.to_string_lossy()
                .bytes()
                .map(|b| match b {
                    b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'/' | b'.' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02x}"),
                })
                .collect::<String>()
        };
        let session_bus = session_bus_address
            .filter(|a| !a.trim().is_empty())
            .or_else(|| xdg_runtime_dir.map(|d| format!("unix:path={}", escape(&d.join("bus")))));
        KeychainEnv { session_bus, euid }
    }
}

pub struct Keychain {
    pub timeout: Duration,
    pub env: KeychainEnv,
}

/// The key an item is stored under: the normalised credential key when the URL parses.
pub fn item_key(server_url: &str) -> String {
    names::parse(server_url)
        .map(|n| n.cred_key)
        .unwrap_or_else(|_| server_url.trim().to_string())
}

/// The label of the item for a key.
fn label(key: &str) -> String {
    format!("regctl: docker credentials for {key}")
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

impl Keychain {
    pub fn new(env: KeychainEnv) -> Keychain {
        Keychain {
            timeout: Duration::from_secs(20),
            env,
        }
    }

    /// Whether the keychain answers at all (used by `--store auto`).
    pub fn available(&self) -> Result<(), CredsError> {
        backend::available(self)
    }
}

impl Store for Keychain {
    fn name(&self) -> String {
        "keychain".into()
    }

    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError> {
        let key = item_key(server_url);
        let Some(bytes) = backend::get(self, &key)? else {
            return Ok(None);
        };
        let (username, secret) = decode(&key, &bytes)?;
        Ok(Some(Credential {
            server_url: server_url.to_string(),
            username,
            secret,
        }))
    }

    fn store(&mut self, cred: &Credential) -> Result<(), CredsError> {
        if cred.username.is_empty() {
            return Err(CredsError::EmptyUsername {
                server: cred.server_url.clone(),
            });
        }
        let key = item_key(&cred.server_url);
        let secret = json!({"Username": cred.username, "Secret": cred.secret}).to_string();
        backend::store(self, &key, &label(&key), secret.as_bytes())
    }

    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError> {
        backend::erase(self, &item_key(server_url))
    }

    fn list(&self) -> Result<BTreeMap<String, String>, CredsError> {
        let mut out = BTreeMap::new();
        for (key, bytes) in backend::list(self)? {
            if let Ok((user, _)) = decode(&key, &bytes) {
                out.insert(key, user);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_bus_comes_from_the_variable_or_the_runtime_dir() {
        let env = KeychainEnv::new(Some("unix:path=/x".into()), Some(Path::new("/run/u")), 7);
        assert_eq!(env.session_bus.as_deref(), Some("unix:path=/x"));
        assert_eq!(env.euid, 7);
        let env = KeychainEnv::new(Some(" ".into()), Some(Path::new("/run/user 1")), 7);
        assert_eq!(
            env.session_bus.as_deref(),
            Some("unix:path=/run/user%201/bus")
        );
        assert_eq!(KeychainEnv::new(None, None, 7).session_bus, None);
    }
}
