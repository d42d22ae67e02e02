//! Hostile registries for the hardening tests: loopback servers on plain `std::net` threads (TLS
//! from a `TestCa` through rustls, or plain HTTP) that answer each request with whatever the test
//! decides: gigantic or malformed heads, a byte per second, redirects, floods. They record every
//! request (and whether it carried an `Authorization` header) and count the bytes they got out.
//! Every loop is bounded: at most `MAX_CONNECTIONS` connections, request heads up to 64 KiB, a
//! dribble stops after its bytes or `MAX_LIFETIME`, a flood after its size; dropping the server
//! stops its accept loop. Also a plain-HTTP recording server (a Python script) for a test host in
//! a network namespace, where a Rust thread cannot listen.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::netns::NetnsHost;
use super::pki::TestCa;
use super::registry::wait_for_addr;

/// The most connections one server accepts before its accept loop ends by itself.
pub const MAX_CONNECTIONS: usize = 64;
/// No connection is served longer than this, whatever the reply.
pub const MAX_LIFETIME: Duration = Duration::from_secs(90);
const MAX_HEAD: usize = 64 * 1024;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    pub authorization: Option<String>,
    pub body: Vec<u8>,
}

/// What to answer.
pub enum Reply {
    /// These bytes, then close.
    Bytes(Vec<u8>),
    /// These bytes one at a time with a pause between them (a slowloris answer).
    Dribble(Vec<u8>, Duration),
    /// `head`, then `total` bytes of `fill` in 64 KiB writes (stops when the client hangs up).
    Flood {
        head: Vec<u8>,
        total: usize,
        fill: u8,
    },
}

impl Reply {
    pub fn text(s: impl Into<String>) -> Reply {
        Reply::Bytes(s.into().into_bytes())
    }
}

type Respond = dyn Fn(&Seen) -> Reply + Send + Sync;

pub struct Hostile {
    pub port: u16,
    /// `127.0.0.1:PORT`.
    pub host: String,
    seen: Arc<Mutex<Vec<Seen>>>,
    sent: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Hostile {
    /// A TLS server (certificate for 127.0.0.1 and localhost issued by `ca`).
    pub fn tls(ca: &TestCa, respond: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Hostile {
        let config = ca.server(&["127.0.0.1", "localhost"]).server_config();
        Self::start(Some(config), Arc::new(respond), false)
    }

    /// A plain-HTTP server.
    pub fn plain(respond: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Hostile {
        Self::start(None, Arc::new(respond), false)
    }

    /// A plain-HTTP server that resets a connection opening with a TLS record (as some
    /// plain-HTTP servers and proxies do) instead of answering it.
    pub fn plain_resetting_tls(
        respond: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> Hostile {
        Self::start(None, Arc::new(respond), true)
    }

    fn start(
        tls: Option<Arc<rustls::ServerConfig>>,
        respond: Arc<Respond>,
        reset_tls: bool,
    ) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen2, sent2, stop2) = (seen.clone(), sent.clone(), stop.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming().take(MAX_CONNECTIONS) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let (tls, respond, seen, sent) =
                    (tls.clone(), respond.clone(), seen2.clone(), sent2.clone());
                std::thread::spawn(move || {
                    let _ = tcp.set_read_timeout(Some(Duration::from_secs(10)));
                    let _ = tcp.set_write_timeout(Some(Duration::from_secs(10)));
                    let _ = tcp.set_nodelay(true);
                    let _ = match tls {
                        Some(config) => {
                            let Ok(conn) = rustls::ServerConnection::new(config) else {
                                return;
                            };
                            serve(
                                &mut rustls::StreamOwned::new(conn, tcp),
                                &*respond,
                                &seen,
                                &sent,
                            )
                        }
                        None => {
                            let mut first = [0u8; 1];
                            if reset_tls
                                && matches!(tcp.peek(&mut first), Ok(1) if first[0] == 0x16)
                            {
                                reset(tcp);
                                return;
                            }
                            let mut tcp = tcp;
                            serve(&mut tcp, &*respond, &seen, &sent)
                        }
                    };
                });
            }
        });
        Hostile {
            port,
            host: format!("127.0.0.1:{port}"),
            seen,
            sent,
            stop,
        }
    }

    /// Every request read so far.
    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// Whether any request carried an Authorization header.
    pub fn saw_authorization(&self) -> bool {
        self.requests().iter().any(|r| r.authorization.is_some())
    }

    /// Bytes of replies that got out to clients.
    pub fn bytes_sent(&self) -> usize {
        self.sent.load(Ordering::SeqCst)
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Closes with a TCP reset (SO_LINGER 0) rather than a FIN.
fn reset(tcp: TcpStream) {
    use std::os::fd::AsRawFd;
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket we own, with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            tcp.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&linger as *const libc::linger).cast(),
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
    drop(tcp);
}

/// Reads one request head (and a Content-Length body), records it, writes the reply.
fn serve<S: Read + Write>(
    stream: &mut S,
    respond: &Respond,
    seen: &Mutex<Vec<Seen>>,
    sent: &AtomicUsize,
) -> io::Result<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split_whitespace();
    let (method, target) = (
        first.next().unwrap_or_default().to_string(),
        first.next().unwrap_or_default().to_string(),
    );
    let mut authorization = None;
    let mut length = 0usize;
    for line in lines {
        if let Some((k, v)) = line.split_once(':') {
            if k.trim().eq_ignore_ascii_case("authorization") {
                authorization = Some(v.trim().to_string());
            } else if k.trim().eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().unwrap_or(0).min(MAX_HEAD);
            }
        }
    }
    let mut body = buf[end + 4..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    let request = Seen {
        method,
        target,
        authorization,
        body,
    };
    seen.lock().unwrap().push(request.clone());
    let started = Instant::now();
    match respond(&request) {
        Reply::Bytes(bytes) => {
            stream.write_all(&bytes)?;
            sent.fetch_add(bytes.len(), Ordering::SeqCst);
        }
        Reply::Dribble(bytes, pause) => {
            for b in bytes {
                if started.elapsed() > MAX_LIFETIME {
                    break;
                }
                stream.write_all(&[b])?;
                stream.flush()?;
                sent.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(pause);
            }
        }
        Reply::Flood { head, total, fill } => {
            stream.write_all(&head)?;
            sent.fetch_add(head.len(), Ordering::SeqCst);
            let block = vec![fill; 64 * 1024];
            let mut left = total;
            while left > 0 && started.elapsed() < MAX_LIFETIME {
                let n = left.min(block.len());
                stream.write_all(&block[..n])?;
                sent.fetch_add(n, Ordering::SeqCst);
                left -= n;
            }
        }
    }
    stream.flush()
}

/// An HTTP/1.1 answer with these headers and body (Content-Length added, connection closed).
pub fn response(status: &str, headers: &[(&str, &str)], body: &str) -> Reply {
    let mut out = format!("HTTP/1.1 {status}\r\n");
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ));
    Reply::text(out)
}

/// `401` with a Basic challenge, as an htpasswd registry answers `/v2/`.
pub fn basic_challenge() -> Reply {
    response(
        "401 Unauthorized",
        &[
            ("WWW-Authenticate", "Basic realm=\"hostile\""),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ],
        "",
    )
}

/// `401` with a Bearer challenge naming `realm`.
pub fn bearer_challenge(realm: &str) -> Reply {
    let challenge = format!("Bearer realm=\"{realm}\",service=\"hostile\"");
    response(
        "401 Unauthorized",
        &[
            ("WWW-Authenticate", challenge.as_str()),
            ("Docker-Distribution-API-Version", "registry/2.0"),
        ],
        "",
    )
}

/// A plain-HTTP server inside a network namespace (Python's http.server, as a Rust thread cannot
/// listen there) that logs one line per request: `METHOD TARGET authorization=yes|no body=N`
/// and answers 200 with an anonymous token. It stops by itself after 120 s.
pub struct NetnsRecorder {
    pub url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

const RECORDER: &str = r#"
import http.server, sys, time
ip, port, log = sys.argv[1], int(sys.argv[2]), sys.argv[3]
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(n, 65536)) if n else b""
        with open(log, "a") as f:
            f.write("%s %s authorization=%s body=%d\n" % (self.command, self.path,
                    "yes" if self.headers.get("Authorization") else "no", len(body)))
        out = b'{"token":"anonymous-token","expires_in":300}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
    do_GET = answer
    do_POST = answer
    def log_message(self, *args):
        pass
server = http.server.HTTPServer((ip, port), H)
server.timeout = 0.5
end = time.time() + 120
while time.time() < end:
    server.handle_request()
"#;

impl NetnsRecorder {
    /// Starts the recorder on the host's address, port 8080, and waits until it listens.
    pub fn start(host: &mut NetnsHost) -> NetnsRecorder {
        super::require_tool("python3");
        let dir = tempfile::Builder::new()
            .prefix("regctl-recorder-")
            .tempdir()
            .unwrap();
        let script = dir.path().join("recorder.py");
        std::fs::write(&script, RECORDER).unwrap();
        let log = dir.path().join("requests.log");
        std::fs::write(&log, "").unwrap();
        let child = host
            .command("python3")
            .arg(&script)
            .arg(&host.ip)
            .arg("8080")
            .arg(&log)
            .spawn()
            .unwrap();
        host.adopt(child);
        wait_for_addr(&host.ip, 8080, "the recording server");
        NetnsRecorder {
            url: format!("http://{}:8080", host.ip),
            log,
            _dir: dir,
        }
    }

    /// One line per request received so far.
    pub fn requests(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .map(str::to_string)
            .collect()
    }
}

/// A slow hop in front of a loopback server: each connection waits `delay` before it is
/// forwarded, then bytes flow both ways unchanged. Bounded like the servers above: at most
/// `MAX_CONNECTIONS` connections, each forwarded for at most `MAX_LIFETIME` (10 s without a byte
/// ends it); dropping the proxy stops its accept loop at the next connection.
pub struct DelayProxy {
    pub port: u16,
    /// `127.0.0.1:PORT`.
    pub host: String,
    stop: Arc<AtomicBool>,
}

impl DelayProxy {
    pub fn start(target: &str, delay: Duration) -> DelayProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let target = target.to_string();
        std::thread::spawn(move || {
            for conn in listener.incoming().take(MAX_CONNECTIONS) {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                let target = target.clone();
                std::thread::spawn(move || {
                    std::thread::sleep(delay);
                    let Ok(upstream) = TcpStream::connect(&target) else {
                        return;
                    };
                    let started = Instant::now();
                    let pipe = move |mut from: TcpStream, mut to: TcpStream| {
                        let _ = from.set_read_timeout(Some(Duration::from_secs(10)));
                        let mut buf = [0u8; 16 * 1024];
                        while started.elapsed() < MAX_LIFETIME {
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    };
                    let (c2, u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
                    let back = std::thread::spawn(move || pipe(u2, c2));
                    pipe(client, upstream);
                    let _ = back.join();
                });
            }
        });
        DelayProxy {
            port,
            host: format!("127.0.0.1:{port}"),
            stop,
        }
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A loopback HTTP proxy that records the first line of each request (`CONNECT host:port ...`)
/// and refuses it with 502, so nothing goes further than loopback.
pub struct RecordingProxy {
    pub url: String,
    seen: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl RecordingProxy {
    pub fn start() -> RecordingProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        std::thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 8192 {
                    match conn.read(&mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let text = String::from_utf8_lossy(&head);
                log.lock()
                    .unwrap()
                    .push(text.lines().next().unwrap_or("").to_string());
                let _ = conn.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n");
            }
        });
        RecordingProxy { url, seen }
    }

    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }
}
