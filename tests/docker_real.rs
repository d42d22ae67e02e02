//! regctl against the real dockerd (tests/support/dockerd.rs): 20.10, 26.1 and 28.5, with the
//! classic and the containerd image store. dockerd and regctl share a private mount namespace
//! in which /etc/docker is the test's, so regctl runs with its default paths.

use serde_json::Value;

use crate::support::dockerd::{docker_clis, Dockerd, Mode};
use crate::support::TestEnv;

/// Every mode starts, the docker CLIs reach it through the default socket, it runs the expected
/// version and image store, and regctl reads the namespace's /etc/docker/daemon.json by default.
#[test]
fn dockerd_fixture_runs_every_mode() {
    let env = TestEnv::new();
    for mode in Mode::ALL {
        let d = Dockerd::start(mode);
        for cli in docker_clis() {
            let run = d.docker(&env, &cli, &["info", "--format", "{{json .}}"]);
            assert_eq!(
                run.code,
                0,
                "{} {}: {}",
                mode.label(),
                cli.display(),
                run.stderr
            );
            let info: Value = serde_json::from_str(&run.stdout).unwrap();
            let version = info["ServerVersion"].as_str().unwrap();
            assert!(
                version.starts_with(mode.version()),
                "{}: {version}",
                mode.label()
            );
            let containerd_store = info["DriverStatus"]
                .as_array()
                .unwrap()
                .iter()
                .any(|kv| kv[1] == "io.containerd.snapshotter.v1");
            assert_eq!(
                containerd_store,
                mode.containerd_store(),
                "{}: {info}",
                mode.label()
            );
        }
        let run = d.regctl(&env, &["daemon", "show", "-o", "json"]);
        assert_eq!(run.code, 0, "{}: {}", mode.label(), run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(
            doc.to_string().contains("containerd-snapshotter"),
            mode.containerd_store(),
            "{}: {doc}",
            mode.label()
        );
    }
}
