//! `WWW-Authenticate` parsing (`registry::challenge::parse`) on arbitrary header values, one per
//! line. Invariants: no panic; every scheme and parameter name is a non-empty lower-case token;
//! rendering what was parsed in canonical form (`scheme k="v", ...`, with `\` and `"` escaped)
//! and parsing that again gives the same challenges, so quoting and escaping lose nothing.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::registry::challenge::{parse, Challenge};

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c))
        && !s.bytes().any(|c| c.is_ascii_uppercase())
}

fn render(challenges: &[Challenge]) -> String {
    challenges
        .iter()
        .map(|c| {
            let params: Vec<String> = c
                .params
                .iter()
                .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
                .collect();
            if params.is_empty() {
                c.scheme.clone()
            } else {
                format!("{} {}", c.scheme, params.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse(text.split('\n'));
    for c in &parsed {
        assert!(is_token(&c.scheme), "scheme {:?} from {text:?}", c.scheme);
        for k in c.params.keys() {
            assert!(is_token(k), "parameter name {k:?} from {text:?}");
        }
    }
    let canonical = render(&parsed);
    assert_eq!(
        parse([canonical.as_str()]),
        parsed,
        "{text:?} rendered as {canonical:?} reads back differently"
    );
});
