//! The wallet's listing RPCs: `getbalance`, `listunspent`,
//! `listtransactions`, `listsinceblock` (`src/wallet/rpc/coins.cpp`,
//! `src/wallet/rpc/transactions.cpp`).

use serde_json::{json, Value};

use super::amount::{amount_u, parse_amount};
use super::chain::Chain;
use super::params::{hash, Params};
use super::rpc::RpcError;
use super::views;
use super::wallet_rpc::{asset_param, is_address};

/// `getbalance ( "*" minconf include_watchonly avoid_reuse assetlabel )`.
pub(crate) fn balance(chain: &Chain, p: &Params) -> Result<Value, RpcError> {
    if let Some(dummy) = p.str_at(0)? {
        if dummy != "*" {
            return Err(RpcError::new(
                -32,
                "dummy first argument must be excluded or set to \"*\".",
            ));
        }
    }
    let min_conf = u64::try_from(p.int_at(1, 0)?).unwrap_or(0);
    p.bool_at(2, false)?;
    let balances = chain.balances(min_conf);
    match p.str_at(4)? {
        Some(label) if !label.is_empty() => {
            let asset = asset_param(label)?;
            Ok(amount_u(balances.get(&asset).copied().unwrap_or(0)))
        }
        _ => Ok(views::amount_map(
            &balances
                .into_iter()
                .map(|(a, u)| (a, i128::from(u)))
                .collect(),
        )),
    }
}

/// `listunspent ( minconf maxconf ["address",…] include_unsafe query_options )`.
pub(crate) fn list_unspent(chain: &Chain, p: &Params) -> Result<Value, RpcError> {
    let min_conf = p.int_at(0, 1)?;
    let max_conf = p.int_at(1, 9_999_999)?;
    let mut addresses = Vec::new();
    for item in p.array_at(2)?.into_iter().flatten() {
        let Value::String(address) = item else {
            return Err(RpcError::type_error("Invalid address: not a string"));
        };
        if !is_address(address) {
            return Err(RpcError::invalid_address(format!(
                "Invalid Bitcoin address: {address}"
            )));
        }
        if addresses.contains(address) {
            return Err(RpcError::invalid_parameter(format!(
                "Invalid parameter, duplicated address: {address}"
            )));
        }
        addresses.push(address.clone());
    }
    let include_unsafe = p.bool_at(3, true)?;
    let options = p.object_at(4)?;
    let option = |name: &str| options.and_then(|o| o.get(name)).filter(|v| !v.is_null());
    let minimum = option("minimumAmount")
        .map(|v| parse_amount(v, true))
        .transpose()?;
    let maximum = option("maximumAmount")
        .map(|v| parse_amount(v, true))
        .transpose()?;
    let maximum_count = option("maximumCount")
        .map(super::params::int_value)
        .transpose()?;
    let asset = match option("asset") {
        Some(Value::String(text)) if !text.is_empty() => Some(asset_param(text)?),
        _ => None,
    };
    let mut list = Vec::new();
    for (tx, vout, out, conf) in chain.wallet_utxos(0) {
        let conf_i = i64::try_from(conf).unwrap_or(i64::MAX);
        let safe = conf > 0 || tx.from_wallet;
        let address_ok =
            addresses.is_empty() || out.address.as_ref().is_some_and(|a| addresses.contains(a));
        let wanted = conf_i >= min_conf
            && conf_i <= max_conf
            && (include_unsafe || safe)
            && address_ok
            && minimum.is_none_or(|m| out.amount >= m)
            && maximum.is_none_or(|m| out.amount <= m)
            && asset.as_ref().is_none_or(|a| *a == out.asset);
        if wanted {
            list.push(views::unspent(chain, tx, vout, out, conf));
        }
        if maximum_count.is_some_and(|m| m > 0 && list.len() >= usize::try_from(m).unwrap_or(0)) {
            break;
        }
    }
    Ok(Value::Array(list))
}

/// `listtransactions ( "*" count skip include_watchonly )`: the most recent
/// entries, oldest first.
pub(crate) fn list_transactions(chain: &Chain, p: &Params) -> Result<Value, RpcError> {
    let label = p.str_at(0)?;
    if label.is_some_and(|l| l != "*" && l.is_empty()) {
        return Err(RpcError::invalid_parameter(
            "Label argument must be a valid label name or \"*\".",
        ));
    }
    let count = p.int_at(1, 10)?;
    let skip = p.int_at(2, 0)?;
    if count < 0 {
        return Err(RpcError::invalid_parameter("Negative count"));
    }
    if skip < 0 {
        return Err(RpcError::invalid_parameter("Negative from"));
    }
    let count = usize::try_from(count).unwrap_or(usize::MAX);
    let skip = usize::try_from(skip).unwrap_or(usize::MAX);
    let filter = label.filter(|l| *l != "*");
    let mut newest_first: Vec<Value> = Vec::new();
    for txid in chain.wallet_txs.iter().rev() {
        let Some(tx) = chain.txs.get(txid) else {
            continue;
        };
        let mut entries = views::entries(chain, tx, true);
        if let Some(label) = filter {
            // A label keeps only incoming entries with that label.
            entries.retain(|e| e["category"] == "receive" && e["label"] == label);
        }
        newest_first.extend(entries.into_iter().rev());
        if newest_first.len() >= count.saturating_add(skip) {
            break;
        }
    }
    let page: Vec<Value> = newest_first.into_iter().skip(skip).take(count).collect();
    Ok(Value::Array(page.into_iter().rev().collect()))
}

/// `listsinceblock ( "blockhash" target_confirmations … )`: the wallet's
/// entries mined after that block or not mined yet, and `lastblock`.
pub(crate) fn list_since_block(chain: &Chain, p: &Params) -> Result<Value, RpcError> {
    let after = match p.get(0) {
        None => None,
        Some(value) => {
            let wanted = hash(value, "blockhash")?;
            let block = chain.blocks.iter().find(|b| b.hash == wanted);
            Some(
                block
                    .ok_or_else(|| RpcError::invalid_address("Block not found"))?
                    .height,
            )
        }
    };
    let target = p.int_at(1, 1)?;
    if target < 1 {
        return Err(RpcError::invalid_parameter("Invalid parameter"));
    }
    let mut list = Vec::new();
    for txid in &chain.wallet_txs {
        let Some(tx) = chain.txs.get(txid) else {
            continue;
        };
        if tx.height.is_none_or(|h| after.is_none_or(|a| h > a)) {
            list.extend(views::entries(chain, tx, true));
        }
    }
    let target = u64::try_from(target).unwrap_or(1);
    let last = chain
        .height()
        .checked_sub(target - 1)
        .and_then(|h| chain.block_at(h))
        .unwrap_or_else(|| chain.tip());
    Ok(json!({"transactions": list, "removed": [], "lastblock": last.hash}))
}
