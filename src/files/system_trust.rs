//! The OS trust store, where the system's roots come from (what dockerd reads at start, and curl,
//! and every tool that ignores certs.d): Debian/Ubuntu's `/usr/local/share/ca-certificates/*.crt`
//! compiled by `update-ca-certificates` into `/etc/ssl/certs/ca-certificates.crt`, and
//! Fedora/RHEL's `/etc/pki/ca-trust/source/anchors` compiled by `update-ca-trust`. The layout is
//! detected under a root (`/`, or a test root whose paths stand in for the system's). regctl's
//! file there is `regctl-<registry>.crt`, so that removing it undoes exactly what regctl added.
//! Runs the update tool and returns its output; nothing here prints.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Which distribution's tooling owns the trust store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Debian, Ubuntu: ca-certificates' update-ca-certificates.
    Debian,
    /// Fedora, RHEL, CentOS: p11-kit's update-ca-trust.
    Fedora,
}

#[derive(Debug, thiserror::Error)]
pub enum SystemTrustError {
    #[error("no OS trust store found under {root}: neither Debian's /usr/local/share/ca-certificates (update-ca-certificates) nor Fedora's /etc/pki/ca-trust/source/anchors (update-ca-trust)")]
    NotFound { root: PathBuf },
    #[error("{program} is not installed (looked in PATH, /usr/sbin and /sbin)")]
    ToolMissing { program: &'static str },
    #[error("update-ca-trust has no option for another root than /; {root} cannot be updated")]
    RootUnsupported { root: PathBuf },
    #[error("{command} failed ({status}): {output}")]
    UpdateFailed {
        command: String,
        status: String,
        output: String,
    },
}

/// The trust store of one system root.
#[derive(Debug, Clone)]
pub struct SystemStore {
    pub layout: Layout,
    pub root: PathBuf,
    /// Where local CAs go.
    pub anchors_dir: PathBuf,
    /// The compiled PEM bundle the system's TLS clients read.
    pub bundle: PathBuf,
}

/// `root` joined with an absolute system path.
fn under(root: &Path, path: &str) -> PathBuf {
    root.join(path.trim_start_matches('/'))
}

impl SystemStore {
    /// Finds the layout under `root`.
    pub fn detect(root: &Path) -> Result<SystemStore, SystemTrustError> {
        let debian = under(root, "/usr/local/share/ca-certificates");
        let fedora = under(root, "/etc/pki/ca-trust/source/anchors");
        if debian.is_dir() || under(root, "/etc/ca-certificates.conf").is_file() {
            Ok(SystemStore {
                layout: Layout::Debian,
                root: root.to_path_buf(),
                anchors_dir: debian,
                bundle: under(root, "/etc/ssl/certs/ca-certificates.crt"),
            })
        } else if fedora.is_dir() {
            Ok(SystemStore {
                layout: Layout::Fedora,
                root: root.to_path_buf(),
                anchors_dir: fedora,
                bundle: under(root, "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"),
            })
        } else {
            Err(SystemTrustError::NotFound {
                root: root.to_path_buf(),
            })
        }
    }

    /// regctl's file for a registry (`host[:port]` folder name): `regctl-host_port.crt`
    /// (`.crt` is what update-ca-certificates picks up).
    pub fn file_name(folder: &str) -> String {
        let safe: String = folder
            .chars()
            .filter(|c| !matches!(c, '[' | ']'))
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        format!("regctl-{safe}.crt")
    }

    /// The update command with its arguments (pointing at the root when it is not `/`).
    fn update_command(&self, exec_path: &[PathBuf]) -> Result<Command, SystemTrustError> {
        let is_root = self.root == Path::new("/");
        let (program, args): (&'static str, Vec<String>) = match self.layout {
            Layout::Debian if is_root => ("update-ca-certificates", Vec::new()),
            Layout::Debian => {
                let p = |s: &str| under(&self.root, s).display().to_string();
                (
                    "update-ca-certificates",
                    vec![
                        "--certsconf".into(),
                        p("/etc/ca-certificates.conf"),
                        "--certsdir".into(),
                        p("/usr/share/ca-certificates"),
                        "--localcertsdir".into(),
                        p("/usr/local/share/ca-certificates"),
                        "--etccertsdir".into(),
                        p("/etc/ssl/certs"),
                        "--hooksdir".into(),
                        p("/etc/ca-certificates/update.d"),
                    ],
                )
            }
            Layout::Fedora if is_root => ("update-ca-trust", vec!["extract".into()]),
            Layout::Fedora => {
                return Err(SystemTrustError::RootUnsupported {
                    root: self.root.clone(),
                })
            }
        };
        let bin = exec_path
            .iter()
            .map(PathBuf::as_path)
            .chain([Path::new("/usr/sbin"), Path::new("/sbin")])
            .map(|d| d.join(program))
            .find(|p| p.is_file())
            .ok_or(SystemTrustError::ToolMissing { program })?;
        let mut cmd = Command::new(bin);
        cmd.args(args);
        Ok(cmd)
    }

    /// Runs the update tool; returns its standard output (e.g. "... 1 added, 0 removed; done.").
    pub fn update(&self, exec_path: &[PathBuf]) -> Result<String, SystemTrustError> {
        let mut cmd = self.update_command(exec_path)?;
        let shown = format!(
            "{} {}",
            cmd.get_program().to_string_lossy(),
            cmd.get_args()
                .map(|a| a.to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join(" ")
        );
        let out = cmd.output().map_err(|e| SystemTrustError::UpdateFailed {
            command: shown.trim().to_string(),
            status: "not started".into(),
            output: e.to_string(),
        })?;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if !out.status.success() {
            return Err(SystemTrustError::UpdateFailed {
                command: shown.trim().to_string(),
                status: out.status.to_string(),
                output: format!("{stdout}{}", String::from_utf8_lossy(&out.stderr))
                    .trim()
                    .to_string(),
            });
        }
        // stderr holds only openssl rehash's remarks about the bundle itself.
        Ok(stdout.trim().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe_and_end_in_crt() {
        assert_eq!(
            SystemStore::file_name("r.example.com:5000"),
            "regctl-r.example.com_5000.crt"
        );
        assert_eq!(SystemStore::file_name("[::1]:5000"), "regctl-__1_5000.crt");
    }
}
