//! `trust-ca --system` on a test root: the real update-ca-certificates compiles the bundle under
//! a temp dir (its --certsconf/--certsdir/--localcertsdir/--etccertsdir/--hooksdir options,
//! which regctl passes when REGCTL_SYSTEM_TRUST_ROOT is set), and curl and regctl itself (rustls'
//! native roots, pointed at that bundle with SSL_CERT_FILE) then trust a registry on a test
//! network namespace. Removing restores the bundle byte for byte.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::netns::NetnsHost;
use crate::support::pki::TestCa;
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::{output_ok, require_tool, tree_state, Run, TestEnv};

/// A Debian trust-store layout under `root`, holding the machine's distribution CAs (read-only,
/// by a symlink) and compiled once by the real update-ca-certificates.
fn debian_root(root: &Path) -> PathBuf {
    for d in [
        "etc/ssl/certs",
        "usr/local/share/ca-certificates",
        "etc/ca-certificates/update.d",
        "usr/share",
    ] {
        fs::create_dir_all(root.join(d)).unwrap();
    }
    fs::copy(
        "/etc/ca-certificates.conf",
        root.join("etc/ca-certificates.conf"),
    )
    .unwrap();
    std::os::unix::fs::symlink(
        "/usr/share/ca-certificates",
        root.join("usr/share/ca-certificates"),
    )
    .unwrap();
    let p = |s: &str| root.join(s).display().to_string();
    output_ok(Command::new(require_tool("update-ca-certificates")).args([
        "--certsconf",
        &p("etc/ca-certificates.conf"),
        "--certsdir",
        &p("usr/share/ca-certificates"),
        "--localcertsdir",
        &p("usr/local/share/ca-certificates"),
        "--etccertsdir",
        &p("etc/ssl/certs"),
        "--hooksdir",
        &p("etc/ca-certificates/update.d"),
    ]));
    root.join("etc/ssl/certs/ca-certificates.crt")
}

fn curl(bundle: &Path, url: &str) -> Run {
    Run::from(
        Command::new(require_tool("curl"))
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "--cacert"])
            .arg(bundle)
            .arg(url)
            .output()
            .unwrap(),
    )
}

/// doctor's TLS verdict for the registry (`tls.trusted`, `tls.unknown_authority`, ...).
fn doctor_tls(env: &TestEnv, host: &str) -> String {
    let (doc, _) = env.json(&["doctor", host, "--timeout", "10"]);
    doc["registries"][0]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .find(|id| id.starts_with("tls.") && id != "tls.handshake")
        .unwrap_or_else(|| panic!("no TLS verdict in {doc}"))
}

#[test]
fn system_puts_the_ca_in_the_bundle_curl_and_regctl_trust_and_remove_restores_it() {
    let mut env = TestEnv::new();
    let root = env.path("sysroot");
    let bundle = debian_root(&root);
    let original = fs::read(&bundle).unwrap();
    env.set_env("REGCTL_SYSTEM_TRUST_ROOT", &root.display().to_string());
    env.set_env("SSL_CERT_FILE", &bundle.display().to_string());

    let host = NetnsHost::new();
    let ca = TestCa::new("regctl system-store CA");
    let registry = Registry::start_in(
        RegistryOptions {
            tls: Some(ca.server(&[&host.ip])),
            ..Default::default()
        },
        &host,
    );
    let name = format!("{}:{}", host.ip, registry.port);
    let url = format!("https://{name}/v2/");
    let run = curl(&bundle, &url);
    assert_eq!(run.code, 60, "curl should not trust it yet: {}", run.stderr);
    assert_eq!(doctor_tls(&env, &name), "tls.unknown_authority");

    let ca_file = env.path("ca.pem");
    fs::write(&ca_file, &ca.pem.cert).unwrap();
    let ca_arg = ca_file.display().to_string();
    let sandbox = tree_state(env.dir.path());
    let (doc, code) = env.json(&["trust-ca", &name, &ca_arg, "--system", "--check"]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert_eq!(tree_state(env.dir.path()), sandbox, "--check wrote");

    let (doc, code) = env.json(&["trust-ca", &name, &ca_arg, "--system", "--diff"]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert_eq!(doc["system_layout"], "debian");
    let file = root.join(format!(
        "usr/local/share/ca-certificates/regctl-{}.crt",
        name.replace(':', "_")
    ));
    assert_eq!(doc["files"][0]["path"], file.display().to_string());
    assert_eq!(fs::read_to_string(&file).unwrap(), ca.pem.cert);
    let notes = doc["notes"].to_string();
    assert!(
        notes.contains("1 added, 0 removed") && notes.contains("restart docker"),
        "{notes}"
    );
    assert!(
        !env.certs_dir.join(&name).exists(),
        "--system does not write certs.d"
    );
    let compiled = fs::read_to_string(&bundle).unwrap();
    assert!(
        compiled.contains(ca.pem.cert.trim()),
        "the CA is not in the bundle"
    );
    let run = curl(&bundle, &url);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "200"),
        "{}",
        run.stderr
    );
    assert_eq!(doctor_tls(&env, &name), "tls.trusted");

    // A second run changes nothing, the bundle included.
    let (doc, _) = env.json(&["trust-ca", &name, &ca_arg, "--system"]);
    assert_eq!(doc["changed"], false, "{doc}");
    assert_eq!(fs::read_to_string(&bundle).unwrap(), compiled);

    // --remove --system takes out exactly regctl's file; the bundle is as it was.
    let (doc, code) = env.json(&["trust-ca", &name, "--remove", "--system"]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert!(!file.exists());
    assert!(root.join("usr/local/share/ca-certificates").is_dir());
    assert_eq!(fs::read(&bundle).unwrap(), original, "bundle not restored");
    assert_eq!(curl(&bundle, &url).code, 60);
    let (doc, _) = env.json(&["trust-ca", &name, "--remove", "--system"]);
    assert_eq!(doc["changed"], false, "{doc}");
}

#[test]
fn system_without_a_known_trust_store_is_refused() {
    let mut env = TestEnv::new();
    let root = env.path("empty-root");
    fs::create_dir_all(&root).unwrap();
    env.set_env("REGCTL_SYSTEM_TRUST_ROOT", &root.display().to_string());
    let ca = TestCa::new("regctl CA");
    let ca_file = env.path("ca.pem");
    fs::write(&ca_file, &ca.pem.cert).unwrap();
    let before = tree_state(env.dir.path());
    let run = env.run(&[
        "trust-ca",
        "r.example.com",
        &ca_file.display().to_string(),
        "--system",
    ]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("no OS trust store found under")
            && run.stderr.contains(&root.display().to_string()),
        "{}",
        run.stderr
    );
    assert_eq!(tree_state(env.dir.path()), before);
}
