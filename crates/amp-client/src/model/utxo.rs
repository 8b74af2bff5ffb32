//! Transaction outputs of an asset: the outpoints AMP names and the UTXOs it
//! tracks (amp-api.md §3.1, §3.7).

use serde::{Deserialize, Serialize};

/// One transaction output: `{"txid", "vout"}`. The body of
/// [`Assets::blacklist_utxos`](crate::api::Assets::blacklist_utxos) is a list
/// of them.
///
/// ```
/// use amp_client::model::Outpoint;
/// let o = Outpoint::new("a1b2", 1);
/// assert_eq!(serde_json::to_value(&o)?, serde_json::json!({"txid": "a1b2", "vout": 1}));
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Outpoint {
    /// Transaction id (hex).
    pub txid: String,
    /// Output index.
    pub vout: u32,
}

impl Outpoint {
    /// The output `vout` of transaction `txid`.
    pub fn new(txid: impl Into<String>, vout: u32) -> Self {
        Outpoint {
            txid: txid.into(),
            vout,
        }
    }
}

/// An unspent output of an asset (`GET /assets/{uuid}/utxos`).
///
/// The fields are amp-rs's (amp-api.md §3.7 "Utxo"); nothing official shows
/// them, so all but the outpoint default when absent. amp-rs spells the GAID
/// key in lower case (`gaid`), unlike every other resource; both spellings
/// are read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Utxo {
    /// Transaction id (hex).
    pub txid: String,
    /// Output index.
    pub vout: u32,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset: Option<String>,
    /// Amount (in base units).
    #[serde(default)]
    pub amount: i64,
    /// The registered user holding it, if known.
    #[serde(default)]
    pub registered_user: Option<i64>,
    /// The GAID holding it, if known (JSON key `gaid`, or `GAID`).
    #[serde(default, alias = "GAID")]
    pub gaid: Option<String>,
    /// Blacklisted: AMP will not authorize spending it.
    #[serde(default)]
    pub blacklisted: bool,
}
