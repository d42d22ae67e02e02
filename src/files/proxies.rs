//! The proxy settings Go programs follow (`golang.org/x/net/http/httpproxy`): the variables as
//! plain values, and where dockerd takes its own (daemon.json `proxies`, then docker.service
//! drop-ins). Every HTTP client regctl builds takes its proxy from here, through Context, never
//! from reqwest's automatic reading of the environment. `login` and `doctor` both use
//! [`for_dockerd`]: dockerd's own settings when it has any, else the shell's.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use super::daemon_config::Cidr;
use super::json_file::{FileKind, JsonFile};
use crate::names::split_host_port;

/// Proxy variables as Go reads them (upper case first, then lower case).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    pub http_proxy: Option<String>,
    pub https_proxy: Option<String>,
    pub no_proxy: Option<String>,
}

impl ProxyEnv {
    /// From a variable lookup (the process environment, or a drop-in's `Environment=` lines).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let pick =
            |upper: &str, lower: &str| get(upper).or_else(|| get(lower)).filter(|v| !v.is_empty());
        ProxyEnv {
            http_proxy: pick("HTTP_PROXY", "http_proxy"),
            https_proxy: pick("HTTPS_PROXY", "https_proxy"),
            no_proxy: pick("NO_PROXY", "no_proxy"),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.http_proxy.is_none() && self.https_proxy.is_none()
    }

    /// The proxy Go uses for a request to `host:port` over `scheme`, or `None` for direct.
    pub fn proxy_for(&self, scheme: &str, host: &str, port: u16) -> Option<String> {
        let proxy = if scheme == "https" {
            &self.https_proxy
        } else {
            &self.http_proxy
        };
        let proxy = proxy.as_ref()?;
        if !use_proxy(host, port, self.no_proxy.as_deref().unwrap_or("")) {
            return None;
        }
        Some(if proxy.contains("://") {
            proxy.clone()
        } else {
            format!("http://{proxy}")
        })
    }
}

/// Go's `useProxy`: never for localhost or loopback addresses; not for NO_PROXY matches.
pub fn use_proxy(host: &str, port: u16, no_proxy: &str) -> bool {
    let host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if host == "localhost" {
        return false;
    }
    let ip = host.parse::<IpAddr>().ok();
    if ip.is_some_and(|ip| ip.is_loopback()) {
        return false;
    }
    for entry in no_proxy.split(',').map(|e| e.trim().to_ascii_lowercase()) {
        if entry.is_empty() {
            continue;
        }
        if entry == "*" {
            return false;
        }
        if let Some(cidr) = Cidr::parse(&entry) {
            if ip.is_some_and(|ip| cidr.contains(ip)) {
                return false;
            }
            continue;
        }
        let (entry_host, entry_port) = match split_host_port(&entry) {
            (h, Some(p)) => (h.to_string(), p.parse::<u16>().ok()),
            (h, None) => (h.to_string(), None),
        };
        let entry_host = entry_host.trim_start_matches('[').trim_end_matches(']');
        if entry_port.is_some_and(|p| p != port) {
            continue;
        }
        if let Ok(entry_ip) = entry_host.parse::<IpAddr>() {
            if ip == Some(entry_ip) {
                return false;
            }
            continue;
        }
        let suffix = entry_host.trim_start_matches('*');
        if let Some(domain) = suffix.strip_prefix('.') {
            if host.ends_with(suffix) || host == domain {
                return false;
            }
        } else if host == suffix || host.ends_with(&format!(".{suffix}")) {
            return false;
        }
    }
    true
}

/// dockerd's own proxy settings: daemon.json `proxies` wins over its environment (drop-ins).
pub fn dockerd_proxies(
    daemon_config: &Path,
    dropin_dirs: &[PathBuf],
) -> Option<(ProxyEnv, String)> {
    if let Ok(file) = JsonFile::read(daemon_config, FileKind::DAEMON_JSON) {
        if let Some(p) = file.value.get("proxies").and_then(|v| v.as_object()) {
            let get = |k: &str| p.get(k).and_then(|v| v.as_str()).map(str::to_string);
            let env = ProxyEnv {
                http_proxy: get("http-proxy"),
                https_proxy: get("https-proxy"),
                no_proxy: get("no-proxy"),
            };
            if !env.is_empty() {
                return Some((env, format!("{} \"proxies\"", daemon_config.display())));
            }
        }
    }
    for dir in dropin_dirs {
        let Ok(entries) = std::fs::read_dir(dir) else {
            continue;
        };
        let mut files: Vec<_> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "conf"))
            .collect();
        files.sort();
        let mut vars: Vec<(String, String)> = Vec::new();
        for f in &files {
            vars.extend(systemd_environment(f));
        }
        let env = ProxyEnv::from_lookup(|k| {
            vars.iter()
                .rev()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.clone())
        });
        if !env.is_empty() {
            return Some((env, format!("docker.service drop-ins in {}", dir.display())));
        }
    }
    None
}

/// `Environment=` assignments of a systemd unit file (quoted or bare, several per line).
fn systemd_environment(path: &Path) -> Vec<(String, String)> {
    let Ok(text) = super::bounded::read_file(path, super::bounded::limits::SMALL_TEXT)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
    else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.trim().strip_prefix("Environment=") else {
            continue;
        };
        let mut words = Vec::new();
        let mut current = String::new();
        let mut quote: Option<char> = None;
        for c in rest.chars() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, c) if c.is_whitespace() => {
                    if !current.is_empty() {
                        words.push(std::mem::take(&mut current));
                    }
                }
                (_, c) => current.push(c),
            }
        }
        if !current.is_empty() {
            words.push(current);
        }
        for w in words {
            if let Some((k, v)) = w.split_once('=') {
                out.push((k.to_string(), v.to_string()));
            }
        }
    }
    out
}

/// Where the shell's proxy comes from, as reports name it.
pub const SHELL_SOURCE: &str =
    "the environment (HTTPS_PROXY/HTTP_PROXY); dockerd reads its own, from docker.service";

/// The proxies dockerd would use for registry traffic (its own settings when it has any, else
/// the shell's, which a dockerd started from that shell inherits), and where they came from.
pub fn for_dockerd(
    daemon_config: &Path,
    dropin_dirs: &[PathBuf],
    shell: &ProxyEnv,
) -> (ProxyEnv, String) {
    dockerd_proxies(daemon_config, dropin_dirs)
        .unwrap_or_else(|| (shell.clone(), SHELL_SOURCE.to_string()))
}

/// `host` and `port` of a proxy URL (port 80 for http, 443 for https, 1080 for socks).
pub fn proxy_address(url: &str) -> Option<(String, u16)> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let port = parsed.port_or_known_default().unwrap_or(1080);
    Some((host, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_no_proxy_rules() {
        assert!(!use_proxy("localhost", 443, ""));
        assert!(!use_proxy("127.0.0.5", 443, ""));
        assert!(!use_proxy("::1", 443, ""));
        assert!(use_proxy("registry.example.com", 443, ""));
        assert!(!use_proxy("registry.example.com", 443, "*"));
        assert!(!use_proxy("registry.example.com", 443, "example.com"));
        assert!(!use_proxy("registry.example.com", 443, ".example.com"));
        assert!(!use_proxy("registry.example.com", 443, "*.example.com"));
        assert!(use_proxy("notexample.com", 443, "example.com"));
        assert!(!use_proxy(
            "registry.example.com",
            5000,
            "registry.example.com:5000"
        ));
        assert!(use_proxy(
            "registry.example.com",
            443,
            "registry.example.com:5000"
        ));
        assert!(!use_proxy("10.1.2.3", 443, "10.0.0.0/8"));
        assert!(!use_proxy("10.1.2.3", 443, "10.1.2.3"));
        assert!(use_proxy("10.1.2.4", 443, "10.1.2.3"));
    }

    #[test]
    fn proxy_for_scheme_and_default_scheme() {
        let env = ProxyEnv::from_lookup(|k| match k {
            "HTTPS_PROXY" => Some("proxy.corp:3128".into()),
            "http_proxy" => Some("http://p80.corp".into()),
            "no_proxy" => Some("internal.corp".into()),
            _ => None,
        });
        assert_eq!(
            env.proxy_for("https", "r.example.com", 443).as_deref(),
            Some("http://proxy.corp:3128")
        );
        assert_eq!(
            env.proxy_for("http", "r.example.com", 80).as_deref(),
            Some("http://p80.corp")
        );
        assert_eq!(env.proxy_for("https", "r.internal.corp", 443), None);
        assert_eq!(
            proxy_address("http://p80.corp"),
            Some(("p80.corp".into(), 80))
        );
    }

    #[test]
    fn systemd_environment_lines() {
        let dir = std::env::temp_dir().join(format!("regctl-proxy-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let f = dir.join("http-proxy.conf");
        std::fs::write(
            &f,
            "[Service]\nEnvironment=\"HTTP_PROXY=http://p:3128\" \"NO_PROXY=localhost,.corp\"\nEnvironment=HTTPS_PROXY=http://s:3129\n",
        )
        .unwrap();
        let vars = systemd_environment(&f);
        assert_eq!(
            vars,
            vec![
                ("HTTP_PROXY".to_string(), "http://p:3128".to_string()),
                ("NO_PROXY".to_string(), "localhost,.corp".to_string()),
                ("HTTPS_PROXY".to_string(), "http://s:3129".to_string()),
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
