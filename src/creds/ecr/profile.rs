//! Where AWS credentials, region and endpoint come from, in the order the AWS CLI looks:
//! environment variables, then the profile in `~/.aws/credentials` and `~/.aws/config`
//! (static keys, `credential_process`, `role_arn` + `source_profile`).
//!
//! Nothing here reads the process environment: callers fill an [`AwsEnv`] (from the real
//! environment in `main`, from a map in tests). Resolving reads only files; running a
//! `credential_process` or calling STS happens later, and only when a token must be minted.

use std::fmt;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::host::{EcrHost, Service};
use super::ini::{IniFile, Section};
use super::EcrError;

/// The AWS environment variables regctl honours, read once by the caller. The secret key and
/// session token never appear in `Debug` output (a `Context` holding this may be logged).
#[derive(Clone, Default)]
pub struct AwsEnv {
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// `AWS_PROFILE` (or the older `AWS_DEFAULT_PROFILE`).
    pub profile: Option<String>,
    pub region: Option<String>,
    pub default_region: Option<String>,
    pub shared_credentials_file: Option<PathBuf>,
    pub config_file: Option<PathBuf>,
    pub endpoint_url: Option<String>,
    pub endpoint_url_ecr: Option<String>,
    pub endpoint_url_ecr_public: Option<String>,
    pub endpoint_url_sts: Option<String>,
    pub home: Option<PathBuf>,
}

impl fmt::Debug for AwsEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |v: &Option<String>| v.as_ref().map(|_| "<redacted>");
        f.debug_struct("AwsEnv")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &hidden(&self.secret_access_key))
            .field("session_token", &hidden(&self.session_token))
            .field("profile", &self.profile)
            .field("region", &self.region)
            .field("default_region", &self.default_region)
            .field("shared_credentials_file", &self.shared_credentials_file)
            .field("config_file", &self.config_file)
            .field("endpoint_url", &self.endpoint_url)
            .field("endpoint_url_ecr", &self.endpoint_url_ecr)
            .field("endpoint_url_ecr_public", &self.endpoint_url_ecr_public)
            .field("endpoint_url_sts", &self.endpoint_url_sts)
            .field("home", &self.home)
            .finish()
    }
}

impl AwsEnv {
    /// Fills the struct through a lookup such as `|k| std::env::var(k).ok()`; empty values
    /// count as unset, as in the AWS CLI.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> AwsEnv {
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        AwsEnv {
            access_key_id: var("AWS_ACCESS_KEY_ID"),
            secret_access_key: var("AWS_SECRET_ACCESS_KEY"),
            session_token: var("AWS_SESSION_TOKEN"),
            profile: var("AWS_PROFILE").or_else(|| var("AWS_DEFAULT_PROFILE")),
            region: var("AWS_REGION"),
            default_region: var("AWS_DEFAULT_REGION"),
            shared_credentials_file: var("AWS_SHARED_CREDENTIALS_FILE").map(PathBuf::from),
            config_file: var("AWS_CONFIG_FILE").map(PathBuf::from),
            endpoint_url: var("AWS_ENDPOINT_URL"),
            endpoint_url_ecr: var("AWS_ENDPOINT_URL_ECR"),
            endpoint_url_ecr_public: var("AWS_ENDPOINT_URL_ECR_PUBLIC"),
            endpoint_url_sts: var("AWS_ENDPOINT_URL_STS"),
            home: var("HOME").map(PathBuf::from),
        }
    }

    fn expand(&self, path: &Path) -> PathBuf {
        match (path.strip_prefix("~"), &self.home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => path.to_path_buf(),
        }
    }

    fn aws_dir_file(&self, name: &str) -> PathBuf {
        self.home
            .clone()
            .unwrap_or_else(|| PathBuf::from("/"))
            .join(".aws")
            .join(name)
    }

    pub fn credentials_path(&self) -> PathBuf {
        match &self.shared_credentials_file {
            Some(p) => self.expand(p),
            None => self.aws_dir_file("credentials"),
        }
    }

    pub fn config_path(&self) -> PathBuf {
        match &self.config_file {
            Some(p) => self.expand(p),
            None => self.aws_dir_file("config"),
        }
    }
}

/// What the user chose on the command line (`--profile`, `--region`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// A set of AWS keys. The secret and session token never appear in `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct AwsCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: Option<String>,
    /// When temporary credentials stop working.
    pub expiration: Option<std::time::SystemTime>,
}

impl fmt::Debug for AwsCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AwsCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"<redacted>")
            .field(
                "session_token",
                &self.session_token.as_ref().map(|_| "<redacted>"),
            )
            .field("expiration", &self.expiration)
            .finish()
    }
}

/// `role_arn` of a profile: credentials from STS AssumeRole, signed with the source's.
#[derive(Debug, Clone)]
pub struct AssumeRole {
    pub profile: String,
    pub role_arn: String,
    pub session_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_seconds: Option<u32>,
    /// STS endpoint from `AWS_ENDPOINT_URL_STS` / `AWS_ENDPOINT_URL` / the profile's `endpoint_url`.
    pub endpoint: Option<String>,
    pub source: CredentialSource,
}

/// Where the keys for signing come from. Resolving it reads files only; [`super::credentials`]
/// produces the keys (running a process or calling STS when needed).
#[derive(Debug, Clone)]
pub enum CredentialSource {
    /// Keys from environment variables or a profile's `aws_access_key_id`.
    Static {
        keys: AwsCredentials,
        origin: String,
    },
    /// A profile's `credential_process`, run through `sh -c`.
    Process {
        profile: String,
        command: String,
    },
    AssumeRole(Box<AssumeRole>),
}

impl CredentialSource {
    /// Who signs, for messages.
    pub fn describe(&self) -> String {
        match self {
            CredentialSource::Static { origin, .. } => origin.clone(),
            CredentialSource::Process { profile, .. } => {
                format!("credential_process of profile {profile:?}")
            }
            CredentialSource::AssumeRole(r) => {
                format!("role {} (profile {:?})", r.role_arn, r.profile)
            }
        }
    }

    /// A SHA-256 (hex) that names this identity in the token cache without revealing a secret:
    /// of the access key id for static keys, of the command for `credential_process` and of the
    /// role and its source for roles, so that a cached token is found without running anything.
    pub fn identity_hash(&self) -> String {
        let mut hasher = Sha256::new();
        self.feed_identity(&mut hasher);
        format!("{:x}", hasher.finalize())
    }

    fn feed_identity(&self, hasher: &mut Sha256) {
        match self {
            CredentialSource::Static { keys, .. } => hasher.update(keys.access_key_id.as_bytes()),
            CredentialSource::Process { command, .. } => {
                hasher.update(b"credential_process\0");
                hasher.update(command.as_bytes());
            }
            CredentialSource::AssumeRole(r) => {
                hasher.update(b"assume_role\0");
                hasher.update(r.role_arn.as_bytes());
                hasher.update(b"\0");
                r.source.feed_identity(hasher);
            }
        }
    }
}

/// Everything needed to ask for a token: resolved once, used for the cache key and the call.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub host: EcrHost,
    pub region: String,
    /// The GetAuthorizationToken endpoint (an override or the partition's default).
    pub endpoint: String,
    pub source: CredentialSource,
}

impl Resolved {
    pub fn service(&self) -> Service {
        self.host.service()
    }
}

/// The two AWS files, parsed (either may be missing).
struct AwsFiles {
    credentials_path: PathBuf,
    config_path: PathBuf,
    credentials: Option<IniFile>,
    config: Option<IniFile>,
}

/// A profile's sections in both files; credentials-file values win, as in the AWS CLI.
struct Profile<'a> {
    name: String,
    in_credentials: Vec<&'a Section>,
    in_config: Vec<&'a Section>,
    files: &'a AwsFiles,
}

/// A setting and where it was found.
struct Found<'a> {
    value: &'a str,
    path: &'a Path,
    line: usize,
}

impl AwsFiles {
    fn load(env: &AwsEnv) -> Result<AwsFiles, EcrError> {
        let credentials_path = env.credentials_path();
        let config_path = env.config_path();
        Ok(AwsFiles {
            credentials: IniFile::load(&credentials_path)?,
            config: IniFile::load(&config_path)?,
            credentials_path,
            config_path,
        })
    }

    fn profile(&self, name: &str) -> Profile<'_> {
        let in_credentials = self
            .credentials
            .iter()
            .flat_map(|f| f.sections.iter().filter(|s| s.name == name))
            .collect();
        let prefixed = format!("profile {name}");
        let in_config = self
            .config
            .iter()
            .flat_map(|f| {
                f.sections
                    .iter()
                    .filter(|s| s.name == prefixed || (name == "default" && s.name == "default"))
            })
            .collect();
        Profile {
            name: name.to_string(),
            in_credentials,
            in_config,
            files: self,
        }
    }

    fn paths(&self) -> Vec<PathBuf> {
        vec![self.credentials_path.clone(), self.config_path.clone()]
    }

    /// "profile "x" in FILE (why nothing was there)" for the no-credentials message.
    fn tried(&self, profile: &Profile) -> Vec<String> {
        let describe = |path: &Path, file: &Option<IniFile>, sections: &[&Section]| {
            let why = if file.is_none() {
                "file does not exist"
            } else if sections.is_empty() {
                "no such profile"
            } else {
                "no credentials in it"
            };
            format!("profile {:?} in {} ({why})", profile.name, path.display())
        };
        vec![
            describe(
                &self.credentials_path,
                &self.credentials,
                &profile.in_credentials,
            ),
            describe(&self.config_path, &self.config, &profile.in_config),
        ]
    }
}

impl<'a> Profile<'a> {
    fn exists(&self) -> bool {
        !self.in_credentials.is_empty() || !self.in_config.is_empty()
    }

    fn find_in(&self, sections: &[&'a Section], path: &'a Path, key: &str) -> Option<Found<'a>> {
        sections.iter().rev().find_map(|s| {
            s.get(key).map(|e| Found {
                value: &e.value,
                path,
                line: e.line,
            })
        })
    }

    fn credentials_file_value(&self, key: &str) -> Option<Found<'a>> {
        self.find_in(&self.in_credentials, &self.files.credentials_path, key)
    }

    fn config_file_value(&self, key: &str) -> Option<Found<'a>> {
        self.find_in(&self.in_config, &self.files.config_path, key)
    }

    fn get(&self, key: &str) -> Option<Found<'a>> {
        self.credentials_file_value(key)
            .or_else(|| self.config_file_value(key))
    }
}

const ENV_KEYS: &str = "environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY";

/// Environment keys when both are set; an error when only one is.
fn env_keys(env: &AwsEnv) -> Result<Option<CredentialSource>, EcrError> {
    match (&env.access_key_id, &env.secret_access_key) {
        (Some(id), Some(secret)) => Ok(Some(CredentialSource::Static {
            keys: AwsCredentials {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
                session_token: env.session_token.clone(),
                expiration: None,
            },
            origin: "environment variables".to_string(),
        })),
        (Some(_), None) => Err(EcrError::PartialEnvCredentials {
            present: "AWS_ACCESS_KEY_ID",
            missing: "AWS_SECRET_ACCESS_KEY",
        }),
        (None, Some(_)) => Err(EcrError::PartialEnvCredentials {
            present: "AWS_SECRET_ACCESS_KEY",
            missing: "AWS_ACCESS_KEY_ID",
        }),
        (None, None) => Ok(None),
    }
}

/// Static keys found through `get` (one file, or both); an error when only half is there.
fn keys_in<'a>(
    profile: &Profile<'a>,
    get: impl Fn(&str) -> Option<Found<'a>>,
) -> Result<Option<CredentialSource>, EcrError> {
    let incomplete = |f: Found, present, missing| EcrError::IncompleteProfile {
        profile: profile.name.clone(),
        path: f.path.to_path_buf(),
        line: f.line,
        present,
        missing,
    };
    match (get("aws_access_key_id"), get("aws_secret_access_key")) {
        (Some(id), Some(secret)) => Ok(Some(CredentialSource::Static {
            keys: AwsCredentials {
                access_key_id: id.value.to_string(),
                secret_access_key: secret.value.to_string(),
                session_token: get("aws_session_token").map(|t| t.value.to_string()),
                expiration: None,
            },
            origin: format!("profile {:?} in {}", profile.name, id.path.display()),
        })),
        (Some(id), None) => Err(incomplete(id, "aws_access_key_id", "aws_secret_access_key")),
        (None, Some(secret)) => Err(incomplete(
            secret,
            "aws_secret_access_key",
            "aws_access_key_id",
        )),
        (None, None) => Ok(None),
    }
}

/// Credentials of one profile, following `source_profile` (role chaining included).
fn profile_source(
    files: &AwsFiles,
    env: &AwsEnv,
    name: &str,
    chain: &mut Vec<String>,
) -> Result<Option<CredentialSource>, EcrError> {
    let profile = files.profile(name);
    if !profile.exists() {
        return Err(EcrError::ProfileNotFound {
            profile: name.to_string(),
            files: files.paths(),
        });
    }
    let unsupported = |found: &Found, setting: &'static str| EcrError::Unsupported {
        profile: name.to_string(),
        path: found.path.to_path_buf(),
        setting,
    };
    if let Some(role_arn) = profile.get("role_arn") {
        if let Some(f) = profile.get("mfa_serial") {
            return Err(unsupported(
                &f,
                "mfa_serial (regctl never prompts for a code)",
            ));
        }
        if let Some(f) = profile.get("web_identity_token_file") {
            return Err(unsupported(&f, "web_identity_token_file"));
        }
        chain.push(name.to_string());
        let source = if let Some(src) = profile.get("source_profile") {
            if src.value == name {
                // A profile may name itself: its own static keys sign the AssumeRole call.
                keys_in(&profile, |k| profile.get(k))?
            } else if chain.iter().any(|p| p == src.value) {
                let mut loop_chain = chain.clone();
                loop_chain.push(src.value.to_string());
                return Err(EcrError::ProfileLoop { chain: loop_chain });
            } else {
                profile_source(files, env, src.value, chain)?
            }
            .ok_or_else(|| EcrError::NoCredentials {
                tried: files.tried(&files.profile(src.value)),
            })?
        } else if let Some(cs) = profile.get("credential_source") {
            if cs.value != "Environment" {
                return Err(unsupported(
                    &cs,
                    "credential_source other than Environment (instance or container metadata)",
                ));
            }
            env_keys(env)?.ok_or_else(|| EcrError::NoCredentials {
                tried: vec![format!("{ENV_KEYS} (credential_source = Environment)")],
            })?
        } else {
            return Err(EcrError::MalformedFile {
                path: role_arn.path.to_path_buf(),
                line: role_arn.line,
                reason: format!(
                    "profile {name:?} has role_arn but neither source_profile nor credential_source"
                ),
            });
        };
        let duration_seconds = match profile.get("duration_seconds") {
            Some(d) => Some(d.value.parse().map_err(|_| EcrError::MalformedFile {
                path: d.path.to_path_buf(),
                line: d.line,
                reason: format!(
                    "duration_seconds must be a number of seconds, not {:?}",
                    d.value
                ),
            })?),
            None => None,
        };
        return Ok(Some(CredentialSource::AssumeRole(Box::new(AssumeRole {
            profile: name.to_string(),
            role_arn: role_arn.value.to_string(),
            session_name: profile
                .get("role_session_name")
                .map(|f| f.value.to_string()),
            external_id: profile.get("external_id").map(|f| f.value.to_string()),
            duration_seconds,
            endpoint: env
                .endpoint_url_sts
                .clone()
                .or_else(|| env.endpoint_url.clone())
                .or_else(|| profile.get("endpoint_url").map(|f| f.value.to_string())),
            source,
        }))));
    }
    for setting in ["sso_session", "sso_start_url"] {
        if let Some(f) = profile.get(setting) {
            return Err(unsupported(&f, "AWS IAM Identity Center (SSO)"));
        }
    }
    // The AWS CLI's order: keys in the credentials file, credential_process, keys in config.
    if let Some(source) = keys_in(&profile, |k| profile.credentials_file_value(k))? {
        return Ok(Some(source));
    }
    if let Some(p) = profile.get("credential_process") {
        return Ok(Some(CredentialSource::Process {
            profile: name.to_string(),
            command: p.value.to_string(),
        }));
    }
    keys_in(&profile, |k| profile.config_file_value(k))
}

/// Picks credentials, region and endpoint for a host: `--profile` beats environment keys
/// (as in the AWS CLI), environment keys beat `AWS_PROFILE` and the default profile.
pub fn resolve(host: &EcrHost, opts: &AwsOptions, env: &AwsEnv) -> Result<Resolved, EcrError> {
    let files = AwsFiles::load(env)?;
    let explicit = opts.profile.clone().or_else(|| env.profile.clone());
    let profile_name = explicit.clone().unwrap_or_else(|| "default".to_string());

    let from_env = if opts.profile.is_none() {
        env_keys(env)?
    } else {
        None
    };
    let source = match from_env {
        Some(s) => s,
        None => {
            let found = match profile_source(&files, env, &profile_name, &mut Vec::new()) {
                // No default profile is no error by itself; a missing source_profile is.
                Err(EcrError::ProfileNotFound { profile, .. })
                    if explicit.is_none() && profile == profile_name =>
                {
                    None
                }
                other => other?,
            };
            found.ok_or_else(|| {
                let mut tried = Vec::new();
                if opts.profile.is_none() {
                    tried.push(format!("{ENV_KEYS} (not set)"));
                }
                tried.extend(files.tried(&files.profile(&profile_name)));
                EcrError::NoCredentials { tried }
            })?
        }
    };

    let profile = files.profile(&profile_name);
    let region = opts
        .region
        .clone()
        .or_else(|| host.region.clone())
        .or_else(|| env.region.clone())
        .or_else(|| env.default_region.clone())
        .or_else(|| profile.get("region").map(|f| f.value.to_string()))
        .ok_or_else(|| EcrError::NoRegion {
            host: host.hostname.clone(),
            tried: vec![
                "--region".to_string(),
                "the registry name".to_string(),
                "AWS_REGION".to_string(),
                "AWS_DEFAULT_REGION".to_string(),
                format!(
                    "region of profile {profile_name:?} in {}",
                    files.config_path.display()
                ),
            ],
        })?;

    let service_override = match host.service() {
        Service::Ecr => env.endpoint_url_ecr.clone(),
        Service::EcrPublic => env.endpoint_url_ecr_public.clone(),
    };
    let endpoint = service_override
        .or_else(|| env.endpoint_url.clone())
        .or_else(|| profile.get("endpoint_url").map(|f| f.value.to_string()))
        .unwrap_or_else(|| host.default_endpoint(&region));

    Ok(Resolved {
        host: host.clone(),
        region,
        endpoint,
        source,
    })
}
