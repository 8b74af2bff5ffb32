//! Categories, and their links to registered users and assets.

use serde_json::Value;

use super::model::Category;
use super::{parse_id, to_json, toggle, Store, StoreError};

impl Store {
    pub(crate) fn categories(&self) -> Value {
        to_json(&self.categories.values().collect::<Vec<_>>())
    }

    fn category_id(&self, id: &str) -> Result<u64, StoreError> {
        let id = parse_id(id)?;
        if self.categories.contains_key(&id) {
            Ok(id)
        } else {
            Err(StoreError::NotFound)
        }
    }

    pub(crate) fn category_json(&self, id: &str) -> Result<Value, StoreError> {
        let id = self.category_id(id)?;
        self.categories
            .get(&id)
            .map(to_json)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn add_category(&mut self, name: String, description: Option<String>) -> Value {
        let id = self.next_category;
        self.next_category += 1;
        let category = Category {
            id,
            name,
            description,
            registered_users: Vec::new(),
            assets: Vec::new(),
        };
        let json = to_json(&category);
        self.categories.insert(id, category);
        json
    }

    /// `description`: `None` leaves it, `Some(None)` clears it.
    pub(crate) fn edit_category(
        &mut self,
        id: &str,
        name: Option<String>,
        description: Option<Option<String>>,
    ) -> Result<Value, StoreError> {
        let id = self.category_id(id)?;
        let category = self.categories.get_mut(&id).ok_or(StoreError::NotFound)?;
        if let Some(name) = name {
            category.name = name;
        }
        if let Some(description) = description {
            category.description = description;
        }
        Ok(to_json(category))
    }

    pub(crate) fn delete_category(&mut self, id: &str) -> Result<(), StoreError> {
        let id = self.category_id(id)?;
        self.categories.remove(&id);
        for user in self.users.values_mut() {
            user.categories.retain(|c| *c != id);
        }
        for asset in &mut self.assets {
            asset.requirements.retain(|c| *c != id);
        }
        Ok(())
    }

    /// Puts a user into a category or takes it out, on both sides.
    pub(crate) fn link_user(
        &mut self,
        category: &str,
        user: &str,
        add: bool,
    ) -> Result<Value, StoreError> {
        let category_id = self.category_id(category)?;
        let user = self.user_mut(user)?;
        let user_id = user.id;
        toggle(&mut user.categories, category_id, add);
        let category = self
            .categories
            .get_mut(&category_id)
            .ok_or(StoreError::NotFound)?;
        toggle(&mut category.registered_users, user_id, add);
        Ok(to_json(category))
    }

    /// Makes a category a requirement of an asset or not, on both sides.
    /// This changes the category, not the asset's own state, so a locked
    /// asset allows it.
    pub(crate) fn link_asset(
        &mut self,
        category: &str,
        uuid: &str,
        add: bool,
    ) -> Result<Value, StoreError> {
        let category_id = self.category_id(category)?;
        let asset = self.asset_mut(uuid)?;
        let uuid = asset.asset_uuid.clone();
        toggle(&mut asset.requirements, category_id, add);
        let category = self
            .categories
            .get_mut(&category_id)
            .ok_or(StoreError::NotFound)?;
        toggle(&mut category.assets, uuid, add);
        Ok(to_json(category))
    }
}

#[cfg(test)]
mod tests {
    use super::super::sample::ASSET_NOTE;
    use super::*;

    #[test]
    fn relations_stay_consistent() {
        let mut store = Store::new(true, 0);
        store.link_user("2", "3", true).unwrap();
        assert!(store.users[&3].categories.contains(&2));
        store.link_asset("2", ASSET_NOTE, true).unwrap();
        assert!(store.asset(ASSET_NOTE).unwrap().requirements.contains(&2));
        store.delete_category("2").unwrap();
        assert!(!store.users[&3].categories.contains(&2));
        assert!(!store.users[&1].categories.contains(&2));
        assert!(store.asset(ASSET_NOTE).unwrap().requirements.is_empty());
        // User 3 has no assignments, so it may go, and leaves its category.
        store.link_user("1", "3", true).unwrap();
        store.delete_user("3").unwrap();
        assert_eq!(store.categories[&1].registered_users, [1]);
    }
}
