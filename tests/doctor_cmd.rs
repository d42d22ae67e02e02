//! `regctl doctor`: each failure is a real server (or the lack of one) on loopback, and the test
//! asserts the check id, its status and the fix.

use std::fs;

use serde_json::{json, Value};

use crate::support::registry::free_port;
use crate::support::TestEnv;

/// Runs doctor with JSON output; returns the document and the exit code.
fn doctor(env: &TestEnv, args: &[&str]) -> (Value, i32) {
    let mut all = vec!["doctor"];
    all.extend(args);
    env.json(&all)
}

/// The check with this id in the report of `registry`.
fn check<'a>(doc: &'a Value, registry: &str, id: &str) -> &'a Value {
    let report = doc["registries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["registry"] == registry)
        .unwrap_or_else(|| panic!("no report for {registry} in {doc}"));
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} for {registry} in {report}"))
}

#[test]
fn connection_refused() {
    let env = TestEnv::new();
    let host = format!("127.0.0.1:{}", free_port());
    let (doc, code) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(code, 1);
    assert_eq!(
        (doc["ok"].clone(), doc["failed"].clone()),
        (json!(false), json!(true))
    );
    let c = check(&doc, &host, "tcp.refused");
    assert_eq!(c["status"], "fail");
    assert!(
        c["fix"].as_str().unwrap().contains("start the registry"),
        "{c}"
    );
    assert_eq!(check(&doc, &host, "dns.resolved")["status"], "ok");
}

#[test]
fn a_name_under_invalid_does_not_resolve() {
    let env = TestEnv::new();
    let (doc, code) = doctor(
        &env,
        &["registry.regctl-test.invalid:5000", "--timeout", "3"],
    );
    assert_eq!(code, 1);
    let c = check(
        &doc,
        "registry.regctl-test.invalid:5000",
        "dns.no_such_host",
    );
    assert_eq!(c["status"], "fail");
    assert!(c["fix"].as_str().unwrap().contains("/etc/hosts"));
    // Later phases are reported as skipped, not run.
    let report = &doc["registries"][0]["checks"];
    assert!(report
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["status"] == "skip"));
}

#[test]
fn https_proxy_pointing_at_a_closed_port() {
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", &format!("http://127.0.0.1:{}", free_port()));
    let (doc, code) = doctor(&env, &["registry.example.com", "--timeout", "3"]);
    assert_eq!(code, 1);
    let c = check(&doc, "registry.example.com", "proxy.unreachable");
    assert_eq!(c["status"], "fail");
    assert!(
        c["message"].as_str().unwrap().contains("HTTPS_PROXY"),
        "{c}"
    );
    assert!(
        c["fix"]
            .as_str()
            .unwrap()
            .contains("NO_PROXY=registry.example.com"),
        "{c}"
    );
}

#[test]
fn dockerd_proxy_from_a_systemd_drop_in_differs_from_the_shell() {
    let env = TestEnv::new();
    let dropins = env.path("etc/systemd/docker.service.d");
    fs::create_dir_all(&dropins).unwrap();
    fs::write(
        dropins.join("http-proxy.conf"),
        format!(
            "[Service]\nEnvironment=\"HTTPS_PROXY=http://127.0.0.1:{}\"\n",
            free_port()
        ),
    )
    .unwrap();
    let (doc, _) = doctor(&env, &["registry.example.com", "--timeout", "3"]);
    assert_eq!(
        check(&doc, "registry.example.com", "proxy.differs")["status"],
        "warn"
    );
    let c = check(&doc, "registry.example.com", "proxy.unreachable");
    assert!(
        c["message"]
            .as_str()
            .unwrap()
            .contains("docker.service drop-ins"),
        "{c}"
    );
}

#[test]
fn loopback_is_never_proxied_as_in_go() {
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", "http://127.0.0.1:9");
    let host = format!("127.0.0.1:{}", free_port());
    let (doc, _) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(check(&doc, &host, "proxy.none")["status"], "ok");
}

#[test]
fn malformed_daemon_json() {
    let env = TestEnv::new();
    env.write_daemon("{\"registry-mirrors\": [\"https://m.example.com/\"");
    let host = format!("127.0.0.1:{}", free_port());
    let (doc, code) = doctor(&env, &[&host, "--timeout", "3"]);
    assert_eq!(code, 1);
    let c = check(&doc, &host, "config.daemon_json_invalid");
    assert_eq!(c["status"], "fail");
    assert!(c["message"].as_str().unwrap().contains("is not valid JSON"));
    // With nothing named anywhere, doctor still checks the local files.
    let (doc, code) = doctor(&env, &[]);
    assert_eq!(code, 1);
    check(&doc, "local configuration", "config.daemon_json_invalid");
}

#[test]
fn a_cred_helper_missing_from_path() {
    let env = TestEnv::new();
    fs::create_dir_all(&env.docker_config).unwrap();
    fs::write(
        env.client_config_path(),
        "{\"credHelpers\": {\"registry.example.com\": \"nosuchhelper\"}}",
    )
    .unwrap();
    let (doc, code) = doctor(&env, &["--timeout", "2"]);
    assert_eq!(code, 1);
    let c = check(&doc, "registry.example.com", "creds.helper_missing");
    assert_eq!(c["status"], "fail");
    assert!(c["message"]
        .as_str()
        .unwrap()
        .contains("docker-credential-nosuchhelper"));
}

#[test]
fn registries_are_reported_in_a_stable_order() {
    let env = TestEnv::new();
    env.write_daemon("{\"insecure-registries\": [\"zz.regctl-test.invalid:5000\", \"10.0.0.0/8\"], \"registry-mirrors\": [\"https://aa.regctl-test.invalid\"]}");
    let (doc, _) = doctor(&env, &["--timeout", "2"]);
    let names: Vec<&str> = doc["registries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["registry"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "https://aa.regctl-test.invalid",
            "zz.regctl-test.invalid:5000"
        ]
    );
}

#[test]
fn explain_a_pasted_error() {
    let env = TestEnv::new();
    let text = "Error response from daemon: Get \"https://r.example.com:5000/v2/\": tls: failed to verify certificate: x509: certificate signed by unknown authority";
    let (doc, code) = doctor(&env, &["--explain", text]);
    assert_eq!(code, 0);
    assert_eq!(doc["registry"], "r.example.com:5000");
    let e = &doc["explanations"][0];
    assert_eq!(e["error"], "x509.unknown_authority");
    assert!(e["checks"]
        .as_array()
        .unwrap()
        .contains(&json!("tls.unknown_authority")));
    assert!(e["fixes"][0]
        .as_str()
        .unwrap()
        .starts_with("sudo regctl trust-ca r.example.com:5000"));
    let run = env.run(&["doctor", "--explain", text]);
    insta::assert_snapshot!("doctor_explain_unknown_authority", run.stdout);
    let (doc, code) = doctor(&env, &["--explain", "something else entirely"]);
    assert_eq!((code, doc["explanations"].clone()), (1, json!([])));
}
