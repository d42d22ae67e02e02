//! What a target edit of `mirror` or `insecure` says: which files changed (or would), with
//! their diffs, merged into the daemon.json outcome when there is one.

use serde_json::{json, Value};

use crate::context::Context;
use crate::files::json_file::Saved;
use crate::output::Outcome;

fn paths_text(saves: &[Saved]) -> String {
    saves
        .iter()
        .map(|s| s.path.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Puts the saves of a target edit into an outcome (diffs, files, message).
pub fn report(
    mut outcome: Outcome,
    saves: &[Saved],
    what: &str,
    done: (&str, &str),
    unchanged: &str,
    ctx: &Context,
) -> Outcome {
    let changed: Vec<&Saved> = saves.iter().filter(|s| s.changed).collect();
    let msg = if saves.is_empty() {
        format!("{what}: no file to change")
    } else if changed.is_empty() {
        format!("{what} {unchanged} {}", paths_text(saves))
    } else {
        let paths: Vec<String> = changed
            .iter()
            .map(|s| s.path.display().to_string())
            .collect();
        format!("{} {what} in {}", ctx.did(done.0, done.1), paths.join(", "))
    };
    outcome.msg = if outcome.msg.is_empty() {
        msg
    } else {
        format!("{}; {msg}", outcome.msg)
    };
    for s in saves {
        outcome = outcome.with_save(s);
    }
    let mut files: Vec<Value> = outcome
        .data
        .get("files")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    files.extend(
        saves
            .iter()
            .map(|s| json!({"path": s.path, "changed": s.changed})),
    );
    outcome.data("files", Value::Array(files))
}
