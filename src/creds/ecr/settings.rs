//! What `regctl login HOST` chose (`--profile`, `--region`, `--ecr`), kept under regctl's state
//! directory so that docker's later `docker-credential-regctl get HOST`, which gets no flags,
//! mints tokens for the same identity and region.

use crate::files::bounded;
use std::fs;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::host::EcrHost;
use super::profile::AwsOptions;
use super::{remove_if_present, write_private_json, EcrError};

/// The login choices for one registry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// `--ecr`: the name is not ECR's own (a VPC endpoint, a proxy).
    #[serde(default)]
    pub forced: bool,
}

impl HostSettings {
    pub fn options(&self) -> AwsOptions {
        AwsOptions {
            profile: self.profile.clone(),
            region: self.region.clone(),
        }
    }

    /// The registry as these settings see it: forced names are ECR whatever they look like.
    pub fn host(&self, server: &str) -> Result<EcrHost, EcrError> {
        if self.forced {
            Ok(EcrHost::forced(server))
        } else {
            EcrHost::parse(server)
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct SettingsFile {
    host: String,
    #[serde(flatten)]
    settings: HostSettings,
}

/// `<state dir>/ecr-hosts/<host>.json`, one small file per registry.
#[derive(Debug, Clone)]
pub struct SettingsStore {
    dir: PathBuf,
}

impl SettingsStore {
    /// `state_dir` is regctl's state directory (`Paths::state_dir`).
    pub fn new(state_dir: &Path) -> SettingsStore {
        SettingsStore {
            dir: state_dir.join("ecr-hosts"),
        }
    }

    /// The file for a host name; bytes outside `[a-z0-9._-]` are percent-encoded.
    pub fn path(&self, hostname: &str) -> PathBuf {
        let mut name = String::new();
        for b in hostname.bytes() {
            if b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b) {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        self.dir.join(format!("{name}.json"))
    }

    pub fn load(&self, hostname: &str) -> Result<Option<HostSettings>, EcrError> {
        let path = self.path(hostname);
        match bounded::read_file(&path, bounded::limits::AWS_FILE) {
            Ok(bytes) => read_file(&path, &bytes).map(|f| Some(f.settings)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(EcrError::ReadFile { path, source }),
        }
    }

    /// Saves the settings; `Ok(false)` when the file already said the same (nothing written).
    pub fn save(&self, hostname: &str, settings: &HostSettings) -> Result<bool, EcrError> {
        if self.load(hostname)?.as_ref() == Some(settings) {
            return Ok(false);
        }
        let file = SettingsFile {
            host: hostname.to_string(),
            settings: settings.clone(),
        };
        write_private_json(&self.path(hostname), &file)?;
        Ok(true)
    }

    /// Forgets a host; `Ok(false)` when it was not known.
    pub fn remove(&self, hostname: &str) -> Result<bool, EcrError> {
        remove_if_present(self.path(hostname))
    }

    /// Every host logged in with ECR, sorted by name.
    pub fn list(&self) -> Result<Vec<(String, HostSettings)>, EcrError> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(EcrError::ReadFile {
                    path: self.dir.clone(),
                    source,
                })
            }
        };
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                let bytes =
                    bounded::read_file(&path, bounded::limits::AWS_FILE).map_err(|source| {
                        EcrError::ReadFile {
                            path: path.clone(),
                            source,
                        }
                    })?;
                let file = read_file(&path, &bytes)?;
                out.push((file.host, file.settings));
            }
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }
}

fn read_file(path: &Path, bytes: &[u8]) -> Result<SettingsFile, EcrError> {
    serde_json::from_slice(bytes).map_err(|e| EcrError::MalformedFile {
        path: path.to_path_buf(),
        line: e.line(),
        reason: e.to_string(),
    })
}
