//! Credentials from the machine regctl runs on, as the AWS CLI (botocore) fetches them: the
//! container endpoint of ECS and EKS Pod Identity (`AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` /
//! `_FULL_URI`, with `AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE)`), and the EC2 instance role from
//! the instance metadata service (IMDSv2: a token from `PUT /latest/api/token`, then the role
//! and its keys; IMDSv1 only where botocore falls back to it). Short timeouts and no proxy, so
//! that a laptop off EC2 learns within a second that there is no instance.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;
use serde_json::Value;

use super::api::{self, metadata_client};
use super::profile::{AwsCredentials, AwsEnv};
use super::{parse_rfc3339, EcrError};
use crate::files::bounded;

/// botocore's IMDS timeout (connect and answer).
pub const IMDS_TIMEOUT: Duration = Duration::from_secs(1);
/// botocore's container endpoint timeout.
pub const CONTAINER_TIMEOUT: Duration = Duration::from_secs(2);

const IMDS_ENDPOINT: &str = "http://169.254.169.254";
const IMDS_ENDPOINT_IPV6: &str = "http://[fd00:ec2::254]";
const ECS_HOST: &str = "169.254.170.2";
/// Hosts a plain-http full URI may name besides loopback: ECS, EKS Pod Identity (v4 and v6).
const CONTAINER_HOSTS: &[&str] = &[ECS_HOST, "169.254.170.23", "[fd00:ec2::23]", "localhost"];
const TOKEN_TTL_SECONDS: &str = "21600";

/// The container credentials endpoint and its authorization.
#[derive(Debug, Clone)]
pub struct ContainerSource {
    pub uri: String,
    /// The variable `uri` came from.
    pub origin: &'static str,
    pub auth: Option<ContainerAuth>,
}

/// `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (read at each use: EKS rotates it) or the token.
#[derive(Clone)]
pub enum ContainerAuth {
    File(PathBuf),
    Token(String),
}

impl fmt::Debug for ContainerAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContainerAuth::File(p) => f.debug_tuple("File").field(p).finish(),
            ContainerAuth::Token(_) => f.write_str("Token(<redacted>)"),
        }
    }
}

impl ContainerAuth {
    fn describe(&self) -> String {
        match self {
            ContainerAuth::File(p) => format!(
                "the token in {} (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE)",
                p.display()
            ),
            ContainerAuth::Token(_) => "AWS_CONTAINER_AUTHORIZATION_TOKEN".to_string(),
        }
    }
}

impl ContainerSource {
    /// The endpoint the environment names, if any: the relative URI (on 169.254.170.2) wins
    /// over the full one, which must be https, loopback, or an ECS / EKS Pod Identity address.
    pub fn from_env(env: &AwsEnv) -> Result<Option<ContainerSource>, EcrError> {
        let (uri, origin) = match (&env.container_relative_uri, &env.container_full_uri) {
            (Some(rel), _) => (
                format!("http://{ECS_HOST}{rel}"),
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
            ),
            (None, Some(full)) => (full.clone(), "AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            (None, None) => return Ok(None),
        };
        let bad = |reason: &str| EcrError::ContainerUri {
            uri: uri.clone(),
            origin,
            reason: reason.to_string(),
        };
        let url = url::Url::parse(&uri).map_err(|e| bad(&e.to_string()))?;
        let host = url.host_str().unwrap_or_default();
        let loopback = match url.host() {
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            _ => false,
        };
        match url.scheme() {
            "https" => {}
            "http" if loopback || CONTAINER_HOSTS.contains(&host) => {}
            "http" => return Err(bad(
                "plain http is only allowed to a loopback address, 169.254.170.2 (ECS) or 169.254.170.23 / fd00:ec2::23 (EKS Pod Identity)",
            )),
            other => return Err(bad(&format!("scheme {other:?} is not http or https"))),
        }
        let auth = match (
            &env.container_authorization_token_file,
            &env.container_authorization_token,
        ) {
            (Some(file), _) => Some(ContainerAuth::File(file.clone())),
            (None, Some(token)) => Some(ContainerAuth::Token(token.clone())),
            (None, None) => None,
        };
        Ok(Some(ContainerSource { uri, origin, auth }))
    }

    /// GETs the keys, with the authorization token when there is one.
    pub fn credentials(&self, now: SystemTime) -> Result<AwsCredentials, EcrError> {
        let fail = |reason: String| EcrError::Container {
            uri: self.uri.clone(),
            origin: self.origin,
            reason,
            refused: false,
        };
        let token = match &self.auth {
            Some(ContainerAuth::File(path)) => Some(
                bounded::read_file(path, bounded::limits::AWS_FILE)
                    .and_then(|b| {
                        String::from_utf8(b).map_err(|_| {
                            std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text")
                        })
                    })
                    .map_err(|e| EcrError::ContainerTokenFile {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?
                    .trim()
                    .to_string(),
            ),
            Some(ContainerAuth::Token(t)) => Some(t.trim().to_string()),
            None => None,
        };
        if token
            .as_deref()
            .is_some_and(|t| t.contains(['\r', '\n']) || t.is_empty())
        {
            return Err(fail(format!(
                "{} is empty or holds a line break, which no HTTP header can carry",
                self.auth
                    .as_ref()
                    .map(ContainerAuth::describe)
                    .unwrap_or_default()
            )));
        }
        let client = metadata_client(CONTAINER_TIMEOUT)?;
        let mut request = client
            .get(self.uri.as_str())
            .header("accept", "application/json");
        if let Some(t) = &token {
            request = request.header("authorization", t);
        }
        let (status, _, body) = api::send(
            request,
            "the container credentials endpoint",
            &self.uri,
            CONTAINER_TIMEOUT,
        )
        .map_err(|e| fail(e.to_string()))?;
        let doc: Option<Value> = serde_json::from_slice(&body).ok();
        if !status.is_success() {
            let message = doc
                .as_ref()
                .and_then(|d| d.get("message").or_else(|| d.get("Message")))
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
            let refused = matches!(status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN);
            let with = match (&self.auth, refused) {
                (Some(a), true) => format!(" (sent {})", a.describe()),
                (None, true) => " (no AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) is set)".to_string(),
                _ => String::new(),
            };
            return Err(EcrError::Container {
                uri: self.uri.clone(),
                origin: self.origin,
                reason: format!("HTTP {}{with}: {}", status.as_u16(), message.trim()),
                refused,
            });
        }
        let doc = doc.ok_or_else(|| fail("the answer is not JSON".to_string()))?;
        keys_from(&doc, "Token", now).map_err(fail)
    }
}

/// The instance metadata service to ask.
#[derive(Debug, Clone)]
pub struct ImdsSource {
    pub endpoint: String,
    pub v1_disabled: bool,
}

impl ImdsSource {
    /// `AWS_EC2_METADATA_SERVICE_ENDPOINT`, else the IPv6 or IPv4 address.
    pub fn from_env(env: &AwsEnv) -> ImdsSource {
        let endpoint = env.ec2_metadata_endpoint.clone().unwrap_or_else(|| {
            if env.ec2_metadata_ipv6 {
                IMDS_ENDPOINT_IPV6
            } else {
                IMDS_ENDPOINT
            }
            .to_string()
        });
        ImdsSource {
            endpoint: endpoint.trim_end_matches('/').to_string(),
            v1_disabled: env.ec2_metadata_v1_disabled,
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.endpoint)
    }

    /// The instance role's keys: token, role name, then the role's credentials.
    pub fn credentials(&self, now: SystemTime) -> Result<AwsCredentials, ImdsFailure> {
        let session = self.session()?;
        let role = session.get("latest/meta-data/iam/security-credentials/")?;
        let role = role.lines().next().unwrap_or_default().trim().to_string();
        if role.is_empty() {
            return Err(ImdsFailure::plain(
                "the instance has no IAM role (instance profile) attached",
            ));
        }
        let body = session.get(&format!("latest/meta-data/iam/security-credentials/{role}"))?;
        let doc: Value = serde_json::from_str(&body)
            .map_err(|_| ImdsFailure::plain("the credentials answer is not JSON"))?;
        if let Some(code) = doc.get("Code").and_then(Value::as_str) {
            if code != "Success" {
                let message = doc.get("Message").and_then(Value::as_str).unwrap_or("");
                return Err(ImdsFailure::plain(&format!(
                    "role {role}: {code}: {message}"
                )));
            }
        }
        keys_from(&doc, "Token", now).map_err(|e| ImdsFailure::plain(&format!("role {role}: {e}")))
    }

    /// The instance's region (`placement/region`), for names that do not say one.
    pub fn region(&self) -> Result<String, ImdsFailure> {
        let session = self.session()?;
        let region = session.get("latest/meta-data/placement/region")?;
        Ok(region.trim().to_string())
    }

    /// An IMDSv2 session token, or IMDSv1 where botocore falls back to it: the token request
    /// answered 403, 404 or 405 (IMDSv2 off or an old emulator) or got no answer in time
    /// (the hop limit: the answer to a PUT dies one hop past the instance, inside a container).
    fn session(&self) -> Result<ImdsSession<'_>, ImdsFailure> {
        match url::Url::parse(&self.endpoint) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
            _ => {
                return Err(ImdsFailure::plain(&format!(
                    "{:?} is not an http(s) URL (AWS_EC2_METADATA_SERVICE_ENDPOINT)",
                    self.endpoint
                )))
            }
        }
        let client =
            metadata_client(IMDS_TIMEOUT).map_err(|e| ImdsFailure::plain(&e.to_string()))?;
        let put = client
            .put(self.url("latest/api/token"))
            .header("x-aws-ec2-metadata-token-ttl-seconds", TOKEN_TTL_SECONDS);
        let (token, put_timed_out) = match put.send() {
            Ok(r) if r.status().is_success() => match r.text() {
                Ok(t) if !t.trim().is_empty() => (Some(t.trim().to_string()), false),
                _ => return Err(ImdsFailure::plain("the IMDSv2 token answer is empty")),
            },
            Ok(r) if matches!(r.status().as_u16(), 403..=405) => (None, false),
            Ok(r) => {
                return Err(ImdsFailure::plain(&format!(
                    "the IMDSv2 token request (PUT /latest/api/token) answered HTTP {}",
                    r.status().as_u16()
                )))
            }
            Err(e) if e.is_timeout() && !e.is_connect() => (None, true),
            Err(e) => {
                let reason = if e.is_timeout() {
                    format!("no connection within {} s", IMDS_TIMEOUT.as_secs())
                } else {
                    crate::error_text::chain(&e)
                };
                return Err(ImdsFailure::plain(&format!(
                    "cannot reach it: {reason} (not on EC2?)"
                )));
            }
        };
        let why_v1 = if put_timed_out {
            format!(
                "the IMDSv2 token request (PUT /latest/api/token) got no answer within {} s",
                IMDS_TIMEOUT.as_secs()
            )
        } else {
            "the IMDSv2 token request was refused".to_string()
        };
        if token.is_none() && self.v1_disabled {
            return Err(ImdsFailure {
                reason: format!("{why_v1}, and IMDSv1 is off (AWS_EC2_METADATA_V1_DISABLED)"),
                hop_limit: put_timed_out,
            });
        }
        Ok(ImdsSession {
            imds: self,
            client,
            token,
            why_v1: (put_timed_out, why_v1),
        })
    }
}

struct ImdsSession<'a> {
    imds: &'a ImdsSource,
    client: reqwest::blocking::Client,
    token: Option<String>,
    /// Whether the token PUT timed out, and why IMDSv1 is used, for messages.
    why_v1: (bool, String),
}

impl ImdsSession<'_> {
    fn get(&self, path: &str) -> Result<String, ImdsFailure> {
        let mut request = self.client.get(self.imds.url(path));
        if let Some(t) = &self.token {
            request = request.header("x-aws-ec2-metadata-token", t);
        }
        let (status, _, body) = api::send(
            request,
            "EC2 instance metadata",
            &self.imds.endpoint,
            IMDS_TIMEOUT,
        )
        .map_err(|e| self.failure(&e.to_string()))?;
        if !status.is_success() {
            return Err(self.failure(&format!("GET /{path} answered HTTP {}", status.as_u16())));
        }
        String::from_utf8(body).map_err(|_| self.failure(&format!("GET /{path}: not text")))
    }

    fn failure(&self, what: &str) -> ImdsFailure {
        match &self.token {
            Some(_) => ImdsFailure::plain(what),
            None => ImdsFailure {
                reason: format!("{} and IMDSv1 failed: {what}", self.why_v1.1),
                hop_limit: self.why_v1.0,
            },
        }
    }
}

/// Why instance metadata gave no credentials; `hop_limit` when the token PUT timed out (the
/// classic cause inside a container on EC2).
#[derive(Debug, Clone)]
pub struct ImdsFailure {
    pub reason: String,
    pub hop_limit: bool,
}

impl ImdsFailure {
    fn plain(reason: &str) -> ImdsFailure {
        ImdsFailure {
            reason: reason.to_string(),
            hop_limit: false,
        }
    }
}

/// `AccessKeyId`, `SecretAccessKey`, the session token under `token_key`, `Expiration`.
fn keys_from(doc: &Value, token_key: &str, now: SystemTime) -> Result<AwsCredentials, String> {
    let field = |name: &str| {
        doc.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let expiration = match field("Expiration") {
        Some(text) => {
            let at =
                parse_rfc3339(&text).ok_or_else(|| format!("Expiration {text:?} is not a time"))?;
            if at <= now {
                return Err(format!(
                    "the credentials it gave expired at {}",
                    super::rfc3339(at)
                ));
            }
            Some(at)
        }
        None => None,
    };
    Ok(AwsCredentials {
        access_key_id: field("AccessKeyId").ok_or("the answer has no AccessKeyId")?,
        secret_access_key: field("SecretAccessKey").ok_or("the answer has no SecretAccessKey")?,
        session_token: field(token_key),
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> AwsEnv {
        AwsEnv::from_lookup(|k| {
            vars.iter()
                .find(|(name, _)| *name == k)
                .map(|(_, v)| v.to_string())
        })
    }

    #[test]
    fn container_uris_as_botocore_allows_them() {
        let full = |uri: &str| {
            ContainerSource::from_env(&env(&[("AWS_CONTAINER_CREDENTIALS_FULL_URI", uri)]))
        };
        for ok in [
            "http://169.254.170.23/v1/credentials",
            "http://[fd00:ec2::23]/v1/credentials",
            "http://127.0.0.1:8080/creds",
            "http://localhost/creds",
            "https://creds.example.com/x",
        ] {
            assert!(full(ok).unwrap().is_some(), "{ok}");
        }
        for bad in ["http://10.0.0.1/creds", "ftp://127.0.0.1/x", "not a url"] {
            assert!(full(bad).is_err(), "{bad}");
        }
        let rel = ContainerSource::from_env(&env(&[
            (
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "/v2/credentials/x",
            ),
            ("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://10.0.0.1/"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN", "t"),
            ("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/f"),
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(rel.uri, "http://169.254.170.2/v2/credentials/x");
        assert!(matches!(rel.auth, Some(ContainerAuth::File(_))));
        assert!(!format!("{rel:?}").contains("\"t\""));
    }

    #[test]
    fn imds_endpoint_choice() {
        assert_eq!(ImdsSource::from_env(&env(&[])).endpoint, IMDS_ENDPOINT);
        let v6 = env(&[("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6")]);
        assert_eq!(ImdsSource::from_env(&v6).endpoint, IMDS_ENDPOINT_IPV6);
        let custom = env(&[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1/"),
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", "IPv6"),
        ]);
        assert_eq!(ImdsSource::from_env(&custom).endpoint, "http://127.0.0.1:1");
    }
}
