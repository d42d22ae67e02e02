//! Phases 2 and 5: the name as docker normalises it and a TCP connect to each address (DNS,
//! phase 4, is `dns`).

use std::io;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::{ids, Check};
use crate::names::RegistryName;

/// The registry's port: the one given, else 443 (dockerd tries HTTPS first).
pub fn port_of(name: &RegistryName) -> u16 {
    name.port().unwrap_or(443)
}

pub fn name_check(name: &RegistryName) -> Check {
    let mut msg = format!("{} is reached at {}", name.input, name.host);
    if name.is_docker_hub {
        msg.push_str(" (Docker Hub)");
    }
    msg.push_str(&format!(
        "; credentials are stored under {:?}",
        name.cred_key
    ));
    Check::ok(ids::NAME_NORMALIZED, msg)
}

/// Connects to each address in turn until one accepts.
pub fn connect(
    name: &RegistryName,
    addrs: &[SocketAddr],
    timeout: Duration,
) -> (Option<SocketAddr>, Vec<Check>) {
    let mut failures: Vec<(SocketAddr, io::Error)> = Vec::new();
    for addr in addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(_) => {
                let check = Check::ok(ids::TCP_CONNECTED, format!("connected to {addr}"));
                return (Some(*addr), vec![check]);
            }
            Err(e) => failures.push((*addr, e)),
        }
    }
    let port = port_of(name);
    let all_refused = failures
        .iter()
        .all(|(_, e)| e.kind() == io::ErrorKind::ConnectionRefused);
    let all_timeout = failures.iter().all(|(_, e)| {
        matches!(
            e.kind(),
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
        )
    });
    let tried: Vec<String> = failures.iter().map(|(a, e)| format!("{a}: {e}")).collect();
    let check = if all_refused {
        Check::fail(
            ids::TCP_REFUSED,
            format!("connection refused on port {port} ({})", tried.join("; ")),
        )
        .fix(if name.is_docker_hub {
            crate::hints::docker_hub_unreachable()
        } else {
            crate::hints::nothing_listens(name.hostname(), port)
        })
    } else if all_timeout {
        Check::fail(
            ids::TCP_TIMEOUT,
            format!(
                "no answer on port {port} within {} s ({}); docker reports \"dial tcp ...: i/o timeout\"",
                timeout.as_secs_f32(),
                tried.join("; ")
            ),
        )
        .fix(if name.is_docker_hub {
            crate::hints::docker_hub_unreachable()
        } else {
            format!(
                "a firewall drops the traffic or the host is down; test from this host: nc -vz {} {port}",
                name.hostname()
            )
        })
    } else {
        Check::fail(
            ids::TCP_ERROR,
            format!("cannot connect: {}", tried.join("; ")),
        )
    };
    (None, vec![check])
}
