//! `regctl daemon set KEY JSON_VALUE`: set a key, checked against dockerd's options first.

use serde_json::{json, Map, Value};

use super::key_path;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::files::daemon_config::{self, KeyType};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::output::Outcome;

pub fn run(key: &str, raw: &str, force: bool, ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let mut file = JsonFile::edit(path, FileKind::DAEMON_JSON, ctx.check)?;
    let keys = key_path(&file.value, key);
    let top = keys[0].clone();
    let value = parse_value(key, &keys, raw)?;

    let before = file.value.clone();
    set_path(&mut file.value, &keys, value)
        .map_err(|found| Error::File(file.wrong_type(&top, "an object", &found)))?;
    let new_top = file.value.get(&top).cloned().unwrap_or(Value::Null);
    let mut outcome_warnings = Vec::new();
    let target = ctx.dockerd().target(&file.value);
    if let Err(e) = daemon_config::validate_entry(&top, &new_top, &target) {
        let unknown = matches!(e, daemon_config::DaemonConfigError::UnknownKey { .. });
        if !(force && unknown) {
            return Err(e.into());
        }
        outcome_warnings.push(format!("{e} (set anyway: --force)"));
    }
    let restart = daemon_config::keys_needing_restart(&before, &file.value);
    let saved = file.save(ctx.check)?;
    let msg = if saved.changed {
        format!(
            "{} {key} in {}",
            ctx.did("set", "would set"),
            path.display()
        )
    } else {
        format!("{key} already has that value in {}", path.display())
    };
    let mut outcome = Outcome::new(msg)
        .with_save(&saved)
        .data("path", json!(path))
        .data("key", json!(key));
    for w in outcome_warnings {
        outcome = outcome.warn(w);
    }
    if saved.changed {
        outcome = outcome
            .data("restart_needed", json!(!restart.is_empty()))
            .info(hints::apply_daemon_change(&restart, ctx.paths.rootless));
    }
    Ok(outcome)
}

/// JSON, or bare text where a string is expected (a string key, or inside a map of strings:
/// `log-opts.max-file 3` is the string "3", since dockerd refuses a number there).
fn parse_value(key: &str, keys: &[String], raw: &str) -> Result<Value> {
    let expects_string = match daemon_config::key_type(&keys[0]) {
        Some(KeyType::Str) => keys.len() == 1,
        Some(KeyType::StrMap) => keys.len() == 2,
        Some(KeyType::StrMapMap) => keys.len() == 3,
        Some(KeyType::Map | KeyType::Nested) => keys.len() > 1,
        _ => false,
    };
    let in_string_map = matches!(
        daemon_config::key_type(&keys[0]),
        Some(KeyType::StrMap | KeyType::StrMapMap)
    );
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Number(_) | Value::Bool(_)) if expects_string && in_string_map => {
            Ok(Value::String(raw.to_string()))
        }
        Ok(v) => Ok(v),
        Err(_) if expects_string => Ok(Value::String(raw.to_string())),
        Err(e) => Err(Error::ValueNotJson {
            key: key.to_string(),
            value: raw.to_string(),
            detail: e.to_string(),
        }),
    }
}

fn set_path(
    map: &mut Map<String, Value>,
    keys: &[String],
    value: Value,
) -> std::result::Result<(), Value> {
    let (last, parents) = keys.split_last().expect("a key path is never empty");
    let mut current = map;
    for step in parents {
        let entry = current
            .entry(step.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        current = match entry {
            Value::Object(m) => m,
            other => return Err(other.clone()),
        };
    }
    current.insert(last.clone(), value);
    Ok(())
}
