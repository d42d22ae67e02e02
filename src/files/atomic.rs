//! Writing a file so that no reader ever sees half of it and no concurrent regctl loses an
//! update: an advisory lock on the directory held from read to rename, a temporary file in the
//! same directory, fsync, rename (through symlinks, as docker does) and fsync of the directory.
//! Every editor of a file Docker, containerd or podman reads (JSON, TOML, certificates) uses this.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use super::json_file::FileError;

/// Follows symlinks as docker does; a dangling one is an error rather than replaced by a file.
pub fn resolve_target(path: &Path) -> Result<PathBuf, FileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(target) => Ok(target),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FileError::DanglingSymlink {
                path: path.to_path_buf(),
                target: fs::read_link(path).unwrap_or_default(),
            }),
            Err(source) => Err(FileError::Read {
                path: path.to_path_buf(),
                source,
            }),
        },
        Ok(meta) if meta.is_dir() => Err(FileError::IsDirectory {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(path.to_path_buf()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path.to_path_buf()),
        Err(source) => Err(FileError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

pub fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub fn create_dir_all_mode(dir: &Path, mode: u32) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    builder.create(dir)
}

/// Prefix of regctl's temporary files next to `target`; leftovers of a killed run are removed
/// by the next run that holds the lock.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.regctl-")
}

/// Writes `bytes` to `target` atomically: temp file in the same directory, fsync, rename, fsync dir.
/// The new file gets `mode` and, when given and different, the original owner.
pub fn write_atomic(
    target: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<()> {
    stage_atomic(target, bytes, mode, owner)?.commit()
}

/// A complete temp file beside its target, waiting to be renamed over it ([`Staged::commit`]);
/// dropped uncommitted, it is removed. Staging several files first lets a caller write all or
/// none: what fails (a full disk, a read-only folder) fails while staging, before any rename.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staged {
    /// Renames the temp file over the target and syncs the directory.
    pub fn commit(mut self) -> io::Result<()> {
        fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        File::open(parent_dir(&self.target))?.sync_all()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The first half of [`write_atomic`]: the temp file, written and synced, with its mode and owner.
pub fn stage_atomic(
    target: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<Staged> {
    let dir = parent_dir(target);
    let prefix = temp_prefix(target);
    remove_stale_temps(&dir, &prefix);
    let staged = Staged {
        tmp: dir.join(format!("{prefix}{}.tmp", std::process::id())),
        target: target.to_path_buf(),
        committed: false,
    };
    let _ = fs::remove_file(&staged.tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&staged.tmp)?;
    // The mode given to open() is reduced by the umask; set it exactly.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner {
        let meta = file.metadata()?;
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
            // chown clears set-id bits; restore the exact mode.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(staged)
}

fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// An exclusive advisory lock (flock) on a directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> io::Result<DirLock> {
        let file = File::open(dir)?;
        loop {
            // SAFETY: flock on a descriptor we own; no memory is shared.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(DirLock { _dir: file });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

/// Where an edit writes (`path` with symlinks followed) and the lock it holds: the directory is
/// created (with `dir_mode`) and locked unless `check` is set, in which case nothing on disk is
/// touched.
pub fn lock_for_edit(
    path: &Path,
    dir_mode: u32,
    check: bool,
) -> Result<(PathBuf, Option<DirLock>), FileError> {
    let target = resolve_target(path)?;
    if check {
        return Ok((target, None));
    }
    let dir = parent_dir(&target);
    let write_err = |source| FileError::Write {
        path: dir.clone(),
        source,
    };
    if !dir.exists() {
        create_dir_all_mode(&dir, dir_mode).map_err(write_err)?;
    }
    let lock = DirLock::acquire(&dir).map_err(write_err)?;
    Ok((target, Some(lock)))
}

/// A regular file's bytes and the metadata a rewrite keeps.
#[derive(Debug, Clone)]
pub struct OnDisk {
    pub bytes: Vec<u8>,
    pub mode: u32,
    pub uid: u32,
    pub gid: u32,
}

/// Reads `target` (what `path` resolves to); `None` when it does not exist. A directory or
/// something other than a regular file is an error naming `path`.
pub fn read_existing(path: &Path, target: &Path) -> Result<Option<OnDisk>, FileError> {
    let read_err = |source| FileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = match fs::metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    if meta.is_dir() {
        return Err(FileError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    // Configuration files are small; a huge one is refused rather than read into memory.
    let bytes =
        super::bounded::read_file(target, super::bounded::limits::CONFIG_JSON).map_err(read_err)?;
    Ok(Some(OnDisk {
        bytes,
        mode: meta.permissions().mode(),
        uid: meta.uid(),
        gid: meta.gid(),
    }))
}
