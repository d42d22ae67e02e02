//! The AWS shared config file format (`~/.aws/credentials`, `~/.aws/config`): INI sections of
//! `key = value` lines, as the AWS CLI reads it. Kept apart so that every malformed line is
//! reported with its file and line number.

use std::path::Path;

use super::EcrError;

/// One `key = value` with the line it came from.
#[derive(Debug, Clone)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub line: usize,
}

#[derive(Debug, Clone)]
pub struct Section {
    /// The text between the brackets, trimmed (`default`, `profile dev`, `sso-session x`).
    pub name: String,
    pub entries: Vec<Entry>,
}

impl Section {
    /// The last value of a top-level key (later lines win, as in the AWS CLI).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.entries
            .iter()
            .rev()
            .find(|e| e.key == key && !e.value.is_empty())
    }
}

#[derive(Debug, Clone)]
pub struct IniFile {
    pub sections: Vec<Section>,
}

impl IniFile {
    /// Reads and parses a file; `Ok(None)` when it does not exist.
    pub fn load(path: &Path) -> Result<Option<IniFile>, EcrError> {
        match crate::files::bounded::read_file(path, crate::files::bounded::limits::AWS_FILE) {
            Ok(bytes) => {
                let text = String::from_utf8(bytes).map_err(|e| {
                    let line = 1 + e.as_bytes()[..e.utf8_error().valid_up_to()]
                        .iter()
                        .filter(|&&b| b == b'\n')
                        .count();
                    malformed(path, line, "not UTF-8 text")
                })?;
                parse(path, &text).map(Some)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(source) => Err(EcrError::ReadFile {
                path: path.to_path_buf(),
                source,
            }),
        }
    }
}

fn malformed(path: &Path, line: usize, reason: &str) -> EcrError {
    EcrError::MalformedFile {
        path: path.to_path_buf(),
        line,
        reason: reason.to_string(),
    }
}

/// Parses the text of one file. Indented lines after a key with an empty value are that key's
/// sub-settings (`s3 =` then `  max_concurrent_requests = 10`) and are kept out of the section.
pub fn parse(path: &Path, text: &str) -> Result<IniFile, EcrError> {
    let mut sections: Vec<Section> = Vec::new();
    let mut in_nested = false;
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        let indented = raw.starts_with([' ', '\t']);
        if let Some(inner) = trimmed.strip_prefix('[') {
            let Some(name) = inner.strip_suffix(']') else {
                return Err(malformed(path, line, "a section header must end with ]"));
            };
            let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
            if name.is_empty() {
                return Err(malformed(path, line, "empty section name"));
            }
            sections.push(Section {
                name,
                entries: Vec::new(),
            });
            in_nested = false;
            continue;
        }
        if indented && in_nested {
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err(malformed(
                path,
                line,
                "a setting before the first [section] header",
            ));
        };
        let Some((key, value)) = trimmed.split_once('=') else {
            return Err(malformed(
                path,
                line,
                &format!("expected `key = value`, found {trimmed:?}"),
            ));
        };
        let key = key.trim();
        if key.is_empty() {
            return Err(malformed(path, line, "a setting without a name"));
        }
        let value = strip_inline_comment(value.trim());
        in_nested = value.is_empty();
        section.entries.push(Entry {
            key: key.to_string(),
            value: value.to_string(),
            line,
        });
    }
    Ok(IniFile { sections })
}

/// ` # comment` after a value (a `#` preceded by whitespace), as the AWS SDKs strip it.
fn strip_inline_comment(value: &str) -> &str {
    let bytes = value.as_bytes();
    for i in 1..bytes.len() {
        if (bytes[i] == b'#' || bytes[i] == b';') && bytes[i - 1].is_ascii_whitespace() {
            return value[..i].trim_end();
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_nested_values_and_comments() {
        let text = "# top\n[default]\naws_access_key_id = AKID # note\nregion=eu-west-1\ns3 =\n  max_concurrent_requests = 10\n[profile  dev ]\n; c\nrole_arn = arn:aws:iam::1:role/x\n";
        let f = parse(Path::new("c"), text).unwrap();
        assert_eq!(f.sections.len(), 2);
        let d = &f.sections[0];
        assert_eq!(d.get("aws_access_key_id").unwrap().value, "AKID");
        assert_eq!(d.get("region").unwrap().line, 4);
        assert!(d.get("max_concurrent_requests").is_none());
        assert_eq!(f.sections[1].name, "profile dev");
    }

    #[test]
    fn malformed_lines_name_the_line() {
        for (text, line) in [
            ("aws_access_key_id = x\n", 1),
            ("[default]\nthis line has no equals sign\n", 2),
            ("[default\n", 1),
            ("[default]\n = x\n", 2),
        ] {
            match parse(Path::new("f"), text) {
                Err(EcrError::MalformedFile { line: l, .. }) => assert_eq!(l, line, "{text:?}"),
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }
}
