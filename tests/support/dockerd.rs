//! A real dockerd for the tests, in five modes: Debian bookworm's 20.10 (classic image store),
//! and 26.1 and 28.5 (unpacked by scripts/setup into /var/cache/regctl-test) each with the
//! classic store and with the containerd image store. Each daemon supervises the containerd of
//! its own package.
//!
//! The daemon runs in a private mount namespace (`unshare -m --propagation private`) where
//! /etc/docker, /etc/hosts and /etc/resolv.conf (loopback only) are temp files bind-mounted over the real ones and /run is a fresh
//! tmpfs: dockerd, the docker CLI and regctl (run in the same namespace with `nsenter -m`) then
//! all use their DEFAULT paths (/etc/docker/daemon.json, /etc/docker/certs.d,
//! /var/run/docker.pid, /var/run/docker.sock) without touching the machine's. Everything in the
//! namespace is killed when the fixture is dropped, also when a test fails. Needs root.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{is_root, require_tool, Run, TestEnv};

/// Where scripts/setup unpacks the newer engines.
pub const CACHE: &str = "/var/cache/regctl-test";

/// Names dockerd and the CLI use for Docker Hub.
const DOCKER_HUB_NAMES: [&str; 5] = [
    "registry-1.docker.io",
    "index.docker.io",
    "auth.docker.io",
    "docker.io",
    "production.cloudflare.docker.com",
];

/// One dockerd version with one image store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Debian bookworm's docker.io 20.10 with containerd 1.6, classic store.
    V20,
    /// trixie's docker.io 26.1 with containerd 1.7, classic store.
    V26,
    /// 26.1 with `"features": {"containerd-snapshotter": true}`.
    V26Containerd,
    /// sid's docker.io 28.5 with containerd 2.1, classic store.
    V28,
    /// 28.5 with the containerd image store.
    V28Containerd,
}

impl Mode {
    pub const ALL: [Mode; 5] = [
        Mode::V20,
        Mode::V26,
        Mode::V26Containerd,
        Mode::V28,
        Mode::V28Containerd,
    ];

    /// The engine versions (one per package), for tests that do not depend on the store.
    pub const VERSIONS: [Mode; 3] = [Mode::V20, Mode::V26, Mode::V28];

    /// The major.minor version, as `regctl --dockerd-version` takes it.
    pub fn version(self) -> &'static str {
        match self {
            Mode::V20 => "20.10",
            Mode::V26 | Mode::V26Containerd => "26.1",
            Mode::V28 | Mode::V28Containerd => "28.5",
        }
    }

    pub fn containerd_store(self) -> bool {
        matches!(self, Mode::V26Containerd | Mode::V28Containerd)
    }

    /// A name for messages: `dockerd 26.1 (containerd store)`.
    pub fn label(self) -> String {
        let store = if self.containerd_store() {
            "containerd"
        } else {
            "classic"
        };
        format!("dockerd {} ({store} store)", self.version())
    }

    /// The `usr` directory holding this version's dockerd and containerd.
    pub fn prefix(self) -> PathBuf {
        match self {
            Mode::V20 => PathBuf::from("/usr"),
            _ => Path::new(CACHE)
                .join(format!("docker-{}", self.version()))
                .join("usr"),
        }
    }

    /// The dockerd binary; fails (never skips) with the command that fetches it.
    pub fn dockerd_bin(self) -> PathBuf {
        let bin = self.prefix().join("sbin/dockerd");
        let containerd = self.prefix().join("bin/containerd");
        assert!(
            bin.is_file() && containerd.is_file(),
            "{} is missing ({} / {}): run scripts/setup (it installs docker.io 20.10 from bookworm and fetches docker.io 26.1 + containerd 1.7 from trixie and docker.io 28.5 + containerd 2.1 from sid into {CACHE})",
            self.label(),
            bin.display(),
            containerd.display()
        );
        bin
    }

    /// PATH inside the namespace: this version's binaries first, so dockerd finds its own
    /// containerd and regctl's `dockerd --version` sees this dockerd.
    pub fn path(self) -> String {
        let p = self.prefix();
        format!(
            "{}:{}:{}",
            p.join("sbin").display(),
            p.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

/// The docker CLIs to test with: Debian's (always) and a newer one the machine ships in
/// /usr/local/bin (when present).
pub fn docker_clis() -> Vec<PathBuf> {
    let debian = PathBuf::from("/usr/bin/docker");
    assert!(
        debian.is_file(),
        "Debian's docker CLI is missing: run scripts/setup (it installs docker.io)"
    );
    let mut clis = vec![debian];
    let local = PathBuf::from("/usr/local/bin/docker");
    if local.is_file() {
        clis.push(local);
    }
    clis
}

pub struct Dockerd {
    pub mode: Mode,
    pub dir: TempDir,
    /// The directory mounted over /etc/docker inside the namespace.
    pub etc_docker: PathBuf,
    /// The file mounted over /etc/hosts.
    pub hosts: PathBuf,
    holder: Child,
    daemon: Option<Child>,
    /// Bytes of the log already seen by earlier starts.
    log_offset: u64,
}

/// How a start ended.
#[derive(Debug)]
pub enum Started {
    /// dockerd reached "API listen".
    Listening,
    /// dockerd exited before listening; its log.
    Refused(String),
}

impl Dockerd {
    /// A namespace with a running dockerd of this mode (daemon.json holds only the image-store
    /// feature of the mode, or nothing).
    pub fn start(mode: Mode) -> Dockerd {
        Dockerd::start_with_hosts(mode, &[])
    }

    /// `start` with test names (name, ip) in /etc/hosts from the beginning (dockerd's resolver
    /// caches /etc/hosts, so names added later may not be seen at once).
    pub fn start_with_hosts(mode: Mode, names: &[(&str, &str)]) -> Dockerd {
        let mut d = Dockerd::namespace(mode);
        for (name, ip) in names {
            d.add_host(name, ip);
        }
        if mode.containerd_store() {
            d.write_daemon_json("{\"features\": {\"containerd-snapshotter\": true}}\n");
        }
        match d.launch() {
            Started::Listening => d,
            Started::Refused(log) => panic!("{} did not start:\n{log}", mode.label()),
        }
    }

    /// The namespace alone, without a daemon yet (`launch` starts one).
    pub fn namespace(mode: Mode) -> Dockerd {
        assert!(
            is_root(),
            "dockerd tests need root (CI runs as root): run scripts/test as root"
        );
        mode.dockerd_bin();
        let unshare = require_tool("unshare");
        let dir = tempfile::Builder::new()
            .prefix("regctl-dockerd-")
            .tempdir()
            .unwrap();
        let etc_docker = dir.path().join("etc-docker");
        let hosts = dir.path().join("hosts");
        fs::create_dir_all(&etc_docker).unwrap();
        fs::create_dir_all(dir.path().join("data")).unwrap();
        // Docker Hub's names point at loopback, where nothing answers: a pull that misses the
        // mirror fails at once instead of sending a DNS query off the machine.
        let mut names = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n");
        for hub in DOCKER_HUB_NAMES {
            names.push_str(&format!("127.0.0.1\t{hub}\n"));
        }
        fs::write(&hosts, names).unwrap();
        // No name server but loopback's (where none answers): an unknown name fails here.
        let resolv = dir.path().join("resolv.conf");
        fs::write(
            &resolv,
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        )
        .unwrap();
        let script = format!(
            "set -e; mkdir -p /etc/docker; mount --bind '{}' /etc/docker; mount --bind '{}' /etc/hosts; mount --bind '{}' /etc/resolv.conf; mount -t tmpfs regctl-test /run; echo ready; exec sleep 100000",
            etc_docker.display(),
            hosts.display(),
            resolv.display()
        );
        let mut holder = Command::new(unshare)
            .args(["-m", "--propagation", "private", "sh", "-c", &script])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(holder.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        if line.trim() != "ready" {
            let _ = holder.kill();
            let out = holder.wait_with_output().unwrap();
            panic!(
                "the private mount namespace could not be set up: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Dockerd {
            mode,
            etc_docker,
            hosts,
            dir,
            holder,
            daemon: None,
            log_offset: 0,
        }
    }

    /// A command run inside the namespace (`nsenter -t HOLDER -m PROGRAM`), with a clean
    /// environment holding only this mode's PATH.
    pub fn command(&self, program: &Path) -> Command {
        let mut cmd = Command::new("nsenter");
        cmd.arg("-t")
            .arg(self.holder.id().to_string())
            .arg("-m")
            .arg("--")
            .arg(program)
            .env_clear()
            .env("PATH", self.mode.path())
            .stdin(Stdio::null());
        cmd
    }

    pub fn daemon_json(&self) -> PathBuf {
        self.etc_docker.join("daemon.json")
    }

    pub fn write_daemon_json(&self, text: &str) {
        fs::write(self.daemon_json(), text).unwrap();
    }

    /// Adds `ip name` to the namespace's /etc/hosts (in place: it is a bind mount). dockerd may
    /// not see it for 5 s (Go caches the file): prefer `start_with_hosts`.
    pub fn add_host(&self, name: &str, ip: &str) {
        let mut f = fs::OpenOptions::new()
            .append(true)
            .open(&self.hosts)
            .unwrap();
        writeln!(f, "{ip}\t{name}").unwrap();
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("dockerd.log")
    }

    /// What this dockerd logged since its last start.
    pub fn log(&self) -> String {
        let all = fs::read(self.log_path()).unwrap_or_default();
        String::from_utf8_lossy(&all[(self.log_offset as usize).min(all.len())..]).into_owned()
    }

    /// Starts dockerd with the namespace's /etc/docker/daemon.json and waits until it listens
    /// or exits.
    pub fn launch(&mut self) -> Started {
        self.launch_with(&[])
    }

    /// `launch` with extra dockerd arguments.
    pub fn launch_with(&mut self, extra: &[&str]) -> Started {
        self.launch_until(extra, "API listen on")
    }

    /// Starts dockerd and waits until its log contains `marker` (then it counts as started and
    /// keeps running) or it exits.
    pub fn launch_until(&mut self, extra: &[&str], marker: &str) -> Started {
        assert!(self.daemon.is_none(), "dockerd already runs");
        self.log_offset = fs::metadata(self.log_path()).map(|m| m.size()).unwrap_or(0);
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())
            .unwrap();
        let mut cmd = self.command(&self.mode.dockerd_bin());
        cmd.args(["--iptables=false", "--ip6tables=false", "--bridge=none"])
            .arg("--data-root")
            .arg(self.dir.path().join("data"))
            .args(extra)
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if self.log().contains(marker) {
                self.daemon = Some(child);
                return Started::Listening;
            }
            if child.try_wait().unwrap().is_some() {
                return Started::Refused(self.log());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "{} neither listened nor exited within 60 s:\n{}",
                    self.mode.label(),
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits (up to 20 s) until dockerd has logged `Reloaded configuration` more than `before`
    /// times (`reloads()` taken before the SIGHUP).
    pub fn wait_reloaded(&self, before: usize) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.reloads() <= before {
            assert!(
                Instant::now() < deadline,
                "{} did not reload within 20 s:\n{}",
                self.mode.label(),
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// How often this dockerd has logged a reload.
    pub fn reloads(&self) -> usize {
        self.log().matches("Reloaded configuration").count()
    }

    /// The running dockerd's pid.
    pub fn pid(&self) -> u32 {
        self.daemon.as_ref().expect("dockerd is not running").id()
    }

    /// Whether the started dockerd still runs.
    pub fn running(&mut self) -> bool {
        self.daemon
            .as_mut()
            .is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Stops dockerd (SIGTERM, then SIGKILL after 20 s) and waits for it; then kills whatever
    /// it left in the namespace (a containerd of a daemon stopped while starting), so that the
    /// next launch starts clean.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.daemon.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().unwrap().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        self.kill_leftovers();
    }

    /// SIGKILL to every process of the namespace but its holder, and wait until they are gone.
    fn kill_leftovers(&self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let left: Vec<u32> = self
                .namespace_pids()
                .into_iter()
                .filter(|p| *p != self.holder.id())
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                return;
            }
            for pid in left {
                let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Env for commands in the namespace from a TestEnv: its HOME, DOCKER_CONFIG and XDG dirs,
    /// but without the REGCTL_* overrides of daemon.json, certs.d and the dockerd version (the
    /// namespace's defaults are the test's files, and regctl asks this mode's dockerd), and
    /// with this mode's PATH (plus docker-credential-regctl).
    fn env_of(&self, env: &TestEnv) -> Vec<(String, String)> {
        let mut vars: Vec<(String, String)> = env
            .env_vars()
            .into_iter()
            .filter(|(k, _)| {
                !matches!(
                    k.as_str(),
                    "REGCTL_DAEMON_CONFIG" | "REGCTL_CERTS_DIR" | "REGCTL_DOCKERD_VERSION" | "PATH"
                )
            })
            .collect();
        vars.push((
            "PATH".into(),
            format!(
                "{}:{}",
                super::creds::helper_dir().display(),
                self.mode.path()
            ),
        ));
        vars
    }

    /// Runs regctl inside the namespace with the TestEnv's environment (default daemon paths).
    pub fn regctl(&self, env: &TestEnv, args: &[&str]) -> Run {
        self.regctl_stdin(env, args, "")
    }

    pub fn regctl_stdin(&self, env: &TestEnv, args: &[&str], stdin: &str) -> Run {
        self.run_in(env, &super::regctl_bin(), args, stdin)
    }

    /// Runs a docker CLI inside the namespace (it talks to /var/run/docker.sock there).
    pub fn docker(&self, env: &TestEnv, cli: &Path, args: &[&str]) -> Run {
        self.run_in(env, cli, args, "")
    }

    pub fn docker_stdin(&self, env: &TestEnv, cli: &Path, args: &[&str], stdin: &str) -> Run {
        self.run_in(env, cli, args, stdin)
    }

    /// Runs any program inside the namespace with the TestEnv's environment.
    pub fn run_in(&self, env: &TestEnv, program: &Path, args: &[&str], stdin: &str) -> Run {
        let mut cmd = self.command(program);
        cmd.envs(self.env_of(env)).args(args);
        super::run_with_stdin(&mut cmd, stdin)
    }

    /// Every process in this namespace (the holder, dockerd, containerd, shims).
    fn namespace_pids(&self) -> Vec<u32> {
        let ns = |pid: &str| fs::read_link(format!("/proc/{pid}/ns/mnt")).ok();
        let Some(ours) = ns(&self.holder.id().to_string()) else {
            return Vec::new();
        };
        fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| ns(&pid.to_string()).as_ref() == Some(&ours))
            .collect()
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
        let _ = self.holder.kill();
        let _ = self.holder.wait();
    }
}
