//! Amazon ECR logins without passwords: a registry name that is ECR gets a 12-hour token minted
//! from the user's AWS credentials (GetAuthorizationToken, SigV4-signed), cached until 15 minutes
//! before it ends, and never served once expired. Every failure says what failed (no
//! credentials and where regctl looked, AccessDenied, ExpiredToken, endpoint unreachable)
//! instead of amazon-ecr-credential-helper's "credentials not found".
//!
//! The flows `login`, `docker-credential-regctl get`, `creds list` and `logout` need are
//! [`login`], [`helper_get`], [`list`] and [`logout`]; the pieces ([`EcrHost`], [`resolve`],
//! [`get_token`], [`TokenCache`]) are public for finer use. Nothing here reads the process
//! environment ([`AwsEnv`] is filled by the caller), prints or prompts.

mod api;
mod cache;
mod error;
mod host;
mod ini;
mod metadata;
mod process;
mod profile;
mod settings;
mod sso;

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::files::atomic::{write_atomic, DirLock};

pub use api::{decode_token, http_client};
pub use cache::{is_fresh, CacheKey, TokenCache};
pub use error::EcrError;
pub use host::{partition_domain_of_region, EcrHost, Service, PUBLIC_HOST, PUBLIC_REGION};
pub use metadata::{ContainerAuth, ContainerSource, ImdsSource};
pub use profile::{
    resolve, AssumeRole, AwsCredentials, AwsEnv, AwsOptions, CredentialSource, Resolved,
    WebIdentity,
};
pub use settings::{HostSettings, SettingsStore};
pub use sso::{cache_file_name as sso_cache_file_name, SsoSource};

/// A cached token is replaced this long before it expires.
pub const REFRESH_BEFORE: Duration = Duration::from_secs(15 * 60);

/// Docker credentials for an ECR registry. The password never appears in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct EcrToken {
    /// Always `AWS` from AWS itself.
    pub username: String,
    pub password: String,
    pub expires_at: SystemTime,
    /// The registry URL AWS names in the answer (ecr only).
    pub proxy_endpoint: Option<String>,
}

impl fmt::Debug for EcrToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcrToken")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("expires_at", &rfc3339(self.expires_at))
            .field("proxy_endpoint", &self.proxy_endpoint)
            .finish()
    }
}

/// Where a served token came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenOrigin {
    /// From the cache, more than [`REFRESH_BEFORE`] from its end.
    Cached,
    /// Minted by AWS just now (and cached, unless a warning says otherwise).
    Fetched,
    /// Minting a new one failed (the error is in the warnings), but the cached one has not
    /// expired yet.
    CachedAfterRefreshFailed,
}

/// A token and how it was obtained. Warnings are failures that did not stop it being served:
/// a refresh that failed while the cached token still worked, a cache file that could not be
/// written.
#[derive(Debug)]
pub struct TokenOutcome {
    pub token: EcrToken,
    pub origin: TokenOrigin,
    pub warnings: Vec<EcrError>,
}

/// The keys to sign with: static ones as they are, a `credential_process` run, an STS
/// AssumeRole (itself signed with its source's keys) or AssumeRoleWithWebIdentity, an SSO
/// session's role, the container endpoint's or the EC2 instance's. `write`: a refreshed SSO
/// token goes back into the AWS CLI's cache, as the CLI does (not with `--check`).
pub fn credentials(
    source: &CredentialSource,
    resolved: &Resolved,
    client: &reqwest::blocking::Client,
    write: bool,
    now: SystemTime,
) -> Result<AwsCredentials, EcrError> {
    match source {
        CredentialSource::Static { keys, .. } => Ok(keys.clone()),
        CredentialSource::Process { profile, command } => process::run(profile, command, now),
        CredentialSource::AssumeRole(role) => {
            let source_keys = credentials(&role.source, resolved, client, write, now)?;
            api::assume_role(
                client,
                role,
                &resolved.region,
                resolved.host.api_domain(&resolved.region),
                &source_keys,
                now,
            )
        }
        CredentialSource::WebIdentity(role) => {
            let token = crate::files::bounded::read_file(
                &role.token_file,
                crate::files::bounded::limits::AWS_FILE,
            )
            .and_then(|b| {
                String::from_utf8(b).map_err(|_| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")
                })
            })
            .map_err(|e| EcrError::WebIdentityTokenFile {
                path: role.token_file.clone(),
                origin: role.token_origin.clone(),
                reason: e.to_string(),
            })?;
            let token = token.trim();
            if token.is_empty() {
                return Err(EcrError::WebIdentityTokenFile {
                    path: role.token_file.clone(),
                    origin: role.token_origin.clone(),
                    reason: "the file is empty".to_string(),
                });
            }
            api::assume_role_with_web_identity(
                client,
                role,
                token,
                &resolved.region,
                resolved.host.api_domain(&resolved.region),
                now,
            )
        }
        CredentialSource::Sso(sso) => sso.credentials(client, now, write),
        CredentialSource::Container(c) => c.credentials(now),
        CredentialSource::InstanceMetadata { imds, tried } => {
            imds.credentials(now)
                .map_err(|f| EcrError::NoInstanceCredentials {
                    endpoint: imds.endpoint.clone(),
                    tried: tried.clone(),
                    reason: f.reason,
                    hop_limit: f.hop_limit,
                })
        }
    }
}

/// Asks AWS for a new token at `now` (no cache).
pub fn fetch_token(resolved: &Resolved, now: SystemTime) -> Result<EcrToken, EcrError> {
    mint(resolved, true, now)
}

/// `write`: see [`credentials`].
fn mint(resolved: &Resolved, write: bool, now: SystemTime) -> Result<EcrToken, EcrError> {
    let client = http_client(&resolved.proxies)?;
    let keys = credentials(&resolved.source, resolved, &client, write, now)?;
    api::get_authorization_token(&client, resolved, &keys)
}

/// A token for the resolved registry: the cached one while it has more than
/// [`REFRESH_BEFORE`] left at `now`, else a new one from AWS (then cached). When AWS cannot be
/// asked, a cached token that has not expired yet is served with the failure as a warning; an
/// expired token is never served: the failure is returned.
pub fn get_token(
    resolved: &Resolved,
    cache: &TokenCache,
    now: SystemTime,
) -> Result<TokenOutcome, EcrError> {
    get_token_with(resolved, cache, now, || fetch_token(resolved, now))
}

fn get_token_with(
    resolved: &Resolved,
    cache: &TokenCache,
    now: SystemTime,
    fetch: impl FnOnce() -> Result<EcrToken, EcrError>,
) -> Result<TokenOutcome, EcrError> {
    let key = CacheKey::of(resolved);
    let cached = cache.load(&key);
    if let Some(token) = &cached {
        if is_fresh(token, now, REFRESH_BEFORE) {
            return Ok(TokenOutcome {
                token: token.clone(),
                origin: TokenOrigin::Cached,
                warnings: Vec::new(),
            });
        }
    }
    match fetch() {
        Ok(token) => {
            let warnings = cache
                .store(&key, &resolved.host.hostname, &token)
                .err()
                .into_iter()
                .collect();
            Ok(TokenOutcome {
                token,
                origin: TokenOrigin::Fetched,
                warnings,
            })
        }
        Err(e) => match cached {
            Some(token) if token.expires_at > now => Ok(TokenOutcome {
                token,
                origin: TokenOrigin::CachedAfterRefreshFailed,
                warnings: vec![e],
            }),
            _ => Err(e),
        },
    }
}

/// Where ECR state lives: tokens under the cache directory, login choices under the state
/// directory (`Paths::cache_dir` and `Paths::state_dir`).
#[derive(Debug, Clone)]
pub struct EcrDirs {
    pub cache_dir: PathBuf,
    pub state_dir: PathBuf,
}

impl EcrDirs {
    pub fn tokens(&self) -> TokenCache {
        TokenCache::new(&self.cache_dir)
    }

    pub fn settings(&self) -> SettingsStore {
        SettingsStore::new(&self.state_dir)
    }
}

/// What [`login`] did.
#[derive(Debug)]
pub struct Login {
    pub resolved: Resolved,
    pub outcome: TokenOutcome,
    /// The stored login choices changed (or, with `check`, would change).
    pub settings_changed: bool,
}

/// `regctl login HOST` for ECR: resolves credentials, region and endpoint, gets a token (from
/// the cache when fresh) and remembers the choices for [`helper_get`]. With `check`, nothing is
/// written (a token may still be minted, to prove the credentials work).
pub fn login(
    server: &str,
    settings: &HostSettings,
    env: &AwsEnv,
    dirs: &EcrDirs,
    now: SystemTime,
    check: bool,
) -> Result<Login, EcrError> {
    let host = settings.host(server)?;
    let resolved = resolve(&host, &settings.options(), env)?;
    let store = dirs.settings();
    let (outcome, settings_changed) = if check {
        let cache = dirs.tokens();
        let outcome = match cache.load(&CacheKey::of(&resolved)) {
            Some(token) if is_fresh(&token, now, REFRESH_BEFORE) => TokenOutcome {
                token,
                origin: TokenOrigin::Cached,
                warnings: Vec::new(),
            },
            _ => TokenOutcome {
                token: mint(&resolved, false, now)?,
                origin: TokenOrigin::Fetched,
                warnings: Vec::new(),
            },
        };
        let changed = store.load(&host.hostname)?.as_ref() != Some(settings);
        (outcome, changed)
    } else {
        let outcome = get_token(&resolved, &dirs.tokens(), now)?;
        (outcome, store.save(&host.hostname, settings)?)
    };
    Ok(Login {
        resolved,
        outcome,
        settings_changed,
    })
}

/// `docker-credential-regctl get SERVER`: a token when SERVER was logged in with ECR or is an
/// ECR name; `Ok(None)` when it is neither (another store answers).
pub fn helper_get(
    server: &str,
    env: &AwsEnv,
    dirs: &EcrDirs,
    now: SystemTime,
) -> Result<Option<TokenOutcome>, EcrError> {
    let hostname = EcrHost::forced(server).hostname;
    let settings = match dirs.settings().load(&hostname)? {
        Some(s) => s,
        None if EcrHost::is_ecr(server) => HostSettings::default(),
        None => return Ok(None),
    };
    let host = settings.host(server)?;
    let resolved = resolve(&host, &settings.options(), env)?;
    get_token(&resolved, &dirs.tokens(), now).map(Some)
}

/// One ECR login for `creds list`.
#[derive(Debug)]
pub struct Listed {
    pub host: String,
    pub settings: HostSettings,
    /// When the cached token ends; `None` when there is none.
    pub expires_at: Option<SystemTime>,
    /// Why the identity could not be worked out (then there is no expiry to show).
    pub problem: Option<EcrError>,
}

/// Every host logged in with ECR and its cached token's expiry. Reads files only.
pub fn list(env: &AwsEnv, dirs: &EcrDirs) -> Result<Vec<Listed>, EcrError> {
    let cache = dirs.tokens();
    Ok(dirs
        .settings()
        .list()?
        .into_iter()
        .map(|(host, settings)| {
            let resolved = settings
                .host(&host)
                .and_then(|h| resolve(&h, &settings.options(), env));
            let (expires_at, problem) = match resolved {
                Ok(r) => (cache.load(&CacheKey::of(&r)).map(|t| t.expires_at), None),
                Err(e) => (None, Some(e)),
            };
            Listed {
                host,
                settings,
                expires_at,
                problem,
            }
        })
        .collect())
}

/// `regctl logout HOST`: forgets the login choices and the cached token. `Ok(true)` when
/// something was removed.
pub fn logout(server: &str, env: &AwsEnv, dirs: &EcrDirs) -> Result<bool, EcrError> {
    let hostname = EcrHost::forced(server).hostname;
    let store = dirs.settings();
    let settings = store.load(&hostname)?;
    let mut removed = false;
    let known = settings
        .clone()
        .or_else(|| EcrHost::is_ecr(server).then(HostSettings::default));
    if let Some(s) = known {
        // An identity that no longer resolves has no token regctl can find; nothing to remove.
        if let Ok(resolved) = s.host(server).and_then(|h| resolve(&h, &s.options(), env)) {
            removed |= dirs.tokens().remove(&CacheKey::of(&resolved))?;
        }
    }
    if settings.is_some() {
        removed |= store.remove(&hostname)?;
    }
    Ok(removed)
}

/// amazon-ecr-credential-helper's name in config.json.
pub const ECR_LOGIN_HELPER: &str = "ecr-login";

/// `credsStore: "ecr-login"` (amazon-ecr-credential-helper #102, #474): docker then stores and
/// looks up the credentials of every registry through a helper that only knows ECR, so
/// `docker login` to any other registry fails. `Some(ECR hosts config.json names)` when set:
/// those are the hosts that should get `credHelpers` entries instead.
pub fn ecr_login_creds_store(
    config: &serde_json::Map<String, serde_json::Value>,
) -> Option<Vec<String>> {
    use crate::files::docker_config as dc;
    if dc::creds_store(config) != Some(ECR_LOGIN_HELPER) {
        return None;
    }
    let mut hosts: Vec<String> = config
        .get("auths")
        .and_then(serde_json::Value::as_object)
        .into_iter()
        .flat_map(|a| a.keys().cloned())
        .chain(dc::all_cred_helpers(config).into_iter().map(|(k, _)| k))
        .filter(|k| EcrHost::is_ecr(k))
        .map(|k| EcrHost::forced(&k).hostname)
        .collect();
    hosts.sort();
    hosts.dedup();
    Some(hosts)
}

/// What is wrong with `credsStore: "ecr-login"`, for doctor and `creds list`.
pub fn ecr_login_creds_store_problem(path: &Path) -> String {
    format!(
        "{} has \"credsStore\": \"ecr-login\": docker sends the logins of every registry to amazon-ecr-credential-helper, which only knows ECR, so docker login to any other registry fails",
        path.display()
    )
}

/// Writes one of regctl's private JSON files: 0600 in a 0700 directory, atomically, under the
/// directory's lock (parallel `docker pull`s may refresh the same token at once).
fn write_private_json(path: &Path, value: &impl serde::Serialize) -> Result<(), EcrError> {
    let write_err = |source| EcrError::WriteFile {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(write_err)?;
    let mut bytes = serde_json::to_vec_pretty(value).expect("regctl's own state serializes");
    bytes.push(b'\n');
    let _lock = DirLock::acquire(dir).map_err(write_err)?;
    write_atomic(path, &bytes, 0o600, None).map_err(write_err)
}

/// Removes a file; `Ok(false)` when there was none.
fn remove_if_present(path: PathBuf) -> Result<bool, EcrError> {
    match fs::remove_file(&path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(EcrError::WriteFile { path, source }),
    }
}

/// The last second of the year 9999: the latest expiry regctl accepts from outside (an AWS
/// answer, a cache file). Past it, times are not RFC 3339 and SystemTime arithmetic may overflow.
pub const LATEST_EPOCH_SECS: u64 = 253_402_300_799;

/// `secs` after the epoch, as a time; `None` for what is not one: negative, not finite, or
/// after the year 9999 (ECR's `expiresAt: 1e300` must be an error, not a panic).
pub fn epoch_time(secs: f64) -> Option<SystemTime> {
    if !(secs.is_finite() && (0.0..=LATEST_EPOCH_SECS as f64).contains(&secs)) {
        return None;
    }
    std::time::UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
}

/// Whole seconds after the epoch (a cache file's `expiresAt`), with the same bounds.
pub fn epoch_time_secs(secs: u64) -> Option<SystemTime> {
    (secs <= LATEST_EPOCH_SECS)
        .then(|| std::time::UNIX_EPOCH.checked_add(Duration::from_secs(secs)))
        .flatten()
}

/// `2026-01-02T03:04:05Z`, for messages and listings: whole seconds, rounded down as the token
/// cache keeps them, so a time reads the same fresh from AWS and from the cache.
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default();
    let dt = aws_smithy_types::DateTime::from_secs(i64::try_from(secs).unwrap_or(i64::MAX));
    dt.fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_else(|_| format!("{} s after the epoch", dt.secs()))
}

pub(crate) fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    aws_smithy_types::DateTime::from_str(
        text.trim(),
        aws_smithy_types::date_time::Format::DateTimeWithOffset,
    )
    .ok()
    .and_then(|d| SystemTime::try_from(d).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved() -> Resolved {
        Resolved {
            host: EcrHost::parse("123456789012.dkr.ecr.eu-west-1.amazonaws.com").unwrap(),
            region: "eu-west-1".into(),
            endpoint: "http://127.0.0.1:9".into(),
            proxies: Default::default(),
            source: CredentialSource::Static {
                keys: AwsCredentials {
                    access_key_id: "AKIDEXAMPLE".into(),
                    secret_access_key: "secret".into(),
                    session_token: None,
                    expiration: None,
                },
                origin: "test".into(),
            },
        }
    }

    fn token(password: &str, expires_at: SystemTime) -> EcrToken {
        EcrToken {
            username: "AWS".into(),
            password: password.into(),
            expires_at,
            proxy_endpoint: None,
        }
    }

    fn down() -> Result<EcrToken, EcrError> {
        Err(EcrError::Unreachable {
            service: "ecr",
            endpoint: "http://127.0.0.1:9".into(),
            reason: "connection refused".into(),
        })
    }

    /// A cache in a temp dir, the resolved test host and a fixed "now".
    fn fixture() -> (tempfile::TempDir, TokenCache, Resolved, SystemTime) {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::new(dir.path());
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        (dir, cache, resolved(), t0)
    }

    #[test]
    fn cache_serves_refreshes_and_never_serves_expired() {
        let (_dir, cache, r, t0) = fixture();
        let exp = t0 + Duration::from_secs(12 * 3600);

        let first = get_token_with(&r, &cache, t0, || Ok(token("one", exp))).unwrap();
        assert_eq!(first.origin, TokenOrigin::Fetched);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(cache.path(&CacheKey::of(&r)))
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);

        // Fresh: served without asking.
        let again = get_token_with(&r, &cache, t0 + Duration::from_secs(3600), || {
            panic!("a fresh token must not be refetched")
        })
        .unwrap();
        assert_eq!(
            (again.origin, again.token.password.as_str()),
            (TokenOrigin::Cached, "one")
        );

        // 10 minutes before the end: refetched.
        let near = exp - Duration::from_secs(600);
        let later = exp + Duration::from_secs(12 * 3600);
        let refreshed = get_token_with(&r, &cache, near, || Ok(token("two", later))).unwrap();
        assert_eq!(
            (refreshed.origin, refreshed.token.password.as_str()),
            (TokenOrigin::Fetched, "two")
        );

        // Near the end and AWS unreachable: the still-valid token, with the failure as warning.
        let near = later - Duration::from_secs(60);
        let fallback = get_token_with(&r, &cache, near, down).unwrap();
        assert_eq!(fallback.origin, TokenOrigin::CachedAfterRefreshFailed);
        assert!(matches!(
            fallback.warnings[..],
            [EcrError::Unreachable { .. }]
        ));

        // Expired and AWS unreachable: the failure, never the expired token.
        let err = get_token_with(&r, &cache, later + Duration::from_secs(1), down).unwrap_err();
        assert!(matches!(err, EcrError::Unreachable { .. }));
    }

    #[test]
    fn a_cache_entry_with_an_impossible_expiry_is_unusable_not_a_panic() {
        let (_dir, cache, r, t0) = fixture();
        let exp = t0 + Duration::from_secs(3600);
        get_token_with(&r, &cache, t0, || Ok(token("one", exp))).unwrap();
        let path = cache.path(&CacheKey::of(&r));
        let text = std::fs::read_to_string(&path).unwrap();
        let stamp = format!(
            "{}",
            exp.duration_since(SystemTime::UNIX_EPOCH)
                .unwrap()
                .as_secs()
        );
        assert!(text.contains(&stamp), "{text}");
        std::fs::write(&path, text.replace(&stamp, &u64::MAX.to_string())).unwrap();
        assert!(cache.load(&CacheKey::of(&r)).is_none());
        // Fetched anew instead.
        let again = get_token_with(&r, &cache, t0, || Ok(token("two", exp))).unwrap();
        assert_eq!(again.origin, TokenOrigin::Fetched);
        // And a "now" at the end of time is not a panic in the freshness check.
        let end = SystemTime::UNIX_EPOCH + Duration::from_secs(i64::MAX as u64 - 10);
        assert!(!cache::is_fresh(&again.token, end, REFRESH_BEFORE));
    }

    #[test]
    fn epoch_times_are_checked() {
        assert_eq!(epoch_time(0.0), Some(SystemTime::UNIX_EPOCH));
        for bad in [
            f64::NAN,
            f64::INFINITY,
            -1.0,
            1e19,
            1e300,
            LATEST_EPOCH_SECS as f64 + 1.0,
        ] {
            assert_eq!(epoch_time(bad), None, "{bad}");
        }
        assert_eq!(epoch_time_secs(u64::MAX), None);
        assert!(epoch_time_secs(LATEST_EPOCH_SECS).is_some());
        assert_eq!(
            rfc3339(SystemTime::UNIX_EPOCH + Duration::from_secs(LATEST_EPOCH_SECS)),
            "9999-12-31T23:59:59Z"
        );
    }

    #[test]
    fn cache_entries_belong_to_one_identity() {
        let (_dir, cache, r, t0) = fixture();
        let exp = t0 + Duration::from_secs(3600);
        get_token_with(&r, &cache, t0, || Ok(token("one", exp))).unwrap();
        let text = std::fs::read_to_string(cache.path(&CacheKey::of(&r))).unwrap();
        assert!(
            !text.contains("AKIDEXAMPLE") && !text.contains("\"secret\""),
            "{text}"
        );

        let mut other = resolved();
        other.source = CredentialSource::Static {
            keys: AwsCredentials {
                access_key_id: "AKIDOTHER".into(),
                secret_access_key: "s".into(),
                session_token: None,
                expiration: None,
            },
            origin: "test".into(),
        };
        assert!(cache.load(&CacheKey::of(&other)).is_none());
    }

    #[test]
    fn times_round_trip() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_600);
        assert_eq!(rfc3339(t), "2026-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(t + Duration::from_millis(999)),
            "2026-01-01T00:00:00Z"
        );
        assert_eq!(parse_rfc3339("2026-01-01T00:00:00Z"), Some(t));
        assert_eq!(parse_rfc3339("2026-01-01T01:00:00+01:00"), Some(t));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
