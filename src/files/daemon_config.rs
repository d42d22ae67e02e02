//! What dockerd accepts in daemon.json, checked the way dockerd checks it, so that regctl never
//! writes a file that stops the daemon from starting or reloading.
//!
//! Registry mirrors and insecure registries get dockerd's own validation and normalisation
//! (moby `registry.ValidateMirror` and `loadInsecureRegistries`); every other key is checked
//! against dockerd's known options (with a did-you-mean) and the JSON type dockerd decodes it into.

use crate::names::{split_host_port, validate_host_port};
use std::net::IpAddr;

use serde_json::{Map, Value};

use super::dockerd::{EngineVersion, Target};
use super::json_file::json_type_name;

pub const MIRRORS: &str = "registry-mirrors";
pub const INSECURE: &str = "insecure-registries";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DaemonConfigError {
    #[error("invalid mirror {value:?}: {reason}")]
    InvalidMirror { value: String, reason: String },
    #[error("invalid insecure registry {value:?}: {reason}")]
    InvalidInsecure { value: String, reason: String },
    #[error("unknown key {key:?}: dockerd refuses to start (\"the following directives don't match any configuration option\"){}", suggestion.as_ref().map(|s| format!("; did you mean {s:?}?")).unwrap_or_default())]
    UnknownKey {
        key: String,
        suggestion: Option<String>,
    },
    #[error("{key} must be {expected}, not {found}")]
    WrongType {
        key: String,
        expected: &'static str,
        found: &'static str,
    },
    #[error("invalid {key}: {reason}")]
    InvalidValue { key: String, reason: String },
}

/// A warning that does not stop the change (dockerd logs these too).
pub type Warning = String;

/// Validates and normalises a mirror URL as this dockerd does: http or https, no userinfo,
/// query or fragment, a path only from 25.0 on, and exactly one trailing `/`.
pub fn normalize_mirror(value: &str, version: EngineVersion) -> Result<String, DaemonConfigError> {
    let err = |reason: &str| DaemonConfigError::InvalidMirror {
        value: value.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = value.trim();
    if trimmed != value || value.is_empty() {
        return Err(err("it is empty or has surrounding white space"));
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Err(err(
            "no scheme; write it as https://HOST (or http://HOST for a plain-HTTP mirror)",
        ));
    };
    // The URL parser strips leading control characters, drops tabs and newlines, resolves `.`,
    // `..` and `\` and decodes `%XX`; dockerd (Go's net/url) does none of that and keeps the raw
    // text. So the raw scheme and authority must already be exactly what they mean.
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        return Err(err(&format!(
            "unsupported scheme {scheme:?}; use http or https"
        )));
    }
    let (authority, path) = match rest.find(['/', '\\']) {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if authority.contains('@') {
        return Err(err("a username or password is not allowed in a mirror URL"));
    }
    if rest.contains(['?', '#']) {
        return Err(err("a query or fragment is not allowed in a mirror URL"));
    }
    if !path.is_empty() && path != "/" {
        if !version.at_least(25, 0) {
            return Err(err(&format!(
                "a path ({path}) is not allowed in a mirror URL by dockerd {version} (dockerd 25.0 and later accept one)"
            )));
        }
        if let Some(c) = path
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:@/".contains(*c)))
        {
            return Err(err(&format!("{c:?} is not allowed in a mirror's path")));
        }
    }
    if let Some(c) = authority
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-._:[]".contains(*c)))
    {
        return Err(err(&format!(
            "{c:?} is not allowed in a mirror's host: use letters, digits, '-', '.' and '_' (xn-- for international names), [] around an IPv6 address, and :PORT"
        )));
    }
    let url = url::Url::parse(value).map_err(|e| err(&format!("not a valid URL ({e})")))?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(err("no host"));
    }
    Ok(format!("{}/", value.strip_suffix('/').unwrap_or(value)))
}

/// The host[:port] of a valid mirror URL (for matching it against insecure-registries).
pub fn mirror_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    Some(&rest[..rest.find('/').unwrap_or(rest.len())])
}

/// An entry of `insecure-registries` after dockerd's validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsecureEntry {
    /// `host[:port]`, matched exactly (no other port).
    Host(String),
    /// A network, matched against the registry's resolved addresses.
    Cidr(Cidr),
}

impl InsecureEntry {
    /// The text dockerd keeps for this entry (a CIDR in its canonical network form).
    pub fn canonical(&self) -> String {
        match self {
            InsecureEntry::Host(h) => h.clone(),
            InsecureEntry::Cidr(c) => c.to_string(),
        }
    }
}

/// Validates an insecure-registry entry as dockerd does. A leading `http://` or `https://` is
/// stripped with a warning; any other scheme is an error.
pub fn parse_insecure(value: &str) -> Result<(InsecureEntry, Option<Warning>), DaemonConfigError> {
    let err = |reason: String| DaemonConfigError::InvalidInsecure {
        value: value.to_string(),
        reason,
    };
    let mut rest = value;
    let mut warning = None;
    if let Some((scheme, host)) = value.split_once("://") {
        match scheme.to_ascii_lowercase().as_str() {
            "http" | "https" => {
                warning = Some(format!(
                    "insecure registry {value} should not contain '{scheme}://'; stored as {host}"
                ));
                rest = host;
            }
            _ => {
                return Err(err(format!(
                    "scheme {scheme:?} is not allowed; give host[:port] or a CIDR"
                )))
            }
        }
    }
    let rest = rest.trim_end_matches('/');
    if rest.contains('/') {
        if let Some(cidr) = Cidr::parse(rest) {
            return Ok((InsecureEntry::Cidr(cidr), warning));
        }
        return Err(err(
            "not a valid CIDR (address/prefix, prefix at most 32 for IPv4 and 128 for IPv6)".into(),
        ));
    }
    validate_host_port(rest).map_err(err)?;
    Ok((InsecureEntry::Host(rest.to_string()), warning))
}

/// An IP network in canonical form (host bits cleared), as Go's `net.ParseCIDR` gives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub network: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Option<Cidr> {
        let (addr, prefix) = s.split_once('/')?;
        if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) || prefix.len() > 3 {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let addr: IpAddr = addr.parse().ok()?;
        let network = match addr {
            IpAddr::V4(v4) if prefix <= 32 => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - prefix)
                };
                IpAddr::V4((u32::from(v4) & mask).into())
            }
            IpAddr::V6(v6) if prefix <= 128 => {
                let mask = if prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - prefix)
                };
                IpAddr::V6((u128::from(v6) & mask).into())
            }
            _ => return None,
        };
        Some(Cidr { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        // An IPv4-mapped IPv6 address matches IPv4 networks, as in Go.
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
            v4 => v4,
        };
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u32::MAX << (32 - self.prefix)
                };
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = if self.prefix == 0 {
                    0
                } else {
                    u128::MAX << (128 - self.prefix)
                };
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

/// dockerd's view of which registries are insecure: the listed hosts, the listed CIDRs, and
/// the loopback networks that are always insecure.
#[derive(Debug, Clone, Default)]
pub struct InsecureRegistries {
    pub hosts: Vec<String>,
    pub cidrs: Vec<Cidr>,
}

impl InsecureRegistries {
    /// From daemon.json's `insecure-registries`; invalid entries are skipped (dockerd would not
    /// start with them, which `daemon validate` and doctor report separately).
    pub fn from_config(config: &Map<String, Value>) -> InsecureRegistries {
        let mut out = InsecureRegistries {
            hosts: Vec::new(),
            cidrs: vec![
                Cidr::parse("127.0.0.0/8").expect("valid"),
                Cidr::parse("::1/128").expect("valid"),
            ],
        };
        for entry in string_list(config, INSECURE)
            .ok()
            .flatten()
            .unwrap_or_default()
        {
            match parse_insecure(&entry) {
                Ok((InsecureEntry::Host(h), _)) => out.hosts.push(h),
                Ok((InsecureEntry::Cidr(c), _)) => out.cidrs.push(c),
                Err(_) => {}
            }
        }
        out
    }

    /// Whether dockerd treats `host_port` (a reference's `host[:port]`) as insecure. `resolve`
    /// gives the addresses of a host name (dockerd resolves names to match CIDRs).
    pub fn is_insecure(&self, host_port: &str, resolve: impl Fn(&str) -> Vec<IpAddr>) -> bool {
        if self.hosts.iter().any(|h| h == host_port) {
            return true;
        }
        let (host, _) = split_host_port(host_port);
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let addrs = match host.parse::<IpAddr>() {
            Ok(ip) => vec![ip],
            Err(_) => resolve(host),
        };
        addrs
            .iter()
            .any(|ip| self.cidrs.iter().any(|c| c.contains(*ip)))
    }
}

/// A list-of-strings key, or a typed error when it holds something else. Missing is `None`.
pub fn string_list(
    config: &Map<String, Value>,
    key: &str,
) -> Result<Option<Vec<String>>, DaemonConfigError> {
    match config.get(key) {
        None => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| match v {
                Value::String(s) => Ok(s.clone()),
                other => Err(DaemonConfigError::WrongType {
                    key: key.to_string(),
                    expected: "an array of strings",
                    found: match other {
                        Value::Array(_) => "an array of arrays",
                        Value::Object(_) => "an array of objects",
                        Value::Number(_) => "an array of numbers",
                        Value::Bool(_) => "an array of booleans",
                        _ => "an array with nulls",
                    },
                }),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(other) => Err(DaemonConfigError::WrongType {
            key: key.to_string(),
            expected: "an array of strings",
            found: json_type_name(other),
        }),
    }
}

/// The JSON type dockerd decodes a key into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyType {
    Bool,
    Int,
    Str,
    StrList,
    /// A JSON object dockerd keeps as a map (its keys are free-form).
    Map,
    /// A map of strings (`log-opts`: Go `map[string]string`).
    StrMap,
    /// A map of booleans (`features`).
    BoolMap,
    /// A map of maps of strings (`default-network-opts`).
    StrMapMap,
    /// A map of objects (`default-ulimits`, `runtimes`: Go structs).
    ObjMap,
    /// A JSON object whose keys are themselves dockerd options (validated one level down).
    Nested,
    /// Anything: dockerd decodes it into a structure regctl does not check further.
    Any,
}

impl KeyType {
    fn expected(self) -> &'static str {
        match self {
            KeyType::Bool => "a boolean",
            KeyType::Int => "an integer",
            KeyType::Str => "a string",
            KeyType::StrList => "an array of strings",
            KeyType::Map | KeyType::Nested => "an object",
            KeyType::StrMap => "an object of strings",
            KeyType::BoolMap => "an object of booleans",
            KeyType::StrMapMap => "an object of objects of strings",
            KeyType::ObjMap => "an object of objects",
            KeyType::Any => "any value",
        }
    }

    fn accepts(self, value: &Value) -> bool {
        match self {
            KeyType::Bool => value.is_boolean(),
            KeyType::Int => value.as_i64().is_some(),
            KeyType::Str => value.is_string(),
            KeyType::StrList => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
            KeyType::Map | KeyType::Nested => value.is_object(),
            KeyType::StrMap => map_of(value, Value::is_string),
            KeyType::BoolMap => map_of(value, Value::is_boolean),
            KeyType::StrMapMap => map_of(value, |v| map_of(v, Value::is_string)),
            KeyType::ObjMap => map_of(value, Value::is_object),
            KeyType::Any => true,
        }
    }
}

/// An object whose every value passes `each` (`null` values decode as zero values in Go).
fn map_of(value: &Value, each: impl Fn(&Value) -> bool) -> bool {
    value
        .as_object()
        .is_some_and(|m| m.values().all(|v| v.is_null() || each(v)))
}

use KeyType::*;

/// dockerd's options on Linux (moby daemon/config, config_linux.go, bridge and registry options),
/// with the type each decodes into. `null` is accepted for any key, as Go's decoder does.
pub const KNOWN_KEYS: &[(&str, KeyType)] = &[
    ("allow-direct-routing", Bool),
    ("allow-nondistributable-artifacts", StrList),
    ("api-cors-header", Str),
    ("authorization-plugins", StrList),
    ("bip", Str),
    ("bip6", Str),
    ("bridge", Str),
    ("bridge-accept-fwmark", Str),
    ("builder", Any),
    ("cdi-spec-dirs", StrList),
    ("cgroup-parent", Str),
    ("containerd", Str),
    ("containerd-namespace", Str),
    ("containerd-plugin-namespace", Str),
    ("containerd-plugins-namespace", Str),
    ("cpu-rt-period", Int),
    ("cpu-rt-runtime", Int),
    ("cri-containerd", Bool),
    ("data-root", Str),
    ("debug", Bool),
    ("default-address-pools", Any),
    ("default-cgroupns-mode", Str),
    ("default-gateway", Str),
    ("default-gateway-v6", Str),
    ("default-ipc-mode", Str),
    ("default-network-opts", StrMapMap),
    ("default-runtime", Str),
    ("default-shm-size", Any),
    ("default-ulimits", ObjMap),
    ("deprecated-key-path", Str),
    ("dns", StrList),
    ("dns-opts", StrList),
    ("dns-search", StrList),
    ("exec-opts", StrList),
    ("exec-root", Str),
    ("experimental", Bool),
    ("features", BoolMap),
    ("firewall-backend", Str),
    ("fixed-cidr", Str),
    ("fixed-cidr-v6", Str),
    ("group", Str),
    ("host-gateway-ip", Str),
    ("host-gateway-ips", StrList),
    ("hosts", StrList),
    ("http-proxy", Str),
    ("https-proxy", Str),
    ("icc", Bool),
    ("init", Bool),
    ("init-path", Str),
    (INSECURE, StrList),
    ("ip", Str),
    ("ip-forward", Bool),
    ("ip-forward-no-drop", Bool),
    ("ip-masq", Bool),
    ("ip6tables", Bool),
    ("iptables", Bool),
    ("ipv6", Bool),
    ("labels", StrList),
    ("live-restore", Bool),
    ("log-driver", Str),
    ("log-format", Str),
    ("log-level", Str),
    ("log-opts", StrMap),
    ("max-concurrent-downloads", Int),
    ("max-concurrent-uploads", Int),
    ("max-download-attempts", Int),
    ("metrics-addr", Str),
    ("min-api-version", Str),
    ("mtu", Int),
    ("network-control-plane-mtu", Int),
    ("network-diagnostic-port", Int),
    ("no-new-privileges", Bool),
    ("no-proxy", Str),
    ("node-generic-resources", StrList),
    ("oom-score-adjust", Int),
    ("pidfile", Str),
    ("proxies", Nested),
    ("raw-logs", Bool),
    (MIRRORS, StrList),
    ("resolv-conf", Str),
    ("rootless", Bool),
    ("runtimes", ObjMap),
    ("seccomp-profile", Str),
    ("selinux-enabled", Bool),
    ("shutdown-timeout", Int),
    ("storage-driver", Str),
    ("storage-opts", StrList),
    ("swarm-default-advertise-addr", Str),
    ("swarm-raft-election-tick", Int),
    ("swarm-raft-heartbeat-tick", Int),
    ("tls", Bool),
    ("tlscacert", Str),
    ("tlscert", Str),
    ("tlskey", Str),
    ("tlsverify", Bool),
    ("userland-proxy", Bool),
    ("userland-proxy-path", Str),
    ("userns-remap", Str),
];

/// Options newer than dockerd 20.10, with the first release that knows them (seen: 20.10
/// refuses, 26.1 or 28.5 accepts; the releases between come from moby's history). Older
/// dockerds refuse them as unknown.
const KEYS_SINCE: &[(&str, EngineVersion)] = &[
    ("proxies", EngineVersion::new(23, 0)),
    ("http-proxy", EngineVersion::new(23, 0)),
    ("https-proxy", EngineVersion::new(23, 0)),
    ("no-proxy", EngineVersion::new(23, 0)),
    ("default-network-opts", EngineVersion::new(24, 0)),
    ("cdi-spec-dirs", EngineVersion::new(25, 0)),
    ("log-format", EngineVersion::new(25, 0)),
    ("allow-direct-routing", EngineVersion::new(28, 0)),
    ("bip6", EngineVersion::new(28, 0)),
    ("ip-forward-no-drop", EngineVersion::new(28, 0)),
];

/// Options removed from dockerd, with the first release that refuses them as unknown.
const KEYS_UNTIL: &[(&str, EngineVersion)] = &[
    ("oom-score-adjust", EngineVersion::new(25, 0)),
    ("api-cors-header", EngineVersion::new(27, 0)),
];

/// Command-line flag names that differ from their daemon.json key. dockerd's unknown-key check
/// compares keys with its flags (moby `findConfigurationConflicts`), so such a key passes, and
/// then the JSON decoder ignores it: dockerd starts without the setting.
pub const FLAG_NAMES: &[(&str, &str)] = &[
    ("add-runtime", "runtimes"),
    ("authorization-plugin", "authorization-plugins"),
    ("cdi-spec-dir", "cdi-spec-dirs"),
    ("default-address-pool", "default-address-pools"),
    ("default-network-opt", "default-network-opts"),
    ("default-ulimit", "default-ulimits"),
    ("dns-opt", "dns-opts"),
    ("exec-opt", "exec-opts"),
    ("host", "hosts"),
    (INSECURE_FLAG, INSECURE),
    ("label", "labels"),
    ("log-opt", "log-opts"),
    ("node-generic-resource", "node-generic-resources"),
    (MIRROR_FLAG, MIRRORS),
    ("storage-opt", "storage-opts"),
];

const MIRROR_FLAG: &str = "registry-mirror";
const INSECURE_FLAG: &str = "insecure-registry";

/// Keys whose object value dockerd keeps whole; the object of any other key is flattened and
/// its members checked as options (moby `flatOptions`; `default-network-opts` since 24.0).
fn is_flat(key: &str, version: EngineVersion) -> bool {
    match key {
        "default-network-opts" => version.at_least(24, 0),
        _ => [
            "cluster-store-opts",
            "log-opts",
            "runtimes",
            "default-ulimits",
            "features",
            "builder",
        ]
        .contains(&key),
    }
}

/// The daemon.json key a command-line flag name stands for.
pub fn flag_key(flag: &str) -> Option<&'static str> {
    FLAG_NAMES.iter().find(|(f, _)| *f == flag).map(|(_, k)| *k)
}

/// Whether this dockerd knows `key` as an option (or a flag: both pass the unknown-key check).
fn is_option_name(key: &str, version: EngineVersion) -> bool {
    key_type_for(key, version).is_some() || flag_key(key).is_some()
}

/// The key's type in this dockerd, or None when it does not know the key.
pub fn key_type_for(key: &str, version: EngineVersion) -> Option<KeyType> {
    let since = KEYS_SINCE.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    let until = KEYS_UNTIL.iter().find(|(k, _)| *k == key).map(|(_, v)| *v);
    if since.is_some_and(|s| version < s) || until.is_some_and(|u| version >= u) {
        return None;
    }
    key_type(key)
}

/// Keys dockerd applies on SIGHUP (moby `Daemon.Reload`); everything else needs a restart.
pub const LIVE_RELOAD_KEYS: &[&str] = &[
    "debug",
    "labels",
    "live-restore",
    "max-concurrent-downloads",
    "max-concurrent-uploads",
    "max-download-attempts",
    "shutdown-timeout",
    "default-runtime",
    "runtimes",
    "authorization-plugins",
    "features",
    MIRRORS,
    INSECURE,
    "allow-nondistributable-artifacts",
];

pub fn key_type(key: &str) -> Option<KeyType> {
    KNOWN_KEYS.iter().find(|(k, _)| *k == key).map(|(_, t)| *t)
}

/// The closest known key, for "did you mean".
pub fn suggest_key(key: &str) -> Option<String> {
    KNOWN_KEYS
        .iter()
        .map(|(k, _)| (strsim::jaro_winkler(key, k), *k))
        .filter(|(score, _)| *score >= 0.88)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k.to_string())
}

/// Checks one key and its value as this dockerd would at start-up.
pub fn validate_entry(key: &str, value: &Value, target: &Target) -> Result<(), DaemonConfigError> {
    let version = target.version();
    let Some(ty) = key_type_for(key, version) else {
        if let Some((_, until)) = KEYS_UNTIL.iter().find(|(k, _)| *k == key) {
            return Err(DaemonConfigError::InvalidValue {
                key: key.into(),
                reason: format!(
                    "removed from dockerd in {until}: dockerd {version} refuses to start with it"
                ),
            });
        }
        return Err(DaemonConfigError::UnknownKey {
            key: key.to_string(),
            suggestion: flag_key(key)
                .map(str::to_string)
                .or_else(|| suggest_key(key)),
        });
    };
    if value.is_null() {
        return Ok(());
    }
    if !ty.accepts(value) {
        return Err(DaemonConfigError::WrongType {
            key: key.to_string(),
            expected: ty.expected(),
            found: match value {
                // dockerd decodes these keys into Go ints: 3.5, 1e3 and 2^63 are refused.
                Value::Number(n) if ty == Int => {
                    if n.to_string().contains(['.', 'e', 'E']) {
                        "a number with a fraction or an exponent"
                    } else {
                        "an integer outside the 64-bit range"
                    }
                }
                other => json_type_name(other),
            },
        });
    }
    let strings = || {
        value
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    match key {
        MIRRORS => {
            for m in strings() {
                normalize_mirror(m, version)?;
            }
        }
        INSECURE => {
            for m in strings() {
                parse_insecure(m)?;
            }
        }
        // opts.ValidateLabel: KEY=VALUE.
        "labels" => {
            if let Some(bad) = strings().find(|l| !l.contains('=')) {
                return Err(DaemonConfigError::InvalidValue {
                    key: key.into(),
                    reason: format!("{bad:?} is not KEY=VALUE (\"bad attribute format\")"),
                });
            }
        }
        "log-level" => {
            let level = value.as_str().unwrap_or_default().to_ascii_lowercase();
            if !["panic", "fatal", "error", "warn", "info", "debug", "trace"]
                .contains(&level.as_str())
            {
                return Err(DaemonConfigError::InvalidValue {
                    key: key.into(),
                    reason: format!(
                        "{level:?} is not one of panic, fatal, error, warn, info, debug, trace"
                    ),
                });
            }
        }
        "max-concurrent-downloads" | "max-concurrent-uploads" | "max-download-attempts" | "mtu"
            if value.as_i64().unwrap_or(0) < 0 =>
        {
            return Err(DaemonConfigError::InvalidValue {
                key: key.into(),
                reason: "must not be negative".into(),
            });
        }
        _ => {}
    }
    if ty == Nested {
        for (k, v) in value.as_object().into_iter().flatten() {
            validate_entry(k, v, target)?;
        }
    }
    Ok(())
}

/// Every problem this dockerd would refuse to start with, in file order.
///
/// dockerd flattens the object of every key that is not a flat option one level and checks its
/// members as options; the key itself then only has to decode (an unknown key holding known
/// options is ignored). Keys are checked against its flags, so a flag's name passes and is
/// ignored too (see `advisories`).
pub fn validate(config: &Map<String, Value>, target: &Target) -> Vec<DaemonConfigError> {
    let version = target.version();
    let mut problems = Vec::new();
    for (key, value) in config {
        if let (Some(members), false) = (value.as_object(), is_flat(key, version)) {
            let ty = key_type_for(key, version);
            if ty == Some(Nested) {
                problems.extend(validate_entry(key, value, target).err());
                continue;
            }
            let unknown: Vec<DaemonConfigError> = members
                .keys()
                .filter(|k| !is_option_name(k, version))
                .map(|k| DaemonConfigError::UnknownKey {
                    key: k.clone(),
                    suggestion: suggest_key(k),
                })
                .collect();
            if !unknown.is_empty() {
                problems.extend(unknown);
            } else if ty.is_some() {
                problems.extend(validate_entry(key, value, target).err());
            }
            continue;
        }
        if key_type_for(key, version).is_none() && flag_key(key).is_some() {
            continue;
        }
        problems.extend(validate_entry(key, value, target).err());
    }
    if config.contains_key("host-gateway-ip") && config.contains_key("host-gateway-ips") {
        problems.push(DaemonConfigError::InvalidValue {
            key: "host-gateway-ip".into(),
            reason: "host-gateway-ip and host-gateway-ips must not both be specified".into(),
        });
    }
    problems
}

/// Notes that do not stop dockerd but that a user should know: keys it ignores, deprecations,
/// and what the image store changes.
pub fn advisories(config: &Map<String, Value>, target: &Target) -> Vec<Warning> {
    let version = target.version();
    let mut out = Vec::new();
    for (key, value) in config {
        if key_type_for(key, version).is_some() {
            continue;
        }
        if let Some(real) = flag_key(key) {
            out.push(format!(
                "{key} is dockerd's command-line flag name; dockerd {version} ignores it in daemon.json and starts without it (the key is {real}): {}",
                crate::hints::rename_flag_named_key(key, real)
            ));
        } else if value.is_object() && !is_flat(key, version) {
            out.push(format!(
                "dockerd {version} ignores {key}: it is not an option (dockerd only checks the keys inside it)"
            ));
        }
    }
    if config.contains_key("allow-nondistributable-artifacts") {
        out.push(
            "allow-nondistributable-artifacts is deprecated and does nothing since Docker 28"
                .to_string(),
        );
    }
    if target.drops_http_mirror_scheme() {
        let insecure = InsecureRegistries::from_config(config);
        for m in string_list(config, MIRRORS)
            .ok()
            .flatten()
            .unwrap_or_default()
        {
            if let Some(w) = http_mirror_warning(&m, &insecure, target) {
                out.push(w);
            }
        }
    }
    out
}

/// With the containerd image store before 28.0, dockerd drops `http://` from a mirror and
/// tries HTTPS unless the mirror's host is also an insecure registry (seen with 26.1; 28.0's
/// daemon/hosts.go keeps the mirror's scheme, and 28.5 pulls through an http:// mirror).
pub fn http_mirror_warning(
    mirror: &str,
    insecure: &InsecureRegistries,
    target: &Target,
) -> Option<Warning> {
    if !target.drops_http_mirror_scheme() || !mirror.to_ascii_lowercase().starts_with("http://") {
        return None;
    }
    let host = mirror_host(mirror)?;
    if insecure.is_insecure(host, |_| Vec::new()) {
        return None;
    }
    Some(format!(
        "{} drops http:// from the mirror {mirror} and tries HTTPS unless {host} is also an insecure registry: {}",
        target.describe(),
        crate::hints::insecure_for_http_mirror(host)
    ))
}

/// Of the keys whose values differ between two versions of the file, those that need a restart.
pub fn keys_needing_restart(
    before: &Map<String, Value>,
    after: &Map<String, Value>,
) -> Vec<String> {
    changed_keys(before, after)
        .into_iter()
        .filter(|k| !LIVE_RELOAD_KEYS.contains(&k.as_str()))
        .collect()
}

/// Top-level keys added, removed or changed between two versions, in order of appearance.
pub fn changed_keys(before: &Map<String, Value>, after: &Map<String, Value>) -> Vec<String> {
    let mut keys: Vec<String> = Vec::new();
    for (k, v) in after {
        if before.get(k) != Some(v) {
            keys.push(k.clone());
        }
    }
    for k in before.keys() {
        if !after.contains_key(k) {
            keys.push(k.clone());
        }
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::files::dockerd::Engine;

    const V20: EngineVersion = EngineVersion::new(20, 10);

    fn target(major: u32, minor: u32) -> Target {
        Engine {
            version: EngineVersion::new(major, minor),
            source: crate::files::dockerd::VersionSource::Override,
        }
        .target(&Map::new())
    }

    /// dockerd 25.0+ accepts a path in a mirror URL (moby registry.ValidateMirror); the raw
    /// text must still be what Go reads.
    #[test]
    fn mirror_paths_are_accepted_from_25_on() {
        let v26 = EngineVersion::new(26, 1);
        assert_eq!(
            normalize_mirror("https://m.example.com/dockerhub", v26).unwrap(),
            "https://m.example.com/dockerhub/"
        );
        assert!(normalize_mirror("https://m.example.com/dockerhub", V20).is_err());
        for bad in [
            "https://m.example.com/a\\b",
            "https://m.example.com/a b",
            "https://m.example.com/?q",
        ] {
            assert!(normalize_mirror(bad, v26).is_err(), "{bad:?}");
        }
        assert_eq!(
            mirror_host("http://10.0.0.1:5000/x/"),
            Some("10.0.0.1:5000")
        );
    }

    /// Keys spelled like dockerd's flags pass its unknown-key check and are ignored: a warning,
    /// not a problem. A section of unknown name holding known options is ignored the same way.
    #[test]
    fn flag_named_keys_and_unknown_sections_are_warnings() {
        let config: Map<String, Value> = serde_json::from_str(
            r#"{"registry-mirror": ["https://m.example.com"], "bogus": {"debug": true}}"#,
        )
        .unwrap();
        let t = target(26, 1);
        assert_eq!(validate(&config, &t), Vec::new());
        let notes = advisories(&config, &t);
        assert!(
            notes[0].contains("the key is registry-mirrors"),
            "{notes:?}"
        );
        assert!(notes[1].contains("ignores bogus"), "{notes:?}");
        let nested: Map<String, Value> =
            serde_json::from_str(r#"{"log-opt": {"max-size": "10m"}}"#).unwrap();
        assert!(matches!(
            &validate(&nested, &t)[..],
            [DaemonConfigError::UnknownKey { key, .. }] if key == "max-size"
        ));
    }

    /// Nested maps are typed as Go decodes them; keys newer or older than the version are unknown.
    #[test]
    fn nested_types_and_versioned_keys() {
        let t = target(26, 1);
        let bad: Map<String, Value> =
            serde_json::from_str(r#"{"log-opts": {"max-size": 10}}"#).unwrap();
        assert_eq!(validate(&bad, &t).len(), 1);
        let proxies: Map<String, Value> =
            serde_json::from_str(r#"{"proxies": {"http-proxy": "http://p:3128"}}"#).unwrap();
        assert!(validate(&proxies, &t).is_empty());
        assert!(!validate(&proxies, &target(20, 10)).is_empty());
        let oom: Map<String, Value> =
            serde_json::from_str(r#"{"oom-score-adjust": -500}"#).unwrap();
        assert!(validate(&oom, &target(20, 10)).is_empty());
        assert!(!validate(&oom, &t).is_empty());
    }

    #[test]
    fn mirrors_normalised_like_dockerd() {
        assert_eq!(
            normalize_mirror("https://m.example.com", V20).unwrap(),
            "https://m.example.com/"
        );
        assert_eq!(
            normalize_mirror("http://10.0.0.1:5000/", V20).unwrap(),
            "http://10.0.0.1:5000/"
        );
        for bad in [
            "m.example.com",
            "ftp://m.example.com",
            "https://u:p@m.example.com",
            "https://m.example.com/v2",
            "https://m.example.com/?a=b",
            "https://m.example.com/#x",
            "",
        ] {
            assert!(
                normalize_mirror(bad, V20).is_err(),
                "{bad} should be refused"
            );
        }
    }

    /// Found by the daemon_config fuzz target: the URL parser drops tabs and accepted NULs, so
    /// the raw text (what dockerd reads) kept characters that make dockerd refuse to start.
    #[test]
    fn mirrors_refuse_what_the_url_parser_would_silently_rewrite() {
        for bad in [
            "https://f\t\0\0\0",
            "https://m.exa\nmple.com",
            "https://m.example.com/./",
            "https://m.example.com/..",
            "https://m.example.com\\",
            "https://%6d.example.com",
            "https://@m.example.com",
            "https://m{x}.example.com",
            "https://m.example.com//",
            "\0\0http://m.example.com",
            "\u{1}https://m.example.com",
        ] {
            assert!(
                normalize_mirror(bad, V20).is_err(),
                "{bad:?} should be refused"
            );
        }
        assert_eq!(
            normalize_mirror("https://[fd00::1]:5000", V20).unwrap(),
            "https://[fd00::1]:5000/"
        );
        assert_eq!(
            normalize_mirror("http://my_mirror.local", V20).unwrap(),
            "http://my_mirror.local/"
        );
    }

    #[test]
    fn insecure_entries_like_dockerd() {
        let host = |s| parse_insecure(s).unwrap().0.canonical();
        assert_eq!(host("registry.local:5000"), "registry.local:5000");
        assert_eq!(host("10.1.2.3/8"), "10.0.0.0/8");
        assert_eq!(host("fd00::1/64"), "fd00::/64");
        assert_eq!(host("[::1]:5000"), "[::1]:5000");
        let (entry, warning) = parse_insecure("http://registry.local:5000").unwrap();
        assert_eq!(entry, InsecureEntry::Host("registry.local:5000".into()));
        assert!(warning.is_some());
        for bad in [
            "ftp://r.local",
            "10.0.0.0/33",
            "r_l.local",
            "r.local:99999",
            "-r.local",
            "1.2.3.4/x",
        ] {
            assert!(parse_insecure(bad).is_err(), "{bad} should be refused");
        }
    }

    /// Found by the daemon_config fuzz target: text after an IPv6 literal's `]` was dropped by
    /// `split_host_port`, so `insecure add '[::]\u{1}'` wrote an entry dockerd refuses to start with.
    #[test]
    fn text_after_an_ipv6_literal_is_not_ignored() {
        for bad in [
            "[::]\u{1}",
            "[::1]h",
            "[::1]~:5000",
            "http://[::1]x:5000",
            "[::1]]:5",
        ] {
            assert!(parse_insecure(bad).is_err(), "{bad:?} should be refused");
            assert!(
                validate_host_port(bad).is_err(),
                "{bad:?} is not host[:port]"
            );
        }
        assert_eq!(split_host_port("[::1]h"), ("[::1]h", None));
        assert_eq!(split_host_port("[::1]:5000"), ("[::1]", Some("5000")));
        assert_eq!(split_host_port("[::1]"), ("[::1]", None));
        assert!(parse_insecure("[fd00::1]:5000").is_ok());
    }

    /// moby's validateHostPort: the host:port pattern refuses `+5000` (Go's Atoi alone would
    /// take it); a bare IPv6 address and port 0 pass (net.ParseIP, `v < 0 || v > 65535`).
    #[test]
    fn insecure_ports_are_digits_as_in_dockerd() {
        for bad in [
            "r.io:+5000",
            "r.io:-1",
            "r.io:5_000",
            "r.io: 5000",
            "10.0.0.1:+80",
        ] {
            assert!(parse_insecure(bad).is_err(), "{bad:?} should be refused");
        }
        for good in ["::1", "r.io:0", "r.io:65535", "[::1]:5000"] {
            assert!(
                parse_insecure(good).is_ok(),
                "{good:?} is what dockerd takes"
            );
        }
    }

    #[test]
    fn insecure_matching_like_dockerd() {
        let mut config = Map::new();
        config.insert(
            INSECURE.into(),
            serde_json::json!(["r.local:5000", "10.0.0.0/8"]),
        );
        let ins = InsecureRegistries::from_config(&config);
        let none = |_: &str| Vec::new();
        assert!(ins.is_insecure("r.local:5000", none));
        assert!(
            !ins.is_insecure("r.local", none),
            "an exact key does not match another port"
        );
        assert!(ins.is_insecure("10.2.3.4:443", none));
        assert!(
            ins.is_insecure("127.0.0.1:5000", none),
            "loopback is always insecure"
        );
        assert!(ins.is_insecure("[::1]:5000", none));
        assert!(ins.is_insecure("build.corp", |_| vec!["10.9.9.9".parse().unwrap()]));
        assert!(!ins.is_insecure("build.corp", |_| vec!["192.168.1.1".parse().unwrap()]));
    }

    #[test]
    fn unknown_keys_get_a_suggestion() {
        let err =
            validate_entry("registry-mirror", &serde_json::json!([]), &target(28, 5)).unwrap_err();
        assert_eq!(
            err,
            DaemonConfigError::UnknownKey {
                key: "registry-mirror".into(),
                suggestion: Some("registry-mirrors".into())
            }
        );
        assert!(
            validate_entry("registry-mirrors", &serde_json::json!("x"), &target(28, 5)).is_err()
        );
        assert!(validate_entry(
            "proxies",
            &serde_json::json!({"http-proxy": "http://p:3128"}),
            &target(28, 5)
        )
        .is_ok());
        assert!(validate_entry(
            "proxies",
            &serde_json::json!({"http-prxy": "x"}),
            &target(28, 5)
        )
        .is_err());
    }
}
