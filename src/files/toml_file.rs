//! Lossless, atomic, locked editing of the TOML files containerd, dockerd (containerd image
//! store) and podman read: hosts.toml and registries.conf.d drop-ins.
//!
//! `toml_edit` keeps comments, key order, spacing and quoting of everything an edit does not
//! touch, so a hand-written file keeps every byte it does not need to change. A file whose text
//! would not change is not written at all (no mtime churn). Writes go through
//! `files::atomic`, the same lock and temp-file-and-rename as the JSON files.

use std::path::{Path, PathBuf};

use toml_edit::DocumentMut;

use super::atomic::{lock_for_edit, read_existing, write_atomic, DirLock};
use super::json_file::{FileError, Saved};

/// A TOML error with the line and column it was found at (1-based), for messages and lints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TomlError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl std::fmt::Display for TomlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

/// Parses TOML text; an error carries its line and column.
pub fn parse(text: &str) -> Result<DocumentMut, TomlError> {
    text.parse::<DocumentMut>().map_err(|e| {
        let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((1, 1));
        TomlError {
            line,
            column,
            message: e.message().trim().to_string(),
        }
    })
}

/// The 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// A TOML file opened to edit: `doc` is edited in place, then `save` writes it when its text
/// changed.
#[derive(Debug)]
pub struct TomlFile {
    path: PathBuf,
    target: PathBuf,
    original: Option<(String, u32, u32, u32)>,
    /// The document as parsed, rendered: an edit that renders the same is no change.
    baseline: String,
    pub doc: DocumentMut,
    _lock: Option<DirLock>,
}

/// Mode of a TOML file regctl creates, and of the directories it creates for it.
pub const NEW_MODE: u32 = 0o644;
pub const DIR_MODE: u32 = 0o755;

impl TomlFile {
    /// Opens (and, unless `check`, locks) a file to edit; a missing file is an empty document.
    /// A file that is not UTF-8 or not TOML is an error and is never written.
    pub fn edit(path: &Path, check: bool) -> Result<TomlFile, FileError> {
        let (target, lock) = lock_for_edit(path, DIR_MODE, check)?;
        let (original, doc) = match read_existing(path, &target)? {
            Some(disk) => {
                let text = String::from_utf8(disk.bytes).map_err(|e| FileError::NotUtf8 {
                    path: path.to_path_buf(),
                    offset: e.utf8_error().valid_up_to(),
                })?;
                let doc = parse(&text).map_err(|e| FileError::TomlParse {
                    path: path.to_path_buf(),
                    detail: e.to_string(),
                })?;
                (Some((text, disk.mode, disk.uid, disk.gid)), doc)
            }
            None => (None, DocumentMut::new()),
        };
        Ok(TomlFile {
            path: path.to_path_buf(),
            target,
            original,
            baseline: doc.to_string(),
            doc,
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.original.is_some()
    }

    /// Writes the document when its text differs from what was read; in check mode only reports.
    pub fn save(self, check: bool) -> Result<Saved, FileError> {
        let rendered = self.doc.to_string();
        let (before, mode, owner) = match &self.original {
            Some((text, mode, uid, gid)) => (text.clone(), mode & 0o7777, Some((*uid, *gid))),
            None => (String::new(), NEW_MODE, None),
        };
        let changed = match &self.original {
            Some(_) => rendered != self.baseline,
            None => !rendered.trim().is_empty(),
        };
        // toml_edit writes line feeds; a file with CRLF line ends keeps them.
        let after = if before.contains("\r\n") {
            rendered.replace("\r\n", "\n").replace('\n', "\r\n")
        } else {
            rendered
        };
        if changed && !check {
            write_atomic(&self.target, after.as_bytes(), mode, owner).map_err(|source| {
                FileError::Write {
                    path: self.path.clone(),
                    source,
                }
            })?;
        }
        Ok(Saved {
            path: self.path,
            changed,
            after: if changed { after } else { before.clone() },
            before,
            made_private: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_line_and_column() {
        let e = parse("a = 1\nb = [\n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = parse("ok = true\nserver = \"x\n").unwrap_err();
        assert_eq!((e.line, e.column > 1), (2, true), "{e}");
    }

    #[test]
    fn line_col_counts_from_one() {
        assert_eq!(line_col("ab\ncd", 0), (1, 1));
        assert_eq!(line_col("ab\ncd", 4), (2, 2));
    }
}
