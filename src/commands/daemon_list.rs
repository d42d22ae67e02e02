//! What `mirror` and `insecure` say about a daemon.json list edit: `files::daemon_lists` does
//! the edit (dockerd's validation and normal form); this renders its message, data and notes.

use serde_json::{json, Value};

use crate::context::Context;
use crate::error::Result;
use crate::files::daemon_lists::ListEdit;
pub use crate::files::daemon_lists::{ListKey, INSECURE, MIRRORS};
use crate::hints;
use crate::output::Outcome;

fn plural(n: usize, noun: &str) -> String {
    match (n, noun) {
        (1, _) => format!("1 {noun}"),
        (_, "insecure registry") => format!("{n} insecure registries"),
        _ => format!("{n} {noun}s"),
    }
}

pub fn add(list: &ListKey, values: &[String], ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let edit = list.add(values, path, &ctx.dockerd(), ctx.check)?;
    let msg = if edit.changed.is_empty() {
        format!("{} already in {}", values.join(", "), path.display())
    } else {
        let verb = ctx.did("added", "would add");
        let added = edit.changed.join(", ");
        format!("{verb} {} {added} to {}", list.noun, path.display())
    };
    Ok(edited(list, edit, msg, "added", ctx))
}

pub fn remove(list: &ListKey, values: &[String], ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let edit = list.remove(values, path, ctx.dockerd().version, ctx.check)?;
    let msg = if edit.changed.is_empty() {
        format!("{} not in {}", values.join(", "), path.display())
    } else {
        let verb = ctx.did("removed", "would remove");
        let removed = edit.changed.join(", ");
        format!("{verb} {} {removed} from {}", list.noun, path.display())
    };
    Ok(edited(list, edit, msg, "removed", ctx))
}

/// The outcome of an edit: the file's diff, the list, what changed under `changed_key`.
fn edited(
    list: &ListKey,
    edit: ListEdit,
    msg: String,
    changed_key: &str,
    ctx: &Context,
) -> Outcome {
    let mut outcome = Outcome::new(msg)
        .with_save(&edit.saved)
        .data("path", json!(ctx.daemon_config()))
        .data(list.json_name, json!(edit.items))
        .data(changed_key, json!(edit.changed));
    for w in edit.warnings {
        outcome = outcome.warn(w);
    }
    if edit.saved.changed {
        outcome = outcome.info(hints::apply_daemon_change(&[], ctx.paths.rootless));
    }
    outcome
}

pub fn show(list: &ListKey, ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let (items, refused) = list.show(path, ctx.dockerd().version)?;
    let mut outcome = Outcome::new(format!(
        "{} in {}",
        plural(items.len(), list.noun),
        path.display()
    ))
    .data("path", json!(path))
    .data(list.json_name, json!(items))
    .text(items.join("\n"));
    for e in refused {
        outcome = outcome.warn(format!("dockerd refuses this entry: {e}"));
    }
    if list.key == crate::files::daemon_config::INSECURE {
        outcome = outcome.data("always_insecure", json!(["127.0.0.0/8", "::1/128"]));
    }
    Ok(outcome)
}

/// A JSON value as a person reads it.
pub fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).expect("a JSON value serializes")
}
