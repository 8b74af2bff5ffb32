//! Reissuance and burn: request (what the confirm script needs), then
//! confirm (the transaction the issuer's node made).
//!
//! The shapes come from amp-rs (`ReissueRequestResponse`, `ReissueResponse`,
//! `Reissuance`, `BurnCreate`) and the official `blockstream-amp-confirm.py`,
//! whose `command` values (`reissue`, `burn`) win over amp-rs's mock
//! (`destroyamount`).

use serde_json::{json, Value};

use super::distributions::{coins, SCRIPT_VERSION};
use super::ledger::output;
use super::model::{Reissuance, Tx, TxIo, TxKind};
use super::{hex64, rule, to_json, Store, StoreError};

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

    /// Records the reissuance transaction `txid` for the pending request: the
    /// new units and the token go to the treasury.
    pub(crate) fn reissue_confirm(
        &mut self,
        uuid: &str,
        txid: &str,
        vin: u64,
    ) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        let Some(amount) = asset.state.pending_reissue else {
            return Err(rule("There is no reissuance request to confirm."));
        };
        if asset.state.has_tx(txid) {
            return Err(rule(format!("Transaction {txid} is already recorded.")));
        }
        let (height, datetime) = self.next_block();
        let asset = self.unlocked_mut(uuid)?;
        let asset_id = asset.asset_id.clone();
        let token = asset.reissuance_token_id.clone().unwrap_or_default();
        let (inputs, tokens) = asset.state.spend_treasury(&token, None, height)?;
        let outputs = vec![
            output(txid, 0, &asset_id, amount, None, true),
            output(txid, 1, &token, tokens, None, true),
        ];
        let destination = asset.state.treasury_address.clone();
        asset.state.commit(Tx {
            txid: txid.to_owned(),
            height,
            datetime: datetime.clone(),
            kind: TxKind::Reissuance,
            inputs,
            outputs,
        });
        asset.state.reissued += amount;
        asset.state.pending_reissue = None;
        asset.state.reissuances.push(Reissuance {
            txid: txid.to_owned(),
            vout: 0,
            destination_address: destination,
            reissuance_amount: amount,
            confirmed_in_block: hex64(&format!("block {height}")),
            created: datetime,
        });
        Ok(json!({ "txid": txid, "vin": vin, "reissuance_amount": amount }))
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

    /// Records the burn transaction `txid` for the pending request.
    pub(crate) fn burn_confirm(&mut self, uuid: &str, txid: &str) -> Result<(), StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        let Some(amount) = asset.state.pending_burn else {
            return Err(rule("There is no burn request to confirm."));
        };
        if asset.state.has_tx(txid) {
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
        let (height, datetime) = self.next_block();
        let asset = self.unlocked_mut(uuid)?;
        let asset_id = asset.asset_id.clone();
        let (inputs, spent) = asset
            .state
            .spend_treasury(&asset_id, Some(amount), height)?;
        let mut outputs = vec![TxIo {
            is_burnt: true,
            ..output(txid, 0, &asset_id, amount, None, true)
        }];
        if spent > amount {
            outputs.push(output(txid, 1, &asset_id, spent - amount, None, true));
        }
        asset.state.commit(Tx {
            txid: txid.to_owned(),
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
