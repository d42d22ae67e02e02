//! Which Docker regctl faces: the dockerd version, its image store, and the docker CLI version.
//! Some of Docker's registry rules differ between them (whose TLS settings reach a token realm,
//! which config.json key forms hold credentials), so the rules that differ are answered here,
//! from one value, and every report can say which Docker it assumed.
//!
//! The versions come from `dockerd --version` and `docker --version` found on the PATH given
//! (a stated default when absent); the image store from daemon.json `features`
//! (`containerd-snapshotter`), else the version's default.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Map, Value};

/// `major.minor` of a Docker release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Version {
    pub major: u32,
    pub minor: u32,
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl Version {
    pub const fn new(major: u32, minor: u32) -> Version {
        Version { major, minor }
    }

    /// `20.10`, `28.5.1`, `Docker version 20.10.24+dfsg1, build 297e128`.
    pub fn parse(text: &str) -> Option<Version> {
        let rest = text
            .trim()
            .strip_prefix("Docker version ")
            .unwrap_or(text.trim());
        let mut parts = rest.split(|c: char| !c.is_ascii_digit());
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Version { major, minor })
    }
}

/// The newest Docker the tests run; assumed when no binary says otherwise.
pub const DEFAULT: Version = Version::new(28, 5);
/// docker/cli 27.0 parses config.json keys as URLs (`HTTPS://HOST/` counts); older CLIs only
/// strip a lower-case `http://` or `https://`.
const CLI_URL_KEYS_FROM: Version = Version::new(27, 0);

/// Where a value came from, for reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `PROGRAM --version` of this binary.
    Binary(PathBuf),
    /// Given on the command line.
    Given,
    /// Nothing found: [`DEFAULT`].
    Default,
}

/// Whose TLS settings dockerd uses for a Bearer token realm on another host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenTrust {
    /// The registry's (moby's distribution client reuses the registry endpoint's transport:
    /// its certs.d folder, client pair and insecure setting).
    Registry,
    /// The system roots alone (containerd's authorizer uses Go's default HTTP client).
    SystemRoots,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Engine {
    pub dockerd: Version,
    pub dockerd_source: Source,
    pub containerd_store: bool,
    /// daemon.json sets `features.containerd-snapshotter` (else the version's default).
    pub store_configured: bool,
    pub cli: Version,
    pub cli_source: Source,
}

impl Engine {
    /// From the dockerd regctl resolved (`Context::dockerd`), the docker CLI on `path` and
    /// daemon.json's content.
    pub fn detect(
        dockerd: &crate::files::dockerd::Engine,
        path: &[PathBuf],
        daemon_json: &Map<String, Value>,
    ) -> Engine {
        use crate::files::dockerd::VersionSource as V;
        let (cli, cli_source) = version_of("docker", path);
        let source = match &dockerd.source {
            V::Override => Source::Given,
            V::Binary(p) => Source::Binary(p.clone()),
            V::Default => Source::Default,
        };
        let version = Version::new(dockerd.version.major, dockerd.version.minor);
        Engine::new(version, source, cli, cli_source, daemon_json)
    }

    pub fn new(
        dockerd: Version,
        dockerd_source: Source,
        cli: Version,
        cli_source: Source,
        daemon_json: &Map<String, Value>,
    ) -> Engine {
        let target = crate::files::dockerd::Engine {
            version: crate::files::dockerd::EngineVersion {
                major: dockerd.major,
                minor: dockerd.minor,
            },
            source: crate::files::dockerd::VersionSource::Default,
        }
        .target(daemon_json);
        Engine {
            dockerd,
            dockerd_source,
            containerd_store: target.containerd_store(),
            store_configured: target.store_source == crate::files::dockerd::StoreSource::Features,
            cli,
            cli_source,
        }
    }

    pub fn token_trust(&self) -> TokenTrust {
        if self.containerd_store {
            TokenTrust::SystemRoots
        } else {
            TokenTrust::Registry
        }
    }

    /// The config.json `auths` key the docker CLI reads for a registry's `key`: docker/cli's
    /// ConvertToHostname of this CLI version.
    pub fn cli_key_matches(&self, stored: &str, key: &str) -> bool {
        if self.cli >= CLI_URL_KEYS_FROM {
            url_hostname(stored) == key
        } else {
            crate::names::convert_to_hostname(stored) == key
        }
    }

    /// Whether dockerd uses credentials the CLI found under `stored`: the containerd store
    /// compares moby's ConvertToHostname of that key (only lower-case schemes are stripped) with
    /// the registry host and sends nothing when they differ; the classic store uses them as sent.
    pub fn daemon_uses_key(&self, stored: &str, key: &str) -> bool {
        !self.containerd_store || crate::names::convert_to_hostname(stored) == key
    }

    /// `dockerd 26.1 (classic image store), docker CLI 28.2`, for messages.
    pub fn describe(&self) -> String {
        let store = if self.containerd_store {
            "containerd"
        } else {
            "classic"
        };
        let assumed = |s: &Source| match s {
            Source::Default => " (assumed: none found)",
            _ => "",
        };
        format!(
            "dockerd {}{} with the {store} image store, docker CLI {}{}",
            self.dockerd,
            assumed(&self.dockerd_source),
            self.cli,
            assumed(&self.cli_source)
        )
    }
}

/// An [`Engine`] being detected on another thread (two `--version` runs take a few hundred ms),
/// so that the network phases run meanwhile; `get` waits for it.
pub struct Detecting {
    cell: std::sync::OnceLock<Engine>,
    pending: std::sync::Mutex<Option<std::thread::JoinHandle<Engine>>>,
}

impl Detecting {
    pub fn start(
        dockerd: crate::files::dockerd::Engine,
        path: Vec<PathBuf>,
        daemon_json: Map<String, Value>,
    ) -> Detecting {
        Detecting {
            cell: std::sync::OnceLock::new(),
            pending: std::sync::Mutex::new(Some(std::thread::spawn(move || {
                Engine::detect(&dockerd, &path, &daemon_json)
            }))),
        }
    }

    pub fn get(&self) -> &Engine {
        self.cell.get_or_init(|| {
            let handle = self
                .pending
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .take();
            handle.and_then(|h| h.join().ok()).unwrap_or_else(|| {
                Engine::new(
                    DEFAULT,
                    Source::Default,
                    DEFAULT,
                    Source::Default,
                    &Map::new(),
                )
            })
        })
    }
}

impl std::fmt::Debug for Detecting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detecting")
            .field("engine", &self.cell.get())
            .finish()
    }
}

/// docker/cli 27+: a key with `://` is parsed as a URL (scheme case-insensitive) and reduced to
/// `host[:port]`; otherwise everything before the first `/`.
fn url_hostname(stored: &str) -> String {
    if let Some((_, rest)) = stored.split_once("://") {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host_port = authority.rsplit('@').next().unwrap_or_default();
        if !host_port.is_empty() && !host_port.starts_with(':') {
            return host_port.to_string();
        }
    }
    stored.split('/').next().unwrap_or(stored).to_string()
}

fn version_of(program: &str, path: &[PathBuf]) -> (Version, Source) {
    path.iter()
        .map(|d| d.join(program))
        .find(|p| is_executable(p))
        .and_then(|bin| {
            let out = Command::new(&bin)
                .arg("--version")
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()?;
            let v = Version::parse(&String::from_utf8_lossy(&out.stdout))?;
            Some((v, Source::Binary(bin)))
        })
        .unwrap_or((DEFAULT, Source::Default))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine(dockerd: (u32, u32), cli: (u32, u32), daemon: Value) -> Engine {
        Engine::new(
            Version::new(dockerd.0, dockerd.1),
            Source::Given,
            Version::new(cli.0, cli.1),
            Source::Given,
            daemon.as_object().unwrap(),
        )
    }

    #[test]
    fn versions_parse_as_the_binaries_print_them() {
        assert_eq!(
            Version::parse("Docker version 20.10.24+dfsg1, build 297e128"),
            Some(Version::new(20, 10))
        );
        assert_eq!(Version::parse("28.5"), Some(Version::new(28, 5)));
        assert_eq!(Version::parse("dockerd"), None);
    }

    #[test]
    fn the_store_follows_features_then_the_version() {
        let on = serde_json::json!({"features": {"containerd-snapshotter": true}});
        assert!(engine((26, 1), (28, 2), on.clone()).containerd_store);
        assert!(!engine((26, 1), (28, 2), serde_json::json!({})).containerd_store);
        assert!(engine((29, 0), (29, 0), serde_json::json!({})).containerd_store);
        let off = serde_json::json!({"features": {"containerd-snapshotter": false}});
        assert!(!engine((29, 0), (29, 0), off).containerd_store);
        assert_eq!(
            engine((26, 1), (28, 2), on).token_trust(),
            TokenTrust::SystemRoots
        );
    }

    #[test]
    fn an_upper_case_url_key_is_read_by_newer_clis_only() {
        let key = "10.0.0.5:5000";
        let upper = "HTTPS://10.0.0.5:5000/";
        assert!(!engine((20, 10), (20, 10), serde_json::json!({})).cli_key_matches(upper, key));
        let new = engine((26, 1), (28, 2), serde_json::json!({}));
        assert!(new.cli_key_matches(upper, key));
        assert!(new.daemon_uses_key(upper, key));
        let cd = engine(
            (26, 1),
            (28, 2),
            serde_json::json!({"features": {"containerd-snapshotter": true}}),
        );
        assert!(!cd.daemon_uses_key(upper, key));
        assert!(cd.daemon_uses_key("https://10.0.0.5:5000/", key));
    }
}
