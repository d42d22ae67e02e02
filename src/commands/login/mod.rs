//! `regctl login`: get a username and secret (flags, stdin, or a prompt on a terminal), then let
//! `creds::ops::login` check them against the registry and store them where docker looks, by
//! docker's order (`credHelpers[KEY]` > `credsStore` > plain-text `auths`), or where `--store`
//! says. Amazon ECR registries log in with AWS credentials instead (`ecr`).

mod ecr;
mod prompt;

use std::time::Duration;

use serde_json::json;

use super::creds::{places, regctl_helper_note, registry_client, writes};
use crate::cli::LoginArgs;
use crate::context::Context;
use crate::creds::ops::login::{LoggedIn, Login, LoginNote, NewLogin, StoreChoice, Target};
use crate::creds::Credential;
use crate::error::{Error, Result};
use crate::hints;
use crate::output::{Note, Outcome};
use crate::registry::names::{self, RegistryName};
use crate::registry::token::Verified;

/// `--timeout`, checked as doctor checks it.
fn timeout(args: &LoginArgs) -> Result<Duration> {
    if !(args.timeout > 0.0 && args.timeout <= 3600.0) {
        return Err(Error::InvalidTimeout(args.timeout));
    }
    Ok(Duration::from_secs_f64(args.timeout))
}

pub fn run(args: LoginArgs, ctx: &Context) -> Result<Outcome> {
    let name = names::parse(args.registry.as_deref().unwrap_or(""))?;
    let limit = timeout(&args)?;
    let mut out = Outcome::new("");
    if args.password.is_some() {
        out = out.warn(hints::PASSWORD_ARGV_WARNING);
    }
    if ctx.env.docker_auth_config {
        out = out.warn(hints::DOCKER_AUTH_CONFIG_WARNING);
    }
    if args.password_stdin && args.username.is_none() {
        return Err(Error::CannotPrompt {
            what: "username (--password-stdin needs -u USER)",
        });
    }
    if ecr::wanted(&args, args.registry.as_deref().unwrap_or("")) {
        return ecr::run(&args, &name, ctx, out);
    }
    if crate::creds::ecr::EcrHost::is_ecr(&name.cred_key) {
        out = out.info(hints::ecr_password_expires(&name.cred_key));
    }
    let places = places(ctx);
    let mut login = Login::open(&places, &name.cred_key, &name.host)?;
    let password = match (&args.password, args.password_stdin) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(prompt::password_from_stdin()?),
        (None, false) => None,
    };
    let client = (!args.no_verify).then(|| registry_client(ctx, limit));
    if args.username.is_none() && password.is_none() && args.store == StoreChoice::Auto {
        // Like docker: with nothing given, try what is already stored (where it is stored).
        if let Some(existing) = login.existing(client.as_ref())? {
            match existing.check {
                Ok(v) => return Ok(already_logged_in(out, &name, &existing.stored, v)),
                Err(e) if !ctx.interactive => return Err(e.into()),
                Err(_) => {}
            }
        }
    }
    let (username, password) = prompt::credentials(ctx, args.username.as_deref(), password)?;
    let new = NewLogin {
        username: username.clone(),
        password,
        store: &args.store,
        verify_with: client.as_ref(),
    };
    let done = login.store(new, writes(ctx))?;
    Ok(render(out, &name, &username, done, ctx))
}

/// The stored credentials still work (or were not checked).
fn already_logged_in(
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

fn render(
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
