//! `regctl doctor` on the configurations people really have: Docker Hub's mirrors judged as
//! mirrors (a dead name, a live pull-through cache, a registry that is no mirror, a slow hop),
//! Docker Hub in every bare doctor, DNS down inside a mount namespace whose resolv.conf points
//! at a closed loopback port, and the real dockerd pulling through a first-dead-then-live mirror
//! list as doctor says it will. Every server is on loopback; Docker Hub itself is never reached
//! (TestEnv points its names at 127.0.0.1, where nothing listens on 443).

use std::time::Duration;

use serde::Deserialize;

use crate::docker_real::assert_pulls;
use crate::support::dockerd::{Dockerd, Mode, Started};
use crate::support::hostile::{DelayProxy, RecordingProxy};
use crate::support::registry::{free_port, Registry, RegistryOptions};
use crate::support::TestEnv;

/// A mirror whose name does not resolve.
const DEAD: &str = "https://dead-mirror.regctl-test.invalid";
/// What the upstream holds (Docker Hub's `hello:v1` as image names spell it).
const IMAGE: &str = "library/hello:v1";

#[derive(Debug, Deserialize)]
struct Probe {
    url: String,
    position: usize,
    verdict: String,
    latency_ms: Option<u64>,
    message: String,
    fix: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Check {
    id: String,
    status: String,
    message: String,
    fix: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Report {
    registry: String,
    checks: Vec<Check>,
    #[serde(default)]
    mirrors: Vec<Probe>,
}

#[derive(Debug, Deserialize)]
struct Doctor {
    ok: bool,
    local: Report,
    registries: Vec<Report>,
}

#[derive(Debug, Deserialize)]
struct ProbeList {
    probe_image: String,
    mirrors: Vec<Probe>,
    fallback: Option<Check>,
}

/// `regctl doctor ARGS -o json`, read.
fn doctor(env: &TestEnv, args: &[&str]) -> (Doctor, i32) {
    let mut all = vec!["doctor"];
    all.extend(args);
    let (doc, code) = env.json(&all);
    (serde_json::from_value(doc).unwrap(), code)
}

/// Each mirror as (url, position, verdict), in the order reported.
fn verdicts(probes: &[Probe]) -> Vec<(&str, usize, &str)> {
    probes
        .iter()
        .map(|p| (p.url.as_str(), p.position, p.verdict.as_str()))
        .collect()
}

fn parse<T: serde::de::DeserializeOwned>(stdout: &str, stderr: &str) -> T {
    serde_json::from_str(stdout)
        .unwrap_or_else(|e| panic!("not the JSON expected ({e}):\n{stdout}\nstderr: {stderr}"))
}

impl Report {
    fn check(&self, id: &str) -> &Check {
        self.checks
            .iter()
            .find(|c| c.id == id)
            .unwrap_or_else(|| panic!("no {id} in {}: {:#?}", self.registry, self.checks))
    }
}

impl Doctor {
    fn hub(&self) -> &Report {
        let hub = self.registries.last().expect("a report");
        assert_eq!(hub.registry, "docker.io", "{self:#?}");
        hub
    }
}

/// An upstream holding library/hello:v1, a pull-through mirror of it, a registry without it,
/// and a slow hop in front of the mirror.
struct Mirrors {
    _upstream: Registry,
    live: Registry,
    plain: Registry,
    slow: DelayProxy,
}

impl Mirrors {
    fn start() -> Mirrors {
        let upstream = Registry::start(RegistryOptions::default());
        upstream.seed_image("library/hello", "v1", None, None);
        let live = Registry::start(RegistryOptions {
            proxy_remote: Some(format!("http://{}", upstream.host)),
            ..Default::default()
        });
        let plain = Registry::start(RegistryOptions::default());
        let slow = DelayProxy::start(&live.host, Duration::from_millis(1500));
        Mirrors {
            _upstream: upstream,
            live,
            plain,
            slow,
        }
    }

    fn live_url(&self) -> String {
        format!("http://{}", self.live.host)
    }
    fn plain_url(&self) -> String {
        format!("http://{}", self.plain.host)
    }
    fn slow_url(&self) -> String {
        format!("http://{}", self.slow.host)
    }

    /// Text with the servers' ports, latencies and sandbox paths made stable.
    fn redact(&self, env: &TestEnv, text: &str) -> String {
        let text = env
            .redact(text)
            .replace(&self.live.host, "[LIVE]")
            .replace(&self.plain.host, "[PLAIN]")
            .replace(&self.slow.host, "[SLOW]");
        redact_times(&text)
    }
}

/// `(12 ms)`, `in 12 ms`, `12 ms behind` -> `N ms`; the docker CLI's version.
fn redact_times(text: &str) -> String {
    let mut out = String::new();
    let mut digits = String::new();
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        rest = &rest[c.len_utf8()..];
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        if !digits.is_empty() {
            if c == ' ' && rest.starts_with("ms") {
                out.push('N');
            } else {
                out.push_str(&digits);
            }
            digits.clear();
        }
        out.push(c);
    }
    out.push_str(&digits);
    out.lines()
        .map(|l| match l.find("docker CLI ") {
            Some(i) => format!("{}docker CLI [VERSION]", &l[..i]),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn doctor_gives_each_mirror_its_verdict_and_fix_fastest_first() {
    let m = Mirrors::start();
    let env = TestEnv::new();
    let configured = [DEAD.to_string(), m.slow_url(), m.plain_url(), m.live_url()];
    env.write_daemon(&serde_json::json!({ "registry-mirrors": configured }).to_string());
    let args = ["--probe-image", IMAGE, "--timeout", "5"];
    let (doc, code) = doctor(&env, &args);
    assert_eq!((code, doc.ok), (1, false));
    // Mirrors are not registries of their own: only Docker Hub's report names them.
    let names: Vec<&str> = doc.registries.iter().map(|r| r.registry.as_str()).collect();
    assert_eq!(names, ["docker.io"]);
    let hub = doc.hub();
    let got = verdicts(&hub.mirrors);
    let (live, slow, plain) = (m.live_url(), m.slow_url(), m.plain_url());
    assert_eq!(
        got,
        [
            (live.as_str(), 4, "live"),
            (slow.as_str(), 2, "slow"),
            (plain.as_str(), 3, "not_a_mirror"),
            (DEAD, 1, "dead"),
        ],
        "{:#?}",
        hub.mirrors
    );
    let [live_p, slow_p, plain_p, dead_p] = &hub.mirrors[..] else {
        unreachable!()
    };
    assert!(live_p.latency_ms.unwrap() < slow_p.latency_ms.unwrap());
    assert!(slow_p.latency_ms.unwrap() >= 1500, "{slow_p:?}");
    assert_eq!(live_p.fix, None);
    assert_eq!(
        slow_p.fix.as_deref(),
        Some(
            format!(
                "move it last: sudo regctl mirror remove {slow} && sudo regctl mirror add {slow} && sudo regctl daemon reload"
            )
            .as_str()
        )
    );
    assert!(plain_p.message.contains("manifest unknown"), "{plain_p:?}");
    for p in [plain_p, dead_p] {
        assert_eq!(
            p.fix.as_deref(),
            Some(
                format!(
                    "sudo regctl mirror remove {} && sudo regctl daemon reload",
                    p.url
                )
                .as_str()
            )
        );
    }
    assert!(dead_p.message.contains("does not resolve"), "{dead_p:?}");
    // The checks say the same, in the same order, then what dockerd does with the list.
    let ids: Vec<&str> = hub.checks.iter().take(5).map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "mirror.live",
            "mirror.slow",
            "mirror.not_a_mirror",
            "mirror.dead",
            "mirror.fallback"
        ]
    );
    let fallback = hub.check("mirror.fallback");
    assert_eq!(fallback.status, "warn");
    // Docker Hub itself (unreachable here) is only the last fallback: a warning, not a failure.
    let direct = hub.check("tcp.refused");
    assert_eq!(direct.status, "warn", "{direct:?}");
    assert!(direct.message.contains("last fallback"), "{direct:?}");
    assert!(!hub.checks.iter().any(|c| c.id == "registry.ok"));
    assert!(
        fallback
            .message
            .contains(&format!("{DEAD} fails first, then it falls back to {slow}")),
        "{fallback:?}"
    );
    assert!(
        !hub.checks.iter().any(|c| c
            .fix
            .as_deref()
            .unwrap_or("")
            .contains("check the spelling")),
        "{:#?}",
        hub.checks
    );

    // mirror list --probe: the same verdicts, fastest first, in JSON too.
    let (doc, code) = env.json(&[
        "mirror",
        "list",
        "--probe",
        "--probe-image",
        IMAGE,
        "--timeout",
        "5",
    ]);
    assert_eq!(code, 1);
    let list: ProbeList = serde_json::from_value(doc).unwrap();
    assert_eq!(list.probe_image, IMAGE);
    assert_eq!(verdicts(&list.mirrors), got);
    assert_eq!(list.fallback.unwrap().id, "mirror.fallback");

    let run = env.run(&[&["doctor"], &args[..]].concat());
    insta::assert_snapshot!("doctor_mirror_scenario", m.redact(&env, &run.stdout));
}

#[test]
fn a_bare_doctor_on_a_fresh_machine_checks_docker_hub_and_says_files_are_absent() {
    let env = TestEnv::new();
    let run = env.run(&["doctor", "--timeout", "3"]);
    assert_eq!(run.code, 1, "{run:?}");
    insta::assert_snapshot!(
        "doctor_fresh_machine",
        redact_times(&env.redact(&run.stdout))
    );
    let (doc, _) = doctor(&env, &["--timeout", "3"]);
    let local: Vec<&str> = doc.local.checks.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        local,
        [
            "config.engine",
            "config.daemon_json_absent",
            "config.client_json_absent"
        ]
    );
    assert!(doc
        .local
        .check("config.daemon_json_absent")
        .message
        .contains("does not exist"));
    let hub = doc.hub();
    assert_eq!(doc.registries.len(), 1);
    assert!(hub.check("dns.resolved").message.contains("127.0.0.1"));
    assert_eq!(hub.check("tcp.refused").status, "fail");
    assert!(hub.mirrors.is_empty());
}

#[test]
fn with_no_name_server_answering_doctor_says_dns_is_down_not_check_the_spelling() {
    let env = TestEnv::new();
    // The namespace's resolv.conf names 127.0.0.1, where nothing listens on port 53.
    let mut d = Dockerd::namespace(Mode::V28);
    // daemon.json's `dns` (the containers' resolvers) is asked too, and named.
    d.write_daemon_json(&format!(
        "{{\"registry-mirrors\": [\"{DEAD}\"], \"dns\": [\"127.0.0.1\"]}}\n"
    ));
    let name = "registry.regctl-test.invalid:5000";
    let run = d.regctl(
        &env,
        &["doctor", name, "docker.io", "--timeout", "3", "-o", "json"],
    );
    let doc: Doctor = parse(&run.stdout, &run.stderr);
    let registry = &doc.registries[0];
    assert_eq!(registry.registry, name);
    let down = registry.check("dns.down");
    assert_eq!(down.status, "fail");
    assert!(down.message.contains("127.0.0.1: "), "{down:?}");
    assert!(
        down.message
            .contains("daemon.json \"dns\" (containers' resolvers, not dockerd's): 127.0.0.1: "),
        "{down:?}"
    );
    assert!(
        down.fix.as_deref().unwrap().contains("/etc/resolv.conf"),
        "{down:?}"
    );
    assert!(!run.stdout.contains("check the spelling"), "{}", run.stdout);
    let hub = doc.hub();
    assert_eq!(hub.mirrors.len(), 1);
    assert_eq!(hub.mirrors[0].verdict, "dns_down", "{:?}", hub.mirrors[0]);
    assert_eq!(hub.check("mirror.dns_down").status, "fail");

    // dockerd's own words for it are the ones doctor quotes.
    match d.launch() {
        Started::Listening => {}
        Started::Refused(log) => panic!("dockerd did not start:\n{log}"),
    }
    let said = d.docker(
        &env,
        std::path::Path::new("/usr/bin/docker"),
        &["pull", &format!("{name}/x:1")],
    );
    let quoted = "dial tcp: lookup registry.regctl-test.invalid on 127.0.0.1:53: read udp ";
    assert!(said.stderr.contains(quoted), "{said:?}");
    assert!(said.stderr.contains("connection refused"), "{said:?}");
    let want = "dial tcp: lookup registry.regctl-test.invalid on 127.0.0.1:53: read udp ...: connection refused";
    assert!(down.message.contains(want), "{down:?}");
}

/// dockerd with `[dead, live]`: doctor says the dead mirror fails first and the live one serves
/// the pull; the real pull of a Hub name then works (Docker Hub's names point at loopback in
/// the namespace, so only the mirror can have served it).
#[test]
fn dockerd_falls_back_from_a_dead_mirror_to_the_live_one_as_doctor_says() {
    let m = Mirrors::start();
    let env = TestEnv::new();
    let dead = format!("http://dead-mirror.regctl.test:{}", free_port());
    for mode in Mode::ALL {
        let mut d = Dockerd::namespace(mode);
        d.add_host("dead-mirror.regctl.test", "127.0.0.1");
        let mut config = serde_json::json!({ "registry-mirrors": [dead, m.live_url()] });
        if mode.containerd_store() {
            config["features"] = serde_json::json!({"containerd-snapshotter": true});
        }
        d.write_daemon_json(&config.to_string());
        match d.launch() {
            Started::Listening => {}
            Started::Refused(log) => panic!("{} did not start:\n{log}", mode.label()),
        }
        let run = d.regctl(
            &env,
            &[
                "doctor",
                "docker.io",
                "--probe-image",
                IMAGE,
                "--timeout",
                "5",
                "-o",
                "json",
            ],
        );
        let doc: Doctor = parse(&run.stdout, &run.stderr);
        let hub = doc.hub();
        let live = m.live_url();
        assert_eq!(
            verdicts(&hub.mirrors),
            [(live.as_str(), 2, "live"), (dead.as_str(), 1, "dead")],
            "{}",
            mode.label()
        );
        let fallback = hub.check("mirror.fallback");
        assert!(
            fallback
                .message
                .contains(&format!("{dead} fails first, then it falls back to {live}")),
            "{}: {fallback:?}",
            mode.label()
        );
        assert_pulls(&d, &env, "hello:v1", "doctor said the second mirror serves");
    }
}

/// dockerd 28+ with the containerd image store takes Docker Hub's mirrors from
/// certs.d/docker.io/hosts.toml when that lists any, and ignores daemon.json's: doctor probes
/// that list, and its fixes edit that file.
#[test]
fn with_the_containerd_store_a_hosts_toml_list_is_the_one_probed() {
    let m = Mirrors::start();
    let env = TestEnv::new();
    env.write_daemon(&format!(
        "{{\"features\": {{\"containerd-snapshotter\": true}}, \"registry-mirrors\": [\"{DEAD}\"]}}"
    ));
    let plain = m.plain_url();
    let live = m.live_url();
    for url in [&plain, &live] {
        let run = env.run(&["mirror", "add", url, "--for", "docker.io"]);
        assert_eq!(run.code, 0, "{run:?}");
    }
    let args = ["docker.io", "--probe-image", IMAGE, "--timeout", "5"];
    let (doc, _) = doctor(&env, &args);
    let hub = doc.hub();
    assert_eq!(
        verdicts(&hub.mirrors),
        [
            (live.as_str(), 2, "live"),
            (plain.as_str(), 1, "not_a_mirror")
        ],
        "{:#?}",
        hub.mirrors
    );
    let hosts = env.certs_dir.join("docker.io/hosts.toml");
    assert!(hub
        .check("mirror.live")
        .message
        .contains(&format!("in {}", hosts.display())));
    assert_eq!(
        hub.mirrors[1].fix.as_deref(),
        Some(format!("sudo regctl mirror remove {plain} --for docker.io").as_str())
    );
    // The classic store reads daemon.json alone.
    env.write_daemon(&format!("{{\"registry-mirrors\": [\"{DEAD}\"]}}"));
    let (doc, _) = doctor(&env, &args);
    let urls: Vec<&str> = doc.hub().mirrors.iter().map(|p| p.url.as_str()).collect();
    assert_eq!(urls, [DEAD]);
}

/// dockerd reaches its mirrors through its own proxy (daemon.json `proxies`), so doctor probes
/// them through it too: the proxy is asked for the mirror (its CONNECT is seen), no DNS lookup
/// of the mirror's name is made here, and the verdict names the proxy. The proxy refuses with
/// 502, so nothing leaves loopback; the shell's proxy is not used when dockerd has its own.
#[test]
fn mirrors_are_probed_through_dockerds_proxy() {
    let dockerd_proxy = RecordingProxy::start();
    let shell_proxy = RecordingProxy::start();
    let mut env = TestEnv::new();
    env.set_env("HTTPS_PROXY", &shell_proxy.url);
    env.write_daemon(&format!(
        "{{\"registry-mirrors\": [\"{DEAD}\"], \"proxies\": {{\"https-proxy\": \"{}\"}}}}\n",
        dockerd_proxy.url
    ));
    let (doc, code) = doctor(&env, &["--timeout", "3"]);
    assert_eq!(code, 1, "{doc:#?}");
    let hub = doc.hub();
    assert_eq!(hub.mirrors.len(), 1, "{hub:#?}");
    let probe = &hub.mirrors[0];
    assert_eq!(probe.verdict, "dead", "{probe:?}");
    assert!(
        probe
            .message
            .contains(&format!("through the proxy {}", dockerd_proxy.url)),
        "{probe:?}"
    );
    assert!(!probe.message.contains("does not resolve"), "{probe:?}");
    let seen = dockerd_proxy.seen();
    assert!(
        seen.iter()
            .any(|l| l.starts_with("CONNECT dead-mirror.regctl-test.invalid:443 ")),
        "dockerd's proxy saw {seen:?}"
    );
    assert_eq!(shell_proxy.seen(), Vec::<String>::new());
}
