//! `regctl mirror list [--probe]`: the mirrors as configured, or Docker Hub's mirrors tested
//! (doctor's mirror probe) and listed fastest first with verdicts and fixes.

use std::time::Duration;

use colored::Colorize;
use serde_json::json;

use crate::commands::host_targets;
use crate::context::Context;
use crate::doctor::mirror::{self, Verdict};
use crate::error::Result;
use crate::output::Outcome;

pub fn run(probe: bool, probe_image: &str, timeout: Duration, ctx: &Context) -> Result<Outcome> {
    if !probe {
        return host_targets::mirror_list(ctx);
    }
    let inputs = crate::commands::doctor::inputs(ctx, timeout, probe_image)?;
    let probes = mirror::probe_all(&inputs);
    let fallback = mirror::fallback(&probes);
    let serving = probes.iter().filter(|p| p.latency_ms.is_some()).count();
    let mut text = String::new();
    for p in &probes {
        let verdict = match p.verdict {
            Verdict::Live => "live".green(),
            Verdict::Slow => "slow".yellow(),
            Verdict::NotAMirror => "not a mirror".red(),
            Verdict::Dead => "dead".red(),
            Verdict::DnsDown => "dns down".red(),
        };
        let latency = p
            .latency_ms
            .map(|ms| format!("{ms} ms"))
            .unwrap_or_else(|| "-".into());
        text.push_str(&format!(
            "#{} {} {verdict} {latency}\n    {}\n",
            p.position, p.url, p.message
        ));
        if let Some(fix) = &p.fix {
            text.push_str(&format!("    {} {fix}\n", "fix:".green().bold()));
        }
    }
    if let Some(f) = &fallback {
        text.push_str(&format!("{}\n", f.message));
    }
    let mut outcome = Outcome::new(format!(
        "{serving} of {} Docker Hub mirror{} serve {probe_image}",
        probes.len(),
        if probes.len() == 1 { "" } else { "s" }
    ))
    .data("probe_image", json!(probe_image))
    .data(
        "mirrors",
        serde_json::to_value(&probes).expect("probes serialize"),
    )
    .data(
        "fallback",
        serde_json::to_value(&fallback).expect("checks serialize"),
    )
    .text(text);
    outcome.failed = probes.iter().any(|p| p.latency_ms.is_none());
    Ok(outcome)
}
