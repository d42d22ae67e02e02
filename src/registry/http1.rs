//! A minimal HTTP/1.1 exchange over an open stream, for doctor: it asks `/v2/` on the very
//! connection whose TLS it just examined (or through a proxy's CONNECT tunnel, or in plain HTTP
//! after dockerd's fallback), which a pooled client cannot do. Bounded: headers up to 64 KiB,
//! bodies up to the caller's limit, and the whole exchange by a deadline (a server sending a byte
//! a second never times out a per-read limit). What the server says is kept printable: control
//! characters (terminal escapes) in the reason phrase and headers are shown escaped.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const MAX_HEAD: usize = 64 * 1024;

/// A stream whose blocking reads and writes can be limited in time.
pub trait Timed {
    /// Limits the next reads and writes to `left` (never zero).
    fn limit(&mut self, left: Duration) -> io::Result<()>;
}

impl Timed for TcpStream {
    fn limit(&mut self, left: Duration) -> io::Result<()> {
        self.set_read_timeout(Some(left))?;
        self.set_write_timeout(Some(left))
    }
}

impl Timed for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn limit(&mut self, left: Duration) -> io::Result<()> {
        self.sock.limit(left)
    }
}

/// A stream whose every read and write gets what is left before `deadline` as its limit, and
/// fails with `TimedOut` once it has passed: a peer sending a byte a second, which never trips a
/// per-read limit, is cut off at the deadline all the same.
pub struct Deadline<'a, S> {
    stream: &'a mut S,
    deadline: Instant,
}

impl<'a, S: Timed> Deadline<'a, S> {
    pub fn new(stream: &'a mut S, deadline: Instant) -> Deadline<'a, S> {
        Deadline { stream, deadline }
    }

    fn arm(&mut self) -> io::Result<()> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the time limit ran out",
            ));
        }
        self.stream.limit(left)
    }
}

impl<S: Read + Timed> Read for Deadline<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.arm()?;
        self.stream.read(buf)
    }
}

impl<S: Write + Timed> Write for Deadline<'_, S> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.arm()?;
        self.stream.write(buf)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.arm()?;
        self.stream.flush()
    }
}

/// Text a server sent, safe to print: control characters (terminal escapes, bells, NULs) are
/// shown escaped (`\u{1b}`), everything else as is.
pub fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends `GET path` with `Connection: close` and reads the response (body up to `max_body`),
/// all before `deadline`.
pub fn get<S: Read + Write + Timed>(
    stream: &mut S,
    host: &str,
    path: &str,
    extra_headers: &[(&str, &str)],
    max_body: usize,
    deadline: Instant,
) -> io::Result<Response> {
    let stream = &mut Deadline::new(stream, deadline);
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: regctl/{}\r\nAccept: application/json\r\nConnection: close\r\n",
        env!("CARGO_PKG_VERSION")
    );
    for (k, v) in extra_headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    read_response(stream, max_body)
}

/// Opens a tunnel through an HTTP proxy (`CONNECT host:port`) on a connected socket, before
/// `deadline`.
pub fn connect_tunnel<S: Read + Write + Timed>(
    stream: &mut S,
    target: &str,
    deadline: Instant,
) -> io::Result<()> {
    let stream = &mut Deadline::new(stream, deadline);
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream.write_all(request.as_bytes())?;
    stream.flush()?;
    let (head, _) = read_head(stream)?;
    if head.status / 100 == 2 {
        Ok(())
    } else {
        Err(io::Error::other(format!(
            "the proxy refused CONNECT {target}: {} {}",
            head.status, head.reason
        )))
    }
}

/// The status line and headers (body empty), and the bytes read past them.
fn read_head<S: Read>(stream: &mut S) -> io::Result<(Response, Vec<u8>)> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    let end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response headers exceed 64 KiB",
            ));
        }
        let n = stream.read(&mut chunk)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                if buf.is_empty() {
                    "the server closed the connection without answering"
                } else {
                    "the response ended inside its headers"
                },
            ));
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).into_owned();
    let rest = buf[end + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/") {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("not an HTTP response: {:?}", truncate(status_line)),
        ));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                format!("bad status line {:?}", truncate(status_line)),
            )
        })?;
    let reason = printable(parts.next().unwrap_or_default());
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (printable(k.trim()), printable(v.trim())))
        .collect();
    Ok((
        Response {
            status,
            reason,
            headers,
            body: Vec::new(),
        },
        rest,
    ))
}

fn read_response<S: Read>(stream: &mut S, max_body: usize) -> io::Result<Response> {
    let (response, mut body) = read_head(stream)?;
    let length = response
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok());
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
    let limit = length.unwrap_or(max_body).min(max_body);
    // The one capped reader; a peer that closes TLS without close_notify after a full body is
    // common, and read_prefix takes that as the end.
    crate::files::bounded::read_prefix(stream, limit as u64, &mut body)?;
    body.truncate(limit);
    let body = if chunked { dechunk(&body) } else { body };
    Ok(Response { body, ..response })
}

/// Decodes a chunked body (as much as was read).
fn dechunk(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = data;
    while let Some(i) = find(rest, b"\r\n") {
        let size = std::str::from_utf8(&rest[..i])
            .ok()
            .and_then(|s| usize::from_str_radix(s.split(';').next().unwrap_or("").trim(), 16).ok());
        let Some(size) = size else { break };
        if size == 0 {
            break;
        }
        let start = i + 2;
        let end = (start + size).min(rest.len());
        out.extend_from_slice(&rest[start..end]);
        rest = rest.get(end + 2..).unwrap_or_default();
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

fn truncate(s: &str) -> String {
    s.chars().take(80).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Canned {
        input: io::Cursor<Vec<u8>>,
        written: Vec<u8>,
    }
    impl Read for Canned {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.input.read(buf)
        }
    }
    impl Timed for Canned {
        fn limit(&mut self, _: Duration) -> io::Result<()> {
            Ok(())
        }
    }
    impl Write for Canned {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.written.extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    fn canned(text: &[u8]) -> Canned {
        Canned {
            input: io::Cursor::new(text.to_vec()),
            written: Vec::new(),
        }
    }

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(5)
    }

    #[test]
    fn reads_status_headers_and_bounded_bodies() {
        let mut s = canned(b"HTTP/1.1 401 Unauthorized\r\nWww-Authenticate: Bearer realm=\"x\"\r\nContent-Length: 5\r\n\r\nhelloEXTRA");
        let r = get(&mut s, "h:5000", "/v2/", &[], 1024, soon()).unwrap();
        assert_eq!(
            (r.status, r.header("www-authenticate")),
            (401, Some("Bearer realm=\"x\""))
        );
        assert_eq!(r.body, b"hello");
        assert!(String::from_utf8_lossy(&s.written)
            .starts_with("GET /v2/ HTTP/1.1\r\nHost: h:5000\r\n"));
        let mut s = canned(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");
        assert_eq!(
            get(&mut s, "h", "/", &[], 1024, soon()).unwrap().body,
            b"abcde"
        );
        let mut s = canned(b"SSH-2.0-OpenSSH\r\n\r\n");
        assert!(get(&mut s, "h", "/", &[], 1024, soon()).is_err());
        let mut huge = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 70_000));
        assert!(get(&mut canned(&huge), "h", "/", &[], 1024, soon()).is_err());
    }

    #[test]
    fn a_passed_deadline_stops_the_exchange_and_escapes_are_shown_escaped() {
        let mut s = canned(b"HTTP/1.1 200 OK\r\n\r\n");
        let e = get(&mut s, "h", "/", &[], 1024, Instant::now()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        let mut s = canned(
            b"HTTP/1.1 404 \x1b[2Jgone\r\nServer: \x1b]0;t\x07x\r\nContent-Length: 0\r\n\r\n",
        );
        let r = get(&mut s, "h", "/", &[], 1024, soon()).unwrap();
        assert_eq!(r.reason, "\\u{1b}[2Jgone");
        assert_eq!(r.header("server"), Some("\\u{1b}]0;t\\u{7}x"));
        assert_eq!(printable("caf\u{e9} ok"), "caf\u{e9} ok");
    }
}
