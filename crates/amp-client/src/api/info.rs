//! `GET /info` and `GET /changelog`.

use std::collections::BTreeMap;

use reqwest::Method;

use crate::client::AmpClient;
use crate::error::Result;
use crate::model::Info;

impl AmpClient {
    /// The API version (`GET /info`, which needs no token).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// println!("AMP {}", client.info().await?.version);
    /// # Ok(()) }
    /// ```
    pub async fn info(&self) -> Result<Info> {
        self.call_anonymous(Method::GET, "info").await
    }

    /// The API's changelog (`GET /changelog`): version → what changed.
    ///
    /// Sent with the token (whether AMP needs it is not documented). The map
    /// orders versions as strings, so `0.1.10` comes before `0.1.2`.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for (version, text) in client.changelog().await? {
    ///     println!("{version}: {text}");
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn changelog(&self) -> Result<BTreeMap<String, String>> {
        self.get("changelog").await
    }
}
