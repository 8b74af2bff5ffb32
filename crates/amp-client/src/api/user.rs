//! The caller's own account: `client.user()` (amp-api.md §1.1).

use secrecy::SecretString;

use crate::client::AmpClient;
use crate::error::Result;
use crate::model::{PasswordChange, PasswordChanged};

/// The account the client logs in as, from [`AmpClient::user`].
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// use amp_client::model::SecretString;
/// client.user().change_password(SecretString::from("a new passphrase")).await?;
/// // Later calls keep working: the client logs in with the new password.
/// client.assets().list().await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct User<'a> {
    client: &'a AmpClient,
}

impl AmpClient {
    /// The handler of the caller's own account.
    pub fn user(&self) -> User<'_> {
        User { client: self }
    }
}

impl User<'_> {
    /// Changes the password of the account the client logs in as
    /// (`POST /user/change-password` with `{"password": <new>}`, 0.1.5).
    ///
    /// The path is the changelog's and the Blockstream AMP CLI's (amp-rs's
    /// `user/change_password` with an underscore disagrees with both). The
    /// answer may carry a new token (amp-rs reads `{"username", "password",
    /// "token"}`, amp-api.md §1.1, UNCERTAIN). The client keeps both: the
    /// token manager installs the new token, if any, and logs in with the new
    /// password from then on, so the caller never handles either.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::model::SecretString;
    /// client.user().change_password(SecretString::from("a new passphrase")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn change_password(&self, password: SecretString) -> Result<()> {
        let manager = self.client.token_manager();
        let answer: PasswordChanged = {
            let _scrubbed = manager.password_pending(&password);
            let body = PasswordChange {
                password: &password,
            };
            self.client
                .post_sensitive("user/change-password", &body)
                .await?
        };
        manager.password_changed(password, answer.token).await
    }
}
