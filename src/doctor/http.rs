//! Phase 9: `GET /v2/` on the connection the earlier phases opened. 200 is a registry without
//! authentication, 401 with a challenge one that wants credentials; anything else is not a
//! registry API at this address.

use std::time::Instant;

use super::{ids, Check, Probe, Transport};
use crate::hints;
use crate::registry::http1::{self, Response};

/// The answer to `/v2/`, for the auth phase.
/// `sent_pair`: the TLS session offered a client certificate from certs.d.
pub fn api(
    probe: &Probe<'_>,
    transport: &mut Option<Transport>,
    sent_pair: bool,
) -> (Option<Response>, Vec<Check>) {
    let host = &probe.name.host;
    let deadline = Instant::now() + probe.inputs.timeout;
    let result = match transport {
        Some(Transport::Tls(session)) => {
            http1::get(&mut session.stream, host, "/v2/", &[], 64 * 1024, deadline)
        }
        Some(Transport::Plain(sock)) => http1::get(sock, host, "/v2/", &[], 64 * 1024, deadline),
        None => return (None, Vec::new()),
    };
    let response = match result {
        Ok(r) => r,
        Err(e) => {
            let timed_out = matches!(
                e.kind(),
                std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock
            );
            if let Some(check) =
                super::tls::client_certificate_refused(probe, &e.to_string(), sent_pair)
            {
                return (None, vec![check]);
            }
            let message = if timed_out {
                format!(
                    "GET /v2/ got no answer within {} s; docker reports \"Client.Timeout exceeded while awaiting headers\"",
                    probe.inputs.timeout.as_secs_f32()
                )
            } else {
                format!("GET /v2/ failed: {e}")
            };
            return (None, vec![Check::fail(ids::REGISTRY_NO_ANSWER, message)]);
        }
    };
    let server = response
        .header("server")
        .map(|s| format!(" (Server: {s})"))
        .unwrap_or_default();
    let version = response.header("docker-distribution-api-version");
    let mut checks = Vec::new();
    match response.status {
        200 | 401 => {
            let what = if response.status == 200 {
                "open: pulls need no credentials".to_string()
            } else {
                match response.header("www-authenticate") {
                    Some(c) => format!("it asks for credentials: {}", first_words(c)),
                    None => "it asks for credentials but sends no WWW-Authenticate challenge"
                        .to_string(),
                }
            };
            checks.push(Check::ok(
                ids::REGISTRY_API,
                format!("GET /v2/ answered {}{server}; {what}", response.status),
            ));
            if version.is_none() {
                checks.push(Check::warn(
                    ids::REGISTRY_API_VERSION_MISSING,
                    "no Docker-Distribution-API-Version header (a proxy in front of the registry may strip it)",
                ));
            }
        }
        status => {
            checks.push(
                Check::fail(
                    ids::REGISTRY_NOT_A_REGISTRY,
                    format!(
                        "GET /v2/ answered {status} {}{server}: no registry API at {host}",
                        response.reason
                    ),
                )
                .fix(hints::not_a_registry_port(host)),
            );
        }
    }
    (Some(response), checks)
}

/// The scheme and realm of a challenge, without the rest.
fn first_words(challenge: &str) -> String {
    challenge.chars().take(160).collect()
}
