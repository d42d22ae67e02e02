//! `regctl certs`: what certs.d holds, per registry folder.

pub mod list;
mod text;

/// Seconds since the epoch: the "now" that certificate validity is judged at.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}
