//! What `trust-ca` tells people: the message, files and diffs for one registry's changes, and
//! the warnings that depend on how dockerd is set up.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use serde_json::json;

use crate::context::Context;
use crate::files::certs_dir::{self, Action, FileChange, CERT_MODE, CLIENT_KEY, KEY_MODE};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::output::{FileDiff, Outcome};

/// The outcome for a set of file changes in one registry's folders: message, diffs, JSON.
/// `(done, would)`: the verb for a real run and for `--check`.
pub fn report(
    folder: &str,
    dirs: &[PathBuf],
    changes: Vec<FileChange>,
    ctx: &Context,
    (done, would): (&str, &str),
) -> Outcome {
    let mut parts = Vec::new();
    for dir in dirs {
        let names: Vec<&str> = changes
            .iter()
            .filter(|c| c.action.changed() && c.path.parent() == Some(dir.as_path()))
            .map(|c| c.name)
            .collect();
        if !names.is_empty() {
            parts.push(format!("{} in {}", names.join(", "), dir.display()));
        }
    }
    let msg = if parts.is_empty() {
        format!("{folder}: nothing to change in {}", join_paths(dirs))
    } else {
        format!("{} {}", ctx.did(done, would), parts.join("; "))
    };
    let files: Vec<_> = changes
        .iter()
        .map(|c| json!({"path": c.path, "action": c.action}))
        .collect();
    let mut outcome = Outcome::new(msg)
        .data("registry", json!(folder))
        .data("paths", json!(dirs))
        .data("files", json!(files));
    for c in changes.iter().filter(|c| c.action.changed()) {
        outcome.changed = true;
        outcome.diffs.push(diff_of(c));
    }
    outcome
}

/// A readable diff: fingerprints and subjects, never key material.
fn diff_of(c: &FileChange) -> FileDiff {
    let side = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|bytes| certs_dir::summarize(c.name, bytes))
            .unwrap_or_default()
    };
    let mut after = side(&c.after);
    if c.action == Action::ModeFixed {
        let mode = if c.name == CLIENT_KEY {
            KEY_MODE
        } else {
            CERT_MODE
        };
        after.push_str(&format!("mode set to {mode:o}\n"));
    }
    FileDiff {
        path: c.path.clone(),
        before: side(&c.before),
        after,
    }
}

pub fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p: &PathBuf| Path::display(p).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the dockerd regctl configures uses the containerd image store (its version and
/// daemon.json's features; an unreadable daemon.json counts as empty).
pub fn containerd_store(ctx: &Context) -> bool {
    let config = JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    ctx.dockerd().target(&config).containerd_store()
}

/// dockerd reads certs.d only for registries it treats as secure (loopback never is).
pub fn insecure_warning(folder: &str, ctx: &Context) -> Option<String> {
    let file = JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON).ok()?;
    let insecure = InsecureRegistries::from_config(&file.value);
    let resolve = |h: &str| -> Vec<IpAddr> {
        (h, 0)
            .to_socket_addrs()
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default()
    };
    insecure
        .is_insecure(folder, resolve)
        .then(|| hints::insecure_registry_skips_ca(folder))
}
