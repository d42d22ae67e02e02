//! Phase 3: the proxy decision Go makes (`golang.org/x/net/http/httpproxy`) for this registry,
//! from dockerd's own settings (daemon.json `proxies`, docker.service drop-ins) and from the
//! shell's environment, which dockerd does not see.

use std::net::{TcpStream, ToSocketAddrs};

use super::{ids, Check, Inputs};
use crate::files::proxies::proxy_address;
pub use crate::files::proxies::{dockerd_proxies, use_proxy, ProxyEnv};
use crate::hints;
use crate::names::RegistryName;

/// The proxy a probe goes through, and where that setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyChoice {
    pub url: String,
    pub source: String,
}

/// dockerd's own proxy settings for doctor's inputs.
pub fn daemon_proxy_env(inputs: &Inputs) -> Option<(ProxyEnv, String)> {
    dockerd_proxies(&inputs.daemon_config, &inputs.systemd_dropin_dirs)
}

/// Decides the proxy and checks that it accepts connections.
pub fn check(name: &RegistryName, inputs: &Inputs) -> (Option<ProxyChoice>, Vec<Check>) {
    let host = name.hostname();
    let port = super::network::port_of(name);
    let scheme = name.scheme.as_deref().unwrap_or("https");
    let daemon = daemon_proxy_env(inputs);
    let shell = inputs.proxy_env.proxy_for(scheme, host, port);
    let mut checks = Vec::new();
    let choice = match &daemon {
        Some((env, source)) => {
            let url = env.proxy_for(scheme, host, port);
            if url != shell {
                checks.push(Check::warn(
                    ids::PROXY_DIFFERS,
                    format!(
                        "dockerd uses {} (from {source}) but this shell uses {}; docker pull goes through dockerd's",
                        url.as_deref().unwrap_or("no proxy"),
                        shell.as_deref().unwrap_or("no proxy")
                    ),
                ));
            }
            url.map(|url| ProxyChoice {
                url,
                source: source.clone(),
            })
        }
        None => shell.map(|url| ProxyChoice {
            url,
            source: crate::files::proxies::SHELL_SOURCE.into(),
        }),
    };
    let Some(choice) = choice else {
        checks.push(Check::ok(
            ids::PROXY_NONE,
            format!("no proxy for {host} (direct connection)"),
        ));
        return (None, checks);
    };
    let target = proxy_address(&choice.url);
    let reachable = target.as_ref().and_then(|(h, p)| {
        (h.as_str(), *p)
            .to_socket_addrs()
            .ok()?
            .find(|a| TcpStream::connect_timeout(a, inputs.timeout).is_ok())
    });
    if reachable.is_some() {
        checks.push(Check::ok(
            ids::PROXY_USED,
            format!(
                "{host} is reached through the proxy {} (from {})",
                choice.url, choice.source
            ),
        ));
        (Some(choice), checks)
    } else {
        checks.push(
            Check::fail(
                ids::PROXY_UNREACHABLE,
                format!(
                    "the proxy {} (from {}) does not accept connections; docker reports \"proxyconnect tcp: ... connection refused\"",
                    choice.url, choice.source
                ),
            )
            .fix(hints::proxy_refused(host)),
        );
        (Some(choice), checks)
    }
}
