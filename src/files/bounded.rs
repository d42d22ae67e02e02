//! The one capped reader: everything regctl reads from outside (files, pipes, FIFOs, child
//! processes' output, HTTP bodies) goes through [`copy_capped`], with a limit suited to what is
//! read ([`limits`]). Reading stops a few KB past the limit, so an input of unbounded size (a
//! helper printing forever, `/dev/zero` as a CA file) ends in a clear error with bounded memory.
//!
//! Where a file is expected, [`read_file`] opens it without blocking and refuses anything but a
//! regular file (a FIFO would hang, a device like `/dev/zero` never ends). Symlinks are followed,
//! as Go's `os.ReadFile` follows them in docker and dockerd; what they lead to must be a regular
//! file too.
//!
//! Errors are `std::io::Error`s, so that every caller's existing "cannot read PATH: ..." error
//! names the file: [`ErrorKind::FileTooLarge`] past the limit, [`ErrorKind::InvalidInput`] for a
//! file that is not a regular file.

use std::fs::File;
use std::io::{self, ErrorKind, Read, Write};
use std::path::Path;

/// Limits for each kind of input. Each is far above what a real one holds and far below what
/// would strain memory (everything here stays under 64 MiB of peak RSS on unbounded input).
pub mod limits {
    /// A PEM or DER certificate bundle or key (a CA file, `--client-cert`, `--client-key`, a
    /// certs.d file). The whole Mozilla bundle is about 220 KB.
    pub const PEM: u64 = 4 << 20;
    /// A password or token (`--password-stdin`) and a credential-helper request on stdin
    /// (`docker-credential-regctl`): a few KB at most (an ECR token is about 2 KB).
    pub const SECRET: u64 = 1 << 20;
    /// A credential helper's or `credential_process`' stdout (a `list` of thousands of
    /// registries stays under 1 MB).
    pub const PROCESS_OUTPUT: u64 = 4 << 20;
    /// A child's stderr, kept for the error message only.
    pub const PROCESS_STDERR: u64 = 256 << 10;
    /// config.json and daemon.json (and the TOML files: hosts.toml, registries.conf.d).
    pub const CONFIG_JSON: u64 = 8 << 20;
    /// `~/.aws/config`, `~/.aws/credentials`, and regctl's ECR token cache entries.
    pub const AWS_FILE: u64 = 4 << 20;
    /// A registry's, token server's or AWS API's response body (a JWT with a certificate chain
    /// stays under 16 KB).
    pub const HTTP_BODY: u64 = 1 << 20;
    /// Small text files: a pid file, /etc/environment.
    pub const SMALL_TEXT: u64 = 64 << 10;
}

/// `limit` bytes for people: "4 MiB", "256 KiB", "100 bytes".
pub fn describe(limit: u64) -> String {
    if limit >= 1 << 20 && limit.is_multiple_of(1 << 20) {
        format!("{} MiB", limit >> 20)
    } else if limit >= 1 << 10 && limit.is_multiple_of(1 << 10) {
        format!("{} KiB", limit >> 10)
    } else {
        format!("{limit} bytes")
    }
}

fn too_large(limit: u64) -> io::Error {
    io::Error::new(
        ErrorKind::FileTooLarge,
        format!(
            "it holds more than {}, far more than such an input needs; regctl stopped reading",
            describe(limit)
        ),
    )
}

/// Whether `e` is this module's "more than the limit".
pub fn is_too_large(e: &io::Error) -> bool {
    e.kind() == ErrorKind::FileTooLarge
}

/// Copies `input` to `out` until its end, failing once more than `limit` bytes came (at most one
/// read buffer past the limit is read; nothing past the limit is written to `out`).
/// Interrupted reads are retried; other errors end the copy.
pub fn copy_capped<R: Read + ?Sized, W: Write + ?Sized>(
    input: &mut R,
    limit: u64,
    out: &mut W,
) -> io::Result<u64> {
    let mut buf = [0u8; 8192];
    let mut total: u64 = 0;
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        total = total.saturating_add(n as u64);
        if total > limit {
            return Err(too_large(limit));
        }
        out.write_all(&buf[..n])?;
    }
}

/// All of `input`, refused past `limit` bytes.
pub fn read_capped<R: Read + ?Sized>(input: &mut R, limit: u64) -> io::Result<Vec<u8>> {
    let mut out = Vec::new();
    copy_capped(input, limit, &mut out)?;
    Ok(out)
}

/// Appends to `out` what `input` yields until its end or until `out` holds `limit` bytes, with no
/// error at the limit: for a caller that only samples a stream (doctor's view of a response
/// body). An `UnexpectedEof` ends the stream too (a TLS peer closing without close_notify).
pub fn read_prefix<R: Read + ?Sized>(
    input: &mut R,
    limit: u64,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let left = limit.saturating_sub(out.len() as u64);
    match copy_capped(&mut (&mut *input).take(left), left, out) {
        Err(e) if e.kind() != ErrorKind::UnexpectedEof => Err(e),
        _ => Ok(()),
    }
}

/// All of `input` as text (invalid UTF-8 is an `InvalidData` error), refused past `limit` bytes.
pub fn read_text<R: Read + ?Sized>(input: &mut R, limit: u64) -> io::Result<String> {
    String::from_utf8(read_capped(input, limit)?)
        .map_err(|_| io::Error::new(ErrorKind::InvalidData, "stream did not contain valid UTF-8"))
}

/// What a file that is not a regular file is, for the error message.
pub fn describe_file_type(ft: std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if ft.is_char_device() {
            return "a character device";
        }
        if ft.is_block_device() {
            return "a block device";
        }
        if ft.is_socket() {
            return "a socket";
        }
    }
    if ft.is_dir() {
        return "a directory";
    }
    if ft.is_symlink() {
        return "a symbolic link";
    }
    "not a regular file"
}

/// Opens `path` (following symlinks) without blocking on a FIFO and without making a terminal
/// the controlling one, and refuses anything but a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let mut opts = std::fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = opts.open(path)?;
    let ft = file.metadata()?.file_type();
    if !ft.is_file() {
        return Err(io::Error::new(
            ErrorKind::InvalidInput,
            format!(
                "it is {}, not a regular file; regctl reads only regular files here",
                describe_file_type(ft)
            ),
        ));
    }
    Ok(file)
}

/// A regular file's bytes, refused past `limit` (by its size first, then by what it yields, for
/// files like those in /proc whose size says 0).
pub fn read_file(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let mut file = open_regular(path)?;
    if file.metadata()?.len() > limit {
        return Err(too_large(limit));
    }
    read_capped(&mut file, limit)
}

/// A regular file's text, as [`read_file`] reads it, refused when it is not UTF-8.
pub fn read_text_file(path: &Path, limit: u64) -> io::Result<String> {
    String::from_utf8(read_file(path, limit)?)
        .map_err(|_| io::Error::new(ErrorKind::InvalidData, "it is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stops_past_the_limit_without_reading_the_rest() {
        let mut endless = io::repeat(b'x');
        let e = read_capped(&mut endless, 100_000).unwrap_err();
        assert!(is_too_large(&e), "{e}");
        assert!(e.to_string().contains("more than 100000 bytes"), "{e}");
        let mut exact = io::repeat(b'x').take(4096);
        assert_eq!(read_capped(&mut exact, 4096).unwrap().len(), 4096);
        let mut over = io::repeat(b'x').take(4097);
        assert!(is_too_large(&read_capped(&mut over, 4096).unwrap_err()));
    }

    #[test]
    fn a_prefix_stops_at_the_limit_without_an_error() {
        let mut out = b"ab".to_vec();
        read_prefix(&mut io::repeat(b'x'), 10, &mut out).unwrap();
        assert_eq!(out, b"abxxxxxxxx");
        let mut out = Vec::new();
        read_prefix(&mut &b"short"[..], 10, &mut out).unwrap();
        assert_eq!(out, b"short");
    }

    #[test]
    fn only_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_file(dir.path(), 10).unwrap_err();
        assert!(e.to_string().contains("a directory"), "{e}");
        let e = read_file(Path::new("/dev/zero"), 1 << 20).unwrap_err();
        assert!(e.to_string().contains("a character device"), "{e}");
        let fifo = dir.path().join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_file(&fifo, 10).unwrap_err();
        assert!(e.to_string().contains("named pipe"), "{e}");
        let big = dir.path().join("big");
        std::fs::write(&big, vec![b'a'; 11]).unwrap();
        assert!(is_too_large(&read_file(&big, 10).unwrap_err()));
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&big, &link).unwrap();
        assert_eq!(read_file(&link, 11).unwrap().len(), 11);
    }

    #[test]
    fn limits_read_well() {
        assert_eq!(describe(limits::PEM), "4 MiB");
        assert_eq!(describe(limits::PROCESS_STDERR), "256 KiB");
        assert_eq!(describe(1000), "1000 bytes");
    }
}
