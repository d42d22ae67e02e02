//! `regctl insecure add`.

use crate::cli::Targets;
use crate::commands::host_targets;
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(values: &[String], targets: Targets, ctx: &Context) -> Result<Outcome> {
    host_targets::insecure_edit(values, targets, true, ctx)
}
