//! How `certs list` shows a folder's files and problems to people.

use crate::files::certs_dir::lint::{FileReport, Problem, Role, Severity};

/// A file's line with its role, then one line per certificate or key.
pub fn file_lines(file: &FileReport) -> String {
    let role = match file.role {
        Role::Ca => "CA",
        Role::ClientCert => "client certificate",
        Role::ClientKey => "client key",
        Role::HostsToml => "containerd host configuration",
        Role::Ignored => "ignored by docker",
    };
    let mut out = format!("  {}  ({role})\n", file.name);
    for c in &file.certificates {
        out.push_str(&format!(
            "    {}  expires {}  SHA256 {}\n",
            c.subject,
            c.not_after.date(),
            c.sha256
        ));
    }
    if let Some(k) = &file.key {
        out.push_str(&format!(
            "    {} key, public key SHA256 {}\n",
            k.algorithm, k.public_sha256
        ));
    }
    out
}

/// A problem with its level and stable id, and its fix.
pub fn problem_line(p: &Problem, fix: &Option<String>) -> String {
    let level = match p.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    };
    let mut out = format!("  {level} [{}] {}\n", p.id, p.message);
    if let Some(fix) = fix {
        out.push_str(&format!("    fix: {fix}\n"));
    }
    out
}
