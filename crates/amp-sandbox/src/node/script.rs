//! What Blockstream's `blockstream-amp-confirm.py` does with the issuer's
//! node, done directly on the sandbox's node (the same code the RPCs run,
//! not counted as requests): for tests and examples that need a confirmed
//! transaction but are not about the node. Each sends, mines
//! [`REQUIRED_CONFIRMATIONS`](crate::REQUIRED_CONFIRMATIONS) blocks, and
//! answers the confirm body the script would post.

use serde_json::{json, Value};

use super::amount::write_json;
use super::chain::Chain;
use super::rpc::{self, RpcError};
use crate::REQUIRED_CONFIRMATIONS;

/// An answer with its amounts as JSON numbers.
fn plain(value: &Value) -> Value {
    serde_json::from_str(&write_json(value)).unwrap_or(Value::Null)
}

fn call(chain: &mut Chain, method: &str, params: Value) -> Result<Value, RpcError> {
    rpc::call(chain, method, Some(&params)).map(|v| plain(&v))
}

/// `change_data`: the `listunspent` entries of `asset_id` from `txid`.
fn change(chain: &mut Chain, txid: &str, asset_id: &Value) -> Result<Value, RpcError> {
    let unspent = call(chain, "listunspent", json!([]))?;
    let list: Vec<Value> = unspent
        .as_array()
        .into_iter()
        .flatten()
        .filter(|u| u["asset"] == *asset_id && u["txid"] == txid)
        .cloned()
        .collect();
    Ok(Value::Array(list))
}

/// `sendmany "" map_address_amount 0 "" [] false 1 "UNSET" map_address_asset`,
/// two blocks, then `{"tx_data": {"details", "txid"}, "change_data"}`.
pub(crate) fn distribute(chain: &mut Chain, plan: &Value) -> Result<Value, RpcError> {
    let params = json!([
        "",
        plan["map_address_amount"],
        0,
        "",
        [],
        false,
        1,
        "UNSET",
        plan["map_address_asset"]
    ]);
    let txid = call(chain, "sendmany", params)?;
    let txid = txid.as_str().unwrap_or_default().to_owned();
    chain.mine(REQUIRED_CONFIRMATIONS);
    let details = call(chain, "gettransaction", json!([txid]))?["details"].clone();
    let change = change(chain, &txid, &plan["asset_id"])?;
    Ok(json!({"tx_data": {"details": details, "txid": txid}, "change_data": change}))
}

/// `reissueasset asset_id amount`, two blocks, then `{"details",
/// "reissuance_output": {"txid", "vin"}, "listissuances"}`.
pub(crate) fn reissue(chain: &mut Chain, plan: &Value) -> Result<Value, RpcError> {
    let output = call(
        chain,
        "reissueasset",
        json!([plan["asset_id"], plan["amount"]]),
    )?;
    let txid = output["txid"].as_str().unwrap_or_default().to_owned();
    chain.mine(REQUIRED_CONFIRMATIONS);
    let details = call(chain, "gettransaction", json!([txid]))?["details"].clone();
    let issuances = call(chain, "listissuances", json!([]))?;
    let listed: Vec<Value> = issuances
        .as_array()
        .into_iter()
        .flatten()
        .filter(|i| i["txid"] == txid.as_str())
        .cloned()
        .collect();
    Ok(json!({"details": details, "reissuance_output": output, "listissuances": listed}))
}

/// `destroyamount asset_id amount`, two blocks, then `{"tx_data": {"txid"},
/// "change_data"}`.
pub(crate) fn burn(chain: &mut Chain, plan: &Value) -> Result<Value, RpcError> {
    let txid = call(
        chain,
        "destroyamount",
        json!([plan["asset_id"], plan["amount"]]),
    )?;
    let txid = txid.as_str().unwrap_or_default().to_owned();
    chain.mine(REQUIRED_CONFIRMATIONS);
    let change = change(chain, &txid, &plan["asset_id"])?;
    Ok(json!({"tx_data": {"txid": txid}, "change_data": change}))
}
