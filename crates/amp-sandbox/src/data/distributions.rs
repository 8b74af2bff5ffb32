//! Distributions: the assignments ready to send, sent in one transaction.
//!
//! The shapes come from amp-rs (`Distribution`, `DistributionResponse`) and
//! the official `blockstream-amp-confirm.py` (the `command`, `base_url` and
//! `min_supported_client_script_version` keys of the file it reads).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::model::{Confirmation, Distribution, Tx, TxKind};
use super::onchain::{self, Report};
use super::{address_for, now_unix, rule, Store, StoreError};
use crate::node::chain::OutKind;

/// The script version the official confirm script requires at least.
pub(crate) const SCRIPT_VERSION: u64 = 2;

/// Node RPCs (`sendmany`, `reissueasset`) count in whole coins of 10^8 units,
/// whatever the asset's precision.
pub(crate) fn coins(units: u64) -> f64 {
    // Exact for every amount under 2^53 units, far above Liquid's 21e14 cap.
    #[allow(clippy::cast_precision_loss)]
    let units = units as f64;
    units / 100_000_000.0
}

impl Store {
    pub(crate) fn distributions(&self, uuid: &str) -> Result<Value, StoreError> {
        let list = self.asset(uuid)?.state.distributions.iter();
        Ok(Value::Array(list.map(Distribution::json).collect()))
    }

    pub(crate) fn distribution(&self, uuid: &str, id: &str) -> Result<Value, StoreError> {
        self.asset(uuid)?
            .state
            .distributions
            .iter()
            .find(|d| d.uuid == id)
            .map(Distribution::json)
            .ok_or(StoreError::NotFound)
    }

    /// Gathers every assignment that is ready, vested, unlocked and not yet
    /// distributed or waiting into a new distribution, and answers what the
    /// confirm script needs to send it: addresses, amounts, asset.
    pub(crate) fn create_distribution(
        &mut self,
        uuid: &str,
        base_url: &str,
    ) -> Result<Value, StoreError> {
        let now = now_unix();
        let asset = self.asset(uuid)?;
        if asset.is_locked {
            return Err(rule("The asset is locked."));
        }
        // (assignment id, receiving GAID, amount)
        let mut chosen = Vec::new();
        for a in &asset.state.assignments {
            let eligible = a.ready_for_distribution
                && a.has_vested(now)
                && !a.is_locked
                && !a.is_distributed
                && a.distribution_uuid.is_none();
            if !eligible {
                continue;
            }
            let gaid = a.gaid.clone().or_else(|| {
                self.users
                    .get(&a.registered_user)
                    .and_then(|u| u.gaid.clone())
            });
            let Some(gaid) = gaid else {
                return Err(rule(format!(
                    "Registered user {} has no GAID to receive assignment {}.",
                    a.registered_user, a.id
                )));
            };
            chosen.push((a.id, gaid, a.amount));
        }
        if chosen.is_empty() {
            return Err(rule("There are no assignments ready for distribution."));
        }
        let id = self.fresh_uuid("distribution");
        let asset = self.unlocked_mut(uuid)?;
        let mut map_address_amount: BTreeMap<String, u64> = BTreeMap::new();
        for (assignment_id, gaid, amount) in &chosen {
            let address = address_for(gaid);
            *map_address_amount.entry(address.clone()).or_insert(0) += amount;
            if let Some(a) = asset
                .state
                .assignments
                .iter_mut()
                .find(|a| a.id == *assignment_id)
            {
                a.distribution_uuid = Some(id.clone());
                a.gaid = Some(gaid.clone());
                a.receiving_address = Some(address);
            }
        }
        asset.state.distributions.push(Distribution {
            uuid: id.clone(),
            assignments: chosen.iter().map(|(a, _, _)| *a).collect(),
            confirmed: None,
        });
        let map_address_asset: BTreeMap<&String, &String> = map_address_amount
            .keys()
            .map(|address| (address, &asset.asset_id))
            .collect();
        let map_address_amount: BTreeMap<&String, f64> = map_address_amount
            .iter()
            .map(|(address, units)| (address, coins(*units)))
            .collect();
        Ok(json!({
            "command": "distribute",
            "min_supported_client_script_version": SCRIPT_VERSION,
            "base_url": format!("{base_url}/{{}}"),
            "asset_uuid": asset.asset_uuid,
            "asset_id": asset.asset_id,
            "distribution_uuid": id,
            "map_address_amount": map_address_amount,
            "map_address_asset": map_address_asset,
        }))
    }

    /// Records the transaction that sent a distribution, once the chain
    /// shows it with enough confirmations paying each receiving address
    /// exactly what it was assigned, and the report (`details`,
    /// `change_data`) describes it truly. The treasury outputs it spent are
    /// spent, the receivers hold their outputs, the change is the treasury's,
    /// and the assignments become distributed.
    pub(crate) fn confirm_distribution(
        &mut self,
        uuid: &str,
        id: &str,
        report: &Report,
    ) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        if asset.is_locked {
            return Err(rule("The asset is locked."));
        }
        let state = &asset.state;
        let distribution = state
            .distributions
            .iter()
            .find(|d| d.uuid == id)
            .ok_or(StoreError::NotFound)?;
        if distribution.confirmed.is_some() {
            return Err(rule("The distribution is already confirmed."));
        }
        let txid = report.txid.to_ascii_lowercase();
        if state.has_tx(&txid) {
            return Err(rule(format!("Transaction {txid} is already recorded.")));
        }
        // Per receiving address: (GAID, registered user, units assigned).
        let mut receivers: BTreeMap<String, (String, u64, u64)> = BTreeMap::new();
        // (assignment id, registered user, amount, address)
        let mut sent: Vec<(u64, u64, u64, String)> = Vec::new();
        for a in state
            .assignments
            .iter()
            .filter(|a| distribution.assignments.contains(&a.id))
        {
            let gaid = a.gaid.clone().unwrap_or_default();
            let address = a
                .receiving_address
                .clone()
                .unwrap_or_else(|| address_for(&gaid));
            let entry = receivers
                .entry(address.clone())
                .or_insert((gaid, a.registered_user, 0));
            entry.2 += a.amount;
            sent.push((a.id, a.registered_user, a.amount, address));
        }
        let asset_id = asset.asset_id.clone();
        let tx = onchain::confirmed(self, &txid)?.clone();
        self.asset(uuid)?.state.check_not_blacklisted(&tx)?;
        onchain::check_details(&tx, &report.details)?;
        onchain::check_change(&tx, &report.change, &asset_id)?;
        let pays = |address: &str| -> Vec<u32> {
            (0u32..)
                .zip(&tx.outputs)
                .filter(|(_, o)| o.asset == asset_id && o.address.as_deref() == Some(address))
                .map(|(vout, _)| vout)
                .collect()
        };
        let mut receiver_vouts = Vec::new();
        for (address, (_, _, expected)) in &receivers {
            let vouts = pays(address);
            let paid: u64 = vouts
                .iter()
                .filter_map(|v| tx.outputs.get(usize::try_from(*v).unwrap_or(usize::MAX)))
                .map(|o| o.amount)
                .sum();
            if paid != *expected {
                return Err(rule(format!(
                    "Transaction {txid} pays {paid} units of the asset to {address}; \
                     the distribution assigns {expected}."
                )));
            }
            receiver_vouts.extend(vouts);
        }
        onchain::require_details(&tx, &report.details, &receiver_vouts)?;
        onchain::all_accounted(&tx, &asset_id, &report.change, |_, out| {
            out.kind == OutKind::Pay
                && out
                    .address
                    .as_ref()
                    .is_some_and(|a| receivers.contains_key(a))
        })?;

        let height = tx.height.unwrap_or_default();
        let datetime = Store::block_datetime(height);
        let mut outputs = Vec::new();
        for (vout, out) in (0u32..).zip(&tx.outputs) {
            if out.asset != asset_id || out.kind != OutKind::Pay {
                continue;
            }
            let owner = out
                .address
                .as_ref()
                .and_then(|a| receivers.get(a))
                .map(|(gaid, user, _)| (*user, gaid.clone()));
            outputs.extend(onchain::ledger_output(&tx, vout, owner, false));
        }
        let asset = self.unlocked_mut(uuid)?;
        let inputs = asset.state.spend_outpoints(&tx.inputs, height);
        asset.state.commit(Tx {
            txid: txid.clone(),
            height,
            datetime: datetime.clone(),
            kind: TxKind::Distribution,
            inputs,
            outputs,
        });
        for a in &mut asset.state.assignments {
            if sent.iter().any(|(id, ..)| *id == a.id) {
                a.is_distributed = true;
            }
        }
        let first_vout = |address: &str| -> u32 {
            (0u32..)
                .zip(&tx.outputs)
                .find(|(_, o)| o.asset == asset_id && o.address.as_deref() == Some(address))
                .map_or(0, |(vout, _)| vout)
        };
        let distribution = asset
            .state
            .distributions
            .iter_mut()
            .find(|d| d.uuid == id)
            .ok_or(StoreError::NotFound)?;
        distribution.confirmed = Some(Confirmation {
            txid,
            height,
            datetime,
            outputs: sent
                .iter()
                .map(|(_, user, amount, address)| (*user, *amount, first_vout(address)))
                .collect(),
        });
        Ok(distribution.json())
    }

    /// Cancels a distribution not yet confirmed: its assignments are free again.
    pub(crate) fn cancel_distribution(&mut self, uuid: &str, id: &str) -> Result<(), StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        let distribution = asset
            .state
            .distributions
            .iter()
            .find(|d| d.uuid == id)
            .ok_or(StoreError::NotFound)?;
        if distribution.confirmed.is_some() {
            return Err(rule("A confirmed distribution cannot be cancelled."));
        }
        for a in &mut asset.state.assignments {
            if a.distribution_uuid.as_deref() == Some(id) {
                a.distribution_uuid = None;
            }
        }
        asset.state.distributions.retain(|d| d.uuid != id);
        Ok(())
    }
}
