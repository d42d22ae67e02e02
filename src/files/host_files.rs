//! The files besides daemon.json that hold a registry's mirrors and insecure flag: its
//! hosts.toml under each hosts root (dockerd's certs.d, containerd's) and regctl's
//! registries.conf.d drop-in (podman, skopeo). An edit opens (locks) and edits every file first,
//! and only when every edit succeeded is anything written, so bad input leaves every file as
//! it was. Nothing here prints.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use crate::files::certs_dir::{CA_FILE, CLIENT_CERT, CLIENT_KEY};
use crate::files::hosts_toml::{self, HostTls, HOSTS_TOML};
use crate::files::json_file::{FileError, Saved};
use crate::files::toml_file::TomlFile;

/// Which files an edit goes to.
#[derive(Debug, Clone, Copy)]
pub struct HostFiles<'a> {
    /// The hosts roots whose `<folder>/hosts.toml` is edited.
    pub roots: &'a [PathBuf],
    /// regctl's registries.conf.d drop-in, when podman and skopeo are targets.
    pub drop_in: Option<&'a Path>,
    /// Create missing files (an addition); without, a missing file is left out (a removal
    /// creates no folder).
    pub create: bool,
    pub check: bool,
}

/// Runs `edit_hosts(doc, root, path)` on the registry's hosts.toml in every root and
/// `edit_drop(doc, path)` on the drop-in, then saves them all. Returns the saves in that order.
pub fn edit_all<E: From<FileError>>(
    folder: &str,
    files: HostFiles<'_>,
    mut edit_hosts: impl FnMut(&mut DocumentMut, &Path, &Path) -> Result<(), E>,
    mut edit_drop: impl FnMut(&mut DocumentMut, &Path) -> Result<(), E>,
) -> Result<Vec<Saved>, E> {
    let mut opened = Vec::new();
    for root in files.roots {
        let path = root.join(folder).join(HOSTS_TOML);
        if !files.create && !path.exists() {
            continue;
        }
        let mut f = TomlFile::edit(&path, files.check)?;
        edit_hosts(&mut f.doc, root, &path)?;
        opened.push(f);
    }
    if let Some(path) = files.drop_in {
        if files.create || path.exists() {
            let mut f = TomlFile::edit(path, files.check)?;
            edit_drop(&mut f.doc, path)?;
            opened.push(f);
        }
    }
    let saves: Result<Vec<Saved>, FileError> =
        opened.into_iter().map(|f| f.save(files.check)).collect();
    Ok(saves?)
}

/// The TLS a mirror needs in its host table: what regctl installed for the mirror's host under
/// the same root (`trust-ca MIRROR`), since containerd never reads `certs.d/<mirror>/` for it.
pub fn mirror_tls(root: &Path, url: &str, skip_verify: bool) -> HostTls {
    let host = hosts_toml::parse_host_url(url)
        .map(|(_, h, _)| h)
        .unwrap_or_default();
    let dir = std::path::absolute(root.join(&host)).unwrap_or_else(|_| root.join(&host));
    let file = |n: &str| {
        dir.join(n)
            .is_file()
            .then(|| dir.join(n).display().to_string())
    };
    HostTls {
        ca: file(CA_FILE),
        client: file(CLIENT_CERT).zip(file(CLIENT_KEY)),
        skip_verify,
    }
}

/// The mirrors a registry's hosts.toml under `root` lists, when it parses.
pub fn hosts_mirrors(root: &Path, folder: &str) -> Vec<String> {
    super::bounded::read_text_file(
        &root.join(folder).join(HOSTS_TOML),
        super::bounded::limits::CONFIG_JSON,
    )
    .ok()
    .and_then(|t| t.parse::<DocumentMut>().ok())
    .map(|d| hosts_toml::mirrors(&d, folder))
    .unwrap_or_default()
}

/// The registry folders under a hosts root that hold a hosts.toml, sorted.
pub fn hosts_folders(root: &Path) -> Vec<String> {
    let mut folders: Vec<String> = std::fs::read_dir(root)
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join(HOSTS_TOML).is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    folders.sort();
    folders
}
