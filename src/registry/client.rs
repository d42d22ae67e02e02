//! An HTTP client that reaches registries the way dockerd does: TLS verified against the system
//! roots plus certs.d (see `trust`); for registries dockerd treats as insecure (daemon.json
//! `insecure-registries`, CIDRs, and always loopback) TLS without verification and then plain HTTP.
//!
//! Credentials are guarded here, not by callers: a request that carries credentials is never sent
//! over plain HTTP to a host that is not insecure, and redirects are only followed within the same
//! scheme, host and port (so credentials never follow a redirect to another host; the token realm
//! is reached by its own request, not by a redirect).
//!
//! Hostile servers are bounded here too: every request has a time limit (and all of a client's
//! requests together one more, `ClientOptions::deadline`), and bodies are read up to `MAX_BODY`.
//! Response heads are bounded by hyper (about 400 KiB, at most 100 headers).

use std::cell::RefCell;
use std::collections::HashMap;
use std::net::{IpAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use reqwest::blocking::Client;
use reqwest::header::{HeaderMap, HeaderValue, AUTHORIZATION, CONTENT_TYPE, WWW_AUTHENTICATE};
use reqwest::Method;
use url::Url;

use super::challenge::{self, Challenge};
use super::engine::TokenTrust;
use super::trust::{HostTrust, TrustError};
use crate::error_text::chain;
use crate::files::bounded;
use crate::files::daemon_config::InsecureRegistries;
use crate::files::proxies::ProxyEnv;

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("cannot reach {url}: {detail}")]
    Connect { url: String, detail: String },
    #[error("{url} is not a registry (it answered {status} to GET /v2/)")]
    NotARegistry { url: String, status: u16 },
    #[error("{host}: incorrect username or password")]
    Unauthorized { host: String },
    #[error(
        "refusing to send credentials over plain HTTP to {url}: {host} is not an insecure registry"
    )]
    PlainHttpRefused { url: String, host: String },
    #[error("{url} redirected to {location}; regctl does not follow redirects to another host or scheme")]
    Redirect { url: String, location: String },
    #[error("{url} asked for authentication without a usable challenge ({header:?})")]
    NoChallenge { url: String, header: String },
    #[error("the token server {realm} answered {status}: {detail}")]
    TokenServer {
        realm: String,
        status: u16,
        detail: String,
    },
    #[error("the token server {realm} gave an unusable answer: {detail}")]
    BadTokenResponse { realm: String, detail: String },
    #[error("the registry {host} refused the token from {realm} (status {status})")]
    TokenRejected {
        host: String,
        realm: String,
        status: u16,
    },
    #[error("{url} answered {status} unexpectedly")]
    Unexpected { url: String, status: u16 },
    #[error("{0:?} is not a usable URL")]
    BadUrl(String),
    #[error("{url} sent more than {} MiB; a registry or token server answers with a few KB, so regctl stopped reading", MAX_BODY >> 20)]
    TooLarge { url: String },
    #[error("the credentials for {url} cannot go in an HTTP header (they hold control or non-ASCII characters)")]
    BadCredentials { url: String },
    #[error(transparent)]
    Trust(#[from] TrustError),
}

/// How a request reached its host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// TLS verified against the system roots and certs.d.
    Https,
    /// TLS without verification (an insecure registry).
    HttpsUnverified,
    /// Plain HTTP (an insecure registry).
    Http,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Https => "https",
            Transport::HttpsUnverified => "https-unverified",
            Transport::Http => "http",
        }
    }
}

/// The most a response body may hold. Registries answer `/v2/` and token requests with a few KB
/// (a JWT with a certificate chain stays under 16 KB); anything bigger is refused, not buffered.
pub const MAX_BODY: u64 = bounded::limits::HTTP_BODY;

/// Why [`read_capped`] gave up.
#[derive(Debug)]
pub enum CappedRead {
    /// The answer declared or sent more than [`MAX_BODY`].
    TooLarge,
    Io(std::io::Error),
}

/// An answer's body, refused past [`MAX_BODY`] whether or not its length was declared, through
/// the one capped reader (`files::bounded`), so a hostile server cannot fill memory. Also used
/// for AWS answers (`creds::ecr::api`).
pub fn read_capped(mut resp: reqwest::blocking::Response) -> Result<Vec<u8>, CappedRead> {
    if resp.content_length().is_some_and(|n| n > MAX_BODY) {
        return Err(CappedRead::TooLarge);
    }
    bounded::read_capped(&mut resp, MAX_BODY).map_err(|e| {
        if bounded::is_too_large(&e) {
            CappedRead::TooLarge
        } else {
            CappedRead::Io(e)
        }
    })
}

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub certs_dir: PathBuf,
    pub insecure: InsecureRegistries,
    /// dockerd dials with 30 s.
    pub connect_timeout: Duration,
    /// The whole request.
    pub timeout: Duration,
    /// When every request of this client must be done (transport fallbacks and token requests
    /// included); none: each request has `timeout`.
    pub deadline: Option<Instant>,
    /// Token requests to a realm on another host use the TLS settings dockerd would use there:
    /// `(registry host, rule)`. None: the realm host's own certs.d folder.
    pub token_trust: Option<(String, TokenTrust)>,
    /// The proxies to use (Go's rules, NO_PROXY and loopback included); empty: direct. Never
    /// read from the environment here: callers pass what Context resolved.
    pub proxies: ProxyEnv,
}

impl ClientOptions {
    pub fn new(certs_dir: PathBuf, insecure: InsecureRegistries) -> ClientOptions {
        ClientOptions {
            certs_dir,
            insecure,
            connect_timeout: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            deadline: None,
            token_trust: None,
            proxies: ProxyEnv::default(),
        }
    }

    /// All requests together within `total` from now (each also within `timeout`).
    pub fn within(mut self, total: Duration) -> ClientOptions {
        self.connect_timeout = self.connect_timeout.min(total);
        self.timeout = self.timeout.min(total);
        self.deadline = Some(Instant::now() + total);
        self
    }
}

/// What to send. `credentials` marks requests carrying a secret (Authorization or a form).
#[derive(Debug, Clone)]
pub struct Request {
    pub method: Method,
    pub url: Url,
    pub authorization: Option<String>,
    pub form: Option<String>,
    pub credentials: bool,
    /// A request to a token realm (see `ClientOptions::token_trust`).
    pub token: bool,
    /// An Accept header (manifest media types).
    pub accept: Option<String>,
}

impl Request {
    pub fn get(url: Url) -> Request {
        Request {
            method: Method::GET,
            url,
            authorization: None,
            form: None,
            credentials: false,
            token: false,
            accept: None,
        }
    }

    /// A HEAD request accepting these media types (a manifest probe).
    pub fn head(url: Url, accept: &str) -> Request {
        Request {
            method: Method::HEAD,
            accept: Some(accept.to_string()),
            ..Request::get(url)
        }
    }

    /// Adds an Authorization header (a credential).
    pub fn auth(mut self, value: String) -> Request {
        self.authorization = Some(value);
        self.credentials = true;
        self
    }

    /// A POST with a urlencoded form that holds a credential.
    pub fn post_form(url: Url, form: String) -> Request {
        Request {
            method: Method::POST,
            url,
            authorization: None,
            form: Some(form),
            credentials: true,
            token: false,
            accept: None,
        }
    }
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    pub transport: Transport,
    pub url: Url,
}

impl Response {
    pub fn challenges(&self) -> Vec<Challenge> {
        challenge::parse(
            self.headers
                .get_all(WWW_AUTHENTICATE)
                .iter()
                .filter_map(|v| v.to_str().ok()),
        )
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Registry HTTP with dockerd's trust and transport fallbacks. Remembers, per host, which
/// transport worked, so later requests go the same way.
pub struct RegistryClient {
    opts: ClientOptions,
    clients: RefCell<HashMap<(String, Transport), Client>>,
    chosen: RefCell<HashMap<String, Transport>>,
}

/// Where a client's TLS trust comes from.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum TrustFrom {
    /// The system roots and `certs.d/<host[:port]>`.
    Folder(String),
    /// The system roots alone.
    System,
}

/// `host[:port]` of a URL, as a reference names it (the certs.d folder name).
pub fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    }
}

fn resolve(host: &str) -> Vec<IpAddr> {
    (host, 0)
        .to_socket_addrs()
        .map(|it| it.map(|a| a.ip()).collect())
        .unwrap_or_default()
}

impl RegistryClient {
    pub fn new(opts: ClientOptions) -> RegistryClient {
        // reqwest needs a process-wide provider even for plain HTTP clients; ours is ring.
        let _ = rustls::crypto::ring::default_provider().install_default();
        RegistryClient {
            opts,
            clients: RefCell::new(HashMap::new()),
            chosen: RefCell::new(HashMap::new()),
        }
    }

    /// Whether dockerd treats this `host[:port]` as insecure.
    pub fn is_insecure(&self, host: &str) -> bool {
        self.opts.insecure.is_insecure(host, resolve)
    }

    fn client(&self, trust: &TrustFrom, transport: Transport) -> Result<Client, RegistryError> {
        let key = (format!("{trust:?}"), transport);
        if let Some(c) = self.clients.borrow().get(&key) {
            return Ok(c.clone());
        }
        let origin_only = reqwest::redirect::Policy::custom(|attempt| {
            let first = attempt.previous().first().cloned();
            let same = first.is_some_and(|f| {
                f.scheme() == attempt.url().scheme()
                    && f.host_str() == attempt.url().host_str()
                    && f.port_or_known_default() == attempt.url().port_or_known_default()
            });
            if same && attempt.previous().len() < 10 {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let mut builder = with_proxies(Client::builder(), &self.opts.proxies)
            .redirect(origin_only)
            .connect_timeout(self.opts.connect_timeout)
            .timeout(self.opts.timeout)
            .user_agent(concat!("regctl/", env!("CARGO_PKG_VERSION")));
        if transport != Transport::Http {
            let host_trust = match trust {
                TrustFrom::Folder(host) => HostTrust::load(&self.opts.certs_dir, host)?,
                TrustFrom::System => HostTrust::system(),
            };
            let tls = host_trust.client_config(transport == Transport::Https);
            builder = builder.tls_backend_preconfigured((*tls).clone());
        }
        let client = builder.build().map_err(|e| RegistryError::Connect {
            url: match trust {
                TrustFrom::Folder(host) => host.clone(),
                TrustFrom::System => "(system roots)".to_string(),
            },
            detail: chain(&e),
        })?;
        self.clients.borrow_mut().insert(key, client.clone());
        Ok(client)
    }

    /// The time the next request may take: `timeout`, or less when the deadline is nearer.
    fn time_left(&self, url: &Url) -> Result<Duration, RegistryError> {
        let Some(deadline) = self.opts.deadline else {
            return Ok(self.opts.timeout);
        };
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(RegistryError::Connect {
                url: url.to_string(),
                detail: "no time left (--timeout)".into(),
            });
        }
        Ok(left.min(self.opts.timeout))
    }

    fn send_once(
        &self,
        req: &Request,
        url: &Url,
        transport: Transport,
        trust: &TrustFrom,
    ) -> Result<Response, RegistryError> {
        let client = self.client(trust, transport)?;
        let limit = self.time_left(url)?;
        let failed = |e: &dyn std::error::Error, timed_out: bool| RegistryError::Connect {
            url: url.to_string(),
            detail: if timed_out {
                format!("no answer within {} s", limit.as_secs_f32())
            } else {
                chain(e)
            },
        };
        let mut rb = client
            .request(req.method.clone(), url.clone())
            .timeout(limit);
        if let Some(a) = &req.authorization {
            // Never echo the value: it is the secret.
            let mut v = HeaderValue::from_str(a).map_err(|_| RegistryError::BadCredentials {
                url: url.to_string(),
            })?;
            v.set_sensitive(true);
            rb = rb.header(AUTHORIZATION, v);
        }
        if let Some(a) = &req.accept {
            rb = rb.header(reqwest::header::ACCEPT, a.as_str());
        }
        if let Some(f) = &req.form {
            rb = rb
                .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
                .body(f.clone());
        }
        let resp = rb.send().map_err(|e| failed(&e, e.is_timeout()))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let final_url = resp.url().clone();
        if (300..400).contains(&status) {
            let location = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string();
            return Err(RegistryError::Redirect {
                url: url.to_string(),
                location,
            });
        }
        let body = read_capped(resp).map_err(|e| match e {
            CappedRead::TooLarge => RegistryError::TooLarge {
                url: url.to_string(),
            },
            CappedRead::Io(e) => failed(&e, e.kind() == std::io::ErrorKind::TimedOut),
        })?;
        Ok(Response {
            status,
            headers,
            body,
            transport,
            url: final_url,
        })
    }

    /// Sends a request with dockerd's transport rules (see the module docs).
    pub fn send(&self, req: &Request) -> Result<Response, RegistryError> {
        let host = host_port(&req.url);
        if let Some((registry, rule)) = self
            .opts
            .token_trust
            .as_ref()
            .filter(|(r, _)| req.token && *r != host && req.url.scheme() == "https")
        {
            // dockerd's token request: one attempt, no fallback, with the rule's TLS settings.
            let (trust, transport) = match rule {
                TokenTrust::Registry if self.is_insecure(registry) => (
                    TrustFrom::Folder(registry.clone()),
                    Transport::HttpsUnverified,
                ),
                TokenTrust::Registry => (TrustFrom::Folder(registry.clone()), Transport::Https),
                TokenTrust::SystemRoots => (TrustFrom::System, Transport::Https),
            };
            return self.send_once(req, &req.url, transport, &trust);
        }
        let trust = TrustFrom::Folder(host.clone());
        let insecure = self.is_insecure(&host);
        if req.url.scheme() == "http" {
            if req.credentials && !insecure {
                return Err(RegistryError::PlainHttpRefused {
                    url: req.url.to_string(),
                    host,
                });
            }
            return self.send_once(req, &req.url, Transport::Http, &trust);
        }
        if req.url.scheme() != "https" {
            return Err(RegistryError::BadUrl(req.url.to_string()));
        }
        let remembered = self.chosen.borrow().get(&host).copied();
        let order: Vec<Transport> = match remembered {
            Some(t) => vec![t],
            None if insecure => vec![
                Transport::Https,
                Transport::HttpsUnverified,
                Transport::Http,
            ],
            None => vec![Transport::Https],
        };
        let mut first_err = None;
        for t in order {
            let mut url = req.url.clone();
            if t == Transport::Http {
                url.set_scheme("http").expect("http is a valid scheme");
            }
            match self.send_once(req, &url, t, &trust) {
                // A TLS server answering our plain HTTP fallback (Go: "Client sent an HTTP
                // request to an HTTPS server"): the TLS failure is the real story.
                Ok(r) if t == Transport::Http && first_err.is_some() && speaks_https(&r) => {}
                Ok(r) => {
                    self.chosen.borrow_mut().insert(host, t);
                    return Ok(r);
                }
                Err(e @ RegistryError::Connect { .. }) => {
                    first_err.get_or_insert(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(first_err.expect("at least one transport was tried"))
    }

    /// `GET /v2/` without credentials: what the registry is and how it wants to be authenticated.
    pub fn ping(&self, host: &str) -> Result<Ping, RegistryError> {
        let url = Url::parse(&format!("https://{host}/v2/"))
            .map_err(|_| RegistryError::BadUrl(host.to_string()))?;
        let resp = self.send(&Request::get(url.clone()))?;
        let base = base_url(&resp.url);
        match resp.status {
            200 => Ok(Ping {
                base,
                transport: resp.transport,
                challenges: Vec::new(),
            }),
            401 => Ok(Ping {
                base,
                transport: resp.transport,
                challenges: resp.challenges(),
            }),
            status => Err(RegistryError::NotARegistry {
                url: resp.url.to_string(),
                status,
            }),
        }
    }
}

/// A 400 answer saying the server wanted TLS.
fn speaks_https(r: &Response) -> bool {
    r.status == 400 && String::from_utf8_lossy(&r.body).contains("HTTPS server")
}

/// `scheme://host[:port]/` of a response URL.
fn base_url(url: &Url) -> Url {
    let mut base = url.clone();
    base.set_path("/");
    base.set_query(None);
    base
}

/// The answer to `GET /v2/`.
#[derive(Debug, Clone)]
pub struct Ping {
    /// `https://host/` or, for an insecure registry without TLS, `http://host/`.
    pub base: Url,
    pub transport: Transport,
    /// Empty when the registry needs no authentication.
    pub challenges: Vec<Challenge>,
}

impl Ping {
    pub fn v2(&self) -> Url {
        self.base.join("v2/").expect("valid path")
    }
}

/// `builder` without reqwest's automatic system proxy, with `proxies` (Go's choice per URL)
/// instead: the one way every regctl HTTP client gets a proxy.
pub fn with_proxies(
    builder: reqwest::blocking::ClientBuilder,
    proxies: &ProxyEnv,
) -> reqwest::blocking::ClientBuilder {
    let builder = builder.no_proxy();
    if proxies.is_empty() {
        return builder;
    }
    let proxies = proxies.clone();
    builder.proxy(reqwest::Proxy::custom(move |url| proxy_url(&proxies, url)))
}

/// The proxy for one request URL, as Go picks it.
fn proxy_url(proxies: &ProxyEnv, url: &Url) -> Option<Url> {
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Url::parse(&proxies.proxy_for(url.scheme(), host, port)?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_go_over_http_to_a_secure_host() {
        let c = RegistryClient::new(ClientOptions::new(
            "/nonexistent".into(),
            InsecureRegistries::default(),
        ));
        // A name that resolves nowhere is not insecure; the refusal comes before any connection.
        let url = Url::parse("http://registry.invalid:5000/v2/").unwrap();
        let e = c
            .send(&Request::get(url).auth("Basic dTpw".into()))
            .unwrap_err();
        assert!(matches!(e, RegistryError::PlainHttpRefused { .. }), "{e}");
        assert_eq!(
            host_port(&Url::parse("https://[::1]:5000/x").unwrap()),
            "[::1]:5000"
        );
    }

    #[test]
    fn proxies_are_chosen_per_url_by_gos_rules() {
        let proxies = ProxyEnv {
            http_proxy: None,
            https_proxy: Some("127.0.0.1:3128".into()),
            no_proxy: Some("skip.example.com".into()),
        };
        let url = |u: &str| Url::parse(u).unwrap();
        assert_eq!(
            proxy_url(&proxies, &url("https://r.example.com/v2/")).map(|u| u.to_string()),
            Some("http://127.0.0.1:3128/".to_string())
        );
        assert_eq!(
            proxy_url(&proxies, &url("https://skip.example.com/v2/")),
            None
        );
        assert_eq!(
            proxy_url(&proxies, &url("https://127.0.0.1:5000/v2/")),
            None
        );
        assert_eq!(proxy_url(&proxies, &url("http://r.example.com/v2/")), None);
    }
}
