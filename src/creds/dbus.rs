//! Just enough D-Bus for the Secret Service: one blocking Unix socket to the session bus, SASL
//! EXTERNAL, and the wire format of the types the Secret Service uses. It exists because the
//! credential helper runs once per `docker pull`: keyring 4 always opened a DH session (83 % of
//! a `get`'s 32 M instructions), and even with a plain session zbus starts an executor, the
//! async-io reactor and a blocking-pool thread, which took a `get` to 8.3 ms against 4.4 ms
//! here (BENCHMARKS.md, "Where the time of a helper call went"). Here a request is a few
//! writes and reads on one socket, in the calling thread, several calls pipelined in one write.
//!
//! Every read and write is bounded by the connection's deadline, so a bus or service that never
//! answers is an error, not a hang. Nothing here knows about credentials (`secret_service`
//! does).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

/// A D-Bus value, as far as the Secret Service needs them (every basic type is read, so that
/// a reply with unexpected members still parses).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Byte(u8),
    Bool(bool),
    I16(i16),
    U16(u16),
    I32(i32),
    U32(u32),
    I64(i64),
    U64(u64),
    Double(f64),
    /// A Unix fd index (`h`); never sent here.
    Fd(u32),
    Str(String),
    Path(String),
    Sig(String),
    Variant(Box<Value>),
    /// The element signature (for empty arrays), then the elements.
    Array(String, Vec<Value>),
    Struct(Vec<Value>),
    /// One `{key value}` entry of a dictionary (an array of them).
    Entry(Box<Value>, Box<Value>),
}

impl Value {
    /// The D-Bus signature of this value.
    pub fn signature(&self) -> String {
        match self {
            Value::Byte(_) => "y".into(),
            Value::Bool(_) => "b".into(),
            Value::I16(_) => "n".into(),
            Value::U16(_) => "q".into(),
            Value::I32(_) => "i".into(),
            Value::U32(_) => "u".into(),
            Value::I64(_) => "x".into(),
            Value::U64(_) => "t".into(),
            Value::Double(_) => "d".into(),
            Value::Fd(_) => "h".into(),
            Value::Str(_) => "s".into(),
            Value::Path(_) => "o".into(),
            Value::Sig(_) => "g".into(),
            Value::Variant(_) => "v".into(),
            Value::Array(elem, _) => format!("a{elem}"),
            Value::Struct(fields) => {
                let inner: String = fields.iter().map(Value::signature).collect();
                format!("({inner})")
            }
            Value::Entry(k, v) => format!("{{{}{}}}", k.signature(), v.signature()),
        }
    }

    /// `a{ss}` from pairs.
    pub fn string_dict<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> Value {
        Value::Array(
            "{ss}".into(),
            pairs
                .into_iter()
                .map(|(k, v)| {
                    Value::Entry(
                        Box::new(Value::Str(k.into())),
                        Box::new(Value::Str(v.into())),
                    )
                })
                .collect(),
        )
    }

    /// `ao` from paths.
    pub fn paths(paths: &[String]) -> Value {
        Value::Array("o".into(), paths.iter().cloned().map(Value::Path).collect())
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) | Value::Path(s) | Value::Sig(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The value inside a variant (any other value is itself).
    pub fn unvariant(&self) -> &Value {
        match self {
            Value::Variant(v) => v.unvariant(),
            v => v,
        }
    }

    /// The elements of an array.
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Value::Array(_, items) => Some(items),
            _ => None,
        }
    }

    /// The members of a struct.
    pub fn as_struct(&self) -> Option<&[Value]> {
        match self {
            Value::Struct(fields) => Some(fields),
            _ => None,
        }
    }

    /// The strings of an `ao` or `as`.
    pub fn as_strings(&self) -> Option<Vec<String>> {
        self.as_array()?
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect()
    }

    /// The bytes of an `ay`.
    pub fn as_bytes(&self) -> Option<Vec<u8>> {
        self.as_array()?
            .iter()
            .map(|v| match v {
                Value::Byte(b) => Some(*b),
                _ => None,
            })
            .collect()
    }

    /// The entries of a dictionary, as (key, value) pairs.
    pub fn as_entries(&self) -> Option<Vec<(&Value, &Value)>> {
        self.as_array()?
            .iter()
            .map(|e| match e {
                Value::Entry(k, v) => Some((&**k, &**v)),
                _ => None,
            })
            .collect()
    }
}

/// Why talking to the bus failed.
#[derive(Debug, thiserror::Error)]
pub enum DbusError {
    #[error("no D-Bus session bus address (DBUS_SESSION_BUS_ADDRESS is not set and there is no XDG_RUNTIME_DIR/bus)")]
    NoAddress,
    #[error(
        "cannot use the D-Bus address {0:?} (only unix:path= and unix:abstract= are supported)"
    )]
    BadAddress(String),
    #[error("cannot connect to the D-Bus session bus at {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the D-Bus session bus refused authentication: {0}")]
    Auth(String),
    #[error("D-Bus connection failed: {0}")]
    Io(#[source] std::io::Error),
    #[error("no answer on the D-Bus session bus within the time limit")]
    Timeout,
    #[error("unexpected D-Bus message: {0}")]
    Protocol(String),
    /// An error reply: its D-Bus error name and message.
    #[error("{name}: {message}")]
    Remote { name: String, message: String },
}

impl DbusError {
    /// The D-Bus error name of an error reply.
    pub fn remote_name(&self) -> Option<&str> {
        match self {
            DbusError::Remote { name, .. } => Some(name),
            _ => None,
        }
    }
}

fn io_error(e: std::io::Error) -> DbusError {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => DbusError::Timeout,
        _ => DbusError::Io(e),
    }
}

/// The socket addresses in a D-Bus address string (`unix:path=/run/user/1000/bus;...`), in
/// order; values are %-unescaped. Other transports are skipped.
pub fn unix_addresses(address: &str) -> Vec<UnixAddress> {
    address
        .split(';')
        .filter_map(|a| {
            let rest = a.trim().strip_prefix("unix:")?;
            rest.split(',').find_map(|kv| {
                let (k, v) = kv.split_once('=')?;
                let v = unescape(v)?;
                match k {
                    "path" => Some(UnixAddress::Path(v)),
                    "abstract" => Some(UnixAddress::Abstract(v)),
                    _ => None,
                }
            })
        })
        .collect()
}

fn unescape(v: &str) -> Option<Vec<u8>> {
    let b = v.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// Where a Unix-socket bus listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnixAddress {
    Path(Vec<u8>),
    Abstract(Vec<u8>),
}

impl UnixAddress {
    fn connect(&self) -> std::io::Result<UnixStream> {
        match self {
            UnixAddress::Path(p) => {
                use std::os::unix::ffi::OsStrExt;
                UnixStream::connect(std::ffi::OsStr::from_bytes(p))
            }
            UnixAddress::Abstract(name) => {
                use std::os::linux::net::SocketAddrExt;
                let addr = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
                UnixStream::connect_addr(&addr)
            }
        }
    }
}

const METHOD_CALL: u8 = 1;
const METHOD_RETURN: u8 = 2;
const ERROR: u8 = 3;
const SIGNAL: u8 = 4;

/// One received message (only what callers look at).
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: u8,
    pub reply_serial: Option<u32>,
    pub path: Option<String>,
    pub interface: Option<String>,
    pub member: Option<String>,
    pub error_name: Option<String>,
    pub body: Vec<Value>,
}

impl Message {
    pub fn is_signal(&self, path: &str, interface: &str, member: &str) -> bool {
        self.kind == SIGNAL
            && self.path.as_deref() == Some(path)
            && self.interface.as_deref() == Some(interface)
            && self.member.as_deref() == Some(member)
    }
}

/// A method call to send.
pub struct Call<'a> {
    pub destination: &'a str,
    pub path: &'a str,
    pub interface: &'a str,
    pub member: &'a str,
    pub args: Vec<Value>,
}

/// A connection to the session bus: authentication and `Hello` queued, checked with the first
/// reply.
pub struct Connection {
    stream: UnixStream,
    deadline: Instant,
    serial: u32,
    out: Vec<u8>,
    input: Vec<u8>,
    /// Received messages nobody has asked for yet (replies to pipelined calls, signals).
    pending: Vec<Message>,
    /// The answer to AUTH is still to be read.
    authenticating: bool,
}

/// More messages than this waiting unclaimed means something is flooding us.
const MAX_PENDING: usize = 4096;
/// The D-Bus limit on a message (128 MiB); anything longer is refused.
const MAX_MESSAGE: usize = 128 << 20;

impl Connection {
    /// Connects to the first address that accepts and queues authentication as this user
    /// (SASL EXTERNAL) and `Hello`, so that they travel with the caller's first calls: one
    /// write, one round trip. Everything must finish before `deadline`.
    pub fn open(address: &str, uid: u32, deadline: Instant) -> Result<Connection, DbusError> {
        let addresses = unix_addresses(address);
        if addresses.is_empty() {
            return Err(DbusError::BadAddress(address.to_string()));
        }
        let mut last = None;
        for a in &addresses {
            match a.connect() {
                Ok(stream) => {
                    let mut c = Connection {
                        stream,
                        deadline,
                        serial: 0,
                        out: Vec::new(),
                        input: Vec::new(),
                        pending: Vec::new(),
                        authenticating: false,
                    };
                    c.authenticate(uid);
                    c.send(Call {
                        destination: "org.freedesktop.DBus",
                        path: "/org/freedesktop/DBus",
                        interface: "org.freedesktop.DBus",
                        member: "Hello",
                        args: vec![],
                    })?;
                    return Ok(c);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(DbusError::Connect {
            address: address.to_string(),
            source: last.expect("at least one address was tried"),
        })
    }

    fn remaining(&self) -> Result<Duration, DbusError> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(DbusError::Timeout);
        }
        Ok(left)
    }

    /// Queues SASL EXTERNAL and BEGIN: they go out in the same write as the first messages
    /// (the bus reads the lines, then the messages after BEGIN), and the server's answer is
    /// read before the first reply (`wait`). A refusal is then an error, whatever followed.
    fn authenticate(&mut self, uid: u32) {
        let hex: String = uid
            .to_string()
            .bytes()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.out
            .extend_from_slice(format!("\0AUTH EXTERNAL {hex}\r\nBEGIN\r\n").as_bytes());
        self.authenticating = true;
    }

    /// The server's answer to the queued authentication, once.
    fn authenticated(&mut self) -> Result<(), DbusError> {
        if self.authenticating {
            let line = self.read_line()?;
            if !line.starts_with("OK ") {
                return Err(DbusError::Auth(line));
            }
            self.authenticating = false;
        }
        Ok(())
    }

    fn read_line(&mut self) -> Result<String, DbusError> {
        loop {
            if let Some(end) = self.input.windows(2).position(|w| w == b"\r\n") {
                let line = String::from_utf8_lossy(&self.input[..end]).into_owned();
                self.input.drain(..end + 2);
                return Ok(line);
            }
            if self.input.len() > 16 * 1024 {
                return Err(DbusError::Auth("an overlong line".into()));
            }
            self.fill()?;
        }
    }

    /// Reads what the socket has (at least one byte) into `input`.
    fn fill(&mut self) -> Result<(), DbusError> {
        let timeout = self.remaining()?;
        self.stream
            .set_read_timeout(Some(timeout))
            .map_err(DbusError::Io)?;
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    return Err(DbusError::Io(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the bus closed the connection",
                    )))
                }
                Ok(n) => {
                    self.input.extend_from_slice(&buf[..n]);
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(io_error(e)),
            }
        }
    }

    fn flush(&mut self) -> Result<(), DbusError> {
        if self.out.is_empty() {
            return Ok(());
        }
        let timeout = self.remaining()?;
        self.stream
            .set_write_timeout(Some(timeout))
            .map_err(DbusError::Io)?;
        let out = std::mem::take(&mut self.out);
        self.stream.write_all(&out).map_err(io_error)
    }

    /// Queues a method call (sent with the next wait); returns its serial.
    pub fn send(&mut self, call: Call<'_>) -> Result<u32, DbusError> {
        self.serial += 1;
        let serial = self.serial;
        let message = encode_call(serial, &call)?;
        self.out.extend_from_slice(&message);
        Ok(serial)
    }

    /// Sends what is queued and waits for the reply to `serial`: its body, or the error reply
    /// as `DbusError::Remote`.
    pub fn reply(&mut self, serial: u32) -> Result<Vec<Value>, DbusError> {
        let m = self.wait(|m| {
            (m.kind == METHOD_RETURN || m.kind == ERROR) && m.reply_serial == Some(serial)
        })?;
        if m.kind == ERROR {
            let message = m
                .body
                .first()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            return Err(DbusError::Remote {
                name: m.error_name.unwrap_or_default(),
                message,
            });
        }
        Ok(m.body)
    }

    /// Sends a call and waits for its reply.
    pub fn call(&mut self, call: Call<'_>) -> Result<Vec<Value>, DbusError> {
        let serial = self.send(call)?;
        self.reply(serial)
    }

    /// Sends what is queued and waits for a message that `wanted` accepts.
    pub fn wait(&mut self, wanted: impl Fn(&Message) -> bool) -> Result<Message, DbusError> {
        self.flush()?;
        self.authenticated()?;
        if let Some(i) = self.pending.iter().position(&wanted) {
            return Ok(self.pending.remove(i));
        }
        loop {
            let m = self.next_message()?;
            if wanted(&m) {
                return Ok(m);
            }
            if m.kind == METHOD_CALL {
                // Nobody calls us; leaving the caller without an answer is harmless here.
                continue;
            }
            if self.pending.len() >= MAX_PENDING {
                return Err(DbusError::Protocol("too many unclaimed messages".into()));
            }
            self.pending.push(m);
        }
    }

    fn next_message(&mut self) -> Result<Message, DbusError> {
        loop {
            if let Some(len) = message_length(&self.input)? {
                if self.input.len() >= len {
                    let bytes: Vec<u8> = self.input.drain(..len).collect();
                    return decode_message(&bytes);
                }
            }
            self.fill()?;
        }
    }
}

fn align_of(ty: u8) -> usize {
    match ty {
        b'y' | b'g' | b'v' => 1,
        b'n' | b'q' => 2,
        b'b' | b'i' | b'u' | b'h' | b's' | b'o' | b'a' => 4,
        _ => 8, // x t d ( {
    }
}

/// Marshals values (little-endian) into a buffer whose offset 0 is 8-aligned in the message.
struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    fn pad(&mut self, align: usize) {
        while !self.buf.len().is_multiple_of(align) {
            self.buf.push(0);
        }
    }

    /// A fixed-size value, aligned to its size.
    fn fixed(&mut self, bytes: &[u8]) {
        self.pad(bytes.len());
        self.buf.extend_from_slice(bytes);
    }

    fn u32(&mut self, v: u32) {
        self.fixed(&v.to_le_bytes());
    }

    fn string(&mut self, s: &str) -> Result<(), DbusError> {
        if s.contains('\0') {
            return Err(DbusError::Protocol("a string with a NUL byte".into()));
        }
        let len = u32::try_from(s.len())
            .map_err(|_| DbusError::Protocol("a string too long for D-Bus".into()))?;
        self.u32(len);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        Ok(())
    }

    fn signature(&mut self, s: &str) -> Result<(), DbusError> {
        let len = u8::try_from(s.len())
            .map_err(|_| DbusError::Protocol("a signature too long for D-Bus".into()))?;
        self.buf.push(len);
        self.buf.extend_from_slice(s.as_bytes());
        self.buf.push(0);
        Ok(())
    }

    fn value(&mut self, v: &Value) -> Result<(), DbusError> {
        match v {
            Value::Byte(b) => self.buf.push(*b),
            Value::Bool(b) => self.u32(u32::from(*b)),
            Value::I16(n) => self.fixed(&n.to_le_bytes()),
            Value::U16(n) => self.fixed(&n.to_le_bytes()),
            Value::I32(n) => self.fixed(&n.to_le_bytes()),
            Value::U32(n) | Value::Fd(n) => self.u32(*n),
            Value::I64(n) => self.fixed(&n.to_le_bytes()),
            Value::U64(n) => self.fixed(&n.to_le_bytes()),
            Value::Double(d) => self.fixed(&d.to_le_bytes()),
            Value::Str(s) | Value::Path(s) => self.string(s)?,
            Value::Sig(s) => self.signature(s)?,
            Value::Variant(inner) => {
                self.signature(&inner.signature())?;
                self.value(inner)?;
            }
            Value::Array(elem, items) => {
                self.u32(0);
                let len_at = self.buf.len() - 4;
                self.pad(align_of(elem.as_bytes().first().copied().unwrap_or(b'y')));
                let start = self.buf.len();
                for item in items {
                    if item.signature() != *elem {
                        return Err(DbusError::Protocol(format!(
                            "an array of {elem} holding a {}",
                            item.signature()
                        )));
                    }
                    self.value(item)?;
                }
                let len = u32::try_from(self.buf.len() - start)
                    .map_err(|_| DbusError::Protocol("an array too long for D-Bus".into()))?;
                self.buf[len_at..len_at + 4].copy_from_slice(&len.to_le_bytes());
            }
            Value::Struct(fields) => {
                self.pad(8);
                for f in fields {
                    self.value(f)?;
                }
            }
            Value::Entry(k, v) => {
                self.pad(8);
                self.value(k)?;
                self.value(v)?;
            }
        }
        Ok(())
    }
}

fn encode_call(serial: u32, call: &Call<'_>) -> Result<Vec<u8>, DbusError> {
    let mut body = Writer { buf: Vec::new() };
    for a in &call.args {
        body.value(a)?;
    }
    let signature: String = call.args.iter().map(Value::signature).collect();
    let field =
        |code: u8, v: Value| Value::Struct(vec![Value::Byte(code), Value::Variant(Box::new(v))]);
    let mut fields = vec![
        field(1, Value::Path(call.path.into())),
        field(2, Value::Str(call.interface.into())),
        field(3, Value::Str(call.member.into())),
        field(6, Value::Str(call.destination.into())),
    ];
    if !signature.is_empty() {
        fields.push(field(8, Value::Sig(signature)));
    }
    let mut w = Writer {
        buf: vec![b'l', METHOD_CALL, 0, 1],
    };
    let body_len = u32::try_from(body.buf.len())
        .map_err(|_| DbusError::Protocol("a message too long for D-Bus".into()))?;
    w.buf.extend_from_slice(&body_len.to_le_bytes());
    w.buf.extend_from_slice(&serial.to_le_bytes());
    w.value(&Value::Array("(yv)".into(), fields))?;
    w.pad(8);
    w.buf.extend_from_slice(&body.buf);
    Ok(w.buf)
}

/// The total length of the message at the start of `input`, once its fixed header is there.
fn message_length(input: &[u8]) -> Result<Option<usize>, DbusError> {
    if input.len() < 16 {
        return Ok(None);
    }
    let big = match input[0] {
        b'l' => false,
        b'B' => true,
        other => return Err(DbusError::Protocol(format!("endianness byte {other:#x}"))),
    };
    let u32_at = |i: usize| {
        let b = [input[i], input[i + 1], input[i + 2], input[i + 3]];
        if big {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        }
    };
    let body = u32_at(4) as usize;
    let fields = u32_at(12) as usize;
    let header = (16 + fields).next_multiple_of(8);
    let total = header.saturating_add(body);
    if total > MAX_MESSAGE {
        return Err(DbusError::Protocol(format!("a message of {total} bytes")));
    }
    Ok(Some(total))
}

/// Reads values from a message (offsets relative to its start, which is 8-aligned).
struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
    big: bool,
}

fn short() -> DbusError {
    DbusError::Protocol("a message shorter than its contents".into())
}

impl<'a> Reader<'a> {
    fn align(&mut self, n: usize) -> Result<(), DbusError> {
        let to = self.pos.next_multiple_of(n);
        if to > self.buf.len() {
            return Err(short());
        }
        self.pos = to;
        Ok(())
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DbusError> {
        let end = self.pos.checked_add(n).ok_or_else(short)?;
        let s = self.buf.get(self.pos..end).ok_or_else(short)?;
        self.pos = end;
        Ok(s)
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], DbusError> {
        self.align(N)?;
        let mut b: [u8; N] = self.take(N)?.try_into().expect("N bytes");
        if self.big {
            b.reverse();
        }
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, DbusError> {
        Ok(u32::from_le_bytes(self.fixed::<4>()?))
    }

    fn text(&mut self, len: usize) -> Result<String, DbusError> {
        let bytes = self.take(len)?;
        if self.take(1)? != [0] {
            return Err(DbusError::Protocol("a string without its NUL".into()));
        }
        String::from_utf8(bytes.to_vec())
            .map_err(|_| DbusError::Protocol("a string that is not UTF-8".into()))
    }

    fn signature(&mut self) -> Result<String, DbusError> {
        let len = self.take(1)?[0] as usize;
        self.text(len)
    }

    /// Reads one value of the single complete type `ty`.
    fn value(&mut self, ty: &str, depth: usize) -> Result<Value, DbusError> {
        if depth > 64 {
            return Err(DbusError::Protocol("values nested too deeply".into()));
        }
        let first = *ty.as_bytes().first().ok_or_else(|| bad_signature(ty))?;
        Ok(match first {
            b'y' => Value::Byte(self.take(1)?[0]),
            b'b' => Value::Bool(self.u32()? != 0),
            b'n' => Value::I16(i16::from_le_bytes(self.fixed::<2>()?)),
            b'q' => Value::U16(u16::from_le_bytes(self.fixed::<2>()?)),
            b'i' => Value::I32(i32::from_le_bytes(self.fixed::<4>()?)),
            b'u' => Value::U32(self.u32()?),
            b'h' => Value::Fd(self.u32()?),
            b'x' => Value::I64(i64::from_le_bytes(self.fixed::<8>()?)),
            b't' => Value::U64(u64::from_le_bytes(self.fixed::<8>()?)),
            b'd' => Value::Double(f64::from_le_bytes(self.fixed::<8>()?)),
            b's' | b'o' => {
                let len = self.u32()? as usize;
                let s = self.text(len)?;
                if first == b's' {
                    Value::Str(s)
                } else {
                    Value::Path(s)
                }
            }
            b'g' => Value::Sig(self.signature()?),
            b'v' => {
                let sig = self.signature()?;
                let (one, rest) = split_type(&sig)?;
                if !rest.is_empty() {
                    return Err(bad_signature(&sig));
                }
                Value::Variant(Box::new(self.value(one, depth + 1)?))
            }
            b'a' => {
                let elem = &ty[1..];
                let len = self.u32()? as usize;
                self.align(align_of(
                    *elem.as_bytes().first().ok_or_else(|| bad_signature(ty))?,
                ))?;
                let end = self.pos.checked_add(len).ok_or_else(short)?;
                if end > self.buf.len() {
                    return Err(short());
                }
                let mut items = Vec::new();
                while self.pos < end {
                    items.push(self.value(elem, depth + 1)?);
                }
                if self.pos != end {
                    return Err(DbusError::Protocol(
                        "an array longer than its length".into(),
                    ));
                }
                Value::Array(elem.to_string(), items)
            }
            b'(' => {
                self.align(8)?;
                let mut fields = Vec::new();
                let mut inner = &ty[1..ty.len() - 1];
                while !inner.is_empty() {
                    let (one, rest) = split_type(inner)?;
                    fields.push(self.value(one, depth + 1)?);
                    inner = rest;
                }
                Value::Struct(fields)
            }
            b'{' => {
                self.align(8)?;
                let inner = &ty[1..ty.len() - 1];
                let (k, v) = split_type(inner)?;
                Value::Entry(
                    Box::new(self.value(k, depth + 1)?),
                    Box::new(self.value(v, depth + 1)?),
                )
            }
            _ => return Err(bad_signature(ty)),
        })
    }

    /// Reads values for every complete type of `sig`.
    fn values(&mut self, mut sig: &str) -> Result<Vec<Value>, DbusError> {
        let mut out = Vec::new();
        while !sig.is_empty() {
            let (one, rest) = split_type(sig)?;
            out.push(self.value(one, 0)?);
            sig = rest;
        }
        Ok(out)
    }
}

fn bad_signature(sig: &str) -> DbusError {
    DbusError::Protocol(format!("the signature {sig:?}"))
}

/// Splits the first single complete type off a signature.
fn split_type(sig: &str) -> Result<(&str, &str), DbusError> {
    let b = sig.as_bytes();
    let mut i = 0;
    while b.get(i) == Some(&b'a') {
        i += 1;
    }
    let end = match b.get(i) {
        None => return Err(bad_signature(sig)),
        Some(b'(') | Some(b'{') => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                match b.get(j) {
                    None => return Err(bad_signature(sig)),
                    Some(b'(') | Some(b'{') => depth += 1,
                    Some(b')') | Some(b'}') => {
                        depth -= 1;
                        if depth == 0 {
                            break j + 1;
                        }
                    }
                    _ => {}
                }
                j += 1;
            }
        }
        Some(b')') | Some(b'}') => return Err(bad_signature(sig)),
        Some(_) => i + 1,
    };
    Ok(sig.split_at(end))
}

fn decode_message(bytes: &[u8]) -> Result<Message, DbusError> {
    let big = bytes[0] == b'B';
    let mut r = Reader {
        buf: bytes,
        pos: 12,
        big,
    };
    let kind = bytes[1];
    let fields = r.value("a(yv)", 0)?;
    let mut m = Message {
        kind,
        reply_serial: None,
        path: None,
        interface: None,
        member: None,
        error_name: None,
        body: Vec::new(),
    };
    let mut signature = String::new();
    for f in fields.as_array().unwrap_or_default() {
        let Some([Value::Byte(code), v]) = f.as_struct() else {
            continue;
        };
        let v = v.unvariant();
        let text = v.as_str().map(str::to_string);
        match code {
            1 => m.path = text,
            2 => m.interface = text,
            3 => m.member = text,
            4 => m.error_name = text,
            5 => {
                if let Value::U32(s) = v {
                    m.reply_serial = Some(*s);
                }
            }
            8 => signature = text.unwrap_or_default(),
            _ => {}
        }
    }
    r.align(8)?;
    m.body = r.values(&signature)?;
    if r.pos != bytes.len() {
        return Err(DbusError::Protocol("a body longer than its values".into()));
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_parsed_and_unescaped() {
        assert_eq!(
            unix_addresses("unix:path=/run/user/1000/bus,guid=abc"),
            vec![UnixAddress::Path(b"/run/user/1000/bus".to_vec())]
        );
        assert_eq!(
            unix_addresses("tcp:host=x,port=1;unix:abstract=/tmp/dbus-%41b;unix:guid=1,path=/p"),
            vec![
                UnixAddress::Abstract(b"/tmp/dbus-Ab".to_vec()),
                UnixAddress::Path(b"/p".to_vec())
            ]
        );
        assert!(unix_addresses("autolaunch:").is_empty());
        assert!(unix_addresses("unix:path=/bad%zz").is_empty());
    }

    #[test]
    fn values_survive_a_round_trip_with_their_alignment() {
        let args = vec![
            Value::Byte(7),
            Value::string_dict([
                ("service", "docker-credential-regctl"),
                ("username", "r.io"),
            ]),
            Value::Struct(vec![
                Value::Path("/org/freedesktop/secrets/session/s1".into()),
                Value::Array("y".into(), vec![]),
                Value::Array(
                    "y".into(),
                    b"{\"a\":1}".iter().map(|b| Value::Byte(*b)).collect(),
                ),
                Value::Str("text/plain".into()),
            ]),
            Value::Bool(true),
            Value::Variant(Box::new(Value::U64(1 << 40))),
            Value::Array("(yv)".into(), vec![]),
            Value::I16(-2),
            Value::Double(0.5),
        ];
        let call = Call {
            destination: "org.freedesktop.secrets",
            path: "/org/freedesktop/secrets",
            interface: "org.freedesktop.Secret.Service",
            member: "Test",
            args: args.clone(),
        };
        let bytes = encode_call(9, &call).unwrap();
        assert_eq!(message_length(&bytes).unwrap(), Some(bytes.len()));
        let m = decode_message(&bytes).unwrap();
        assert_eq!(m.body, args);
        assert_eq!(m.member.as_deref(), Some("Test"));
        assert_eq!(m.path.as_deref(), Some("/org/freedesktop/secrets"));
    }

    #[test]
    fn big_endian_messages_are_read() {
        // A big-endian method return (serial 1, reply to 5) with body "s" = "hi".
        let mut m = vec![b'B', METHOD_RETURN, 0, 1, 0, 0, 0, 7, 0, 0, 0, 1];
        let fields: Vec<u8> = [
            vec![5, 1, b'u', 0, 0, 0, 0, 5],
            vec![8, 1, b'g', 0, 1, b's', 0],
        ]
        .concat();
        m.extend_from_slice(&(fields.len() as u32).to_be_bytes());
        m.extend_from_slice(&fields);
        while m.len() % 8 != 0 {
            m.push(0);
        }
        m.extend_from_slice(&[0, 0, 0, 2, b'h', b'i', 0]);
        let d = decode_message(&m).unwrap();
        assert_eq!(d.reply_serial, Some(5));
        assert_eq!(d.body, vec![Value::Str("hi".into())]);
    }

    #[test]
    fn truncated_or_lying_messages_are_errors_not_panics() {
        let call = Call {
            destination: "d",
            path: "/",
            interface: "i.j",
            member: "M",
            args: vec![Value::string_dict([("k", "v")])],
        };
        let bytes = encode_call(1, &call).unwrap();
        for cut in 16..bytes.len() {
            assert!(decode_message(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut long_array = bytes.clone();
        let body_len = u32::from_le_bytes(bytes[4..8].try_into().unwrap()) as usize;
        let body_start = long_array.len() - body_len;
        long_array[body_start..body_start + 4].copy_from_slice(&1000u32.to_le_bytes());
        assert!(decode_message(&long_array).is_err());
        assert!(split_type("a").is_err());
        assert!(split_type("(ss").is_err());
        assert_eq!(split_type("a{sv}as").unwrap(), ("a{sv}", "as"));
    }
}
