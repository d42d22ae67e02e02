//! Phase 10: authentication with what docker would send. The credentials come from the store
//! docker would ask (credHelpers > credsStore > auths: file, helper or keychain), and are tried
//! with the registry's own flow (Basic, or a Bearer token from its realm). Without stored
//! credentials, an anonymous token tells whether public pulls work.

use super::{ids, Check, Inputs, Probe};
use crate::creds::{self, Credential, CredsError};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::docker_config::{self, StoreRef};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::registry::challenge;
use crate::registry::client::host_port;
use crate::registry::client::{ClientOptions, RegistryClient, RegistryError};
use crate::registry::engine::TokenTrust;
use crate::registry::http1::Response;
use crate::registry::tls_probe::{self, ProbeOptions};
use crate::registry::token;
use crate::registry::trust::{describe, HostTrust, TrustFailure};
use rustls::pki_types::UnixTime;
use serde_json::{Map, Value};

fn client(inputs: &Inputs, registry: &str) -> RegistryClient {
    let daemon = JsonFile::read(&inputs.daemon_config, FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    let mut opts = ClientOptions::new(
        inputs.certs_dir.clone(),
        InsecureRegistries::from_config(&daemon),
    );
    opts.connect_timeout = inputs.timeout;
    opts.timeout = inputs.timeout;
    opts.token_trust = Some((registry.to_string(), inputs.engine.get().token_trust()));
    opts.proxies = crate::files::proxies::for_dockerd(
        &inputs.daemon_config,
        &inputs.systemd_dropin_dirs,
        &inputs.proxy_env,
    )
    .0;
    // The phase, fallbacks and token requests included, gets the one timeout.
    RegistryClient::new(opts.within(inputs.timeout))
}

fn store_name(store: &StoreRef) -> String {
    match store {
        StoreRef::File => "plain text in config.json".to_string(),
        StoreRef::Helper(h) => format!("docker-credential-{h} (credHelpers)"),
        StoreRef::CredsStore(h) => format!("docker-credential-{h} (credsStore)"),
    }
}

pub fn check(probe: &Probe<'_>, api: Option<&Response>) -> Vec<Check> {
    let Some(api) = api else { return Vec::new() };
    let name = probe.name;
    let host = &name.host;
    if api.status == 200 {
        return vec![Check::ok(ids::AUTH_OK, "the registry needs no credentials")];
    }
    let inputs = probe.inputs;
    let mut config = JsonFile::read(&inputs.client_config, FileKind::CLIENT_CONFIG)
        .map(|f| f.value)
        .unwrap_or_default();
    let store_ref = docker_config::store_for(&config, &name.cred_key);
    let store = store_name(&store_ref);
    // The plain-text key the docker CLI of this version reads (an older URL form may hold it).
    let found_key = match store_ref {
        StoreRef::File => auth_key(&config, inputs, &name.cred_key),
        _ => None,
    };
    let key = found_key.as_deref().unwrap_or(&name.cred_key);
    // A hanging helper gets doctor's timeout, like every other phase.
    let stored: Option<Credential> = match creds::stored_within(
        &mut config,
        &inputs.client_config,
        key,
        &inputs.path_dirs,
        &inputs.keychain,
        inputs.timeout,
    ) {
        Ok(c) => c,
        Err(e) => {
            let mut check = Check::fail(
                    ids::AUTH_STORE_FAILED,
                    format!("the credential store ({store}) failed: {e}; docker reports \"error getting credentials\""),
                );
            check.fix = match &e {
                CredsError::HelperMissing { helper, .. } => {
                    Some(hints::install_credential_helper(helper))
                }
                CredsError::KeychainUnavailable { .. } | CredsError::KeychainTimeout { .. } => {
                    Some(hints::start_secret_service())
                }
                CredsError::KeychainLocked { .. } => Some(hints::unlock_keyring()),
                CredsError::HelperFailed { helper, .. }
                | CredsError::HelperGarbage { helper, .. } => {
                    Some(hints::run_helper_by_hand(helper))
                }
                _ => None,
            };
            return vec![check];
        }
    };
    let client = client(inputs, host);
    let engine = inputs.engine.get();
    if let (Some(k), Some(_)) = (&found_key, &stored) {
        if !engine.daemon_uses_key(k, &name.cred_key) {
            let mut check = anonymous(&client, api, host);
            check.message = format!(
                "the docker CLI finds credentials under the key {k:?} in config.json, but dockerd {} with the containerd image store drops them (it reduces only a lower-case http:// or https:// to the host, and {k:?} does not name {host}); {}",
                engine.dockerd,
                check.message
            );
            return vec![check];
        }
    }
    let Some(cred) = stored else {
        let mut check = anonymous(&client, api, host);
        if let Some(k) = ignored_key(&config, inputs, &name.cred_key) {
            check.message = format!(
                "docker CLI {} does not read the key {k:?} in config.json for {host} (only docker CLI 27 and later parse such a key as a URL); {}",
                engine.cli, check.message
            );
        }
        return vec![check];
    };
    let user = if cred.is_identity_token() {
        "an identity token".to_string()
    } else {
        format!("user {:?}", cred.username)
    };
    let creds = cred.login_credentials();
    match token::verify(&client, host, &creds) {
        Ok(v) => vec![Check::ok(
            ids::AUTH_OK,
            format!("{user} from {store} is accepted ({} authentication)", v.scheme.as_str()),
        )],
        Err(RegistryError::Unauthorized { .. }) | Err(RegistryError::TokenRejected { .. }) => vec![Check::fail(
            ids::AUTH_BAD_CREDENTIALS,
            format!("the registry rejects {user} stored in {store}; docker reports \"unauthorized: authentication required\""),
        )
        .fix(hints::login_again(host, &cred.username))],
        Err(e) => vec![Check::fail(ids::AUTH_ERROR, format!("checking {user} from {store} failed: {e}"))],
    }
}

/// The `auths` key the docker CLI reads for `key` (exact first, then the CLI's conversion of
/// older URL-style keys).
fn auth_key(config: &Map<String, Value>, inputs: &Inputs, key: &str) -> Option<String> {
    let auths = config.get("auths")?.as_object()?;
    if auths.contains_key(key) {
        return Some(key.to_string());
    }
    auths
        .keys()
        .find(|k| inputs.engine.get().cli_key_matches(k, key))
        .cloned()
}

/// A URL-form key naming `key` that this CLI does not read but a newer one would.
fn ignored_key(config: &Map<String, Value>, inputs: &Inputs, key: &str) -> Option<String> {
    let newer = crate::registry::engine::Engine {
        cli: crate::registry::engine::DEFAULT,
        ..inputs.engine.get().clone()
    };
    let auths = config.get("auths")?.as_object()?;
    auths
        .keys()
        .find(|k| newer.cli_key_matches(k, key) && !inputs.engine.get().cli_key_matches(k, key))
        .cloned()
}

/// Phase 9b: a Bearer token realm on another host, judged with the TLS settings dockerd uses
/// for it: the classic store reuses the registry's (its certs.d folder, its insecure setting),
/// the containerd store trusts the system roots alone. The realm's own certs.d folder counts
/// for neither.
pub fn realm(probe: &Probe<'_>, api: Option<&Response>) -> Vec<Check> {
    let Some(api) = api.filter(|a| a.status == 401) else {
        return Vec::new();
    };
    let Some(realm) = challenge::bearer_realm(&api.headers).filter(|u| u.scheme() == "https")
    else {
        return Vec::new();
    };
    let registry = &probe.name.host;
    let realm_host = host_port(&realm);
    if realm_host == *registry {
        return Vec::new();
    }
    let inputs = probe.inputs;
    let engine = inputs.engine.get();
    let (trust, judged_by) = match engine.token_trust() {
        TokenTrust::Registry => {
            let daemon = JsonFile::read(&inputs.daemon_config, FileKind::DAEMON_JSON)
                .map(|f| f.value)
                .unwrap_or_default();
            if InsecureRegistries::from_config(&daemon).is_insecure(registry, resolve) {
                return vec![Check::ok(
                    ids::TLS_REALM_TRUSTED,
                    format!("dockerd {} (classic image store) reaches the token realm {realm_host} with {registry}'s TLS settings, and {registry} is an insecure registry: no verification", engine.dockerd),
                )];
            }
            match HostTrust::load(&inputs.certs_dir, registry) {
                Ok(t) => (t, format!("{registry}'s TLS settings (the system roots and certs.d/{registry}/; certs.d/{realm_host}/ does not count)")),
                Err(_) => return Vec::new(), // certs.lint reports the folder
            }
        }
        TokenTrust::SystemRoots => (
            HostTrust::system(),
            "the system roots alone (no certs.d folder counts for a token realm)".to_string(),
        ),
    };
    let who = format!(
        "dockerd {} ({} image store)",
        engine.dockerd,
        if engine.containerd_store {
            "containerd"
        } else {
            "classic"
        }
    );
    let hostname = realm.host_str().unwrap_or_default();
    let port = realm.port_or_known_default().unwrap_or(443);
    let opts = ProbeOptions {
        connect_timeout: inputs.timeout,
        handshake_timeout: inputs.timeout,
    };
    let presented = match tls_probe::probe(hostname, port, opts) {
        Ok(p) => p,
        // Unreachable realms are the token request's failure, reported by the auth phase.
        Err(_) => return Vec::new(),
    };
    let now = inputs
        .now
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let bare = hostname.trim_start_matches('[').trim_end_matches(']');
    match trust.verify(&presented.chain, bare, UnixTime::since_unix_epoch(now)) {
        Ok(_) => vec![Check::ok(
            ids::TLS_REALM_TRUSTED,
            format!("the token realm {realm_host} verifies with {judged_by}, as {who} reaches it"),
        )],
        Err(failure) => {
            let said = describe(&failure, bare);
            let fix = match (&failure, engine.token_trust()) {
                (TrustFailure::UnknownAuthority { .. }, TokenTrust::Registry) => {
                    hints::realm_ca_in_registry_folder(&inputs.certs_dir, registry, &realm_host)
                }
                (TrustFailure::UnknownAuthority { .. }, TokenTrust::SystemRoots) => {
                    hints::realm_ca_in_system_roots(&realm_host)
                }
                _ => hints::fix_realm_certificate(&realm_host),
            };
            vec![Check::fail(
                ids::TLS_REALM_UNTRUSTED,
                format!("{who} sends the token request to {realm_host} with {judged_by}, and it fails: {said}; docker reports it against the realm's URL"),
            )
            .fix(fix)]
        }
    }
}

fn resolve(host: &str) -> Vec<std::net::IpAddr> {
    std::net::ToSocketAddrs::to_socket_addrs(&(host, 0))
        .map(|it| it.map(|a| a.ip()).collect())
        .unwrap_or_default()
}

/// No stored credentials: does the registry let anonymous clients in (a Bearer realm handing out
/// anonymous tokens), or will every pull fail?
fn anonymous(client: &RegistryClient, api: &Response, host: &str) -> Check {
    let challenges = challenge::parse(
        api.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, v)| v.as_str()),
    );
    let fix = hints::login(host);
    if let Some(bearer) = challenges.iter().find(|c| c.scheme == "bearer") {
        if token::fetch_token(client, bearer, None, &[]).is_ok() {
            return Check::warn(
                ids::AUTH_NO_CREDENTIALS,
                "no credentials are stored; the token server hands out anonymous tokens, so public repositories pull, private ones fail with \"unauthorized\"",
            )
            .fix(fix);
        }
    }
    Check::fail(
        ids::AUTH_NO_CREDENTIALS,
        "no credentials are stored for this registry and it requires them; docker reports \"no basic auth credentials\"",
    )
    .fix(fix)
}
