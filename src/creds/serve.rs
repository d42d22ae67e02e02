//! The Docker credential-helper protocol, served: what `docker-credential-regctl ACTION` (and
//! `regctl credential-helper ACTION`) does. Exactly one action, the request on stdin, the answer
//! or the error text on STDOUT, exit 1 on error; "not found" is exactly
//! `credentials not found in native keychain`.
//!
//! Which store serves a server URL is decided per request by `Backends::for_server`, so ECR
//! tokens take ECR hosts while the keychain keeps the rest (`regctl_helper::RegctlHelper`).

use std::collections::BTreeMap;
use std::io::{Read, Write};

use serde_json::{json, Value};

use super::{Credential, CredsError, Store, NOT_FOUND};

/// Picks the store for each request.
pub trait Backends {
    /// The store for this server URL (as the client sent it).
    fn for_server(&self, server_url: &str) -> Box<dyn Store>;
    /// The stores `list` merges (first one wins on duplicate URLs).
    fn all(&self) -> Vec<Box<dyn Store>>;
}

/// The actions of the protocol.
pub const ACTIONS: &[&str] = &["store", "get", "erase", "list", "version"];

/// Serves one request; returns the exit code.
pub fn serve(
    action: &str,
    input: &mut dyn Read,
    out: &mut dyn Write,
    backends: &dyn Backends,
) -> i32 {
    serve_reporting(action, input, out, backends).0
}

/// [`serve`], also handing back the store's error behind a failure (not "not found", not a
/// malformed request), so that the caller can tell people more than the protocol carries.
pub fn serve_reporting(
    action: &str,
    input: &mut dyn Read,
    out: &mut dyn Write,
    backends: &dyn Backends,
) -> (i32, Option<CredsError>) {
    match handle(action, input, backends) {
        Ok(text) => {
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            (0, None)
        }
        Err(failure) => {
            let _ = writeln!(out, "{failure}");
            let _ = out.flush();
            match failure {
                Failure::Store(e) => (1, Some(e)),
                Failure::Request(_) => (1, None),
            }
        }
    }
}

/// Why a request failed: the request itself (or nothing found), or the store.
enum Failure {
    Request(String),
    Store(CredsError),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Request(m) => f.write_str(m),
            Failure::Store(e) => write!(f, "{e}"),
        }
    }
}

impl From<String> for Failure {
    fn from(m: String) -> Failure {
        Failure::Request(m)
    }
}

impl From<&str> for Failure {
    fn from(m: &str) -> Failure {
        Failure::Request(m.to_string())
    }
}

impl From<CredsError> for Failure {
    fn from(e: CredsError) -> Failure {
        Failure::Store(e)
    }
}

fn read_all(input: &mut dyn Read) -> Result<String, String> {
    // A request is a URL or a small JSON object: a stdin that never ends is refused, not read.
    crate::files::bounded::read_text(input, crate::files::bounded::limits::SECRET)
        .map_err(|e| format!("cannot read the request: {e}"))
}

fn server_url(input: &mut dyn Read) -> Result<String, String> {
    let url = read_all(input)?.trim().to_string();
    if url.is_empty() {
        return Err("no credentials server URL".into());
    }
    Ok(url)
}

/// Reads a `store` request as docker-credential-helpers does (Go's `encoding/json` into
/// `{ServerURL, Username, Secret}`): a JSON object; a member whose key matches a field name
/// exactly or ignoring ASCII case sets that field, the last such member winning (a key repeated
/// exactly keeps the place of its first appearance); `null` leaves a
/// field empty, any other non-string value is an error. Then ServerURL (trimmed) and Username
/// must be non-empty.
fn store_request(text: &str) -> Result<Credential, String> {
    let bad = |detail: &str| format!("error reading credentials from stdin: {detail}");
    let v: Value = serde_json::from_str(text).map_err(|e| bad(&e.to_string()))?;
    let Value::Object(members) = v else {
        return Err(bad("the request is not a JSON object"));
    };
    let field = |name: &str| -> Result<String, String> {
        match members
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
        {
            None | Some((_, Value::Null)) => Ok(String::new()),
            Some((_, Value::String(s))) => Ok(s.clone()),
            Some((k, _)) => Err(bad(&format!("{k:?} is not a string"))),
        }
    };
    let cred = Credential {
        server_url: field("ServerURL")?.trim().to_string(),
        username: field("Username")?,
        secret: field("Secret")?,
    };
    if cred.server_url.is_empty() {
        return Err("no credentials server URL".into());
    }
    if cred.username.is_empty() {
        return Err("no credentials username".into());
    }
    Ok(cred)
}

fn handle(action: &str, input: &mut dyn Read, backends: &dyn Backends) -> Result<String, Failure> {
    match action {
        "store" => {
            let cred = store_request(&read_all(input)?)?;
            backends
                .for_server(&cred.server_url)
                .store(&cred)
                ?;
            Ok(String::new())
        }
        "get" => {
            let url = server_url(input)?;
            match backends.for_server(&url).get(&url)? {
                Some(c) => Ok(json!({
                    "ServerURL": url,
                    "Username": c.username,
                    "Secret": c.secret,
                })
                .to_string()
                    + "\n"),
                None => Err(NOT_FOUND.into()),
            }
        }
        "erase" => {
            let url = server_url(input)?;
            // Erasing nothing succeeds, as docker-credential-secretservice does.
            backends.for_server(&url).erase(&url)?;
            Ok(String::new())
        }
        "list" => {
            let mut all = BTreeMap::new();
            for store in backends.all() {
                for (url, user) in store.list()? {
                    all.entry(url).or_insert(user);
                }
            }
            Ok(serde_json::to_string(&all).expect("a map of strings") + "\n")
        }
        "version" => Ok(format!(
            "docker-credential-regctl (regctl) {}\n",
            env!("CARGO_PKG_VERSION")
        )),
        other => Err(format!(
            "unknown credential helper action {other:?}; usage: docker-credential-regctl <store|get|erase|list|version>"
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::memory::MemoryStore as Memory;

    fn call(m: &Memory, action: &str, input: &str) -> (i32, String) {
        let mut out = Vec::new();
        let code = serve(action, &mut input.as_bytes(), &mut out, m);
        (code, String::from_utf8(out).unwrap())
    }

    #[test]
    fn protocol_round_trip_and_errors_on_stdout() {
        let m = Memory::default();
        assert_eq!(call(&m, "get", "r.io\n"), (1, format!("{NOT_FOUND}\n")));
        assert_eq!(
            call(
                &m,
                "store",
                r#"{"ServerURL":"r.io","Username":"u","Secret":"s"}"#
            )
            .0,
            0
        );
        let (code, out) = call(&m, "get", " r.io \n");
        assert_eq!(code, 0);
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v, json!({"ServerURL":"r.io","Username":"u","Secret":"s"}));
        assert_eq!(call(&m, "list", "").1, "{\"r.io\":\"u\"}\n");
        assert_eq!(call(&m, "erase", "r.io").0, 0);
        assert_eq!(call(&m, "erase", "r.io").0, 0);
        assert_eq!(call(&m, "get", "").1, "no credentials server URL\n");
        assert_eq!(
            call(
                &m,
                "store",
                r#"{"ServerURL":"r.io","Username":"","Secret":"s"}"#
            )
            .1,
            "no credentials username\n"
        );
        assert_eq!(call(&m, "store", "garbage").0, 1);
        assert_eq!(call(&m, "frobnicate", "").0, 1);
    }

    #[test]
    fn store_reads_the_request_as_go_does() {
        let m = Memory::default();
        // Field names match ignoring case, the last match wins; null is empty.
        let req = r#"{"serverurl":"a.io","ServerURL":" r.io ","USERNAME":"u","Secret":null}"#;
        assert_eq!(call(&m, "store", req), (0, String::new()));
        let v: Value = serde_json::from_str(&call(&m, "get", "r.io").1).unwrap();
        assert_eq!(v, json!({"ServerURL":"r.io","Username":"u","Secret":""}));
        // A wrong type is an error, not an empty field; so is anything but an object.
        for bad in [
            r#"{"ServerURL":"r.io","Username":"u","Secret":123}"#,
            r#"{"ServerURL":["r.io"],"Username":"u"}"#,
            r#"["r.io","u","s"]"#,
            r#""r.io""#,
        ] {
            let (code, out) = call(&m, "store", bad);
            assert_eq!(code, 1, "{bad}");
            assert!(
                out.starts_with("error reading credentials from stdin: "),
                "{out}"
            );
            assert_eq!(out.lines().count(), 1, "{out}");
        }
        assert_eq!(call(&m, "list", "").1, "{\"r.io\":\"u\"}\n");
    }
}
