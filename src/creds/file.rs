//! The plain-text store: `auths` in config.json, read and written in memory on a document the
//! caller opened (and later saves, so that `--check` and `--diff` cover it).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Credential, CredsError, Store, IDENTITY_TOKEN_USER};
use crate::files::docker_config::{self as dc, AuthEntry};

pub struct FileStore<'a> {
    config: &'a mut Map<String, Value>,
    path: PathBuf,
}

impl<'a> FileStore<'a> {
    pub fn new(config: &'a mut Map<String, Value>, path: &Path) -> FileStore<'a> {
        FileStore {
            config,
            path: path.to_path_buf(),
        }
    }
}

impl Store for FileStore<'_> {
    fn name(&self) -> String {
        "file".into()
    }

    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError> {
        let Some(a) = dc::get_auth(self.config, &self.path, server_url)? else {
            return Ok(None);
        };
        Ok(Some(match a.identity_token {
            Some(token) => Credential {
                server_url: server_url.into(),
                username: IDENTITY_TOKEN_USER.into(),
                secret: token,
            },
            None => Credential {
                server_url: server_url.into(),
                username: a.username,
                secret: a.password,
            },
        }))
    }

    fn store(&mut self, cred: &Credential) -> Result<(), CredsError> {
        let entry = if cred.is_identity_token() {
            AuthEntry {
                identity_token: Some(cred.secret.clone()),
                ..Default::default()
            }
        } else {
            AuthEntry {
                username: cred.username.clone(),
                password: cred.secret.clone(),
                identity_token: None,
            }
        };
        dc::set_auth(self.config, &self.path, &cred.server_url, Some(&entry))?;
        Ok(())
    }

    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError> {
        let had = dc::get_auth(self.config, &self.path, server_url)
            .ok()
            .flatten()
            .is_some();
        let existed = dc::remove_auths(self.config, &[server_url.to_string()]);
        Ok(had || existed)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, CredsError> {
        Ok(dc::all_auths(self.config, &self.path)?
            .into_iter()
            .filter_map(|(k, a)| {
                a.map(|a| {
                    let user = if a.username.is_empty() {
                        IDENTITY_TOKEN_USER.to_string()
                    } else {
                        a.username
                    };
                    (k, user)
                })
            })
            .collect())
    }
}
