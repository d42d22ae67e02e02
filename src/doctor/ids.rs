//! The stable check ids doctor reports (README lists them; scripts match on them in JSON).
//! Never rename one: add a new id instead.

// Phase 1: local configuration.
pub const CONFIG_DAEMON_JSON_OK: &str = "config.daemon_json";
pub const CONFIG_DAEMON_JSON_INVALID: &str = "config.daemon_json_invalid";
pub const CONFIG_CLIENT_JSON_OK: &str = "config.client_json";
pub const CONFIG_CLIENT_JSON_INVALID: &str = "config.client_json_invalid";
pub const CREDS_HELPER_OK: &str = "creds.helper";
pub const CREDS_HELPER_MISSING: &str = "creds.helper_missing";
pub const CERTS_LINT: &str = "certs.lint";

// Phase 2: the name.
pub const NAME_NORMALIZED: &str = "name.normalized";

// Phase 3: proxies.
pub const PROXY_NONE: &str = "proxy.none";
pub const PROXY_USED: &str = "proxy.used";
pub const PROXY_UNREACHABLE: &str = "proxy.unreachable";
pub const PROXY_DIFFERS: &str = "proxy.differs";

// Phases 4 and 5: DNS and TCP.
pub const DNS_RESOLVED: &str = "dns.resolved";
pub const DNS_NO_SUCH_HOST: &str = "dns.no_such_host";
pub const DNS_TIMEOUT: &str = "dns.timeout";
pub const TCP_CONNECTED: &str = "tcp.connected";
pub const TCP_REFUSED: &str = "tcp.refused";
pub const TCP_TIMEOUT: &str = "tcp.timeout";
pub const TCP_ERROR: &str = "tcp.error";

/// A phase not run because an earlier one failed.
pub const SKIPPED: &str = "skipped";
