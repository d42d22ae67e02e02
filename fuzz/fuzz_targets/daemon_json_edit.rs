//! daemon.json load-edit-save: arbitrary bytes parsed as dockerd reads them (UTF-8 BOM allowed),
//! edited as `mirror add|remove`, `insecure add` and `daemon unset` edit them, rendered as
//! `JsonFile::save` writes. Invariants (see `regctl_fuzz::check_round_trip`): no panic, the output
//! parses and equals the edited value, the BOM is kept, untouched members keep their bytes.
//! Input: byte 0 picks the insert, byte 1 the removal, the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use regctl::files::daemon_config::{INSECURE, MIRRORS};
use regctl::files::json_file::FileKind;
use regctl_fuzz::{append_to_list, check_round_trip, remove_chosen};
use serde_json::Value;

fuzz_target!(|data: &[u8]| {
    let [op, rm, bytes @ ..] = data else {
        return;
    };
    check_round_trip(&FileKind::DAEMON_JSON, bytes, |m| {
        match op % 4 {
            0 => {}
            1 => append_to_list(m, MIRRORS, "https://mirror.example.com/"),
            // Removing the last mirror writes [] so that a live reload clears the list.
            2 => {
                m.insert(MIRRORS.into(), Value::Array(Vec::new()));
            }
            _ => append_to_list(m, INSECURE, "10.0.0.0/8"),
        }
        remove_chosen(m, *rm);
    });
});
