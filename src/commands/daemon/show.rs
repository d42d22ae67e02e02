//! `regctl daemon show`: print daemon.json.

use serde_json::{json, Value};

use crate::commands::daemon_list::pretty;
use crate::context::Context;
use crate::error::Result;
use crate::files::json_file::{FileKind, JsonFile};
use crate::files::secrets::redact_value;
use crate::output::Outcome;

pub fn run(ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let file = JsonFile::read(path, FileKind::DAEMON_JSON)?;
    // Proxy passwords are masked, as `docker info` masks them.
    let config = redact_value(&Value::Object(file.value.clone()));
    let msg = if file.exists() {
        format!("{}", path.display())
    } else {
        format!(
            "{} does not exist (dockerd uses its defaults)",
            path.display()
        )
    };
    Ok(Outcome::new(msg)
        .data("path", json!(path))
        .data("exists", json!(file.exists()))
        .data("config", config.clone())
        .text(pretty(&config)))
}
