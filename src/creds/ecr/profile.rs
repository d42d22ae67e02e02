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
use super::metadata::{ContainerSource, ImdsSource};
use super::sso::SsoSource;
use super::EcrError;
use crate::files::proxies::ProxyEnv;

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
    pub endpoint_url_sso: Option<String>,
    pub endpoint_url_sso_oidc: Option<String>,
    /// `AWS_WEB_IDENTITY_TOKEN_FILE`, `AWS_ROLE_ARN`, `AWS_ROLE_SESSION_NAME` (IRSA).
    pub web_identity_token_file: Option<PathBuf>,
    pub role_arn: Option<String>,
    pub role_session_name: Option<String>,
    /// `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (ECS) and `..._FULL_URI` (EKS Pod Identity).
    pub container_relative_uri: Option<String>,
    pub container_full_uri: Option<String>,
    pub container_authorization_token: Option<String>,
    pub container_authorization_token_file: Option<PathBuf>,
    /// `AWS_EC2_METADATA_DISABLED=true`.
    pub ec2_metadata_disabled: bool,
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT` (and `..._MODE=IPv6`).
    pub ec2_metadata_endpoint: Option<String>,
    pub ec2_metadata_ipv6: bool,
    /// `AWS_EC2_METADATA_V1_DISABLED=true`: no IMDSv1 fallback.
    pub ec2_metadata_v1_disabled: bool,
    pub home: Option<PathBuf>,
    /// HTTPS_PROXY / HTTP_PROXY / NO_PROXY, which the AWS CLI and SDKs follow for AWS calls.
    pub proxies: ProxyEnv,
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
            .field("endpoint_url_sso", &self.endpoint_url_sso)
            .field("endpoint_url_sso_oidc", &self.endpoint_url_sso_oidc)
            .field("web_identity_token_file", &self.web_identity_token_file)
            .field("role_arn", &self.role_arn)
            .field("role_session_name", &self.role_session_name)
            .field("container_relative_uri", &self.container_relative_uri)
            .field("container_full_uri", &self.container_full_uri)
            .field(
                "container_authorization_token",
                &hidden(&self.container_authorization_token),
            )
            .field(
                "container_authorization_token_file",
                &self.container_authorization_token_file,
            )
            .field("ec2_metadata_disabled", &self.ec2_metadata_disabled)
            .field("ec2_metadata_endpoint", &self.ec2_metadata_endpoint)
            .field("ec2_metadata_ipv6", &self.ec2_metadata_ipv6)
            .field("ec2_metadata_v1_disabled", &self.ec2_metadata_v1_disabled)
            .field("home", &self.home)
            .finish()
    }
}

impl AwsEnv {
    /// Fills the struct through a lookup such as `|k| std::env::var(k).ok()`; empty values
    /// count as unset, as in the AWS CLI.
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> AwsEnv {
        let var = |name: &str| get(name).filter(|v| !v.is_empty());
        // botocore: only the word "true", in any case, switches these on.
        let is_true = |name: &str| var(name).is_some_and(|v| v.eq_ignore_ascii_case("true"));
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
            endpoint_url_sso: var("AWS_ENDPOINT_URL_SSO"),
            endpoint_url_sso_oidc: var("AWS_ENDPOINT_URL_SSO_OIDC"),
            web_identity_token_file: var("AWS_WEB_IDENTITY_TOKEN_FILE").map(PathBuf::from),
            role_arn: var("AWS_ROLE_ARN"),
            role_session_name: var("AWS_ROLE_SESSION_NAME"),
            container_relative_uri: var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"),
            container_full_uri: var("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            container_authorization_token: var("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
            container_authorization_token_file: var("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
                .map(PathBuf::from),
            ec2_metadata_disabled: is_true("AWS_EC2_METADATA_DISABLED"),
            ec2_metadata_endpoint: var("AWS_EC2_METADATA_SERVICE_ENDPOINT"),
            ec2_metadata_ipv6: var("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE")
                .is_some_and(|m| m.eq_ignore_ascii_case("ipv6")),
            ec2_metadata_v1_disabled: is_true("AWS_EC2_METADATA_V1_DISABLED"),
            home: var("HOME").map(PathBuf::from),
            proxies: ProxyEnv::from_lookup(&get),
        }
    }

    pub(super) fn expand(&self, path: &Path) -> PathBuf {
        match (path.strip_prefix("~"), &self.home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => path.to_path_buf(),
        }
    }

    pub(super) fn aws_dir_file(&self, name: &str) -> PathBuf {
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
    /// STS AssumeRoleWithWebIdentity with a token file (IRSA, GitHub Actions OIDC).
    WebIdentity(Box<WebIdentity>),
    /// IAM Identity Center: the cached `aws sso login` token, then GetRoleCredentials.
    Sso(Box<SsoSource>),
    /// The ECS / EKS Pod Identity credentials endpoint.
    Container(Box<ContainerSource>),
    /// The EC2 instance's role, from the instance metadata service. `tried` is what came before
    /// it, for the message when there is no instance either.
    InstanceMetadata {
        imds: ImdsSource,
        tried: Vec<String>,
    },
}

/// A web identity role: where its token file and role came from.
#[derive(Debug, Clone)]
pub struct WebIdentity {
    pub role_arn: String,
    pub token_file: PathBuf,
    pub session_name: Option<String>,
    /// Where the token file and the role were named, for messages.
    pub origin: String,
    /// Where the token file alone was named (`AWS_WEB_IDENTITY_TOKEN_FILE` or the profile's).
    pub token_origin: String,
    /// STS endpoint override, as for [`AssumeRole`].
    pub endpoint: Option<String>,
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
            CredentialSource::WebIdentity(w) => {
                format!("web identity role {} ({})", w.role_arn, w.origin)
            }
            CredentialSource::Sso(s) => format!(
                "AWS IAM Identity Center role {} in account {} (profile {:?})",
                s.role_name, s.account_id, s.profile
            ),
            CredentialSource::Container(c) => {
                format!("the container credentials endpoint {}", c.uri)
            }
            CredentialSource::InstanceMetadata { imds, .. } => {
                format!(
                    "the EC2 instance role (instance metadata at {})",
                    imds.endpoint
                )
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
            CredentialSource::WebIdentity(w) => {
                hasher.update(b"web_identity\0");
                hasher.update(w.role_arn.as_bytes());
                hasher.update(b"\0");
                hasher.update(w.token_file.as_os_str().as_encoded_bytes());
            }
            CredentialSource::Sso(s) => {
                hasher.update(b"sso\0");
                for part in [&s.start_url, &s.account_id, &s.role_name] {
                    hasher.update(part.as_bytes());
                    hasher.update(b"\0");
                }
            }
            CredentialSource::Container(c) => {
                hasher.update(b"container\0");
                hasher.update(c.uri.as_bytes());
            }
            CredentialSource::InstanceMetadata { imds, .. } => {
                hasher.update(b"imds\0");
                hasher.update(imds.endpoint.as_bytes());
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
    /// The proxies AWS calls go through (from [`AwsEnv`]).
    pub proxies: ProxyEnv,
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

/// The web identity of the chosen profile (`top`: the environment variables count too, as in
/// botocore, where they win over the profile's settings).
fn web_identity(
    profile: &Profile,
    env: &AwsEnv,
    top: bool,
) -> Result<Option<CredentialSource>, EcrError> {
    let from_env = |v: &Option<String>| v.clone().filter(|_| top);
    let in_profile = |key: &str| {
        profile
            .get(key)
            .map(|f| (f.value.to_string(), f.path.display().to_string()))
    };
    let token_file = match (
        env.web_identity_token_file.clone().filter(|_| top),
        in_profile("web_identity_token_file"),
    ) {
        (Some(path), _) => (path, "AWS_WEB_IDENTITY_TOKEN_FILE".to_string()),
        (None, Some((path, file))) => (
            env.expand(Path::new(&path)),
            format!(
                "web_identity_token_file of profile {:?} in {file}",
                profile.name
            ),
        ),
        (None, None) => return Ok(None),
    };
    let (token_file, token_origin) = token_file;
    let role_arn = from_env(&env.role_arn)
        .map(|r| (r, "AWS_ROLE_ARN".to_string()))
        .or_else(|| in_profile("role_arn").map(|(r, _)| (r, format!("profile {:?}", profile.name))))
        .ok_or_else(|| EcrError::WebIdentityNoRole {
            origin: token_origin.clone(),
        })?;
    Ok(Some(CredentialSource::WebIdentity(Box::new(WebIdentity {
        origin: format!("{token_origin} and {}", role_arn.1),
        token_origin,
        role_arn: role_arn.0,
        token_file,
        session_name: from_env(&env.role_session_name)
            .or_else(|| in_profile("role_session_name").map(|(n, _)| n)),
        endpoint: sts_endpoint(env, profile),
    }))))
}

/// STS endpoint override: `AWS_ENDPOINT_URL_STS` > `AWS_ENDPOINT_URL` > the profile's `endpoint_url`.
fn sts_endpoint(env: &AwsEnv, profile: &Profile) -> Option<String> {
    env.endpoint_url_sts
        .clone()
        .or_else(|| env.endpoint_url.clone())
        .or_else(|| profile.get("endpoint_url").map(|f| f.value.to_string()))
}

/// An IAM Identity Center profile: `sso_session` (with its `[sso-session NAME]` section) or
/// the legacy `sso_start_url` + `sso_region` in the profile itself.
fn sso_source(
    files: &AwsFiles,
    profile: &Profile,
    env: &AwsEnv,
) -> Result<Option<CredentialSource>, EcrError> {
    let session = profile.get("sso_session");
    let legacy = profile.get("sso_start_url");
    let anchor = match (&session, &legacy) {
        (Some(s), _) => s,
        (None, Some(l)) => l,
        (None, None) => return Ok(None),
    };
    let malformed = |reason: String| EcrError::MalformedFile {
        path: anchor.path.to_path_buf(),
        line: anchor.line,
        reason,
    };
    let (start_url, region) = match &session {
        Some(s) => {
            let wanted = format!("sso-session {}", s.value);
            let section = files
                .config
                .iter()
                .flat_map(|f| f.sections.iter())
                .rev()
                .find(|sec| sec.name == wanted)
                .ok_or_else(|| {
                    malformed(format!(
                        "profile {:?} names sso_session {:?}, but there is no [sso-session {}] section",
                        profile.name, s.value, s.value
                    ))
                })?;
            let get = |key: &str| {
                section
                    .get(key)
                    .map(|e| e.value.clone())
                    .ok_or_else(|| malformed(format!("[sso-session {}] has no {key}", s.value)))
            };
            let (url, region) = (get("sso_start_url")?, get("sso_region")?);
            // botocore refuses a profile whose own values disagree with its session's.
            for (key, value) in [("sso_start_url", &url), ("sso_region", &region)] {
                if let Some(own) = profile.get(key) {
                    if own.value != value {
                        return Err(malformed(format!(
                            "profile {:?} has {key} {:?}, but its sso_session says {value:?}",
                            profile.name, own.value
                        )));
                    }
                }
            }
            (url, region)
        }
        None => {
            let region = profile.get("sso_region").ok_or_else(|| {
                malformed(format!(
                    "profile {:?} has sso_start_url but no sso_region",
                    profile.name
                ))
            })?;
            (anchor.value.to_string(), region.value.to_string())
        }
    };
    let need = |key: &str| {
        profile
            .get(key)
            .map(|f| f.value.to_string())
            .ok_or_else(|| {
                malformed(format!(
                    "profile {:?} uses IAM Identity Center but has no {key}",
                    profile.name
                ))
            })
    };
    Ok(Some(CredentialSource::Sso(Box::new(SsoSource::new(
        env,
        &profile.name,
        session.as_ref().map(|s| s.value.to_string()),
        start_url,
        region,
        need("sso_account_id")?,
        need("sso_role_name")?,
    )))))
}

/// The sources that need no profile, in the AWS CLI's order after the profile's own: the
/// container endpoint, then instance metadata (unless AWS_EC2_METADATA_DISABLED).
fn machine_source(env: &AwsEnv, mut tried: Vec<String>) -> Result<CredentialSource, EcrError> {
    if let Some(c) = ContainerSource::from_env(env)? {
        return Ok(CredentialSource::Container(Box::new(c)));
    }
    tried.push(
        "the container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI not set)"
            .to_string(),
    );
    if env.ec2_metadata_disabled {
        tried.push("EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)".to_string());
        return Err(EcrError::NoCredentials { tried });
    }
    Ok(CredentialSource::InstanceMetadata {
        imds: ImdsSource::from_env(env),
        tried,
    })
}

/// Credentials of one profile, following `source_profile` (role chaining included), in
/// botocore's order: role_arn with a source, web identity, SSO, keys in the credentials file,
/// credential_process, keys in the config file. `top`: the profile the user chose (the web
/// identity environment variables apply to it alone).
fn profile_source(
    files: &AwsFiles,
    env: &AwsEnv,
    name: &str,
    chain: &mut Vec<String>,
    top: bool,
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
    let role_arn = profile
        .get("role_arn")
        .filter(|_| profile.get("web_identity_token_file").is_none());
    if let Some(role_arn) = role_arn {
        if let Some(f) = profile.get("mfa_serial") {
            return Err(unsupported(
                &f,
                "mfa_serial (regctl never prompts for a code)",
            ));
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
                profile_source(files, env, src.value, chain, false)?
            }
            .ok_or_else(|| EcrError::NoCredentials {
                tried: files.tried(&files.profile(src.value)),
            })?
        } else if let Some(cs) = profile.get("credential_source") {
            match cs.value {
                "Environment" => env_keys(env)?.ok_or_else(|| EcrError::NoCredentials {
                    tried: vec![format!("{ENV_KEYS} (credential_source = Environment)")],
                })?,
                "EcsContainer" => ContainerSource::from_env(env)?
                    .map(|c| CredentialSource::Container(Box::new(c)))
                    .ok_or_else(|| EcrError::NoCredentials {
                        tried: vec![
                            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI (credential_source = EcsContainer): not set"
                                .to_string(),
                        ],
                    })?,
                "Ec2InstanceMetadata" if env.ec2_metadata_disabled => {
                    return Err(EcrError::NoCredentials {
                        tried: vec![
                            "EC2 instance metadata (credential_source = Ec2InstanceMetadata), but AWS_EC2_METADATA_DISABLED=true"
                                .to_string(),
                        ],
                    })
                }
                "Ec2InstanceMetadata" => CredentialSource::InstanceMetadata {
                    imds: ImdsSource::from_env(env),
                    tried: vec![format!(
                        "credential_source = Ec2InstanceMetadata of profile {name:?}"
                    )],
                },
                other => {
                    return Err(EcrError::MalformedFile {
                        path: cs.path.to_path_buf(),
                        line: cs.line,
                        reason: format!(
                            "credential_source {other:?} is none of Environment, Ec2InstanceMetadata, EcsContainer"
                        ),
                    })
                }
            }
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
            endpoint: sts_endpoint(env, &profile),
            source,
        }))));
    }
    if let Some(source) = web_identity(&profile, env, top)? {
        return Ok(Some(source));
    }
    if let Some(source) = sso_source(files, &profile, env)? {
        return Ok(Some(source));
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
            let found = match profile_source(&files, env, &profile_name, &mut Vec::new(), true) {
                // No default profile is no error by itself (the web identity variables and the
                // machine's own sources need none); a missing source_profile is.
                Err(EcrError::ProfileNotFound { profile, .. })
                    if explicit.is_none() && profile == profile_name =>
                {
                    web_identity(&files.profile(&profile_name), env, true)?
                }
                other => other?,
            };
            match found {
                Some(source) => source,
                None => {
                    let mut tried = Vec::new();
                    if opts.profile.is_none() {
                        tried.push(format!("{ENV_KEYS} (not set)"));
                        tried.push("AWS_WEB_IDENTITY_TOKEN_FILE (not set)".to_string());
                    }
                    tried.extend(files.tried(&files.profile(&profile_name)));
                    machine_source(env, tried)?
                }
            }
        }
    };

    let profile = files.profile(&profile_name);
    let configured = opts
        .region
        .clone()
        .or_else(|| host.region.clone())
        .or_else(|| env.region.clone())
        .or_else(|| env.default_region.clone())
        .or_else(|| profile.get("region").map(|f| f.value.to_string()));
    let region = match configured {
        Some(region) => region,
        None => {
            let mut tried = vec![
                "--region".to_string(),
                "the registry name".to_string(),
                "AWS_REGION".to_string(),
                "AWS_DEFAULT_REGION".to_string(),
                format!(
                    "region of profile {profile_name:?} in {}",
                    files.config_path.display()
                ),
            ];
            // Last, as botocore: the instance's own region, when there is an instance.
            let from_imds = if env.ec2_metadata_disabled {
                tried.push("EC2 instance metadata (AWS_EC2_METADATA_DISABLED=true)".to_string());
                None
            } else {
                let imds = ImdsSource::from_env(env);
                match imds.region() {
                    Ok(region) if !region.is_empty() => Some(region),
                    Ok(_) => {
                        tried.push(format!(
                            "EC2 instance metadata at {} (no region)",
                            imds.endpoint
                        ));
                        None
                    }
                    Err(e) => {
                        tried.push(format!(
                            "EC2 instance metadata at {} ({})",
                            imds.endpoint, e.reason
                        ));
                        None
                    }
                }
            };
            from_imds.ok_or_else(|| EcrError::NoRegion {
                host: host.hostname.clone(),
                tried,
            })?
        }
    };

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
        proxies: env.proxies.clone(),
    })
}
