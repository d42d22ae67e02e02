//! `regctl certs list`: each registry folder under certs.d with its files, subjects, expiry and
//! the problems `files::certs_dir::lint` finds, each with its stable id and fix.

use serde_json::{json, Value};

use super::text::{file_lines, problem_line};
use crate::commands::certs::now;
use crate::context::Context;
use crate::error::Result;
use crate::files::certs_dir::lint::{self, Problem};
use crate::files::certs_dir::{self};
use crate::hints;
use crate::output::Outcome;

pub fn run(
    registry: Option<&str>,
    containers: bool,
    containerd: bool,
    ctx: &Context,
) -> Result<Outcome> {
    let root = if containers {
        &ctx.paths.containers_certs_dir
    } else if containerd {
        &ctx.paths.containerd_certs_dir
    } else {
        &ctx.paths.certs_dir
    };
    // containerd has a folder for Docker Hub too (docker.io/hosts.toml).
    let only = match registry {
        Some(r) if containerd => Some(crate::commands::host_targets::hosts_folder(r)?),
        Some(r) => Some(certs_dir::folder_name(r)?),
        None => None,
    };
    let report = lint::lint_tree(root, only.as_deref(), now());

    let with_fix = |p: &Problem, dir: &std::path::Path| -> Value {
        let mut v = json!(p);
        if let Some(fix) = hints::certs_problem_fix(p.id, dir, p.file.as_deref()) {
            v["fix"] = json!(fix);
        }
        v
    };
    let mut text = String::new();
    let mut folders = Vec::new();
    for p in &report.problems {
        text.push_str(&problem_line(
            p,
            &hints::certs_problem_fix(p.id, root, p.file.as_deref()),
        ));
    }
    for f in &report.folders {
        text.push_str(&format!("{}  ({})\n", f.name, f.path.display()));
        if f.files.is_empty() {
            text.push_str("  (empty)\n");
        }
        for file in &f.files {
            text.push_str(&file_lines(file));
        }
        for p in &f.problems {
            text.push_str(&problem_line(
                p,
                &hints::certs_problem_fix(p.id, &f.path, p.file.as_deref()),
            ));
        }
        let mut v = json!(f);
        v["problems"] = json!(f
            .problems
            .iter()
            .map(|p| with_fix(p, &f.path))
            .collect::<Vec<_>>());
        folders.push(v);
    }
    let count = report.problem_count();
    let msg = match (report.folders.len(), &only) {
        (0, Some(name)) => format!("no folder for {name} in {}", root.display()),
        (0, None) => format!("no registry folders in {}", root.display()),
        (n, _) => format!(
            "{n} registry folder{} in {}",
            if n == 1 { "" } else { "s" },
            root.display()
        ),
    };
    let msg = match count {
        0 => msg,
        1 => format!("{msg}; 1 problem"),
        n => format!("{msg}; {n} problems"),
    };
    Ok(Outcome::new(msg)
        .data("root", json!(root))
        .data("registries", Value::Array(folders))
        .data(
            "problems",
            json!(report
                .problems
                .iter()
                .map(|p| with_fix(p, root))
                .collect::<Vec<_>>()),
        )
        .data("problem_count", json!(count))
        .text(text))
}
