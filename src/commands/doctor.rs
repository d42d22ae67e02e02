//! `regctl doctor [REGISTRY...] [--timeout SECS] [--explain TEXT]`: runs the diagnosis (or the
//! offline explanation) and renders it as a checklist for people or as JSON.

use colored::Colorize;
use serde_json::{json, Value};

use crate::cli::DoctorArgs;
use crate::context::Context;
use crate::doctor::{self, explain, Inputs, RegistryReport, Status};
use crate::error::Result;
use crate::files::daemon_config::{self, InsecureEntry};
use crate::files::json_file::{FileKind, JsonFile};
use crate::names::{self, RegistryName};
use crate::output::Outcome;
use crate::registry::engine::{Detecting, Engine};

pub fn run(args: &DoctorArgs, ctx: &Context) -> Result<Outcome> {
    if let Some(text) = &args.explain {
        let engine = engine(ctx);
        let facing = explain::Facing {
            engine: &engine,
            certs_dir: &ctx.paths.certs_dir,
        };
        return Ok(explain_outcome(text, &facing));
    }
    let inputs = Inputs {
        daemon_config: ctx.paths.daemon_config.clone(),
        client_config: ctx.paths.client_config(),
        certs_dir: ctx.paths.certs_dir.clone(),
        containerd_certs_dir: ctx.paths.containerd_certs_dir.clone(),
        registries_conf_d: ctx.paths.registries_conf_d.clone(),
        systemd_dropin_dirs: ctx.paths.docker_service_dropins.clone(),
        proxy_env: ctx.env.proxy.clone(),
        path_dirs: ctx.paths.exec_path.clone(),
        keychain: ctx.paths.keychain.clone(),
        timeout: args.timeout,
        dockerd: ctx.dockerd(),
        engine: std::sync::Arc::new(Detecting::start(
            ctx.dockerd(),
            ctx.paths.exec_path.clone(),
            daemon_json(ctx),
        )),
    };
    let targets = if args.registries.is_empty() {
        configured_registries(ctx)
    } else {
        args.registries
            .iter()
            .map(|r| names::parse(r))
            .collect::<std::result::Result<Vec<_>, _>>()?
    };
    let reports = if targets.is_empty() {
        vec![doctor::diagnose_local(&inputs)]
    } else {
        doctor::diagnose_all(&targets, &inputs)
    };
    let ok = reports.iter().all(|r| r.ok);
    let failed = reports.iter().filter(|r| !r.ok).count();
    let msg = if targets.is_empty() {
        format!(
            "local configuration {}",
            if ok { "is valid" } else { "has problems" }
        )
    } else if ok {
        format!(
            "{} registr{} healthy",
            reports.len(),
            if reports.len() == 1 { "y" } else { "ies" }
        )
    } else {
        format!(
            "{failed} of {} registr{} with problems",
            reports.len(),
            if reports.len() == 1 { "y" } else { "ies" }
        )
    };
    let mut outcome = Outcome::new(msg)
        .info_if(
            targets.is_empty(),
            "no registry is named in config.json or daemon.json; name one: regctl doctor HOST",
        )
        .data("ok", json!(ok))
        .data(
            "registries",
            serde_json::to_value(&reports).expect("reports serialize"),
        )
        .text(render(&reports));
    outcome.failed = !ok;
    Ok(outcome)
}

/// Every registry config.json and daemon.json name, once each, sorted by host.
fn configured_registries(ctx: &Context) -> Vec<RegistryName> {
    let mut raw: Vec<String> = Vec::new();
    if let Ok(client) = JsonFile::read(&ctx.paths.client_config(), FileKind::CLIENT_CONFIG) {
        for key in ["auths", "credHelpers"] {
            if let Some(map) = client.value.get(key).and_then(Value::as_object) {
                raw.extend(map.keys().cloned());
            }
        }
    }
    if let Ok(daemon) = JsonFile::read(&ctx.paths.daemon_config, FileKind::DAEMON_JSON) {
        raw.extend(
            daemon_config::string_list(&daemon.value, daemon_config::MIRRORS)
                .ok()
                .flatten()
                .unwrap_or_default(),
        );
        for entry in daemon_config::string_list(&daemon.value, daemon_config::INSECURE)
            .ok()
            .flatten()
            .unwrap_or_default()
        {
            if let Ok((InsecureEntry::Host(h), _)) = daemon_config::parse_insecure(&entry) {
                raw.push(h);
            }
        }
    }
    let mut out: Vec<RegistryName> = Vec::new();
    for r in raw {
        if let Ok(n) = names::parse(&r) {
            if !out.iter().any(|o| o.host == n.host) {
                out.push(n);
            }
        }
    }
    out.sort_by(|a, b| a.host.cmp(&b.host));
    out
}

/// The checklist: one block per registry, a mark per check, its time, and the fix under it.
fn render(reports: &[RegistryReport]) -> String {
    let mut out = String::new();
    for (i, r) in reports.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let head = if r.ok {
            r.registry.green().bold()
        } else {
            r.registry.red().bold()
        };
        out.push_str(&format!("{head}\n"));
        for c in &r.checks {
            let mark = match c.status {
                Status::Ok => "✓".green(),
                Status::Warn => "!".yellow().bold(),
                Status::Fail => "✗".red().bold(),
                Status::Skip => "-".dimmed(),
            };
            out.push_str(&format!(
                "  {mark} {} {} {}\n",
                c.id.dimmed(),
                c.message,
                format!("({} ms)", c.ms).dimmed()
            ));
            if let Some(fix) = &c.fix {
                out.push_str(&format!("      {} {fix}\n", "fix:".green().bold()));
            }
        }
    }
    out
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

fn explain_outcome(text: &str, facing: &explain::Facing<'_>) -> Outcome {
    let found = explain::explain_for(text, Some(facing));
    let mut out = String::new();
    for e in &found {
        out.push_str(&format!("{} {}\n", "recognised:".bold(), e.matched));
        out.push_str("  likely causes:\n");
        for c in &e.causes {
            out.push_str(&format!("    - {c}\n"));
        }
        out.push_str(&format!(
            "  doctor checks that confirm it: {}\n",
            e.checks.join(", ")
        ));
        out.push_str("  fixes:\n");
        for f in &e.fixes {
            out.push_str(&format!("    - {f}\n"));
        }
    }
    let mut outcome = Outcome::new(if found.is_empty() {
        "no known cause for this error; diagnose the registry instead: regctl doctor REGISTRY"
            .to_string()
    } else {
        format!(
            "{} known cause{} found",
            found.len(),
            if found.len() == 1 { "" } else { "s" }
        )
    })
    .data(
        "explanations",
        serde_json::to_value(&found).expect("explanations serialize"),
    )
    .text(out);
    if let Some(host) = explain::registry_host(text) {
        outcome = outcome.data("registry", json!(host));
    }
    outcome.failed = found.is_empty();
    outcome
}
