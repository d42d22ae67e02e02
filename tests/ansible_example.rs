//! examples/ansible/registry.yml run by the real ansible-playbook (ansible-core from PyPI)
//! against localhost, with every path in a TestEnv and the password in a real vault.

use std::fs;
use std::path::Path;
use std::process::Command;

use sha2::Digest;

use crate::support::pki::TestCa;
use crate::support::registry::{Registry, RegistryOptions};
use crate::support::{output_ok, require_tool, FileState, TestEnv};

/// `changed=N` from the PLAY RECAP line.
fn recap(output: &str) -> (u32, u32) {
    let line = output
        .lines()
        .find(|l| l.contains("changed=") && l.contains("failed="))
        .unwrap_or_else(|| panic!("no PLAY RECAP in:\n{output}"));
    let field = |name: &str| -> u32 {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(&format!("{name}=")))
            .and_then(|v| v.parse().ok())
            .unwrap()
    };
    (field("changed"), field("failed"))
}

struct Playbook<'a> {
    env: &'a TestEnv,
    vars: std::path::PathBuf,
    vault: std::path::PathBuf,
    vault_pass: std::path::PathBuf,
}

impl Playbook<'_> {
    fn run(&self, extra: &[&str]) -> (String, u32, u32) {
        let mut cmd = Command::new(require_tool("ansible-playbook"));
        cmd.env_clear();
        for (k, v) in self.env.env_vars() {
            cmd.env(k, v);
        }
        cmd.env("ANSIBLE_NOCOLOR", "1")
            .env("ANSIBLE_LOCAL_TEMP", self.env.path("ansible-tmp"))
            .env("ANSIBLE_HOME", self.env.path("ansible-home"))
            .args([
                "-i",
                "localhost,",
                "-c",
                "local",
                "examples/ansible/registry.yml",
            ])
            .arg("-e")
            .arg(format!("@{}", self.vars.display()))
            .arg("-e")
            .arg(format!("@{}", self.vault.display()))
            .arg("--vault-password-file")
            .arg(&self.vault_pass)
            .args(extra);
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let (changed, failed) = recap(&text);
        assert!(
            out.status.success() && failed == 0,
            "ansible-playbook failed:\n{text}"
        );
        (text, changed, failed)
    }
}

fn tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    if let Ok(entries) = fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(tree(&p));
            } else {
                out.push((p.display().to_string(), fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn example_playbook_changes_then_settles_check_writes_nothing_diff_shows_daemon_json() {
    let env = TestEnv::new();
    let python = require_tool("python3");
    let ca = TestCa::new("Fleet CA");
    let mut cert = ca.server(&["127.0.0.1"]);
    cert.cert.push_str(&ca.pem.cert);
    let reg = Registry::start(RegistryOptions {
        tls: Some(cert),
        users: vec![("deploy".into(), "vault-kept-secret".into())],
        ..Default::default()
    });
    let fingerprint: Vec<String> = sha2::Sha256::digest(&ca.pem.der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect();

    // The password lives in a real ansible-vault file.
    let vault_pass = env.path("vault-pass");
    fs::write(&vault_pass, "vault-password-for-tests\n").unwrap();
    let out = output_ok(
        Command::new(require_tool("ansible-vault"))
            .env("ANSIBLE_HOME", env.path("ansible-home"))
            .args(["encrypt_string", "--vault-password-file"])
            .arg(&vault_pass)
            .args(["--name", "registry_password", "vault-kept-secret"]),
    );
    let vault = env.path("vault.yml");
    fs::write(&vault, &out.stdout).unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains("vault-kept-secret"));

    let environment: serde_json::Map<String, serde_json::Value> = env
        .env_vars()
        .into_iter()
        .map(|(k, v)| (k, serde_json::Value::String(v)))
        .collect();
    let vars = env.path("vars.json");
    fs::write(
        &vars,
        serde_json::json!({
            "regctl": crate::support::regctl_bin(),
            "regctl_environment": environment,
            "private_registry": reg.host,
            "private_registry_ca_fingerprint": fingerprint.join(":"),
            "reload_docker": false,
            "ansible_become": false,
            "ansible_python_interpreter": python,
        })
        .to_string(),
    )
    .unwrap();
    let playbook = Playbook {
        env: &env,
        vars,
        vault,
        vault_pass,
    };

    let (_, changed, _) = playbook.run(&[]);
    assert!(changed >= 4, "first run changed {changed}");
    let daemon = env.daemon_value();
    assert_eq!(
        daemon["registry-mirrors"],
        serde_json::json!(["https://mirror.gcr.io/"])
    );
    assert_eq!(
        daemon["insecure-registries"],
        serde_json::json!(["registry.lab.internal:5000"])
    );
    assert!(env.certs_dir.join(&reg.host).join("ca.crt").exists());
    let config = fs::read_to_string(env.client_config_path()).unwrap();
    assert!(config.contains(&reg.host), "{config}");

    let (_, changed, _) = playbook.run(&[]);
    assert_eq!(changed, 0, "the second run must change nothing");

    // Check mode with a new mirror: reports the change, writes nothing anywhere.
    let before = (
        FileState::of(&env.daemon_json),
        FileState::of(&env.client_config_path()),
        tree(&env.certs_dir),
    );
    let (_, changed, _) = playbook.run(&[
        "--check",
        "-e",
        "docker_hub_mirror=https://mirror.example.com",
    ]);
    assert!(changed >= 1, "check mode must report the pending change");
    assert_eq!(
        (
            FileState::of(&env.daemon_json),
            FileState::of(&env.client_config_path()),
            tree(&env.certs_dir)
        ),
        before,
        "--check changed a file"
    );

    // Diff mode shows the daemon.json change.
    let (text, changed, _) = playbook.run(&[
        "--diff",
        "-e",
        "docker_hub_mirror=https://mirror.example.com",
    ]);
    assert!(changed >= 1);
    assert!(
        text.contains(&env.daemon_json.display().to_string())
            && text.contains("+++ after")
            && text.contains("https://mirror.example.com/"),
        "{text}"
    );
    assert!(
        !text.contains("vault-kept-secret"),
        "the password leaked into ansible's output"
    );
}
