//! ~/.docker/config.json load-edit-save: arbitrary bytes parsed as docker's CLI reads them (no
//! BOM), edited as `login` and `logout` edit them (an `auths` entry, a `credHelpers` entry with
//! its empty `auths` marker, `credsStore`, removal of a key or of a nested entry), rendered as
//! `JsonFile::save` writes. Invariants as in `regctl_fuzz::check_round_trip`: no panic, the output
//! parses and equals the edited value, untouched members (unknown keys included) keep their bytes.
//! Input: byte 0 picks the insert, byte 1 the removal, the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::files::json_file::FileKind;
use regctl_fuzz::{check_round_trip, remove_chosen, set_nested};
use serde_json::{json, Value};

const HOST: &str = "registry.example.com:5000";

fuzz_target!(|data: &[u8]| {
    let [op, rm, bytes @ ..] = data else {
        return;
    };
    check_round_trip(&FileKind::CLIENT_CONFIG, bytes, |m| {
        match op % 4 {
            0 => {}
            // base64("user:pass")
            1 => set_nested(m, "auths", HOST, json!({"auth": "dXNlcjpwYXNz"})),
            2 => {
                set_nested(m, "credHelpers", HOST, json!("regctl"));
                set_nested(m, "auths", HOST, json!({}));
            }
            _ => {
                m.insert("credsStore".into(), Value::String("regctl".into()));
            }
        }
        remove_chosen(m, *rm);
    });
});
