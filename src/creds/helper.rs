//! The exec-protocol client for any `docker-credential-NAME`: exactly one argument (`store`,
//! `get`, `erase`, `list`), the request on stdin, the answer (or the error text) on stdout, exit 1
//! on failure, and `credentials not found in native keychain` meaning "nothing stored".
//! Every call has a timeout so that a helper waiting on a prompt cannot hang regctl, and its
//! output is capped (`creds::exec`), so that a helper printing forever cannot fill memory.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::exec::{self, ExecError};
use super::{Credential, CredsError, Store, NOT_FOUND};
use crate::files::bounded;

/// How long one helper call may take unless the caller says otherwise.
pub const TIMEOUT: Duration = Duration::from_secs(30);

pub struct Helper {
    pub name: String,
    search_path: Vec<PathBuf>,
    pub timeout: Duration,
}

/// The first `file` found in the directories of `path` that is a file.
pub fn find_in_path(file: &str, path: &[PathBuf]) -> Option<PathBuf> {
    path.iter().map(|d| d.join(file)).find(|p| p.is_file())
}

struct Output {
    success: bool,
    stdout: String,
}

impl Helper {
    pub fn new(name: &str, search_path: &[PathBuf]) -> Helper {
        Helper {
            name: name.to_string(),
            search_path: search_path.to_vec(),
            timeout: TIMEOUT,
        }
    }

    pub fn binary_name(&self) -> String {
        format!("docker-credential-{}", self.name)
    }

    /// The helper's executable, when it is on PATH.
    pub fn locate(&self) -> Option<PathBuf> {
        find_in_path(&self.binary_name(), &self.search_path)
    }

    fn run(&self, action: &'static str, input: &[u8], server: &str) -> Result<Output, CredsError> {
        let exe = self.locate().ok_or_else(|| CredsError::HelperMissing {
            helper: self.name.clone(),
            server: server.to_string(),
        })?;
        let mut cmd = Command::new(&exe);
        cmd.arg(action);
        let limits = exec::Limits {
            stdout: bounded::limits::PROCESS_OUTPUT,
            stderr: None,
        };
        let done =
            exec::run(cmd, input, limits, Instant::now() + self.timeout).map_err(|e| match e {
                ExecError::Spawn(source) | ExecError::Wait(source) => CredsError::HelperExec {
                    path: exe.clone(),
                    source,
                },
                ExecError::Timeout => CredsError::HelperTimeout {
                    helper: self.name.clone(),
                    action,
                    secs: self.timeout.as_secs_f64(),
                },
                e @ ExecError::TooLarge { .. } => CredsError::HelperFailed {
                    helper: self.name.clone(),
                    action,
                    message: e.to_string(),
                },
            })?;
        Ok(Output {
            success: done.status.success(),
            stdout: String::from_utf8_lossy(&done.stdout).into_owned(),
        })
    }

    /// The helper's error text, with `secret` (what we asked it to store, or what it answered
    /// before) cut out, should it echo it; text that looks like it holds credentials is not quoted.
    fn failed(&self, action: &'static str, out: &Output, secret: Option<&str>) -> CredsError {
        let mut message = out.stdout.trim().to_string();
        if let Some(s) = secret.filter(|s| !s.is_empty()) {
            // As given, and as it was inside the JSON request.
            let quoted = serde_json::to_string(s).expect("a string serializes");
            message = message
                .replace(&quoted[1..quoted.len() - 1], "<secret>")
                .replace(s, "<secret>");
        }
        // A helper that prints JSON on failure may be printing credentials: not quoted.
        let json_like = message.contains('{') || message.to_ascii_lowercase().contains("secret");
        CredsError::HelperFailed {
            helper: self.name.clone(),
            action,
            message: if message.is_empty() {
                "it exited with an error and printed nothing".into()
            } else if json_like {
                format!(
                    "it exited with an error and printed {} bytes that may hold credentials (not shown)",
                    out.stdout.len()
                )
            } else {
                message.chars().take(300).collect()
            },
        }
    }

    /// An answer that is not the protocol's: quoted, except for `get`, whose answer holds the
    /// secret whatever shape it has.
    fn garbage(&self, action: &'static str, out: &Output) -> CredsError {
        CredsError::HelperGarbage {
            helper: self.name.clone(),
            action,
            output: if action == "get" {
                format!(
                    "{} bytes, not shown (a get answer holds the secret)",
                    out.stdout.len()
                )
            } else {
                format!("{:?}", out.stdout.chars().take(200).collect::<String>())
            },
        }
    }
}

impl Store for Helper {
    fn name(&self) -> String {
        format!("helper:{}", self.name)
    }

    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError> {
        let out = self.run("get", server_url.as_bytes(), server_url)?;
        if !out.success {
            if out.stdout.trim() == NOT_FOUND {
                return Ok(None);
            }
            return Err(self.failed("get", &out, None));
        }
        let v: Value =
            serde_json::from_str(out.stdout.trim()).map_err(|_| self.garbage("get", &out))?;
        let field = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(username), Some(secret)) = (field("Username"), field("Secret")) else {
            return Err(self.garbage("get", &out));
        };
        Ok(Some(Credential {
            server_url: server_url.to_string(),
            username,
            secret,
        }))
    }

    fn store(&mut self, cred: &Credential) -> Result<(), CredsError> {
        let input = json!({
            "ServerURL": cred.server_url,
            "Username": cred.username,
            "Secret": cred.secret,
        })
        .to_string();
        let out = self.run("store", input.as_bytes(), &cred.server_url)?;
        if !out.success {
            return Err(self.failed("store", &out, Some(&cred.secret)));
        }
        Ok(())
    }

    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError> {
        let Some(stored) = self.get(server_url)? else {
            return Ok(false);
        };
        let out = self.run("erase", server_url.as_bytes(), server_url)?;
        if !out.success {
            if out.stdout.trim() == NOT_FOUND {
                return Ok(false);
            }
            return Err(self.failed("erase", &out, Some(&stored.secret)));
        }
        Ok(true)
    }

    fn list(&self) -> Result<BTreeMap<String, String>, CredsError> {
        let out = self.run("list", b"", "(list)")?;
        if !out.success {
            return Err(self.failed("list", &out, None));
        }
        serde_json::from_str(out.stdout.trim()).map_err(|_| self.garbage("list", &out))
    }
}
