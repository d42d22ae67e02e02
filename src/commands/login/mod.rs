//! `regctl login`: get a username and secret (flags, stdin, or a prompt on a terminal), check
//! them against the registry, and store them where docker looks, by docker's order
//! (`credHelpers[KEY]` > `credsStore` > plain-text `auths`), or where `--store` says.
//! Amazon ECR registries log in with AWS credentials instead (`ecr`).

mod ecr;

use crate::files::bounded;
use std::time::Duration;

use serde_json::json;

use super::creds::{helper_store, regctl_helper_note, registry_client, set_cred_helper};
use crate::cli::LoginArgs;
use crate::context::Context;
use crate::creds::file::FileStore;
use crate::creds::keychain::Keychain;
use crate::creds::{Credential, Store, REGCTL_HELPER};
use crate::error::{Error, Result};
use crate::files::docker_config::{self as dc, StoreRef};
use crate::files::json_file::{FileKind, JsonFile};
use crate::hints;
use crate::names;
use crate::output::Outcome;
use crate::registry::token::{self, Credentials};

/// Where the secret goes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    File,
    /// A helper; `regctl` means the keychain. `via_creds_store`: docker finds it through
    /// `credsStore`, so no `credHelpers` entry is needed.
    Helper {
        name: String,
        via_creds_store: bool,
    },
}

impl Target {
    fn label(&self) -> String {
        match self {
            Target::File => "file".into(),
            Target::Helper { name, .. } if name == REGCTL_HELPER => "keychain".into(),
            Target::Helper { name, .. } => format!("helper:{name}"),
        }
    }
}

fn read_password_stdin() -> Result<String> {
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

fn prompt_username(ctx: &Context) -> Result<String> {
    if !ctx.interactive {
        return Err(Error::CannotPrompt { what: "username" });
    }
    dialoguer::Input::<String>::new()
        .with_prompt("Username")
        .interact_text()
        .map_err(|e| Error::Input {
            what: "username",
            detail: e.to_string(),
        })
}

fn prompt_password(ctx: &Context) -> Result<String> {
    if !ctx.interactive {
        return Err(Error::CannotPrompt { what: "password" });
    }
    dialoguer::Password::new()
        .with_prompt("Password")
        .interact()
        .map_err(|e| Error::Input {
            what: "password",
            detail: e.to_string(),
        })
}

/// The store for this login: `--store`, else what config.json already configures, else the
/// keychain when it answers, else plain text.
fn choose_target(
    store: &str,
    config: &serde_json::Map<String, serde_json::Value>,
    key: &str,
    keychain: &crate::creds::keychain::KeychainEnv,
    out: &mut Outcome,
) -> Result<Target> {
    let configured = dc::store_for(config, key);
    let helper = |name: &str| Target::Helper {
        via_creds_store: dc::cred_helper(config, key).is_none()
            && dc::creds_store(config) == Some(name),
        name: name.to_string(),
    };
    Ok(match store {
        "auto" => match configured {
            StoreRef::Helper(h) | StoreRef::CredsStore(h) => helper(&h),
            StoreRef::File => match Keychain::new(keychain.clone()).available() {
                Ok(()) => helper(REGCTL_HELPER),
                Err(e) => {
                    out.notes.push(crate::output::Note::Info(format!(
                        "not using the OS keychain: {e}"
                    )));
                    Target::File
                }
            },
        },
        "file" => Target::File,
        "keychain" => helper(REGCTL_HELPER),
        other => match other.strip_prefix("helper:") {
            Some(name) if !name.is_empty() && !name.contains('/') => helper(name),
            _ => return Err(Error::BadStore(other.to_string())),
        },
    })
}

/// `--store file` is pointless when `credsStore` sends this registry to a helper (and no
/// `credHelpers` entry that the login replaces says otherwise): docker would not read the file.
fn refuse_shadowed_file_store(
    config: &serde_json::Map<String, serde_json::Value>,
    path: &std::path::Path,
    key: &str,
) -> Result<()> {
    match (dc::cred_helper(config, key), dc::creds_store(config)) {
        (None, Some(h)) => Err(Error::FileStoreShadowed {
            path: path.to_path_buf(),
            helper: h.to_string(),
            server: key.to_string(),
        }),
        _ => Ok(()),
    }
}

/// What config.json's store for `key` holds, if anything.
fn stored_credential(
    config: &mut serde_json::Map<String, serde_json::Value>,
    path: &std::path::Path,
    key: &str,
    ctx: &Context,
) -> Result<Option<Credential>> {
    Ok(crate::creds::stored(
        config,
        path,
        key,
        &ctx.paths.exec_path,
        &ctx.paths.keychain,
    )?)
}

/// Verifies stored credentials (an identity token goes through the OAuth flow).
fn check_stored(
    stored: &Credential,
    host: &str,
    no_verify: bool,
    limit: Duration,
    ctx: &Context,
) -> Result<serde_json::Map<String, serde_json::Value>> {
    let mut data = serde_json::Map::new();
    data.insert("registry".into(), json!(stored.server_url));
    data.insert("username".into(), json!(stored.username));
    data.insert("verified".into(), json!(!no_verify));
    if no_verify {
        return Ok(data);
    }
    let creds = stored.login_credentials();
    let v = token::verify(&registry_client(ctx, limit), host, &creds)?;
    data.insert("auth".into(), json!(v.scheme.as_str()));
    data.insert("transport".into(), json!(v.transport.as_str()));
    Ok(data)
}

pub fn run(args: LoginArgs, ctx: &Context) -> Result<Outcome> {
    let name = names::parse(args.registry.as_deref().unwrap_or(""))?;
    let key = name.cred_key.clone();
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
    if !matches!(args.store.as_str(), "auto" | "file" | "keychain")
        && !args.store.starts_with("helper:")
    {
        return Err(Error::BadStore(args.store.clone()));
    }
    if ecr::wanted(&args, args.registry.as_deref().unwrap_or("")) {
        return ecr::run(&args, &name, ctx, out);
    }
    if crate::creds::ecr::EcrHost::is_ecr(&key) {
        out = out.info(hints::ecr_password_expires(&key));
    }
    let path = ctx.paths.client_config();
    // Read without the lock: prompts, the registry and helpers come first; config.json is locked
    // only to re-read, edit and write it at the end (docker takes no lock at all).
    let mut config = JsonFile::read(&path, FileKind::CLIENT_CONFIG)?.value;
    // A broken auths entry for this registry stops us before anything else, as in docker.
    dc::get_auth(&config, &path, &key)?;

    let password = match (&args.password, args.password_stdin) {
        (Some(p), _) => Some(p.clone()),
        (None, true) => Some(read_password_stdin()?),
        (None, false) => None,
    };
    if args.username.is_none() && password.is_none() && args.store == "auto" {
        // Like docker: with nothing given, try what is already stored (where it is stored).
        if let Some(stored) = stored_credential(&mut config, &path, &key, ctx)? {
            match check_stored(&stored, &name.host, args.no_verify, limit, ctx) {
                Ok(data) => {
                    out.msg = format!(
                        "already logged in to {} as {} (existing credentials)",
                        name.host, stored.username
                    );
                    out.data.extend(data);
                    return Ok(out);
                }
                Err(e) if !ctx.interactive => return Err(e),
                Err(_) => {}
            }
        }
    }
    let username = match &args.username {
        Some(u) => u.trim().to_string(),
        None => prompt_username(ctx)?.trim().to_string(),
    };
    if username.is_empty() {
        return Err(Error::Empty { what: "username" });
    }
    let password = match password {
        Some(p) => p,
        None => prompt_password(ctx)?,
    };
    if password.is_empty() {
        return Err(Error::Empty { what: "password" });
    }

    let mut data = json!({"registry": key, "host": name.host, "username": username});
    if !args.no_verify {
        let client = registry_client(ctx, limit);
        let creds = Credentials::Basic {
            username: username.clone(),
            password: password.clone(),
        };
        let v = token::verify(&client, &name.host, &creds)?;
        data["verified"] = json!(true);
        data["auth"] = json!(v.scheme.as_str());
        data["transport"] = json!(v.transport.as_str());
        if v.scheme == token::AuthScheme::None {
            out = out.info(format!(
                "{} does not ask for authentication; the credentials were not checked",
                name.host
            ));
        }
    } else {
        data["verified"] = json!(false);
    }

    let target = choose_target(&args.store, &config, &key, &ctx.paths.keychain, &mut out)?;
    let cred = Credential {
        server_url: key.clone(),
        username: username.clone(),
        secret: password,
    };
    let mut store_changed = false;
    if let Target::Helper { name: helper, .. } = &target {
        // The helper (or keychain) is written before config.json is locked.
        let mut store = helper_store(helper, ctx);
        if store.get(&key)?.as_ref() != Some(&cred) {
            store_changed = true;
            if !ctx.check {
                store.store(&cred)?;
            }
        }
        if helper == REGCTL_HELPER {
            if let Some(note) = regctl_helper_note(ctx, "read the keychain") {
                out = out.warn(note);
            }
        }
    }
    // Locked from here to the write: the edit applies to the file as it is now.
    let mut file = JsonFile::edit(&path, FileKind::CLIENT_CONFIG, ctx.check)?;
    match &target {
        Target::File => {
            refuse_shadowed_file_store(&file.value, &path, &key)?;
            dc::remove_cred_helper(&mut file.value, &key);
            let mut store = FileStore::new(&mut file.value, &path);
            if store.get(&key)?.as_ref() != Some(&cred) {
                store.store(&cred)?;
            }
        }
        Target::Helper {
            name: helper,
            via_creds_store,
        } => {
            if !via_creds_store {
                set_cred_helper(&mut file.value, &path, &key, helper)?;
            }
            // docker leaves an empty marker in auths; any plain-text secret there goes away.
            dc::set_auth(&mut file.value, &path, &key, None)?;
        }
    }
    let saved = file.save(ctx.check)?;
    out = out.with_save(&saved);
    out.changed |= store_changed;
    if target == Target::File {
        out = out.warn(hints::plain_text_warning(&path));
    }
    data["store"] = json!(target.label());
    let verb = if out.changed {
        ctx.did("logged in to", "would log in to")
    } else {
        "already logged in to"
    };
    out.msg = format!(
        "{verb} {} as {username} (credentials in {})",
        name.host,
        target.label()
    );
    if let serde_json::Value::Object(m) = data {
        out.data.extend(m);
    }
    Ok(out)
}
