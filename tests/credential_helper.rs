//! The credential-helper protocol both ways: docker-credential-regctl serving the real keychain
//! (exact protocol, errors on stdout, argv[0] dispatch), and regctl as a client of Docker's own
//! docker-credential-secretservice and of helpers that are missing or print garbage.

use std::os::unix::fs::PermissionsExt;

use serde_json::{json, Value};

use crate::keychain::helper;
use crate::support::creds::{
    client_config, htpasswd_registry, login, login_bob_unverified, skopeo_inspect, write_config,
    PASSWORD, USER,
};
use crate::support::keyring::SecretService;
use crate::support::{assert_refused, regctl_bin, TestEnv};

#[test]
fn docker_credential_regctl_speaks_the_protocol_exactly() {
    let ss = SecretService::unlocked();
    let a = ss.address.as_str();
    let store = r#"{"ServerURL":"reg.example.com:5000","Username":"u1","Secret":"p1"}"#;
    assert_eq!(helper(a, "store", store), (0, String::new()));
    let (code, out) = helper(a, "get", "reg.example.com:5000\n");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap(),
        json!({"ServerURL": "reg.example.com:5000", "Username": "u1", "Secret": "p1"})
    );
    // URL forms of the same registry find the same item; ServerURL echoes the request.
    let (code, out) = helper(a, "get", "https://reg.example.com:5000/v2/");
    assert_eq!(code, 0, "{out}");
    assert_eq!(
        serde_json::from_str::<Value>(&out).unwrap()["ServerURL"],
        "https://reg.example.com:5000/v2/"
    );
    assert_eq!(
        helper(a, "list", ""),
        (0, "{\"reg.example.com:5000\":\"u1\"}\n".into())
    );
    assert_eq!(
        helper(a, "erase", "reg.example.com:5000"),
        (0, String::new())
    );
    let not_found = (1, "credentials not found in native keychain\n".to_string());
    assert_eq!(helper(a, "get", "reg.example.com:5000"), not_found);
    assert_eq!(
        helper(a, "erase", "reg.example.com:5000"),
        (0, String::new())
    );
    assert_eq!(
        helper(
            a,
            "store",
            r#"{"ServerURL":"x","Username":"","Secret":"s"}"#
        ),
        (1, "no credentials username\n".into())
    );
    assert_eq!(
        helper(a, "get", "\n"),
        (1, "no credentials server URL\n".into())
    );
    // A secret of the wrong type is refused, not stored empty (Go's json refuses it too).
    assert_eq!(
        helper(
            a,
            "store",
            r#"{"ServerURL":"reg.example.com:5000","Username":"u1","Secret":42}"#
        ),
        (
            1,
            "error reading credentials from stdin: \"Secret\" is not a string\n".into()
        )
    );
    assert_eq!(helper(a, "get", "reg.example.com:5000"), not_found);
    let (code, out) = helper(a, "bogus", "");
    assert_eq!(code, 1);
    assert!(out.contains("unknown credential helper action"), "{out}");

    // Exactly one argument.
    let out = std::process::Command::new(
        crate::support::creds::helper_dir().join("docker-credential-regctl"),
    )
    .output()
    .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("Usage: docker-credential-regctl"));

    // regctl itself answers under that name (a symlink), and as `regctl credential-helper`.
    assert_eq!(helper(a, "store", store), (0, String::new()));
    let tmp = tempfile::tempdir().unwrap();
    let link = tmp.path().join("docker-credential-regctl");
    std::os::unix::fs::symlink(regctl_bin(), &link).unwrap();
    let out = std::process::Command::new(&link)
        .arg("list")
        .env("DBUS_SESSION_BUS_ADDRESS", a)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "{\"reg.example.com:5000\":\"u1\"}\n"
    );
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    let run = env
        .cmd()
        .args(["credential-helper", "get"])
        .write_stdin("reg.example.com:5000")
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&run.stdout).contains("\"Secret\":\"p1\""));
}

#[test]
fn store_helper_secretservice_goes_through_dockers_own_helper() {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    let r = htpasswd_registry(&env);
    let (doc, code, stderr) = login(&env, r.host(), &["--store", "helper:secretservice"]);
    assert_eq!(code, 0, "{doc}\n{stderr}");
    assert_eq!(doc["store"], "helper:secretservice");
    assert_eq!(
        client_config(&env)["credHelpers"][r.host()],
        "secretservice"
    );
    let raw = std::fs::read_to_string(env.client_config_path()).unwrap();
    assert!(!raw.contains(PASSWORD));

    let out = ss
        .command("docker-credential-secretservice")
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(r.host().as_bytes())?;
            c.wait_with_output()
        })
        .unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (&v["Username"], &v["Secret"]),
        (&json!(USER), &json!(PASSWORD))
    );
    assert_eq!(skopeo_inspect(&env, &r).code, 0);

    let (doc, _) = env.json(&["logout", r.host()]);
    assert_eq!(doc["changed"], true, "{doc}");
    let (doc, _) = env.json(&["logout", r.host()]);
    assert_eq!(doc["changed"], false, "{doc}");
}

/// A fake helper script on a private PATH dir.
fn fake_helper(env: &TestEnv, name: &str, script: &str) -> String {
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let file = bin.join(format!("docker-credential-{name}"));
    std::fs::write(&file, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn missing_failing_or_garbage_helpers_are_clear_errors_and_change_nothing() {
    let mut env = TestEnv::new();
    let path = fake_helper(&env, "garbage", "cat >/dev/null; echo 'hello there'");
    fake_helper(
        &env,
        "failing",
        "cat >/dev/null; echo 'boom: vault sealed'; exit 1",
    );
    env.set_env("PATH", &path);
    let state = write_config(
        &env,
        "{\n\t\"credHelpers\": {\n\t\t\"a.example.com\": \"nonexistent\",\n\t\t\"b.example.com\": \"garbage\",\n\t\t\"c.example.com\": \"failing\"\n\t}\n}\n",
    );
    for (host, want) in [
        (
            "a.example.com",
            "docker-credential-nonexistent is not on PATH (needed for a.example.com)",
        ),
        (
            "b.example.com",
            "docker-credential-garbage get printed something that is not the helper protocol",
        ),
        (
            "c.example.com",
            "docker-credential-failing get failed: boom: vault sealed",
        ),
    ] {
        let run = login_bob_unverified(&env, host, &[]);
        assert_refused(&run, &[want, "hint:"], &env.client_config_path(), &state);
    }
}
