//! Where registry credentials live, behind one small `Store` trait: plain text in config.json
//! (`file`), any `docker-credential-NAME` helper (`helper`), or the OS keychain (`keychain`: the
//! Secret Service over D-Bus on Linux, spoken by `secret_service` and `dbus`; the `keyring`
//! crate elsewhere). `open` picks the store for a registry by docker's order
//! (`credHelpers[KEY]` > `credsStore` > `auths`); `serve` speaks the helper protocol so that
//! docker, skopeo and podman can read what regctl keeps in the keychain, and `regctl_helper`
//! decides per registry what `docker-credential-regctl` answers from: ECR tokens minted from AWS
//! credentials (`ecr`) or the keychain.
//!
//! Nothing here prints or prompts.

use std::collections::BTreeMap;
use std::path::PathBuf;

use crate::files::docker_config::DockerConfigError;

#[cfg(target_os = "linux")]
pub mod dbus;
pub mod ecr;
pub mod exec;
pub mod file;
pub mod helper;
pub mod keychain;
pub mod memory;
pub mod ops;
pub mod regctl_helper;
#[cfg(target_os = "linux")]
pub mod secret_service;
pub mod serve;

/// The helper name under which regctl serves its keychain (`docker-credential-regctl`).
pub const REGCTL_HELPER: &str = "regctl";

/// docker-credential-helpers' not-found message; clients match it exactly.
pub const NOT_FOUND: &str = "credentials not found in native keychain";

/// The username docker uses when the secret is an identity token.
pub const IDENTITY_TOKEN_USER: &str = "<token>";

/// One registry's credentials. Debug never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Credential {
    /// The key it is stored under (`host[:port]` or Docker Hub's URL).
    pub server_url: String,
    pub username: String,
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("server_url", &self.server_url)
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl Credential {
    pub fn is_identity_token(&self) -> bool {
        self.username == IDENTITY_TOKEN_USER
    }

    /// What to log in with (an identity token goes the OAuth way).
    pub fn login_credentials(&self) -> crate::registry::token::Credentials {
        use crate::registry::token::Credentials;
        if self.is_identity_token() {
            Credentials::IdentityToken {
                token: self.secret.clone(),
            }
        } else {
            Credentials::Basic {
                username: self.username.clone(),
                password: self.secret.clone(),
            }
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CredsError {
    #[error(transparent)]
    Config(#[from] DockerConfigError),
    #[error("docker-credential-{helper} is not on PATH (needed for {server})")]
    HelperMissing { helper: String, server: String },
    #[error("docker-credential-{helper} {action} failed: {message}")]
    HelperFailed {
        helper: String,
        action: &'static str,
        message: String,
    },
    #[error("docker-credential-{helper} {action} printed something that is not the helper protocol: {output}")]
    HelperGarbage {
        helper: String,
        action: &'static str,
        output: String,
    },
    #[error("docker-credential-{helper} {action} did not finish within {secs} s")]
    HelperTimeout {
        helper: String,
        action: &'static str,
        secs: f64,
    },
    #[error("cannot run {path}: {source}")]
    HelperExec {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// No Secret Service (or native keychain) could be reached.
    #[error("the OS keychain is not available: {detail}")]
    KeychainUnavailable { detail: String },
    /// The keychain is there but locked (or refused access).
    #[error("the OS keychain is locked or refused access: {detail}")]
    KeychainLocked { detail: String },
    #[error("the OS keychain failed: {detail}")]
    Keychain { detail: String },
    #[error("the OS keychain did not answer within {secs} s")]
    KeychainTimeout { secs: u64 },
    #[error("the keychain item for {server} is not regctl's format")]
    KeychainGarbage { server: String },
    #[error("{what} is not valid for the credential helper protocol: {detail}")]
    Protocol { what: &'static str, detail: String },
    #[error("the credential store refused an empty username for {server}")]
    EmptyUsername { server: String },
    /// Minting or reading an ECR token failed (the real cause: no AWS credentials, AccessDenied,
    /// an expired session, the endpoint unreachable, ...).
    #[error(transparent)]
    Ecr(#[from] crate::creds::ecr::EcrError),
    /// A password offered for an ECR registry (docker login re-storing what it just read is
    /// accepted; anything else would never be served).
    #[error("{server} is an Amazon ECR registry: docker-credential-regctl mints its tokens from AWS credentials and does not store passwords for it")]
    EcrStoresNothing { server: String },
}

/// A credential store. Implementations are small: four operations keyed by server URL.
///
/// * `get` returns `Ok(None)` when nothing is stored (never an error for "not found").
/// * `store` replaces what is stored under `cred.server_url`.
/// * `erase` returns whether something was there; erasing nothing is not an error.
/// * `list` maps server URL to username (never the secret).
pub trait Store {
    /// How users name this store: `file`, `keychain`, `helper:NAME`.
    fn name(&self) -> String;
    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError>;
    fn store(&mut self, cred: &Credential) -> Result<(), CredsError>;
    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError>;
    fn list(&self) -> Result<BTreeMap<String, String>, CredsError>;
}

/// What the store docker would use for `key` holds (credHelpers[key] > credsStore > auths).
pub fn stored(
    config: &mut serde_json::Map<String, serde_json::Value>,
    config_path: &std::path::Path,
    key: &str,
    exec_path: &[PathBuf],
    keychain: &keychain::KeychainEnv,
) -> Result<Option<Credential>, CredsError> {
    stored_within(
        config,
        config_path,
        key,
        exec_path,
        keychain,
        helper::TIMEOUT,
    )
}

/// [`stored`], with a helper given at most `timeout` (doctor's own timeout).
pub fn stored_within(
    config: &mut serde_json::Map<String, serde_json::Value>,
    config_path: &std::path::Path,
    key: &str,
    exec_path: &[PathBuf],
    keychain: &keychain::KeychainEnv,
    timeout: std::time::Duration,
) -> Result<Option<Credential>, CredsError> {
    match crate::files::docker_config::store_for(config, key).helper() {
        Some(h) => open_helper_within(h, exec_path, keychain, timeout).get(key),
        None => file::FileStore::new(config, config_path).get(key),
    }
}

/// Opens a helper-backed store by helper name: `regctl` is the keychain in-process (the same
/// code `docker-credential-regctl` runs), anything else is `docker-credential-NAME` on `path`.
pub fn open_helper(
    name: &str,
    path: &[PathBuf],
    keychain: &keychain::KeychainEnv,
) -> Box<dyn Store> {
    open_helper_within(name, path, keychain, helper::TIMEOUT)
}

/// [`open_helper`] with each call to an external helper given at most `timeout`.
pub fn open_helper_within(
    name: &str,
    path: &[PathBuf],
    keychain: &keychain::KeychainEnv,
    timeout: std::time::Duration,
) -> Box<dyn Store> {
    if name == REGCTL_HELPER {
        Box::new(keychain::Keychain::new(keychain.clone()))
    } else {
        let mut h = helper::Helper::new(name, path);
        h.timeout = timeout;
        Box::new(h)
    }
}
