//! `regctl insecure add`.

use crate::commands::daemon_list::{self, INSECURE};
use crate::context::Context;
use crate::error::Result;
use crate::output::Outcome;

pub fn run(values: &[String], ctx: &Context) -> Result<Outcome> {
    daemon_list::add(&INSECURE, values, ctx)
}
