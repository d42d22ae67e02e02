//! What `mirror` and `insecure` warn about after an edit: a containerd that does not read the
//! hosts directory, a dockerd that does not read hosts.toml, and a dockerd that ignores
//! daemon.json's lists for a registry because hosts.toml wins.

use std::path::Path;

use crate::context::Context;
use crate::files::daemon_config;
use crate::files::host_files::hosts_mirrors;
use crate::files::hosts_toml::{self, HOSTS_TOML};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;

/// Warns when the CRI plugin of containerd's config.toml does not read the hosts directory.
pub fn containerd_config_warning(ctx: &Context) -> Option<String> {
    let config = &ctx.paths.containerd_config;
    let dir = &ctx.paths.containerd_certs_dir;
    let text = match crate::files::bounded::read_text_file(config, crate::files::bounded::limits::CONFIG_JSON) {
        Ok(t) => t,
        Err(_) => {
            return Some(format!(
                "{} does not exist: containerd's CRI (Kubernetes) reads hosts.toml only when config_path is set ({}); ctr needs --hosts-dir {}",
                config.display(),
                hints::containerd_config_path(config, dir, true),
                dir.display()
            ))
        }
    };
    match hosts_toml::cri_config_paths(&text) {
        Err(e) => Some(format!(
            "{} is not valid TOML ({e}); containerd will not start with it",
            config.display()
        )),
        Ok((paths, v3)) if !paths.iter().any(|p| Path::new(p) == dir.as_path()) => Some(format!(
            "containerd's CRI does not read {} ({}): {}",
            dir.display(),
            if paths.is_empty() {
                format!("{} sets no config_path", config.display())
            } else {
                format!("config_path is {}", paths.join(":"))
            },
            hints::containerd_config_path(config, dir, v3)
        )),
        Ok(_) => None,
    }
}

/// Whether this dockerd reads certs.d/<host>/hosts.toml: only 28.0+ with the containerd image
/// store (moby daemon/hosts.go); a warning naming the dockerd when it does not.
pub fn docker_reads_hosts_warning(ctx: &Context) -> Option<String> {
    let config = JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    let target = ctx.dockerd().target(&config);
    let why = if !target.version().at_least(28, 0) {
        "dockerd reads certs.d/<host>/hosts.toml from 28.0 on"
    } else if !target.containerd_store() {
        "only the containerd image store reads hosts.toml (features.containerd-snapshotter)"
    } else {
        return None;
    };
    Some(format!(
        "this dockerd does not read hosts.toml: {}; {why}. The file is written for containerd-store dockerd 28+ (use --containerd / --containers for containerd and podman)",
        target.describe()
    ))
}

/// daemon.json's list for a key, when the file parses.
fn daemon_list_value(ctx: &Context, key: &str) -> Vec<String> {
    JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON)
        .ok()
        .and_then(|f| daemon_config::string_list(&f.value, key).ok().flatten())
        .unwrap_or_default()
}

/// dockerd 28+ with the containerd image store uses hosts.toml's mirrors, and ignores
/// daemon.json's registry-mirrors and insecure-registries for that registry, once hosts.toml
/// yields more than one host (moby daemon/hosts.go, mergeLegacyConfig).
pub fn docker_precedence_warning(folder: &str, ctx: &Context) -> Option<String> {
    // A dockerd that does not read hosts.toml uses daemon.json alone.
    if docker_reads_hosts_warning(ctx).is_some() {
        return None;
    }
    let from_hosts = hosts_mirrors(&ctx.paths.certs_dir, folder);
    if from_hosts.is_empty() {
        return None;
    }
    let path = ctx.paths.certs_dir.join(folder).join(HOSTS_TOML);
    let mirrors = daemon_list_value(ctx, daemon_config::MIRRORS);
    let insecure = daemon_list_value(ctx, daemon_config::INSECURE);
    let mut ignored = Vec::new();
    if folder == "docker.io" && !mirrors.is_empty() {
        ignored.push(format!("registry-mirrors ({})", mirrors.join(", ")));
    }
    if insecure.iter().any(|i| i == folder) {
        ignored.push(format!("insecure-registries' {folder}"));
    }
    (!ignored.is_empty()).then(|| {
        format!(
            "dockerd 28+ with the containerd image store uses the mirrors in {} ({}) for {folder} and ignores daemon.json's {}; the classic image store reads only daemon.json",
            path.display(),
            from_hosts.join(", "),
            ignored.join(" and ")
        )
    })
}
