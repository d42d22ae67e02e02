//! Typed access to the credential parts of `~/.docker/config.json` (`auths`, `credsStore`,
//! `credHelpers`) with docker/cli's rules: which store holds a registry's credentials, how
//! `auths[KEY].auth` is encoded, and how older URL-style keys (`https://host/v1/`) still match.
//! Everything else in the file is left alone (see `json_file`).

use std::path::{Path, PathBuf};

use base64::Engine;
use serde_json::{Map, Value};

use super::secrets::is_member;
use crate::names::convert_to_hostname;

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

/// The members of the top-level object that docker's decoder reads into field `field` (any
/// spelling: `auths`, `Auths`, `AUTHS`, ...), in file order.
fn spellings<'a>(
    config: &'a Map<String, Value>,
    field: &'a str,
) -> impl Iterator<Item = (&'a String, &'a Value)> + 'a {
    config.iter().filter(move |(k, _)| is_member(k, field))
}

/// A map-valued field (`auths`, `credHelpers`) as docker's decoder builds it: every spelling of
/// the member merges into one map in file order (a later entry replaces an earlier one of the same
/// key, a `null` empties the map). Entries keep the position of their first appearance.
fn merged<'a>(
    config: &'a Map<String, Value>,
    path: &Path,
    field: &'a str,
) -> Result<Vec<(&'a String, &'a Value)>, DockerConfigError> {
    let mut out: Vec<(&String, &Value)> = Vec::new();
    for (name, value) in spellings(config, field) {
        match value {
            Value::Null => out.clear(),
            Value::Object(m) => {
                for (k, v) in m {
                    match out.iter_mut().find(|(seen, _)| *seen == k) {
                        Some(slot) => slot.1 = v,
                        None => out.push((k, v)),
                    }
                }
            }
            _ => {
                return Err(DockerConfigError::WrongType {
                    path: path.to_path_buf(),
                    key: name.clone(),
                    expected: "an object",
                })
            }
        }
    }
    Ok(out)
}

/// `credsStore`, when set to a non-empty string (the last spelling docker reads wins).
pub fn creds_store(config: &Map<String, Value>) -> Option<&str> {
    spellings(config, CREDS_STORE)
        .filter_map(|(_, v)| v.as_str())
        .last()
        .filter(|s| !s.is_empty())
}

/// `credHelpers[KEY]` (exact key, as docker: no wildcards, no URL forms; every spelling of
/// `credHelpers` counts, the last one wins).
pub fn cred_helper<'a>(config: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    let mut found = None;
    for (_, v) in spellings(config, CRED_HELPERS) {
        match v {
            Value::Null => found = None,
            Value::Object(m) => {
                if let Some(h) = m.get(key) {
                    found = h.as_str();
                }
            }
            _ => {}
        }
    }
    found.filter(|s| !s.is_empty())
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

/// Every `auths` key that docker's lookup of `key` could use, best first: the exact key, then
/// older URL-style keys that convert to it (`https://host/v1/`), in file order (docker/cli
/// fileStore.Get; docker tries those in Go's random map order, regctl in file order). Only the
/// first is what docker reads; the others are shadowed by it.
pub fn auth_keys_for(
    config: &Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<Vec<String>, DockerConfigError> {
    let auths = merged(config, path, AUTHS)?;
    let mut keys: Vec<String> = auths
        .iter()
        .filter(|(k, _)| *k == key)
        .map(|(k, _)| (*k).clone())
        .collect();
    keys.extend(
        auths
            .iter()
            .filter(|(k, _)| *k != key && convert_to_hostname(k) == key)
            .map(|(k, _)| (*k).clone()),
    );
    Ok(keys)
}

/// The `auths` key that holds `key`: the exact key, else an older URL-style key that converts to
/// it (docker/cli fileStore.Get).
pub fn find_auth_key(
    config: &Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<Option<String>, DockerConfigError> {
    Ok(auth_keys_for(config, path, key)?.into_iter().next())
}

/// The `auths` entry docker reads under exactly this key (any spelling of `auths`, the last wins).
fn auth_entry<'a>(
    config: &'a Map<String, Value>,
    path: &Path,
    key: &str,
) -> Result<Option<&'a Value>, DockerConfigError> {
    Ok(merged(config, path, AUTHS)?
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v))
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
    match auth_entry(config, path, &found)? {
        Some(entry) => decode_entry(entry, path, &found),
        None => Ok(None),
    }
}

/// Every `auths` entry docker reads (all spellings of `auths` merged): key and decoded
/// credentials (None for markers). Stops at the first entry docker could not decode either.
pub fn all_auths(
    config: &Map<String, Value>,
    path: &Path,
) -> Result<Vec<(String, Option<AuthEntry>)>, DockerConfigError> {
    merged(config, path, AUTHS)?
        .into_iter()
        .map(|(k, v)| Ok((k.clone(), decode_entry(v, path, k)?)))
        .collect()
}

/// One `auths` entry decoded: its credentials (None for a marker), or why docker cannot read it.
pub type Decoded = Result<Option<AuthEntry>, DockerConfigError>;

/// Every `auths` key docker reads, with each entry decoded on its own: a broken entry is its
/// error, the others still come back (for `logout --all`, which must remove what it can).
pub fn auth_keys(
    config: &Map<String, Value>,
    path: &Path,
) -> Result<Vec<(String, Decoded)>, DockerConfigError> {
    Ok(merged(config, path, AUTHS)?
        .into_iter()
        .map(|(k, v)| (k.clone(), decode_entry(v, path, k)))
        .collect())
}

/// Every `credHelpers` entry docker reads (all spellings merged, the last wins).
pub fn all_cred_helpers(config: &Map<String, Value>) -> Vec<(String, String)> {
    merged(config, Path::new(""), CRED_HELPERS)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
        .collect()
}

/// The string member docker's decoder reads as `field` (any spelling; the last wins; `null`
/// leaves it as it was), or an error naming it when it is not a string.
fn string_member<'a>(
    obj: &'a Map<String, Value>,
    field: &str,
) -> Result<Option<&'a str>, &'static str> {
    let mut found = None;
    for (_, v) in obj.iter().filter(|(k, _)| is_member(k, field)) {
        match v {
            Value::Null => {}
            Value::String(s) => found = Some(s.as_str()),
            _ => return Err("a member docker reads as text is not a string"),
        }
    }
    Ok(found)
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
    // Member names as docker's Go decoder matches them (`Auth`, `IDENTITYTOKEN`, ...).
    let identity_token = string_member(obj, "identitytoken")
        .map_err(bad)?
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    let auth = string_member(obj, "auth").map_err(bad)?.unwrap_or_default();
    if auth.is_empty() {
        // Without `auth`, docker uses `username` and `password` as they are in the file.
        let username = string_member(obj, "username")
            .map_err(bad)?
            .unwrap_or_default();
        let password = string_member(obj, "password")
            .map_err(bad)?
            .unwrap_or_default();
        if username.is_empty() && password.is_empty() {
            return Ok(identity_token.map(|t| AuthEntry {
                username: String::new(),
                password: String::new(),
                identity_token: Some(t),
            }));
        }
        return Ok(Some(AuthEntry {
            username: username.to_string(),
            password: password.to_string(),
            identity_token,
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

/// The spelling of a map field (`auths`, `credHelpers`) that regctl writes `key` into: the one
/// docker reads it from now (the last spelling holding it, with no `null` after it), else the
/// last spelling in the file, which docker's decoder lets win; `auths` itself when there is none.
fn write_spelling(config: &Map<String, Value>, field: &str, key: &str) -> String {
    let all: Vec<(&String, &Value)> = spellings(config, field).collect();
    all.iter()
        .rev()
        .take_while(|(_, v)| !v.is_null())
        .find(|(_, v)| v.as_object().is_some_and(|m| m.contains_key(key)))
        .or(all.last())
        .map(|(k, _)| (*k).clone())
        .unwrap_or_else(|| field.to_string())
}

fn object_mut<'a>(
    config: &'a mut Map<String, Value>,
    path: &Path,
    field: &str,
    entry: &str,
) -> Result<&'a mut Map<String, Value>, DockerConfigError> {
    let key = write_spelling(config, field, entry);
    let slot = config
        .entry(key.clone())
        .or_insert_with(|| Value::Object(Map::new()));
    if slot.is_null() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut()
        .ok_or_else(|| DockerConfigError::WrongType {
            path: path.to_path_buf(),
            key,
            expected: "an object",
        })
}

/// Removes `key` from every spelling of map field `field` except `keep`; returns what was there.
fn remove_from_spellings(
    config: &mut Map<String, Value>,
    field: &str,
    key: &str,
    keep: Option<&str>,
) -> Option<Value> {
    let mut last = None;
    for (name, value) in config.iter_mut() {
        if Some(name.as_str()) == keep || !is_member(name, field) {
            continue;
        }
        if let Some(m) = value.as_object_mut() {
            if let Some(v) = m.shift_remove(key) {
                last = Some(v);
            }
        }
    }
    last
}

/// Sets `auths[KEY]`: the encoded credentials, or `{}` (the marker docker leaves when a helper
/// holds the secret). An existing equal value is left as is, so an unchanged file is not written.
/// The entry lands in the spelling of `auths` docker lets win, and leaves every other one.
pub fn set_auth(
    config: &mut Map<String, Value>,
    path: &Path,
    key: &str,
    entry: Option<&AuthEntry>,
) -> Result<(), DockerConfigError> {
    let target = write_spelling(config, AUTHS, key);
    // What docker reads under this key now (it may sit in another spelling of `auths`).
    let existing = auth_entry(config, path, key)?.cloned();
    let value = match (entry, existing) {
        (Some(e), _) => encode_auth(e),
        // Keep the fields docker does not write (email, registrytoken) of an existing marker;
        // the secret goes, in every spelling docker reads it.
        (None, Some(Value::Object(mut existing))) => {
            existing.retain(|k, _| {
                !["auth", "identitytoken", "password"]
                    .iter()
                    .any(|f| is_member(k, f))
            });
            Value::Object(existing)
        }
        (None, _) => Value::Object(Map::new()),
    };
    remove_from_spellings(config, AUTHS, key, Some(&target));
    let auths = object_mut(config, path, AUTHS, key)?;
    if auths.get(key) != Some(&value) {
        auths.insert(key.to_string(), value);
    }
    Ok(())
}

/// Removes `auths[k]` for each key, from every spelling of `auths`; returns whether any existed.
pub fn remove_auths(config: &mut Map<String, Value>, keys: &[String]) -> bool {
    let mut removed = false;
    for k in keys {
        removed |= remove_from_spellings(config, AUTHS, k, None).is_some();
    }
    removed
}

/// Sets `credHelpers[KEY] = helper` (in the spelling docker lets win; out of the others).
pub fn set_cred_helper(
    config: &mut Map<String, Value>,
    path: &Path,
    key: &str,
    helper: &str,
) -> Result<(), DockerConfigError> {
    let target = write_spelling(config, CRED_HELPERS, key);
    remove_from_spellings(config, CRED_HELPERS, key, Some(&target));
    let helpers = object_mut(config, path, CRED_HELPERS, key)?;
    let value = Value::String(helper.into());
    if helpers.get(key) != Some(&value) {
        helpers.insert(key.to_string(), value);
    }
    Ok(())
}

/// Removes `credHelpers[KEY]` from every spelling; an emptied `credHelpers` is dropped.
pub fn remove_cred_helper(config: &mut Map<String, Value>, key: &str) -> bool {
    let removed = remove_from_spellings(config, CRED_HELPERS, key, None).is_some();
    if removed {
        config.retain(|k, v| {
            !(is_member(k, CRED_HELPERS) && v.as_object().is_some_and(|m| m.is_empty()))
        });
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

    #[test]
    fn docker_reads_every_spelling_and_the_exact_key_wins() {
        let p = Path::new("config.json");
        // cjpwdw== = base64("r:pw"), bzpvbGQ= = base64("o:old")
        let c = map(json!({
            "auths": {"r.io": {"Auth": "cjpwdw=="}, "https://r.io/v1/": {"auth": "bzpvbGQ="}},
            "AUTHS": {"s.io": {"AUTH": "x"}},
            "CredHelpers": {"h.io": "pass"},
            "credsstore": "secretservice",
        }));
        let a = get_auth(&c, p, "r.io").unwrap().unwrap();
        assert_eq!((a.username.as_str(), a.password.as_str()), ("r", "pw"));
        assert_eq!(
            auth_keys_for(&c, p, "r.io").unwrap(),
            ["r.io", "https://r.io/v1/"]
        );
        assert_eq!(cred_helper(&c, "h.io"), Some("pass"));
        assert_eq!(creds_store(&c), Some("secretservice"));
        let keys: Vec<String> = auth_keys(&c, p)
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["r.io", "https://r.io/v1/", "s.io"]);
        // A later spelling replaces an earlier entry; null empties what came before.
        let c = map(
            json!({"auths": {"r.io": {"auth": "bzpvbGQ="}}, "Auths": {"r.io": {"auth": "cjpwdw=="}}}),
        );
        assert_eq!(get_auth(&c, p, "r.io").unwrap().unwrap().username, "r");
        let c = map(json!({"auths": {"r.io": {"auth": "cjpwdw=="}}, "Auths": null}));
        assert_eq!(get_auth(&c, p, "r.io").unwrap(), None);
        // username/password without auth are read as docker reads them.
        let c = map(json!({"auths": {"r.io": {"Username": "u", "PASSWORD": "p"}}}));
        assert_eq!(get_auth(&c, p, "r.io").unwrap().unwrap().password, "p");
    }

    #[test]
    fn writes_land_where_docker_reads_them_and_leave_no_secret() {
        let p = Path::new("config.json");
        let mut c = map(
            json!({"auths": {"a.io": {}}, "Auths": {"r.io": {"Auth": "cjpwdw==", "email": "e"}}}),
        );
        set_auth(&mut c, p, "r.io", None).unwrap();
        assert_eq!(c["Auths"]["r.io"], json!({"email": "e"}));
        set_auth(
            &mut c,
            p,
            "n.io",
            Some(&AuthEntry {
                username: "u".into(),
                password: "p".into(),
                identity_token: None,
            }),
        )
        .unwrap();
        assert!(
            c["Auths"].get("n.io").is_some(),
            "the last spelling wins in docker"
        );
        assert!(remove_auths(
            &mut c,
            &["r.io".to_string(), "a.io".to_string()]
        ));
        assert_eq!(c["auths"], json!({}));
        let mut c = map(json!({"credHelpers": {"r.io": "pass"}, "CREDHELPERS": {"r.io": "x"}}));
        set_cred_helper(&mut c, p, "r.io", "regctl").unwrap();
        assert_eq!(cred_helper(&c, "r.io"), Some("regctl"));
        assert!(remove_cred_helper(&mut c, "r.io"));
        assert_eq!(cred_helper(&c, "r.io"), None);
    }
}
