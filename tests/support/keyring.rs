//! A private Secret Service: `dbus-daemon --session` plus `gnome-keyring-daemon` (secrets
//! component only) with HOME and XDG_DATA_HOME in a temp dir, so tests never touch the user's
//! keyring. `unlocked()` creates and unlocks the login keyring with a known password; `locked()`
//! starts the daemon without unlocking anything.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

use super::{require_tool, TestEnv};

pub struct SecretService {
    pub dir: TempDir,
    /// DBUS_SESSION_BUS_ADDRESS of the private bus.
    pub address: String,
    dbus: Child,
    keyring: Child,
}

impl SecretService {
    pub fn unlocked() -> SecretService {
        Self::start(Some("regctl-test-keyring-password"))
    }

    pub fn locked() -> SecretService {
        Self::start(None)
    }

    fn start(password: Option<&str>) -> SecretService {
        let dbus_bin = require_tool("dbus-daemon");
        let gk_bin = require_tool("gnome-keyring-daemon");
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
        let mut cmd = Command::new(gk_bin);
        cmd.arg("--foreground").arg("--components=secrets");
        if password.is_some() {
            cmd.arg("--unlock");
        }
        let mut keyring = cmd
            .env_clear()
            .env("HOME", dir.path().join("home"))
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_RUNTIME_DIR", dir.path().join("run"))
            .env("DBUS_SESSION_BUS_ADDRESS", &address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        {
            let mut stdin = keyring.stdin.take().unwrap();
            if let Some(p) = password {
                stdin.write_all(p.as_bytes()).unwrap();
            }
        }
        let ss = SecretService {
            dir,
            address,
            dbus,
            keyring,
        };
        ss.wait_until_ready();
        ss
    }

    /// Waits until org.freedesktop.secrets is owned on the bus.
    fn wait_until_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let out = Command::new("dbus-send")
                .args([
                    "--session",
                    "--print-reply",
                    "--dest=org.freedesktop.DBus",
                    "/org/freedesktop/DBus",
                    "org.freedesktop.DBus.NameHasOwner",
                    "string:org.freedesktop.secrets",
                ])
                .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
                .output();
            if let Ok(o) = out {
                if String::from_utf8_lossy(&o.stdout).contains("boolean true") {
                    return;
                }
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

/// Points a TestEnv at a D-Bus address where nothing listens: no Secret Service at all.
pub fn no_secret_service(env: &mut TestEnv) {
    let address = format!("unix:path={}", env.path("no-such-bus").display());
    env.set_env("DBUS_SESSION_BUS_ADDRESS", &address);
}
