//! The JSON shapes of AMP resources (amp-api.md §3.7).
//!
//! Every type tolerates unknown fields, and fields that AMP marks nullable or
//! that older API versions lack are `Option` or default, so an answer from a
//! newer or older server still parses.

use serde::{Deserialize, Serialize};

/// `GET /info`: the API version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Info {
    /// The API version, e.g. `0.1.13`.
    pub version: String,
    /// Free text.
    #[serde(default)]
    pub notes: Option<String>,
}

/// An asset issued on AMP.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asset {
    /// The asset's name.
    pub name: String,
    /// AMP's id of the asset.
    pub asset_uuid: String,
    /// The issuer's id.
    #[serde(default)]
    pub issuer: Option<i64>,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// The reissuance token id, for reissuable assets.
    #[serde(default)]
    pub reissuance_token_id: Option<String>,
    /// Category ids a holder must belong to.
    #[serde(default)]
    pub requirements: Vec<i64>,
    /// The ticker.
    #[serde(default)]
    pub ticker: Option<String>,
    /// Decimal places.
    #[serde(default)]
    pub precision: Option<u32>,
    /// The issuer's domain.
    #[serde(default)]
    pub domain: Option<String>,
    /// The issuer's public key.
    #[serde(default)]
    pub pubkey: Option<String>,
    /// Registered in the asset registry.
    #[serde(default)]
    pub is_registered: bool,
    /// Authorized by the issuer.
    #[serde(default)]
    pub is_authorized: bool,
    /// Locked against changes.
    #[serde(default)]
    pub is_locked: bool,
    /// Where transfers are authorized.
    #[serde(default)]
    pub issuer_authorization_endpoint: Option<String>,
    /// Transfers need authorization.
    #[serde(default)]
    pub transfer_restricted: bool,
}
