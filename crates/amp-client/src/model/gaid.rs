//! GAIDs: Green account ids (amp-api.md §3.5).

use serde::{Deserialize, Serialize};

/// `GET /gaids/{gaid}/validate`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaidValidation {
    /// Whether AMP knows the GAID as a valid Green account.
    pub is_valid: bool,
    /// Why not, when it is not.
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /gaids/{gaid}/address` (0.1.4): an address of the GAID's account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaidAddress {
    /// The address; absent when AMP reports an error instead.
    #[serde(default)]
    pub address: Option<String>,
    /// Why there is no address.
    #[serde(default)]
    pub error: Option<String>,
}

/// One entry of `GET /gaids/{gaid}/balance`: what the GAID holds of an asset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GaidBalance {
    /// The asset's AMP id.
    #[serde(default)]
    pub asset_uuid: Option<String>,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Amount held (in base units).
    #[serde(default)]
    pub balance: i64,
}
