//! `regctl mirror`: registry mirrors in daemon.json (Docker Hub, see `commands::daemon_list`) and
//! for any registry in hosts.toml and registries.conf.d (see `commands::host_targets`).

pub mod add;
pub mod list;
pub mod remove;
