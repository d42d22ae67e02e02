//! A private Secret Service: `dbus-daemon --session` plus `gnome-keyring-daemon` (secrets
//! component only) with HOME and XDG_DATA_HOME in a temp dir, so tests never touch the user's
//! keyring. `unlocked()` creates and unlocks the login keyring with a known password; `locked()`
//! starts the daemon without unlocking anything.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{require_tool, TestEnv};

/// The login keyring's password in `SecretService::unlocked()`.
pub const KEYRING_PASSWORD: &str = "regctl-test-keyring-password";

pub struct SecretService {
    pub dir: TempDir,
    /// DBUS_SESSION_BUS_ADDRESS of the private bus.
    pub address: String,
    dbus: Child,
    keyring: Child,
}

impl SecretService {
    pub fn unlocked() -> SecretService {
        Self::start(Some(KEYRING_PASSWORD))
    }

    pub fn locked() -> SecretService {
        Self::start(None)
    }

    fn start(password: Option<&str>) -> SecretService {
        let dbus_bin = require_tool("dbus-daemon");
        let dir = tempfile::Builder::new()
            .prefix("regctl-keyring-")
            .tempdir()
            .unwrap();
        for d in ["home", "data", "run"] {
            std::fs::create_dir_all(dir.path().join(d)).unwrap();
        }
        let mut dbus = Command::new(dbus_bin)
            .args(["--session", "--nofork", "--print-address=1"])
            .env_clear()
            .env("HOME", dir.path().join("home"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(dbus.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let address = line.trim().to_string();
        assert!(address.starts_with("unix:"), "dbus-daemon printed {line:?}");
        let keyring = spawn_keyring(dir.path(), &address, password);
        let ss = SecretService {
            dir,
            address,
            dbus,
            keyring,
        };
        ss.wait_until_ready();
        ss
    }

    /// Stops gnome-keyring-daemon and starts it again on the same keyring files: with a password
    /// the login keyring is unlocked again, without one it stays locked (as after a reboot
    /// without a desktop login).
    pub fn restart(&mut self, password: Option<&str>) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        // The name must be gone before the new daemon is asked for, or the old one answers.
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.secrets_owned() {
            assert!(
                Instant::now() < deadline,
                "the old gnome-keyring-daemon kept its name"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        self.keyring = spawn_keyring(self.dir.path(), &self.address, password);
        self.wait_until_ready();
    }

    /// Starts dbus-monitor on this bus; returns once it is listening.
    pub fn monitor(&self) -> Monitor {
        let mut child = Command::new(require_tool("dbus-monitor"))
            .arg("--address")
            .arg(&self.address)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut out = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        // Its own NameLost signal is the first thing it prints once it is a monitor.
        while !line.contains("member=NameLost") {
            line.clear();
            assert_ne!(out.read_line(&mut line).unwrap(), 0, "dbus-monitor exited");
        }
        let reader = std::thread::spawn(move || {
            let mut text = String::new();
            let _ = std::io::Read::read_to_string(&mut out, &mut text);
            text
        });
        Monitor { child, reader }
    }

    fn secrets_owned(&self) -> bool {
        Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.DBus",
                "/org/freedesktop/DBus",
                "org.freedesktop.DBus.NameHasOwner",
                "string:org.freedesktop.secrets",
            ])
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .output()
            .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
    }

    /// Waits until org.freedesktop.secrets is owned on the bus.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if self.secrets_owned() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("gnome-keyring-daemon did not take org.freedesktop.secrets within 20 s");
    }

    /// Points a TestEnv's commands at this Secret Service.
    pub fn apply(&self, env: &mut TestEnv) {
        env.set_env("DBUS_SESSION_BUS_ADDRESS", &self.address);
    }

    /// A command (secret-tool, docker-credential-secretservice, ...) on this bus.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(require_tool(program));
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.dir.path().join("home"))
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        cmd
    }

    /// `secret-tool search --all ATTR VALUE` (items, attributes and secrets as text).
    pub fn search(&self, attr: &str, value: &str) -> Output {
        self.command("secret-tool")
            .args(["search", "--all", "--unlock", attr, value])
            .output()
            .unwrap()
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        let _ = self.keyring.kill();
        let _ = self.keyring.wait();
        let _ = self.dbus.kill();
        let _ = self.dbus.wait();
    }
}

/// gnome-keyring-daemon (secrets only) for the keyring files under `dir`, on the bus at
/// `address`; with a password on stdin it unlocks (or creates) the login keyring.
fn spawn_keyring(dir: &Path, address: &str, password: Option<&str>) -> Child {
    let mut cmd = Command::new(require_tool("gnome-keyring-daemon"));
    cmd.arg("--foreground").arg("--components=secrets");
    if password.is_some() {
        cmd.arg("--unlock");
    }
    let mut keyring = cmd
        .env_clear()
        .env("HOME", dir.join("home"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env("XDG_RUNTIME_DIR", dir.join("run"))
        .env("DBUS_SESSION_BUS_ADDRESS", address)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = keyring.stdin.take().unwrap();
    if let Some(p) = password {
        stdin.write_all(p.as_bytes()).unwrap();
    }
    keyring
}

/// A running dbus-monitor; `stop` gives what it printed.
pub struct Monitor {
    child: Child,
    reader: std::thread::JoinHandle<String>,
}

impl Monitor {
    pub fn stop(mut self) -> String {
        // What was sent before this point is printed once the monitor reads it: a moment.
        std::thread::sleep(Duration::from_millis(200));
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.reader.join().unwrap()
    }
}

/// Points a TestEnv at a D-Bus address where nothing listens: no Secret Service at all.
pub fn no_secret_service(env: &mut TestEnv) {
    let address = format!("unix:path={}", env.path("no-such-bus").display());
    env.set_env("DBUS_SESSION_BUS_ADDRESS", &address);
}
