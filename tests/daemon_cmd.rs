//! `regctl daemon show|get|set|unset|validate|reload`.

use std::fs;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{age_file, refused, FileState, TestEnv};

const SAMPLE: &str = "{\n  \"debug\": false,\n  \"log-opts\": {\n    \"max-size\": \"10m\"\n  },\n  \"registry-mirrors\": [\"https://m.example.com/\"]\n}\n";

#[test]
fn show_and_get() {
    let env = TestEnv::new();
    env.write_daemon(SAMPLE);
    let (doc, code) = env.json(&["daemon", "show"]);
    assert_eq!(code, 0);
    assert_eq!(doc["config"]["log-opts"]["max-size"], "10m");
    assert_eq!(doc["exists"], true);
    let run = env.run(&["daemon", "get", "log-opts.max-size"]);
    assert_eq!((run.code, run.stdout.as_str()), (0, "\"10m\"\n"));
    let (doc, _) = env.json(&["daemon", "get", "registry-mirrors"]);
    assert_eq!(doc["value"], json!(["https://m.example.com/"]));
    let run = env.run(&["daemon", "get", "storage-driver"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("storage-driver is not set in"),
        "{}",
        run.stderr
    );
}

#[test]
fn show_a_missing_file() {
    let env = TestEnv::new();
    let (doc, code) = env.json(&["daemon", "show"]);
    assert_eq!(
        (code, doc["exists"].clone(), doc["config"].clone()),
        (0, json!(false), json!({}))
    );
}

#[test]
fn set_is_checked_idempotent_and_says_how_to_apply() {
    let env = TestEnv::new();
    env.write_daemon(SAMPLE);
    let (doc, code) = env.json(&["daemon", "set", "max-concurrent-downloads", "10"]);
    assert_eq!(
        (code, doc["changed"].clone(), doc["restart_needed"].clone()),
        (0, json!(true), json!(false))
    );
    assert!(doc["notes"][0]
        .as_str()
        .unwrap()
        .contains("regctl daemon reload"));
    age_file(&env.daemon_json);
    let before = FileState::of(&env.daemon_json);
    let (doc, _) = env.json(&["daemon", "set", "max-concurrent-downloads", "10"]);
    assert_eq!(doc["changed"], false);
    assert_eq!(FileState::of(&env.daemon_json), before);

    // A key that only applies on restart says so.
    let (doc, _) = env.json(&["daemon", "set", "storage-driver", "overlay2"]);
    assert_eq!(doc["restart_needed"], true);
    assert!(doc["notes"][0].as_str().unwrap().contains("restart docker"));
    assert_eq!(env.daemon_value()["storage-driver"], "overlay2");

    // Nested keys, bare strings inside a string map, and --check with --diff.
    let (doc, _) = env.json(&[
        "daemon",
        "set",
        "log-opts.max-file",
        "3",
        "--check",
        "--diff",
    ]);
    assert_eq!(doc["changed"], true);
    assert!(doc["diff"][0]["after"]
        .as_str()
        .unwrap()
        .contains("\"max-file\": \"3\""));
    assert!(env.daemon_value()["log-opts"].get("max-file").is_none());
}

#[test]
fn set_refuses_what_dockerd_would_refuse() {
    let env = TestEnv::new();
    env.write_daemon(SAMPLE);
    for (args, words) in [
        (
            vec!["daemon", "set", "registry-mirror", "[]"],
            "did you mean \"registry-mirrors\"",
        ),
        (
            vec!["daemon", "set", "debug", "\"yes\""],
            "debug must be a boolean, not a string",
        ),
        (
            vec!["daemon", "set", "registry-mirrors", "\"https://x/\""],
            "must be an array of strings",
        ),
        (
            vec![
                "daemon",
                "set",
                "registry-mirrors",
                "[\"https://x/v2\"]",
                "--dockerd-version",
                "20.10",
            ],
            "path",
        ),
        (
            vec!["daemon", "set", "max-concurrent-downloads", "ten"],
            "is not valid JSON",
        ),
        (
            vec!["daemon", "set", "max-concurrent-downloads", "3.5"],
            "max-concurrent-downloads must be an integer, not a number with a fraction or an exponent",
        ),
        (
            vec!["daemon", "set", "mtu", "1e3"],
            "mtu must be an integer, not a number with a fraction or an exponent",
        ),
        (
            vec!["daemon", "set", "max-download-attempts", "9223372036854775808"],
            "max-download-attempts must be an integer, not an integer outside the 64-bit range",
        ),
        (
            vec!["daemon", "set", "shutdown-timeout", "\"15\""],
            "shutdown-timeout must be an integer, not a string",
        ),
        (vec!["daemon", "set", "log-level", "loud"], "not one of"),
        (vec!["daemon", "set", "debug.x", "1"], "must be an object"),
    ] {
        refused(&env, &env.daemon_json, &args, &[words]);
    }
    // --force sets an unknown key, with a warning.
    let (doc, code) = env.json(&["daemon", "set", "x-custom", "1", "--force"]);
    assert_eq!((code, doc["changed"].clone()), (0, json!(true)));
    assert!(doc["warnings"][0].as_str().unwrap().contains("unknown key"));
}

#[test]
fn unset_warns_that_a_missing_list_is_not_cleared_on_reload() {
    let env = TestEnv::new();
    env.write_daemon(SAMPLE);
    let (doc, _) = env.json(&["daemon", "unset", "registry-mirrors"]);
    assert_eq!(doc["changed"], true);
    assert!(doc["warnings"][0]
        .as_str()
        .unwrap()
        .contains("regctl daemon set registry-mirrors '[]'"));
    let (doc, _) = env.json(&["daemon", "unset", "registry-mirrors"]);
    assert_eq!(doc["changed"], false);
    let (doc, _) = env.json(&["daemon", "unset", "log-opts.max-size"]);
    assert_eq!(doc["changed"], true);
    assert_eq!(env.daemon_value()["log-opts"], json!({}));
}

#[test]
fn validate_lists_every_problem() {
    let env = TestEnv::new();
    env.write_daemon("{\"registry-mirror\": [], \"debug\": \"yes\", \"insecure-registries\": [\"ftp://x\"], \"allow-nondistributable-artifacts\": []}");
    let (doc, code) = env.json(&["daemon", "validate"]);
    assert_eq!(code, 1);
    assert_eq!(doc["valid"], false);
    let problems: Vec<String> = serde_json::from_value(doc["problems"].clone()).unwrap();
    // registry-mirror is the flag's name: dockerd starts and ignores it, so it is a warning.
    assert_eq!(problems.len(), 2, "{problems:?}");
    let warnings = doc["warnings"].to_string();
    assert!(
        warnings.contains("the key is registry-mirrors"),
        "{warnings}"
    );
    assert!(warnings.contains("deprecated"), "{warnings}");
    assert_eq!(doc["dockerd"]["version"], "28.5");
    assert_eq!(doc["dockerd"]["version_source"], "override");
    let run = env.run(&["daemon", "validate"]);
    insta::assert_snapshot!(
        "daemon_validate_problems",
        env.redact(&format!("{}{}", run.stdout, run.stderr))
    );
    env.write_daemon(SAMPLE);
    let (doc, code) = env.json(&["daemon", "validate"]);
    assert_eq!((code, doc["valid"].clone()), (0, json!(true)));
}

/// A process named `dockerd` that records each SIGHUP in a file (bash through a symlink named dockerd, so that
/// /proc/PID/comm says dockerd). No real dockerd can run here.
struct FakeDockerd {
    child: Child,
    hups: std::path::PathBuf,
    pidfile: std::path::PathBuf,
}

impl FakeDockerd {
    fn start(env: &TestEnv) -> FakeDockerd {
        let bin = env.path("dockerd");
        std::os::unix::fs::symlink("/bin/bash", &bin).unwrap();
        let hups = env.path("hups");
        let ready = env.path("ready");
        let script = format!(
            "trap 'echo hup >> {}' HUP; touch {}; while :; do sleep 0.05; done",
            hups.display(),
            ready.display()
        );
        let child = Command::new(&bin)
            .arg("-c")
            .arg(script)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !ready.exists() {
            assert!(Instant::now() < deadline, "fake dockerd did not start");
            std::thread::sleep(Duration::from_millis(10));
        }
        let pidfile = env.path("docker.pid");
        fs::write(&pidfile, format!("{}\n", child.id())).unwrap();
        FakeDockerd {
            child,
            hups,
            pidfile,
        }
    }

    fn hups(&self) -> usize {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let n = fs::read_to_string(&self.hups)
                .unwrap_or_default()
                .lines()
                .count();
            if n > 0 || Instant::now() > deadline {
                return n;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for FakeDockerd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn reload_sends_sighup_and_names_keys_that_need_a_restart() {
    let env = TestEnv::new();
    env.write_daemon(SAMPLE);
    let dockerd = FakeDockerd::start(&env);
    let pidfile = dockerd.pidfile.display().to_string();

    let (doc, code) = env.json(&["daemon", "reload", "--pidfile", &pidfile, "--check"]);
    assert_eq!((code, doc["changed"].clone()), (0, json!(true)));
    assert!(doc["msg"]
        .as_str()
        .unwrap()
        .starts_with("would send SIGHUP"));
    assert_eq!(fs::read_to_string(&dockerd.hups).unwrap_or_default(), "");

    let (doc, code) = env.json(&["daemon", "reload", "--pidfile", &pidfile]);
    assert_eq!(code, 0, "{doc}");
    assert_eq!(doc["pid"], dockerd.child.id());
    assert_eq!(dockerd.hups(), 1);

    // After a live key and a restart-only key change, reload names the restart-only one.
    env.json(&["mirror", "add", "https://other.example.com"]);
    env.json(&["daemon", "set", "data-root", "\"/srv/docker\""]);
    let (doc, code) = env.json(&["daemon", "reload", "--pidfile", &pidfile]);
    assert_eq!(code, 0);
    assert_eq!(
        doc["changed_keys"],
        json!(["registry-mirrors", "data-root"])
    );
    assert_eq!(doc["restart_needed"], json!(["data-root"]));
    assert!(doc["warnings"][0]
        .as_str()
        .unwrap()
        .contains("restart docker"));
}

#[test]
fn reload_refuses_an_invalid_file_a_stale_pidfile_and_other_processes() {
    let env = TestEnv::new();
    env.write_daemon("{\"registry-mirrors\": \"oops\"}");
    let dockerd = FakeDockerd::start(&env);
    let pidfile = dockerd.pidfile.display().to_string();
    let run = env.run(&["daemon", "reload", "--pidfile", &pidfile]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("1 problem") && run.stderr.contains("must be an array of strings"),
        "{}",
        run.stderr
    );
    env.write_daemon(SAMPLE);

    let stale = env.path("stale.pid");
    let reload_refused = |pidfile: &std::path::Path, words: &[&str]| {
        refused(
            &env,
            &env.daemon_json,
            &[
                "daemon",
                "reload",
                "--pidfile",
                &pidfile.display().to_string(),
            ],
            words,
        );
    };
    fs::write(&stale, "999999999\n").unwrap();
    reload_refused(&stale, &["is not running", "hint: start it"]);
    fs::write(&stale, "garbage").unwrap();
    reload_refused(&stale, &["does not hold a process id"]);
    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    fs::write(&stale, sleeper.id().to_string()).unwrap();
    reload_refused(&stale, &["not dockerd"]);
    assert!(
        sleeper.try_wait().unwrap().is_none(),
        "sleep must not have been signalled"
    );
    sleeper.kill().unwrap();
    let _ = sleeper.wait();
    reload_refused(&env.path("none.pid"), &["cannot read the dockerd pidfile"]);
    assert_eq!(fs::read_to_string(&dockerd.hups).unwrap_or_default(), "");
}
