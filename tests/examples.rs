//! The files under examples/ work as shipped.

use crate::support::TestEnv;

#[test]
fn sample_daemon_json_is_valid_for_dockerd() {
    let env = TestEnv::new();
    let (doc, code) = env.json(&[
        "daemon",
        "validate",
        "--daemon-config",
        "examples/daemon.json",
    ]);
    assert_eq!(
        (code, doc["valid"].clone()),
        (0, serde_json::json!(true)),
        "{doc}"
    );
    let (doc, _) = env.json(&["mirror", "list", "--daemon-config", "examples/daemon.json"]);
    assert_eq!(
        doc["mirrors"],
        serde_json::json!(["https://mirror.gcr.io/"])
    );
}
