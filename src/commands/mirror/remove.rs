//! `regctl mirror remove`.

use crate::commands::daemon_list::{self, MIRRORS};
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(values: &[String], ctx: &Context) -> Result<Outcome> {
    daemon_list::remove(&MIRRORS, values, ctx)
}
