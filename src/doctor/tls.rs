//! Phases 6 to 8: the TLS handshake (with its own timeout and a verifier that records the chain),
//! the chain judged as Go judges it against the system roots and certs.d, and a plain-HTTP
//! answer on the TLS port judged against daemon.json's insecure registries.

use std::net::TcpStream;
use std::time::{SystemTime, UNIX_EPOCH};

use rustls::pki_types::UnixTime;

use super::{ids, Check, Probe, Reach, Transport};
use crate::files::certs_dir::pick_anchor;
use crate::files::certs_dir::x509::{CertInfo, Timestamp};
use crate::hints;
use crate::registry::http1;
use crate::registry::tls_probe::{self, ProbeError};
use crate::registry::trust::{describe, HostTrust, TrustFailure, Trusted};

/// Issuers of TLS-intercepting proxies and security gateways, as they name themselves.
const INTERCEPTORS: &[&str] = &[
    "zscaler",
    "fortinet",
    "fortigate",
    "palo alto",
    "blue coat",
    "bluecoat",
    "symantec web",
    "cisco umbrella",
    "netskope",
    "sophos",
    "mitmproxy",
    "kaspersky",
    "avast",
    "eset",
    "forcepoint",
    "mcafee web gateway",
    "check point",
    "barracuda",
    "cloudflare for teams",
    "menlo",
    "iboss",
    "lightspeed",
    "securly",
    "squid",
    "charles proxy",
    "fiddler",
    "do_not_trust",
];

/// Opens a TCP connection to the registry: to the address that answered in phase 5, or
/// through the proxy's CONNECT tunnel.
pub fn open(probe: &Probe<'_>, reach: &Reach) -> std::io::Result<TcpStream> {
    let timeout = probe.inputs.timeout;
    let port = super::network::port_of(probe.name);
    let sock = match (&reach.proxy, reach.connected) {
        (Some(choice), _) => {
            let url = url::Url::parse(&choice.url).map_err(std::io::Error::other)?;
            let host = url
                .host_str()
                .unwrap_or_default()
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_string();
            let addr = std::net::ToSocketAddrs::to_socket_addrs(&(
                host.as_str(),
                url.port_or_known_default().unwrap_or(80),
            ))?
            .next()
            .ok_or_else(|| std::io::Error::other("the proxy has no address"))?;
            let mut s = TcpStream::connect_timeout(&addr, timeout)?;
            s.set_read_timeout(Some(timeout))?;
            s.set_write_timeout(Some(timeout))?;
            let deadline = std::time::Instant::now() + timeout;
            http1::connect_tunnel(
                &mut s,
                &format!("{}:{port}", probe.name.hostname()),
                deadline,
            )?;
            s
        }
        (None, Some(addr)) => TcpStream::connect_timeout(&addr, timeout)?,
        (None, None) => return Err(std::io::Error::other("no address to connect to")),
    };
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))?;
    // Requests are single small writes: without this, Nagle and delayed ACKs add ~40 ms.
    sock.set_nodelay(true)?;
    Ok(sock)
}

/// Phase 6 (and 8 when the server answers in plain HTTP).
pub fn handshake(
    probe: &Probe<'_>,
    reach: &Reach,
    trust: Option<&HostTrust>,
    insecure: bool,
) -> (Option<Transport>, Vec<Check>) {
    let host = probe.name.hostname();
    let port = super::network::port_of(probe.name);
    let sock = match open(probe, reach) {
        Ok(s) => s,
        Err(e) => {
            return (
                None,
                vec![Check::fail(
                    ids::TCP_ERROR,
                    format!("cannot open a connection for TLS: {e}"),
                )],
            )
        }
    };
    let client_auth = trust.and_then(HostTrust::client_auth);
    match tls_probe::handshake(sock, host, port, probe.inputs.timeout, client_auth) {
        Ok(session) => {
            let p = &session.presented;
            let leaf = p.chain.first().and_then(|d| CertInfo::from_der(d).ok());
            let mut checks = vec![Check::ok(
                ids::TLS_HANDSHAKE,
                format!(
                    "{} with {}; the server presented {} certificate{}{}",
                    p.protocol.as_deref().unwrap_or("TLS"),
                    p.addr,
                    p.chain.len(),
                    if p.chain.len() == 1 { "" } else { "s" },
                    leaf.map(|l| format!(" (leaf: {}, issued by {})", l.subject, l.issuer)).unwrap_or_default()
                ),
            )];
            if let Some(err) = &p.handshake_error {
                let sent_pair = client_auth_sent(trust);
                checks.push(client_certificate_refused(probe, err, sent_pair).unwrap_or_else(|| {
                    Check::fail(
                        ids::TLS_HANDSHAKE_FAILED,
                        format!("the handshake failed after the server's certificate: {err}"),
                    )
                }));
            }
            (Some(Transport::Tls(Box::new(session))), checks)
        }
        Err(ProbeError::HandshakeTimeout { timeout, .. }) => (
            None,
            vec![Check::fail(
                ids::TLS_HANDSHAKE_TIMEOUT,
                format!(
                    "TCP connected but the TLS handshake did not finish within {} s; docker reports \"net/http: TLS handshake timeout\"",
                    timeout.as_secs_f32()
                ),
            )
            .fix(hints::test_tls_port(host, port))],
        ),
        Err(ProbeError::NotTls { .. }) => plain_http(probe, reach, insecure),
        // dockerd (and regctl's own client, for login) try an insecure registry over HTTPS,
        // then over plain HTTP: a TLS failure there is not the verdict, the HTTP attempt is.
        // A handshake timeout is not retried: the server hangs either way.
        Err(e @ ProbeError::Handshake { .. }) if insecure => {
            let (transport, mut checks) = plain_http(probe, reach, insecure);
            checks.insert(
                0,
                Check::warn(
                    ids::TLS_HANDSHAKE_FAILED,
                    format!("{e}; dockerd goes on with plain HTTP for an insecure registry"),
                ),
            );
            (transport, checks)
        }
        Err(e) => (None, vec![Check::fail(ids::TLS_HANDSHAKE_FAILED, e.to_string())]),
    }
}

/// Whether certs.d holds a client pair that the handshake offers.
pub fn client_auth_sent(trust: Option<&HostTrust>) -> bool {
    trust.and_then(HostTrust::client_auth).is_some()
}

/// The TLS alerts a server sends about the client's certificate, as rustls names them and as
/// Go (so dockerd) prints them after `remote error: tls: `.
const CLIENT_CERT_ALERTS: &[(&str, &str)] = &[
    ("BadCertificate", "bad certificate"),
    ("CertificateRequired", "certificate required"),
    ("UnknownCA", "unknown certificate authority"),
    ("CertificateUnknown", "unknown certificate"),
    ("HandshakeFailure", "handshake failure"),
];

/// A server that ends the session with an alert about the client certificate. With TLS 1.3 the
/// client's handshake is over before the server checks its certificate, so the alert arrives
/// on the first read, not during the handshake: both phases ask here.
pub fn client_certificate_refused(
    probe: &Probe<'_>,
    error: &str,
    sent_pair: bool,
) -> Option<Check> {
    let alert = error.split("received fatal alert: ").nth(1)?.trim();
    let (_, go) = CLIENT_CERT_ALERTS
        .iter()
        .find(|(name, _)| alert.starts_with(name))?;
    let host = &probe.name.host;
    let message = if sent_pair {
        format!("the registry refused the client certificate from certs.d/{host}/ with a TLS alert ({alert}); docker reports \"remote error: tls: {go}\": the pair is not issued by a CA the registry accepts")
    } else {
        format!("the registry wants a client certificate and certs.d/{host}/ holds none: it ended the session with a TLS alert ({alert}); docker reports \"remote error: tls: {go}\"")
    };
    Some(
        Check::fail(ids::TLS_CLIENT_CERTIFICATE_REFUSED, message)
            .fix(hints::client_certificate(host)),
    )
}

/// Phase 8: the registry answered TLS with plain HTTP (or refused TLS, for an insecure one).
fn plain_http(probe: &Probe<'_>, reach: &Reach, insecure: bool) -> (Option<Transport>, Vec<Check>) {
    let host = &probe.name.host;
    if !insecure {
        let check = Check::fail(
            ids::HTTP_PLAIN_HTTP_NOT_INSECURE,
            format!(
                "{host} answers in plain HTTP and is not in daemon.json insecure-registries; docker reports \"http: server gave HTTP response to HTTPS client\""
            ),
        )
        .fix(hints::insecure_add_and_reload(host));
        return (None, vec![check]);
    }
    let warn = Check::warn(
        ids::HTTP_PLAIN_HTTP_INSECURE,
        format!("{host} answers in plain HTTP; dockerd falls back to HTTP because {host} is an insecure registry (credentials travel unencrypted)"),
    );
    match open(probe, reach) {
        Ok(sock) => (Some(Transport::Plain(sock)), vec![warn]),
        Err(e) => (
            None,
            vec![
                warn,
                Check::fail(
                    ids::TCP_ERROR,
                    format!("cannot reconnect for plain HTTP: {e}"),
                ),
            ],
        ),
    }
}

/// Phase 7: would Go trust the chain?
pub fn chain(
    probe: &Probe<'_>,
    transport: &mut Option<Transport>,
    trust: Result<&HostTrust, String>,
    insecure: bool,
) -> Vec<Check> {
    let Some(Transport::Tls(session)) = transport else {
        return Vec::new();
    };
    let host = probe.name.hostname().to_string();
    let trust = match trust {
        Ok(t) => t,
        Err(e) => {
            return vec![Check::fail(
                ids::CERTS_LINT,
                format!("dockerd cannot load this registry's certs.d folder: {e}"),
            )
            .fix(hints::certs_list(&probe.name.host))]
        }
    };
    let chain = session.presented.chain.clone();
    let now = probe.inputs.now;
    let verdict = trust.verify(
        &chain,
        &host,
        UnixTime::since_unix_epoch(now.duration_since(UNIX_EPOCH).unwrap_or_default()),
    );
    let infos: Vec<CertInfo> = chain
        .iter()
        .filter_map(|d| CertInfo::from_der(d).ok())
        .collect();
    match verdict {
        Ok(Trusted::Chain) => vec![Check::ok(
            ids::TLS_TRUSTED,
            format!(
                "the chain verifies for {host} against the system roots{}",
                if trust.ca_files.is_empty() { String::new() } else { format!(" and {}", list_paths(&trust.ca_files)) }
            ),
        )],
        Ok(Trusted::LeafInPool) => vec![Check::ok(
            ids::TLS_TRUSTED,
            format!(
                "the server's own certificate is itself in {}; docker accepts it (webpki-based clients would not)",
                list_paths(&trust.ca_files)
            ),
        )],
        Err(failure) if insecure => vec![Check::warn(
            ids::TLS_NOT_VERIFIED_INSECURE,
            format!(
                "dockerd does not verify {} because it is an insecure registry (listed, or on loopback); otherwise: {}",
                probe.name.host,
                describe(&failure, &host)
            ),
        )],
        Err(failure) => vec![failure_check(probe, &failure, &infos, session, now)],
    }
}

fn list_paths(paths: &[std::path::PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

fn failure_check(
    probe: &Probe<'_>,
    failure: &TrustFailure,
    chain: &[CertInfo],
    session: &mut tls_probe::Session,
    now: SystemTime,
) -> Check {
    let host = probe.name.hostname();
    let registry = &probe.name.host;
    let said = describe(failure, host);
    match failure {
        TrustFailure::UnknownAuthority { issuer, .. } => {
            let lower = issuer.to_ascii_lowercase();
            let interceptor = INTERCEPTORS.iter().find(|i| lower.contains(*i));
            let mut message = format!("{said}; the certificate was issued by {issuer}");
            if let Some(name) = interceptor {
                message.push_str(&format!(
                    "; that issuer looks like a TLS-intercepting proxy ({name}): the proxy, not the registry, signed it"
                ));
            }
            let fix = match pick_anchor(chain, registry) {
                Ok(anchor) if interceptor.is_none() => {
                    hints::trust_ca_pinned(registry, &anchor.sha256.to_string())
                }
                Ok(anchor) => hints::trust_proxy_ca_pinned(registry, &anchor.sha256.to_string()),
                Err(_) => hints::trust_ca_of_leaf(registry, issuer),
            };
            Check::fail(ids::TLS_UNKNOWN_AUTHORITY, message).fix(fix)
        }
        TrustFailure::HostnameMismatch {
            valid_for,
            legacy_cn,
        } => {
            let fix = hints::hostname_mismatch(host, valid_for, *legacy_cn);
            Check::fail(ids::TLS_HOSTNAME_MISMATCH, said).fix(fix)
        }
        TrustFailure::Expired { not_after }
        | TrustFailure::NotYetValid {
            not_before: not_after,
        } => {
            let expired = matches!(failure, TrustFailure::Expired { .. });
            let local = now
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default();
            let server = server_date(probe, session);
            let bound = Timestamp(*not_after);
            let mut message = format!(
                "{said}: the certificate is valid {} {bound}; this machine's clock says {}",
                if expired { "until" } else { "from" },
                Timestamp(local)
            );
            let clock_wrong = server.is_some_and(|s| {
                let server_ok = if expired {
                    s <= *not_after
                } else {
                    s >= *not_after
                };
                server_ok && (s - local).abs() > 300
            });
            if let Some(s) = server {
                message.push_str(&format!(
                    " and the server's Date header says {}",
                    Timestamp(s)
                ));
            }
            let fix = if clock_wrong {
                hints::fix_clock()
            } else if expired {
                hints::renew_certificate(Some((registry, &bound.to_string())))
            } else {
                hints::not_yet_valid(registry, &bound.to_string())
            };
            Check::fail(
                if expired {
                    ids::TLS_EXPIRED
                } else {
                    ids::TLS_NOT_YET_VALID
                },
                message,
            )
            .fix(fix)
        }
        TrustFailure::Other(detail) => Check::fail(
            ids::TLS_UNTRUSTED,
            format!("docker would refuse the certificate: {detail}"),
        ),
    }
}

/// The server's clock, from the Date header of an answer on this session.
fn server_date(probe: &Probe<'_>, session: &mut tls_probe::Session) -> Option<i64> {
    let deadline = std::time::Instant::now() + probe.inputs.timeout;
    let response = http1::get(
        &mut session.stream,
        &probe.name.host,
        "/v2/",
        &[],
        4096,
        deadline,
    )
    .ok()?;
    httpdate::parse_http_date(response.header("date")?)
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs() as i64)
}
