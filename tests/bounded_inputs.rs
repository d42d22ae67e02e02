//! Inputs of unbounded size and inputs that never end (issue 12, class 5): credential helpers
//! and `credential_process` printing forever, `/dev/zero` and FIFOs where a file is expected,
//! stdin that never ends, sparse gigabyte config files, certs.d folders leading into /proc.
//! Each ends in a clear error naming what was read, exit 1, with the peak RSS of the regctl
//! process (from `wait4`, see support/rusage.rs) under 64 MiB. The time limits are bounds on
//! hanging, not speed targets. The helpers here are shell scripts standing in for a broken
//! helper: no real helper misbehaves on demand.

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::creds::{helper_dir, install_helper, write_config};
use crate::support::pki::TestCa;
use crate::support::rusage::{
    assert_bounded_failure, assert_bounded_memory, run_measured, Measured,
};
use crate::support::{FileState, TestEnv};

const REG: &str = "r.example.com";
/// A login that reads the password from stdin and asks no registry.
const LOGIN: &[&str] = &[
    "login",
    REG,
    "-u",
    "alice",
    "--password-stdin",
    "--no-verify",
];
const HANG: Duration = Duration::from_secs(60);

fn regctl(env: &TestEnv, args: &[&str], stdin: Stdio) -> Measured {
    let mut cmd = env.std_cmd();
    cmd.args(args);
    run_measured(cmd, stdin, HANG)
}

fn dev_zero() -> Stdio {
    Stdio::from(fs::File::open("/dev/zero").unwrap())
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

/// A sparse file of 1 GiB: cheap on disk, and reading it whole would take a gigabyte.
fn sparse_gigabyte(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::File::create(path).unwrap().set_len(1 << 30).unwrap();
}

fn helper_config(env: &TestEnv, helper: &str) -> FileState {
    write_config(
        env,
        &format!("{{\n\t\"auths\": {{\n\t\t\"{REG}\": {{}}\n\t}},\n\t\"credHelpers\": {{\n\t\t\"{REG}\": \"{helper}\"\n\t}}\n}}\n"),
    )
}

#[test]
fn a_credential_helper_printing_forever_is_stopped_with_bounded_memory() {
    let mut env = TestEnv::new();
    install_helper(
        &mut env,
        "forever",
        "exec yes 0123456789abcdef0123456789abcdef",
    );
    let state = helper_config(&env, "forever");
    let pw = env.path("pw");
    fs::write(&pw, "pw\n").unwrap();
    let m = regctl(&env, LOGIN, Stdio::from(fs::File::open(&pw).unwrap()));
    assert_bounded_failure(&m, &["docker-credential-forever", "more than 4 MiB"]);
    assert_eq!(FileState::of(&env.client_config_path()), state);
    // logout's get: a warning naming the helper (logout goes on with the other stores).
    let m = regctl(&env, &["logout", REG], Stdio::null());
    assert!(
        m.run
            .stderr
            .contains("docker-credential-forever get failed: it printed more than 4 MiB"),
        "{:#?}",
        m.run
    );
    assert_bounded_memory(&m);
}

#[test]
fn a_helper_that_leaves_a_child_holding_stdout_is_done_when_it_exits() {
    let mut env = TestEnv::new();
    // get answers, then exits leaving a background child with the pipe; erase answers nothing.
    install_helper(
        &mut env,
        "lingering",
        "read -r url\nif [ \"$1\" = get ]; then printf '{\"ServerURL\":\"%s\",\"Username\":\"u\",\"Secret\":\"s\"}' \"$url\"; fi\nsleep 50 &\nexit 0",
    );
    helper_config(&env, "lingering");
    let started = Instant::now();
    let m = regctl(&env, &["logout", REG], Stdio::null());
    let took = started.elapsed();
    assert_eq!(m.run.code, 0, "{:#?}", m.run);
    // A bound on hanging: the helper's own timeout is 30 s, its child sleeps 50 s.
    assert!(took < Duration::from_secs(15), "logout took {took:?}");
}

#[test]
fn a_credential_process_printing_forever_is_stopped_with_bounded_memory() {
    let mut env = TestEnv::new();
    let config = env.path("aws-config");
    fs::write(
        &config,
        "[profile forever]\nregion = us-east-1\ncredential_process = yes 0123456789abcdef\n",
    )
    .unwrap();
    env.set_env("AWS_CONFIG_FILE", config.to_str().unwrap());
    env.set_env(
        "AWS_SHARED_CREDENTIALS_FILE",
        env.path("none").to_str().unwrap(),
    );
    let state = write_config(&env, "{}\n");
    let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
    let m = regctl(
        &env,
        &["login", host, "--profile", "forever"],
        Stdio::null(),
    );
    assert_bounded_failure(&m, &["credential_process", "more than 4 MiB"]);
    assert_eq!(FileState::of(&env.client_config_path()), state);

    // The AWS config file itself, a sparse gigabyte.
    sparse_gigabyte(&config);
    let m = regctl(
        &env,
        &["login", host, "--profile", "forever"],
        Stdio::null(),
    );
    assert_bounded_failure(&m, &["aws-config", "more than 4 MiB"]);
}

#[test]
fn a_password_stdin_that_never_ends_is_refused() {
    let env = TestEnv::new();
    let state = write_config(&env, "{}\n");
    let args = [LOGIN, &["--store", "file"]].concat();
    let m = regctl(&env, &args, dev_zero());
    assert_bounded_failure(&m, &["password from stdin", "more than 1 MiB"]);
    // A pipe that never ends.
    let mut yes = std::process::Command::new("yes")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let m = regctl(&env, &args, Stdio::from(yes.stdout.take().unwrap()));
    let _ = yes.kill();
    let _ = yes.wait();
    assert_bounded_failure(&m, &["password from stdin", "more than 1 MiB"]);
    assert_eq!(FileState::of(&env.client_config_path()), state);
}

#[test]
fn a_helper_request_that_never_ends_is_refused() {
    let env = TestEnv::new();
    let mut cmd = std::process::Command::new(helper_dir().join("docker-credential-regctl"));
    cmd.env_clear().envs(env.env_vars()).arg("get");
    let m = run_measured(cmd, dev_zero(), HANG);
    assert_eq!(m.run.code, 1, "{:#?}", m.run);
    // The protocol puts the error on stdout.
    assert!(
        m.run.stdout.contains("cannot read the request")
            && m.run.stdout.contains("more than 1 MiB"),
        "{:#?}",
        m.run
    );
    assert_bounded_memory(&m);
}

#[test]
fn dev_zero_and_fifos_are_refused_where_a_file_is_expected() {
    let env = TestEnv::new();
    let m = regctl(&env, &["trust-ca", REG, "/dev/zero"], Stdio::null());
    assert_bounded_failure(&m, &["/dev/zero", "a character device, not a regular file"]);
    let fifo = env.path("ca-fifo.pem");
    mkfifo(&fifo);
    let m = regctl(
        &env,
        &["trust-ca", REG, fifo.to_str().unwrap()],
        Stdio::null(),
    );
    assert_bounded_failure(
        &m,
        &["ca-fifo.pem", "a named pipe (FIFO), not a regular file"],
    );

    let ca = TestCa::new("bounded client CA");
    let client = ca.client("robot");
    let cert = env.path("client.pem");
    fs::write(&cert, &client.cert).unwrap();
    let key = env.path("key-fifo.pem");
    mkfifo(&key);
    let m = regctl(
        &env,
        &[
            "trust-ca",
            REG,
            "--client-cert",
            cert.to_str().unwrap(),
            "--client-key",
            key.to_str().unwrap(),
        ],
        Stdio::null(),
    );
    assert_bounded_failure(&m, &["key-fifo.pem", "named pipe"]);
    assert!(!env.certs_dir.join(REG).exists(), "something was written");
}

#[test]
fn gigabyte_config_files_are_refused_with_bounded_memory() {
    let env = TestEnv::new();
    sparse_gigabyte(&env.client_config_path());
    let m = regctl(&env, &["creds", "list"], Stdio::null());
    assert_bounded_failure(&m, &["config.json", "more than 8 MiB"]);
    sparse_gigabyte(&env.daemon_json);
    let m = regctl(&env, &["mirror", "list"], Stdio::null());
    assert_bounded_failure(&m, &["daemon.json", "more than 8 MiB"]);
}

#[test]
fn certs_d_reads_only_regular_files_and_names_the_rest() {
    let env = TestEnv::new();
    let ca = TestCa::new("bounded certs CA");
    // A folder that is a symlink to /proc, one with a FIFO and a device as certificates, and
    // one whose ca.crt is a symlink to a regular file (followed, as dockerd follows it).
    fs::create_dir_all(&env.certs_dir).unwrap();
    std::os::unix::fs::symlink("/proc", env.certs_dir.join("proc.example.com")).unwrap();
    let odd = env.certs_dir.join("odd.example.com");
    fs::create_dir_all(&odd).unwrap();
    mkfifo(&odd.join("ca.crt"));
    std::os::unix::fs::symlink("/dev/zero", odd.join("zero.crt")).unwrap();
    let linked = env.certs_dir.join("linked.example.com");
    fs::create_dir_all(&linked).unwrap();
    let real = env.path("real-ca.pem");
    fs::write(&real, &ca.pem.cert).unwrap();
    std::os::unix::fs::symlink(&real, linked.join("ca.crt")).unwrap();

    let mut cmd = env.std_cmd();
    cmd.args(["certs", "list", "-o", "json"]);
    let m = run_measured(cmd, Stdio::null(), HANG);
    assert_bounded_memory(&m);
    let doc: Value = serde_json::from_str(&m.run.stdout).unwrap_or_else(|e| panic!("{e}: {m:#?}"));
    let text = doc.to_string();
    let folder = |name: &str| {
        doc["registries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .unwrap_or_else(|| panic!("no {name} in {text}"))
            .clone()
    };
    let ids = |f: &Value| -> Vec<(String, String)> {
        f["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                (
                    p["id"].as_str().unwrap().to_string(),
                    p["file"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let proc = folder("proc.example.com");
    assert_eq!(
        ids(&proc),
        [("certs.pseudo_folder".to_string(), String::new())]
    );
    assert!(proc["files"].as_array().unwrap().is_empty());
    let odd = folder("odd.example.com");
    let mut found = ids(&odd);
    found.sort();
    assert_eq!(
        found,
        [
            ("certs.not_a_file".to_string(), "ca.crt".to_string()),
            ("certs.not_a_file".to_string(), "zero.crt".to_string()),
        ]
    );
    assert!(
        text.contains("named pipe") && text.contains("character device"),
        "{text}"
    );
    let linked = folder("linked.example.com");
    assert!(ids(&linked).is_empty(), "{linked}");
    assert_eq!(
        linked["files"][0]["certificates"].as_array().unwrap().len(),
        1
    );
}

#[test]
fn daemon_json_and_registries_conf_d_that_never_end_are_refused_by_validate_and_doctor() {
    let env = TestEnv::new();
    // daemon validate reads daemon.json's raw bytes first (for its encoding): a FIFO there
    // used to block it, /dev/zero to read without end.
    let fifo = env.path("daemon-fifo.json");
    mkfifo(&fifo);
    for path in [fifo.to_str().unwrap(), "/dev/zero"] {
        let m = regctl(
            &env,
            &["--daemon-config", path, "daemon", "validate"],
            Stdio::null(),
        );
        assert_bounded_failure(&m, &[path, "not a regular file"]);
    }
    // doctor's local block reads every registries.conf.d file: a FIFO among them is named.
    fs::create_dir_all(&env.registries_conf_d).unwrap();
    let conf = env.registries_conf_d.join("00-fifo.conf");
    mkfifo(&conf);
    let m = regctl(&env, &["doctor", "-o", "json"], Stdio::null());
    assert_eq!(m.run.code, 1, "{:#?}", m.run);
    let v: Value = serde_json::from_str(&m.run.stdout).unwrap();
    let text = v["local"].to_string();
    assert!(
        text.contains("00-fifo.conf") && text.contains("named pipe"),
        "{text}"
    );
    assert_bounded_memory(&m);
}
