//! Runs the child processes regctl asks for secrets (credential helpers, AWS
//! `credential_process`) with everything bounded: the child runs in its own process group, its
//! output goes through the one capped reader (`files::bounded`), and at the deadline (or when
//! its output passes the cap) the whole group is killed, grandchildren included.
//!
//! A child that exits while something it started still holds its stdout open is done when it
//! exits: what it printed until then (plus a short grace for the pipe to drain) is its answer,
//! and the group is killed so that nothing is left behind.

use std::io::{self, Write};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::files::bounded;

/// How long the pipes may stay open after the child exited (a grandchild holding them).
const GRACE: Duration = Duration::from_millis(500);

/// What a finished child left.
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

#[derive(Debug)]
pub enum ExecError {
    /// It could not be started.
    Spawn(io::Error),
    /// It did not exit before the deadline; its group was killed.
    Timeout,
    /// It printed more than `limit` bytes on `stream`; its group was killed.
    TooLarge { stream: &'static str, limit: u64 },
    /// Waiting for it failed.
    Wait(io::Error),
}

impl std::fmt::Display for ExecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExecError::Spawn(e) => write!(f, "cannot start it: {e}"),
            ExecError::Timeout => write!(f, "it did not finish in time"),
            ExecError::TooLarge { stream, limit } => write!(
                f,
                "it printed more than {} on {stream}, far more than any answer holds; regctl stopped it",
                bounded::describe(*limit)
            ),
            ExecError::Wait(e) => write!(f, "cannot wait for it: {e}"),
        }
    }
}

/// Limits for one run.
pub struct Limits {
    pub stdout: u64,
    /// None: stderr goes to /dev/null.
    pub stderr: Option<u64>,
}

/// What a reader thread collected, shared so that a pipe held open by a grandchild does not
/// keep the answer from us.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Collected>>);

#[derive(Default)]
struct Collected {
    bytes: Vec<u8>,
    done: bool,
    too_large: bool,
}

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.lock().bytes.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Collected> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One of the child's output pipes, read by its own thread.
struct Stream {
    name: &'static str,
    limit: u64,
    shared: Shared,
    _reader: JoinHandle<()>,
}

fn collect<R: io::Read + Send + 'static>(name: &'static str, mut r: R, limit: u64) -> Stream {
    let shared = Shared::default();
    let mut sink = shared.clone();
    let handle = std::thread::spawn(move || {
        let result = bounded::copy_capped(&mut r, limit, &mut sink);
        let mut c = sink.lock();
        c.too_large = matches!(&result, Err(e) if bounded::is_too_large(e));
        c.done = true;
    });
    Stream {
        name,
        limit,
        shared,
        _reader: handle,
    }
}

/// Kills the child's whole process group (it leads it: `process_group(0)`).
fn kill_group(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = i32::try_from(child.id()) {
        if pid > 0 {
            // SAFETY: a plain syscall on the group this child leads.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
    }
    let _ = child.kill();
}

/// Runs `cmd` with `input` on stdin until it exits or `deadline` passes.
pub fn run(
    mut cmd: Command,
    input: &[u8],
    limits: Limits,
    deadline: Instant,
) -> Result<Finished, ExecError> {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        cmd.process_group(0);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    cmd.stderr(if limits.stderr.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().map_err(ExecError::Spawn)?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = input.to_vec();
    // A child that exits without reading its input closes the pipe: not an error.
    std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let mut streams = Vec::new();
    if let Some(out) = child.stdout.take() {
        streams.push(collect("stdout", out, limits.stdout));
    }
    if let (Some(err), Some(limit)) = (child.stderr.take(), limits.stderr) {
        streams.push(collect("stderr", err, limit));
    }
    let over = |streams: &[Stream]| {
        streams
            .iter()
            .find(|s| s.shared.lock().too_large)
            .map(|s| ExecError::TooLarge {
                stream: s.name,
                limit: s.limit,
            })
    };
    let status = loop {
        if let Some(e) = over(&streams) {
            kill_group(&mut child);
            let _ = child.wait();
            return Err(e);
        }
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            Ok(None) => {
                kill_group(&mut child);
                let _ = child.wait();
                return Err(ExecError::Timeout);
            }
            Err(e) => {
                kill_group(&mut child);
                return Err(ExecError::Wait(e));
            }
        }
    };
    // It exited: the pipes close now unless something it started holds them.
    let grace_end = (Instant::now() + GRACE).min(deadline.max(Instant::now()));
    while Instant::now() < grace_end && !streams.iter().all(|s| s.shared.lock().done) {
        std::thread::sleep(Duration::from_millis(5));
    }
    // Whatever is still in its group goes too (the group outlives its leader).
    kill_group(&mut child);
    if let Some(e) = over(&streams) {
        return Err(e);
    }
    let mut taken = streams
        .into_iter()
        .map(|s| std::mem::take(&mut s.shared.lock().bytes));
    let stdout = taken.next().unwrap_or_default();
    let stderr = taken.next().unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut c = Command::new("sh");
        c.arg("-c").arg(script);
        c
    }

    fn limits() -> Limits {
        Limits {
            stdout: 1 << 16,
            stderr: Some(1 << 10),
        }
    }

    #[test]
    fn endless_output_is_stopped_at_the_cap() {
        let e = run(
            sh("yes"),
            b"",
            limits(),
            Instant::now() + Duration::from_secs(30),
        )
        .err()
        .unwrap();
        assert!(
            matches!(
                e,
                ExecError::TooLarge {
                    stream: "stdout",
                    ..
                }
            ),
            "{e}"
        );
        let e = run(
            sh("yes >&2"),
            b"",
            limits(),
            Instant::now() + Duration::from_secs(30),
        )
        .err()
        .unwrap();
        assert!(e.to_string().contains("on stderr"), "{e}");
    }

    #[test]
    fn a_grandchild_holding_stdout_does_not_hold_the_answer() {
        let started = Instant::now();
        let f = run(
            sh("echo answer; sleep 30 & exit 0"),
            b"",
            limits(),
            Instant::now() + Duration::from_secs(20),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(f.status.success());
        assert_eq!(f.stdout, b"answer\n");
        // A bound on hanging: well under the grandchild's 30 s.
        assert!(started.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn the_deadline_kills_the_whole_group() {
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("alive");
        let script = format!("(sleep 2; touch {}) & sleep 30", marker.display());
        let e = run(
            sh(&script),
            b"",
            limits(),
            Instant::now() + Duration::from_millis(300),
        )
        .err()
        .unwrap();
        assert!(matches!(e, ExecError::Timeout), "{e}");
        std::thread::sleep(Duration::from_secs(3));
        assert!(!marker.exists(), "the grandchild survived the timeout");
    }

    #[test]
    fn input_and_output() {
        let f = run(
            sh("cat; echo err >&2; exit 3"),
            b"in",
            limits(),
            Instant::now() + Duration::from_secs(20),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (f.status.code(), &f.stdout[..], &f.stderr[..]),
            (Some(3), &b"in"[..], &b"err\n"[..])
        );
    }
}
