//! Mirrors and insecure registries for every program that reads them, not only dockerd's
//! daemon.json: a registry's hosts.toml under dockerd's certs.d (dockerd 28+, containerd image
//! store) and under containerd's, and regctl's registries.conf.d drop-in (podman, skopeo).
//! `mirror` and `insecure` share this (the file edits themselves are `files::host_files`); it
//! decides which files, and says what changed and what the programs will not read.

use std::path::PathBuf;

use crate::cli::Targets;
use crate::commands::daemon_list::{self, ListKey};
use crate::context::Context;
use crate::error::Result;
use crate::files::certs_dir;
use crate::names;
use crate::output::Outcome;

mod insecure;
mod list;
mod mirror;
mod report;
mod warnings;

pub use insecure::edit as insecure_edit;
pub use list::mirror_list;
use report::report;

/// The targets asked for; none means dockerd's.
#[derive(Debug, Clone, Copy)]
pub(super) struct Chosen {
    pub docker: bool,
    pub containerd: bool,
    pub containers: bool,
}

impl From<Targets> for Chosen {
    fn from(t: Targets) -> Chosen {
        Chosen {
            docker: t.docker || !(t.containerd || t.containers),
            containerd: t.containerd,
            containers: t.containers,
        }
    }
}

/// A registry's folder name under a hosts directory: `host[:port]`, and `docker.io` for Docker Hub.
pub fn hosts_folder(registry: &str) -> Result<String> {
    if names::parse(registry)?.is_docker_hub {
        return Ok("docker.io".to_string());
    }
    Ok(certs_dir::folder_name(registry)?)
}

/// The hosts.toml roots a change goes to.
pub(super) fn hosts_roots(chosen: Chosen, ctx: &Context) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if chosen.docker {
        roots.push(ctx.paths.certs_dir.clone());
    }
    if chosen.containerd {
        roots.push(ctx.paths.containerd_certs_dir.clone());
    }
    roots
}

pub fn mirror_add(
    urls: &[String],
    registry: Option<&str>,
    targets: Targets,
    skip_verify: bool,
    ctx: &Context,
) -> Result<Outcome> {
    mirror::edit(urls, registry, targets, Some(skip_verify), ctx)
}

pub fn mirror_remove(
    urls: &[String],
    registry: Option<&str>,
    targets: Targets,
    ctx: &Context,
) -> Result<Outcome> {
    mirror::edit(urls, registry, targets, None, ctx)
}

pub(super) fn list_edit(
    list: &ListKey,
    values: &[String],
    add: bool,
    ctx: &Context,
) -> Result<Outcome> {
    if add {
        daemon_list::add(list, values, ctx)
    } else {
        daemon_list::remove(list, values, ctx)
    }
}
