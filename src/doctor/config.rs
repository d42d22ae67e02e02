//! Phase 1: local configuration that breaks pulls before any packet is sent: a daemon.json
//! dockerd refuses, a config.json docker cannot read, a credential helper missing from PATH.
//! The machine's files are checked once (the "local configuration" block); a registry's
//! report holds only what is about that registry.

use serde_json::Value;

use super::{ids, Check, Inputs};
use crate::files::daemon_config;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::names::RegistryName;

/// The machine's checks (once per report), or with a registry those about it alone: the
/// credential helper docker would run for it, its certs.d folders, an ecr-login store that
/// captures it.
pub fn check(name: Option<&RegistryName>, inputs: &Inputs) -> Vec<Check> {
    let client = JsonFile::read(&inputs.client_config, FileKind::CLIENT_CONFIG);
    let Some(name) = name else {
        let mut checks = vec![engine_check(inputs), daemon_json(inputs)];
        match &client {
            Ok(file) if !file.exists() => checks.push(Check::ok(
                ids::CONFIG_CLIENT_JSON_ABSENT,
                format!(
                    "{} does not exist: docker has no stored credentials (pulls are anonymous) and uses no credential helper",
                    inputs.client_config.display()
                ),
            )),
            Ok(file) => {
                checks.push(Check::ok(
                    ids::CONFIG_CLIENT_JSON_OK,
                    format!("{} parses", inputs.client_config.display()),
                ));
                checks.extend(ecr_login_store(None, &file.value, inputs));
            }
            Err(e) => checks.push(
                Check::fail(
                    ids::CONFIG_CLIENT_JSON_INVALID,
                    format!("docker cannot read its config: {e}"),
                )
                .fix(hints::fix_json(&inputs.client_config)),
            ),
        }
        checks.extend(registries_conf(inputs));
        return checks;
    };
    let mut checks = Vec::new();
    if let Ok(file) = &client {
        checks.extend(
            ecr_login_store(Some(name), &file.value, inputs)
                .filter(|c| c.status == super::Status::Fail),
        );
        checks.extend(helper(name, &file.value, inputs));
    }
    checks.extend(certs_lint(name, &inputs.certs_dir, inputs.now));
    if inputs.containerd_certs_dir.is_dir() {
        checks.extend(certs_lint(name, &inputs.containerd_certs_dir, inputs.now));
    }
    checks
}

/// Each registries.conf.d drop-in as podman and skopeo read it (`config.registries_conf_*`).
fn registries_conf(inputs: &Inputs) -> Vec<Check> {
    use crate::files::certs_dir::lint::Severity;
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(&inputs.registries_conf_d)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|e| e == "conf") && !p.is_dir())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    let mut checks = Vec::new();
    for path in files {
        let text = match crate::files::bounded::read_text_file(
            &path,
            crate::files::bounded::limits::CONFIG_JSON,
        ) {
            Ok(t) => t,
            Err(e) => {
                checks.push(Check::fail(
                    crate::files::registries_conf::ids::INVALID,
                    format!("cannot read {}: {e}", path.display()),
                ));
                continue;
            }
        };
        let name = path.display().to_string();
        let problems = crate::files::registries_conf::lint(&name, &text);
        if problems.is_empty() {
            checks.push(Check::ok(
                ids::CONFIG_REGISTRIES_CONF,
                format!("{name} is valid"),
            ));
        }
        for p in problems {
            let status = match p.severity {
                Severity::Error => super::Status::Fail,
                Severity::Warning => super::Status::Warn,
            };
            let mut check = Check::new(p.id, status, format!("{} ({})", p.message, p.id));
            check.fix = hints::registries_conf_fix(p.id, &path);
            checks.push(check);
        }
    }
    checks
}

/// Which Docker's rules the report follows (put first in a registry's report once known).
pub fn engine_check(inputs: &Inputs) -> Check {
    Check::ok(
        ids::CONFIG_ENGINE,
        format!("judged by the rules of {}", inputs.engine.get().describe()),
    )
}

/// The certs.d review `regctl certs list` shows, for this registry's folder (and its :443 twin).
fn certs_lint(
    name: &RegistryName,
    root: &std::path::Path,
    now: std::time::SystemTime,
) -> Vec<Check> {
    use crate::files::certs_dir::lint::{lint_tree, Severity};
    if name.is_docker_hub {
        return Vec::new();
    }
    let now = now
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    let report = lint_tree(root, Some(&name.host), now);
    let mut checks = Vec::new();
    let folders = report
        .folders
        .iter()
        .map(|f| (Some(f.path.clone()), &f.problems));
    for (dir, problems) in folders.chain(std::iter::once((None, &report.problems))) {
        for p in problems {
            let status = match p.severity {
                Severity::Error => super::Status::Fail,
                Severity::Warning => super::Status::Warn,
            };
            let dir = dir
                .clone()
                .unwrap_or_else(|| root.to_path_buf().join(&name.host));
            let mut check = Check::new(
                ids::CERTS_LINT,
                status,
                format!("{}: {} ({})", dir.display(), p.message, p.id),
            );
            check.fix = hints::certs_problem_fix(p.id, &dir, p.file.as_deref());
            checks.push(check);
        }
    }
    if checks.is_empty() {
        if let Some(folder) = report.folders.first() {
            checks.push(Check::ok(
                ids::CERTS_LINT,
                format!(
                    "{} holds {} file{} and no problems",
                    folder.path.display(),
                    folder.files.len(),
                    if folder.files.len() == 1 { "" } else { "s" }
                ),
            ));
        }
    }
    checks
}

fn daemon_json(inputs: &Inputs) -> Check {
    let path = &inputs.daemon_config;
    match JsonFile::read(path, FileKind::DAEMON_JSON) {
        Ok(file) if !file.exists() => Check::ok(
            ids::CONFIG_DAEMON_JSON_ABSENT,
            format!(
                "{} does not exist: dockerd runs with its defaults (no registry mirrors, no insecure registries but 127.0.0.0/8)",
                path.display()
            ),
        ),
        Ok(file) => {
            let target = inputs.dockerd.target(&file.value);
            let problems = daemon_config::validate(&file.value, &target);
            if problems.is_empty() {
                Check::ok(
                    ids::CONFIG_DAEMON_JSON_OK,
                    format!("{} is valid for {}", path.display(), target.describe()),
                )
            } else {
                let list: Vec<String> = problems.iter().map(ToString::to_string).collect();
                Check::fail(
                    ids::CONFIG_DAEMON_JSON_INVALID,
                    format!(
                        "{} refuses {}: {}",
                        target.describe(),
                        path.display(),
                        list.join("; ")
                    ),
                )
                .fix(hints::daemon_validate(&path.display().to_string()))
            }
        }
        Err(e) => Check::fail(
            ids::CONFIG_DAEMON_JSON_INVALID,
            format!("dockerd cannot start with this file: {e}"),
        )
        .fix(hints::fix_json(path)),
    }
}

/// `credsStore: "ecr-login"`: a failure for a registry it captures (one that is not ECR and has
/// no credHelpers entry of its own), a warning otherwise.
fn ecr_login_store(
    name: Option<&RegistryName>,
    config: &serde_json::Map<String, Value>,
    inputs: &Inputs,
) -> Option<Check> {
    let ecr_hosts = crate::creds::ecr::ecr_login_creds_store(config)?;
    let captured = name.is_some_and(|n| {
        !crate::creds::ecr::EcrHost::is_ecr(&n.host)
            && crate::files::docker_config::cred_helper(config, &n.cred_key).is_none()
    });
    let status = if captured {
        super::Status::Fail
    } else {
        super::Status::Warn
    };
    Some(
        Check::new(
            ids::CONFIG_CREDS_STORE_ECR_LOGIN,
            status,
            crate::creds::ecr::ecr_login_creds_store_problem(&inputs.client_config),
        )
        .fix(hints::ecr_login_creds_store(
            &inputs.client_config,
            &ecr_hosts,
        )),
    )
}

/// The credential helper docker would run for this registry: credHelpers[KEY] > credsStore.
fn helper(
    name: &RegistryName,
    config: &serde_json::Map<String, Value>,
    inputs: &Inputs,
) -> Option<Check> {
    let by_host = config
        .get("credHelpers")
        .and_then(Value::as_object)
        .and_then(|h| h.get(&name.cred_key))
        .and_then(Value::as_str)
        .map(|h| (h.to_string(), "credHelpers"));
    let (helper, source) = by_host.or_else(|| {
        config
            .get("credsStore")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(|h| (h.to_string(), "credsStore"))
    })?;
    let program = format!("docker-credential-{helper}");
    match crate::creds::helper::find_in_path(&program, &inputs.path_dirs) {
        Some(path) => Some(Check::ok(
            ids::CREDS_HELPER_OK,
            format!("{source} names {helper}: {} is on PATH", path.display()),
        )),
        None => Some(
            Check::fail(
                ids::CREDS_HELPER_MISSING,
                format!(
                    "{source} names {helper:?} but {program} is not on PATH; docker reports \"error getting credentials - err: exec: \\\"{program}\\\": executable file not found in $PATH\""
                ),
            )
            .fix(hints::install_credential_helper(&helper)),
        ),
    }
}
