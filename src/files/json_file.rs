//! Lossless, atomic, locked editing of the JSON files Docker reads (daemon.json, config.json).
//!
//! Unknown keys and key order survive (serde_json with `preserve_order`), numbers keep their exact
//! text (`arbitrary_precision`), the file's indentation, trailing newline, CRLF line ends and (where
//! the reader accepts one) UTF-8 byte order mark are kept. A file whose value did not change is not
//! written at all. Writes go to a temporary file in the same directory, are fsynced and renamed over
//! the target (through symlinks, as docker does), and the directory is fsynced. An advisory lock on
//! the directory is held from read to rename so that concurrent regctl runs never lose an update.
//! A write that leaves secrets (config.json's credentials) in a file others can read makes it
//! private (owner-only), where docker would keep the old mode.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{path} is not valid JSON: {detail}")]
    Parse { path: PathBuf, detail: String },
    #[error("{path} must hold a JSON object at the top level, not {found}")]
    NotObject { path: PathBuf, found: &'static str },
    #[error("{path} is not UTF-8 text (invalid byte at offset {offset})")]
    NotUtf8 { path: PathBuf, offset: usize },
    #[error("{path} is UTF-16 encoded; regctl only edits UTF-8 files")]
    Utf16 { path: PathBuf },
    #[error("{path} starts with a UTF-8 byte order mark, which docker cannot read")]
    Bom { path: PathBuf },
    #[error("{path} is a directory, not a file")]
    IsDirectory { path: PathBuf },
    #[error("{path} is not a regular file")]
    NotRegular { path: PathBuf },
    #[error("{path} is a symlink to {target}, which does not exist")]
    DanglingSymlink { path: PathBuf, target: PathBuf },
    #[error("{path}: {key} must be {expected}, not {found}")]
    WrongType {
        path: PathBuf,
        key: String,
        expected: &'static str,
        found: &'static str,
    },
}

/// How a file of one kind is created and which encodings its readers accept.
#[derive(Debug, Clone, Copy)]
pub struct FileKind {
    /// Indentation for a file that does not exist yet.
    pub new_indent: Indent,
    /// Mode for a file that does not exist yet.
    pub new_mode: u32,
    /// Mode for a directory regctl has to create.
    pub dir_mode: u32,
    /// Whether the program reading the file strips a UTF-8 BOM (dockerd does, docker's CLI does not).
    pub reader_accepts_bom: bool,
    /// Keys whose string values (at any depth) are secrets.
    pub secret_keys: &'static [&'static str],
}

impl FileKind {
    /// `/etc/docker/daemon.json`, read by dockerd.
    pub const DAEMON_JSON: FileKind = FileKind {
        new_indent: Indent::Spaces(2),
        new_mode: 0o644,
        dir_mode: 0o755,
        reader_accepts_bom: true,
        secret_keys: &[],
    };
    /// `~/.docker/config.json`, read by the docker CLI: tab-indented, 0600 in a 0700 directory.
    pub const CLIENT_CONFIG: FileKind = FileKind {
        new_indent: Indent::Tabs,
        new_mode: 0o600,
        dir_mode: 0o700,
        reader_accepts_bom: false,
        secret_keys: super::secrets::SECRET_MEMBERS,
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Indent {
    /// Everything on one line, as `{"a":1}`.
    Compact,
    Tabs,
    Spaces(usize),
}

/// The layout of a file as found, so that a rewrite looks like the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub indent: Indent,
    pub trailing_newline: bool,
    pub crlf: bool,
    pub bom: bool,
}

impl Style {
    fn new_file(kind: &FileKind) -> Style {
        Style {
            indent: kind.new_indent,
            trailing_newline: true,
            crlf: false,
            bom: false,
        }
    }

    /// Reads the layout off a file's text (BOM already removed).
    pub fn detect(text: &str, bom: bool) -> Style {
        let body = text.trim();
        let indent = if !body.contains('\n') {
            Indent::Compact
        } else {
            text.lines()
                .skip(1)
                .find_map(|line| {
                    let rest = line.trim_start_matches([' ', '\t']);
                    let lead = &line[..line.len() - rest.len()];
                    if lead.is_empty() || rest.trim().is_empty() {
                        None
                    } else if lead.starts_with('\t') {
                        Some(Indent::Tabs)
                    } else {
                        Some(Indent::Spaces(lead.len()))
                    }
                })
                .unwrap_or(Indent::Spaces(2))
        };
        Style {
            indent,
            trailing_newline: text.ends_with('\n'),
            crlf: text.contains("\r\n"),
            bom,
        }
    }

    /// Renders a value in this layout (without the byte order mark, which `save` adds).
    pub fn render(&self, value: &Value) -> String {
        let mut out = Vec::new();
        let body = match self.indent {
            Indent::Compact => serde_json::to_vec(value).expect("a JSON value serializes"),
            Indent::Tabs => pretty(value, b"\t"),
            Indent::Spaces(n) => pretty(value, " ".repeat(n).as_bytes()),
        };
        out.extend_from_slice(&body);
        if self.trailing_newline {
            out.push(b'\n');
        }
        let text = String::from_utf8(out).expect("serde_json writes UTF-8");
        if self.crlf {
            text.replace('\n', "\r\n")
        } else {
            text
        }
    }
}

/// One `"key": value` member of the top-level object, as byte offsets into the text.
#[derive(Debug)]
struct Member {
    key: String,
    key_start: usize,
    value_start: usize,
    value_end: usize,
}

/// Finds the top-level members of a JSON object text that serde_json already accepted.
fn scan_members(text: &str) -> Option<Vec<Member>> {
    let b = text.as_bytes();
    let mut i = 0;
    let skip_ws = |i: &mut usize| {
        while *i < b.len() && b[*i].is_ascii_whitespace() {
            *i += 1;
        }
    };
    let skip_string = |i: &mut usize| -> Option<()> {
        // at the opening quote
        *i += 1;
        while *i < b.len() {
            match b[*i] {
                b'\\' => *i += 2,
                b'"' => {
                    *i += 1;
                    return Some(());
                }
                _ => *i += 1,
            }
        }
        None
    };
    skip_ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    let mut members = Vec::new();
    loop {
        skip_ws(&mut i);
        match b.get(i)? {
            b'}' => return Some(members),
            b',' => {
                i += 1;
                continue;
            }
            b'"' => {}
            _ => return None,
        }
        let key_start = i;
        skip_string(&mut i)?;
        let key: String = serde_json::from_str(&text[key_start..i]).ok()?;
        skip_ws(&mut i);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i += 1;
        skip_ws(&mut i);
        let value_start = i;
        let mut depth = 0usize;
        loop {
            match *b.get(i)? {
                b'"' => {
                    skip_string(&mut i)?;
                    if depth == 0 {
                        break;
                    }
                    continue;
                }
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth == 0 {
                        break;
                    }
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                b',' if depth == 0 => break,
                c if depth == 0 && c.is_ascii_whitespace() => break,
                _ => {}
            }
            i += 1;
        }
        members.push(Member {
            key,
            key_start,
            value_start,
            value_end: i,
        });
    }
}

/// Rewrites only what changed: untouched members keep their exact bytes (spacing, escapes,
/// inline objects), changed values are re-rendered in the file's style, removed members go
/// with their separator, new members are appended. `None` when the edit does not fit that shape
/// (then the whole document is rendered).
fn splice(
    text: &str,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    style: &Style,
) -> Option<String> {
    let members = scan_members(text)?;
    if members.is_empty() || members.len() != before.len() || after.is_empty() {
        return None;
    }
    // Kept keys must stay in their order, and new keys must come after all of them.
    let kept: Vec<&Member> = members
        .iter()
        .filter(|m| after.contains_key(&m.key))
        .collect();
    let after_keys: Vec<&String> = after.keys().collect();
    if kept.iter().zip(&after_keys).any(|(m, k)| &m.key != *k) {
        return None;
    }
    let first = &members[0];
    let open = text[..first.key_start].rfind('{')?;
    let lead = &text[open + 1..first.key_start];
    let unit = lead.rsplit('\n').next().unwrap_or("");
    let newline = if style.crlf { "\r\n" } else { "\n" };
    let render_value = |v: &Value| -> String {
        match style.indent {
            Indent::Compact => serde_json::to_string(v).expect("a JSON value serializes"),
            _ => {
                let inner = if unit.starts_with('\t') {
                    pretty(v, b"\t")
                } else {
                    pretty(v, unit.as_bytes())
                };
                String::from_utf8(inner)
                    .expect("serde_json writes UTF-8")
                    .replace('\n', &format!("{newline}{unit}"))
            }
        }
    };
    let default_sep = format!(",{lead}");
    let colon = if style.indent == Indent::Compact {
        ":"
    } else {
        ": "
    };
    let mut out = String::with_capacity(text.len() + 256);
    out.push_str(&text[..first.key_start]);
    let mut wrote_any = false;
    let mut pending_sep: Option<&str> = None;
    for (idx, m) in members.iter().enumerate() {
        let next_sep = members
            .get(idx + 1)
            .map(|n| &text[m.value_end..n.key_start]);
        let Some(new) = after.get(&m.key) else {
            continue;
        };
        if wrote_any {
            out.push_str(pending_sep.unwrap_or(&default_sep));
        }
        out.push_str(&text[m.key_start..m.value_start]);
        if before.get(&m.key) == Some(new) {
            out.push_str(&text[m.value_start..m.value_end]);
        } else {
            out.push_str(&render_value(new));
        }
        wrote_any = true;
        // The original separator is kept only when the original next member follows directly.
        pending_sep = match (next_sep, members.get(idx + 1)) {
            (Some(sep), Some(n)) if after.contains_key(&n.key) => Some(sep),
            _ => None,
        };
    }
    for (k, v) in after.iter().filter(|(k, _)| !before.contains_key(*k)) {
        if wrote_any {
            out.push_str(&default_sep);
        }
        out.push_str(&serde_json::to_string(k).expect("a string serializes"));
        out.push_str(colon);
        out.push_str(&render_value(v));
        wrote_any = true;
    }
    let last = members.last()?;
    out.push_str(&text[last.value_end..]);
    Some(out)
}

/// The text of an existing file after an edit: `text` (as read, without its byte order mark,
/// which parsed as `before` in `style`) with only the changed members rewritten, or the whole of
/// `after` rendered in `style` when the edit does not fit a splice. Public so that the fuzz
/// targets exercise exactly what `JsonFile::render` writes, without a file.
pub fn render_edit(
    text: &str,
    before: &Map<String, Value>,
    after: &Map<String, Value>,
    style: &Style,
) -> String {
    splice(text, before, after, style)
        .unwrap_or_else(|| style.render(&Value::Object(after.clone())))
}

fn pretty(value: &Value, indent: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(indent);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, formatter);
    serde::Serialize::serialize(value, &mut ser).expect("a JSON value serializes");
    out
}

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The file as it was when it was read.
#[derive(Debug, Clone)]
struct Original {
    /// The text without its byte order mark (the style records whether there was one).
    text: String,
    value: Map<String, Value>,
    mode: u32,
    uid: u32,
    gid: u32,
}

/// A JSON object file, opened either to read or to edit.
#[derive(Debug)]
pub struct JsonFile {
    /// The path as the user or the defaults named it.
    path: PathBuf,
    /// Where the content lives: `path` with symlinks followed.
    target: PathBuf,
    kind: FileKind,
    style: Style,
    original: Option<Original>,
    /// The document; edit it, then `save`.
    pub value: Map<String, Value>,
    /// Held from read to rename when opened for editing.
    _lock: Option<DirLock>,
}

/// A JSON object file as read, for commands that only look.
#[derive(Debug)]
pub struct JsonSnapshot {
    path: PathBuf,
    exists: bool,
    pub value: Map<String, Value>,
}

impl JsonSnapshot {
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.exists
    }
}

/// What `save` did (or, in check mode, would do).
#[derive(Debug, Clone)]
pub struct Saved {
    pub path: PathBuf,
    pub changed: bool,
    /// Text before and after, for `--diff`; empty before for a new file.
    pub before: String,
    pub after: String,
    /// The file held secrets and others could read it: its mode went from the first to the second.
    pub made_private: Option<(u32, u32)>,
}

impl JsonFile {
    /// Reads a file without the intent to write it (no lock, no copy of the document).
    /// A missing file is an empty object.
    pub fn read(path: &Path, kind: FileKind) -> Result<JsonSnapshot, FileError> {
        let target = resolve_target(path)?;
        let original = read_original(path, &target, &kind)?;
        Ok(JsonSnapshot {
            path: path.to_path_buf(),
            exists: original.is_some(),
            value: original.map(|(o, _)| o.value).unwrap_or_default(),
        })
    }

    /// Opens a file to edit it: takes the directory lock (creating the directory if needed) unless
    /// `check` is set, in which case nothing on disk is touched.
    pub fn edit(path: &Path, kind: FileKind, check: bool) -> Result<JsonFile, FileError> {
        let lock = !check;
        let target = resolve_target(path)?;
        let dir = parent_dir(&target);
        let lock = if lock {
            if !dir.exists() {
                create_dir_all_mode(&dir, kind.dir_mode).map_err(|source| FileError::Write {
                    path: dir.clone(),
                    source,
                })?;
            }
            Some(DirLock::acquire(&dir).map_err(|source| FileError::Write {
                path: dir.clone(),
                source,
            })?)
        } else {
            None
        };
        let original = read_original(path, &target, &kind)?;
        let (style, value) = match &original {
            Some((o, style)) => (*style, o.value.clone()),
            None => (Style::new_file(&kind), Map::new()),
        };
        Ok(JsonFile {
            path: path.to_path_buf(),
            target,
            kind,
            style,
            original: original.map(|(o, _)| o),
            value,
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.original.is_some()
    }

    /// The document as it was read (before any edit).
    pub fn original_value(&self) -> Map<String, Value> {
        self.original
            .as_ref()
            .map(|o| o.value.clone())
            .unwrap_or_default()
    }

    /// A typed error for a key holding the wrong kind of value in this file.
    pub fn wrong_type(&self, key: &str, expected: &'static str, found: &Value) -> FileError {
        FileError::WrongType {
            path: self.path.clone(),
            key: key.to_string(),
            expected,
            found: json_type_name(found),
        }
    }

    /// The text the file would have with the current value: the original bytes with only the
    /// changed top-level members rewritten, or (for a new file) the whole value in the file's style.
    pub fn render(&self) -> String {
        match &self.original {
            Some(o) => render_edit(&o.text, &o.value, &self.value, &self.style),
            None => self.style.render(&Value::Object(self.value.clone())),
        }
    }

    /// Writes the edited value when it differs from what was read; in check mode only reports.
    pub fn save(mut self, check: bool) -> Result<Saved, FileError> {
        let before_value = self.original.as_ref().map(|o| &o.value);
        let changed = before_value != Some(&self.value);
        if !changed {
            let before = self.original.take().map(|o| o.text).unwrap_or_default();
            return Ok(Saved {
                path: self.path,
                changed: false,
                after: before.clone(),
                before,
                made_private: None,
            });
        }
        let after = self.render();
        let (mut mode, owner) = match &self.original {
            Some(o) => (o.mode & 0o7777, Some((o.uid, o.gid))),
            None => (self.kind.new_mode, None),
        };
        let mut made_private = None;
        if mode & 0o077 != 0 && holds_secrets(&self.value, self.kind.secret_keys) {
            made_private = Some((mode, mode & !0o077));
            mode &= !0o077;
        }
        if !check {
            let mut bytes = Vec::with_capacity(after.len() + UTF8_BOM.len());
            if self.style.bom {
                bytes.extend_from_slice(UTF8_BOM);
            }
            bytes.extend_from_slice(after.as_bytes());
            write_atomic(&self.target, &bytes, mode, owner).map_err(|source| FileError::Write {
                path: self.path.clone(),
                source,
            })?;
        }
        Ok(Saved {
            path: self.path,
            changed: true,
            before: self.original.take().map(|o| o.text).unwrap_or_default(),
            after,
            made_private,
        })
    }
}

/// Whether a non-empty string is held under any of `keys`, at any depth.
fn holds_secrets(value: &Map<String, Value>, keys: &[&str]) -> bool {
    fn walk(v: &Value, key: Option<&str>, keys: &[&str]) -> bool {
        match v {
            Value::String(s) => {
                !s.is_empty()
                    && key.is_some_and(|k| keys.iter().any(|f| super::secrets::is_member(k, f)))
            }
            Value::Object(m) => m.iter().any(|(k, v)| walk(v, Some(k), keys)),
            Value::Array(a) => a.iter().any(|v| walk(v, None, keys)),
            _ => false,
        }
    }
    value.iter().any(|(k, v)| walk(v, Some(k), keys))
}

/// Follows symlinks as docker does; a dangling one is an error rather than replaced by a file.
pub(crate) fn resolve_target(path: &Path) -> Result<PathBuf, FileError> {
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_symlink() => match fs::canonicalize(path) {
            Ok(target) => Ok(target),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(FileError::DanglingSymlink {
                path: path.to_path_buf(),
                target: fs::read_link(path).unwrap_or_default(),
            }),
            Err(source) => Err(FileError::Read {
                path: path.to_path_buf(),
                source,
            }),
        },
        Ok(meta) if meta.is_dir() => Err(FileError::IsDirectory {
            path: path.to_path_buf(),
        }),
        Ok(_) => Ok(path.to_path_buf()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(path.to_path_buf()),
        Err(source) => Err(FileError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn parent_dir(target: &Path) -> PathBuf {
    match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(UTF8_BOM).unwrap_or(bytes)
}

fn read_original(
    path: &Path,
    target: &Path,
    kind: &FileKind,
) -> Result<Option<(Original, Style)>, FileError> {
    let read_err = |source| FileError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = match fs::metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(read_err(e)),
    };
    if meta.is_dir() {
        return Err(FileError::IsDirectory {
            path: path.to_path_buf(),
        });
    }
    if !meta.is_file() {
        return Err(FileError::NotRegular {
            path: path.to_path_buf(),
        });
    }
    let mut bytes =
        super::bounded::read_file(target, super::bounded::limits::CONFIG_JSON).map_err(read_err)?;
    let (value, style) = parse_document(path, &bytes, kind)?;
    if style.bom {
        bytes.drain(..UTF8_BOM.len());
    }
    // parse_document checked that the bytes are UTF-8.
    let text = String::from_utf8(bytes).expect("validated as UTF-8");
    Ok(Some((
        Original {
            text,
            value,
            mode: meta.permissions().mode(),
            uid: meta.uid(),
            gid: meta.gid(),
        },
        style,
    )))
}

/// Parses a whole document the way its reader would. An empty (or all-whitespace) file is an
/// empty object, as both dockerd and docker's CLI treat it.
pub fn parse_document(
    path: &Path,
    bytes: &[u8],
    kind: &FileKind,
) -> Result<(Map<String, Value>, Style), FileError> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Err(FileError::Utf16 {
            path: path.to_path_buf(),
        });
    }
    let bom = bytes.starts_with(UTF8_BOM);
    if bom && !kind.reader_accepts_bom {
        return Err(FileError::Bom {
            path: path.to_path_buf(),
        });
    }
    let body = strip_bom(bytes);
    let text = std::str::from_utf8(body).map_err(|e| FileError::NotUtf8 {
        path: path.to_path_buf(),
        offset: e.valid_up_to() + if bom { UTF8_BOM.len() } else { 0 },
    })?;
    if text.trim().is_empty() {
        let mut style = Style::detect("", bom);
        style.indent = kind.new_indent;
        style.trailing_newline = true;
        return Ok((Map::new(), style));
    }
    let value: Value = serde_json::from_str(text).map_err(|e| FileError::Parse {
        path: path.to_path_buf(),
        detail: e.to_string(),
    })?;
    match value {
        Value::Object(map) => Ok((map, Style::detect(text, bom))),
        other => Err(FileError::NotObject {
            path: path.to_path_buf(),
            found: json_type_name(&other),
        }),
    }
}

/// "an array", "a string", ... for messages.
pub fn json_type_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn create_dir_all_mode(dir: &Path, mode: u32) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, mode);
    builder.create(dir)
}

/// Prefix of regctl's temporary files next to `target`; leftovers of a killed run are removed
/// by the next run that holds the lock.
fn temp_prefix(target: &Path) -> String {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    format!(".{name}.regctl-")
}

/// Writes `bytes` to `target` atomically: temp file in the same directory, fsync, rename, fsync dir.
/// The new file gets `mode` and, when given and different, the original owner.
pub fn write_atomic(
    target: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<()> {
    stage_atomic(target, bytes, mode, owner)?.commit()
}

/// A complete temp file beside its target, waiting to be renamed over it ([`Staged::commit`]);
/// dropped uncommitted, it is removed. Staging several files first lets a caller write all or
/// none: what fails (a full disk, a read-only folder) fails while staging, before any rename.
#[derive(Debug)]
pub struct Staged {
    tmp: PathBuf,
    target: PathBuf,
    committed: bool,
}

impl Staged {
    /// Renames the temp file over the target and syncs the directory.
    pub fn commit(mut self) -> io::Result<()> {
        fs::rename(&self.tmp, &self.target)?;
        self.committed = true;
        File::open(parent_dir(&self.target))?.sync_all()
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// The first half of [`write_atomic`]: the temp file, written and synced, with its mode and owner.
pub fn stage_atomic(
    target: &Path,
    bytes: &[u8],
    mode: u32,
    owner: Option<(u32, u32)>,
) -> io::Result<Staged> {
    let dir = parent_dir(target);
    let prefix = temp_prefix(target);
    remove_stale_temps(&dir, &prefix);
    let staged = Staged {
        tmp: dir.join(format!("{prefix}{}.tmp", std::process::id())),
        target: target.to_path_buf(),
        committed: false,
    };
    let _ = fs::remove_file(&staged.tmp);
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&staged.tmp)?;
    // The mode given to open() is reduced by the umask; set it exactly.
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    if let Some((uid, gid)) = owner {
        let meta = file.metadata()?;
        if meta.uid() != uid || meta.gid() != gid {
            std::os::unix::fs::fchown(&file, Some(uid), Some(gid))?;
            // chown clears set-id bits; restore the exact mode.
            file.set_permissions(fs::Permissions::from_mode(mode))?;
        }
    }
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(staged)
}

fn remove_stale_temps(dir: &Path, prefix: &str) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with(prefix) && name.ends_with(".tmp") {
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// An exclusive advisory lock (flock) on a directory, released when dropped.
#[derive(Debug)]
pub struct DirLock {
    _dir: File,
}

impl DirLock {
    pub fn acquire(dir: &Path) -> io::Result<DirLock> {
        let file = File::open(dir)?;
        loop {
            // SAFETY: flock on a descriptor we own; no memory is shared.
            let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX) };
            if rc == 0 {
                return Ok(DirLock { _dir: file });
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(err);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_layouts() {
        let s = Style::detect("{\n    \"a\": 1\n}\n", false);
        assert_eq!(s.indent, Indent::Spaces(4));
        assert!(s.trailing_newline);
        let s = Style::detect("{\n\t\"a\": 1\n}", false);
        assert_eq!(s.indent, Indent::Tabs);
        assert!(!s.trailing_newline);
        assert_eq!(Style::detect("{\"a\":1}", false).indent, Indent::Compact);
        assert!(Style::detect("{\r\n  \"a\": 1\r\n}\r\n", false).crlf);
    }

    #[test]
    fn render_round_trips_layout() {
        for text in [
            "{\n    \"b\": 1,\n    \"a\": [\n        \"x\"\n    ]\n}\n",
            "{\n\t\"z\": {\n\t\t\"k\": true\n\t}\n}",
            "{\"b\":1,\"a\":2}",
            "{\r\n  \"a\": 1.50\r\n}\r\n",
        ] {
            let (map, style) =
                parse_document(Path::new("f"), text.as_bytes(), &FileKind::DAEMON_JSON).unwrap();
            assert_eq!(style.render(&Value::Object(map)), text);
        }
    }

    fn edit(text: &str, f: impl FnOnce(&mut Map<String, Value>)) -> String {
        let (before, style) =
            parse_document(Path::new("f"), text.as_bytes(), &FileKind::DAEMON_JSON).unwrap();
        let mut after = before.clone();
        f(&mut after);
        splice(text, &before, &after, &style).unwrap()
    }

    #[test]
    fn splice_touches_only_changed_members() {
        let text = "{\n    \"z\": {\"x\": 1.50, \"s\": \"\\u00e9\"},\n    \"debug\": true\n}\n";
        let out = edit(text, |m| {
            m.insert("registry-mirrors".into(), serde_json::json!(["https://a/"]));
        });
        assert_eq!(
            out,
            "{\n    \"z\": {\"x\": 1.50, \"s\": \"\\u00e9\"},\n    \"debug\": true,\n    \"registry-mirrors\": [\n        \"https://a/\"\n    ]\n}\n"
        );
        let out = edit(text, |m| {
            m.shift_remove("z");
        });
        assert_eq!(out, "{\n    \"debug\": true\n}\n");
        let out = edit(text, |m| {
            m.insert("debug".into(), Value::Bool(false));
        });
        assert_eq!(
            out,
            "{\n    \"z\": {\"x\": 1.50, \"s\": \"\\u00e9\"},\n    \"debug\": false\n}\n"
        );
        let out = edit("{\"a\":1,\"b\":[2]}", |m| {
            m.insert("b".into(), serde_json::json!([2, 3]));
            m.insert("c".into(), serde_json::json!("x"));
        });
        assert_eq!(out, "{\"a\":1,\"b\":[2,3],\"c\":\"x\"}");
        let out = edit("{\r\n\t\"a\": [1],\r\n\t\"b\": 2\r\n}", |m| {
            m.insert("a".into(), serde_json::json!([1, 2]));
        });
        assert_eq!(
            out,
            "{\r\n\t\"a\": [\r\n\t\t1,\r\n\t\t2\r\n\t],\r\n\t\"b\": 2\r\n}"
        );
    }

    #[test]
    fn bom_kept_where_the_reader_accepts_it() {
        let text = b"\xEF\xBB\xBF{\"a\":1}";
        let (_, style) = parse_document(Path::new("f"), text, &FileKind::DAEMON_JSON).unwrap();
        assert!(style.bom);
        assert!(matches!(
            parse_document(Path::new("f"), text, &FileKind::CLIENT_CONFIG),
            Err(FileError::Bom { .. })
        ));
    }

    #[test]
    fn secrets_are_found_at_any_depth_and_only_in_secret_keys() {
        let doc = |text: &str| serde_json::from_str::<Map<String, Value>>(text).unwrap();
        let keys = FileKind::CLIENT_CONFIG.secret_keys;
        assert!(holds_secrets(
            &doc(r#"{"auths":{"a":{"auth":"dTpw"}}}"#),
            keys
        ));
        assert!(holds_secrets(
            &doc(r#"{"auths":{"a":{"IdentityToken":"t"}}}"#),
            keys
        ));
        assert!(!holds_secrets(
            &doc(r#"{"auths":{"a":{}},"auth":""}"#),
            keys
        ));
        assert!(!holds_secrets(
            &doc(r#"{"credHelpers":{"a":"auth"}}"#),
            keys
        ));
        assert!(!holds_secrets(
            &doc(r#"{"auths":{"a":{"auth":"dTpw"}}}"#),
            &[]
        ));
    }
}
