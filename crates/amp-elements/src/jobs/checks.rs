//! The checks before anything is sent, as the official script makes them
//! (amp-api.md §4b). Each failure is an [`Error::Check`] naming the check
//! and saying why; nothing is sent after one.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::journal::JobKind;
use crate::node::{units, ElementsRpc, MIN_ELEMENTS_VERSION, NODE_NAME};

/// The version of the official confirm script whose behaviour the jobs
/// follow; AMP's requests name the oldest they accept.
pub const SCRIPT_VERSION: i64 = 2;

/// The node is Elements Core, recent enough, synchronised, and its wallet
/// is not locked.
pub(super) async fn node(node: &ElementsRpc) -> Result<()> {
    let info = node.network_info().await?;
    if !info.subversion.contains(NODE_NAME) {
        return Err(Error::check(
            "Elements node",
            format!(
                "the node says it is {:?}, not {NODE_NAME}: is the URL the issuer's Elements node?",
                info.subversion
            ),
        ));
    }
    if info.version < MIN_ELEMENTS_VERSION {
        return Err(Error::check(
            "Elements version",
            format!(
                "the node is version {}; at least {MIN_ELEMENTS_VERSION} is needed",
                info.version
            ),
        ));
    }
    let chain = node.blockchain_info().await?;
    if chain.verificationprogress < 0.999 {
        return Err(Error::check(
            "node synchronised",
            format!(
                "the node has verified {:.1} % of the chain; wait until it is synchronised",
                chain.verificationprogress * 100.0
            ),
        ));
    }
    if node.wallet_locked().await? {
        return Err(Error::check(
            "wallet unlocked",
            "the node's wallet is locked by a passphrase (RPC error -13): unlock it \
             (elements-cli walletpassphrase PASSPHRASE SECONDS) for as long as the job takes",
        ));
    }
    Ok(())
}

/// AMP's request answer is for this job and this script version.
pub(super) fn request(kind: JobKind, request: &Value) -> Result<()> {
    let command = request.get("command").and_then(Value::as_str);
    if command != Some(kind.as_str()) {
        return Err(Error::check(
            "request",
            format!(
                "the request is for {:?}, not {:?}: give the answer of AMP's {} request",
                command.unwrap_or("no command"),
                kind.as_str(),
                kind.as_str()
            ),
        ));
    }
    let min = request
        .get("min_supported_client_script_version")
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if min > SCRIPT_VERSION {
        return Err(Error::check(
            "request",
            format!(
                "AMP asks for a confirm procedure of version {min} or later; this program \
                 follows version {SCRIPT_VERSION}: update it"
            ),
        ));
    }
    Ok(())
}

/// AMP has lost track of none of the asset's outputs
/// (`GET assets/{uuid}/balance`, `lost_outputs` empty).
pub(super) async fn lost_outputs(client: &amp_client::AmpClient, asset_uuid: &str) -> Result<()> {
    let balance = client.assets().balance(asset_uuid).await?;
    if balance.lost_outputs.is_empty() {
        return Ok(());
    }
    let list: Vec<String> = balance
        .lost_outputs
        .iter()
        .map(|o| format!("{}:{}", o.txid, o.vout))
        .collect();
    Err(Error::check(
        "no lost outputs",
        format!(
            "AMP lists lost outputs of the asset ({}); settle them with Blockstream before \
             sending",
            list.join(", ")
        ),
    ))
}

/// The outputs AMP asks to spend are in the wallet (`listunspent`): all of
/// them, or at least one when `all` is false.
pub(super) async fn utxos_in_wallet(node: &ElementsRpc, wanted: &[Value], all: bool) -> Result<()> {
    let unspent = node.list_unspent().await?;
    let key = |v: &Value| {
        (
            v.get("txid")
                .and_then(Value::as_str)
                .map(str::to_ascii_lowercase),
            v.get("vout").and_then(Value::as_u64),
        )
    };
    let local: Vec<_> = unspent.iter().map(key).collect();
    let missing: Vec<String> = wanted
        .iter()
        .filter(|w| !local.contains(&key(w)))
        .map(|w| {
            format!(
                "{}:{}",
                w.get("txid").and_then(Value::as_str).unwrap_or("?"),
                w.get("vout").and_then(Value::as_u64).unwrap_or(0)
            )
        })
        .collect();
    let found = wanted.len() - missing.len();
    if found == 0 || (all && !missing.is_empty()) {
        return Err(Error::check(
            "outputs in the wallet",
            format!(
                "the node's wallet does not hold {} of the outputs AMP asks to spend: {} \
                 (is this the treasury's wallet?)",
                missing.len(),
                missing.join(", ")
            ),
        ));
    }
    Ok(())
}

/// The wallet holds at least `amount` (whole coins) of `asset_id`,
/// unconfirmed included, as the script reads `getbalance "*" 0 false`.
pub(super) async fn balance(node: &ElementsRpc, asset_id: &str, amount: &Value) -> Result<()> {
    let want =
        units(amount).ok_or_else(|| Error::Input(format!("amount {amount} is not a number")))?;
    let balances = node.balances().await?;
    let have = balances.get(asset_id).copied().unwrap_or(0);
    if have < want {
        return Err(Error::check(
            "balance",
            format!("the wallet holds {have} units of asset {asset_id}; {want} are to be burned"),
        ));
    }
    Ok(())
}
