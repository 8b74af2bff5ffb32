//! What an asset's outputs say: summary, ownerships, balance, UTXOs and their
//! blacklist, treasury addresses, transactions, activities, blinders.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::ledger::Page;
use super::model::Asset;
use super::{rule, toggle, Store, StoreError};

impl Asset {
    /// Issued plus reissued, less burned.
    pub(crate) fn circulating(&self) -> u64 {
        (self.state.issued + self.state.reissued).saturating_sub(self.state.burned)
    }

    /// The sum of every assignment, distributed or not.
    pub(crate) fn assigned(&self) -> u64 {
        self.state.assignments.iter().map(|a| a.amount).sum()
    }

    pub(crate) fn distributed(&self) -> u64 {
        self.state
            .assignments
            .iter()
            .filter(|a| a.is_distributed)
            .map(|a| a.amount)
            .sum()
    }

    /// What may still be assigned (or burned): what circulates and is not
    /// assigned yet.
    pub(crate) fn unassigned(&self) -> u64 {
        self.circulating().saturating_sub(self.assigned())
    }
}

impl Store {
    /// amp-rs's `AssetSummary`, from the asset's assignments and outputs.
    pub(crate) fn asset_summary(&self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        let state = &asset.state;
        let holders: BTreeSet<u64> = state
            .assignments
            .iter()
            .map(|a| a.registered_user)
            .collect();
        let held = state
            .utxos
            .iter()
            .filter(|u| u.asset == asset.asset_id && !u.is_treasury() && u.spent.is_none());
        let active: BTreeSet<u64> = held.clone().filter_map(|u| u.registered_user).collect();
        let subaccounts: BTreeSet<&str> = held.filter_map(|u| u.gaid.as_deref()).collect();
        let unspent = state.utxos.iter().filter(|u| u.spent.is_none());
        let blacklisted: u64 = unspent
            .clone()
            .filter(|u| u.asset == asset.asset_id && u.blacklisted)
            .map(|u| u.amount)
            .sum();
        let tokens: u64 = unspent
            .filter(|u| Some(&u.asset) == asset.reissuance_token_id.as_ref())
            .map(|u| u.amount)
            .sum();
        Ok(json!({
            "asset_id": asset.asset_id,
            "reissuance_token_id": asset.reissuance_token_id,
            "issued": state.issued,
            "reissued": state.reissued,
            "assigned": asset.assigned(),
            "distributed": asset.distributed(),
            "burned": state.burned,
            "blacklisted": blacklisted,
            "registered_users": holders.len(),
            "active_registered_users": active.len(),
            "active_green_subaccounts": subaccounts.len(),
            "reissuance_tokens": tokens,
        }))
    }

    /// What registered users hold (the treasury is not listed), one entry per
    /// user and GAID, at `height` or now.
    fn holdings(&self, asset: &Asset, height: Option<u64>) -> Vec<Value> {
        let mut by_holder: BTreeMap<(u64, Option<String>), u64> = BTreeMap::new();
        for utxo in &asset.state.utxos {
            if utxo.asset != asset.asset_id || !utxo.unspent_at(height) {
                continue;
            }
            if let Some(user) = utxo.registered_user {
                *by_holder.entry((user, utxo.gaid.clone())).or_insert(0) += utxo.amount;
            }
        }
        by_holder
            .into_iter()
            .map(|((user, gaid), amount)| {
                json!({
                    "owner": self.users.get(&user).map(|u| u.name.clone()),
                    "amount": amount,
                    "GAID": gaid,
                })
            })
            .collect()
    }

    /// amp-rs's `Ownership` list; with a height, as of that block.
    pub(crate) fn ownerships(&self, uuid: &str, height: Option<u64>) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        Ok(Value::Array(self.holdings(asset, height)))
    }

    /// An object, as the official script reads it (amp-api.md §3.1); the
    /// entries of `confirmed_balance` have the Ownership shape (a guess).
    pub(crate) fn balance(&self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        Ok(json!({
            "confirmed_balance": self.holdings(asset, None),
            "lost_outputs": [],
            "reissuance_lost_outputs": [],
        }))
    }

    /// The sandbox never loses track of an output: always empty lists.
    pub(crate) fn lost_outputs(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid)?;
        Ok(json!({ "lost_outputs": [], "reissuance_lost_outputs": [] }))
    }

    /// Every unspent output of the asset and of its reissuance token.
    pub(crate) fn utxos(&self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        let list: Vec<Value> = asset
            .state
            .utxos
            .iter()
            .filter(|u| u.spent.is_none())
            .map(|u| u.json())
            .collect();
        Ok(Value::Array(list))
    }

    /// Blacklists (freezes) or whitelists unspent outputs, all or none; the
    /// answer is the asset's UTXO list afterwards.
    pub(crate) fn set_blacklisted(
        &mut self,
        uuid: &str,
        outpoints: &[(String, u32)],
        blacklisted: bool,
    ) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        for (txid, vout) in outpoints {
            let known = asset
                .state
                .utxos
                .iter()
                .any(|u| &u.txid == txid && u.vout == *vout && u.spent.is_none());
            if !known {
                return Err(rule(format!(
                    "There is no unspent output {txid}:{vout} of this asset."
                )));
            }
        }
        for utxo in &mut asset.state.utxos {
            if outpoints
                .iter()
                .any(|(t, v)| *t == utxo.txid && *v == utxo.vout)
            {
                utxo.blacklisted = blacklisted;
            }
        }
        self.utxos(uuid)
    }

    pub(crate) fn treasury_addresses(&self, uuid: &str) -> Result<Value, StoreError> {
        Ok(json!(self.asset(uuid)?.state.treasury_addresses))
    }

    /// Adds or removes treasury addresses (each once); the list afterwards.
    pub(crate) fn edit_treasury_addresses(
        &mut self,
        uuid: &str,
        addresses: Vec<String>,
        add: bool,
    ) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        for address in addresses {
            toggle(&mut asset.state.treasury_addresses, address, add);
        }
        Ok(json!(asset.state.treasury_addresses))
    }

    pub(crate) fn txs(&self, uuid: &str, page: &Page) -> Result<Value, StoreError> {
        let state = &self.asset(uuid)?.state;
        let rows = state.txs.iter().map(|t| state.tx_json(t)).collect();
        Ok(Value::Array(page.apply(rows)))
    }

    pub(crate) fn tx(&self, uuid: &str, txid: &str) -> Result<Value, StoreError> {
        let state = &self.asset(uuid)?.state;
        state
            .txs
            .iter()
            .find(|t| t.txid == txid)
            .map(|t| state.tx_json(t))
            .ok_or(StoreError::NotFound)
    }

    pub(crate) fn activities(&self, uuid: &str, page: &Page) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        let ticker = asset.ticker.as_deref().unwrap_or("");
        let rows = asset.state.activities(&asset.asset_id, ticker, &self.users);
        Ok(Value::Array(page.apply(rows)))
    }

    /// Sets the blinders of one output of one of the asset's transactions.
    pub(crate) fn update_blinders(
        &mut self,
        uuid: &str,
        txid: &str,
        vout: u32,
        asset_blinder: String,
        amount_blinder: String,
    ) -> Result<(), StoreError> {
        self.unlocked_mut(uuid)?;
        let on_chain = self
            .chain
            .txs
            .get(txid)
            .and_then(|t| t.outputs.get(usize::try_from(vout).unwrap_or(usize::MAX)))
            .is_some_and(|o| {
                o.asset_blinder == asset_blinder && o.amount_blinder == amount_blinder
            });
        if !on_chain {
            return Err(rule(format!(
                "The blinders do not match output {txid}:{vout} on the chain."
            )));
        }
        let asset = self.unlocked_mut(uuid)?;
        let out = asset
            .state
            .txs
            .iter_mut()
            .filter(|t| t.txid == txid)
            .flat_map(|t| t.outputs.iter_mut())
            .find(|o| o.index == vout)
            .ok_or_else(|| rule(format!("There is no output {txid}:{vout} of this asset.")))?;
        out.asset_blinder = asset_blinder;
        out.amount_blinder = amount_blinder;
        Ok(())
    }
}
