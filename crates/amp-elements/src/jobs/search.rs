//! Finding a job's transaction in the node's wallet, when the journal holds
//! the intent but not the txid (the process died after the node accepted
//! the transaction and before the txid was written, or the send call got no
//! answer).
//!
//! The wallet is searched from the block that was the tip when the intent
//! was written (`listsinceblock`, the mempool included), so a transaction
//! sent before the intent (an earlier distribution to the same addresses,
//! say) is never taken for this one. Within that window:
//! - a distribution is recognised by its own outputs: a transaction whose
//!   sent outputs include every address of the plan, each with the plan's
//!   asset and amount. The node names a sent output's address without its
//!   blinding key (the unconfidential form, which is all the output script
//!   holds), and AMP's addresses are confidential: each is matched in both
//!   forms, the node telling the unconfidential one (`getaddressinfo`);
//! - a reissuance by `listissuances`: a reissuance of the asset, of the
//!   amount, in a transaction of the window;
//! - a burn by an output of the window that sends the amount of the asset
//!   to no address (destroyed).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::error::Result;
use crate::journal::{JobKind, Record};
use crate::node::{units, ElementsRpc};

/// A transaction found: txid, and the reissuance's input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Found {
    pub txid: String,
    pub vin: Option<u32>,
}

/// Every transaction of the wallet since `tip_hash` (`None`: ever) that
/// is this job's.
pub(super) async fn find(
    node: &ElementsRpc,
    record: &Record,
    tip_hash: Option<&str>,
) -> Result<Vec<Found>> {
    let since = node.since_block(tip_hash).await?;
    let entries = since.transactions;
    let found = match record.job {
        JobKind::Distribute => {
            let mut forms = BTreeMap::new();
            for o in &record.outputs {
                forms.insert(o.address.clone(), node.unconfidential(&o.address).await?);
            }
            distribution(record, &entries, &forms)
        }
        JobKind::Burn => burn(record, &entries),
        JobKind::Reissue => {
            let window: BTreeSet<String> = entries
                .iter()
                .filter(|e| !conflicted(e))
                .filter_map(txid)
                .collect();
            let issuances = node.list_issuances(Some(&record.asset_id)).await?;
            reissuance(record, &issuances, &window)
        }
    };
    Ok(found)
}

fn txid(entry: &Value) -> Option<String> {
    entry
        .get("txid")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase)
}

fn str_of<'a>(entry: &'a Value, key: &str) -> Option<&'a str> {
    entry.get(key).and_then(Value::as_str)
}

/// True for a transaction that conflicts with the chain (negative
/// confirmations): it pays nothing, and is taken for no job's, so that a
/// send that lost to another can be made anew. An abandoned one is still
/// taken: abandoning only forgets it here, and peers that had it may still
/// mine it.
fn conflicted(entry: &Value) -> bool {
    entry
        .get("confirmations")
        .and_then(Value::as_i64)
        .is_some_and(|c| c < 0)
}

/// The sent outputs of each transaction: (address, asset, units > 0), of
/// transactions that do not conflict with the chain.
fn sends(entries: &[Value]) -> BTreeMap<String, Vec<(Option<String>, String, i64)>> {
    let mut by_tx: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for entry in entries {
        if str_of(entry, "category") != Some("send") || conflicted(entry) {
            continue;
        }
        let (Some(txid), Some(amount)) = (txid(entry), entry.get("amount").and_then(units)) else {
            continue;
        };
        let asset = str_of(entry, "asset")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let address = str_of(entry, "address").map(str::to_string);
        by_tx
            .entry(txid)
            .or_default()
            .push((address, asset, amount.abs()));
    }
    by_tx
}

/// `forms`: each planned address's unconfidential form.
fn distribution(
    record: &Record,
    entries: &[Value],
    forms: &BTreeMap<String, String>,
) -> Vec<Found> {
    let mut planned: Vec<([&str; 2], String, i64)> = Vec::new();
    for o in &record.outputs {
        let Some(amount) = units(&Value::Number(o.amount.clone())) else {
            return Vec::new();
        };
        let unconfidential = forms.get(&o.address).unwrap_or(&o.address);
        let names = [o.address.as_str(), unconfidential.as_str()];
        planned.push((names, o.asset.to_ascii_lowercase(), amount));
    }
    if planned.is_empty() {
        return Vec::new();
    }
    sends(entries)
        .into_iter()
        .filter(|(_, outs)| {
            planned.iter().all(|(names, asset, amount)| {
                outs.iter().any(|(a, s, u)| {
                    a.as_deref().is_some_and(|a| names.contains(&a)) && s == asset && u == amount
                })
            })
        })
        .map(|(txid, _)| Found { txid, vin: None })
        .collect()
}

fn burn(record: &Record, entries: &[Value]) -> Vec<Found> {
    let asset = record.asset_id.to_ascii_lowercase();
    let Some(amount) = record.amount.clone().and_then(|a| units(&Value::Number(a))) else {
        return Vec::new();
    };
    sends(entries)
        .into_iter()
        .filter(|(_, outs)| {
            outs.iter()
                .any(|(address, s, u)| address.is_none() && *s == asset && *u == amount)
        })
        .map(|(txid, _)| Found { txid, vin: None })
        .collect()
}

fn reissuance(record: &Record, issuances: &[Value], window: &BTreeSet<String>) -> Vec<Found> {
    let amount = record.amount.clone().and_then(|a| units(&Value::Number(a)));
    let asset = record.asset_id.to_ascii_lowercase();
    let mut found: Vec<Found> = issuances
        .iter()
        .filter(|i| i.get("isreissuance").and_then(Value::as_bool) == Some(true))
        .filter(|i| str_of(i, "asset").is_none_or(|a| a.eq_ignore_ascii_case(&asset)))
        .filter(|i| amount.is_none() || i.get("assetamount").and_then(units) == amount)
        .filter_map(|i| {
            let txid = txid(i)?;
            let vin = i.get("vin").and_then(Value::as_u64)?;
            window.contains(&txid).then(|| Found {
                txid,
                vin: u32::try_from(vin).ok(),
            })
        })
        .collect();
    found.dedup();
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::PlannedOutput;
    use serde_json::json;

    fn record(kind: JobKind) -> Record {
        let mut r = Record::new(kind, "u", "aa", json!({}));
        r.outputs = vec![
            PlannedOutput {
                address: "A".into(),
                amount: serde_json::Number::from_f64(0.3).unwrap(),
                asset: "aa".into(),
            },
            PlannedOutput {
                address: "B".into(),
                amount: serde_json::Number::from_f64(0.2).unwrap(),
                asset: "aa".into(),
            },
        ];
        r.amount = serde_json::Number::from_f64(0.5);
        r
    }

    fn send(txid: &str, address: Option<&str>, asset: &str, amount: f64) -> Value {
        let mut v = json!({"category": "send", "txid": txid, "asset": asset, "amount": -amount});
        if let Some(a) = address {
            v["address"] = json!(a);
        }
        v
    }

    #[test]
    fn a_distribution_is_the_transaction_paying_every_planned_output() {
        let r = record(JobKind::Distribute);
        let entries = vec![
            send("t1", Some("A"), "aa", 0.3),
            send("t1", Some("B"), "aa", 0.2),
            // Only one of the outputs, or the wrong amount or asset: not it.
            send("t2", Some("A"), "aa", 0.3),
            send("t3", Some("A"), "aa", 0.3),
            send("t3", Some("B"), "aa", 0.21),
            send("t4", Some("A"), "bb", 0.3),
            send("t4", Some("B"), "bb", 0.2),
            json!({"category": "receive", "txid": "t5", "address": "A", "asset": "aa", "amount": 0.3}),
        ];
        let forms = BTreeMap::new();
        assert_eq!(
            distribution(&r, &entries, &forms),
            vec![Found {
                txid: "t1".into(),
                vin: None
            }]
        );
    }

    // A real node writes the unconfidential form of each address: matched
    // through the forms the node gave, and only through them.
    #[test]
    fn a_distribution_is_found_under_the_addresses_the_node_writes() {
        let r = record(JobKind::Distribute);
        let entries = vec![
            send("t1", Some("uA"), "aa", 0.3),
            send("t1", Some("uB"), "aa", 0.2),
            send("t2", Some("uA"), "aa", 0.3),
            send("t2", Some("xB"), "aa", 0.2),
        ];
        let forms: BTreeMap<String, String> = [("A", "uA"), ("B", "uB")]
            .map(|(a, u)| (a.to_string(), u.to_string()))
            .into();
        assert_eq!(
            distribution(&r, &entries, &forms),
            vec![Found {
                txid: "t1".into(),
                vin: None
            }]
        );
        assert!(distribution(&r, &entries, &BTreeMap::new()).is_empty());
    }

    #[test]
    fn a_conflicted_transaction_is_not_found_an_abandoned_one_is() {
        let r = record(JobKind::Distribute);
        let mut entries = Vec::new();
        for (txid, field, value) in [
            ("t1", "confirmations", json!(-2)),
            ("t3", "abandoned", json!(true)),
        ] {
            for (address, amount) in [("A", 0.3), ("B", 0.2)] {
                let mut entry = send(txid, Some(address), "aa", amount);
                entry[field] = value.clone();
                entries.push(entry);
            }
        }
        assert_eq!(
            distribution(&r, &entries, &BTreeMap::new()),
            vec![Found {
                txid: "t3".into(),
                vin: None
            }]
        );
    }

    #[test]
    fn a_burn_is_the_amount_sent_to_no_address() {
        let r = record(JobKind::Burn);
        let entries = vec![
            send("t1", Some("A"), "aa", 0.5),
            send("t2", None, "aa", 0.4),
            send("t3", None, "aa", 0.5),
        ];
        assert_eq!(
            burn(&r, &entries),
            vec![Found {
                txid: "t3".into(),
                vin: None
            }]
        );
    }

    #[test]
    fn a_reissuance_is_listed_by_listissuances_within_the_window() {
        let r = record(JobKind::Reissue);
        let issuances = vec![
            json!({"txid": "old", "vin": 0, "isreissuance": true, "asset": "aa", "assetamount": 0.5}),
            json!({"txid": "new", "vin": 1, "isreissuance": true, "asset": "aa", "assetamount": 0.5}),
            json!({"txid": "iss", "vin": 0, "isreissuance": false, "asset": "aa", "assetamount": 0.5}),
            json!({"txid": "new2", "vin": 0, "isreissuance": true, "asset": "aa", "assetamount": 0.4}),
        ];
        let window: BTreeSet<String> = ["new", "iss", "new2"].map(String::from).into();
        assert_eq!(
            reissuance(&r, &issuances, &window),
            vec![Found {
                txid: "new".into(),
                vin: Some(1)
            }]
        );
    }
}
