//! Mirrors and insecure registries are both lists of strings in daemon.json, edited the same way:
//! entries are validated and normalised as dockerd does, compared in normal form, and added or
//! removed without touching the rest of the file.

use std::path::Path;

use serde_json::{json, Map, Value};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::files::daemon_config::{self, DaemonConfigError, Warning};
use crate::files::dockerd::EngineVersion;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::output::Outcome;

/// Validates one entry and gives its normal form (and a warning dockerd would log).
pub type Normalizer =
    fn(&str, EngineVersion) -> std::result::Result<(String, Option<Warning>), DaemonConfigError>;

/// One list key of daemon.json and how its entries are normalised.
pub struct ListKey {
    /// The key in daemon.json.
    pub key: &'static str,
    /// The key in regctl's JSON output.
    pub json_name: &'static str,
    /// One entry, for messages.
    pub noun: &'static str,
    pub normalize: Normalizer,
}

pub const MIRRORS: ListKey = ListKey {
    key: daemon_config::MIRRORS,
    json_name: "mirrors",
    noun: "mirror",
    normalize: |v, version| daemon_config::normalize_mirror(v, version).map(|m| (m, None)),
};

pub const INSECURE: ListKey = ListKey {
    key: daemon_config::INSECURE,
    json_name: "insecure_registries",
    noun: "insecure registry",
    normalize: |v, _| daemon_config::parse_insecure(v).map(|(e, w)| (e.canonical(), w)),
};

impl ListKey {
    fn current(&self, value: &Map<String, Value>, path: &Path) -> Result<Vec<String>> {
        daemon_config::string_list(value, self.key)
            .map(Option::unwrap_or_default)
            .map_err(|source| Error::DaemonConfig {
                path: path.to_path_buf(),
                source,
            })
    }

    /// An entry's normal form, or the entry itself when it does not validate.
    fn normal(&self, entry: &str, version: EngineVersion) -> String {
        (self.normalize)(entry, version)
            .map(|(n, _)| n)
            .unwrap_or_else(|_| entry.to_string())
    }
}

fn plural(n: usize, noun: &str) -> String {
    match (n, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "insecure registry") => format!("{n} insecure registries"),
        _ => format!("{n} {noun}s"),
    }
}

pub fn add(list: &ListKey, values: &[String], ctx: &Context) -> Result<Outcome> {
    let mut warnings = Vec::new();
    let mut wanted = Vec::new();
    let engine = ctx.dockerd();
    for v in values {
        let (normal, warning) = (list.normalize)(v, engine.version)?;
        warnings.extend(warning);
        if !wanted.contains(&normal) {
            wanted.push(normal);
        }
    }
    let path = ctx.daemon_config();
    let mut file = JsonFile::edit(path, FileKind::DAEMON_JSON, ctx.check)?;
    let mut items = list.current(&file.value, path)?;
    let present: Vec<String> = items
        .iter()
        .map(|i| list.normal(i, engine.version))
        .collect();
    let added: Vec<String> = wanted
        .into_iter()
        .filter(|w| !present.contains(w))
        .collect();
    if !added.is_empty() {
        items.extend(added.iter().cloned());
        file.value.insert(list.key.to_string(), json!(items));
    }
    if list.key == daemon_config::MIRRORS {
        let target = engine.target(&file.value);
        let insecure = daemon_config::InsecureRegistries::from_config(&file.value);
        warnings.extend(
            added
                .iter()
                .filter_map(|m| daemon_config::http_mirror_warning(m, &insecure, &target)),
        );
    }
    let saved = file.save(ctx.check)?;
    let msg = if added.is_empty() {
        format!("{} already in {}", values.join(", "), path.display())
    } else {
        format!(
            "{} {} {} to {}",
            ctx.did("added", "would add"),
            list.noun,
            added.join(", "),
            path.display()
        )
    };
    let mut outcome = Outcome::new(msg)
        .with_save(&saved)
        .data("path", json!(path))
        .data(list.json_name, json!(items))
        .data("added", json!(added));
    for w in warnings {
        outcome = outcome.warn(w);
    }
    if saved.changed {
        outcome = outcome.info(hints::apply_daemon_change(&[], ctx.paths.rootless));
    }
    Ok(outcome)
}

pub fn remove(list: &ListKey, values: &[String], ctx: &Context) -> Result<Outcome> {
    // Entries are matched in normal form, or exactly as typed (so a broken entry can be removed).
    let version = ctx.dockerd().version;
    let targets: Vec<String> = values.iter().map(|v| list.normal(v, version)).collect();
    let path = ctx.daemon_config();
    let mut file = JsonFile::edit(path, FileKind::DAEMON_JSON, ctx.check)?;
    let items = list.current(&file.value, path)?;
    let (removed, kept): (Vec<String>, Vec<String>) = items
        .into_iter()
        .partition(|i| targets.contains(&list.normal(i, version)) || values.contains(i));
    if !removed.is_empty() {
        // An empty list, not a missing key: dockerd only applies keys present on reload.
        file.value.insert(list.key.to_string(), json!(kept));
    }
    let saved = file.save(ctx.check)?;
    let msg = if removed.is_empty() {
        format!("{} not in {}", values.join(", "), path.display())
    } else {
        format!(
            "{} {} {} from {}",
            ctx.did("removed", "would remove"),
            list.noun,
            removed.join(", "),
            path.display()
        )
    };
    let mut outcome = Outcome::new(msg)
        .with_save(&saved)
        .data("path", json!(path))
        .data(list.json_name, json!(kept))
        .data("removed", json!(removed));
    if saved.changed {
        outcome = outcome.info(hints::apply_daemon_change(&[], ctx.paths.rootless));
    }
    Ok(outcome)
}

pub fn show(list: &ListKey, ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let file = JsonFile::read(path, FileKind::DAEMON_JSON)?;
    let items = list.current(&file.value, path)?;
    let mut outcome = Outcome::new(format!(
        "{} in {}",
        plural(items.len(), list.noun),
        path.display()
    ))
    .data("path", json!(path))
    .data(list.json_name, json!(items))
    .text(items.join("\n"));
    let version = ctx.dockerd().version;
    for item in &items {
        if let Err(e) = (list.normalize)(item, version) {
            outcome = outcome.warn(format!("dockerd refuses this entry: {e}"));
        }
    }
    if list.key == daemon_config::INSECURE {
        outcome = outcome.data("always_insecure", json!(["127.0.0.0/8", "::1/128"]));
    }
    Ok(outcome)
}

/// A JSON value as a person reads it.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("a JSON value serializes")
}
