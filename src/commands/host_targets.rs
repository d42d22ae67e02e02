//! Mirrors and insecure registries for every program that reads them, not only dockerd's
//! daemon.json: a registry's hosts.toml under dockerd's certs.d (dockerd 28+, containerd image
//! store) and under containerd's, and regctl's registries.conf.d drop-in (podman, skopeo).
//! `mirror` and `insecure` share this: each target file is opened (locked) and edited first,
//! and only when every edit succeeded is anything written, so bad input leaves every file as it was.

use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use toml_edit::DocumentMut;

use crate::cli::Targets;
use crate::commands::daemon_list::{self, ListKey, INSECURE, MIRRORS};
use crate::context::Context;
use crate::error::Result;
use crate::files::certs_dir::{self, CA_FILE, CLIENT_CERT, CLIENT_KEY};
use crate::files::daemon_config::{self, DaemonConfigError};
use crate::files::hosts_toml::{self, HostTls, HOSTS_TOML};
use crate::files::json_file::{FileKind, JsonFile, Saved};
use crate::files::registries_conf;
use crate::files::toml_file::TomlFile;
use crate::hints;
use crate::names;
use crate::output::Outcome;

/// The targets asked for; none means dockerd's.
#[derive(Debug, Clone, Copy)]
struct Chosen {
    docker: bool,
    containerd: bool,
    containers: bool,
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

/// The TLS a mirror needs in its host table: what regctl installed for the mirror's host under
/// the same root (`trust-ca MIRROR`), since containerd never reads `certs.d/<mirror>/` for it.
fn mirror_tls(root: &Path, url: &str, skip_verify: bool) -> HostTls {
    let host = hosts_toml::parse_host_url(url)
        .map(|(_, h, _)| h)
        .unwrap_or_default();
    let dir = std::path::absolute(root.join(&host)).unwrap_or_else(|_| root.join(&host));
    let file = |n: &str| {
        dir.join(n)
            .is_file()
            .then(|| dir.join(n).display().to_string())
    };
    HostTls {
        ca: file(CA_FILE),
        client: file(CLIENT_CERT).zip(file(CLIENT_KEY)),
        skip_verify,
    }
}

/// The hosts.toml roots a change goes to.
fn hosts_roots(chosen: Chosen, ctx: &Context) -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if chosen.docker {
        roots.push(ctx.paths.certs_dir.clone());
    }
    if chosen.containerd {
        roots.push(ctx.paths.containerd_certs_dir.clone());
    }
    roots
}

/// Runs `edit_hosts` on the registry's hosts.toml in every chosen root and `edit_drop` on the
/// drop-in, then saves them all. Returns the saves in that order. Without `create`, a file that
/// does not exist is left out (a removal creates no folder).
fn edit_all(
    folder: &str,
    roots: &[PathBuf],
    containers: bool,
    create: bool,
    ctx: &Context,
    mut edit_hosts: impl FnMut(&mut DocumentMut, &Path, &Path) -> Result<()>,
    mut edit_drop: impl FnMut(&mut DocumentMut, &Path) -> Result<()>,
) -> Result<Vec<Saved>> {
    let mut opened = Vec::new();
    for root in roots {
        let path = root.join(folder).join(HOSTS_TOML);
        if !create && !path.exists() {
            continue;
        }
        let mut f = TomlFile::edit(&path, ctx.check)?;
        edit_hosts(&mut f.doc, root, &path)?;
        opened.push(f);
    }
    if containers {
        let path = ctx.paths.registries_drop_in();
        if !create && !path.exists() {
            return finish(opened, ctx);
        }
        let mut f = TomlFile::edit(&path, ctx.check)?;
        edit_drop(&mut f.doc, &path)?;
        opened.push(f);
    }
    finish(opened, ctx)
}

fn finish(opened: Vec<TomlFile>, ctx: &Context) -> Result<Vec<Saved>> {
    Ok(opened
        .into_iter()
        .map(|f| f.save(ctx.check))
        .collect::<std::result::Result<_, _>>()?)
}

fn paths_text(saves: &[Saved]) -> String {
    saves
        .iter()
        .map(|s| s.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Puts the saves of a target edit into an outcome (diffs, files, message).
fn report(
    mut outcome: Outcome,
    saves: &[Saved],
    what: &str,
    done: (&str, &str),
    unchanged: &str,
    ctx: &Context,
) -> Outcome {
    let changed: Vec<&Saved> = saves.iter().filter(|s| s.changed).collect();
    let msg = if saves.is_empty() {
        format!("{what}: no file to change")
    } else if changed.is_empty() {
        format!("{what} {unchanged} {}", paths_text(saves))
    } else {
        let paths: Vec<String> = changed
            .iter()
            .map(|s| s.path.display().to_string())
            .collect();
        format!("{} {what} in {}", ctx.did(done.0, done.1), paths.join(", "))
    };
    outcome.msg = if outcome.msg.is_empty() {
        msg
    } else {
        format!("{}; {msg}", outcome.msg)
    };
    for s in saves {
        outcome = outcome.with_save(s);
    }
    let mut files: Vec<Value> = outcome
        .data
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    files.extend(
        saves
            .iter()
            .map(|s| json!({"path": s.path, "changed": s.changed})),
    );
    outcome.data("files", Value::Array(files))
}

/// Warns when the CRI plugin of containerd's config.toml does not read the hosts directory.
fn containerd_config_warning(ctx: &Context) -> Option<String> {
    let config = &ctx.paths.containerd_config;
    let dir = &ctx.paths.containerd_certs_dir;
    let text = match std::fs::read_to_string(config) {
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
fn docker_reads_hosts_warning(ctx: &Context) -> Option<String> {
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

/// The mirrors a registry's hosts.toml under `root` lists, when it parses.
fn hosts_mirrors(root: &Path, folder: &str) -> Vec<String> {
    std::fs::read_to_string(root.join(folder).join(HOSTS_TOML))
        .ok()
        .and_then(|t| t.parse::<DocumentMut>().ok())
        .map(|d| hosts_toml::mirrors(&d, folder))
        .unwrap_or_default()
}

/// dockerd 28+ with the containerd image store uses hosts.toml's mirrors, and ignores
/// daemon.json's registry-mirrors and insecure-registries for that registry, once hosts.toml
/// yields more than one host (moby daemon/hosts.go, mergeLegacyConfig).
fn docker_precedence_warning(folder: &str, ctx: &Context) -> Option<String> {
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

pub fn mirror_add(
    urls: &[String],
    registry: Option<&str>,
    targets: Targets,
    skip_verify: bool,
    ctx: &Context,
) -> Result<Outcome> {
    mirror_edit(urls, registry, targets, Some(skip_verify), ctx)
}

pub fn mirror_remove(
    urls: &[String],
    registry: Option<&str>,
    targets: Targets,
    ctx: &Context,
) -> Result<Outcome> {
    mirror_edit(urls, registry, targets, None, ctx)
}

/// Adds (`add` = Some(skip_verify)) or removes mirrors in every chosen target.
fn mirror_edit(
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
    let saves = edit_all(
        &folder,
        &roots,
        chosen.containers,
        add.is_some(),
        ctx,
        |doc, root, path| {
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
        |doc, path| {
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

fn list_edit(list: &ListKey, values: &[String], add: bool, ctx: &Context) -> Result<Outcome> {
    if add {
        daemon_list::add(list, values, ctx)
    } else {
        daemon_list::remove(list, values, ctx)
    }
}

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

pub fn insecure_edit(
    entries: &[String],
    targets: Targets,
    add: bool,
    ctx: &Context,
) -> Result<Outcome> {
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
        let saves = edit_all(
            host,
            &roots,
            chosen.containers,
            add,
            ctx,
            |doc, _, path| {
                if add {
                    hosts_toml::add_insecure(doc, host, &path.display().to_string())?;
                } else {
                    hosts_toml::remove_insecure(doc, host);
                }
                Ok(())
            },
            |doc, path| {
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

/// Every mirror regctl can see: daemon.json's (Docker Hub), each hosts.toml's under dockerd's and
/// containerd's roots, and registries.conf.d's drop-in.
pub fn mirror_list(ctx: &Context) -> Result<Outcome> {
    let mut outcome = daemon_list::show(&MIRRORS, ctx)?;
    let mut text = outcome.text.take().unwrap_or_default();
    let mut hosts = Vec::new();
    for root in [&ctx.paths.certs_dir, &ctx.paths.containerd_certs_dir] {
        let mut folders: Vec<String> = std::fs::read_dir(root)
            .map(|rd| {
                rd.flatten()
                    .filter(|e| e.path().join(HOSTS_TOML).is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        folders.sort();
        for folder in folders {
            let mirrors = hosts_mirrors(root, &folder);
            let path = root.join(&folder).join(HOSTS_TOML);
            for m in &mirrors {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&format!("{m}  for {folder}  ({})", path.display()));
            }
            hosts.push(json!({"registry": folder, "path": path, "mirrors": mirrors}));
        }
    }
    let drop_in = ctx.paths.registries_drop_in();
    let entries: Vec<Value> = std::fs::read_to_string(&drop_in)
        .ok()
        .and_then(|t| t.parse::<DocumentMut>().ok())
        .map(|d| {
            registries_conf::entries(&d)
                .into_iter()
                .map(|(registry, mirrors, insecure)| {
                    for m in &mirrors {
                        if !text.is_empty() {
                            text.push('\n');
                        }
                        text.push_str(&format!("{m}  for {registry}  ({})", drop_in.display()));
                    }
                    json!({"registry": registry, "mirrors": mirrors, "insecure": insecure})
                })
                .collect()
        })
        .unwrap_or_default();
    outcome = outcome
        .data("hosts", Value::Array(hosts))
        .data(
            "registries_conf",
            json!({"path": drop_in, "registries": entries}),
        )
        .text(text);
    Ok(outcome)
}
