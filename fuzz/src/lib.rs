//! The load-edit-save round trip shared by the daemon.json and config.json fuzz targets: parse
//! arbitrary bytes as the file's reader would, apply an edit the way regctl's commands do
//! (insert or change a top-level member, `shift_remove` a key or a nested key), render the result
//! exactly as `JsonFile::save` would write it, and check that what was written reads back as the
//! edited value, keeps the byte order mark, and keeps every untouched member byte for byte.

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use regctl::files::json_file::{parse_document, render_edit, FileKind};
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// The top-level members of a JSON object with their raw value text, in file order, duplicates
/// included.
struct RawMembers(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for RawMembers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawMembers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawMembers, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(RawMembers(out))
            }
        }
        d.deserialize_map(V)
    }
}

fn raw_members(text: &str) -> Vec<(String, Box<RawValue>)> {
    serde_json::from_str::<RawMembers>(text)
        .unwrap_or_else(|e| panic!("an accepted document must read as raw members: {e}\n{text:?}"))
        .0
}

/// Removes the `n`-th top-level key (if there is one), keeping the order of the others, as
/// `regctl daemon unset KEY` does. When that member is a non-empty object and `nested` is set,
/// removes its first key instead (`daemon unset proxies.http-proxy`, `logout` under `auths`).
pub fn remove_nth(map: &mut Map<String, Value>, n: usize, nested: bool) {
    let Some(key) = map.keys().nth(n).cloned() else {
        return;
    };
    if nested {
        if let Some(Value::Object(inner)) = map.get_mut(&key) {
            if let Some(first) = inner.keys().next().cloned() {
                inner.shift_remove(&first);
                return;
            }
        }
    }
    map.shift_remove(&key);
}

/// The removal a fuzz input's control byte asks for: none unless bit 6 is set; then the key at
/// index `bits 0-5 modulo the number of keys`, or its first nested key when bit 7 is set.
pub fn remove_chosen(map: &mut Map<String, Value>, ctl: u8) {
    if ctl & 0x40 != 0 && !map.is_empty() {
        let n = usize::from(ctl & 0x3f) % map.len();
        remove_nth(map, n, ctl & 0x80 != 0);
    }
}

/// Appends `item` to the string list under `key`, creating the list (or replacing a value of
/// another type) as `mirror add` / `insecure add` would after their checks.
pub fn append_to_list(map: &mut Map<String, Value>, key: &str, item: &str) {
    match map.get_mut(key) {
        Some(Value::Array(items)) => {
            if !items.iter().any(|v| v.as_str() == Some(item)) {
                items.push(Value::String(item.to_string()));
            }
        }
        _ => {
            map.insert(
                key.to_string(),
                Value::Array(vec![Value::String(item.into())]),
            );
        }
    }
}

/// Sets `map[outer][inner] = value`, creating `outer` (or replacing a non-object) as `login`
/// does under `auths` and `credHelpers`.
pub fn set_nested(map: &mut Map<String, Value>, outer: &str, inner: &str, value: Value) {
    match map.get_mut(outer) {
        Some(Value::Object(m)) => {
            m.insert(inner.to_string(), value);
        }
        _ => {
            let mut m = Map::new();
            m.insert(inner.to_string(), value);
            map.insert(outer.to_string(), Value::Object(m));
        }
    }
}

/// Runs the round trip on `bytes` for a file of `kind`; `edit` changes the parsed document.
pub fn check_round_trip(kind: &FileKind, bytes: &[u8], edit: impl FnOnce(&mut Map<String, Value>)) {
    let path = Path::new("fuzz.json");
    let Ok((before, style)) = parse_document(path, bytes, kind) else {
        return;
    };
    let body = if style.bom {
        &bytes[UTF8_BOM.len()..]
    } else {
        bytes
    };
    let text = std::str::from_utf8(body).expect("parse_document accepted it, so it is UTF-8");
    let mut after = before.clone();
    edit(&mut after);

    let out = render_edit(text, &before, &after, &style);
    let mut written = Vec::with_capacity(out.len() + UTF8_BOM.len());
    if style.bom {
        written.extend_from_slice(UTF8_BOM);
    }
    written.extend_from_slice(out.as_bytes());
    let (reread, restyle) = parse_document(path, &written, kind).unwrap_or_else(|e| {
        panic!("the rendered file does not parse: {e}\nin:  {text:?}\nout: {out:?}")
    });
    assert_eq!(
        reread, after,
        "the rendered file does not hold the edited value\nin:  {text:?}\nout: {out:?}"
    );
    assert_eq!(restyle.bom, style.bom, "the byte order mark was not kept");

    if text.trim().is_empty() {
        return;
    }
    let members = raw_members(text);
    let unique: HashSet<&str> = members.iter().map(|(k, _)| k.as_str()).collect();
    // Splicing applies when the file has members, no duplicate keys, and something is left;
    // otherwise the whole document is rendered, which only has to hold the right value.
    if members.is_empty() || unique.len() != members.len() || after.is_empty() {
        return;
    }
    if before == after {
        assert_eq!(
            out, text,
            "an edit that changes nothing must keep every byte"
        );
    }
    let written_members = raw_members(&out);
    for (key, raw) in &members {
        if after.get(key).is_none() || after.get(key) != before.get(key) {
            continue;
        }
        let kept = written_members
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.get());
        assert_eq!(
            kept,
            Some(raw.get()),
            "untouched member {key:?} was not kept byte for byte\nin:  {text:?}\nout: {out:?}"
        );
    }
}
