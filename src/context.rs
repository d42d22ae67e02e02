//! Every path and mode a command needs, resolved once from flags, then the environment, then the
//! defaults (root or rootless). No other module reads environment variables.

use std::path::{Path, PathBuf};

use crate::files::dockerd::{Engine, EngineVersion, VersionSource};

/// The environment variables and process facts that decide default paths, read once in `main`.
#[derive(Debug, Clone, Default)]
pub struct Environment {
    pub home: Option<PathBuf>,
    pub xdg_config_home: Option<PathBuf>,
    pub xdg_runtime_dir: Option<PathBuf>,
    pub xdg_state_home: Option<PathBuf>,
    pub xdg_cache_home: Option<PathBuf>,
    pub docker_host: Option<String>,
    /// DBUS_SESSION_BUS_ADDRESS: where the Secret Service (the Linux keychain) is reached.
    pub dbus_session_bus_address: Option<String>,
    /// PATH, where credential helpers are looked up.
    pub path: Option<std::ffi::OsString>,
    /// DOCKER_AUTH_CONFIG is set (docker 28.3+ reads credentials from it first).
    pub docker_auth_config: bool,
    pub euid: u32,
    pub no_color: bool,
    /// The shell's HTTP(S)_PROXY / NO_PROXY, as Go reads them.
    pub proxy: crate::files::proxies::ProxyEnv,
    /// REGCTL_DOCKER_SERVICE_DIR: where docker.service drop-ins live (for dockerd's proxy).
    pub docker_service_dir: Option<PathBuf>,
    /// The AWS variables ECR logins honour (credentials, profile, region, endpoints, files).
    pub aws: crate::creds::ecr::AwsEnv,
    /// REGCTL_DOCKER_HUB_IP: the address Docker Hub's names resolve to for doctor's probes,
    /// instead of DNS (the tests point it at loopback, so Docker Hub itself is never reached).
    pub docker_hub_ip: Option<std::net::IpAddr>,
}

impl Environment {
    pub fn from_process() -> Environment {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        Environment {
            home: path("HOME"),
            xdg_config_home: path("XDG_CONFIG_HOME"),
            xdg_runtime_dir: path("XDG_RUNTIME_DIR"),
            xdg_state_home: path("XDG_STATE_HOME"),
            xdg_cache_home: path("XDG_CACHE_HOME"),
            docker_host: std::env::var("DOCKER_HOST").ok().filter(|v| !v.is_empty()),
            dbus_session_bus_address: std::env::var("DBUS_SESSION_BUS_ADDRESS").ok(),
            path: std::env::var_os("PATH"),
            docker_auth_config: std::env::var_os("DOCKER_AUTH_CONFIG")
                .is_some_and(|v| !v.is_empty()),
            // SAFETY: geteuid has no preconditions and cannot fail.
            euid: unsafe { libc::geteuid() },
            no_color: std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()),
            proxy: crate::files::proxies::ProxyEnv::from_lookup(|k| std::env::var(k).ok()),
            docker_service_dir: path("REGCTL_DOCKER_SERVICE_DIR"),
            aws: crate::creds::ecr::AwsEnv::from_lookup(|k| std::env::var(k).ok()),
            docker_hub_ip: std::env::var("REGCTL_DOCKER_HUB_IP")
                .ok()
                .and_then(|v| v.parse().ok()),
        }
    }

    fn home(&self) -> PathBuf {
        self.home.clone().unwrap_or_else(|| PathBuf::from("/"))
    }

    fn config_home(&self) -> PathBuf {
        self.xdg_config_home
            .clone()
            .unwrap_or_else(|| self.home().join(".config"))
    }

    /// A rootless dockerd runs as this user, with its socket and pidfile in XDG_RUNTIME_DIR.
    pub fn rootless_dockerd(&self) -> bool {
        if self.euid == 0 {
            return false;
        }
        let Some(run) = &self.xdg_runtime_dir else {
            return false;
        };
        let socket = run.join("docker.sock");
        let host_is_rootless = self
            .docker_host
            .as_deref()
            .is_some_and(|h| h.strip_prefix("unix://") == Some(&socket.to_string_lossy()));
        host_is_rootless || run.join("docker.pid").exists() || socket.exists()
    }
}

/// Paths given on the command line (already merged with their environment variables by clap).
#[derive(Debug, Clone, Default)]
pub struct PathFlags {
    pub config_dir: Option<PathBuf>,
    pub daemon_config: Option<PathBuf>,
    pub certs_dir: Option<PathBuf>,
    pub containers_certs_dir: Option<PathBuf>,
    pub system_trust_root: Option<PathBuf>,
    pub containerd_certs_dir: Option<PathBuf>,
    pub containerd_config: Option<PathBuf>,
    pub registries_conf_d: Option<PathBuf>,
}

impl PathFlags {
    /// The environment variables behind the path flags (the same names `cli.rs` gives clap),
    /// for code that runs without a parsed command line (shell completion).
    pub fn from_env() -> PathFlags {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        };
        PathFlags {
            config_dir: path("DOCKER_CONFIG"),
            daemon_config: path("REGCTL_DAEMON_CONFIG"),
            certs_dir: path("REGCTL_CERTS_DIR"),
            containers_certs_dir: path("REGCTL_CONTAINERS_CERTS_DIR"),
            system_trust_root: path("REGCTL_SYSTEM_TRUST_ROOT"),
            containerd_certs_dir: path("REGCTL_CONTAINERD_CERTS_DIR"),
            containerd_config: path("REGCTL_CONTAINERD_CONFIG"),
            registries_conf_d: path("REGCTL_REGISTRIES_CONF_D"),
        }
    }
}

/// Where every file regctl touches lives.
#[derive(Debug, Clone)]
pub struct Paths {
    /// The docker CLI's config directory (holds config.json).
    pub config_dir: PathBuf,
    pub daemon_config: PathBuf,
    pub certs_dir: PathBuf,
    /// podman/skopeo's certs.d (containers/image), for `trust-ca --containers`.
    pub containers_certs_dir: PathBuf,
    /// Where the OS trust store's paths start (`/`; a test root for `trust-ca --system`).
    pub system_trust_root: PathBuf,
    /// containerd's hosts directory (CRI `config_path`, `ctr --hosts-dir`).
    pub containerd_certs_dir: PathBuf,
    /// containerd's config.toml, read to check that CRI's `config_path` points at it.
    pub containerd_config: PathBuf,
    /// podman/skopeo's registries.conf drop-in directory (regctl writes 50-regctl.conf there).
    pub registries_conf_d: PathBuf,
    /// dockerd's pidfile, for `daemon reload`.
    pub pidfile: PathBuf,
    /// regctl's own state (daemon.json snapshots at reload).
    pub state_dir: PathBuf,
    /// regctl's cache (ECR tokens).
    pub cache_dir: PathBuf,
    /// docker.service drop-in directories, where dockerd's proxy environment is set.
    pub docker_service_dropins: Vec<PathBuf>,
    /// The directories of PATH (credential helpers are found there).
    pub exec_path: Vec<PathBuf>,
    /// Where the OS keychain is reached (the D-Bus session bus on Linux).
    pub keychain: crate::creds::keychain::KeychainEnv,
    pub rootless: bool,
    /// The system resolver's configuration (doctor reads its name servers).
    pub resolv_conf: PathBuf,
}

impl Paths {
    pub fn resolve(flags: &PathFlags, env: &Environment) -> Paths {
        let rootless = env.rootless_dockerd();
        let docker_user_dir = env.config_home().join("docker");
        let (daemon_default, certs_default, pid_default) = if rootless {
            let run = env.xdg_runtime_dir.clone().unwrap_or_default();
            (
                docker_user_dir.join("daemon.json"),
                docker_user_dir.join("certs.d"),
                run.join("docker.pid"),
            )
        } else {
            (
                PathBuf::from("/etc/docker/daemon.json"),
                PathBuf::from("/etc/docker/certs.d"),
                PathBuf::from("/var/run/docker.pid"),
            )
        };
        Paths {
            config_dir: flags
                .config_dir
                .clone()
                .unwrap_or_else(|| env.home().join(".docker")),
            daemon_config: flags.daemon_config.clone().unwrap_or(daemon_default),
            certs_dir: flags.certs_dir.clone().unwrap_or(certs_default),
            containers_certs_dir: flags
                .containers_certs_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/etc/containers/certs.d")),
            system_trust_root: flags
                .system_trust_root
                .clone()
                .unwrap_or_else(|| PathBuf::from("/")),
            containerd_certs_dir: flags
                .containerd_certs_dir
                .clone()
                .unwrap_or_else(|| PathBuf::from("/etc/containerd/certs.d")),
            containerd_config: flags
                .containerd_config
                .clone()
                .unwrap_or_else(|| PathBuf::from("/etc/containerd/config.toml")),
            registries_conf_d: flags
                .registries_conf_d
                .clone()
                .unwrap_or_else(|| PathBuf::from("/etc/containers/registries.conf.d")),
            pidfile: pid_default,
            state_dir: env
                .xdg_state_home
                .clone()
                .unwrap_or_else(|| env.home().join(".local/state"))
                .join("regctl"),
            cache_dir: env
                .xdg_cache_home
                .clone()
                .unwrap_or_else(|| env.home().join(".cache"))
                .join("regctl"),
            docker_service_dropins: match &env.docker_service_dir {
                Some(dir) => vec![dir.clone()],
                None if rootless => vec![env.config_home().join("systemd/user/docker.service.d")],
                None => vec![
                    PathBuf::from("/etc/systemd/system/docker.service.d"),
                    PathBuf::from("/run/systemd/system/docker.service.d"),
                ],
            },
            exec_path: env
                .path
                .as_ref()
                .map(|p| std::env::split_paths(p).collect())
                .unwrap_or_default(),
            keychain: crate::creds::keychain::KeychainEnv::new(
                env.dbus_session_bus_address.clone(),
                env.xdg_runtime_dir.as_deref(),
                env.euid,
            ),
            rootless,
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
        }
    }

    /// regctl's registries.conf drop-in.
    pub fn registries_drop_in(&self) -> PathBuf {
        self.registries_conf_d
            .join(crate::files::registries_conf::DROP_IN)
    }

    pub fn client_config(&self) -> PathBuf {
        self.config_dir.join("config.json")
    }

    /// The proxies dockerd uses for registry traffic (daemon.json `proxies`, docker.service
    /// drop-ins, else the shell's): what `login` verifies through, as `doctor` reasons.
    pub fn dockerd_proxies(
        &self,
        shell: &crate::files::proxies::ProxyEnv,
    ) -> crate::files::proxies::ProxyEnv {
        crate::files::proxies::for_dockerd(&self.daemon_config, &self.docker_service_dropins, shell)
            .0
    }

    /// Where ECR logins keep their tokens (cache) and choices (state).
    pub fn ecr_dirs(&self) -> crate::creds::ecr::EcrDirs {
        crate::creds::ecr::EcrDirs {
            cache_dir: self.cache_dir.clone(),
            state_dir: self.state_dir.clone(),
        }
    }
}

/// What every command gets: resolved paths and the global modes.
#[derive(Debug, Clone)]
pub struct Context {
    pub paths: Paths,
    /// Compute and report, write nothing.
    pub check: bool,
    /// Report file changes as before/after.
    pub diff: bool,
    /// Prompts are allowed (a terminal on stdin and no --non-interactive).
    pub interactive: bool,
    /// The environment as read at start-up (proxies, PATH).
    pub env: Environment,
    /// The command line as run, for hints that repeat it.
    pub argv: Vec<String>,
    /// `--dockerd-version` / REGCTL_DOCKERD_VERSION.
    pub dockerd_version: Option<EngineVersion>,
    /// The dockerd found on first use (running `dockerd --version` costs a process).
    pub dockerd_cache: std::sync::OnceLock<Engine>,
}

impl Context {
    pub fn daemon_config(&self) -> &Path {
        &self.paths.daemon_config
    }

    /// The dockerd whose rules apply: the override, else `dockerd --version` of the first
    /// dockerd on PATH, else the stated default.
    pub fn dockerd(&self) -> Engine {
        self.dockerd_cache
            .get_or_init(|| {
                resolve_engine(
                    self.dockerd_version,
                    &self.paths.exec_path,
                    &self.paths.cache_dir,
                )
            })
            .clone()
    }

    /// Picks the message for what was done or, in check mode, what would be done.
    pub fn did<'a>(&self, done: &'a str, would: &'a str) -> &'a str {
        if self.check {
            would
        } else {
            done
        }
    }
}

fn resolve_engine(
    version: Option<EngineVersion>,
    exec_path: &[PathBuf],
    cache_dir: &Path,
) -> Engine {
    if let Some(version) = version {
        return Engine {
            version,
            source: VersionSource::Override,
        };
    }
    let Some(bin) = exec_path
        .iter()
        .map(|d| d.join("dockerd"))
        .find(|p| p.is_file())
    else {
        return Engine::default_engine();
    };
    dockerd_version(&bin, cache_dir)
        .map(|version| Engine {
            version,
            source: VersionSource::Binary(bin),
        })
        .unwrap_or_else(Engine::default_engine)
}

/// `dockerd --version` of `bin`, remembered in the cache dir under the binary's path, size and
/// mtime: running dockerd costs tens of milliseconds (hundreds on a busy machine), a stat does not.
fn dockerd_version(bin: &Path, cache_dir: &Path) -> Option<EngineVersion> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(bin).ok()?;
    let key = format!(
        "{}\t{}\t{}",
        bin.display(),
        meta.len(),
        meta.mtime_nsec() + meta.mtime() * 1_000_000_000
    );
    let cache = cache_dir.join("dockerd-version");
    if let Some(v) =
        crate::files::bounded::read_text_file(&cache, crate::files::bounded::limits::SMALL_TEXT)
            .ok()
            .and_then(|text| {
                let (k, v) = text.trim_end().rsplit_once('\t')?;
                (k == key).then(|| EngineVersion::parse(v)).flatten()
            })
    {
        return Some(v);
    }
    let out = std::process::Command::new(bin)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    let version = EngineVersion::from_version_output(&String::from_utf8_lossy(&out.stdout))?;
    // Best effort: a cache that cannot be written only costs the next run a dockerd --version.
    let _ = std::fs::create_dir_all(cache_dir)
        .and_then(|_| std::fs::write(&cache, format!("{key}\t{version}\n")));
    Some(version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_beat_defaults_and_rootless_moves_daemon_paths() {
        let tmp = std::env::temp_dir().join(format!("regctl-ctx-{}", std::process::id()));
        std::fs::create_dir_all(&tmp).unwrap();
        std::fs::write(tmp.join("docker.pid"), "1").unwrap();
        let env = Environment {
            home: Some("/home/u".into()),
            xdg_runtime_dir: Some(tmp.clone()),
            euid: 1000,
            ..Default::default()
        };
        let p = Paths::resolve(&PathFlags::default(), &env);
        assert!(p.rootless);
        assert_eq!(
            p.daemon_config,
            Path::new("/home/u/.config/docker/daemon.json")
        );
        assert_eq!(p.certs_dir, Path::new("/home/u/.config/docker/certs.d"));
        assert_eq!(p.pidfile, tmp.join("docker.pid"));
        assert_eq!(p.config_dir, Path::new("/home/u/.docker"));

        let root = Environment {
            euid: 0,
            home: Some("/root".into()),
            xdg_runtime_dir: Some(tmp.clone()),
            ..Default::default()
        };
        let p = Paths::resolve(
            &PathFlags {
                daemon_config: Some("/x/d.json".into()),
                ..Default::default()
            },
            &root,
        );
        assert!(!p.rootless);
        assert_eq!(p.daemon_config, Path::new("/x/d.json"));
        assert_eq!(p.certs_dir, Path::new("/etc/docker/certs.d"));
        std::fs::remove_dir_all(tmp).unwrap();
    }
}
