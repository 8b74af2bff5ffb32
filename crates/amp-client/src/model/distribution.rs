//! Distributions: the transactions that send assigned amounts to registered
//! users, and the confirmations the treasury sends back (amp-api.md §3.1,
//! §3.7; request and answer shapes beyond §3.7 are amp-rs's and the official
//! `blockstream-amp-confirm.py`'s).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

/// A distribution of an asset (`GET /assets/{uuid}/distributions`,
/// amp-api.md §3.7).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Distribution {
    /// The distribution's id.
    #[serde(default)]
    pub distribution_uuid: Option<String>,
    /// `UNCONFIRMED` or `CONFIRMED`.
    #[serde(default)]
    pub distribution_status: Option<String>,
    /// Its transactions.
    #[serde(default)]
    pub transactions: Vec<DistributionTransaction>,
}

/// One transaction of a [`Distribution`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DistributionTransaction {
    /// Transaction id (hex).
    #[serde(default)]
    pub txid: Option<String>,
    /// Its status.
    #[serde(default)]
    pub transaction_status: Option<String>,
    /// The block that holds it.
    #[serde(default)]
    pub included_blockheight: Option<i64>,
    /// When it was confirmed, as AMP writes it.
    #[serde(default)]
    pub confirmed_datetime: Option<String>,
    /// What it paid to whom.
    #[serde(default)]
    pub assignments: Vec<DistributionAssignment>,
}

/// One payment in a [`DistributionTransaction`].
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DistributionAssignment {
    /// The registered user paid.
    #[serde(default)]
    pub registered_user: Option<i64>,
    /// Amount (in base units).
    #[serde(default)]
    pub amount: i64,
    /// The output.
    #[serde(default)]
    pub vout: Option<u32>,
}

/// The answer of [`Distributions::create`](crate::api::Distributions::create):
/// what the treasury must send, to be saved as the file the official
/// `blockstream-amp-confirm.py distribute` reads.
///
/// The fields are amp-rs's `DistributionResponse` (`distribution_uuid`,
/// `map_address_amount`, `map_address_asset`, `asset_id`) plus those the
/// official script reads from the same file (`command`,
/// `min_supported_client_script_version`, `base_url`, `asset_uuid`). Every
/// other key is kept in `extra`, so serializing this value gives back the
/// whole file.
///
/// The amounts of `map_address_amount` go unchanged to the Elements node's
/// `sendmany`, which counts in whole coins: they may be fractional (amp-rs
/// reads them as `f64`). They are kept as the JSON numbers AMP wrote, never
/// converted, so nothing is lost or rounded on the way to the node.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct DistributionResponse {
    /// The distribution's id.
    pub distribution_uuid: String,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Address → amount to send there (in the node's whole-coin units).
    #[serde(default)]
    pub map_address_amount: BTreeMap<String, Number>,
    /// Address → the asset id to send there.
    #[serde(default)]
    pub map_address_asset: BTreeMap<String, String>,
    /// The script command, `distribute`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The oldest script version that may carry it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_supported_client_script_version: Option<i64>,
    /// The API root the script confirms to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    /// The asset's AMP id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_uuid: Option<String>,
    /// Every other key of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of [`Distributions::confirm`](crate::api::Distributions::confirm)
/// and [`Assets::burn_confirm`](crate::api::Assets::burn_confirm):
/// `{"tx_data": {"txid", "details"?}, "change_data": [...]}`.
///
/// The shape is the official `blockstream-amp-confirm.py`'s (and amp-rs's
/// `ConfirmDistributionRequest` / `BurnConfirmRequest`): `details` is the
/// node's `gettransaction` details (a burn sends none), `change_data` the
/// node's `listunspent` entries of the new change of the asset. Both are the
/// node's own JSON, passed through as they are.
///
/// ```
/// use amp_client::model::TxConfirmation;
/// let c = TxConfirmation::new("a1b2").details(serde_json::json!([{"category": "send"}]));
/// assert_eq!(
///     serde_json::to_value(&c)?,
///     serde_json::json!({"tx_data": {"txid": "a1b2", "details": [{"category": "send"}]}, "change_data": []}),
/// );
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TxConfirmation {
    /// The transaction.
    pub tx_data: TxData,
    /// The node's `listunspent` entries of the transaction's change.
    #[serde(default)]
    pub change_data: Vec<Value>,
}

/// The transaction in a [`TxConfirmation`] (amp-rs's `AmpTxData`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TxData {
    /// Transaction id (hex).
    pub txid: String,
    /// The node's `gettransaction` details; not sent when `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<Value>,
}

impl TxConfirmation {
    /// A confirmation of `txid`, without details or change.
    pub fn new(txid: impl Into<String>) -> Self {
        TxConfirmation {
            tx_data: TxData {
                txid: txid.into(),
                details: None,
            },
            change_data: Vec::new(),
        }
    }

    /// With the node's `gettransaction` details.
    pub fn details(mut self, details: Value) -> Self {
        self.tx_data.details = Some(details);
        self
    }

    /// With the node's `listunspent` entries of the change.
    pub fn change(mut self, change_data: Vec<Value>) -> Self {
        self.change_data = change_data;
        self
    }
}
