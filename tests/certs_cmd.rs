//! `regctl certs list`: every planted certs.d problem is reported with its stable id, folders
//! regctl wrote are clean, and listing never changes anything.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use serde_json::Value;

use crate::support::pki::{days_from_now, TestCa};
use crate::support::{tree_state, TestEnv};
use crate::trust_ca_cmd::pair_args;

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join(name), bytes).unwrap();
}

/// One registry folder's report.
fn folder<'a>(doc: &'a Value, name: &str) -> &'a Value {
    doc["registries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no folder {name} in {doc}"))
}

/// The ids reported for one registry folder, as (file, id).
fn problems(doc: &Value, name: &str) -> Vec<(String, String)> {
    folder(doc, name)["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["file"].as_str().unwrap_or("").to_string(),
                p["id"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// A folder written by trust-ca (CA and client pair), which must lint clean.
fn trusted_folder(env: &TestEnv, ca: &TestCa, host: &str) {
    let me = ca.client("me");
    let files = [
        ("ca.pem", &ca.pem.cert),
        ("me.cert", &me.cert),
        ("me.key", &me.key),
    ];
    for (name, text) in files {
        fs::write(env.path(name), text).unwrap();
    }
    let p = |n: &str| env.path(n).display().to_string();
    let (ca_file, cert, key) = (p("ca.pem"), p("me.cert"), p("me.key"));
    let run = env.run(&pair_args(host, Some(&ca_file), &cert, &key));
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn list_reports_each_planted_problem_and_changes_nothing() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl lint CA");
    trusted_folder(&env, &ca, "good.example.com:5000");

    let broken = env.certs_dir.join("broken.example.com");
    let soon = TestCa::with_validity("regctl soon CA", (2024, 1, 1), days_from_now(10));
    let old = TestCa::with_validity("regctl old CA", (2019, 1, 1), (2020, 1, 1));
    let (a, b) = (ca.client("a"), ca.client("b"));
    write(&broken, "garbage.crt", "not a certificate\n");
    write(&broken, "der.crt", &ca.pem.der);
    write(&broken, "ca.pem", &ca.pem.cert);
    write(&broken, "lonely.cert", &a.cert);
    write(&broken, "orphan.key", &a.key);
    fs::set_permissions(broken.join("orphan.key"), fs::Permissions::from_mode(0o600)).unwrap();
    write(&broken, "client.cert", &a.cert);
    write(&broken, "client.key", &b.key);
    fs::set_permissions(broken.join("client.key"), fs::Permissions::from_mode(0o644)).unwrap();
    write(&broken, "soon.crt", &soon.pem.cert);
    write(&broken, "old.crt", &old.pem.cert);
    write(&broken, "leaf.crt", ca.server(&["broken.example.com"]).cert);
    write(&broken, "client.crt", ca.client("someone").cert);
    write(&broken, "README", "notes\n");
    write(
        &env.certs_dir.join("tls.example.com:443"),
        "ca.crt",
        &ca.pem.cert,
    );
    write(&env.certs_dir.join("bad_name!"), "ca.crt", &ca.pem.cert);
    write(&env.certs_dir, "ca.crt", &ca.pem.cert);

    let before = tree_state(env.dir.path());
    let (doc, code) = env.json(&["certs", "list"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], false);
    assert!(problems(&doc, "good.example.com:5000").is_empty(), "{doc}");
    let good = folder(&doc, "good.example.com:5000");
    assert_eq!(
        good["files"][0]["certificates"][0]["subject"],
        "CN=regctl lint CA, O=regctl tests"
    );
    assert_eq!(
        good["files"][0]["certificates"][0]["not_after"],
        "2099-01-01T00:00:00Z"
    );
    assert_eq!(good["files"][2]["role"], "client_key");

    let mut got = problems(&doc, "broken.example.com");
    got.sort();
    let mut want: Vec<(String, String)> = [
        ("ca.pem", "certs.ca_wrong_extension"),
        ("client.key", "certs.key_mismatch"),
        ("client.key", "certs.key_permissions"),
        ("der.crt", "certs.der_in_crt"),
        ("garbage.crt", "certs.unparsable_crt"),
        ("client.crt", "certs.crt_not_ca"),
        ("leaf.crt", "certs.pinned_leaf"),
        ("lonely.cert", "certs.cert_without_key"),
        ("old.crt", "certs.expired"),
        ("orphan.key", "certs.key_without_cert"),
        ("soon.crt", "certs.expires_soon"),
    ]
    .iter()
    .map(|(f, i)| (f.to_string(), i.to_string()))
    .collect();
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        problems(&doc, "tls.example.com:443"),
        [(String::new(), "certs.folder_port_mismatch".to_string())]
    );
    assert_eq!(
        problems(&doc, "bad_name!"),
        [(String::new(), "certs.bad_folder_name".to_string())]
    );
    assert_eq!(doc["problems"][0]["id"], "certs.file_outside_folder");
    assert_eq!(doc["problem_count"], 14);
    // Each problem that has a fix carries it, e.g. the DER conversion.
    let der = folder(&doc, "broken.example.com")["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "certs.der_in_crt")
        .unwrap();
    assert!(der["fix"]
        .as_str()
        .unwrap()
        .starts_with("convert it to PEM: openssl x509 -inform der"));

    let (again, _) = env.json(&["certs", "list"]);
    assert_eq!(again, doc, "a second run reports the same");
    assert_eq!(tree_state(env.dir.path()), before, "listing never writes");
}

#[test]
fn list_one_registry_and_its_port_443_twin() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl CA");
    write(&env.certs_dir.join("r.example.com"), "ca.crt", &ca.pem.cert);
    let (doc, code) = env.json(&["certs", "list", "r.example.com:443"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["registries"], serde_json::json!([]));
    assert_eq!(doc["problems"][0]["id"], "certs.folder_port_mismatch");
    assert!(doc["problems"][0]["message"]
        .as_str()
        .unwrap()
        .contains("only r.example.com"));
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .starts_with("no folder for r.example.com:443"));

    let (doc, _) = env.json(&["certs", "list", "https://r.example.com/v2/"]);
    assert_eq!(doc["registries"][0]["name"], "r.example.com");
    assert_eq!(doc["problem_count"], 0);

    let run = env.run(&["certs", "list", "../etc"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("is not a registry name"),
        "{}",
        run.stderr
    );

    // --containers lists podman/skopeo's root.
    write(
        &env.containers_certs_dir.join("c.example.com"),
        "ca.crt",
        &ca.pem.cert,
    );
    let (doc, _) = env.json(&["certs", "list", "--containers"]);
    assert_eq!(doc["registries"][0]["name"], "c.example.com");
    assert_eq!(doc["root"], env.containers_certs_dir.display().to_string());
}

#[test]
fn list_text_snapshot() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl text CA");
    trusted_folder(&env, &ca, "good.example.com:5000");
    let odd = env.certs_dir.join("odd.example.com");
    write(&odd, "ca.pem", &ca.pem.cert);
    write(&odd, "der.crt", &ca.pem.der);
    write(&odd, "lonely.cert", ca.client("x").cert);
    let run = env.run(&["certs", "list"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    insta::with_settings!({filters => vec![(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", "[SHA256]")]}, {
        insta::assert_snapshot!(
            "certs_list_text",
            env.redact(&format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr))
        );
    });
}

#[test]
fn list_of_a_missing_certs_dir_is_empty() {
    let env = TestEnv::new();
    let (doc, code) = env.json(&["certs", "list"]);
    assert_eq!(code, 0);
    assert_eq!(doc["registries"], serde_json::json!([]));
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .starts_with("no registry folders in"));
    assert!(!env.certs_dir.exists());
}
