//! What `login` says: the message, notes and JSON for a login that went through, or for
//! stored credentials that still work.

use serde_json::json;

use crate::commands::creds::regctl_helper_note;
use crate::context::Context;
use crate::creds::ops::login::{LoggedIn, LoginNote, Target};
use crate::creds::Credential;
use crate::hints;
use crate::names::RegistryName;
use crate::output::{Note, Outcome};
use crate::registry::token::Verified;

/// The stored credentials still work (or were not checked).
pub fn already_logged_in(
    mut out: Outcome,
    name: &RegistryName,
    stored: &Credential,
    verified: Option<Verified>,
) -> Outcome {
    out.msg = format!(
        "already logged in to {} as {} (existing credentials)",
        name.host, stored.username
    );
    out = out
        .data("registry", json!(stored.server_url))
        .data("username", json!(stored.username))
        .data("verified", json!(verified.is_some()));
    if let Some(v) = verified {
        out = out
            .data("auth", json!(v.scheme.as_str()))
            .data("transport", json!(v.transport.as_str()));
    }
    out
}

/// A login that went through: where the secret is, what was checked, what to know.
pub fn logged_in(
    mut out: Outcome,
    name: &RegistryName,
    username: &str,
    done: LoggedIn,
    ctx: &Context,
) -> Outcome {
    for note in &done.notes {
        out.notes.push(match note {
            LoginNote::NotChecked => Note::Info(format!(
                "{} does not ask for authentication; the credentials were not checked",
                name.host
            )),
            LoginNote::KeychainUnavailable(e) => {
                Note::Info(format!("not using the OS keychain: {e}"))
            }
            LoginNote::RegctlHelperMissing => {
                Note::Warning(regctl_helper_note("read the keychain"))
            }
        });
    }
    out = out.with_save(&done.saved);
    out.changed |= done.store_changed;
    if done.target == Target::File {
        out = out.warn(hints::plain_text_warning(&done.saved.path));
    }
    let label = done.target.label();
    let verb = if out.changed {
        ctx.did("logged in to", "would log in to")
    } else {
        "already logged in to"
    };
    out.msg = format!(
        "{verb} {} as {username} (credentials in {label})",
        name.host
    );
    let mut data = json!({
        "registry": name.cred_key, "host": name.host, "username": username,
        "verified": done.verified.is_some(),
    });
    if let Some(v) = &done.verified {
        data["auth"] = json!(v.scheme.as_str());
        data["transport"] = json!(v.transport.as_str());
    }
    data["store"] = json!(label);
    if let serde_json::Value::Object(m) = data {
        out.data.extend(m);
    }
    out
}
