//! `regctl mirror`: the daemon.json list of registry mirrors (see `commands::daemon_list`).

pub mod add;
pub mod list;
pub mod remove;
