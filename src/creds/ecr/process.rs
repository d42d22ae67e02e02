//! `credential_process`: runs the command a profile names and reads the credentials it prints
//! (AWS's Version 1 JSON), so that aws-vault, `aws configure export-credentials` and company
//! tools work as they do with the AWS CLI. Its stderr is kept for the error message. It runs
//! through `creds::exec`: own process group killed at the timeout, output capped.

use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use serde_json::Value;

use super::profile::AwsCredentials;
use super::{parse_rfc3339, rfc3339, EcrError};
use crate::creds::exec::{self, ExecError};
use crate::files::bounded;

/// How long a credential process may run (the AWS SDK for Go's default).
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `command` through `sh -c` (as the AWS SDKs for Go and Rust do) and parses its output.
/// `now` judges the `Expiration` it reports.
pub fn run(profile: &str, command: &str, now: SystemTime) -> Result<AwsCredentials, EcrError> {
    let fail = |reason: String| EcrError::CredentialProcess {
        profile: profile.to_string(),
        command: command.to_string(),
        reason,
    };
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(command);
    let limits = exec::Limits {
        stdout: bounded::limits::PROCESS_OUTPUT,
        stderr: Some(bounded::limits::PROCESS_STDERR),
    };
    let done = exec::run(cmd, b"", limits, Instant::now() + TIMEOUT).map_err(|e| match e {
        ExecError::Spawn(e) => fail(format!("cannot start sh: {e}")),
        ExecError::Timeout => fail(format!("it did not finish within {} s", TIMEOUT.as_secs())),
        e => fail(e.to_string()),
    })?;
    let (status, stdout, stderr) = (done.status, done.stdout, done.stderr);
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let stderr = stderr.trim();
        let what = match status.code() {
            Some(code) => format!("it exited with status {code}"),
            None => "it was killed by a signal".to_string(),
        };
        return Err(fail(if stderr.is_empty() {
            what
        } else {
            format!("{what}: {}", tail(stderr, 500))
        }));
    }
    parse_output(&stdout, now).map_err(fail)
}

fn tail(text: &str, max: usize) -> &str {
    match text.char_indices().rev().nth(max) {
        Some((i, _)) => &text[i..],
        None => text,
    }
}

/// The Version 1 document: `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and
/// `Expiration` (RFC 3339).
pub fn parse_output(stdout: &[u8], now: SystemTime) -> Result<AwsCredentials, String> {
    let doc: Value = serde_json::from_slice(stdout)
        .map_err(|e| format!("its output is not the expected JSON document: {e}"))?;
    let field = |name: &str| {
        doc.get(name)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    match doc.get("Version").and_then(Value::as_u64) {
        Some(1) => {}
        Some(v) => return Err(format!("its output has Version {v}; only Version 1 exists")),
        None => return Err("its output has no \"Version\": 1".to_string()),
    }
    let access_key_id = field("AccessKeyId").ok_or("its output has no AccessKeyId")?;
    let secret_access_key = field("SecretAccessKey").ok_or("its output has no SecretAccessKey")?;
    let expiration = match field("Expiration") {
        Some(text) => {
            let at = parse_rfc3339(text)
                .ok_or_else(|| format!("Expiration {text:?} is not an RFC 3339 time"))?;
            if at <= now {
                return Err(format!(
                    "it returned credentials that expired at {}",
                    rfc3339(at)
                ));
            }
            Some(at)
        }
        None => None,
    };
    Ok(AwsCredentials {
        access_key_id: access_key_id.to_string(),
        secret_access_key: secret_access_key.to_string(),
        session_token: field("SessionToken").map(str::to_string),
        expiration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_documents() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let ok = br#"{"Version":1,"AccessKeyId":"AKID","SecretAccessKey":"s","SessionToken":"t","Expiration":"2030-01-01T00:00:00Z"}"#;
        let c = parse_output(ok, now).unwrap();
        assert_eq!(c.session_token.as_deref(), Some("t"));
        assert!(c.expiration.is_some());
        for (doc, needle) in [
            (&br#"{"Version":2}"#[..], "Version 2"),
            (br#"{"AccessKeyId":"a"}"#, "no \"Version\""),
            (br#"{"Version":1,"SecretAccessKey":"s"}"#, "AccessKeyId"),
            (br#"not json"#, "not the expected JSON"),
            (
                br#"{"Version":1,"AccessKeyId":"a","SecretAccessKey":"s","Expiration":"2001-01-01T00:00:00Z"}"#,
                "expired at 2001-01-01T00:00:00Z",
            ),
        ] {
            let e = parse_output(doc, now).unwrap_err();
            assert!(e.contains(needle), "{e}");
        }
    }
}
