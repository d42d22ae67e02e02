//! `insecure add` / `insecure remove` across targets: daemon.json's insecure-registries on
//! dockerd, a registry's hosts.toml under containerd's root, and regctl's registries.conf.d
//! drop-in (which have no CIDR form).

use std::path::PathBuf;

use super::warnings::{containerd_config_warning, docker_precedence_warning};
use super::{hosts_folder, hosts_roots, list_edit, report, Chosen};
use crate::cli::Targets;
use crate::commands::daemon_list::INSECURE;
use crate::context::Context;
use crate::error::Result;
use crate::files::daemon_config::{self, DaemonConfigError};
use crate::files::host_files::{self, HostFiles};
use crate::files::hosts_toml;
use crate::files::registries_conf;
use crate::output::Outcome;

/// A registry host[:port] for containerd or podman (which have no CIDR form).
fn insecure_host(entry: &str) -> Result<String> {
    if entry.contains('/') && daemon_config::parse_insecure(entry).is_ok() {
        return Err(DaemonConfigError::InvalidInsecure {
            value: entry.to_string(),
            reason: "containerd and podman have no CIDR form; name each registry as host[:port]"
                .into(),
        }
        .into());
    }
    hosts_folder(entry)
}

pub fn edit(entries: &[String], targets: Targets, add: bool, ctx: &Context) -> Result<Outcome> {
    let chosen = Chosen::from(targets);
    let hosts: Vec<String> = if chosen.containerd || chosen.containers {
        entries
            .iter()
            .map(|e| insecure_host(e))
            .collect::<Result<_>>()?
    } else {
        Vec::new()
    };
    let mut outcome = Outcome::new("");
    if chosen.docker {
        outcome = list_edit(&INSECURE, entries, add, ctx)?;
        if add {
            for folder in entries.iter().filter_map(|e| hosts_folder(e).ok()) {
                if let Some(w) = docker_precedence_warning(&folder, ctx) {
                    outcome = outcome.warn(w);
                }
            }
        }
    }
    let roots: Vec<PathBuf> = hosts_roots(
        Chosen {
            docker: false,
            ..chosen
        },
        ctx,
    );
    let mut all = Vec::new();
    for host in &hosts {
        let drop_in = ctx.paths.registries_drop_in();
        let files = HostFiles {
            roots: &roots,
            drop_in: chosen.containers.then_some(drop_in.as_path()),
            create: add,
            check: ctx.check,
        };
        let saves = host_files::edit_all(
            host,
            files,
            |doc, _, path| -> Result<()> {
                if add {
                    hosts_toml::add_insecure(doc, host, &path.display().to_string())?;
                } else {
                    hosts_toml::remove_insecure(doc, host);
                }
                Ok(())
            },
            |doc, path| -> Result<()> {
                registries_conf::set_insecure(doc, host, add, &path.display().to_string())?;
                Ok(())
            },
        )?;
        all.extend(saves);
    }
    if !hosts.is_empty() {
        let what = format!("insecure registry {}", hosts.join(", "));
        let (done, unchanged) = if add {
            (("added", "would add"), "already in")
        } else {
            (("removed", "would remove"), "not in")
        };
        outcome = report(outcome, &all, &what, done, unchanged, ctx);
    }
    if chosen.containerd {
        if let Some(w) = containerd_config_warning(ctx) {
            outcome = outcome.warn(w);
        }
    }
    Ok(outcome)
}
