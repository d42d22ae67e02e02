//! `trust-ca --from-server --with-realm`: what a registry's token realm on another host needs
//! so that dockerd's token request trusts it too.

use serde_json::{json, Map, Value};
use url::Url;

use super::server::{from_server, Run};
use crate::error::Result;
use crate::files::certs_dir::x509::{Bundle, CertInfo, Encoding};
use crate::files::certs_dir::{Managed, CERT_MODE, REALM_CA_FILE};
use crate::files::trust;
use crate::hints;
use crate::registry::from_server::Realm;

/// What the realm adds to the command: files beside ca.crt or OS trust store changes, notes,
/// and its JSON.
#[derive(Default)]
pub struct RealmWork {
    pub files: Vec<Managed>,
    pub system: Vec<trust::SystemChange>,
}

/// The realm's trust, as dockerd's token request will see it: trusted already, made trusted
/// (`--with-realm`: realm-ca.crt for the classic image store, the OS trust store for the
/// containerd image store), or a warning saying how.
pub fn handle(
    realm: Realm,
    folder: &str,
    containerd: bool,
    run: Run<'_>,
    (notes, warnings): (&mut Vec<String>, &mut Vec<String>),
) -> Result<(Value, RealmWork)> {
    let (args, ctx) = (run.args, run.ctx);
    let mut work = RealmWork::default();
    let mut out = Map::new();
    out.insert("url".into(), json!(realm.url));
    out.insert("registry".into(), json!(realm.folder));
    out.insert("presented".into(), json!(realm.presented));
    out.insert("trusted".into(), json!(realm.trusted));
    if realm.trusted {
        notes.push(format!(
            "the token realm {} is trusted the way dockerd's token request checks it (system roots and {folder}'s certs.d folder)",
            realm.url
        ));
    } else if args.with_realm {
        let url = Url::parse(&realm.url).expect("parsed before");
        let target = (
            url.host_str().unwrap_or_default(),
            url.port_or_known_default().unwrap_or(443),
        );
        let pin = (args.realm_fingerprint.as_deref(), "--realm-fingerprint");
        let got = from_server(&realm.folder, target, pin, run, warnings)?;
        out.insert("certificates".into(), json!(got.trust));
        let bundle = der_bundle(got.trust);
        if containerd {
            // The containerd image store's token request reads only the system roots.
            let root = &ctx.paths.system_trust_root;
            let done = trust::system_install(
                root,
                &realm.folder,
                &bundle,
                &ctx.paths.exec_path,
                ctx.check,
            )?;
            notes.push(format!(
                "token realm {}: {}; installed into the OS trust store ({}), which the containerd image store uses for the token request",
                realm.url,
                got.note,
                done.store.anchors_dir.display()
            ));
            notes.extend(done.updated.clone());
            out.insert("system_bundle".into(), json!(done.store.bundle));
            work.system.push(done);
        } else {
            notes.push(format!(
                "token realm {}: {}; written as {REALM_CA_FILE} in {folder}'s folder, which dockerd's classic image store uses for the token request",
                realm.url, got.note
            ));
            work.files.push(Managed {
                name: REALM_CA_FILE,
                bytes: bundle.pem().into_bytes(),
                mode: CERT_MODE,
            });
        }
    } else {
        let top = realm.presented.last().map(|c| c.sha256.to_string());
        let issuer = realm.presented.first().map(|c| c.issuer.as_str());
        warnings.push(hints::realm_untrusted(
            &realm.url,
            &realm.folder,
            issuer.unwrap_or("?"),
            &ctx.argv,
            top.as_deref().unwrap_or("SHA256"),
            containerd,
        ));
    }
    let store = if containerd { "containerd" } else { "classic" };
    out.insert("image_store".into(), json!(store));
    Ok((Value::Object(out), work))
}

/// Certificates from a server, as a bundle to write.
pub fn der_bundle(certs: Vec<CertInfo>) -> Bundle {
    Bundle {
        encoding: Encoding::Der,
        certs,
    }
}
