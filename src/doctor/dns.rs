//! Phase 4, DNS: resolves a registry's name with a deadline (the system resolver has none of its
//! own) and, when it fails, tells "this name does not exist" from "nothing resolves": it reads
//! /etc/resolv.conf, asks each name server itself, and names those that do not answer (and the
//! `dns` servers daemon.json gives containers). The fixes differ: a spelling or /etc/hosts for
//! the first, the resolver for the second.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs, UdpSocket};
use std::path::Path;
use std::sync::mpsc;
use std::time::Duration;

use super::{ids, Check, Inputs};
use crate::hints;
use crate::names::RegistryName;

/// Why a lookup gave no address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LookupError {
    /// The resolver's answer: no such name (EAI_NONAME, EAI_NODATA).
    NoSuchHost(String),
    /// Any other failure ("Temporary failure in name resolution": no server answered).
    NoAnswer(String),
    /// No result within the deadline.
    Timeout,
}

/// `host:port` through the system resolver, within `timeout`.
pub fn lookup(host: &str, port: u16, timeout: Duration) -> Result<Vec<SocketAddr>, LookupError> {
    let (tx, rx) = mpsc::channel();
    let query = host.to_string();
    std::thread::spawn(move || {
        let _ = tx.send((query.as_str(), port).to_socket_addrs().map(Vec::from_iter));
    });
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) if !addrs.is_empty() => Ok(addrs),
        Ok(Ok(_)) => Err(LookupError::NoSuchHost("no addresses".into())),
        Ok(Err(e)) => Err(classify(&e)),
        Err(_) => Err(LookupError::Timeout),
    }
}

/// glibc's and musl's texts for "the name does not exist".
fn classify(e: &io::Error) -> LookupError {
    let text = e.to_string();
    let missing = [
        "Name or service not known",
        "No address associated with hostname",
        "Name does not resolve",
    ];
    if missing.iter().any(|m| text.contains(m)) {
        LookupError::NoSuchHost(text)
    } else {
        LookupError::NoAnswer(text)
    }
}

/// The name servers of a resolv.conf, in order (glibc reads at most 3; none means 127.0.0.1).
pub fn name_servers(resolv_conf: &Path) -> Vec<IpAddr> {
    let text = crate::files::bounded::read_text_file(
        resolv_conf,
        crate::files::bounded::limits::SMALL_TEXT,
    )
    .unwrap_or_default();
    let servers: Vec<IpAddr> = text
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            (words.next() == Some("nameserver"))
                .then(|| words.next()?.split('%').next()?.parse().ok())
                .flatten()
        })
        .take(3)
        .collect();
    if servers.is_empty() {
        vec![IpAddr::V4(Ipv4Addr::LOCALHOST)]
    } else {
        servers
    }
}

/// One name server asked directly.
#[derive(Debug, Clone)]
pub struct ServerProbe {
    pub server: IpAddr,
    /// None: it answered; else why not.
    pub failure: Option<String>,
}

/// Sends one DNS query (`host`, type A) over UDP to port 53 of the server and waits for any
/// answer with the same id.
pub fn ask(server: IpAddr, host: &str, timeout: Duration) -> ServerProbe {
    let failure = ask_inner(server, host, timeout)
        .err()
        .map(|e| match e.kind() {
            io::ErrorKind::ConnectionRefused => {
                "nothing listens on port 53 (connection refused)".into()
            }
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
                format!("no answer within {} s", timeout.as_secs_f32())
            }
            _ => e.to_string(),
        });
    ServerProbe { server, failure }
}

fn ask_inner(server: IpAddr, host: &str, timeout: Duration) -> io::Result<()> {
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid")
    } else {
        "[::]:0".parse().expect("valid")
    };
    let socket = UdpSocket::bind(bind)?;
    socket.connect(SocketAddr::new(server, 53))?;
    socket.set_read_timeout(Some(timeout))?;
    let id = (std::process::id() as u16) ^ 0x5a5a;
    socket.send(&query(id, host))?;
    let mut buf = [0u8; 512];
    loop {
        let n = socket.recv(&mut buf)?;
        if n >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id {
            return Ok(());
        }
    }
}

/// A DNS query packet: header with recursion desired, one question (A, IN).
fn query(id: u16, host: &str) -> Vec<u8> {
    let mut p = Vec::with_capacity(32 + host.len());
    p.extend_from_slice(&id.to_be_bytes());
    p.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in host.trim_end_matches('.').split('.') {
        let label = &label.as_bytes()[..label.len().min(63)];
        p.push(label.len() as u8);
        p.extend_from_slice(label);
    }
    p.extend_from_slice(&[0, 0, 1, 0, 1]);
    p
}

/// The `dns` servers daemon.json gives containers (not used by dockerd's own pulls).
pub fn daemon_dns(inputs: &Inputs) -> Vec<IpAddr> {
    crate::files::json_file::JsonFile::read(
        &inputs.daemon_config,
        crate::files::json_file::FileKind::DAEMON_JSON,
    )
    .ok()
    .and_then(|f| f.value.get("dns").cloned())
    .and_then(|v| {
        v.as_array()
            .map(|a| a.iter().filter_map(|s| s.as_str()?.parse().ok()).collect())
    })
    .unwrap_or_default()
}

/// After a failed lookup that was not "no such name": asks every name server. Some when none
/// answers (DNS is down), with the check that says so.
pub fn down_check(host: &str, inputs: &Inputs) -> Option<Check> {
    let wait = inputs.timeout.min(Duration::from_secs(2));
    let servers = name_servers(&inputs.resolv_conf);
    let probes: Vec<ServerProbe> = servers.iter().map(|s| ask(*s, host, wait)).collect();
    if probes.iter().any(|p| p.failure.is_none()) {
        return None;
    }
    let list = |ps: &[ServerProbe]| {
        ps.iter()
            .map(|p| match &p.failure {
                Some(f) => format!("{}: {f}", p.server),
                None => format!("{}: answers", p.server),
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    let mut msg = format!(
        "DNS is down: no name server in {} answers ({}), so no name resolves, {host} included; docker reports \"dial tcp: lookup {host} on {}:53: read udp ...: connection refused\" (or \"i/o timeout\" when the server drops queries)",
        inputs.resolv_conf.display(),
        list(&probes),
        probes[0].server
    );
    let daemon: Vec<ServerProbe> = daemon_dns(inputs)
        .into_iter()
        .map(|s| ask(s, host, wait))
        .collect();
    if !daemon.is_empty() {
        msg.push_str(&format!(
            "; daemon.json \"dns\" (containers' resolvers, not dockerd's): {}",
            list(&daemon)
        ));
    }
    Some(
        Check::fail(ids::DNS_DOWN, msg)
            .fix(hints::dns_down(&inputs.resolv_conf.display().to_string())),
    )
}

/// The DNS phase of a registry: its addresses, or why there are none.
pub fn resolve(name: &RegistryName, inputs: &Inputs) -> (Vec<SocketAddr>, Vec<Check>) {
    let host = name.hostname().to_string();
    let port = super::network::port_of(name);
    if let (true, Some(ip)) = (name.is_docker_hub, inputs.docker_hub_ip) {
        let check = Check::ok(
            ids::DNS_RESOLVED,
            format!("{host} resolves to {ip} (REGCTL_DOCKER_HUB_IP, not DNS)"),
        );
        return (vec![SocketAddr::new(ip, port)], vec![check]);
    }
    let check = match lookup(&host, port, inputs.timeout) {
        Ok(addrs) => {
            let list: Vec<String> = addrs.iter().map(|a| a.ip().to_string()).collect();
            let check = Check::ok(
                ids::DNS_RESOLVED,
                format!("{host} resolves to {}", list.join(", ")),
            );
            return (addrs, vec![check]);
        }
        Err(LookupError::NoSuchHost(detail)) => no_such_host(name, &detail, &inputs.resolv_conf),
        Err(e) => down_check(&host, inputs).unwrap_or_else(|| match e {
            LookupError::NoAnswer(detail) => no_such_host(name, &detail, &inputs.resolv_conf),
            _ => Check::fail(
                ids::DNS_TIMEOUT,
                format!(
                    "lookup {host} gave no answer within {} s",
                    inputs.timeout.as_secs_f32()
                ),
            )
            .fix(hints::dns_slow(&inputs.resolv_conf.display().to_string())),
        }),
    };
    (Vec::new(), vec![check])
}

fn no_such_host(name: &RegistryName, detail: &str, resolv_conf: &Path) -> Check {
    let host = name.hostname();
    let said = format!("docker reports \"dial tcp: lookup {host}: no such host\"");
    if name.is_docker_hub {
        // Docker Hub's names exist: a name server that denies them serves no internet names
        // (an offline or filtered network), and the spelling is not the problem.
        let servers: Vec<String> = name_servers(resolv_conf)
            .iter()
            .map(|s| s.to_string())
            .collect();
        return Check::fail(
            ids::DNS_NO_SUCH_HOST,
            format!(
                "lookup {host}: no such host ({detail}), though it is Docker Hub's: the name servers of {} ({}) do not serve internet names; {said}",
                resolv_conf.display(),
                servers.join(", ")
            ),
        )
        .fix(hints::docker_hub_unreachable());
    }
    Check::fail(
        ids::DNS_NO_SUCH_HOST,
        format!("lookup {host}: no such host ({detail}); {said}"),
    )
    .fix(hints::dns_no_such_host(host))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_servers_are_read_in_order_and_default_to_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("resolv.conf");
        std::fs::write(
            &path,
            "# c\nsearch x\nnameserver 10.0.0.1\nnameserver fe80::1%eth0\nnameserver 127.0.0.53\nnameserver 10.0.0.9\n",
        )
        .unwrap();
        let got: Vec<String> = name_servers(&path).iter().map(|i| i.to_string()).collect();
        assert_eq!(got, ["10.0.0.1", "fe80::1", "127.0.0.53"]);
        std::fs::write(&path, "options ndots:5\n").unwrap();
        assert_eq!(name_servers(&path), [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    }

    #[test]
    fn docker_hub_denied_by_dns_is_an_offline_network_not_a_spelling_mistake() {
        let dir = tempfile::tempdir().unwrap();
        let conf = dir.path().join("resolv.conf");
        std::fs::write(&conf, "nameserver 10.1.2.3\n").unwrap();
        let hub = crate::names::parse("docker.io").unwrap();
        let c = no_such_host(&hub, "Name or service not known", &conf);
        assert_eq!(c.id, ids::DNS_NO_SUCH_HOST);
        assert!(
            c.message.contains("(10.1.2.3) do not serve internet names"),
            "{}",
            c.message
        );
        assert_eq!(
            c.fix.as_deref(),
            Some(hints::docker_hub_unreachable().as_str())
        );
        let other = crate::names::parse("r.example.invalid").unwrap();
        let c = no_such_host(&other, "Name or service not known", &conf);
        assert!(c
            .fix
            .unwrap()
            .contains("check the spelling of r.example.invalid"));
    }

    #[test]
    fn a_query_names_the_host_in_labels() {
        let q = query(7, "a.bc.");
        assert_eq!(&q[..2], &[0, 7]);
        assert_eq!(&q[12..], &[1, b'a', 2, b'b', b'c', 0, 0, 1, 0, 1]);
    }

    #[test]
    fn glibc_texts_tell_a_missing_name_from_no_answer() {
        let e = |t: &str| {
            classify(&io::Error::other(format!(
                "failed to lookup address information: {t}"
            )))
        };
        assert!(matches!(
            e("Name or service not known"),
            LookupError::NoSuchHost(_)
        ));
        assert!(matches!(
            e("Temporary failure in name resolution"),
            LookupError::NoAnswer(_)
        ));
    }
}
