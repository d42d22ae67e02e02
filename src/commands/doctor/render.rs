//! The doctor's text: the local configuration block, then one block per registry (a mark per
//! check, its time, the fix under it); and the `--explain` answer.

use colored::Colorize;
use serde_json::json;

use crate::doctor::{explain, RegistryReport, Status};
use crate::output::Outcome;

/// The checklist: the local block, then the registries.
pub fn reports(local: &RegistryReport, reports: &[RegistryReport]) -> String {
    let mut out = String::new();
    for (i, r) in std::iter::once(local).chain(reports).enumerate() {
        if i > 0 {
            out.push('\n');
        }
        block(&mut out, r);
    }
    out
}

/// One report: its name, a mark per check, its time, and the fix under it.
fn block(out: &mut String, r: &RegistryReport) {
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

/// The `--explain` answer: each recognised error with its causes, checks and fixes.
pub fn explain_outcome(text: &str, facing: &explain::Facing<'_>) -> Outcome {
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
        format!(
            "no known cause for this error; {}",
            crate::hints::doctor_registry()
        )
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
