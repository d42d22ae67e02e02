//! One normalisation of what users type as a registry, used by every command: `host`,
//! `host:port`, `https://host/v2/`, `docker.io` and its aliases. It gives the address to connect
//! to, the certs.d folder name, and the config.json credential key, exactly as docker does
//! (docker/cli `ConvertToHostname`, Docker Hub's `https://index.docker.io/v1/` key).

use std::net::IpAddr;

/// docker's credential key for Docker Hub.
pub const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";
/// Where Docker Hub's registry API lives.
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";

const DOCKER_HUB_ALIASES: &[&str] = &["docker.io", "index.docker.io", "registry-1.docker.io"];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not a registry name: {reason}")]
pub struct NameError {
    pub input: String,
    pub reason: String,
}

/// A registry as regctl uses it everywhere.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryName {
    /// What the user typed.
    pub input: String,
    /// `host[:port]` to connect to; also the certs.d folder name (port included, as moby).
    pub host: String,
    /// The config.json `auths` / `credHelpers` key.
    pub cred_key: String,
    /// The scheme when the user typed one.
    pub scheme: Option<String>,
    pub is_docker_hub: bool,
}

impl RegistryName {
    /// The host without the port (brackets removed from IPv6).
    pub fn hostname(&self) -> &str {
        let (h, _) = split_host_port(&self.host);
        h.trim_start_matches('[').trim_end_matches(']')
    }

    /// The port, when one was given.
    pub fn port(&self) -> Option<u16> {
        split_host_port(&self.host).1.and_then(|p| p.parse().ok())
    }

    /// The keys docker erases on logout: `[KEY, host, http://host, https://host]`, without repeats.
    pub fn logout_keys(&self) -> Vec<String> {
        let host = if self.is_docker_hub {
            "index.docker.io"
        } else {
            &self.host
        };
        let mut keys = vec![self.cred_key.clone()];
        for k in [
            host.to_string(),
            format!("http://{host}"),
            format!("https://{host}"),
        ] {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
        keys
    }
}

/// docker/cli `ConvertToHostname`: strip a scheme and anything from the first `/`.
pub fn convert_to_hostname(s: &str) -> &str {
    let s = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"))
        .unwrap_or(s);
    s.split('/').next().unwrap_or(s)
}

/// Normalises a registry as typed. Empty means Docker Hub, as for `docker login`.
pub fn parse(input: &str) -> Result<RegistryName, NameError> {
    let err = |reason: &str| NameError {
        input: input.to_string(),
        reason: reason.to_string(),
    };
    if input.contains('\0') {
        return Err(err("it contains a NUL byte"));
    }
    let trimmed = input.trim();
    if trimmed.is_empty() || trimmed == DOCKER_HUB_KEY {
        return Ok(docker_hub(input, Some("https")));
    }
    let (scheme, rest) = match trimmed.split_once("://") {
        Some((s, rest)) => {
            let s = s.to_ascii_lowercase();
            if s != "http" && s != "https" {
                return Err(err(&format!("scheme {s:?} is not http or https")));
            }
            (Some(s), rest)
        }
        None => (None, trimmed),
    };
    let host = rest.split('/').next().unwrap_or_default();
    if host.is_empty() {
        return Err(err("no host"));
    }
    if host.contains('@') {
        return Err(err(
            "a username or password does not belong in the registry name",
        ));
    }
    if host == "." || host == ".." || host.contains("..") {
        return Err(err("not a host name"));
    }
    validate_host_port(host).map_err(|r| err(&r))?;
    // Stricter than insecure-registries (where dockerd takes a bare `::1`): an image
    // reference's domain is distribution/reference's `host(:[0-9]+)?`, an IPv6 address only
    // in brackets and only hex digits and colons inside them.
    if !host.starts_with('[') && host.parse::<std::net::Ipv6Addr>().is_ok() {
        return Err(err(&format!(
            "an IPv6 address needs brackets in a registry name: [{host}]"
        )));
    }
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.split(']').next()) {
        if !inner.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') {
            return Err(err(
                "docker's image references take IPv6 addresses as hex digits and colons only",
            ));
        }
    }
    if let (_, Some(port)) = split_host_port(host) {
        match port.parse::<u16>() {
            Ok(0) => return Err(err("port 0 cannot be connected to")),
            Ok(_) => {}
            Err(_) => return Err(err(&format!("invalid port {port:?}"))),
        }
    }
    let bare = split_host_port(host).0.to_ascii_lowercase();
    if DOCKER_HUB_ALIASES.contains(&host.to_ascii_lowercase().as_str())
        || (DOCKER_HUB_ALIASES.contains(&bare.as_str()) && split_host_port(host).1 == Some("443"))
    {
        return Ok(docker_hub(input, scheme.as_deref()));
    }
    Ok(RegistryName {
        input: input.to_string(),
        host: host.to_string(),
        cred_key: host.to_string(),
        scheme,
        is_docker_hub: false,
    })
}

fn docker_hub(input: &str, scheme: Option<&str>) -> RegistryName {
    RegistryName {
        input: input.to_string(),
        host: DOCKER_HUB_HOST.to_string(),
        cred_key: DOCKER_HUB_KEY.to_string(),
        scheme: scheme.map(str::to_string),
        is_docker_hub: true,
    }
}

/// `host[:port]` as dockerd's `validateHostPort`: a domain name or an IP address, with a port
/// from 0 to 65535. IPv6 with a port needs brackets.
pub fn validate_host_port(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("empty host".into());
    }
    if s.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let (host, port) = split_host_port(s);
    let host_ok = if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        inner.parse::<std::net::Ipv6Addr>().is_ok()
    } else {
        is_domain(host)
    };
    if !host_ok {
        return Err(format!("invalid host {host:?}"));
    }
    if let Some(port) = port {
        // Digits only, as dockerd's host:port pattern (the reference grammar's `[0-9]+`) has
        // it: Rust's and Go's integer parsers would also take `+5000`.
        match port.parse::<u32>() {
            Ok(p) if p <= 65535 && port.bytes().all(|b| b.is_ascii_digit()) => {}
            _ => return Err(format!("invalid port {port:?}")),
        }
    }
    Ok(())
}

/// Splits `host:port`, `[v6]:port` or `host`. Anything but `:port` after `]` leaves the whole
/// text as the host, so that `validate_host_port` refuses it instead of ignoring the rest.
pub fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        if let Some(end) = s.find(']') {
            let host = &s[..=end];
            return match &s[end + 1..] {
                "" => (host, None),
                rest => match rest.strip_prefix(':') {
                    Some(port) => (host, Some(port)),
                    None => (s, None),
                },
            };
        }
        return (s, None);
    }
    match s.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') => (h, Some(p)),
        _ => (s, None),
    }
}

/// A DNS name as the distribution reference grammar allows: labels of letters, digits and
/// inner hyphens, separated by dots.
fn is_domain(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|label| {
            let bytes = label.as_bytes();
            !bytes.is_empty()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
                && bytes[0] != b'-'
                && bytes[bytes.len() - 1] != b'-'
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_what_users_type() {
        let n = parse("https://registry.example.com:5000/v2/").unwrap();
        assert_eq!(n.host, "registry.example.com:5000");
        assert_eq!(n.cred_key, "registry.example.com:5000");
        assert_eq!(n.scheme.as_deref(), Some("https"));
        assert_eq!(n.port(), Some(5000));
        assert_eq!(n.hostname(), "registry.example.com");

        for hub in [
            "",
            "docker.io",
            "index.docker.io",
            "registry-1.docker.io",
            "https://index.docker.io/v1/",
            "https://docker.io",
        ] {
            let n = parse(hub).unwrap();
            assert!(n.is_docker_hub, "{hub}");
            assert_eq!(n.cred_key, DOCKER_HUB_KEY);
            assert_eq!(n.host, DOCKER_HUB_HOST);
        }
        let n = parse("[::1]:5000").unwrap();
        assert_eq!(n.hostname(), "::1");
        assert_eq!(parse("localhost:443").unwrap().host, "localhost:443");
    }

    #[test]
    fn refuses_names_that_could_escape_a_directory() {
        for bad in [
            "..",
            "../etc",
            "a\0b",
            "ftp://host",
            "host:99999",
            "host:",
            "user@host",
            "bad_host!",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        // Found by the registry_name fuzz target: text after `]` was ignored, so `[::]h` and
        // `[::1]x:5000` were accepted and became certs.d folder names.
        for bad in ["[::]h", "[::1]x:5000", "https://[::1]hhhhhhh:5000/v2/"] {
            assert!(parse(bad).is_err(), "{bad:?} should be refused");
        }
        // Names the reference grammar refuses, or that no connection can use.
        for (bad, why) in [
            ("r.io:+5000", "invalid port \"+5000\""),
            ("r.io:-1", "invalid port"),
            ("r.io:0", "port 0 cannot be connected to"),
            ("https://r.io:0/v2/", "port 0"),
            ("::1", "needs brackets in a registry name: [::1]"),
            ("fe80::1", "needs brackets"),
            ("[::ffff:1.2.3.4]:5000", "hex digits and colons only"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad:?}: {e}");
        }
        for good in [
            "[::1]",
            "[::1]:5000",
            "127.0.0.1:5000",
            "r.io:05000",
            "r.io:65535",
        ] {
            assert!(parse(good).is_ok(), "{good:?}");
        }
        // A path after the host is dropped, as docker does; it never reaches a file name.
        assert_eq!(parse("host/../../etc").unwrap().host, "host");
    }

    #[test]
    fn logout_keys_match_docker() {
        assert_eq!(
            parse("r.example.com").unwrap().logout_keys(),
            [
                "r.example.com",
                "http://r.example.com",
                "https://r.example.com"
            ]
        );
        assert_eq!(
            parse("docker.io").unwrap().logout_keys(),
            [
                DOCKER_HUB_KEY,
                "index.docker.io",
                "http://index.docker.io",
                "https://index.docker.io"
            ]
        );
        assert_eq!(
            convert_to_hostname("https://r.example.com:5000/v1/"),
            "r.example.com:5000"
        );
    }
}
