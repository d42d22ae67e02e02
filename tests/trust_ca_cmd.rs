//! `regctl trust-ca` against the real distribution registry with TLS from a private CA, a
//! self-signed CA:TRUE certificate and client-certificate auth, with skopeo as the independent
//! client that reads the folder regctl writes (`--cert-dir`, the same rules as certs.d).

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use regctl::files::certs_dir::x509::Fingerprint;
use serde_json::Value;

use crate::support::pki::{self, days_from_now, Pem, TestCa, Validity};
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::{
    age_file, is_root, mode, output_ok, require_tool, tree_state, FileState, Run, TestEnv,
};

const REPO: &str = "regctl/test";
const TAG: &str = "v1";

fn fp(der: &[u8]) -> String {
    Fingerprint::of(der).to_string()
}

/// `trust-ca HOST [CA_FILE] --client-cert CERT --client-key KEY` as argv.
pub fn pair_args<'a>(
    host: &'a str,
    ca: Option<&'a str>,
    cert: &'a str,
    key: &'a str,
) -> Vec<&'a str> {
    let mut args = vec!["trust-ca", host];
    args.extend(ca);
    args.extend(["--client-cert", cert, "--client-key", key]);
    args
}

/// `trust-ca HOST --from-server --fingerprint PIN` as argv.
fn pinned<'a>(host: &'a str, pin: &'a str) -> [&'a str; 5] {
    ["trust-ca", host, "--from-server", "--fingerprint", pin]
}

/// Writes a file into the sandbox and returns its path as a string for argv.
fn put(env: &TestEnv, name: &str, bytes: impl AsRef<[u8]>) -> String {
    let path = env.path(name);
    fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

/// A TLS registry presenting `server`, optionally requiring client certificates from `ca`, with
/// a test image pushed through a cert dir holding `trust` (and a client pair for mTLS).
fn tls_registry(server: Pem, trust: &str, client_ca: Option<&TestCa>, users: bool) -> Registry {
    let reg = Registry::start(RegistryOptions {
        tls: Some(server),
        client_ca: client_ca.map(|ca| ca.pem.cert.clone()),
        users: if users {
            vec![("alice".into(), "s3cret".into())]
        } else {
            Vec::new()
        },
        ..Default::default()
    });
    let seed = reg.dir.path().join("seed-certs");
    fs::create_dir_all(&seed).unwrap();
    fs::write(seed.join("ca.crt"), trust).unwrap();
    if let Some(ca) = client_ca {
        let c = ca.client("seeder");
        fs::write(seed.join("client.cert"), c.cert).unwrap();
        fs::write(seed.join("client.key"), c.key).unwrap();
    }
    reg.seed_image(REPO, TAG, users.then_some("alice:s3cret"), Some(&seed));
    reg
}

/// `skopeo inspect` of the test image with the certificates in `cert_dir`.
fn skopeo_inspect(env: &TestEnv, reg: &Registry, cert_dir: &Path, creds: bool) -> Run {
    let mut cmd = Command::new(require_tool("skopeo"));
    cmd.args(["inspect", "--retry-times", "0", "--cert-dir"])
        .arg(cert_dir);
    if creds {
        cmd.args(["--creds", "alice:s3cret"]);
    } else {
        cmd.arg("--no-creds");
    }
    cmd.arg(format!("docker://{}/{REPO}:{TAG}", reg.host))
        .env_clear()
        .env("HOME", &env.home)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    Run::from(cmd.output().unwrap())
}

fn assert_unknown_authority(run: &Run) {
    assert_ne!(run.code, 0, "skopeo should fail before trust-ca");
    assert!(
        run.stderr.contains("unknown authority"),
        "expected unknown authority: {}",
        run.stderr
    );
}

fn assert_ok(run: &Run, reg: &Registry) {
    assert_eq!(
        run.code,
        0,
        "skopeo failed: {}\nregistry log:\n{}",
        run.stderr,
        reg.log()
    );
    assert!(run.stdout.contains("\"Digest\""), "{}", run.stdout);
}

#[test]
fn skopeo_trusts_the_registry_only_after_trust_ca_and_a_rerun_changes_nothing() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl test CA");
    let reg = tls_registry(ca.server(&["127.0.0.1"]), &ca.pem.cert, None, true);
    let folder = env.certs_dir.join(&reg.host);
    assert_unknown_authority(&skopeo_inspect(&env, &reg, &folder, true));

    let ca_file = put(&env, "ca.pem", &ca.pem.cert);
    let (doc, code) = env.json(&["trust-ca", &reg.host, &ca_file]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["registry"], reg.host.as_str());
    assert_eq!(doc["certificates"][0]["sha256"], fp(&ca.pem.der));
    assert_eq!(doc["certificates"][0]["kind"], "ca");
    assert_eq!(doc["files"][0]["action"], "created");
    assert!(doc["msg"].as_str().unwrap().starts_with("wrote ca.crt in"));
    // dockerd never verifies loopback registries; regctl says so.
    assert!(doc["warnings"][0].as_str().unwrap().contains("insecure"));
    assert_eq!(mode(&folder), 0o755);
    assert_eq!(mode(&folder.join("ca.crt")), 0o644);

    assert_ok(&skopeo_inspect(&env, &reg, &folder, true), &reg);

    age_file(&folder.join("ca.crt"));
    let before = FileState::of(&folder.join("ca.crt"));
    let (doc, code) = env.json(&["trust-ca", &reg.host, &ca_file]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(false)), "{doc}");
    assert_eq!(doc["files"][0]["action"], "unchanged");
    assert_eq!(FileState::of(&folder.join("ca.crt")), before);
}

#[test]
fn from_server_needs_the_right_fingerprint_and_then_skopeo_succeeds() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl chain CA");
    let leaf = ca.server(&["127.0.0.1"]);
    // The server sends its full chain: leaf, then the root.
    let chain = Pem {
        cert: format!("{}{}", leaf.cert, ca.pem.cert),
        ..leaf
    };
    let reg = tls_registry(chain, &ca.pem.cert, None, false);
    let folder = env.certs_dir.join(&reg.host);
    assert_unknown_authority(&skopeo_inspect(&env, &reg, &folder, false));
    let sandbox = tree_state(env.dir.path());

    // A wrong pin: refused, nothing written.
    let wrong = fp(b"something else");
    let (doc, code) = env.json(&pinned(&reg.host, &wrong));
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["failed"], true);
    let msg = doc["msg"].as_str().unwrap();
    assert!(
        msg.contains(&reg.host) && msg.contains(&fp(&ca.pem.der)) && msg.contains(&wrong),
        "{msg}"
    );
    assert!(doc["hint"].as_str().unwrap().contains("do not trust it"));
    assert_eq!(tree_state(env.dir.path()), sandbox);

    // No pin and no terminal: refused, and the fingerprint is printed to be checked out of band.
    let run = env.run(&["trust-ca", &reg.host, "--from-server"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains(&fp(&ca.pem.der)), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("--from-server --fingerprint {}", fp(&ca.pem.der))),
        "{}",
        run.stderr
    );
    assert_eq!(tree_state(env.dir.path()), sandbox);

    // --check needs no pin: it writes nothing and shows what it would trust.
    let (doc, code) = env.json(&["trust-ca", &reg.host, "--from-server", "--check"]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert_eq!(tree_state(env.dir.path()), sandbox);

    // The right pin, typed as lowercase hex without colons: the root is trusted, not the leaf.
    let pin = fp(&ca.pem.der).replace(':', "").to_lowercase();
    let (doc, code) = env.json(&pinned(&reg.host, &pin));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["source"], "server");
    assert_eq!(doc["presented"].as_array().unwrap().len(), 2);
    assert_eq!(doc["certificates"][0]["sha256"], fp(&ca.pem.der));
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("sent its root CA"));
    assert_ok(&skopeo_inspect(&env, &reg, &folder, false), &reg);
}

#[test]
fn from_server_with_only_a_ca_issued_leaf_names_the_missing_issuer() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl hidden CA");
    let reg = tls_registry(ca.server(&["127.0.0.1"]), &ca.pem.cert, None, false);
    let run = env.run(&pinned(&reg.host, &fp(&ca.pem.der)));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("sent only its own certificate")
            && run.stderr.contains("CN=regctl hidden CA"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("hint: ask the registry's administrator"));
    assert!(!env.certs_dir.exists());
}

#[test]
fn a_self_signed_ca_leaf_registry_works_with_skopeo_for_docker_and_containers() {
    let env = TestEnv::new();
    let cert = pki::self_signed_ca_leaf(&["127.0.0.1"]);
    let reg = tls_registry(cert.clone(), &cert.cert, None, false);
    let docker = env.certs_dir.join(&reg.host);
    let containers = env.containers_certs_dir.join(&reg.host);
    assert_unknown_authority(&skopeo_inspect(&env, &reg, &containers, false));

    let pin = fp(&cert.der);
    let mut args = pinned(&reg.host, &pin).to_vec();
    args.push("--containers");
    let (doc, code) = env.json(&args);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["files"].as_array().unwrap().len(), 2);
    assert!(doc["notes"][0].as_str().unwrap().contains("self-signed"));
    assert_eq!(
        fs::read(docker.join("ca.crt")).unwrap(),
        fs::read(containers.join("ca.crt")).unwrap()
    );
    assert_ok(&skopeo_inspect(&env, &reg, &containers, false), &reg);
    assert_ok(&skopeo_inspect(&env, &reg, &docker, false), &reg);

    // The same certificate from a file is the same content: nothing changes.
    let file = put(&env, "self.pem", &cert.cert);
    let (doc, _) = env.json(&["trust-ca", &reg.host, &file, "--containers"]);
    assert_eq!(doc["changed"], false, "{doc}");
}

#[test]
fn mtls_client_pair_lets_skopeo_in_and_a_foreign_key_is_refused() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl mtls CA");
    let reg = tls_registry(ca.server(&["127.0.0.1"]), &ca.pem.cert, Some(&ca), false);
    let folder = env.certs_dir.join(&reg.host);
    let ca_file = put(&env, "ca.pem", &ca.pem.cert);
    let (_, code) = env.json(&["trust-ca", &reg.host, &ca_file]);
    assert_eq!(code, 0);
    let run = skopeo_inspect(&env, &reg, &folder, false);
    assert_ne!(run.code, 0, "the registry requires a client certificate");
    assert!(
        run.stderr.contains("tls: bad certificate"),
        "{}",
        run.stderr
    );

    let me = ca.client("me");
    let other = ca.client("other");
    let cert = put(&env, "me.cert", &me.cert);
    let foreign_key = put(&env, "other.key", &other.key);
    let before = tree_state(&env.certs_dir);
    let run = env.run(&pair_args(&reg.host, Some(&ca_file), &cert, &foreign_key));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("other.key does not belong to") && run.stderr.contains("me.cert"),
        "{}",
        run.stderr
    );
    assert_eq!(tree_state(&env.certs_dir), before);

    let key = put(&env, "me.key", &me.key);
    let args = pair_args(&reg.host, Some(&ca_file), &cert, &key);
    let mut with_diff = args.clone();
    with_diff.push("--diff");
    let (doc, code) = env.json(&with_diff);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert_eq!(doc["client_certificate"]["sha256"], fp(&me.der));
    assert_eq!(mode(&folder.join("client.cert")), 0o644);
    assert_eq!(mode(&folder.join("client.key")), 0o600);
    // Diffs show fingerprints, never key material.
    let diff = doc["diff"].to_string();
    assert!(
        diff.contains("public key SHA256") && !diff.contains("PRIVATE KEY"),
        "{diff}"
    );
    assert_ok(&skopeo_inspect(&env, &reg, &folder, false), &reg);

    let before = tree_state(&env.certs_dir);
    let (doc, _) = env.json(&args);
    assert_eq!(doc["changed"], false, "{doc}");
    assert_eq!(tree_state(&env.certs_dir), before);
}

#[test]
fn der_is_written_as_pem_check_writes_nothing_and_diff_shows_fingerprints() {
    let env = TestEnv::new();
    let old = TestCa::new("regctl old CA");
    let new = TestCa::new("regctl new CA");
    let host = "registry.example.com:5000";
    let folder = env.certs_dir.join(host);
    let der = put(&env, "new.der", &new.pem.der);
    let (doc, code) = env.json(&["trust-ca", host, &der, "--check", "--diff"]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["changed"], true);
    assert!(doc["msg"].as_str().unwrap().starts_with("would write"));
    assert!(doc["diff"][0]["after"]
        .as_str()
        .unwrap()
        .contains(&fp(&new.pem.der)));
    assert!(!env.certs_dir.exists(), "--check must create nothing");

    let old_file = put(&env, "old.pem", &old.pem.cert);
    env.json(&["trust-ca", host, &old_file]);
    let run = env.run(&["trust-ca", host, &der, "--diff"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let written = fs::read_to_string(folder.join("ca.crt")).unwrap();
    assert!(written.starts_with("-----BEGIN CERTIFICATE-----\n"));
    let parsed = regctl::files::certs_dir::x509::parse_bundle(written.as_bytes()).unwrap();
    assert_eq!(parsed.certs[0].der, new.pem.der);
    let text = format!("stdout:\n{}\nstderr:\n{}", run.stdout, run.stderr)
        .replace(&fp(&old.pem.der), "[OLD-SHA256]")
        .replace(&fp(&new.pem.der), "[NEW-SHA256]");
    insta::assert_snapshot!("trust_ca_replace_diff", env.redact(&text));
}

#[test]
fn bad_ca_files_are_refused_and_nothing_is_written() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl good CA");
    let host = "registry.example.com:5000";
    let good = put(&env, "good.pem", &ca.pem.cert);
    assert_eq!(env.run(&["trust-ca", host, &good]).code, 0);
    let expired = TestCa::with_validity("regctl expired CA", (2019, 1, 1), (2020, 1, 1));
    let future = TestCa::with_validity("regctl future CA", days_from_now(400), (2099, 1, 1));
    let truncated: String = ca.pem.cert.lines().take(3).collect::<Vec<_>>().join("\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "key.pem",
            ca.pem.key.clone().into_bytes(),
            "holds a private key",
        ),
        (
            "pub.pem",
            b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n".to_vec(),
            "holds a PUBLIC KEY block, not a CERTIFICATE",
        ),
        ("garbage.crt", b"hello, world\n".to_vec(), "is neither PEM"),
        ("empty.pem", Vec::new(), "is empty"),
        ("truncated.pem", truncated.into_bytes(), "is not valid PEM"),
        (
            "expired.pem",
            expired.pem.cert.clone().into_bytes(),
            "expired on 2020-01-01",
        ),
        (
            "future.pem",
            future.pem.cert.clone().into_bytes(),
            "is not valid before",
        ),
        (
            "leaf.pem",
            ca.server(&["registry.example.com"]).cert.into_bytes(),
            "is a server certificate, not a CA",
        ),
    ];
    let before = tree_state(&env.certs_dir);
    for (name, bytes, words) in &cases {
        let file = put(&env, name, bytes);
        let run = env.run(&["trust-ca", host, &file]);
        assert_eq!(run.code, 1, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(&file) && run.stderr.contains(words),
            "{name}: expected {words:?} in {}",
            run.stderr
        );
        assert_eq!(tree_state(&env.certs_dir), before, "{name} changed certs.d");
    }
    let missing = env.path("missing.pem").display().to_string();
    let run = env.run(&["trust-ca", host, &missing]);
    assert!(run.code == 1 && run.stderr.contains("cannot read") && run.stderr.contains(&missing));

    // The leaf's refusal says which CA is needed.
    let run = env.run(&[
        "trust-ca",
        host,
        &env.path("leaf.pem").display().to_string(),
    ]);
    assert!(run.stderr.contains("CN=regctl good CA"), "{}", run.stderr);
    // --force writes an expired CA, with a warning.
    let (doc, code) = env.json(&[
        "trust-ca",
        host,
        &env.path("expired.pem").display().to_string(),
        "--force",
    ]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert!(doc["warnings"][0].as_str().unwrap().contains("--force"));
}

#[test]
fn bad_client_pairs_are_refused_and_nothing_is_written() {
    let openssl = require_tool("openssl");
    let env = TestEnv::new();
    let ca = TestCa::new("regctl client CA");
    let me = ca.client("me");
    let host = "registry.example.com";
    let cert = put(&env, "me.cert", &me.cert);
    let plain = put(&env, "me.key", &me.key);
    let encrypted = env.path("me-enc.key").display().to_string();
    output_ok(Command::new(openssl).args([
        "pkcs8",
        "-topk8",
        "-v2",
        "aes256",
        "-passout",
        "pass:secret",
        "-in",
        &plain,
        "-out",
        &encrypted,
    ]));
    let key_as_cert = put(&env, "key-as-cert.pem", &me.key);
    let before = tree_state(env.dir.path());
    for (c, k, words) in [
        (&cert, &encrypted, "is an encrypted private key"),
        (&cert, &cert, "holds no private key"),
        (&key_as_cert, &plain, "holds a private key"),
    ] {
        let run = env.run(&pair_args(host, None, c, k));
        assert_eq!(run.code, 1, "{}", run.stderr);
        assert!(
            run.stderr.contains(words),
            "expected {words:?}: {}",
            run.stderr
        );
        assert_eq!(tree_state(env.dir.path()), before);
    }
    let run = env.run(&pair_args(host, None, &cert, &encrypted));
    assert!(run.stderr.contains("hint: decrypt it"), "{}", run.stderr);
    // A client pair alone (for a registry with a public CA) is fine.
    let (doc, code) = env.json(&pair_args(host, None, &cert, &plain));
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert!(!env.certs_dir.join(host).join("ca.crt").exists());
}

/// Found by the certs_pem fuzz target: `-----BEGIN ` inside other text made a file look like PEM
/// with no block in it, which parsed as an empty bundle: as a CA it was written as an empty
/// ca.crt, as a client certificate regctl panicked (index out of bounds).
#[test]
fn a_pem_marker_without_a_certificate_is_refused_as_ca_and_as_client_cert() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl client CA");
    let host = "registry.example.com";
    let weird = put(&env, "weird.pem", b"0-----BEGIN ");
    let key = put(&env, "me.key", ca.client("me").key);
    let before = tree_state(env.dir.path());
    for args in [
        vec!["trust-ca", host, weird.as_str()],
        pair_args(host, None, &weird, &key),
    ] {
        let run = env.run(&args);
        assert_eq!(run.code, 1, "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.contains(&weird) && run.stderr.contains("is not valid PEM"),
            "{args:?}: {}",
            run.stderr
        );
        assert_eq!(
            tree_state(env.dir.path()),
            before,
            "{args:?} wrote something"
        );
    }
}

#[test]
fn registry_names_that_could_escape_certs_d_are_refused() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl CA");
    let file = put(&env, "ca.pem", &ca.pem.cert);
    let before = tree_state(env.dir.path());
    for bad in [
        "..",
        "../evil",
        "a/b",
        "host/../../etc",
        "",
        " ",
        "bad_host!",
        "host:99999",
        "ftp://host",
        // Found by the registry_name fuzz target: text after `]` used to be ignored.
        "[::1]x:5000",
        "[::]h",
        // Issue 12: the reference grammar's port is digits; port 0 cannot be reached; an IPv6
        // address needs brackets (trust-ca used to create certs.d/r.io:+5000).
        "r.io:+5000",
        "r.io:0",
        "::1",
        "fe80::1",
    ] {
        let run = env.run(&["trust-ca", bad, &file]);
        assert_eq!(run.code, 1, "{bad:?}: {}", run.stderr);
        assert!(
            run.stderr.contains("is not a registry name"),
            "{bad:?}: {}",
            run.stderr
        );
        assert_eq!(
            tree_state(env.dir.path()),
            before,
            "{bad:?} wrote something"
        );
    }
    let run = env.run(&["trust-ca", "docker.io", &file]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("Docker Hub") && run.stderr.contains("update-ca-certificates"),
        "{}",
        run.stderr
    );
    // Forms users paste are accepted and land in the host[:port] folder.
    let (doc, code) = env.json(&["trust-ca", "https://r.example.com:5000/v2/", &file]);
    assert_eq!(code, 0, "{doc}");
    assert!(env.certs_dir.join("r.example.com:5000/ca.crt").exists());
    let (_, code) = env.json(&["trust-ca", "[::1]:5000", &file]);
    assert_eq!(code, 0);
    assert!(env.certs_dir.join("[::1]:5000/ca.crt").exists());
}

#[test]
fn remove_takes_only_what_regctl_wrote() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl CA");
    let me = ca.client("me");
    let host = "registry.example.com:5000";
    let (ca_file, cert, key) = (
        put(&env, "ca.pem", &ca.pem.cert),
        put(&env, "me.cert", &me.cert),
        put(&env, "me.key", &me.key),
    );
    let mut args = pair_args(host, Some(&ca_file), &cert, &key);
    args.push("--containers");
    let (doc, code) = env.json(&args);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    let docker: PathBuf = env.certs_dir.join(host);
    let containers = env.containers_certs_dir.join(host);
    fs::write(docker.join("extra.crt"), &ca.pem.cert).unwrap();

    let before = tree_state(env.dir.path());
    let (doc, _) = env.json(&["trust-ca", host, "--remove", "--containers", "--check"]);
    assert_eq!(doc["changed"], true);
    assert!(doc["msg"].as_str().unwrap().starts_with("would remove"));
    assert_eq!(tree_state(env.dir.path()), before);

    let (doc, code) = env.json(&["trust-ca", host, "--remove", "--containers"]);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    let left: Vec<_> = fs::read_dir(&docker)
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, ["extra.crt"], "a file regctl did not write stays");
    assert!(!containers.exists(), "an emptied folder is removed");
    assert_eq!(doc["removed_dirs"], serde_json::json!([containers]));

    let (doc, _) = env.json(&["trust-ca", host, "--remove", "--containers"]);
    assert_eq!(doc["changed"], false, "{doc}");
}

#[test]
fn permission_denied_suggests_the_same_command_with_sudo() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl CA");
    let file = put(&env, "ca.pem", &ca.pem.cert);
    fs::create_dir_all(&env.certs_dir).unwrap();
    let mut cmd = if is_root() {
        // root writes anywhere: run as nobody against the root-owned certs.d, as a user would.
        for dir in [
            env.dir.path(),
            env.certs_dir.parent().unwrap().parent().unwrap(),
            env.certs_dir.parent().unwrap(),
        ] {
            fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
        }
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        let mut c = Command::new(require_tool("setpriv"));
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(crate::support::regctl_bin());
        c
    } else {
        fs::set_permissions(&env.certs_dir, fs::Permissions::from_mode(0o555)).unwrap();
        Command::new(crate::support::regctl_bin())
    };
    cmd.env_clear();
    for (k, v) in env.env_vars() {
        cmd.env(k, v);
    }
    let run = Run::from(
        cmd.args(["trust-ca", "r.example.com", &file])
            .output()
            .unwrap(),
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(run.stderr.contains("Permission denied"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("hint: sudo regctl trust-ca r.example.com {file}")),
        "{}",
        run.stderr
    );
    assert!(!env.certs_dir.join("r.example.com").exists());
}

#[test]
fn a_server_leaf_in_a_bundle_and_validity_of_client_certs() {
    // A full chain given as CA_FILE holds the server's own certificate: refused, naming it.
    let env = TestEnv::new();
    let ca = TestCa::new("regctl CA");
    let leaf = ca.server_with(&["r.example.com"], Validity::Current);
    let bundle = put(
        &env,
        "fullchain.pem",
        format!("{}{}", leaf.cert, ca.pem.cert),
    );
    let run = env.run(&["trust-ca", "r.example.com", &bundle]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("CN=r.example.com is a server certificate"),
        "{}",
        run.stderr
    );
    // An expired client certificate is refused like an expired CA.
    let old = ca.server_with(&["me"], Validity::Expired);
    let (cert, key) = (
        put(&env, "old.cert", &old.cert),
        put(&env, "old.key", &old.key),
    );
    let run = env.run(&pair_args("r.example.com", None, &cert, &key));
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("expired on 2021-01-01") && run.stderr.contains("hint:"),
        "{}",
        run.stderr
    );
    assert!(!env.certs_dir.exists());
}

#[test]
fn from_server_explains_plain_http_and_nothing_listening() {
    let env = TestEnv::new();
    let plain = Registry::start(RegistryOptions::default());
    let run = env.run(&["trust-ca", &plain.host, "--from-server"]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("does not speak TLS"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains(&format!("hint: a plain HTTP registry has no certificate; to use it anyway: regctl insecure add {}", plain.host)),
        "{}",
        run.stderr
    );
    let closed = format!("127.0.0.1:{}", crate::support::registry::free_port());
    let run = env.run(&["trust-ca", &closed, "--from-server"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains(&format!("cannot connect to {closed}")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: check that the registry runs"),
        "{}",
        run.stderr
    );
    assert!(!env.certs_dir.exists());
}

/// Runs regctl on a pseudo-terminal (util-linux `script`), typing `answer` at the prompt.
fn run_on_terminal(env: &TestEnv, args: &[&str], answer: &str) -> Run {
    let mut line = crate::support::regctl_bin().display().to_string();
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    line.push_str("; echo EXIT=$?");
    let mut cmd = Command::new(require_tool("script"));
    cmd.args(["-qec", &line, "/dev/null"]).env_clear();
    for (k, v) in env.env_vars() {
        cmd.env(k, v);
    }
    let text = crate::support::run_with_stdin(&mut cmd, answer).stdout;
    let code = text
        .rsplit_once("EXIT=")
        .and_then(|(_, c)| c.trim().parse().ok())
        .unwrap_or(-1);
    Run {
        stdout: text,
        stderr: String::new(),
        code,
    }
}

#[test]
fn on_a_terminal_from_server_shows_the_certificate_and_asks() {
    let env = TestEnv::new();
    let cert = pki::self_signed_ca_leaf(&["127.0.0.1"]);
    let reg = tls_registry(cert.clone(), &cert.cert, None, false);
    let folder = env.certs_dir.join(&reg.host);

    let run = run_on_terminal(&env, &["trust-ca", &reg.host, "--from-server"], "n\n");
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.stdout.contains(&fp(&cert.der)), "{}", run.stdout);
    assert!(
        run.stdout.contains("was declined; nothing was written"),
        "{}",
        run.stdout
    );
    assert!(!folder.exists());

    let run = run_on_terminal(&env, &["trust-ca", &reg.host, "--from-server"], "y\n");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("Trust it for"), "{}", run.stdout);
    assert_ok(&skopeo_inspect(&env, &reg, &folder, false), &reg);
}

/// The first problem with this id in `certs list -o json`'s folder for `host`.
fn certs_problem(env: &TestEnv, host: &str, id: &str) -> Value {
    let (doc, code) = env.json(&["certs", "list", host]);
    assert_eq!(code, 0, "{doc}");
    doc["registries"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("no {id} in {doc}"))
}

#[test]
fn a_leaf_only_registry_shows_the_leaf_and_pinning_it_writes_ca_crt_that_skopeo_uses() {
    let env = TestEnv::new();
    let ca = TestCa::new("regctl unsent CA");
    let leaf = ca.server(&["127.0.0.1"]);
    let reg = tls_registry(leaf.clone(), &ca.pem.cert, None, false);
    let folder = env.certs_dir.join(&reg.host);
    let leaf_fp = fp(&leaf.der);
    let sandbox = tree_state(env.dir.path());

    // No pin: refused, and the refusal lists what was presented with its fingerprint.
    let run = env.run(&["trust-ca", &reg.host, "--from-server"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("sent only its own certificate")
            && run
                .stderr
                .contains("presented 1/1: CN=127.0.0.1; issuer CN=regctl unsent CA")
            && run.stderr.contains(&format!("SHA-256 {leaf_fp}"))
            && run.stderr.contains("not a CA (a server certificate)")
            && run.stderr.contains("names no CA Issuers (AIA) URL"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(&format!("--from-server --fingerprint {leaf_fp}")),
        "{}",
        run.stderr
    );
    let (doc, code) = env.json(&["trust-ca", &reg.host, "--from-server"]);
    assert_eq!((code, &doc["failed"]), (1, &Value::Bool(true)), "{doc}");
    assert_eq!(doc["presented"][0]["sha256"], leaf_fp.as_str());
    assert_eq!(doc["presented"][0]["ca"], false);
    assert_eq!(doc["presented"][0]["not_after"], "2099-01-01T00:00:00Z");
    assert_eq!(tree_state(env.dir.path()), sandbox);

    // A wrong pin writes nothing.
    let (doc, code) = env.json(&pinned(&reg.host, &fp(b"not it")));
    assert_eq!(code, 1, "{doc}");
    assert_eq!(doc["presented"][0]["sha256"], leaf_fp.as_str());
    assert_eq!(tree_state(env.dir.path()), sandbox);

    // The leaf's own pin: written as ca.crt, with the renewal warning and its expiry.
    let (doc, code) = env.json(&pinned(&reg.host, &leaf_fp));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["pinned_leaf"], true);
    assert_eq!(doc["certificates"][0]["sha256"], leaf_fp.as_str());
    let warning = doc["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w.as_str().unwrap().contains("trusting exactly"))
        .unwrap_or_else(|| panic!("{doc}"))
        .to_string();
    assert!(
        warning.contains("expires on 2099-01-01") && warning.contains("run trust-ca again"),
        "{warning}"
    );
    let written =
        regctl::files::certs_dir::x509::parse_bundle(&fs::read(folder.join("ca.crt")).unwrap())
            .unwrap();
    assert_eq!(written.certs.len(), 1);
    assert_eq!(written.certs[0].der, leaf.der);
    // Go (skopeo here, dockerd alike) trusts a certificate that is itself in the root pool.
    assert_ok(&skopeo_inspect(&env, &reg, &folder, false), &reg);

    // certs list and doctor report the pinned leaf with its expiry.
    let p = certs_problem(&env, &reg.host, "certs.pinned_leaf");
    assert_eq!(p["severity"], "warning");
    assert!(
        p["message"]
            .as_str()
            .unwrap()
            .contains("expires on 2099-01-01"),
        "{p}"
    );
    let (doc, _) = env.json(&["doctor", &reg.host, "--timeout", "5"]);
    let lint = doc["registries"][0]["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("{doc}"))
        .iter()
        .find(|c| c["id"] == "certs.lint")
        .unwrap_or_else(|| panic!("{doc}"))
        .clone();
    assert!(
        lint["message"]
            .as_str()
            .unwrap()
            .contains("certs.pinned_leaf")
            && lint["message"].as_str().unwrap().contains("2099-01-01"),
        "{lint}"
    );
}

#[test]
fn a_leaf_whose_intermediate_is_only_at_its_aia_url_gets_the_chain_built() {
    use crate::support::hostile::{response, Hostile, Reply};
    use std::sync::{Arc, Mutex};
    let env = TestEnv::new();
    let root = TestCa::new("regctl AIA root");
    let root_der = root.pem.der.clone();
    // The issuers are served as DER (what CA Issuers URLs hold), nowhere else: the
    // intermediate at /inter.cer, and the root at /root.cer, which the intermediate names.
    let served = Arc::new(Mutex::new(Vec::<u8>::new()));
    let served2 = served.clone();
    let aia = Hostile::plain(move |seen| {
        let der = match seen.target.as_str() {
            "/inter.cer" => served2.lock().unwrap().clone(),
            "/root.cer" => root_der.clone(),
            _ => return response("404 Not Found", &[], ""),
        };
        let mut bytes = format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-cert\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            der.len()
        )
        .into_bytes();
        bytes.extend(der);
        Reply::Bytes(bytes)
    });
    let inter = root.intermediate(
        "regctl AIA intermediate",
        Some(&format!("http://{}/root.cer", aia.host)),
    );
    *served.lock().unwrap() = inter.pem.der.clone();
    let url = format!("http://{}/inter.cer", aia.host);
    let leaf = inter.server_with_aia(&["127.0.0.1"], &url);
    let seed_trust = format!("{}{}", inter.pem.cert, root.pem.cert);
    let reg = tls_registry(leaf.clone(), &seed_trust, None, false);
    let folder = env.certs_dir.join(&reg.host);
    let sandbox = tree_state(env.dir.path());

    // Without a pin: the chain is built and the root's fingerprint asked for.
    let (doc, code) = env.json(&["trust-ca", &reg.host, "--from-server"]);
    assert_eq!(code, 1, "{doc}");
    assert!(
        doc["msg"].as_str().unwrap().contains(&fp(&root.pem.der)),
        "{doc}"
    );
    assert_eq!(doc["presented"].as_array().unwrap().len(), 1);
    assert_eq!(
        doc["fetched"][0]["certificate"]["sha256"],
        fp(&inter.pem.der)
    );
    assert_eq!(
        doc["fetched"][1]["certificate"]["sha256"],
        fp(&root.pem.der)
    );
    assert_eq!(tree_state(env.dir.path()), sandbox);

    // The root's pin: ca.crt holds the downloaded chain (intermediate and root).
    let (doc, code) = env.json(&pinned(&reg.host, &fp(&root.pem.der)));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["pinned_leaf"], false);
    assert_eq!(doc["fetched"][0]["url"], url.as_str());
    let certs: Vec<&str> = doc["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["sha256"].as_str().unwrap())
        .collect();
    assert_eq!(certs, [fp(&inter.pem.der), fp(&root.pem.der)]);
    assert!(doc["notes"][0].as_str().unwrap().contains(&url), "{doc}");
    let seen: Vec<String> = aia.requests().into_iter().map(|s| s.target).collect();
    assert!(
        seen.contains(&"/inter.cer".to_string()) && seen.contains(&"/root.cer".to_string()),
        "{seen:?}"
    );
    assert_ok(&skopeo_inspect(&env, &reg, &folder, false), &reg);

    // An AIA URL that does not hold the issuer: the refusal names the missing certificate.
    let broken = format!("http://{}/missing.cer", aia.host);
    let leaf2 = inter.server_with_aia(&["127.0.0.1"], &broken);
    let reg2 = tls_registry(leaf2, &seed_trust, None, false);
    let run = env.run(&pinned(&reg2.host, &fp(&root.pem.der)));
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("issued by CN=regctl AIA intermediate")
            && run.stderr.contains("with authority key id ")
            && run.stderr.contains(&format!("{broken} answered 404")),
        "{}",
        run.stderr
    );
    assert!(!env.certs_dir.join(&reg2.host).exists());
}

/// A Bearer registry (CA A) whose token realm is another host:port with a certificate from
/// another private CA (B): trust-ca follows the realm, says the token request would fail, and
/// `--with-realm` pins B into the registry's folder, which skopeo (like dockerd's classic store)
/// uses for the token request too.
#[test]
fn a_token_realm_on_another_host_is_checked_and_with_realm_trusts_it() {
    use crate::support::token_server::TokenServer;
    let env = TestEnv::new();
    let reg_ca = TestCa::new("regctl registry CA");
    let realm_ca = TestCa::new("regctl realm CA");
    let tokens = TokenServer::start(&realm_ca, &[("alice", "s3cret")]);
    let leaf = reg_ca.server(&["127.0.0.1"]);
    let chain = Pem {
        cert: format!("{}{}", leaf.cert, reg_ca.pem.cert),
        ..leaf
    };
    let reg = Registry::start(RegistryOptions {
        tls: Some(chain),
        token: Some(tokens.registry_auth(&realm_ca)),
        ..Default::default()
    });
    let seed = reg.dir.path().join("seed-certs");
    fs::create_dir_all(&seed).unwrap();
    fs::write(
        seed.join("ca.crt"),
        format!("{}{}", reg_ca.pem.cert, realm_ca.pem.cert),
    )
    .unwrap();
    reg.seed_image(REPO, TAG, Some("alice:s3cret"), Some(&seed));
    let folder = env.certs_dir.join(&reg.host);
    let reg_pin = fp(&reg_ca.pem.der);

    // Without --with-realm: the registry's CA is written, and the realm named as the next failure.
    let (doc, code) = env.json(&pinned(&reg.host, &reg_pin));
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["realm"]["url"], tokens.realm.as_str());
    assert_eq!(doc["realm"]["trusted"], false);
    assert_eq!(
        doc["realm"]["presented"][0]["issuer"],
        "CN=regctl realm CA, O=regctl tests"
    );
    let warning = doc["warnings"].to_string();
    assert!(
        warning.contains("the token realm") && warning.contains("--with-realm --realm-fingerprint"),
        "{warning}"
    );
    let run = skopeo_inspect(&env, &reg, &folder, true);
    assert_ne!(
        run.code, 0,
        "the token request must fail on the realm's certificate"
    );
    assert!(run.stderr.contains("unknown authority"), "{}", run.stderr);

    // The token server sends only its own certificate: that is what can be pinned.
    let realm_pin = doc["realm"]["presented"][0]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(doc["realm"]["presented"].as_array().unwrap().len(), 1);

    // A wrong realm pin: refused, nothing written, and the hint pins with --realm-fingerprint.
    let before = tree_state(env.dir.path());
    let mut args = pinned(&reg.host, &reg_pin).to_vec();
    args.extend(["--with-realm", "--realm-fingerprint", &reg_pin]);
    let (doc, code) = env.json(&args);
    assert_eq!(code, 1, "{doc}");
    assert!(doc["msg"].as_str().unwrap().contains(&realm_pin), "{doc}");
    let hint = doc["hint"].as_str().unwrap();
    assert!(
        hint.ends_with(&format!("--realm-fingerprint {realm_pin}"))
            && !hint.contains(&format!("--realm-fingerprint {reg_pin}")),
        "{hint}"
    );
    assert_eq!(
        doc["presented"][0]["issuer"],
        "CN=regctl realm CA, O=regctl tests"
    );
    assert_eq!(tree_state(env.dir.path()), before);

    // The realm's pin: its CA lands in the registry's folder and the token request works.
    let mut args = pinned(&reg.host, &reg_pin).to_vec();
    args.extend(["--with-realm", "--realm-fingerprint", &realm_pin]);
    let (doc, code) = env.json(&args);
    assert_eq!((code, &doc["changed"]), (0, &Value::Bool(true)), "{doc}");
    assert_eq!(
        doc["realm"]["certificates"][0]["sha256"],
        realm_pin.as_str()
    );
    let realm_file = regctl::files::certs_dir::x509::parse_bundle(
        &fs::read(folder.join("realm-ca.crt")).unwrap(),
    )
    .unwrap();
    assert_eq!(realm_file.certs[0].sha256.to_string(), realm_pin);
    assert_ok(&skopeo_inspect(&env, &reg, &folder, true), &reg);

    // A rerun without --with-realm keeps it and finds the realm trusted; --remove takes it too.
    let (doc, _) = env.json(&pinned(&reg.host, &reg_pin));
    assert_eq!(doc["changed"], false, "{doc}");
    assert_eq!(doc["realm"]["trusted"], true, "{doc}");
    let (doc, _) = env.json(&["trust-ca", &reg.host, "--remove"]);
    assert_eq!(doc["changed"], true, "{doc}");
    assert!(!folder.exists());
}

#[test]
fn a_malformed_fingerprint_is_refused_before_any_connection() {
    let env = TestEnv::new();
    // A loopback port that records whether anyone connected (nothing is ever answered).
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let host = format!("127.0.0.1:{}", listener.local_addr().unwrap().port());
    let before = tree_state(env.dir.path());
    for bad in ["zz", "3F:A1", "sha256:", &"ab".repeat(33)] {
        let run = env.run(&["trust-ca", &host, "--from-server", "--fingerprint", bad]);
        assert_eq!(run.code, 1, "{bad:?}: {run:?}");
        assert!(
            run.stderr.contains("is not a SHA-256 fingerprint"),
            "{bad:?}: {}",
            run.stderr
        );
        // A name that does not resolve fails the same way: no DNS lookup came first.
        let run = env.run(&[
            "trust-ca",
            "registry.regctl-test.invalid",
            "--from-server",
            "--fingerprint",
            bad,
        ]);
        assert!(
            run.stderr.contains("is not a SHA-256 fingerprint"),
            "{bad:?}: {}",
            run.stderr
        );
    }
    assert!(
        listener.accept().is_err(),
        "trust-ca connected before checking the fingerprint"
    );
    assert_eq!(tree_state(env.dir.path()), before);
}

#[test]
fn trust_ca_containers_is_all_or_nothing() {
    let ca = TestCa::new("regctl CA");
    let client = ca.client("robot");
    let host = "r.example.com";
    // The second root (podman's) fails while it is checked: its folder is a file.
    let env = TestEnv::new();
    let file = put(&env, "ca.pem", &ca.pem.cert);
    fs::create_dir_all(&env.containers_certs_dir).unwrap();
    fs::write(env.containers_certs_dir.join(host), "not a folder").unwrap();
    let before = tree_state(env.dir.path());
    let run = env.run(&["trust-ca", host, &file, "--containers"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("is not a directory"), "{}", run.stderr);
    assert_eq!(tree_state(env.dir.path()), before);

    // It fails while written: its client.key leads into /proc, where nothing can be written.
    // docker's folder (ca.crt, client.cert written by then) and podman's client.cert and a
    // changed ca.crt are all put back.
    let env = TestEnv::new();
    let file = put(&env, "ca.pem", &ca.pem.cert);
    let cert = put(&env, "client.pem", &client.cert);
    let key = put(&env, "client-key.pem", &client.key);
    let other = TestCa::new("the CA podman had");
    let podman = env.containers_certs_dir.join(host);
    fs::create_dir_all(&podman).unwrap();
    fs::write(podman.join("ca.crt"), &other.pem.cert).unwrap();
    std::os::unix::fs::symlink("/proc/version", podman.join("client.key")).unwrap();
    let before = tree_state(env.dir.path());
    let mut args = pair_args(host, Some(&file), &cert, &key);
    args.push("--containers");
    let run = env.run(&args);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stderr.contains("client.key"), "{}", run.stderr);
    assert_eq!(tree_state(env.dir.path()), before);
    assert!(!env.certs_dir.exists(), "docker's certs.d was left behind");
}
