//! The node calls the jobs make, typed where the job reads the answer and
//! passed through as the node wrote it where AMP reads it (`details`,
//! `listunspent` and `listissuances` entries).
//!
//! Shapes: Elements Core's RPC help, and what `blockstream-amp-confirm.py`
//! sends and reads (amp-api.md §4b).

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Number, Value};

use super::ElementsRpc;
use crate::error::{Error, Result, RpcErrorKind};

/// What `getnetworkinfo`'s `subversion` must contain.
pub const NODE_NAME: &str = "Elements Core";
/// The oldest node version the jobs accept (0.17.0.1), as the official script.
pub const MIN_ELEMENTS_VERSION: i64 = 170_001;

/// `getnetworkinfo`, the fields the checks read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NetworkInfo {
    /// e.g. `230201`.
    #[serde(default)]
    pub version: i64,
    /// e.g. `/Elements Core:23.2.1/`.
    #[serde(default)]
    pub subversion: String,
}

/// `getblockchaininfo`, the fields the jobs read.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct BlockchainInfo {
    /// The chain's name (`liquidv1`, `liquidtestnet`, `elementsregtest` …).
    #[serde(default)]
    pub chain: String,
    /// The tip's height.
    #[serde(default)]
    pub blocks: u64,
    /// The tip's hash.
    #[serde(default)]
    pub bestblockhash: String,
    /// 0 to 1; the official script wants at least 0.999.
    #[serde(default)]
    pub verificationprogress: f64,
}

/// `reissueasset`'s answer: the reissuance transaction and its input.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Reissued {
    /// The transaction.
    pub txid: String,
    /// The input that reissues.
    pub vin: u32,
}

/// `gettransaction`, what the jobs read; `details` as the node wrote it.
#[derive(Debug, Clone, Deserialize)]
pub struct WalletTx {
    /// The transaction.
    pub txid: String,
    /// Blocks on top of it, its own included; 0 in the mempool, negative
    /// when it conflicts with a transaction in the chain.
    #[serde(default)]
    pub confirmations: i64,
    /// The block that holds it.
    #[serde(default)]
    pub blockheight: Option<u64>,
    /// Its outputs as the wallet sees them (what AMP's confirm takes).
    #[serde(default)]
    pub details: Value,
}

/// `listsinceblock`: the wallet's transactions since a block (and in the
/// mempool), one entry per output the wallet sent or received.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct SinceBlock {
    /// The entries.
    #[serde(default)]
    pub transactions: Vec<Value>,
    /// The tip the listing went up to.
    #[serde(default)]
    pub lastblock: String,
}

/// `getaddressinfo`, the field the wallet search reads.
#[derive(Debug, Deserialize)]
struct AddressInfo {
    /// Left out by Elements for a witness version it does not know.
    unconfidential: Option<String>,
}

/// An amount the node wrote in whole coins, in base units (10^-8); `None`
/// when it is not a number. Negative for what a wallet sent.
///
/// ```
/// use amp_elements::units;
/// assert_eq!(units(&serde_json::json!(0.3)), Some(30_000_000));
/// assert_eq!(units(&serde_json::json!(-1e-8)), Some(-1));
/// assert_eq!(units(&serde_json::json!("x")), None);
/// ```
pub fn units(amount: &Value) -> Option<i64> {
    let coins = amount.as_f64()?;
    let units = (coins * 100_000_000.0).round();
    // Liquid caps an asset at 21e14 units; anything beyond is not an amount.
    if units.is_finite() && units.abs() < 9.0e15 {
        // In range and integral: the conversion is exact.
        #[allow(clippy::cast_possible_truncation)]
        Some(units as i64)
    } else {
        None
    }
}

impl ElementsRpc {
    /// `getnetworkinfo`.
    pub async fn network_info(&self) -> Result<NetworkInfo> {
        self.call("getnetworkinfo", json!([])).await
    }

    /// `getblockchaininfo`.
    pub async fn blockchain_info(&self) -> Result<BlockchainInfo> {
        self.call("getblockchaininfo", json!([])).await
    }

    /// Whether the wallet is locked by a passphrase, the official script's
    /// way: `signmessage "invalidaddress" "message"` fails with -13 only
    /// when it is (any other error means the keys were reachable).
    pub async fn wallet_locked(&self) -> Result<bool> {
        match self
            .call_value("signmessage", json!(["invalidaddress", "message"]))
            .await
        {
            Ok(_) => Ok(false),
            Err(Error::Rpc {
                kind: RpcErrorKind::WalletLocked,
                ..
            }) => Ok(true),
            Err(e @ (Error::Rpc { .. } | Error::BadAnswer { .. })) => {
                // -5 invalid address is the expected answer of an unlocked wallet.
                tracing::debug!(error = %e, "signmessage probe");
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// `sendmany "" amounts 0 "" [] false 1 "UNSET" assets`, exactly as the
    /// official script sends a distribution; the txid.
    pub async fn send_many(
        &self,
        amounts: &BTreeMap<String, Number>,
        assets: &BTreeMap<String, String>,
    ) -> Result<String> {
        let params = json!(["", amounts, 0, "", [], false, 1, "UNSET", assets]);
        self.call("sendmany", params).await
    }

    /// `reissueasset asset amount` (whole coins).
    pub async fn reissue_asset(&self, asset_id: &str, amount: &Number) -> Result<Reissued> {
        self.call("reissueasset", json!([asset_id, amount])).await
    }

    /// `destroyamount asset amount` (whole coins); the txid.
    pub async fn destroy_amount(&self, asset_id: &str, amount: &Number) -> Result<String> {
        self.call("destroyamount", json!([asset_id, amount])).await
    }

    /// `gettransaction txid`.
    pub async fn transaction(&self, txid: &str) -> Result<WalletTx> {
        self.call("gettransaction", json!([txid])).await
    }

    /// `listunspent`, each entry as the node wrote it.
    pub async fn list_unspent(&self) -> Result<Vec<Value>> {
        self.call("listunspent", json!([])).await
    }

    /// `listissuances [asset]`, each entry as the node wrote it.
    pub async fn list_issuances(&self, asset_id: Option<&str>) -> Result<Vec<Value>> {
        let params = match asset_id {
            Some(asset) => json!([asset]),
            None => json!([]),
        };
        self.call("listissuances", params).await
    }

    /// `getbalance "*" 0 false`: every asset's balance (unconfirmed
    /// included), by asset id or label, in base units.
    pub async fn balances(&self) -> Result<BTreeMap<String, i64>> {
        let map: BTreeMap<String, Value> = self.call("getbalance", json!(["*", 0, false])).await?;
        Ok(map
            .into_iter()
            .filter_map(|(asset, amount)| units(&amount).map(|u| (asset, u)))
            .collect())
    }

    /// The address without its blinding key (`getaddressinfo`'s
    /// `unconfidential`): the form in which the node names the address of
    /// an output in `gettransaction`, `listtransactions` and
    /// `listsinceblock` (the output script's address; the blinding key is
    /// not in the script). An address that is not confidential, or that the
    /// node gives no such form of, is its own.
    pub async fn unconfidential(&self, address: &str) -> Result<String> {
        let info: AddressInfo = self.call("getaddressinfo", json!([address])).await?;
        Ok(info.unconfidential.unwrap_or_else(|| address.to_string()))
    }

    /// `listsinceblock blockhash 1 false true`: what the wallet sent and
    /// received since that block (`None`: ever), the mempool included.
    pub async fn since_block(&self, blockhash: Option<&str>) -> Result<SinceBlock> {
        self.call("listsinceblock", json!([blockhash, 1, false, true]))
            .await
    }
}
