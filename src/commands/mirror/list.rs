//! `regctl mirror list`.

use crate::commands::host_targets;
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(ctx: &Context) -> Result<Outcome> {
    host_targets::mirror_list(ctx)
}
