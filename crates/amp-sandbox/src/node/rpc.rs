//! The RPC methods: their parameter names, and the node-level ones
//! (network, chain, mining). The wallet's are in `wallet_rpc`.

use serde_json::{json, Value};

use super::chain::Chain;
use super::params::Params;
use super::wallet_rpc;

/// Elements Core's version number as `getnetworkinfo` writes it (23.2.4,
/// the release line issuers run; the official script needs ≥ 170001).
pub(crate) const NODE_VERSION: u64 = 230_204;
/// `getnetworkinfo`'s `subversion`: the official script looks for "Elements Core".
pub(crate) const NODE_SUBVERSION: &str = "/Elements Core:23.2.4/";

/// An RPC error: `{"code", "message"}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcError {
    /// The RPC error code (`src/rpc/protocol.h`), e.g. -6 insufficient funds.
    pub code: i64,
    /// The message, as Elements words it.
    pub message: String,
}

impl RpcError {
    /// An error with this code and message.
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn misc(message: impl Into<String>) -> Self {
        RpcError::new(-1, message)
    }

    pub(crate) fn type_error(message: impl Into<String>) -> Self {
        RpcError::new(-3, message)
    }

    pub(crate) fn wallet(message: impl Into<String>) -> Self {
        RpcError::new(-4, message)
    }

    pub(crate) fn invalid_address(message: impl Into<String>) -> Self {
        RpcError::new(-5, message)
    }

    pub(crate) fn invalid_parameter(message: impl Into<String>) -> Self {
        RpcError::new(-8, message)
    }

    pub(crate) fn invalid_request(message: impl Into<String>) -> Self {
        RpcError::new(-32600, message)
    }

    /// `-6`, the message of a wallet that cannot fund a transaction.
    pub fn insufficient_funds() -> Self {
        RpcError::new(-6, "Insufficient funds")
    }

    /// `-13`, what a locked wallet answers (`EnsureWalletIsUnlocked`).
    pub fn wallet_locked() -> Self {
        RpcError::new(
            -13,
            "Error: Please enter the wallet passphrase with walletpassphrase first.",
        )
    }

    /// `-32601`, an unknown method.
    pub(crate) fn method_not_found() -> Self {
        RpcError::new(-32601, "Method not found")
    }

    /// The JSON form.
    pub(crate) fn json(&self) -> Value {
        json!({"code": self.code, "message": self.message})
    }
}

impl std::fmt::Display for RpcError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RPC error {}: {}", self.code, self.message)
    }
}

impl std::error::Error for RpcError {}

/// Every method the node answers, with its parameter names (for named
/// parameters), as Elements Core's RPC help lists them.
pub(crate) const METHODS: &[(&str, &[&str])] = &[
    ("getnetworkinfo", &[]),
    ("getblockchaininfo", &[]),
    ("getblockcount", &[]),
    ("getbestblockhash", &[]),
    ("getblockhash", &["height"]),
    ("generatetoaddress", &["nblocks", "address", "maxtries"]),
    ("getwalletinfo", &[]),
    ("getnewaddress", &["label", "address_type"]),
    ("getrawchangeaddress", &["address_type"]),
    ("getaddressinfo", &["address"]),
    ("signmessage", &["address", "message"]),
    ("walletpassphrase", &["passphrase", "timeout"]),
    ("walletlock", &[]),
    (
        "getbalance",
        &[
            "dummy",
            "minconf",
            "include_watchonly",
            "avoid_reuse",
            "assetlabel",
        ],
    ),
    (
        "listunspent",
        &[
            "minconf",
            "maxconf",
            "addresses",
            "include_unsafe",
            "query_options",
        ],
    ),
    (
        "gettransaction",
        &["txid", "include_watchonly", "verbose", "assetlabel"],
    ),
    (
        "listtransactions",
        &["label", "count", "skip", "include_watchonly"],
    ),
    (
        "listsinceblock",
        &[
            "blockhash",
            "target_confirmations",
            "include_watchonly",
            "include_removed",
            "include_change",
            "label",
        ],
    ),
    (
        "sendmany",
        &[
            "dummy",
            "amounts",
            "minconf",
            "comment",
            "subtractfeefrom",
            "replaceable",
            "conf_target",
            "estimate_mode",
            "output_assets",
            "ignoreblindfail",
            "fee_rate",
            "verbose",
        ],
    ),
    ("reissueasset", &["asset", "assetamount"]),
    ("listissuances", &["asset"]),
    ("destroyamount", &["asset", "amount", "comment", "verbose"]),
];

/// Runs one call against the chain and wallet.
pub(crate) fn call(
    chain: &mut Chain,
    method: &str,
    params: Option<&Value>,
) -> Result<Value, RpcError> {
    let Some((_, names)) = METHODS.iter().find(|(m, _)| *m == method) else {
        return Err(RpcError::method_not_found());
    };
    let p = Params::new(method, names, params)?;
    match method {
        "getnetworkinfo" => Ok(network_info()),
        "getblockchaininfo" => Ok(blockchain_info(chain)),
        "getblockcount" => Ok(json!(chain.height())),
        "getbestblockhash" => Ok(json!(chain.tip().hash)),
        "getblockhash" => {
            let height = super::params::int_value(p.required(0, method)?)?;
            u64::try_from(height)
                .ok()
                .and_then(|h| chain.block_at(h))
                .map(|b| json!(b.hash))
                .ok_or_else(|| RpcError::invalid_parameter("Block height out of range"))
        }
        "generatetoaddress" => generate(chain, &p),
        _ => wallet_rpc::call(chain, method, &p),
    }
}

/// `getnetworkinfo`, with what the official script reads first.
fn network_info() -> Value {
    json!({
        "version": NODE_VERSION,
        "subversion": NODE_SUBVERSION,
        "protocolversion": 70016,
        "localservices": "0000000000000409",
        "localservicesnames": ["NETWORK", "WITNESS", "NETWORK_LIMITED"],
        "localrelay": true,
        "timeoffset": 0,
        "networkactive": true,
        "connections": 0,
        "connections_in": 0,
        "connections_out": 0,
        "networks": [],
        "relayfee": super::amount::amount(1_000),
        "incrementalfee": super::amount::amount(1_000),
        "localaddresses": [],
        "warnings": "",
    })
}

/// `getblockchaininfo`: always synchronised (`verificationprogress` 1).
fn blockchain_info(chain: &Chain) -> Value {
    let tip = chain.tip();
    json!({
        "chain": "liquidtestnet",
        "blocks": tip.height,
        "headers": tip.height,
        "bestblockhash": tip.hash,
        "time": tip.time,
        "mediantime": tip.time,
        "verificationprogress": 1,
        "initialblockdownload": false,
        "size_on_disk": 0,
        "pruned": false,
        "trim_headers": false,
        "warnings": "",
    })
}

/// `generatetoaddress nblocks address`: the blocks' hashes. The sandbox's
/// blocks carry no coinbase to the address (Liquid has no block subsidy).
fn generate(chain: &mut Chain, p: &Params) -> Result<Value, RpcError> {
    let count = super::params::int_value(p.required(0, "generatetoaddress")?)?;
    let address = p.required_str(1, "generatetoaddress")?;
    if !super::wallet_rpc::is_address(address) {
        return Err(RpcError::invalid_address("Error: Invalid address"));
    }
    let count = u64::try_from(count).unwrap_or(0).min(1_000);
    Ok(json!(chain.mine(count)))
}
