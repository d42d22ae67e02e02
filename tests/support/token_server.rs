//! A small token server for the registry's token auth (docker's token spec), HTTPS on
//! 127.0.0.1: `GET /token?service=S&scope=...` with Basic credentials answers a JWT signed with
//! ES256 whose header carries an `x5c` chain rooted at the test CA (what docker-registry 2.8
//! checks against its rootcertbundle). Wrong or missing credentials get 401; `POST` gets 404 (no
//! OAuth endpoint), so clients must fall back to GET, unless started with `oauth`: then a form
//! `POST` with `grant_type=refresh_token` and the refresh token `refresh-USER` (or
//! `grant_type=password`) gets a token too.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::PrivateKeyDer;
use serde_json::{json, Value};

use super::pki::TestCa;
use super::registry::TokenAuth;

pub const SERVICE: &str = "regctl-test-registry";
pub const ISSUER: &str = "regctl-test-issuer";

pub struct TokenServer {
    pub port: u16,
    pub realm: String,
    /// Every request line seen (method and path with query), for assertions.
    pub requests: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
}

struct State {
    users: Vec<(String, String)>,
    oauth: bool,
    key: EcdsaKeyPair,
    x5c: Vec<String>,
    requests: Arc<Mutex<Vec<String>>>,
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

impl TokenServer {
    /// Starts the server with TLS from `ca` and a signing certificate issued by `ca`.
    pub fn start(ca: &TestCa, users: &[(&str, &str)]) -> TokenServer {
        Self::start_with(ca, users, false)
    }

    /// With `oauth`, POST answers the OAuth2 grants as well.
    pub fn start_with(ca: &TestCa, users: &[(&str, &str)], oauth: bool) -> TokenServer {
        let tls = ca.server(&["127.0.0.1", "localhost"]);
        Self::start_full(ca, tls, users, oauth, "127.0.0.1")
    }

    /// A realm named `name` (to be mapped to 127.0.0.1 in /etc/hosts) whose TLS certificate
    /// comes from `tls_ca`, another CA than the one that signs its tokens.
    pub fn start_named(
        sign_ca: &TestCa,
        tls_ca: &TestCa,
        users: &[(&str, &str)],
        name: &str,
    ) -> TokenServer {
        let tls = tls_ca.server(&[name, "127.0.0.1"]);
        Self::start_full(sign_ca, tls, users, false, name)
    }

    fn start_full(
        ca: &TestCa,
        tls: super::pki::Pem,
        users: &[(&str, &str)],
        oauth: bool,
        realm_host: &str,
    ) -> TokenServer {
        let signer = ca.server(&["regctl-token-signer"]);
        let pkcs8 = match PrivateKeyDer::from_pem_slice(signer.key.as_bytes()).unwrap() {
            PrivateKeyDer::Pkcs8(k) => k.secret_pkcs8_der().to_vec(),
            other => panic!("expected a PKCS#8 key, got {other:?}"),
        };
        let rng = SystemRandom::new();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).unwrap();
        let std64 = base64::engine::general_purpose::STANDARD;
        let state = Arc::new(State {
            users: users
                .iter()
                .map(|(u, p)| (u.to_string(), p.to_string()))
                .collect(),
            oauth,
            key,
            x5c: vec![std64.encode(&signer.der), std64.encode(&ca.pem.der)],
            requests: Arc::new(Mutex::new(Vec::new())),
        });
        let config = tls.server_config();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let requests = state.requests.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let state = state.clone();
                let config = config.clone();
                std::thread::spawn(move || {
                    let Ok(conn) = rustls::ServerConnection::new(config) else {
                        return;
                    };
                    let mut tls = rustls::StreamOwned::new(conn, tcp);
                    let _ = handle(&mut tls, &state);
                });
            }
        });
        TokenServer {
            port,
            realm: format!("https://{realm_host}:{port}/token"),
            requests,
            stop,
        }
    }

    /// The registry's `auth.token` settings for this server.
    pub fn registry_auth(&self, ca: &TestCa) -> TokenAuth {
        TokenAuth {
            realm: self.realm.clone(),
            service: SERVICE.into(),
            issuer: ISSUER.into(),
            root_cert_bundle: ca.pem.cert.clone(),
        }
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn handle<S: Read + Write>(stream: &mut S, state: &State) -> std::io::Result<()> {
    let mut reader = BufReader::new(&mut *stream);
    let mut first = String::new();
    reader.read_line(&mut first)?;
    let mut auth = None;
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            if k.eq_ignore_ascii_case("authorization") {
                auth = Some(v.trim().to_string());
            } else if k.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0);
            }
        }
    }
    let mut form = vec![0u8; length];
    reader.read_exact(&mut form)?;
    drop(reader);
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default().to_string();
    let target = parts.next().unwrap_or_default().to_string();
    state
        .requests
        .lock()
        .unwrap()
        .push(format!("{method} {target}"));
    let url = url::Url::parse(&format!("https://x{target}")).unwrap();
    let (status, body) = match method.as_str() {
        "GET" => {
            let q: Vec<(String, String)> = url.query_pairs().into_owned().collect();
            let user = auth
                .as_deref()
                .and_then(|a| a.strip_prefix("Basic "))
                .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
                .and_then(|raw| String::from_utf8(raw).ok())
                .and_then(|text| {
                    let (u, p) = text.split_once(':')?;
                    state.check_password(u, p)
                });
            respond(&q, user, state)
        }
        "POST" if state.oauth => {
            let q: Vec<(String, String)> =
                url::form_urlencoded::parse(&form).into_owned().collect();
            let get = |k: &str| q.iter().find(|(kk, _)| kk == k).map(|(_, v)| v.as_str());
            let user = match get("grant_type") {
                Some("refresh_token") => state.users.iter().find_map(|(u, _)| {
                    (get("refresh_token") == Some(&format!("refresh-{u}"))).then(|| u.clone())
                }),
                Some("password") => state.check_password(
                    get("username").unwrap_or_default(),
                    get("password").unwrap_or_default(),
                ),
                _ => None,
            };
            // OAuth sends scopes space-separated in one field.
            let mut q2: Vec<(String, String)> =
                q.iter().filter(|(k, _)| k != "scope").cloned().collect();
            for s in get("scope").unwrap_or_default().split_whitespace() {
                q2.push(("scope".into(), s.into()));
            }
            respond(&q2, user, state)
        }
        _ => (404, json!({"error": "no OAuth endpoint"})),
    };
    let body = body.to_string();
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        _ => "Not Found",
    };
    write!(
        stream,
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    stream.flush()
}

impl State {
    fn check_password(&self, user: &str, password: &str) -> Option<String> {
        self.users
            .iter()
            .any(|(u, p)| u == user && p == password)
            .then(|| user.to_string())
    }
}

fn respond(query: &[(String, String)], user: Option<String>, state: &State) -> (u16, Value) {
    let mut service = String::new();
    let mut scopes = Vec::new();
    for (k, v) in query {
        match k.as_str() {
            "service" => service = v.clone(),
            "scope" => scopes.push(v.clone()),
            _ => {}
        }
    }
    let Some(user) = user else {
        return (401, json!({"errors": [{"code": "UNAUTHORIZED"}]}));
    };
    let access: Vec<Value> = scopes
        .iter()
        .filter_map(|s| {
            let mut it = s.splitn(3, ':');
            let (t, n, a) = (it.next()?, it.next()?, it.next()?);
            Some(json!({"type": t, "name": n, "actions": a.split(',').collect::<Vec<_>>()}))
        })
        .collect();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let header = json!({"typ": "JWT", "alg": "ES256", "x5c": state.x5c});
    let claims = json!({
        "iss": ISSUER, "sub": user, "aud": service,
        "exp": now + 300, "nbf": now - 10, "iat": now,
        "jti": format!("regctl-{now}-{}", scopes.len()),
        "access": access,
    });
    let signing_input = format!(
        "{}.{}",
        b64url(header.to_string().as_bytes()),
        b64url(claims.to_string().as_bytes())
    );
    let sig = state
        .key
        .sign(&SystemRandom::new(), signing_input.as_bytes())
        .unwrap();
    let token = format!("{signing_input}.{}", b64url(sig.as_ref()));
    (
        200,
        json!({"token": token, "access_token": token, "expires_in": 300, "refresh_token": format!("refresh-{user}")}),
    )
}
