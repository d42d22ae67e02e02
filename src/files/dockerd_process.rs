//! dockerd as a process: its pid from the pidfile, whether that pid is dockerd, SIGHUP, when it
//! started; and the snapshot of daemon.json regctl keeps at each reload it sends (dockerd does
//! not say which configuration it runs with). Used by `daemon reload`; nothing here prints.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::files::bounded;
use crate::files::json_file::{self, FileKind};

#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot read the dockerd pidfile {path}: {source}")]
    Pidfile {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} does not hold a process id: {content:?}")]
    PidfileGarbage { path: PathBuf, content: String },
    #[error("dockerd (pid {pid} from {path}) is not running")]
    NotRunning { pid: i32, path: PathBuf },
    #[error("cannot signal dockerd (pid {pid}): {source}")]
    Signal {
        pid: i32,
        #[source]
        source: io::Error,
    },
}

/// The pid in dockerd's pidfile.
pub fn read_pid(pidfile: &Path) -> Result<i32, ProcessError> {
    let content = bounded::read_file(pidfile, bounded::limits::SMALL_TEXT)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| ProcessError::Pidfile {
            path: pidfile.to_path_buf(),
            source,
        })?;
    content
        .trim()
        .parse::<i32>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| ProcessError::PidfileGarbage {
            path: pidfile.to_path_buf(),
            content: content.chars().take(40).collect(),
        })
}

/// Refuses to signal a process that is gone or is not dockerd (a stale pidfile).
pub fn check_is_dockerd(pid: i32, pidfile: &Path) -> Result<(), ProcessError> {
    // SAFETY: signal 0 only checks that the process exists and may be signalled.
    if unsafe { libc::kill(pid, 0) } != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Err(ProcessError::NotRunning {
                pid,
                path: pidfile.to_path_buf(),
            });
        }
        return Err(ProcessError::Signal { pid, source: err });
    }
    let comm = fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
    if !comm.is_empty() && comm.trim() != "dockerd" {
        return Err(ProcessError::Signal {
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

/// Where regctl keeps the snapshot of `daemon_json` it last reloaded.
pub fn snapshot_path(state_dir: &Path, daemon_json: &Path) -> PathBuf {
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
pub fn save_snapshot(path: &Path, config: &Map<String, Value>) {
    if let Some(dir) = path.parent() {
        let _ = fs::create_dir_all(dir);
    }
    let bytes = serde_json::to_vec(&Value::Object(config.clone())).unwrap_or_default();
    let _ = super::atomic::write_atomic(path, &bytes, 0o600, None);
}

/// A file's mtime.
pub fn modified(path: &Path) -> Option<SystemTime> {
    fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// When a process started, from /proc (start ticks after boot plus the boot time).
pub fn process_start(pid: i32) -> Option<SystemTime> {
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

/// The snapshot of daemon.json saved at the last reload, when there is one regctl can read.
pub fn load_snapshot(path: &Path) -> Option<Map<String, Value>> {
    bounded::read_file(path, bounded::limits::CONFIG_JSON)
        .ok()
        .and_then(|b| json_file::parse_document(path, &b, &FileKind::DAEMON_JSON).ok())
        .map(|(m, _)| m)
}

/// SIGHUP to a pid checked to be dockerd.
pub fn sighup(pid: i32) -> Result<(), ProcessError> {
    // SAFETY: kill with a pid read from the pidfile and checked to be dockerd.
    if unsafe { libc::kill(pid, libc::SIGHUP) } != 0 {
        return Err(ProcessError::Signal {
            pid,
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}
