//! Docker's credential routing as operations: which store a login goes to, which keys a logout
//! erases, what `creds list` shows and what `creds migrate` moves. Verbs parse, prompt, call one
//! of these and render what it returns; nothing here prints, prompts or reads the environment.
//!
//! Each operation reads config.json without the lock, asks helpers and the keychain first, and
//! locks config.json only to re-read, edit and write it at the end (docker takes no lock at all).

use std::path::PathBuf;
use std::time::SystemTime;

use crate::creds::ecr::{AwsEnv, EcrDirs, EcrError};
use crate::creds::keychain::KeychainEnv;
use crate::creds::{self, helper, CredsError, Store, REGCTL_HELPER};
use crate::files::docker_config::{self as dc, DockerConfigError, StoreRef};
use crate::files::json_file::{FileError, FileKind, JsonFile, Saved};
use crate::names;
use crate::registry::client::RegistryError;

pub mod inventory;
pub mod login;
pub mod logout;
pub mod migrate;

/// Where the operations look: config.json and the stores it names.
#[derive(Debug, Clone)]
pub struct Places {
    /// The client's config.json.
    pub config: PathBuf,
    /// Where `docker-credential-NAME` helpers are looked for.
    pub exec_path: Vec<PathBuf>,
    pub keychain: KeychainEnv,
    pub ecr_dirs: EcrDirs,
    pub aws: AwsEnv,
}

impl Places {
    /// The store behind a helper name (`regctl` is the keychain, in-process).
    pub fn helper_store(&self, name: &str) -> Box<dyn Store> {
        creds::open_helper(name, &self.exec_path, &self.keychain)
    }

    /// Whether `docker-credential-regctl` is missing from PATH (then docker and skopeo cannot
    /// reach what regctl keeps).
    pub fn regctl_helper_missing(&self) -> bool {
        helper::find_in_path(&regctl_helper_bin(), &self.exec_path).is_none()
    }

    /// regctl's view of ECR state as `docker-credential-regctl` sees it at `now`.
    fn ecr_store(&self, now: SystemTime) -> creds::regctl_helper::EcrStore {
        creds::regctl_helper::EcrStore::new(self.aws.clone(), self.ecr_dirs.clone(), now)
    }

    fn read_config(&self) -> Result<serde_json::Map<String, serde_json::Value>, FileError> {
        Ok(JsonFile::read(&self.config, FileKind::CLIENT_CONFIG)?.value)
    }
}

/// `docker-credential-regctl`.
pub fn regctl_helper_bin() -> String {
    format!("docker-credential-{REGCTL_HELPER}")
}

/// Whether an operation writes or only says what it would write (`--check`). Given once, and
/// the only place that reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writes {
    pub check: bool,
}

impl Writes {
    /// Stores `cred` unless the store already holds it; whether that changes (or would change)
    /// the store.
    fn store(self, store: &mut dyn Store, cred: &creds::Credential) -> Result<bool, CredsError> {
        if store.get(&cred.server_url)?.as_ref() == Some(cred) {
            return Ok(false);
        }
        if !self.check {
            store.store(cred)?;
        }
        Ok(true)
    }

    /// Stores `cred` unless the store already holds it; asks nothing of the store with `check`.
    fn put(self, store: &mut dyn Store, cred: &creds::Credential) -> Result<(), CredsError> {
        if !self.check && store.get(&cred.server_url)?.as_ref() != Some(cred) {
            store.store(cred)?;
        }
        Ok(())
    }

    /// Erases `key`; whether something was (or would be) erased.
    fn erase(self, store: &mut dyn Store, key: &str) -> Result<bool, CredsError> {
        if self.check {
            store.get(key).map(|c| c.is_some())
        } else {
            store.erase(key)
        }
    }

    /// Forgets an ECR login's cached token and saved choices; whether there were any.
    fn ecr_logout(self, places: &Places, key: &str, now: SystemTime) -> Result<bool, EcrError> {
        if self.check {
            places.ecr_store(now).logged_in(key)
        } else {
            creds::ecr::logout(key, &places.aws, &places.ecr_dirs)
        }
    }

    /// config.json, locked for the read-modify-write at the end of an operation.
    fn edit(self, places: &Places) -> Result<JsonFile, FileError> {
        JsonFile::edit(&places.config, FileKind::CLIENT_CONFIG, self.check)
    }

    fn save(self, file: JsonFile) -> Result<Saved, FileError> {
        file.save(self.check)
    }
}

/// Why an operation failed. Each wraps the core error it came from, unchanged.
#[derive(Debug, thiserror::Error)]
pub enum OpsError {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    DockerConfig(#[from] DockerConfigError),
    #[error(transparent)]
    Creds(#[from] CredsError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Ecr(#[from] EcrError),
    #[error(transparent)]
    FileStoreShadowed(#[from] FileStoreShadowed),
}

/// `--store file` while `credsStore` sends this registry to a helper.
#[derive(Debug, thiserror::Error)]
#[error("{path} sets credsStore={helper:?}, so docker would not read plain-text credentials for {server}")]
pub struct FileStoreShadowed {
    pub path: PathBuf,
    pub helper: String,
    pub server: String,
}

/// How users name a store: `file`, `keychain` (regctl's helper) or `helper:NAME`.
pub fn store_label(s: &StoreRef) -> String {
    match s {
        StoreRef::File => "file".into(),
        StoreRef::Helper(h) | StoreRef::CredsStore(h) => helper_label(h),
    }
}

/// [`store_label`] of a helper name.
pub fn helper_label(name: &str) -> String {
    if name == REGCTL_HELPER {
        "keychain".into()
    } else {
        format!("helper:{name}")
    }
}

/// Points `credHelpers` at `helper` for a registry. For Docker Hub and regctl's own helper, also
/// under `docker.io`: docker looks up `https://index.docker.io/v1/`, but containers/image (skopeo,
/// podman) looks up the normalised domain `docker.io`, and regctl's helper answers both names.
fn set_cred_helper(
    config: &mut serde_json::Map<String, serde_json::Value>,
    path: &std::path::Path,
    key: &str,
    helper: &str,
) -> Result<(), DockerConfigError> {
    dc::set_cred_helper(config, path, key, helper)?;
    if key == names::DOCKER_HUB_KEY && helper == REGCTL_HELPER {
        dc::set_cred_helper(config, path, "docker.io", helper)?;
    }
    Ok(())
}

/// The registry key a config.json key belongs to (`docker.io` and Docker Hub's URL are one
/// registry, and so are `r.io` and `https://r.io/v1/`); a key regctl cannot parse stands alone.
fn registry_key(raw: &str) -> String {
    names::parse(raw)
        .map(|n| n.cred_key)
        .unwrap_or_else(|_| raw.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::memory::MemoryStore;
    use crate::creds::Credential;

    fn cred(secret: &str) -> Credential {
        Credential {
            server_url: "r.io".into(),
            username: "bob".into(),
            secret: secret.into(),
        }
    }

    #[test]
    fn check_mode_reports_changes_and_writes_nothing() {
        let mut store = MemoryStore::default();
        let check = Writes { check: true };
        assert!(check.store(&mut store, &cred("pw")).unwrap());
        assert_eq!(store.get("r.io").unwrap(), None);
        check.put(&mut store, &cred("pw")).unwrap();
        assert_eq!(store.get("r.io").unwrap(), None);

        let write = Writes { check: false };
        assert!(write.store(&mut store, &cred("pw")).unwrap());
        assert!(!write.store(&mut store, &cred("pw")).unwrap());
        assert!(check.store(&mut store, &cred("other")).unwrap());
        assert_eq!(store.get("r.io").unwrap(), Some(cred("pw")));

        assert!(check.erase(&mut store, "r.io").unwrap());
        assert!(store.get("r.io").unwrap().is_some());
        assert!(write.erase(&mut store, "r.io").unwrap());
        assert!(!write.erase(&mut store, "r.io").unwrap());
        assert!(!check.erase(&mut store, "r.io").unwrap());
    }

    #[test]
    fn docker_hub_gets_both_keys_only_for_regctls_helper() {
        let path = std::path::Path::new("/x/config.json");
        let mut config = serde_json::Map::new();
        set_cred_helper(&mut config, path, names::DOCKER_HUB_KEY, REGCTL_HELPER).unwrap();
        set_cred_helper(&mut config, path, "r.io", REGCTL_HELPER).unwrap();
        let helpers = &config["credHelpers"];
        assert_eq!(helpers[names::DOCKER_HUB_KEY], "regctl");
        assert_eq!(helpers["docker.io"], "regctl");
        assert_eq!(helpers.as_object().unwrap().len(), 3);

        let mut config = serde_json::Map::new();
        set_cred_helper(&mut config, path, names::DOCKER_HUB_KEY, "pass").unwrap();
        assert_eq!(config["credHelpers"].as_object().unwrap().len(), 1);
    }

    #[test]
    fn labels_name_stores_as_users_type_them() {
        assert_eq!(store_label(&StoreRef::File), "file");
        assert_eq!(store_label(&StoreRef::Helper("regctl".into())), "keychain");
        assert_eq!(
            store_label(&StoreRef::CredsStore("pass".into())),
            "helper:pass"
        );
        assert_eq!(registry_key("https://r.io/v1/"), "r.io");
    }
}
