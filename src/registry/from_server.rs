//! `trust-ca --from-server`'s choice of what to trust: the chain a registry presents (and, for
//! a server that sends only its CA-issued certificate, the issuers its AIA URLs name), the
//! anchor picked from it, and whether a pin confirms it or a person still must. Also the
//! registry's token realm on another host, checked as dockerd's token request checks it.
//! Nothing here prints or prompts: what needs confirming is returned.

use rustls::pki_types::UnixTime;
use url::Url;

use crate::files::certs_dir::x509::{CertInfo, Fingerprint};
use crate::files::certs_dir::{self, CertsError};
use crate::registry::aia;
use crate::registry::challenge;
use crate::registry::client::{host_port, RegistryError};
use crate::registry::tls_probe::{self, ProbeError, ProbeOptions};
use crate::registry::trust::HostTrust;

#[derive(Debug, thiserror::Error)]
pub enum FromServerError {
    #[error(transparent)]
    Certs(#[from] CertsError),
    #[error(transparent)]
    Probe(#[from] ProbeError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A refusal about the presented chain, with every certificate the server presented (and
    /// any fetched from its AIA URL), so the user can compare them with what they were given.
    #[error("{error}")]
    Presented {
        error: Box<FromServerError>,
        presented: Vec<CertInfo>,
        fetched: Vec<(String, CertInfo)>,
    },
}

/// What `--from-server` decided to trust, and why.
#[derive(Debug, Clone)]
pub struct FromServer {
    /// What goes into ca.crt: one anchor, the chain downloaded from AIA URLs, or the leaf.
    pub trust: Vec<CertInfo>,
    pub presented: Vec<CertInfo>,
    /// Issuers downloaded from AIA "CA Issuers" URLs, each with its URL.
    pub fetched: Vec<(String, CertInfo)>,
    pub note: String,
    /// The server's own (CA-issued) certificate is what is trusted.
    pub pinned_leaf: bool,
    /// A person must confirm this certificate before anything is written.
    pub confirm: Option<Confirm>,
}

/// The certificate a person must confirm, and what to tell them about it.
#[derive(Debug, Clone)]
pub struct Confirm {
    pub cert: CertInfo,
    /// Trusting a leaf: when it must be done again.
    pub renewal: Option<String>,
}

/// How the choice may be made: with `check` nothing is written, so nothing needs confirming;
/// without `interactive` an unpinned anchor is refused.
#[derive(Debug, Clone, Copy)]
pub struct Mode {
    pub check: bool,
    pub interactive: bool,
    /// Unix seconds, for validity.
    pub now: i64,
    /// Accept an expired or not yet valid certificate.
    pub force: bool,
}

/// The proxy for a URL (from Context), for AIA downloads.
pub type ProxyFor<'a> = &'a dyn Fn(&Url) -> Option<String>;

/// AIA hops followed at most (leaf -> intermediates -> root).
const MAX_AIA_HOPS: usize = 4;

/// Fetches the chain `host:port` presents and picks what to trust: confirmed by the pin, or
/// left for the person at the terminal ([`FromServer::confirm`]). A server that sends only a
/// CA-issued leaf gets its issuers from the leaf's AIA URL, or its leaf pinned when the pin
/// matches it. Every refusal about the chain lists what was presented.
pub fn choose(
    folder: &str,
    (host, port): (&str, u16),
    pin: Option<&str>,
    mode: Mode,
    proxy_for: ProxyFor<'_>,
    warnings: &mut Vec<String>,
) -> Result<FromServer, FromServerError> {
    let pinned = pin
        .map(|p| Fingerprint::parse(p).ok_or_else(|| CertsError::BadFingerprint(p.to_string())))
        .transpose()?;
    let probed = tls_probe::probe(host, port, ProbeOptions::default())?;
    let presented = parse_chain(folder, &probed.chain)?;
    let Some(leaf) = presented.first() else {
        return Err(CertsError::NoCertificate {
            host: folder.to_string(),
        }
        .into());
    };
    let leaf_alone = !leaf.kind.is_anchor() && !presented[1..].iter().any(|c| c.ca);
    let (fetched, missing) = if leaf_alone {
        fetch_issuers(leaf, proxy_for)
    } else {
        (Vec::new(), None)
    };
    let shown = |e: FromServerError| FromServerError::Presented {
        error: Box::new(e),
        presented: presented.clone(),
        fetched: fetched.clone(),
    };
    let pin_is_leaf = pinned == Some(leaf.sha256) && !leaf.kind.is_anchor();
    if pin_is_leaf
        || (leaf_alone && fetched.is_empty() && pin.is_none() && !mode.check && mode.interactive)
    {
        return pin_leaf(folder, leaf, &presented, pin_is_leaf, mode, warnings).map_err(shown);
    }
    if leaf_alone && fetched.is_empty() {
        let e = certs_dir::leaf_only(folder, leaf, missing.unwrap_or_default());
        return Err(shown(e.into()));
    }
    let (trust, note) = anchors(folder, &presented, &fetched, pinned).map_err(shown)?;
    let what = format!("the certificate {folder} presented");
    for c in &trust {
        warnings.extend(
            certs_dir::check_anchor(c, &what, mode.now, mode.force).map_err(|e| shown(e.into()))?,
        );
    }
    let anchor = trust.last().expect("at least one certificate to trust");
    let confirm = match (pin, mode.check, mode.interactive) {
        (Some(pin), _, _) => {
            certs_dir::check_pin(anchor, folder, pin).map_err(|e| shown(e.into()))?;
            None
        }
        // Nothing is written in check mode, so nothing needs confirming.
        (None, true, _) => None,
        (None, false, true) => Some(Confirm {
            cert: anchor.clone(),
            renewal: None,
        }),
        (None, false, false) => {
            return Err(shown(
                CertsError::FingerprintRequired {
                    host: folder.to_string(),
                    subject: anchor.subject.clone(),
                    fingerprint: anchor.sha256,
                }
                .into(),
            ))
        }
    };
    Ok(FromServer {
        trust,
        presented: presented.clone(),
        fetched: fetched.clone(),
        note,
        pinned_leaf: false,
        confirm,
    })
}

/// What to trust from a chain with its CA (or from the downloaded issuers), and the note that
/// says why.
fn anchors(
    folder: &str,
    presented: &[CertInfo],
    fetched: &[(String, CertInfo)],
    pinned: Option<Fingerprint>,
) -> Result<(Vec<CertInfo>, String), FromServerError> {
    if fetched.is_empty() {
        let anchor = certs_dir::pick_anchor(presented, folder)?.clone();
        let note = if presented.len() == 1 {
            format!("{folder} uses a self-signed certificate; trusting it")
        } else if anchor.self_signed {
            format!("{folder} sent its root CA; trusting {}", anchor.subject)
        } else {
            format!(
                "{folder} did not send its root CA; trusting its topmost intermediate {} (issued by {})",
                anchor.subject, anchor.issuer
            )
        };
        return Ok((vec![anchor], note));
    }
    // The pin may name any certificate of the downloaded chain; trust up to it.
    let top = fetched.len() - 1;
    let upto = pinned
        .and_then(|fp| fetched.iter().position(|(_, c)| c.sha256 == fp))
        .unwrap_or(top);
    let trust: Vec<CertInfo> = fetched[..=upto].iter().map(|(_, c)| c.clone()).collect();
    let plural = if fetched.len() == 1 { "" } else { "s" };
    let note = format!(
        "{folder} sent only its own certificate; downloaded its issuer{plural} from the AIA URL{plural} {}: trusting {}",
        fetched.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>().join(", "),
        trust.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>().join(" and "),
    );
    Ok((trust, note))
}

/// The chain a server presented, parsed (leaf first).
fn parse_chain(folder: &str, chain: &[Vec<u8>]) -> Result<Vec<CertInfo>, CertsError> {
    chain
        .iter()
        .enumerate()
        .map(|(i, der)| {
            CertInfo::from_der(der).map_err(|detail| CertsError::Bundle {
                what: format!("the certificate chain {folder} presented"),
                source: certs_dir::x509::BundleError::BadCert {
                    index: i + 1,
                    detail,
                },
            })
        })
        .collect()
}

/// Trusts the server's own CA-issued certificate: Go (dockerd, skopeo) accepts a certificate
/// that is itself in the root pool. Pinned by fingerprint, or left for the terminal to confirm.
fn pin_leaf(
    folder: &str,
    leaf: &CertInfo,
    presented: &[CertInfo],
    pinned: bool,
    mode: Mode,
    warnings: &mut Vec<String>,
) -> Result<FromServer, FromServerError> {
    let what = format!("the certificate {folder} presented");
    warnings.extend(certs_dir::check_validity(
        leaf, &what, mode.now, mode.force,
    )?);
    let renewal = crate::hints::pinned_leaf_renewal(&leaf.subject, &leaf.not_after.date());
    warnings.push(format!(
        "{folder}: trusting exactly its own certificate {} (SHA-256 {}), not the CA that issued it; {renewal}",
        leaf.subject, leaf.sha256
    ));
    Ok(FromServer {
        trust: vec![leaf.clone()],
        presented: presented.to_vec(),
        fetched: Vec::new(),
        note: format!(
            "{folder} sent only its own certificate, issued by {}; it matches the pin, so it is trusted itself",
            leaf.issuer
        ),
        pinned_leaf: true,
        confirm: (!pinned).then(|| Confirm {
            cert: leaf.clone(),
            renewal: Some(renewal),
        }),
    })
}

/// Follows AIA "CA Issuers" URLs from `leaf` upwards (at most `MAX_AIA_HOPS`), keeping each
/// download that really issued the certificate below it. Returns the issuers found, and why the
/// first one could not be had when none was.
fn fetch_issuers(
    leaf: &CertInfo,
    proxy_for: ProxyFor<'_>,
) -> (Vec<(String, CertInfo)>, Option<String>) {
    let mut chain: Vec<(String, CertInfo)> = Vec::new();
    let mut failure = None;
    let mut current = leaf.clone();
    for _ in 0..MAX_AIA_HOPS {
        let urls = current.ca_issuers_urls();
        if urls.is_empty() {
            failure = Some("it names no CA Issuers (AIA) URL to download it from".to_string());
            break;
        }
        let mut found = None;
        let mut tried = Vec::new();
        for url in &urls {
            match fetch_issuer(url, &current, proxy_for) {
                Ok(c) => {
                    found = Some((url.clone(), c));
                    break;
                }
                Err(e) => tried.push(e),
            }
        }
        let Some((url, issuer)) = found else {
            failure = Some(tried.join("; "));
            break;
        };
        let root = issuer.self_signed;
        current = issuer.clone();
        chain.push((url, issuer));
        if root {
            break;
        }
    }
    let failure = if chain.is_empty() { failure } else { None };
    (chain, failure)
}

/// Downloads one AIA URL and finds in it the certificate that issued `child`.
fn fetch_issuer(url: &str, child: &CertInfo, proxy_for: ProxyFor<'_>) -> Result<CertInfo, String> {
    let proxy = Url::parse(url).ok().and_then(|u| proxy_for(&u));
    let bytes = aia::fetch(url, proxy.as_deref(), aia::FETCH_TIMEOUT)
        .map_err(|e| format!("downloading it from its AIA URL failed: {e}"))?;
    let bundle = certs_dir::x509::parse_bundle(&bytes)
        .map_err(|e| format!("what its AIA URL {url} holds {e}"))?;
    bundle
        .certs
        .into_iter()
        .find(|c| child.issued_by(c))
        .ok_or_else(|| {
            format!(
                "its AIA URL {url} does not hold the certificate that issued {}",
                child.subject
            )
        })
}

/// A registry's token realm on another host, and how dockerd would trust it.
#[derive(Debug, Clone)]
pub struct Realm {
    pub url: String,
    /// `host[:port]` of the realm.
    pub folder: String,
    pub presented: Vec<CertInfo>,
    /// dockerd would trust it: system roots (plus, for the classic image store, the registry's
    /// certs.d folder as it will be).
    pub trusted: bool,
}

/// Asks the registry for its `WWW-Authenticate` challenge; for a Bearer realm on another
/// host over https, probes the realm's certificate and checks it the way dockerd's token
/// request does: the classic image store with the registry's own TLS config (system roots plus
/// certs.d/REGISTRY, moby), the containerd image store with the system roots only (seen with
/// 26.1 and 28.5). `will_trust` is what is about to be written for the registry.
pub fn realm_of(
    folder: &str,
    (host, port): (&str, u16),
    will_trust: &[CertInfo],
    certs_dir: &std::path::Path,
    (now, containerd): (i64, bool),
) -> Result<Option<Realm>, FromServerError> {
    let (_, answer) = tls_probe::probe_and_get(host, port, Some("/v2/"), ProbeOptions::default())?;
    let Some(Ok(resp)) = answer else {
        return Ok(None);
    };
    let Some(url) = challenge::bearer_realm(&resp.headers) else {
        return Ok(None);
    };
    let realm_folder = host_port(&url);
    if url.scheme() != "https" || realm_folder == folder {
        return Ok(None);
    }
    let realm_host = url.host_str().unwrap_or_default().to_string();
    let realm_port = url.port_or_known_default().unwrap_or(443);
    let probed = tls_probe::probe(&realm_host, realm_port, ProbeOptions::default())?;
    let presented = parse_chain(&realm_folder, &probed.chain)?;
    let trust = if containerd {
        HostTrust::system()
    } else {
        let mut t = HostTrust::load(certs_dir, folder).map_err(RegistryError::from)?;
        t.add_roots(&will_trust.iter().map(|c| c.der.clone()).collect::<Vec<_>>());
        t
    };
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(now.max(0) as u64));
    let bare = realm_host.trim_start_matches('[').trim_end_matches(']');
    let trusted = trust.verify(&probed.chain, bare, at).is_ok();
    Ok(Some(Realm {
        url: url.to_string(),
        folder: realm_folder,
        presented,
        trusted,
    }))
}
