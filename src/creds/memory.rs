//! An in-memory credentials store, serving every server URL from one map. regctl never keeps
//! credentials this way; it exists so that the helper protocol (`serve`) can be exercised at
//! speed, by its unit tests and by the helper_stdin fuzz target, without a keychain behind it.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use super::serve::Backends;
use super::{Credential, CredsError, Store};

/// Clones share the same map.
#[derive(Clone, Default)]
pub struct MemoryStore(Rc<RefCell<BTreeMap<String, Credential>>>);

impl Store for MemoryStore {
    fn name(&self) -> String {
        "memory".into()
    }
    fn get(&self, server_url: &str) -> Result<Option<Credential>, CredsError> {
        Ok(self.0.borrow().get(server_url).cloned())
    }
    fn store(&mut self, cred: &Credential) -> Result<(), CredsError> {
        self.0
            .borrow_mut()
            .insert(cred.server_url.clone(), cred.clone());
        Ok(())
    }
    fn erase(&mut self, server_url: &str) -> Result<bool, CredsError> {
        Ok(self.0.borrow_mut().remove(server_url).is_some())
    }
    fn list(&self) -> Result<BTreeMap<String, String>, CredsError> {
        Ok(self
            .0
            .borrow()
            .iter()
            .map(|(url, cred)| (url.clone(), cred.username.clone()))
            .collect())
    }
}

impl Backends for MemoryStore {
    fn for_server(&self, _: &str) -> Box<dyn Store> {
        Box::new(self.clone())
    }
    fn all(&self) -> Vec<Box<dyn Store>> {
        vec![Box::new(self.clone())]
    }
}
