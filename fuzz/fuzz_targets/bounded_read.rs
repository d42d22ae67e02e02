//! The one capped reader (`files::bounded`): everything regctl reads from outside goes through
//! `copy_capped`. The input is a limit, a schedule of read sizes and interruptions, and the
//! stream itself, delivered by a reader that returns short reads and `Interrupted` errors as
//! pipes and sockets do. Invariants: no panic; `read_capped` returns the whole stream exactly
//! when it is at most the limit, else the "too large" error; it never reads more than one
//! buffer (8 KiB) past the limit and never writes past the limit; `read_text` agrees with
//! `read_capped` plus a UTF-8 check; an I/O error from the stream is passed on as it is.
#![no_main]

use std::io::{self, ErrorKind, Read};

use libfuzzer_sys::fuzz_target;
use regctl::files::bounded::{copy_capped, is_too_large, read_capped, read_text};

/// Hands out `data` in the sizes `schedule` says (0 = an `Interrupted` error, 255 = a hard
/// error when `fail` is set), counting what it gave.
struct Chunked<'a> {
    data: &'a [u8],
    schedule: &'a [u8],
    step: usize,
    given: usize,
    fail: bool,
}

impl Read for Chunked<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let size = if self.schedule.is_empty() {
            usize::MAX
        } else {
            let s = self.schedule[self.step % self.schedule.len()];
            self.step += 1;
            if s == 0 && self.step < 4 * self.schedule.len() {
                return Err(io::Error::new(ErrorKind::Interrupted, "signal"));
            }
            if s == 255 && self.fail {
                return Err(io::Error::other("the pipe broke"));
            }
            usize::from(s).max(1) * 37
        };
        let rest = &self.data[self.given..];
        let n = rest.len().min(buf.len()).min(size);
        buf[..n].copy_from_slice(&rest[..n]);
        self.given += n;
        Ok(n)
    }
}

fuzz_target!(|input: &[u8]| {
    if input.len() < 4 {
        return;
    }
    let limit = u64::from(u16::from_le_bytes([input[0], input[1]]));
    let fail = input[2] & 1 == 1;
    let split = (usize::from(input[3]) % 16).min(input.len() - 4);
    let schedule = &input[4..4 + split];
    let data = &input[4 + split..];
    let reader = || Chunked {
        data,
        schedule,
        step: 0,
        given: 0,
        fail,
    };
    let can_fail = fail && schedule.contains(&255);

    let mut r = reader();
    match read_capped(&mut r, limit) {
        Ok(out) => {
            assert_eq!(out, data);
            assert!(out.len() as u64 <= limit);
        }
        Err(e) if is_too_large(&e) => {
            assert!(data.len() as u64 > limit, "{} <= {limit}", data.len());
            assert!(r.given as u64 <= limit + 8192, "read {} past {limit}", r.given);
        }
        Err(e) => {
            assert!(can_fail, "{e}");
            assert_eq!(e.to_string(), "the pipe broke");
        }
    }

    let mut r = reader();
    let mut out = Vec::new();
    let copied = copy_capped(&mut r, limit, &mut out);
    assert!(out.len() as u64 <= limit);
    assert_eq!(&out[..], &data[..out.len()]);
    if let Ok(n) = copied {
        assert_eq!(n as usize, data.len());
    }

    if !can_fail {
        let mut r = reader();
        match (read_text(&mut r, limit), data.len() as u64 <= limit) {
            (Ok(text), true) => assert_eq!(text.as_bytes(), data),
            (Err(e), true) => {
                assert!(std::str::from_utf8(data).is_err(), "{e}");
                assert_eq!(e.kind(), ErrorKind::InvalidData);
            }
            (Err(e), false) => assert!(is_too_large(&e), "{e}"),
            (Ok(_), false) => panic!("more than the limit was accepted"),
        }
    }
});
