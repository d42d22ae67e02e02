//! `regctl doctor [REGISTRY...] [--timeout SECS] [--probe-image IMAGE] [--explain TEXT]`: runs
//! the diagnosis (the local configuration once, every registry, Docker Hub with its mirrors) or
//! the offline explanation, rendered by `render` for people or as JSON.

use std::time::Duration;

use serde_json::{json, Value};

use crate::cli::DoctorArgs;
use crate::context::Context;
use crate::doctor::{self, explain, Inputs};
use crate::error::Result;
use crate::files::json_file::{FileKind, JsonFile};
use crate::names;
use crate::output::Outcome;
use crate::registry::engine::{Detecting, Engine};

pub mod render;
mod targets;

pub fn run(args: &DoctorArgs, ctx: &Context) -> Result<Outcome> {
    if let Some(text) = &args.explain {
        let engine = engine(ctx);
        let facing = explain::Facing {
            engine: &engine,
            certs_dir: &ctx.paths.certs_dir,
        };
        return Ok(render::explain_outcome(text, &facing));
    }
    let inputs = inputs(ctx, args.timeout, &args.probe_image)?;
    let targets = if args.registries.is_empty() {
        targets::configured(ctx)
    } else {
        args.registries
            .iter()
            .map(|r| names::parse(r))
            .collect::<std::result::Result<Vec<_>, _>>()?
    };
    let local = doctor::diagnose_local(&inputs);
    let reports = doctor::diagnose_all(&targets, &inputs);
    let ok = local.ok && reports.iter().all(|r| r.ok);
    let failed = reports.iter().filter(|r| !r.ok).count();
    let plural = |n: usize| if n == 1 { "y" } else { "ies" };
    let mut msg = if failed == 0 {
        format!("{} registr{} healthy", reports.len(), plural(reports.len()))
    } else {
        format!(
            "{failed} of {} registr{} with problems",
            reports.len(),
            plural(reports.len())
        )
    };
    if !local.ok {
        msg.push_str("; the local configuration has problems");
    }
    let mut outcome = Outcome::new(msg)
        .data("ok", json!(ok))
        .data(
            "local",
            serde_json::to_value(&local).expect("report serializes"),
        )
        .data(
            "registries",
            serde_json::to_value(&reports).expect("reports serialize"),
        )
        .text(render::reports(&local, &reports));
    outcome.failed = !ok;
    Ok(outcome)
}

/// What the diagnosis reads, resolved from the context (also for `mirror list --probe`).
pub fn inputs(ctx: &Context, timeout: Duration, probe_image: &str) -> Result<Inputs> {
    Ok(Inputs {
        daemon_config: ctx.paths.daemon_config.clone(),
        client_config: ctx.paths.client_config(),
        certs_dir: ctx.paths.certs_dir.clone(),
        containerd_certs_dir: ctx.paths.containerd_certs_dir.clone(),
        registries_conf_d: ctx.paths.registries_conf_d.clone(),
        systemd_dropin_dirs: ctx.paths.docker_service_dropins.clone(),
        proxy_env: ctx.env.proxy.clone(),
        path_dirs: ctx.paths.exec_path.clone(),
        keychain: ctx.paths.keychain.clone(),
        timeout,
        dockerd: ctx.dockerd(),
        engine: std::sync::Arc::new(Detecting::start(
            ctx.dockerd(),
            ctx.paths.exec_path.clone(),
            daemon_json(ctx),
        )),
        resolv_conf: ctx.paths.resolv_conf.clone(),
        docker_hub_ip: ctx.env.docker_hub_ip,
        probe_image: probe_image.to_string(),
        now: std::time::SystemTime::now(),
    })
}

/// The Docker whose rules apply: the binaries on PATH and daemon.json.
fn engine(ctx: &Context) -> Engine {
    Engine::detect(&ctx.dockerd(), &ctx.paths.exec_path, &daemon_json(ctx))
}

fn daemon_json(ctx: &Context) -> serde_json::Map<String, Value> {
    JsonFile::read(&ctx.paths.daemon_config, FileKind::DAEMON_JSON)
        .map(|f| f.value)
        .unwrap_or_default()
}
