//! The on-disk formats regctl reads and edits. Nothing here prints or prompts: functions return
//! data and typed errors for `commands` to present.

pub mod atomic;
pub mod bounded;
pub mod certs_dir;
pub mod daemon_config;
pub mod daemon_lists;
pub mod docker_config;
pub mod dockerd;
pub mod dockerd_process;
pub mod host_files;
pub mod hosts_toml;
pub mod json_file;
pub mod proxies;
pub mod registries_conf;
pub mod secrets;
pub mod system_trust;
pub mod toml_file;
pub mod trust;
