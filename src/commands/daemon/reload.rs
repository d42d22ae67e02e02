//! `regctl daemon reload`: SIGHUP to dockerd, after checking the file dockerd will read, and a
//! report of which changed keys dockerd will not apply until it restarts.
//!
//! dockerd does not say which configuration it runs with, so regctl keeps a snapshot of
//! daemon.json at each reload it sends (in its state dir) and compares against that. Without a
//! snapshot it compares daemon.json's mtime with dockerd's start time.

use crate::files::bounded;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::files::daemon_config;
use crate::files::json_file::{self, FileKind};
use crate::hints;
use crate::output::Outcome;

pub fn run(pidfile: Option<PathBuf>, ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let (value, _, problems) = super::read_validated(path, &ctx.dockerd())?;
    if !problems.is_empty() {
        return Err(Error::DaemonConfigInvalid {
            path: path.to_path_buf(),
            problems,
        });
    }
    let pidfile = pidfile.unwrap_or_else(|| ctx.paths.pidfile.clone());
    let pid = read_pid(&pidfile)?;
    check_is_dockerd(pid, &pidfile)?;

    let snapshot_path = snapshot_path(&ctx.paths.state_dir, path);
    let snapshot = bounded::read_file(&snapshot_path, bounded::limits::CONFIG_JSON)
        .ok()
        .and_then(|b| json_file::parse_document(&snapshot_path, &b, &FileKind::DAEMON_JSON).ok())
        .map(|(m, _)| m);
    let mut outcome = Outcome::new(format!(
        "{} SIGHUP to dockerd (pid {pid}) to reload {}",
        ctx.did("sent", "would send"),
        path.display()
    ))
    .data("pid", json!(pid))
    .data("path", json!(path));
    outcome.changed = true;

    let restart = match &snapshot {
        Some(before) => {
            let changed = daemon_config::changed_keys(before, &value);
            outcome = outcome.data("changed_keys", json!(changed));
            Some(daemon_config::keys_needing_restart(before, &value))
        }
        None => match (modified(path), process_start(pid)) {
            (Some(m), Some(start)) if m <= start => Some(Vec::new()),
            _ => None,
        },
    };
    match restart {
        Some(keys) if keys.is_empty() => {}
        Some(keys) => {
            outcome = outcome
                .data("restart_needed", json!(keys))
                .warn(hints::apply_daemon_change(&keys, ctx.paths.rootless));
        }
        None => {
            let present: Vec<String> = value
                .keys()
                .filter(|k| !daemon_config::LIVE_RELOAD_KEYS.contains(&k.as_str()))
                .cloned()
                .collect();
            if !present.is_empty() {
                outcome = outcome.warn(format!(
                    "daemon.json changed since dockerd started and regctl has no earlier reload to compare with; if any of {} changed, {}",
                    present.join(", "),
                    hints::apply_daemon_change(&present, ctx.paths.rootless)
                ));
            }
        }
    }

    if !ctx.check {
        // SAFETY: kill with a pid read from the pidfile and checked to be dockerd.
        if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
            return Err(Error::Signal {
                pid,
                source: io::Error::last_os_error(),
            });
        }
        save_snapshot(&snapshot_path, &value);
    }
    Ok(outcome)
}

fn read_pid(pidfile: &Path) -> Result<i32> {
    let content = bounded::read_file(pidfile, bounded::limits::SMALL_TEXT)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| Error::Pidfile {
            path: pidfile.to_path_buf(),
            source,
        })?;
    content
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| Error::PidfileGarbage {
            path: pidfile.to_path_buf(),
            content: content.chars().take(40).collect(),
        })
}

/// Refuses to signal a process that is gone or is not dockerd (a stale pidfile).
fn check_is_dockerd(pid: i32, pidfile: &Path) -> Result<()> {
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    if unsafe { libc::kill(pid, 0) } != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Err(Error::DaemonNotRunning {
                pid,
                path: pidfile.to_path_buf(),
            });
        }
        return Err(Error::Signal { pid, source: err });
    }
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if !comm.is_empty() && comm.trim() != "dockerd" {
        return Err(Error::Signal {
            pid,
            source: io::Error::other(format!(
                "process {pid} from {} is {:?}, not dockerd (stale pidfile?)",
                pidfile.display(),
                comm.trim()
            )),
        });
    }
    Ok(())
}

fn snapshot_path(state_dir: &Path, daemon_json: &Path) -> PathBuf {
    let name: String = daemon_json
        .to_string_lossy()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir.join("reloaded").join(name)
}

/// Best effort: without a snapshot the next reload falls back to the mtime comparison.
fn save_snapshot(path: &Path, config: &Map<String, Value>) {
    if let Some(dir) = path.parent() {
        let _ = fs::create_dir_all(dir);
    }
    let bytes = serde_json::to_vec(&Value::Object(config.clone())).unwrap_or_default();
    let _ = json_file::write_atomic(path, &bytes, 0o600, None);
}

fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// When a process started, from /proc (start ticks after boot plus the boot time).
fn process_start(pid: i32) -> Option<SystemTime> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name (which may hold spaces) start at the last ')'.
    let after = &stat[stat.rfind(')')? + 2..];
    let start_ticks: u64 = after.split_whitespace().nth(19)?.parse().ok()?;
    let boot: u64 = fs::read_to_string("/proc/stat")
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix("btime "))?
        .trim()
        .parse()
        .ok()?;
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(UNIX_EPOCH + Duration::from_secs(boot) + Duration::from_millis(start_ticks * 1000 / hz))
}
