//! `regctl trust-ca`: install a registry's CA (from a file or from the chain the server presents)
//! and optionally a client pair into certs.d, for docker and on request for podman/skopeo and
//! containerd, or into the OS trust store; or remove them. Validation lives in
//! `files::certs_dir`, the file work in `files::trust`, the choice of what a server's chain
//! makes trusted in `registry::from_server`; these files decide, ask and report.

mod confirm;
mod install;
mod outcome;
mod realm;
mod report;
mod server;

use std::path::PathBuf;

use serde_json::json;

use crate::cli::TrustCaArgs;
use crate::context::Context;
use crate::error::Result;
use crate::files::certs_dir;
use crate::files::trust;
use crate::hints;
use crate::output::{Outcome, Printer};
use report::report;

/// The certs.d roots a command works on: docker's, podman/skopeo's with `--containers`,
/// containerd's with `--containerd`.
fn roots(ctx: &Context, containers: bool, containerd: bool) -> Vec<PathBuf> {
    let mut roots = vec![ctx.paths.certs_dir.clone()];
    if containers {
        roots.push(ctx.paths.containers_certs_dir.clone());
    }
    if containerd {
        roots.push(ctx.paths.containerd_certs_dir.clone());
    }
    roots
}

pub fn run(args: &TrustCaArgs, ctx: &Context, printer: &Printer) -> Result<Outcome> {
    let folder = certs_dir::folder_name(&args.registry)?;
    // A malformed pin fails before any file, DNS lookup or connection.
    if let Some(pin) = &args.fingerprint {
        certs_dir::parse_pin(pin)?;
    }
    let roots = roots(ctx, args.containers, args.containerd);
    let hosts = trust::hosts_tomls(&folder, &roots)?;
    if !args.remove {
        return install::run(args, &folder, &roots, &hosts, ctx, printer);
    }
    if args.system {
        return system_remove(&folder, ctx);
    }
    let saves = trust::name_ca_in_hosts(&folder, &hosts, false, ctx.check)?;
    let (changes, dirs_removed) = trust::remove_from_roots(&folder, &roots, ctx.check)?;
    let dirs: Vec<PathBuf> = roots.iter().map(|r| r.join(&folder)).collect();
    let mut outcome = report(&folder, &dirs, changes, ctx, ("removed", "would remove"));
    if !dirs_removed.is_empty() {
        outcome.changed = true;
        outcome.msg.push_str(&format!(
            "; {} {}",
            ctx.did("removed", "would remove"),
            report::join_paths(&dirs_removed)
        ));
    }
    outcome = outcome.data("removed_dirs", json!(dirs_removed));
    for s in &saves {
        outcome = outcome.with_save(s);
    }
    Ok(outcome)
}

/// Removes regctl's file from the OS trust store (nothing else) and updates the bundle.
fn system_remove(folder: &str, ctx: &Context) -> Result<Outcome> {
    let root = &ctx.paths.system_trust_root;
    let done = trust::system_remove(root, folder, &ctx.paths.exec_path, ctx.check)?;
    let dirs = std::slice::from_ref(&done.store.anchors_dir);
    let mut outcome = report(folder, dirs, done.changes, ctx, ("removed", "would remove"))
        .data("system_layout", json!(done.store.layout))
        .data("system_bundle", json!(done.store.bundle));
    if let Some(n) = done.updated {
        outcome = outcome.info(n);
    }
    if outcome.changed {
        outcome = outcome.info(hints::system_roots_take_effect(ctx.paths.rootless));
    }
    Ok(outcome)
}
