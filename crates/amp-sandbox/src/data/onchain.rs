//! What AMP checks of a confirmation against the chain: the transaction
//! exists with enough confirmations, the node's `details` and the change
//! (`listunspent` entries) describe it truly, and every output of the asset
//! is accounted for. Then AMP's ledger takes the transaction's outputs of the
//! asset (and its token) with the blinders the chain has.

use serde_json::Value;

use super::ledger::UNKNOWN_BLINDER;
use super::model::{AssetState, TxIo};
use super::{rule, unconfidential, Store, StoreError};
use crate::node::amount::parse_fixed_point;
use crate::node::chain::{ChainTx, OutKind, Output};
use crate::REQUIRED_CONFIRMATIONS;

/// One entry of `gettransaction`'s `details`, as sent back to AMP.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Detail {
    pub(crate) vout: u32,
    pub(crate) address: Option<String>,
    /// Signed base units (`send` entries are negative).
    pub(crate) units: i64,
    pub(crate) asset: String,
    pub(crate) asset_blinder: Option<String>,
    pub(crate) amount_blinder: Option<String>,
}

/// One `listunspent` entry sent as change.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Change {
    pub(crate) txid: String,
    pub(crate) vout: u32,
    pub(crate) asset: String,
    pub(crate) units: u64,
    pub(crate) asset_blinder: Option<String>,
    pub(crate) amount_blinder: Option<String>,
}

/// An RPC amount (a JSON number in coins) as signed base units.
pub(crate) fn units_of(value: &Value) -> Option<i64> {
    match value {
        Value::Number(n) => parse_fixed_point(&n.to_string()),
        Value::String(s) => parse_fixed_point(s),
        _ => None,
    }
}

fn text(entry: &Value, key: &str) -> Option<String> {
    entry
        .get(key)
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

fn vout_of(entry: &Value) -> Option<u32> {
    entry
        .get("vout")
        .and_then(Value::as_u64)
        .and_then(|v| u32::try_from(v).ok())
}

/// `details` entries; the reason an entry is unreadable.
pub(crate) fn parse_details(list: Option<&Value>) -> Result<Vec<Detail>, String> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("Expected a list of items.".to_owned()),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let bad = |what: &str| format!("Entry {i}: {what}.");
            Ok(Detail {
                vout: vout_of(entry).ok_or_else(|| bad("vout is not an output index"))?,
                address: entry
                    .get("address")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                units: entry
                    .get("amount")
                    .and_then(units_of)
                    .ok_or_else(|| bad("amount is not an amount"))?,
                asset: text(entry, "asset").ok_or_else(|| bad("asset is missing"))?,
                asset_blinder: text(entry, "assetblinder"),
                amount_blinder: text(entry, "amountblinder"),
            })
        })
        .collect()
}

/// `change_data` entries; the reason an entry is unreadable.
pub(crate) fn parse_change(list: Option<&Value>) -> Result<Vec<Change>, String> {
    let items = match list {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items,
        Some(_) => return Err("Expected a list of items.".to_owned()),
    };
    items
        .iter()
        .enumerate()
        .map(|(i, entry)| {
            let bad = |what: &str| format!("Entry {i}: {what}.");
            let units = entry
                .get("amount")
                .and_then(units_of)
                .and_then(|u| u64::try_from(u).ok())
                .ok_or_else(|| bad("amount is not an amount"))?;
            Ok(Change {
                txid: text(entry, "txid").ok_or_else(|| bad("txid is missing"))?,
                vout: vout_of(entry).ok_or_else(|| bad("vout is not an output index"))?,
                asset: text(entry, "asset").ok_or_else(|| bad("asset is missing"))?,
                units,
                asset_blinder: text(entry, "assetblinder"),
                amount_blinder: text(entry, "amountblinder"),
            })
        })
        .collect()
}

/// The chain's transaction `txid`, with at least [`REQUIRED_CONFIRMATIONS`].
pub(crate) fn confirmed<'a>(store: &'a Store, txid: &str) -> Result<&'a ChainTx, StoreError> {
    let chain = &store.chain;
    let tx = chain
        .txs
        .get(&txid.to_ascii_lowercase())
        .ok_or_else(|| rule(format!("Transaction {txid} is not on the chain.")))?;
    let confirmations = chain.confirmations(tx);
    if confirmations < REQUIRED_CONFIRMATIONS {
        return Err(rule(format!(
            "Transaction {txid} has {confirmations} confirmations; {REQUIRED_CONFIRMATIONS} are needed."
        )));
    }
    Ok(tx)
}

fn output(tx: &ChainTx, vout: u32) -> Option<&Output> {
    tx.outputs.get(usize::try_from(vout).ok()?)
}

fn blinder_matches(given: Option<&String>, actual: &str) -> bool {
    given.is_none_or(|g| g == actual)
}

/// Every `details` entry describes the output it names truly.
pub(crate) fn check_details(tx: &ChainTx, details: &[Detail]) -> Result<(), StoreError> {
    for d in details {
        let ok = output(tx, d.vout).is_some_and(|out| {
            out.asset == d.asset
                && i128::from(d.units).unsigned_abs() == u128::from(out.amount)
                && (d.address.is_none()
                    || d.address == out.address
                    || d.address == out.address.as_deref().map(unconfidential))
                && blinder_matches(d.asset_blinder.as_ref(), &out.asset_blinder)
                && blinder_matches(d.amount_blinder.as_ref(), &out.amount_blinder)
        });
        if !ok {
            return Err(rule(format!(
                "The details of output {} do not match transaction {}.",
                d.vout, tx.txid
            )));
        }
    }
    Ok(())
}

/// Every change entry is an output of this transaction, of this asset, with
/// its true amount and blinders.
pub(crate) fn check_change(
    tx: &ChainTx,
    change: &[Change],
    asset_id: &str,
) -> Result<(), StoreError> {
    for c in change {
        let ok = c.txid == tx.txid
            && c.asset == asset_id
            && output(tx, c.vout).is_some_and(|out| {
                out.kind == OutKind::Pay
                    && out.asset == c.asset
                    && out.amount == c.units
                    && blinder_matches(c.asset_blinder.as_ref(), &out.asset_blinder)
                    && blinder_matches(c.amount_blinder.as_ref(), &out.amount_blinder)
            });
        if !ok {
            return Err(rule(format!(
                "The change data {}:{} does not match an output of the asset in transaction {}.",
                c.txid, c.vout, tx.txid
            )));
        }
    }
    Ok(())
}

/// A `details` entry for each of `vouts`, as AMP learns the blinders of the
/// outputs it tracks from them.
pub(crate) fn require_details(
    tx: &ChainTx,
    details: &[Detail],
    vouts: &[u32],
) -> Result<(), StoreError> {
    for vout in vouts {
        if !details.iter().any(|d| d.vout == *vout) {
            return Err(rule(format!(
                "The details hold no entry for output {vout} of transaction {}.",
                tx.txid
            )));
        }
    }
    Ok(())
}

/// The ledger's record of one chain output of the asset or its token.
pub(crate) fn ledger_output(
    tx: &ChainTx,
    vout: u32,
    owner: Option<(u64, String)>,
    burnt: bool,
) -> Option<TxIo> {
    let out = output(tx, vout)?;
    let (registered_user, gaid) = owner.map_or((None, None), |(u, g)| (Some(u), Some(g)));
    let known = |b: &str| {
        if b.is_empty() {
            UNKNOWN_BLINDER.to_owned()
        } else {
            b.to_owned()
        }
    };
    Some(TxIo {
        txid: tx.txid.clone(),
        index: vout,
        asset_id: out.asset.clone(),
        amount: out.amount,
        asset_blinder: known(&out.asset_blinder),
        amount_blinder: known(&out.amount_blinder),
        registered_user,
        gaid,
        is_burnt: burnt,
    })
}

impl AssetState {
    /// Refuses a transaction that spends an output AMP froze.
    pub(crate) fn check_not_blacklisted(&self, tx: &ChainTx) -> Result<(), StoreError> {
        for (txid, vout) in &tx.inputs {
            let frozen = self
                .utxos
                .iter()
                .any(|u| &u.txid == txid && u.vout == *vout && u.blacklisted && u.spent.is_none());
            if frozen {
                return Err(rule(format!(
                    "Transaction {} spends the blacklisted output {txid}:{vout}.",
                    tx.txid
                )));
            }
        }
        Ok(())
    }

    /// Marks spent, at `height`, the ledger's unspent outputs among `inputs`
    /// (outputs AMP does not track are ignored); the inputs as the ledger
    /// shows them.
    pub(crate) fn spend_outpoints(&mut self, inputs: &[(String, u32)], height: u64) -> Vec<TxIo> {
        let mut spent = Vec::new();
        for (txid, vout) in inputs {
            let found = self
                .utxos
                .iter_mut()
                .find(|u| &u.txid == txid && u.vout == *vout && u.spent.is_none());
            if let Some(utxo) = found {
                utxo.spent = Some(height);
                spent.push((
                    utxo.txid.clone(),
                    utxo.vout,
                    utxo.asset.clone(),
                    utxo.amount,
                ));
            }
        }
        spent
            .into_iter()
            .map(|(txid, vout, asset, amount)| self.input_for(&txid, vout, &asset, amount))
            .collect()
    }
}

/// What a confirm body says of the node's transaction.
#[derive(Clone, Debug, Default)]
pub(crate) struct Report {
    pub(crate) txid: String,
    pub(crate) details: Vec<Detail>,
    pub(crate) change: Vec<Change>,
}

/// Every output of `asset_id` in `tx` must be one `allowed` says is
/// accounted for (a receiver's, a burn, or reported change).
pub(crate) fn all_accounted(
    tx: &ChainTx,
    asset_id: &str,
    change: &[Change],
    allowed: impl Fn(u32, &Output) -> bool,
) -> Result<(), StoreError> {
    for (vout, out) in (0u32..).zip(&tx.outputs) {
        if out.asset != asset_id || out.kind == OutKind::Fee {
            continue;
        }
        if allowed(vout, out) || change.iter().any(|c| c.vout == vout) {
            continue;
        }
        return Err(rule(format!(
            "Output {vout} of transaction {} moves {} units of the asset, and is neither \
             the request's nor reported as change.",
            tx.txid, out.amount
        )));
    }
    Ok(())
}

impl Store {
    /// What the issuer's node does with a `distributions/create` answer, as
    /// the official script drives it: `sendmany` of its maps, two blocks,
    /// then the report from `gettransaction` and `listunspent`. For the
    /// sample data, made through the same checks as any client's.
    pub(crate) fn wallet_distribute(&mut self, plan: &Value) -> Result<Report, StoreError> {
        let amounts = plan["map_address_amount"].as_object();
        let assets = plan["map_address_asset"].as_object();
        let (Some(amounts), Some(assets)) = (amounts, assets) else {
            return Err(rule("The plan has no maps."));
        };
        let mut payments = Vec::new();
        for (address, coins) in amounts {
            let units = units_of(coins).and_then(|u| u64::try_from(u).ok());
            let asset = assets.get(address).and_then(Value::as_str);
            let (Some(units), Some(asset)) = (units, asset) else {
                return Err(rule(format!(
                    "The plan's entry for {address} is unreadable."
                )));
            };
            payments.push(crate::node::chain::Payment {
                address: Some(address.clone()),
                asset: asset.to_owned(),
                amount: units,
            });
        }
        let txid = self
            .chain
            .send(&payments, None, None)
            .map_err(|_| rule("The wallet cannot fund the distribution."))?;
        self.chain.mine(REQUIRED_CONFIRMATIONS);
        let asset_id = plan["asset_id"].as_str().unwrap_or_default();
        Ok(self.report_of(&txid, asset_id))
    }

    /// The report the official script sends of a wallet transaction:
    /// `gettransaction`'s details (sent outputs) and the change of `asset_id`.
    pub(crate) fn report_of(&self, txid: &str, asset_id: &str) -> Report {
        let mut report = Report {
            txid: txid.to_owned(),
            ..Report::default()
        };
        let Some(tx) = self.chain.txs.get(txid) else {
            return report;
        };
        for (vout, out) in (0u32..).zip(&tx.outputs) {
            let change = out
                .address
                .as_deref()
                .is_some_and(|a| self.chain.wallet.is_change(a));
            if out.kind == OutKind::Fee {
                continue;
            }
            if change && out.asset == asset_id {
                report.change.push(Change {
                    txid: txid.to_owned(),
                    vout,
                    asset: out.asset.clone(),
                    units: out.amount,
                    asset_blinder: Some(out.asset_blinder.clone()),
                    amount_blinder: Some(out.amount_blinder.clone()),
                });
            } else if !change {
                report.details.push(Detail {
                    vout,
                    address: out.address.as_deref().map(unconfidential),
                    units: -i64::try_from(out.amount).unwrap_or(i64::MAX),
                    asset: out.asset.clone(),
                    asset_blinder: Some(out.asset_blinder.clone()),
                    amount_blinder: Some(out.amount_blinder.clone()),
                });
            }
        }
        report
    }
}
