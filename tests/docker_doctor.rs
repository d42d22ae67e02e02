//! `regctl doctor` against the real dockerd: a fault matrix. Each fault is a real registry (in a
//! network namespace of the test's, so dockerd does not treat it as insecure) and the files on
//! the client side; for every dockerd mode the test pulls with the real docker CLI and runs
//! `regctl doctor` in the same mount namespace (default paths). doctor's verdict must equal the
//! pull's outcome, and `doctor --explain` on docker's own error text must name the same cause
//! (same check family, same kind of fix). The pull outcomes are recorded below as data: they
//! are what the real daemons did, and the test fails when a daemon does otherwise.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Instant;

use base64::Engine as _;
use serde_json::Value;

use crate::support::dockerd::{docker_clis, Dockerd, Mode};
use crate::support::netns::NetnsHost;
use crate::support::pki::{self_signed_ca_leaf, Pem, TestCa, Validity};
use crate::support::registry::{write_oci_layout, Registry, RegistryOptions};
use crate::support::token_server::TokenServer;
use crate::support::{regctl_bin, require_tool, run_with_stdin, Run, TestEnv};

const REPO: &str = "hello";
const TAG: &str = "v1";
const USER: &str = "alice";
const PASSWORD: &str = "s3cret";

/// Which CLI a pull outcome is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cli {
    /// Debian's docker 20.10 (/usr/bin/docker).
    Debian,
    /// The machine's newer CLI in /usr/local/bin (28.2 here), when present.
    Local,
}

/// Whether `docker pull` succeeds, per mode in `Mode::ALL` order (20.10, 26.1, 26.1 containerd
/// store, 28.5, 28.5 containerd store), per CLI.
#[derive(Debug, Clone, Copy)]
struct Pulls {
    debian: [bool; 5],
    local: [bool; 5],
}

const ALL_FAIL: Pulls = Pulls {
    debian: [false; 5],
    local: [false; 5],
};
const ALL_PASS: Pulls = Pulls {
    debian: [true; 5],
    local: [true; 5],
};

/// The matrix: fault, and what the real docker did.
const MATRIX: &[(Fault, Pulls)] = &[
    (Fault::UnknownCa, ALL_FAIL),
    (Fault::WrongHostName, ALL_FAIL),
    (Fault::Expired, ALL_FAIL),
    (Fault::SelfSignedCaLeafInCertsD, ALL_PASS),
    (Fault::CaSignedLeafPinnedAsCa, ALL_PASS),
    (Fault::MtlsWithoutPair, ALL_FAIL),
    (Fault::MtlsWithPair, ALL_PASS),
    (Fault::LeafWithIntermediate, ALL_PASS),
    (Fault::LeafWithoutIntermediate, ALL_FAIL),
    (Fault::PlainHttpNotInsecure, ALL_FAIL),
    (Fault::WrongPassword, ALL_FAIL),
    (Fault::NoCredentials, ALL_FAIL),
    // `HTTPS://HOST:PORT/`: docker/cli 27+ parses it as a URL, 20.10 does not; the containerd
    // store then drops credentials whose key does not reduce to the host by moby's rule.
    (
        Fault::UpperCaseUrlKey,
        Pulls {
            debian: [false; 5],
            local: [true, true, false, true, false],
        },
    ),
    // The classic store reaches the realm with the registry's TLS settings; the containerd
    // store with the system roots alone.
    (
        Fault::RealmCaInRegistryFolder,
        Pulls {
            debian: [true, true, false, true, false],
            local: [true, true, false, true, false],
        },
    ),
    (Fault::RealmCaInRealmFolder, ALL_FAIL),
    (Fault::RealmCaNowhere, ALL_FAIL),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    UnknownCa,
    WrongHostName,
    Expired,
    SelfSignedCaLeafInCertsD,
    CaSignedLeafPinnedAsCa,
    MtlsWithoutPair,
    MtlsWithPair,
    LeafWithIntermediate,
    LeafWithoutIntermediate,
    PlainHttpNotInsecure,
    WrongPassword,
    NoCredentials,
    UpperCaseUrlKey,
    RealmCaInRegistryFolder,
    RealmCaInRealmFolder,
    RealmCaNowhere,
}

/// A fault set up: the servers (kept alive) and the client-side files.
struct Scenario {
    host: String,
    _registry: Registry,
    _token: Option<TokenServer>,
    /// (certs.d folder, file name, content), written into every daemon's /etc/docker.
    certs: Vec<(String, String, String)>,
    /// config.json `auths` (key, password), stored in plain text.
    auths: Vec<(String, String)>,
}

fn auths_json(auths: &[(String, String)]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut m = serde_json::Map::new();
    for (k, pass) in auths {
        m.insert(
            k.clone(),
            serde_json::json!({"auth": b64.encode(format!("{USER}:{pass}"))}),
        );
    }
    serde_json::json!({ "auths": m }).to_string()
}

/// Pushes the test image with skopeo run in `d`'s namespace (so test host names resolve),
/// without verifying TLS; `cert_dir` may hold a client pair for mTLS registries.
fn seed(d: &Dockerd, reg: &Registry, creds: bool, cert_dir: Option<&Path>) {
    let layout = reg.dir.path().join("oci-layout");
    write_oci_layout(&layout, TAG);
    let mut cmd = d.command(&require_tool("skopeo"));
    cmd.args([
        "copy",
        "--quiet",
        "--insecure-policy",
        "--dest-tls-verify=false",
    ]);
    if creds {
        cmd.arg("--dest-creds").arg(format!("{USER}:{PASSWORD}"));
    }
    if let Some(dir) = cert_dir {
        cmd.arg("--dest-cert-dir").arg(dir);
    }
    cmd.arg(format!("oci:{}:{TAG}", layout.display()))
        .arg(format!("docker://{}/{REPO}:{TAG}", reg.host))
        .env("HOME", reg.dir.path());
    let run = run_with_stdin(&mut cmd, "");
    assert_eq!(
        run.code,
        0,
        "seeding {} failed: {}\n{}",
        reg.host,
        run.stderr,
        reg.log()
    );
}

fn start(host: &NetnsHost, tls: Option<Pem>, client_ca: Option<&TestCa>, users: bool) -> Registry {
    Registry::start_in(
        RegistryOptions {
            tls,
            client_ca: client_ca.map(|c| c.pem.cert.clone()),
            users: if users {
                vec![(USER.into(), PASSWORD.into())]
            } else {
                Vec::new()
            },
            ..Default::default()
        },
        host,
    )
}

fn ca_file(folder: &str, content: &str) -> (String, String, String) {
    (folder.to_string(), "ca.crt".into(), content.to_string())
}

fn setup(fault: Fault, net: &NetnsHost, first: &Dockerd, n: usize) -> Scenario {
    let ca = TestCa::new(&format!("Matrix CA {n}"));
    let ip = net.ip.as_str();
    let plain = |reg: Registry, certs, auths| Scenario {
        host: reg.host.clone(),
        _registry: reg,
        _token: None,
        certs,
        auths,
    };
    let good_login = |host: &str| vec![(host.to_string(), PASSWORD.to_string())];
    match fault {
        Fault::UnknownCa
        | Fault::WrongHostName
        | Fault::Expired
        | Fault::WrongPassword
        | Fault::NoCredentials
        | Fault::UpperCaseUrlKey => {
            let cert = match fault {
                Fault::WrongHostName => ca.server(&["wrong.regctl.test"]),
                Fault::Expired => ca.server_with(&[ip], Validity::Expired),
                _ => ca.server(&[ip]),
            };
            let reg = start(net, Some(cert), None, true);
            seed(first, &reg, true, None);
            let host = reg.host.clone();
            let certs = if fault == Fault::UnknownCa {
                Vec::new()
            } else {
                vec![ca_file(&host, &ca.pem.cert)]
            };
            let auths = match fault {
                Fault::WrongPassword => vec![(host.clone(), "outdated".to_string())],
                Fault::NoCredentials => Vec::new(),
                Fault::UpperCaseUrlKey => vec![(format!("HTTPS://{host}/"), PASSWORD.into())],
                _ => good_login(&host),
            };
            plain(reg, certs, auths)
        }
        Fault::SelfSignedCaLeafInCertsD => {
            let leaf = self_signed_ca_leaf(&[ip]);
            let reg = start(net, Some(leaf.clone()), None, false);
            seed(first, &reg, false, None);
            let certs = vec![ca_file(&reg.host, &leaf.cert)];
            plain(reg, certs, Vec::new())
        }
        Fault::CaSignedLeafPinnedAsCa => {
            let leaf = ca.server(&[ip]);
            let reg = start(net, Some(leaf.clone()), None, false);
            seed(first, &reg, false, None);
            let certs = vec![ca_file(&reg.host, &leaf.cert)];
            plain(reg, certs, Vec::new())
        }
        Fault::MtlsWithoutPair | Fault::MtlsWithPair => {
            let reg = start(net, Some(ca.server(&[ip])), Some(&ca), false);
            let pair = ca.client("matrix-client");
            let seed_dir = reg.dir.path().join("seed-certs");
            fs::create_dir_all(&seed_dir).unwrap();
            fs::write(seed_dir.join("client.cert"), &pair.cert).unwrap();
            fs::write(seed_dir.join("client.key"), &pair.key).unwrap();
            seed(first, &reg, false, Some(&seed_dir));
            let host = reg.host.clone();
            let mut certs = vec![ca_file(&host, &ca.pem.cert)];
            if fault == Fault::MtlsWithPair {
                certs.push((host.clone(), "client.cert".into(), pair.cert));
                certs.push((host.clone(), "client.key".into(), pair.key));
            }
            plain(reg, certs, Vec::new())
        }
        Fault::LeafWithIntermediate | Fault::LeafWithoutIntermediate => {
            let inter = ca.intermediate(&format!("Matrix intermediate {n}"), None);
            let mut leaf = inter.server(&[ip]);
            if fault == Fault::LeafWithIntermediate {
                leaf.cert.push_str(&inter.pem.cert);
            }
            let reg = start(net, Some(leaf), None, false);
            seed(first, &reg, false, None);
            let certs = vec![ca_file(&reg.host, &ca.pem.cert)];
            plain(reg, certs, Vec::new())
        }
        Fault::PlainHttpNotInsecure => {
            let reg = start(net, None, None, false);
            seed(first, &reg, false, None);
            plain(reg, Vec::new(), Vec::new())
        }
        Fault::RealmCaInRegistryFolder | Fault::RealmCaInRealmFolder | Fault::RealmCaNowhere => {
            let realm_ca = TestCa::new(&format!("Matrix realm CA {n}"));
            let name = realm_name(n);
            let token = TokenServer::start_named(&ca, &realm_ca, &[(USER, PASSWORD)], &name);
            let reg = Registry::start_in(
                RegistryOptions {
                    tls: Some(ca.server(&[ip])),
                    token: Some(token.registry_auth(&ca)),
                    ..Default::default()
                },
                net,
            );
            seed(first, &reg, true, None);
            let host = reg.host.clone();
            let realm_folder = format!("{name}:{}", token.port);
            let mut certs = vec![ca_file(&host, &ca.pem.cert)];
            match fault {
                Fault::RealmCaInRegistryFolder => certs.push((
                    host.clone(),
                    "realm-ca.crt".into(),
                    realm_ca.pem.cert.clone(),
                )),
                Fault::RealmCaInRealmFolder => {
                    certs.push(ca_file(&realm_folder, &realm_ca.pem.cert))
                }
                _ => {}
            }
            Scenario {
                host: host.clone(),
                _registry: reg,
                _token: Some(token),
                certs,
                auths: good_login(&host),
            }
        }
    }
}

/// The token realm's host name of fault `n`: in every namespace's /etc/hosts from the start
/// (Go re-reads /etc/hosts only every few seconds, so a name added later may not resolve yet).
fn realm_name(n: usize) -> String {
    format!("realm{n}.regctl.test")
}

/// A fix reduced to what it does, to compare doctor's with `--explain`'s.
fn fix_kind(fix: &str) -> &'static str {
    if fix.contains("--client-cert") {
        "client pair"
    } else if fix.contains("token-realm.crt") {
        "realm CA in the registry's folder"
    } else if fix.contains("update-ca-certificates") {
        "system roots"
    } else if fix.contains("regctl trust-ca") {
        "trust-ca"
    } else if fix.contains("regctl login") {
        "login"
    } else if fix.contains("insecure add") {
        "insecure"
    } else if fix.contains("reissue") {
        "reissue"
    } else if fix.contains("renew") || fix.contains("timedatectl") {
        "renew"
    } else {
        "other"
    }
}

/// regctl inside `d`'s namespace with `cli` as the `docker` on PATH (doctor reads its version).
fn regctl(d: &Dockerd, env: &TestEnv, cli_dir: &Path, args: &[&str]) -> Run {
    let mut cmd = d.command(&regctl_bin());
    let vars = d.env_of(env);
    let path = vars
        .iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    cmd.envs(vars)
        .env("PATH", format!("{}:{path}", cli_dir.display()))
        .args(args);
    run_with_stdin(&mut cmd, "")
}

fn failing(doc: &Value) -> Vec<&Value> {
    doc["registries"][0]["checks"]
        .as_array()
        .map(|a| a.iter().filter(|c| c["status"] == "fail").collect())
        .unwrap_or_default()
}

/// `docker pull`. The docker 28 CLI answers an `unauthorized` error by prompting for a login
/// (and waits, even on a closed stdin): once it says "Login prior to pull" the daemon has
/// answered, so the CLI is stopped and dockerd's own error is taken from its log.
fn pull(d: &Dockerd, env: &TestEnv, cli: &Path, reference: &str) -> Run {
    let dir = tempfile::tempdir().unwrap();
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    let log_before = d.log().len();
    let mut cmd = d.command(cli);
    cmd.envs(d.env_of(env))
        .args(["pull", "-q", reference])
        .stdout(fs::File::create(&out).unwrap())
        .stderr(fs::File::create(&err).unwrap());
    let mut child = cmd.spawn().unwrap();
    let deadline = Instant::now() + std::time::Duration::from_secs(120);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Run {
                stdout: fs::read_to_string(&out).unwrap_or_default(),
                stderr: fs::read_to_string(&err).unwrap_or_default(),
                code: status.code().unwrap_or(-1),
            };
        }
        let stdout = fs::read_to_string(&out).unwrap_or_default();
        if stdout.contains("Login prior to pull") || Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            let log = d.log();
            let said = log[log_before.min(log.len())..]
                .lines()
                .rev()
                .filter_map(|l| {
                    l.split("returned error: ").nth(1).or_else(|| {
                        l.split("Not continuing with pull after error\" error=\"")
                            .nth(1)
                    })
                })
                .next()
                .map(|e| {
                    let e = e.trim_end().trim_end_matches('"');
                    format!("Error response from daemon: {}", e.replace("\\\"", "\""))
                })
                .unwrap_or_else(|| format!("docker pull did not finish: {stdout}"));
            return Run {
                stdout,
                stderr: said,
                code: 1,
            };
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

/// One pull and one diagnosis; the disagreements found.
fn judge(
    d: &Dockerd,
    env: &TestEnv,
    cli: (&Path, Cli, &Path),
    fault: Fault,
    host: &str,
    expected: bool,
) -> Vec<String> {
    let (cli_bin, which, cli_dir) = cli;
    let label = format!("{fault:?} with {} and the {which:?} CLI", d.mode.label());
    let reference = format!("{host}/{REPO}:{TAG}");
    let t = Instant::now();
    let pull = pull(d, env, cli_bin, &reference);
    let pull_s = t.elapsed().as_secs_f64();
    let pulled = pull.code == 0;
    let mut out = Vec::new();
    if pulled != expected {
        out.push(format!(
            "{label}: docker pull {} (recorded: {}): {}",
            if pulled { "worked" } else { "failed" },
            if expected { "works" } else { "fails" },
            pull.stderr.trim()
        ));
    }
    let run = regctl(
        d,
        env,
        cli_dir,
        &["doctor", host, "--timeout", "5", "-o", "json"],
    );
    eprintln!(
        "{label}: pull {} in {pull_s:.1} s, doctor exit {} in {:.1} s",
        pull.code,
        run.code,
        t.elapsed().as_secs_f64() - pull_s
    );
    let doc: Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{label}: doctor printed no JSON ({e}): {}", run.stderr));
    let fails = failing(&doc);
    let healthy = run.code == 0 && fails.is_empty();
    if healthy != pulled {
        out.push(format!(
            "{label}: the pull {} but doctor says {}: {}\npull: {}",
            if pulled { "worked" } else { "failed" },
            if healthy { "healthy" } else { "broken" },
            serde_json::to_string(&fails).unwrap(),
            pull.stderr.trim()
        ));
        return out;
    }
    if pulled {
        return out;
    }
    let check = fails[0];
    let id = check["id"].as_str().unwrap();
    let family = id.split('.').next().unwrap();
    let kind = fix_kind(check["fix"].as_str().unwrap_or_default());
    let said = pull.stderr.trim();
    let run = regctl(
        d,
        env,
        cli_dir,
        &["doctor", "--explain", said, "-o", "json"],
    );
    let doc: Value = serde_json::from_str(&run.stdout).unwrap_or(Value::Null);
    let explanations = doc["explanations"].as_array().cloned().unwrap_or_default();
    let agrees = explanations.iter().any(|e| {
        let same_family = e["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c.as_str().unwrap().split('.').next() == Some(family));
        let same_fix = e["fixes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| fix_kind(f.as_str().unwrap()) == kind);
        same_family && same_fix
    });
    if !agrees {
        out.push(format!(
            "{label}: doctor says {id} (fix: {kind}); --explain of docker's {said:?} says {}",
            serde_json::to_string(&explanations).unwrap()
        ));
    }
    out
}

#[test]
fn doctor_agrees_with_docker_pull_on_every_fault_in_every_mode() {
    let started = Instant::now();
    let daemons: Vec<Dockerd> = std::thread::scope(|s| {
        let handles: Vec<_> = Mode::ALL
            .iter()
            .map(|m| s.spawn(move || Dockerd::start(*m)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let daemons_up = started.elapsed();
    for d in &daemons {
        for n in 0..MATRIX.len() {
            d.add_host(&realm_name(n), "127.0.0.1");
        }
    }
    let clis: Vec<(PathBuf, Cli, tempfile::TempDir)> = docker_clis()
        .into_iter()
        .map(|bin| {
            let which = if bin.starts_with("/usr/local") {
                Cli::Local
            } else {
                Cli::Debian
            };
            let dir = tempfile::Builder::new()
                .prefix("regctl-cli-")
                .tempdir()
                .unwrap();
            std::os::unix::fs::symlink(&bin, dir.path().join("docker")).unwrap();
            (bin, which, dir)
        })
        .collect();
    let net = NetnsHost::new();
    let mut disagreements = Vec::new();
    for (n, (fault, pulls)) in MATRIX.iter().enumerate() {
        let scenario = setup(*fault, &net, &daemons[0], n);
        let env = TestEnv::new();
        fs::create_dir_all(&env.docker_config).unwrap();
        fs::write(
            env.docker_config.join("config.json"),
            auths_json(&scenario.auths),
        )
        .unwrap();
        for d in &daemons {
            let certs = d.etc_docker.join("certs.d");
            let _ = fs::remove_dir_all(&certs);
            for (folder, file, content) in &scenario.certs {
                fs::create_dir_all(certs.join(folder)).unwrap();
                fs::write(certs.join(folder).join(file), content).unwrap();
            }
        }
        let found: Vec<String> = std::thread::scope(|s| {
            let handles: Vec<_> = daemons
                .iter()
                .enumerate()
                .map(|(i, d)| {
                    let (env, clis, host) = (&env, &clis, &scenario.host);
                    s.spawn(move || {
                        let mut out = Vec::new();
                        for (bin, which, dir) in clis {
                            let expected = match which {
                                Cli::Debian => pulls.debian[i],
                                Cli::Local => pulls.local[i],
                            };
                            out.extend(judge(
                                d,
                                env,
                                (bin, *which, dir.path()),
                                *fault,
                                host,
                                expected,
                            ));
                        }
                        out
                    })
                })
                .collect();
            handles
                .into_iter()
                .flat_map(|h| h.join().unwrap())
                .collect()
        });
        disagreements.extend(found);
    }
    eprintln!(
        "fault matrix: {} faults x {} modes x {} CLIs in {:.1} s (daemons up in {:.1} s)",
        MATRIX.len(),
        daemons.len(),
        clis.len(),
        started.elapsed().as_secs_f64(),
        daemons_up.as_secs_f64()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n\n")
    );
}
