//! Reissuance and burn: request (what the confirm script needs), then
//! confirm (the transaction the issuer's node made).
//!
//! The shapes come from amp-rs (`ReissueRequestResponse`, `ReissueResponse`,
//! `Reissuance`, `BurnCreate`) and the official `blockstream-amp-confirm.py`,
//! whose `command` values (`reissue`, `burn`) win over amp-rs's mock
//! (`destroyamount`).

use serde_json::{json, Value};

use super::distributions::{coins, SCRIPT_VERSION};
use super::model::{Reissuance, Tx, TxKind};
use super::onchain::{self, Detail, Report};
use super::{rule, to_json, Store, StoreError};
use crate::node::chain::OutKind;

/// What a reissue-confirm body says of the node's reissuance.
#[derive(Clone, Debug, Default)]
pub(crate) struct ReissueReport {
    pub(crate) txid: String,
    pub(crate) vin: u64,
    pub(crate) details: Vec<Detail>,
    /// `listissuances` entries as sent.
    pub(crate) listissuances: Vec<Value>,
}

/// Liquid's cap on an asset's amount, in units (21 million coins of 10^8).
pub(crate) const MAX_UNITS: u64 = 2_100_000_000_000_000;

impl Store {
    /// Asks to reissue `amount` more units; the answer lists the reissuance
    /// token outputs the node must spend.
    pub(crate) fn reissue_request(
        &mut self,
        uuid: &str,
        amount: u64,
        base_url: &str,
    ) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        let Some(token) = asset.reissuance_token_id.clone() else {
            return Err(rule("The asset is not reissuable."));
        };
        let state = &asset.state;
        if state.issued + state.reissued + amount > MAX_UNITS {
            return Err(rule(format!(
                "Reissuing {amount} would take the asset over {MAX_UNITS} units."
            )));
        }
        let utxos = state.treasury_outpoints(&token);
        if utxos.is_empty() {
            return Err(rule("The treasury holds no reissuance token."));
        }
        asset.state.pending_reissue = Some(amount);
        Ok(json!({
            "command": "reissue",
            "min_supported_client_script_version": SCRIPT_VERSION,
            "base_url": format!("{base_url}/{{}}"),
            "asset_uuid": asset.asset_uuid,
            "asset_id": asset.asset_id,
            "amount": coins(amount),
            "reissuance_utxos": utxos,
        }))
    }

    /// Records the reissuance the node made for the pending request, once
    /// the chain shows it with enough confirmations: a reissuance of this
    /// asset at `vin`, of the amount requested, which `listissuances` (as
    /// sent) names too. The new units and the token go to the treasury.
    pub(crate) fn reissue_confirm(
        &mut self,
        uuid: &str,
        report: &ReissueReport,
    ) -> Result<Value, StoreError> {
        let asset = self.asset(uuid)?;
        if asset.is_locked {
            return Err(rule("The asset is locked."));
        }
        let Some(amount) = asset.state.pending_reissue else {
            return Err(rule("There is no reissuance request to confirm."));
        };
        let txid = report.txid.to_ascii_lowercase();
        if asset.state.has_tx(&txid) {
            return Err(rule(format!("Transaction {txid} is already recorded.")));
        }
        let asset_id = asset.asset_id.clone();
        let token = asset.reissuance_token_id.clone().unwrap_or_default();
        let tx = onchain::confirmed(self, &txid)?.clone();
        let reissues = tx.issuance.as_ref().is_some_and(|i| {
            i.is_reissuance && i.asset == asset_id && u64::from(i.vin) == report.vin
        });
        if !reissues {
            return Err(rule(format!(
                "Transaction {txid} has no reissuance of the asset at input {}.",
                report.vin
            )));
        }
        let minted = tx.issuance.as_ref().map_or(0, |i| i.asset_amount);
        if minted != amount {
            return Err(rule(format!(
                "Transaction {txid} reissues {minted} units; {amount} were requested."
            )));
        }
        onchain::check_details(&tx, &report.details)?;
        let listed = report.listissuances.iter().any(|entry| {
            entry["txid"]
                .as_str()
                .map(str::to_ascii_lowercase)
                .as_deref()
                == Some(txid.as_str())
                && entry["vin"].as_u64() == Some(report.vin)
                && entry["isreissuance"] == Value::Bool(true)
                && entry["asset"]
                    .as_str()
                    .map(str::to_ascii_lowercase)
                    .as_deref()
                    == Some(asset_id.as_str())
                && entry.get("assetamount").and_then(onchain::units_of)
                    == i64::try_from(minted).ok()
        });
        if !listed {
            return Err(rule(format!(
                "listissuances holds no entry for the reissuance at {txid}:{}.",
                report.vin
            )));
        }
        let vouts = |wanted: &str| -> Vec<u32> {
            (0u32..)
                .zip(&tx.outputs)
                .filter(|(_, o)| o.asset == wanted && o.kind == OutKind::Pay)
                .map(|(vout, _)| vout)
                .collect()
        };
        let asset_vouts = vouts(&asset_id);
        onchain::require_details(&tx, &report.details, &asset_vouts)?;
        let height = tx.height.unwrap_or_default();
        let datetime = Store::block_datetime(height);
        let block = self
            .chain
            .block_at(height)
            .map(|b| b.hash.clone())
            .unwrap_or_default();
        let outputs: Vec<_> = asset_vouts
            .iter()
            .chain(&vouts(&token))
            .filter_map(|vout| onchain::ledger_output(&tx, *vout, None, false))
            .collect();
        let first = asset_vouts.first().copied().unwrap_or(0);
        let destination = tx
            .outputs
            .get(usize::try_from(first).unwrap_or(usize::MAX))
            .and_then(|o| o.address.clone())
            .unwrap_or_default();
        let asset = self.unlocked_mut(uuid)?;
        let inputs = asset.state.spend_outpoints(&tx.inputs, height);
        asset.state.commit(Tx {
            txid: txid.clone(),
            height,
            datetime: datetime.clone(),
            kind: TxKind::Reissuance,
            inputs,
            outputs,
        });
        asset.state.reissued += amount;
        asset.state.pending_reissue = None;
        asset.state.reissuances.push(Reissuance {
            txid: txid.clone(),
            vout: first,
            destination_address: destination,
            reissuance_amount: amount,
            confirmed_in_block: block,
            created: datetime,
        });
        Ok(json!({ "txid": txid, "vin": report.vin, "reissuance_amount": amount }))
    }

    pub(crate) fn reissuances(&self, uuid: &str) -> Result<Value, StoreError> {
        Ok(to_json(&self.asset(uuid)?.state.reissuances))
    }

    /// Asks to burn `amount` units of the treasury, which may burn only what
    /// no assignment holds on to.
    pub(crate) fn burn_request(
        &mut self,
        uuid: &str,
        amount: u64,
        base_url: &str,
    ) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        let burnable = asset
            .unassigned()
            .min(asset.state.treasury_spendable(&asset.asset_id));
        if amount > burnable {
            return Err(rule(format!(
                "The amount {amount} is more than the treasury may burn ({burnable})."
            )));
        }
        asset.state.pending_burn = Some(amount);
        Ok(json!({
            "command": "burn",
            "min_supported_client_script_version": SCRIPT_VERSION,
            "base_url": format!("{base_url}/{{}}"),
            "asset_uuid": asset.asset_uuid,
            "asset_id": asset.asset_id,
            "amount": coins(amount),
            "utxos": asset.state.treasury_outpoints(&asset.asset_id),
        }))
    }

    /// Records the burn the node made for the pending request, once the
    /// chain shows it with enough confirmations destroying exactly the
    /// amount requested, and the change reported is true.
    pub(crate) fn burn_confirm(&mut self, uuid: &str, report: &Report) -> Result<(), StoreError> {
        let asset = self.asset(uuid)?;
        if asset.is_locked {
            return Err(rule("The asset is locked."));
        }
        let Some(amount) = asset.state.pending_burn else {
            return Err(rule("There is no burn request to confirm."));
        };
        let txid = report.txid.to_ascii_lowercase();
        if asset.state.has_tx(&txid) {
            return Err(rule(format!("Transaction {txid} is already recorded.")));
        }
        // Assignments made since the request may have taken the room.
        let burnable = asset
            .unassigned()
            .min(asset.state.treasury_spendable(&asset.asset_id));
        if amount > burnable {
            return Err(rule(format!(
                "The amount {amount} is more than the treasury may burn ({burnable})."
            )));
        }
        let asset_id = asset.asset_id.clone();
        let tx = onchain::confirmed(self, &txid)?.clone();
        self.asset(uuid)?.state.check_not_blacklisted(&tx)?;
        onchain::check_change(&tx, &report.change, &asset_id)?;
        let burnt: u64 = tx
            .outputs
            .iter()
            .filter(|o| o.asset == asset_id && o.kind == OutKind::Burn)
            .map(|o| o.amount)
            .sum();
        if burnt != amount {
            return Err(rule(format!(
                "Transaction {txid} destroys {burnt} units of the asset; {amount} were requested."
            )));
        }
        onchain::all_accounted(&tx, &asset_id, &report.change, |_, out| {
            out.kind == OutKind::Burn
        })?;
        let height = tx.height.unwrap_or_default();
        let datetime = Store::block_datetime(height);
        let outputs: Vec<_> = (0u32..)
            .zip(&tx.outputs)
            .filter(|(_, o)| o.asset == asset_id && o.kind != OutKind::Fee)
            .filter_map(|(vout, o)| {
                onchain::ledger_output(&tx, vout, None, o.kind == OutKind::Burn)
            })
            .collect();
        let asset = self.unlocked_mut(uuid)?;
        let inputs = asset.state.spend_outpoints(&tx.inputs, height);
        asset.state.commit(Tx {
            txid,
            height,
            datetime,
            kind: TxKind::Burn,
            inputs,
            outputs,
        });
        asset.state.burned += amount;
        asset.state.pending_burn = None;
        Ok(())
    }
}
