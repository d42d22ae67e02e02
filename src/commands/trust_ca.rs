//! `regctl trust-ca`: install a registry's CA (from a file or from the chain the server presents)
//! and optionally a client pair into certs.d, for docker and on request for podman/skopeo; or
//! remove them. Validation lives in `files::certs_dir`; this file decides, asks and reports.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::cli::TrustCaArgs;
use crate::commands::certs::now;
use crate::context::Context;
use crate::error::{fetched_json, Error, Result};
use crate::files::certs_dir::x509::{Bundle, CertInfo, Encoding, Fingerprint};
use crate::files::certs_dir::{
    self, Action, CertsError, FileChange, Managed, CA_FILE, CERT_MODE, CLIENT_CERT, CLIENT_KEY,
    KEY_MODE, REALM_CA_FILE,
};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::hosts_toml::{self, HOSTS_TOML};
use crate::files::json_file::{FileKind, JsonFile, Saved};
use crate::files::system_trust::SystemStore;
use crate::files::toml_file::TomlFile;
use crate::hints;
use crate::names;
use crate::output::{FileDiff, Outcome};
use crate::registry::aia;
use crate::registry::challenge;
use crate::registry::client::{host_port, RegistryError};
use crate::registry::tls_probe::{self, ProbeOptions};
use crate::registry::trust::HostTrust;
use rustls::pki_types::UnixTime;
use url::Url;

/// The certs.d roots a command works on: docker's, and podman/skopeo's with `--containers`.
fn roots(ctx: &Context, containers: bool, containerd: bool) -> Vec<PathBuf> {
    let mut roots = vec![ctx.paths.certs_dir.clone()];
    if containers {
        roots.push(ctx.paths.containers_certs_dir.clone());
    }
    if containerd {
        roots.push(ctx.paths.containerd_certs_dir.clone());
    }
    roots
}

/// The hosts.toml files beside the folders: with one, containerd (and dockerd 28+ with the
/// containerd image store) use only the CA files it names, so it must name ca.crt. Each is
/// parsed first (a file regctl cannot parse stops the command before anything is written).
fn hosts_files(folder: &str, roots: &[PathBuf]) -> Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    for root in roots {
        let path = root.join(folder).join(HOSTS_TOML);
        if path.is_file() {
            TomlFile::edit(&path, true)?;
            found.push(path);
        }
    }
    Ok(found)
}

/// Names (`add`) or stops naming ca.crt in each hosts.toml.
fn edit_hosts(folder: &str, files: &[PathBuf], add: bool, ctx: &Context) -> Result<Vec<Saved>> {
    let mut saves = Vec::new();
    for path in files {
        let mut file = TomlFile::edit(path, ctx.check)?;
        let dir = path.parent().unwrap_or(path);
        if add {
            hosts_toml::add_ca(&mut file.doc, dir, folder, CA_FILE);
        } else {
            hosts_toml::remove_ca(&mut file.doc, dir, CA_FILE);
        }
        saves.push(file.save(ctx.check)?);
    }
    Ok(saves)
}

pub fn run(args: &TrustCaArgs, ctx: &Context) -> Result<Outcome> {
    let folder = certs_dir::folder_name(&args.registry)?;
    // A malformed pin fails before any file, DNS lookup or connection.
    if let Some(pin) = &args.fingerprint {
        certs_dir::parse_pin(pin)?;
    }
    let roots = roots(ctx, args.containers, args.containerd);
    let hosts = hosts_files(&folder, &roots)?;
    if args.remove {
        if args.system {
            return system_remove(&folder, ctx);
        }
        let saves = edit_hosts(&folder, &hosts, false, ctx)?;
        let mut outcome = remove(&folder, &roots, ctx)?;
        for s in &saves {
            outcome = outcome.with_save(s);
        }
        return Ok(outcome);
    }
    let now = now();
    let mut warnings = Vec::new();
    let mut notes = Vec::new();
    let mut files = Vec::new();
    let mut data = serde_json::Map::new();

    // Local files first, so that a bad pair fails before any network or prompt.
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        let (pair, w) = certs_dir::read_client_pair(cert, key, now, args.force)?;
        warnings.extend(w);
        data.insert("client_certificate".into(), json!(pair.certs.certs[0]));
        data.insert(
            "client_key".into(),
            json!({"algorithm": pair.key.algorithm, "public_sha256": pair.key.public_sha256}),
        );
        files.push(Managed {
            name: CLIENT_CERT,
            bytes: pair.certs.pem().into_bytes(),
            mode: CERT_MODE,
        });
        files.push(Managed {
            name: CLIENT_KEY,
            bytes: pair.key.pem.into_bytes(),
            mode: KEY_MODE,
        });
    }

    let mut realm_files = Vec::new();
    let (mut system_changes, mut system_dirs, mut restart_hint) = (Vec::new(), Vec::new(), false);
    let ca = if let Some(path) = &args.ca_file {
        let bundle = certs_dir::read_bundle(path)?;
        warnings.extend(certs_dir::check_ca_bundle(
            &bundle,
            &path.display().to_string(),
            now,
            args.force,
        )?);
        if bundle.encoding == Encoding::Der {
            notes.push(format!("{} is DER; written as PEM", path.display()));
        }
        data.insert("source".into(), json!("file"));
        Some(bundle)
    } else if args.from_server {
        let name = names::parse(&args.registry).map_err(CertsError::from)?;
        let got = from_server(
            &folder,
            (name.hostname(), name.port().unwrap_or(443)),
            (args.fingerprint.as_deref(), "--fingerprint"),
            ctx,
            (now, args.force),
            &mut warnings,
        )?;
        notes.push(got.note);
        data.insert("source".into(), json!("server"));
        data.insert("presented".into(), json!(got.presented));
        data.insert("fetched".into(), fetched_json(&got.fetched));
        data.insert("pinned_leaf".into(), json!(got.pinned_leaf));
        let certs = got.trust;
        let target = (name.hostname(), name.port().unwrap_or(443));
        let containerd = containerd_store(ctx);
        let realm = match realm_of(&folder, target, &certs, ctx, (now, containerd)) {
            Ok(r) => r,
            Err(e) if !args.with_realm => {
                warnings.push(format!("could not check {folder}'s token realm: {e}"));
                None
            }
            Err(e) => return Err(e),
        };
        if let Some(realm) = realm {
            let mut realm_json = json!({
                "url": realm.url,
                "registry": realm.folder,
                "presented": realm.presented,
                "trusted": realm.trusted,
            });
            if realm.trusted {
                notes.push(format!(
                    "the token realm {} is trusted the way dockerd's token request checks it (system roots and {folder}'s certs.d folder)",
                    realm.url
                ));
            } else if args.with_realm {
                let realm_url = Url::parse(&realm.url).expect("parsed before");
                let got = from_server(
                    &realm.folder,
                    (
                        realm_url.host_str().unwrap_or_default(),
                        realm_url.port_or_known_default().unwrap_or(443),
                    ),
                    (args.realm_fingerprint.as_deref(), "--realm-fingerprint"),
                    ctx,
                    (now, args.force),
                    &mut warnings,
                )?;
                realm_json["certificates"] = json!(got.trust);
                if containerd {
                    // The containerd image store's token request reads only the system roots.
                    let bundle = Bundle {
                        encoding: Encoding::Der,
                        certs: got.trust,
                    };
                    let (store, change, note) = system_install(&realm.folder, &bundle, ctx)?;
                    notes.push(format!(
                        "token realm {}: {}; installed into the OS trust store ({}), which the containerd image store uses for the token request",
                        realm.url,
                        got.note,
                        store.anchors_dir.display()
                    ));
                    notes.extend(note);
                    realm_json["system_bundle"] = json!(store.bundle);
                    system_dirs.push(store.anchors_dir);
                    system_changes.push(change);
                    if system_changes.iter().any(|c| c.action.changed()) {
                        restart_hint = true;
                    }
                } else {
                    notes.push(format!(
                    "token realm {}: {}; written as {REALM_CA_FILE} in {folder}'s folder, which dockerd's classic image store uses for the token request",
                    realm.url, got.note
                ));
                    realm_files.push(Managed {
                        name: REALM_CA_FILE,
                        bytes: Bundle {
                            encoding: Encoding::Der,
                            certs: got.trust,
                        }
                        .pem()
                        .into_bytes(),
                        mode: CERT_MODE,
                    });
                }
            } else {
                let top = realm.presented.last().map(|c| c.sha256.to_string());
                warnings.push(hints::realm_untrusted(
                    &realm.url,
                    &realm.folder,
                    realm
                        .presented
                        .first()
                        .map(|c| c.issuer.as_str())
                        .unwrap_or("?"),
                    &ctx.argv,
                    top.as_deref().unwrap_or("SHA256"),
                    containerd,
                ));
            }
            realm_json["image_store"] = json!(if containerd { "containerd" } else { "classic" });
            data.insert("realm".into(), realm_json);
        }
        Some(Bundle {
            encoding: Encoding::Der,
            certs,
        })
    } else {
        None
    };
    if let Some(bundle) = &ca {
        data.insert("certificates".into(), json!(bundle.certs));
        files.insert(
            0,
            Managed {
                name: CA_FILE,
                bytes: bundle.pem().into_bytes(),
                mode: CERT_MODE,
            },
        );
    }

    files.extend(realm_files);
    let mut changes = Vec::new();
    let mut saves = Vec::new();
    let dirs = if args.system {
        let bundle = ca
            .as_ref()
            .expect("--system needs CA_FILE or --from-server (clap)");
        let (store, change, note) = system_install(&folder, bundle, ctx)?;
        changes.push(change);
        notes.extend(note);
        data.insert("system_layout".into(), json!(store.layout));
        data.insert("system_bundle".into(), json!(store.bundle));
        vec![store.anchors_dir]
    } else {
        // All roots or none (`--containers`): a failure in the second leaves the first untouched.
        let dirs: Vec<PathBuf> = roots.iter().map(|r| r.join(&folder)).collect();
        changes.extend(certs_dir::install(&dirs, &files, ctx.check)?);
        if let Some(w) = insecure_warning(&folder, ctx) {
            warnings.push(w);
        }
        if ca.is_some() {
            saves = edit_hosts(&folder, &hosts, true, ctx)?;
        }
        dirs
    };
    let dirs = [dirs, system_dirs].concat();
    changes.extend(system_changes);
    let mut outcome = report(&folder, &dirs, changes, ctx, "wrote", "would write", data);
    for s in saves.iter().filter(|s| s.changed) {
        outcome.msg.push_str(&format!(
            "; {} ca = \"{CA_FILE}\" in {}",
            ctx.did("named", "would name"),
            s.path.display()
        ));
        outcome = outcome.with_save(s);
    }
    let mut text = String::new();
    for c in ca.iter().flat_map(|b| &b.certs) {
        text.push_str(&format!("{CA_FILE}  {}\n", c.summary()));
    }
    outcome = outcome.text(text);
    for n in notes {
        outcome = outcome.info(n);
    }
    for w in warnings {
        outcome = outcome.warn(w);
    }
    if restart_hint && !args.system {
        outcome = outcome.info(hints::system_roots_take_effect(ctx.paths.rootless));
    }
    if outcome.changed {
        outcome = outcome.info(if args.system {
            hints::system_roots_take_effect(ctx.paths.rootless)
        } else {
            hints::certs_take_effect(args.containers)
        });
    }
    Ok(outcome)
}

/// Writes the CA as regctl's file in the OS trust store and, when it changed, runs the
/// distribution's update tool. Returns the store, the change, and the tool's summary.
fn system_install(
    folder: &str,
    bundle: &Bundle,
    ctx: &Context,
) -> Result<(SystemStore, FileChange, Option<String>)> {
    let store = SystemStore::detect(&ctx.paths.system_trust_root)?;
    // FileChange names are static (certs.d's are constants); one name per run.
    let name: &'static str = Box::leak(SystemStore::file_name(folder).into_boxed_str());
    let mut changes = certs_dir::install(
        std::slice::from_ref(&store.anchors_dir),
        &[Managed {
            name,
            bytes: bundle.pem().into_bytes(),
            mode: CERT_MODE,
        }],
        ctx.check,
    )?;
    let change = changes.remove(0);
    let note = if change.action.changed() && !ctx.check {
        Some(updated_note(&store, ctx)?)
    } else {
        None
    };
    Ok((store, change, note))
}

/// Runs the trust store's update tool; says what it did.
fn updated_note(store: &SystemStore, ctx: &Context) -> Result<String> {
    let out = store.update(&ctx.paths.exec_path)?;
    Ok(format!(
        "updated {}: {}",
        store.bundle.display(),
        // update-ca-certificates' count line, e.g. "1 added, 0 removed; done."
        out.lines()
            .find(|l| l.contains(" added, "))
            .or(out.lines().last())
            .unwrap_or_default()
    ))
}

/// Removes regctl's file from the OS trust store (nothing else) and updates the bundle.
fn system_remove(folder: &str, ctx: &Context) -> Result<Outcome> {
    let store = SystemStore::detect(&ctx.paths.system_trust_root)?;
    let name: &'static str = Box::leak(SystemStore::file_name(folder).into_boxed_str());
    let path = store.anchors_dir.join(name);
    let mut changes = Vec::new();
    let mut note = None;
    if std::fs::symlink_metadata(&path).is_ok() {
        let before = std::fs::read(&path).ok();
        if !ctx.check {
            std::fs::remove_file(&path).map_err(|source| {
                crate::files::json_file::FileError::Write {
                    path: path.clone(),
                    source,
                }
            })?;
            note = Some(updated_note(&store, ctx)?);
        }
        changes.push(FileChange {
            path,
            name,
            action: Action::Removed,
            before,
            after: None,
        });
    }
    let mut outcome = report(
        folder,
        std::slice::from_ref(&store.anchors_dir),
        changes,
        ctx,
        "removed",
        "would remove",
        serde_json::Map::new(),
    )
    .data("system_layout", json!(store.layout))
    .data("system_bundle", json!(store.bundle));
    if let Some(n) = note {
        outcome = outcome.info(n);
    }
    if outcome.changed {
        outcome = outcome.info(hints::system_roots_take_effect(ctx.paths.rootless));
    }
    Ok(outcome)
}

/// What `--from-server` decided to trust, and why.
struct FromServer {
    /// What goes into ca.crt: one anchor, the chain downloaded from AIA URLs, or the leaf.
    trust: Vec<CertInfo>,
    presented: Vec<CertInfo>,
    /// Issuers downloaded from AIA "CA Issuers" URLs, each with its URL.
    fetched: Vec<(String, CertInfo)>,
    note: String,
    /// The server's own (CA-issued) certificate is what is trusted.
    pinned_leaf: bool,
}

/// AIA hops followed at most (leaf -> intermediates -> root).
const MAX_AIA_HOPS: usize = 4;

/// Fetches the chain `host:port` presents, picks what to trust and gets it confirmed: by the
/// pinned fingerprint, or by the person at the terminal. A server that sends only a CA-issued
/// leaf gets its issuers from the leaf's AIA URL, or its leaf pinned when the pin matches it.
/// Every refusal lists what was presented.
fn from_server(
    folder: &str,
    (host, port): (&str, u16),
    (pin, pin_flag): (Option<&str>, &'static str),
    ctx: &Context,
    (now, force): (i64, bool),
    warnings: &mut Vec<String>,
) -> Result<FromServer> {
    let pinned = pin
        .map(|p| Fingerprint::parse(p).ok_or_else(|| CertsError::BadFingerprint(p.to_string())))
        .transpose()?;
    let probed = tls_probe::probe(host, port, ProbeOptions::default())?;
    let presented = parse_chain(folder, &probed.chain)?;
    let mut fetched = Vec::new();
    let shown = |e: Error, fetched: &[(String, CertInfo)]| Error::Presented {
        error: Box::new(e),
        presented: presented.clone(),
        fetched: fetched.to_vec(),
        pin_flag,
    };
    let Some(leaf) = presented.first() else {
        return Err(CertsError::NoCertificate {
            host: folder.to_string(),
        }
        .into());
    };
    let leaf_alone = !leaf.kind.is_anchor() && !presented[1..].iter().any(|c| c.ca);
    let mut missing = None;
    if leaf_alone {
        let (chain, failure) = fetch_issuers(leaf, ctx);
        fetched = chain;
        missing = failure;
    }
    let what = format!("the certificate {folder} presented");
    let pin_is_leaf = pinned == Some(leaf.sha256) && !leaf.kind.is_anchor();
    let choice = (|| -> Result<FromServer> {
        if pin_is_leaf
            || (leaf_alone && fetched.is_empty() && pin.is_none() && !ctx.check && ctx.interactive)
        {
            return pin_leaf(folder, leaf, &presented, pin_is_leaf, now, force, warnings);
        }
        if leaf_alone && fetched.is_empty() {
            return Err(
                certs_dir::leaf_only(folder, leaf, missing.clone().unwrap_or_default()).into(),
            );
        }
        let (trust, note) = if fetched.is_empty() {
            let anchor = certs_dir::pick_anchor(&presented, folder)?.clone();
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
            (vec![anchor], note)
        } else {
            // The pin may name any certificate of the downloaded chain; trust up to it.
            let top = fetched.len() - 1;
            let upto = pinned
                .and_then(|fp| fetched.iter().position(|(_, c)| c.sha256 == fp))
                .unwrap_or(top);
            let trust: Vec<CertInfo> = fetched[..=upto].iter().map(|(_, c)| c.clone()).collect();
            let note = format!(
                "{folder} sent only its own certificate; downloaded its issuer{} from the AIA URL{} {}: trusting {}",
                if fetched.len() == 1 { "" } else { "s" },
                if fetched.len() == 1 { "" } else { "s" },
                fetched.iter().map(|(u, _)| u.as_str()).collect::<Vec<_>>().join(", "),
                trust.iter().map(|c| c.subject.as_str()).collect::<Vec<_>>().join(" and "),
            );
            (trust, note)
        };
        for c in &trust {
            warnings.extend(certs_dir::check_anchor(c, &what, now, force)?);
        }
        let anchor = trust.last().expect("at least one certificate to trust");
        match (pin, ctx.check, ctx.interactive) {
            (Some(pin), _, _) => certs_dir::check_pin(anchor, folder, pin)?,
            // Nothing is written in check mode, so nothing needs confirming.
            (None, true, _) => {}
            (None, false, true) => confirm(folder, &presented, &fetched, anchor, None)?,
            (None, false, false) => {
                return Err(CertsError::FingerprintRequired {
                    host: folder.to_string(),
                    subject: anchor.subject.clone(),
                    fingerprint: anchor.sha256,
                }
                .into())
            }
        }
        Ok(FromServer {
            trust,
            presented: presented.clone(),
            fetched: fetched.clone(),
            note,
            pinned_leaf: false,
        })
    })();
    choice.map_err(|e| shown(e, &fetched))
}

/// The chain a server presented, parsed (leaf first).
fn parse_chain(folder: &str, chain: &[Vec<u8>]) -> Result<Vec<CertInfo>> {
    Ok(chain
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
        .collect::<std::result::Result<Vec<_>, _>>()?)
}

/// A registry's token realm on another host, and how dockerd would trust it.
struct Realm {
    url: String,
    /// `host[:port]` of the realm.
    folder: String,
    presented: Vec<CertInfo>,
    /// dockerd (classic image store) would trust it: system roots plus the registry's certs.d
    /// folder as it will be.
    trusted: bool,
}

/// Asks the registry for its `WWW-Authenticate` challenge; for a Bearer realm on another
/// host over https, probes the realm's certificate and checks it the way dockerd's token
/// request does: the classic image store with the registry's own TLS config (system roots plus
/// certs.d/REGISTRY, moby), the containerd image store with the system roots only (seen with
/// 26.1 and 28.5). `will_trust` is what is about to be written for the registry.
fn realm_of(
    folder: &str,
    (host, port): (&str, u16),
    will_trust: &[CertInfo],
    ctx: &Context,
    (now, containerd): (i64, bool),
) -> Result<Option<Realm>> {
    let (_, answer) = tls_probe::probe_and_get(host, port, Some("/v2/"), ProbeOptions::default())?;
    let Some(Ok(resp)) = answer else {
        return Ok(None);
    };
    let challenges = challenge::parse(
        resp.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("www-authenticate"))
            .map(|(_, v)| v.as_str()),
    );
    let Some(url) = challenges
        .iter()
        .find(|c| c.scheme.eq_ignore_ascii_case("bearer"))
        .and_then(|c| c.param("realm"))
        .and_then(|r| Url::parse(r).ok())
    else {
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
        let mut t = HostTrust::load(&ctx.paths.certs_dir, folder).map_err(RegistryError::from)?;
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

/// Trusts the server's own CA-issued certificate: Go (dockerd, skopeo) accepts a certificate
/// that is itself in the root pool. Pinned by fingerprint or confirmed at the terminal.
fn pin_leaf(
    folder: &str,
    leaf: &CertInfo,
    presented: &[CertInfo],
    pinned: bool,
    now: i64,
    force: bool,
    warnings: &mut Vec<String>,
) -> Result<FromServer> {
    let what = format!("the certificate {folder} presented");
    warnings.extend(certs_dir::check_validity(leaf, &what, now, force)?);
    let renewal = hints::pinned_leaf_renewal(&leaf.subject, &leaf.not_after.date());
    if !pinned {
        confirm(folder, presented, &[], leaf, Some(&renewal))?;
    }
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
    })
}

/// Follows AIA "CA Issuers" URLs from `leaf` upwards (at most `MAX_AIA_HOPS`), keeping each
/// download that really issued the certificate below it. Returns the issuers found, and why the
/// first one could not be had when none was.
fn fetch_issuers(leaf: &CertInfo, ctx: &Context) -> (Vec<(String, CertInfo)>, Option<String>) {
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
            match fetch_issuer(url, &current, ctx) {
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
fn fetch_issuer(
    url: &str,
    child: &CertInfo,
    ctx: &Context,
) -> std::result::Result<CertInfo, String> {
    let proxy = Url::parse(url).ok().and_then(|u| {
        ctx.env.proxy.proxy_for(
            u.scheme(),
            u.host_str().unwrap_or_default(),
            u.port_or_known_default().unwrap_or(80),
        )
    });
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

/// Shows every certificate the server presented (and any downloaded) on the terminal and asks
/// about `cert`; no means nothing is written.
fn confirm(
    folder: &str,
    presented: &[CertInfo],
    fetched: &[(String, CertInfo)],
    cert: &CertInfo,
    warning: Option<&str>,
) -> Result<()> {
    eprintln!("{folder} presented:");
    for (i, c) in presented.iter().enumerate() {
        print_cert(&format!("{}/{}", i + 1, presented.len()), c);
    }
    for (url, c) in fetched {
        print_cert(&format!("from {url}"), c);
    }
    eprintln!("To trust: {} (SHA-256 {})", cert.subject, cert.sha256);
    if let Some(w) = warning {
        eprintln!("Note: this trusts exactly this certificate, not a CA; {w}");
    }
    let yes = dialoguer::Confirm::new()
        .with_prompt(format!(
            "Trust it for {folder}? Compare the fingerprint with one you got another way"
        ))
        .default(false)
        .interact()
        .unwrap_or(false);
    if yes {
        Ok(())
    } else {
        Err(CertsError::Declined {
            subject: cert.subject.clone(),
            fingerprint: cert.sha256,
        }
        .into())
    }
}

fn print_cert(label: &str, c: &CertInfo) {
    eprintln!("  [{label}]");
    eprintln!("    subject:     {}", c.subject);
    eprintln!("    issuer:      {}", c.issuer);
    eprintln!("    SHA-256:     {}", c.sha256);
    eprintln!("    valid:       {} to {}", c.not_before, c.not_after);
    eprintln!(
        "    type:        {}{}",
        c.kind.describe(),
        if c.ca { "" } else { " (not a CA)" }
    );
}

/// Whether the dockerd regctl configures uses the containerd image store (its version and
/// daemon.json's features; an unreadable daemon.json counts as empty).
fn containerd_store(ctx: &Context) -> bool {
    let config = JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default();
    ctx.dockerd().target(&config).containerd_store()
}

/// dockerd reads certs.d only for registries it treats as secure (loopback never is).
fn insecure_warning(folder: &str, ctx: &Context) -> Option<String> {
    let file = JsonFile::read(ctx.daemon_config(), FileKind::DAEMON_JSON).ok()?;
    let insecure = InsecureRegistries::from_config(&file.value);
    let resolve = |h: &str| -> Vec<IpAddr> {
        (h, 0)
            .to_socket_addrs()
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default()
    };
    insecure
        .is_insecure(folder, resolve)
        .then(|| hints::insecure_registry_skips_ca(folder))
}

fn remove(folder: &str, roots: &[PathBuf], ctx: &Context) -> Result<Outcome> {
    let mut changes = Vec::new();
    let mut dirs_removed = Vec::new();
    for root in roots {
        let dir = root.join(folder);
        let removal = certs_dir::remove(&dir, ctx.check)?;
        changes.extend(removal.files);
        if removal.dir_removed {
            dirs_removed.push(dir);
        }
    }
    let dirs: Vec<PathBuf> = roots.iter().map(|r| r.join(folder)).collect();
    let mut outcome = report(
        folder,
        &dirs,
        changes,
        ctx,
        "removed",
        "would remove",
        serde_json::Map::new(),
    );
    if !dirs_removed.is_empty() {
        outcome.changed = true;
        outcome.msg.push_str(&format!(
            "; {} {}",
            ctx.did("removed", "would remove"),
            dirs_removed
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(outcome.data("removed_dirs", json!(dirs_removed)))
}

/// The outcome for a set of file changes in one registry's folders: message, diffs, JSON.
fn report(
    folder: &str,
    dirs: &[PathBuf],
    changes: Vec<FileChange>,
    ctx: &Context,
    done: &str,
    would: &str,
    data: serde_json::Map<String, Value>,
) -> Outcome {
    let mut parts = Vec::new();
    for dir in dirs {
        let names: Vec<&str> = changes
            .iter()
            .filter(|c| c.action.changed() && c.path.parent() == Some(dir.as_path()))
            .map(|c| c.name)
            .collect();
        if !names.is_empty() {
            parts.push(format!("{} in {}", names.join(", "), dir.display()));
        }
    }
    let msg = if parts.is_empty() {
        format!("{folder}: nothing to change in {}", join_paths(dirs))
    } else {
        format!("{} {}", ctx.did(done, would), parts.join("; "))
    };
    let mut outcome = Outcome::new(msg)
        .data("registry", json!(folder))
        .data("paths", json!(dirs))
        .data(
            "files",
            json!(changes
                .iter()
                .map(|c| json!({"path": c.path, "action": c.action}))
                .collect::<Vec<_>>()),
        );
    for (k, v) in data {
        outcome = outcome.data(&k, v);
    }
    for c in changes.iter().filter(|c| c.action.changed()) {
        outcome.changed = true;
        outcome.diffs.push(diff_of(c));
    }
    outcome
}

/// A readable diff: fingerprints and subjects, never key material.
fn diff_of(c: &FileChange) -> FileDiff {
    let side = |b: &Option<Vec<u8>>| {
        b.as_deref()
            .map(|bytes| certs_dir::summarize(c.name, bytes))
            .unwrap_or_default()
    };
    let mut after = side(&c.after);
    if c.action == Action::ModeFixed {
        after.push_str(&format!(
            "mode set to {:o}\n",
            if c.name == CLIENT_KEY {
                KEY_MODE
            } else {
                CERT_MODE
            }
        ));
    }
    FileDiff {
        path: c.path.clone(),
        before: side(&c.before),
        after,
    }
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p: &PathBuf| Path::display(p).to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
