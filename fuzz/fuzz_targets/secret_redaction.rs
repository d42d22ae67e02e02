//! The redaction of secrets in what `--diff` prints (`files::secrets::redact_json_text`) and in
//! every printed line (`mask_url_userinfo`), on arbitrary text. Invariants: no panic; when the
//! text is a JSON document, the redacted text is one too, and it reads exactly as an independent
//! redaction of the parsed document: every string under a member whose name docker's Go decoder
//! (`encoding/json`: decoded, ASCII case ignored, `ſ` = `s`, the Kelvin sign = `k`) reads as
//! `auth`, `password`, `identitytoken` or `registrytoken` (or a credential header) is
//! `<redacted>`, at any depth; everything else is unchanged except URL passwords; and no
//! `scheme://user:password@` is left in the redacted text or in the masked line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::files::secrets::{mask_proxy, mask_url_userinfo, redact_json_text, REDACTED};
use serde_json::Value;

/// Whether `name` reaches the ASCII field `field` in Go's decoder, written independently of
/// `go_fold`: each character is the field's letter in either case, or one of the two non-ASCII
/// runes whose simple case folding orbit holds it.
fn go_matches(name: &str, field: &str) -> bool {
    let mut n = name.chars();
    for f in field.chars() {
        let Some(c) = n.next() else { return false };
        let same = c == f
            || (f.is_ascii_alphabetic() && c == f.to_ascii_uppercase())
            || (f == 's' && c == '\u{17F}')
            || (f == 'k' && c == '\u{212A}');
        if !same {
            return false;
        }
    }
    n.next().is_none()
}

const SECRET: &[&str] = &[
    "auth",
    "password",
    "identitytoken",
    "registrytoken",
    "authorization",
    "proxy-authorization",
    "cookie",
];

fn expected(v: &Value, secret: bool, proxy: bool) -> Value {
    match v {
        Value::String(_) if secret => Value::String(REDACTED.into()),
        Value::String(s) if proxy => Value::String(mask_proxy(s)),
        Value::String(s) => Value::String(mask_url_userinfo(s)),
        Value::Array(a) => Value::Array(a.iter().map(|e| expected(e, secret, proxy)).collect()),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, e)| {
                    let s = secret || SECRET.iter().any(|f| go_matches(k, f));
                    let upper = k.to_ascii_uppercase();
                    let p = proxy || (upper.contains("PROXY") && !upper.starts_with("NO"));
                    (k.clone(), expected(e, s, p))
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// No `://user:password@` with a password other than the mask.
fn no_url_password(text: &str) {
    for (i, _) in text.match_indices("://") {
        let tail = &text[i + 3..];
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || "\"'<>`".contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        if let Some(at) = authority.rfind('@') {
            let userinfo = &authority[..at];
            assert!(
                userinfo == REDACTED || userinfo.ends_with(&format!(":{REDACTED}")),
                "a URL password is left in {text:?}"
            );
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let line = mask_url_userinfo(text);
    no_url_password(&line);
    assert_eq!(mask_url_userinfo(&line), line, "masking twice changes {text:?}");
    let out = redact_json_text(text);
    let Ok(parsed) = serde_json::from_str::<Value>(text) else {
        return;
    };
    let redacted: Value = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("the redaction of a JSON document is not JSON ({e}): {out:?}"));
    assert_eq!(redacted, expected(&parsed, false, false), "{text:?} -> {out:?}");
});
