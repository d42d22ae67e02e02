//! `regctl login`: get a username and secret (flags, stdin, or a prompt on a terminal), then let
//! `creds::ops::login` check them against the registry and store them where docker looks, by
//! docker's order (`credHelpers[KEY]` > `credsStore` > plain-text `auths`), or where `--store`
//! says. Amazon ECR registries log in with AWS credentials instead (`ecr`).

mod ecr;
mod prompt;
mod report;

use super::creds::{places, registry_client, writes};
use crate::cli::LoginArgs;
use crate::context::Context;
use crate::creds::ops::login::{Login, NewLogin, StoreChoice};
use crate::error::{Error, Result};
use crate::hints;
use crate::names;
use crate::output::Outcome;

pub fn run(args: LoginArgs, ctx: &Context) -> Result<Outcome> {
    let name = names::parse(args.registry.as_deref().unwrap_or(""))?;
    let limit = args.timeout;
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
                Ok(v) => return Ok(report::already_logged_in(out, &name, &existing.stored, v)),
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
    Ok(report::logged_in(out, &name, &username, done, ctx))
}
