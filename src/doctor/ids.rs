//! The stable check ids doctor reports (README lists them; scripts match on them in JSON).
//! Never rename one: add a new id instead.

// Phase 1: local configuration.
/// Which dockerd, image store and docker CLI the rules are those of.
pub const CONFIG_ENGINE: &str = "config.engine";
pub const CONFIG_DAEMON_JSON_OK: &str = "config.daemon_json";
pub const CONFIG_DAEMON_JSON_INVALID: &str = "config.daemon_json_invalid";
pub const CONFIG_CLIENT_JSON_OK: &str = "config.client_json";
pub const CONFIG_CLIENT_JSON_INVALID: &str = "config.client_json_invalid";
pub const CONFIG_CREDS_STORE_ECR_LOGIN: &str = "config.creds_store_ecr_login";
pub const CREDS_HELPER_OK: &str = "creds.helper";
pub const CREDS_HELPER_MISSING: &str = "creds.helper_missing";
pub const CERTS_LINT: &str = "certs.lint";
pub const CONFIG_REGISTRIES_CONF: &str = "config.registries_conf";

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

// Phases 6 to 8: TLS and plain HTTP.
pub const TLS_HANDSHAKE: &str = "tls.handshake";
pub const TLS_HANDSHAKE_TIMEOUT: &str = "tls.handshake_timeout";
pub const TLS_HANDSHAKE_FAILED: &str = "tls.handshake_failed";
/// The server ended the session with a TLS alert about the client certificate (mTLS).
pub const TLS_CLIENT_CERTIFICATE_REFUSED: &str = "tls.client_certificate_refused";
pub const TLS_TRUSTED: &str = "tls.trusted";
pub const TLS_UNKNOWN_AUTHORITY: &str = "tls.unknown_authority";
pub const TLS_HOSTNAME_MISMATCH: &str = "tls.hostname_mismatch";
pub const TLS_EXPIRED: &str = "tls.expired";
pub const TLS_NOT_YET_VALID: &str = "tls.not_yet_valid";
pub const TLS_UNTRUSTED: &str = "tls.untrusted";
pub const TLS_NOT_VERIFIED_INSECURE: &str = "tls.not_verified_insecure";
/// A Bearer token realm on another host, judged with the TLS settings dockerd uses for it.
pub const TLS_REALM_TRUSTED: &str = "tls.realm_trusted";
pub const TLS_REALM_UNTRUSTED: &str = "tls.realm_untrusted";
pub const HTTP_PLAIN_HTTP_NOT_INSECURE: &str = "http.plain_http_not_insecure";
pub const HTTP_PLAIN_HTTP_INSECURE: &str = "http.plain_http_insecure";

// Phase 9: the registry API.
pub const REGISTRY_API: &str = "registry.api";
pub const REGISTRY_API_VERSION_MISSING: &str = "registry.api_version_missing";
pub const REGISTRY_NOT_A_REGISTRY: &str = "registry.not_a_registry";
pub const REGISTRY_NO_ANSWER: &str = "registry.no_answer";

// The verdict.
pub const REGISTRY_OK: &str = "registry.ok";

// Phase 10: authentication.
pub const AUTH_OK: &str = "auth.ok";
pub const AUTH_BAD_CREDENTIALS: &str = "auth.bad_credentials";
pub const AUTH_NO_CREDENTIALS: &str = "auth.no_credentials";
pub const AUTH_STORE_FAILED: &str = "auth.store_failed";
pub const AUTH_ERROR: &str = "auth.error";

// Mirrors and DNS (issue 14).
/// daemon.json or config.json does not exist: dockerd's defaults, no stored credentials.
pub const CONFIG_DAEMON_JSON_ABSENT: &str = "config.daemon_json_absent";
pub const CONFIG_CLIENT_JSON_ABSENT: &str = "config.client_json_absent";
/// No name server in resolv.conf answers: nothing resolves.
pub const DNS_DOWN: &str = "dns.down";
/// A registry mirror serves Docker Hub content.
pub const MIRROR_LIVE: &str = "mirror.live";
/// A live mirror much slower than the fastest.
pub const MIRROR_SLOW: &str = "mirror.slow";
/// A mirror that answers /v2/ but has no Docker Hub content (not a pull-through cache).
pub const MIRROR_NOT_A_MIRROR: &str = "mirror.not_a_mirror";
/// A mirror that cannot be reached (no such name, refused, TLS failure, no answer).
pub const MIRROR_DEAD: &str = "mirror.dead";
/// A mirror not judged because no name resolves.
pub const MIRROR_DNS_DOWN: &str = "mirror.dns_down";
/// What dockerd does with the mirror list as it is: which one serves pulls.
pub const MIRROR_FALLBACK: &str = "mirror.fallback";
