//! `regctl daemon get KEY`: print one value as JSON.

use serde_json::json;

use super::{key_path, lookup};
use crate::commands::daemon_list::pretty;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::files::json_file::{FileKind, JsonFile};
use crate::files::secrets::redact_value;
use crate::output::Outcome;

pub fn run(key: &str, ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let file = JsonFile::read(path, FileKind::DAEMON_JSON)?;
    let keys = key_path(&file.value, key);
    // Looked up in the masked document, so that a proxy password is masked however deep it is.
    let masked = match redact_value(&serde_json::Value::Object(file.value.clone())) {
        serde_json::Value::Object(m) => m,
        _ => unreachable!("an object stays an object"),
    };
    let value = lookup(&masked, &keys).ok_or_else(|| Error::KeyNotSet {
        key: key.to_string(),
        path: path.to_path_buf(),
    })?;
    Ok(Outcome::new(String::new())
        .data("key", json!(key))
        .data("value", value.clone())
        .text(pretty(value)))
}
