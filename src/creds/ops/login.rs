//! `login`'s routing: which store docker will read for a registry (`--store`, else what
//! config.json already configures, else the keychain when it answers, else plain text), reuse of
//! what is stored, and the config.json edit that points docker at the store, with Docker Hub's
//! second key for containers/image.

use std::str::FromStr;

use serde_json::{Map, Value};

use super::{set_cred_helper, FileStoreShadowed, OpsError, Places, Writes};
use crate::creds::file::FileStore;
use crate::creds::keychain::Keychain;
use crate::creds::{Credential, CredsError, Store, REGCTL_HELPER};
use crate::files::docker_config::{self as dc, StoreRef};
use crate::files::json_file::Saved;
use crate::registry::client::{RegistryClient, RegistryError};
use crate::registry::token::{self, AuthScheme, Credentials, Verified};

/// `login --store`: where the secret should go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreChoice {
    /// credHelpers/credsStore if configured, else the OS keychain when reachable, else plain text.
    Auto,
    File,
    Keychain,
    /// `docker-credential-NAME`.
    Helper(String),
}

/// A `--store` value that is none of the stores.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a store; use auto, file, keychain or helper:NAME")]
pub struct BadStore(pub String);

impl FromStr for StoreChoice {
    type Err = BadStore;

    fn from_str(s: &str) -> Result<StoreChoice, BadStore> {
        Ok(match s {
            "auto" => StoreChoice::Auto,
            "file" => StoreChoice::File,
            "keychain" => StoreChoice::Keychain,
            other => match other.strip_prefix("helper:") {
                Some(name) if !name.is_empty() && !name.contains('/') => {
                    StoreChoice::Helper(name.to_string())
                }
                _ => return Err(BadStore(other.to_string())),
            },
        })
    }
}

impl std::fmt::Display for StoreChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreChoice::Auto => f.write_str("auto"),
            StoreChoice::File => f.write_str("file"),
            StoreChoice::Keychain => f.write_str("keychain"),
            StoreChoice::Helper(name) => write!(f, "helper:{name}"),
        }
    }
}

/// Where the secret went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    File,
    /// A helper; `regctl` means the keychain. `via_creds_store`: docker finds it through
    /// `credsStore`, so no `credHelpers` entry is needed.
    Helper {
        name: String,
        via_creds_store: bool,
    },
}

impl Target {
    /// `file`, `keychain` or `helper:NAME`.
    pub fn label(&self) -> String {
        match self {
            Target::File => "file".into(),
            Target::Helper { name, .. } => super::helper_label(name),
        }
    }
}

/// Something the user should know about a login that went through.
#[derive(Debug)]
pub enum LoginNote {
    /// The registry asks for no authentication, so the credentials were not checked.
    NotChecked,
    /// `--store auto` fell back to plain text because the keychain did not answer.
    KeychainUnavailable(CredsError),
    /// The secret is in the keychain but `docker-credential-regctl` is not on PATH.
    RegctlHelperMissing,
}

/// What is already stored for a registry, and whether it still works.
#[derive(Debug)]
pub struct Existing {
    pub stored: Credential,
    /// `Ok(None)` when it was not checked (`--no-verify`).
    pub check: Result<Option<Verified>, RegistryError>,
}

/// A new login's credentials and where they should go.
pub struct NewLogin<'a> {
    pub username: String,
    pub password: String,
    pub store: &'a StoreChoice,
    /// The client to check them with; `None` for `--no-verify`.
    pub verify_with: Option<&'a RegistryClient>,
}

/// What a login did.
#[derive(Debug)]
pub struct LoggedIn {
    pub target: Target,
    /// `None` when the credentials were not checked (`--no-verify`).
    pub verified: Option<Verified>,
    /// The helper or keychain changed (or would change).
    pub store_changed: bool,
    pub saved: Saved,
    pub notes: Vec<LoginNote>,
}

/// One registry's login, from reading config.json to writing it.
pub struct Login<'a> {
    places: &'a Places,
    key: String,
    host: String,
    /// config.json as read without the lock.
    config: Map<String, Value>,
}

impl<'a> Login<'a> {
    /// Reads config.json; a broken `auths` entry for this registry stops the login before
    /// anything else, as in docker.
    pub fn open(places: &'a Places, key: &str, host: &str) -> Result<Login<'a>, OpsError> {
        let config = places.read_config()?;
        dc::get_auth(&config, &places.config, key)?;
        Ok(Login {
            places,
            key: key.to_string(),
            host: host.to_string(),
            config,
        })
    }

    /// What the store docker reads for this registry holds, checked with `verify_with` (an
    /// identity token goes through the OAuth flow).
    pub fn existing(
        &mut self,
        verify_with: Option<&RegistryClient>,
    ) -> Result<Option<Existing>, OpsError> {
        let p = self.places;
        let Some(stored) = crate::creds::stored(
            &mut self.config,
            &p.config,
            &self.key,
            &p.exec_path,
            &p.keychain,
        )?
        else {
            return Ok(None);
        };
        let check = match verify_with {
            None => Ok(None),
            Some(client) => {
                token::verify(client, &self.host, &stored.login_credentials()).map(Some)
            }
        };
        Ok(Some(Existing { stored, check }))
    }

    /// Checks the credentials, writes the helper or keychain, then locks config.json to point
    /// docker at it (or to keep the secret in `auths`).
    pub fn store(self, new: NewLogin<'_>, writes: Writes) -> Result<LoggedIn, OpsError> {
        let (p, key) = (self.places, self.key.as_str());
        let mut notes = Vec::new();
        let verified = match new.verify_with {
            None => None,
            Some(client) => {
                let creds = Credentials::Basic {
                    username: new.username.clone(),
                    password: new.password.clone(),
                };
                let v = token::verify(client, &self.host, &creds)?;
                if v.scheme == AuthScheme::None {
                    notes.push(LoginNote::NotChecked);
                }
                Some(v)
            }
        };
        let target = choose_target(new.store, &self.config, key, p, &mut notes);
        let cred = Credential {
            server_url: key.to_string(),
            username: new.username,
            secret: new.password,
        };
        let mut store_changed = false;
        if let Target::Helper { name, .. } = &target {
            // The helper (or keychain) is written before config.json is locked.
            store_changed = writes.store(p.helper_store(name).as_mut(), &cred)?;
            if name == REGCTL_HELPER && p.regctl_helper_missing() {
                notes.push(LoginNote::RegctlHelperMissing);
            }
        }
        // Locked from here to the write: the edit applies to the file as it is now.
        let mut file = writes.edit(p)?;
        match &target {
            Target::File => {
                refuse_shadowed_file_store(&file.value, p, key)?;
                keep_in_auths(&mut file.value, p, &cred)?;
            }
            Target::Helper {
                name,
                via_creds_store,
            } => point_at_helper(&mut file.value, p, key, name, !via_creds_store)?,
        }
        Ok(LoggedIn {
            target,
            verified,
            store_changed,
            saved: writes.save(file)?,
            notes,
        })
    }
}

/// The store for this login: `--store`, else what config.json already configures, else the
/// keychain when it answers, else plain text.
fn choose_target(
    store: &StoreChoice,
    config: &Map<String, Value>,
    key: &str,
    places: &Places,
    notes: &mut Vec<LoginNote>,
) -> Target {
    let helper = |name: &str| Target::Helper {
        via_creds_store: dc::cred_helper(config, key).is_none()
            && dc::creds_store(config) == Some(name),
        name: name.to_string(),
    };
    match store {
        StoreChoice::Auto => match dc::store_for(config, key) {
            StoreRef::Helper(h) | StoreRef::CredsStore(h) => helper(&h),
            StoreRef::File => match Keychain::new(places.keychain.clone()).available() {
                Ok(()) => helper(REGCTL_HELPER),
                Err(e) => {
                    notes.push(LoginNote::KeychainUnavailable(e));
                    Target::File
                }
            },
        },
        StoreChoice::File => Target::File,
        StoreChoice::Keychain => helper(REGCTL_HELPER),
        StoreChoice::Helper(name) => helper(name),
    }
}

/// `--store file` is pointless when `credsStore` sends this registry to a helper (and no
/// `credHelpers` entry that the login replaces says otherwise): docker would not read the file.
fn refuse_shadowed_file_store(
    config: &Map<String, Value>,
    places: &Places,
    key: &str,
) -> Result<(), OpsError> {
    match (dc::cred_helper(config, key), dc::creds_store(config)) {
        (None, Some(h)) => Err(FileStoreShadowed {
            path: places.config.clone(),
            helper: h.to_string(),
            server: key.to_string(),
        }
        .into()),
        _ => Ok(()),
    }
}

/// Where an ECR login's token is served from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EcrTarget {
    /// `credHelpers[HOST] = "regctl"`: docker-credential-regctl mints a new token before the
    /// cached one ends.
    Helper,
    /// The token itself in `auths` (it stops working when it expires).
    File,
}

/// Checks, before AWS is asked, that config.json lets an ECR login through (a broken entry for
/// the registry; a file store that credsStore would shadow).
pub fn ecr_precheck(places: &Places, key: &str, target: EcrTarget) -> Result<(), OpsError> {
    let config = places.read_config()?;
    dc::get_auth(&config, &places.config, key)?;
    if target == EcrTarget::File {
        refuse_shadowed_file_store(&config, places, key)?;
    }
    Ok(())
}

/// Points docker at an ECR login: regctl's helper, or the token in `auths`.
pub fn ecr_store(
    places: &Places,
    token: &Credential,
    target: EcrTarget,
    writes: Writes,
) -> Result<Saved, OpsError> {
    let key = token.server_url.as_str();
    let mut file = writes.edit(places)?;
    match target {
        EcrTarget::File => keep_in_auths(&mut file.value, places, token)?,
        EcrTarget::Helper => point_at_helper(&mut file.value, places, key, REGCTL_HELPER, true)?,
    }
    Ok(writes.save(file)?)
}

/// The secret in plain text in `auths` (and no `credHelpers` entry sending docker elsewhere).
fn keep_in_auths(
    config: &mut Map<String, Value>,
    places: &Places,
    cred: &Credential,
) -> Result<(), OpsError> {
    dc::remove_cred_helper(config, &cred.server_url);
    let mut store = FileStore::new(config, &places.config);
    if store.get(&cred.server_url)?.as_ref() != Some(cred) {
        store.store(cred)?;
    }
    Ok(())
}

/// `credHelpers[KEY]` at a helper (unless `credsStore` already sends docker there), and
/// docker's empty marker in `auths`: any plain-text secret there goes away.
fn point_at_helper(
    config: &mut Map<String, Value>,
    places: &Places,
    key: &str,
    helper: &str,
    set_entry: bool,
) -> Result<(), OpsError> {
    if set_entry {
        set_cred_helper(config, &places.config, key, helper)?;
    }
    dc::set_auth(config, &places.config, key, None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_choices_parse_and_print_as_typed() {
        for s in [
            "auto",
            "file",
            "keychain",
            "helper:pass",
            "helper:ecr-login",
        ] {
            assert_eq!(s.parse::<StoreChoice>().unwrap().to_string(), s);
        }
        assert_eq!(
            "helper:pass".parse::<StoreChoice>(),
            Ok(StoreChoice::Helper("pass".into()))
        );
        for bad in ["vault", "", "helper:", "helper:a/b", "Keychain", "helper"] {
            let e = bad.parse::<StoreChoice>().unwrap_err();
            assert_eq!(e, BadStore(bad.into()));
            assert!(e
                .to_string()
                .contains("use auto, file, keychain or helper:NAME"));
        }
    }
}
