//! Changing an asset's supply: reissuance and burn, each a request that
//! tells the treasury what to do and a confirmation of what it did.
//!
//! amp-api.md names the routes but gives no shapes; the fields here are
//! amp-rs's (`ReissueRequest`, `ReissueRequestResponse`,
//! `ReissueConfirmRequest`, `ReissueResponse`, `Reissuance`, `BurnRequest`,
//! `BurnCreate`), checked against what the official
//! `blockstream-amp-confirm.py` reads from the request answers.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::Outpoint;

/// The answer of [`Assets::reissue_request`](crate::api::Assets::reissue_request):
/// the file the official `blockstream-amp-confirm.py reissue` reads.
///
/// `amount` goes unchanged to the Elements node's `reissueasset`, which
/// counts in whole coins, so it may be fractional (amp-rs reads it as
/// `f64`): it is kept as the JSON number AMP wrote, never converted. Every
/// key beyond these is kept in `extra`, so serializing this value gives back
/// the whole file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReissueRequestResponse {
    /// The script command, `reissue`.
    #[serde(default)]
    pub command: Option<String>,
    /// The oldest script version that may carry it out.
    #[serde(default)]
    pub min_supported_client_script_version: Option<i64>,
    /// The API root the script confirms to.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The asset's AMP id.
    #[serde(default)]
    pub asset_uuid: Option<String>,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Amount to reissue, in the node's whole-coin units.
    #[serde(default)]
    pub amount: Option<Number>,
    /// The outputs holding the reissuance tokens the node must spend.
    #[serde(default)]
    pub reissuance_utxos: Vec<Outpoint>,
    /// Every other key of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of [`Assets::reissue_confirm`](crate::api::Assets::reissue_confirm):
/// what the node did, as `blockstream-amp-confirm.py` sends it.
///
/// `details` is the node's `gettransaction` details of the reissuance,
/// `listissuances` its `listissuances` entries for that transaction, both
/// passed through as the node wrote them.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ReissueConfirm {
    /// The node's `gettransaction` details.
    pub details: Value,
    /// The node's `listissuances` entries of the transaction.
    pub listissuances: Vec<Value>,
    /// The reissuance: the node's `reissueasset` answer.
    pub reissuance_output: ReissuanceOutput,
}

/// The node's `reissueasset` answer: `{"txid", "vin"}`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReissuanceOutput {
    /// The reissuance transaction (hex).
    pub txid: String,
    /// Its reissuance input.
    pub vin: u32,
}

/// The answer of [`Assets::reissue_confirm`](crate::api::Assets::reissue_confirm)
/// per amp-rs; every field defaults, so a different object still parses.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReissueResponse {
    /// The reissuance transaction (hex).
    #[serde(default)]
    pub txid: Option<String>,
    /// Its reissuance input.
    #[serde(default)]
    pub vin: Option<u32>,
    /// Amount reissued (in base units).
    #[serde(default)]
    pub reissuance_amount: i64,
}

/// One past reissuance (`GET /assets/{uuid}/reissuances`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Reissuance {
    /// The reissuance transaction (hex).
    pub txid: String,
    /// The output that received it.
    #[serde(default)]
    pub vout: Option<u32>,
    /// The address that received it.
    #[serde(default)]
    pub destination_address: Option<String>,
    /// Amount reissued (in base units).
    #[serde(default)]
    pub reissuance_amount: i64,
    /// The block that holds it, as AMP writes it.
    #[serde(default)]
    pub confirmed_in_block: Option<String>,
    /// When it was requested, as AMP writes it.
    #[serde(default)]
    pub created: Option<String>,
}

/// The answer of [`Assets::burn_request`](crate::api::Assets::burn_request)
/// (amp-rs's `BurnCreate`): the file `blockstream-amp-confirm.py burn` reads.
///
/// As for [`ReissueRequestResponse`], `amount` goes to the node's
/// `destroyamount` in whole coins and is kept as the JSON number AMP wrote;
/// other keys are kept in `extra`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BurnRequestResponse {
    /// The script command.
    #[serde(default)]
    pub command: Option<String>,
    /// The oldest script version that may carry it out.
    #[serde(default)]
    pub min_supported_client_script_version: Option<i64>,
    /// The API root the script confirms to.
    #[serde(default)]
    pub base_url: Option<String>,
    /// The asset's AMP id.
    #[serde(default)]
    pub asset_uuid: Option<String>,
    /// The Liquid asset id (hex).
    #[serde(default)]
    pub asset_id: Option<String>,
    /// Amount to burn, in the node's whole-coin units.
    #[serde(default)]
    pub amount: Option<Number>,
    /// The treasury outputs the node must spend.
    #[serde(default)]
    pub utxos: Vec<Outpoint>,
    /// Every other key of the answer.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}
