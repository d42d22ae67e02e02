//! `trust-ca`'s file operations over every place a registry's trust is kept: the certs.d
//! folders (docker's, podman/skopeo's, containerd's), the hosts.toml beside them that must name
//! ca.crt, and regctl's own file in the OS trust store. Each returns what changed (or would,
//! with `check`); nothing here prints or prompts.

use std::path::{Path, PathBuf};

use crate::files::certs_dir::x509::Bundle;
use crate::files::certs_dir::{
    self, Action, CertsError, FileChange, Managed, Removal, CA_FILE, CERT_MODE,
};
use crate::files::hosts_toml::{self, HOSTS_TOML};
use crate::files::json_file::{FileError, Saved};
use crate::files::system_trust::{SystemStore, SystemTrustError};
use crate::files::toml_file::TomlFile;

#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    #[error(transparent)]
    Certs(#[from] CertsError),
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    System(#[from] SystemTrustError),
}

/// The hosts.toml files beside a registry's folders: with one, containerd (and dockerd 28+ with
/// the containerd image store) use only the CA files it names, so it must name ca.crt. Each is
/// parsed first (a file regctl cannot parse stops the command before anything is written).
pub fn hosts_tomls(folder: &str, roots: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    let mut found = Vec::new();
    for root in roots {
        let path = root.join(folder).join(HOSTS_TOML);
        if path.is_file() {
            TomlFile::edit(&path, true)?;
            found.push(path);
        }
    }
    Ok(found)
}

/// Names (`add`) or stops naming ca.crt in each hosts.toml.
pub fn name_ca_in_hosts(
    folder: &str,
    files: &[PathBuf],
    add: bool,
    check: bool,
) -> Result<Vec<Saved>, FileError> {
    let mut saves = Vec::new();
    for path in files {
        let mut file = TomlFile::edit(path, check)?;
        let dir = path.parent().unwrap_or(path);
        if add {
            hosts_toml::add_ca(&mut file.doc, dir, folder, CA_FILE);
        } else {
            hosts_toml::remove_ca(&mut file.doc, dir, CA_FILE);
        }
        saves.push(file.save(check)?);
    }
    Ok(saves)
}

/// regctl's files removed from a registry's folder under each root (and each folder with
/// nothing else left in it).
pub fn remove_from_roots(
    folder: &str,
    roots: &[PathBuf],
    check: bool,
) -> Result<(Vec<FileChange>, Vec<PathBuf>), CertsError> {
    let mut changes = Vec::new();
    let mut dirs_removed = Vec::new();
    for root in roots {
        let dir = root.join(folder);
        let Removal { files, dir_removed } = certs_dir::remove(&dir, check)?;
        changes.extend(files);
        if dir_removed {
            dirs_removed.push(dir);
        }
    }
    Ok((changes, dirs_removed))
}

/// What a change to the OS trust store did.
#[derive(Debug)]
pub struct SystemChange {
    pub store: SystemStore,
    pub changes: Vec<FileChange>,
    /// The update tool's summary, when it ran (`updated BUNDLE: 1 added, 0 removed; done.`).
    pub updated: Option<String>,
}

/// The name of regctl's file for a registry in the trust store. FileChange names are static
/// (certs.d's are constants); one name per run.
fn system_file_name(folder: &str) -> &'static str {
    Box::leak(SystemStore::file_name(folder).into_boxed_str())
}

/// Writes the CA as regctl's file in the OS trust store (under `root`) and, when it changed,
/// runs the distribution's update tool found on `exec_path`.
pub fn system_install(
    root: &Path,
    folder: &str,
    bundle: &Bundle,
    exec_path: &[PathBuf],
    check: bool,
) -> Result<SystemChange, TrustError> {
    let store = SystemStore::detect(root)?;
    let changes = certs_dir::install(
        std::slice::from_ref(&store.anchors_dir),
        &[Managed {
            name: system_file_name(folder),
            bytes: bundle.pem().into_bytes(),
            mode: CERT_MODE,
        }],
        check,
    )?;
    let updated = if changes[0].action.changed() && !check {
        Some(update(&store, exec_path)?)
    } else {
        None
    };
    Ok(SystemChange {
        store,
        changes,
        updated,
    })
}

/// Removes regctl's file from the OS trust store (nothing else) and updates the bundle.
pub fn system_remove(
    root: &Path,
    folder: &str,
    exec_path: &[PathBuf],
    check: bool,
) -> Result<SystemChange, TrustError> {
    let store = SystemStore::detect(root)?;
    let name = system_file_name(folder);
    let path = store.anchors_dir.join(name);
    let mut changes = Vec::new();
    let mut updated = None;
    if std::fs::symlink_metadata(&path).is_ok() {
        let before = super::bounded::read_file(&path, super::bounded::limits::PEM).ok();
        if !check {
            std::fs::remove_file(&path).map_err(|source| FileError::Write {
                path: path.clone(),
                source,
            })?;
            updated = Some(update(&store, exec_path)?);
        }
        changes.push(FileChange {
            path,
            name,
            action: Action::Removed,
            before,
            after: None,
        });
    }
    Ok(SystemChange {
        store,
        changes,
        updated,
    })
}

/// Runs the trust store's update tool; says what it did.
fn update(store: &SystemStore, exec_path: &[PathBuf]) -> Result<String, SystemTrustError> {
    let out = store.update(exec_path)?;
    Ok(format!(
        "updated {}: {}",
        store.bundle.display(),
        // update-ca-certificates' count line, e.g. "1 added, 0 removed; done."
        out.lines()
            .find(|l| l.contains(" added, "))
            .or(out.lines().last())
            .unwrap_or_default()
    ))
}
