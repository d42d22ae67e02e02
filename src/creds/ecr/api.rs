//! The two AWS calls an ECR login needs, signed with AWS's `aws-sigv4`: GetAuthorizationToken
//! (ecr / ecr-public, JSON 1.1 protocol) and STS AssumeRole (query protocol, for `role_arn`
//! profiles). AWS error answers become [`EcrError::Aws`] with their type and message; a network
//! failure names the endpoint.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use base64::Engine;
use reqwest::blocking::Client;
use reqwest::header::HeaderMap;
use serde_json::Value;

use super::host::Service;
use super::profile::{AssumeRole, AwsCredentials, Resolved, WebIdentity};
use super::{parse_rfc3339, EcrError, EcrToken};
use crate::error_text::chain;
use crate::files::proxies::ProxyEnv;
use crate::registry::client::{self, CappedRead, MAX_BODY};

/// Connect and whole-request limits for AWS calls.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// An HTTPS client for AWS endpoints: the system's trusted roots, rustls with ring, timeouts,
/// and `proxies` (from Context, never reqwest's own reading of the environment).
pub fn http_client(proxies: &ProxyEnv) -> Result<Client, EcrError> {
    build_client(
        client::with_proxies(Client::builder(), proxies)
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT),
    )
}

/// A client for the machine's own credential endpoints (instance metadata, the container
/// endpoint): short timeouts and never a proxy, as the AWS SDKs do.
pub(super) fn metadata_client(timeout: Duration) -> Result<Client, EcrError> {
    build_client(
        Client::builder()
            .no_proxy()
            .connect_timeout(timeout)
            .timeout(timeout),
    )
}

fn build_client(builder: reqwest::blocking::ClientBuilder) -> Result<Client, EcrError> {
    let tls_err = |reason: String| EcrError::Tls { reason };
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    if roots.is_empty() {
        let why = native
            .errors
            .first()
            .map_or("none found".to_string(), |e| e.to_string());
        return Err(tls_err(format!(
            "no trusted root certificates in the system store ({why})"
        )));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    builder
        .tls_backend_preconfigured(config)
        .user_agent(concat!("regctl/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| tls_err(chain(&e)))
}

/// An endpoint URL as it will be used: https, or plain http only to a loopback address (the
/// token comes back in the answer and must not cross a network in clear text).
pub(super) fn endpoint_url(endpoint: &str) -> Result<url::Url, EcrError> {
    let bad = |reason: &str| EcrError::BadEndpoint {
        endpoint: endpoint.to_string(),
        reason: reason.to_string(),
    };
    let url = url::Url::parse(endpoint).map_err(|e| bad(&e.to_string()))?;
    let loopback = match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(d)) => d == "localhost",
        None => return Err(bad("it has no host")),
    };
    match url.scheme() {
        "https" => Ok(url),
        "http" if loopback => Ok(url),
        "http" => Err(bad(
            "plain http is only allowed to a loopback address; use https",
        )),
        other => Err(bad(&format!("scheme {other:?} is not https"))),
    }
}

/// One POST signed for `service` (also its SigV4 signing name) with `creds`; the answer's body
/// when AWS says 2xx. The signature carries the moment the request is sent (AWS refuses more
/// than 5 minutes of skew), so this reads the clock itself, unlike the decisions around it that
/// take `now` from the caller.
fn signed_post(
    client: &Client,
    service: &'static str,
    endpoint: &str,
    region: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
    creds: &AwsCredentials,
) -> Result<Vec<u8>, EcrError> {
    let url = endpoint_url(endpoint)?;
    let signing = |reason: String| EcrError::Signing { reason };
    let identity = aws_credential_types::Credentials::new(
        &creds.access_key_id,
        &creds.secret_access_key,
        creds.session_token.clone(),
        creds.expiration,
        "regctl",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| signing(e.to_string()))?
        .into();
    let signable = SignableRequest::new(
        "POST",
        url.as_str(),
        headers.iter().copied(),
        SignableBody::Bytes(&body),
    )
    .map_err(|e| signing(e.to_string()))?;
    let (instructions, _) = sign(signable, &params)
        .map_err(|e| signing(e.to_string()))?
        .into_parts();

    let mut request = client.post(url.as_str());
    for (name, value) in headers.iter().copied().chain(instructions.headers()) {
        request = request.header(name, value);
    }
    expect_success(request.body(body), service, endpoint, REQUEST_TIMEOUT)
}

/// Sends a request; the answer's body when the status is 2xx, else the AWS error it holds.
pub(super) fn expect_success(
    request: reqwest::blocking::RequestBuilder,
    service: &'static str,
    endpoint: &str,
    timeout: Duration,
) -> Result<Vec<u8>, EcrError> {
    let (status, response_headers, bytes) = send(request, service, endpoint, timeout)?;
    if status.is_success() {
        Ok(bytes)
    } else {
        Err(aws_error(
            service,
            endpoint,
            status,
            &response_headers,
            &bytes,
        ))
    }
}

/// Sends a request and reads the whole answer (capped); a network failure names the endpoint.
pub(super) fn send(
    request: reqwest::blocking::RequestBuilder,
    service: &'static str,
    endpoint: &str,
    timeout: Duration,
) -> Result<(reqwest::StatusCode, HeaderMap, Vec<u8>), EcrError> {
    let unreachable = |e: reqwest::Error| EcrError::Unreachable {
        service,
        endpoint: endpoint.to_string(),
        reason: if e.is_timeout() {
            format!("no answer within {} s", timeout.as_secs())
        } else {
            chain(&e)
        },
    };
    let response = request.send().map_err(unreachable)?;
    let status = response.status();
    let response_headers = response.headers().clone();
    let bytes = read_capped(response, service, endpoint)?;
    Ok((status, response_headers, bytes))
}

/// The answer's body, refused past [`MAX_BODY`] (AWS answers these calls with a few KB; a
/// larger answer is not AWS).
fn read_capped(
    response: reqwest::blocking::Response,
    service: &'static str,
    endpoint: &str,
) -> Result<Vec<u8>, EcrError> {
    client::read_capped(response).map_err(|e| match e {
        CappedRead::TooLarge => EcrError::BadResponse {
            service,
            endpoint: endpoint.to_string(),
            reason: format!(
                "the answer is larger than {} MiB; AWS answers with a few KB, so regctl stopped reading",
                MAX_BODY >> 20
            ),
        },
        CappedRead::Io(e) => EcrError::Unreachable {
            service,
            endpoint: endpoint.to_string(),
            reason: if e.kind() == std::io::ErrorKind::TimedOut {
                format!("no answer within {} s", REQUEST_TIMEOUT.as_secs())
            } else {
                chain(&e)
            },
        },
    })
}

/// An AWS error answer: JSON `__type` / `message` (JSON protocols), the `x-amzn-ErrorType`
/// header, or XML `<Code>` / `<Message>` (query protocol), as botocore reads them.
pub(super) fn aws_error(
    service: &'static str,
    endpoint: &str,
    status: reqwest::StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> EcrError {
    let text = String::from_utf8_lossy(body);
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let json_str = |key: &str| {
        json.as_ref()
            .and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let code = json_str("__type")
        .or_else(|| json_str("code"))
        .map(|t| t.rsplit('#').next().unwrap_or_default().to_string())
        .or_else(|| {
            headers
                .get("x-amzn-errortype")
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(':').next().unwrap_or_default().to_string())
        })
        .or_else(|| xml_text(&text, "Code"))
        .filter(|c| !c.is_empty())
        .unwrap_or_else(|| format!("HTTP {}", status.as_u16()));
    let message = json_str("message")
        .or_else(|| json_str("Message"))
        .or_else(|| xml_text(&text, "Message"))
        .unwrap_or_else(|| {
            let trimmed = text.trim();
            if trimmed.is_empty() {
                status
                    .canonical_reason()
                    .unwrap_or("no message")
                    .to_string()
            } else {
                trimmed.chars().take(300).collect()
            }
        });
    EcrError::Aws {
        service,
        endpoint: endpoint.to_string(),
        status: status.as_u16(),
        code,
        message,
    }
}

/// The text of the first `<tag>...</tag>`, entities decoded.
fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&format!("</{tag}>"))?;
    Some(
        xml[start..end]
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// GetAuthorizationToken for the resolved host, signed with `creds`.
pub fn get_authorization_token(
    client: &Client,
    resolved: &Resolved,
    creds: &AwsCredentials,
) -> Result<EcrToken, EcrError> {
    let service = resolved.service();
    let body = match (&resolved.host.account, service) {
        (Some(account), Service::Ecr) => {
            serde_json::json!({ "registryIds": [account] }).to_string()
        }
        _ => "{}".to_string(),
    };
    let name = service.signing_name();
    let answer = signed_post(
        client,
        name,
        &resolved.endpoint,
        &resolved.region,
        &[
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amz-target", service.target()),
        ],
        body.into_bytes(),
        creds,
    )?;
    parse_token_answer(&answer).map_err(|reason| EcrError::BadResponse {
        service: name,
        endpoint: resolved.endpoint.clone(),
        reason,
    })?
}

/// `authorizationData` is a list for ecr and a single object for ecr-public. The outer error is
/// an unusable answer, the inner one a token that does not decode.
fn parse_token_answer(body: &[u8]) -> Result<Result<EcrToken, EcrError>, String> {
    let doc: Value =
        serde_json::from_slice(body).map_err(|e| format!("the answer is not JSON: {e}"))?;
    let data = match doc.get("authorizationData") {
        Some(Value::Array(items)) => items.first().ok_or("authorizationData is empty")?,
        Some(item @ Value::Object(_)) => item,
        _ => return Err("the answer has no authorizationData".to_string()),
    };
    let token = data
        .get("authorizationToken")
        .and_then(Value::as_str)
        .ok_or("authorizationData has no authorizationToken")?;
    let expires = data
        .get("expiresAt")
        .ok_or("authorizationData has no expiresAt time")?;
    // Checked: a hostile 1e300, 1e19 or -1 is an error, never Duration/SystemTime overflow.
    let expires_at = expires
        .as_f64()
        .and_then(super::epoch_time)
        .ok_or_else(|| {
            format!(
                "expiresAt {} is not a time (seconds since 1970, before the year 10000)",
                expires.to_string().chars().take(40).collect::<String>()
            )
        })?;
    let proxy_endpoint = data
        .get("proxyEndpoint")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(decode_token(token).map(|(username, password)| EcrToken {
        username,
        password,
        expires_at,
        proxy_endpoint,
    }))
}

/// base64("USER:PASSWORD") into its two halves.
pub fn decode_token(token: &str) -> Result<(String, String), EcrError> {
    let bad = |reason: &str| EcrError::BadToken {
        reason: reason.to_string(),
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .map_err(|e| bad(&format!("not base64 ({e})")))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text once decoded"))?;
    let (user, password) = text
        .split_once(':')
        .ok_or_else(|| bad("no `user:password` inside"))?;
    if user.is_empty() || password.is_empty() {
        return Err(bad("the user name or the password inside is empty"));
    }
    Ok((user.to_string(), password.to_string()))
}

/// STS AssumeRole with the source's keys; `region` and `domain` pick the regional endpoint.
pub fn assume_role(
    client: &Client,
    role: &AssumeRole,
    region: &str,
    domain: &str,
    source: &AwsCredentials,
    now: SystemTime,
) -> Result<AwsCredentials, EcrError> {
    let (endpoint, mut form) = sts_form(
        "AssumeRole",
        &role.endpoint,
        (region, domain),
        &role.role_arn,
        &role.session_name,
        now,
    );
    if let Some(id) = &role.external_id {
        form.append_pair("ExternalId", id);
    }
    if let Some(d) = role.duration_seconds {
        form.append_pair("DurationSeconds", &d.to_string());
    }
    let answer = signed_post(
        client,
        "sts",
        &endpoint,
        region,
        &[(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )],
        form.finish().into_bytes(),
        source,
    )?;
    sts_credentials(&answer, "AssumeRole", &endpoint)
}

/// STS AssumeRoleWithWebIdentity: an unsigned call (the token file's JWT is the proof).
pub fn assume_role_with_web_identity(
    client: &Client,
    role: &WebIdentity,
    token: &str,
    region: &str,
    domain: &str,
    now: SystemTime,
) -> Result<AwsCredentials, EcrError> {
    let (endpoint, mut form) = sts_form(
        "AssumeRoleWithWebIdentity",
        &role.endpoint,
        (region, domain),
        &role.role_arn,
        &role.session_name,
        now,
    );
    let url = endpoint_url(&endpoint)?;
    form.append_pair("WebIdentityToken", token);
    let request = client
        .post(url.as_str())
        .header(
            "content-type",
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .body(form.finish());
    let answer = expect_success(request, "sts", &endpoint, REQUEST_TIMEOUT)?;
    sts_credentials(&answer, "AssumeRoleWithWebIdentity", &endpoint)
}

/// The STS endpoint (the override, else the region's) and the form every role call starts with.
fn sts_form(
    action: &str,
    endpoint: &Option<String>,
    (region, domain): (&str, &str),
    role_arn: &str,
    session_name: &Option<String>,
    now: SystemTime,
) -> (String, url::form_urlencoded::Serializer<'static, String>) {
    let endpoint = endpoint
        .clone()
        .unwrap_or_else(|| format!("https://sts.{region}.{domain}"));
    let session_name = session_name
        .clone()
        .unwrap_or_else(|| default_session_name(now));
    let mut form = url::form_urlencoded::Serializer::new(String::new());
    form.append_pair("Action", action)
        .append_pair("Version", "2011-06-15")
        .append_pair("RoleArn", role_arn)
        .append_pair("RoleSessionName", &session_name);
    (endpoint, form)
}

/// `regctl-<epoch seconds>`, as botocore names sessions it starts (`botocore-session-<secs>`).
fn default_session_name(now: SystemTime) -> String {
    let secs = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    format!("regctl-{secs}")
}

/// The `Credentials` of an STS answer (query protocol, XML).
fn sts_credentials(
    answer: &[u8],
    action: &str,
    endpoint: &str,
) -> Result<AwsCredentials, EcrError> {
    let text = String::from_utf8_lossy(answer);
    let bad = |reason: String| EcrError::BadResponse {
        service: "sts",
        endpoint: endpoint.to_string(),
        reason,
    };
    let field = |tag: &str| {
        xml_text(&text, tag)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| bad(format!("the {action} answer has no {tag}")))
    };
    let expiration = field("Expiration")?;
    Ok(AwsCredentials {
        access_key_id: field("AccessKeyId")?,
        secret_access_key: field("SecretAccessKey")?,
        session_token: Some(field("SessionToken")?),
        expiration: Some(
            parse_rfc3339(&expiration)
                .ok_or_else(|| bad(format!("Expiration {expiration:?} is not a time")))?,
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_decode_or_say_why_not() {
        assert_eq!(
            decode_token("QVdTOnNlY3JldA==").unwrap(),
            ("AWS".to_string(), "secret".to_string())
        );
        for (token, needle) in [
            ("not base64!", "not base64"),
            ("bm9jb2xvbg==", "no `user:password`"),
            ("OnBhc3N3b3Jk", "empty"),
        ] {
            let e = decode_token(token).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }

    #[test]
    fn hostile_expiry_times_are_errors_not_panics() {
        for expires in [
            "1e300",
            "1e19",
            "-1",
            "-1e300",
            "18446744073709551616",
            "253402300800",
            "\"tomorrow\"",
            "null",
        ] {
            let body = format!(
                r#"{{"authorizationData":[{{"authorizationToken":"QVdTOnA=","expiresAt":{expires}}}]}}"#
            );
            let e = parse_token_answer(body.as_bytes()).unwrap_err();
            assert!(e.starts_with("expiresAt "), "{expires}: {e}");
        }
        let last = br#"{"authorizationData":[{"authorizationToken":"QVdTOnA=","expiresAt":253402300799}]}"#;
        assert!(parse_token_answer(last).unwrap().is_ok());
    }

    #[test]
    fn both_answer_shapes() {
        let ecr = br#"{"authorizationData":[{"authorizationToken":"QVdTOnA=","expiresAt":1.7E9,"proxyEndpoint":"https://x"}]}"#;
        let t = parse_token_answer(ecr).unwrap().unwrap();
        assert_eq!(t.password, "p");
        assert_eq!(
            t.expires_at,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        let public =
            br#"{"authorizationData":{"authorizationToken":"QVdTOnA=","expiresAt":1700000000}}"#;
        assert!(parse_token_answer(public)
            .unwrap()
            .unwrap()
            .proxy_endpoint
            .is_none());
        assert!(parse_token_answer(br#"{"authorizationData":[]}"#).is_err());
        assert!(parse_token_answer(
            br#"{"authorizationData":[{"authorizationToken":"QVdTOnA="}]}"#
        )
        .is_err());
    }

    #[test]
    fn error_answers_in_every_protocol() {
        let headers = HeaderMap::new();
        let status = reqwest::StatusCode::BAD_REQUEST;
        let e = aws_error("ecr", "e", status, &headers, br#"{"__type":"com.amazon.coral.service#UnrecognizedClientException","message":"bad token"}"#);
        assert!(
            matches!(e, EcrError::Aws { ref code, ref message, .. } if code == "UnrecognizedClientException" && message == "bad token")
        );
        let e = aws_error("sts", "e", status, &headers, b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>no &amp; no</Message></Error></ErrorResponse>");
        assert!(
            matches!(e, EcrError::Aws { ref code, ref message, .. } if code == "AccessDenied" && message == "no & no")
        );
        let e = aws_error("ecr", "e", reqwest::StatusCode::BAD_GATEWAY, &headers, b"");
        assert!(
            matches!(e, EcrError::Aws { ref code, ref message, .. } if code == "HTTP 502" && message == "Bad Gateway")
        );
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert!(endpoint_url("http://127.0.0.1:5000").is_ok());
        assert!(endpoint_url("http://localhost:5000").is_ok());
        assert!(endpoint_url("https://api.ecr.us-east-1.amazonaws.com").is_ok());
        assert!(endpoint_url("http://api.ecr.us-east-1.amazonaws.com").is_err());
        assert!(endpoint_url("ftp://127.0.0.1").is_err());
    }
}
