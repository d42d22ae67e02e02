//! `trust-ca` cases from the real-dockerd fixture (tests/support/dockerd.rs) that need the real
//! daemon's verdict: a registry that sends only its own CA-issued certificate, pinned as ca.crt;
//! a Bearer registry whose token realm is another host with a certificate from another CA.

use std::fs;
use std::path::Path;
use std::process::Command;

use regctl::files::certs_dir::x509::Fingerprint;
use serde_json::Value;

use crate::docker_real::{assert_pull_fails, assert_pulls, ok};
use crate::support::dockerd::{Dockerd, Mode, Started};
use crate::support::netns::NetnsHost;
use crate::support::pki::TestCa;
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::token_server::TokenServer;
use crate::support::{output_ok, TestEnv};

const NAME: &str = "leaf-only.regctl.test";

/// A leaf-only TLS registry: every dockerd mode refuses it (x509), a wrong pin writes nothing,
/// the leaf's own pin writes ca.crt and then the real pull works.
#[test]
fn a_pinned_leaf_makes_docker_pull_work_in_every_mode() {
    let host = NetnsHost::new();
    let ca = TestCa::new("regctl unsent dockerd CA");
    let leaf = ca.server(&[NAME, &host.ip]);
    let registry = Registry::start_in(
        RegistryOptions {
            tls: Some(leaf.clone()),
            ..Default::default()
        },
        &host,
    );
    let seed = registry.dir.path().join("seed-certs");
    std::fs::create_dir_all(&seed).unwrap();
    std::fs::write(seed.join("ca.crt"), &ca.pem.cert).unwrap();
    registry.seed_image("test/hello", "v1", None, Some(&seed));
    let name = format!("{NAME}:{}", registry.port);
    let image = format!("{name}/test/hello:v1");
    let env = TestEnv::new();
    let pin = Fingerprint::of(&leaf.der).to_string();
    let wrong = Fingerprint::of(&ca.pem.der).to_string();
    for mode in Mode::ALL {
        let d = Dockerd::start_with_hosts(mode, &[(NAME, &host.ip)]);
        let folder = d.etc_docker.join("certs.d").join(&name);
        assert_pull_fails(&d, &env, &image, "x509");
        let run = d.regctl(
            &env,
            &["trust-ca", &name, "--from-server", "--fingerprint", &wrong],
        );
        assert_eq!(run.code, 1, "{}: {}", mode.label(), run.stderr);
        assert!(run.stderr.contains(&pin), "{}", run.stderr);
        assert!(
            !folder.exists(),
            "{}: a wrong pin wrote {folder:?}",
            mode.label()
        );
        ok(
            &d,
            &env,
            &["trust-ca", &name, "--from-server", "--fingerprint", &pin],
        );
        assert!(folder.join("ca.crt").is_file());
        assert_pulls(
            &d,
            &env,
            &image,
            "trust-ca --from-server --fingerprint LEAF",
        );
    }
}

const REALM_REGISTRY: &str = "bearer.regctl.test";

/// `docker pull` fails, and on the token realm's certificate.
fn assert_fails_on_realm(d: &Dockerd, env: &TestEnv, image: &str, realm_host: &str) {
    let run = assert_pull_fails(d, env, image, "x509");
    assert!(
        run.stderr.contains(realm_host),
        "{}: expected an x509 failure on {realm_host}: {}",
        d.mode.label(),
        run.stderr
    );
}

/// The OS trust store of the dockerd namespace made the test's own: copies of /etc/ssl/certs
/// and /usr/local/share/ca-certificates bind-mounted over the real ones inside the namespace,
/// so `trust-ca --system` there runs the real update-ca-certificates on the real paths without
/// touching the machine's.
fn private_trust_store(d: &Dockerd, env: &TestEnv) {
    let certs = env.path("ns-ssl-certs");
    let local = env.path("ns-local-ca");
    fs::create_dir_all(&local).unwrap();
    output_ok(
        Command::new("cp")
            .arg("-a")
            .arg("/etc/ssl/certs/.")
            .arg(&certs),
    );
    output_ok(
        Command::new("cp")
            .arg("-a")
            .arg("/usr/local/share/ca-certificates/.")
            .arg(&local),
    );
    for (src, dst) in [
        (&certs, "/etc/ssl/certs"),
        (&local, "/usr/local/share/ca-certificates"),
    ] {
        output_ok(
            d.command(Path::new("/bin/mount"))
                .arg("--bind")
                .arg(src)
                .arg(dst),
        );
    }
}

/// A Bearer registry (CA A, on a test network namespace) whose token realm is another host
/// (the token server on 127.0.0.1) with a certificate from another private CA (B). In every
/// mode the pull fails on the realm with only A trusted. Classic store: `--with-realm` puts B's
/// certificate into the registry's folder and the real pull works. Containerd store: that file
/// does not help (its token request uses only the system roots, as observed); `--with-realm`
/// there installs into the OS trust store (the namespace's own), and after a dockerd restart the
/// real pull works.
#[test]
fn a_token_realm_on_another_host_is_fixed_by_with_realm_in_each_image_store() {
    let host = NetnsHost::new();
    let reg_ca = TestCa::new("regctl bearer registry CA");
    let realm_ca = TestCa::new("regctl bearer realm CA");
    let tokens = TokenServer::start(&realm_ca, &[("alice", "s3cret")]);
    let mut chain = reg_ca.server(&[REALM_REGISTRY, &host.ip]);
    chain.cert.push_str(&reg_ca.pem.cert);
    let registry = Registry::start_in(
        RegistryOptions {
            tls: Some(chain),
            token: Some(tokens.registry_auth(&realm_ca)),
            ..Default::default()
        },
        &host,
    );
    let seed = registry.dir.path().join("seed-certs");
    fs::create_dir_all(&seed).unwrap();
    fs::write(
        seed.join("ca.crt"),
        format!("{}{}", reg_ca.pem.cert, realm_ca.pem.cert),
    )
    .unwrap();
    registry.seed_image("test/hello", "v1", Some("alice:s3cret"), Some(&seed));
    let name = format!("{REALM_REGISTRY}:{}", registry.port);
    let image = format!("{name}/test/hello:v1");
    let realm_host = format!("127.0.0.1:{}", tokens.port);
    let reg_pin = Fingerprint::of(&reg_ca.pem.der).to_string();
    for mode in Mode::ALL {
        let env = TestEnv::new();
        let mut d = Dockerd::start_with_hosts(mode, &[(REALM_REGISTRY, &host.ip)]);
        let login = d.regctl_stdin(
            &env,
            &[
                "login",
                &name,
                "-u",
                "alice",
                "--password-stdin",
                "--store",
                "file",
                "--no-verify",
            ],
            "s3cret",
        );
        assert_eq!(login.code, 0, "{}: {}", mode.label(), login.stderr);
        if mode.containerd_store() {
            private_trust_store(&d, &env);
        }
        let run = ok(
            &d,
            &env,
            &[
                "trust-ca",
                &name,
                "--from-server",
                "--fingerprint",
                &reg_pin,
                "-o",
                "json",
            ],
        );
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(doc["realm"]["trusted"], false, "{doc}");
        let store = if mode.containerd_store() {
            "containerd"
        } else {
            "classic"
        };
        assert_eq!(doc["realm"]["image_store"], store, "{doc}");
        let realm_pin = doc["realm"]["presented"][0]["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        assert_fails_on_realm(&d, &env, &image, &realm_host);
        let with_realm = [
            "trust-ca",
            &name,
            "--from-server",
            "--fingerprint",
            &reg_pin,
            "--with-realm",
            "--realm-fingerprint",
            &realm_pin,
            "-o",
            "json",
        ];
        let folder = d.etc_docker.join("certs.d").join(&name);
        if !mode.containerd_store() {
            ok(&d, &env, &with_realm);
            assert!(folder.join("realm-ca.crt").is_file());
            assert_pulls(&d, &env, &image, "trust-ca --with-realm");
            continue;
        }
        // What the classic store uses (the realm's certificate in the registry's certs.d
        // folder, taken here with trust-ca into a scratch dir) does not help the containerd
        // store: its token request ignores certs.d.
        let scratch = env.path("scratch-certs");
        let scratch_arg = scratch.display().to_string();
        ok(
            &d,
            &env,
            &[
                "trust-ca",
                &realm_host,
                "--from-server",
                "--fingerprint",
                &realm_pin,
                "--certs-dir",
                &scratch_arg,
            ],
        );
        fs::copy(
            scratch.join(&realm_host).join("ca.crt"),
            folder.join("realm-ca.crt"),
        )
        .unwrap();
        assert_fails_on_realm(&d, &env, &image, &realm_host);
        fs::remove_file(folder.join("realm-ca.crt")).unwrap();
        // --with-realm knows the store: the OS trust store (the same as trust-ca REALM
        // --from-server --system), which dockerd reads at start.
        let run = ok(&d, &env, &with_realm);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        assert!(
            doc["notes"].to_string().contains("restart"),
            "{}: {doc}",
            mode.label()
        );
        assert!(!folder.join("realm-ca.crt").exists());
        assert_fails_on_realm(&d, &env, &image, &realm_host);
        d.stop();
        assert!(
            matches!(d.launch(), Started::Listening),
            "{}: dockerd did not restart: {}",
            mode.label(),
            d.log()
        );
        assert_pulls(
            &d,
            &env,
            &image,
            "trust-ca --with-realm (OS trust store) and a dockerd restart",
        );
    }
}
