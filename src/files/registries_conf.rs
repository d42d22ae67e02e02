//! podman, skopeo and buildah's registries.conf (containers-registries.conf(5), v2 format), as a
//! drop-in regctl owns in `registries.conf.d/` (the main registries.conf is never rewritten).
//!
//! A `[[registry]]` entry is keyed by `location` (host[:port][/namespace], no scheme); it has
//! `insecure` (HTTP or unverified TLS allowed) and `[[registry.mirror]]` entries tried in order
//! before the location. A later drop-in's entry for the same location replaces an earlier one as
//! a whole, which is why regctl keeps everything for a location in one entry of its own file.

use toml_edit::{ArrayOfTables, DocumentMut, Item, Table, TableLike, Value};

use super::certs_dir::lint::{Problem, Severity};
use super::toml_file;

/// regctl's drop-in file name: late enough to override distribution defaults.
pub const DROP_IN: &str = "50-regctl.conf";

/// Keys containers/image reads in a `[[registry]]` and in a `[[registry.mirror]]`.
const REGISTRY_KEYS: [&str; 6] = [
    "location",
    "prefix",
    "insecure",
    "blocked",
    "mirror-by-digest-only",
    "mirror",
];
const MIRROR_KEYS: [&str; 3] = ["location", "insecure", "pull-from-mirror"];
const TOP_KEYS: [&str; 7] = [
    "registry",
    "unqualified-search-registries",
    "short-name-mode",
    "credential-helpers",
    "aliases",
    "additional-layer-store-auth-helper",
    "registries",
];

/// Stable problem ids for registries.conf.d files.
pub mod ids {
    pub const INVALID: &str = "config.registries_conf_invalid";
    pub const UNKNOWN_KEY: &str = "config.registries_conf_unknown_key";
    pub const BAD_LOCATION: &str = "config.registries_conf_bad_location";
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegistriesConfError {
    #[error("{path}: registry must be an array of tables ([[registry]]), not {found}")]
    NotArray { path: String, found: &'static str },
    #[error("{registry} cannot be its own mirror")]
    MirrorIsRegistry { registry: String },
}

/// A location as registries.conf spells it: a mirror URL without its scheme and trailing slash.
pub fn location_of(url: &str) -> String {
    url.split_once("://")
        .map_or(url, |(_, r)| r)
        .trim_end_matches('/')
        .to_string()
}

fn registries_mut<'a>(
    doc: &'a mut DocumentMut,
    path: &str,
) -> Result<&'a mut ArrayOfTables, RegistriesConfError> {
    if doc.get("registry").is_none() {
        doc.insert("registry", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let item = doc.get_mut("registry").expect("just inserted");
    let found = item.type_name();
    item.as_array_of_tables_mut()
        .ok_or(RegistriesConfError::NotArray {
            path: path.to_string(),
            found,
        })
}

/// The entry for `location`, created at the end when missing.
fn entry<'a>(
    doc: &'a mut DocumentMut,
    location: &str,
    path: &str,
) -> Result<(&'a mut Table, bool), RegistriesConfError> {
    let regs = registries_mut(doc, path)?;
    let idx = regs
        .iter()
        .position(|t| t.get("location").and_then(Item::as_str) == Some(location));
    match idx {
        Some(i) => Ok((regs.get_mut(i).expect("found"), false)),
        None => {
            let mut t = Table::new();
            t.insert("location", toml_edit::value(location));
            regs.push(t);
            let last = regs.len() - 1;
            Ok((regs.get_mut(last).expect("pushed"), true))
        }
    }
}

/// Adds a mirror (a URL; `http://` makes it insecure) to the entry for `registry`
/// (host[:port]). Returns whether the document changed.
pub fn add_mirror(
    doc: &mut DocumentMut,
    registry: &str,
    url: &str,
    path: &str,
) -> Result<bool, RegistriesConfError> {
    let location = location_of(url);
    if location == registry {
        return Err(RegistriesConfError::MirrorIsRegistry {
            registry: registry.to_string(),
        });
    }
    let insecure = url.starts_with("http://");
    let (reg, mut changed) = entry(doc, registry, path)?;
    if reg.get("mirror").is_none() {
        reg.insert("mirror", Item::ArrayOfTables(ArrayOfTables::new()));
    }
    let found = reg.get("mirror").map(Item::type_name).unwrap_or("nothing");
    let mirrors = reg
        .get_mut("mirror")
        .and_then(Item::as_array_of_tables_mut)
        .ok_or(RegistriesConfError::NotArray {
            path: path.to_string(),
            found,
        })?;
    let existing = mirrors
        .iter_mut()
        .find(|m| m.get("location").and_then(Item::as_str) == Some(location.as_str()));
    match existing {
        Some(m) => {
            let current = m.get("insecure").and_then(Item::as_bool).unwrap_or(false);
            if insecure && !current {
                m.insert("insecure", toml_edit::value(true));
                changed = true;
            }
        }
        None => {
            let mut m = Table::new();
            m.insert("location", toml_edit::value(location.as_str()));
            if insecure {
                m.insert("insecure", toml_edit::value(true));
            }
            mirrors.push(m);
            changed = true;
        }
    }
    Ok(changed)
}

/// Removes a mirror from `registry`'s entry, and the entry when nothing else is left in it.
pub fn remove_mirror(doc: &mut DocumentMut, registry: &str, url: &str) -> bool {
    let location = location_of(url);
    let Some(regs) = doc
        .get_mut("registry")
        .and_then(Item::as_array_of_tables_mut)
    else {
        return false;
    };
    let mut changed = false;
    for reg in regs.iter_mut() {
        if reg.get("location").and_then(Item::as_str) != Some(registry) {
            continue;
        }
        if let Some(ms) = reg.get_mut("mirror").and_then(Item::as_array_of_tables_mut) {
            let before = ms.len();
            ms.retain(|m| m.get("location").and_then(Item::as_str) != Some(location.as_str()));
            changed |= ms.len() != before;
            if ms.is_empty() {
                reg.remove("mirror");
            }
        }
    }
    if changed {
        prune(doc);
    }
    changed
}

/// Drops entries that hold only their location (they would mean nothing).
fn prune(doc: &mut DocumentMut) {
    if let Some(regs) = doc
        .get_mut("registry")
        .and_then(Item::as_array_of_tables_mut)
    {
        regs.retain(|t| t.iter().any(|(k, _)| k != "location"));
        if regs.is_empty() {
            doc.remove("registry");
        }
    }
}

/// Marks `registry` insecure (HTTP or unverified TLS), as `insecure-registries` does for dockerd.
pub fn set_insecure(
    doc: &mut DocumentMut,
    registry: &str,
    insecure: bool,
    path: &str,
) -> Result<bool, RegistriesConfError> {
    if !insecure {
        let Some(regs) = doc
            .get_mut("registry")
            .and_then(Item::as_array_of_tables_mut)
        else {
            return Ok(false);
        };
        let mut changed = false;
        for reg in regs.iter_mut() {
            if reg.get("location").and_then(Item::as_str) == Some(registry)
                && reg.remove("insecure").is_some()
            {
                changed = true;
            }
        }
        if changed {
            prune(doc);
        }
        return Ok(changed);
    }
    let (reg, created) = entry(doc, registry, path)?;
    if reg.get("insecure").and_then(Item::as_bool) == Some(true) {
        return Ok(created);
    }
    reg.insert("insecure", toml_edit::value(true));
    Ok(true)
}

/// Every (registry location, mirror locations, insecure) in file order.
pub fn entries(doc: &DocumentMut) -> Vec<(String, Vec<String>, bool)> {
    doc.get("registry")
        .and_then(Item::as_array_of_tables)
        .map(|regs| {
            regs.iter()
                .map(|r| {
                    let loc = r.get("location").and_then(Item::as_str).unwrap_or_default();
                    let mirrors = r
                        .get("mirror")
                        .and_then(Item::as_array_of_tables)
                        .map(|ms| {
                            ms.iter()
                                .filter_map(|m| m.get("location").and_then(Item::as_str))
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    let insecure = r.get("insecure").and_then(Item::as_bool).unwrap_or(false);
                    (loc.to_string(), mirrors, insecure)
                })
                .collect()
        })
        .unwrap_or_default()
}

fn problem(id: &'static str, severity: Severity, file: &str, message: String) -> Problem {
    Problem {
        id,
        severity,
        file: Some(file.to_string()),
        message,
    }
}

fn unknown_keys(
    t: &dyn TableLike,
    known: &[&str],
    whose: &str,
    file: &str,
    out: &mut Vec<Problem>,
) {
    for (k, _) in t.iter() {
        if !known.contains(&k) {
            out.push(problem(
                ids::UNKNOWN_KEY,
                Severity::Warning,
                file,
                format!("{whose}: unknown key {k:?}; podman and skopeo ignore it (with the warning \"Failed to decode the keys\")"),
            ));
        }
    }
}

fn check_location(loc: Option<&Value>, whose: &str, file: &str, out: &mut Vec<Problem>) {
    let bad = |reason: String| {
        problem(
            ids::BAD_LOCATION,
            Severity::Error,
            file,
            format!("{whose}: {reason}"),
        )
    };
    match loc.and_then(Value::as_str) {
        None => out.push(bad("no location string".into())),
        Some(l) if l.contains("://") => out.push(bad(format!(
            "location {l:?} has a scheme; registries.conf wants host[:port][/path] (insecure = true for HTTP)"
        ))),
        Some(l) => {
            let host = l.split('/').next().unwrap_or_default();
            let host = host.strip_prefix("*.").unwrap_or(host);
            if let Err(reason) = crate::names::validate_host_port(host) {
                out.push(bad(format!("location {l:?} is not host[:port][/path] ({reason})")));
            }
        }
    }
}

/// Reviews one registries.conf(.d) file as containers/image would read it.
pub fn lint(file: &str, text: &str) -> Vec<Problem> {
    let mut out = Vec::new();
    let doc = match toml_file::parse(text) {
        Ok(d) => d,
        Err(e) => {
            out.push(problem(
                ids::INVALID,
                Severity::Error,
                file,
                format!("{file} is not valid TOML ({e}): podman and skopeo refuse to run with it"),
            ));
            return out;
        }
    };
    unknown_keys(doc.as_table(), &TOP_KEYS, "top level", file, &mut out);
    if let Some(regs) = doc.get("registry") {
        let Some(regs) = regs.as_array_of_tables() else {
            out.push(problem(
                ids::INVALID,
                Severity::Error,
                file,
                "registry must be written as [[registry]] tables".into(),
            ));
            return out;
        };
        for (i, r) in regs.iter().enumerate() {
            let whose = format!("[[registry]] #{}", i + 1);
            unknown_keys(r, &REGISTRY_KEYS, &whose, file, &mut out);
            if r.get("location").is_some() || r.get("prefix").is_none() {
                check_location(
                    r.get("location").and_then(Item::as_value),
                    &whose,
                    file,
                    &mut out,
                );
            }
            if let Some(ms) = r.get("mirror").and_then(Item::as_array_of_tables) {
                for (j, m) in ms.iter().enumerate() {
                    let whose = format!("{whose} mirror #{}", j + 1);
                    unknown_keys(m, &MIRROR_KEYS, &whose, file, &mut out);
                    check_location(
                        m.get("location").and_then(Item::as_value),
                        &whose,
                        file,
                        &mut out,
                    );
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_and_insecure_share_one_entry() {
        let mut d = DocumentMut::new();
        assert!(add_mirror(&mut d, "r:5000", "http://m:6000/", "f").unwrap());
        assert!(set_insecure(&mut d, "r:5000", true, "f").unwrap());
        assert!(!set_insecure(&mut d, "r:5000", true, "f").unwrap());
        assert!(!add_mirror(&mut d, "r:5000", "http://m:6000", "f").unwrap());
        assert_eq!(
            entries(&d),
            vec![("r:5000".to_string(), vec!["m:6000".to_string()], true)]
        );
        assert!(remove_mirror(&mut d, "r:5000", "http://m:6000"));
        assert!(set_insecure(&mut d, "r:5000", false, "f").unwrap());
        assert_eq!(d.to_string().trim(), "");
    }

    #[test]
    fn lint_names_bad_locations_and_unknown_keys() {
        let ids_of = |t: &str| {
            lint("f.conf", t)
                .into_iter()
                .map(|p| p.id)
                .collect::<Vec<_>>()
        };
        assert_eq!(ids_of("[[registry]\n"), vec![ids::INVALID]);
        assert_eq!(
            ids_of("[[registry]]\nlocation = \"https://r\"\ninsecur = true\n"),
            vec![ids::UNKNOWN_KEY, ids::BAD_LOCATION]
        );
        assert!(ids_of(
            "[[registry]]\nlocation = \"r:5000/ns\"\n[[registry.mirror]]\nlocation = \"m\"\n"
        )
        .is_empty());
    }
}
