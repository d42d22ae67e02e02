//! `regctl insecure`: insecure registries in daemon.json (see `commands::daemon_list`), and in
//! hosts.toml and registries.conf.d (see `commands::host_targets`).

pub mod add;
pub mod list;
pub mod remove;
