//! Diagnoses a registry end to end the way dockerd would reach it, phase by phase, and names the
//! cause of a failure with the command that fixes it. Nothing here prints: `diagnose` returns a
//! report of checks (stable id, status, message with evidence, optional fix, time taken) that
//! `commands::doctor` renders as text or JSON.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::names::RegistryName;

pub mod auth;
pub mod config;
pub mod dns;
pub mod explain;
pub mod http;
pub mod ids;
pub mod mirror;
pub mod network;
pub mod proxy;
pub mod tls;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Ok,
    Warn,
    Fail,
    Skip,
}

/// One finding. `id` is stable (documented in the README, used by scripts); never rename one.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    pub message: String,
    /// A runnable command (or precise instruction) that fixes the problem.
    pub fix: Option<String>,
    /// Time the phase that produced this check took.
    pub ms: u64,
}

impl Check {
    pub fn new(id: &'static str, status: Status, message: impl Into<String>) -> Check {
        Check {
            id,
            status,
            message: message.into(),
            fix: None,
            ms: 0,
        }
    }
    pub fn ok(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Ok, message)
    }
    pub fn warn(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Warn, message)
    }
    pub fn fail(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Fail, message)
    }
    pub fn skip(id: &'static str, message: impl Into<String>) -> Check {
        Check::new(id, Status::Skip, message)
    }
    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        self.fix = Some(fix.into());
        self
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct RegistryReport {
    pub registry: String,
    pub ok: bool,
    pub checks: Vec<Check>,
    /// Docker Hub's registry mirrors, fastest first (Docker Hub's report only).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<mirror::MirrorProbe>,
}

/// Everything doctor reads about this machine, resolved once by the caller.
#[derive(Debug, Clone)]
pub struct Inputs {
    pub daemon_config: PathBuf,
    pub client_config: PathBuf,
    pub certs_dir: PathBuf,
    /// containerd's hosts directory (its hosts.toml files are reviewed like certs.d's).
    pub containerd_certs_dir: PathBuf,
    /// podman/skopeo's registries.conf.d (every *.conf in it is reviewed).
    pub registries_conf_d: PathBuf,
    /// docker.service drop-ins (`Environment=HTTPS_PROXY=...`), for dockerd's own proxy.
    pub systemd_dropin_dirs: Vec<PathBuf>,
    /// The shell's proxy variables.
    pub proxy_env: proxy::ProxyEnv,
    /// Directories of PATH, to find credential helpers.
    pub path_dirs: Vec<PathBuf>,
    /// Where the OS keychain is reached (for credentials kept by docker-credential-regctl).
    pub keychain: crate::creds::keychain::KeychainEnv,
    /// Per network phase: DNS, TCP connect, TLS handshake, HTTP request.
    pub timeout: Duration,
    /// The dockerd whose rules apply (version; the image store comes from daemon.json).
    pub dockerd: crate::files::dockerd::Engine,
    /// The same dockerd with the docker CLI's version (detected meanwhile), for the registry
    /// rules that differ between them.
    pub engine: std::sync::Arc<crate::registry::engine::Detecting>,
    /// The resolver's configuration (its name servers are asked when nothing resolves).
    pub resolv_conf: PathBuf,
    /// Docker Hub's address when set (tests), instead of DNS.
    pub docker_hub_ip: Option<std::net::IpAddr>,
    /// The image a Docker Hub mirror must serve (`--probe-image`).
    pub probe_image: String,
    /// The time certificates are judged against, read once by the caller.
    pub now: std::time::SystemTime,
}

/// The state one registry's diagnosis builds up as phases run.
pub struct Probe<'a> {
    pub name: &'a RegistryName,
    pub inputs: &'a Inputs,
    pub checks: Vec<Check>,
    /// Set by the phase that failed; later phases are reported as skipped.
    pub stopped: Option<&'static str>,
}

impl Probe<'_> {
    /// Runs a phase unless an earlier one failed, timing it.
    pub fn phase(&mut self, name: &'static str, run: impl FnOnce(&mut Self) -> Vec<Check>) {
        if let Some(stopped) = self.stopped {
            self.checks.push(Check::skip(
                ids::SKIPPED,
                format!("{name}: skipped because {stopped} failed"),
            ));
            return;
        }
        let started = Instant::now();
        let mut checks = run(self);
        let ms = started.elapsed().as_millis() as u64;
        for c in &mut checks {
            c.ms = ms;
        }
        if checks.iter().any(|c| c.status == Status::Fail) && self.stopped.is_none() {
            self.stopped = Some(name);
        }
        self.checks.extend(checks);
    }
}

/// The result of the network phases that later phases build on.
#[derive(Debug, Default)]
pub struct Reach {
    pub proxy: Option<proxy::ProxyChoice>,
    pub addrs: Vec<std::net::SocketAddr>,
    pub connected: Option<std::net::SocketAddr>,
}

/// The connection the TLS phase leaves open for the API phase.
pub enum Transport {
    Tls(Box<crate::registry::tls_probe::Session>),
    Plain(std::net::TcpStream),
}

/// Diagnoses one registry.
pub fn diagnose(name: &RegistryName, inputs: &Inputs) -> RegistryReport {
    let mut probe = Probe {
        name,
        inputs,
        checks: Vec::new(),
        stopped: None,
    };
    // This registry's local problems are reported but do not stop the network phases.
    let started = Instant::now();
    let mut local = config::check(Some(name), inputs);
    let ms = started.elapsed().as_millis() as u64;
    local.iter_mut().for_each(|c| c.ms = ms);
    probe.checks.extend(local);

    let mut reach = Reach::default();
    probe.phase("name", |p| vec![network::name_check(p.name)]);
    probe.phase("proxy", |p| {
        let (choice, checks) = proxy::check(p.name, p.inputs);
        reach.proxy = choice;
        checks
    });
    if reach.proxy.is_none() {
        probe.phase("dns", |p| {
            let (addrs, checks) = dns::resolve(p.name, p.inputs);
            reach.addrs = addrs;
            checks
        });
        probe.phase("tcp", |p| {
            let (connected, checks) = network::connect(p.name, &reach.addrs, p.inputs.timeout);
            reach.connected = connected;
            checks
        });
    }
    let insecure = is_insecure(name, inputs, &reach);
    let trust = crate::registry::trust::HostTrust::load(&inputs.certs_dir, &name.host)
        .map_err(|e| e.to_string());
    let mut transport = None;
    probe.phase("tls", |p| {
        let (t, checks) = tls::handshake(p, &reach, trust.as_ref().ok(), insecure);
        transport = t;
        checks
    });
    probe.phase("chain", |p| {
        tls::chain(
            p,
            &mut transport,
            trust.as_ref().map_err(Clone::clone),
            insecure,
        )
    });
    let mut api = None;
    let sent_pair = tls::client_auth_sent(trust.as_ref().ok());
    probe.phase("api", |p| {
        let (response, checks) = http::api(p, &mut transport, sent_pair);
        api = response;
        checks
    });
    drop(transport);
    probe.phase("realm", |p| auth::realm(p, api.as_ref()));
    probe.phase("auth", |p| auth::check(p, api.as_ref()));
    let mirrors = if name.is_docker_hub {
        mirror::probe_all(inputs)
    } else {
        Vec::new()
    };
    let reached = !probe.checks.iter().any(|c| c.status == Status::Fail);
    mirror::demote_direct(&mirrors, &mut probe.checks);
    probe.checks.splice(0..0, mirror::checks(&mirrors));
    let ok = !probe.checks.iter().any(|c| c.status == Status::Fail);
    if ok && reached {
        let total: u64 = started.elapsed().as_millis() as u64;
        let mut verdict = Check::ok(
            ids::REGISTRY_OK,
            format!("docker can reach {} as a registry", name.host),
        );
        verdict.ms = total;
        probe.checks.push(verdict);
    }
    RegistryReport {
        registry: name.input.clone(),
        ok,
        checks: probe.checks,
        mirrors,
    }
}

/// The machine's configuration, reported once above the registries.
pub fn diagnose_local(inputs: &Inputs) -> RegistryReport {
    let checks = config::check(None, inputs);
    RegistryReport {
        registry: "local configuration".to_string(),
        ok: !checks.iter().any(|c| c.status == Status::Fail),
        checks,
        mirrors: Vec::new(),
    }
}

/// Whether dockerd treats the registry as insecure (daemon.json, CIDRs against the addresses
/// found, and the always-insecure loopback).
fn is_insecure(name: &RegistryName, inputs: &Inputs, reach: &Reach) -> bool {
    let config = crate::files::json_file::JsonFile::read(
        &inputs.daemon_config,
        crate::files::json_file::FileKind::DAEMON_JSON,
    )
    .map(|f| f.value)
    .unwrap_or_default();
    let addrs: Vec<std::net::IpAddr> = reach.addrs.iter().map(|a| a.ip()).collect();
    crate::files::daemon_config::InsecureRegistries::from_config(&config)
        .is_insecure(&name.host, |_| addrs.clone())
}

/// Diagnoses several registries at once (one thread each) and returns the reports in the
/// order given.
pub fn diagnose_all(names: &[RegistryName], inputs: &Inputs) -> Vec<RegistryReport> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| scope.spawn(move || diagnose(n, inputs)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a diagnosis thread does not panic"))
            .collect()
    })
}
