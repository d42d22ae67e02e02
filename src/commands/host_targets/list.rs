//! `mirror list`: every mirror regctl can see: daemon.json's (Docker Hub), each hosts.toml's
//! under dockerd's and containerd's roots, and registries.conf.d's drop-in.

use serde_json::{json, Value};
use toml_edit::DocumentMut;

use crate::commands::daemon_list::{self, MIRRORS};
use crate::context::Context;
use crate::error::Result;
use crate::files::host_files::{hosts_folders, hosts_mirrors};
use crate::files::hosts_toml::HOSTS_TOML;
use crate::files::registries_conf;
use crate::output::Outcome;

/// Every mirror regctl can see: daemon.json's (Docker Hub), each hosts.toml's under dockerd's and
/// containerd's roots, and registries.conf.d's drop-in.
pub fn mirror_list(ctx: &Context) -> Result<Outcome> {
    let mut outcome = daemon_list::show(&MIRRORS, ctx)?;
    let mut text = outcome.text.take().unwrap_or_default();
    let mut hosts = Vec::new();
    for root in [&ctx.paths.certs_dir, &ctx.paths.containerd_certs_dir] {
        for folder in hosts_folders(root) {
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
    let entries: Vec<Value> =
        crate::files::bounded::read_text_file(&drop_in, crate::files::bounded::limits::CONFIG_JSON)
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
