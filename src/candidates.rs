//! Completion candidates for REGISTRY arguments: the registry names regctl already knows
//! (config.json `auths` and `credHelpers` keys, certs.d folders). It lives beside `Context`, not
//! under `commands`, so that `cli.rs`'s argument declarations point down to it instead of into a
//! verb; the completion callback runs before any command, so this is that process's one path
//! resolution.

use std::ffi::OsStr;

use clap_complete::engine::CompletionCandidate;
use serde_json::Value;

use crate::context::{Environment, PathFlags, Paths};
use crate::files::json_file::{FileKind, JsonFile};

/// The clap completer: [`registry_names`] for the paths regctl would use.
pub fn registry_candidates(current: &OsStr) -> Vec<CompletionCandidate> {
    let paths = Paths::resolve(&PathFlags::from_env(), &Environment::from_process());
    registry_names(&current.to_string_lossy(), &paths)
        .into_iter()
        .map(|(n, what)| CompletionCandidate::new(n).help(Some(what.into())))
        .collect()
}

/// Known registry names that start with `typed`, each once, with where it was found.
pub fn registry_names(typed: &str, paths: &Paths) -> Vec<(String, &'static str)> {
    let mut names: Vec<(String, &'static str)> = Vec::new();
    if let Ok(config) = JsonFile::read(&paths.client_config(), FileKind::CLIENT_CONFIG) {
        for (key, what) in [("auths", "logged in"), ("credHelpers", "credential helper")] {
            if let Some(map) = config.value.get(key).and_then(Value::as_object) {
                names.extend(map.keys().map(|k| (k.clone(), what)));
            }
        }
    }
    if let Ok(entries) = std::fs::read_dir(&paths.certs_dir) {
        names.extend(
            entries
                .flatten()
                .filter(|e| e.path().is_dir())
                .map(|e| (e.file_name().to_string_lossy().into_owned(), "certs.d")),
        );
    }
    let mut seen = Vec::new();
    names
        .into_iter()
        .filter(|(n, _)| n.starts_with(typed))
        .filter(|(n, _)| {
            let new = !seen.contains(n);
            seen.push(n.clone());
            new
        })
        .collect()
}
