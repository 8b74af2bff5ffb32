//! Registered users, their GAIDs, and what a GAID holds.

use serde_json::{json, Value};

use super::model::{Asset, User};
use super::{check_gaid, now_unix, parse_id, rule, to_json, Store, StoreError, ISSUER_ID};

impl Store {
    pub(crate) fn users(&self) -> Value {
        to_json(&self.users.values().collect::<Vec<_>>())
    }

    fn user(&self, id: &str) -> Result<&User, StoreError> {
        self.users.get(&parse_id(id)?).ok_or(StoreError::NotFound)
    }

    pub(crate) fn user_mut(&mut self, id: &str) -> Result<&mut User, StoreError> {
        self.users
            .get_mut(&parse_id(id)?)
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn user_json(&self, id: &str) -> Result<Value, StoreError> {
        self.user(id).map(to_json)
    }

    fn gaid_owner(&self, gaid: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.gaids.iter().any(|g| g == gaid))
    }

    fn check_new_gaid(&self, gaid: &str) -> Result<(), StoreError> {
        check_gaid(gaid).map_err(|_| StoreError::Field("GAID", "Invalid GAID.".to_owned()))?;
        if self.gaid_owner(gaid).is_some() {
            return Err(StoreError::Field(
                "GAID",
                "This GAID is already registered.".to_owned(),
            ));
        }
        Ok(())
    }

    pub(crate) fn add_user(
        &mut self,
        name: String,
        gaid: Option<String>,
        is_company: bool,
    ) -> Result<Value, StoreError> {
        if let Some(gaid) = &gaid {
            self.check_new_gaid(gaid)?;
        }
        let id = self.next_user;
        self.next_user += 1;
        let user = User {
            id,
            gaids: gaid.iter().cloned().collect(),
            gaid,
            is_company,
            name,
            categories: Vec::new(),
            creator: ISSUER_ID,
        };
        let json = to_json(&user);
        self.users.insert(id, user);
        Ok(json)
    }

    pub(crate) fn edit_user(
        &mut self,
        id: &str,
        name: Option<String>,
        is_company: Option<bool>,
    ) -> Result<Value, StoreError> {
        let user = self.user_mut(id)?;
        if let Some(name) = name {
            user.name = name;
        }
        if let Some(is_company) = is_company {
            user.is_company = is_company;
        }
        Ok(to_json(user))
    }

    /// Deletes a user without assignments (assignments must name a user that
    /// exists), and takes it out of its categories.
    pub(crate) fn delete_user(&mut self, id: &str) -> Result<(), StoreError> {
        let id = self.user(id)?.id;
        let assigned = self.assets.iter().any(|asset| {
            asset
                .state
                .assignments
                .iter()
                .any(|a| a.registered_user == id)
        });
        if assigned {
            return Err(rule(
                "The registered user has assignments and cannot be deleted.",
            ));
        }
        self.users.remove(&id);
        for category in self.categories.values_mut() {
            category.registered_users.retain(|u| *u != id);
        }
        Ok(())
    }

    /// What `user` holds of `asset` now, over all their GAIDs.
    fn held_by(asset: &Asset, user: u64) -> u64 {
        asset
            .state
            .utxos
            .iter()
            .filter(|u| {
                u.asset == asset.asset_id && u.registered_user == Some(user) && u.spent.is_none()
            })
            .map(|u| u.amount)
            .sum()
    }

    /// One summary object (amp-rs's shape, amp-api.md §3.7), for the first asset
    /// the user has assignments in, else the first asset.
    pub(crate) fn user_summary(&self, id: &str) -> Result<Value, StoreError> {
        let user = self.user(id)?;
        let asset = self
            .assets
            .iter()
            .find(|a| {
                a.state
                    .assignments
                    .iter()
                    .any(|x| x.registered_user == user.id)
            })
            .or_else(|| self.assets.first());
        let Some(asset) = asset else {
            return Ok(json!({
                "asset_uuid": "", "asset_id": "", "assignments": [], "assignments_sum": 0,
                "distributions": [], "distributions_sum": 0, "balance": 0,
            }));
        };
        let now = now_unix();
        let mine: Vec<_> = asset
            .state
            .assignments
            .iter()
            .filter(|a| a.registered_user == user.id)
            .collect();
        let distributions: Vec<Value> = asset
            .state
            .distributions
            .iter()
            .filter(|d| d.confirmed.is_some() && mine.iter().any(|a| d.assignments.contains(&a.id)))
            .map(|d| d.json())
            .collect();
        let assigned: u64 = mine.iter().map(|a| a.amount).sum();
        let distributed: u64 = mine
            .iter()
            .filter(|a| a.is_distributed)
            .map(|a| a.amount)
            .sum();
        Ok(json!({
            "asset_uuid": asset.asset_uuid,
            "asset_id": asset.asset_id,
            "assignments": mine.iter().map(|a| a.json(now)).collect::<Vec<_>>(),
            "assignments_sum": assigned,
            "distributions": distributions,
            "distributions_sum": distributed,
            "balance": Self::held_by(asset, user.id),
        }))
    }

    pub(crate) fn user_gaids(&self, id: &str) -> Result<Value, StoreError> {
        self.user(id).map(|u| json!(u.gaids))
    }

    /// Adds a GAID; the first GAID of a user becomes the default one.
    pub(crate) fn add_gaid(&mut self, id: &str, gaid: String) -> Result<Value, StoreError> {
        self.user(id)?;
        self.check_new_gaid(&gaid)?;
        let user = self.user_mut(id)?;
        if user.gaid.is_none() {
            user.gaid = Some(gaid.clone());
        }
        user.gaids.push(gaid);
        Ok(to_json(user))
    }

    pub(crate) fn set_default_gaid(&mut self, id: &str, gaid: String) -> Result<Value, StoreError> {
        let user = self.user_mut(id)?;
        if !user.gaids.contains(&gaid) {
            return Err(StoreError::Field(
                "GAID",
                "This GAID does not belong to this registered user.".to_owned(),
            ));
        }
        user.gaid = Some(gaid);
        Ok(to_json(user))
    }

    pub(crate) fn gaid_user(&self, gaid: &str) -> Result<Value, StoreError> {
        self.gaid_owner(gaid)
            .map(to_json)
            .ok_or(StoreError::NotFound)
    }

    /// `{asset_uuid, asset_id, balance}`: what a GAID holds of one asset.
    fn gaid_entry(asset: &Asset, gaid: &str) -> Value {
        let balance: u64 = asset
            .state
            .utxos
            .iter()
            .filter(|u| {
                u.asset == asset.asset_id && u.gaid.as_deref() == Some(gaid) && u.spent.is_none()
            })
            .map(|u| u.amount)
            .sum();
        json!({
            "asset_uuid": asset.asset_uuid,
            "asset_id": asset.asset_id,
            "balance": balance,
        })
    }

    /// What a GAID holds, one entry per asset it holds some of.
    pub(crate) fn gaid_balance(&self, gaid: &str) -> Value {
        let entries = self
            .assets
            .iter()
            .map(|asset| Self::gaid_entry(asset, gaid))
            .filter(|entry| entry["balance"].as_u64().unwrap_or(0) > 0);
        Value::Array(entries.collect())
    }

    /// What a GAID holds of one asset (0 when nothing): one entry, as amp-rs
    /// reads `GET /gaids/{gaid}/balance/{assetUuid}`.
    pub(crate) fn gaid_asset_balance(&self, gaid: &str, uuid: &str) -> Result<Value, StoreError> {
        Ok(Self::gaid_entry(self.asset(uuid)?, gaid))
    }
}
