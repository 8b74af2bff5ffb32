//! What the wallet RPCs show of the chain, field by field as Elements Core
//! writes them (`src/wallet/rpc/transactions.cpp` `ListTransactions` and
//! `WalletTxToJSON`, `src/wallet/receive.cpp` `CachedTxGetAmounts`,
//! `src/wallet/rpc/coins.cpp` `listunspent`, `src/wallet/rpc/elements.cpp`
//! `listissuances`).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::amount::{amount, amount_u};
use super::chain::{Chain, ChainTx, OutKind, Output, POLICY_ASSET, POLICY_LABEL};
use crate::data::{hex64, unconfidential};

/// The key of an asset in an amount map: its label, or its hex id.
pub(crate) fn asset_key(asset: &str) -> String {
    if asset == POLICY_ASSET {
        POLICY_LABEL.to_owned()
    } else {
        asset.to_owned()
    }
}

/// An asset parameter: a hex id, or the label `bitcoin` of the policy asset.
pub(crate) fn asset_from(text: &str) -> Option<String> {
    if text == POLICY_LABEL {
        return Some(POLICY_ASSET.to_owned());
    }
    (text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| text.to_ascii_lowercase())
}

/// An amount map as `AmountMapToUniv` writes it: the policy asset always
/// present, keyed by label or hex.
pub(crate) fn amount_map(map: &BTreeMap<String, i128>) -> Value {
    let mut out = Map::new();
    out.insert(POLICY_LABEL.to_owned(), amount(0));
    for (asset, units) in map {
        out.insert(asset_key(asset), amount(*units));
    }
    Value::Object(out)
}

/// The wallet's view of one transaction.
struct Amounts<'a> {
    /// Whether the wallet paid for it (it spends wallet outputs).
    debit: BTreeMap<String, i128>,
    credit: BTreeMap<String, i128>,
    fee: u64,
    /// `(vout, output)` listed as sent.
    sent: Vec<(u32, &'a Output)>,
    /// `(vout, output)` listed as received.
    received: Vec<(u32, &'a Output)>,
}

/// `CachedTxGetAmounts` without change: a transaction the wallet sent lists
/// every output but its change and the fee as sent; any output to the wallet
/// (change excluded when sending) is received.
fn amounts<'a>(chain: &'a Chain, tx: &'a ChainTx) -> Amounts<'a> {
    let mut debit = BTreeMap::new();
    for (txid, vout) in &tx.inputs {
        let spent = chain
            .txs
            .get(txid)
            .and_then(|t| t.outputs.get(usize::try_from(*vout).unwrap_or(usize::MAX)));
        if let Some(out) = spent {
            if out
                .address
                .as_deref()
                .is_some_and(|a| chain.wallet.is_mine(a))
            {
                *debit.entry(out.asset.clone()).or_insert(0) += i128::from(out.amount);
            }
        }
    }
    let from_me = !debit.is_empty();
    let mut credit = BTreeMap::new();
    let mut sent = Vec::new();
    let mut received = Vec::new();
    let mut fee = 0;
    for (vout, out) in (0u32..).zip(&tx.outputs) {
        if out.kind == OutKind::Fee {
            fee += out.amount;
            continue;
        }
        let mine = out
            .address
            .as_deref()
            .is_some_and(|a| chain.wallet.is_mine(a));
        if mine {
            *credit.entry(out.asset.clone()).or_insert(0) += i128::from(out.amount);
        }
        let change = out
            .address
            .as_deref()
            .is_some_and(|a| chain.wallet.is_change(a));
        if from_me {
            if change {
                continue;
            }
            sent.push((vout, out));
        }
        if mine {
            received.push((vout, out));
        }
    }
    Amounts {
        debit,
        credit,
        fee: if from_me { fee } else { 0 },
        sent,
        received,
    }
}

/// `WalletTxToJSON`: confirmations, block, txid, times.
fn wallet_tx_fields(chain: &Chain, tx: &ChainTx, entry: &mut Map<String, Value>) {
    entry.insert("confirmations".into(), json!(chain.confirmations(tx)));
    match tx.height.and_then(|h| chain.block_at(h)) {
        Some(block) => {
            entry.insert("blockhash".into(), json!(block.hash));
            entry.insert("blockheight".into(), json!(block.height));
            entry.insert("blockindex".into(), json!(tx.block_index));
            entry.insert("blocktime".into(), json!(block.time));
        }
        None => {
            entry.insert("trusted".into(), json!(tx.from_wallet));
        }
    }
    entry.insert("txid".into(), json!(tx.txid));
    entry.insert("wtxid".into(), json!(hex64(&format!("wtxid {}", tx.txid))));
    entry.insert("walletconflicts".into(), json!([]));
    entry.insert("mempoolconflicts".into(), json!([]));
    entry.insert("time".into(), json!(tx.time));
    entry.insert("timereceived".into(), json!(tx.time));
    entry.insert("bip125-replaceable".into(), json!("no"));
    if let Some(comment) = &tx.comment {
        entry.insert("comment".into(), json!(comment));
    }
}

/// The `details` entries (or, with `long`, the `listtransactions` entries)
/// of one wallet transaction: sends first, then receives.
pub(crate) fn entries(chain: &Chain, tx: &ChainTx, long: bool) -> Vec<Value> {
    let a = amounts(chain, tx);
    let mut list = Vec::new();
    for (category, outs) in [("send", &a.sent), ("receive", &a.received)] {
        for (vout, out) in outs {
            let mut entry = Map::new();
            if let Some(address) = &out.address {
                // The output script's address, as Elements writes it.
                entry.insert("address".into(), json!(unconfidential(address)));
            }
            entry.insert("category".into(), json!(category));
            let units = i128::from(out.amount);
            let signed = if category == "send" { -units } else { units };
            entry.insert("amount".into(), amount(signed));
            entry.insert("amountblinder".into(), json!(out.amount_blinder));
            entry.insert("asset".into(), json!(out.asset));
            entry.insert("assetblinder".into(), json!(out.asset_blinder));
            let label = out
                .address
                .as_deref()
                .and_then(|addr| chain.wallet.addresses.get(addr))
                .and_then(Clone::clone);
            if let Some(label) = label {
                entry.insert("label".into(), json!(label));
            }
            entry.insert("vout".into(), json!(vout));
            if category == "send" {
                // Elements computes nFee as minus the fee output and writes
                // -nFee here: positive, although the help says negative.
                entry.insert("fee".into(), amount_u(a.fee));
            }
            if long {
                wallet_tx_fields(chain, tx, &mut entry);
            }
            entry.insert("abandoned".into(), json!(false));
            list.push(Value::Object(entry));
        }
    }
    list
}

/// A stand-in for the raw transaction's hex: stable and hex, not a real
/// serialization (nothing in the sandbox decodes it).
fn fake_hex(tx: &ChainTx) -> String {
    format!(
        "02000000010{}{}",
        tx.txid,
        hex64(&format!("hex {}", tx.txid))
    )
}

/// `gettransaction`.
pub(crate) fn transaction(chain: &Chain, tx: &ChainTx, asset_filter: Option<&str>) -> Value {
    let a = amounts(chain, tx);
    let mut net: BTreeMap<String, i128> = a.credit.clone();
    for (asset, units) in &a.debit {
        *net.entry(asset.clone()).or_insert(0) -= units;
    }
    let fee = i128::from(a.fee);
    let from_me = !a.debit.is_empty();
    if from_me {
        // amount = net - nFee, nFee being minus the fee.
        *net.entry(POLICY_ASSET.to_owned()).or_insert(0) += fee;
    }
    let mut entry = Map::new();
    let amount_value = match asset_filter {
        Some(asset) => amount(net.get(asset).copied().unwrap_or(0)),
        None => amount_map(&net),
    };
    entry.insert("amount".into(), amount_value);
    if from_me {
        let fees = BTreeMap::from([(POLICY_ASSET.to_owned(), -fee)]);
        entry.insert("fee".into(), amount_map(&fees));
    }
    wallet_tx_fields(chain, tx, &mut entry);
    entry.insert("details".into(), Value::Array(entries(chain, tx, false)));
    entry.insert("hex".into(), json!(fake_hex(tx)));
    let tip = chain.tip();
    entry.insert(
        "lastprocessedblock".into(),
        json!({"hash": tip.hash, "height": tip.height}),
    );
    Value::Object(entry)
}

/// One `listunspent` entry.
pub(crate) fn unspent(chain: &Chain, tx: &ChainTx, vout: u32, out: &Output, conf: u64) -> Value {
    let mut entry = Map::new();
    entry.insert("txid".into(), json!(tx.txid));
    entry.insert("vout".into(), json!(vout));
    if let Some(address) = &out.address {
        entry.insert("address".into(), json!(address));
        if let Some(Some(label)) = chain.wallet.addresses.get(address) {
            entry.insert("label".into(), json!(label));
        }
        entry.insert(
            "scriptPubKey".into(),
            json!(format!("0014{}", &hex64(&format!("spk {address}"))[..40])),
        );
    }
    entry.insert("amount".into(), amount_u(out.amount));
    entry.insert(
        "assetcommitment".into(),
        json!(format!(
            "0a{}",
            hex64(&format!("asset commitment {}:{vout}", tx.txid))
        )),
    );
    entry.insert("asset".into(), json!(out.asset));
    entry.insert(
        "amountcommitment".into(),
        json!(format!(
            "08{}",
            hex64(&format!("amount commitment {}:{vout}", tx.txid))
        )),
    );
    entry.insert("amountblinder".into(), json!(out.amount_blinder));
    entry.insert("assetblinder".into(), json!(out.asset_blinder));
    entry.insert("confirmations".into(), json!(conf));
    entry.insert("spendable".into(), json!(true));
    entry.insert("solvable".into(), json!(true));
    entry.insert("parent_descs".into(), json!([]));
    entry.insert("safe".into(), json!(conf > 0 || tx.from_wallet));
    Value::Object(entry)
}

/// The `listissuances` entries of one transaction (at most one issuance).
pub(crate) fn issuance(tx: &ChainTx) -> Option<Value> {
    let i = tx.issuance.as_ref()?;
    let mut entry = Map::new();
    if i.is_reissuance {
        entry.insert("isreissuance".into(), json!(true));
    } else {
        entry.insert("isreissuance".into(), json!(false));
        let token = i
            .token
            .clone()
            .unwrap_or_else(|| hex64(&format!("no token {}", i.asset)));
        entry.insert("token".into(), json!(token));
        entry.insert("tokenamount".into(), amount_u(i.token_amount));
        entry.insert("tokenblinds".into(), json!(i.token_blinds));
    }
    entry.insert("entropy".into(), json!(i.entropy));
    entry.insert("txid".into(), json!(tx.txid));
    entry.insert("vin".into(), json!(i.vin));
    entry.insert("asset".into(), json!(i.asset));
    if i.asset == POLICY_ASSET {
        entry.insert("assetlabel".into(), json!(POLICY_LABEL));
    }
    entry.insert("assetamount".into(), amount_u(i.asset_amount));
    entry.insert("assetblinds".into(), json!(i.asset_blinds));
    Some(Value::Object(entry))
}
