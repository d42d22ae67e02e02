//! What `login` asks people for: the username and password from flags, stdin or a prompt on a
//! terminal (never a prompt without one).

use crate::context::Context;
use crate::error::{Error, Result};
use crate::files::bounded;

/// The password piped to `--password-stdin`.
pub fn password_from_stdin() -> Result<String> {
    // A password is a few KB at most: a stdin that never ends (/dev/zero) is refused, not read.
    let raw =
        bounded::read_text(&mut std::io::stdin().lock(), bounded::limits::SECRET).map_err(|e| {
            Error::Input {
                what: "password from stdin",
                detail: e.to_string(),
            }
        })?;
    // docker: strings.TrimSuffix(contents, "\n") then TrimSuffix("\r").
    let trimmed = raw.strip_suffix('\n').unwrap_or(&raw);
    let trimmed = trimmed.strip_suffix('\r').unwrap_or(trimmed);
    Ok(trimmed.to_string())
}

/// The username (trimmed) and password, prompting on a terminal for what is missing; neither
/// may be empty.
pub fn credentials(
    ctx: &Context,
    username: Option<&str>,
    password: Option<String>,
) -> Result<(String, String)> {
    let username = match username {
        Some(u) => u.trim().to_string(),
        None => ask(ctx, "username", || {
            dialoguer::Input::<String>::new()
                .with_prompt("Username")
                .interact_text()
        })?
        .trim()
        .to_string(),
    };
    if username.is_empty() {
        return Err(Error::Empty { what: "username" });
    }
    let password = match password {
        Some(p) => p,
        None => ask(ctx, "password", || {
            dialoguer::Password::new()
                .with_prompt("Password")
                .interact()
        })?,
    };
    if password.is_empty() {
        return Err(Error::Empty { what: "password" });
    }
    Ok((username, password))
}

/// One prompt, refused when regctl may not prompt.
fn ask(
    ctx: &Context,
    what: &'static str,
    prompt: impl FnOnce() -> dialoguer::Result<String>,
) -> Result<String> {
    if !ctx.interactive {
        return Err(Error::CannotPrompt { what });
    }
    prompt().map_err(|e| Error::Input {
        what,
        detail: e.to_string(),
    })
}
