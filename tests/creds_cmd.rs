//! `regctl creds list` and `creds migrate --to keychain` with a private gnome-keyring and the
//! real registry: plain-text entries are flagged, migrated idempotently, and skopeo still pulls.

use serde_json::json;

use crate::keychain::helper;
use crate::support::creds::{
    client_config, htpasswd_registry, login, login_bob_unverified, path_with_helper,
    skopeo_inspect, write_config, PASSWORD, USER,
};
use crate::support::keyring::{no_secret_service, SecretService};
use crate::support::{assert_refused, FileState, TestEnv};

#[test]
fn migrate_moves_plain_text_into_the_keychain_idempotently() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    env.set_env("PATH", &path_with_helper());
    let r = htpasswd_registry(&env);
    let (_, code, _) = login(&env, r.host(), &["--store", "file"]);
    assert_eq!(code, 0);

    let (doc, code) = env.json(&["creds", "list"]);
    assert_eq!(code, 0);
    assert_eq!(
        doc["credentials"],
        json!([{"registry": r.host(), "store": "file", "username": USER, "plaintext": true, "error": null}])
    );
    assert!(!doc.to_string().contains(PASSWORD));

    let state = FileState::of(&env.client_config_path());
    let (doc, code) = env.json(&["creds", "migrate", "--to", "keychain", "--check", "--diff"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert!(doc["diff"][0]["after"]
        .as_str()
        .unwrap()
        .contains("\"regctl\""));
    assert_eq!(FileState::of(&env.client_config_path()), state);
    assert_eq!(helper(&ss.address, "list", ""), (0, "{}\n".into()));

    let (doc, code) = env.json(&["creds", "migrate", "--to", "keychain"]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(doc["migrated"], json!([r.host()]));
    let config = client_config(&env);
    assert_eq!(config["credHelpers"][r.host()], "regctl");
    assert_eq!(config["auths"][r.host()], json!({}));
    let (code, out) = helper(&ss.address, "get", r.host());
    assert_eq!(code, 0);
    assert!(out.contains(PASSWORD));
    let inspect = skopeo_inspect(&env, &r);
    assert_eq!(inspect.code, 0, "{}", inspect.stderr);

    let state = FileState::of(&env.client_config_path());
    let (doc, _) = env.json(&["creds", "migrate", "--to", "keychain"]);
    assert_eq!(doc["changed"], false, "{doc}");
    assert_eq!(FileState::of(&env.client_config_path()), state);

    let run = env.run(&["creds", "list"]);
    assert_eq!(run.code, 0);
    assert!(!run.stdout.contains(PASSWORD) && !run.stderr.contains(PASSWORD));
    let row = run.stdout.lines().nth(1).unwrap_or_default().to_string();
    let cols: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cols, [r.host(), "keychain", USER], "{}", run.stdout);
}

#[test]
fn list_flags_plain_text_and_reads_usernames_from_helpers() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    let store = r#"{"ServerURL":"k.example.com","Username":"kim","Secret":"ks"}"#;
    assert_eq!(helper(&ss.address, "store", store).0, 0);
    std::fs::create_dir_all(&env.docker_config).unwrap();
    // YWxpY2U6cHc= = alice:pw
    std::fs::write(
        env.client_config_path(),
        r#"{"auths": {"p.example.com": {"auth": "YWxpY2U6cHc="}, "k.example.com": {}}, "credHelpers": {"k.example.com": "regctl"}}"#,
    )
    .unwrap();
    let run = env.run(&["creds", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(!run.stdout.contains("ks") && !run.stdout.contains("pw"));
    insta::assert_snapshot!(
        "creds_list_mixed",
        env.redact(&format!("{}---\n{}", run.stdout, run.stderr))
    );
}

#[test]
fn migrate_without_a_keychain_is_refused_and_writes_nothing() {
    let mut env = TestEnv::new();
    no_secret_service(&mut env);
    // YWxpY2U6cHc= = alice:pw
    let state = write_config(
        &env,
        r#"{"auths": {"p.example.com": {"auth": "YWxpY2U6cHc="}}}"#,
    );
    for args in [
        &["creds", "migrate", "--to", "keychain"][..],
        &["creds", "migrate", "--to", "keychain", "--check"][..],
    ] {
        let run = env.run(args);
        assert_refused(
            &run,
            &["the OS keychain is not available", "hint:"],
            &env.client_config_path(),
            &state,
        );
    }
}

#[test]
fn creds_store_is_used_by_auto_login_and_listed() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    write_config(&env, "{\n\t\"credsStore\": \"secretservice\"\n}\n");
    let run = login_bob_unverified(&env, "s.example.com", &["-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(doc["store"], "helper:secretservice");
    // docker finds it through credsStore: no credHelpers entry, an empty marker in auths.
    assert_eq!(
        client_config(&env),
        json!({"credsStore": "secretservice", "auths": {"s.example.com": {}}})
    );
    let (doc, code) = env.json(&["creds", "list"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(
        doc["credentials"],
        json!([{"registry": "s.example.com", "store": "helper:secretservice", "username": "bob", "plaintext": false, "error": null}])
    );
}

#[test]
fn usage_errors_in_store_values_exit_2_and_leave_config_alone() {
    let env = TestEnv::new();
    let config = env.client_config_path();
    std::fs::create_dir_all(config.parent().unwrap()).unwrap();
    std::fs::write(&config, r#"{"auths": {"r.io": {"auth": "Ym9iOnB3"}}}"#).unwrap();
    let state = FileState::of(&env.client_config_path());
    let cases: &[&[&str]] = &[
        &["creds", "migrate", "--to", "file"],
        &["login", "r.io", "-u", "bob", "--store", "helper:"],
        &["login", "r.io", "-u", "bob", "--store", "helper:a/b"],
    ];
    for args in cases {
        let run = env.cmd().args(*args).output().unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(run.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("invalid value"), "{args:?}: {stderr}");
        assert_eq!(FileState::of(&env.client_config_path()), state, "{args:?}");
    }
}
