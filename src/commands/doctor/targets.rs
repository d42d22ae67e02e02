//! The registries a bare `regctl doctor` diagnoses: those config.json and daemon.json name, and
//! Docker Hub, where every docker pulls from.

use serde_json::Value;

use crate::context::Context;
use crate::files::daemon_config::{self, InsecureEntry};
use crate::files::json_file::{FileKind, JsonFile};
use crate::names::{self, RegistryName};

/// Every registry config.json and daemon.json name, once each, sorted by host, then Docker
/// Hub (every docker pulls from it; its mirrors are judged in its report, as mirrors).
pub fn configured(ctx: &Context) -> Vec<RegistryName> {
    let mut raw: Vec<String> = Vec::new();
    if let Ok(client) = JsonFile::read(&ctx.paths.client_config(), FileKind::CLIENT_CONFIG) {
        for key in ["auths", "credHelpers"] {
            if let Some(map) = client.value.get(key).and_then(Value::as_object) {
                raw.extend(map.keys().cloned());
            }
        }
    }
    if let Ok(daemon) = JsonFile::read(&ctx.paths.daemon_config, FileKind::DAEMON_JSON) {
        for entry in daemon_config::string_list(&daemon.value, daemon_config::INSECURE)
            .ok()
            .flatten()
            .unwrap_or_default()
        {
            if let Ok((InsecureEntry::Host(h), _)) = daemon_config::parse_insecure(&entry) {
                raw.push(h);
            }
        }
    }
    let mut out: Vec<RegistryName> = Vec::new();
    for r in raw {
        if let Ok(n) = names::parse(&r) {
            if !out.iter().any(|o| o.host == n.host) {
                out.push(n);
            }
        }
    }
    out.retain(|n| !n.is_docker_hub);
    out.sort_by(|a, b| a.host.cmp(&b.host));
    out.extend(names::parse("docker.io").ok());
    out
}
