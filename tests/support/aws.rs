//! The AWS side of ECR tests: moto_server (PyPI `moto[server]`) on 127.0.0.1, behind
//! `sigv4_front.py`, which checks SigV4 signatures with botocore the way AWS does, maps bad
//! keys to AWS's error answers and gives tokens an expiry in the future (moto's is in 2015).

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use serde_json::Value;
use tempfile::TempDir;

use super::registry::{free_port, wait_for_port};
use super::which;

/// How the front treats a key once its signature checks out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Behaviour {
    Allow,
    /// AccessDeniedException.
    Deny,
    /// ExpiredTokenException.
    Expired,
    /// A 200 answer whose authorizationToken is not base64.
    GarbageToken,
}

/// An access key the front knows.
#[derive(Debug, Clone)]
pub struct TestKey {
    pub id: &'static str,
    pub secret: &'static str,
    pub session_token: Option<&'static str>,
    pub behaviour: Behaviour,
}

impl TestKey {
    pub const fn allow(id: &'static str, secret: &'static str) -> TestKey {
        TestKey {
            id,
            secret,
            session_token: None,
            behaviour: Behaviour::Allow,
        }
    }
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// moto_server plus the verifying front; `endpoint` is what AWS_ENDPOINT_URL gets.
pub struct AwsStack {
    pub endpoint: String,
    /// moto_server itself (its instance-metadata answers sit behind [`Machine`]).
    pub moto: String,
    front: Option<Killed>,
    _moto: Killed,
    _dir: TempDir,
}

const MOTO_INSTALL: &str = "python3 -m pip install 'moto[server]' (or run scripts/setup)";

impl AwsStack {
    pub fn start(keys: &[TestKey]) -> AwsStack {
        AwsStack::start_with(keys, &[])
    }

    /// With web identity tokens STS accepts in AssumeRoleWithWebIdentity.
    pub fn start_with(keys: &[TestKey], web_identity_tokens: &[&str]) -> AwsStack {
        let moto_bin = which("moto_server")
            .unwrap_or_else(|| panic!("moto_server is not installed; install it: {MOTO_INSTALL}"));
        let botocore = Command::new("python3")
            .args(["-c", "import botocore"])
            .status()
            .is_ok_and(|s| s.success());
        assert!(
            botocore,
            "python3 cannot import botocore; install it: {MOTO_INSTALL}"
        );
        let dir = tempfile::Builder::new()
            .prefix("regctl-aws-")
            .tempdir()
            .unwrap();

        let port = free_port();
        let moto = Killed(
            Command::new(moto_bin)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join("moto.log")).unwrap())
                .spawn()
                .expect("start moto_server"),
        );
        wait_for_port(port, "moto_server");

        let table: serde_json::Map<String, Value> = keys
            .iter()
            .map(|k| {
                let behaviour = match k.behaviour {
                    Behaviour::Allow => "allow",
                    Behaviour::Deny => "deny",
                    Behaviour::Expired => "expired",
                    Behaviour::GarbageToken => "garbage-token",
                };
                (
                    k.id.to_string(),
                    serde_json::json!({
                        "secret": k.secret,
                        "session_token": k.session_token,
                        "behaviour": behaviour,
                    }),
                )
            })
            .collect();
        let keys_file = dir.path().join("keys.json");
        std::fs::write(&keys_file, Value::Object(table).to_string()).unwrap();
        let mut args = vec![
            "--upstream".to_string(),
            format!("http://127.0.0.1:{port}"),
            "--keys".to_string(),
            keys_file.display().to_string(),
        ];
        for t in web_identity_tokens {
            args.extend(["--web-identity-token".to_string(), t.to_string()]);
        }
        let (front, front_port) = python_server("sigv4_front.py", &args, &dir);
        AwsStack {
            endpoint: format!("http://127.0.0.1:{front_port}"),
            moto: format!("http://127.0.0.1:{port}"),
            front: Some(front),
            _moto: moto,
            _dir: dir,
        }
    }

    /// Accepted (signature-checked) requests per service: `ecr`, `ecr-public`, `sts`,
    /// `sts-web-identity`.
    pub fn accepted(&self, service: &str) -> u64 {
        stat(&format!("{}/_front/stats", self.endpoint), service)
    }

    /// Takes the endpoint down (connections are refused from now on).
    pub fn stop_front(&mut self) {
        self.front = None;
    }
}

fn stat(url: &str, kind: &str) -> u64 {
    let body = regctl::creds::ecr::http_client(&Default::default())
        .unwrap()
        .get(url)
        .send()
        .and_then(|r| r.text())
        .expect("stats");
    let stats: Value = serde_json::from_str(&body).unwrap();
    stats.get(kind).and_then(Value::as_u64).unwrap_or(0)
}

/// `aws_machine.py` on 127.0.0.1: the instance metadata service (moto's answers, IMDSv2
/// enforced), a container credentials endpoint and the IAM Identity Center portal and OIDC.
/// Their real counterparts exist only on EC2, in ECS tasks / EKS pods and at AWS, so these
/// loopback stand-ins are the only way to run those flows here.
pub struct Machine {
    pub endpoint: String,
    _server: Killed,
    _dir: TempDir,
}

impl Machine {
    /// `config`: see tests/support/aws_machine.py (`imds`, `container`, `sso`, `upstream`).
    pub fn start(config: Value) -> Machine {
        let dir = tempfile::Builder::new()
            .prefix("regctl-aws-machine-")
            .tempdir()
            .unwrap();
        let config_file = dir.path().join("config.json");
        std::fs::write(&config_file, config.to_string()).unwrap();
        let args = [config_file.display().to_string()];
        let (server, port) = python_server("aws_machine.py", &args, &dir);
        Machine {
            endpoint: format!("http://127.0.0.1:{port}"),
            _server: server,
            _dir: dir,
        }
    }

    /// Answered requests of one kind (`imds-token`, `imds-get`, `container`, `sso`,
    /// `sso-oidc`, and `*-refused`).
    pub fn count(&self, kind: &str) -> u64 {
        stat(&format!("{}/_stats", self.endpoint), kind)
    }
}

/// Starts tests/support/SCRIPT with ARGS, its stderr in DIR/SCRIPT.log; the port it prints.
fn python_server(script: &str, args: &[String], dir: &TempDir) -> (Killed, u16) {
    let log = dir.path().join(format!("{script}.log"));
    let mut child = Command::new("python3")
        .arg(format!(
            "{}/tests/support/{script}",
            env!("CARGO_MANIFEST_DIR")
        ))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(&log).unwrap())
        .spawn()
        .unwrap_or_else(|e| panic!("start {script}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line.trim().parse().unwrap_or_else(|_| {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        panic!("{script} did not start: {text}")
    });
    (Killed(child), port)
}
