//! Docker Hub's registry mirrors (daemon.json `registry-mirrors`) diagnosed as mirrors, not as
//! registries of their own: for each, reachability (DNS, TCP, TLS, `/v2/`), whether it really
//! serves Docker Hub content (`HEAD /v2/<image>/manifests/<tag>` with a token from its realm when
//! it asks), and how long that took. Verdicts: live, slow, not a mirror, dead (or not judged
//! because no name resolves), and what dockerd does with the list as it is: it tries the mirrors
//! in order and falls back to the next one, then to Docker Hub itself.

use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use serde::Serialize;
use url::Url;

use super::{dns, ids, Check, Inputs, Status};
use crate::files::daemon_config::{self, InsecureRegistries};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::registry::client::{ClientOptions, RegistryClient, Request};

/// The image a mirror must serve unless `--probe-image` names another.
pub const DEFAULT_PROBE_IMAGE: &str = "library/alpine:latest";

/// A live mirror this much slower than the fastest (and at least 3 times as slow) is slow.
const SLOW_BEHIND_MS: u64 = 1000;

/// The media types docker accepts for a manifest.
const MANIFEST_TYPES: &str = "application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Live,
    Slow,
    NotAMirror,
    Dead,
    /// Not judged: no name server answers, so no mirror name resolves.
    DnsDown,
}

impl Verdict {
    fn serves(self) -> bool {
        matches!(self, Verdict::Live | Verdict::Slow)
    }
}

/// One mirror's result.
#[derive(Debug, Clone, Serialize)]
pub struct MirrorProbe {
    pub url: String,
    /// The file that lists it: daemon.json, or certs.d/docker.io/hosts.toml (dockerd 28+ with
    /// the containerd image store uses that list instead when it has mirrors).
    pub source: String,
    /// Its place in that list, from 1 (dockerd tries them in this order).
    pub position: usize,
    pub verdict: Verdict,
    /// Time from the DNS lookup to the manifest answer, for a mirror that serves the image.
    pub latency_ms: Option<u64>,
    pub message: String,
    pub fix: Option<String>,
}

/// Docker Hub's mirrors as dockerd uses them, probed at once; fastest first, then those that
/// do not serve.
pub fn probe_all(inputs: &Inputs) -> Vec<MirrorProbe> {
    let config = JsonFile::read(&inputs.daemon_config, FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    let insecure = InsecureRegistries::from_config(&config);
    // dockerd reaches its mirrors through its own proxy (else the shell's it inherited), as
    // it reaches Docker Hub: read once for every mirror.
    let (proxies, proxy_source) = crate::files::proxies::for_dockerd(
        &inputs.daemon_config,
        &inputs.systemd_dropin_dirs,
        &inputs.proxy_env,
    );
    let route = Route {
        proxies: &proxies,
        proxy_source: &proxy_source,
    };
    let target = inputs.dockerd.target(&config);
    let hosts_toml = inputs
        .certs_dir
        .join("docker.io")
        .join(crate::files::hosts_toml::HOSTS_TOML);
    let from_hosts: Vec<String> = if target.containerd_store() && target.version().at_least(28, 0) {
        crate::files::bounded::read_text_file(
            &hosts_toml,
            crate::files::bounded::limits::CONFIG_JSON,
        )
        .ok()
        .and_then(|t| t.parse::<toml_edit::DocumentMut>().ok())
        .map(|d| crate::files::hosts_toml::mirrors(&d, "docker.io"))
        .unwrap_or_default()
    } else {
        Vec::new()
    };
    let (urls, source) = if from_hosts.is_empty() {
        let urls = daemon_config::string_list(&config, daemon_config::MIRRORS)
            .ok()
            .flatten()
            .unwrap_or_default();
        (urls, "daemon.json".to_string())
    } else {
        (from_hosts, hosts_toml.display().to_string())
    };
    let in_hosts_toml = source != "daemon.json";
    let source = &source;
    let mut probes: Vec<MirrorProbe> = std::thread::scope(|scope| {
        let handles: Vec<_> = urls
            .iter()
            .enumerate()
            .map(|(i, url)| {
                let insecure = insecure.clone();
                let dropped = daemon_config::http_mirror_warning(url, &insecure, &target);
                scope.spawn(move || {
                    let mut p = probe(url, i + 1, dropped, &insecure, route, inputs, in_hosts_toml);
                    p.source.clone_from(source);
                    p
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a mirror probe does not panic"))
            .collect()
    });
    judge_speed(&mut probes, in_hosts_toml);
    probes.sort_by_key(|p| (rank(p.verdict), p.latency_ms, p.position));
    probes
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Live | Verdict::Slow => 0,
        Verdict::NotAMirror => 1,
        Verdict::Dead | Verdict::DnsDown => 2,
    }
}

/// Marks live mirrors far behind the fastest as slow; the fix moves one that is listed before
/// a faster mirror to the end of the list.
fn judge_speed(probes: &mut [MirrorProbe], in_hosts_toml: bool) {
    let Some(fastest) = probes
        .iter()
        .filter(|p| p.verdict.serves())
        .filter_map(|p| p.latency_ms)
        .min()
    else {
        return;
    };
    let serving: Vec<(usize, u64)> = probes
        .iter()
        .filter(|p| p.verdict.serves())
        .filter_map(|p| Some((p.position, p.latency_ms?)))
        .collect();
    for p in probes.iter_mut().filter(|p| p.verdict.serves()) {
        let Some(ms) = p.latency_ms else { continue };
        if ms >= fastest.saturating_mul(3) && ms - fastest >= SLOW_BEHIND_MS {
            p.verdict = Verdict::Slow;
            p.message = format!(
                "{}; slow: {} ms behind the fastest mirror",
                p.message,
                ms - fastest
            );
            let before_faster = serving
                .iter()
                .any(|(pos, other)| *pos > p.position && *other < ms);
            p.fix = before_faster.then(|| hints::mirror_move_last(&p.url, in_hosts_toml));
        }
    }
}

/// Probes one mirror as dockerd uses it: over HTTPS when this dockerd drops its `http://`
/// (`dropped` says so, with the fix).
fn probe(
    url: &str,
    position: usize,
    dropped: Option<String>,
    insecure: &InsecureRegistries,
    route: Route<'_>,
    inputs: &Inputs,
    in_hosts_toml: bool,
) -> MirrorProbe {
    let started = Instant::now();
    let used = match &dropped {
        Some(_) => format!("https://{}", &url["http://".len()..]),
        None => url.to_string(),
    };
    let mut out = MirrorProbe {
        url: url.to_string(),
        source: String::new(),
        position,
        verdict: Verdict::Dead,
        latency_ms: None,
        message: String::new(),
        fix: Some(hints::mirror_remove(url, in_hosts_toml)),
    };
    match serve(&used, insecure, route, inputs) {
        Ok(()) => {
            let ms = started.elapsed().as_millis() as u64;
            out.verdict = Verdict::Live;
            out.latency_ms = Some(ms);
            out.fix = None;
            out.message = format!("serves Docker Hub's {} in {ms} ms", inputs.probe_image);
        }
        Err((verdict, message, fix)) => {
            out.verdict = verdict;
            out.message = message;
            if let Some(fix) = fix {
                out.fix = Some(fix);
            }
            if let Some(why) = dropped {
                out.message = format!("{why}; over HTTPS it is {}", out.message);
                out.fix = daemon_config::mirror_host(url).map(hints::insecure_add_and_reload);
            }
        }
    }
    out
}

type Failure = (Verdict, String, Option<String>);

fn dead(message: String) -> Failure {
    (Verdict::Dead, message, None)
}

fn not_a_mirror(message: String) -> Failure {
    (
        Verdict::NotAMirror,
        format!("answers, but is not a Docker Hub mirror: {message}"),
        None,
    )
}

/// The probe proper: Ok when the mirror answers the manifest of the probe image.
/// The proxies dockerd uses for its mirrors, and where they come from.
#[derive(Clone, Copy)]
struct Route<'a> {
    proxies: &'a crate::files::proxies::ProxyEnv,
    proxy_source: &'a str,
}

fn serve(
    url: &str,
    insecure: &InsecureRegistries,
    route: Route<'_>,
    inputs: &Inputs,
) -> Result<(), Failure> {
    let base = Url::parse(url).map_err(|e| dead(format!("{url} is not a URL ({e})")))?;
    let host = match base.host() {
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        Some(h) => h.to_string(),
        None => return Err(dead(format!("{url} names no host"))),
    };
    let port = base.port_or_known_default().unwrap_or(443);
    // Through a proxy, the proxy resolves and connects, so those phases are its.
    let client = RegistryClient::new(
        ClientOptions {
            proxies: route.proxies.clone(),
            ..ClientOptions::new(inputs.certs_dir.clone(), insecure.clone())
        }
        .within(inputs.timeout * 3),
    );
    match route.proxies.proxy_for(base.scheme(), &host, port) {
        Some(proxy) => serve_over(&client, &base, inputs).map_err(|(verdict, message, fix)| {
            let proxy = crate::files::secrets::mask_url_userinfo(&proxy);
            (
                verdict,
                format!(
                    "through the proxy {proxy} (from {}): {message}",
                    route.proxy_source
                ),
                fix,
            )
        }),
        None => {
            reach_directly(&host, port, inputs)?;
            serve_over(&client, &base, inputs)
        }
    }
}

/// DNS and TCP to a mirror reached without a proxy.
fn reach_directly(host: &str, port: u16, inputs: &Inputs) -> Result<(), Failure> {
    let addrs = match dns::lookup(host, port, inputs.timeout) {
        Ok(a) => a,
        Err(dns::LookupError::NoSuchHost(d)) => {
            return Err(dead(format!("{host} does not resolve ({d})")))
        }
        Err(e) => {
            return Err(match dns::down_check(host, inputs) {
                Some(down) => (
                    Verdict::DnsDown,
                    format!("not judged: {}", down.message),
                    down.fix,
                ),
                None => dead(format!("lookup {host} failed ({e:?})")),
            })
        }
    };
    connect(&addrs, inputs.timeout)
        .map_err(|e| dead(format!("nothing answers on {host}:{port} ({e})")))
}

/// `/v2/` and the probe image's manifest, with an anonymous token when the mirror asks.
fn serve_over(client: &RegistryClient, base: &Url, inputs: &Inputs) -> Result<(), Failure> {
    let v2 = base.join("v2/").map_err(|e| dead(e.to_string()))?;
    let ping = client
        .send(&Request::get(v2.clone()))
        .map_err(|e| dead(format!("GET {v2}: {e}")))?;
    let (repo, reference) = split_image(&inputs.probe_image);
    let mut authorization = None;
    match ping.status {
        200 => {}
        401 => {
            let challenges = ping.challenges();
            let bearer = challenges
                .iter()
                .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
                .ok_or_else(|| {
                    not_a_mirror(format!(
                        "GET {v2} asks for credentials ({}); a Docker Hub mirror serves anonymous pulls",
                        ping.header("www-authenticate").unwrap_or("no challenge")
                    ))
                })?;
            let scope = format!("repository:{repo}:pull");
            let token = crate::registry::token::fetch_token(client, bearer, None, &[scope])
                .map_err(|e| {
                    not_a_mirror(format!(
                        "its token realm gives no anonymous pull token ({e})"
                    ))
                })?;
            authorization = Some(format!("Bearer {}", token.token));
        }
        status => {
            return Err(not_a_mirror(format!(
                "GET {v2} answered {status}, not a registry"
            )))
        }
    }
    let manifest = base
        .join(&format!("v2/{repo}/manifests/{reference}"))
        .map_err(|e| dead(e.to_string()))?;
    let mut head = Request::head(manifest.clone(), MANIFEST_TYPES);
    if let Some(a) = authorization {
        head = head.auth(a);
    }
    let answer = client
        .send(&head)
        .map_err(|e| dead(format!("HEAD {manifest}: {e}")))?;
    match answer.status {
        200 => Ok(()),
        404 => Err(not_a_mirror(format!(
            "it has no {} (HEAD {manifest} answered 404, manifest unknown): a registry, not a pull-through cache of Docker Hub; dockerd falls back past it on every pull",
            inputs.probe_image
        ))),
        status => Err(not_a_mirror(format!(
            "HEAD {manifest} answered {status}"
        ))),
    }
}

fn connect(addrs: &[SocketAddr], timeout: Duration) -> std::io::Result<()> {
    let mut last = None;
    for a in addrs {
        match TcpStream::connect_timeout(a, timeout) {
            Ok(_) => return Ok(()),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no address")))
}

/// `library/alpine:latest` -> (`library/alpine`, `latest`); a bare name is under `library/`,
/// no tag is `latest`, `@sha256:...` is a digest.
pub fn split_image(image: &str) -> (String, String) {
    let (name, reference) = match image.split_once('@') {
        Some((n, d)) => (n, d.to_string()),
        None => match image.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
            Some((n, t)) => (n, t.to_string()),
            None => (image, "latest".to_string()),
        },
    };
    let name = if name.contains('/') {
        name.to_string()
    } else {
        format!("library/{name}")
    };
    (name, reference)
}

/// The checks of Docker Hub's report: one per mirror (fastest first), then what dockerd does
/// with the list in its order.
pub fn checks(probes: &[MirrorProbe]) -> Vec<Check> {
    let mut checks: Vec<Check> = probes
        .iter()
        .map(|p| {
            let (id, status) = match p.verdict {
                Verdict::Live => (ids::MIRROR_LIVE, Status::Ok),
                Verdict::Slow => (ids::MIRROR_SLOW, Status::Warn),
                Verdict::NotAMirror => (ids::MIRROR_NOT_A_MIRROR, Status::Fail),
                Verdict::Dead => (ids::MIRROR_DEAD, Status::Fail),
                Verdict::DnsDown => (ids::MIRROR_DNS_DOWN, Status::Fail),
            };
            let mut c = Check::new(
                id,
                status,
                format!(
                    "mirror {} (#{} in {}): {}",
                    p.url, p.position, p.source, p.message
                ),
            );
            c.fix = p.fix.clone();
            c.ms = p.latency_ms.unwrap_or_default();
            c
        })
        .collect();
    if let Some(c) = fallback(probes) {
        checks.push(c);
    }
    checks
}

/// With a mirror that serves, Docker Hub itself is only the last fallback: its failures are
/// warnings that say so (pulls go through the mirror).
pub fn demote_direct(probes: &[MirrorProbe], direct: &mut [Check]) {
    let Some(serving) = probes
        .iter()
        .filter(|p| p.verdict.serves())
        .min_by_key(|p| p.position)
    else {
        return;
    };
    for c in direct.iter_mut().filter(|c| c.status == Status::Fail) {
        c.status = Status::Warn;
        c.message = format!(
            "{}; Docker Hub itself is only dockerd's last fallback: pulls go through {}",
            c.message, serving.url
        );
    }
}

/// What dockerd does with the list: the first mirror that serves is used after every one
/// listed before it failed; with none, Docker Hub itself.
pub fn fallback(probes: &[MirrorProbe]) -> Option<Check> {
    if probes.is_empty() {
        return None;
    }
    let mut ordered: Vec<&MirrorProbe> = probes.iter().collect();
    ordered.sort_by_key(|p| p.position);
    let first = ordered.iter().position(|p| p.verdict.serves());
    let failing = |upto: usize| {
        ordered[..upto]
            .iter()
            .map(|p| p.url.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    Some(match first {
        Some(0) => Check::ok(
            ids::MIRROR_FALLBACK,
            format!(
                "dockerd pulls Docker Hub images through {}, the first mirror in {}",
                ordered[0].url, ordered[0].source
            ),
        ),
        Some(i) => Check::warn(
            ids::MIRROR_FALLBACK,
            format!(
                "dockerd tries the mirrors in order: {} fail{} first, then it falls back to {}, which serves the pull: pulls work, but each waits on the failing mirror{} first",
                failing(i),
                if i == 1 { "s" } else { "" },
                ordered[i].url,
                if i == 1 { "" } else { "s" }
            ),
        ),
        None => Check::warn(
            ids::MIRROR_FALLBACK,
            format!(
                "no mirror serves Docker Hub: dockerd tries {} and then falls back to Docker Hub itself (registry-1.docker.io): pulls work only if Docker Hub is reachable (see docker.io)",
                failing(ordered.len())
            ),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_images_are_split_as_docker_names_them() {
        let s = |i: &str| split_image(i);
        assert_eq!(
            s("library/alpine:latest"),
            ("library/alpine".into(), "latest".into())
        );
        assert_eq!(s("alpine"), ("library/alpine".into(), "latest".into()));
        assert_eq!(s("a/b@sha256:00"), ("a/b".into(), "sha256:00".into()));
    }

    fn live(position: usize, ms: u64) -> MirrorProbe {
        MirrorProbe {
            url: format!("http://m{position}"),
            source: "daemon.json".into(),
            position,
            verdict: Verdict::Live,
            latency_ms: Some(ms),
            message: "serves".into(),
            fix: None,
        }
    }

    #[test]
    fn a_far_slower_mirror_listed_first_is_slow_and_moved_last() {
        let mut p = vec![live(1, 2000), live(2, 30), live(3, 900)];
        judge_speed(&mut p, false);
        assert_eq!(p[0].verdict, Verdict::Slow);
        assert!(p[0]
            .fix
            .as_deref()
            .unwrap()
            .contains("mirror add http://m1"));
        assert_eq!((p[1].verdict, p[2].verdict), (Verdict::Live, Verdict::Live));
    }

    #[test]
    fn the_fallback_names_the_first_mirror_that_serves() {
        let mut dead = live(1, 0);
        dead.verdict = Verdict::Dead;
        dead.latency_ms = None;
        let c = fallback(&[live(2, 10), dead.clone()]).unwrap();
        assert_eq!(c.status, Status::Warn);
        assert!(
            c.message
                .contains("http://m1 fails first, then it falls back to http://m2"),
            "{}",
            c.message
        );
        let c = fallback(&[dead]).unwrap();
        assert!(c.message.contains("Docker Hub itself"), "{}", c.message);
    }
}
