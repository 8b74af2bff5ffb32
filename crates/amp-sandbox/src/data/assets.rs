//! Assets: list, issue, edit, delete, register, lock, memo.

use serde_json::{json, Value};

use super::ledger::output;
use super::model::{Asset, AssetState, Tx, TxKind};
use super::{hex64, rule, to_json, Store, StoreError, ISSUER_ID};
use crate::node::chain::{fee_for, ChainTx, Issuance, OutKind, POLICY_ASSET};

/// A validated `POST /assets/issue` body (amp-api.md §3.1).
#[derive(Clone, Debug)]
pub(crate) struct Issue {
    pub(crate) name: String,
    pub(crate) amount: u64,
    pub(crate) destination_address: String,
    pub(crate) domain: String,
    pub(crate) ticker: String,
    pub(crate) pubkey: String,
    pub(crate) precision: u8,
    pub(crate) is_confidential: bool,
    pub(crate) is_reissuable: bool,
    /// The number of reissuance tokens; 0 when not reissuable.
    pub(crate) reissuance_amount: u64,
    pub(crate) reissuance_address: Option<String>,
    pub(crate) transfer_restricted: bool,
}

impl Store {
    pub(crate) fn assets(&self) -> Value {
        to_json(&self.assets)
    }

    pub(crate) fn asset_json(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid).map(to_json)
    }

    /// Issues a new asset: a fresh uuid and asset id, the issued amount in one
    /// treasury output, and the reissuance tokens in another when reissuable.
    /// The answer is amp-rs's `IssuanceResponse`.
    pub(crate) fn issue(&mut self, request: &Issue) -> Value {
        let uuid = self.fresh_uuid("asset");
        self.issue_as(uuid, request)
    }

    /// [`Store::issue`] with a chosen uuid (the sample data's fixed ones).
    pub(crate) fn issue_as(&mut self, uuid: String, request: &Issue) -> Value {
        let asset_id = hex64(&format!("asset_id {uuid}"));
        let token_id = request
            .is_reissuable
            .then(|| hex64(&format!("token {uuid}")));
        let txid = hex64(&format!("issuance {uuid}"));
        let height = self.chain_issuance(&txid, &uuid, &asset_id, token_id.as_deref(), request);
        let datetime = Store::block_datetime(height);
        // Issuance blinders are unknown to the platform until update-blinders.
        let mut outputs = vec![output(&txid, 0, &asset_id, request.amount, None, false)];
        if let Some(token) = &token_id {
            outputs.push(output(
                &txid,
                1,
                token,
                request.reissuance_amount,
                None,
                false,
            ));
        }
        let mut state = AssetState {
            issued: request.amount,
            ..AssetState::default()
        };
        state.commit(Tx {
            txid: txid.clone(),
            height,
            datetime,
            kind: TxKind::Issuance,
            inputs: Vec::new(),
            outputs,
        });
        self.assets.push(Asset {
            name: request.name.clone(),
            asset_uuid: uuid.clone(),
            issuer: ISSUER_ID,
            asset_id: asset_id.clone(),
            reissuance_token_id: token_id.clone(),
            requirements: Vec::new(),
            ticker: Some(request.ticker.clone()),
            precision: request.precision,
            domain: Some(request.domain.clone()),
            pubkey: Some(request.pubkey.clone()),
            is_registered: false,
            is_authorized: false,
            is_locked: false,
            issuer_authorization_endpoint: None,
            transfer_restricted: request.transfer_restricted,
            state,
        });
        json!({
            "name": request.name,
            "amount": request.amount,
            "destination_address": request.destination_address,
            "domain": request.domain,
            "ticker": request.ticker,
            "pubkey": request.pubkey,
            "precision": request.precision,
            "is_confidential": request.is_confidential,
            "is_reissuable": request.is_reissuable,
            "reissuance_amount": request.reissuance_amount,
            // amp-rs reads a string here, never null.
            "reissuance_address": request.reissuance_address.clone().unwrap_or_default(),
            "asset_id": asset_id,
            "reissuance_token_id": token_id,
            "asset_uuid": uuid,
            "txid": txid,
            "vin": 0,
            "asset_vout": 0,
            "reissuance_vout": request.is_reissuable.then_some(1),
            "issuer_authorization_endpoint": null,
            "transfer_restricted": request.transfer_restricted,
            "issuance_assetblinder": hex64(&format!("issuance_assetblinder {txid}")),
            "issuance_tokenblinder": request
                .is_reissuable
                .then(|| hex64(&format!("issuance_tokenblinder {txid}"))),
        })
    }

    /// Puts AMP's issuance on the chain, mined at once in a block of its own:
    /// the amount to `destination_address` and the tokens to
    /// `reissuance_address` (or the destination), both the issuer's wallet's
    /// (the wallet adopts them), with explicit blinders AMP does not know.
    /// The height of its block.
    fn chain_issuance(
        &mut self,
        txid: &str,
        uuid: &str,
        asset_id: &str,
        token_id: Option<&str>,
        request: &Issue,
    ) -> u64 {
        let chain = &mut self.chain;
        let destination = request.destination_address.clone();
        let token_address = request
            .reissuance_address
            .clone()
            .unwrap_or_else(|| destination.clone());
        chain.wallet.adopt(&destination);
        chain.wallet.adopt(&token_address);
        let mut outputs =
            vec![chain.new_output(txid, 0, Some(destination), asset_id, request.amount)];
        if let Some(token) = token_id {
            outputs.push(chain.new_output(
                txid,
                1,
                Some(token_address),
                token,
                request.reissuance_amount,
            ));
        }
        let fee = fee_for(outputs.len() + 1);
        let mut fee_output = chain.new_output(txid, 0, None, POLICY_ASSET, fee);
        fee_output.kind = OutKind::Fee;
        outputs.push(fee_output);
        let issuance = Issuance {
            vin: 0,
            asset: asset_id.to_owned(),
            token: token_id.map(str::to_owned),
            asset_amount: request.amount,
            token_amount: if token_id.is_some() {
                request.reissuance_amount
            } else {
                0
            },
            is_reissuance: false,
            entropy: hex64(&format!("entropy {uuid}")),
            asset_blinds: hex64(&format!("issuance_assetblinder {txid}")),
            token_blinds: hex64(&format!("issuance_tokenblinder {txid}")),
        };
        let time = chain.tip().time;
        chain.add_tx(ChainTx {
            txid: txid.to_owned(),
            // AMP's own wallet funds it: an input the issuer's wallet does not know.
            inputs: vec![(hex64(&format!("amp funding {txid}")), 0)],
            issuance: Some(issuance),
            outputs,
            height: None,
            block_index: 0,
            time,
            comment: None,
            from_wallet: false,
        });
        chain.mine(1);
        chain.height()
    }

    /// `issuer_authorization_endpoint`: `None` clears it.
    pub(crate) fn edit_asset(
        &mut self,
        uuid: &str,
        endpoint: Option<String>,
    ) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        asset.issuer_authorization_endpoint = endpoint;
        Ok(to_json(asset))
    }

    /// Deletes an asset, and with it its place in categories and managers.
    pub(crate) fn delete_asset(&mut self, uuid: &str) -> Result<(), StoreError> {
        self.unlocked_mut(uuid)?;
        self.assets.retain(|a| a.asset_uuid != uuid);
        for category in self.categories.values_mut() {
            category.assets.retain(|a| a != uuid);
        }
        for manager in self.managers.values_mut() {
            manager.assets.retain(|a| a != uuid);
        }
        Ok(())
    }

    /// Registers the asset with the asset registry; a second time is refused
    /// with amp-rs's `{"Error": "The asset is already registered."}`.
    pub(crate) fn register(&mut self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        if asset.is_registered {
            return Err(rule("The asset is already registered."));
        }
        asset.is_registered = true;
        Ok(to_json(asset))
    }

    /// Marks the asset authorized (`register-authorized`); repeating it is harmless.
    pub(crate) fn register_authorized(&mut self, uuid: &str) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        asset.is_authorized = true;
        Ok(to_json(asset))
    }

    pub(crate) fn set_locked(&mut self, uuid: &str, locked: bool) -> Result<Value, StoreError> {
        let asset = self.asset_mut(uuid)?;
        asset.is_locked = locked;
        Ok(to_json(asset))
    }

    pub(crate) fn memo(&self, uuid: &str) -> Result<Value, StoreError> {
        self.asset(uuid)
            .map(|a| Value::String(a.state.memo.clone()))
    }

    pub(crate) fn set_memo(&mut self, uuid: &str, memo: String) -> Result<Value, StoreError> {
        let asset = self.unlocked_mut(uuid)?;
        asset.state.memo = memo;
        Ok(Value::String(asset.state.memo.clone()))
    }
}
