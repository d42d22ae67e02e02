//! Bearer token auth: the real registry in token mode (`auth.token` with a rootcertbundle) fed by
//! the x5c-signing token server in tests/support. Login verifies through the realm; bad
//! credentials fail at the token server and nothing is written.

use serde_json::json;

use crate::support::creds::{install_ca, json_with_stdin, login, write_config, PASSWORD, USER};
use crate::support::pki::TestCa;
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::token_server::TokenServer;
use crate::support::{FileState, TestEnv};

fn token_registry(env: &TestEnv) -> (TestCa, TokenServer, Registry) {
    token_registry_with(env, false)
}

fn token_registry_with(env: &TestEnv, oauth: bool) -> (TestCa, TokenServer, Registry) {
    let ca = TestCa::new("regctl token test CA");
    let server = TokenServer::start_with(&ca, &[(USER, PASSWORD)], oauth);
    let registry = Registry::start(RegistryOptions {
        tls: Some(ca.server(&["127.0.0.1", "localhost"])),
        token: Some(server.registry_auth(&ca)),
        ..Default::default()
    });
    install_ca(env, &registry.host, &ca);
    install_ca(env, &format!("127.0.0.1:{}", server.port), &ca);
    (ca, server, registry)
}

#[test]
fn bearer_login_verifies_through_the_token_realm() {
    let env = TestEnv::new();
    let (_ca, server, registry) = token_registry(&env);
    let (doc, code, stderr) = login(&env, &registry.host, &["--store", "file"]);
    assert_eq!(
        code,
        0,
        "{doc}\n{stderr}\nregistry log:\n{}",
        registry.log()
    );
    assert_eq!(doc["auth"], "bearer");
    assert_eq!(doc["changed"], true);
    let requests = server.requests.lock().unwrap().clone();
    assert!(
        requests
            .iter()
            .any(|r| r.starts_with("GET /token?service=regctl-test-registry")),
        "{requests:?}"
    );
}

#[test]
fn bearer_login_with_bad_credentials_fails_and_writes_nothing() {
    let env = TestEnv::new();
    let (_ca, _server, registry) = token_registry(&env);
    std::fs::create_dir_all(&env.docker_config).unwrap();
    std::fs::write(env.client_config_path(), "{}\n").unwrap();
    let state = FileState::of(&env.client_config_path());
    let (doc, code, _) = json_with_stdin(
        &env,
        &["login", &registry.host, "-u", USER, "--password-stdin"],
        "not-the-password\n",
    );
    assert_eq!((code, &doc["failed"]), (1, &json!(true)), "{doc}");
    assert!(
        doc["msg"]
            .as_str()
            .unwrap()
            .contains("incorrect username or password"),
        "{doc}"
    );
    assert_eq!(FileState::of(&env.client_config_path()), state);
}

/// config.json holding only an identity token for the registry, as docker writes it.
fn identity_token_config(env: &TestEnv, host: &str, token: &str) -> FileState {
    write_config(
        env,
        &format!("{{\n\t\"auths\": {{\n\t\t\"{host}\": {{\n\t\t\t\"identitytoken\": \"{token}\"\n\t\t}}\n\t}}\n}}\n"),
    )
}

#[test]
fn stored_identity_token_is_verified_with_the_oauth_post() {
    let env = TestEnv::new();
    let (_ca, server, registry) = token_registry_with(&env, true);
    let state = identity_token_config(&env, &registry.host, &format!("refresh-{USER}"));
    let (doc, code) = env.json(&["login", &registry.host]);
    assert_eq!(code, 0, "{doc}\n{}", registry.log());
    assert_eq!(
        (&doc["changed"], &doc["auth"]),
        (&json!(false), &json!("bearer"))
    );
    assert_eq!(doc["username"], "<token>");
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .starts_with("already logged in"));
    assert!(
        !doc.to_string().contains("refresh-"),
        "identity token in output: {doc}"
    );
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests, ["POST /token"], "{requests:?}");
    assert_eq!(FileState::of(&env.client_config_path()), state);

    let state = identity_token_config(&env, &registry.host, "refresh-revoked");
    let (doc, code) = env.json(&["login", &registry.host]);
    assert_eq!((code, &doc["failed"]), (1, &json!(true)), "{doc}");
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .contains("incorrect username or password"));
    assert_eq!(FileState::of(&env.client_config_path()), state);
}

#[test]
fn oauth_post_answered_404_falls_back_to_get() {
    let env = TestEnv::new();
    let (_ca, server, registry) = token_registry_with(&env, false);
    identity_token_config(&env, &registry.host, &format!("refresh-{USER}"));
    let (doc, code) = env.json(&["login", &registry.host]);
    // Without an OAuth endpoint the anonymous GET cannot use the identity token: refused.
    assert_eq!(code, 1, "{doc}");
    let requests = server.requests.lock().unwrap().clone();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[0], "POST /token");
    assert!(
        requests[1].starts_with("GET /token?service=regctl-test-registry"),
        "{requests:?}"
    );
}
