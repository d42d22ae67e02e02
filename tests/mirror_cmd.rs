//! `regctl mirror`: idempotent edits of registry-mirrors, --check, --diff, JSON contract.

use crate::support::{age_file, refused, FileState, TestEnv};

#[test]
fn add_twice_changes_once_and_leaves_mtime_alone() {
    let env = TestEnv::new();
    env.write_daemon("{\n    \"debug\": true\n}\n");
    let (doc, code) = env.json(&["mirror", "add", "https://mirror.gcr.io"]);
    assert_eq!(code, 0);
    assert_eq!(doc["changed"], true);
    assert_eq!(
        doc["mirrors"],
        serde_json::json!(["https://mirror.gcr.io/"])
    );
    age_file(&env.daemon_json);
    let before = FileState::of(&env.daemon_json);
    let (doc, code) = env.json(&["mirror", "add", "https://mirror.gcr.io/"]);
    assert_eq!((code, &doc["changed"]), (0, &serde_json::json!(false)));
    assert_eq!(
        FileState::of(&env.daemon_json),
        before,
        "a no-op must not rewrite the file"
    );
}

#[test]
fn check_reports_without_writing_and_diff_shows_the_change() {
    let env = TestEnv::new();
    env.write_daemon("{\"debug\": true}\n");
    let before = FileState::of(&env.daemon_json);
    let (doc, code) = env.json(&[
        "mirror",
        "add",
        "https://m.example.com",
        "--check",
        "--diff",
    ]);
    assert_eq!(code, 0);
    assert_eq!(doc["changed"], true);
    assert!(doc["msg"].as_str().unwrap().starts_with("would add"));
    let diff = &doc["diff"][0];
    assert_eq!(diff["path"], env.daemon_json.display().to_string());
    assert_eq!(diff["before"], "{\"debug\": true}\n");
    assert_eq!(
        diff["after"],
        "{\"debug\": true,\"registry-mirrors\":[\"https://m.example.com/\"]}\n"
    );
    assert_eq!(FileState::of(&env.daemon_json), before);
}

#[test]
fn check_on_a_missing_file_creates_nothing() {
    let env = TestEnv::new();
    let (doc, _) = env.json(&["mirror", "add", "https://m.example.com", "--check"]);
    assert_eq!(doc["changed"], true);
    assert!(!env.daemon_json.exists());
}

#[test]
fn text_diff_snapshot() {
    let env = TestEnv::new();
    env.write_daemon("{\n  \"debug\": true\n}\n");
    let run = env.run(&["mirror", "add", "https://mirror.gcr.io", "--diff"]);
    assert_eq!(run.code, 0);
    insta::assert_snapshot!(
        "mirror_add_diff",
        format!(
            "stdout:\n{}\nstderr:\n{}",
            env.redact(&run.stdout),
            env.redact(&run.stderr)
        )
    );
}

#[test]
fn remove_last_mirror_leaves_an_empty_list() {
    let env = TestEnv::new();
    env.write_daemon(
        "{\"registry-mirrors\": [\"https://a.example.com\", \"https://b.example.com/\"]}",
    );
    let (doc, _) = env.json(&[
        "mirror",
        "remove",
        "https://a.example.com/",
        "https://b.example.com",
    ]);
    assert_eq!(doc["changed"], true);
    assert_eq!(
        doc["removed"],
        serde_json::json!(["https://a.example.com", "https://b.example.com/"])
    );
    assert_eq!(
        env.daemon_value()["registry-mirrors"],
        serde_json::json!([])
    );
    let (doc, _) = env.json(&["mirror", "remove", "https://a.example.com"]);
    assert_eq!(doc["changed"], false);
}

#[test]
fn list_prints_one_per_line_and_json() {
    let env = TestEnv::new();
    env.write_daemon(
        "{\"registry-mirrors\": [\"https://a.example.com/\", \"http://10.0.0.5:5000\"]}",
    );
    let run = env.run(&["mirror", "list"]);
    assert_eq!(run.stdout, "https://a.example.com/\nhttp://10.0.0.5:5000\n");
    let (doc, code) = env.json(&["mirror", "list"]);
    assert_eq!(code, 0);
    assert_eq!(doc["changed"], false);
    assert_eq!(doc["mirrors"][1], "http://10.0.0.5:5000");
}

#[test]
fn invalid_mirrors_are_refused_before_touching_the_file() {
    let env = TestEnv::new();
    env.write_daemon("{}");
    // A path is refused by dockerd before 25.0 only.
    refused(
        &env,
        &env.daemon_json,
        &[
            "mirror",
            "add",
            "https://m.example.com/v2/",
            "--dockerd-version",
            "20.10",
        ],
        &["invalid mirror", "path", "dockerd 20.10"],
    );
    let (doc, code) = env.json(&[
        "mirror",
        "add",
        "https://m.example.com/v2",
        "--dockerd-version",
        "26.1",
    ]);
    assert_eq!(
        (code, &doc["mirrors"][0]),
        (0, &serde_json::json!("https://m.example.com/v2/"))
    );
    env.write_daemon("{}");
    for (bad, words) in [
        ("https://m.example.com/?x=1", "query"),
        ("https://user:pw@m.example.com", "password"),
        ("m.example.com", "no scheme"),
        ("ftp://m.example.com", "scheme"),
    ] {
        refused(
            &env,
            &env.daemon_json,
            &["mirror", "add", bad],
            &["invalid mirror", words],
        );
    }
}
