//! The OS keychain through a private gnome-keyring: `login --store keychain` keeps the secret in
//! the Secret Service (seen by secret-tool), config.json points credHelpers at regctl, and
//! docker-credential-regctl and skopeo read it. A missing or locked Secret Service is an error,
//! never a silent fallback.

use serde_json::{json, Value};

use crate::support::creds::{
    client_config, htpasswd_registry, login, login_bob_unverified, path_with_helper, run_helper,
    skopeo_inspect, write_config, PASSWORD, USER,
};
use crate::support::keyring::{no_secret_service, SecretService, KEYRING_PASSWORD};
use crate::support::{age_file, assert_refused, FileState, TestEnv};

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
        &run,
        &[
            "the OS keychain is not available",
            "hint: start a Secret Service",
        ],
        &env.client_config_path(),
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
    assert_refused(
        &run,
        &["locked", "hint: unlock the keyring"],
        &env.client_config_path(),
        &state,
    );
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

/// The method calls each client made on the bus, from dbus-monitor's text: sender -> the
/// members it called, each with its first string argument (if any).
fn calls_by_sender(monitor: &str) -> std::collections::BTreeMap<String, Vec<(String, String)>> {
    let mut calls: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    let mut lines = monitor.lines().peekable();
    while let Some(line) = lines.next() {
        if !line.starts_with("method call ") {
            continue;
        }
        let field = |name: &str| {
            line.split([' ', ';'])
                .find_map(|w| w.strip_prefix(name))
                .unwrap_or_default()
                .to_string()
        };
        let arg = match lines.peek() {
            Some(next) if next.trim_start().starts_with("string \"") => next
                .trim()
                .trim_start_matches("string \"")
                .trim_end_matches('"')
                .to_string(),
            _ => String::new(),
        };
        calls
            .entry(field("sender="))
            .or_default()
            .push((field("member="), arg));
    }
    calls
}

#[test]
fn helper_get_is_one_search_and_one_secret_in_a_plain_session() {
    let ss = SecretService::unlocked();
    let a = ss.address.as_str();
    let store = r#"{"ServerURL":"fast.example.com","Username":"u","Secret":"p"}"#;
    assert_eq!(helper(a, "store", store), (0, String::new()));
    let monitor = ss.monitor();
    let (code, out) = helper(a, "get", "fast.example.com");
    assert_eq!(code, 0, "{out}");
    let text = monitor.stop();
    let calls = calls_by_sender(&text);
    let ours: Vec<_> = calls
        .values()
        .filter(|c| c.iter().any(|(m, _)| m == "OpenSession"))
        .collect();
    assert_eq!(ours.len(), 1, "{text}");
    let members: Vec<(&str, &str)> = ours[0]
        .iter()
        .map(|(m, a)| (m.as_str(), a.as_str()))
        .collect();
    // No key exchange (a plain session on the local bus), no property reads or signal matches:
    // the search with both attributes, then the one secret.
    assert_eq!(
        members,
        [
            ("Hello", ""),
            ("OpenSession", "plain"),
            ("SearchItems", ""),
            ("GetSecret", "")
        ],
        "{text}"
    );
}

/// What `secret-tool search --all` shows (it prints the attributes on stderr).
fn search_text(ss: &SecretService, attr: &str, value: &str) -> String {
    let found = ss.search(attr, value);
    // stdout does not end with a newline.
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&found.stdout),
        String::from_utf8_lossy(&found.stderr)
    )
}

#[test]
fn items_as_keyring_4_wrote_them_are_read_replaced_and_erased() {
    let ss = SecretService::unlocked();
    let a = ss.address.as_str();
    let host = "old.example.com:5000";
    // The item an earlier regctl (keyring 4) left: its label, its two attributes, JSON secret.
    let mut store = ss
        .command("secret-tool")
        .args([
            "store",
            "--label",
            &format!("regctl: docker credentials for {host}"),
            "service",
            "docker-credential-regctl",
            "username",
            host,
        ])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = store.stdin.take().unwrap();
        stdin
            .write_all(br#"{"Username":"olduser","Secret":"oldpw"}"#)
            .unwrap();
    }
    assert!(store.wait().unwrap().success());

    let (code, out) = helper(a, "get", &format!("https://{host}/v2/"));
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"ServerURL": format!("https://{host}/v2/"), "Username": "olduser", "Secret": "oldpw"})
    );
    assert_eq!(
        helper(a, "list", ""),
        (0, format!("{{\"{host}\":\"olduser\"}}\n"))
    );

    // A new password replaces the secret of that same item (no second item).
    let new = format!(r#"{{"ServerURL":"{host}","Username":"newuser","Secret":"newpw"}}"#);
    assert_eq!(helper(a, "store", &new), (0, String::new()));
    let found = search_text(&ss, "service", "docker-credential-regctl");
    assert_eq!(found.matches("attribute.username = ").count(), 1, "{found}");
    assert!(
        found.contains(&format!("label = regctl: docker credentials for {host}"))
            && found.contains(r#"secret = {"Username":"newuser","Secret":"newpw"}"#),
        "{found}"
    );

    // A new registry's item has exactly the attributes and label keyring 4 gave it.
    let other = r#"{"ServerURL":"new.example.com","Username":"u","Secret":"p"}"#;
    assert_eq!(helper(a, "store", other), (0, String::new()));
    let found = search_text(&ss, "username", "new.example.com");
    let attributes: Vec<&str> = found
        .lines()
        .filter(|l| l.starts_with("attribute."))
        .collect();
    assert_eq!(
        attributes,
        [
            "attribute.service = docker-credential-regctl",
            "attribute.username = new.example.com"
        ],
        "{found}"
    );
    assert!(
        found.contains("label = regctl: docker credentials for new.example.com")
            && found.contains(r#"secret = {"Username":"u","Secret":"p"}"#),
        "{found}"
    );

    assert_eq!(helper(a, "erase", host), (0, String::new()));
    assert_eq!(
        helper(a, "get", host),
        (1, "credentials not found in native keychain\n".into())
    );
    assert_eq!(
        helper(a, "list", ""),
        (0, "{\"new.example.com\":\"u\"}\n".into())
    );
}

#[test]
fn a_keyring_locked_again_is_an_error_for_every_action_and_loses_nothing() {
    let mut ss = SecretService::unlocked();
    let store = r#"{"ServerURL":"locked.example.com","Username":"u","Secret":"p"}"#;
    assert_eq!(helper(&ss.address, "store", store), (0, String::new()));
    // As after a reboot without a desktop login: the keyring file is there, locked, and the
    // unlock prompt has nobody to show itself to.
    ss.restart(None);
    let vars = [("DBUS_SESSION_BUS_ADDRESS".to_string(), ss.address.clone())];
    for (action, stdin) in [
        ("get", "locked.example.com"),
        ("list", ""),
        ("store", store),
        ("erase", "locked.example.com"),
    ] {
        let run = run_helper(&vars, action, stdin);
        assert_eq!(run.code, 1, "{action}: {}", run.stdout);
        assert!(
            run.stdout
                .contains("the OS keychain is locked or refused access"),
            "{action}: {}",
            run.stdout
        );
        assert!(
            run.stderr.contains("hint: unlock the keyring"),
            "{action}: {}",
            run.stderr
        );
    }
    ss.restart(Some(KEYRING_PASSWORD));
    let (code, out) = helper(&ss.address, "get", "locked.example.com");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(r#""Secret":"p""#), "{out}");
}
