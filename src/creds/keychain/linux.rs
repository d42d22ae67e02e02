//! The keychain on Linux: regctl's items in the Secret Service, one connection per request.
//! The first call (the item search) goes out in the same write as the session it needs, so a
//! `get` is two round trips in all (authentication included).

use std::time::Instant;

use super::{Keychain, SERVICE};
use crate::creds::dbus::DbusError;
use crate::creds::secret_service::{Found, SecretService, SsError};
use crate::creds::CredsError;

fn map_err(k: &Keychain, e: SsError) -> CredsError {
    let detail = e.to_string();
    match e {
        SsError::Unavailable(_) => CredsError::KeychainUnavailable { detail },
        SsError::Locked(_) => CredsError::KeychainLocked { detail },
        SsError::Timeout => CredsError::KeychainTimeout {
            secs: k.timeout.as_secs(),
        },
        SsError::Failed(_) => CredsError::Keychain { detail },
    }
}

/// Opens a session, searching for `attrs` on the way.
fn open(k: &Keychain, attrs: &[(&str, &str)]) -> Result<(SecretService, Found), SsError> {
    let address = k
        .env
        .session_bus
        .as_deref()
        .ok_or(SsError::Unavailable(DbusError::NoAddress))?;
    let deadline = Instant::now() + k.timeout;
    let (ss, found) = SecretService::open(address, k.env.euid, deadline, Some(attrs))?;
    Ok((ss, found.unwrap_or_default()))
}

/// The one item for `key` (unlocked), if there is one.
fn item(k: &Keychain, key: &str) -> Result<(SecretService, Option<String>), SsError> {
    let (mut ss, found) = open(k, &[("service", SERVICE), ("username", key)])?;
    let all = found.all();
    match all.as_slice() {
        [] => Ok((ss, None)),
        [one] => {
            ss.unlock(&found.locked)?;
            Ok((ss, Some(one.clone())))
        }
        many => Err(SsError::Failed(format!(
            "{} Secret Service items have service={SERVICE} username={key}; regctl expects one",
            many.len()
        ))),
    }
}

pub fn available(k: &Keychain) -> Result<(), CredsError> {
    open(k, &[("service", SERVICE)])
        .map(|_| ())
        .map_err(|e| map_err(k, e))
}

pub fn get(k: &Keychain, key: &str) -> Result<Option<Vec<u8>>, CredsError> {
    let run = || match item(k, key)? {
        (_, None) => Ok(None),
        (mut ss, Some(path)) => ss.secret(&path).map(Some),
    };
    run().map_err(|e| map_err(k, e))
}

pub fn store(k: &Keychain, key: &str, label: &str, secret: &[u8]) -> Result<(), CredsError> {
    let run = || match item(k, key)? {
        (mut ss, Some(path)) => ss.set_secret(&path, secret),
        (mut ss, None) => ss.create_item(label, &[("service", SERVICE), ("username", key)], secret),
    };
    run().map_err(|e| map_err(k, e))
}

pub fn erase(k: &Keychain, key: &str) -> Result<bool, CredsError> {
    let run = || match item(k, key)? {
        (_, None) => Ok(false),
        (mut ss, Some(path)) => ss.delete(&path).map(|()| true),
    };
    run().map_err(|e| map_err(k, e))
}

/// Every item of regctl's: its key (the `username` attribute) and its secret.
pub fn list(k: &Keychain) -> Result<Vec<(String, Vec<u8>)>, CredsError> {
    let run = || {
        let (mut ss, found) = open(k, &[("service", SERVICE)])?;
        ss.unlock(&found.locked)?;
        let items = found.all();
        let attributes = ss.attributes(&items)?;
        let mut secrets = ss.secrets(&items)?;
        Ok(items
            .iter()
            .zip(attributes)
            .filter_map(|(path, attrs)| {
                let key = attrs.get("username")?.clone();
                Some((key, secrets.remove(path)?))
            })
            .collect())
    };
    run().map_err(|e| map_err(k, e))
}
