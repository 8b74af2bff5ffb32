//! Managers: `client.managers()` (0.1.5, amp-api.md §3.6).

use crate::client::AmpClient;
use crate::error::Result;
use crate::model::Manager;

/// The issuer's manager accounts, from [`AmpClient::managers`].
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// for m in client.managers().list().await? {
///     println!("{} {} locked={}", m.id, m.username, m.is_locked);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Managers<'a> {
    client: &'a AmpClient,
}

impl AmpClient {
    /// The managers handler.
    pub fn managers(&self) -> Managers<'_> {
        Managers { client: self }
    }
}

impl Managers<'_> {
    /// Every manager of the issuer (`GET /managers/`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let managers = client.managers().list().await?;
    /// println!("{} managers", managers.len());
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<Manager>> {
        self.client.get("managers/").await
    }

    /// One manager (`GET /managers/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let m = client.managers().get(4).await?;
    /// println!("{} holds {} assets", m.username, m.assets.len());
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: i64) -> Result<Manager> {
        let path = format!("managers/{id}");
        self.client.get(&path).await
    }

    /// The manager the client is logged in as (`GET /managers/me`). Only a
    /// manager's login has one: for an issuer's login AMP answers with an
    /// error status.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let me = client.managers().me().await?;
    /// println!("logged in as manager {}", me.username);
    /// # Ok(()) }
    /// ```
    pub async fn me(&self) -> Result<Manager> {
        self.client.get("managers/me").await
    }
}
