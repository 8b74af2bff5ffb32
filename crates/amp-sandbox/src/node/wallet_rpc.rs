//! The wallet's RPC methods, with Elements Core's parameters, checks, error
//! codes and messages (`src/wallet/rpc/*.cpp`).

use std::time::Duration;

use serde_json::{json, Value};

use super::amount::parse_amount;
use super::chain::{Chain, Issuance, Minting, Payment, SendError, POLICY_ASSET};
use super::params::{hash, Params};
use super::rpc::RpcError;
use super::{lists, views};
use crate::data::{hex64, unconfidential};

/// Whether `text` is shaped like a Liquid address: base58 or bech32
/// characters, 26 to 110 of them. The sandbox checks no checksum.
pub(crate) fn is_address(text: &str) -> bool {
    (26..=110).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// A label or comment as kept: without the control character that marks
/// amounts in answers (see `amount::write_json`).
fn clean(text: &str) -> String {
    text.replace('\u{1}', "")
}

fn unlocked(chain: &Chain) -> Result<(), RpcError> {
    if chain.wallet.is_locked() {
        Err(RpcError::wallet_locked())
    } else {
        Ok(())
    }
}

pub(crate) fn asset_param(text: &str) -> Result<String, RpcError> {
    views::asset_from(text)
        .ok_or_else(|| RpcError::wallet(format!("Unknown label and invalid asset hex: {text}")))
}

fn send_error(err: SendError) -> RpcError {
    match err {
        SendError::InsufficientFunds => RpcError::insufficient_funds(),
    }
}

/// Runs one wallet method.
pub(crate) fn call(chain: &mut Chain, method: &str, p: &Params) -> Result<Value, RpcError> {
    match method {
        "getwalletinfo" => Ok(wallet_info(chain)),
        "getnewaddress" => {
            let label = p.str_at(0)?.unwrap_or("");
            if label == "*" {
                return Err(RpcError::new(-11, "Invalid label name"));
            }
            Ok(json!(chain.wallet.new_address(Some(clean(label)))))
        }
        "getrawchangeaddress" => Ok(json!(chain.wallet.new_address(None))),
        "getaddressinfo" => {
            let address = p.required_str(0, method)?;
            if !is_address(address) {
                return Err(RpcError::invalid_address("Invalid address"));
            }
            let mine = chain.wallet.is_mine(address);
            let labels = match chain.wallet.addresses.get(address) {
                Some(Some(label)) => json!([label]),
                _ => json!([]),
            };
            Ok(json!({
                "address": address,
                "unconfidential": unconfidential(address),
                "ismine": mine,
                "solvable": mine,
                "iswatchonly": false,
                "isscript": false,
                "iswitness": true,
                "ischange": chain.wallet.is_change(address),
                "labels": labels,
            }))
        }
        "signmessage" => {
            unlocked(chain)?;
            let address = p.required_str(0, method)?;
            let message = p.required_str(1, method)?;
            if !is_address(address) {
                return Err(RpcError::invalid_address("Invalid address"));
            }
            // Segwit and confidential addresses do not refer to a key.
            if !chain.wallet.is_mine(address) {
                return Err(RpcError::type_error("Address does not refer to key"));
            }
            Ok(json!(hex64(&format!("signature {address} {message}"))))
        }
        "walletpassphrase" => passphrase(chain, p),
        "walletlock" => {
            if chain.wallet.passphrase.is_none() {
                return Err(RpcError::new(
                    -15,
                    "Error: running with an unencrypted wallet, but walletlock was called.",
                ));
            }
            chain.wallet.unlocked_until = None;
            Ok(Value::Null)
        }
        "getbalance" => lists::balance(chain, p),
        "listunspent" => lists::list_unspent(chain, p),
        "gettransaction" => {
            let txid = hash(p.required(0, method)?, "txid")?;
            p.bool_at(1, false)?;
            p.bool_at(2, false)?;
            let filter = match p.str_at(3)? {
                Some(text) if !text.is_empty() => Some(asset_param(text)?),
                _ => None,
            };
            let tx = chain
                .wallet_txs
                .contains(&txid)
                .then(|| chain.txs.get(&txid))
                .flatten()
                .ok_or_else(|| RpcError::invalid_address("Invalid or non-wallet transaction id"))?;
            Ok(views::transaction(chain, tx, filter.as_deref()))
        }
        "listtransactions" => lists::list_transactions(chain, p),
        "listsinceblock" => lists::list_since_block(chain, p),
        "sendmany" => send_many(chain, p),
        "reissueasset" => reissue(chain, p),
        "listissuances" => {
            let filter = p.str_at(0)?.map(asset_param).transpose()?;
            let list: Vec<Value> = chain
                .wallet_txs
                .iter()
                .filter_map(|t| chain.txs.get(t))
                .filter(|t| {
                    t.issuance
                        .as_ref()
                        .is_some_and(|i| filter.as_ref().is_none_or(|f| *f == i.asset))
                })
                .filter_map(views::issuance)
                .collect();
            Ok(Value::Array(list))
        }
        "destroyamount" => destroy(chain, p),
        _ => Err(RpcError::method_not_found()),
    }
}

fn wallet_info(chain: &Chain) -> Value {
    let balances = chain.balances(1);
    let mut info = json!({
        "walletname": "",
        "walletversion": 169_900,
        "format": "sqlite",
        "balance": views::amount_map(&balances.iter().map(|(a, u)| (a.clone(), i128::from(*u))).collect()),
        "txcount": chain.wallet_txs.len(),
        "keypoolsize": 1000,
        "private_keys_enabled": true,
        "avoid_reuse": false,
        "scanning": false,
        "descriptors": true,
    });
    if chain.wallet.passphrase.is_some() {
        let until = match chain.wallet.unlocked_until {
            Some(at) if !chain.wallet.is_locked() => {
                let left = at.saturating_duration_since(tokio::time::Instant::now());
                crate::data::now_unix() + i64::try_from(left.as_secs()).unwrap_or(0)
            }
            _ => 0,
        };
        info["unlocked_until"] = json!(until);
    }
    info
}

/// `walletpassphrase passphrase timeout`: unlocks for at most 100 000 000 s.
fn passphrase(chain: &mut Chain, p: &Params) -> Result<Value, RpcError> {
    let given = p.required_str(0, "walletpassphrase")?.to_owned();
    let timeout = super::params::int_value(p.required(1, "walletpassphrase")?)?;
    let Some(expected) = chain.wallet.passphrase.clone() else {
        return Err(RpcError::new(
            -15,
            "Error: running with an unencrypted wallet, but walletpassphrase was called.",
        ));
    };
    if timeout < 0 {
        return Err(RpcError::invalid_parameter("Timeout cannot be negative."));
    }
    if given.is_empty() {
        return Err(RpcError::invalid_parameter("passphrase can not be empty"));
    }
    if given != expected {
        return Err(RpcError::new(
            -14,
            "Error: The wallet passphrase entered was incorrect.",
        ));
    }
    let seconds = u64::try_from(timeout).unwrap_or(0).min(100_000_000);
    chain.wallet.unlocked_until = Some(tokio::time::Instant::now() + Duration::from_secs(seconds));
    Ok(Value::Null)
}

/// The official script's call: `sendmany "" {address: amount} 0 "" [] false
/// 1 "UNSET" {address: asset}`.
fn send_many(chain: &mut Chain, p: &Params) -> Result<Value, RpcError> {
    if let Some(dummy) = p.str_at(0)? {
        if !dummy.is_empty() {
            return Err(RpcError::invalid_parameter(
                "Dummy value must be set to \"\"",
            ));
        }
    }
    let amounts = p.object_at(1)?.ok_or_else(|| {
        RpcError::misc("sendmany: missing required parameter 2; see help sendmany")
    })?;
    let comment = p.str_at(3)?.filter(|c| !c.is_empty()).map(clean);
    let subtract = p.array_at(4)?.map_or(0, Vec::len);
    p.bool_at(5, false)?;
    let mode = p.str_at(7)?.unwrap_or("unset").to_ascii_lowercase();
    if !["unset", "economical", "conservative"].contains(&mode.as_str()) {
        return Err(RpcError::invalid_parameter(
            "Invalid estimate_mode parameter, must be one of: \"unset\", \"economical\", \"conservative\"",
        ));
    }
    let assets = p.object_at(8)?;
    let verbose = p.bool_at(11, false)?;
    if subtract > 0 {
        return Err(RpcError::invalid_parameter(
            "The sandbox node does not subtract fees from outputs",
        ));
    }
    let mut payments = Vec::new();
    for (address, value) in amounts {
        if !is_address(address) {
            return Err(RpcError::invalid_address(format!(
                "Invalid Bitcoin address: {address}"
            )));
        }
        let asset = match assets.and_then(|a| a.get(address)) {
            None => POLICY_ASSET.to_owned(),
            Some(Value::String(text)) => asset_param(text)?,
            Some(other) => {
                return Err(RpcError::type_error(format!(
                    "JSON value of type {} is not of expected type string",
                    if other.is_number() {
                        "number"
                    } else {
                        "non-string"
                    }
                )))
            }
        };
        let units = parse_amount(value, true)?;
        if units == 0 {
            return Err(RpcError::type_error("Invalid amount for send"));
        }
        payments.push(Payment {
            address: Some(address.clone()),
            asset,
            amount: units,
        });
    }
    if payments.is_empty() {
        return Err(RpcError::invalid_parameter(
            "Transaction must have at least one recipient",
        ));
    }
    unlocked(chain)?;
    let txid = chain.send(&payments, comment, None).map_err(send_error)?;
    Ok(if verbose {
        json!({"txid": txid, "fee_reason": "Fallback fee"})
    } else {
        json!(txid)
    })
}

/// `reissueasset asset assetamount` → `{"txid", "vin"}`: spends a token
/// output of the asset, sends the new amount and the token to new addresses.
fn reissue(chain: &mut Chain, p: &Params) -> Result<Value, RpcError> {
    let asset = asset_param(p.required_str(0, "reissueasset")?)?;
    let units = parse_amount(p.required(1, "reissueasset")?, false)?;
    if units == 0 {
        return Err(RpcError::type_error(
            "Reissuance must create a non-zero amount.",
        ));
    }
    let known = chain.known_issuances();
    if known
        .iter()
        .any(|i| i.token.as_deref() == Some(asset.as_str()))
    {
        return Err(RpcError::wallet(
            "Asset given is a reissuance token type and can not be reissued.",
        ));
    }
    let Some(original) = known
        .into_iter()
        .find(|i| i.asset == asset && i.token.is_some())
        .cloned()
    else {
        return Err(RpcError::wallet(
            "Asset reissuance token definition could not be found in wallet.",
        ));
    };
    let token = original.token.clone().unwrap_or_default();
    unlocked(chain)?;
    let token_input = chain
        .wallet_utxos(0)
        .into_iter()
        .find(|(tx, _, out, conf)| out.asset == token && (*conf > 0 || tx.from_wallet))
        .map(|(tx, vout, out, _)| (tx.txid.clone(), vout, out.amount));
    let Some((token_txid, token_vout, token_units)) = token_input else {
        return Err(RpcError::insufficient_funds());
    };
    let asset_address = chain.wallet.new_address(Some(String::new()));
    let token_address = chain.wallet.new_address(Some(String::new()));
    let issuance = Issuance {
        vin: 0,
        asset: asset.clone(),
        token: None,
        asset_amount: units,
        token_amount: 0,
        is_reissuance: true,
        entropy: original.entropy.clone(),
        asset_blinds: hex64(&format!(
            "reissuance blinds {asset} {units} {}",
            chain.height()
        )),
        token_blinds: crate::node::chain::ZERO_BLINDER.to_owned(),
    };
    let minted = vec![Payment {
        address: Some(asset_address),
        asset,
        amount: units,
    }];
    // The token moves to a new receiving address, as Elements moves it.
    let token_payment = Payment {
        address: Some(token_address),
        asset: token,
        amount: token_units,
    };
    let minting = Minting {
        issuance,
        forced_inputs: vec![(token_txid, token_vout)],
        minted,
    };
    let txid = chain
        .send(&[token_payment], None, Some(minting))
        .map_err(send_error)?;
    Ok(json!({"txid": txid, "vin": 0}))
}

/// `destroyamount asset amount ( "comment" verbose )`: an `OP_RETURN` output
/// of the amount.
fn destroy(chain: &mut Chain, p: &Params) -> Result<Value, RpcError> {
    let asset = asset_param(p.required_str(0, "destroyamount")?)?;
    let units = parse_amount(p.required(1, "destroyamount")?, true)?;
    if units == 0 {
        return Err(RpcError::type_error("Invalid amount to destroy"));
    }
    let comment = p.str_at(2)?.filter(|c| !c.is_empty()).map(clean);
    let verbose = p.bool_at(3, false)?;
    unlocked(chain)?;
    let payment = Payment {
        address: None,
        asset,
        amount: units,
    };
    let txid = chain.send(&[payment], comment, None).map_err(send_error)?;
    Ok(if verbose {
        json!({"txid": txid, "fee_reason": "Fallback fee"})
    } else {
        json!(txid)
    })
}
