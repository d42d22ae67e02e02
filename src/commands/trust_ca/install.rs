//! `trust-ca REGISTRY [CA_FILE | --from-server] [--client-cert ... --client-key ...]`: reads and
//! checks what to install (local files first, so that a bad pair fails before any network or
//! prompt), then writes it to the certs.d folders or the OS trust store and reports.

use std::path::PathBuf;

use serde_json::{json, Map};

use super::realm::{self, der_bundle};
use super::report::{containerd_store, insecure_warning, report};
use crate::cli::TrustCaArgs;
use crate::commands::certs::now;
use crate::context::Context;
use crate::error::{fetched_json, Result};
use crate::files::certs_dir::x509::{Bundle, Encoding};
use crate::files::certs_dir::{self, CertsError, Managed};
use crate::files::certs_dir::{CA_FILE, CERT_MODE, CLIENT_CERT, CLIENT_KEY, KEY_MODE};
use crate::files::trust;
use crate::hints;
use crate::output::{Outcome, Printer};
use crate::registry::from_server;
use crate::registry::names;

/// What the command gathered before writing anything.
#[derive(Default)]
struct Gathered {
    warnings: Vec<String>,
    notes: Vec<String>,
    files: Vec<Managed>,
    data: Map<String, serde_json::Value>,
    realm: realm::RealmWork,
}

pub fn run(
    args: &TrustCaArgs,
    folder: &str,
    roots: &[PathBuf],
    hosts: &[PathBuf],
    ctx: &Context,
    printer: &Printer,
) -> Result<Outcome> {
    let now = now();
    let mut g = Gathered::default();
    if let (Some(cert), Some(key)) = (&args.client_cert, &args.client_key) {
        let (pair, w) = certs_dir::read_client_pair(cert, key, now, args.force)?;
        g.warnings.extend(w);
        g.data
            .insert("client_certificate".into(), json!(pair.certs.certs[0]));
        let key_json =
            json!({"algorithm": pair.key.algorithm, "public_sha256": pair.key.public_sha256});
        g.data.insert("client_key".into(), key_json);
        g.files
            .push(managed(CLIENT_CERT, pair.certs.pem(), CERT_MODE));
        g.files.push(managed(CLIENT_KEY, pair.key.pem, KEY_MODE));
    }
    let ca = if let Some(path) = &args.ca_file {
        let bundle = certs_dir::read_bundle(path)?;
        let what = path.display().to_string();
        g.warnings
            .extend(certs_dir::check_ca_bundle(&bundle, &what, now, args.force)?);
        if bundle.encoding == Encoding::Der {
            g.notes
                .push(format!("{} is DER; written as PEM", path.display()));
        }
        g.data.insert("source".into(), json!("file"));
        Some(bundle)
    } else if args.from_server {
        Some(server_ca(args, folder, ctx, printer, &mut g, now)?)
    } else {
        None
    };
    if let Some(bundle) = &ca {
        g.data.insert("certificates".into(), json!(bundle.certs));
        g.files.insert(0, managed(CA_FILE, bundle.pem(), CERT_MODE));
    }
    g.files.append(&mut g.realm.files);
    let mut changes = Vec::new();
    let mut saves = Vec::new();
    let dirs = if args.system {
        let bundle = ca
            .as_ref()
            .expect("--system needs CA_FILE or --from-server (clap)");
        let root = &ctx.paths.system_trust_root;
        let done = trust::system_install(root, folder, bundle, &ctx.paths.exec_path, ctx.check)?;
        changes.extend(done.changes);
        g.notes.extend(done.updated);
        g.data
            .insert("system_layout".into(), json!(done.store.layout));
        g.data
            .insert("system_bundle".into(), json!(done.store.bundle));
        vec![done.store.anchors_dir]
    } else {
        // All roots or none (`--containers`): a failure in the second leaves the first untouched.
        let dirs: Vec<PathBuf> = roots.iter().map(|r| r.join(folder)).collect();
        changes.extend(certs_dir::install(&dirs, &g.files, ctx.check)?);
        g.warnings.extend(insecure_warning(folder, ctx));
        if ca.is_some() {
            saves = trust::name_ca_in_hosts(folder, hosts, true, ctx.check)?;
        }
        dirs
    };
    let mut dirs = dirs;
    let mut restart_hint = false;
    for s in g.realm.system.drain(..) {
        restart_hint |= s.changes.iter().any(|c| c.action.changed());
        dirs.push(s.store.anchors_dir);
        changes.extend(s.changes);
    }
    let mut outcome = report(folder, &dirs, changes, ctx, ("wrote", "would write"));
    for (k, v) in g.data {
        outcome = outcome.data(&k, v);
    }
    for s in saves.iter().filter(|s| s.changed) {
        outcome.msg.push_str(&format!(
            "; {} ca = \"{CA_FILE}\" in {}",
            ctx.did("named", "would name"),
            s.path.display()
        ));
        outcome = outcome.with_save(s);
    }
    let text: String = ca
        .iter()
        .flat_map(|b| &b.certs)
        .map(|c| format!("{CA_FILE}  {}\n", c.summary()))
        .collect();
    outcome = outcome.text(text);
    for n in g.notes {
        outcome = outcome.info(n);
    }
    for w in g.warnings {
        outcome = outcome.warn(w);
    }
    let rootless = ctx.paths.rootless;
    if restart_hint && !args.system {
        outcome = outcome.info(hints::system_roots_take_effect(rootless));
    }
    if outcome.changed {
        outcome = outcome.info(if args.system {
            hints::system_roots_take_effect(rootless)
        } else {
            hints::certs_take_effect(args.containers)
        });
    }
    Ok(outcome)
}

fn managed(name: &'static str, pem: String, mode: u32) -> Managed {
    Managed {
        name,
        bytes: pem.into_bytes(),
        mode,
    }
}

/// `--from-server`: the CA from the registry's chain, and its token realm's trust.
fn server_ca(
    args: &TrustCaArgs,
    folder: &str,
    ctx: &Context,
    printer: &Printer,
    g: &mut Gathered,
    now: i64,
) -> Result<Bundle> {
    let name = names::parse(&args.registry).map_err(CertsError::from)?;
    let target = (name.hostname(), name.port().unwrap_or(443));
    let pin = (args.fingerprint.as_deref(), "--fingerprint");
    let got = realm::from_server(
        folder,
        target,
        pin,
        ctx,
        printer,
        &mut g.warnings,
        (now, args.force),
    )?;
    g.notes.push(got.note);
    g.data.insert("source".into(), json!("server"));
    g.data.insert("presented".into(), json!(got.presented));
    g.data.insert("fetched".into(), fetched_json(&got.fetched));
    g.data.insert("pinned_leaf".into(), json!(got.pinned_leaf));
    let certs = got.trust;
    let containerd = containerd_store(ctx);
    let found = from_server::realm_of(
        folder,
        target,
        &certs,
        &ctx.paths.certs_dir,
        (now, containerd),
    );
    let found = match found {
        Ok(r) => r,
        Err(e) if !args.with_realm => {
            let e = crate::error::Error::from_server(e, "--fingerprint");
            g.warnings
                .push(format!("could not check {folder}'s token realm: {e}"));
            None
        }
        Err(e) => return Err(crate::error::Error::from_server(e, "--fingerprint")),
    };
    if let Some(r) = found {
        let lists = (&mut g.notes, &mut g.warnings);
        let (json, work) = realm::handle(r, folder, args, containerd, ctx, printer, lists, now)?;
        g.data.insert("realm".into(), json);
        g.realm = work;
    }
    Ok(der_bundle(certs))
}
