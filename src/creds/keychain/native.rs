//! The keychain on macOS and Windows (and other non-Linux systems): the `keyring` crate (v4),
//! Keychain Services and Credential Manager. Each operation runs on a thread, so that a store
//! that never answers (or waits on a prompt nobody can see) becomes an error instead of a hang.

use std::collections::HashMap;
use std::sync::mpsc;

use super::{Keychain, SERVICE};
use crate::creds::CredsError;

fn map_err(e: keyring_core::Error) -> CredsError {
    use keyring_core::Error as K;
    let detail = crate::error_text::chain(&e);
    match e {
        K::NoStorageAccess(_) => CredsError::KeychainLocked { detail },
        K::NoDefaultStore => CredsError::KeychainUnavailable { detail },
        _ => CredsError::Keychain { detail },
    }
}

fn with_timeout<T: Send + 'static>(
    k: &Keychain,
    op: impl FnOnce() -> Result<T, CredsError> + Send + 'static,
) -> Result<T, CredsError> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let result = match keyring::Entry::store_status() {
            Ok(()) => op(),
            Err(e) => Err(CredsError::KeychainUnavailable {
                detail: crate::error_text::chain(e),
            }),
        };
        let _ = tx.send(result);
    });
    rx.recv_timeout(k.timeout)
        .unwrap_or(Err(CredsError::KeychainTimeout {
            secs: k.timeout.as_secs(),
        }))
}

fn entry(key: &str, label: &str) -> Result<keyring_core::Entry, CredsError> {
    let mods = HashMap::from([("label", label)]);
    keyring_core::Entry::new_with_modifiers(SERVICE, key, &mods).map_err(map_err)
}

pub fn available(k: &Keychain) -> Result<(), CredsError> {
    with_timeout(k, || {
        keyring_core::Entry::search(&HashMap::from([("service", SERVICE)]))
            .map(|_| ())
            .map_err(map_err)
    })
}

pub fn get(k: &Keychain, key: &str) -> Result<Option<Vec<u8>>, CredsError> {
    let key = key.to_string();
    with_timeout(k, move || {
        match entry(&key, &super::label(&key))?.get_secret() {
            Ok(bytes) => Ok(Some(bytes)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_err(e)),
        }
    })
}

pub fn store(k: &Keychain, key: &str, label: &str, secret: &[u8]) -> Result<(), CredsError> {
    let (key, label, secret) = (key.to_string(), label.to_string(), secret.to_vec());
    with_timeout(k, move || {
        entry(&key, &label)?.set_secret(&secret).map_err(map_err)
    })
}

pub fn erase(k: &Keychain, key: &str) -> Result<bool, CredsError> {
    let key = key.to_string();
    with_timeout(k, move || {
        match entry(&key, &super::label(&key))?.delete_credential() {
            Ok(()) => Ok(true),
            Err(keyring_core::Error::NoEntry) => Ok(false),
            Err(e) => Err(map_err(e)),
        }
    })
}

pub fn list(k: &Keychain) -> Result<Vec<(String, Vec<u8>)>, CredsError> {
    with_timeout(k, || {
        let found =
            keyring_core::Entry::search(&HashMap::from([("service", SERVICE)])).map_err(map_err)?;
        let mut out = Vec::new();
        for e in found {
            let Some((_, key)) = e.get_specifiers() else {
                continue;
            };
            out.push((key, e.get_secret().map_err(map_err)?));
        }
        Ok(out)
    })
}
