//! containerd's per-registry `hosts.toml` (`<certs.d>/<host[:port]>/hosts.toml`), read by
//! containerd's CRI and `ctr --hosts-dir`, and by dockerd 28+ with the containerd image store.
//!
//! The edits follow containerd's remotes/docker/config/hosts.go: `[host."URL"]` tables are tried
//! in file order before `server` (the upstream; absent means `https://<folder>`), a relative
//! `ca`/`client` path is relative to the folder, a file that does not parse is ignored as a whole
//! (containerd then falls back to the folder's bare `*.crt`/`*.cert`), and once a valid file
//! exists bare `*.crt` files are ignored unless `ca` names them. containerd 1.7 also rejects a
//! file with no `[host."..."]` table at all, so every file regctl writes has one. Edits are pure
//! functions on a `toml_edit` document; `lint` reviews a file without changing it.

use std::path::Path;

use toml_edit::{Array, DocumentMut, Item, Table, TableLike, Value};

use super::certs_dir::lint::{Problem, Severity};
use super::daemon_config;
use super::toml_file;
use crate::names::validate_host_port;

pub const HOSTS_TOML: &str = "hosts.toml";

/// Keys containerd reads at the top level (besides `server` and `host`) and in a host table.
pub const HOST_KEYS: [&str; 7] = [
    "capabilities",
    "ca",
    "client",
    "skip_verify",
    "header",
    "override_path",
    "dial_timeout",
];

/// Stable problem ids for hosts.toml (shown by `certs list` and doctor).
pub mod ids {
    pub const INVALID: &str = "certs.hosts_toml_invalid";
    pub const UNKNOWN_KEY: &str = "certs.hosts_unknown_key";
    pub const BAD_URL: &str = "certs.hosts_bad_url";
    pub const MISSING_FILE: &str = "certs.hosts_missing_file";
    pub const FOLDER_MISMATCH: &str = "certs.hosts_folder_mismatch";
    pub const HIDES_CA: &str = "certs.hosts_hides_ca";
    pub const NO_HOST_TABLE: &str = "certs.hosts_no_host_table";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HostsError {
    #[error("{registry} cannot be its own mirror ({url})")]
    MirrorIsRegistry { registry: String, url: String },
    #[error("{path}: {key} is {found}, not a table; regctl will not rewrite it")]
    NotTable {
        path: String,
        key: String,
        found: &'static str,
    },
}

/// The TLS a mirror host needs, written into its own table (containerd never uses
/// `certs.d/<mirror>/` for a mirror).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostTls {
    pub ca: Option<String>,
    pub client: Option<(String, String)>,
    pub skip_verify: bool,
}

/// The upstream containerd goes to for a registry folder when `server` is absent.
pub fn default_server(folder: &str) -> String {
    if folder == "docker.io" {
        "https://registry-1.docker.io".to_string()
    } else {
        format!("https://{folder}")
    }
}

/// `scheme://host[:port]` of a host URL as containerd parses it (a bare host gets https), or why
/// not. A path is allowed (containerd appends /v2), as in the files people write.
pub fn parse_host_url(raw: &str) -> Result<(String, String, String), String> {
    let with_scheme = if raw.starts_with("http") {
        raw.to_string()
    } else {
        format!("https://{raw}")
    };
    let url = url::Url::parse(&with_scheme).map_err(|e| format!("{e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    let host = url.host_str().unwrap_or_default();
    if host.is_empty() {
        return Err("no host".into());
    }
    let authority = match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_string(),
    };
    validate_host_port(&authority)?;
    Ok((url.scheme().to_string(), authority, url.path().to_string()))
}

/// A mirror URL as written in a host table: `http(s)://HOST[:PORT]`, no path (validated as
/// dockerd validates registry-mirrors).
pub fn normalize_mirror(raw: &str) -> Result<String, daemon_config::DaemonConfigError> {
    let rest = raw.split_once("://").map_or("", |(_, r)| r);
    if let Some(i) = rest.find(['/', '\\']) {
        let path = &rest[i..];
        if path != "/" {
            return Err(daemon_config::DaemonConfigError::InvalidMirror {
                value: raw.to_string(),
                reason: format!(
                    "a path ({path}) is not allowed in a hosts.toml mirror URL (containerd appends /v2 to it)"
                ),
            });
        }
    }
    daemon_config::normalize_mirror(raw, super::dockerd::EngineVersion::DEFAULT)
        .map(|m| m.trim_end_matches('/').to_string())
}

fn host_of(url: &str) -> Option<String> {
    parse_host_url(url).ok().map(|(_, h, _)| h)
}

/// The names containerd treats as the registry itself (docker.io's upstream has two).
fn is_registry_host(folder: &str, host: &str) -> bool {
    host == folder
        || (folder == "docker.io"
            && matches!(
                host,
                "registry-1.docker.io" | "index.docker.io" | "docker.io"
            ))
}

fn host_table_mut<'a>(
    doc: &'a mut DocumentMut,
    path: &str,
) -> Result<&'a mut dyn TableLike, HostsError> {
    if doc.get("host").is_none() {
        let mut t = Table::new();
        t.set_implicit(true);
        doc.insert("host", Item::Table(t));
    }
    let item = doc.get_mut("host").expect("just inserted");
    let found = item.type_name();
    item.as_table_like_mut().ok_or(HostsError::NotTable {
        path: path.to_string(),
        key: "host".into(),
        found,
    })
}

fn string_array<'a>(values: impl IntoIterator<Item = &'a str>) -> Value {
    Value::Array(Array::from_iter(values))
}

/// Sets `key` in a table unless it already holds that value (so untouched bytes stay).
fn set_if_different(t: &mut dyn TableLike, key: &str, value: Value) -> bool {
    let same = t
        .get(key)
        .and_then(Item::as_value)
        .is_some_and(|v| v.to_string().trim() == value.to_string().trim());
    if same {
        return false;
    }
    match t.get_mut(key).and_then(Item::as_value_mut) {
        Some(v) => {
            let decor = v.decor().clone();
            *v = value;
            *v.decor_mut() = decor;
        }
        None => {
            t.insert(key, Item::Value(value));
        }
    }
    true
}

/// Refuses a mirror that is the registry itself.
pub fn check_mirror(folder: &str, url: &str) -> Result<(), HostsError> {
    if host_of(url).is_some_and(|h| is_registry_host(folder, &h)) {
        return Err(HostsError::MirrorIsRegistry {
            registry: folder.to_string(),
            url: url.to_string(),
        });
    }
    Ok(())
}

/// Adds (or completes) `[host."URL"]` for a pull-through mirror of the registry in `folder`, and
/// `server` when the file has none. Returns whether the document changed.
pub fn add_mirror(
    doc: &mut DocumentMut,
    folder: &str,
    url: &str,
    tls: &HostTls,
    path: &str,
) -> Result<bool, HostsError> {
    check_mirror(folder, url)?;
    let mut changed = false;
    if doc.get("server").is_none() {
        doc.insert("server", toml_edit::value(default_server(folder)));
        // Before any table, where containerd's own examples put it.
        doc.sort_values_by(|a, _, b, _| (a.get() != "server").cmp(&(b.get() != "server")));
        changed = true;
    }
    let hosts = host_table_mut(doc, path)?;
    let existing = hosts
        .iter()
        .find(|(k, _)| k.trim_end_matches('/') == url)
        .map(|(k, _)| k.to_string());
    let key = existing.unwrap_or_else(|| url.to_string());
    if hosts.get(&key).is_none() {
        let mut t = Table::new();
        t.insert(
            "capabilities",
            Item::Value(string_array(["pull", "resolve"])),
        );
        hosts.insert(&key, Item::Table(t));
        changed = true;
    }
    let found = hosts.get(&key).map(Item::type_name).unwrap_or("nothing");
    let t = hosts
        .get_mut(&key)
        .and_then(Item::as_table_like_mut)
        .ok_or(HostsError::NotTable {
            path: path.to_string(),
            key: format!("host.{key:?}"),
            found,
        })?;
    if t.get("capabilities").is_none() {
        changed |= set_if_different(t, "capabilities", string_array(["pull", "resolve"]));
    }
    changed |= apply_tls(t, tls);
    Ok(changed)
}

fn apply_tls(t: &mut dyn TableLike, tls: &HostTls) -> bool {
    let mut changed = false;
    if let Some(ca) = &tls.ca {
        changed |= set_if_different(t, "ca", Value::from(ca.as_str()));
    }
    if let Some((cert, key)) = &tls.client {
        let mut pair = Array::new();
        pair.push(string_array([cert.as_str(), key.as_str()]));
        changed |= set_if_different(t, "client", Value::Array(pair));
    }
    if tls.skip_verify {
        changed |= set_if_different(t, "skip_verify", Value::from(true));
    }
    changed
}

/// Removes `[host."URL"]`; returns whether it was there. The `host` table goes when empty.
pub fn remove_mirror(doc: &mut DocumentMut, url: &str) -> bool {
    let Some(hosts) = doc.get_mut("host").and_then(Item::as_table_like_mut) else {
        return false;
    };
    let keys: Vec<String> = hosts
        .iter()
        .filter(|(k, _)| k.trim_end_matches('/') == url)
        .map(|(k, _)| k.to_string())
        .collect();
    for k in &keys {
        hosts.remove(k);
    }
    if hosts.is_empty() {
        doc.remove("host");
    }
    !keys.is_empty()
}

/// The `[host."..."]` URLs in file order (the order containerd tries them).
pub fn host_urls(doc: &DocumentMut) -> Vec<String> {
    doc.get("host")
        .and_then(Item::as_table_like)
        .map(|t| t.iter().map(|(k, _)| k.to_string()).collect())
        .unwrap_or_default()
}

/// The mirrors of a file: host tables that are not the registry itself.
pub fn mirrors(doc: &DocumentMut, folder: &str) -> Vec<String> {
    host_urls(doc)
        .into_iter()
        .filter(|u| !host_of(u).is_some_and(|h| is_registry_host(folder, &h)))
        .collect()
}

/// Makes the registry's own hosts in the file trust `name` (a file in the folder): the top level
/// when it is the registry (no `server`, or `server` naming the folder's host) and every host
/// table for the registry's host. Returns whether the document changed.
pub fn add_ca(doc: &mut DocumentMut, dir: &Path, folder: &str, name: &str) -> bool {
    let mut changed = false;
    let top_is_registry = match doc.get("server").and_then(Item::as_str) {
        None => true,
        Some(s) => host_of(s).is_some_and(|h| is_registry_host(folder, &h)),
    };
    if top_is_registry {
        changed |= add_ca_to(doc.as_table_mut(), dir, name);
    }
    if let Some(hosts) = doc.get_mut("host").and_then(Item::as_table_like_mut) {
        for (k, item) in hosts.iter_mut() {
            if host_of(k.get()).is_some_and(|h| is_registry_host(folder, &h)) {
                if let Some(t) = item.as_table_like_mut() {
                    changed |= add_ca_to(t, dir, name);
                }
            }
        }
    }
    changed
}

/// Stops naming `name` (a file in the folder) in every `ca`; returns whether anything changed.
pub fn remove_ca(doc: &mut DocumentMut, dir: &Path, name: &str) -> bool {
    let strip = |t: &mut dyn TableLike| -> bool {
        let is = |s: &str| names(dir, s, name);
        match t.get_mut("ca").and_then(Item::as_value_mut) {
            Some(Value::String(s)) if is(s.value()) => {
                t.remove("ca");
                true
            }
            Some(Value::Array(a)) => {
                let before = a.len();
                a.retain(|v| !v.as_str().is_some_and(is));
                let changed = a.len() != before;
                if a.is_empty() {
                    t.remove("ca");
                }
                changed
            }
            _ => false,
        }
    };
    let mut changed = strip(doc.as_table_mut());
    if let Some(hosts) = doc.get_mut("host").and_then(Item::as_table_like_mut) {
        for (_, item) in hosts.iter_mut() {
            if let Some(t) = item.as_table_like_mut() {
                changed |= strip(t);
            }
        }
    }
    changed
}

/// Whether a `ca` entry `entry` in the hosts.toml in `dir` is the file `name` in that folder
/// (containerd joins a relative path to the folder).
fn names(dir: &Path, entry: &str, name: &str) -> bool {
    entry == name || dir.join(entry) == dir.join(name)
}

fn names_file(v: &Value, dir: &Path, name: &str) -> bool {
    let matches = |s: &str| names(dir, s, name);
    match v {
        Value::String(s) => matches(s.value()),
        Value::Array(a) => a.iter().any(|v| v.as_str().is_some_and(matches)),
        _ => false,
    }
}

fn add_ca_to(t: &mut dyn TableLike, dir: &Path, name: &str) -> bool {
    match t.get_mut("ca").and_then(Item::as_value_mut) {
        Some(v) if names_file(v, dir, name) => false,
        Some(Value::Array(a)) => {
            a.push(name);
            true
        }
        Some(v @ Value::String(_)) => {
            let old = v.as_str().unwrap_or_default().to_string();
            let decor = v.decor().clone();
            *v = string_array([old.as_str(), name]);
            *v.decor_mut() = decor;
            true
        }
        _ => {
            t.insert("ca", Item::Value(Value::from(name)));
            true
        }
    }
}

/// Makes the registry reachable as Docker's insecure-registries do: a `[host."http://HOST"]`
/// table (containerd never falls back from an `https://` host to HTTP) with `skip_verify`, with
/// which containerd 2.x tries HTTPS without verification first.
pub fn add_insecure(doc: &mut DocumentMut, folder: &str, path: &str) -> Result<bool, HostsError> {
    let url = format!("http://{folder}");
    let hosts = host_table_mut(doc, path)?;
    let mut changed = false;
    if hosts.get(&url).is_none() {
        let mut t = Table::new();
        t.insert(
            "capabilities",
            Item::Value(string_array(["pull", "resolve", "push"])),
        );
        hosts.insert(&url, Item::Table(t));
        changed = true;
    }
    let found = hosts.get(&url).map(Item::type_name).unwrap_or("nothing");
    let t = hosts
        .get_mut(&url)
        .and_then(Item::as_table_like_mut)
        .ok_or(HostsError::NotTable {
            path: path.to_string(),
            key: format!("host.{url:?}"),
            found,
        })?;
    changed |= set_if_different(t, "skip_verify", Value::from(true));
    Ok(changed)
}

/// Removes what `add_insecure` wrote.
pub fn remove_insecure(doc: &mut DocumentMut, folder: &str) -> bool {
    remove_mirror(doc, &format!("http://{folder}"))
}

/// What containerd's config.toml says about hosts.toml: the CRI `config_path` entries (1.x:
/// `[plugins."io.containerd.grpc.v1.cri".registry]`, 2.x: `[plugins."io.containerd.cri.v1.images".registry]`)
/// and whether the file is the 2.x format (`version = 3`).
pub fn cri_config_paths(text: &str) -> Result<(Vec<String>, bool), toml_file::TomlError> {
    let doc = toml_file::parse(text)?;
    let v3 = doc.get("version").and_then(Item::as_integer) == Some(3);
    let plugins = doc.get("plugins").and_then(Item::as_table_like);
    let mut paths = Vec::new();
    for plugin in ["io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images"] {
        let value = plugins
            .and_then(|p| p.get(plugin))
            .and_then(Item::as_table_like)
            .and_then(|t| t.get("registry"))
            .and_then(Item::as_table_like)
            .and_then(|t| t.get("config_path"))
            .and_then(Item::as_str);
        if let Some(v) = value {
            // containerd accepts several directories separated by ':'.
            paths.extend(v.split(':').filter(|p| !p.is_empty()).map(str::to_string));
        }
    }
    Ok((paths, v3))
}

fn problem(id: &'static str, severity: Severity, message: String) -> Problem {
    Problem {
        id,
        severity,
        file: Some(HOSTS_TOML.to_string()),
        message,
    }
}

fn check_table(
    t: &dyn TableLike,
    whose: &str,
    url: Option<&str>,
    dir: &Path,
    out: &mut Vec<Problem>,
) {
    for (k, item) in t.iter() {
        if url.is_none() && matches!(k, "server" | "host") {
            continue;
        }
        if !HOST_KEYS.contains(&k) {
            out.push(problem(
                ids::UNKNOWN_KEY,
                Severity::Warning,
                format!(
                    "{whose}: containerd does not know the key {k:?} and ignores it (it knows {})",
                    HOST_KEYS.join(", ")
                ),
            ));
            continue;
        }
        if matches!(k, "ca" | "client") {
            for p in paths_in(item) {
                let full = if Path::new(&p).is_absolute() {
                    Path::new(&p).to_path_buf()
                } else {
                    dir.join(&p)
                };
                if !full.exists() {
                    out.push(problem(
                        ids::MISSING_FILE,
                        Severity::Error,
                        format!("{whose}: {k} names {}, which does not exist; containerd fails every pull from this registry (\"unable to read\")", full.display()),
                    ));
                }
            }
        }
    }
}

/// Reviews the hosts.toml in `dir` (a folder named `folder`) as containerd would read it.
pub fn lint(dir: &Path, folder: &str, text: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let doc = match toml_file::parse(text) {
        Ok(d) => d,
        Err(e) => {
            out.push(problem(
                ids::INVALID,
                Severity::Error,
                format!("hosts.toml is not valid TOML ({e}): containerd ignores the whole file and uses the folder's bare *.crt/*.cert files"),
            ));
            return out;
        }
    };
    check_table(doc.as_table(), "top level", None, dir, &mut out);
    let hosts: Vec<(String, Option<&dyn TableLike>)> = doc
        .get("host")
        .and_then(Item::as_table_like)
        .map(|t| {
            t.iter()
                .map(|(k, v)| (k.to_string(), v.as_table_like()))
                .collect()
        })
        .unwrap_or_default();
    for (url, table) in &hosts {
        let whose = format!("[host.{url:?}]");
        if let Err(reason) = parse_host_url(url) {
            out.push(problem(
                ids::BAD_URL,
                Severity::Error,
                format!("{whose}: {url:?} is not a registry URL ({reason}); containerd rejects the whole file"),
            ));
        }
        match table {
            Some(t) => check_table(*t, &whose, Some(url), dir, &mut out),
            None => out.push(problem(
                ids::BAD_URL,
                Severity::Error,
                format!("{whose} is not a table; containerd rejects the whole file"),
            )),
        }
    }
    if let Some(server) = doc.get("server") {
        match server.as_str().map(parse_host_url) {
            None => out.push(problem(
                ids::BAD_URL,
                Severity::Error,
                "server must be a string URL; containerd rejects the whole file".into(),
            )),
            Some(Err(reason)) => out.push(problem(
                ids::BAD_URL,
                Severity::Error,
                format!("server {:?} is not a registry URL ({reason}); containerd rejects the whole file", server.as_str().unwrap_or_default()),
            )),
            Some(Ok((_, host, _))) if !is_registry_host(folder, &host) => out.push(problem(
                ids::FOLDER_MISMATCH,
                Severity::Warning,
                format!("the folder is {folder} but server is {host}: containerd uses this file for images named {folder}/..., and sends them to {host}; a copied folder?"),
            )),
            _ => {}
        }
    }
    if hosts.is_empty() {
        out.push(problem(
            ids::NO_HOST_TABLE,
            Severity::Warning,
            "hosts.toml has no [host.\"...\"] table: containerd 1.7 rejects the whole file (\"invalid `host` tree\") and falls back to the bare *.crt files; 2.x reads it".into(),
        ));
    }
    // A valid file hides the bare *.crt files it does not name (containerd 2.x, and 1.7 whenever
    // the file has a host table).
    let named: Vec<String> = std::iter::once(doc.get("ca"))
        .chain(hosts.iter().map(|(_, t)| t.and_then(|t| t.get("ca"))))
        .flatten()
        .flat_map(paths_in)
        .collect();
    let mut crts: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".crt"))
                .collect()
        })
        .unwrap_or_default();
    crts.sort();
    for crt in crts {
        let is_named = named
            .iter()
            .any(|n| n == &crt || dir.join(n) == dir.join(&crt));
        if !is_named {
            out.push(problem(
                ids::HIDES_CA,
                Severity::Error,
                format!("hosts.toml does not name {crt}: with a hosts.toml, containerd (and dockerd 28+ with the containerd image store) ignore bare *.crt files, so {crt} is not trusted"),
            ));
        }
    }
    out
}

/// The file paths a `ca` or `client` value names (string, array, or array of pairs).
fn paths_in(item: &Item) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.value().clone()),
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Some(v) = item.as_value() {
        walk(v, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> DocumentMut {
        s.parse().unwrap()
    }

    #[test]
    fn a_new_file_gets_server_then_the_mirror_table() {
        let mut d = DocumentMut::new();
        let tls = HostTls::default();
        assert!(add_mirror(&mut d, "reg:5000", "https://m:6000", &tls, "f").unwrap());
        assert_eq!(
            d.to_string(),
            "server = \"https://reg:5000\"\n\n[host.\"https://m:6000\"]\ncapabilities = [\"pull\", \"resolve\"]\n"
        );
        assert!(!add_mirror(&mut d, "reg:5000", "https://m:6000", &tls, "f").unwrap());
    }

    #[test]
    fn the_registry_is_not_its_own_mirror() {
        let mut d = DocumentMut::new();
        let e = add_mirror(
            &mut d,
            "docker.io",
            "https://registry-1.docker.io",
            &HostTls::default(),
            "f",
        );
        assert!(matches!(e, Err(HostsError::MirrorIsRegistry { .. })));
        assert_eq!(d.to_string(), "");
    }

    #[test]
    fn add_ca_names_the_file_for_the_registry_hosts_only() {
        let mut d = doc("server = \"https://r\"\nca = \"other.pem\"\n[host.\"https://m\"]\ncapabilities = [\"pull\"]\n[host.\"https://r\"]\n");
        let dir = Path::new("/c/r");
        assert!(add_ca(&mut d, dir, "r", "ca.crt"));
        let s = d.to_string();
        assert!(s.contains("ca = [\"other.pem\", \"ca.crt\"]"), "{s}");
        assert_eq!(s.matches("ca.crt").count(), 2, "{s}");
        assert!(!add_ca(&mut d, dir, "r", "ca.crt"));
        let mut m = doc("[host.\"https://m\"]\nca = \"/c/m/ca.crt\"\n[host.\"https://r\"]\nca = \"/c/r/ca.crt\"\n");
        assert!(remove_ca(&mut m, dir, "ca.crt"));
        assert_eq!(
            m.to_string(),
            "[host.\"https://m\"]\nca = \"/c/m/ca.crt\"\n[host.\"https://r\"]\n"
        );
    }

    #[test]
    fn cri_config_path_is_read_in_both_formats() {
        let v2 = "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".registry]\nconfig_path = \"/etc/containerd/certs.d:/x\"\n";
        assert_eq!(
            cri_config_paths(v2).unwrap(),
            (
                vec!["/etc/containerd/certs.d".to_string(), "/x".to_string()],
                false
            )
        );
        let v3 = "version = 3\n[plugins]\n  [plugins.'io.containerd.cri.v1.images'.registry]\n    config_path = '/d'\n";
        assert_eq!(
            cri_config_paths(v3).unwrap(),
            (vec!["/d".to_string()], true)
        );
        assert_eq!(cri_config_paths("").unwrap(), (vec![], false));
    }

    #[test]
    fn lint_finds_the_documented_problems() {
        let dir = std::env::temp_dir().join(format!("regctl-hosts-lint-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("ca.crt"), "x").unwrap();
        let ids_of =
            |text: &str| -> Vec<&str> { lint(&dir, "r:5000", text).iter().map(|p| p.id).collect() };
        assert_eq!(ids_of("server = [\n"), vec![ids::INVALID]);
        let found = ids_of(
            "server = \"https://other\"\nbogus = 1\n[host.\"https://m\"]\nca = \"nope.pem\"\n",
        );
        assert_eq!(
            found,
            vec![
                ids::UNKNOWN_KEY,
                ids::MISSING_FILE,
                ids::FOLDER_MISMATCH,
                ids::HIDES_CA
            ]
        );
        assert_eq!(ids_of("ca = \"ca.crt\"\n"), vec![ids::NO_HOST_TABLE]);
        assert_eq!(
            ids_of("[host.\"https://a b\"]\nca = \"ca.crt\"\n"),
            vec![ids::BAD_URL]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
