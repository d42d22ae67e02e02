//! Phase 10: authentication with what docker would send. The credentials come from the store
//! docker would ask (credHelpers > credsStore > auths: file, helper or keychain), and are tried
//! with the registry's own flow (Basic, or a Bearer token from its realm). Without stored
//! credentials, an anonymous token tells whether public pulls work.

use super::{ids, Check, Inputs, Probe};
use crate::creds::{self, Credential};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::docker_config::{self, StoreRef};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::registry::challenge;
use crate::registry::client::{ClientOptions, RegistryClient, RegistryError};
use crate::registry::http1::Response;
use crate::registry::token::{self, Credentials};

fn client(inputs: &Inputs) -> RegistryClient {
    let daemon = JsonFile::read(&inputs.daemon_config, FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    let mut opts = ClientOptions::new(
        inputs.certs_dir.clone(),
        InsecureRegistries::from_config(&daemon),
    );
    opts.connect_timeout = inputs.timeout;
    opts.timeout = inputs.timeout;
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
    let store = store_name(&docker_config::store_for(&config, &name.cred_key));
    // A hanging helper gets doctor's timeout, like every other phase.
    let stored: Option<Credential> = match creds::stored_within(
        &mut config,
        &inputs.client_config,
        &name.cred_key,
        &inputs.path_dirs,
        inputs.timeout,
    ) {
        Ok(c) => c,
        Err(e) => {
            let mut check = Check::fail(
                    ids::AUTH_STORE_FAILED,
                    format!("the credential store ({store}) failed: {e}; docker reports \"error getting credentials\""),
                );
            check.fix = hints::creds(&e);
            return vec![check];
        }
    };
    let client = client(inputs);
    let Some(cred) = stored else {
        return vec![anonymous(&client, api, host)];
    };
    let user = if cred.is_identity_token() {
        "an identity token".to_string()
    } else {
        format!("user {:?}", cred.username)
    };
    let creds = Credentials::from_stored(&cred);
    match token::verify(&client, host, &creds) {
        Ok(v) => vec![Check::ok(
            ids::AUTH_OK,
            format!("{user} from {store} is accepted ({} authentication)", v.scheme.as_str()),
        )],
        Err(RegistryError::Unauthorized { .. }) | Err(RegistryError::TokenRejected { .. }) => vec![Check::fail(
            ids::AUTH_BAD_CREDENTIALS,
            format!("the registry rejects {user} stored in {store}; docker reports \"unauthorized: authentication required\""),
        )
        .fix(format!("log in again: regctl login {host} -u {}", hints::shell_quote(&cred.username)))],
        Err(e) => vec![Check::fail(ids::AUTH_ERROR, format!("checking {user} from {store} failed: {e}"))],
    }
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
    let fix = format!("regctl login {host}");
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
