//! Typed access to the credential parts of `~/.docker/config.json` (`auths`, `credsStore`,
//! `credHelpers`) with docker/cli's rules: which store holds a registry's credentials, how
//! `auths[KEY].auth` is encoded, and how older URL-style keys (`https://host/v1/`) still match.
//! Everything else in the file is left alone (see `json_file`).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Map, Value};

use crate::registry::names::convert_to_hostname;

pub const AUTHS: &str = "auths";
pub const CREDS_STORE: &str = "credsStore";
pub const CRED_HELPERS: &str = "credHelpers";

#[derive(Debug, thiserror::Error)]
pub enum DockerConfigError {
    /// docker refuses such a file too ("invalid auth configuration file").
    #[error("{path}: auths[{key:?}].auth is invalid: {reason}")]
    BadAuth {
        path: PathBuf,
        key: String,
        reason: &'static str,
    },
    #[error("{path}: {key} must be {expected}")]
    WrongType {
        path: PathBuf,
        key: String,
        expected: &'static str,
    },
}

/// Where docker keeps one registry's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreRef {
    /// Plain text in `auths`.
    File,
    /// `credHelpers[KEY]` names this helper.
    Helper(String),
    /// The global `credsStore` helper.
    CredsStore(String),
}

impl StoreRef {
    /// The helper name, for helper-backed stores.
    pub fn helper(&self) -> Option<&str> {
        match self {
            StoreRef::File => None,
            StoreRef::Helper(h) | StoreRef::CredsStore(h) => Some(h),
        }
    }
}

/// A decoded `auths` entry. The secret is never printed (see the manual Debug).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct AuthEntry {
    pub username: String,
    pub password: String,
    pub identity_token: Option<String>,
}

impl std::fmt::Debug for AuthEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthEntry")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field(
                "identity_token",
                &self.identity_token.as_ref().map(|_| "<redacted>"),
            )
            .finish()
    }
}

fn object<'a>(
    config: &'a Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<Option<&'a Map<String, Value>>, DockerConfigError> {
    match config.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(DockerConfigError::WrongType {
            path: path.to_path_buf(),
            key: key.to_string(),
            expected: "an object",
        }),
    }
}

/// `credsStore`, when set to a non-empty string.
pub fn creds_store(config: &Map<String, Value>) -> Option<&str> {
    config
        .get(CREDS_STORE)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// `credHelpers[KEY]` (exact match, as docker: no wildcards, no URL forms).
pub fn cred_helper<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    config
        .get(CRED_HELPERS)
        .and_then(Value::as_object)
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// Docker's order: `credHelpers[KEY]` > `credsStore` > plain-text `auths`.
pub fn store_for(config: &Map<String, Value>, key: &str) -> StoreRef {
    if let Some(h) = cred_helper(config, key) {
        return StoreRef::Helper(h.to_string());
    }
    if let Some(s) = creds_store(config) {
        return StoreRef::CredsStore(s.to_string());
    }
    StoreRef::File
}

/// The `auths` key that holds `key`: the exact key, else an older URL-style key that converts to
/// it (docker/cli fileStore.Get).
pub fn find_auth_key(
    config: &Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<Option<String>, DockerConfigError> {
    let Some(auths) = object(config, path, AUTHS)? else {
        return Ok(None);
    };
    if auths.contains_key(key) {
        return Ok(Some(key.to_string()));
    }
    Ok(auths
        .keys()
        .find(|k| convert_to_hostname(k) == key)
        .cloned())
}

/// The decoded plain-text credentials for `key` (None when absent or only a `{}` marker).
pub fn get_auth(
    config: &Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<Option<AuthEntry>, DockerConfigError> {
    let Some(found) = find_auth_key(config, path, key)? else {
        return Ok(None);
    };
    let entry = &config[AUTHS][&found];
    decode_entry(entry, path, &found)
}

/// Every `auths` entry: key and decoded credentials (None for markers).
pub fn all_auths(
    config: &Map<String, Value>,
    path: &Path,
) -> Result<Vec<(String, Option<AuthEntry>)>, DockerConfigError> {
    let Some(auths) = object(config, path, AUTHS)? else {
        return Ok(Vec::new());
    };
    auths
        .iter()
        .map(|(k, v)| Ok((k.clone(), decode_entry(v, path, k)?)))
        .collect()
}

/// Every `credHelpers` entry.
pub fn all_cred_helpers(config: &Map<String, Value>) -> Vec<(String, String)> {
    config
        .get(CRED_HELPERS)
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                .collect()
        })
        .unwrap_or_default()
}

fn decode_entry(
    entry: &Value,
    path: &Path,
    key: &str,
) -> Result<Option<AuthEntry>, DockerConfigError> {
    let bad = |reason| DockerConfigError::BadAuth {
        path: path.to_path_buf(),
        key: key.to_string(),
        reason,
    };
    let Some(obj) = entry.as_object() else {
        return Err(DockerConfigError::WrongType {
            path: path.to_path_buf(),
            key: format!("auths[{key:?}]"),
            expected: "an object",
        });
    };
    let identity_token = obj
        .get("identitytoken")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let auth = obj.get("auth").and_then(Value::as_str).unwrap_or_default();
    if auth.is_empty() {
        return Ok(identity_token.map(|t| AuthEntry {
            username: String::new(),
            password: String::new(),
            identity_token: Some(t),
        }));
    }
    let raw = base64::engine::general_purpose::STANDARD
        .decode(auth.trim())
        .map_err(|_| bad("not base64"))?;
    let text = String::from_utf8(raw).map_err(|_| bad("not UTF-8 text"))?;
    let (user, pass) = text.split_once(':').ok_or(bad(
        "the decoded value has no ':' between user and password",
    ))?;
    if user.is_empty() {
        return Err(bad("the user name is empty"));
    }
    Ok(Some(AuthEntry {
        username: user.to_string(),
        password: pass.trim_end_matches('\0').to_string(),
        identity_token,
    }))
}

/// The `auths` value docker writes for these credentials.
pub fn encode_auth(entry: &AuthEntry) -> Value {
    let mut obj = Map::new();
    if !entry.username.is_empty() || !entry.password.is_empty() {
        let raw = format!("{}:{}", entry.username, entry.password);
        obj.insert(
            "auth".into(),
            Value::String(base64::engine::general_purpose::STANDARD.encode(raw)),
        );
    }
    if let Some(t) = &entry.identity_token {
        obj.insert("identitytoken".into(), Value::String(t.clone()));
    }
    Value::Object(obj)
}

fn object_mut<'a>(
    config: &'a mut Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<&'a mut Map<String, Value>, DockerConfigError> {
    let slot = config
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| DockerConfigError::WrongType {
            path: path.to_path_buf(),
            key: key.to_string(),
            expected: "an object",
        })
}

/// Sets `auths[KEY]`: the encoded credentials, or `{}` (the marker docker leaves when a helper
/// holds the secret). An existing equal value is left as is, so an unchanged file is not written.
pub fn set_auth(
    config: &mut Map<String, Value>,
    path: &Path,
    key: &str,
    entry: Option<&AuthEntry>,
) -> Result<(), DockerConfigError> {
    let value = match entry {
        Some(e) => encode_auth(e),
        None => Value::Object(Map::new()),
    };
    let auths = object_mut(config, path, AUTHS)?;
    // Keep the fields docker does not write (email, registrytoken) of an existing marker.
    match auths.get_mut(key) {
        Some(Value::Object(existing)) if entry.is_none() => {
            existing.remove("auth");
            existing.remove("identitytoken");
            existing.remove("password");
        }
        _ => {
            auths.insert(key.to_string(), value);
        }
    }
    Ok(())
}

/// Removes `auths[k]` for each key; returns whether any held plain-text credentials or existed.
pub fn remove_auths(config: &mut Map<String, Value>, keys: &[String]) -> bool {
    let Some(auths) = config.get_mut(AUTHS).and_then(Value::as_object_mut) else {
        return false;
    };
    let mut removed = false;
    for k in keys {
        removed |= auths.shift_remove(k).is_some();
    }
    removed
}

/// Sets `credHelpers[KEY] = helper`.
pub fn set_cred_helper(
    config: &mut Map<String, Value>,
    path: &Path,
    key: &str,
    helper: &str,
) -> Result<(), DockerConfigError> {
    object_mut(config, path, CRED_HELPERS)?.insert(key.to_string(), Value::String(helper.into()));
    Ok(())
}

/// Removes `credHelpers[KEY]`; an emptied `credHelpers` is dropped.
pub fn remove_cred_helper(config: &mut Map<String, Value>, key: &str) -> bool {
    let Some(helpers) = config.get_mut(CRED_HELPERS).and_then(Value::as_object_mut) else {
        return false;
    };
    let removed = helpers.shift_remove(key).is_some();
    if helpers.is_empty() {
        config.shift_remove(CRED_HELPERS);
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn store_order_is_helper_then_creds_store_then_file() {
        let c = map(json!({"credsStore": "pass", "credHelpers": {"r.io": "regctl"}}));
        assert_eq!(store_for(&c, "r.io"), StoreRef::Helper("regctl".into()));
        assert_eq!(store_for(&c, "x.io"), StoreRef::CredsStore("pass".into()));
        assert_eq!(
            store_for(&map(json!({"credsStore": ""})), "x"),
            StoreRef::File
        );
    }

    #[test]
    fn url_style_keys_still_match_and_auth_decodes() {
        let p = Path::new("config.json");
        // dXNlcjpwYXNz = user:pass
        let c = map(json!({"auths": {"https://r.io:5000/v1/": {"auth": "dXNlcjpwYXNz"}}}));
        let a = get_auth(&c, p, "r.io:5000").unwrap().unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("user", "pass"));
        assert!(!format!("{a:?}").contains("pass\""));
        // bm9jb2xvbg== = nocolon ; OnBhc3M= = :pass
        for bad in ["bm9jb2xvbg==", "OnBhc3M=", "%%%"] {
            let c = map(json!({"auths": {"r.io": {"auth": bad}}}));
            assert!(get_auth(&c, p, "r.io").is_err(), "{bad}");
        }
        let c = map(json!({"auths": {"r.io": {}}}));
        assert_eq!(get_auth(&c, p, "r.io").unwrap(), None);
    }

    #[test]
    fn marker_keeps_other_fields_and_encode_round_trips() {
        let p = Path::new("config.json");
        let mut c = map(json!({"auths": {"r.io": {"auth": "dXNlcjpwYXNz", "email": "e"}}}));
        set_auth(&mut c, p, "r.io", None).unwrap();
        assert_eq!(c["auths"]["r.io"], json!({"email": "e"}));
        let e = AuthEntry {
            username: "u".into(),
            password: "p:w".into(),
            identity_token: None,
        };
        set_auth(&mut c, p, "r.io", Some(&e)).unwrap();
        assert_eq!(get_auth(&c, p, "r.io").unwrap().unwrap(), e);
    }
}
