//! Registry authentication flows: Basic, and Bearer tokens from the challenge's realm (docker's
//! token spec). A token is fetched with `GET realm?service=S&scope=A&scope=B` and Basic
//! credentials, or, when we hold an identity token, with the OAuth2 form `POST` (falling back to
//! GET on 404). An empty grant is a valid answer, not an error.

use base64::Engine;
use serde_json::Value;
use url::Url;

use super::challenge::Challenge;
use super::client::{Ping, RegistryClient, RegistryError, Request, Transport};

/// What we log in with. The Debug form never shows secrets.
#[derive(Clone, PartialEq, Eq)]
pub enum Credentials {
    Basic {
        username: String,
        password: String,
    },
    /// An OAuth2 refresh token (docker's identity token).
    IdentityToken {
        token: String,
    },
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Credentials::Basic { username, .. } => write!(f, "Basic({username}, <redacted>)"),
            Credentials::IdentityToken { .. } => write!(f, "IdentityToken(<redacted>)"),
        }
    }
}

impl Credentials {
    fn basic_header(&self) -> Option<String> {
        match self {
            Credentials::Basic { username, password } => Some(format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"))
            )),
            Credentials::IdentityToken { .. } => None,
        }
    }
}

/// A bearer token from a token server.
#[derive(Clone)]
pub struct Token {
    pub token: String,
    /// Seconds; the spec's default is 60 and anything lower is raised to 60.
    pub expires_in: u64,
    pub refresh_token: Option<String>,
}

/// The client id regctl sends to OAuth2 token endpoints.
pub const CLIENT_ID: &str = "regctl";

/// Fetches a token for `scopes` from a Bearer challenge.
pub fn fetch_token(
    client: &RegistryClient,
    challenge: &Challenge,
    creds: Option<&Credentials>,
    scopes: &[String],
) -> Result<Token, RegistryError> {
    let realm_text = challenge
        .param("realm")
        .ok_or_else(|| RegistryError::NoChallenge {
            url: "(token challenge)".into(),
            header: format!("{challenge:?}"),
        })?;
    let realm = Url::parse(realm_text).map_err(|_| RegistryError::BadUrl(realm_text.into()))?;
    let service = challenge.param("service");
    if let Some(Credentials::IdentityToken { token }) = creds {
        let mut form = url::form_urlencoded::Serializer::new(String::new());
        form.append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", token)
            .append_pair("client_id", CLIENT_ID);
        if let Some(s) = service {
            form.append_pair("service", s);
        }
        if !scopes.is_empty() {
            form.append_pair("scope", &scopes.join(" "));
        }
        let mut post = Request::post_form(realm.clone(), form.finish());
        post.token = true;
        let resp = client.send(&post)?;
        if resp.status != 404 {
            return token_from(&realm, resp.status, &resp.body);
        }
        // The server has no OAuth endpoint: the GET flow below, anonymously.
    }
    let mut url = realm.clone();
    {
        let mut q = url.query_pairs_mut();
        if let Some(s) = service {
            q.append_pair("service", s);
        }
        for s in scopes {
            q.append_pair("scope", s);
        }
    }
    let mut req = Request::get(url);
    req.token = true;
    if let Some(h) = creds.and_then(Credentials::basic_header) {
        req = req.auth(h);
    }
    let resp = client.send(&req)?;
    token_from(&realm, resp.status, &resp.body)
}

/// Reads a token server's answer (status and body) as docker does: 401/403 is a refusal, any
/// other non-200 an error quoting the start of the body; a 200 body must be a JSON object with a
/// non-empty `token` (or `access_token`) of visible ASCII; `expires_in` defaults to and is
/// raised to 60 seconds. Public so that the token_response fuzz target reaches it.
pub fn token_from(realm: &Url, status: u16, body: &[u8]) -> Result<Token, RegistryError> {
    let realm_s = realm.to_string();
    if status == 401 || status == 403 {
        return Err(RegistryError::Unauthorized {
            host: super::client::host_port(realm),
        });
    }
    if status != 200 {
        return Err(RegistryError::TokenServer {
            realm: realm_s,
            status,
            detail: super::http1::printable(
                &String::from_utf8_lossy(body)
                    .chars()
                    .take(200)
                    .collect::<String>(),
            ),
        });
    }
    let v: Value = serde_json::from_slice(body).map_err(|e| RegistryError::BadTokenResponse {
        realm: realm_s.clone(),
        detail: e.to_string(),
    })?;
    let text = |k: &str| {
        v.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let token = text("token")
        .or_else(|| text("access_token"))
        .ok_or_else(|| RegistryError::BadTokenResponse {
            realm: realm_s.clone(),
            detail: "neither \"token\" nor \"access_token\" is set".into(),
        })?;
    // It goes into an Authorization header: visible ASCII only (RFC 6750's b64token is narrower).
    if !token.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(RegistryError::BadTokenResponse {
            realm: realm_s,
            detail: "the token holds spaces, control or non-ASCII characters".into(),
        });
    }
    let expires_in = v
        .get("expires_in")
        .and_then(Value::as_u64)
        .unwrap_or(60)
        .max(60);
    Ok(Token {
        token,
        expires_in,
        refresh_token: text("refresh_token"),
    })
}

/// How a registry accepted a login.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthScheme {
    /// `/v2/` answered 200 without credentials.
    None,
    Basic,
    Bearer,
}

impl AuthScheme {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthScheme::None => "none",
            AuthScheme::Basic => "basic",
            AuthScheme::Bearer => "bearer",
        }
    }
}

/// The result of checking credentials against a registry.
#[derive(Debug, Clone)]
pub struct Verified {
    pub scheme: AuthScheme,
    pub transport: Transport,
}

/// Checks credentials as `docker login` does: ping `/v2/`, then Basic or a Bearer token without
/// scopes followed by `/v2/` with that token. 401 means wrong credentials.
pub fn verify(
    client: &RegistryClient,
    host: &str,
    creds: &Credentials,
) -> Result<Verified, RegistryError> {
    let ping: Ping = client.ping(host)?;
    let v2 = ping.v2();
    let done = |scheme| {
        Ok(Verified {
            scheme,
            transport: ping.transport,
        })
    };
    if ping.challenges.is_empty() {
        return done(AuthScheme::None);
    }
    let unauthorized = || RegistryError::Unauthorized {
        host: host.to_string(),
    };
    if let Some(bearer) = ping.challenges.iter().find(|c| c.scheme == "bearer") {
        let realm = bearer.param("realm").unwrap_or_default().to_string();
        let token = fetch_token(client, bearer, Some(creds), &[])?;
        let resp =
            client.send(&Request::get(v2.clone()).auth(format!("Bearer {}", token.token)))?;
        return match resp.status {
            200 => done(AuthScheme::Bearer),
            status => Err(RegistryError::TokenRejected {
                host: host.to_string(),
                realm,
                status,
            }),
        };
    }
    if ping.challenges.iter().any(|c| c.scheme == "basic") {
        let Some(header) = creds.basic_header() else {
            return Err(unauthorized());
        };
        let resp = client.send(&Request::get(v2.clone()).auth(header))?;
        return match resp.status {
            200 => done(AuthScheme::Basic),
            401 | 403 => Err(unauthorized()),
            status => Err(RegistryError::Unexpected {
                url: v2.to_string(),
                status,
            }),
        };
    }
    Err(RegistryError::NoChallenge {
        url: v2.to_string(),
        header: ping
            .challenges
            .iter()
            .map(|c| c.scheme.clone())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_answers_per_spec() {
        let realm = Url::parse("https://auth.example.com/token").unwrap();
        let t = token_from(&realm, 200, br#"{"access_token":"a","expires_in":10}"#).unwrap();
        assert_eq!((t.token.as_str(), t.expires_in), ("a", 60));
        let t = token_from(&realm, 200, br#"{"token":"t","access_token":"a"}"#).unwrap();
        assert_eq!(t.token, "t");
        assert!(matches!(
            token_from(&realm, 401, b""),
            Err(RegistryError::Unauthorized { .. })
        ));
        assert!(token_from(&realm, 200, b"{}").is_err());
        assert!(token_from(&realm, 200, br#"{"token":"a\nb"}"#).is_err());
        assert!(token_from(&realm, 200, br#"{"token":"a b"}"#).is_err());
        let Err(e) = token_from(&realm, 500, b"\x1b]0;owned\x07") else {
            panic!("a 500 is an error");
        };
        assert!(!e.to_string().contains('\u{1b}'), "{e}");
        assert!(!format!(
            "{:?}",
            Credentials::Basic {
                username: "u".into(),
                password: "hunter2".into()
            }
        )
        .contains("hunter2"));
    }
}
