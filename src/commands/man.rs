//! `regctl man DIR`: writes regctl.1 and one page per subcommand (regctl-mirror-add.1, ...),
//! rewriting only pages whose text changed.

use std::path::Path;

use clap::CommandFactory;
use serde_json::json;

use crate::cli::Cli;
use crate::context::Context;
use crate::error::Result;
use crate::files::atomic::write_atomic;
use crate::files::json_file::FileError;
use crate::output::Outcome;

/// Every page as (file name, roff text).
pub fn pages() -> Vec<(String, Vec<u8>)> {
    fn collect(cmd: &clap::Command, prefix: &str, out: &mut Vec<(String, Vec<u8>)>) {
        let name = if prefix.is_empty() {
            cmd.get_name().to_string()
        } else {
            format!("{prefix}-{}", cmd.get_name())
        };
        let page_cmd = cmd.clone().name(name.clone()).display_name(name.clone());
        let mut text = Vec::new();
        clap_mangen::Man::new(page_cmd)
            .render(&mut text)
            .expect("rendering to memory does not fail");
        out.push((format!("{name}.1"), text));
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
            collect(sub, &name, out);
        }
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    collect(&cmd, "", &mut out);
    out
}

pub fn run(dir: &Path, ctx: &Context) -> Result<Outcome> {
    let mut written = Vec::new();
    for (name, text) in pages() {
        let path = dir.join(&name);
        if std::fs::read(&path).ok().as_deref() == Some(text.as_slice()) {
            continue;
        }
        if !ctx.check {
            std::fs::create_dir_all(dir).map_err(|source| FileError::Write {
                path: dir.to_path_buf(),
                source,
            })?;
            write_atomic(&path, &text, 0o644, None).map_err(|source| FileError::Write {
                path: path.clone(),
                source,
            })?;
        }
        written.push(name);
    }
    let mut outcome = Outcome::new(if written.is_empty() {
        format!("man pages in {} are up to date", dir.display())
    } else {
        format!(
            "{} {} man page{} in {}",
            ctx.did("wrote", "would write"),
            written.len(),
            if written.len() == 1 { "" } else { "s" },
            dir.display()
        )
    })
    .data("dir", json!(dir))
    .data("written", json!(written));
    outcome.changed = !written.is_empty();
    Ok(outcome)
}
