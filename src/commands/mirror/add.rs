//! `regctl mirror add`.

use crate::cli::Targets;
use crate::commands::host_targets;
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(
    values: &[String],
    registry: Option<&str>,
    targets: Targets,
    skip_verify: bool,
    ctx: &Context,
) -> Result<Outcome> {
    host_targets::mirror_add(values, registry, targets, skip_verify, ctx)
}
