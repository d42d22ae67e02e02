//! `trust-ca` cases from the real-dockerd fixture (tests/support/dockerd.rs) that need the real
//! daemon's verdict: a registry that sends only its own CA-issued certificate, pinned as ca.crt.

use regctl::files::certs_dir::x509::Fingerprint;

use crate::docker_real::{assert_pull_fails, assert_pulls, ok};
use crate::support::dockerd::{Dockerd, Mode};
use crate::support::netns::NetnsHost;
use crate::support::pki::TestCa;
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::TestEnv;

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
