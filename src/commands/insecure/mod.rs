//! `regctl insecure`: the daemon.json list of insecure registries (see `commands::daemon_list`).

pub mod add;
pub mod list;
pub mod remove;
