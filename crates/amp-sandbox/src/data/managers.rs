//! Manager accounts: created locked, granted assets, able to log in once
//! unlocked.

use serde_json::Value;

use super::model::Manager;
use super::{parse_id, to_json, toggle, Store, StoreError};

impl Store {
    pub(crate) fn managers(&self) -> Value {
        to_json(&self.managers.values().collect::<Vec<_>>())
    }

    fn manager_mut(&mut self, id: &str) -> Result<&mut Manager, StoreError> {
        self.managers
            .get_mut(&parse_id(id)?)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn manager_json(&self, id: &str) -> Result<Value, StoreError> {
        self.managers
            .get(&parse_id(id)?)
            .map(to_json)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn manager_by_id(&self, id: u64) -> Option<&Manager> {
        self.managers.get(&id)
    }

    /// Creates a manager, locked (as the Blockstream AMP CLI notes). The
    /// username must be free, including the issuer's own (`taken`).
    pub(crate) fn create_manager(
        &mut self,
        username: String,
        password: String,
        taken: &str,
    ) -> Result<Value, StoreError> {
        if username == taken || self.managers.values().any(|m| m.username == username) {
            return Err(StoreError::Field(
                "username",
                "A user with that username already exists.".to_owned(),
            ));
        }
        let id = self.next_manager;
        self.next_manager += 1;
        let manager = Manager {
            id,
            username,
            is_locked: true,
            assets: Vec::new(),
        };
        let json = to_json(&manager);
        self.managers.insert(id, manager);
        self.manager_passwords.insert(id, password);
        Ok(json)
    }

    pub(crate) fn lock_manager(&mut self, id: &str, locked: bool) -> Result<Value, StoreError> {
        let manager = self.manager_mut(id)?;
        manager.is_locked = locked;
        Ok(to_json(manager))
    }

    /// Grants a manager an asset or takes it back.
    pub(crate) fn manager_asset(
        &mut self,
        id: &str,
        uuid: &str,
        add: bool,
    ) -> Result<Value, StoreError> {
        let uuid = self.asset(uuid)?.asset_uuid.clone();
        let manager = self.manager_mut(id)?;
        toggle(&mut manager.assets, uuid, add);
        Ok(to_json(manager))
    }

    /// Sets a manager's password; its id and username.
    pub(crate) fn set_manager_password(
        &mut self,
        id: &str,
        password: String,
    ) -> Result<(u64, String), StoreError> {
        let manager = self.manager_mut(id)?;
        let (id, username) = (manager.id, manager.username.clone());
        self.manager_passwords.insert(id, password);
        Ok((id, username))
    }

    /// The unlocked manager these credentials log in as.
    pub(crate) fn manager_login(&self, username: &str, password: &str) -> Option<u64> {
        let manager = self
            .managers
            .values()
            .find(|m| m.username == username && !m.is_locked)?;
        let known = self.manager_passwords.get(&manager.id)?;
        (known == password).then_some(manager.id)
    }
}
