//! Managers: `client.managers()` (0.1.5, amp-api.md §3.6).

use secrecy::SecretString;

use crate::api::segment;
use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{Lenient, Manager, NewManager, PasswordChange, PasswordChanged};

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

    /// Creates a manager (`POST /managers/create` with
    /// `{"username", "password"}`). AMP creates it locked (the Blockstream
    /// AMP CLI unlocks it next) and, the CLI notes, allows one manager per
    /// issuer at present.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::NewManager;
    /// let m = client.managers().create(&NewManager::new("fund-manager", "a long passphrase")).await?;
    /// client.managers().unlock(m.id).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create(&self, manager: &NewManager) -> Result<Manager> {
        self.client.post("managers/create", manager).await
    }

    /// Locks a manager out (`PUT /managers/{id}/lock`).
    ///
    /// The CLI prints the answer as the manager; amp-rs reads none (its mock
    /// answers an empty 200), hence [`Lenient`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.managers().lock(4).await?;
    /// # Ok(()) }
    /// ```
    pub async fn lock(&self, id: i64) -> Result<Lenient<Manager>> {
        self.client.put_empty(&format!("managers/{id}/lock")).await
    }

    /// Lets a manager log in again (`PUT /managers/{id}/unlock`); the answer
    /// as for [`lock`](Self::lock).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.managers().unlock(4).await?;
    /// # Ok(()) }
    /// ```
    pub async fn unlock(&self, id: i64) -> Result<Lenient<Manager>> {
        self.client
            .put_empty(&format!("managers/{id}/unlock"))
            .await
    }

    /// Lets a manager act on an asset (`PUT /managers/{id}/assets/{assetUuid}/add`).
    /// The CLI prints the answer, amp-rs reads none: [`Lenient`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.managers().add_asset(4, "4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_asset(&self, id: i64, asset_uuid: &str) -> Result<Lenient<Manager>> {
        let path = format!("managers/{id}/assets/{}/add", segment(asset_uuid)?);
        self.client.put_empty(&path).await
    }

    /// Stops a manager acting on an asset
    /// (`POST /managers/{id}/assets/{assetUuid}/remove`).
    ///
    /// The method is amp-rs's, the only client that calls this route; `PUT`
    /// would match `add`, and amp-api.md §3.6 marks it UNCERTAIN. A server
    /// that wants `PUT` can be called with [`AmpClient::send`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.managers().remove_asset(4, "4e6c5fca-…").await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_asset(&self, id: i64, asset_uuid: &str) -> Result<Lenient<Manager>> {
        let path = format!("managers/{id}/assets/{}/remove", segment(asset_uuid)?);
        self.client.post_empty(&path).await
    }

    /// Sets a manager's password (`POST /managers/{id}/change-password` with
    /// `{"password"}`), as the issuer acting on its manager.
    ///
    /// The answer may hold a new token for the manager (amp-rs reads
    /// `{"username", "password", "token"}`; see [`PasswordChanged`]). It is
    /// the manager's, not this client's, so it is handed to the caller, in
    /// a [`SecretString`].
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::SecretString;
    /// let answer = client.managers().change_password(4, SecretString::from("a new passphrase")).await?;
    /// println!("changed for {:?}", answer.username);
    /// # Ok(()) }
    /// ```
    pub async fn change_password(
        &self,
        id: i64,
        password: SecretString,
    ) -> Result<PasswordChanged> {
        let path = format!("managers/{id}/change-password");
        let _scrubbed = self.client.token_manager().password_pending(&password);
        let body = PasswordChange {
            password: &password,
        };
        self.client.post_sensitive(&path, &body).await
    }
}
