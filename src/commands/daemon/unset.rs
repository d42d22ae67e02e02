//! `regctl daemon unset KEY`: remove a key (nested keys with dots).

use serde_json::{json, Value};

use super::key_path;
use crate::context::Context;
use crate::error::Result;
use crate::files::daemon_config;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::output::Outcome;

pub fn run(key: &str, ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let mut file = JsonFile::edit(path, FileKind::DAEMON_JSON, ctx.check)?;
    let keys = key_path(&file.value, key);
    let before = file.value.clone();
    let (last, parents) = keys.split_last().expect("a key path is never empty");
    let mut parent = Some(&mut file.value);
    for step in parents {
        parent = parent
            .and_then(|m| m.get_mut(step))
            .and_then(Value::as_object_mut);
    }
    // shift_remove keeps the order of the remaining keys.
    let removed = parent.and_then(|m| m.shift_remove(last)).is_some();
    let restart = daemon_config::keys_needing_restart(&before, &file.value);
    let saved = file.save(ctx.check)?;
    let msg = if removed {
        format!(
            "{} {key} from {}",
            ctx.did("removed", "would remove"),
            path.display()
        )
    } else {
        format!("{key} is not set in {}", path.display())
    };
    let mut outcome = Outcome::new(msg)
        .with_save(&saved)
        .data("path", json!(path))
        .data("key", json!(key));
    if removed {
        if keys.len() == 1 && (key == daemon_config::MIRRORS || key == daemon_config::INSECURE) {
            outcome = outcome.warn(format!(
                "dockerd keeps its current {key} on reload when the key is missing; {}",
                hints::clear_list_live(key)
            ));
        }
        outcome = outcome.info(hints::apply_daemon_change(&restart, ctx.paths.rootless));
    }
    Ok(outcome)
}
