//! The OS keychain through a private gnome-keyring: `login --store keychain` keeps the secret in
//! the Secret Service (seen by secret-tool), config.json points credHelpers at regctl, and
//! docker-credential-regctl and skopeo read it. A missing or locked Secret Service is an error,
//! never a silent fallback.

use serde_json::{json, Value};

use crate::support::creds::{
    assert_refused, client_config, htpasswd_registry, login, login_bob_unverified,
    path_with_helper, run_helper, skopeo_inspect, write_config, PASSWORD, USER,
};
use crate::support::keyring::{no_secret_service, SecretService};
use crate::support::{age_file, FileState, TestEnv};

/// Runs the built docker-credential-regctl with ACTION and stdin on the given bus.
pub fn helper(ss_address: &str, action: &str, stdin: &str) -> (i32, String) {
    let vars = [(
        "DBUS_SESSION_BUS_ADDRESS".to_string(),
        ss_address.to_string(),
    )];
    let run = run_helper(&vars, action, stdin);
    (run.code, run.stdout)
}

#[test]
fn keychain_login_is_read_by_the_helper_and_skopeo_and_logout_removes_it() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    let r = htpasswd_registry(&env);

    let (doc, code, stderr) = login(&env, r.host(), &["--store", "keychain"]);
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(
        (&doc["changed"], &doc["store"]),
        (&json!(true), &json!("keychain"))
    );
    // docker-credential-regctl is not on the test PATH yet: login says how to put it there.
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("docker-credential-regctl is not on PATH") && warnings.contains("ln -s"),
        "{warnings}"
    );
    let config = client_config(&env);
    assert_eq!(config["credHelpers"][r.host()], "regctl");
    assert_eq!(config["auths"][r.host()], json!({}));
    let raw = std::fs::read_to_string(env.client_config_path()).unwrap();
    assert!(
        !raw.contains(PASSWORD) && !raw.contains("\"auth\""),
        "{raw}"
    );

    let found = ss.search("service", "docker-credential-regctl");
    let listing = String::from_utf8_lossy(&found.stdout).to_string()
        + &String::from_utf8_lossy(&found.stderr);
    assert!(
        listing.contains(&format!("username = {}", r.host())) && listing.contains(PASSWORD),
        "secret-tool did not show the item:\n{listing}"
    );

    let (code, out) = helper(&ss.address, "get", &format!("{}\n", r.host()));
    assert_eq!(code, 0, "{out}");
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        v,
        json!({"ServerURL": r.host(), "Username": USER, "Secret": PASSWORD})
    );

    env.set_env("PATH", &path_with_helper());
    let inspect = skopeo_inspect(&env, &r);
    assert_eq!(
        inspect.code, 0,
        "skopeo via credHelpers: {}",
        inspect.stderr
    );

    age_file(&env.client_config_path());
    let state = FileState::of(&env.client_config_path());
    let (doc, code, _) = login(&env, r.host(), &[]);
    assert_eq!((code, &doc["changed"]), (0, &json!(false)), "{doc}");
    assert_eq!(doc["store"], "keychain");
    assert!(doc.get("warnings").is_none(), "{doc}");
    assert_eq!(FileState::of(&env.client_config_path()), state);

    let (doc, code) = env.json(&["logout", r.host()]);
    assert_eq!((code, &doc["changed"]), (0, &json!(true)), "{doc}");
    assert_eq!(
        helper(&ss.address, "get", r.host()),
        (1, "credentials not found in native keychain\n".into())
    );
    assert!(
        !String::from_utf8_lossy(&ss.search("service", "docker-credential-regctl").stdout)
            .contains(r.host())
    );
    assert_ne!(skopeo_inspect(&env, &r).code, 0);
    let (doc, _) = env.json(&["logout", r.host()]);
    assert_eq!(doc["changed"], false, "{doc}");
}

#[test]
fn store_auto_picks_the_reachable_keychain_and_check_writes_nothing() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    env.set_env("PATH", &path_with_helper());
    let run = login_bob_unverified(&env, "r.example.com", &["--check", "-o", "json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&doc["changed"], &doc["store"]),
        (&json!(true), &json!("keychain"))
    );
    assert!(!env.client_config_path().exists());
    assert_eq!(helper(&ss.address, "list", ""), (0, "{}\n".into()));

    let run = login_bob_unverified(&env, "r.example.com", &["-o", "json"]);
    let doc: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        (&doc["changed"], &doc["store"]),
        (&json!(true), &json!("keychain"))
    );
    // docker-credential-regctl is on PATH here: no advice about it.
    assert!(doc.get("warnings").is_none(), "{doc}");
    assert_eq!(
        client_config(&env)["credHelpers"]["r.example.com"],
        "regctl"
    );
    assert_eq!(
        helper(&ss.address, "list", ""),
        (0, "{\"r.example.com\":\"bob\"}\n".into())
    );
}

#[test]
fn no_secret_service_is_an_error_with_a_hint_and_nothing_written() {
    let mut env = TestEnv::new();
    no_secret_service(&mut env);
    let state = write_config(&env, "{}\n");
    let run = login_bob_unverified(&env, "r.example.com", &["--store", "keychain"]);
    assert_refused(
        &env,
        &run,
        &[
            "the OS keychain is not available",
            "hint: start a Secret Service",
        ],
        &state,
    );

    // --store auto says why and falls back to plain text with docker's warning.
    let run = login_bob_unverified(&env, "r.example.com", &[]);
    let stderr = &run.stderr;
    assert_eq!(run.code, 0, "{stderr}");
    assert!(stderr.contains("not using the OS keychain"), "{stderr}");
    assert!(stderr.contains("stored unencrypted"), "{stderr}");
}

#[test]
fn locked_secret_service_is_an_error_and_nothing_is_written() {
    let ss = SecretService::locked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    let state = write_config(&env, "{}\n");
    let run = login_bob_unverified(&env, "r.example.com", &["--store", "keychain"]);
    assert_refused(&env, &run, &["locked", "hint: unlock the keyring"], &state);
}

#[test]
fn docker_hub_in_the_keychain_is_found_under_both_names() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    let run = login_bob_unverified(&env, "docker.io", &["--store", "keychain"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    // docker asks for https://index.docker.io/v1/; skopeo and podman look up docker.io.
    let config = client_config(&env);
    assert_eq!(
        config["credHelpers"],
        json!({"https://index.docker.io/v1/": "regctl", "docker.io": "regctl"})
    );
    for name in ["https://index.docker.io/v1/", "docker.io"] {
        let (code, out) = helper(&ss.address, "get", name);
        assert_eq!(code, 0, "{name}: {out}");
        assert!(out.contains("\"Username\":\"bob\""), "{name}: {out}");
    }
    let (doc, _) = env.json(&["creds", "list"]);
    assert_eq!(
        doc["credentials"],
        json!([{"registry": "https://index.docker.io/v1/", "store": "keychain", "username": "bob", "plaintext": false, "error": null}])
    );
}
