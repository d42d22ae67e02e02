//! `regctl daemon validate` against the real dockerd 20.10, 26.1 and 28.5 (tests/support/dockerd.rs):
//! a corpus of daemon.json files, the verdict each version gives (recorded below as data), and
//! a live comparison of regctl's verdict with the real binary's for every file and version.
//!
//! The real verdict, cheapest first: `dockerd --validate --config-file F` (23.0+) where it is
//! complete; a start with the file as /etc/docker/daemon.json (does dockerd reach "API listen"?)
//! for 20.10, which has no --validate, and for the files with registry options, which
//! --validate does not check. A start counts once dockerd logs "Starting up" (it has decoded
//! and validated the file by then), or "API listen" for registry options (checked later).

use std::path::Path;
use std::process::Command;

use crate::support::dockerd::{Dockerd, Mode, Started};
use crate::support::{Run, TestEnv};

/// One daemon.json and whether dockerd 20.10, 26.1 and 28.5 accept it.
struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    /// [20.10, 26.1, 28.5]: true = dockerd gets past its configuration.
    accepted: [bool; 3],
}

const ALL: [bool; 3] = [true, true, true];
const NONE: [bool; 3] = [false, false, false];
/// Accepted from 23.0/25.0 on, refused by 20.10.
const NEWER: [bool; 3] = [false, true, true];

fn case(name: &'static str, text: &str, accepted: [bool; 3]) -> Case {
    Case {
        name,
        bytes: text.as_bytes().to_vec(),
        accepted,
    }
}

fn utf16le_with_bom(text: &str) -> Vec<u8> {
    let mut out = vec![0xFF, 0xFE];
    out.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    out
}

fn corpus() -> Vec<Case> {
    let mut bom8 = b"\xEF\xBB\xBF".to_vec();
    bom8.extend_from_slice(b"{\"debug\": true}\n");
    let mut cases = vec![
        case("empty-object", "{}\n", ALL),
        case("empty-file", "", NEWER),
        case("whitespace-only", " \n\t\n", NEWER),
        case("null-document", "null\n", ALL),
        case("array-document", "[]\n", NONE),
        case("trailing-comma", "{\"debug\": true,}\n", NONE),
        case("comment", "// dockerd\n{\"debug\": true}\n", NONE),
        case("duplicate-key", "{\"debug\": true, \"debug\": false}\n", ALL),
        case("unknown-key", "{\"bogus-option\": 1}\n", NONE),
        case(
            "unknown-key-holding-known-keys",
            "{\"bogus-section\": {\"debug\": true}}\n",
            ALL,
        ),
        case("bool-as-string", "{\"debug\": \"true\"}\n", NONE),
        case("int-as-float", "{\"max-concurrent-downloads\": 3.5}\n", NONE),
        case("negative-downloads", "{\"max-concurrent-downloads\": -1}\n", NONE),
        case("log-level-unknown", "{\"log-level\": \"verbose\"}\n", NONE),
        case("labels-valid", "{\"labels\": [\"tier=ci\"]}\n", ALL),
        case("label-without-equals", "{\"labels\": [\"tier\"]}\n", NONE),
        case("flag-named-label", "{\"label\": [\"tier=ci\"]}\n", ALL),
        case("log-opts-strings", "{\"log-opts\": {\"max-size\": \"10m\"}}\n", ALL),
        case("log-opts-number", "{\"log-opts\": {\"max-size\": 10}}\n", NONE),
        case(
            "log-opts-mixed",
            "{\"log-opts\": {\"max-size\": \"10m\", \"max-file\": 3}}\n",
            NONE,
        ),
        case("flag-named-log-opt-object", "{\"log-opt\": {\"max-size\": \"10m\"}}\n", NONE),
        case(
            "features-containerd",
            "{\"features\": {\"containerd-snapshotter\": true}}\n",
            ALL,
        ),
        case(
            "features-string",
            "{\"features\": {\"containerd-snapshotter\": \"true\"}}\n",
            NONE,
        ),
        case(
            "ulimits-valid",
            "{\"default-ulimits\": {\"nofile\": {\"Name\": \"nofile\", \"Hard\": 64000, \"Soft\": 64000}}}\n",
            ALL,
        ),
        case("ulimits-number", "{\"default-ulimits\": {\"nofile\": 64000}}\n", NONE),
        case(
            "proxies",
            "{\"proxies\": {\"http-proxy\": \"http://proxy.example.com:3128\"}}\n",
            NEWER,
        ),
        case(
            "default-network-opts",
            "{\"default-network-opts\": {\"overlay\": {\"com.docker.network.driver.mtu\": \"1400\"}}}\n",
            NEWER,
        ),
        case(
            "default-network-opts-number",
            "{\"default-network-opts\": {\"overlay\": {\"com.docker.network.driver.mtu\": 1400}}}\n",
            NONE,
        ),
        case("mtu-string", "{\"mtu\": \"1500\"}\n", NONE),
        case(
            "mirror",
            "{\"registry-mirrors\": [\"https://mirror.example.com\"]}\n",
            ALL,
        ),
        case(
            "mirror-with-path",
            "{\"registry-mirrors\": [\"https://mirror.example.com/dockerhub/\"]}\n",
            NEWER,
        ),
        case(
            "mirror-without-scheme",
            "{\"registry-mirrors\": [\"mirror.example.com\"]}\n",
            NONE,
        ),
        case(
            "mirror-ftp",
            "{\"registry-mirrors\": [\"ftp://mirror.example.com\"]}\n",
            NONE,
        ),
        case(
            "mirror-userinfo",
            "{\"registry-mirrors\": [\"https://u:p@mirror.example.com\"]}\n",
            NONE,
        ),
        case(
            "mirror-query",
            "{\"registry-mirrors\": [\"https://mirror.example.com/?a=b\"]}\n",
            NONE,
        ),
        case(
            "mirrors-as-string",
            "{\"registry-mirrors\": \"https://mirror.example.com\"}\n",
            NONE,
        ),
        case(
            "flag-named-registry-mirror",
            "{\"registry-mirror\": [\"https://mirror.example.com\"]}\n",
            ALL,
        ),
        case(
            "insecure",
            "{\"insecure-registries\": [\"registry.local:5000\", \"10.1.0.0/16\"]}\n",
            ALL,
        ),
        case(
            "insecure-with-scheme",
            "{\"insecure-registries\": [\"http://registry.local:5000\"]}\n",
            ALL,
        ),
        case(
            "insecure-bad-cidr",
            "{\"insecure-registries\": [\"10.0.0.0/33\"]}\n",
            NONE,
        ),
        case(
            "insecure-ftp",
            "{\"insecure-registries\": [\"ftp://registry.local\"]}\n",
            NONE,
        ),
        case(
            "flag-named-insecure-registry",
            "{\"insecure-registry\": [\"registry.local:5000\"]}\n",
            ALL,
        ),
        case(
            "containerd-store-with-http-mirror",
            "{\"features\": {\"containerd-snapshotter\": true}, \"registry-mirrors\": [\"http://10.0.0.1:5000\"]}\n",
            ALL,
        ),
        case("oom-score-adjust", "{\"oom-score-adjust\": -500}\n", [true, false, false]),
        case("api-cors-header", "{\"api-cors-header\": \"*\"}\n", [true, true, false]),
        case("log-format", "{\"log-format\": \"json\"}\n", NEWER),
        case("runtimes-string", "{\"runtimes\": {\"crun\": \"/usr/bin/crun\"}}\n", NONE),
        case("proxies-number", "{\"proxies\": {\"http-proxy\": 3128}}\n", NONE),
        case("proxies-typo", "{\"proxies\": {\"http-prxy\": \"http://p:3128\"}}\n", NONE),
    ];
    cases.push(Case {
        name: "utf8-bom",
        bytes: bom8,
        accepted: NEWER,
    });
    cases.push(Case {
        name: "utf16le-bom",
        bytes: utf16le_with_bom("{\"debug\": true}\n"),
        accepted: NEWER,
    });
    cases.push(Case {
        name: "utf16le-without-bom",
        bytes: utf16le_with_bom("{\"debug\": true}\n")[2..].to_vec(),
        accepted: NONE,
    });
    cases
}

/// Files whose verdict --validate does not give: registry options are checked only at start.
fn needs_start(c: &Case) -> bool {
    let text = String::from_utf8_lossy(&c.bytes);
    text.contains("registry-mirrors") || text.contains("insecure-registries")
}

/// What the real dockerd of this mode says about the file: `--validate` where it is complete,
/// else a start in a fresh namespace (no state left from an earlier start).
fn real_verdict(mode: Mode, file: &Path, c: &Case) -> (bool, String) {
    if mode != Mode::V20 {
        let out = Command::new(mode.dockerd_bin())
            .arg("--validate")
            .arg("--config-file")
            .arg(file)
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        if !out.status.success() || !needs_start(c) {
            return (out.status.success(), format!("--validate: {said}"));
        }
    }
    let mut d = Dockerd::namespace(mode);
    std::fs::write(d.daemon_json(), &c.bytes).unwrap();
    // dockerd has read, decoded and validated the file when it logs "Starting up"; registry
    // options are only checked later, before it listens.
    let marker = if needs_start(c) {
        "API listen on"
    } else {
        "Starting up"
    };
    match d.launch_until(&[], marker) {
        Started::Listening => {
            d.stop();
            (true, "started".into())
        }
        Started::Refused(log) => (false, format!("start: {}", last_lines(&log, 3))),
    }
}

fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

fn regctl_verdict(env: &TestEnv, file: &Path, mode: Mode) -> Run {
    env.run(&[
        "daemon",
        "validate",
        "--daemon-config",
        &file.display().to_string(),
        "--dockerd-version",
        mode.version(),
    ])
}

/// Every corpus file, every version: the real dockerd's verdict equals the recorded one, and
/// regctl's equals the real one.
#[test]
fn daemon_validate_agrees_with_the_real_dockerd_of_each_version() {
    let cases = corpus();
    assert!(cases.len() >= 30);
    let env = TestEnv::new();
    // One thread per version: each start waits on dockerd more than it computes.
    let wrong: Vec<String> = std::thread::scope(|scope| {
        let threads: Vec<_> = Mode::VERSIONS
            .into_iter()
            .enumerate()
            .map(|(i, mode)| {
                let (cases, env) = (&cases, &env);
                scope.spawn(move || disagreements(mode, i, cases, env))
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().unwrap())
            .collect()
    });
    assert!(
        wrong.is_empty(),
        "{} disagreements:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// The corpus against one version: where the real verdict differs from the table, and where
/// regctl's differs from the real one.
fn disagreements(mode: Mode, column: usize, cases: &[Case], env: &TestEnv) -> Vec<String> {
    let mut wrong = Vec::new();
    for c in cases {
        let file = env.path(&format!("{}-{}.json", c.name, mode.version()));
        std::fs::write(&file, &c.bytes).unwrap();
        let (real, said) = real_verdict(mode, &file, c);
        if real != c.accepted[column] {
            wrong.push(format!(
                "{} {}: recorded {}, real dockerd {} ({said})",
                mode.label(),
                c.name,
                c.accepted[column],
                real
            ));
        }
        let run = regctl_verdict(env, &file, mode);
        if !(run.code == 0 || run.code == 1) || (run.code == 0) != real {
            wrong.push(format!(
                "{} {}: regctl says {}, real dockerd {real} ({said}); regctl: {}{}",
                mode.label(),
                c.name,
                run.code == 0,
                run.stdout,
                run.stderr
            ));
        }
    }
    wrong
}
