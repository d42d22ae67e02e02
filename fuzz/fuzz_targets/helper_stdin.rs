//! The credential-helper protocol (`creds::serve::serve`, what `docker-credential-regctl ACTION`
//! runs) on arbitrary stdin, over an in-memory store (the keychain cannot be fuzzed at this rate;
//! the protocol code in front of it is the same). The first byte picks the action (or, above the
//! known ones, the text up to the first newline is the action). Invariants, checked against an
//! independent reading of the request: no panic; the exit code is 0 or 1; a failure is exactly one
//! line on stdout; `store` succeeds exactly when stdin is a JSON object whose ServerURL, Username
//! and Secret members (matched ignoring ASCII case, the last one winning) are strings or null, with
//! a non-blank ServerURL and a non-empty Username; after it, `get` of the trimmed ServerURL (padded
//! with blanks) answers that username and secret as JSON, `list` names it, `erase` removes it and
//! `get` then answers exactly "credentials not found in native keychain"; `get` and `erase` of a
//! blank request fail; a failing request never echoes a secret (one with a `#`; see the end).
#![no_main]

use std::collections::BTreeMap;

use libfuzzer_sys::fuzz_target;
use regctl::creds::memory::MemoryStore as Memory;
use regctl::creds::serve::serve;
use regctl::creds::{Credential, NOT_FOUND};
use serde_json::Value;

fn call(m: &Memory, action: &str, stdin: &[u8]) -> (i32, String) {
    let mut out = Vec::new();
    let code = serve(action, &mut &stdin[..], &mut out, m);
    let out = String::from_utf8(out).expect("the helper writes UTF-8");
    assert!(code == 0 || code == 1, "exit code {code}");
    if code == 1 {
        assert!(
            out.ends_with('\n') && out.lines().count() == 1,
            "a failure is one line: {out:?}"
        );
    }
    (code, out)
}

/// What docker-credential-helpers would read from a `store` request, or None if it refuses it.
fn expected_store(stdin: &[u8]) -> Option<Credential> {
    let v: Value = serde_json::from_slice(std::str::from_utf8(stdin).ok()?.as_bytes()).ok()?;
    let members = v.as_object()?;
    let field = |name: &str| match members
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
    {
        None | Some((_, Value::Null)) => Some(String::new()),
        Some((_, Value::String(s))) => Some(s.clone()),
        Some(_) => None,
    };
    let cred = Credential {
        server_url: field("ServerURL")?.trim().to_string(),
        username: field("Username")?,
        secret: field("Secret")?,
    };
    (!cred.server_url.is_empty() && !cred.username.is_empty()).then_some(cred)
}

const ACTIONS: [&str; 5] = ["store", "get", "erase", "list", "version"];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let m = Memory::default();
    let (action, stdin) = match ACTIONS.get(usize::from(first)) {
        Some(a) => (a.to_string(), rest),
        None => {
            let line_end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
            let action = String::from_utf8_lossy(&rest[..line_end]).into_owned();
            (action, &rest[(line_end + 1).min(rest.len())..])
        }
    };
    let (code, out) = call(&m, &action, stdin);
    match action.as_str() {
        "store" => {
            let expected = expected_store(stdin);
            assert_eq!(
                code == 0,
                expected.is_some(),
                "store {stdin:?} answered {out:?}"
            );
            let Some(cred) = expected else {
                return;
            };
            assert_eq!(out, "");
            let padded = format!(" \t{}\n", cred.server_url);
            let (code, out) = call(&m, "get", padded.as_bytes());
            assert_eq!(code, 0, "{out}");
            let v: Value = serde_json::from_str(&out).expect("get answers JSON");
            assert_eq!(v["ServerURL"], cred.server_url.as_str());
            assert_eq!(v["Username"], cred.username.as_str());
            assert_eq!(v["Secret"], cred.secret.as_str());
            let (code, out) = call(&m, "list", b"");
            assert_eq!(code, 0);
            let listed: BTreeMap<String, String> =
                serde_json::from_str(&out).expect("list answers JSON");
            assert_eq!(listed.get(&cred.server_url), Some(&cred.username));
            assert_eq!(
                call(&m, "erase", cred.server_url.as_bytes()),
                (0, String::new())
            );
            assert_eq!(
                call(&m, "get", cred.server_url.as_bytes()),
                (1, format!("{NOT_FOUND}\n"))
            );
        }
        "get" | "erase" => {
            let blank = std::str::from_utf8(stdin).map_or(false, |s| s.trim().is_empty());
            if blank || std::str::from_utf8(stdin).is_err() {
                assert_eq!(code, 1, "{action} of {stdin:?}");
            }
            if action == "get" && code == 1 && !blank {
                if let Ok(url) = std::str::from_utf8(stdin) {
                    // Nothing is stored: the answer is "not found", as docker expects it.
                    assert_eq!(out, format!("{NOT_FOUND}\n"), "get {url:?}");
                }
            }
        }
        "list" => assert_eq!((code, out.as_str()), (0, "{}\n")),
        "version" => assert_eq!(code, 0),
        _ => assert_eq!(code, 1, "unknown action {action:?}"),
    }
    if code == 1 {
        // The secret of a request that failed is not repeated back. Only secrets with a `#` are
        // checked: no fixed answer or JSON parser message holds one, so finding the secret in the
        // answer means it was echoed (a secret such as "keychain" is also a word of the fixed
        // "not found" answer).
        if let Some(secret) = serde_json::from_slice::<Value>(stdin)
            .ok()
            .and_then(|v| v.get("Secret").and_then(Value::as_str).map(str::to_string))
            .filter(|s| s.len() >= 8 && s.contains('#'))
        {
            assert!(!out.contains(&secret), "the secret is echoed in {out:?}");
        }
    }
});
