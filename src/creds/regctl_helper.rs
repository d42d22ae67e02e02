//! What `docker-credential-regctl` answers from, registry by registry: an Amazon ECR registry
//! (an ECR name, or one `regctl login --ecr` saved choices for) gets a token minted from AWS
//! credentials and cached (`ecr::helper_get`: refreshed within 15 minutes of its end, never
//! served expired); every other registry is read from the OS keychain.
//!
//! Nothing here prints: warnings about a served token (a refresh that failed while the cached
//! token still works, a cache that could not be written) are kept for the caller to show.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;
use std::time::SystemTime;

use super::ecr::{self, AwsEnv, CacheKey, EcrDirs, EcrError, EcrHost, EcrToken};
use super::keychain::{Keychain, KeychainEnv};
use super::serve::Backends;
use super::{Credential, CredsError, Store};

/// ECR tokens behind the `Store` trait. Clones share their warnings.
#[derive(Clone)]
pub struct EcrStore {
    env: AwsEnv,
    dirs: EcrDirs,
    now: SystemTime,
    warnings: Rc<RefCell<Vec<EcrError>>>,
}

impl EcrStore {
    /// `now` decides freshness (injected, so tests and callers control time).
    pub fn new(env: AwsEnv, dirs: EcrDirs, now: SystemTime) -> EcrStore {
        EcrStore {
            env,
            dirs,
            now,
            warnings: Rc::default(),
        }
    }

    /// Whether ECR answers for this server: its name is ECR, or `regctl login` saved choices for
    /// it. A saved-choices file that cannot be read counts too, so that `get` reports why.
    pub fn serves(&self, server: &str) -> bool {
        EcrHost::is_ecr(server)
            || !matches!(
                self.dirs.settings().load(&EcrHost::forced(server).hostname),
                Ok(None)
            )
    }

    /// Whether a logout would remove something: saved login choices or a cached token.
    pub fn logged_in(&self, server: &str) -> Result<bool, EcrError> {
        let saved = self
            .dirs
            .settings()
            .load(&EcrHost::forced(server).hostname)?;
        Ok(saved.is_some() || self.cached(server).is_some())
    }

    /// When the cached token for a server ends, if there is one (AWS is not asked).
    pub fn cached_expiry(&self, server: &str) -> Option<SystemTime> {
        self.cached(server).map(|t| t.expires_at)
    }

    /// The warnings gathered so far (each is returned once).
    pub fn take_warnings(&self) -> Vec<EcrError> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// The cached token for a server, without asking AWS.
    fn cached(&self, server: &str) -> Option<EcrToken> {
        let settings = self
            .dirs
            .settings()
            .load(&EcrHost::forced(server).hostname)
            .ok()?
            .unwrap_or_default();
        let resolved = ecr::resolve(&settings.host(server).ok()?, &settings.options(), &self.env);
        self.dirs.tokens().load(&CacheKey::of(&resolved.ok()?))
    }
}

impl Store for EcrStore {
    fn name(&self) -> String {
        "ecr".into()
    }

    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError> {
        let Some(outcome) = ecr::helper_get(server_url, &self.env, &self.dirs, self.now)? else {
            return Ok(None);
        };
        self.warnings.borrow_mut().extend(outcome.warnings);
        Ok(Some(Credential {
            server_url: server_url.to_string(),
            username: outcome.token.username,
            secret: outcome.token.password,
        }))
    }

    /// `docker login HOST` stores back what it has just read from `get`: that is accepted (there
    /// is nothing to do). Any other password is refused, since `get` would never serve it.
    fn store(&mut self, cred: &Credential) -> Result<(), CredsError> {
        match self.cached(&cred.server_url) {
            Some(t)
                if t.username == cred.username
                    && t.password == cred.secret
                    && t.expires_at > self.now =>
            {
                Ok(())
            }
            _ => Err(CredsError::EcrStoresNothing {
                server: EcrHost::forced(&cred.server_url).hostname,
            }),
        }
    }

    /// `docker logout HOST`: forgets the cached token and the saved login choices.
    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError> {
        Ok(ecr::logout(server_url, &self.env, &self.dirs)?)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, CredsError> {
        Ok(ecr::list(&self.env, &self.dirs)?
            .into_iter()
            .map(|l| (l.host, "AWS".to_string()))
            .collect())
    }
}

/// The backends of `docker-credential-regctl`: ECR for ECR registries, the keychain for the rest.
pub struct RegctlHelper {
    pub ecr: EcrStore,
    pub keychain: KeychainEnv,
}

impl RegctlHelper {
    pub fn new(env: AwsEnv, dirs: EcrDirs, now: SystemTime, keychain: KeychainEnv) -> RegctlHelper {
        RegctlHelper {
            ecr: EcrStore::new(env, dirs, now),
            keychain,
        }
    }
}

impl Backends for RegctlHelper {
    fn for_server(&self, server_url: &str) -> Box<dyn Store> {
        if self.ecr.serves(server_url) {
            Box::new(self.ecr.clone())
        } else {
            Box::new(Keychain::new(self.keychain.clone()))
        }
    }

    fn all(&self) -> Vec<Box<dyn Store>> {
        vec![
            Box::new(self.ecr.clone()),
            Box::new(Keychain::new(self.keychain.clone())),
        ]
    }
}
