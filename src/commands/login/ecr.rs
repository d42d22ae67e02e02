//! `regctl login HOST` for Amazon ECR: no password. A token is minted from the user's AWS
//! credentials (`creds::ecr::login`, which also proves they work), then config.json points
//! docker at it: by default `credHelpers[HOST] = "regctl"`, so that `docker-credential-regctl get`
//! mints a new token before the cached one ends; with `--store file`, the token itself goes into
//! `auths` and stops working when it expires (the user is told when).

use std::time::SystemTime;

use serde_json::json;

use crate::cli::LoginArgs;
use crate::commands::creds::{places, regctl_helper_note, writes};
use crate::context::Context;
use crate::creds::ecr::{self, EcrHost, HostSettings, TokenOrigin};
use crate::creds::ops::{self, login::EcrTarget, login::StoreChoice};
use crate::creds::Credential;
use crate::error::{Error, Result};
use crate::hints;
use crate::names::RegistryName;
use crate::output::Outcome;

/// Whether this login is an ECR token login: `--ecr`, `--profile` or `--region` asked for it,
/// or the name is ECR's and no username or password was given (a password from
/// `aws ecr get-login-password` still logs in the usual way).
pub fn wanted(args: &LoginArgs, registry: &str) -> bool {
    let credentials_given = args.username.is_some() || args.password.is_some();
    args.ecr
        || args.profile.is_some()
        || args.region.is_some()
        || (EcrHost::is_ecr(registry) && !credentials_given && !args.password_stdin)
}

pub fn run(args: &LoginArgs, name: &RegistryName, ctx: &Context, out: Outcome) -> Result<Outcome> {
    let mut out = out;
    let key = name.cred_key.as_str();
    let target = match &args.store {
        StoreChoice::Auto => EcrTarget::Helper,
        StoreChoice::File => EcrTarget::File,
        other => return Err(Error::EcrStore(other.to_string())),
    };
    let to_file = target == EcrTarget::File;
    let places = places(ctx);
    // What config.json would refuse stops the login before AWS is asked or anything is written.
    ops::login::ecr_precheck(&places, key, target)?;

    let settings = HostSettings {
        profile: args.profile.clone(),
        region: args.region.clone(),
        forced: args.ecr,
    };
    let done = ecr::login(
        key,
        &settings,
        &ctx.env.aws,
        &ctx.paths.ecr_dirs(),
        SystemTime::now(),
        ctx.check,
    )?;
    for w in &done.outcome.warnings {
        out = out.warn(match w.hint() {
            Some(hint) => format!("{w} ({hint})"),
            None => w.to_string(),
        });
    }
    let token = &done.outcome.token;
    let cred = Credential {
        server_url: key.to_string(),
        username: token.username.clone(),
        secret: token.password.clone(),
    };
    let saved = ops::login::ecr_store(&places, &cred, target, writes(ctx))?;
    if !to_file && places.regctl_helper_missing() {
        out = out.warn(regctl_helper_note("get ECR tokens"));
    }
    out = out.with_save(&saved);
    out.changed |= done.settings_changed;
    let path = &places.config;

    let expires_at = ecr::rfc3339(token.expires_at);
    let store = if to_file { "file" } else { "ecr" };
    if to_file {
        out = out.warn(hints::ecr_token_in_file(path, &expires_at, key));
    }
    let resolved = &done.resolved;
    let verb = if out.changed {
        ctx.did("logged in to", "would log in to")
    } else {
        "already logged in to"
    };
    let kept = if to_file {
        format!("token in {} until {expires_at}", path.display())
    } else {
        "docker-credential-regctl mints tokens".to_string()
    };
    out.msg = format!(
        "{verb} {} as {} with AWS credentials from {} ({kept})",
        name.host,
        token.username,
        resolved.source.describe()
    );
    out.data.extend(
        [
            ("registry", json!(key)),
            ("host", json!(name.host)),
            ("username", json!(token.username)),
            ("store", json!(store)),
            (
                "ecr",
                json!({
                    "region": resolved.region,
                    "account": resolved.host.account,
                    "public": resolved.host.public,
                    "forced": settings.forced,
                    "profile": settings.profile,
                    "credentials": resolved.source.describe(),
                    "endpoint": resolved.endpoint,
                    "token": match done.outcome.origin {
                        TokenOrigin::Fetched => "fetched",
                        TokenOrigin::Cached => "cached",
                        TokenOrigin::CachedAfterRefreshFailed => "cached (refresh failed)",
                    },
                    "expires_at": expires_at,
                }),
            ),
        ]
        .map(|(k, v)| (k.to_string(), v)),
    );
    Ok(out)
}
