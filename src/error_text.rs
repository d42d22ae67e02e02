//! How an error and its `source()` chain become text, in one rule for every layer: a cause is
//! said once. `thiserror`'s `transparent` variants and messages that embed their source
//! (`"{0}"`) would otherwise repeat the same words; a cause whose text already appears in the
//! top message or in an earlier cause is dropped. A leaf: core modules (registry, creds) use it
//! without reaching up to `error.rs`.

use std::error::Error;

/// The causes under `e` (its `source()` chain), each said once, top message excluded.
pub fn causes(e: &dyn Error) -> Vec<String> {
    let top = e.to_string();
    let mut out: Vec<String> = Vec::new();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !text.is_empty() && !top.contains(&text) && !out.iter().any(|c| c.contains(&text)) {
            out.push(text);
        }
        source = s.source();
    }
    out
}

/// `e` and its causes on one line, joined by `": "`.
pub fn chain(e: &dyn Error) -> String {
    let mut parts = vec![e.to_string()];
    parts.extend(causes(e));
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("{msg}")]
    struct E {
        msg: &'static str,
        #[source]
        source: Option<Box<E>>,
    }

    fn e(msg: &'static str, source: Option<E>) -> E {
        E {
            msg,
            source: source.map(Box::new),
        }
    }

    #[test]
    fn a_cause_already_said_is_dropped() {
        let inner = e("connection refused", None);
        let mid = e("connect: connection refused", Some(inner));
        let top = e("GET https://r.test/v2/", Some(mid));
        assert_eq!(causes(&top), vec!["connect: connection refused"]);
        assert_eq!(
            chain(&top),
            "GET https://r.test/v2/: connect: connection refused"
        );
        let transparent = e("dns error", Some(e("dns error", None)));
        assert_eq!(chain(&transparent), "dns error");
        assert!(causes(&transparent).is_empty());
    }

    #[test]
    fn distinct_causes_are_all_kept_in_order() {
        let top = e("a", Some(e("b", Some(e("c", None)))));
        assert_eq!(causes(&top), vec!["b", "c"]);
        assert_eq!(chain(&top), "a: b: c");
    }
}
