//! The records the store keeps. The serialized fields are the API's JSON
//! shapes (amp-api.md §3.7, amp-rs's `src/model.rs` where amp-api.md gives
//! none); `#[serde(skip)]` fields are what the sandbox keeps beside them.

use serde::Serialize;
use serde_json::{json, Value};

use super::to_json;

/// An asset as the API shows it, plus its hidden state.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Asset {
    pub(crate) name: String,
    pub(crate) asset_uuid: String,
    pub(crate) issuer: u64,
    pub(crate) asset_id: String,
    pub(crate) reissuance_token_id: Option<String>,
    pub(crate) requirements: Vec<u64>,
    pub(crate) ticker: Option<String>,
    pub(crate) precision: u8,
    pub(crate) domain: Option<String>,
    pub(crate) pubkey: Option<String>,
    pub(crate) is_registered: bool,
    pub(crate) is_authorized: bool,
    pub(crate) is_locked: bool,
    pub(crate) issuer_authorization_endpoint: Option<String>,
    pub(crate) transfer_restricted: bool,
    #[serde(skip)]
    pub(crate) state: AssetState,
}

/// What an asset holds beyond its public fields.
#[derive(Clone, Debug, Default)]
pub(crate) struct AssetState {
    pub(crate) memo: String,
    pub(crate) issued: u64,
    pub(crate) reissued: u64,
    pub(crate) burned: u64,
    pub(crate) treasury_addresses: Vec<String>,
    pub(crate) assignments: Vec<Assignment>,
    pub(crate) distributions: Vec<Distribution>,
    pub(crate) utxos: Vec<Utxo>,
    pub(crate) txs: Vec<Tx>,
    pub(crate) reissuances: Vec<Reissuance>,
    /// The amount of the last reissue-request not yet confirmed.
    pub(crate) pending_reissue: Option<u64>,
    /// The amount of the last burn-request not yet confirmed.
    pub(crate) pending_burn: Option<u64>,
}

/// An assignment of an amount of an asset to a registered user.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Assignment {
    pub(crate) id: u64,
    pub(crate) registered_user: u64,
    pub(crate) amount: u64,
    pub(crate) receiving_address: Option<String>,
    pub(crate) distribution_uuid: Option<String>,
    pub(crate) ready_for_distribution: bool,
    pub(crate) vesting_datetime: Option<String>,
    pub(crate) vesting_timestamp: Option<i64>,
    pub(crate) is_distributed: bool,
    pub(crate) creator: u64,
    #[serde(rename = "GAID")]
    pub(crate) gaid: Option<String>,
    /// The pre-0.1.7 name of `registered_user`, which amp-rs still reads.
    pub(crate) investor: u64,
    /// Not in amp-rs's model: the sandbox shows the lock it enforces.
    pub(crate) is_locked: bool,
}

impl Assignment {
    /// Whether the vesting time (unix seconds) has passed at `now`.
    pub(crate) fn has_vested(&self, now: i64) -> bool {
        self.vesting_timestamp.is_none_or(|at| at <= now)
    }

    /// The JSON shape, with `has_vested` as of `now`.
    pub(crate) fn json(&self, now: i64) -> Value {
        let mut value = to_json(self);
        value["has_vested"] = json!(self.has_vested(now));
        value
    }
}

/// A distribution: a set of assignments sent in one transaction.
#[derive(Clone, Debug)]
pub(crate) struct Distribution {
    pub(crate) uuid: String,
    /// The ids of its assignments.
    pub(crate) assignments: Vec<u64>,
    pub(crate) confirmed: Option<Confirmation>,
}

/// The transaction that carried a confirmed distribution.
#[derive(Clone, Debug)]
pub(crate) struct Confirmation {
    pub(crate) txid: String,
    pub(crate) height: u64,
    pub(crate) datetime: String,
    /// `(registered_user, amount, vout)` per assignment.
    pub(crate) outputs: Vec<(u64, u64, u32)>,
}

impl Distribution {
    /// amp-rs's `Distribution` shape.
    pub(crate) fn json(&self) -> Value {
        let transactions: Vec<Value> = self
            .confirmed
            .iter()
            .map(|c| {
                let assignments: Vec<Value> = c
                    .outputs
                    .iter()
                    .map(|(user, amount, vout)| {
                        json!({ "registered_user": user, "amount": amount, "vout": vout })
                    })
                    .collect();
                json!({
                    "txid": c.txid,
                    "transaction_status": "CONFIRMED",
                    "included_blockheight": c.height,
                    "confirmed_datetime": c.datetime,
                    "assignments": assignments,
                })
            })
            .collect();
        let status = if self.confirmed.is_some() {
            "CONFIRMED"
        } else {
            "UNCONFIRMED"
        };
        json!({
            "distribution_uuid": self.uuid,
            "distribution_status": status,
            "transactions": transactions,
        })
    }
}

/// An output holding an asset (or its reissuance token) on the simulated chain.
#[derive(Clone, Debug)]
pub(crate) struct Utxo {
    pub(crate) txid: String,
    pub(crate) vout: u32,
    /// The asset id, or the reissuance token id for token outputs.
    pub(crate) asset: String,
    pub(crate) amount: u64,
    /// `None` for the issuer's treasury.
    pub(crate) registered_user: Option<u64>,
    pub(crate) gaid: Option<String>,
    pub(crate) blacklisted: bool,
    pub(crate) height: u64,
    /// The height at which it was spent.
    pub(crate) spent: Option<u64>,
}

impl Utxo {
    /// amp-rs's `Utxo` shape (its key is lower-case `gaid`).
    pub(crate) fn json(&self) -> Value {
        json!({
            "txid": self.txid,
            "vout": self.vout,
            "asset": self.asset,
            "amount": self.amount,
            "registered_user": self.registered_user,
            "gaid": self.gaid,
            "blacklisted": self.blacklisted,
        })
    }

    pub(crate) fn is_treasury(&self) -> bool {
        self.registered_user.is_none()
    }

    /// Unspent at `height` (`None`: now).
    pub(crate) fn unspent_at(&self, height: Option<u64>) -> bool {
        match height {
            None => self.spent.is_none(),
            Some(h) => self.height <= h && self.spent.is_none_or(|s| s > h),
        }
    }
}

/// What a transaction did, for its flags and its activities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TxKind {
    Issuance,
    Reissuance,
    Distribution,
    Burn,
}

/// A transaction of the simulated chain (amp-rs's `AssetTransaction`).
#[derive(Clone, Debug)]
pub(crate) struct Tx {
    pub(crate) txid: String,
    pub(crate) height: u64,
    pub(crate) datetime: String,
    pub(crate) kind: TxKind,
    pub(crate) inputs: Vec<TxIo>,
    pub(crate) outputs: Vec<TxIo>,
}

/// One input or output of a [`Tx`]; for an input, `txid`/`index` name the
/// output it spends.
#[derive(Clone, Debug)]
pub(crate) struct TxIo {
    pub(crate) txid: String,
    /// The output's vout (for an input: the spent output's vout).
    pub(crate) index: u32,
    pub(crate) asset_id: String,
    pub(crate) amount: u64,
    pub(crate) asset_blinder: String,
    pub(crate) amount_blinder: String,
    pub(crate) registered_user: Option<u64>,
    pub(crate) gaid: Option<String>,
    pub(crate) is_burnt: bool,
}

/// A reissuance, as amp-rs's `Reissuance` reads it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Reissuance {
    pub(crate) txid: String,
    pub(crate) vout: u32,
    pub(crate) destination_address: String,
    pub(crate) reissuance_amount: u64,
    pub(crate) confirmed_in_block: String,
    pub(crate) created: String,
}

/// A registered user (an investor before 0.1.7).
#[derive(Clone, Debug, Serialize)]
pub(crate) struct User {
    pub(crate) id: u64,
    #[serde(rename = "GAID")]
    pub(crate) gaid: Option<String>,
    pub(crate) is_company: bool,
    pub(crate) name: String,
    pub(crate) categories: Vec<u64>,
    pub(crate) creator: u64,
    /// Every GAID of the user; `gaid` is the default one.
    #[serde(skip)]
    pub(crate) gaids: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub(crate) struct Category {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) registered_users: Vec<u64>,
    pub(crate) assets: Vec<String>,
}

/// A manager account. Its password is kept apart, in the store, so that no
/// `Debug` of a manager can show it.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Manager {
    pub(crate) id: u64,
    pub(crate) username: String,
    pub(crate) is_locked: bool,
    pub(crate) assets: Vec<String>,
}
