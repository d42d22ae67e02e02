//! `regctl mirror list`.

use crate::commands::daemon_list::{self, MIRRORS};
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(ctx: &Context) -> Result<Outcome> {
    daemon_list::show(&MIRRORS, ctx)
}
