//! `doctor --explain TEXT` on arbitrary pasted text. Invariants: no panic; each recognised error
//! appears once, with causes, checks and fixes, and serialises to JSON; the registry host taken
//! from the text (which goes into suggested commands such as `regctl login HOST`) and the name in
//! the DNS fixes are valid host[:port] names, so a command copied from the output can never carry
//! shell syntax that came from the pasted text (a hostile server controls part of it).
#![no_main]

use std::collections::HashSet;

use libfuzzer_sys::fuzz_target;
use regctl::doctor::explain::{explain, registry_host};
use regctl::names::validate_host_port;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Some(host) = registry_host(&text) {
        assert!(
            validate_host_port(&host).is_ok(),
            "registry host {host:?} taken from {text:?} is not a host[:port]"
        );
    }
    let out = explain(&text);
    let mut seen = HashSet::new();
    for e in &out {
        assert!(seen.insert(e.error), "{} reported twice", e.error);
        assert!(!e.matched.is_empty() && !e.causes.is_empty());
        assert!(!e.checks.is_empty() && !e.fixes.is_empty(), "{}", e.error);
        if e.error == "dns.no_such_host" {
            let name = e.fixes[0]
                .strip_prefix("check the name: getent hosts ")
                .expect("the DNS fix names the host");
            assert!(
                validate_host_port(name).is_ok(),
                "name {name:?} taken from {text:?} goes into a shell command"
            );
        }
    }
    serde_json::to_string(&out).expect("explanations serialise");
});
