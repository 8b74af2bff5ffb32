//! Managers: accounts an issuer lets act on some of its assets (0.1.5,
//! amp-api.md §3.6).

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::user::expose;

/// A manager account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manager {
    /// The id AMP assigned.
    pub id: i64,
    /// The login name.
    pub username: String,
    /// Locked: cannot log in (new managers start locked).
    #[serde(default)]
    pub is_locked: bool,
    /// Uuids of the assets it may act on.
    #[serde(default)]
    pub assets: Vec<String>,
}

/// The body of [`Managers::create`](crate::api::Managers::create):
/// `{"username", "password"}`.
///
/// The password is a [`SecretString`]: never in `Debug`, wiped on drop.
///
/// ```
/// use amp_client::model::NewManager;
/// let m = NewManager::new("fund-manager", "correct horse battery staple");
/// assert!(!format!("{m:?}").contains("horse"));
/// assert_eq!(serde_json::to_value(&m)?["password"], "correct horse battery staple");
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, Serialize)]
pub struct NewManager {
    /// The login name.
    pub username: String,
    /// The password.
    #[serde(serialize_with = "expose")]
    pub password: SecretString,
}

impl NewManager {
    /// A manager with this login name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        NewManager {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }
}
