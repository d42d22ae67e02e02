//! Connects to a registry's TLS port and records the certificate chain the server presents, even
//! when that chain would not verify (an unknown CA is exactly when `trust-ca --from-server` and
//! doctor need to see it). The verifier here records and accepts; handshake signatures are still
//! checked, so the peer holds the leaf's key. Connect and handshake have their own timeouts.
//! Kept apart from the HTTP client so both can share the TLS setup.

use std::io;
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection};

use super::http1::{self, Deadline};
use super::trust::ChainVerifier;

/// dockerd's registry transport: 30 s to connect, 10 s for the TLS handshake.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy)]
pub struct ProbeOptions {
    pub connect_timeout: Duration,
    pub handshake_timeout: Duration,
}

impl Default for ProbeOptions {
    fn default() -> Self {
        ProbeOptions {
            connect_timeout: CONNECT_TIMEOUT,
            handshake_timeout: HANDSHAKE_TIMEOUT,
        }
    }
}

/// What the server showed.
#[derive(Debug, Clone)]
pub struct Presented {
    /// The address that answered.
    pub addr: SocketAddr,
    /// DER certificates in the order the server sent them (leaf first).
    pub chain: Vec<Vec<u8>>,
    /// `TLSv1_3`, ... when the handshake got that far.
    pub protocol: Option<String>,
    /// Why the handshake failed after the chain was received (e.g. a client certificate required).
    pub handshake_error: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        #[source]
        source: io::Error,
    },
    #[error("cannot connect to {host}: {source}")]
    Connect {
        host: String,
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    #[error("connecting to {host} timed out after {} s", .timeout.as_secs())]
    ConnectTimeout { host: String, timeout: Duration },
    #[error("TLS handshake with {host} timed out after {} s", .timeout.as_secs())]
    HandshakeTimeout { host: String, timeout: Duration },
    #[error("{host} does not speak TLS (it answered with something else, e.g. plain HTTP)")]
    NotTls { host: String },
    #[error("TLS handshake with {host} failed before it presented a certificate: {detail}")]
    Handshake { host: String, detail: String },
}

/// Connects to `host:port` (host as in URLs: IPv6 in brackets) and runs a TLS handshake with SNI
/// for `host`, recording the chain.
pub fn probe(host: &str, port: u16, opts: ProbeOptions) -> Result<Presented, ProbeError> {
    probe_and_get(host, port, None, opts).map(|(p, _)| p)
}

/// `probe`, then (when the handshake completed and `path` is given) a bounded `GET path` on the
/// same connection, e.g. `/v2/` for the registry's `WWW-Authenticate` challenge. The answer is
/// only read: nothing secret is sent over a connection whose certificate was not verified.
pub fn probe_and_get(
    host: &str,
    port: u16,
    path: Option<&str>,
    opts: ProbeOptions,
) -> Result<(Presented, Option<io::Result<http1::Response>>), ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let shown = shown_host(bare, port);
    let sock = connect(bare, port, &shown, opts.connect_timeout)?;
    let mut session = handshake(sock, host, port, opts.handshake_timeout, None)?;
    let mut answer = None;
    if session.presented.handshake_error.is_none() {
        if let Some(path) = path {
            let deadline = Instant::now() + opts.handshake_timeout;
            answer = Some(http1::get(
                &mut session.stream,
                &shown,
                path,
                &[],
                64 * 1024,
                deadline,
            ));
        }
        session.stream.conn.send_close_notify();
        let _ = session.stream.conn.complete_io(&mut session.stream.sock);
    }
    Ok((session.presented, answer))
}

/// `host:port`, with IPv6 in brackets.
fn shown_host(bare: &str, port: u16) -> String {
    if bare.contains(':') {
        format!("[{bare}]:{port}")
    } else {
        format!("{bare}:{port}")
    }
}

/// A TLS session that completed its handshake (or got as far as the server's certificate).
pub struct Session {
    pub presented: Presented,
    pub stream: rustls::StreamOwned<ClientConnection, TcpStream>,
}

/// Runs a TLS handshake on a connected socket with SNI for `host`, recording the chain and
/// accepting it (the caller decides trust from `presented.chain`). `client_auth` is the client
/// certificate chain and key for registries that ask for one.
pub fn handshake(
    mut sock: TcpStream,
    host: &str,
    port: u16,
    handshake_timeout: Duration,
    client_auth: Option<(
        Vec<CertificateDer<'static>>,
        rustls::pki_types::PrivateKeyDer<'static>,
    )>,
) -> Result<Session, ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let shown = shown_host(bare, port);
    let addr = sock.peer_addr().map_err(|source| ProbeError::Handshake {
        host: shown.clone(),
        detail: source.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let recorder = Arc::new(ChainVerifier::recording());
    let handshake_err = |detail: String| ProbeError::Handshake {
        host: shown.clone(),
        detail,
    };
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| handshake_err(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(recorder.clone());
    let config = match client_auth {
        Some((chain, key)) => config
            .with_client_auth_cert(chain, key)
            .map_err(|e| handshake_err(e.to_string()))?,
        None => config.with_no_client_auth(),
    };
    let name = ServerName::try_from(bare.to_string()).map_err(|e| handshake_err(e.to_string()))?;
    let mut conn =
        ClientConnection::new(Arc::new(config), name).map_err(|e| handshake_err(e.to_string()))?;

    // The whole handshake within the timeout: complete_io reads until a record is complete, so
    // a per-read limit alone would let a server sending a byte a second hold it for hours.
    let mut io = Deadline::new(&mut sock, Instant::now() + handshake_timeout);
    let mut failure: Option<io::Error> = None;
    while conn.is_handshaking() {
        match conn.complete_io(&mut io) {
            Ok((0, 0)) if conn.is_handshaking() => {
                failure = Some(io::ErrorKind::UnexpectedEof.into());
                break;
            }
            Ok(_) => {}
            Err(e) => {
                failure = Some(e);
                break;
            }
        }
    }
    let chain = recorder.recorded();
    match (chain, failure) {
        (Some(chain), failure) => {
            let _ = sock.set_read_timeout(None);
            let _ = sock.set_write_timeout(None);
            Ok(Session {
                presented: Presented {
                    addr,
                    chain,
                    protocol: conn.protocol_version().map(|v| format!("{v:?}")),
                    handshake_error: failure.map(|e| e.to_string()),
                },
                stream: rustls::StreamOwned::new(conn, sock),
            })
        }
        (None, Some(e))
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            Err(ProbeError::HandshakeTimeout {
                host: shown,
                timeout: handshake_timeout,
            })
        }
        (None, Some(e)) if is_not_tls(&e) => Err(ProbeError::NotTls { host: shown }),
        (None, failure) => Err(ProbeError::Handshake {
            host: shown,
            detail: failure.map_or_else(|| "no certificate".to_string(), |e| e.to_string()),
        }),
    }
}

/// The peer answered with bytes that are not a TLS record (typically `HTTP/1.1 400`).
fn is_not_tls(e: &io::Error) -> bool {
    e.get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        .is_some_and(|r| {
            matches!(
                r,
                rustls::Error::InvalidMessage(rustls::InvalidMessage::InvalidContentType)
                    | rustls::Error::InvalidMessage(rustls::InvalidMessage::UnknownProtocolVersion)
            )
        })
}

fn connect(host: &str, port: u16, shown: &str, timeout: Duration) -> Result<TcpStream, ProbeError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|source| ProbeError::Resolve {
            host: shown.to_string(),
            source,
        })?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => return Ok(s),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                last = Some(ProbeError::ConnectTimeout {
                    host: shown.to_string(),
                    timeout,
                })
            }
            Err(source) => {
                last = Some(ProbeError::Connect {
                    host: shown.to_string(),
                    addr,
                    source,
                })
            }
        }
    }
    Err(last.unwrap_or_else(|| ProbeError::Resolve {
        host: shown.to_string(),
        source: io::Error::new(io::ErrorKind::NotFound, "no address"),
    }))
}
