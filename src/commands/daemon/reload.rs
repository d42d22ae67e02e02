//! `regctl daemon reload`: SIGHUP to dockerd, after checking the file dockerd will read, and a
//! report of which changed keys dockerd will not apply until it restarts.
//!
//! dockerd does not say which configuration it runs with, so regctl keeps a snapshot of
//! daemon.json at each reload it sends (in its state dir) and compares against that. Without a
//! snapshot it compares daemon.json's mtime with dockerd's start time.

use std::path::PathBuf;

use serde_json::json;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::files::daemon_config;
use crate::files::dockerd_process::{
    check_is_dockerd, load_snapshot, modified, process_start, read_pid, save_snapshot, sighup,
    snapshot_path,
};
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
    let snapshot = load_snapshot(&snapshot_path);
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
        sighup(pid)?;
        save_snapshot(&snapshot_path, &value);
    }
    Ok(outcome)
}
