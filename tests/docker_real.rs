//! regctl against the real dockerd (tests/support/dockerd.rs): 20.10, 26.1 and 28.5, with the
//! classic and the containerd image store. dockerd and regctl share a private mount namespace
//! in which /etc/docker is the test's, so regctl runs with its default paths.

use std::path::Path;

use regctl::files::certs_dir::x509::Fingerprint;
use serde_json::Value;

use crate::support::dockerd::{docker_clis, Dockerd, Mode};
use crate::support::keyring::SecretService;
use crate::support::netns::NetnsHost;
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::site::{Site, SiteOptions};
use crate::support::{Run, TestEnv};

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
        // regctl asks the namespace's dockerd for its version and reads the store from
        // /etc/docker/daemon.json.
        let run = d.regctl(&env, &["daemon", "validate", "-o", "json"]);
        assert_eq!(run.code, 0, "{}: {}", mode.label(), run.stderr);
        let doc: Value = serde_json::from_str(&run.stdout).unwrap();
        let store = if mode.containerd_store() {
            "containerd"
        } else {
            "classic"
        };
        assert_eq!(
            (
                doc["dockerd"]["version"].as_str(),
                doc["dockerd"]["version_source"].as_str(),
                doc["dockerd"]["image_store"].as_str()
            ),
            (Some(mode.version()), Some("dockerd --version"), Some(store)),
            "{}: {doc}",
            mode.label()
        );
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

/// The registry's name as the tests' images spell it (in the namespace's /etc/hosts).
const NAME: &str = "registry.regctl.test";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret-Passw0rd";

/// A registry on its own network namespace (off loopback, so dockerd verifies its TLS), with
/// `test/hello:v1` pushed by skopeo; alice's password needed when `users`.
fn tls_site(users: bool) -> Site {
    Site::start(SiteOptions {
        dns_name: NAME,
        ca_name: Some("regctl dockerd test CA"),
        user: users.then_some((USER, PASSWORD)),
        repo: "test/hello",
    })
}

impl Site {
    fn image(&self) -> String {
        format!("{}/test/hello:v1", self.name)
    }

    /// A daemon of this mode whose /etc/hosts knows the registry's name.
    fn dockerd(&self, mode: Mode) -> Dockerd {
        Dockerd::start_with_hosts(mode, &[(NAME, &self.host.ip)])
    }
}

/// `docker pull IMAGE` with this CLI; then the image is removed again so that the next pull
/// goes to the registry.
pub(crate) fn pull(d: &Dockerd, env: &TestEnv, cli: &Path, image: &str) -> Run {
    let run = d.docker(env, cli, &["pull", "-q", image]);
    if run.code == 0 {
        let rmi = d.docker(env, cli, &["rmi", image]);
        assert_eq!(rmi.code, 0, "docker rmi {image}: {}", rmi.stderr);
    }
    run
}

/// Pulls with every docker CLI and asserts success.
pub(crate) fn assert_pulls(d: &Dockerd, env: &TestEnv, image: &str, after: &str) {
    for cli in docker_clis() {
        let run = pull(d, env, &cli, image);
        assert_eq!(
            run.code,
            0,
            "{}, {}: docker pull after {after} failed: {}\ndockerd log:\n{}",
            d.mode.label(),
            cli.display(),
            run.stderr,
            d.log()
        );
    }
}

/// Pulls with Debian's CLI and asserts a failure whose message contains `want`; the run, for
/// further checks.
pub(crate) fn assert_pull_fails(d: &Dockerd, env: &TestEnv, image: &str, want: &str) -> Run {
    let run = pull(d, env, Path::new("/usr/bin/docker"), image);
    assert_ne!(
        run.code,
        0,
        "{}: docker pull {image} should fail",
        d.mode.label()
    );
    assert!(
        run.stderr.contains(want),
        "{}: expected {want:?} in: {}",
        d.mode.label(),
        run.stderr
    );
    run
}

pub(crate) fn ok(d: &Dockerd, env: &TestEnv, args: &[&str]) -> Run {
    ok_stdin(d, env, args, "")
}

fn ok_stdin(d: &Dockerd, env: &TestEnv, args: &[&str], stdin: &str) -> Run {
    let run = d.regctl_stdin(env, args, stdin);
    assert_eq!(
        run.code,
        0,
        "{}: regctl {args:?} failed: {}",
        d.mode.label(),
        run.stderr
    );
    run
}

/// trust-ca with a CA file, then with `--from-server --fingerprint`: the pull fails on x509
/// before and works after, in every mode and with every docker CLI.
#[test]
fn trust_ca_makes_docker_pull_work_in_every_mode() {
    let site = tls_site(false);
    let env = TestEnv::new();
    let ca_file = site.ca_file(&env, "ca");
    let pin = Fingerprint::of(&site.ca().pem.der).to_string();
    let image = site.image();
    for mode in Mode::ALL {
        let d = site.dockerd(mode);
        assert_pull_fails(&d, &env, &image, "x509");
        ok(&d, &env, &["trust-ca", &site.name, &ca_file]);
        assert!(d.etc_docker.join("certs.d").join(&site.name).is_dir());
        assert_pulls(&d, &env, &image, "trust-ca CA_FILE");

        ok(&d, &env, &["trust-ca", &site.name, "--remove"]);
        assert_pull_fails(&d, &env, &image, "x509");
        ok(
            &d,
            &env,
            &[
                "trust-ca",
                &site.name,
                "--from-server",
                "--fingerprint",
                &pin,
            ],
        );
        assert_pulls(&d, &env, &image, "trust-ca --from-server --fingerprint");
    }
}

/// `regctl daemon reload` in the namespace, then waits until dockerd has reloaded.
fn reload(d: &Dockerd, env: &TestEnv) {
    let before = d.reloads();
    let run = ok(d, env, &["daemon", "reload"]);
    assert!(
        run.stderr.contains(&format!("pid {}", d.pid())),
        "{}: {}{}",
        d.mode.label(),
        run.stdout,
        run.stderr
    );
    d.wait_reloaded(before);
}

fn client_config(env: &TestEnv) -> Value {
    serde_json::from_slice(&std::fs::read(env.client_config_path()).unwrap()).unwrap()
}

/// The credentials docker-credential-regctl holds for `server` (its `get`), run in the
/// namespace with the test's keychain.
fn helper_get(d: &Dockerd, env: &TestEnv, server: &str) -> Run {
    let helper = crate::support::creds::helper_dir().join("docker-credential-regctl");
    d.run_in(env, &helper, &["get"], server)
}

/// A failed pull for want of credentials, in the wording of each image store.
fn assert_pull_unauthorized(d: &Dockerd, env: &TestEnv, image: &str) {
    let run = pull(d, env, Path::new("/usr/bin/docker"), image);
    assert_ne!(run.code, 0, "{}: pull without credentials", d.mode.label());
    assert!(
        [
            "no basic auth credentials",
            "401 Unauthorized",
            "unauthorized"
        ]
        .iter()
        .any(|w| run.stderr.contains(w)),
        "{}: {}",
        d.mode.label(),
        run.stderr
    );
}

/// A sandbox whose commands reach a private, unlocked Secret Service.
fn keychain_env() -> (SecretService, TestEnv) {
    let ss = SecretService::unlocked();
    let mut env = TestEnv::new();
    ss.apply(&mut env);
    (ss, env)
}

/// `regctl login --store file` and `--store keychain`: dockerd pulls with what the docker CLI
/// reads from config.json or gets from docker-credential-regctl.
#[test]
fn login_file_and_keychain_make_docker_pull_work_in_every_mode() {
    let site = tls_site(true);
    let (_ss, env) = keychain_env();
    let ca_file = site.ca_file(&env, "ca");
    let image = site.image();
    let login = |d: &Dockerd, store: &str| {
        ok_stdin(
            d,
            &env,
            &[
                "login",
                &site.name,
                "-u",
                USER,
                "--password-stdin",
                "--store",
                store,
            ],
            &format!("{PASSWORD}\n"),
        )
    };
    for mode in Mode::ALL {
        let d = site.dockerd(mode);
        ok(&d, &env, &["trust-ca", &site.name, &ca_file]);
        assert_pull_unauthorized(&d, &env, &image);

        login(&d, "file");
        assert!(client_config(&env)["auths"][&site.name]["auth"].is_string());
        assert_pulls(&d, &env, &image, "login --store file");
        ok(&d, &env, &["logout", &site.name]);
        assert_pull_unauthorized(&d, &env, &image);

        login(&d, "keychain");
        let config = client_config(&env);
        assert_eq!(config["credHelpers"][&site.name], "regctl", "{config}");
        assert!(
            config["auths"][&site.name].get("auth").is_none(),
            "{config}"
        );
        assert_pulls(&d, &env, &image, "login --store keychain");
        ok(&d, &env, &["logout", &site.name]);
        assert_pull_unauthorized(&d, &env, &image);
    }
}

/// The docker CLI's own `docker login` and `docker logout`, with credHelpers pointing at
/// regctl: the secret goes into (and out of) the keychain through docker-credential-regctl.
#[test]
fn docker_login_and_logout_go_through_docker_credential_regctl_in_every_mode() {
    let site = tls_site(true);
    let (_ss, env) = keychain_env();
    let ca_file = site.ca_file(&env, "ca");
    let image = site.image();
    std::fs::create_dir_all(&env.docker_config).unwrap();
    for mode in Mode::ALL {
        let d = site.dockerd(mode);
        ok(&d, &env, &["trust-ca", &site.name, &ca_file]);
        for cli in docker_clis() {
            let what = format!("{}, {}", mode.label(), cli.display());
            std::fs::write(
                env.client_config_path(),
                format!("{{\"credHelpers\": {{\"{}\": \"regctl\"}}}}\n", site.name),
            )
            .unwrap();
            let run = d.docker_stdin(
                &env,
                &cli,
                &["login", &site.name, "-u", USER, "--password-stdin"],
                PASSWORD,
            );
            assert_eq!(run.code, 0, "{what}: docker login: {}", run.stderr);
            let got = helper_get(&d, &env, &site.name);
            assert_eq!(got.code, 0, "{what}: helper get: {}", got.stdout);
            let creds: Value = serde_json::from_str(&got.stdout).unwrap();
            assert_eq!(
                (&creds["Username"], &creds["Secret"]),
                (&Value::from(USER), &Value::from(PASSWORD)),
                "{what}"
            );
            let config = client_config(&env);
            assert!(
                config["auths"][&site.name].get("auth").is_none(),
                "{what}: {config}"
            );
            assert_pulls(&d, &env, &image, "docker login");

            let run = d.docker(&env, &cli, &["logout", &site.name]);
            assert_eq!(run.code, 0, "{what}: docker logout: {}", run.stderr);
            let got = helper_get(&d, &env, &site.name);
            assert_eq!(
                got.stdout.trim(),
                "credentials not found in native keychain",
                "{what}"
            );
            assert_pull_unauthorized(&d, &env, &image);
        }
    }
}

/// `insecure add` + `daemon reload`: a plain-HTTP registry pulls, and dockerd kept its pid.
#[test]
fn insecure_add_and_reload_make_a_plain_http_pull_work_in_every_mode() {
    let host = NetnsHost::new();
    let registry = Registry::start_in(RegistryOptions::default(), &host);
    registry.seed_image("test/hello", "v1", None, None);
    let name = format!("{NAME}:{}", registry.port);
    let image = format!("{name}/test/hello:v1");
    let env = TestEnv::new();
    for mode in Mode::ALL {
        let mut d = Dockerd::start_with_hosts(mode, &[(NAME, &host.ip)]);
        let pid = d.pid();
        assert_pull_fails(
            &d,
            &env,
            &image,
            "server gave HTTP response to HTTPS client",
        );
        ok(&d, &env, &["insecure", "add", &name]);
        reload(&d, &env);
        assert_pulls(&d, &env, &image, "insecure add + daemon reload");
        assert!(d.running(), "{}", mode.label());
        assert_eq!(d.pid(), pid);
    }
}
/// `mirror add` + `daemon reload`: a Docker Hub name is pulled through a pull-through mirror
/// (docker-registry with proxy.remoteurl) of an upstream in the test's namespace; Docker Hub
/// itself cannot answer. With the containerd store, dockerd 26.1 drops `http://` from mirrors
/// (28.5 keeps it), so there regctl warns and offers `insecure add`, and the pull works only
/// after that.
#[test]
fn mirror_add_and_reload_pull_docker_hub_names_through_the_mirror_in_every_mode() {
    let host = NetnsHost::new();
    let upstream = Registry::start_in(RegistryOptions::default(), &host);
    upstream.seed_image("library/hello", "v1", None, None);
    let mirror = Registry::start_in(
        RegistryOptions {
            proxy_remote: Some(format!("http://{}", upstream.host)),
            ..Default::default()
        },
        &host,
    );
    let url = format!("http://{}", mirror.host);
    let fix = format!("regctl insecure add {}", mirror.host);
    let env = TestEnv::new();
    for mode in Mode::ALL {
        let d = Dockerd::start(mode);
        let run = pull(&d, &env, Path::new("/usr/bin/docker"), "hello:v1");
        assert_ne!(
            run.code,
            0,
            "{}: pulled hello:v1 without a mirror",
            mode.label()
        );
        let added = ok(&d, &env, &["mirror", "add", &url]);
        // Seen: only 26.1 with the containerd store tries HTTPS on an http:// mirror.
        let drops_http = mode == Mode::V26Containerd;
        assert_eq!(
            added.stderr.contains(&fix),
            drops_http,
            "{}: {}",
            mode.label(),
            added.stderr
        );
        reload(&d, &env);
        if drops_http {
            let run = pull(&d, &env, Path::new("/usr/bin/docker"), "hello:v1");
            assert_ne!(
                run.code,
                0,
                "{}: http mirror used without insecure",
                mode.label()
            );
            ok(&d, &env, &["insecure", "add", &mirror.host]);
            reload(&d, &env);
        }
        assert_pulls(&d, &env, "hello:v1", "mirror add + daemon reload");
    }
}
