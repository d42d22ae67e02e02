//! `regctl creds`: list stored credentials and migrate plain-text ones into the keychain; also
//! the pieces `login` and `logout` share (the registry client, store lookup, PATH checks).

use std::time::Duration;

use crate::context::Context;
use crate::creds::{self, helper, Store};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::docker_config as dc;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::names;
use crate::registry::client::{ClientOptions, RegistryClient};

pub mod list;
pub mod migrate;

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

/// The store behind a helper name (`regctl` is the keychain, in-process).
pub fn helper_store(name: &str, ctx: &Context) -> Box<dyn Store> {
    creds::open_helper(name, &ctx.paths.exec_path, &ctx.paths.keychain)
}

/// A note when docker-credential-regctl is not on PATH: docker and skopeo could not `what`
/// then ("read the keychain", "get ECR tokens").
pub fn regctl_helper_note(ctx: &Context, what: &str) -> Option<String> {
    let bin = format!("docker-credential-{}", creds::REGCTL_HELPER);
    if helper::find_in_path(&bin, &ctx.paths.exec_path).is_some() {
        return None;
    }
    Some(format!(
        "{bin} is not on PATH, so docker and skopeo cannot {what} yet; {}",
        hints::helper_symlink()
    ))
}

/// Points `credHelpers` at `helper` for a registry. For Docker Hub and regctl's own helper, also
/// under `docker.io`: docker looks up `https://index.docker.io/v1/`, but containers/image (skopeo,
/// podman) looks up the normalised domain `docker.io`, and regctl's helper answers both names.
pub fn set_cred_helper(
    config: &mut serde_json::Map<String, serde_json::Value>,
    path: &std::path::Path,
    key: &str,
    helper: &str,
) -> crate::error::Result<()> {
    dc::set_cred_helper(config, path, key, helper)?;
    if key == names::DOCKER_HUB_KEY && helper == creds::REGCTL_HELPER {
        dc::set_cred_helper(config, path, "docker.io", helper)?;
    }
    Ok(())
}
