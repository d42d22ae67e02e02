//! The errors commands return, how they map to exit codes, and which hint goes with each.
//! Core modules return their own typed errors; this is where they meet the user.

use std::io;
use std::path::PathBuf;

use crate::creds::ecr::EcrError;
use crate::creds::CredsError;
use crate::files::certs_dir::x509::{BundleError, CertInfo, KeyError};
use crate::files::certs_dir::CertsError;
use crate::files::daemon_config::DaemonConfigError;
use crate::files::docker_config::DockerConfigError;
use crate::files::dockerd_process::ProcessError;
use crate::files::json_file::FileError;
use crate::hints;
use crate::registry::client::RegistryError;
use crate::registry::tls_probe::ProbeError;

/// Exit codes of the output contract (DESIGN.md).
pub mod exit {
    /// Done, whether or not anything changed.
    pub const OK: i32 = 0;
    /// The operation failed, or doctor / validate found a problem.
    pub const FAILED: i32 = 1;
    /// The command line is wrong: clap's errors, typed values included (`--timeout 0`).
    pub const USAGE: i32 = 2;
    // 130 (interrupted) is SIGINT's own: regctl installs no handler, so the shell reports
    // 128 + 2 and no file is left half-written (saves are atomic renames).
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The command line does not parse (clap's message, first line).
    #[error("{0}")]
    Usage(String),

    #[error(transparent)]
    File(#[from] FileError),

    /// A daemon.json value that dockerd would refuse, found in the named file.
    #[error("{path}: {source}")]
    DaemonConfig {
        path: PathBuf,
        #[source]
        source: DaemonConfigError,
    },

    /// A value the user typed that dockerd would refuse (nothing was read or written).
    #[error(transparent)]
    InvalidValue(#[from] DaemonConfigError),

    #[error(transparent)]
    Hosts(#[from] crate::files::hosts_toml::HostsError),

    #[error(transparent)]
    RegistriesConf(#[from] crate::files::registries_conf::RegistriesConfError),

    /// `daemon validate` found problems; each one is listed as a cause.
    #[error("{path} has {} problem{}", problems.len(), if problems.len() == 1 { "" } else { "s" })]
    DaemonConfigInvalid {
        path: PathBuf,
        problems: Vec<String>,
    },

    #[error("key {key} is not set in {path}")]
    KeyNotSet { key: String, path: PathBuf },

    #[error("{value:?} is not valid JSON for {key}: {detail}")]
    ValueNotJson {
        key: String,
        value: String,
        detail: String,
    },

    #[error(transparent)]
    Name(#[from] crate::names::NameError),

    /// dockerd's pidfile, or the process it names (`daemon reload`).
    #[error(transparent)]
    Process(#[from] ProcessError),

    /// certs.d: a registry name, certificate, key or pin that regctl refuses (file errors are `File`).
    #[error(transparent)]
    Certs(CertsError),

    /// Reaching a registry's TLS port for `--from-server`.
    #[error(transparent)]
    TlsProbe(#[from] ProbeError),

    /// An ECR token login that failed (AWS credentials, region, the AWS API, the token).
    #[error(transparent)]
    Ecr(#[from] EcrError),

    #[error(transparent)]
    DockerConfig(#[from] DockerConfigError),

    #[error(transparent)]
    Creds(#[from] CredsError),

    #[error(transparent)]
    Registry(#[from] RegistryError),

    /// A value is missing and regctl may not prompt for it.
    #[error(
        "no {what} given, and regctl cannot prompt for it (not a terminal, or --non-interactive)"
    )]
    CannotPrompt { what: &'static str },

    #[error("the {what} is empty")]
    Empty { what: &'static str },

    #[error("reading the {what} failed: {detail}")]
    Input { what: &'static str, detail: String },

    /// `--store file` while `credsStore` sends every registry to a helper.
    #[error(transparent)]
    FileStoreShadowed(crate::creds::ops::FileStoreShadowed),

    /// `--store keychain` or `helper:NAME` for an ECR login: a 12-hour token kept there would
    /// never be refreshed.
    #[error("--store {0} cannot keep ECR tokens fresh; an ECR login stores through docker-credential-regctl (--store auto, the default) or in plain text (--store file)")]
    EcrStore(String),

    /// Installing into or removing from the OS trust store.
    #[error(transparent)]
    SystemTrust(#[from] crate::files::system_trust::SystemTrustError),

    /// A `trust-ca --from-server` refusal, with every certificate the server presented (and any
    /// fetched from its AIA URL), so the user can compare them with what the administrator gave.
    #[error("{error}")]
    Presented {
        error: Box<Error>,
        presented: Vec<CertInfo>,
        /// Downloaded issuers, each with its URL.
        fetched: Vec<(String, CertInfo)>,
        /// The option that pins this server (`--fingerprint`, or `--realm-fingerprint`).
        pin_flag: &'static str,
    },
}

/// A credential operation's failure is the core error it wraps.
impl From<crate::creds::ops::OpsError> for Error {
    fn from(e: crate::creds::ops::OpsError) -> Self {
        use crate::creds::ops::OpsError;
        match e {
            OpsError::File(e) => Error::File(e),
            OpsError::DockerConfig(e) => Error::DockerConfig(e),
            OpsError::Creds(e) => Error::Creds(e),
            OpsError::Registry(e) => Error::Registry(e),
            OpsError::Ecr(e) => Error::Ecr(e),
            OpsError::FileStoreShadowed(e) => Error::FileStoreShadowed(e),
        }
    }
}

/// A file operation of `trust-ca` fails with the core error it wraps.
impl From<crate::files::trust::TrustError> for Error {
    fn from(e: crate::files::trust::TrustError) -> Self {
        use crate::files::trust::TrustError;
        match e {
            TrustError::Certs(e) => e.into(),
            TrustError::File(e) => Error::File(e),
            TrustError::System(e) => Error::SystemTrust(e),
        }
    }
}

impl Error {
    /// A `trust-ca --from-server` failure; a refusal about the presented chain keeps every
    /// certificate with it, and `pin_flag` (the option that pins this server) for its hint.
    pub fn from_server(
        e: crate::registry::from_server::FromServerError,
        pin_flag: &'static str,
    ) -> Error {
        use crate::registry::from_server::FromServerError;
        match e {
            FromServerError::Certs(e) => e.into(),
            FromServerError::Probe(e) => Error::TlsProbe(e),
            FromServerError::Registry(e) => Error::Registry(e),
            FromServerError::Presented {
                error,
                presented,
                fetched,
            } => Error::Presented {
                error: Box::new(Error::from_server(*error, pin_flag)),
                presented,
                fetched,
                pin_flag,
            },
        }
    }
}

/// A daemon.json list edit fails with the core error it wraps.
impl From<crate::files::daemon_lists::ListError> for Error {
    fn from(e: crate::files::daemon_lists::ListError) -> Self {
        use crate::files::daemon_lists::ListError;
        match e {
            ListError::File(e) => Error::File(e),
            ListError::Invalid(e) => Error::InvalidValue(e),
            ListError::InFile { path, source } => Error::DaemonConfig { path, source },
        }
    }
}

impl From<CertsError> for Error {
    fn from(e: CertsError) -> Self {
        match e {
            CertsError::File(f) => Error::File(f),
            other => Error::Certs(other),
        }
    }
}

impl Error {
    /// The lines under `error:` that explain why.
    pub fn causes(&self) -> Vec<String> {
        match self {
            Error::DaemonConfigInvalid { problems, .. } => problems.clone(),
            Error::Presented {
                error,
                presented,
                fetched,
                ..
            } => {
                let mut out = error.causes();
                let n = presented.len();
                for (i, c) in presented.iter().enumerate() {
                    out.push(format!("presented {}/{n}: {}", i + 1, c.details()));
                }
                for (url, c) in fetched {
                    out.push(format!("downloaded from {url}: {}", c.details()));
                }
                out
            }
            _ => crate::error_text::causes(self),
        }
    }

    /// The one command (or instruction) that fixes this, when there is one.
    pub fn hint(&self, argv: &[String], rootless: bool) -> Option<String> {
        match self {
            Error::Presented {
                error, pin_flag, ..
            } => match &**error {
                Error::Certs(e) => certs_hint(e, argv, pin_flag),
                other => other.hint(argv, rootless),
            },
            Error::File(e) => match e {
                FileError::Read { source, .. } | FileError::Write { source, .. }
                    if source.kind() == io::ErrorKind::PermissionDenied =>
                {
                    Some(hints::rerun_with_sudo(argv))
                }
                FileError::Read { source, .. } | FileError::Write { source, .. }
                    if source.raw_os_error() == Some(libc::EROFS) =>
                {
                    Some(hints::read_only_file_system())
                }
                FileError::Parse { path, .. } | FileError::NotObject { path, .. } => {
                    Some(hints::fix_json(path))
                }
                FileError::TomlParse { path, .. } => Some(hints::fix_toml(path)),
                FileError::Utf16 { path } => Some(hints::convert_to_utf8(path)),
                FileError::Bom { path } => Some(hints::strip_bom(path)),
                _ => None,
            },
            Error::ValueNotJson { key, value, .. } => Some(hints::quote_json_string(key, value)),
            Error::Process(ProcessError::Signal { source, .. })
                if source.kind() == io::ErrorKind::PermissionDenied =>
            {
                Some(hints::rerun_with_sudo(argv))
            }
            Error::Process(ProcessError::Pidfile { .. } | ProcessError::NotRunning { .. }) => {
                Some(hints::dockerd_not_running(rootless))
            }
            Error::DaemonConfig { source, .. } | Error::InvalidValue(source) => {
                daemon_config_hint(source)
            }
            Error::Certs(e) => certs_hint(e, argv, "--fingerprint"),
            Error::TlsProbe(e) => match e {
                ProbeError::NotTls { host } => Some(hints::plain_http_registry(host)),
                ProbeError::Connect { host, .. } | ProbeError::ConnectTimeout { host, .. } => {
                    Some(hints::registry_unreachable(host))
                }
                _ => None,
            },
            Error::Ecr(e) => e.hint(),
            Error::DockerConfig(DockerConfigError::BadAuth { path, key, .. }) => {
                Some(hints::bad_auth_entry(path, key))
            }
            Error::Creds(e) => creds_hint(e),
            Error::Registry(e) => registry_hint(e),
            Error::CannotPrompt { .. } => Some(hints::login_non_interactive(argv)),
            Error::FileStoreShadowed(e) => Some(hints::file_store_shadowed(&e.helper)),
            Error::EcrStore(_) => Some(hints::ecr_default_store(argv)),
            _ => None,
        }
    }
}

impl Error {
    /// The exit code for this kind of failure (DESIGN.md: 1 failed, 2 usage).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) => exit::USAGE,
            _ => exit::FAILED,
        }
    }

    /// Data a failure carries into its JSON document besides msg and hint.
    pub fn data(&self) -> Vec<(&'static str, serde_json::Value)> {
        match self {
            Error::Presented {
                presented, fetched, ..
            } => vec![
                ("presented", serde_json::json!(presented)),
                ("fetched", fetched_json(fetched)),
            ],
            _ => Vec::new(),
        }
    }
}

/// Issuers downloaded from AIA URLs, as JSON: `[{"url", "certificate"}]`.
pub fn fetched_json(fetched: &[(String, CertInfo)]) -> serde_json::Value {
    serde_json::Value::Array(
        fetched
            .iter()
            .map(|(url, c)| serde_json::json!({"url": url, "certificate": c}))
            .collect(),
    )
}

/// The fix for a daemon.json value dockerd would refuse.
pub fn daemon_config_hint(e: &DaemonConfigError) -> Option<String> {
    match e {
        DaemonConfigError::UnknownKey {
            suggestion: Some(s),
            key,
        } => Some(hints::rename_daemon_key(key, s)),
        DaemonConfigError::InvalidMirror { .. } => Some(hints::mirror_syntax()),
        DaemonConfigError::InvalidInsecure { .. } => Some(hints::insecure_syntax()),
        _ => None,
    }
}

/// The fix for a credential-store failure.
pub fn creds_hint(e: &CredsError) -> Option<String> {
    use CredsError as C;
    match e {
        C::HelperMissing { helper, .. } => Some(hints::install_credential_helper(helper)),
        C::KeychainUnavailable { .. } | C::KeychainTimeout { .. } => {
            Some(hints::start_secret_service())
        }
        C::KeychainLocked { .. } => Some(hints::unlock_keyring()),
        C::HelperFailed { helper, .. } | C::HelperGarbage { helper, .. } => {
            Some(hints::run_helper_by_hand(helper))
        }
        C::Ecr(e) => e.hint(),
        C::EcrStoresNothing { server } => Some(hints::ecr_login_without_password(server)),
        _ => None,
    }
}

/// The fix for a registry failure during login.
pub fn registry_hint(e: &RegistryError) -> Option<String> {
    use RegistryError as R;
    match e {
        R::Unauthorized { .. } => Some(hints::check_login_credentials()),
        R::Connect { .. } => Some(hints::login_unreachable()),
        R::NotARegistry { .. } => Some(hints::not_a_registry()),
        R::PlainHttpRefused { host, .. } => Some(hints::plain_http_registry(host)),
        R::Trust(_) => Some(hints::certs_d_file_names()),
        _ => None,
    }
}

impl EcrError {
    /// The fix for an ECR login failure (or warning). Defined here, with every other error's
    /// hint, so that creds/ecr stays free of advice.
    pub fn hint(&self) -> Option<String> {
        use EcrError as E;
        match self {
            E::NotEcrHost { host } => Some(hints::force_ecr(host)),
            E::NoRegion { .. } => Some(hints::aws_region()),
            E::NoCredentials { .. } | E::PartialEnvCredentials { .. } => {
                Some(hints::aws_configure())
            }
            E::NoInstanceCredentials {
                hop_limit: true, ..
            } => Some(hints::imds_hop_limit()),
            E::NoInstanceCredentials { .. } => Some(hints::aws_no_credentials()),
            E::SsoSession { profile, .. } => Some(hints::aws_sso_login(profile)),
            E::WebIdentityTokenFile { origin, .. } => Some(hints::web_identity_token_file(origin)),
            E::WebIdentityNoRole { .. } => Some(hints::web_identity_role()),
            E::Container { refused: true, .. } | E::ContainerTokenFile { .. } => {
                Some(hints::container_token())
            }
            E::ContainerUri { .. } => Some(hints::container_uri()),
            E::ProfileNotFound { profile, .. } => Some(hints::aws_create_profile(profile)),
            E::IncompleteProfile { profile, .. } => Some(hints::aws_complete_profile(profile)),
            E::Unsupported { profile, .. } => Some(hints::aws_export_credentials(profile)),
            E::Aws { code, .. } => match code.as_str() {
                "ExpiredTokenException" | "ExpiredToken" | "RequestExpired" => {
                    Some(hints::aws_session_expired())
                }
                "UnrecognizedClientException" | "InvalidClientTokenId" => {
                    Some(hints::aws_unknown_key())
                }
                "InvalidSignatureException" | "SignatureDoesNotMatch" => {
                    Some(hints::aws_wrong_secret())
                }
                "AccessDeniedException" | "AccessDenied" => Some(hints::aws_ecr_permission()),
                _ => None,
            },
            E::Unreachable { .. } => Some(hints::aws_unreachable()),
            _ => None,
        }
    }
}

/// `pin_flag`: the option that pins the server the error is about.
fn certs_hint(e: &CertsError, argv: &[String], pin_flag: &str) -> Option<String> {
    match e {
        CertsError::DockerHub { .. } => Some(hints::docker_hub_ca()),
        CertsError::NotCa { issuer, .. } => Some(hints::need_issuing_ca(issuer)),
        CertsError::LeafOnly { leaf, .. } => Some(hints::leaf_only(
            argv,
            pin_flag,
            &leaf.issuer,
            &leaf.sha256.to_string(),
        )),
        CertsError::Expired { .. } | CertsError::NotYetValid { .. } => {
            Some(hints::force_validity(argv))
        }
        CertsError::FingerprintRequired { fingerprint, .. } => Some(hints::pin_fingerprint(
            argv,
            pin_flag,
            &fingerprint.to_string(),
        )),
        CertsError::FingerprintMismatch { .. } => Some(hints::fingerprint_mismatch()),
        CertsError::Bundle {
            what,
            source: BundleError::NotCertificate { label },
        } if label == "TRUSTED CERTIFICATE" => Some(hints::convert_trusted_certificate(what)),
        CertsError::Key {
            what,
            source: KeyError::Encrypted,
        } => Some(hints::decrypt_key(what)),
        _ => None,
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
