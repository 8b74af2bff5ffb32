//! Assets: `client.assets()` (amp-api.md §3.1, §3.2).

use crate::api::segment;
use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{
    ActivitiesQuery, Activity, Asset, AssetBalance, AssetSummary, Assignment, Lenient, LostOutputs,
    Memo, Ownership,
};

/// The assets of the issuer, from [`AmpClient::assets`].
///
/// Issuance, reissuance, burn and distribution need a wallet and are not here;
/// [`AmpClient::request`] reaches them.
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
    client: &'a AmpClient,
}

impl AmpClient {
    /// The assets handler.
    pub fn assets(&self) -> Assets<'_> {
        Assets { client: self }
    }
}

impl Assets<'_> {
    /// `GET` on `assets/{uuid}/{rest}` (or `assets/{uuid}` for an empty `rest`).
    async fn get_under<T: serde::de::DeserializeOwned>(
        &self,
        asset_uuid: &str,
        rest: &str,
    ) -> Result<T> {
        let path = under(asset_uuid, rest)?;
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
        let path = under(asset_uuid, "lock")?;
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
        let path = under(asset_uuid, "unlock")?;
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

    /// Sets the memo (`POST /assets/{uuid}/memo/set`), sending it as a bare
    /// JSON string as amp-rs does. The answer's shape is not documented: the
    /// memo when it reads as one, else the JSON as sent.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.assets().set_memo("4e6c5fca-…", "Series A, 2024").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_memo(&self, asset_uuid: &str, memo: &str) -> Result<Lenient<Memo>> {
        let path = under(asset_uuid, "memo/set")?;
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
        let mut path = under(asset_uuid, "activities")?;
        let query = query
            .map(ActivitiesQuery::to_query_string)
            .unwrap_or_default();
        if !query.is_empty() {
            path = format!("{path}?{query}");
        }
        self.client.get(&path).await
    }

    /// The asset's assignments (`GET /assets/{uuid}/assignments`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let pending = client.assets().assignments("4e6c5fca-…").await?
    ///     .into_iter()
    ///     .filter(|a| !a.is_distributed)
    ///     .count();
    /// println!("{pending} to distribute");
    /// # Ok(()) }
    /// ```
    pub async fn assignments(&self, asset_uuid: &str) -> Result<Vec<Assignment>> {
        self.get_under(asset_uuid, "assignments").await
    }

    /// One assignment (`GET /assets/{uuid}/assignments/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let a = client.assets().assignment("4e6c5fca-…", 7).await?;
    /// println!("{} to user {:?}", a.amount, a.registered_user);
    /// # Ok(()) }
    /// ```
    pub async fn assignment(&self, asset_uuid: &str, assignment_id: i64) -> Result<Assignment> {
        self.get_under(asset_uuid, &format!("assignments/{assignment_id}"))
            .await
    }
}

/// `assets/{uuid}/{rest}`, the uuid checked as one path segment; `rest` is
/// ours, never the caller's.
fn under(asset_uuid: &str, rest: &str) -> Result<String> {
    let uuid = segment(asset_uuid)?;
    Ok(if rest.is_empty() {
        format!("assets/{uuid}")
    } else {
        format!("assets/{uuid}/{rest}")
    })
}
