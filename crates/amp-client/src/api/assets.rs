//! Assets: `client.assets()`.

use reqwest::Method;

use crate::client::AmpClient;
use crate::error::Result;
use crate::model::Asset;

/// The assets of the issuer, from [`AmpClient::assets`].
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
    /// Every asset (`GET /assets/`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let assets = client.assets().list().await?;
    /// println!("{} assets", assets.len());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Asset>> {
        self.client
            .call::<_, ()>(Method::GET, "assets/", None)
            .await
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
        let path = format!("assets/{}", crate::api::segment(asset_uuid)?);
        self.client.call::<_, ()>(Method::GET, &path, None).await
    }
}
