//! `regctl daemon`: read, edit, validate and reload dockerd's daemon.json.

use serde_json::{Map, Value};

pub mod get;
pub mod reload;
pub mod set;
pub mod show;
pub mod unset;
pub mod validate;

/// daemon.json as read, and every problem dockerd would refuse to start with.
pub fn read_validated(
    path: &std::path::Path,
) -> crate::error::Result<(crate::files::json_file::JsonSnapshot, Vec<String>)> {
    use crate::files::json_file::{FileKind, JsonFile};
    let file = JsonFile::read(path, FileKind::DAEMON_JSON)?;
    let problems = crate::files::daemon_config::validate(&file.value)
        .iter()
        .map(ToString::to_string)
        .collect();
    Ok((file, problems))
}

/// Splits a KEY argument into a path: a top-level key as is, `a.b` into nested keys when `a.b`
/// is not itself a key of the file or of dockerd.
pub fn key_path(config: &Map<String, Value>, key: &str) -> Vec<String> {
    if config.contains_key(key)
        || crate::files::daemon_config::key_type(key).is_some()
        || !key.contains('.')
    {
        vec![key.to_string()]
    } else {
        key.split('.').map(str::to_string).collect()
    }
}

/// The value at a path, if every step exists.
pub fn lookup<'a>(config: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let mut value = config.get(first)?;
    for step in rest {
        value = value.as_object()?.get(step)?;
    }
    Some(value)
}
