//! `trust-ca --from-server`: the registry's chain (and, with `--with-realm`, its token realm's)
//! chosen by `registry::from_server`, confirmed by the pin or at the terminal.

use serde_json::json;
use url::Url;

use super::confirm;
use super::install::Gathered;
use super::realm::{self, der_bundle};
use super::report::containerd_store;
use crate::cli::TrustCaArgs;
use crate::context::Context;
use crate::error::{fetched_json, Error, Result};
use crate::files::certs_dir::x509::Bundle;
use crate::files::certs_dir::CertsError;
use crate::names;
use crate::output::Printer;
use crate::registry::from_server::{self, FromServer, Mode};

/// One `trust-ca` run: its arguments, where it runs, who it asks, and its "now".
#[derive(Clone, Copy)]
pub struct Run<'a> {
    pub args: &'a TrustCaArgs,
    pub ctx: &'a Context,
    pub printer: &'a Printer,
    pub now: i64,
}

/// The chain `host:port` presents, what to trust from it, confirmed (by the pin, or asked).
pub fn from_server(
    folder: &str,
    target: (&str, u16),
    (pin, pin_flag): (Option<&str>, &'static str),
    run: Run<'_>,
    warnings: &mut Vec<String>,
) -> Result<FromServer> {
    let (ctx, printer) = (run.ctx, run.printer);
    let mode = Mode {
        check: ctx.check,
        interactive: ctx.interactive,
        now: run.now,
        force: run.args.force,
    };
    let proxy_for = |u: &Url| {
        let port = u.port_or_known_default().unwrap_or(80);
        ctx.env
            .proxy
            .proxy_for(u.scheme(), u.host_str().unwrap_or_default(), port)
    };
    let got = from_server::choose(folder, target, pin, mode, &proxy_for, warnings)
        .map_err(|e| Error::from_server(e, pin_flag))?;
    if let Some(c) = &got.confirm {
        confirm::ask(folder, &got, c, pin_flag, printer)?;
    }
    Ok(got)
}

/// `--from-server`: the CA from the registry's chain, and its token realm's trust.
pub fn server_ca(folder: &str, run: Run<'_>, g: &mut Gathered) -> Result<Bundle> {
    let (args, ctx, now) = (run.args, run.ctx, run.now);
    let name = names::parse(&args.registry).map_err(CertsError::from)?;
    let target = (name.hostname(), name.port().unwrap_or(443));
    let pin = (args.fingerprint.as_deref(), "--fingerprint");
    let got = from_server(folder, target, pin, run, &mut g.warnings)?;
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
            let e = Error::from_server(e, "--fingerprint");
            g.warnings
                .push(format!("could not check {folder}'s token realm: {e}"));
            None
        }
        Err(e) => return Err(Error::from_server(e, "--fingerprint")),
    };
    if let Some(r) = found {
        let lists = (&mut g.notes, &mut g.warnings);
        let (json, work) = realm::handle(r, folder, containerd, run, lists)?;
        g.data.insert("realm".into(), json);
        g.realm = work;
    }
    Ok(der_bundle(certs))
}
