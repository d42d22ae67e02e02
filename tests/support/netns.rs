//! A test host on its own network namespace, reached from the tests over a veth pair at a
//! 10.x address: dockerd treats every loopback registry as insecure (127.0.0.0/8 and ::1 are
//! always in insecure-registries), so TLS and plain-HTTP failures that docker reports only for
//! secure registries need a registry that is not on loopback. The namespace, the link and every
//! process in it are removed when the host is dropped. Needs root (CI runs as root).

use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

use super::{is_root, output_ok, require_tool};

static NEXT: AtomicU32 = AtomicU32::new(0);

pub struct NetnsHost {
    pub name: String,
    /// The test host's address, as the tests reach it.
    pub ip: String,
    host_if: String,
    children: Vec<Child>,
}

fn ip(args: &[&str]) {
    output_ok(Command::new("ip").args(args));
}

impl NetnsHost {
    pub fn new() -> NetnsHost {
        require_tool("ip");
        assert!(
            is_root(),
            "network-namespace tests need root (CI runs as root): run scripts/test as root"
        );
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let id = (std::process::id() % 60_000) * 4 + n;
        let name = format!("rgt{id}");
        let (host_if, peer_if) = (format!("rgh{id}"), format!("rgp{id}"));
        // One /30 per host: 10.(200 + id/16384 % 50).(id/64 % 256).(id%64 * 4 + 1|2).
        let (b, c, d) = (200 + (id / 16384) % 50, (id / 64) % 256, (id % 64) * 4);
        let host_ip = format!("10.{b}.{c}.{}", d + 1);
        let peer_ip = format!("10.{b}.{c}.{}", d + 2);
        ip(&["netns", "add", &name]);
        ip(&[
            "link", "add", &host_if, "type", "veth", "peer", "name", &peer_if,
        ]);
        ip(&["link", "set", &peer_if, "netns", &name]);
        ip(&["addr", "add", &format!("{host_ip}/30"), "dev", &host_if]);
        ip(&["link", "set", &host_if, "up"]);
        ip(&[
            "netns",
            "exec",
            &name,
            "ip",
            "addr",
            "add",
            &format!("{peer_ip}/30"),
            "dev",
            &peer_if,
        ]);
        ip(&["netns", "exec", &name, "ip", "link", "set", &peer_if, "up"]);
        ip(&["netns", "exec", &name, "ip", "link", "set", "lo", "up"]);
        NetnsHost {
            name,
            ip: peer_ip,
            host_if,
            children: Vec::new(),
        }
    }

    /// A command that runs inside the namespace.
    pub fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name, program]);
        cmd.stdin(Stdio::null());
        cmd
    }

    /// Keeps a process started in the namespace, to be killed with it.
    pub fn adopt(&mut self, child: Child) {
        self.children.push(child);
    }
}

impl Drop for NetnsHost {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        // Kill anything else left in the namespace, then remove it (the veth goes with it).
        let _ = Command::new("ip")
            .args(["netns", "pids", &self.name])
            .output()
            .map(|o| {
                for pid in String::from_utf8_lossy(&o.stdout).split_whitespace() {
                    let _ = Command::new("kill").args(["-9", pid]).status();
                }
            });
        let _ = Command::new("ip")
            .args(["link", "del", &self.host_if])
            .output();
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .output();
    }
}
