//! The question `trust-ca --from-server` asks at a terminal: every certificate the server
//! presented (and any downloaded), then whether to trust the one `registry::from_server` picked.

use crate::error::{Error, Result};
use crate::files::certs_dir::x509::CertInfo;
use crate::files::certs_dir::CertsError;
use crate::output::Printer;
use crate::registry::from_server::{Confirm, FromServer};

/// Shows the chain and asks about `confirm.cert`; no means nothing is written.
/// `pin_flag` names the option that would have pinned it instead.
pub fn ask(
    folder: &str,
    got: &FromServer,
    confirm: &Confirm,
    pin_flag: &'static str,
    printer: &Printer,
) -> Result<()> {
    let mut lines = vec![format!("{folder} presented:")];
    let n = got.presented.len();
    for (i, c) in got.presented.iter().enumerate() {
        lines.extend(cert_lines(&format!("{}/{n}", i + 1), c));
    }
    for (url, c) in &got.fetched {
        lines.extend(cert_lines(&format!("from {url}"), c));
    }
    let cert = &confirm.cert;
    lines.push(format!(
        "To trust: {} (SHA-256 {})",
        cert.subject, cert.sha256
    ));
    if let Some(w) = &confirm.renewal {
        lines.push(format!(
            "Note: this trusts exactly this certificate, not a CA; {w}"
        ));
    }
    printer.before_prompt(&lines);
    let yes = dialoguer::Confirm::new()
        .with_prompt(format!(
            "Trust it for {folder}? Compare the fingerprint with one you got another way"
        ))
        .default(false)
        .interact()
        .unwrap_or(false);
    if yes {
        return Ok(());
    }
    Err(Error::Presented {
        error: Box::new(
            CertsError::Declined {
                subject: cert.subject.clone(),
                fingerprint: cert.sha256,
            }
            .into(),
        ),
        presented: got.presented.clone(),
        fetched: got.fetched.clone(),
        pin_flag,
    })
}

fn cert_lines(label: &str, c: &CertInfo) -> Vec<String> {
    vec![
        format!("  [{label}]"),
        format!("    subject:     {}", c.subject),
        format!("    issuer:      {}", c.issuer),
        format!("    SHA-256:     {}", c.sha256),
        format!("    valid:       {} to {}", c.not_before, c.not_after),
        format!(
            "    type:        {}{}",
            c.kind.describe(),
            if c.ca { "" } else { " (not a CA)" }
        ),
    ]
}
