//! Test support: the `TestEnv` sandbox and helpers that start real components on loopback.

#![allow(dead_code)]

pub mod aws;
pub mod creds;
pub mod dockerd;
pub mod hostile;
pub mod keyring;
pub mod netns;
pub mod pki;
pub mod registry;
pub mod rusage;
pub mod site;
pub mod token_server;

use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::SystemTime;

use serde_json::Value;
use tempfile::TempDir;

/// The regctl binary under test.
pub fn regctl_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_regctl"))
}

/// A sandbox: every path regctl would touch points into one temp dir.
pub struct TestEnv {
    pub dir: TempDir,
    pub home: PathBuf,
    /// DOCKER_CONFIG (holds config.json).
    pub docker_config: PathBuf,
    pub daemon_json: PathBuf,
    pub certs_dir: PathBuf,
    /// REGCTL_CONTAINERS_CERTS_DIR (podman/skopeo's certs.d, for `--containers`).
    pub containers_certs_dir: PathBuf,
    /// containerd's hosts directory and config.toml, and podman's registries.conf.d.
    pub containerd_certs_dir: PathBuf,
    pub containerd_config: PathBuf,
    pub registries_conf_d: PathBuf,
    pub xdg_config: PathBuf,
    pub xdg_runtime: PathBuf,
    pub xdg_state: PathBuf,
    pub xdg_cache: PathBuf,
    pub xdg_data: PathBuf,
    /// Extra variables for every command (set_env).
    pub extra_env: Vec<(String, String)>,
}

impl TestEnv {
    pub fn new() -> TestEnv {
        let dir = tempfile::Builder::new()
            .prefix("regctl-test-")
            .tempdir()
            .unwrap();
        let root = dir.path().to_path_buf();
        let env = TestEnv {
            home: root.join("home"),
            docker_config: root.join("home/.docker"),
            daemon_json: root.join("etc/docker/daemon.json"),
            certs_dir: root.join("etc/docker/certs.d"),
            containers_certs_dir: root.join("etc/containers/certs.d"),
            containerd_certs_dir: root.join("etc/containerd/certs.d"),
            containerd_config: root.join("etc/containerd/config.toml"),
            registries_conf_d: root.join("etc/containers/registries.conf.d"),
            xdg_config: root.join("home/.config"),
            xdg_runtime: root.join("run"),
            xdg_state: root.join("home/.local/state"),
            xdg_cache: root.join("home/.cache"),
            xdg_data: root.join("home/.local/share"),
            extra_env: Vec::new(),
            dir,
        };
        for d in [&env.home, &env.xdg_runtime] {
            fs::create_dir_all(d).unwrap();
        }
        fs::create_dir_all(env.daemon_json.parent().unwrap()).unwrap();
        env
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn set_env(&mut self, key: &str, value: &str) {
        self.extra_env.push((key.to_string(), value.to_string()));
    }

    /// A `regctl` command with a clean environment pointing into the sandbox.
    pub fn cmd(&self) -> assert_cmd::Command {
        let mut cmd = assert_cmd::Command::new(regctl_bin());
        self.apply_env(cmd.env_clear());
        cmd
    }

    /// The same environment on a std Command (for spawning and killing).
    pub fn std_cmd(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(regctl_bin());
        cmd.env_clear();
        for (k, v) in self.env_vars() {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn env_vars(&self) -> Vec<(String, String)> {
        let p = |p: &Path| p.display().to_string();
        let mut vars = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), p(&self.home)),
            ("DOCKER_CONFIG".into(), p(&self.docker_config)),
            ("REGCTL_DAEMON_CONFIG".into(), p(&self.daemon_json)),
            ("REGCTL_CERTS_DIR".into(), p(&self.certs_dir)),
            (
                "REGCTL_CONTAINERS_CERTS_DIR".into(),
                p(&self.containers_certs_dir),
            ),
            (
                "REGCTL_CONTAINERD_CERTS_DIR".into(),
                p(&self.containerd_certs_dir),
            ),
            (
                "REGCTL_CONTAINERD_CONFIG".into(),
                p(&self.containerd_config),
            ),
            (
                "REGCTL_REGISTRIES_CONF_D".into(),
                p(&self.registries_conf_d),
            ),
            ("XDG_CONFIG_HOME".into(), p(&self.xdg_config)),
            ("XDG_RUNTIME_DIR".into(), p(&self.xdg_runtime)),
            ("XDG_STATE_HOME".into(), p(&self.xdg_state)),
            ("XDG_CACHE_HOME".into(), p(&self.xdg_cache)),
            ("XDG_DATA_HOME".into(), p(&self.xdg_data)),
            (
                "REGCTL_DOCKER_SERVICE_DIR".into(),
                p(&self.dir.path().join("etc/systemd/docker.service.d")),
            ),
            ("NO_COLOR".into(), "1".into()),
            // The same rules whether or not a dockerd is on this machine's PATH (the dockerd
            // tests drop this and let regctl ask the real one).
            ("REGCTL_DOCKERD_VERSION".into(), "28.5".into()),
            ("LANG".into(), "C.UTF-8".into()),
            // Never the real instance metadata address: tests that want IMDS point
            // AWS_EC2_METADATA_SERVICE_ENDPOINT at a loopback stand-in and set this to false.
            ("AWS_EC2_METADATA_DISABLED".into(), "true".into()),
            // Docker Hub is never reached from a test: a bare doctor (which always checks it)
            // finds it on loopback, where nothing listens on 443, and fails at once.
            ("REGCTL_DOCKER_HUB_IP".into(), "127.0.0.1".into()),
        ];
        vars.extend(self.extra_env.iter().cloned());
        vars
    }

    fn apply_env(&self, cmd: &mut assert_cmd::Command) {
        for (k, v) in self.env_vars() {
            cmd.env(k, v);
        }
    }

    /// Runs regctl with these arguments.
    pub fn run(&self, args: &[&str]) -> Run {
        Run::from(self.cmd().args(args).output().unwrap())
    }

    /// Runs regctl with these arguments and `stdin` fed in.
    pub fn run_stdin(&self, args: &[&str], stdin: &str) -> Run {
        Run::from(self.cmd().args(args).write_stdin(stdin).output().unwrap())
    }

    /// Runs regctl with `-o json` and parses the one document it prints.
    pub fn json(&self, args: &[&str]) -> (Value, i32) {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let run = self.run(&all);
        (run.document(args), run.code)
    }

    /// [`TestEnv::json`] with `stdin` fed in; the run too, for its stderr.
    pub fn json_stdin(&self, args: &[&str], stdin: &str) -> (Value, Run) {
        let mut all = args.to_vec();
        all.extend(["-o", "json"]);
        let run = self.run_stdin(&all, stdin);
        (run.document(args), run)
    }

    pub fn write_daemon(&self, text: &str) {
        fs::write(&self.daemon_json, text).unwrap();
    }

    pub fn daemon_bytes(&self) -> Vec<u8> {
        fs::read(&self.daemon_json).unwrap()
    }

    pub fn daemon_value(&self) -> Value {
        serde_json::from_slice(&self.daemon_bytes()).unwrap()
    }

    pub fn client_config_path(&self) -> PathBuf {
        self.docker_config.join("config.json")
    }

    /// Replaces the sandbox paths in text with stable names, for snapshots.
    pub fn redact(&self, text: &str) -> String {
        text.replace(&self.dir.path().display().to_string(), "[TMP]")
    }
}

/// What a regctl run printed and returned.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub code: i32,
}

impl Run {
    /// The one JSON document `regctl ARGS -o json` printed.
    pub fn document(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "regctl {args:?} did not print one JSON document ({e}):\nstdout: {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

impl From<Output> for Run {
    fn from(o: Output) -> Run {
        Run {
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            code: o.status.code().unwrap_or(-1),
        }
    }
}

/// Bytes and timestamps of a file, to prove a command left it alone.
#[derive(Debug, PartialEq, Eq)]
pub struct FileState {
    pub bytes: Option<Vec<u8>>,
    pub mtime: Option<SystemTime>,
    pub ino: Option<u64>,
}

impl FileState {
    pub fn of(path: &Path) -> FileState {
        let meta = fs::metadata(path).ok();
        FileState {
            bytes: fs::read(path).ok(),
            mtime: meta.as_ref().and_then(|m| m.modified().ok()),
            ino: meta.map(|m| m.ino()),
        }
    }
}

/// A refused run: exit 1, every one of `words` in what it printed on stderr, and `file`
/// byte-for-byte (and mtime and inode) as it was `before`.
#[track_caller]
pub fn assert_refused(run: &Run, words: &[&str], file: &Path, before: &FileState) {
    assert_eq!(run.code, 1, "should fail: {}", run.stderr);
    for w in words {
        assert!(run.stderr.contains(w), "expected {w:?} in: {}", run.stderr);
    }
    assert_eq!(&FileState::of(file), before, "changed {}", file.display());
}

/// Runs `regctl ARGS`, which must be refused ([`assert_refused`]) with an `error:` message, and
/// again with `-o json`: the same failure as one JSON document, `file` still untouched.
#[track_caller]
pub fn refused(env: &TestEnv, file: &Path, args: &[&str], words: &[&str]) -> Run {
    let before = FileState::of(file);
    let run = env.run(args);
    assert!(
        run.stderr.starts_with("error: "),
        "{args:?}: {}",
        run.stderr
    );
    assert_refused(&run, words, file, &before);
    let (doc, code) = env.json(args);
    assert_eq!(code, 1);
    assert_eq!(
        (&doc["failed"], &doc["changed"]),
        (&Value::Bool(true), &Value::Bool(false))
    );
    assert_eq!(FileState::of(file), before);
    run
}

/// A file's permission bits (with setuid, setgid and sticky).
pub fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Sets a file's mtime into the past, so that a rewrite would be visible even within a second.
pub fn age_file(path: &Path) {
    let old = SystemTime::now() - std::time::Duration::from_secs(3600);
    let f = fs::File::options().write(true).open(path).unwrap();
    f.set_modified(old).unwrap();
}

/// Whether this process runs as root (tests then drop privileges to see permission errors).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc_geteuid() == 0 }
}

extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// Fails with the install command when a component the test needs is missing: a test never
/// passes silently without its component.
pub fn require_tool(tool: &str) -> PathBuf {
    which(tool).unwrap_or_else(|| {
        panic!("{tool} is not installed; run scripts/setup (it installs every test dependency)")
    })
}

/// Runs a command that must succeed; panics with its name, arguments and stderr otherwise.
pub fn output_ok(cmd: &mut std::process::Command) -> std::process::Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?} failed: {}",
        cmd,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Runs a command with `stdin` written to it, capturing what it prints.
pub fn run_with_stdin(cmd: &mut std::process::Command, stdin: &str) -> Run {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    Run::from(child.wait_with_output().unwrap())
}

pub fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(tool))
            .find(|p| p.is_file())
    })
}

/// Every file and folder under `root` with its state, to prove a command wrote nothing anywhere.
pub fn tree_state(root: &Path) -> std::collections::BTreeMap<PathBuf, Option<FileState>> {
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            if path.is_dir() {
                out.insert(path.clone(), None);
                stack.push(path);
            } else {
                out.insert(path.clone(), Some(FileState::of(&path)));
            }
        }
    }
    out
}
