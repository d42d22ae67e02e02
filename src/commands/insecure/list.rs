//! `regctl insecure list`.

use crate::commands::daemon_list::{self, INSECURE};
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(ctx: &Context) -> Result<Outcome> {
    daemon_list::show(&INSECURE, ctx)
}
