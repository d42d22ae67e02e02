//! How regctl reads and writes daemon.json: lossless edits, atomic and locked writes, mode,
//! owner and symlinks kept, and every kind of bad file refused with the file left as it was.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value};

use crate::support::{self, is_root, FileState, TestEnv};

#[test]
fn unknown_keys_order_and_four_space_indent_survive_an_edit() {
    let env = TestEnv::new();
    let original = "{\n    \"zz-custom\": {\"nested\": [1, 2.50, \"\\u00e9\"]},\n    \"debug\": true,\n    \"a-key-dockerd-does-not-know\": 12345678901234567890,\n    \"log-opts\": {\n        \"max-size\": \"10m\"\n    }\n}\n";
    env.write_daemon(original);
    let (doc, code) = env.json(&["mirror", "add", "https://mirror.gcr.io"]);
    assert_eq!((code, doc["changed"].clone()), (0, json!(true)));
    let after = String::from_utf8(env.daemon_bytes()).unwrap();
    assert_eq!(
        after,
        "{\n    \"zz-custom\": {\"nested\": [1, 2.50, \"\\u00e9\"]},\n    \"debug\": true,\n    \"a-key-dockerd-does-not-know\": 12345678901234567890,\n    \"log-opts\": {\n        \"max-size\": \"10m\"\n    },\n    \"registry-mirrors\": [\n        \"https://mirror.gcr.io/\"\n    ]\n}\n",
        "every byte outside the new key is kept"
    );
    // Removing it again gives back the exact original text (with an empty list, as dockerd needs).
    env.json(&["daemon", "unset", "registry-mirrors"]);
    assert_eq!(String::from_utf8(env.daemon_bytes()).unwrap(), original);
}

#[test]
fn tabs_compact_and_crlf_layouts_are_kept() {
    for (text, expected) in [
        ("{\n\t\"debug\": true\n}", "{\n\t\"debug\": true,\n\t\"registry-mirrors\": [\n\t\t\"https://m.example.com/\"\n\t]\n}"),
        ("{\"debug\":true}", "{\"debug\":true,\"registry-mirrors\":[\"https://m.example.com/\"]}"),
        ("{\r\n  \"debug\": true\r\n}\r\n", "{\r\n  \"debug\": true,\r\n  \"registry-mirrors\": [\r\n    \"https://m.example.com/\"\r\n  ]\r\n}\r\n"),
    ] {
        let env = TestEnv::new();
        env.write_daemon(text);
        assert_eq!(env.run(&["mirror", "add", "https://m.example.com"]).code, 0);
        assert_eq!(String::from_utf8(env.daemon_bytes()).unwrap(), expected);
    }
}

#[test]
fn a_missing_file_and_directory_are_created() {
    let env = TestEnv::new();
    fs::remove_dir_all(env.daemon_json.parent().unwrap()).unwrap();
    let (doc, code) = env.json(&["insecure", "add", "registry.local:5000"]);
    assert_eq!((code, doc["changed"].clone()), (0, json!(true)));
    assert_eq!(
        String::from_utf8(env.daemon_bytes()).unwrap(),
        "{\n  \"insecure-registries\": [\n    \"registry.local:5000\"\n  ]\n}\n"
    );
    let mode = fs::metadata(&env.daemon_json).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o644);
}

#[test]
fn twenty_concurrent_adds_all_land() {
    let env = TestEnv::new();
    env.write_daemon("{\n  \"debug\": true\n}\n");
    let children: Vec<_> = (0..20)
        .map(|i| {
            env.std_cmd()
                .args(["mirror", "add", &format!("https://m{i}.example.com"), "-q"])
                .stdout(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    let value = env.daemon_value();
    let mirrors = value["registry-mirrors"].as_array().unwrap();
    assert_eq!(mirrors.len(), 20, "{mirrors:?}");
    for i in 0..20 {
        assert!(mirrors.contains(&json!(format!("https://m{i}.example.com/"))));
    }
    assert_eq!(value["debug"], true);
    let leftovers: Vec<_> = fs::read_dir(env.daemon_json.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .filter(|n| n != "daemon.json")
        .collect();
    assert!(
        leftovers.is_empty(),
        "temp files left behind: {leftovers:?}"
    );
}

#[test]
fn sigkill_while_writing_leaves_old_or_new_content() {
    let env = TestEnv::new();
    // A large file (about 1 MB) makes each write long enough for kills to land mid-way.
    let padding: Vec<String> = (0..30_000).map(|i| format!("label-{i:08}=value")).collect();
    let mut doc = serde_json::Map::new();
    doc.insert("x-padding".into(), json!(padding));
    doc.insert("registry-mirrors".into(), json!([]));
    env.write_daemon(&serde_json::to_string_pretty(&Value::Object(doc)).unwrap());
    // Calibrate: kill delays spread over the whole run, from start-up to rename.
    let started = std::time::Instant::now();
    assert_eq!(
        env.run(&["mirror", "add", "https://calibrate.example.com", "-q"])
            .code,
        0
    );
    let full_run = started.elapsed();
    let rounds = 80u32;
    // The first rounds spread kills over the run; the rest bisect towards the moment the new
    // content appears, where the write happens, with a little jitter around it.
    let (mut lo, mut hi) = (Duration::ZERO, full_run * 2);
    let (mut old_seen, mut new_seen, mut mid_write) = (0, 0, 0);
    for round in 0..rounds {
        let before_bytes = env.daemon_bytes();
        let before: Value = serde_json::from_slice(&before_bytes).unwrap();
        let mirror = format!("https://k{round}.example.com/");
        let mut child = env
            .std_cmd()
            .args(["mirror", "add", &mirror, "-q"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let delay = if round < 20 {
            full_run * 2 * round / 20
        } else {
            let jitter = Duration::from_micros(u64::from(round % 5) * 200);
            (lo + hi) / 2 + jitter - Duration::from_micros(400).min((lo + hi) / 2)
        };
        std::thread::sleep(delay);
        let _ = child.kill();
        let _ = child.wait();
        let temp_left = fs::read_dir(env.daemon_json.parent().unwrap())
            .unwrap()
            .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".tmp"));
        if temp_left {
            mid_write += 1;
        }
        let bytes = env.daemon_bytes();
        let now: Value = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!("round {round}: daemon.json does not parse after SIGKILL: {e}")
        });
        let mut expected_new = before.clone();
        expected_new["registry-mirrors"]
            .as_array_mut()
            .unwrap()
            .push(json!(mirror));
        if bytes == before_bytes {
            old_seen += 1;
            if round >= 20 && !temp_left {
                lo = delay;
            }
        } else {
            if round >= 20 {
                hi = delay;
            }
            assert_eq!(
                now, expected_new,
                "round {round}: neither the old nor the new content"
            );
            new_seen += 1;
        }
    }
    // The next run cleans up any temp file a killed run left, and the file is still whole.
    assert_eq!(env.run(&["mirror", "list", "-q"]).code, 0);
    assert!(
        env.run(&["mirror", "add", "https://final.example.com"])
            .code
            == 0
    );
    let leftovers: Vec<_> = fs::read_dir(env.daemon_json.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "daemon.json")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    eprintln!(
        "kills over a {full_run:?} run: {old_seen} left the old content, {new_seen} the new, {mid_write} landed mid-write"
    );
    assert!(
        old_seen > 0 && new_seen > 0,
        "kills must land both before and after the rename"
    );
}

#[test]
fn mode_and_owner_survive_an_edit() {
    let env = TestEnv::new();
    env.write_daemon("{}\n");
    fs::set_permissions(&env.daemon_json, fs::Permissions::from_mode(0o600)).unwrap();
    if is_root() {
        std::os::unix::fs::chown(&env.daemon_json, Some(1234), Some(2345)).unwrap();
    }
    assert_eq!(env.run(&["mirror", "add", "https://m.example.com"]).code, 0);
    let meta = fs::metadata(&env.daemon_json).unwrap();
    assert_eq!(meta.permissions().mode() & 0o7777, 0o600);
    if is_root() {
        assert_eq!((meta.uid(), meta.gid()), (1234, 2345));
    }
}

#[test]
fn a_symlinked_daemon_json_is_edited_at_its_target() {
    let env = TestEnv::new();
    let real_dir = env.path("real");
    fs::create_dir_all(&real_dir).unwrap();
    let target = real_dir.join("daemon.json");
    fs::write(&target, "{\"debug\": true}").unwrap();
    std::os::unix::fs::symlink(&target, &env.daemon_json).unwrap();
    assert_eq!(env.run(&["mirror", "add", "https://m.example.com"]).code, 0);
    assert!(fs::symlink_metadata(&env.daemon_json)
        .unwrap()
        .file_type()
        .is_symlink());
    let value: Value = serde_json::from_slice(&fs::read(&target).unwrap()).unwrap();
    assert_eq!(value["registry-mirrors"], json!(["https://m.example.com/"]));
}

#[test]
fn empty_or_blank_file_is_an_empty_config_as_dockerd_reads_it() {
    // dockerd (getConflictFreeConfiguration) treats an empty or all-white-space daemon.json as
    // an empty configuration, so regctl does too rather than refusing it.
    for text in ["", " \n\t\n"] {
        let env = TestEnv::new();
        env.write_daemon(text);
        let (doc, code) = env.json(&["mirror", "list"]);
        assert_eq!((code, doc["mirrors"].clone()), (0, json!([])));
        assert_eq!(env.run(&["mirror", "add", "https://m.example.com"]).code, 0);
        assert_eq!(
            env.daemon_value(),
            json!({"registry-mirrors": ["https://m.example.com/"]})
        );
    }
}

#[test]
fn a_utf8_bom_is_accepted_and_kept_as_dockerd_accepts_it() {
    let env = TestEnv::new();
    fs::write(&env.daemon_json, b"\xEF\xBB\xBF{\"debug\": true}\n").unwrap();
    assert_eq!(env.run(&["mirror", "add", "https://m.example.com"]).code, 0);
    assert_eq!(
        env.daemon_bytes(),
        b"\xEF\xBB\xBF{\"debug\": true,\"registry-mirrors\":[\"https://m.example.com/\"]}\n"
    );
}

/// A mutating command on a prepared bad file: refused with a message naming the file.
fn refused_naming_file(env: &TestEnv, args: &[&str], words: &str) {
    let path = env.daemon_json.display().to_string();
    support::refused(env, &env.daemon_json, args, &[path.as_str(), words]);
}

const MUTATIONS: &[&[&str]] = &[
    &["mirror", "add", "https://m.example.com"],
    &["insecure", "add", "r.local:5000"],
    &["daemon", "set", "debug", "true"],
    &["daemon", "unset", "debug"],
];

#[test]
fn malformed_json_is_refused_with_its_position() {
    let env = TestEnv::new();
    env.write_daemon("{\n  \"debug\": true,\n  \"registry-mirrors\": [\"https://a/\"\n}\n");
    for args in MUTATIONS {
        refused_naming_file(&env, args, "is not valid JSON");
    }
    let run = env.run(&["mirror", "list"]);
    assert!(run.stderr.contains("line 4"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);
}

#[test]
fn top_level_array_or_string_is_refused() {
    for (text, found) in [
        ("[\"https://a/\"]", "an array"),
        ("\"registry-mirrors\"", "a string"),
        ("42", "a number"),
    ] {
        let env = TestEnv::new();
        env.write_daemon(text);
        for args in MUTATIONS {
            refused_naming_file(&env, args, found);
        }
    }
}

#[test]
fn registry_mirrors_as_a_string_is_refused() {
    let env = TestEnv::new();
    env.write_daemon("{\"registry-mirrors\": \"https://a.example.com\"}");
    refused_naming_file(
        &env,
        &["mirror", "add", "https://m.example.com"],
        "registry-mirrors must be an array of strings, not a string",
    );
    refused_naming_file(
        &env,
        &["mirror", "remove", "https://a.example.com"],
        "must be an array of strings",
    );
    refused_naming_file(&env, &["mirror", "list"], "must be an array of strings");
    env.write_daemon("{\"insecure-registries\": [\"ok:5000\", 5000]}");
    refused_naming_file(
        &env,
        &["insecure", "add", "r.local"],
        "insecure-registries must be an array of strings, not an array of numbers",
    );
}

#[test]
fn non_utf8_bytes_are_refused() {
    let env = TestEnv::new();
    fs::write(&env.daemon_json, b"{\"labels\": [\"caf\xE9\"]}").unwrap();
    for args in MUTATIONS {
        refused_naming_file(&env, args, "is not UTF-8");
    }
    fs::write(&env.daemon_json, b"\xFF\xFE{\x00}\x00").unwrap();
    refused_naming_file(&env, &["mirror", "add", "https://m.example.com"], "UTF-16");
}

#[test]
fn a_directory_where_the_file_should_be_is_refused() {
    let env = TestEnv::new();
    fs::create_dir_all(env.daemon_json.join("inside")).unwrap();
    for args in MUTATIONS {
        let run = env.run(args);
        assert_eq!(run.code, 1);
        assert!(run.stderr.contains("is a directory"), "{}", run.stderr);
    }
    assert!(env.daemon_json.join("inside").is_dir());
}

#[test]
fn a_dangling_symlink_is_refused_not_replaced() {
    let env = TestEnv::new();
    let missing = env.path("nowhere/daemon.json");
    std::os::unix::fs::symlink(&missing, &env.daemon_json).unwrap();
    for args in MUTATIONS {
        let run = env.run(args);
        assert_eq!(run.code, 1);
        assert!(
            run.stderr.contains("which does not exist")
                && run.stderr.contains("nowhere/daemon.json"),
            "{}",
            run.stderr
        );
        assert!(fs::symlink_metadata(&env.daemon_json)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(!missing.exists());
    }
}

/// Runs regctl as an unprivileged user when the tests run as root (root ignores permissions).
fn run_unprivileged(env: &TestEnv, args: &[&str]) -> crate::support::Run {
    let mut cmd = if is_root() {
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "--"]);
        c.arg(crate::support::regctl_bin());
        c
    } else {
        Command::new(crate::support::regctl_bin())
    };
    cmd.env_clear();
    for (k, v) in env.env_vars() {
        cmd.env(k, v);
    }
    crate::support::Run::from(cmd.args(args).output().unwrap())
}

fn open_sandbox_to_others(env: &TestEnv) {
    for d in [
        env.dir.path().to_path_buf(),
        env.path("etc"),
        env.path("home"),
    ] {
        fs::set_permissions(&d, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

#[test]
fn an_unreadable_file_is_refused_with_a_sudo_hint() {
    let env = TestEnv::new();
    open_sandbox_to_others(&env);
    env.write_daemon("{\"debug\": true}");
    fs::set_permissions(&env.daemon_json, fs::Permissions::from_mode(0o000)).unwrap();
    if !is_root() {
        // Without root the test user owns the file; 000 still blocks reading.
    }
    let before = FileState::of(&env.daemon_json);
    let run = run_unprivileged(&env, &["mirror", "add", "https://m.example.com"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot read") && run.stderr.contains("ermission denied"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: sudo regctl mirror add https://m.example.com"),
        "{}",
        run.stderr
    );
    assert_eq!(FileState::of(&env.daemon_json), before);
}

#[test]
fn a_read_only_directory_is_refused_with_the_file_unchanged() {
    let env = TestEnv::new();
    open_sandbox_to_others(&env);
    env.write_daemon("{\"debug\": true}");
    let dir = env.daemon_json.parent().unwrap();
    fs::set_permissions(&env.daemon_json, fs::Permissions::from_mode(0o644)).unwrap();
    fs::set_permissions(dir, fs::Permissions::from_mode(0o555)).unwrap();
    let before = FileState::of(&env.daemon_json);
    let run = run_unprivileged(&env, &["mirror", "add", "https://m.example.com"]);
    fs::set_permissions(dir, fs::Permissions::from_mode(0o755)).unwrap();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("cannot write") && run.stderr.contains("ermission denied"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("hint: sudo regctl"), "{}", run.stderr);
    assert_eq!(FileState::of(&env.daemon_json), before);
    assert_eq!(fs::read_dir(dir).unwrap().count(), 1, "no temp file left");
}

/// Every command that edits daemon.json: the first run changes, the second changes nothing and
/// leaves the file alone (bytes, mtime, inode); --check on the same start reports the change and
/// writes nothing; --diff shows it.
#[test]
fn every_mutating_command_is_idempotent_check_safe_and_diffable() {
    let start = "{\n  \"debug\": false,\n  \"log-opts\": {\"max-size\": \"10m\"},\n  \"registry-mirrors\": [\"https://old.example.com/\"],\n  \"insecure-registries\": [\"old.local:5000\"]\n}\n";
    let commands: &[&[&str]] = &[
        &["mirror", "add", "https://new.example.com"],
        &["mirror", "remove", "https://old.example.com"],
        &["insecure", "add", "new.local:5000"],
        &["insecure", "remove", "old.local:5000"],
        &["daemon", "set", "debug", "true"],
        &["daemon", "set", "log-opts.max-file", "3"],
        &["daemon", "unset", "debug"],
        &["daemon", "unset", "log-opts.max-size"],
    ];
    for args in commands {
        // --check first, on the untouched start.
        let env = TestEnv::new();
        env.write_daemon(start);
        let before = FileState::of(&env.daemon_json);
        let mut check = args.to_vec();
        check.extend(["--check", "--diff"]);
        let (doc, code) = env.json(&check);
        assert_eq!(
            (code, doc["changed"].clone()),
            (0, json!(true)),
            "{args:?} --check"
        );
        let diff = &doc["diff"][0];
        assert_eq!(diff["before"], start, "{args:?}");
        assert_ne!(diff["after"], diff["before"], "{args:?}");
        assert_eq!(
            FileState::of(&env.daemon_json),
            before,
            "{args:?} --check wrote"
        );

        // The real run writes exactly what --check showed.
        let (doc, _) = env.json(args);
        assert_eq!(doc["changed"], true, "{args:?}");
        assert_eq!(
            String::from_utf8(env.daemon_bytes()).unwrap(),
            diff["after"].as_str().unwrap(),
            "{args:?}"
        );

        // The second run changes nothing and does not touch the file.
        crate::support::age_file(&env.daemon_json);
        let settled = FileState::of(&env.daemon_json);
        let (doc, code) = env.json(args);
        assert_eq!(
            (code, doc["changed"].clone()),
            (0, json!(false)),
            "{args:?} second run"
        );
        assert_eq!(
            FileState::of(&env.daemon_json),
            settled,
            "{args:?} second run touched the file"
        );

        // Text --diff shows a unified diff on stdout.
        let env = TestEnv::new();
        env.write_daemon(start);
        let mut with_diff = args.to_vec();
        with_diff.push("--diff");
        let run = env.run(&with_diff);
        assert!(
            run.stdout.starts_with("--- ") && run.stdout.contains("\n@@ "),
            "{args:?}: {}",
            run.stdout
        );
    }
}
