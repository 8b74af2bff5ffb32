//! The simulated chain under each asset: outputs (UTXOs) and the
//! transactions that made and spent them. Summary, balances, ownerships,
//! activities and `txs` are all read from here, so they always agree.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::hex64;
use super::model::{AssetState, Tx, TxIo, TxKind, User, Utxo};

/// A blinder the platform does not know yet (the official script looks for
/// these to send with `update-blinders`).
pub(crate) const UNKNOWN_BLINDER: &str =
    "0000000000000000000000000000000000000000000000000000000000000000";

/// One new output. `owner` is `(registered_user, GAID)`, `None` for the
/// treasury. Blinders are derived from the outpoint, or unknown (zeros).
pub(crate) fn output(
    txid: &str,
    vout: u32,
    asset_id: &str,
    amount: u64,
    owner: Option<(u64, String)>,
    blinders_known: bool,
) -> TxIo {
    let blinder = |kind: &str| {
        if blinders_known {
            hex64(&format!("{kind} {txid}:{vout}"))
        } else {
            UNKNOWN_BLINDER.to_owned()
        }
    };
    let (registered_user, gaid) = owner.map_or((None, None), |(u, g)| (Some(u), Some(g)));
    TxIo {
        txid: txid.to_owned(),
        index: vout,
        asset_id: asset_id.to_owned(),
        amount,
        asset_blinder: blinder("asset_blinder"),
        amount_blinder: blinder("amount_blinder"),
        registered_user,
        gaid,
        is_burnt: false,
    }
}

impl AssetState {
    /// What the treasury can spend of `asset` (blacklisted outputs are frozen).
    pub(crate) fn treasury_spendable(&self, asset: &str) -> u64 {
        self.utxos
            .iter()
            .filter(|u| u.asset == asset && u.is_treasury() && !u.blacklisted && u.spent.is_none())
            .map(|u| u.amount)
            .sum()
    }

    /// The unspent treasury outputs of `asset`, as `{txid, vout}`.
    pub(crate) fn treasury_outpoints(&self, asset: &str) -> Vec<Value> {
        self.utxos
            .iter()
            .filter(|u| u.asset == asset && u.is_treasury() && !u.blacklisted && u.spent.is_none())
            .map(|u| json!({ "txid": u.txid, "vout": u.vout }))
            .collect()
    }

    /// The input spending `txid:vout`, with the blinders its output had.
    pub(crate) fn input_for(&self, txid: &str, vout: u32, asset: &str, amount: u64) -> TxIo {
        self.txs
            .iter()
            .find(|t| t.txid == txid)
            .and_then(|t| t.outputs.iter().find(|o| o.index == vout))
            .cloned()
            .unwrap_or_else(|| output(txid, vout, asset, amount, None, false))
    }

    /// Adds a transaction, and an unspent output for each output not burnt.
    pub(crate) fn commit(&mut self, tx: Tx) {
        for out in tx.outputs.iter().filter(|o| !o.is_burnt) {
            self.utxos.push(Utxo {
                txid: tx.txid.clone(),
                vout: out.index,
                asset: out.asset_id.clone(),
                amount: out.amount,
                registered_user: out.registered_user,
                gaid: out.gaid.clone(),
                blacklisted: false,
                height: tx.height,
                spent: None,
            });
        }
        self.txs.push(tx);
    }

    pub(crate) fn has_tx(&self, txid: &str) -> bool {
        self.txs.iter().any(|t| t.txid == txid)
    }

    fn is_spent(&self, txid: &str, vout: u32) -> bool {
        self.utxos
            .iter()
            .any(|u| u.txid == txid && u.vout == vout && u.spent.is_some())
    }

    /// amp-rs's `AssetTransaction` shape.
    pub(crate) fn tx_json(&self, tx: &Tx) -> Value {
        let inputs: Vec<Value> = tx
            .inputs
            .iter()
            .enumerate()
            .map(|(vin, i)| {
                json!({
                    "asset_id": i.asset_id,
                    "vin": vin,
                    "prev_txid": i.txid,
                    "prev_vout": i.index,
                    "amount": i.amount,
                    "asset_blinder": i.asset_blinder,
                    "amount_blinder": i.amount_blinder,
                    "registered_user": i.registered_user,
                    "GAID": i.gaid,
                    "is_treasury": i.registered_user.is_none(),
                })
            })
            .collect();
        let outputs: Vec<Value> = tx
            .outputs
            .iter()
            .map(|o| {
                json!({
                    "asset_id": o.asset_id,
                    "vout": o.index,
                    "amount": o.amount,
                    "asset_blinder": o.asset_blinder,
                    "amount_blinder": o.amount_blinder,
                    "registered_user": o.registered_user,
                    "GAID": o.gaid,
                    "is_treasury": o.registered_user.is_none() && !o.is_burnt,
                    "is_spent": self.is_spent(&tx.txid, o.index),
                    "is_burnt": o.is_burnt,
                })
            })
            .collect();
        json!({
            "txid": tx.txid,
            "datetime": tx.datetime,
            "blockheight": tx.height,
            "is_issuance": tx.kind == TxKind::Issuance,
            "is_reissuance": tx.kind == TxKind::Reissuance,
            "is_distribution": tx.kind == TxKind::Distribution,
            "inputs": inputs,
            "outputs": outputs,
            "unblinded_url": format!("https://blockstream.info/liquidtestnet/tx/{}", tx.txid),
        })
    }

    /// One activity per output that moved the asset: issued or reissued into
    /// the treasury, distributed to a user, burnt. Change and token outputs
    /// are not activities.
    pub(crate) fn activities(
        &self,
        asset_id: &str,
        ticker: &str,
        users: &BTreeMap<u64, User>,
    ) -> Vec<Value> {
        let mut list = Vec::new();
        for tx in &self.txs {
            for out in tx.outputs.iter().filter(|o| o.asset_id == asset_id) {
                let description = match (tx.kind, out.registered_user) {
                    (TxKind::Issuance, None) if !out.is_burnt => {
                        format!("Issued {} {ticker}", out.amount)
                    }
                    (TxKind::Reissuance, None) if !out.is_burnt => {
                        format!("Reissued {} {ticker}", out.amount)
                    }
                    (TxKind::Distribution, Some(user)) => {
                        let name = users.get(&user).map_or("a registered user", |u| &u.name);
                        format!("Distributed {} {ticker} to {name}", out.amount)
                    }
                    (TxKind::Burn, _) if out.is_burnt => format!("Burned {} {ticker}", out.amount),
                    _ => continue,
                };
                let kind = match tx.kind {
                    TxKind::Issuance => "issuance",
                    TxKind::Reissuance => "reissuance",
                    TxKind::Distribution => "distribution",
                    TxKind::Burn => "burn",
                };
                list.push(json!({
                    "type": kind,
                    "datetime": tx.datetime,
                    "description": description,
                    "txid": tx.txid,
                    "vout": out.index,
                    "blockheight": tx.height,
                    "asset_blinder": out.asset_blinder,
                    "amount_blinder": out.amount_blinder,
                    "registered user": out.registered_user,
                    "amount": out.amount,
                }));
            }
        }
        list
    }
}

/// The query parameters of `activities` and `txs` (amp-rs's
/// `AssetActivityParams`): a height window, an order, then a slice.
#[derive(Clone, Debug, Default)]
pub(crate) struct Page {
    pub(crate) start: usize,
    pub(crate) count: Option<usize>,
    pub(crate) sortcolumn: Option<String>,
    pub(crate) descending: bool,
    pub(crate) height_start: Option<u64>,
    pub(crate) height_stop: Option<u64>,
}

/// The columns `activities` can be sorted by.
pub(crate) const ACTIVITY_COLUMNS: &[&str] =
    &["datetime", "blockheight", "amount", "type", "txid", "vout"];
/// The columns `txs` can be sorted by.
pub(crate) const TX_COLUMNS: &[&str] = &["datetime", "blockheight", "txid"];

/// Orders JSON scalars: numbers by value, strings by text, others equal.
fn compare(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

impl Page {
    /// Applies the window, order and slice to rows that carry `blockheight`.
    /// Without a sort column the rows keep their chain order.
    pub(crate) fn apply(&self, rows: Vec<Value>) -> Vec<Value> {
        let mut rows: Vec<Value> = rows
            .into_iter()
            .filter(|row| {
                let height = row["blockheight"].as_u64().unwrap_or(0);
                self.height_start.is_none_or(|h| height >= h)
                    && self.height_stop.is_none_or(|h| height <= h)
            })
            .collect();
        if let Some(column) = &self.sortcolumn {
            rows.sort_by(|a, b| compare(&a[column.as_str()], &b[column.as_str()]));
        }
        if self.descending {
            rows.reverse();
        }
        rows.into_iter()
            .skip(self.start)
            .take(self.count.unwrap_or(usize::MAX))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows() -> Vec<Value> {
        (0..5)
            .map(|i| json!({"blockheight": 10 + i, "amount": (i * 7) % 5, "txid": format!("t{i}")}))
            .collect()
    }

    #[test]
    fn page_windows_orders_and_slices() {
        let all = Page::default().apply(rows());
        assert_eq!(all, rows());
        let page = Page {
            start: 1,
            count: Some(2),
            height_start: Some(11),
            height_stop: Some(13),
            ..Page::default()
        };
        let heights: Vec<u64> = page
            .apply(rows())
            .iter()
            .map(|r| r["blockheight"].as_u64().unwrap())
            .collect();
        assert_eq!(heights, [12, 13]);
        let by_amount = Page {
            sortcolumn: Some("amount".into()),
            descending: true,
            ..Page::default()
        };
        let amounts: Vec<u64> = by_amount
            .apply(rows())
            .iter()
            .map(|r| r["amount"].as_u64().unwrap())
            .collect();
        assert_eq!(amounts, [4, 3, 2, 1, 0]);
    }

    #[test]
    fn spending_marks_known_outputs_only() {
        let mut state = AssetState::default();
        state.commit(Tx {
            txid: "t".into(),
            height: 1,
            datetime: String::new(),
            kind: TxKind::Issuance,
            inputs: Vec::new(),
            outputs: vec![
                output("t", 0, "a", 60, None, true),
                output("t", 1, "a", 40, None, true),
            ],
        });
        assert_eq!(state.treasury_spendable("a"), 100);
        let inputs = state.spend_outpoints(&[("t".into(), 0), ("elsewhere".into(), 3)], 2);
        assert_eq!(inputs.len(), 1);
        assert_eq!(inputs[0].asset_blinder, hex64("asset_blinder t:0"));
        assert_eq!(state.treasury_spendable("a"), 40);
        assert!(state.is_spent("t", 0));
        assert!(
            state.spend_outpoints(&[("t".into(), 0)], 3).is_empty(),
            "spent once"
        );
    }
}
