//! The exec-protocol client for any `docker-credential-NAME`: exactly one argument (`store`,
//! `get`, `erase`, `list`), the request on stdin, the answer (or the error text) on stdout, exit 1
//! on failure, and `credentials not found in native keychain` meaning "nothing stored".
//! Every call has a timeout so that a helper waiting on a prompt cannot hang regctl.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Value};

use super::{Credential, CredsError, Store, NOT_FOUND};

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
            timeout: Duration::from_secs(30),
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
        let mut child = Command::new(&exe)
            .arg(action)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| CredsError::HelperExec {
                path: exe.clone(),
                source,
            })?;
        let mut stdin = child.stdin.take().expect("piped");
        let mut stdout = child.stdout.take().expect("piped");
        let input = input.to_vec();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            // A helper that exits without reading its input closes the pipe: not our error.
            let _ = stdin.write_all(&input);
            drop(stdin);
            let mut out = Vec::new();
            let _ = stdout.read_to_end(&mut out);
            let _ = tx.send(out);
        });
        let out = match rx.recv_timeout(self.timeout) {
            Ok(out) => out,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(CredsError::HelperTimeout {
                    helper: self.name.clone(),
                    action,
                    secs: self.timeout.as_secs(),
                });
            }
        };
        let status = child
            .wait()
            .map_err(|source| CredsError::HelperExec { path: exe, source })?;
        Ok(Output {
            success: status.success(),
            stdout: String::from_utf8_lossy(&out).into_owned(),
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
