//! Managers: accounts an issuer lets act on some of its assets (0.1.5,
//! amp-api.md §3.6).

use serde::{Deserialize, Serialize};

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
