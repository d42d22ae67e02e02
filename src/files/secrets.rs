//! What in Docker's files is a secret, read the way docker reads them, so that nothing regctl
//! prints (a `--diff`, a value, a message) repeats one.
//!
//! docker/cli decodes config.json with Go's `encoding/json`, which matches member names to struct
//! fields ignoring case (after unescaping: `"\u0061uth"` is `auth`), with Unicode simple folding:
//! `Auth`, `AUTH`, `IdentityToken`, and `paſſword` (U+017F) or `identitytoKen` (U+212A) all reach
//! the same field. Redaction therefore works on decoded, folded member names, never on the bytes.
//! Proxy URLs carry passwords too (`http://u:pw@proxy:3128` in config.json or daemon.json
//! `proxies`, or the environment): their userinfo is masked wherever they appear.

/// Go's `encoding/json` `foldName`: ASCII letters upper-cased, every other rune replaced by the
/// smallest rune of its simple case-folding orbit. Two member names reach the same struct field
/// exactly when their folds are equal. For the ASCII field names docker uses, only two non-ASCII
/// runes matter: U+017F (long s, folds to `S`) and U+212A (Kelvin sign, folds to `K`); every other
/// non-ASCII rune stays non-ASCII and never matches them, so it is kept as it is.
pub fn go_fold(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            '\u{17F}' => 'S',
            '\u{212A}' => 'K',
            c => c.to_ascii_uppercase(),
        })
        .collect()
}

/// Whether docker's decoder reads member `name` into the field spelled `field`.
pub fn is_member(name: &str, field: &str) -> bool {
    name == field || go_fold(name) == go_fold(field)
}

/// The members of docker's `AuthConfig` that hold secrets (docker/cli cli/config/types).
pub const SECRET_MEMBERS: &[&str] = &["auth", "password", "identitytoken", "registrytoken"];

/// Header names whose values are credentials (config.json `HttpHeaders`).
const SECRET_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];

/// Whether a member of this name holds a secret, wherever it is (a superset of where docker reads
/// them: hiding a harmless value is better than showing a secret).
pub fn is_secret_member(name: &str) -> bool {
    SECRET_MEMBERS
        .iter()
        .chain(SECRET_HEADERS)
        .any(|f| is_member(name, f))
}

/// Whether a member of this name holds a proxy URL (daemon.json `http-proxy`, config.json
/// `httpsProxy`, ...; not the `no-proxy` list).
fn is_proxy_member(name: &str) -> bool {
    let f = go_fold(name);
    f.contains("PROXY") && !f.starts_with("NO")
}

pub const REDACTED: &str = "<redacted>";

/// `text` with the userinfo of every `scheme://user:password@host` masked as
/// `scheme://user:<redacted>@host` (a user name alone, which may be a token, becomes
/// `<redacted>@`). Used on every line regctl prints.
pub fn mask_url_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let mut end = tail
            .find(|c: char| {
                c == '/' || c == '?' || c == '#' || c.is_whitespace() || "\"'<>`".contains(c)
            })
            .unwrap_or(tail.len());
        // `a://b://u:pw@h`: the `:` that ends this authority begins the next `://`, whose
        // userinfo must be masked too, so it is left for the next round.
        if tail[..end].ends_with(':') && tail[end..].starts_with("//") {
            end -= 1;
        }
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                // A user name holding an `@` (`u@x:pw@h`, which Go's url.Parse refuses) is
                // masked with the password: where the user name ends is anybody's guess.
                match userinfo
                    .split_once(':')
                    .filter(|(user, _)| !user.contains('@'))
                {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push(':');
                        out.push_str(REDACTED);
                    }
                    None => out.push_str(REDACTED),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// A proxy setting's value with its userinfo masked; Go reads a value without a scheme as
/// `http://VALUE`, so `u:pw@proxy:3128` is masked too.
pub fn mask_proxy(value: &str) -> String {
    if value.contains("://") {
        return mask_url_userinfo(value);
    }
    let masked = mask_url_userinfo(&format!("http://{value}"));
    masked
        .strip_prefix("http://")
        .map(str::to_string)
        .unwrap_or(masked)
}

/// A JSON value with every secret member's string replaced by `<redacted>` and every proxy URL's
/// userinfo masked, at any depth (for values regctl prints: `daemon get`, `daemon show`).
pub fn redact_value(value: &serde_json::Value) -> serde_json::Value {
    fn walk(v: &serde_json::Value, secret: bool, proxy: bool) -> serde_json::Value {
        use serde_json::Value;
        match v {
            Value::String(_) if secret => Value::String(REDACTED.into()),
            Value::String(s) if proxy => Value::String(mask_proxy(s)),
            Value::String(s) => Value::String(mask_url_userinfo(s)),
            Value::Array(a) => Value::Array(a.iter().map(|e| walk(e, secret, proxy)).collect()),
            Value::Object(m) => Value::Object(
                m.iter()
                    .map(|(k, e)| {
                        let s = secret || is_secret_member(k);
                        (k.clone(), walk(e, s, proxy || is_proxy_member(k)))
                    })
                    .collect(),
            ),
            other => other.clone(),
        }
    }
    walk(value, false, false)
}

/// How a container (object or array) being scanned was reached.
struct Frame {
    object: bool,
    /// In an object: the next string is a member name.
    expect_key: bool,
    /// In an object: the decoded name of the member whose value comes next.
    key: Option<String>,
    secret: bool,
    proxy: bool,
}

/// JSON text with the string value of every secret member (matched as docker's decoder matches
/// names: decoded and folded, at any depth, in arrays too) replaced by `"<redacted>"`, and the
/// userinfo of every URL in a string masked; everything else keeps its bytes. Text that is not
/// JSON is scanned as far as it goes: an unterminated secret string is redacted to its end.
pub fn redact_json_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut stack: Vec<Frame> = Vec::new();
    let mut rest = text;
    // What the value about to start inherits from its container and member name.
    let context = |stack: &[Frame]| -> (bool, bool) {
        match stack.last() {
            None => (false, false),
            Some(f) => {
                let key = f.key.as_deref().filter(|_| f.object);
                (
                    f.secret || key.is_some_and(is_secret_member),
                    f.proxy || key.is_some_and(is_proxy_member),
                )
            }
        }
    };
    while let Some(c) = rest.chars().next() {
        match c {
            '"' => {
                let (raw, after) = split_json_string(rest);
                rest = after;
                let is_key = stack.last().is_some_and(|f| f.object && f.expect_key);
                if is_key {
                    let name =
                        serde_json::from_str::<String>(raw).unwrap_or_else(|_| raw.to_string());
                    if let Some(f) = stack.last_mut() {
                        f.key = Some(name);
                        f.expect_key = false;
                    }
                    out.push_str(raw);
                    continue;
                }
                let (secret, proxy) = context(&stack);
                if secret {
                    out.push('"');
                    out.push_str(REDACTED);
                    out.push('"');
                    continue;
                }
                match serde_json::from_str::<String>(raw) {
                    Ok(s) => {
                        let masked = if proxy {
                            mask_proxy(&s)
                        } else {
                            mask_url_userinfo(&s)
                        };
                        if masked == s {
                            out.push_str(raw);
                        } else {
                            out.push_str(
                                &serde_json::to_string(&masked).expect("a string serializes"),
                            );
                        }
                    }
                    Err(_) => out.push_str(raw),
                }
            }
            '{' | '[' => {
                let (secret, proxy) = context(&stack);
                stack.push(Frame {
                    object: c == '{',
                    expect_key: c == '{',
                    key: None,
                    secret,
                    proxy,
                });
                out.push(c);
                rest = &rest[1..];
            }
            '}' | ']' => {
                stack.pop();
                out.push(c);
                rest = &rest[1..];
            }
            ',' => {
                if let Some(f) = stack.last_mut() {
                    if f.object {
                        f.expect_key = true;
                        f.key = None;
                    }
                }
                out.push(c);
                rest = &rest[1..];
            }
            c => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    out
}

/// Splits text that starts with a JSON string after its closing quote (escapes honoured); an
/// unterminated string is all of it.
fn split_json_string(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return s.split_at(i + 1),
            _ => i += 1,
        }
    }
    (s, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_url_inside_another_urls_authority_is_masked_too() {
        // Found by the secret_redaction fuzz target: the `:` ending `Heatp:` was taken as part
        // of the first authority, so the second `://` (and its password) was never seen.
        let text = r#""HttpHeatp://u1pHeatp://u1:pw@prrization":"x""#;
        let masked = mask_url_userinfo(text);
        assert!(!masked.contains("pw@"), "{masked}");
        assert_eq!(
            masked,
            r#""HttpHeatp://u1pHeatp://u1:<redacted>@prrization":"x""#
        );
        assert_eq!(mask_url_userinfo(&masked), masked);
        assert_eq!(
            mask_url_userinfo("a://b://u:pw@h/"),
            "a://b://u:<redacted>@h/"
        );
    }

    #[test]
    fn folds_as_go_encoding_json() {
        for name in ["auth", "Auth", "AUTH", "aUtH"] {
            assert!(is_member(name, "auth"), "{name}");
        }
        assert!(is_member("pa\u{17F}\u{17F}word", "password"));
        assert!(is_member(
            "identitytoKen".replace('K', "\u{212A}").as_str(),
            "identitytoken"
        ));
        assert!(is_member("RegistryToken", "registrytoken"));
        // Dotless i and dotted capital I fold to themselves in Go: no match.
        assert!(!is_member("\u{131}dentitytoken", "identitytoken"));
        assert!(!is_member("\u{130}dentitytoken", "identitytoken"));
        assert!(!is_member("auths", "auth"));
    }

    #[test]
    fn diffs_never_show_secrets_in_any_spelling() {
        let text = "{\n\t\"auths\": {\n\t\t\"r.io\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\",\n\t\t\t\"email\": \"e\"\n\t\t}\n\t}\n}\n";
        assert_eq!(
            redact_json_text(text),
            text.replace("dXNlcjpwYXNz", REDACTED)
        );
        let compact =
            r#"{"auths":{"a":{"auth" : "x\"y","identitytoken":"t"}},"auth":1,"k":"auth"}"#;
        assert_eq!(
            redact_json_text(compact),
            r#"{"auths":{"a":{"auth" : "<redacted>","identitytoken":"<redacted>"}},"auth":1,"k":"auth"}"#
        );
        assert_eq!(
            redact_json_text("\"auth\": \"unterminated"),
            "\"auth\": \"unterminated"
        );
        assert_eq!(
            redact_json_text("{\"auth\": \"unterminated"),
            "{\"auth\": \"<redacted>\""
        );
        let spelled = r#"{"Auths":{"a":{"\u0061uth":"S1","AUTH":"S2","IdentityToken":"S3","registryToken":"S4","pa\u017f\u017fword":"S5","Password":["S6"]}}}"#;
        let out = redact_json_text(spelled);
        for s in ["S1", "S2", "S3", "S4", "S5", "S6"] {
            assert!(!out.contains(s), "{s} in {out}");
        }
        assert!(
            serde_json::from_str::<serde_json::Value>(&out).is_ok(),
            "{out}"
        );
    }

    #[test]
    fn proxy_passwords_are_masked() {
        assert_eq!(
            mask_url_userinfo("via http://u:pw@proxy:3128/x and https://tok@p"),
            "via http://u:<redacted>@proxy:3128/x and https://<redacted>@p"
        );
        assert_eq!(mask_url_userinfo("https://r.io/v2/"), "https://r.io/v2/");
        assert_eq!(mask_proxy("u:p@w@proxy:3128"), "u:<redacted>@proxy:3128");
        let daemon = r#"{"proxies":{"http-proxy":"u:pw@proxy:3128","no-proxy":"a@b"},"x":"http:\/\/u:pw@h"}"#;
        let out = redact_json_text(daemon);
        assert!(!out.contains("pw"), "{out}");
        assert!(out.contains("a@b"), "{out}");
        let v: serde_json::Value = serde_json::from_str(daemon).unwrap();
        assert!(!redact_value(&v).to_string().contains("pw"));
    }
}
