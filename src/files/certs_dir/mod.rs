//! `certs.d/<host[:port]>/`, the per-registry folders where dockerd (and podman/skopeo, under
//! /etc/containers/certs.d) find the CAs (`*.crt`) and client pairs (`X.cert` + `X.key`) for a
//! registry. This module decides which folder a registry name maps to (refusing names that could
//! escape the root), what may be trusted (CAs and self-signed certificates, valid, keys matching),
//! and installs or removes regctl's files there atomically. `lint` explains an existing tree.
//! Nothing here prints or prompts.

pub mod lint;
pub mod x509;

use crate::files::bounded;
use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::files::atomic::{
    create_dir_all_mode, resolve_target, stage_atomic, write_atomic, DirLock,
};
use crate::files::json_file::FileError;
use crate::names::{self, NameError};

use x509::{Bundle, BundleError, CertInfo, CertKind, Fingerprint, KeyError, KeyInfo, Validity};

/// The CA bundle regctl writes.
pub const CA_FILE: &str = "ca.crt";
/// The client certificate regctl writes (moby pairs `X.cert` with `X.key`).
pub const CLIENT_CERT: &str = "client.cert";
pub const CLIENT_KEY: &str = "client.key";
/// The CA of the registry's token realm on another host (`trust-ca --with-realm`): dockerd's
/// classic image store sends the token request with the registry's folder.
pub const REALM_CA_FILE: &str = "realm-ca.crt";
/// Every file regctl manages in a registry folder (what `--remove` removes).
pub const MANAGED: [&str; 4] = [CA_FILE, REALM_CA_FILE, CLIENT_CERT, CLIENT_KEY];

pub const DIR_MODE: u32 = 0o755;
pub const CERT_MODE: u32 = 0o644;
pub const KEY_MODE: u32 = 0o600;

/// Certificates that expire sooner than this are reported.
pub const EXPIRY_WARNING_DAYS: i64 = 30;

#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    #[error(transparent)]
    File(#[from] FileError),

    #[error(transparent)]
    Name(#[from] NameError),

    #[error("{input:?} is not a registry name for certs.d: {reason}")]
    BadFolderName { input: String, reason: String },

    #[error("docker does not read certs.d for Docker Hub ({input})")]
    DockerHub { input: String },

    #[error("{what} {source}")]
    Bundle {
        what: String,
        #[source]
        source: BundleError,
    },

    #[error("{what} {source}")]
    Key {
        what: String,
        #[source]
        source: KeyError,
    },

    #[error("{what}: {subject} expired on {date}")]
    Expired {
        what: String,
        subject: String,
        date: String,
    },

    #[error("{what}: {subject} is not valid before {date}")]
    NotYetValid {
        what: String,
        subject: String,
        date: String,
    },

    #[error("{what}: {subject} is {kind}, not a CA; trusting it does not help, the CA that issued it is needed ({issuer})")]
    NotCa {
        what: String,
        subject: String,
        issuer: String,
        kind: &'static str,
    },

    #[error("{host} sent only its own certificate ({}, SHA-256 {}), issued by {}{}, which it did not send; the issuing CA is needed ({missing})", .leaf.subject, .leaf.sha256, .leaf.issuer, .leaf.authority_key_id().map(|k| format!(" with authority key id {k}")).unwrap_or_default())]
    LeafOnly {
        host: String,
        leaf: Box<CertInfo>,
        /// Why the issuing CA could not be found: no AIA URL, or what fetching it gave.
        missing: String,
    },

    #[error("{host} presented no certificate")]
    NoCertificate { host: String },

    #[error("{key} does not belong to {cert}: their public keys differ")]
    KeyMismatch { cert: PathBuf, key: PathBuf },

    #[error("{path} exists and is not a directory")]
    NotDirectory { path: PathBuf },

    #[error("{0:?} is not a SHA-256 fingerprint (64 hex digits, colons allowed)")]
    BadFingerprint(String),

    #[error("{host} presented {subject} with SHA-256 fingerprint {actual}, not the expected {expected}; nothing was written")]
    FingerprintMismatch {
        host: String,
        subject: String,
        expected: Fingerprint,
        actual: Fingerprint,
    },

    #[error("{host} presented {subject} with SHA-256 fingerprint {fingerprint}; to trust it without a terminal, check that fingerprint out of band and pass it with --fingerprint")]
    FingerprintRequired {
        host: String,
        subject: String,
        fingerprint: Fingerprint,
    },

    #[error("not trusted: {subject} ({fingerprint}) was declined; nothing was written")]
    Declined {
        subject: String,
        fingerprint: Fingerprint,
    },
}

/// The folder name for a registry as the user typed it: `host[:port]` exactly as image names
/// spell it (moby looks up `certs.d/<host[:port]>`). `https://host[:port]/`, `/v2/` and `/v1/`
/// are accepted as users paste them; any other path, `..`, NUL, an empty name and Docker Hub are
/// refused.
pub fn folder_name(input: &str) -> Result<String, CertsError> {
    let bad = |reason: &str| CertsError::BadFolderName {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(bad("it is empty"));
    }
    let rest = trimmed.split_once("://").map_or(trimmed, |(_, r)| r);
    if let Some((_, path)) = rest.split_once('/') {
        if !matches!(path, "" | "v2" | "v2/" | "v1" | "v1/") {
            return Err(bad(
                "certs.d has one folder per registry host[:port]; leave out the path",
            ));
        }
    }
    let name = names::parse(input)?;
    if name.is_docker_hub {
        return Err(CertsError::DockerHub {
            input: input.to_string(),
        });
    }
    let host = name.host;
    // names::parse already guarantees this; the folder name is joined to a root, so check again.
    if host.is_empty() || host.contains(['/', '\\', '\0']) || host == "." || host.contains("..") {
        return Err(bad("it could name a path outside certs.d"));
    }
    Ok(host)
}

/// Checks that a certificate may be trusted as a CA: an anchor (CA or self-signed), valid now
/// unless `force`. Returns warnings (forced validity problems, expiry soon).
pub fn check_anchor(
    cert: &CertInfo,
    what: &str,
    now: i64,
    force: bool,
) -> Result<Vec<String>, CertsError> {
    if !cert.kind.is_anchor() {
        return Err(CertsError::NotCa {
            what: what.to_string(),
            subject: cert.subject.clone(),
            issuer: cert.issuer.clone(),
            kind: cert.kind.describe(),
        });
    }
    check_validity(cert, what, now, force)
}

/// Refuses an expired or not yet valid certificate unless `force`; warns when it expires soon.
pub fn check_validity(
    cert: &CertInfo,
    what: &str,
    now: i64,
    force: bool,
) -> Result<Vec<String>, CertsError> {
    let mut warnings = Vec::new();
    match cert.validity(now) {
        Validity::Expired if !force => {
            return Err(CertsError::Expired {
                what: what.to_string(),
                subject: cert.subject.clone(),
                date: cert.not_after.to_string(),
            })
        }
        Validity::NotYetValid if !force => {
            return Err(CertsError::NotYetValid {
                what: what.to_string(),
                subject: cert.subject.clone(),
                date: cert.not_before.to_string(),
            })
        }
        Validity::Expired => warnings.push(format!(
            "{what}: {} expired on {} (written because of --force)",
            cert.subject, cert.not_after
        )),
        Validity::NotYetValid => warnings.push(format!(
            "{what}: {} is not valid before {} (written because of --force)",
            cert.subject, cert.not_before
        )),
        Validity::Valid { days_left } if days_left < EXPIRY_WARNING_DAYS => warnings.push(format!(
            "{what}: {} expires in {days_left} days ({})",
            cert.subject, cert.not_after
        )),
        Validity::Valid { .. } => {}
    }
    Ok(warnings)
}

/// Checks a CA bundle read from `what`: every certificate an anchor, valid unless `force`.
pub fn check_ca_bundle(
    bundle: &Bundle,
    what: &str,
    now: i64,
    force: bool,
) -> Result<Vec<String>, CertsError> {
    let mut warnings = Vec::new();
    for cert in &bundle.certs {
        warnings.extend(check_anchor(cert, what, now, force)?);
    }
    Ok(warnings)
}

/// What to trust from a chain a server presented: its topmost certificate — the root if it was
/// sent, else the top intermediate, else the leaf itself when it is self-signed.
pub fn pick_anchor<'a>(chain: &'a [CertInfo], host: &str) -> Result<&'a CertInfo, CertsError> {
    let Some(leaf) = chain.first() else {
        return Err(CertsError::NoCertificate {
            host: host.to_string(),
        });
    };
    if let Some(root) = chain
        .iter()
        .skip(1)
        .find(|c| c.self_signed && c.kind == CertKind::Ca)
    {
        return Ok(root);
    }
    if let Some(top) = chain.iter().skip(1).rev().find(|c| c.kind == CertKind::Ca) {
        return Ok(top);
    }
    if leaf.kind.is_anchor() {
        return Ok(leaf);
    }
    Err(leaf_only(
        host,
        leaf,
        "it names no CA Issuers (AIA) URL to download it from".into(),
    ))
}

/// The refusal for a server that sent only a CA-issued leaf, naming the missing CA.
pub fn leaf_only(host: &str, leaf: &CertInfo, missing: String) -> CertsError {
    CertsError::LeafOnly {
        host: host.to_string(),
        leaf: Box::new(leaf.clone()),
        missing,
    }
}

/// A `--fingerprint` as typed (hex, with or without colons, `sha256:` or `SHA256 Fingerprint=`
/// prefixes); checked before anything touches the network.
pub fn parse_pin(pinned: &str) -> Result<Fingerprint, CertsError> {
    Fingerprint::parse(pinned).ok_or_else(|| CertsError::BadFingerprint(pinned.to_string()))
}

/// Compares what a server presented with the fingerprint the user pinned.
pub fn check_pin(cert: &CertInfo, host: &str, pinned: &str) -> Result<(), CertsError> {
    let expected = parse_pin(pinned)?;
    if expected != cert.sha256 {
        return Err(CertsError::FingerprintMismatch {
            host: host.to_string(),
            subject: cert.subject.clone(),
            expected,
            actual: cert.sha256,
        });
    }
    Ok(())
}

/// Reads a CA file: PEM bundle or DER, each certificate X.509.
pub fn read_bundle(path: &Path) -> Result<Bundle, CertsError> {
    let bytes = read_file(path)?;
    x509::parse_bundle(&bytes).map_err(|source| CertsError::Bundle {
        what: path.display().to_string(),
        source,
    })
}

/// A client certificate and its key, checked to belong together.
#[derive(Debug, Clone)]
pub struct ClientPair {
    /// The client certificate first, then any chain that came with it.
    pub certs: Bundle,
    pub key: KeyInfo,
}

/// Reads and checks a client pair: the key unencrypted and matching the first certificate, the
/// certificate valid (unless `force`). Returns the pair and warnings.
pub fn read_client_pair(
    cert_path: &Path,
    key_path: &Path,
    now: i64,
    force: bool,
) -> Result<(ClientPair, Vec<String>), CertsError> {
    let certs = read_bundle(cert_path)?;
    let key = x509::parse_key(&read_file(key_path)?).map_err(|source| CertsError::Key {
        what: key_path.display().to_string(),
        source,
    })?;
    let cert = &certs.certs[0];
    if !key.matches(cert) {
        return Err(CertsError::KeyMismatch {
            cert: cert_path.to_path_buf(),
            key: key_path.to_path_buf(),
        });
    }
    let warnings = check_validity(cert, &cert_path.display().to_string(), now, force)?;
    Ok((ClientPair { certs, key }, warnings))
}

fn read_file(path: &Path) -> Result<Vec<u8>, CertsError> {
    bounded::read_file(path, bounded::limits::PEM).map_err(|source| {
        CertsError::File(FileError::Read {
            path: path.to_path_buf(),
            source,
        })
    })
}

/// A human summary of a managed file's content for diffs and listings: fingerprints for
/// certificates, the public key's fingerprint for a key (never the key).
pub fn summarize(name: &str, bytes: &[u8]) -> String {
    if name.ends_with(".key") {
        match x509::parse_key(bytes) {
            Ok(k) => k.summary() + "\n",
            Err(e) => format!("unusable key: {name} {e}\n"),
        }
    } else {
        match x509::parse_bundle(bytes) {
            Ok(b) => b.summary(),
            Err(e) => format!("unparsable: {name} {e}\n"),
        }
    }
}

/// The content of a managed file in a form where equal means "the same to docker".
fn canonical(name: &str, bytes: &[u8]) -> Option<Vec<u8>> {
    if name.ends_with(".key") {
        x509::parse_key(bytes).ok().map(|k| k.pem.into_bytes())
    } else {
        x509::parse_bundle(bytes)
            .ok()
            .map(|b| b.certs.into_iter().flat_map(|c| c.der).collect())
    }
}

/// One file regctl writes into a registry folder.
#[derive(Debug, Clone)]
pub struct Managed {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub mode: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Created,
    Replaced,
    /// Same content, mode corrected (e.g. a world-readable key).
    ModeFixed,
    Unchanged,
    Removed,
}

impl Action {
    pub fn changed(&self) -> bool {
        *self != Action::Unchanged
    }
}

/// What happened (or, in check mode, would happen) to one file.
#[derive(Debug, Clone)]
pub struct FileChange {
    pub path: PathBuf,
    pub name: &'static str,
    pub action: Action,
    /// Content before (None when the file did not exist).
    pub before: Option<Vec<u8>>,
    /// Content after (None when removed).
    pub after: Option<Vec<u8>>,
}

/// Writes `files` into every folder of `dirs` (each created 0755), each file atomically with its
/// mode, under the folders' locks; all or nothing: every folder is planned (read and checked)
/// before any is touched, and when a write fails, what was already written is put back (files
/// restored or removed, folders regctl created removed). A file whose content is already the
/// same to docker (same certificates or same key) is left alone. In check mode nothing on disk
/// is touched.
pub fn install(
    dirs: &[PathBuf],
    files: &[Managed],
    check: bool,
) -> Result<Vec<FileChange>, CertsError> {
    let mut locks = Vec::new();
    let mut plans = Vec::new();
    for dir in dirs {
        if dir.exists() && !dir.is_dir() {
            return Err(CertsError::NotDirectory { path: dir.clone() });
        }
        if !check && dir.is_dir() {
            locks.push(DirLock::acquire(dir).map_err(write_error(dir))?);
        }
        plans.push(plan(dir, files)?);
    }
    if !check {
        let mut undo = Undo::default();
        if let Err(e) = apply(dirs, &plans, files, &mut undo, &mut locks) {
            undo.run();
            return Err(e);
        }
    }
    drop(locks);
    Ok(plans.into_iter().flatten().map(|p| p.change).collect())
}

fn write_error(path: &Path) -> impl FnOnce(io::Error) -> CertsError {
    let path = path.to_path_buf();
    move |source| CertsError::File(FileError::Write { path, source })
}

/// One file's planned change and what is needed to undo it.
struct Step {
    change: FileChange,
    /// The file written (a symlink's target).
    target: PathBuf,
    old_mode: u32,
}

fn plan(dir: &Path, files: &[Managed]) -> Result<Vec<Step>, CertsError> {
    let mut steps = Vec::new();
    for f in files {
        let path = dir.join(f.name);
        let target = resolve_target(&path)?;
        let (before, old_mode) = match bounded::read_file(&target, bounded::limits::PEM) {
            Ok(bytes) => {
                let mode = fs::metadata(&target)
                    .map(|m| m.permissions().mode() & 0o7777)
                    .unwrap_or(0);
                (Some(bytes), mode)
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => (None, 0),
            Err(source) => return Err(FileError::Read { path, source }.into()),
        };
        let action = match &before {
            None => Action::Created,
            Some(old)
                if old == &f.bytes || canonical(f.name, old) == canonical(f.name, &f.bytes) =>
            {
                if old_mode == f.mode {
                    Action::Unchanged
                } else {
                    Action::ModeFixed
                }
            }
            Some(_) => Action::Replaced,
        };
        let after = match action {
            Action::Unchanged | Action::ModeFixed => before.clone(),
            _ => Some(f.bytes.clone()),
        };
        steps.push(Step {
            change: FileChange {
                path,
                name: f.name,
                action,
                before,
                after,
            },
            target,
            old_mode,
        });
    }
    Ok(steps)
}

/// A file's content and mode before the install.
type Previous = (Vec<u8>, u32);

/// What an interrupted install must put back, newest last.
#[derive(Default)]
struct Undo {
    /// Folders regctl created, parents before children.
    created_dirs: Vec<PathBuf>,
    /// Files written: their previous content and mode (None: they did not exist).
    files: Vec<(PathBuf, Option<Previous>)>,
}

impl Undo {
    /// Best effort: the error that stopped the install is what the caller reports.
    fn run(self) {
        for (target, before) in self.files.into_iter().rev() {
            let _ = match before {
                Some((bytes, mode)) => write_atomic(&target, &bytes, mode, None),
                None => fs::remove_file(&target),
            };
        }
        for dir in self.created_dirs.iter().rev() {
            let _ = fs::remove_dir(dir);
        }
    }
}

/// Creates the missing folders and stages every new file (the step that fails on a full disk
/// or a read-only folder), then renames them all into place and fixes modes.
fn apply(
    dirs: &[PathBuf],
    plans: &[Vec<Step>],
    files: &[Managed],
    undo: &mut Undo,
    locks: &mut Vec<DirLock>,
) -> Result<(), CertsError> {
    let mut staged = Vec::new();
    for (dir, steps) in dirs.iter().zip(plans) {
        if !steps.iter().any(|s| s.change.action.changed()) {
            continue;
        }
        if !dir.exists() {
            let mut missing: Vec<PathBuf> = dir
                .ancestors()
                .take_while(|a| !a.exists())
                .map(Path::to_path_buf)
                .collect();
            missing.reverse();
            create_dir_all_mode(dir, DIR_MODE).map_err(write_error(dir))?;
            for m in &missing {
                undo.created_dirs.push(m.clone());
                // The mode passed to mkdir is reduced by the umask; set it exactly (the folder,
                // and a certs.d root regctl created).
                if m == dir || Some(m.as_path()) == dir.parent() {
                    fs::set_permissions(m, fs::Permissions::from_mode(DIR_MODE))
                        .map_err(write_error(m))?;
                }
            }
            locks.push(DirLock::acquire(dir).map_err(write_error(dir))?);
        }
        for (step, f) in steps.iter().zip(files) {
            if matches!(step.change.action, Action::Created | Action::Replaced) {
                let s = stage_atomic(&step.target, &f.bytes, f.mode, None)
                    .map_err(write_error(&step.change.path))?;
                staged.push((step, s));
            }
        }
    }
    for (step, s) in staged {
        s.commit().map_err(write_error(&step.change.path))?;
        undo.files.push((step.target.clone(), previous(step)));
    }
    for (dir_steps, f) in plans
        .iter()
        .flat_map(|steps| steps.iter().zip(files))
        .filter(|(s, _)| s.change.action == Action::ModeFixed)
    {
        fs::set_permissions(&dir_steps.target, fs::Permissions::from_mode(f.mode))
            .map_err(write_error(&dir_steps.change.path))?;
        undo.files
            .push((dir_steps.target.clone(), previous(dir_steps)));
    }
    Ok(())
}

/// A file's content and mode before the install, to put back.
fn previous(step: &Step) -> Option<Previous> {
    step.change
        .before
        .clone()
        .map(|bytes| (bytes, step.old_mode))
}

/// What `remove` did.
#[derive(Debug, Clone, Default)]
pub struct Removal {
    pub files: Vec<FileChange>,
    /// The folder was removed (or would be) because nothing else was left in it.
    pub dir_removed: bool,
}

/// Removes regctl's files (`MANAGED`) from `dir`, and the folder when nothing else is left.
/// Files regctl does not manage are kept. In check mode nothing is touched.
pub fn remove(dir: &Path, check: bool) -> Result<Removal, CertsError> {
    let write_err = |path: &Path, source: io::Error| {
        CertsError::File(FileError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    if !dir.is_dir() {
        return Ok(Removal::default());
    }
    let _lock = if check {
        None
    } else {
        Some(DirLock::acquire(dir).map_err(|e| write_err(dir, e))?)
    };
    let mut out = Removal::default();
    for name in MANAGED {
        let path = dir.join(name);
        if fs::symlink_metadata(&path).is_err() {
            continue;
        }
        let before = bounded::read_file(&path, bounded::limits::PEM).ok();
        if !check {
            fs::remove_file(&path).map_err(|e| write_err(&path, e))?;
        }
        out.files.push(FileChange {
            path,
            name,
            action: Action::Removed,
            before,
            after: None,
        });
    }
    let others = fs::read_dir(dir)
        .map_err(|source| FileError::Read {
            path: dir.to_path_buf(),
            source,
        })?
        .flatten()
        .filter(|e| !MANAGED.iter().any(|m| e.file_name() == *m))
        .count();
    if others == 0 {
        if !check {
            fs::remove_dir(dir).map_err(|e| write_err(dir, e))?;
        }
        out.dir_removed = true;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names_are_host_port_only() {
        assert_eq!(
            folder_name("r.example.com:5000").unwrap(),
            "r.example.com:5000"
        );
        assert_eq!(
            folder_name("https://r.example.com/v2/").unwrap(),
            "r.example.com"
        );
        assert_eq!(folder_name("[::1]:5000").unwrap(), "[::1]:5000");
        assert_eq!(folder_name("10.0.0.5").unwrap(), "10.0.0.5");
        for bad in [
            "",
            " ",
            "..",
            "../etc",
            "a/b",
            "host/../../etc",
            "a\0b",
            "r:99999",
            "a\\b",
        ] {
            assert!(folder_name(bad).is_err(), "{bad:?} must be refused");
        }
        assert!(matches!(
            folder_name("docker.io"),
            Err(CertsError::DockerHub { .. })
        ));
    }
}
