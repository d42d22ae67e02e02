//! `mirror add` / `mirror remove` across targets: daemon.json's registry-mirrors for Docker Hub
//! on dockerd, a registry's hosts.toml under dockerd's and containerd's roots, and regctl's
//! registries.conf.d drop-in.

use serde_json::json;

use super::warnings::{
    containerd_config_warning, docker_precedence_warning, docker_reads_hosts_warning,
};
use super::{hosts_folder, hosts_roots, list_edit, report, Chosen};
use crate::cli::Targets;
use crate::commands::daemon_list::MIRRORS;
use crate::context::Context;
use crate::error::Result;
use crate::files::daemon_config::DaemonConfigError;
use crate::files::host_files::{self, mirror_tls, HostFiles};
use crate::files::hosts_toml;
use crate::files::registries_conf;
use crate::hints;
use crate::output::Outcome;

/// Adds (`add` = Some(skip_verify)) or removes mirrors in every chosen target.
pub fn edit(
    urls: &[String],
    registry: Option<&str>,
    targets: Targets,
    add: Option<bool>,
    ctx: &Context,
) -> Result<Outcome> {
    let chosen = Chosen::from(targets);
    let mut roots = hosts_roots(chosen, ctx);
    let daemon_json = registry.is_none() && chosen.docker;
    if daemon_json {
        // Docker Hub as always: daemon.json's registry-mirrors, validated for this dockerd.
        roots.retain(|r| r != &ctx.paths.certs_dir);
        if roots.is_empty() && !chosen.containers {
            let outcome = list_edit(&MIRRORS, urls, add.is_some(), ctx)?;
            return Ok(match docker_precedence_warning("docker.io", ctx) {
                Some(w) => outcome.warn(w),
                None => outcome,
            });
        }
    }
    let normal: Vec<String> = urls
        .iter()
        .map(|u| hosts_toml::normalize_mirror(u))
        .collect::<std::result::Result<Vec<String>, DaemonConfigError>>()
        .or_else(|e| {
            if add.is_none() {
                Ok(urls.to_vec())
            } else {
                Err(e)
            }
        })?;
    let folder = hosts_folder(registry.unwrap_or("docker.io"))?;
    if add.is_some() {
        // Before any file is written.
        for u in &normal {
            hosts_toml::check_mirror(&folder, u)?;
        }
    }
    let mut outcome = Outcome::new("");
    if daemon_json {
        outcome = list_edit(&MIRRORS, urls, add.is_some(), ctx)?;
        if let Some(w) = docker_precedence_warning(&folder, ctx) {
            outcome = outcome.warn(w);
        }
    }
    let what = format!("mirror {} for {folder}", normal.join(", "));
    let drop_in = ctx.paths.registries_drop_in();
    let files = HostFiles {
        roots: &roots,
        drop_in: chosen.containers.then_some(drop_in.as_path()),
        create: add.is_some(),
        check: ctx.check,
    };
    let saves = host_files::edit_all(
        &folder,
        files,
        |doc, root, path| -> Result<()> {
            let p = path.display().to_string();
            for u in &normal {
                match add {
                    Some(skip) => {
                        hosts_toml::add_mirror(doc, &folder, u, &mirror_tls(root, u, skip), &p)?;
                    }
                    None => {
                        hosts_toml::remove_mirror(doc, u);
                    }
                }
            }
            Ok(())
        },
        |doc, path| -> Result<()> {
            let p = path.display().to_string();
            for u in &normal {
                match add {
                    Some(_) => {
                        registries_conf::add_mirror(doc, &folder, u, &p)?;
                    }
                    None => {
                        registries_conf::remove_mirror(doc, &folder, u);
                    }
                }
            }
            Ok(())
        },
    )?;
    let (done, unchanged) = match add {
        Some(_) => (("added", "would add"), "already in"),
        None => (("removed", "would remove"), "not in"),
    };
    outcome = report(outcome, &saves, &what, done, unchanged, ctx)
        .data("registry", json!(folder))
        .data("urls", json!(normal));
    if chosen.docker && registry.is_some() {
        if let Some(w) = docker_reads_hosts_warning(ctx) {
            outcome = outcome.warn(w);
        } else if let Some(w) = docker_precedence_warning(&folder, ctx) {
            outcome = outcome.warn(w);
        }
    }
    if chosen.containerd {
        if let Some(w) = containerd_config_warning(ctx) {
            outcome = outcome.warn(w);
        }
    }
    if saves.iter().any(|s| s.changed) && !roots.is_empty() {
        outcome = outcome.info(hints::hosts_toml_take_effect());
    }
    Ok(outcome)
}
