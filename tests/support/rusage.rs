//! Runs regctl and reports its peak memory: `ru_maxrss` from `wait4` of that one process (so
//! that other tests' children running at the same time do not count), with a bound on hanging:
//! a run still going after `limit` is killed and the test fails.
//!
//! The `wait4` is GNU time's (`/usr/bin/time -f %M`, installed by scripts/setup for the
//! benchmarks): regctl must be forked from a small process, because Linux carries the parent's
//! high-water mark into a child's `ru_maxrss` across `execve` (a regctl spawned straight from
//! this test binary reports the test binary's 190 MiB).

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{require_tool, Run};

/// A finished run and its peak resident set size.
#[derive(Debug)]
pub struct Measured {
    pub run: Run,
    /// Peak RSS in bytes.
    pub peak_rss: u64,
}

/// The most a regctl run may use on unbounded input (the bound).
pub const MAX_RSS: u64 = 64 << 20;

/// Runs `cmd` (its program, arguments and environment) under GNU time with `stdin`.
pub fn run_measured(cmd: Command, stdin: Stdio, limit: Duration) -> Measured {
    let time = require_tool("time");
    let report = tempfile::NamedTempFile::new().unwrap();
    let mut timed = Command::new(time);
    timed
        .args(["-f", "%M", "-o"])
        .arg(report.path())
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env_clear()
        .envs(
            cmd.get_envs()
                .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))),
        )
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    let child = timed.spawn().expect("spawn time");
    let pid = child.id() as libc::pid_t;
    let started = Instant::now();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let out = loop {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(out) => break out.expect("wait"),
            Err(_) if started.elapsed() > limit => {
                // SAFETY: a signal to the group this test started.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
                panic!("{cmd:?} still ran after {limit:?}: killed");
            }
            Err(_) => {}
        }
    };
    let text = std::fs::read_to_string(report.path()).unwrap();
    // The last line is %M; a line before it may say "Command exited with non-zero status N".
    let kib: u64 = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or_else(|| panic!("GNU time reported {text:?}"));
    Measured {
        run: Run::from(out),
        peak_rss: kib * 1024,
    }
}

/// A run that must fail cleanly on unbounded input: exit 1 (no panic, no abort), an `error:`
/// naming each of `words`, and a peak RSS under [`MAX_RSS`].
pub fn assert_bounded_failure(m: &Measured, words: &[&str]) {
    assert_eq!(m.run.code, 1, "{:#?}", m.run);
    assert!(m.run.stderr.contains("error: "), "{}", m.run.stderr);
    for w in words {
        assert!(
            m.run.stderr.contains(w),
            "expected {w:?} in: {}",
            m.run.stderr
        );
    }
    assert_bounded_memory(m);
}

/// The run's peak RSS stayed under [`MAX_RSS`].
pub fn assert_bounded_memory(m: &Measured) {
    assert!(
        m.peak_rss < MAX_RSS,
        "peak RSS {} MiB (limit {} MiB): {:#?}",
        m.peak_rss >> 20,
        MAX_RSS >> 20,
        m.run
    );
}
