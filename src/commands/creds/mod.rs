//! `regctl creds`: list stored credentials and migrate plain-text ones into the keychain; also
//! what `login` and `logout` share to call `creds::ops` (the places from Context, the registry
//! client, the note about docker-credential-regctl missing from PATH).

use std::time::Duration;

use crate::context::Context;
use crate::creds::ops::{self, Places, Writes};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::registry::client::{ClientOptions, RegistryClient};

pub mod list;
pub mod migrate;

/// Where the credential operations look, from Context.
pub fn places(ctx: &Context) -> Places {
    Places {
        config: ctx.paths.client_config(),
        exec_path: ctx.paths.exec_path.clone(),
        keychain: ctx.paths.keychain.clone(),
        ecr_dirs: ctx.paths.ecr_dirs(),
        aws: ctx.env.aws.clone(),
    }
}

/// `--check`, for the operations.
pub fn writes(ctx: &Context) -> Writes {
    Writes { check: ctx.check }
}

/// A registry client with dockerd's trust: certs.d, and insecure registries from daemon.json
/// (a missing or unreadable daemon.json means only loopback is insecure, as for dockerd); all its
/// requests together within `timeout`.
pub fn registry_client(ctx: &Context, timeout: Duration) -> RegistryClient {
    let daemon = JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    let mut opts = ClientOptions::new(
        ctx.paths.certs_dir.clone(),
        InsecureRegistries::from_config(&daemon),
    );
    // docker login is checked by dockerd, so through dockerd's proxy (as doctor reasons).
    opts.proxies = ctx.paths.dockerd_proxies(&ctx.env.proxy);
    RegistryClient::new(opts.within(timeout))
}

/// The note when docker-credential-regctl is not on PATH: docker and skopeo could not `what`
/// then ("read the keychain", "get ECR tokens").
pub fn regctl_helper_note(what: &str) -> String {
    format!(
        "{} is not on PATH, so docker and skopeo cannot {what} yet; {}",
        ops::regctl_helper_bin(),
        hints::helper_symlink()
    )
}
