//! GAIDs: `client.gaids()` (amp-api.md §3.5).

use serde::de::DeserializeOwned;

use crate::api::segment;
use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{GaidAddress, GaidBalance, GaidValidation, OneOrMany, RegisteredUser};

/// Questions about a GAID (a Green account id), from [`AmpClient::gaids`].
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// let gaid = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";
/// if client.gaids().validate(gaid).await?.is_valid {
///     println!("{:?}", client.gaids().address(gaid).await?.address);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Gaids<'a> {
    client: &'a AmpClient,
}

impl AmpClient {
    /// The GAIDs handler.
    pub fn gaids(&self) -> Gaids<'_> {
        Gaids { client: self }
    }
}

impl Gaids<'_> {
    /// `GET /gaids/{gaid}/{what}`, the GAID checked as one path segment.
    async fn get<T: DeserializeOwned>(&self, gaid: &str, what: &str) -> Result<T> {
        let path = format!("gaids/{}/{what}", segment(gaid)?);
        self.client.get(&path).await
    }

    /// Whether AMP accepts the GAID (`GET /gaids/{gaid}/validate`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let v = client.gaids().validate("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").await?;
    /// println!("{} {:?}", v.is_valid, v.error);
    /// # Ok(()) }
    /// ```
    pub async fn validate(&self, gaid: &str) -> Result<GaidValidation> {
        self.get(gaid, "validate").await
    }

    /// An address of the GAID's account (`GET /gaids/{gaid}/address`, 0.1.4).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let a = client.gaids().address("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").await?;
    /// println!("{}", a.address.unwrap_or_default());
    /// # Ok(()) }
    /// ```
    pub async fn address(&self, gaid: &str) -> Result<GaidAddress> {
        self.get(gaid, "address").await
    }

    /// The registered user the GAID belongs to
    /// (`GET /gaids/{gaid}/registered_user`; `/investor` before 0.1.7).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let user = client.gaids().registered_user("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").await?;
    /// println!("{} {}", user.id, user.name);
    /// # Ok(()) }
    /// ```
    pub async fn registered_user(&self, gaid: &str) -> Result<RegisteredUser> {
        self.get(gaid, "registered_user").await
    }

    /// What the GAID holds, per asset (`GET /gaids/{gaid}/balance`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for b in client.gaids().balance("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").await? {
    ///     println!("{:?} {}", b.asset_uuid, b.balance);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn balance(&self, gaid: &str) -> Result<Vec<GaidBalance>> {
        self.get(gaid, "balance").await
    }

    /// What the GAID holds of one asset
    /// (`GET /gaids/{gaid}/balance/{assetUuid}`).
    ///
    /// amp-rs reads one `{asset_uuid, asset_id, balance}` object; the
    /// single-asset form is UNCERTAIN (amp-api.md §3.5), so a list like the
    /// all-assets answer is read too: its entry for the asset (or its only
    /// entry without an `asset_uuid`), and a zero balance when it has none.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let b = client.gaids().asset_balance("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz", "4e6c5fca-…").await?;
    /// println!("{}", b.balance);
    /// # Ok(()) }
    /// ```
    pub async fn asset_balance(&self, gaid: &str, asset_uuid: &str) -> Result<GaidBalance> {
        let what = format!("balance/{}", segment(asset_uuid)?);
        let answer: OneOrMany<GaidBalance> = self.get(gaid, &what).await?;
        let entries = match answer {
            OneOrMany::One(entry) => return Ok(entry),
            OneOrMany::Many(entries) => entries,
        };
        let anonymous = entries.len() == 1 && entries[0].asset_uuid.is_none();
        let found = entries
            .into_iter()
            .find(|e| anonymous || e.asset_uuid.as_deref() == Some(asset_uuid));
        Ok(found.unwrap_or(GaidBalance {
            asset_uuid: Some(asset_uuid.to_string()),
            asset_id: None,
            balance: 0,
        }))
    }
}
