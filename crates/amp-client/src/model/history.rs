//! An asset's history: activities and transactions (amp-api.md §3.1, §3.7).

use serde::{Deserialize, Serialize};

/// One event in an asset's history (`GET /assets/{uuid}/activities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activity {
    /// What happened, e.g. `issuance`, `distribution` (JSON key `type`).
    #[serde(rename = "type", default)]
    pub kind: String,
    /// When, as AMP writes it.
    #[serde(default)]
    pub datetime: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// The transaction.
    #[serde(default)]
    pub txid: Option<String>,
    /// The output.
    #[serde(default)]
    pub vout: Option<u32>,
    /// The block height.
    #[serde(default)]
    pub blockheight: Option<i64>,
    /// The asset blinder (hex).
    #[serde(default)]
    pub asset_blinder: Option<String>,
    /// The amount blinder (hex).
    #[serde(default)]
    pub amount_blinder: Option<String>,
    /// The registered user concerned. The JSON key has a space:
    /// `"registered user"` (per amp-rs).
    #[serde(rename = "registered user", default)]
    pub registered_user: Option<i64>,
    /// Amount (in base units).
    #[serde(default)]
    pub amount: i64,
}

/// Paging and filters of [`Assets::activities`](crate::api::Assets::activities)
/// and [`Assets::txs`](crate::api::Assets::txs) (amp-rs's `AssetActivityParams`
/// and `AssetTransactionParams`, which have the same six fields), sent as a
/// query string; fields left `None` are not sent.
///
/// ```
/// use amp_client::model::ActivitiesQuery;
/// let query = ActivitiesQuery { count: Some(50), sortorder: Some("desc".into()), ..Default::default() };
/// # let _ = query;
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ActivitiesQuery {
    /// Index of the first activity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<u64>,
    /// How many activities at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    // The fields go on the wire in this order (numbers, then texts).
    /// Lowest block height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_start: Option<u64>,
    /// Highest block height.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height_stop: Option<u64>,
    /// The field to sort by.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sortcolumn: Option<String>,
    /// `asc` or `desc`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sortorder: Option<String>,
}

/// The query of [`Assets::txs`](crate::api::Assets::txs): the same paging and
/// filters as activities.
pub type TxsQuery = ActivitiesQuery;

/// One transaction of an asset (`GET /assets/{uuid}/txs`, 0.1.10).
///
/// amp-api.md gives no shape; the fields are amp-rs's `AssetTransaction`.
/// Everything but the txid defaults when absent, so a different answer still
/// parses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AssetTransaction {
    /// Transaction id (hex).
    pub txid: String,
    /// When, as AMP writes it.
    #[serde(default)]
    pub datetime: Option<String>,
    /// The block height.
    #[serde(default)]
    pub blockheight: Option<i64>,
    /// An issuance.
    #[serde(default)]
    pub is_issuance: bool,
    /// A reissuance.
    #[serde(default)]
    pub is_reissuance: bool,
    /// A distribution.
    #[serde(default)]
    pub is_distribution: bool,
    /// The inputs of the asset it spends.
    #[serde(default)]
    pub inputs: Vec<AssetTransactionInput>,
    /// The outputs of the asset it creates.
    #[serde(default)]
    pub outputs: Vec<AssetTransactionOutput>,
    /// A block explorer link that unblinds it.
    #[serde(default)]
    pub unblinded_url: Option<String>,
}

/// One input of an [`AssetTransaction`] (amp-rs's `AssetTransactionInput`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AssetTransactionInput {
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Input index.
    #[serde(default)]
    pub vin: Option<u32>,
    /// The spent output's transaction.
    #[serde(default)]
    pub prev_txid: Option<String>,
    /// The spent output's index.
    #[serde(default)]
    pub prev_vout: Option<u32>,
    /// Amount (in base units).
    #[serde(default)]
    pub amount: i64,
    /// The asset blinder (hex).
    #[serde(default)]
    pub asset_blinder: Option<String>,
    /// The amount blinder (hex).
    #[serde(default)]
    pub amount_blinder: Option<String>,
    /// The registered user it belonged to.
    #[serde(default)]
    pub registered_user: Option<i64>,
    /// The GAID it belonged to (JSON key `GAID`).
    #[serde(rename = "GAID", default)]
    pub gaid: Option<String>,
    /// Held by the issuer's treasury.
    #[serde(default)]
    pub is_treasury: bool,
}

/// One output of an [`AssetTransaction`] (amp-rs's `AssetTransactionOutput`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AssetTransactionOutput {
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Output index.
    #[serde(default)]
    pub vout: Option<u32>,
    /// Amount (in base units).
    #[serde(default)]
    pub amount: i64,
    /// The asset blinder (hex); empty or absent when AMP lacks it, which is
    /// what [`Assets::update_blinders`](crate::api::Assets::update_blinders)
    /// mends.
    #[serde(default)]
    pub asset_blinder: Option<String>,
    /// The amount blinder (hex).
    #[serde(default)]
    pub amount_blinder: Option<String>,
    /// The registered user it belongs to.
    #[serde(default)]
    pub registered_user: Option<i64>,
    /// The GAID it belongs to (JSON key `GAID`).
    #[serde(rename = "GAID", default)]
    pub gaid: Option<String>,
    /// Held by the issuer's treasury.
    #[serde(default)]
    pub is_treasury: bool,
    /// Spent since.
    #[serde(default)]
    pub is_spent: bool,
    /// Burned.
    #[serde(default)]
    pub is_burnt: bool,
}
