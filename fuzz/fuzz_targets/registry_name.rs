//! Registry-name normalisation (`regctl::names::parse`), which every command applies to
//! what users type and whose `host` becomes a certs.d folder name. Invariants: no panic; an
//! accepted name's host is printable ASCII without `/`, `\`, NUL or `..`; it is exactly its
//! hostname (a domain or an IP, brackets around IPv6) plus the port as typed, and the port fits in
//! u16; parsing the host or the credential key again gives the same name (idempotent);
//! `folder_name` agrees with `parse`; logout keys start with the credential key.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::files::certs_dir::folder_name;
use regctl::names::{convert_to_hostname, parse, split_host_port, validate_host_port};

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let _ = convert_to_hostname(input);
    let folder = folder_name(input);
    let Ok(name) = parse(input) else {
        assert!(
            folder.is_err(),
            "folder_name accepted {input:?}, which parse refuses"
        );
        return;
    };
    if let Ok(folder) = &folder {
        assert_eq!(
            folder, &name.host,
            "folder_name and parse disagree on {input:?}"
        );
    }
    let host = &name.host;
    assert!(!host.is_empty(), "empty host from {input:?}");
    assert!(
        host.bytes().all(|b| b.is_ascii_graphic()) && !host.contains(['/', '\\']),
        "host {host:?} from {input:?} has a separator, a space or a control character"
    );
    assert!(!host.contains(".."), "host {host:?} from {input:?} has ..");

    let hostname = name.hostname();
    validate_host_port(hostname)
        .unwrap_or_else(|e| panic!("hostname {hostname:?} of {input:?} is not a host: {e}"));
    let (_, port) = split_host_port(host);
    let bracketed = if host.starts_with('[') {
        format!("[{hostname}]")
    } else {
        hostname.to_string()
    };
    let rebuilt = match port {
        Some(p) => format!("{bracketed}:{p}"),
        None => bracketed,
    };
    assert_eq!(&rebuilt, host, "host of {input:?} is not hostname[:port]");
    assert_eq!(
        name.port().is_some(),
        port.is_some(),
        "port of {host:?} is not a u16"
    );

    for again in [host.as_str(), name.cred_key.as_str()] {
        let n = parse(again)
            .unwrap_or_else(|e| panic!("{again:?} (from {input:?}) does not parse again: {e}"));
        assert_eq!(n.host, name.host, "not idempotent: {input:?} -> {again:?}");
        assert_eq!(
            n.cred_key, name.cred_key,
            "not idempotent: {input:?} -> {again:?}"
        );
        assert_eq!(n.is_docker_hub, name.is_docker_hub);
    }
    let keys = name.logout_keys();
    assert_eq!(keys[0], name.cred_key);
});
