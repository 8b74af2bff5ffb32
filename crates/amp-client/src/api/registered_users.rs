//! Registered users: `client.registered_users()` (amp-api.md §3.3).

use serde_json::json;

use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{
    Lenient, NewRegisteredUser, OneOrMany, RegisteredUser, RegisteredUserSummary, UserGaid,
};

/// The issuer's registered users (named "investors" before 0.1.7), from
/// [`AmpClient::registered_users`].
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// use amp_client::model::NewRegisteredUser;
/// let users = client.registered_users();
/// let alice = users.add(&NewRegisteredUser::new("Alice")).await?;
/// users.edit(alice.id, "Alice Example").await?;
/// users.delete(alice.id).await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RegisteredUsers<'a> {
    client: &'a AmpClient,
}

impl AmpClient {
    /// The registered users handler.
    pub fn registered_users(&self) -> RegisteredUsers<'_> {
        RegisteredUsers { client: self }
    }
}

impl RegisteredUsers<'_> {
    /// Every registered user (`GET /registered_users/`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for u in client.registered_users().list().await? {
    ///     println!("{} {} {:?}", u.id, u.name, u.gaid);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list(&self) -> Result<Vec<RegisteredUser>> {
        self.client.get("registered_users/").await
    }

    /// One registered user (`GET /registered_users/{id}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let user = client.registered_users().get(12).await?;
    /// println!("{}", user.name);
    /// # Ok(()) }
    /// ```
    pub async fn get(&self, id: i64) -> Result<RegisteredUser> {
        let path = format!("registered_users/{id}");
        self.client.get(&path).await
    }

    /// Registers a user (`POST /registered_users/add` with
    /// `{"name", "GAID", "is_company"}`); AMP answers 201 with the user.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::NewRegisteredUser;
    /// let corp = NewRegisteredUser::new("Example Corp").gaid("GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf").company(true);
    /// let user = client.registered_users().add(&corp).await?;
    /// println!("registered as {}", user.id);
    /// # Ok(()) }
    /// ```
    pub async fn add(&self, user: &NewRegisteredUser) -> Result<RegisteredUser> {
        self.client.post("registered_users/add", user).await
    }

    /// Renames a user (`PUT /registered_users/{id}/edit` with `{"name"}`).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// let user = client.registered_users().edit(12, "Alice Example").await?;
    /// assert_eq!(user.name, "Alice Example");
    /// # Ok(()) }
    /// ```
    pub async fn edit(&self, id: i64, name: &str) -> Result<RegisteredUser> {
        let path = format!("registered_users/{id}/edit");
        let body = json!({ "name": name });
        self.client.put(&path, &body).await
    }

    /// Deletes a user (`DELETE /registered_users/{id}/delete`; AMP answers 204).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.registered_users().delete(12).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete(&self, id: i64) -> Result<()> {
        let path = format!("registered_users/{id}/delete");
        self.client.delete_ignored(&path).await
    }

    /// What the user was assigned, was sent and holds
    /// (`GET /registered_users/{id}/summary`).
    ///
    /// amp-rs reads one summary object; the answer may really be one per
    /// asset (amp-api.md §3.3, UNCERTAIN). Both are read, as a list: one
    /// object becomes a list of one.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for s in client.registered_users().summary(12).await? {
    ///     println!("{:?}: balance {}", s.asset_uuid, s.balance);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn summary(&self, id: i64) -> Result<Vec<RegisteredUserSummary>> {
        let path = format!("registered_users/{id}/summary");
        let answer: OneOrMany<_> = self.client.get(&path).await?;
        Ok(answer.into_vec())
    }

    /// The user's GAIDs (`GET /registered_users/{id}/gaids`): bare strings
    /// per amp-rs, or objects (see [`UserGaid`]).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// for g in client.registered_users().gaids(12).await? {
    ///     println!("{}", g.gaid);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn gaids(&self, id: i64) -> Result<Vec<UserGaid>> {
        let path = format!("registered_users/{id}/gaids");
        self.client.get(&path).await
    }

    /// Adds a GAID to the user (`POST /registered_users/{id}/gaids/add`).
    ///
    /// The body's form is UNCERTAIN (amp-api.md §3.3): the Blockstream AMP
    /// CLI sends `{"GAID": …}`, amp-rs a bare JSON string, and amp-api.md
    /// recommends that servers accept both. This client sends the CLI's
    /// object form: it is the one written against the live API by a third
    /// party, and it names its field. A server that wants the bare string
    /// can be called with [`AmpClient::send`]. The answer's shape is not
    /// documented: the user when it reads as one, else the JSON as sent.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.registered_users().add_gaid(12, "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_gaid(&self, id: i64, gaid: &str) -> Result<Lenient<RegisteredUser>> {
        let path = format!("registered_users/{id}/gaids/add");
        let body = json!({ "GAID": gaid });
        self.client.post(&path, &body).await
    }

    /// Makes one of the user's GAIDs the default
    /// (`POST /registered_users/{id}/gaids/set-default`); body and answer as
    /// for [`add_gaid`](Self::add_gaid).
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// client.registered_users().set_default_gaid(12, "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_default_gaid(&self, id: i64, gaid: &str) -> Result<Lenient<RegisteredUser>> {
        let path = format!("registered_users/{id}/gaids/set-default");
        let body = json!({ "GAID": gaid });
        self.client.post(&path, &body).await
    }
}
