//! Assets: `client.assets()` (amp-api.md §3.1). The treasury side (UTXOs,
//! treasury addresses, transactions, reissuance, burn) is in `treasury.rs`.

use serde_json::json;

use crate::api::asset_path;
use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{
    ActivitiesQuery, Activity, Asset, AssetBalance, AssetSummary, IssuanceResponse, IssueRequest,
    Lenient, LostOutputs, Memo, Ownership,
};

/// The assets of the issuer, from [`AmpClient::assets`].
///
/// An asset's assignments and distributions have their own handlers:
/// [`AmpClient::assignments`] and [`AmpClient::distributions`].
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// for asset in client.assets().list().await? {
///     let summary = client.assets().summary(&asset.asset_uuid).await?;
///     println!("{}: {} issued", asset.name, summary.issued);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Assets<'a> {
    pub(super) client: &'a AmpClient,
}

impl AmpClient {
    /// The assets handler.
    pub fn assets(&self) -> Assets<'_> {
        Assets { client: self }
    }
}

impl Assets<'_> {
    /// `GET` on `assets/{uuid}/{rest}` (or `assets/{uuid}` for an empty `rest`).
    pub(super) async fn get_under<T: serde::de::DeserializeOwned>(
        &self,
        asset_uuid: &str,
        rest: &str,
    ) -> Result<T> {
        let path = asset_path(asset_uuid, rest)?;
        self.client.get(&path).await
    }

    /// Every asset (`GET /assets/`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let assets = client.assets().list().await?;
    /// println!("{} assets", assets.len());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Asset>> {
        self.client.get("assets/").await
    }

    /// One asset (`GET /assets/{uuid}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let asset = client.assets().get("4e6c5fca-…").await?;
    /// println!("{}", asset.name);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, asset_uuid: &str) -> Result<Asset> {
        self.get_under(asset_uuid, "").await
    }

    /// Issues a new asset (`POST /assets/issue`; AMP answers 201).
    ///
    /// A request with an empty required field, an amount that is not
    /// positive or a precision above 8 is refused before anything is sent
    /// ([`Error::is_invalid_input`](crate::Error::is_invalid_input), naming the field).
    /// Issuing is a `POST` that changes state: it is retried only on
    /// failures that happened before it was sent, and on 429.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::IssueRequest;
    /// let issued = client.assets().issue(&IssueRequest {
    ///     name: "Example Bond".into(),
    ///     amount: 1_000_000,
    ///     destination_address: "vjTvpDMk…".into(),
    ///     domain: "example.com".into(),
    ///     ticker: "EXB".into(),
    ///     pubkey: "02b4ab…".into(),
    ///     is_confidential: Some(true),
    ///     ..IssueRequest::default()
    /// }).await?;
    /// println!("issued {} in {:?}", issued.asset_uuid, issued.txid);
    /// # Ok(()) }
    /// ```
    pub async fn issue(&self, request: &IssueRequest) -> Result<IssuanceResponse> {
        request.check()?;
        self.client.post("assets/issue", request).await
    }

    /// Sets where transfers are authorized (`PUT /assets/{uuid}/edit` with
    /// `{"issuer_authorization_endpoint"}`, the one field amp-rs and the
    /// Blockstream AMP CLI edit); AMP answers with the asset.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let asset = client.assets().edit("4e6c5fca-…", "https://issuer.example/authorize").await?;
    /// assert!(asset.issuer_authorization_endpoint.is_some());
    /// # Ok(()) }
    /// ```
    pub async fn edit(
        &self,
        asset_uuid: &str,
        issuer_authorization_endpoint: &str,
    ) -> Result<Asset> {
        let path = asset_path(asset_uuid, "edit")?;
        let body = json!({ "issuer_authorization_endpoint": issuer_authorization_endpoint });
        self.client.put(&path, &body).await
    }

    /// Deletes the asset (`DELETE /assets/{uuid}/delete`; AMP answers 204).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assets().delete("4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, asset_uuid: &str) -> Result<()> {
        let path = asset_path(asset_uuid, "delete")?;
        self.client.delete_ignored(&path).await
    }

    /// Registers the asset in the Liquid asset registry
    /// (`GET /assets/{uuid}/register`).
    ///
    /// AMP answers with the asset's data (the asset per amp-rs, hence
    /// [`Lenient`]). An asset already registered is answered 400 (amp-rs's
    /// mock: `{"Error": "The asset is already registered."}`), which is
    /// returned as that error: amp-rs turns it into a success, this client
    /// leaves the choice to the caller (`err.status()`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let answer = client.assets().register("4e6c5fca-…").await?;
    /// if let Some(asset) = answer.typed() {
    ///     assert!(asset.is_registered);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn register(&self, asset_uuid: &str) -> Result<Lenient<Asset>> {
        self.get_under(asset_uuid, "register").await
    }

    /// Registers the asset as authorized, so wallets ask the issuer's
    /// authorization endpoint before transfers
    /// (`GET /assets/{uuid}/register-authorized`); the answer as for
    /// [`register`](Self::register).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assets().register_authorized("4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn register_authorized(&self, asset_uuid: &str) -> Result<Lenient<Asset>> {
        self.get_under(asset_uuid, "register-authorized").await
    }

    /// Amounts and holder counts (`GET /assets/{uuid}/summary`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let summary = client.assets().summary("4e6c5fca-…").await?;
    /// println!("{} of {} distributed", summary.distributed, summary.issued);
    /// # Ok(()) }
    /// ```
    pub async fn summary(&self, asset_uuid: &str) -> Result<AssetSummary> {
        self.get_under(asset_uuid, "summary").await
    }

    /// Locks the asset against changes (`PUT /assets/{uuid}/lock`, 0.1.4).
    ///
    /// The answer is the asset per amp-rs; nothing official says so, hence
    /// [`Lenient`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let answer = client.assets().lock("4e6c5fca-…").await?;
    /// if let Some(asset) = answer.typed() {
    ///     assert!(asset.is_locked);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn lock(&self, asset_uuid: &str) -> Result<Lenient<Asset>> {
        let path = asset_path(asset_uuid, "lock")?;
        self.client.put_empty(&path).await
    }

    /// Unlocks the asset (`PUT /assets/{uuid}/unlock`, 0.1.4); the answer as
    /// for [`lock`](Self::lock).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assets().unlock("4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock(&self, asset_uuid: &str) -> Result<Lenient<Asset>> {
        let path = asset_path(asset_uuid, "unlock")?;
        self.client.put_empty(&path).await
    }

    /// The asset's memo (`GET /assets/{uuid}/memo`): a bare JSON string, or
    /// an object `{"memo": …}` (see [`Memo`]).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let memo = client.assets().memo("4e6c5fca-…").await?;
    /// println!("{}", memo.as_str());
    /// # Ok(()) }
    /// ```
    pub async fn memo(&self, asset_uuid: &str) -> Result<Memo> {
        self.get_under(asset_uuid, "memo").await
    }

    /// Sets the memo (`POST /assets/{uuid}/memo/set`).
    ///
    /// The body's form is UNCERTAIN (amp-api.md §3.1): amp-rs, the only
    /// client that sets memos, sends a bare JSON string, and amp-api.md
    /// only calls an object form "possible". So the memo is sent as a bare
    /// string; a caller whose server wants `{"memo": …}` can send that with
    /// [`AmpClient::send`]. The answer's shape is not documented: the
    /// memo when it reads as one (either form), else the JSON as sent.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assets().set_memo("4e6c5fca-…", "Series A, 2024").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_memo(&self, asset_uuid: &str, memo: &str) -> Result<Lenient<Memo>> {
        let path = asset_path(asset_uuid, "memo/set")?;
        self.client.post(&path, memo).await
    }

    /// Who holds the asset (`GET /assets/{uuid}/ownerships`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for o in client.assets().ownerships("4e6c5fca-…").await? {
    ///     println!("{:?} {:?} {}", o.owner, o.gaid, o.amount);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn ownerships(&self, asset_uuid: &str) -> Result<Vec<Ownership>> {
        self.get_under(asset_uuid, "ownerships").await
    }

    /// Who held the asset as of a block height
    /// (`GET /assets/{uuid}/ownerships/{height}`).
    ///
    /// Only amp-rs calls this form, appending the height as one more path
    /// segment (amp-api.md §3.1: UNCERTAIN); the answer is read as for
    /// [`ownerships`](Self::ownerships).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let then = client.assets().ownerships_at("4e6c5fca-…", 2_146_947).await?;
    /// println!("{} holders then", then.len());
    /// # Ok(()) }
    /// ```
    pub async fn ownerships_at(&self, asset_uuid: &str, height: u64) -> Result<Vec<Ownership>> {
        self.get_under(asset_uuid, &format!("ownerships/{height}"))
            .await
    }

    /// The asset's balance (`GET /assets/{uuid}/balance`): an object with
    /// `lost_outputs`, as the official script reads it (see [`AssetBalance`]).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let balance = client.assets().balance("4e6c5fca-…").await?;
    /// println!("{} lost outputs", balance.lost_outputs.len());
    /// # Ok(()) }
    /// ```
    pub async fn balance(&self, asset_uuid: &str) -> Result<AssetBalance> {
        self.get_under(asset_uuid, "balance").await
    }

    /// Outputs AMP lost track of (`GET /assets/{uuid}/lost-outputs`, 0.1.5).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let lost = client.assets().lost_outputs("4e6c5fca-…").await?;
    /// println!("{}", lost.lost_outputs.len() + lost.reissuance_lost_outputs.len());
    /// # Ok(()) }
    /// ```
    pub async fn lost_outputs(&self, asset_uuid: &str) -> Result<LostOutputs> {
        self.get_under(asset_uuid, "lost-outputs").await
    }

    /// The asset's history (`GET /assets/{uuid}/activities`), with optional
    /// paging and filters sent as a query string.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::ActivitiesQuery;
    /// let query = ActivitiesQuery { count: Some(20), sortorder: Some("desc".into()), ..Default::default() };
    /// for a in client.assets().activities("4e6c5fca-…", Some(&query)).await? {
    ///     println!("{} {}", a.kind, a.amount);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn activities(
        &self,
        asset_uuid: &str,
        query: Option<&ActivitiesQuery>,
    ) -> Result<Vec<Activity>> {
        let path = asset_path(asset_uuid, "activities")?;
        self.client.get_with_query(&path, query).await
    }
}
