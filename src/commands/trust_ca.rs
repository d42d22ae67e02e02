//! `regctl trust-ca`: install a registry's CA (from a file or from the chain the server presents)
//! and optionally a client pair into certs.d, for docker and on request for podman/skopeo; or
//! remove them. Validation lives in `files::certs_dir`; this file decides, asks and reports.

use std::net::{IpAddr, ToSocketAddrs};
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::cli::TrustCaArgs;
use crate::commands::certs::now;
use crate::context::Context;
use crate::error::Result;
use crate::files::certs_dir::x509::{Bundle, CertInfo, Encoding};
use crate::files::certs_dir::{
    self, Action, CertsError, FileChange, Managed, CA_FILE, CERT_MODE, CLIENT_CERT, CLIENT_KEY,
    KEY_MODE,
};
use crate::files::daemon_config::InsecureRegistries;
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::output::{FileDiff, Outcome};
use crate::registry::names;
use crate::registry::tls_probe::{self, ProbeOptions};

/// The certs.d roots a command works on: docker's, and podman/skopeo's with `--containers`.
fn roots(ctx: &Context, containers: bool) -> Vec<PathBuf> {
    let mut roots = vec![ctx.paths.certs_dir.clone()];
    if containers {
        roots.push(ctx.paths.containers_certs_dir.clone());
    }
    roots
}

pub fn run(args: &TrustCaArgs, ctx: &Context) -> Result<Outcome> {
    let folder = certs_dir::folder_name(&args.registry)?;
    // A malformed pin fails before any file, DNS lookup or connection.
    if let Some(pin) = &args.fingerprint {
        certs_dir::parse_pin(pin)?;
    }
    let roots = roots(ctx, args.containers);
    if args.remove {
        return remove(&folder, &roots, ctx);
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
        let (anchor, chain, note) = from_server(&folder, args, ctx, now, &mut warnings)?;
        notes.push(note);
        data.insert("source".into(), json!("server"));
        data.insert("presented".into(), json!(chain));
        Some(Bundle {
            encoding: Encoding::Der,
            certs: vec![anchor],
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

    // All roots or none (`--containers`): a failure in the second leaves the first untouched.
    let dirs: Vec<PathBuf> = roots.iter().map(|r| r.join(&folder)).collect();
    let changes = certs_dir::install(&dirs, &files, ctx.check)?;
    if let Some(w) = insecure_warning(&folder, ctx) {
        warnings.push(w);
    }
    let mut outcome = report(&folder, &roots, changes, ctx, "wrote", "would write", data);
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
    if outcome.changed {
        outcome = outcome.info(hints::certs_take_effect(args.containers));
    }
    Ok(outcome)
}

/// Fetches the chain, picks the certificate to trust and gets it confirmed: by the pinned
/// fingerprint, or by the person at the terminal. Returns it, the chain, and a note on the choice.
fn from_server(
    folder: &str,
    args: &TrustCaArgs,
    ctx: &Context,
    now: i64,
    warnings: &mut Vec<String>,
) -> Result<(CertInfo, Vec<CertInfo>, String)> {
    let name = names::parse(&args.registry).map_err(CertsError::from)?;
    let presented = tls_probe::probe(
        name.hostname(),
        name.port().unwrap_or(443),
        ProbeOptions::default(),
    )?;
    let chain = presented
        .chain
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
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let anchor = certs_dir::pick_anchor(&chain, folder)?.clone();
    let what = format!("the certificate {folder} presented");
    warnings.extend(certs_dir::check_anchor(&anchor, &what, now, args.force)?);
    let note = if chain.len() == 1 {
        format!("{folder} uses a self-signed certificate; trusting it")
    } else if anchor.self_signed {
        format!("{folder} sent its root CA; trusting {}", anchor.subject)
    } else {
        format!(
            "{folder} did not send its root CA; trusting its topmost intermediate {} (issued by {})",
            anchor.subject, anchor.issuer
        )
    };
    match (&args.fingerprint, ctx.check, ctx.interactive) {
        (Some(pin), _, _) => certs_dir::check_pin(&anchor, folder, pin)?,
        // Nothing is written in check mode, so nothing needs confirming.
        (None, true, _) => {}
        (None, false, true) => confirm(folder, &anchor)?,
        (None, false, false) => {
            return Err(CertsError::FingerprintRequired {
                host: folder.to_string(),
                subject: anchor.subject.clone(),
                fingerprint: anchor.sha256,
            }
            .into())
        }
    }
    Ok((anchor, chain, note))
}

/// Shows the certificate on the terminal and asks; no means nothing is written.
fn confirm(folder: &str, cert: &CertInfo) -> Result<()> {
    eprintln!("{folder} presented:");
    eprintln!("  subject:     {}", cert.subject);
    eprintln!("  issuer:      {}", cert.issuer);
    eprintln!("  SHA-256:     {}", cert.sha256);
    eprintln!("  valid:       {} to {}", cert.not_before, cert.not_after);
    eprintln!("  type:        {}", cert.kind.describe());
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
    let mut outcome = report(
        folder,
        roots,
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
    roots: &[PathBuf],
    changes: Vec<FileChange>,
    ctx: &Context,
    done: &str,
    would: &str,
    data: serde_json::Map<String, Value>,
) -> Outcome {
    let dirs: Vec<PathBuf> = roots.iter().map(|r| r.join(folder)).collect();
    let mut parts = Vec::new();
    for dir in &dirs {
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
        format!("{folder}: nothing to change in {}", join_paths(&dirs))
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
