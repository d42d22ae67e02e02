//! The output contract: text for people (status on stderr, data on stdout, colour only on a
//! terminal) or exactly one JSON document on stdout with `changed` and `msg`.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use colored::Colorize;
use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::files::json_file::{FileKind, Saved};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// One file a command changed (or would change), for `--diff`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDiff {
    pub path: PathBuf,
    pub before: String,
    pub after: String,
}

/// A saved file's change, with secrets masked (config.json's `auth`, tokens, passwords): a diff is
/// printed, and secrets are never printed.
impl From<&Saved> for FileDiff {
    fn from(s: &Saved) -> Self {
        FileDiff {
            path: s.path.clone(),
            before: redact_secrets(&s.before),
            after: redact_secrets(&s.after),
        }
    }
}

/// Members whose string values are secrets in docker's config.json (`auths` entries).
const SECRET_MEMBERS: &[&str] = FileKind::CLIENT_CONFIG.secret_keys;

/// JSON text with the string value of every secret member replaced by `<redacted>`, whatever
/// the layout (one member a line or all on one line).
fn redact_secrets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        out.push_str(&rest[..start]);
        let (name, after) = split_json_string(&rest[start..]);
        out.push_str(name);
        rest = after;
        if !SECRET_MEMBERS.contains(&name.trim_matches('"')) {
            continue;
        }
        let Some(value) = after.trim_start().strip_prefix(':') else {
            continue;
        };
        let value = value.trim_start();
        if value.starts_with('"') {
            out.push_str(&after[..after.len() - value.len()]);
            out.push_str("\"<redacted>\"");
            rest = split_json_string(value).1;
        }
    }
    out.push_str(rest);
    out
}

/// Splits text that starts with a JSON string after its closing quote (escapes honoured); an
/// unterminated string is all of it.
fn split_json_string(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            b'"' => return s.split_at(i + 1),
            _ => i += 1,
        }
    }
    (s, "")
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Note {
    /// Something the user should know or do next.
    Info(String),
    Warning(String),
}

/// What a command did, for either output format.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    pub changed: bool,
    /// One line saying what happened.
    pub msg: String,
    /// Command data, merged into the JSON document's top level.
    pub data: Map<String, Value>,
    /// The data as text for people (stdout), when the command has data to show.
    pub text: Option<String>,
    pub notes: Vec<Note>,
    pub diffs: Vec<FileDiff>,
    /// The command ran but found a problem (doctor, validate): exit 1 without an error.
    pub failed: bool,
}

impl Outcome {
    pub fn new(msg: impl Into<String>) -> Outcome {
        Outcome {
            msg: msg.into(),
            ..Default::default()
        }
    }

    /// Records a file save: `changed` and, when it changed, its diff.
    pub fn with_save(mut self, saved: &Saved) -> Outcome {
        if saved.changed {
            self.changed = true;
            self.diffs.push(saved.into());
        }
        if let Some((old, new)) = saved.made_private {
            self.notes.push(Note::Warning(format!(
                "{} holds credentials and its mode {old:04o} let other users read them: mode {new:04o} from now on",
                saved.path.display()
            )));
        }
        self
    }

    pub fn data(mut self, key: &str, value: Value) -> Outcome {
        self.data.insert(key.to_string(), value);
        self
    }

    pub fn text(mut self, text: impl Into<String>) -> Outcome {
        self.text = Some(text.into());
        self
    }

    pub fn info(mut self, note: impl Into<String>) -> Outcome {
        self.notes.push(Note::Info(note.into()));
        self
    }

    pub fn info_if(self, condition: bool, note: impl Into<String>) -> Outcome {
        if condition {
            self.info(note)
        } else {
            self
        }
    }

    pub fn warn(mut self, note: impl Into<String>) -> Outcome {
        self.notes.push(Note::Warning(note.into()));
        self
    }
}

/// Writes outcomes and errors in the chosen format.
#[derive(Debug, Clone)]
pub struct Printer {
    pub format: Format,
    pub quiet: bool,
    pub verbose: bool,
    pub show_diff: bool,
    pub color: bool,
}

impl Printer {
    pub fn new(
        format: Format,
        color: ColorChoice,
        no_color_env: bool,
        quiet: bool,
        verbose: bool,
        show_diff: bool,
    ) -> Printer {
        let color = match color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color_env && std::io::stderr().is_terminal(),
        };
        colored::control::set_override(color);
        Printer {
            format,
            quiet,
            verbose,
            show_diff,
            color,
        }
    }

    /// A progress line for `-v` (text mode only; JSON stays one document).
    pub fn verbose(&self, line: &str) {
        if self.verbose && self.format == Format::Text {
            eprintln!("{}", line.dimmed());
        }
    }

    pub fn outcome(&self, outcome: &Outcome) {
        match self.format {
            Format::Json => {
                let mut doc = Map::new();
                doc.insert("changed".into(), json!(outcome.changed));
                if outcome.failed {
                    doc.insert("failed".into(), json!(true));
                }
                doc.insert("msg".into(), json!(outcome.msg));
                for (k, v) in &outcome.data {
                    doc.insert(k.clone(), v.clone());
                }
                let warnings: Vec<&str> = outcome
                    .notes
                    .iter()
                    .filter_map(|n| match n {
                        Note::Warning(w) => Some(w.as_str()),
                        Note::Info(_) => None,
                    })
                    .collect();
                let infos: Vec<&str> = outcome
                    .notes
                    .iter()
                    .filter_map(|n| match n {
                        Note::Info(i) => Some(i.as_str()),
                        Note::Warning(_) => None,
                    })
                    .collect();
                if !warnings.is_empty() {
                    doc.insert("warnings".into(), json!(warnings));
                }
                if !infos.is_empty() {
                    doc.insert("notes".into(), json!(infos));
                }
                if self.show_diff {
                    let diffs: Vec<Value> = outcome
                        .diffs
                        .iter()
                        .map(|d| json!({"path": d.path, "before": d.before, "after": d.after}))
                        .collect();
                    doc.insert("diff".into(), Value::Array(diffs));
                }
                print_stdout(&format!("{}\n", Value::Object(doc)));
            }
            Format::Text => {
                if self.show_diff {
                    for d in &outcome.diffs {
                        print_stdout(&render_diff(d, self.color));
                    }
                }
                if let Some(text) = &outcome.text {
                    if !text.is_empty() {
                        let nl = if text.ends_with('\n') { "" } else { "\n" };
                        print_stdout(&format!("{text}{nl}"));
                    }
                }
                if !self.quiet && !outcome.msg.is_empty() {
                    let mark = if outcome.failed {
                        "✗".red().bold()
                    } else if outcome.changed {
                        "✓".green().bold()
                    } else {
                        "·".normal()
                    };
                    eprintln!("{mark} {}", outcome.msg);
                }
                for note in &outcome.notes {
                    match note {
                        Note::Warning(w) => eprintln!("{} {w}", "warning:".yellow().bold()),
                        Note::Info(i) if !self.quiet => eprintln!("{} {i}", "note:".cyan().bold()),
                        Note::Info(_) => {}
                    }
                }
            }
        }
    }

    pub fn error(&self, err: &Error, hint: Option<String>) {
        let causes = err.causes();
        match self.format {
            Format::Json => {
                let mut doc = Map::new();
                doc.insert("changed".into(), json!(false));
                doc.insert("failed".into(), json!(true));
                let mut msg = err.to_string();
                for c in &causes {
                    msg.push_str(": ");
                    msg.push_str(c);
                }
                doc.insert("msg".into(), json!(msg));
                if let Some(h) = &hint {
                    doc.insert("hint".into(), json!(h));
                }
                for (k, v) in err.data() {
                    doc.insert(k.into(), v);
                }
                print_stdout(&format!("{}\n", Value::Object(doc)));
            }
            Format::Text => {
                let mut out = format!("{} {err}\n", "error:".red().bold());
                for c in &causes {
                    out.push_str(&format!("  {} {c}\n", "-".dimmed()));
                }
                if let Some(h) = hint {
                    out.push_str(&format!("{} {h}\n", "hint:".green().bold()));
                }
                let _ = std::io::stderr().write_all(out.as_bytes());
            }
        }
    }
}

/// A unified diff of one file, coloured when asked.
pub fn render_diff(d: &FileDiff, color: bool) -> String {
    let path = d.path.display().to_string();
    let diff = similar::TextDiff::from_lines(&d.before, &d.after);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&path, &path)
        .to_string();
    if !color {
        return text;
    }
    text.lines()
        .map(|l| {
            let line = if l.starts_with('+') && !l.starts_with("+++") {
                l.green().to_string()
            } else if l.starts_with('-') && !l.starts_with("---") {
                l.red().to_string()
            } else if l.starts_with("@@") {
                l.cyan().to_string()
            } else {
                l.to_string()
            };
            line + "\n"
        })
        .collect()
}

/// Writes to stdout; a closed pipe ends the program quietly (exit 0, as `head` expects).
fn print_stdout(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn diffs_never_show_secrets() {
        let text = "{\n\t\"auths\": {\n\t\t\"r.io\": {\n\t\t\t\"auth\": \"dXNlcjpwYXNz\",\n\t\t\t\"email\": \"e\"\n\t\t}\n\t}\n}\n";
        assert_eq!(
            redact_secrets(text),
            text.replace("dXNlcjpwYXNz", "<redacted>")
        );
        let compact =
            r#"{"auths":{"a":{"auth" : "x\"y","identitytoken":"t"}},"auth":1,"k":"auth"}"#;
        assert_eq!(
            redact_secrets(compact),
            r#"{"auths":{"a":{"auth" : "<redacted>","identitytoken":"<redacted>"}},"auth":1,"k":"auth"}"#
        );
        assert_eq!(
            redact_secrets("\"auth\": \"unterminated"),
            "\"auth\": \"<redacted>\""
        );
    }
}
