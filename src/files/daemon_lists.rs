//! Mirrors and insecure registries are both lists of strings in daemon.json, edited the same way:
//! entries are validated and normalised as dockerd does, compared in normal form, and added or
//! removed without touching the rest of the file. Returns what the list holds and what changed.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use crate::files::daemon_config::{self, DaemonConfigError, Warning};
use crate::files::dockerd::{Engine, EngineVersion};
use crate::files::json_file::{FileError, FileKind, JsonFile, Saved};

/// Validates one entry and gives its normal form (and a warning dockerd would log).
pub type Normalizer =
    fn(&str, EngineVersion) -> Result<(String, Option<Warning>), DaemonConfigError>;

/// One list key of daemon.json and how its entries are normalised.
pub struct ListKey {
    /// The key in daemon.json.
    pub key: &'static str,
    /// The key in regctl's JSON output.
    pub json_name: &'static str,
    /// One entry, for messages.
    pub noun: &'static str,
    pub normalize: Normalizer,
}

pub const MIRRORS: ListKey = ListKey {
    key: daemon_config::MIRRORS,
    json_name: "mirrors",
    noun: "mirror",
    normalize: |v, version| daemon_config::normalize_mirror(v, version).map(|m| (m, None)),
};

pub const INSECURE: ListKey = ListKey {
    key: daemon_config::INSECURE,
    json_name: "insecure_registries",
    noun: "insecure registry",
    normalize: |v, _| daemon_config::parse_insecure(v).map(|(e, w)| (e.canonical(), w)),
};

#[derive(Debug, thiserror::Error)]
pub enum ListError {
    #[error(transparent)]
    File(#[from] FileError),
    /// A value the user typed that dockerd would refuse (nothing was read or written).
    #[error(transparent)]
    Invalid(DaemonConfigError),
    /// The list in the file is not one dockerd accepts.
    #[error("{path}: {source}")]
    InFile {
        path: PathBuf,
        #[source]
        source: DaemonConfigError,
    },
}

/// A list after an edit (or as it is), and what the edit did.
#[derive(Debug)]
pub struct ListEdit {
    pub items: Vec<String>,
    /// The entries added, or removed.
    pub changed: Vec<String>,
    pub saved: Saved,
    pub warnings: Vec<Warning>,
}

impl ListKey {
    /// The list in daemon.json as it is now.
    pub fn current(
        &self,
        value: &Map<String, Value>,
        path: &Path,
    ) -> Result<Vec<String>, ListError> {
        daemon_config::string_list(value, self.key)
            .map(Option::unwrap_or_default)
            .map_err(|source| ListError::InFile {
                path: path.to_path_buf(),
                source,
            })
    }

    /// An entry's normal form, or the entry itself when it does not validate.
    fn normal(&self, entry: &str, version: EngineVersion) -> String {
        (self.normalize)(entry, version)
            .map(|(n, _)| n)
            .unwrap_or_else(|_| entry.to_string())
    }

    /// Adds the entries not already there (in normal form) for the dockerd `engine`.
    pub fn add(
        &self,
        values: &[String],
        path: &Path,
        engine: &Engine,
        check: bool,
    ) -> Result<ListEdit, ListError> {
        let mut warnings = Vec::new();
        let mut wanted = Vec::new();
        for v in values {
            let (normal, warning) =
                (self.normalize)(v, engine.version).map_err(ListError::Invalid)?;
            warnings.extend(warning);
            if !wanted.contains(&normal) {
                wanted.push(normal);
            }
        }
        let mut file = JsonFile::edit(path, FileKind::DAEMON_JSON, check)?;
        let mut items = self.current(&file.value, path)?;
        let present: Vec<String> = items
            .iter()
            .map(|i| self.normal(i, engine.version))
            .collect();
        let added: Vec<String> = wanted
            .into_iter()
            .filter(|w| !present.contains(w))
            .collect();
        if !added.is_empty() {
            items.extend(added.iter().cloned());
            file.value.insert(self.key.to_string(), json!(items));
        }
        if self.key == daemon_config::MIRRORS {
            let target = engine.target(&file.value);
            let insecure = daemon_config::InsecureRegistries::from_config(&file.value);
            warnings.extend(
                added
                    .iter()
                    .filter_map(|m| daemon_config::http_mirror_warning(m, &insecure, &target)),
            );
        }
        Ok(ListEdit {
            items,
            changed: added,
            saved: file.save(check)?,
            warnings,
        })
    }

    /// Removes the entries matching in normal form, or exactly as typed (so a broken entry can
    /// be removed).
    pub fn remove(
        &self,
        values: &[String],
        path: &Path,
        version: EngineVersion,
        check: bool,
    ) -> Result<ListEdit, ListError> {
        let targets: Vec<String> = values.iter().map(|v| self.normal(v, version)).collect();
        let mut file = JsonFile::edit(path, FileKind::DAEMON_JSON, check)?;
        let items = self.current(&file.value, path)?;
        let (removed, kept): (Vec<String>, Vec<String>) = items
            .into_iter()
            .partition(|i| targets.contains(&self.normal(i, version)) || values.contains(i));
        if !removed.is_empty() {
            // An empty list, not a missing key: dockerd only applies keys present on reload.
            file.value.insert(self.key.to_string(), json!(kept));
        }
        Ok(ListEdit {
            items: kept,
            changed: removed,
            saved: file.save(check)?,
            warnings: Vec::new(),
        })
    }

    /// The list as it is, with why dockerd refuses each entry it would refuse.
    pub fn show(
        &self,
        path: &Path,
        version: EngineVersion,
    ) -> Result<(Vec<String>, Vec<DaemonConfigError>), ListError> {
        let file = JsonFile::read(path, FileKind::DAEMON_JSON)?;
        let items = self.current(&file.value, path)?;
        let refused = items
            .iter()
            .filter_map(|item| (self.normalize)(item, version).err())
            .collect();
        Ok((items, refused))
    }
}
