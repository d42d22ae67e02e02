//! The freedesktop Secret Service API (gnome-keyring, KeePassXC, KWallet, oo7), spoken over
//! `dbus`: the calls regctl's keychain items need and nothing more. A `plain` session: the
//! secret travels over the local bus unencrypted, as the spec allows (the DH session protects
//! against nothing here, since any process that can read this user's bus traffic can ask the
//! service for the secret itself), and it saves two 1024-bit modular exponentiations on each
//! side. Locked items are unlocked through the service's prompt, as libsecret does; a dismissed
//! prompt is `SsError::Locked`.

use std::collections::HashMap;
use std::time::Instant;

use super::dbus::{Call, Connection, DbusError, Value};

const DEST: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE: &str = "org.freedesktop.Secret.Service";
const ITEM: &str = "org.freedesktop.Secret.Item";
const COLLECTION: &str = "org.freedesktop.Secret.Collection";
const PROMPT: &str = "org.freedesktop.Secret.Prompt";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
/// The content type keyring 4 gave regctl's secrets; kept so items look as they always did.
const CONTENT_TYPE: &str = "application/octet-stream";

/// Why a Secret Service request failed.
#[derive(Debug, thiserror::Error)]
pub enum SsError {
    /// No bus, or nobody owns org.freedesktop.secrets on it.
    #[error("{0}")]
    Unavailable(DbusError),
    /// Locked and not unlocked: a dismissed prompt, or no default keyring to store into.
    #[error("{0}")]
    Locked(String),
    #[error("no answer from the Secret Service within the time limit")]
    Timeout,
    #[error("{0}")]
    Failed(String),
}

impl From<DbusError> for SsError {
    fn from(e: DbusError) -> SsError {
        match &e {
            DbusError::Timeout => SsError::Timeout,
            DbusError::NoAddress | DbusError::BadAddress(_) | DbusError::Connect { .. } => {
                SsError::Unavailable(e)
            }
            DbusError::Remote { name, .. }
                if name == "org.freedesktop.DBus.Error.ServiceUnknown"
                    || name == "org.freedesktop.DBus.Error.NameHasNoOwner"
                    || name.starts_with("org.freedesktop.DBus.Error.Spawn.") =>
            {
                SsError::Unavailable(e)
            }
            DbusError::Remote { name, .. } if name == "org.freedesktop.Secret.Error.IsLocked" => {
                SsError::Locked(e.to_string())
            }
            _ => SsError::Failed(e.to_string()),
        }
    }
}

fn unexpected(what: &str) -> SsError {
    SsError::Failed(format!(
        "the Secret Service answered {what} in an unexpected form"
    ))
}

/// The object path (or string) at `i` in a reply to `what`.
fn path_at(reply: &[Value], i: usize, what: &str) -> Result<String, SsError> {
    reply
        .get(i)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| unexpected(what))
}

/// An open session with the Secret Service.
pub struct SecretService {
    conn: Connection,
    session: String,
}

/// What a search found: paths of unlocked and of locked items.
#[derive(Debug, Default)]
pub struct Found {
    pub unlocked: Vec<String>,
    pub locked: Vec<String>,
}

impl Found {
    pub fn all(&self) -> Vec<String> {
        self.unlocked.iter().chain(&self.locked).cloned().collect()
    }
}

fn service_call<'a>(member: &'a str, args: Vec<Value>) -> Call<'a> {
    Call {
        destination: DEST,
        path: SERVICE_PATH,
        interface: SERVICE,
        member,
        args,
    }
}

/// The `(oayays)` secret struct of a plain session.
fn plain_secret(session: &str, secret: &[u8]) -> Value {
    Value::Struct(vec![
        Value::Path(session.to_string()),
        Value::Array("y".into(), vec![]),
        Value::Array("y".into(), secret.iter().map(|b| Value::Byte(*b)).collect()),
        Value::Str(CONTENT_TYPE.into()),
    ])
}

/// The value of a `(oayays)` secret struct of a plain session.
fn secret_value(v: &Value) -> Result<Vec<u8>, SsError> {
    v.as_struct()
        .and_then(|f| f.get(2))
        .and_then(Value::as_bytes)
        .ok_or_else(|| unexpected("a secret"))
}

impl SecretService {
    /// Connects and opens a plain session; `search`, when given, goes out in the same write
    /// and its result comes back with the session (one round trip for both).
    pub fn open(
        address: &str,
        uid: u32,
        deadline: Instant,
        search: Option<&[(&str, &str)]>,
    ) -> Result<(SecretService, Option<Found>), SsError> {
        let mut conn = Connection::open(address, uid, deadline)?;
        let open = conn.send(service_call(
            "OpenSession",
            vec![
                Value::Str("plain".into()),
                Value::Variant(Box::new(Value::Str(String::new()))),
            ],
        ))?;
        let search = match search {
            Some(attrs) => Some(conn.send(search_call(attrs))?),
            None => None,
        };
        let reply = conn.reply(open)?;
        let session = path_at(&reply, 1, "OpenSession")?;
        let found = match search {
            Some(serial) => Some(found(&conn.reply(serial)?)?),
            None => None,
        };
        Ok((SecretService { conn, session }, found))
    }

    /// Items whose attributes include all of `attrs`.
    pub fn search(&mut self, attrs: &[(&str, &str)]) -> Result<Found, SsError> {
        found(&self.conn.call(search_call(attrs))?)
    }

    /// Unlocks items or collections, through the service's prompt when it asks for one.
    pub fn unlock(&mut self, objects: &[String]) -> Result<(), SsError> {
        if objects.is_empty() {
            return Ok(());
        }
        let reply = self
            .conn
            .call(service_call("Unlock", vec![Value::paths(objects)]))?;
        self.prompt(&path_at(&reply, 1, "Unlock")?)?;
        Ok(())
    }

    /// Runs a prompt (`/` is none) and waits for it to complete; dismissed is `Locked`.
    fn prompt(&mut self, prompt: &str) -> Result<Option<Value>, SsError> {
        if prompt == "/" {
            return Ok(None);
        }
        let rule = format!("type='signal',interface='{PROMPT}',member='Completed',path='{prompt}'");
        let add = self.conn.send(Call {
            destination: "org.freedesktop.DBus",
            path: "/org/freedesktop/DBus",
            interface: "org.freedesktop.DBus",
            member: "AddMatch",
            args: vec![Value::Str(rule)],
        })?;
        let run = self.conn.send(Call {
            destination: DEST,
            path: prompt,
            interface: PROMPT,
            member: "Prompt",
            args: vec![Value::Str(String::new())],
        })?;
        self.conn.reply(add)?;
        self.conn.reply(run)?;
        let done = self
            .conn
            .wait(|m| m.is_signal(prompt, PROMPT, "Completed"))?;
        match done.body.first().and_then(Value::as_bool) {
            Some(false) => Ok(done.body.get(1).map(|v| v.unvariant().clone())),
            Some(true) => Err(SsError::Locked(
                "the Secret Service's unlock prompt was dismissed (no one could answer it, or it was cancelled)".into(),
            )),
            None => Err(unexpected("a prompt")),
        }
    }

    /// The secrets of unlocked items, by path (one call for all).
    pub fn secrets(&mut self, items: &[String]) -> Result<HashMap<String, Vec<u8>>, SsError> {
        if items.is_empty() {
            return Ok(HashMap::new());
        }
        let reply = self.conn.call(service_call(
            "GetSecrets",
            vec![Value::paths(items), Value::Path(self.session.clone())],
        ))?;
        let entries = reply
            .first()
            .and_then(Value::as_entries)
            .ok_or_else(|| unexpected("GetSecrets"))?;
        entries
            .into_iter()
            .map(|(k, v)| {
                let path = k.as_str().ok_or_else(|| unexpected("GetSecrets"))?;
                Ok((path.to_string(), secret_value(v)?))
            })
            .collect()
    }

    /// The secret of one unlocked item.
    pub fn secret(&mut self, item: &str) -> Result<Vec<u8>, SsError> {
        let reply = self.conn.call(Call {
            destination: DEST,
            path: item,
            interface: ITEM,
            member: "GetSecret",
            args: vec![Value::Path(self.session.clone())],
        })?;
        secret_value(reply.first().ok_or_else(|| unexpected("GetSecret"))?)
    }

    /// The lookup attributes of items (the calls pipelined).
    pub fn attributes(
        &mut self,
        items: &[String],
    ) -> Result<Vec<HashMap<String, String>>, SsError> {
        let mut serials = Vec::with_capacity(items.len());
        for item in items {
            serials.push(self.conn.send(Call {
                destination: DEST,
                path: item,
                interface: PROPERTIES,
                member: "Get",
                args: vec![Value::Str(ITEM.into()), Value::Str("Attributes".into())],
            })?);
        }
        serials
            .into_iter()
            .map(|s| {
                let reply = self.conn.reply(s)?;
                string_map(reply.first().map(Value::unvariant))
                    .ok_or_else(|| unexpected("an item's attributes"))
            })
            .collect()
    }

    /// Replaces the secret of an unlocked item.
    pub fn set_secret(&mut self, item: &str, secret: &[u8]) -> Result<(), SsError> {
        self.conn.call(Call {
            destination: DEST,
            path: item,
            interface: ITEM,
            member: "SetSecret",
            args: vec![plain_secret(&self.session, secret)],
        })?;
        Ok(())
    }

    /// Creates an item in the default collection (unlocking it first if need be), replacing an
    /// item there with the same attributes.
    pub fn create_item(
        &mut self,
        label: &str,
        attrs: &[(&str, &str)],
        secret: &[u8],
    ) -> Result<(), SsError> {
        let reply = self.conn.call(service_call(
            "ReadAlias",
            vec![Value::Str("default".into())],
        ))?;
        let collection = path_at(&reply, 0, "ReadAlias")?;
        if collection == "/" {
            return Err(SsError::Locked(
                "the Secret Service has no default keyring to store into (it is created when the keyring is first unlocked)".into(),
            ));
        }
        let locked = self.conn.call(Call {
            destination: DEST,
            path: &collection,
            interface: PROPERTIES,
            member: "Get",
            args: vec![Value::Str(COLLECTION.into()), Value::Str("Locked".into())],
        })?;
        if locked
            .first()
            .map(Value::unvariant)
            .and_then(Value::as_bool)
            != Some(false)
        {
            self.unlock(std::slice::from_ref(&collection))?;
        }
        let property = |name: &str, v: Value| {
            Value::Entry(
                Box::new(Value::Str(format!("{ITEM}.{name}"))),
                Box::new(Value::Variant(Box::new(v))),
            )
        };
        let properties = Value::Array(
            "{sv}".into(),
            vec![
                property("Label", Value::Str(label.into())),
                property("Attributes", Value::string_dict(attrs.iter().copied())),
            ],
        );
        let reply = self.conn.call(Call {
            destination: DEST,
            path: &collection,
            interface: COLLECTION,
            member: "CreateItem",
            args: vec![
                properties,
                plain_secret(&self.session, secret),
                Value::Bool(true),
            ],
        })?;
        self.prompt(&path_at(&reply, 1, "CreateItem")?)?;
        Ok(())
    }

    /// Deletes an unlocked item.
    pub fn delete(&mut self, item: &str) -> Result<(), SsError> {
        let reply = self.conn.call(Call {
            destination: DEST,
            path: item,
            interface: ITEM,
            member: "Delete",
            args: vec![],
        })?;
        self.prompt(&path_at(&reply, 0, "Delete")?)?;
        Ok(())
    }
}

fn search_call<'a>(attrs: &[(&'a str, &'a str)]) -> Call<'a> {
    service_call(
        "SearchItems",
        vec![Value::string_dict(attrs.iter().copied())],
    )
}

fn found(reply: &[Value]) -> Result<Found, SsError> {
    match reply {
        [unlocked, locked] => Ok(Found {
            unlocked: unlocked
                .as_strings()
                .ok_or_else(|| unexpected("SearchItems"))?,
            locked: locked
                .as_strings()
                .ok_or_else(|| unexpected("SearchItems"))?,
        }),
        _ => Err(unexpected("SearchItems")),
    }
}

fn string_map(v: Option<&Value>) -> Option<HashMap<String, String>> {
    v?.as_entries()?
        .into_iter()
        .map(|(k, v)| Some((k.as_str()?.to_string(), v.as_str()?.to_string())))
        .collect()
}
