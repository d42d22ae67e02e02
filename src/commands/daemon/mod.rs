//! `regctl daemon`: read, edit, validate and reload dockerd's daemon.json.

use serde_json::{Map, Value};

pub mod get;
pub mod reload;
pub mod set;
pub mod show;
pub mod unset;
pub mod validate;

/// Reads daemon.json as the assumed dockerd reads it and checks it: the options, the dockerd
/// (version and image store) the rules assumed, and every problem that dockerd refuses.
///
/// dockerd 23.0+ decodes UTF-16 and UTF-8 with a byte-order mark and takes an empty file as no
/// options; 20.10 refuses all three. `null` is no options for every version.
pub fn read_validated(
    path: &std::path::Path,
    engine: &crate::files::dockerd::Engine,
) -> crate::error::Result<(
    Map<String, Value>,
    crate::files::dockerd::Target,
    Vec<String>,
)> {
    use crate::files::json_file::{parse_document, FileKind, JsonFile};
    let version = engine.version;
    let empty_target = engine.target(&Map::new());
    let bytes =
        crate::files::bounded::read_file(path, crate::files::bounded::limits::CONFIG_JSON).ok();
    let mut problems = Vec::new();
    let value = match bytes.as_deref() {
        Some(b) if b.starts_with(b"\xFF\xFE") || b.starts_with(b"\xFE\xFF") => {
            if !empty_target.reads_bom() {
                problems.push(format!(
                    "dockerd {version} cannot read UTF-16 (byte-order mark): save the file as UTF-8 without one"
                ));
            }
            let units = b[2..].chunks_exact(2).map(|c| {
                if b[0] == 0xFF {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            match char::decode_utf16(units).collect::<std::result::Result<String, _>>() {
                Ok(text) if b.len() % 2 == 0 => null_or(text.as_bytes(), |t| {
                    parse_document(path, t, &FileKind::DAEMON_JSON)
                })?,
                _ => {
                    problems.push("the file is not valid UTF-16".to_string());
                    Map::new()
                }
            }
        }
        Some(b) => {
            if b.starts_with(b"\xEF\xBB\xBF") && !empty_target.reads_bom() {
                problems.push(format!(
                    "dockerd {version} cannot read a UTF-8 byte-order mark: remove it"
                ));
            }
            let body = b.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(b);
            if body.iter().all(u8::is_ascii_whitespace) && !empty_target.accepts_empty_file() {
                problems.push(format!(
                    "dockerd {version} refuses an empty file (\"EOF\"): write {{}} instead"
                ));
            }
            null_or(b, |_| {
                JsonFile::read(path, FileKind::DAEMON_JSON).map(|f| (f.value, ()))
            })?
        }
        None => JsonFile::read(path, FileKind::DAEMON_JSON)?.value,
    };
    let target = engine.target(&value);
    problems.extend(
        crate::files::daemon_config::validate(&value, &target)
            .iter()
            .map(ToString::to_string),
    );
    Ok((value, target, problems))
}

/// A `null` document is no options (Go decodes it into an empty map); anything else is parsed.
fn null_or<T, E: Into<crate::error::Error>>(
    bytes: &[u8],
    parse: impl FnOnce(&[u8]) -> std::result::Result<(Map<String, Value>, T), E>,
) -> crate::error::Result<Map<String, Value>> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if body.trim_ascii() == b"null" {
        return Ok(Map::new());
    }
    parse(bytes).map(|(m, _)| m).map_err(Into::into)
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
