//! A read-only review of a certs.d tree: each registry folder with its files (subjects, expiry) and
//! the problems that make docker ignore or refuse them, each with a stable id (`certs.*`) so that
//! `certs list` and doctor's `certs.lint` check report the same thing. Pure: takes paths and the
//! current time, returns data.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::files::bounded;
use crate::names::{split_host_port, validate_host_port};

use super::x509::{self, CertInfo, CertKind, Encoding, KeyInfo, Validity};
use super::EXPIRY_WARNING_DAYS;

/// Stable problem ids.
pub mod ids {
    pub const UNPARSABLE_CRT: &str = "certs.unparsable_crt";
    pub const DER_IN_CRT: &str = "certs.der_in_crt";
    pub const CRT_NOT_CA: &str = "certs.crt_not_ca";
    pub const PINNED_LEAF: &str = "certs.pinned_leaf";
    pub const CA_WRONG_EXTENSION: &str = "certs.ca_wrong_extension";
    pub const CERT_WITHOUT_KEY: &str = "certs.cert_without_key";
    pub const KEY_WITHOUT_CERT: &str = "certs.key_without_cert";
    pub const UNPARSABLE_CERT: &str = "certs.unparsable_cert";
    pub const UNUSABLE_KEY: &str = "certs.unusable_key";
    pub const KEY_MISMATCH: &str = "certs.key_mismatch";
    pub const KEY_PERMISSIONS: &str = "certs.key_permissions";
    pub const EXPIRED: &str = "certs.expired";
    pub const NOT_YET_VALID: &str = "certs.not_yet_valid";
    pub const EXPIRES_SOON: &str = "certs.expires_soon";
    pub const FOLDER_PORT_MISMATCH: &str = "certs.folder_port_mismatch";
    pub const BAD_FOLDER_NAME: &str = "certs.bad_folder_name";
    pub const FILE_OUTSIDE_FOLDER: &str = "certs.file_outside_folder";
    pub const UNREADABLE: &str = "certs.unreadable";
    pub const NOT_A_FILE: &str = "certs.not_a_file";
    pub const PSEUDO_FOLDER: &str = "certs.pseudo_folder";
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// docker ignores the file or refuses to connect because of it.
    Error,
    /// It works today but needs attention.
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Problem {
    pub id: &'static str,
    pub severity: Severity,
    /// The file (name inside the folder) or folder it is about.
    pub file: Option<String>,
    pub message: String,
}

/// How docker uses a file, from its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// `*.crt`: a CA added to the registry's roots.
    Ca,
    /// `*.cert`: a client certificate.
    ClientCert,
    /// `*.key`: a client key.
    ClientKey,
    /// `hosts.toml`: containerd's (and dockerd 28+'s, with the containerd image store) host
    /// configuration, which decides which of the other files are used.
    HostsToml,
    /// Anything else: docker does not read it.
    Ignored,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FileReport {
    pub name: String,
    pub role: Role,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    pub certificates: Vec<CertInfo>,
    /// For a key: its type and public key fingerprint (never the key).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<KeySummary>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct KeySummary {
    pub algorithm: String,
    pub public_sha256: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct FolderReport {
    /// The folder name: `host[:port]`.
    pub name: String,
    pub path: PathBuf,
    pub files: Vec<FileReport>,
    pub problems: Vec<Problem>,
}

/// The review of a whole certs.d root.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct TreeReport {
    pub folders: Vec<FolderReport>,
    /// Problems at the root itself (stray files, a registry asked for under the wrong name).
    pub problems: Vec<Problem>,
}

impl TreeReport {
    pub fn problem_count(&self) -> usize {
        self.problems.len() + self.folders.iter().map(|f| f.problems.len()).sum::<usize>()
    }
}

fn problem(id: &'static str, severity: Severity, file: Option<&str>, message: String) -> Problem {
    Problem {
        id,
        severity,
        file: file.map(str::to_string),
        message,
    }
}

/// The other spelling of a folder name that docker treats as a different registry:
/// `host:443` for `host`, and `host` for `host:443`.
fn port_443_twin(name: &str) -> Option<String> {
    match split_host_port(name) {
        (host, Some("443")) => Some(host.to_string()),
        (host, None) => Some(format!("{host}:443")),
        _ => None,
    }
}

/// Reviews `root`. With `only`, just that registry's folder (a folder name from
/// `super::folder_name`), and a problem when only its `:443` twin exists.
pub fn lint_tree(root: &Path, only: Option<&str>, now: i64) -> TreeReport {
    let mut report = TreeReport::default();
    let mut names: Vec<String> = Vec::new();
    let mut stray: Vec<String> = Vec::new();
    if let Ok(entries) = fs::read_dir(root) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_dir() {
                names.push(name);
            } else if !name.starts_with('.') {
                stray.push(name);
            }
        }
    }
    names.sort();
    stray.sort();
    if let Some(wanted) = only {
        if !names.iter().any(|n| n == wanted) {
            if let Some(twin) = port_443_twin(wanted).filter(|t| names.contains(t)) {
                report.problems.push(problem(
                    ids::FOLDER_PORT_MISMATCH,
                    Severity::Error,
                    Some(&twin),
                    format!(
                        "there is no folder {wanted}, only {twin}: docker looks up certs.d/<host[:port]> exactly as the image name spells it, so {wanted} does not use {twin}"
                    ),
                ));
            }
        }
        names.retain(|n| n == wanted);
    } else {
        for s in &stray {
            report.problems.push(problem(
                ids::FILE_OUTSIDE_FOLDER,
                Severity::Error,
                Some(s),
                format!(
                    "{s} is directly in {}; docker reads only certs.d/<host[:port]>/ folders",
                    root.display()
                ),
            ));
        }
    }
    for name in &names {
        let mut folder = lint_folder(&root.join(name), name, now);
        if let Some(twin) = port_443_twin(name) {
            if split_host_port(name).1 == Some("443") && !names.contains(&twin) && only.is_none() {
                folder.problems.push(problem(
                    ids::FOLDER_PORT_MISMATCH,
                    Severity::Warning,
                    None,
                    format!(
                        "{name} is used only for image names that spell :443 ({name}/repo); `docker pull {twin}/repo` reads certs.d/{twin}, which does not exist"
                    ),
                ));
            }
        }
        report.folders.push(folder);
    }
    report
}

/// Reviews one registry folder.
pub fn lint_folder(dir: &Path, name: &str, now: i64) -> FolderReport {
    let mut problems = Vec::new();
    if let Err(reason) = validate_host_port(name) {
        problems.push(problem(
            ids::BAD_FOLDER_NAME,
            Severity::Error,
            None,
            format!(
                "{name} is not a registry host[:port] ({reason}); docker never reads this folder"
            ),
        ));
    }
    // A folder that leads into the kernel's own trees (a symlink to /proc) holds no
    // certificates, only files that never end or block: not walked.
    if let Some(pseudo) = pseudo_tree(dir) {
        problems.push(problem(
            ids::PSEUDO_FOLDER,
            Severity::Error,
            None,
            format!(
                "{name} leads to {}, a kernel file system, not a folder of certificates; regctl does not read it",
                pseudo.display()
            ),
        ));
        return FolderReport {
            name: name.to_string(),
            path: dir.to_path_buf(),
            files: Vec::new(),
            problems,
        };
    }
    // Only regular files are read (symlinks followed, as Go's os.ReadFile in dockerd does);
    // what else is there is named.
    let mut file_names: Vec<String> = Vec::new();
    for e in fs::read_dir(dir).into_iter().flatten().flatten() {
        let f = e.file_name().to_string_lossy().into_owned();
        if f.starts_with('.') {
            continue;
        }
        let role = role_of(&f);
        match fs::metadata(e.path()) {
            Ok(m) if m.is_file() => file_names.push(f),
            Ok(m) if m.is_dir() && role == Role::Ignored => {}
            Ok(m) => problems.push(problem(
                ids::NOT_A_FILE,
                if role == Role::Ignored {
                    Severity::Warning
                } else {
                    Severity::Error
                },
                Some(&f),
                format!(
                    "{f} is {}, not a regular file; regctl does not read it{}",
                    bounded::describe_file_type(m.file_type()),
                    if role == Role::Ignored {
                        ", and docker ignores it"
                    } else {
                        ", and dockerd fails (or hangs) reading it"
                    }
                ),
            )),
            // A dangling symlink: reading it below says why.
            Err(_) => file_names.push(f),
        }
    }
    file_names.sort();
    let mut files = Vec::new();
    let mut keys: Vec<(String, KeyInfo)> = Vec::new();
    let mut client_certs: Vec<(String, CertInfo)> = Vec::new();
    for f in &file_names {
        let path = dir.join(f);
        let role = role_of(f);
        let mut report = FileReport {
            name: f.clone(),
            role,
            encoding: None,
            certificates: Vec::new(),
            key: None,
        };
        let bytes = match bounded::read_file(&path, bounded::limits::PEM) {
            Ok(b) => b,
            Err(e) => {
                problems.push(problem(
                    ids::UNREADABLE,
                    Severity::Error,
                    Some(f),
                    format!("cannot read {f}: {e}"),
                ));
                files.push(report);
                continue;
            }
        };
        match role {
            Role::Ca => {
                match x509::parse_bundle(&bytes) {
                    Ok(b) => {
                        report.encoding = Some(b.encoding);
                        if b.encoding == Encoding::Der {
                            problems.push(problem(
                            ids::DER_IN_CRT,
                            Severity::Error,
                            Some(f),
                            format!("{f} is DER-encoded; docker reads only PEM and ignores it silently"),
                        ));
                        }
                        for c in &b.certs {
                            if c.kind == CertKind::ServerLeaf {
                                // Go trusts a certificate that is itself in the root pool.
                                problems.push(problem(
                                ids::PINNED_LEAF,
                                Severity::Warning,
                                Some(f),
                                format!("{f} pins a server's own certificate ({}, issued by {}), not a CA: docker trusts exactly that certificate, which expires on {}; when the registry renews it, this file must be replaced", c.subject, c.issuer, c.not_after.date()),
                            ));
                            } else if !c.kind.is_anchor() {
                                problems.push(problem(
                                ids::CRT_NOT_CA,
                                Severity::Warning,
                                Some(f),
                                format!("{f} holds {} ({}), not a CA: it can only vouch for itself; the CA that issued it is needed ({})", c.kind.describe(), c.subject, c.issuer),
                            ));
                            }
                            problems.extend(validity_problem(f, c, now));
                        }
                        report.certificates = b.certs;
                    }
                    Err(e) => problems.push(problem(
                        ids::UNPARSABLE_CRT,
                        Severity::Error,
                        Some(f),
                        format!("{f} {e}; docker ignores it silently"),
                    )),
                }
            }
            Role::ClientCert => match x509::parse_bundle(&bytes) {
                Ok(b) => {
                    report.encoding = Some(b.encoding);
                    if let Some(c) = b.certs.first() {
                        problems.extend(validity_problem(f, c, now));
                        client_certs.push((stem(f).to_string(), c.clone()));
                    }
                    report.certificates = b.certs;
                }
                Err(e) => problems.push(problem(
                    ids::UNPARSABLE_CERT,
                    Severity::Error,
                    Some(f),
                    format!("{f} {e}; docker fails to connect to this registry"),
                )),
            },
            Role::ClientKey => {
                let mode = fs::metadata(&path)
                    .map(|m| m.permissions().mode())
                    .unwrap_or(0);
                if mode & 0o077 != 0 {
                    problems.push(problem(
                        ids::KEY_PERMISSIONS,
                        Severity::Warning,
                        Some(f),
                        format!("{f} is readable by other users (mode {:o}); a client key should be 0600", mode & 0o777),
                    ));
                }
                match x509::parse_key(&bytes) {
                    Ok(k) => {
                        report.key = Some(KeySummary {
                            algorithm: k.algorithm.clone(),
                            public_sha256: k.public_sha256.to_string(),
                        });
                        keys.push((stem(f).to_string(), k));
                    }
                    Err(e) => problems.push(problem(
                        ids::UNUSABLE_KEY,
                        Severity::Error,
                        Some(f),
                        format!("{f} {e}; docker fails to connect to this registry"),
                    )),
                }
            }
            Role::HostsToml => match std::str::from_utf8(&bytes) {
                Ok(text) => problems.extend(crate::files::hosts_toml::lint(dir, name, text)),
                Err(e) => problems.push(problem(
                    crate::files::hosts_toml::ids::INVALID,
                    Severity::Error,
                    Some(f),
                    format!("{f} is not UTF-8 ({e}): containerd ignores the whole file"),
                )),
            },
            Role::Ignored => {
                if let Ok(b) = x509::parse_bundle(&bytes) {
                    report.encoding = Some(b.encoding);
                    report.certificates = b.certs;
                    problems.push(problem(
                        ids::CA_WRONG_EXTENSION,
                        Severity::Error,
                        Some(f),
                        format!(
                            "{f} holds certificates but docker reads CAs only from *.crt files"
                        ),
                    ));
                }
            }
        }
        files.push(report);
    }
    pair_problems(&file_names, &client_certs, &keys, &mut problems);
    FolderReport {
        name: name.to_string(),
        path: dir.to_path_buf(),
        files,
        problems,
    }
}

/// moby's pairing rule: every `X.cert` needs `X.key` and the reverse; and the key must fit.
fn pair_problems(
    file_names: &[String],
    client_certs: &[(String, CertInfo)],
    keys: &[(String, KeyInfo)],
    problems: &mut Vec<Problem>,
) {
    for f in file_names {
        let s = stem(f);
        match role_of(f) {
            Role::ClientCert if !file_names.contains(&format!("{s}.key")) => {
                problems.push(problem(
                    ids::CERT_WITHOUT_KEY,
                    Severity::Error,
                    Some(f),
                    format!("{f} has no {s}.key: docker refuses to connect (\"missing key {s}.key for client certificate {f}\"); a CA must be named *.crt"),
                ))
            }
            Role::ClientKey if !file_names.contains(&format!("{s}.cert")) => problems.push(problem(
                ids::KEY_WITHOUT_CERT,
                Severity::Error,
                Some(f),
                format!("{f} has no {s}.cert: docker refuses to connect (\"missing client certificate {s}.cert for key {f}\")"),
            )),
            _ => {}
        }
    }
    for (s, cert) in client_certs {
        if let Some((_, key)) = keys.iter().find(|(k, _)| k == s) {
            if !key.matches(cert) {
                problems.push(problem(
                    ids::KEY_MISMATCH,
                    Severity::Error,
                    Some(&format!("{s}.key")),
                    format!("{s}.key does not belong to {s}.cert (their public keys differ); the TLS handshake fails"),
                ));
            }
        }
    }
}

fn validity_problem(file: &str, c: &CertInfo, now: i64) -> Option<Problem> {
    match c.validity(now) {
        Validity::Expired => Some(problem(
            ids::EXPIRED,
            Severity::Error,
            Some(file),
            format!("{file}: {} expired on {}", c.subject, c.not_after),
        )),
        Validity::NotYetValid => Some(problem(
            ids::NOT_YET_VALID,
            Severity::Error,
            Some(file),
            format!(
                "{file}: {} is not valid before {} (or this machine's clock is wrong)",
                c.subject, c.not_before
            ),
        )),
        Validity::Valid { days_left } if days_left < EXPIRY_WARNING_DAYS => Some(problem(
            ids::EXPIRES_SOON,
            Severity::Warning,
            Some(file),
            format!(
                "{file}: {} expires in {days_left} days ({})",
                c.subject, c.not_after
            ),
        )),
        Validity::Valid { .. } => None,
    }
}

fn role_of(name: &str) -> Role {
    if name == crate::files::hosts_toml::HOSTS_TOML {
        return Role::HostsToml;
    }
    match Path::new(name).extension().and_then(|e| e.to_str()) {
        Some("crt") => Role::Ca,
        Some("cert") => Role::ClientCert,
        Some("key") => Role::ClientKey,
        _ => Role::Ignored,
    }
}

/// Where `dir` really is, when that is inside /proc, /sys or /dev.
fn pseudo_tree(dir: &Path) -> Option<PathBuf> {
    let real = fs::canonicalize(dir).ok()?;
    ["/proc", "/sys", "/dev"]
        .iter()
        .any(|p| real.starts_with(p))
        .then_some(real)
}

fn stem(name: &str) -> &str {
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_443_twins() {
        assert_eq!(
            port_443_twin("r.example.com").as_deref(),
            Some("r.example.com:443")
        );
        assert_eq!(
            port_443_twin("r.example.com:443").as_deref(),
            Some("r.example.com")
        );
        assert_eq!(port_443_twin("r.example.com:5000"), None);
        assert_eq!(role_of("ca.crt"), Role::Ca);
        assert_eq!(role_of("ca.pem"), Role::Ignored);
        assert_eq!(stem("client.cert"), "client");
    }
}
