//! AWS IAM Identity Center (SSO) profiles, as the AWS CLI reads them: the token `aws sso login`
//! left in `~/.aws/sso/cache/<SHA-1>.json` (of the `sso_session` name, or of the start URL for the
//! legacy `sso_start_url` profiles), refreshed through SSO OIDC `CreateToken` when it is within
//! 15 minutes of its end and a refresh token is there (`sso_session` profiles only), then
//! `GetRoleCredentials` on the portal. An expired session is an error that says to run
//! `aws sso login`: regctl never opens a browser.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use reqwest::blocking::Client;
use serde_json::{json, Map, Value};
use sha1::{Digest, Sha1};

use super::api::{self, endpoint_url, REQUEST_TIMEOUT};
use super::profile::{AwsCredentials, AwsEnv};
use super::{parse_rfc3339, rfc3339, write_private_json, EcrError};
use crate::files::bounded;

/// botocore refreshes a session token this long before it ends.
pub const REFRESH_WINDOW: Duration = Duration::from_secs(15 * 60);

/// One SSO profile, resolved from the config file (nothing read from the cache yet).
#[derive(Debug, Clone)]
pub struct SsoSource {
    pub profile: String,
    /// The `sso_session` name; `None` for a legacy profile (which cannot refresh).
    pub session_name: Option<String>,
    pub start_url: String,
    pub region: String,
    pub account_id: String,
    pub role_name: String,
    /// `~/.aws/sso/cache/<sha1>.json`.
    pub cache_file: PathBuf,
    /// GetRoleCredentials: `AWS_ENDPOINT_URL_SSO` / `AWS_ENDPOINT_URL`, else the region's portal.
    pub portal_endpoint: String,
    /// CreateToken: `AWS_ENDPOINT_URL_SSO_OIDC` / `AWS_ENDPOINT_URL`, else the region's OIDC.
    pub oidc_endpoint: String,
}

/// The cache file name the AWS CLI uses: hex SHA-1 of the session name, or of the start URL.
pub fn cache_file_name(session_name: Option<&str>, start_url: &str) -> String {
    let key = session_name.unwrap_or(start_url);
    let digest = Sha1::digest(key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{hex}.json")
}

impl SsoSource {
    pub fn new(
        env: &AwsEnv,
        profile: &str,
        session_name: Option<String>,
        start_url: String,
        region: String,
        account_id: String,
        role_name: String,
    ) -> SsoSource {
        let domain = super::host::partition_domain_of_region(&region);
        let pick = |specific: &Option<String>, default: String| {
            specific
                .clone()
                .or_else(|| env.endpoint_url.clone())
                .unwrap_or(default)
        };
        SsoSource {
            profile: profile.to_string(),
            cache_file: env
                .aws_dir_file("sso")
                .join("cache")
                .join(cache_file_name(session_name.as_deref(), &start_url)),
            portal_endpoint: pick(
                &env.endpoint_url_sso,
                format!("https://portal.sso.{region}.{domain}"),
            ),
            oidc_endpoint: pick(
                &env.endpoint_url_sso_oidc,
                format!("https://oidc.{region}.{domain}"),
            ),
            session_name,
            start_url,
            region,
            account_id,
            role_name,
        }
    }

    fn expired(&self, expired_at: Option<SystemTime>, reason: String) -> EcrError {
        EcrError::SsoSession {
            profile: self.profile.clone(),
            cache_file: self.cache_file.clone(),
            expired_at: expired_at.map(rfc3339),
            reason,
        }
    }

    /// The role's keys: the cached token (refreshed when due and possible, and then written
    /// back when `write`), GetRoleCredentials.
    pub fn credentials(
        &self,
        client: &Client,
        now: SystemTime,
        write: bool,
    ) -> Result<AwsCredentials, EcrError> {
        let bytes = match bounded::read_file(&self.cache_file, bounded::limits::AWS_FILE) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(self.expired(
                    None,
                    format!(
                        "no cached token {} (never logged in on this machine, or logged out)",
                        self.cache_file.display()
                    ),
                ))
            }
            Err(source) => {
                return Err(EcrError::ReadFile {
                    path: self.cache_file.clone(),
                    source,
                })
            }
        };
        let malformed = |reason: String| EcrError::MalformedFile {
            path: self.cache_file.clone(),
            line: 1,
            reason,
        };
        let mut cached: Map<String, Value> = serde_json::from_slice(&bytes)
            .map_err(|e| malformed(format!("not the JSON object `aws sso login` writes: {e}")))?;
        let text = |doc: &Map<String, Value>, key: &str| {
            doc.get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        let expires_at = |doc: &Map<String, Value>| {
            text(doc, "expiresAt").and_then(|t| parse_rfc3339(&t.replace("UTC", "Z")))
        };
        let (Some(mut token), Some(mut expiry)) =
            (text(&cached, "accessToken"), expires_at(&cached))
        else {
            return Err(malformed(
                "it has no accessToken or no expiresAt time".to_string(),
            ));
        };

        let mut refresh_failed = None;
        if self.session_name.is_some() && expiry < now + REFRESH_WINDOW {
            match self.refresh(client, &cached, now) {
                Ok(Some(fresh)) => {
                    cached = fresh;
                    token = text(&cached, "accessToken").unwrap_or(token);
                    expiry = expires_at(&cached).unwrap_or(expiry);
                    if write {
                        write_private_json(&self.cache_file, &cached)?;
                    }
                }
                Ok(None) => {}
                Err(e) => refresh_failed = Some(e.to_string()),
            }
        }
        if expiry <= now {
            let why = match (&self.session_name, refresh_failed) {
                (_, Some(e)) => format!("refreshing it failed: {e}"),
                (Some(_), None) => "it holds no usable refresh token".to_string(),
                (None, None) => {
                    "a legacy sso_start_url profile cannot refresh it (an sso_session can)"
                        .to_string()
                }
            };
            return Err(self.expired(Some(expiry), why));
        }
        self.role_credentials(client, &token, expiry, now)
    }

    /// SSO OIDC CreateToken with the cached refresh token; `Ok(None)` when the cache holds no
    /// usable refresh token or registration (botocore then keeps the cached token).
    fn refresh(
        &self,
        client: &Client,
        cached: &Map<String, Value>,
        now: SystemTime,
    ) -> Result<Option<Map<String, Value>>, EcrError> {
        let get = |key: &str| {
            cached
                .get(key)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let (Some(refresh_token), Some(client_id), Some(client_secret), Some(registration)) = (
            get("refreshToken"),
            get("clientId"),
            get("clientSecret"),
            get("registrationExpiresAt"),
        ) else {
            return Ok(None);
        };
        if parse_rfc3339(&registration.replace("UTC", "Z")).is_none_or(|t| t <= now) {
            return Ok(None);
        }
        let endpoint = format!("{}/token", self.oidc_endpoint.trim_end_matches('/'));
        let url = endpoint_url(&endpoint)?;
        let request = client
            .post(url.as_str())
            .header("content-type", "application/json")
            .body(
                json!({
                    "clientId": client_id,
                    "clientSecret": client_secret,
                    "grantType": "refresh_token",
                    "refreshToken": refresh_token,
                })
                .to_string(),
            );
        let answer = api::expect_success(request, "sso-oidc", &endpoint, REQUEST_TIMEOUT)?;
        let bad = |reason: &str| EcrError::BadResponse {
            service: "sso-oidc",
            endpoint: endpoint.clone(),
            reason: reason.to_string(),
        };
        let doc: Value =
            serde_json::from_slice(&answer).map_err(|_| bad("the answer is not JSON"))?;
        let access = doc
            .get("accessToken")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| bad("the CreateToken answer has no accessToken"))?;
        let expires_in = doc
            .get("expiresIn")
            .and_then(Value::as_u64)
            .filter(|s| *s > 0 && *s < 366 * 24 * 3600)
            .ok_or_else(|| bad("the CreateToken answer has no usable expiresIn"))?;
        let mut fresh = cached.clone();
        fresh.insert("accessToken".into(), json!(access));
        fresh.insert(
            "expiresAt".into(),
            json!(rfc3339(now + Duration::from_secs(expires_in))),
        );
        if let Some(r) = doc.get("refreshToken").and_then(Value::as_str) {
            fresh.insert("refreshToken".into(), json!(r));
        }
        Ok(Some(fresh))
    }

    /// GetRoleCredentials (a bearer call, not SigV4).
    fn role_credentials(
        &self,
        client: &Client,
        token: &str,
        token_expiry: SystemTime,
        now: SystemTime,
    ) -> Result<AwsCredentials, EcrError> {
        let endpoint = format!(
            "{}/federation/credentials",
            self.portal_endpoint.trim_end_matches('/')
        );
        let mut url = endpoint_url(&endpoint)?;
        url.query_pairs_mut()
            .append_pair("role_name", &self.role_name)
            .append_pair("account_id", &self.account_id);
        let request = client
            .get(url.as_str())
            .header("x-amz-sso_bearer_token", token);
        let answer = match api::expect_success(request, "sso", &endpoint, REQUEST_TIMEOUT) {
            Err(EcrError::Aws { code, message, .. }) if code == "UnauthorizedException" => {
                return Err(self.expired(
                    Some(token_expiry).filter(|t| *t <= now),
                    format!("the portal refused the cached token: {message}"),
                ))
            }
            other => other?,
        };
        let bad = |reason: &str| EcrError::BadResponse {
            service: "sso",
            endpoint: endpoint.clone(),
            reason: reason.to_string(),
        };
        let doc: Value =
            serde_json::from_slice(&answer).map_err(|_| bad("the answer is not JSON"))?;
        let creds = doc
            .get("roleCredentials")
            .ok_or_else(|| bad("the answer has no roleCredentials"))?;
        let field = |name: &str| {
            creds
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .ok_or_else(|| bad(&format!("roleCredentials has no {name}")))
        };
        let expiration = creds
            .get("expiration")
            .and_then(Value::as_u64)
            .and_then(|ms| SystemTime::UNIX_EPOCH.checked_add(Duration::from_millis(ms)));
        Ok(AwsCredentials {
            access_key_id: field("accessKeyId")?,
            secret_access_key: field("secretAccessKey")?,
            session_token: Some(field("sessionToken")?),
            expiration,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names_are_the_cli_s() {
        // Python's hashlib.sha1 of the session name, or of the start URL without one.
        assert_eq!(
            cache_file_name(Some("my-sso"), "https://ignored"),
            "0ad374308c5a4e22f723adf10145eafad7c4031c.json"
        );
        assert_eq!(
            cache_file_name(None, "https://d-123.awsapps.com/start"),
            "2b829a45f04c9828cb45b7d092d8e4aa30818393.json"
        );
    }
}
