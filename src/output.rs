//! The output contract: text for people (status on stderr, data on stdout, colour only on a
//! terminal) or exactly one JSON document on stdout with `changed` and `msg`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use colored::Colorize;
use serde_json::{json, Map, Value};

use crate::error::Error;
use crate::files::json_file::Saved;
use crate::files::secrets::{mask_url_userinfo, redact_json_text};

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
            before: redact_json_text(&s.before),
            after: redact_json_text(&s.after),
        }
    }
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

    /// A progress line for `-v` on stderr (text mode only; JSON stays one document).
    pub fn verbose(&self, line: &str) -> io::Result<()> {
        self.verbose_to(line, &mut io::stderr().lock())
    }

    /// [`Printer::verbose`] into `err`.
    pub fn verbose_to(&self, line: &str, err: &mut dyn Write) -> io::Result<()> {
        if self.verbose && self.format == Format::Text {
            writeln!(err, "{}", mask_url_userinfo(line).dimmed())?;
        }
        Ok(())
    }

    /// An outcome on stdout (data, JSON) and stderr (status, notes). A closed pipe comes back
    /// as `BrokenPipe`; the caller decides (regctl exits quietly, as `head` expects).
    pub fn outcome(&self, outcome: &Outcome) -> io::Result<()> {
        self.outcome_to(outcome, &mut io::stdout().lock(), &mut io::stderr().lock())
    }

    /// [`Printer::outcome`] into any pair of writers (buffers in tests).
    pub fn outcome_to(
        &self,
        outcome: &Outcome,
        out: &mut dyn Write,
        err: &mut dyn Write,
    ) -> io::Result<()> {
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
                writeln!(out, "{}", masked(Value::Object(doc)))?;
            }
            Format::Text => {
                if self.show_diff {
                    for d in &outcome.diffs {
                        out.write_all(render_diff(d, self.color).as_bytes())?;
                    }
                }
                if let Some(text) = &outcome.text {
                    let text = mask_url_userinfo(text);
                    if !text.is_empty() {
                        let nl = if text.ends_with('\n') { "" } else { "\n" };
                        write!(out, "{text}{nl}")?;
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
                    writeln!(err, "{mark} {}", mask_url_userinfo(&outcome.msg))?;
                }
                for note in &outcome.notes {
                    match note {
                        Note::Warning(w) => writeln!(
                            err,
                            "{} {}",
                            "warning:".yellow().bold(),
                            mask_url_userinfo(w)
                        )?,
                        Note::Info(i) if !self.quiet => {
                            writeln!(err, "{} {}", "note:".cyan().bold(), mask_url_userinfo(i))?
                        }
                        Note::Info(_) => {}
                    }
                }
            }
        }
        out.flush()?;
        err.flush()
    }

    /// A failure: one JSON document on stdout, or `error:`, causes and `hint:` on stderr.
    pub fn error(&self, err: &Error, hint: Option<String>) -> io::Result<()> {
        self.error_to(
            err,
            hint,
            &mut io::stdout().lock(),
            &mut io::stderr().lock(),
        )
    }

    /// [`Printer::error`] into any pair of writers.
    pub fn error_to(
        &self,
        err: &Error,
        hint: Option<String>,
        out: &mut dyn Write,
        errs: &mut dyn Write,
    ) -> io::Result<()> {
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
                writeln!(out, "{}", masked(Value::Object(doc)))?;
                out.flush()
            }
            Format::Text => {
                let mut text = format!("{} {err}\n", "error:".red().bold());
                for c in &causes {
                    text.push_str(&format!("  {} {c}\n", "-".dimmed()));
                }
                if let Some(h) = hint {
                    text.push_str(&format!("{} {h}\n", "hint:".green().bold()));
                }
                errs.write_all(mask_url_userinfo(&text).as_bytes())?;
                errs.flush()
            }
        }
    }

    /// What a prompt shows before it asks: on stderr whatever the format, since the person at
    /// the terminal is asked (JSON on stdout stays one document).
    pub fn before_prompt(&self, lines: &[String]) {
        let mut out = String::new();
        for l in lines {
            out.push_str(l);
            out.push('\n');
        }
        let _ = std::io::stderr().write_all(out.as_bytes());
    }

    /// A credential helper's message for people and logs (`warning: ...`, `error: ...`, each
    /// with its hint), on stderr and uncoloured: stdout is the helper protocol.
    pub fn helper_note(&self, label: &str, text: &str, hint: Option<&str>) {
        let mut out = format!("{label}: {text}\n");
        if let Some(h) = hint {
            out.push_str(&format!("hint: {h}\n"));
        }
        let _ = std::io::stderr().write_all(out.as_bytes());
    }

    /// One line on stdout exactly as given (the helper's usage line); a closed stdout is
    /// nothing to report for a usage line.
    pub fn stdout_line(&self, line: &str) {
        let mut out = io::stdout().lock();
        let _ = writeln!(out, "{line}").and_then(|_| out.flush());
    }
}

/// Every string of a JSON document with the userinfo of URLs in it masked (proxy passwords).
fn masked(mut doc: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::String(s) => *s = mask_url_userinfo(s),
            Value::Array(a) => a.iter_mut().for_each(walk),
            Value::Object(m) => m.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut doc);
    doc
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

#[cfg(test)]
mod tests {
    use super::*;

    fn printer(format: Format, quiet: bool) -> Printer {
        Printer::new(format, ColorChoice::Never, true, quiet, true, false)
    }

    fn render(p: &Printer, outcome: &Outcome) -> (String, String) {
        let (mut out, mut err) = (Vec::new(), Vec::new());
        p.outcome_to(outcome, &mut out, &mut err).unwrap();
        (
            String::from_utf8(out).unwrap(),
            String::from_utf8(err).unwrap(),
        )
    }

    fn sample() -> Outcome {
        Outcome::new("added https://alice:s3cret@mirror.example.com/")
            .data(
                "mirrors",
                json!(["https://alice:s3cret@mirror.example.com/"]),
            )
            .text("https://alice:s3cret@mirror.example.com/")
            .warn("dockerd reloads it")
            .info("a note")
    }

    #[test]
    fn text_puts_data_on_out_and_status_on_err_masked() {
        let mut o = sample();
        o.changed = true;
        let (out, err) = render(&printer(Format::Text, false), &o);
        assert_eq!(out, "https://alice:<redacted>@mirror.example.com/\n");
        assert_eq!(
            err,
            "✓ added https://alice:<redacted>@mirror.example.com/\nwarning: dockerd reloads it\nnote: a note\n"
        );
        let (_, quiet) = render(&printer(Format::Text, true), &o);
        assert_eq!(quiet, "warning: dockerd reloads it\n");
    }

    #[test]
    fn json_is_one_document_on_out() {
        let (out, err) = render(&printer(Format::Json, false), &sample());
        assert_eq!(err, "");
        let doc: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(doc["changed"], false);
        assert_eq!(
            doc["mirrors"][0],
            "https://alice:<redacted>@mirror.example.com/"
        );
        assert_eq!(doc["warnings"], json!(["dockerd reloads it"]));
        assert_eq!(doc["notes"], json!(["a note"]));
        let mut verbose = Vec::new();
        printer(Format::Json, false)
            .verbose_to("progress", &mut verbose)
            .unwrap();
        assert!(verbose.is_empty(), "JSON stays one document");
    }

    #[test]
    fn errors_render_with_causes_and_hint() {
        let e = Error::Empty { what: "password" };
        let (mut out, mut err) = (Vec::new(), Vec::new());
        printer(Format::Text, false)
            .error_to(&e, Some("pass it on stdin".into()), &mut out, &mut err)
            .unwrap();
        assert!(out.is_empty());
        assert_eq!(
            String::from_utf8(err).unwrap(),
            "error: the password is empty\nhint: pass it on stdin\n"
        );
        let (mut out, mut err) = (Vec::new(), Vec::new());
        printer(Format::Json, false)
            .error_to(&e, None, &mut out, &mut err)
            .unwrap();
        let doc: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            (doc["failed"].clone(), doc["msg"].clone()),
            (json!(true), json!("the password is empty"))
        );
    }

    /// A reader that went away is the caller's business: the Printer says so and goes on living.
    #[test]
    fn a_closed_pipe_comes_back_as_an_error() {
        struct Closed;
        impl Write for Closed {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::ErrorKind::BrokenPipe.into())
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let e = printer(Format::Json, false)
            .outcome_to(&sample(), &mut Closed, &mut Vec::new())
            .unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::BrokenPipe);
    }
}
