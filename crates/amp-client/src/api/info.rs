//! `GET /info` and `GET /changelog`.

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
}
