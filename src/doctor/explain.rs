//! `doctor --explain "TEXT"`: maps an error pasted from docker, containerd, skopeo or podman to
//! its likely causes, the doctor checks that would confirm them, and the fixes. Offline: it reads
//! only the text (Go's newer "tls: failed to verify certificate: " prefix included).

use serde::Serialize;

use std::path::Path;

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
    let lower = text.to_ascii_lowercase();
    let realm = token_realm(text);
    let host = match &realm {
        Some(r) => r.registry.clone(),
        None => registry_host(text),
    };
    let h = host.clone().unwrap_or_else(|| "REGISTRY".to_string());
    let mut out = Vec::new();
    let mut add =
        |error, matched: &str, causes: &[&str], checks: &[&'static str], fixes: Vec<String>| {
            out.push(Explanation {
                error,
                matched: matched.to_string(),
                causes: causes.iter().map(|c| c.to_string()).collect(),
                checks: checks.to_vec(),
                fixes,
            });
        };

    if let Some(r) = realm.as_ref().filter(|_| lower.contains("x509: ")) {
        let folder = || {
            hints::realm_ca_in_registry_folder(
                facing.map_or(Path::new(DEFAULT_CERTS_DIR), |f| f.certs_dir),
                &h,
                &r.realm,
            )
        };
        let roots = || hints::realm_ca_in_system_roots(&r.realm);
        let fixes = match facing.map(|f| f.engine.token_trust()) {
            Some(TokenTrust::Registry) => vec![folder()],
            Some(TokenTrust::SystemRoots) => vec![roots()],
            None => vec![
                format!("classic image store: {}", folder()),
                format!("containerd image store: {}", roots()),
            ],
        };
        add(
            "tls.realm_untrusted",
            "a token request (Bearer realm) failed TLS verification: x509: ...",
            &[
                "the registry sends clients to a token server on another host whose certificate dockerd does not trust",
                "dockerd's classic image store reaches the realm with the REGISTRY's TLS settings (its certs.d folder), not the realm's folder",
                "dockerd's containerd image store trusts only the system roots for the realm",
            ],
            &["tls.realm_untrusted"],
            fixes,
        );
    }
    if lower.contains("certificate signed by unknown authority") && realm.is_none() {
        add(
            "x509.unknown_authority",
            "x509: certificate signed by unknown authority",
            &[
                "the registry's certificate comes from a private CA that dockerd does not trust (no ca.crt in /etc/docker/certs.d/HOST:PORT/)",
                "a TLS-intercepting proxy or security appliance re-signs traffic: its CA, not the registry's, signed what you see (doctor names the issuer)",
                "the certs.d folder name does not match the registry exactly, port included",
            ],
            &["tls.unknown_authority", "certs.lint"],
            vec![
                format!("sudo regctl trust-ca {h} /path/to/ca.crt"),
                format!("sudo regctl trust-ca {h} --from-server   (shows the chain and its fingerprint; pin it with --fingerprint SHA256)"),
                format!("regctl doctor {h}   (names the issuer and checks certs.d)"),
            ],
        );
    }
    if let Some((valid_for, not)) = hostname_mismatch(text) {
        add(
            "x509.hostname_mismatch",
            "x509: certificate is valid for ..., not ...",
            &[
                "the certificate does not name the host you pull from (a different name, an IP address, or a missing subjectAltName)",
                "a load balancer or proxy presents its own certificate",
            ],
            &["tls.hostname_mismatch"],
            vec![
                format!("pull with a name the certificate lists ({valid_for}) instead of {not}"),
                format!("or reissue the certificate with subjectAltName DNS:{not} (IP:{not} for an address)"),
            ],
        );
    }
    if let Some(ip) = no_ip_sans(text) {
        add(
            "x509.hostname_mismatch",
            "x509: cannot validate certificate for IP because it doesn't contain any IP SANs",
            &[
                "the image name uses an IP address, and the certificate lists no IP address (only DNS names)",
                "a load balancer or proxy presents its own certificate",
            ],
            &["tls.hostname_mismatch"],
            vec![
                "pull with a DNS name the certificate lists instead of the address".to_string(),
                format!("or reissue the certificate with subjectAltName IP:{ip}"),
            ],
        );
    }
    if lower.contains("cannot perform an interactive login from a non tty device") {
        add(
            "auth.unauthorized",
            "Error: Cannot perform an interactive login from a non TTY device",
            &[
                "the registry answered the pull with 401 (no credentials, or wrong ones) and the docker CLI tried to ask for a login on a terminal it does not have",
                "the stored credentials are wrong or expired, or stored under another key",
            ],
            &["auth.no_credentials", "auth.bad_credentials"],
            vec![
                format!("regctl login {h}"),
                format!("regctl doctor {h}   (tries the stored credentials)"),
            ],
        );
    }
    if lower.contains("legacy common name field") {
        add(
            "x509.legacy_common_name",
            "x509: certificate relies on legacy Common Name field, use SANs instead",
            &["the certificate names the host only in its Common Name; Go (and so docker) ignores CN since Go 1.15"],
            &["tls.hostname_mismatch"],
            vec![format!(
                "reissue it with a subjectAltName, e.g. openssl req -x509 ... -addext \"subjectAltName=DNS:{}\"",
                host.as_deref().map(|h| h.split(':').next().unwrap_or(h)).unwrap_or("HOST")
            )],
        );
    }
    if lower.contains("certificate has expired or is not yet valid")
        || lower.contains("certificate has expired")
    {
        add(
            "x509.expired",
            "x509: certificate has expired or is not yet valid",
            &[
                "the registry's certificate (or an intermediate) has expired",
                "this machine's clock is wrong (doctor compares it with the server's Date header)",
            ],
            &["tls.expired", "tls.not_yet_valid"],
            vec![
                "renew the registry's certificate".to_string(),
                "check the clock: timedatectl status (enable NTP: sudo timedatectl set-ntp true)"
                    .to_string(),
            ],
        );
    }
    if let Some(alert) = client_cert_alert(&lower) {
        add(
            "tls.client_certificate_refused",
            alert,
            &[
                "the registry requires a client certificate (mTLS) and dockerd found no NAME.cert/NAME.key pair in /etc/docker/certs.d/HOST:PORT/",
                "the pair there is not issued by a CA the registry accepts, or has expired",
                "with TLS 1.3 this arrives after the handshake, on the first request",
            ],
            &["tls.client_certificate_refused"],
            vec![crate::hints::client_certificate(&h)],
        );
    }
    if lower.contains("server gave http response to https client") {
        add(
            "http.plain_http",
            "http: server gave HTTP response to HTTPS client",
            &[
                "the registry speaks plain HTTP and is not in daemon.json insecure-registries",
                "it was added to insecure-registries but dockerd was not reloaded",
                "the port is wrong: the HTTPS port is elsewhere",
            ],
            &["http.plain_http_not_insecure"],
            vec![
                format!("sudo regctl insecure add {h} && sudo regctl daemon reload"),
                "or serve the registry over TLS and trust its CA with regctl trust-ca".to_string(),
            ],
        );
    }
    if lower.contains("tls handshake timeout") {
        add(
            "net.tls_handshake_timeout",
            "net/http: TLS handshake timeout",
            &[
                "the server accepted TCP but did not finish TLS within dockerd's 10 s (wrong port, a non-TLS service, an overloaded registry)",
                "a firewall or MTU problem drops the larger handshake packets",
                "a proxy in dockerd's environment stalls the connection",
            ],
            &["tls.handshake_timeout", "proxy.used"],
            vec![format!("regctl doctor {h} --timeout 10   (times TCP and TLS separately)")],
        );
    }
    if lower.contains("i/o timeout") && lower.contains("dial tcp") {
        add(
            "net.dial_timeout",
            "dial tcp ...: i/o timeout",
            &[
                "a firewall drops packets to the registry's port, or the host is down",
                "dockerd needs a proxy to reach it (proxies are read from dockerd's environment, not the shell)",
            ],
            &["tcp.timeout", "proxy.none", "proxy.differs"],
            vec![format!("regctl doctor {h}"), "configure dockerd's proxy: regctl daemon set proxies '{\"https-proxy\": \"http://PROXY:PORT\"}' && sudo systemctl restart docker".to_string()],
        );
    }
    if lower.contains("client.timeout exceeded while awaiting headers") {
        add(
            "net.header_timeout",
            "Client.Timeout exceeded while awaiting headers",
            &[
                "the registry (or a proxy in front of it) accepted the request but did not answer in time",
                "on Docker Hub: network filtering or a slow mirror",
            ],
            &["registry.ok", "proxy.used"],
            vec![format!("regctl doctor {h}   (times each phase)")],
        );
    }
    if lower.contains("no basic auth credentials") {
        add(
            "auth.no_basic_auth_credentials",
            "no basic auth credentials",
            &[
                "you are not logged in to this registry (no entry under its exact key in config.json)",
                "the credential helper failed or returned nothing (amazon-ecr-credential-helper hides its errors this way)",
                "sudo docker reads /root/.docker/config.json, not yours",
            ],
            &["auth.no_credentials", "creds.helper_missing"],
            vec![format!("regctl login {h}"), "regctl creds list   (shows where each registry's credentials are)".to_string()],
        );
    }
    let containerd_401 = unexpected_status(&lower, "401");
    if containerd_401
        || lower.contains("unauthorized")
            && (lower.contains("authentication required")
                || lower.contains("incorrect username or password"))
    {
        add(
            "auth.unauthorized",
            if containerd_401 {
                "unexpected status from ... request to ...: 401 Unauthorized"
            } else {
                "unauthorized: authentication required"
            },
            &[
                "no credentials were sent: not logged in, or stored under another key",
                "the stored credentials are wrong or expired (tokens, ECR's 12-hour passwords)",
            ],
            &["auth.no_credentials", "auth.bad_credentials"],
            vec![
                format!("regctl login {h}"),
                format!("regctl doctor {h}   (tries the stored credentials)"),
            ],
        );
    }
    let containerd_403 = unexpected_status(&lower, "403");
    if containerd_403 || lower.contains("requested access to the resource is denied") {
        add(
            "auth.denied",
            if containerd_403 {
                "unexpected status from ... request to ...: 403 Forbidden"
            } else {
                "denied: requested access to the resource is denied"
            },
            &[
                "the account may log in but lacks pull or push rights on this repository",
                "the repository name is wrong (e.g. pushing to docker.io/library/NAME, or a missing namespace)",
                "not logged in at all (some registries say denied rather than unauthorized)",
            ],
            &["auth.ok", "auth.no_credentials"],
            vec![format!("regctl login {h}"), "check the repository path and the account's permissions on it".to_string()],
        );
    }
    if lower.contains("toomanyrequests") {
        add(
            "registry.rate_limited",
            "toomanyrequests",
            &["the registry rate-limits this client (Docker Hub limits anonymous pulls per IP)"],
            &["auth.no_credentials"],
            vec!["log in to raise the limit: regctl login docker.io".to_string(), "or pull through a mirror: sudo regctl mirror add https://MIRROR && sudo regctl daemon reload".to_string()],
        );
    }
    if let Some(helper) = missing_helper(text) {
        add(
            "creds.helper_missing",
            "error getting credentials - err: exec: ...: executable file not found in $PATH",
            &["config.json names a credential helper (credsStore or credHelpers) whose program is not on PATH"],
            &["creds.helper_missing"],
            vec![crate::hints::install_credential_helper(&helper), "or see where credentials are configured: regctl creds list".to_string()],
        );
    }
    if lower.contains("proxyconnect tcp") {
        add(
            "proxy.unreachable",
            "proxyconnect tcp: ...",
            &["the proxy configured for dockerd (or this shell) does not accept connections"],
            &["proxy.unreachable"],
            vec![
                format!("regctl doctor {h}   (shows which proxy and where it is set)"),
                format!("bypass it for the registry: regctl daemon set proxies.no-proxy {h}"),
            ],
        );
    }
    if let Some(name) = no_such_host(text) {
        // The name goes into commands the user may copy: only a valid host name is repeated.
        let name = if validate_host_port(&name).is_ok() {
            name
        } else {
            "HOST".to_string()
        };
        add(
            "dns.no_such_host",
            "lookup ...: no such host",
            &["the name does not resolve from this host (typo, missing DNS record, /etc/hosts only on another machine, split DNS over VPN)"],
            &["dns.no_such_host"],
            vec![format!("check the name: getent hosts {name}"), format!("without DNS, add it to /etc/hosts: echo 'IP {name}' | sudo tee -a /etc/hosts")],
        );
    }
    if lower.contains("connection refused") && !lower.contains("proxyconnect") {
        add(
            "tcp.refused",
            "connection refused",
            &["nothing listens on that host and port (registry down, wrong port)"],
            &["tcp.refused"],
            vec![format!("regctl doctor {h}")],
        );
    }
    if lower.contains("pass not initialized") {
        add(
            "creds.pass_not_initialized",
            "pass not initialized",
            &["credsStore is \"pass\" but the password store has no GPG key yet"],
            &["creds.helper"],
            vec!["initialise it: pass init GPG_KEY_ID".to_string(), "or keep credentials in the OS keychain instead: regctl login REGISTRY --store keychain".to_string()],
        );
    }
    if lower.contains("org.freedesktop.secrets") || lower.contains("cannot autolaunch d-bus") {
        add(
            "creds.no_secret_service",
            "Cannot autolaunch D-Bus / org.freedesktop.secrets not provided",
            &["credsStore is \"secretservice\" but no Secret Service runs (a headless server or an SSH session without a D-Bus session)"],
            &["creds.helper"],
            vec!["start one in the session: dbus-run-session -- gnome-keyring-daemon --unlock --components=secrets".to_string(), format!("or store credentials in config.json on this server: regctl login {h} --store file")],
        );
    }
    out
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
}
