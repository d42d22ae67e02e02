//! `regctl daemon validate`: check daemon.json as the assumed dockerd (version and image store)
//! would at start-up, and say which dockerd that was.

use serde_json::json;

use crate::context::Context;
use crate::error::Result;
use crate::files::daemon_config;
use crate::output::Outcome;

pub fn run(ctx: &Context) -> Result<Outcome> {
    let path = ctx.daemon_config();
    let (value, target, problems) = super::read_validated(path, &ctx.dockerd())?;
    let mut outcome = Outcome::new(if problems.is_empty() {
        format!("{} is valid", path.display())
    } else {
        format!(
            "{} has {} problem{} dockerd refuses",
            path.display(),
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        )
    })
    .data("path", json!(path))
    .data("valid", json!(problems.is_empty()))
    .data("problems", json!(problems))
    .data("dockerd", target.to_json())
    .text(
        problems
            .iter()
            .map(|p| format!("- {p}"))
            .collect::<Vec<_>>()
            .join("\n"),
    );
    outcome.failed = !problems.is_empty();
    outcome = outcome.info(format!("checked for {}", target.describe()));
    for a in daemon_config::advisories(&value, &target) {
        outcome = outcome.warn(a);
    }
    Ok(outcome)
}
