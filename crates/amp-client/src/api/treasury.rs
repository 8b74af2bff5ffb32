//! The treasury side of `client.assets()`: UTXOs, treasury addresses,
//! transactions and blinders, reissuance and burn (amp-api.md §3.1).
//!
//! amp-api.md names these routes but gives no bodies or answers; those come
//! from amp-rs and the official `blockstream-amp-confirm.py`, as each model
//! type says.

use reqwest::Method;
use serde_json::json;

use crate::api::{asset_path, Assets};
use crate::error::{Error, Result};
use crate::model::{
    AssetTransaction, BurnRequestResponse, Lenient, Outpoint, Reissuance, ReissueConfirm,
    ReissueRequestResponse, ReissueResponse, TxConfirmation, TxsQuery, UpdateBlinders, Utxo,
};

impl Assets<'_> {
    /// The asset's unspent outputs (`GET /assets/{uuid}/utxos`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for u in client.assets().utxos("4e6c5fca-…").await? {
    ///     println!("{}:{} {} blacklisted={}", u.txid, u.vout, u.amount, u.blacklisted);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn utxos(&self, asset_uuid: &str) -> Result<Vec<Utxo>> {
        self.get_under(asset_uuid, "utxos").await
    }

    /// Blacklists outputs, so AMP no longer authorizes spending them
    /// (`POST /assets/{uuid}/utxos/blacklist` with `[{"txid", "vout"}]`).
    ///
    /// The answer is the outputs per amp-rs; the Blockstream AMP CLI only
    /// prints it, hence [`Lenient`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::Outpoint;
    /// client.assets().blacklist_utxos("4e6c5fca-…", &[Outpoint::new("a1b2…", 0)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn blacklist_utxos(
        &self,
        asset_uuid: &str,
        utxos: &[Outpoint],
    ) -> Result<Lenient<Vec<Utxo>>> {
        let path = asset_path(asset_uuid, "utxos/blacklist")?;
        self.client.post(&path, utxos).await
    }

    /// Takes outputs off the blacklist
    /// (`POST /assets/{uuid}/utxos/whitelist`); body and answer as for
    /// [`blacklist_utxos`](Self::blacklist_utxos).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::Outpoint;
    /// client.assets().whitelist_utxos("4e6c5fca-…", &[Outpoint::new("a1b2…", 0)]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn whitelist_utxos(
        &self,
        asset_uuid: &str,
        utxos: &[Outpoint],
    ) -> Result<Lenient<Vec<Utxo>>> {
        let path = asset_path(asset_uuid, "utxos/whitelist")?;
        self.client.post(&path, utxos).await
    }

    /// The treasury's addresses (`GET /assets/{uuid}/treasury-addresses`): a
    /// list of address strings (amp-rs's mock; the CLI prints it).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for address in client.assets().treasury_addresses("4e6c5fca-…").await? {
    ///     println!("{address}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn treasury_addresses(&self, asset_uuid: &str) -> Result<Vec<String>> {
        self.get_under(asset_uuid, "treasury-addresses").await
    }

    /// Adds treasury addresses (`POST /assets/{uuid}/treasury-addresses/add`
    /// with a list of address strings, as the CLI and amp-rs send it).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let addresses = vec!["vjU2i2EM…".to_string()];
    /// client.assets().add_treasury_addresses("4e6c5fca-…", &addresses).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_treasury_addresses(
        &self,
        asset_uuid: &str,
        addresses: &[String],
    ) -> Result<()> {
        let path = asset_path(asset_uuid, "treasury-addresses/add")?;
        self.client.post_ignored(&path, addresses).await
    }

    /// Removes treasury addresses
    /// (`DELETE /assets/{uuid}/treasury-addresses/delete` with a list of
    /// address strings in the body). Only amp-rs calls this, in this form
    /// (amp-api.md §3.1: UNCERTAIN).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let addresses = vec!["vjU2i2EM…".to_string()];
    /// client.assets().delete_treasury_addresses("4e6c5fca-…", &addresses).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_treasury_addresses(
        &self,
        asset_uuid: &str,
        addresses: &[String],
    ) -> Result<()> {
        let path = asset_path(asset_uuid, "treasury-addresses/delete")?;
        self.client
            .call_ignoring_body(Method::DELETE, &path, Some(addresses))
            .await
    }

    /// The asset's transactions (`GET /assets/{uuid}/txs`, 0.1.10), with the
    /// same optional paging and filters as
    /// [`activities`](Self::activities), sent as a query string (amp-rs
    /// sends them as a JSON body on the `GET`, which servers commonly
    /// ignore).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for tx in client.assets().txs("4e6c5fca-…", None).await? {
    ///     println!("{} issuance={}", tx.txid, tx.is_issuance);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn txs(
        &self,
        asset_uuid: &str,
        query: Option<&TxsQuery>,
    ) -> Result<Vec<AssetTransaction>> {
        let path = asset_path(asset_uuid, "txs")?;
        self.client.get_with_query(&path, query).await
    }

    /// One transaction of the asset (`GET /assets/{uuid}/txs/{txid}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let tx = client.assets().tx("4e6c5fca-…", "a1b2…").await?;
    /// println!("{} outputs", tx.outputs.len());
    /// # Ok(()) }
    /// ```
    pub async fn tx(&self, asset_uuid: &str, txid: &str) -> Result<AssetTransaction> {
        let path = format!(
            "{}/{}",
            asset_path(asset_uuid, "txs")?,
            super::segment(txid)?
        );
        self.client.get(&path).await
    }

    /// Gives AMP the blinders of an output it could not unblind
    /// (`POST /assets/{uuid}/update-blinders`, 0.1.10–0.1.12).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::UpdateBlinders;
    /// let blinders = UpdateBlinders {
    ///     txid: "a1b2…".into(),
    ///     vout: 0,
    ///     asset_blinder: "3f…".into(),
    ///     amount_blinder: "9c…".into(),
    /// };
    /// client.assets().update_blinders("4e6c5fca-…", &blinders).await?;
    /// # Ok(()) }
    /// ```
    pub async fn update_blinders(&self, asset_uuid: &str, blinders: &UpdateBlinders) -> Result<()> {
        let path = asset_path(asset_uuid, "update-blinders")?;
        self.client.post_ignored(&path, blinders).await
    }

    /// Asks to reissue `amount_to_reissue` base units
    /// (`POST /assets/{uuid}/reissue-request` with `{"amount_to_reissue"}`,
    /// as amp-rs and the Blockstream AMP CLI send it).
    ///
    /// The answer tells the treasury node what to do; after the node has
    /// reissued, confirm with [`reissue_confirm`](Self::reissue_confirm). An
    /// amount that is not positive is refused before sending.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let plan = client.assets().reissue_request("4e6c5fca-…", 500_000).await?;
    /// println!("spend {} token outputs", plan.reissuance_utxos.len());
    /// # Ok(()) }
    /// ```
    pub async fn reissue_request(
        &self,
        asset_uuid: &str,
        amount_to_reissue: i64,
    ) -> Result<ReissueRequestResponse> {
        positive("amount_to_reissue", amount_to_reissue)?;
        let path = asset_path(asset_uuid, "reissue-request")?;
        let body = json!({ "amount_to_reissue": amount_to_reissue });
        self.client.post(&path, &body).await
    }

    /// Confirms a reissuance the node made
    /// (`POST /assets/{uuid}/reissue-confirm`, body as
    /// `blockstream-amp-confirm.py` sends it).
    ///
    /// The answer is `{"txid", "vin", "reissuance_amount"}` per amp-rs; the
    /// official script reads nothing from it, hence [`Lenient`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::{ReissuanceOutput, ReissueConfirm};
    /// let confirm = ReissueConfirm {
    ///     details: serde_json::json!([]),
    ///     listissuances: vec![],
    ///     reissuance_output: ReissuanceOutput { txid: "a1b2…".into(), vin: 0 },
    /// };
    /// client.assets().reissue_confirm("4e6c5fca-…", &confirm).await?;
    /// # Ok(()) }
    /// ```
    pub async fn reissue_confirm(
        &self,
        asset_uuid: &str,
        confirmation: &ReissueConfirm,
    ) -> Result<Lenient<ReissueResponse>> {
        let path = asset_path(asset_uuid, "reissue-confirm")?;
        self.client.post(&path, confirmation).await
    }

    /// Asks to burn `amount` base units (`POST /assets/{uuid}/burn-request`
    /// with `{"amount"}`, as amp-rs and the CLI send it); confirm with
    /// [`burn_confirm`](Self::burn_confirm) once the node has burned. An
    /// amount that is not positive is refused before sending.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let plan = client.assets().burn_request("4e6c5fca-…", 1_000).await?;
    /// println!("spend {} outputs", plan.utxos.len());
    /// # Ok(()) }
    /// ```
    pub async fn burn_request(&self, asset_uuid: &str, amount: i64) -> Result<BurnRequestResponse> {
        positive("amount", amount)?;
        let path = asset_path(asset_uuid, "burn-request")?;
        let body = json!({ "amount": amount });
        self.client.post(&path, &body).await
    }

    /// Confirms a burn the node made (`POST /assets/{uuid}/burn-confirm`
    /// with `{"tx_data": {"txid"}, "change_data"}`, as the official script
    /// sends it; AMP answers 200, with an empty body per amp-rs).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::TxConfirmation;
    /// client.assets().burn_confirm("4e6c5fca-…", &TxConfirmation::new("a1b2…")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn burn_confirm(
        &self,
        asset_uuid: &str,
        confirmation: &TxConfirmation,
    ) -> Result<()> {
        let path = asset_path(asset_uuid, "burn-confirm")?;
        self.client.post_ignored(&path, confirmation).await
    }

    /// Past reissuances of the asset (`GET /assets/{uuid}/reissuances`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let total: i64 = client.assets().reissuances("4e6c5fca-…").await?
    ///     .iter()
    ///     .map(|r| r.reissuance_amount)
    ///     .sum();
    /// println!("{total} reissued");
    /// # Ok(()) }
    /// ```
    pub async fn reissuances(&self, asset_uuid: &str) -> Result<Vec<Reissuance>> {
        self.get_under(asset_uuid, "reissuances").await
    }
}

/// Refuses an amount that is not positive, naming the field.
fn positive(field: &str, amount: i64) -> Result<()> {
    if amount > 0 {
        Ok(())
    } else {
        Err(Error::invalid_input(
            field,
            format!("must be positive, is {amount}"),
        ))
    }
}
