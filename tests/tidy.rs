//! The layering rules of DESIGN.md's Layout, checked on the source as rust-analyzer's tidy
//! checks its own: every `crate::` path in src/ is an import edge between modules (a module is
//! a top-level file or folder under src/), and the test fails when a core module (files,
//! registry, creds, doctor) reaches up to commands, cli, output or error, when a leaf (names,
//! hints, error_text) imports anything of ours, when an import goes up the layers, when modules
//! import each other in a cycle, or when a file lacks the `//!` comment that says why it exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Modules that hold the rules and never talk to people.
const CORE: &[&str] = &["files", "registry", "creds", "doctor"];
/// What a core module must not import: the layers that print, prompt and map errors to exits.
const ABOVE_CORE: &[&str] = &["commands", "cli", "output", "error"];
/// Leaves: they build plain values and import nothing of ours.
const LEAVES: &[&str] = &["names", "hints", "error_text"];
/// DESIGN.md's layers, top to bottom: an import goes down, or sideways within a layer (the
/// cycle check keeps sideways imports one-way; `main.rs` and `lib.rs` stand above them all). `context` sits under the verbs and over the core
/// it resolves paths and environment for; `candidates` (completion) beside it.
const LAYERS: &[&[&str]] = &[
    // The verbs read their argument structs from cli; cli never reaches into a verb.
    &["commands", "cli"],
    &["output", "error", "candidates"],
    &["context"],
    &["doctor"],
    &["creds"],
    &["registry"],
    &["files"],
    &["names", "hints", "error_text"],
];

fn layer(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Submodule pairs that once imported each other (issue 13); each is checked by name too, so a
/// failure says which pair came back.
const NAMED_PAIRS: &[(&str, &str)] = &[
    ("error", "registry/client"),
    ("error", "creds/keychain"),
    ("cli", "commands/completions"),
    ("context", "creds/ecr"),
    ("files", "registry/names"),
];

/// One source file: its path under src/ and its text.
struct Source {
    rel: String,
    text: String,
}

/// An import: from which module path (`creds/ecr`) to which (`error`), seen where.
struct Edge {
    from: String,
    to: String,
    at: String,
}

fn read_src() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let rel = path
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let text = std::fs::read_to_string(&path).unwrap();
                out.push(Source { rel, text });
            }
        }
    }
    out.sort_by(|a, b| a.rel.cmp(&b.rel));
    out
}

/// `files/certs_dir/lint.rs` -> `files/certs_dir/lint`; `creds/mod.rs` -> `creds`.
fn module_path(rel: &str) -> String {
    let p = rel.strip_suffix(".rs").unwrap_or(rel);
    p.strip_suffix("/mod").unwrap_or(p).to_string()
}

fn top(path: &str) -> &str {
    path.split('/').next().unwrap_or(path)
}

/// The first two levels (`creds/ecr`), or the top module alone.
fn two_levels(path: &str) -> String {
    path.split('/').take(2).collect::<Vec<_>>().join("/")
}

/// The code of a line, without its `//` comment (doc comments name paths without importing).
fn code(line: &str) -> &str {
    match line.find("//") {
        Some(i) => &line[..i],
        None => line,
    }
}

fn ident(s: &str) -> &str {
    let end = s
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(s.len());
    &s[..end]
}

/// The module paths (two levels: `registry/names`) a text names after `crate::`, with the line
/// they are on. `use crate::{a::x, b}` names both `a` and `b`, across lines.
fn imports(text: &str) -> Vec<(String, usize)> {
    let code_text: Vec<&str> = text.lines().map(code).collect();
    let joined = code_text.join("\n");
    let mut out = Vec::new();
    let mut rest = joined.as_str();
    let mut offset = 0;
    while let Some(i) = rest.find("crate::") {
        let start = offset + i;
        let after = &joined[start + "crate::".len()..];
        let line = joined[..start].matches('\n').count() + 1;
        // `$crate::` inside a macro, or a longer name ending in `crate`.
        let before = joined[..start].chars().last();
        let is_path =
            !matches!(before, Some(c) if c.is_ascii_alphanumeric() || c == '_' || c == '$');
        if is_path {
            if let Some(group) = after.strip_prefix('{') {
                let mut depth = 1;
                let mut item_start = true;
                for (j, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' => {
                            depth -= 1;
                            if depth == 0 {
                                break;
                            }
                        }
                        ',' if depth == 1 => item_start = true,
                        c if item_start && depth == 1 && !c.is_whitespace() => {
                            item_start = false;
                            out.push((path_of(&group[j..]), line));
                        }
                        _ => {}
                    }
                }
            } else {
                out.push((path_of(after), line));
            }
        }
        offset = start + "crate::".len();
        rest = &joined[offset..];
    }
    out.retain(|(p, _)| !p.is_empty());
    out
}

/// `registry::names::parse` -> `registry/names`; `hints::x` -> `hints/x`; `Context` -> ``.
fn path_of(s: &str) -> String {
    let first = ident(s);
    if first.is_empty() || first.starts_with(|c: char| c.is_ascii_uppercase()) {
        return String::new();
    }
    let after = &s[first.len()..];
    match after.strip_prefix("::") {
        Some(next) if !ident(next).is_empty() => format!("{first}/{}", ident(next)),
        _ => first.to_string(),
    }
}

fn edges(sources: &[Source]) -> Vec<Edge> {
    let mut out = Vec::new();
    for s in sources {
        let from = module_path(&s.rel);
        if matches!(from.as_str(), "lib" | "main") {
            continue;
        }
        for (to, line) in imports(&s.text) {
            out.push(Edge {
                from: from.clone(),
                to,
                at: format!("src/{}:{line}", s.rel),
            });
        }
    }
    out
}

/// Every broken rule, one line each; empty when the tree keeps them all.
fn problems(sources: &[Source]) -> Vec<String> {
    let mut out = Vec::new();
    for s in sources {
        if !s.text.trim_start().starts_with("//!") {
            out.push(format!(
                "src/{} does not start with a `//!` comment saying why it exists",
                s.rel
            ));
        }
    }
    let edges = edges(sources);
    for e in &edges {
        let (from, to) = (top(&e.from), top(&e.to));
        if from == to {
            continue;
        }
        if CORE.contains(&from) && ABOVE_CORE.contains(&to) {
            out.push(format!(
                "{}: core module `{from}` imports `{to}` (core returns data and typed errors; \
                 only commands/output/error turn them into words)",
                e.at
            ));
        }
        if LEAVES.contains(&from) {
            out.push(format!("{}: leaf `{from}` imports `{to}`", e.at));
            continue;
        }
        if CORE.contains(&from) && ABOVE_CORE.contains(&to) {
            continue; // said above
        }
        match (layer(from), layer(to)) {
            (Some(f), Some(t)) if t < f => out.push(format!(
                "{}: `{from}` imports `{to}`, a layer above it (imports only go down)",
                e.at
            )),
            (None, _) | (_, None) => out.push(format!(
                "{}: `{}` has no layer in tidy's LAYERS (add it where DESIGN.md's Layout puts it)",
                e.at,
                if layer(from).is_none() { from } else { to }
            )),
            _ => {}
        }
    }
    // Cycles between top-level modules.
    let mut graph: BTreeMap<&str, BTreeMap<&str, &str>> = BTreeMap::new();
    for e in &edges {
        let (from, to) = (top(&e.from), top(&e.to));
        if from != to {
            graph.entry(from).or_default().entry(to).or_insert(&e.at);
        }
    }
    let mut reported = BTreeSet::new();
    for start in graph.keys().copied() {
        if let Some(cycle) = cycle_from(&graph, start) {
            let mut key: Vec<&str> = cycle[1..].to_vec();
            key.sort();
            if reported.insert(key) {
                let steps: Vec<String> = cycle
                    .windows(2)
                    .map(|w| format!("{} -> {} ({})", w[0], w[1], graph[w[0]][w[1]]))
                    .collect();
                out.push(format!("import cycle: {}", steps.join(", ")));
            }
        }
    }
    // The named submodule pairs, at two levels.
    for (a, b) in NAMED_PAIRS {
        let seen = |x: &str, y: &str| {
            edges.iter().find(|e| {
                (two_levels(&e.from) == x || top(&e.from) == x)
                    && (two_levels(&e.to) == y || top(&e.to) == y)
            })
        };
        if let (Some(ab), Some(ba)) = (seen(a, b), seen(b, a)) {
            out.push(format!(
                "`{a}` and `{b}` import each other again ({} and {})",
                ab.at, ba.at
            ));
        }
    }
    out
}

/// A path start -> ... -> start, when there is one.
fn cycle_from<'a>(
    graph: &BTreeMap<&'a str, BTreeMap<&'a str, &'a str>>,
    start: &'a str,
) -> Option<Vec<&'a str>> {
    let mut stack = vec![(start, vec![start])];
    let mut seen = BTreeSet::new();
    while let Some((node, path)) = stack.pop() {
        for next in graph.get(node).into_iter().flat_map(|m| m.keys().copied()) {
            if next == start {
                let mut p = path.clone();
                p.push(start);
                return Some(p);
            }
            if seen.insert(next) {
                let mut p = path.clone();
                p.push(next);
                stack.push((next, p));
            }
        }
    }
    None
}

#[test]
fn src_keeps_the_layers_of_the_design() {
    let sources = read_src();
    assert!(
        sources.len() > 50,
        "found only {} files under src/",
        sources.len()
    );
    let problems = problems(&sources);
    assert!(problems.is_empty(), "tidy:\n{}", problems.join("\n"));
}

fn fake(files: &[(&str, &str)]) -> Vec<Source> {
    files
        .iter()
        .map(|(rel, text)| Source {
            rel: rel.to_string(),
            text: text.to_string(),
        })
        .collect()
}

/// The checker itself: each rule, broken once in a small fake tree, is reported.
#[test]
fn tidy_reports_each_broken_rule() {
    let clean = fake(&[
        ("files/mod.rs", "//! files\nuse crate::names::parse;\n"),
        (
            "names.rs",
            "//! names\n// crate::files in a comment is no import\n",
        ),
        (
            "registry/client.rs",
            "//! client\nuse crate::{files::x, names};\n",
        ),
    ]);
    assert_eq!(problems(&clean), Vec::<String>::new());

    let cycle = fake(&[
        ("files/mod.rs", "//! files\nuse crate::registry::Client;\n"),
        (
            "registry/client.rs",
            "//! client\nuse crate::{\n    names,\n    files::x,\n};\n",
        ),
        ("names.rs", "//! names\n"),
    ]);
    let p = problems(&cycle);
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].contains("`files` imports `registry`, a layer above it"),
        "{p:?}"
    );
    assert!(p[1].starts_with("import cycle: files -> registry (src/files/mod.rs:2), registry -> files (src/registry/client.rs:2)"), "{p:?}");

    let up = fake(&[(
        "creds/keychain.rs",
        "//! keychain\nlet d = crate::error::chain(&e);\n",
    )]);
    let p = problems(&up);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].contains("src/creds/keychain.rs:2: core module `creds` imports `error`"),
        "{p:?}"
    );

    let leaf = fake(&[
        (
            "hints.rs",
            "//! hints\nfn f(e: &crate::creds::CredsError) {}\n",
        ),
        ("creds/mod.rs", "//! creds\n"),
    ]);
    assert_eq!(
        problems(&leaf),
        vec!["src/hints.rs:2: leaf `hints` imports `creds`".to_string()]
    );

    let pair = fake(&[
        (
            "context.rs",
            "//! context\nuse crate::creds::ecr::EcrDirs;\n",
        ),
        (
            "creds/ecr/mod.rs",
            "//! ecr\nfn f(p: &crate::context::Paths) {}\n",
        ),
    ]);
    let p = problems(&pair);
    assert!(
        p.iter()
            .any(|l| l.starts_with("import cycle: context -> creds")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .any(|l| l.starts_with("`context` and `creds/ecr` import each other again")),
        "{p:?}"
    );

    let upward = fake(&[
        ("files/mod.rs", "//! files\n"),
        ("registry/trust.rs", "//! trust\nuse crate::doctor::ids;\n"),
        ("doctor/mod.rs", "//! doctor\n"),
    ]);
    assert_eq!(
        problems(&upward),
        vec!["src/registry/trust.rs:2: `registry` imports `doctor`, a layer above it (imports only go down)".to_string()]
    );

    let undocumented = fake(&[("output.rs", "/// Printer\npub struct Printer;\n")]);
    assert_eq!(
        problems(&undocumented),
        vec!["src/output.rs does not start with a `//!` comment saying why it exists".to_string()]
    );
}
