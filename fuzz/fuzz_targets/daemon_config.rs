//! dockerd's daemon.json rules as regctl applies them before writing: `normalize_mirror`,
//! `parse_insecure` and `validate` on arbitrary text and JSON. Invariants: no panic; a normalised
//! mirror is `http(s)://HOST[:PORT]/` whose raw text holds only host characters (the URL parser
//! silently drops or resolves tabs, `.`, `\\` and `%XX`, which dockerd's Go parser keeps or refuses)
//! and normalising it again changes nothing; an accepted insecure entry is a valid host[:port] or a
//! canonical CIDR that parses again to itself without a warning; `validate` agrees with
//! `validate_entry` (for documents without objects, which dockerd flattens), and every message and hint renders.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::files::daemon_config::{
    advisories, changed_keys, keys_needing_restart, normalize_mirror, parse_insecure, suggest_key,
    validate, validate_entry, validate_host_port, Cidr, InsecureEntry, InsecureRegistries,
    KNOWN_KEYS,
};
use regctl::files::dockerd::{Engine, EngineVersion, Target, VersionSource};
use serde_json::{Map, Value};

/// The strictest rules (dockerd 20.10: no path in a mirror URL).
const V20: EngineVersion = EngineVersion::new(20, 10);

fn target(config: &Map<String, Value>) -> Target {
    Engine {
        version: EngineVersion::new(28, 5),
        source: VersionSource::Override,
    }
    .target(config)
}

fn check_mirror(s: &str) {
    let Ok(m) = normalize_mirror(s, V20) else {
        return;
    };
    let (scheme, rest) = m
        .split_once("://")
        .unwrap_or_else(|| panic!("mirror {m:?} from {s:?} has no scheme"));
    assert!(
        scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https"),
        "mirror {m:?} from {s:?}: scheme {scheme:?}"
    );
    let authority = rest
        .strip_suffix('/')
        .unwrap_or_else(|| panic!("mirror {m:?} from {s:?} does not end with /"));
    assert!(!authority.is_empty(), "mirror {m:?} from {s:?} has no host");
    assert!(
        authority
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._:[]".contains(c)),
        "mirror {m:?} from {s:?} holds more than a host[:port] in its raw text"
    );
    assert_eq!(
        normalize_mirror(&m, V20).as_ref(),
        Ok(&m),
        "not idempotent: {s:?}"
    );
}

fn check_insecure(s: &str) {
    let Ok((entry, _warning)) = parse_insecure(s) else {
        return;
    };
    match &entry {
        InsecureEntry::Host(h) => {
            assert!(
                validate_host_port(h).is_ok(),
                "{h:?} from {s:?} is not host[:port]"
            );
            assert!(
                h.bytes().all(|b| b.is_ascii_graphic()) && !h.contains(['/', '\\']),
                "{h:?} from {s:?}"
            );
        }
        InsecureEntry::Cidr(c) => {
            assert!(
                c.contains(c.network),
                "{c} does not contain its own network"
            );
            assert_eq!(Cidr::parse(&c.to_string()), Some(*c), "{c} from {s:?}");
        }
    }
    let canonical = entry.canonical();
    assert_eq!(
        parse_insecure(&canonical),
        Ok((entry, None)),
        "{s:?} -> {canonical:?} does not parse again to itself"
    );
}

fn check_document(config: &Map<String, Value>) {
    let target = target(config);
    let problems = validate(config, &target);
    for p in &problems {
        let _ = p.to_string();
        let _ = p.hint();
    }
    // Without objects (which dockerd flattens) every problem is one key's.
    if config.values().all(|v| !v.is_object()) {
        let entry_errors = config
            .iter()
            .filter(|(k, _)| regctl::files::daemon_config::flag_key(k).is_none())
            .filter(|(k, v)| validate_entry(k, v, &target).is_err())
            .count();
        let both_gateways =
            config.contains_key("host-gateway-ip") && config.contains_key("host-gateway-ips");
        assert_eq!(problems.len(), entry_errors + usize::from(both_gateways));
    }
    let _ = advisories(config, &target);
    let empty = Map::new();
    assert_eq!(changed_keys(config, &empty).len(), config.len());
    assert!(keys_needing_restart(config, config).is_empty());
    for key in config.keys() {
        if let Some(s) = suggest_key(key) {
            assert!(KNOWN_KEYS.iter().any(|(k, _)| *k == s), "suggested {s:?}");
        }
    }
    let insecure = InsecureRegistries::from_config(config);
    let _ = insecure.is_insecure("registry.example.com:5000", |_| {
        vec!["10.1.2.3".parse().expect("an address")]
    });
    let _ = insecure.is_insecure("[::1]:5000", |_| Vec::new());
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    check_mirror(&text);
    check_insecure(&text);
    let _ = Cidr::parse(&text);
    let _ = validate_host_port(&text);
    if let Ok(Value::Object(config)) = serde_json::from_str::<Value>(&text) {
        check_document(&config);
    }
});
