//! `trust-ca REGISTRY [CA_FILE | --from-server] [--client-cert ... --client-key ...]`: reads and
//! checks what to install (local files first, so that a bad pair fails before any network or
//! prompt), then writes it to the certs.d folders or the OS trust store and reports.

use std::path::PathBuf;

use serde_json::{json, Map};

use super::outcome::{installed, Installed};
use super::realm;
use super::report::insecure_warning;
use super::server;
use crate::cli::TrustCaArgs;
use crate::commands::certs::now;
use crate::context::Context;
use crate::error::Result;
use crate::files::certs_dir::x509::Encoding;
use crate::files::certs_dir::{self, Managed};
use crate::files::certs_dir::{CA_FILE, CERT_MODE, CLIENT_CERT, CLIENT_KEY, KEY_MODE};
use crate::files::trust;
use crate::output::{Outcome, Printer};

/// What the command gathered before writing anything.
#[derive(Default)]
pub struct Gathered {
    pub warnings: Vec<String>,
    pub notes: Vec<String>,
    pub files: Vec<Managed>,
    pub data: Map<String, serde_json::Value>,
    pub realm: realm::RealmWork,
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
        Some(server::server_ca(
            folder,
            server::Run {
                args,
                ctx,
                printer,
                now,
            },
            &mut g,
        )?)
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
    let texts = (g.notes, g.warnings);
    let done = Installed {
        dirs,
        changes,
        data: g.data,
        saves,
        restart_hint,
    };
    Ok(installed(args, folder, ca.as_ref(), done, texts, ctx))
}

fn managed(name: &'static str, pem: String, mode: u32) -> Managed {
    Managed {
        name,
        bytes: pem.into_bytes(),
        mode,
    }
}
