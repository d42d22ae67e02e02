//! hosts.toml (containerd, dockerd 28+ with the containerd image store) and registries.conf.d
//! (podman, skopeo): lossless edits, refusals that leave files alone, the lints, and the real
//! readers (skopeo; containerd 1.6/1.7/2.1's ctr; dockerd 28.5) using what regctl wrote.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::support::dockerd::{Dockerd, Mode};
use crate::support::pki::TestCa;
use crate::support::registry::{free_port, Registry, RegistryOptions};
use crate::support::site::{Site, SiteOptions};
use crate::support::{age_file, refused, require_tool, FileState, Run, TestEnv};

const HAND_WRITTEN: &str = "# reg.example.com:5000, written by hand\r\nserver   =   'https://reg.example.com:5000'   # upstream\r\n\r\n[host.\"https://old.example.com\"]   # first choice\r\n    capabilities = [ \"pull\",\"resolve\" ]   # no push\r\n    skip_verify=false\r\n";

fn ok(env: &TestEnv, args: &[&str]) -> Value {
    let (doc, code) = env.json(args);
    assert_eq!(code, 0, "{args:?}: {doc}");
    doc
}

#[test]
fn a_hand_written_hosts_toml_keeps_every_byte_and_a_second_run_changes_nothing() {
    let env = TestEnv::new();
    for (flag, root) in [
        ("--docker", &env.certs_dir),
        ("--containerd", &env.containerd_certs_dir),
    ] {
        let path = root.join("reg.example.com:5000/hosts.toml");
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, HAND_WRITTEN).unwrap();
        let args = [
            "mirror",
            "add",
            "https://m.example.com:6000/",
            "--for",
            "reg.example.com:5000",
            flag,
        ];
        let doc = ok(&env, &args);
        assert_eq!(doc["changed"], true);
        let after = fs::read_to_string(&path).unwrap();
        assert_eq!(
            after,
            format!("{HAND_WRITTEN}\r\n[host.\"https://m.example.com:6000\"]\r\ncapabilities = [\"pull\", \"resolve\"]\r\n"),
            "{flag}: only the new table is added"
        );
        age_file(&path);
        let before = FileState::of(&path);
        let doc = ok(&env, &args);
        assert_eq!(doc["changed"], false, "{flag}");
        assert_eq!(
            FileState::of(&path),
            before,
            "{flag}: a no-op rewrote the file"
        );

        // --check reports and writes nothing; remove restores the original bytes.
        let remove = [
            "mirror",
            "remove",
            "https://m.example.com:6000",
            "--for",
            "reg.example.com:5000",
            flag,
        ];
        let doc = ok(&env, &[remove.as_slice(), &["--check"]].concat());
        assert_eq!(doc["changed"], true);
        assert_eq!(FileState::of(&path), before);
        ok(&env, &remove);
        assert_eq!(fs::read_to_string(&path).unwrap(), HAND_WRITTEN);
    }
    // Removing from files that do not exist creates nothing.
    let before = crate::support::tree_state(env.path("etc").as_path());
    let doc = ok(
        &env,
        &[
            "mirror",
            "remove",
            "https://m.example.com",
            "--for",
            "other.example.com",
            "--docker",
            "--containerd",
            "--containers",
        ],
    );
    assert_eq!(doc["changed"], false, "{doc}");
    assert_eq!(
        crate::support::tree_state(env.path("etc").as_path()),
        before
    );
}

#[test]
fn bad_input_is_refused_and_every_file_stays_byte_for_byte() {
    let env = TestEnv::new();
    let hosts = env.certs_dir.join("reg.example.com/hosts.toml");
    fs::create_dir_all(hosts.parent().unwrap()).unwrap();
    fs::write(
        &hosts,
        "server = \"https://reg.example.com\"\n[host.\"https://m\"\ncapabilities = []\n",
    )
    .unwrap();
    refused(
        &env,
        &hosts,
        &[
            "mirror",
            "add",
            "https://m2.example.com",
            "--for",
            "reg.example.com",
        ],
        &[&hosts.display().to_string(), "not valid TOML", "line 2"],
    );
    refused(
        &env,
        &hosts,
        &["trust-ca", "reg.example.com", "--remove"],
        &["not valid TOML"],
    );
    let good = env.containerd_certs_dir.join("reg.example.com/hosts.toml");
    fs::create_dir_all(good.parent().unwrap()).unwrap();
    fs::write(&good, HAND_WRITTEN).unwrap();
    refused(
        &env,
        &good,
        &[
            "mirror",
            "add",
            "https://m.example.com/v2/proxy",
            "--for",
            "reg.example.com",
            "--containerd",
        ],
        &["a path (/v2/proxy) is not allowed"],
    );
    refused(
        &env,
        &good,
        &[
            "mirror",
            "add",
            "https://reg.example.com",
            "--for",
            "reg.example.com",
            "--containerd",
        ],
        &["reg.example.com cannot be its own mirror"],
    );
    // One bad target stops all of them: the good hosts.toml is not written either.
    let drop_in = env.registries_conf_d.join("50-regctl.conf");
    fs::create_dir_all(&env.registries_conf_d).unwrap();
    fs::write(&drop_in, "[[registry]\n").unwrap();
    refused(
        &env,
        &good,
        &[
            "mirror",
            "add",
            "https://m.example.com",
            "--for",
            "reg.example.com",
            "--containerd",
            "--containers",
        ],
        &["50-regctl.conf", "not valid TOML"],
    );
    refused(
        &env,
        &good,
        &["insecure", "add", "10.0.0.0/8", "--containerd"],
        &["no CIDR form"],
    );
}

#[test]
fn lints_name_each_hosts_toml_and_registries_conf_problem_with_its_id_and_fix() {
    let env = TestEnv::new();
    let ca = TestCa::new("lint CA");
    let dir = env.certs_dir.join("reg.example.com:5000");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("ca.crt"), &ca.pem.cert).unwrap();
    fs::write(
        dir.join("hosts.toml"),
        "server = \"https://other.example.com\"\nskip-verify = true\n[host.\"https://m.example.com\"]\nca = \"/nonexistent/ca.pem\"\n",
    )
    .unwrap();
    let (doc, code) = env.json(&["certs", "list", "reg.example.com:5000"]);
    assert_eq!(code, 0, "{doc}");
    let ids: Vec<&str> = doc["registries"][0]["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "certs.hosts_unknown_key",
            "certs.hosts_missing_file",
            "certs.hosts_folder_mismatch",
            "certs.hosts_hides_ca"
        ]
    );
    for p in doc["registries"][0]["problems"].as_array().unwrap() {
        assert!(p["fix"].is_string(), "{p}");
    }
    fs::write(
        dir.join("hosts.toml"),
        "server = \"https://reg.example.com:5000\"\n[host.\"https://m.example.com\"]\n",
    )
    .unwrap();
    let ca_file = env.path("ca.pem");
    fs::write(&ca_file, &ca.pem.cert).unwrap();
    let doc = ok(
        &env,
        &[
            "trust-ca",
            "reg.example.com:5000",
            ca_file.to_str().unwrap(),
        ],
    );
    assert!(
        doc["msg"].as_str().unwrap().contains("ca = \"ca.crt\""),
        "{doc}"
    );
    assert_eq!(
        fs::read_to_string(dir.join("hosts.toml")).unwrap(),
        "server = \"https://reg.example.com:5000\"\nca = \"ca.crt\"\n[host.\"https://m.example.com\"]\n"
    );
    let (doc, _) = env.json(&["certs", "list", "reg.example.com:5000"]);
    assert_eq!(doc["problem_count"], 0, "{doc}");

    // doctor reads registries.conf.d.
    fs::create_dir_all(&env.registries_conf_d).unwrap();
    fs::write(
        env.registries_conf_d.join("10-hand.conf"),
        "[[registry]]\nlocation = \"https://r.example.com\"\ninsecur = true\n",
    )
    .unwrap();
    let (doc, _) = env.json(&["doctor", "reg.example.com:5000", "--timeout", "1"]);
    let text = doc.to_string();
    for id in [
        "config.registries_conf_unknown_key",
        "config.registries_conf_bad_location",
    ] {
        assert!(text.contains(id), "{id} missing in {text}");
    }
}

#[test]
fn containerd_mirrors_warn_when_cri_does_not_read_the_hosts_directory() {
    let env = TestEnv::new();
    let dir = env.containerd_certs_dir.display().to_string();
    let add = [
        "mirror",
        "add",
        "https://m.example.com",
        "--for",
        "ghcr.io",
        "--containerd",
    ];
    fs::create_dir_all(env.containerd_config.parent().unwrap()).unwrap();
    for (config, warned, form) in [
        ("version = 2\n".to_string(), true, "io.containerd.grpc.v1.cri"),
        ("version = 3\n".to_string(), true, "io.containerd.cri.v1.images"),
        (format!("version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"{dir}\"\n"), false, ""),
        (format!("version = 3\n[plugins.'io.containerd.cri.v1.images'.registry]\n  config_path = '/x:{dir}'\n"), false, ""),
    ] {
        fs::write(&env.containerd_config, &config).unwrap();
        let run = env.run(&add);
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stderr.contains("does not read"), warned, "{config}: {}", run.stderr);
        if warned {
            assert!(run.stderr.contains(form), "{config}: {}", run.stderr);
        }
    }
}

/// skopeo 1.9 ignores CONTAINERS_REGISTRIES_CONF (seen here: an invalid file named by it is not
/// read) and its drop-in directory is fixed under /etc; its hidden --registries-conf flag is
/// honoured, and regctl's drop-in is valid as that file, so the test points skopeo at it.
fn skopeo_inspect(env: &TestEnv, image: &str) -> Run {
    let skopeo = require_tool("skopeo");
    let mut cmd = std::process::Command::new(skopeo);
    cmd.env_clear()
        .env("HOME", &env.home)
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .arg("--registries-conf")
        .arg(env.registries_conf_d.join("50-regctl.conf"))
        .args([
            "inspect",
            "--raw",
            "--retry-times",
            "0",
            &format!("docker://{image}"),
        ]);
    let out = cmd.output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn skopeo_pulls_through_the_mirror_and_reaches_the_insecure_registry_from_containers() {
    let env = TestEnv::new();
    fs::create_dir_all(&env.registries_conf_d).unwrap();
    fs::write(env.registries_conf_d.join("50-regctl.conf"), "").unwrap();
    let mirror = Registry::start(RegistryOptions::default());
    mirror.seed_image("demo/hello", "v1", None, None);
    // Nothing listens on the upstream: only the mirror can answer.
    let upstream = format!("127.0.0.1:{}", free_port());
    let image = format!("{upstream}/demo/hello:v1");
    let before = skopeo_inspect(&env, &image);
    assert_ne!(before.code, 0, "{}", before.stdout);
    ok(
        &env,
        &[
            "mirror",
            "add",
            &format!("http://{}", mirror.host),
            "--for",
            &upstream,
            "--containers",
        ],
    );
    let after = skopeo_inspect(&env, &image);
    assert_eq!(after.code, 0, "skopeo through the mirror: {}", after.stderr);
    assert!(after.stdout.contains("schemaVersion"), "{}", after.stdout);

    let plain = Registry::start(RegistryOptions::default());
    plain.seed_image("demo/hello", "v1", None, None);
    let image = format!("{}/demo/hello:v1", plain.host);
    let before = skopeo_inspect(&env, &image);
    assert!(
        before.stderr.contains("HTTP response to HTTPS client"),
        "{}",
        before.stderr
    );
    ok(&env, &["insecure", "add", &plain.host, "--containers"]);
    let after = skopeo_inspect(&env, &image);
    assert_eq!(
        after.code, 0,
        "skopeo to the insecure registry: {}",
        after.stderr
    );
    // Both entries live side by side in the one drop-in.
    let doc = ok(&env, &["mirror", "list"]);
    assert_eq!(
        doc["registries_conf"]["registries"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "{doc}"
    );
}

/// A registry on its own network namespace at NAME:PORT, with `demo/hello:v1`; TLS from a CA
/// named `NAME CA` when `tls`.
fn site(name: &str, tls: bool) -> Site {
    let ca_name = format!("{name} CA");
    Site::start(SiteOptions {
        dns_name: name,
        ca_name: tls.then_some(ca_name.as_str()),
        user: None,
        repo: "demo/hello",
    })
}

/// The site's CA in the sandbox, named after the site.
fn ca_file(site: &Site, env: &TestEnv) -> String {
    site.ca_file(env, &site.name.replace(':', "_"))
}

const MIRROR: &str = "mirror.regctl.test";
const REGISTRY: &str = "registry.regctl.test";
/// An upstream where nothing listens (its name resolves to loopback in the namespace).
const GONE: &str = "gone.regctl.test";

/// `ctr images pull --hosts-dir` with this mode's containerd (the one its dockerd runs).
fn ctr_pull(d: &Dockerd, env: &TestEnv, hosts_dir: &Path, image: &str) -> Run {
    let ctr = d.mode.prefix().join("bin/ctr");
    let address = "/run/docker/containerd/containerd.sock";
    let run = d.run_in(
        env,
        &ctr,
        &[
            "--address",
            address,
            "--namespace",
            "regctl-test",
            "images",
            "pull",
            "--hosts-dir",
            hosts_dir.to_str().unwrap(),
            image,
        ],
        "",
    );
    if run.code == 0 {
        d.run_in(
            env,
            &ctr,
            &[
                "--address",
                address,
                "--namespace",
                "regctl-test",
                "images",
                "rm",
                "--sync",
                image,
            ],
            "",
        );
        d.run_in(
            env,
            &ctr,
            &[
                "--address",
                address,
                "--namespace",
                "regctl-test",
                "content",
                "prune",
                "references",
            ],
            "",
        );
    }
    run
}

fn must_pull(d: &Dockerd, env: &TestEnv, dir: &Path, image: &str, after: &str) {
    let run = ctr_pull(d, env, dir, image);
    assert_eq!(
        run.code,
        0,
        "{}: ctr pull {image} after {after}: {}\n{}",
        d.mode.label(),
        run.stderr,
        run.stdout
    );
}

fn must_fail(d: &Dockerd, env: &TestEnv, dir: &Path, image: &str, when: &str) {
    let run = ctr_pull(d, env, dir, image);
    assert_ne!(
        run.code,
        0,
        "{}: ctr pull {image} should fail {when}",
        d.mode.label()
    );
}

fn containerd_certs(env: &TestEnv) -> PathBuf {
    fs::create_dir_all(&env.containerd_certs_dir).unwrap();
    env.containerd_certs_dir.clone()
}

#[test]
fn containerd_ctr_pulls_through_regctl_hosts_toml_in_1_6_1_7_and_2_1() {
    let mirror = site(MIRROR, true);
    let registry = site(REGISTRY, true);
    let plain = site("plain.regctl.test", false);
    for mode in [Mode::V20, Mode::V26, Mode::V28] {
        let env = TestEnv::new();
        let dir = containerd_certs(&env);
        let d = Dockerd::start_with_hosts(
            mode,
            &[
                (MIRROR, &mirror.host.ip),
                (REGISTRY, &registry.host.ip),
                ("plain.regctl.test", &plain.host.ip),
                (GONE, "127.0.0.1"),
            ],
        );
        // A mirror with a private CA of its own, for an upstream that does not answer.
        let gone = format!("{GONE}:{}", free_port());
        let image = format!("{gone}/demo/hello:v1");
        must_fail(&d, &env, &dir, &image, "before mirror add");
        ok(
            &env,
            &[
                "trust-ca",
                &mirror.name,
                &ca_file(&mirror, &env),
                "--containerd",
            ],
        );
        ok(
            &env,
            &[
                "mirror",
                "add",
                &format!("https://{}", mirror.name),
                "--for",
                &gone,
                "--containerd",
            ],
        );
        must_pull(&d, &env, &dir, &image, "mirror add --containerd");

        // A private CA for the registry itself.
        let image = format!("{}/demo/hello:v1", registry.name);
        must_fail(&d, &env, &dir, &image, "before trust-ca");
        ok(
            &env,
            &[
                "trust-ca",
                &registry.name,
                &ca_file(&registry, &env),
                "--containerd",
            ],
        );
        must_pull(&d, &env, &dir, &image, "trust-ca --containerd");

        // An insecure plain-HTTP registry.
        let image = format!("{}/demo/hello:v1", plain.name);
        must_fail(&d, &env, &dir, &image, "before insecure add");
        ok(&env, &["insecure", "add", &plain.name, "--containerd"]);
        must_pull(&d, &env, &dir, &image, "insecure add --containerd");
    }
}

#[test]
fn trust_ca_beside_an_existing_hosts_toml_makes_containerd_and_dockerd_pull() {
    let registry = site(REGISTRY, true);
    let image = format!("{}/demo/hello:v1", registry.name);
    let hosts = format!(
        "server = \"https://{0}\"\n\n[host.\"https://{0}\"]\n  capabilities = [\"pull\", \"resolve\"]\n",
        registry.name
    );
    // containerd's own ctr (1.7 and 2.1).
    for mode in [Mode::V26, Mode::V28] {
        let env = TestEnv::new();
        let dir = containerd_certs(&env);
        let folder = dir.join(&registry.name);
        fs::create_dir_all(&folder).unwrap();
        fs::write(folder.join("hosts.toml"), &hosts).unwrap();
        let d = Dockerd::start_with_hosts(mode, &[(REGISTRY, &registry.host.ip)]);
        // A bare ca.crt beside a valid hosts.toml is not used...
        fs::write(folder.join("ca.crt"), &registry.ca().pem.cert).unwrap();
        must_fail(
            &d,
            &env,
            &dir,
            &image,
            "with a ca.crt hosts.toml does not name",
        );
        fs::remove_file(folder.join("ca.crt")).unwrap();
        // ...trust-ca names it.
        ok(
            &env,
            &[
                "trust-ca",
                &registry.name,
                &ca_file(&registry, &env),
                "--containerd",
            ],
        );
        assert!(fs::read_to_string(folder.join("hosts.toml"))
            .unwrap()
            .contains("ca = \"ca.crt\""));
        must_pull(
            &d,
            &env,
            &dir,
            &image,
            "trust-ca into a folder with hosts.toml",
        );
    }
    // dockerd 28.5 with the containerd image store reads /etc/docker/certs.d/<host>/hosts.toml.
    let env = TestEnv::new();
    let d = Dockerd::start_with_hosts(Mode::V28Containerd, &[(REGISTRY, &registry.host.ip)]);
    let folder = d.etc_docker.join("certs.d").join(&registry.name);
    fs::create_dir_all(&folder).unwrap();
    fs::write(folder.join("hosts.toml"), &hosts).unwrap();
    let docker = Path::new("/usr/bin/docker");
    let run = d.docker(&env, docker, &["pull", "-q", &image]);
    assert_ne!(run.code, 0, "pull before trust-ca should fail");
    let run = d.regctl(
        &env,
        &["trust-ca", &registry.name, &ca_file(&registry, &env)],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = d.docker(&env, docker, &["pull", "-q", &image]);
    assert_eq!(
        run.code,
        0,
        "pull after trust-ca: {}\n{}",
        run.stderr,
        d.log()
    );
}

#[test]
fn dockerd_28_containerd_store_pulls_through_a_mirror_added_with_for_while_the_registry_is_down() {
    let mirror = site(MIRROR, true);
    let env = TestEnv::new();
    let d = Dockerd::start_with_hosts(
        Mode::V28Containerd,
        &[(MIRROR, &mirror.host.ip), (GONE, "127.0.0.1")],
    );
    let gone = format!("{GONE}:{}", free_port());
    let image = format!("{gone}/demo/hello:v1");
    let docker = Path::new("/usr/bin/docker");
    let run = d.docker(&env, docker, &["pull", "-q", &image]);
    assert_ne!(run.code, 0, "the registry is down: {}", run.stdout);
    let ca_file = ca_file(&mirror, &env);
    let url = format!("https://{}", mirror.name);
    for args in [
        ["trust-ca", mirror.name.as_str(), ca_file.as_str()].as_slice(),
        &["mirror", "add", &url, "--for", &gone],
    ] {
        let run = d.regctl(&env, args);
        assert_eq!(run.code, 0, "{args:?}: {}", run.stderr);
    }
    let hosts =
        fs::read_to_string(d.etc_docker.join("certs.d").join(&gone).join("hosts.toml")).unwrap();
    assert!(
        hosts.contains(&format!("[host.\"https://{}\"]", mirror.name)),
        "{hosts}"
    );
    let run = d.docker(&env, docker, &["pull", "-q", &image]);
    assert_eq!(
        run.code,
        0,
        "pull through the mirror: {}\n{}",
        run.stderr,
        d.log()
    );
}

#[test]
fn regctl_says_when_a_hosts_toml_makes_dockerd_ignore_daemon_json() {
    let mut env = TestEnv::new();
    env.set_env("REGCTL_DOCKERD_VERSION", "28.5");
    env.write_daemon("{\"registry-mirrors\": [\"https://hub-mirror.example.com\"], \"features\": {\"containerd-snapshotter\": true}}\n");
    let run = env.run(&[
        "mirror",
        "add",
        "https://m.example.com",
        "--for",
        "docker.io",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("ignores daemon.json's registry-mirrors (https://hub-mirror.example.com)"),
        "{}",
        run.stderr
    );
    let run = env.run(&[
        "mirror",
        "add",
        "https://m.example.com",
        "--for",
        "r.example.com:5000",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = env.run(&["insecure", "add", "r.example.com:5000"]);
    assert!(
        run.stderr
            .contains("ignores daemon.json's insecure-registries' r.example.com:5000"),
        "{}",
        run.stderr
    );
    // certs list reads containerd's hosts directory too.
    ok(
        &env,
        &[
            "mirror",
            "add",
            "https://m.example.com",
            "--for",
            "docker.io",
            "--containerd",
        ],
    );
    let doc = ok(&env, &["certs", "list", "--containerd", "docker.io"]);
    assert_eq!(doc["registries"][0]["name"], "docker.io", "{doc}");
    assert_eq!(doc["problem_count"], 0, "{doc}");
}

#[test]
fn dockerd_before_28_does_not_read_hosts_toml_and_regctl_says_so() {
    let mirror = site(MIRROR, true);
    let env = TestEnv::new();
    let d = Dockerd::start_with_hosts(
        Mode::V26Containerd,
        &[(MIRROR, &mirror.host.ip), (GONE, "127.0.0.1")],
    );
    let gone = format!("{GONE}:{}", free_port());
    let ca_file = ca_file(&mirror, &env);
    let run = d.regctl(&env, &["trust-ca", &mirror.name, &ca_file]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let url = format!("https://{}", mirror.name);
    let run = d.regctl(&env, &["mirror", "add", &url, "--for", &gone]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.contains("dockerd 26.1") && run.stderr.contains("does not read hosts.toml"),
        "{}",
        run.stderr
    );
    // And indeed: dockerd 26.1 goes to the registry, not the mirror.
    let image = format!("{gone}/demo/hello:v1");
    let run = d.docker(&env, Path::new("/usr/bin/docker"), &["pull", "-q", &image]);
    assert_ne!(
        run.code, 0,
        "dockerd 26.1 pulled through hosts.toml: {}",
        run.stdout
    );
}
