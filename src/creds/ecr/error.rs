//! Everything that can stop an ECR login, each case saying exactly what failed and where, so that
//! nobody sees amazon-ecr-credential-helper's "credentials not found" for an expired session.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum EcrError {
    #[error("{host} is not an Amazon ECR registry (expected ACCOUNT.dkr.ecr.REGION.amazonaws.com or public.ecr.aws)")]
    NotEcrHost { host: String },

    #[error("no AWS region for {host}; tried: {}", tried.join("; "))]
    NoRegion { host: String, tried: Vec<String> },

    #[error("no AWS credentials found; tried: {}", tried.join("; "))]
    NoCredentials { tried: Vec<String> },

    #[error("{present} is set but {missing} is not")]
    PartialEnvCredentials {
        present: &'static str,
        missing: &'static str,
    },

    #[error("AWS profile {profile:?} does not exist in {}", files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(" or "))]
    ProfileNotFound {
        profile: String,
        files: Vec<PathBuf>,
    },

    #[error("AWS profile {profile:?} ({}:{line}) has {present} but no {missing}", path.display())]
    IncompleteProfile {
        profile: String,
        path: PathBuf,
        line: usize,
        present: &'static str,
        missing: &'static str,
    },

    #[error("{}:{line}: {reason}", path.display())]
    MalformedFile {
        path: PathBuf,
        line: usize,
        reason: String,
    },

    #[error("cannot read {}: {source}", path.display())]
    ReadFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("AWS profile {profile:?} ({}) uses {setting}, which regctl does not support", path.display())]
    Unsupported {
        profile: String,
        path: PathBuf,
        setting: &'static str,
    },

    #[error("AWS profiles refer to each other in a loop: {}", chain.join(" -> "))]
    ProfileLoop { chain: Vec<String> },

    #[error("credential_process of AWS profile {profile:?} ({command}) failed: {reason}")]
    CredentialProcess {
        profile: String,
        command: String,
        reason: String,
    },

    #[error("{service} at {endpoint} refused the request: {code}: {message}")]
    Aws {
        service: &'static str,
        endpoint: String,
        status: u16,
        code: String,
        message: String,
    },

    #[error("cannot reach {service} at {endpoint}: {reason}")]
    Unreachable {
        service: &'static str,
        endpoint: String,
        reason: String,
    },

    #[error("{service} at {endpoint} sent an answer regctl cannot use: {reason}")]
    BadResponse {
        service: &'static str,
        endpoint: String,
        reason: String,
    },

    #[error("the ECR authorization token does not decode: {reason}")]
    BadToken { reason: String },

    #[error("{endpoint:?} is not a usable endpoint URL: {reason}")]
    BadEndpoint { endpoint: String, reason: String },

    #[error("cannot sign the request: {reason}")]
    Signing { reason: String },

    #[error("cannot set up HTTPS: {reason}")]
    Tls { reason: String },

    #[error("the AWS IAM Identity Center (SSO) session of profile {profile:?} {}: {reason}", match expired_at { Some(t) => format!("expired at {t}"), None => "cannot be used".to_string() })]
    SsoSession {
        profile: String,
        cache_file: PathBuf,
        expired_at: Option<String>,
        reason: String,
    },

    #[error("cannot read the web identity token file {} (from {origin}): {reason}", path.display())]
    WebIdentityTokenFile {
        path: PathBuf,
        origin: String,
        reason: String,
    },

    #[error(
        "{origin} names a web identity token file but no role to assume (AWS_ROLE_ARN or role_arn)"
    )]
    WebIdentityNoRole { origin: String },

    #[error("{origin} is {uri:?}, which regctl will not ask for credentials: {reason}")]
    ContainerUri {
        uri: String,
        origin: &'static str,
        reason: String,
    },

    #[error(
        "the container credentials endpoint {uri} (from {origin}) gave no credentials: {reason}"
    )]
    Container {
        uri: String,
        origin: &'static str,
        reason: String,
        /// It answered 401 or 403: the authorization token is wrong or missing.
        refused: bool,
    },

    #[error("cannot read the container authorization token file {} (from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE): {reason}", path.display())]
    ContainerTokenFile { path: PathBuf, reason: String },

    #[error("no AWS credentials found; tried: {}; EC2 instance metadata at {endpoint}: {reason}", tried.join("; "))]
    NoInstanceCredentials {
        endpoint: String,
        tried: Vec<String>,
        reason: String,
        /// The IMDSv2 token request timed out (the hop limit inside containers).
        hop_limit: bool,
    },

    #[error("cannot write {}: {source}", path.display())]
    WriteFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}
