//! `doctor --explain "TEXT"`: maps an error pasted from docker, containerd, skopeo or podman to
//! its likely causes, the doctor checks that would confirm them, and the fixes. Offline: it reads
//! only the text (Go's newer "tls: failed to verify certificate: " prefix included).

use serde::Serialize;

use std::path::Path;

use super::ids;
use crate::hints;
use crate::names::validate_host_port;
use crate::registry::engine::{Engine, TokenTrust};

/// One recognised error and what it means.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// Stable id of the recognised error.
    pub error: &'static str,
    /// The part of the text that was recognised.
    pub matched: String,
    pub causes: Vec<String>,
    /// doctor check ids that would confirm each cause.
    pub checks: Vec<&'static str>,
    pub fixes: Vec<String>,
}

/// The Docker the fixes are for (rules differ by version and image store).
pub struct Facing<'a> {
    pub engine: &'a Engine,
    pub certs_dir: &'a Path,
}

/// Everything recognised in the text, most specific first. Empty when nothing is known. The
/// fixes that differ between Docker versions and image stores are given for every one.
pub fn explain(text: &str) -> Vec<Explanation> {
    explain_for(text, None)
}

/// `explain`, with the fixes of the Docker regctl faces when known.
pub fn explain_for(text: &str, facing: Option<&Facing<'_>>) -> Vec<Explanation> {
    let scene = Scene::read(text, facing);
    RULES
        .iter()
        .filter_map(|rule| {
            let hit = (rule.find)(&scene)?;
            Some(Explanation {
                error: rule.error,
                matched: hit.matched.unwrap_or(rule.matched).to_string(),
                causes: rule.causes.iter().map(|c| c.to_string()).collect(),
                checks: rule.checks.to_vec(),
                fixes: (rule.fixes)(&scene, &hit.value),
            })
        })
        .collect()
}

/// The pasted text, read once: what every rule looks at.
struct Scene<'a> {
    text: &'a str,
    lower: String,
    realm: Option<Realm>,
    /// The registry the text names, when it names a valid one.
    host: Option<String>,
    /// `host`, or `REGISTRY` for commands.
    h: String,
    facing: Option<&'a Facing<'a>>,
}

impl<'a> Scene<'a> {
    fn read(text: &'a str, facing: Option<&'a Facing<'a>>) -> Scene<'a> {
        let realm = token_realm(text);
        let host = match &realm {
            Some(r) => r.registry.clone(),
            None => registry_host(text),
        };
        Scene {
            text,
            lower: text.to_ascii_lowercase(),
            realm,
            h: host.clone().unwrap_or_else(|| "REGISTRY".to_string()),
            host,
            facing,
        }
    }

    fn has(&self, needle: &str) -> bool {
        self.lower.contains(needle)
    }
}

/// What a rule found: the matched text when it differs from the rule's, and a value from the
/// text (an address, a helper name) its fixes use.
#[derive(Default)]
struct Hit {
    matched: Option<&'static str>,
    value: String,
}

fn hit_if(found: bool) -> Option<Hit> {
    found.then(Hit::default)
}

/// One recognised error: how it is found, what it means, which doctor checks confirm it, and the
/// fixes (built by hints).
struct Rule {
    error: &'static str,
    matched: &'static str,
    causes: &'static [&'static str],
    checks: &'static [&'static str],
    find: fn(&Scene) -> Option<Hit>,
    fixes: fn(&Scene, &str) -> Vec<String>,
}

/// The recognised errors, most specific first.
const RULES: &[Rule] = &[
    Rule {
        error: "tls.realm_untrusted",
        matched: "a token request (Bearer realm) failed TLS verification: x509: ...",
        causes: &[
            "the registry sends clients to a token server on another host whose certificate dockerd does not trust",
            "dockerd's classic image store reaches the realm with the REGISTRY's TLS settings (its certs.d folder), not the realm's folder",
            "dockerd's containerd image store trusts only the system roots for the realm",
        ],
        checks: &[ids::TLS_REALM_UNTRUSTED],
        find: |s| hit_if(s.realm.is_some() && s.has("x509: ")),
        fixes: |s, _| {
            let Some(r) = &s.realm else { return Vec::new() };
            let folder = || {
                hints::realm_ca_in_registry_folder(
                    s.facing.map_or(Path::new(DEFAULT_CERTS_DIR), |f| f.certs_dir),
                    &s.h,
                    &r.realm,
                )
            };
            let roots = || hints::realm_ca_in_system_roots(&r.realm);
            match s.facing.map(|f| f.engine.token_trust()) {
                Some(TokenTrust::Registry) => vec![folder()],
                Some(TokenTrust::SystemRoots) => vec![roots()],
                None => vec![
                    format!("classic image store: {}", folder()),
                    format!("containerd image store: {}", roots()),
                ],
            }
        },
    },
    Rule {
        error: "x509.unknown_authority",
        matched: "x509: certificate signed by unknown authority",
        causes: &[
            "the registry's certificate comes from a private CA that dockerd does not trust (no ca.crt in /etc/docker/certs.d/HOST:PORT/)",
            "a TLS-intercepting proxy or security appliance re-signs traffic: its CA, not the registry's, signed what you see (doctor names the issuer)",
            "the certs.d folder name does not match the registry exactly, port included",
        ],
        checks: &[ids::TLS_UNKNOWN_AUTHORITY, ids::CERTS_LINT],
        find: |s| hit_if(s.has("certificate signed by unknown authority") && s.realm.is_none()),
        fixes: |s, _| {
            vec![
                hints::trust_ca_file(&s.h),
                hints::trust_ca_from_server(&s.h),
                hints::doctor(&s.h, Some("names the issuer and checks certs.d")),
            ]
        },
    },
    Rule {
        error: "x509.hostname_mismatch",
        matched: "x509: certificate is valid for ..., not ...",
        causes: &[
            "the certificate does not name the host you pull from (a different name, an IP address, or a missing subjectAltName)",
            "a load balancer or proxy presents its own certificate",
        ],
        checks: &[ids::TLS_HOSTNAME_MISMATCH],
        find: |s| {
            hostname_mismatch(s.text).map(|(valid_for, not)| Hit {
                matched: None,
                value: format!("{valid_for}\n{not}"),
            })
        },
        fixes: |_, v| {
            let (valid_for, not) = v.split_once('\n').unwrap_or((v, ""));
            vec![
                hints::pull_with_listed_name(valid_for, not),
                hints::reissue_with_san_either(not),
            ]
        },
    },
    Rule {
        error: "x509.hostname_mismatch",
        matched: "x509: cannot validate certificate for IP because it doesn't contain any IP SANs",
        causes: &[
            "the image name uses an IP address, and the certificate lists no IP address (only DNS names)",
            "a load balancer or proxy presents its own certificate",
        ],
        checks: &[ids::TLS_HOSTNAME_MISMATCH],
        find: |s| {
            no_ip_sans(s.text).map(|ip| Hit {
                matched: None,
                value: ip,
            })
        },
        fixes: |_, ip| {
            vec![
                hints::pull_with_dns_name(),
                format!("or {}", hints::reissue_with_san(ip)),
            ]
        },
    },
    Rule {
        error: "auth.unauthorized",
        matched: "Error: Cannot perform an interactive login from a non TTY device",
        causes: &[
            "the registry answered the pull with 401 (no credentials, or wrong ones) and the docker CLI tried to ask for a login on a terminal it does not have",
            "the stored credentials are wrong or expired, or stored under another key",
        ],
        checks: &[ids::AUTH_NO_CREDENTIALS, ids::AUTH_BAD_CREDENTIALS],
        find: |s| hit_if(s.has("cannot perform an interactive login from a non tty device")),
        fixes: login_then_doctor,
    },
    Rule {
        error: "x509.legacy_common_name",
        matched: "x509: certificate relies on legacy Common Name field, use SANs instead",
        causes: &["the certificate names the host only in its Common Name; Go (and so docker) ignores CN since Go 1.15"],
        checks: &[ids::TLS_HOSTNAME_MISMATCH],
        find: |s| hit_if(s.has("legacy common name field")),
        fixes: |s, _| {
            let host = s.host.as_deref().map(|h| h.split(':').next().unwrap_or(h));
            vec![hints::reissue_without_common_name(host.unwrap_or("HOST"))]
        },
    },
    Rule {
        error: "x509.expired",
        matched: "x509: certificate has expired or is not yet valid",
        causes: &[
            "the registry's certificate (or an intermediate) has expired",
            "this machine's clock is wrong (doctor compares it with the server's Date header)",
        ],
        checks: &[ids::TLS_EXPIRED, ids::TLS_NOT_YET_VALID],
        find: |s| hit_if(s.has("certificate has expired")),
        fixes: |_, _| vec![hints::renew_certificate(None), hints::check_clock()],
    },
    Rule {
        error: "tls.client_certificate_refused",
        matched: "remote error: tls: ...",
        causes: &[
            "the registry requires a client certificate (mTLS) and dockerd found no NAME.cert/NAME.key pair in /etc/docker/certs.d/HOST:PORT/",
            "the pair there is not issued by a CA the registry accepts, or has expired",
            "with TLS 1.3 this arrives after the handshake, on the first request",
        ],
        checks: &[ids::TLS_CLIENT_CERTIFICATE_REFUSED],
        find: |s| {
            client_cert_alert(&s.lower).map(|alert| Hit {
                matched: Some(alert),
                value: String::new(),
            })
        },
        fixes: |s, _| vec![hints::client_certificate(&s.h)],
    },
    Rule {
        error: "http.plain_http",
        matched: "http: server gave HTTP response to HTTPS client",
        causes: &[
            "the registry speaks plain HTTP and is not in daemon.json insecure-registries",
            "it was added to insecure-registries but dockerd was not reloaded",
            "the port is wrong: the HTTPS port is elsewhere",
        ],
        checks: &[ids::HTTP_PLAIN_HTTP_NOT_INSECURE],
        find: |s| hit_if(s.has("server gave http response to https client")),
        fixes: |s, _| vec![hints::insecure_add_and_reload(&s.h), hints::serve_over_tls()],
    },
    Rule {
        error: "net.tls_handshake_timeout",
        matched: "net/http: TLS handshake timeout",
        causes: &[
            "the server accepted TCP but did not finish TLS within dockerd's 10 s (wrong port, a non-TLS service, an overloaded registry)",
            "a firewall or MTU problem drops the larger handshake packets",
            "a proxy in dockerd's environment stalls the connection",
        ],
        checks: &[ids::TLS_HANDSHAKE_TIMEOUT, ids::PROXY_USED],
        find: |s| hit_if(s.has("tls handshake timeout")),
        fixes: |s, _| {
            vec![hints::doctor(
                &format!("{} --timeout 10", s.h),
                Some("times TCP and TLS separately"),
            )]
        },
    },
    Rule {
        error: "net.dial_timeout",
        matched: "dial tcp ...: i/o timeout",
        causes: &[
            "a firewall drops packets to the registry's port, or the host is down",
            "dockerd needs a proxy to reach it (proxies are read from dockerd's environment, not the shell)",
        ],
        checks: &[ids::TCP_TIMEOUT, ids::PROXY_NONE, ids::PROXY_DIFFERS],
        find: |s| hit_if(s.has("i/o timeout") && s.has("dial tcp")),
        fixes: |s, _| vec![hints::doctor(&s.h, None), hints::dockerd_proxy()],
    },
    Rule {
        error: "net.header_timeout",
        matched: "Client.Timeout exceeded while awaiting headers",
        causes: &[
            "the registry (or a proxy in front of it) accepted the request but did not answer in time",
            "on Docker Hub: network filtering or a slow mirror",
        ],
        checks: &[ids::REGISTRY_OK, ids::PROXY_USED],
        find: |s| hit_if(s.has("client.timeout exceeded while awaiting headers")),
        fixes: |s, _| vec![hints::doctor(&s.h, Some("times each phase"))],
    },
    Rule {
        error: "auth.no_basic_auth_credentials",
        matched: "no basic auth credentials",
        causes: &[
            "you are not logged in to this registry (no entry under its exact key in config.json)",
            "the credential helper failed or returned nothing (amazon-ecr-credential-helper hides its errors this way)",
            "sudo docker reads /root/.docker/config.json, not yours",
        ],
        checks: &[ids::AUTH_NO_CREDENTIALS, ids::CREDS_HELPER_MISSING],
        find: |s| hit_if(s.has("no basic auth credentials")),
        fixes: |s, _| vec![hints::login(&s.h), hints::creds_list()],
    },
    Rule {
        error: "auth.robot_name_expanded",
        matched: "robot$NAME without single quotes",
        causes: &[
            "a Harbor robot account is named robot$NAME (robot$PROJECT+NAME); in double quotes or none, the shell replaces $NAME with an empty variable, so the registry sees the user \"robot\" and refuses it",
        ],
        checks: &[ids::AUTH_BAD_CREDENTIALS],
        find: |s| hit_if(robot_name_expanded(s.text)),
        fixes: |s, _| vec![hints::quote_robot_account(&s.h)],
    },
    Rule {
        error: "auth.unauthorized",
        matched: "unauthorized: authentication required",
        causes: &[
            "no credentials were sent: not logged in, or stored under another key",
            "the stored credentials are wrong or expired (tokens, ECR's 12-hour passwords)",
        ],
        checks: &[ids::AUTH_NO_CREDENTIALS, ids::AUTH_BAD_CREDENTIALS],
        find: |s| {
            if unexpected_status(&s.lower, "401") {
                Some(Hit {
                    matched: Some("unexpected status from ... request to ...: 401 Unauthorized"),
                    value: String::new(),
                })
            } else {
                hit_if(
                    s.has("unauthorized")
                        && (s.has("authentication required")
                            || s.has("incorrect username or password")),
                )
            }
        },
        fixes: login_then_doctor,
    },
    Rule {
        error: "auth.denied",
        matched: "denied: requested access to the resource is denied",
        causes: &[
            "the account may log in but lacks pull or push rights on this repository",
            "the repository name is wrong (e.g. pushing to docker.io/library/NAME, or a missing namespace)",
            "not logged in at all (some registries say denied rather than unauthorized)",
        ],
        checks: &[ids::AUTH_OK, ids::AUTH_NO_CREDENTIALS],
        find: |s| {
            if unexpected_status(&s.lower, "403") {
                Some(Hit {
                    matched: Some("unexpected status from ... request to ...: 403 Forbidden"),
                    value: String::new(),
                })
            } else {
                hit_if(s.has("requested access to the resource is denied"))
            }
        },
        fixes: |s, _| vec![hints::login(&s.h), hints::check_repository_permissions()],
    },
    Rule {
        error: "registry.rate_limited",
        matched: "toomanyrequests",
        causes: &[
            "the registry rate-limits this client (Docker Hub limits anonymous pulls per IP)",
            "behind NAT or a shared proxy, every machine's anonymous pulls count against the same address",
            "a pull-through mirror passes Docker Hub's answer on: its own pulls from Hub are limited too, unless it logs in",
        ],
        checks: &[ids::AUTH_NO_CREDENTIALS],
        find: |s| hit_if(s.has("toomanyrequests")),
        fixes: |_, _| vec![hints::login_docker_hub_for_limit(), hints::pull_through_mirror()],
    },
    Rule {
        error: "registry.manifest_unknown",
        matched: "manifest unknown",
        causes: &[
            "the image or tag does not exist under that name (a typo, a tag that was deleted, or a missing namespace such as library/)",
            "a registry-mirrors entry is a registry of its own, not a Docker Hub pull-through mirror: it answers /v2/ but holds none of Docker Hub's images",
            "the image has no manifest for this platform",
        ],
        checks: &[ids::REGISTRY_API],
        find: |s| hit_if(s.has("manifest unknown")),
        fixes: |s, _| {
            vec![
                hints::doctor(&s.h, Some("checks each registry mirror")),
                format!("if a mirror does not serve Docker Hub's images: {}", hints::mirror_remove("URL", false)),
            ]
        },
    },
    Rule {
        error: "creds.helper_missing",
        matched: "error getting credentials - err: exec: ...: executable file not found in $PATH",
        causes: &["config.json names a credential helper (credsStore or credHelpers) whose program is not on PATH"],
        checks: &[ids::CREDS_HELPER_MISSING],
        find: |s| {
            missing_helper(s.text).map(|helper| Hit {
                matched: None,
                value: helper,
            })
        },
        fixes: |_, helper| {
            vec![
                hints::install_credential_helper(helper),
                hints::creds_list_configured(),
            ]
        },
    },
    Rule {
        error: "proxy.unreachable",
        matched: "proxyconnect tcp: ...",
        causes: &[
            "the proxy configured for dockerd (or this shell) does not accept connections",
            "dockerd takes its proxy from daemon.json's proxies or its own environment (systemd), not from the shell that runs docker pull",
        ],
        checks: &[ids::PROXY_UNREACHABLE],
        find: |s| hit_if(s.has("proxyconnect tcp")),
        fixes: |s, _| {
            vec![
                hints::doctor(&s.h, Some("shows which proxy and where it is set")),
                hints::bypass_dockerd_proxy(&s.h),
            ]
        },
    },
    Rule {
        error: "dns.no_such_host",
        matched: "lookup ...: no such host",
        causes: &["the name does not resolve from this host (typo, missing DNS record, /etc/hosts only on another machine, split DNS over VPN)"],
        checks: &[ids::DNS_NO_SUCH_HOST],
        find: |s| {
            no_such_host(s.text).map(|name| Hit {
                matched: None,
                // The name goes into commands the user may copy: only a valid host name is
                // repeated.
                value: if validate_host_port(&name).is_ok() {
                    name
                } else {
                    "HOST".to_string()
                },
            })
        },
        fixes: |_, name| vec![hints::check_name(name), hints::etc_hosts(name)],
    },
    Rule {
        error: "tcp.refused",
        matched: "connection refused",
        causes: &["nothing listens on that host and port (registry down, wrong port)"],
        checks: &[ids::TCP_REFUSED],
        find: |s| hit_if(s.has("connection refused") && !s.has("proxyconnect")),
        fixes: |s, _| vec![hints::doctor(&s.h, None)],
    },
    Rule {
        error: "creds.pass_not_initialized",
        matched: "pass not initialized",
        causes: &["credsStore is \"pass\" but the password store has no GPG key yet"],
        checks: &[ids::CREDS_HELPER_OK],
        find: |s| hit_if(s.has("pass not initialized")),
        fixes: |_, _| vec![hints::pass_init(), hints::login_keychain_store()],
    },
    Rule {
        error: "creds.no_secret_service",
        matched: "Cannot autolaunch D-Bus / org.freedesktop.secrets not provided",
        causes: &["credsStore is \"secretservice\" but no Secret Service runs (a headless server or an SSH session without a D-Bus session)"],
        checks: &[ids::CREDS_HELPER_OK],
        find: |s| hit_if(s.has("org.freedesktop.secrets") || s.has("cannot autolaunch d-bus")),
        fixes: |s, _| vec![hints::start_secret_service_session(), hints::login_file_store(&s.h)],
    },
];

fn login_then_doctor(s: &Scene, _: &str) -> Vec<String> {
    vec![
        hints::login(&s.h),
        hints::doctor(&s.h, Some("tries the stored credentials")),
    ]
}

/// A Harbor robot account (`robot$NAME`) typed where the shell expands `$NAME`: in double
/// quotes or bare in a command line, or already expanded (`-u robot ` / `"robot"` as the user).
fn robot_name_expanded(text: &str) -> bool {
    let bare_user = [
        "-u robot ",
        "--username robot ",
        "--username=robot ",
        "user \"robot\"",
        "username \"robot\"",
    ];
    if bare_user.iter().any(|p| text.contains(p)) || text.ends_with("-u robot") {
        return true;
    }
    text.match_indices("robot$").any(|(i, _)| {
        // Inside single quotes the shell keeps `$`: count the quotes before it on its line.
        let line_start = text[..i].rfind('\n').map_or(0, |n| n + 1);
        text[line_start..i].matches('\'').count().is_multiple_of(2)
    })
}

const DEFAULT_CERTS_DIR: &str = "/etc/docker/certs.d";

/// A token request named in an error: its realm host, and the registry when the text names the
/// image (`failed to resolve reference "HOST/REPO:TAG"`).
struct Realm {
    realm: String,
    registry: Option<String>,
}

/// dockerd quotes the token URL (`Get "https://auth/token?scope=...&service=..."`, containerd:
/// `failed to fetch oauth token: Post "https://auth/token"` or `failed to fetch anonymous
/// token`).
fn token_realm(text: &str) -> Option<Realm> {
    let lower = text.to_ascii_lowercase();
    let by_words = lower.contains("failed to fetch oauth token")
        || lower.contains("failed to fetch anonymous token")
        || lower.contains("failed to authorize");
    let urls: Vec<url::Url> = text
        .match_indices("http")
        .filter_map(|(i, _)| {
            let rest = &text[i..];
            if !(rest.starts_with("https://") || rest.starts_with("http://")) {
                return None;
            }
            let end = rest.find(['"', ' ', '\'', '`']).unwrap_or(rest.len());
            url::Url::parse(&rest[..end]).ok()
        })
        .collect();
    let is_token = |u: &url::Url| {
        u.query_pairs()
            .any(|(k, _)| k == "scope" || k == "service" || k == "account")
    };
    let token_url = match urls.iter().find(|u| is_token(u)) {
        Some(u) => u,
        // containerd names the realm without a query: the URL after "fetch ... token".
        None if by_words => urls.iter().rfind(|u| !u.path().starts_with("/v2/"))?,
        None => return None,
    };
    let realm = crate::registry::client::host_port(token_url);
    validate_host_port(&realm).ok()?;
    let quoted_ref = text
        .split("failed to resolve reference \"")
        .nth(1)
        .and_then(|r| r.split(['/', '"']).next())
        .map(str::to_string);
    // dockerd's classic store: `Head "https://REGISTRY/v2/...": Get "https://REALM/token?..."`.
    let registry_url = urls
        .iter()
        .find(|u| u.path().starts_with("/v2/"))
        .map(crate::registry::client::host_port);
    let registry = quoted_ref
        .or(registry_url)
        .filter(|h| *h != realm && validate_host_port(h).is_ok());
    Some(Realm { realm, registry })
}

/// The registry named in a Go error: the host of the first URL, or `lookup HOST`. Only a valid
/// `host[:port]` is returned: it goes into suggested commands, and part of the pasted text can
/// come from a hostile server (a token realm, a redirect), so nothing else may reach a shell.
pub fn registry_host(text: &str) -> Option<String> {
    for scheme in ["https://", "http://"] {
        if let Some(i) = text.find(scheme) {
            let rest = &text[i + scheme.len()..];
            let end = rest.find(['/', '"', ' ', '\'', '`']).unwrap_or(rest.len());
            let host = &rest[..end];
            if validate_host_port(host).is_ok() {
                return Some(host.to_string());
            }
        }
    }
    no_such_host(text).filter(|h| validate_host_port(h).is_ok())
}

/// `x509: certificate is valid for A, B, not C` -> ("A, B", "C").
fn hostname_mismatch(text: &str) -> Option<(String, String)> {
    let start = text.find("certificate is valid for ")? + "certificate is valid for ".len();
    let rest = &text[start..];
    let not = rest.find(", not ")?;
    let valid_for = rest[..not].to_string();
    let after = &rest[not + ", not ".len()..];
    let end = after
        .find(|c: char| c.is_whitespace() || c == '"')
        .unwrap_or(after.len());
    Some((
        valid_for,
        after[..end].trim_end_matches(['.', ',']).to_string(),
    ))
}

/// containerd's wording (Docker's containerd image store): `unexpected status from HEAD request
/// to https://HOST/v2/...: 401 Unauthorized`.
fn unexpected_status(lower: &str, status: &str) -> bool {
    lower.split("unexpected status from ").skip(1).any(|rest| {
        rest.split_once(": ")
            .is_some_and(|(_, after)| after.starts_with(status))
    })
}

/// Go's `remote error: tls: ALERT` for the alerts a server sends about the client certificate.
fn client_cert_alert(lower: &str) -> Option<&'static str> {
    [
        "remote error: tls: bad certificate",
        "remote error: tls: certificate required",
        "remote error: tls: unknown certificate authority",
        "remote error: tls: unknown certificate",
        "remote error: tls: handshake failure",
    ]
    .into_iter()
    .find(|a| lower.contains(a))
}

/// `x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs` ->
/// the address (only when it is one: it goes into a suggested command).
fn no_ip_sans(text: &str) -> Option<String> {
    let start =
        text.find("cannot validate certificate for ")? + "cannot validate certificate for ".len();
    let rest = &text[start..];
    let ip = rest.split(' ').next()?;
    rest.contains("doesn't contain any IP SANs").then_some(())?;
    ip.parse::<std::net::IpAddr>().ok().map(|a| a.to_string())
}

/// `exec: "docker-credential-X": executable file not found` -> "X".
fn missing_helper(text: &str) -> Option<String> {
    if !text.contains("executable file not found") {
        return None;
    }
    let start = text.find("docker-credential-")? + "docker-credential-".len();
    let rest = &text[start..];
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
        .unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

/// `lookup HOST on 1.2.3.4:53: no such host` or `lookup HOST: no such host` -> "HOST".
fn no_such_host(text: &str) -> Option<String> {
    if !text.contains("no such host") {
        return None;
    }
    let start = text.find("lookup ")? + "lookup ".len();
    let rest = &text[start..];
    let end = rest.find([' ', ':']).unwrap_or(rest.len());
    Some(rest[..end].to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(text: &str) -> Vec<&'static str> {
        explain(text).iter().map(|e| e.error).collect()
    }

    #[test]
    fn every_facts_error_string_is_recognised() {
        let cases = [
            ("Error response from daemon: Get \"https://r.example.com:5000/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority", "x509.unknown_authority"),
            ("x509: certificate is valid for registry.internal, not r.example.com", "x509.hostname_mismatch"),
            ("x509: certificate relies on legacy Common Name field, use SANs instead", "x509.legacy_common_name"),
            ("x509: certificate has expired or is not yet valid: current time 2026-11-23T06:00:00Z is after 2025-01-01T00:00:00Z", "x509.expired"),
            ("Get \"https://10.0.0.5:5000/v2/\": http: server gave HTTP response to HTTPS client", "http.plain_http"),
            ("Get \"https://r.example.com/v2/\": net/http: TLS handshake timeout", "net.tls_handshake_timeout"),
            ("Get \"https://r.example.com/v2/\": dial tcp 10.1.1.1:443: i/o timeout", "net.dial_timeout"),
            ("Get \"https://registry-1.docker.io/v2/\": net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)", "net.header_timeout"),
            ("Error response from daemon: Get \"https://r.example.com/v2/x/manifests/1\": no basic auth credentials", "auth.no_basic_auth_credentials"),
            ("Error response from daemon: unauthorized: authentication required", "auth.unauthorized"),
            ("denied: requested access to the resource is denied", "auth.denied"),
            ("Error response from daemon: unexpected status from HEAD request to https://10.0.0.5:5000/v2/hello/manifests/v1: 401 Unauthorized", "auth.unauthorized"),
            ("failed to resolve reference \"10.0.0.5:5000/hello:v1\": unexpected status from HEAD request to https://10.0.0.5:5000/v2/hello/manifests/v1: 403 Forbidden", "auth.denied"),
            ("toomanyrequests: You have reached your pull rate limit.", "registry.rate_limited"),
            ("error getting credentials - err: exec: \"docker-credential-desktop\": executable file not found in $PATH, out: ``", "creds.helper_missing"),
            ("Get \"https://r.example.com/v2/\": proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused", "proxy.unreachable"),
            ("Get \"https://r.example.invalid/v2/\": dial tcp: lookup r.example.invalid on 10.0.0.2:53: no such host", "dns.no_such_host"),
            ("dial tcp 127.0.0.1:5000: connect: connection refused", "tcp.refused"),
            ("Get \"https://10.0.0.5:5000/v2/\": tls: failed to verify certificate: x509: cannot validate certificate for 10.0.0.5 because it doesn't contain any IP SANs", "x509.hostname_mismatch"),
            ("Error: Cannot perform an interactive login from a non TTY device", "auth.unauthorized"),
            ("Error response from daemon: Head \"https://10.0.0.5:5000/v2/hello/manifests/v1\": Get \"https://auth.example.com:8443/token?account=alice&scope=repository%3Ahello%3Apull&service=reg\": tls: failed to verify certificate: x509: certificate signed by unknown authority", "tls.realm_untrusted"),
            ("Error response from daemon: failed to resolve reference \"10.0.0.5:5000/hello:v1\": failed to authorize: failed to fetch oauth token: Post \"https://auth.example.com:8443/token\": tls: failed to verify certificate: x509: certificate signed by unknown authority", "tls.realm_untrusted"),
            ("Error response from daemon: Get \"https://10.0.0.5:5000/v2/\": remote error: tls: bad certificate", "tls.client_certificate_refused"),
            ("error getting credentials - err: exit status 1, out: `pass not initialized: exit status 1: Error: password store is empty.`", "creds.pass_not_initialized"),
            ("error getting credentials - err: exit status 1, out: `Cannot autolaunch D-Bus without X11 $DISPLAY`", "creds.no_secret_service"),
        ];
        for (text, id) in cases {
            assert!(
                errors(text).contains(&id),
                "{text:?} gave {:?}",
                errors(text)
            );
        }
        let proxy =
            errors("proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused");
        assert!(
            !proxy.contains(&"tcp.refused"),
            "a refused proxy is not a refused registry"
        );
    }

    #[test]
    fn details_are_taken_from_the_text() {
        let e = explain(
            "x509: certificate is valid for registry.internal, 10.0.0.5, not r.example.com",
        );
        assert!(e[0].fixes[0].contains("registry.internal, 10.0.0.5"));
        assert!(e[0].fixes[1].contains("DNS:r.example.com"));
        let e = explain("Get \"https://r.example.com:5000/v2/\": http: server gave HTTP response to HTTPS client");
        assert_eq!(
            e[0].fixes[0],
            "sudo regctl insecure add r.example.com:5000 && sudo regctl daemon reload"
        );
        assert_eq!(
            missing_helper(
                "exec: \"docker-credential-ecr-login\": executable file not found in $PATH"
            )
            .as_deref(),
            Some("ecr-login")
        );
        assert!(explain("everything is fine").is_empty());
    }

    /// Found against dockerd: a token realm's TLS failure was explained as the registry's (or
    /// the realm's) unknown CA, with a trust-ca fix naming the realm host, which fixes nothing.
    #[test]
    fn a_token_realms_tls_failure_names_the_fix_of_the_image_store() {
        let classic = "Error response from daemon: Head \"https://10.0.0.5:5000/v2/hello/manifests/v1\": Get \"https://auth.example.com:8443/token?account=alice&scope=repository%3Ahello%3Apull&service=reg\": x509: certificate signed by unknown authority";
        let engine = |store: bool| {
            let daemon = serde_json::json!({"features": {"containerd-snapshotter": store}});
            Engine::new(
                crate::registry::engine::Version::new(26, 1),
                crate::registry::engine::Source::Given,
                crate::registry::engine::Version::new(28, 2),
                crate::registry::engine::Source::Given,
                daemon.as_object().unwrap(),
            )
        };
        let (classic_engine, containerd_engine) = (engine(false), engine(true));
        let certs = Path::new("/etc/docker/certs.d");
        let facing = Facing {
            engine: &classic_engine,
            certs_dir: certs,
        };
        let e = explain_for(classic, Some(&facing));
        assert_eq!(errors(classic), vec!["tls.realm_untrusted"]);
        assert_eq!(
            e[0].fixes,
            vec![hints::realm_ca_in_registry_folder(
                certs,
                "10.0.0.5:5000",
                "auth.example.com:8443"
            )]
        );
        let facing = Facing {
            engine: &containerd_engine,
            certs_dir: certs,
        };
        let e = explain_for(classic, Some(&facing));
        assert_eq!(
            e[0].fixes,
            vec![hints::realm_ca_in_system_roots("auth.example.com:8443")]
        );
        assert_eq!(
            explain(classic)[0].fixes.len(),
            2,
            "both stores' fixes when the Docker is unknown"
        );
    }

    /// Found by the explain fuzz target: the host was cut out of the text as is, control
    /// characters and shell syntax included, and put into commands meant to be copied.
    #[test]
    fn only_valid_host_names_reach_suggested_commands() {
        assert_eq!(registry_host("http://\0"), None);
        assert_eq!(
            registry_host("Get \"https://r.example.com\u{1}\u{e}/v2/x/manifests/1\": no basic auth credentials"),
            None
        );
        let e = explain(
            "Get \"https://r$(id):5000/v2/\": x509: certificate signed by unknown authority",
        );
        assert_eq!(
            e[0].fixes[0],
            "sudo regctl trust-ca REGISTRY /path/to/ca.crt"
        );
        let e = explain("dial tcp: lookup a';touch${IFS}x;' on 10.0.0.2:53: no such host");
        assert_eq!(e[0].error, "dns.no_such_host");
        assert_eq!(e[0].fixes[0], "check the name: getent hosts HOST");
        assert_eq!(
            registry_host(
                "Get \"https://[::1]:5000/v2/\": http: server gave HTTP response to HTTPS client"
            )
            .as_deref(),
            Some("[::1]:5000")
        );
    }

    fn explained(text: &str, id: &str) -> Explanation {
        explain(text)
            .into_iter()
            .find(|e| e.error == id)
            .unwrap_or_else(|| panic!("{text:?} is not explained as {id}: {:?}", errors(text)))
    }

    /// Docker Hub's limit, met directly or through a mirror that passes Hub's answer on.
    #[test]
    fn rate_limits_name_login_and_mirrors() {
        let e = explained("Error response from daemon: toomanyrequests: You have reached your unauthenticated pull rate limit. https://www.docker.com/increase-rate-limit", "registry.rate_limited");
        assert!(
            e.causes.iter().any(|c| c.contains("pull-through mirror")),
            "{e:?}"
        );
        assert_eq!(
            e.fixes,
            vec![
                hints::login_docker_hub_for_limit(),
                hints::pull_through_mirror()
            ]
        );
        assert_eq!(e.checks, vec![ids::AUTH_NO_CREDENTIALS]);
    }

    /// A mirror that is a registry of its own answers Hub names with "manifest unknown".
    #[test]
    fn manifest_unknown_suspects_a_mirror_that_is_no_hub_mirror() {
        let e = explained("Error response from daemon: manifest for nginx:latest not found: manifest unknown: manifest unknown", "registry.manifest_unknown");
        assert!(
            e.causes
                .iter()
                .any(|c| c.contains("not a Docker Hub pull-through mirror")),
            "{e:?}"
        );
        assert!(
            e.fixes[1].ends_with("sudo regctl mirror remove URL && sudo regctl daemon reload"),
            "{e:?}"
        );
        assert!(errors("unknown blob").is_empty());
    }

    /// A proxy that refuses: dockerd's proxy comes from daemon.json or its own environment.
    #[test]
    fn proxyconnect_says_where_dockerd_takes_its_proxy() {
        let e = explained("Get \"https://r.example.com/v2/\": proxyconnect tcp: dial tcp 127.0.0.1:3128: connect: connection refused", "proxy.unreachable");
        assert!(
            e.causes.iter().any(|c| c.contains("not from the shell")),
            "{e:?}"
        );
        assert_eq!(
            e.fixes[1],
            "bypass it for the registry: regctl daemon set proxies.no-proxy r.example.com"
        );
        assert_eq!(e.checks, vec![ids::PROXY_UNREACHABLE]);
    }

    /// `docker login -u robot$ci` in double quotes (or none): the shell ate `$ci`.
    #[test]
    fn a_harbor_robot_account_needs_single_quotes() {
        for text in [
            "$ docker login harbor.example.com -u robot$ci -p x\nError response from daemon: Get \"https://harbor.example.com/v2/\": unauthorized: authentication required",
            "docker login -u \"robot$project+ci\" harbor.example.com",
            "Username: robot\nError response from daemon: login attempt to https://harbor.example.com/v2/ failed with status: 401 Unauthorized user \"robot\"",
        ] {
            let e = explained(text, "auth.robot_name_expanded");
            assert!(e.fixes[0].contains("-u 'robot$NAME'"), "{e:?}");
        }
        let e = explained("Get \"https://harbor.example.com/v2/\": unauthorized: authentication required; docker login -u robot$ci", "auth.robot_name_expanded");
        assert!(
            e.fixes[0].contains("regctl login harbor.example.com -u 'robot$NAME'"),
            "{e:?}"
        );
        // Already in single quotes, the name reached the registry whole.
        assert!(!errors(
            "docker login -u 'robot$ci' harbor.example.com: unauthorized: authentication required"
        )
        .contains(&"auth.robot_name_expanded"));
        assert!(
            !errors("unauthorized: authentication required").contains(&"auth.robot_name_expanded")
        );
    }
}
