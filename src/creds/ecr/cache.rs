//! ECR tokens kept between runs, so that `docker-credential-regctl get` answers from a file in
//! well under a millisecond and calls AWS only when a token nears its end. One 0600 file per
//! region, account and identity (a SHA-256 of the access key id, never a secret), written
//! atomically; an unreadable or foreign file is a cache miss, never an error.

use crate::files::bounded;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::profile::Resolved;
use super::{remove_if_present, write_private_json, EcrError, EcrToken};

const FORMAT_VERSION: u32 = 1;

/// Which token a file holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheKey {
    pub region: String,
    /// The registry id, `public` for ECR Public, `default` when the name has none.
    pub account: String,
    /// [`super::CredentialSource::identity_hash`].
    pub identity: String,
}

impl CacheKey {
    pub fn of(resolved: &Resolved) -> CacheKey {
        let account = match (&resolved.host.account, resolved.host.public) {
            (_, true) => "public".to_string(),
            (Some(a), false) => a.clone(),
            (None, false) => "default".to_string(),
        };
        CacheKey {
            region: resolved.region.clone(),
            account,
            identity: resolved.source.identity_hash(),
        }
    }

    fn file_name(&self) -> String {
        let safe = |s: &str| -> String {
            s.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        };
        format!(
            "{}_{}_{}.json",
            safe(&self.region),
            safe(&self.account),
            &self.identity[..self.identity.len().min(16)]
        )
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct CacheFile {
    version: u32,
    region: String,
    account: String,
    identity: String,
    /// The registry the token was minted for (for listings).
    host: String,
    #[serde(rename = "proxyEndpoint", skip_serializing_if = "Option::is_none")]
    proxy_endpoint: Option<String>,
    /// Epoch seconds.
    #[serde(rename = "expiresAt")]
    expires_at: u64,
    username: String,
    password: String,
}

/// The token directory, `<cache dir>/ecr`.
#[derive(Debug, Clone)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// `cache_dir` is regctl's cache directory (`Paths::cache_dir`).
    pub fn new(cache_dir: &Path) -> TokenCache {
        TokenCache {
            dir: cache_dir.join("ecr"),
        }
    }

    pub fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// The cached token for this key, whatever its expiry; `None` when absent or unusable.
    pub fn load(&self, key: &CacheKey) -> Option<EcrToken> {
        let bytes = bounded::read_file(&self.path(key), bounded::limits::AWS_FILE).ok()?;
        let file: CacheFile = serde_json::from_slice(&bytes).ok()?;
        let same = file.version == FORMAT_VERSION
            && file.region == key.region
            && file.account == key.account
            && file.identity == key.identity;
        // A time past the year 9999 makes the entry unusable (fetched anew), never a panic.
        let expires_at = super::epoch_time_secs(file.expires_at)?;
        same.then_some(EcrToken {
            username: file.username,
            password: file.password,
            expires_at,
            proxy_endpoint: file.proxy_endpoint,
        })
    }

    /// Saves a token (0600 in a 0700 directory, atomically).
    pub fn store(&self, key: &CacheKey, host: &str, token: &EcrToken) -> Result<(), EcrError> {
        let file = CacheFile {
            version: FORMAT_VERSION,
            region: key.region.clone(),
            account: key.account.clone(),
            identity: key.identity.clone(),
            host: host.to_string(),
            proxy_endpoint: token.proxy_endpoint.clone(),
            // Rounded down: a token is never thought to live longer than it does.
            expires_at: token
                .expires_at
                .duration_since(UNIX_EPOCH)
                .unwrap_or_default()
                .as_secs(),
            username: token.username.clone(),
            password: token.password.clone(),
        };
        write_private_json(&self.path(key), &file)
    }

    /// Forgets a token; `Ok(false)` when there was none.
    pub fn remove(&self, key: &CacheKey) -> Result<bool, EcrError> {
        remove_if_present(self.path(key))
    }
}

/// Whether a token is still worth serving at `now` without asking AWS for a new one.
pub fn is_fresh(token: &EcrToken, now: SystemTime, refresh_before: Duration) -> bool {
    // Checked: `now` comes from the caller and may be anything.
    now.checked_add(refresh_before)
        .is_some_and(|deadline| token.expires_at > deadline)
}
