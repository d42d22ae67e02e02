//! `regctl insecure`: dockerd's validation of insecure-registries (schemes, CIDRs), idempotence.

use serde_json::json;

use crate::support::{age_file, refused, FileState, TestEnv};

#[test]
fn add_normalises_like_dockerd_and_is_idempotent() {
    let env = TestEnv::new();
    let (doc, code) = env.json(&[
        "insecure",
        "add",
        "https://registry.local:5000",
        "10.1.2.3/8",
    ]);
    assert_eq!(code, 0);
    assert_eq!(doc["changed"], true);
    assert_eq!(
        doc["insecure_registries"],
        json!(["registry.local:5000", "10.0.0.0/8"])
    );
    assert!(doc["warnings"][0]
        .as_str()
        .unwrap()
        .contains("should not contain 'https://'"));
    age_file(&env.daemon_json);
    let before = FileState::of(&env.daemon_json);
    let (doc, _) = env.json(&["insecure", "add", "registry.local:5000", "10.0.0.0/8"]);
    assert_eq!(doc["changed"], false);
    assert_eq!(FileState::of(&env.daemon_json), before);
    // Another port is another registry for dockerd.
    let (doc, _) = env.json(&["insecure", "add", "registry.local"]);
    assert_eq!(doc["changed"], true);
}

#[test]
fn check_and_diff() {
    let env = TestEnv::new();
    env.write_daemon("{}\n");
    let before = FileState::of(&env.daemon_json);
    let (doc, _) = env.json(&["insecure", "add", "r.local:5000", "--check", "--diff"]);
    assert_eq!(doc["changed"], true);
    assert_eq!(
        doc["diff"][0]["after"],
        "{\"insecure-registries\":[\"r.local:5000\"]}\n"
    );
    assert_eq!(FileState::of(&env.daemon_json), before);
}

#[test]
fn remove_and_list() {
    let env = TestEnv::new();
    env.write_daemon("{\"insecure-registries\": [\"r.local:5000\", \"10.0.0.0/8\"]}");
    let (doc, _) = env.json(&["insecure", "remove", "http://r.local:5000"]);
    assert_eq!(
        (doc["changed"].clone(), doc["removed"].clone()),
        (json!(true), json!(["r.local:5000"]))
    );
    let (doc, _) = env.json(&["insecure", "remove", "r.local:5000"]);
    assert_eq!(doc["changed"], false);
    let (doc, _) = env.json(&["insecure", "list"]);
    assert_eq!(doc["insecure_registries"], json!(["10.0.0.0/8"]));
    assert_eq!(doc["always_insecure"], json!(["127.0.0.0/8", "::1/128"]));
    assert_eq!(env.run(&["insecure", "list"]).stdout, "10.0.0.0/8\n");
}

#[test]
fn bad_schemes_and_cidrs_are_refused() {
    let env = TestEnv::new();
    env.write_daemon("{\"debug\": true}");
    for (bad, words) in [
        ("ftp://r.local", "scheme \"ftp\" is not allowed"),
        ("10.0.0.0/33", "not a valid CIDR"),
        ("300.1.1.1/8", "not a valid CIDR"),
        ("r_l.local", "invalid host"),
        ("r.local:70000", "invalid port"),
    ] {
        let run = refused(
            &env,
            &env.daemon_json,
            &["insecure", "add", bad],
            &["invalid insecure registry", words],
        );
        assert!(run.stderr.contains("hint: "), "{}", run.stderr);
    }
}
