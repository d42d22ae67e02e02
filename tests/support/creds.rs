//! Shared set-up for the credential tests: a TLS + htpasswd registry with a seeded image and its
//! CA installed in the sandbox's certs.d, `regctl login` with a password on stdin, and
//! `skopeo inspect` reading only what regctl wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use super::pki::TestCa;
use super::registry::{Registry, RegistryOptions};
use super::{require_tool, FileState, Run, TestEnv};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "s3cret-Passw0rd";
pub const IMAGE: &str = "test/hello:v1";

pub struct AuthRegistry {
    pub ca: TestCa,
    pub registry: Registry,
}

impl AuthRegistry {
    pub fn host(&self) -> &str {
        &self.registry.host
    }

    /// The certs.d folder of this registry in the sandbox.
    pub fn cert_dir(&self, env: &TestEnv) -> PathBuf {
        env.certs_dir.join(&self.registry.host)
    }
}

/// Starts a registry with TLS from a fresh CA and the htpasswd user alice, pushes IMAGE, and
/// installs the CA as `<certs.d>/<host>/ca.crt` in the sandbox.
pub fn htpasswd_registry(env: &TestEnv) -> AuthRegistry {
    let ca = TestCa::new("regctl creds test CA");
    let registry = Registry::start(RegistryOptions {
        tls: Some(ca.server(&["127.0.0.1", "localhost"])),
        users: vec![(USER.into(), PASSWORD.into())],
        ..Default::default()
    });
    let r = AuthRegistry { ca, registry };
    install_ca(env, r.host(), &r.ca);
    let seed_dir = r.registry.dir.path().join("seed-certs");
    std::fs::create_dir_all(&seed_dir).unwrap();
    std::fs::write(seed_dir.join("ca.crt"), &r.ca.pem.cert).unwrap();
    let (repo, tag) = IMAGE.split_once(':').unwrap();
    r.registry.seed_image(
        repo,
        tag,
        Some(&format!("{USER}:{PASSWORD}")),
        Some(&seed_dir),
    );
    r
}

pub fn install_ca(env: &TestEnv, host: &str, ca: &TestCa) {
    let dir = env.certs_dir.join(host);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("ca.crt"), &ca.pem.cert).unwrap();
}

/// `regctl ARGS -o json` with `stdin` fed in.
pub fn json_with_stdin(env: &TestEnv, args: &[&str], stdin: &str) -> (Value, i32, String) {
    let (doc, run) = env.json_stdin(args, stdin);
    (doc, run.code, run.stderr)
}

/// `regctl login HOST -u USER --password-stdin EXTRA...` with `stdin` fed in: the one way the
/// tests log in with a password.
pub fn login_stdin(env: &TestEnv, host: &str, user: &str, stdin: &str, extra: &[&str]) -> Run {
    env.run_stdin(&login_args(host, user, extra), stdin)
}

fn login_args<'a>(host: &'a str, user: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["login", host, "-u", user, "--password-stdin"];
    args.extend_from_slice(extra);
    args
}

/// `regctl login HOST -u alice --password-stdin EXTRA... -o json` with the right password.
pub fn login(env: &TestEnv, host: &str, extra: &[&str]) -> (Value, i32, String) {
    json_with_stdin(
        env,
        &login_args(host, USER, extra),
        &format!("{PASSWORD}\n"),
    )
}

/// The directory holding the built `docker-credential-regctl`.
pub fn helper_dir() -> PathBuf {
    Path::new(env!("CARGO_BIN_EXE_docker-credential-regctl"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs the built docker-credential-regctl ACTION with `stdin`, with only `vars` in its
/// environment.
pub fn run_helper(vars: &[(String, String)], action: &str, stdin: &str) -> Run {
    let mut cmd = Command::new(helper_dir().join("docker-credential-regctl"));
    cmd.env_clear().envs(vars.iter().map(|(k, v)| (k, v)));
    cmd.arg(action);
    super::run_with_stdin(&mut cmd, stdin)
}

/// PATH with the built docker-credential-regctl first.
pub fn path_with_helper() -> String {
    format!(
        "{}:{}",
        helper_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// `skopeo inspect` of IMAGE with the sandbox's HOME (so ~/.docker/config.json is regctl's) and
/// the registry's certs.d folder; PATH includes docker-credential-regctl.
pub fn skopeo_inspect(env: &TestEnv, r: &AuthRegistry) -> Run {
    let skopeo = require_tool("skopeo");
    let mut cmd = Command::new(skopeo);
    cmd.env_clear();
    for (k, v) in env.env_vars() {
        cmd.env(k, v);
    }
    cmd.env("PATH", path_with_helper());
    let out = cmd
        .arg("inspect")
        .arg("--cert-dir")
        .arg(r.cert_dir(env))
        .arg(format!("docker://{}/{IMAGE}", r.host()))
        .output()
        .unwrap();
    Run::from(out)
}

/// config.json as JSON.
pub fn client_config(env: &TestEnv) -> Value {
    serde_json::from_slice(&std::fs::read(env.client_config_path()).unwrap()).unwrap()
}

/// Writes config.json and returns its state, to compare after a command that must not touch it.
pub fn write_config(env: &TestEnv, text: &str) -> FileState {
    std::fs::create_dir_all(&env.docker_config).unwrap();
    std::fs::write(env.client_config_path(), text).unwrap();
    FileState::of(&env.client_config_path())
}

/// `regctl login HOST -u bob --password-stdin --no-verify EXTRA...` with `pw` on stdin.
pub fn login_bob_unverified(env: &TestEnv, host: &str, extra: &[&str]) -> Run {
    let mut all = vec!["--no-verify"];
    all.extend_from_slice(extra);
    login_stdin(env, host, "bob", "pw", &all)
}

/// A directory first on PATH holding `docker-credential-NAME` with `script` as its body (a
/// stand-in for a misbehaving helper: no real helper hangs or floods on demand).
pub fn install_helper(env: &mut TestEnv, name: &str, script: &str) -> PathBuf {
    let bin = env.path("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let exe = bin.join(format!("docker-credential-{name}"));
    std::fs::write(&exe, format!("#!/bin/sh\n{script}\n")).unwrap();
    std::fs::set_permissions(
        &exe,
        <std::fs::Permissions as std::os::unix::fs::PermissionsExt>::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    env.set_env("PATH", &path);
    bin
}
