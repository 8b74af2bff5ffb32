//! A simulated Elements wallet node: the issuer's node that holds the
//! treasury of the sandbox's assets, spoken to over JSON-RPC as Elements
//! Core is.
//!
//! # Reaching it
//!
//! The node serves its own loopback port ([`crate::Sandbox::node_url`],
//! `http://127.0.0.1:PORT/`; `/wallet/sandbox` works too) with HTTP basic
//! auth: `rpcuser:rpcpassword` ([`crate::Sandbox::node_user`],
//! [`crate::Sandbox::node_password`], default `sandbox-rpc` /
//! `sandbox-rpc-password`), or the cookie it writes as Elements Core does
//! (`__cookie__:<64 hex>`, mode 0600, [`crate::Sandbox::node_cookie_path`],
//! deleted when the sandbox stops). `amp sandbox` prints both. Requests are
//! answered as Elements 23 answers them (`src/httprpc.cpp`): POST only (405
//! otherwise), 401 with `WWW-Authenticate: Basic realm="jsonrpc"` without
//! valid credentials, 404 on other paths; replies `{"result", "error",
//! "id"}` with HTTP 200, or HTTP 500 on an RPC error (404 for an unknown
//! method, 400 for an invalid request); batches (JSON arrays) answer each
//! call. [`crate::SandboxBuilder::node_jsonrpc_v2`] switches to the strict
//! JSON-RPC 2.0 replies of newer Elements for requests marked `"2.0"`.
//!
//! # Chain and wallet
//!
//! One chain for AMP and the node: every asset AMP issues is mined at once
//! in a block of its own, paying the wallet (the issue's
//! `destination_address`, and `reissuance_address` for the tokens; the
//! wallet adopts them). The wallet starts with 1 L-BTC (Liquid testnet's
//! policy asset, labelled `bitcoin`) for fees. Transactions the wallet makes
//! shuffle their recipients (as Elements does), send change per asset to new
//! change addresses, and pay a small explicit fee in L-BTC (100 units plus
//! 40 per output). Blocks take the whole mempool. Confirmations are the tip's
//! height less the block's, plus one. The sample data's distributions were
//! sent by this wallet. Addresses are only checked for shape (26 to 110
//! letters and digits).
//!
//! # Amounts
//!
//! Elements RPC amounts are BTC-style decimals with 8 places over an
//! integer number of base units, for every asset (`reissueasset`'s help:
//! "the amount is BTC-like, with 8 decimal places"); AMP counts base units.
//! So AMP's `map_address_amount`, and the `amount` of `reissue-request` and
//! `burn-request`, are base units / 10^8, **whatever the asset's
//! `precision`** (which only tells wallets how to display units): 300 units
//! of a precision-0 asset are `0.000003` for `sendmany`. Certain: the node's
//! unit (Elements' source and help) and that the official script passes
//! AMP's numbers to `sendmany`, `reissueasset` and `destroyamount` unchanged
//! and compares `getbalance` with `amount`. Inferred (no AMP source says
//! it): that AMP ignores `precision` here. The node reads amounts as Elements'
//! `AmountFromValue` does (numbers or strings, exponents such as `3e-05`, at
//! most 8 decimals, `-3` "Invalid amount" / "Amount out of range" otherwise)
//! and writes them as `ValueFromAmount` does, with exactly 8 decimals.
//!
//! # RPCs
//!
//! Parameters positional or named; `null` is omitted; too many is `-1`, a
//! wrong type `-3`, a bad value `-8` (as Elements). "Certain" means read in
//! Elements Core's source (`src/wallet/rpc/*.cpp`, `src/rpc/*.cpp`) or the
//! official script; "inferred" is the sandbox's choice where the real node
//! would need what the sandbox does not have.
//!
//! | method | parameters | answer | source |
//! |---|---|---|---|
//! | `getnetworkinfo` | — | `version` 230204, `subversion` `/Elements Core:23.2.4/`, … | certain (fields); values chosen |
//! | `getblockchaininfo` | — | `chain`, `blocks`, `bestblockhash`, `verificationprogress` 1, … | certain (fields) |
//! | `getblockcount`, `getbestblockhash`, `getblockhash height` | | height, hashes | certain |
//! | `generatetoaddress nblocks address` | | the hashes (no coinbase output) | certain (shape); no subsidy inferred |
//! | `getnewaddress (label)`, `getrawchangeaddress` | | an address (`tlq1qq…`) | certain (shape) |
//! | `getaddressinfo address` | | `unconfidential`, `ismine`, `ischange`, `labels`, … (a subset) | certain (fields); the unconfidential form a stand-in (`tex1q…` for `tlq1…`, `8…` for `vjT…`) |
//! | `getwalletinfo` | — | `walletname`, `balance`, `txcount`, `unlocked_until` if encrypted, … | certain (fields) |
//! | `signmessage address message` | | -13 when locked (first), -5 "Invalid address" for a bad address | certain (what the script relies on) |
//! | `walletpassphrase passphrase timeout`, `walletlock` | | `null`; -14 wrong passphrase, -15 unencrypted | certain |
//! | `getbalance ("*" minconf include_watchonly avoid_reuse assetlabel)` | the script's `"*", 0, false` | `{"bitcoin": n, "<asset hex>": n}`, or one amount with `assetlabel` | certain |
//! | `listunspent (minconf=1 maxconf addresses include_unsafe query_options)` | `query_options.asset`, amounts, `maximumCount` | `[{txid, vout, address, label?, scriptPubKey, amount, assetcommitment, asset, amountcommitment, amountblinder, assetblinder, confirmations, spendable, solvable, parent_descs, safe}]` | certain (fields); commitments and script are stand-ins |
//! | `gettransaction txid (include_watchonly verbose assetlabel)` | | `{amount: {asset: n}, fee: {"bitcoin": -n}?, confirmations, blockhash/blockheight/blockindex/blocktime or trusted, txid, wtxid, walletconflicts, mempoolconflicts, time, timereceived, bip125-replaceable, comment?, details, hex, lastprocessedblock}`; -5 for a transaction not the wallet's | certain; `hex` a stand-in |
//! | `details` entries | | `{address?` (unconfidential: the output script's address, without the blinding key), `category: "send"\|"receive", amount, amountblinder, asset, assetblinder, label?, vout, fee (send), abandoned}`: sends are every output but change and fee (a burn has no address), receives the wallet's outputs | certain (`CachedTxGetAmounts`, `ListTransactions`); the send's `fee` is positive as Elements writes it (`-nFee` of a negative `nFee`), though its help says negative |
//! | `listtransactions ("*" count=10 skip=0 include_watchonly)` | | the entries above with the transaction's fields, oldest first, most recent `count` after `skip` | certain |
//! | `listsinceblock (blockhash target_confirmations …)` | | `{transactions, removed: [], lastblock}` | certain (shape) |
//! | `sendmany "" amounts minconf comment subtractfeefrom replaceable conf_target estimate_mode output_assets ignoreblindfail fee_rate verbose` | the script's 9: `"" map_address_amount 0 "" [] false 1 "UNSET" map_address_asset` | the txid (`{txid, fee_reason}` verbose); -6 "Insufficient funds", -13 locked, -5 bad address, -3 bad amount, -4 unknown asset label | certain; `subtractfeefrom` refused (-8, inferred) |
//! | `reissueasset asset assetamount` | | `{txid, vin}`: spends a token output, new units and the token to new addresses | certain (shape); -6 without a token output inferred |
//! | `listissuances (asset)` | | `[{isreissuance, token?, tokenamount?, tokenblinds?, entropy, txid, vin, asset, assetlabel?, assetamount, assetblinds}]` | certain |
//! | `destroyamount asset amount (comment verbose)` | | the txid: an `OP_RETURN` output of the amount | certain |
//!
//! A client that crashed after `sendmany` finds its transaction with
//! `listtransactions "*" count skip` (or `listsinceblock`): the `send`
//! entries carry `txid`, `address`, `asset`, `amount`, `vout` and
//! `confirmations`, which it matches against the distribution's addresses and
//! amounts; then `gettransaction txid` for the confirm body.
//!
//! # Faults and counters
//!
//! [`NodeFault`]s are queued per RPC method ([`crate::Sandbox::push_node_fault`],
//! or `POST /_sandbox/node/faults`): a torn connection before or after the
//! effect, an answer held before or after the effect (a `sendmany` that
//! broadcasts and answers late), an RPC error without effect (`-6
//! Insufficient funds`, `-13` locked, any other). The node can be down
//! altogether ([`crate::Sandbox::set_node_down`]: connection refused), its
//! wallet locked ([`crate::Sandbox::set_wallet_locked`],
//! [`crate::SandboxBuilder::wallet_passphrase`]), its blocks slow or on
//! request only ([`crate::Sandbox::set_block_interval`]). Every call is counted
//! per method ([`crate::Sandbox::node_count`]) and recorded
//! ([`NodeRequestRecord`]) without the password, the cookie or the
//! `Authorization` header.

pub(crate) mod amount;
pub(crate) mod chain;
mod faults;
pub(crate) mod handle;
mod lists;
mod params;
pub(crate) mod rpc;
pub(crate) mod script;
pub(crate) mod server;
mod views;
mod wallet;
mod wallet_rpc;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::NodeFault;
pub use rpc::RpcError;

use faults::NodeFaults;

/// The user of the cookie, as Elements Core writes it.
pub const COOKIE_USER: &str = "__cookie__";

/// One request that reached the node. It never holds the password, the
/// cookie or the `Authorization` header: only the user it authenticated as.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeRequestRecord {
    /// The RPC method (`"sendmany"`), `"(batch)"` for a batch, `""` when
    /// the request was refused before its method was read.
    pub method: String,
    /// The HTTP path (`/` or `/wallet/<name>`).
    pub path: String,
    /// `rpcuser`, `__cookie__`, or `None` without valid credentials.
    pub user: Option<String>,
    /// The HTTP status answered; 0 when the connection was torn.
    pub status: u16,
    /// The RPC error code answered, if any.
    pub error_code: Option<i64>,
    /// The fault injected, if any.
    pub fault: Option<NodeFault>,
}

/// A snapshot of the node's counters and recent requests.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeStats {
    /// Calls per RPC method (each call of a batch counted).
    pub counts: BTreeMap<String, u64>,
    /// The most recent requests, oldest first (at most the record limit).
    pub requests: Vec<NodeRequestRecord>,
}

impl NodeStats {
    /// Calls of this RPC method.
    pub fn count(&self, method: &str) -> u64 {
        self.counts.get(method).copied().unwrap_or(0)
    }
}

/// The node's part of the sandbox's shared state.
pub(crate) struct NodeShared {
    pub(crate) user: String,
    pub(crate) password: String,
    pub(crate) cookie: String,
    pub(crate) cookie_path: PathBuf,
    /// The cookie's folder, when the sandbox made it (removed on drop).
    pub(crate) cookie_dir_made: Option<PathBuf>,
    pub(crate) jsonrpc_v2: bool,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) record_limit: usize,
    faults: Mutex<NodeFaults>,
    stats: Mutex<NodeStats>,
    pub(crate) server: Mutex<Option<JoinHandle<()>>>,
    pub(crate) block_interval: watch::Sender<Option<Duration>>,
    /// Moved on every call counted, for [`crate::Sandbox::node_called`].
    pub(crate) calls: watch::Sender<u64>,
    /// Calls torn down by [`NodeFault::DropAndHold`], not yet carried out:
    /// `(method, params)`.
    pub(crate) held: Mutex<Vec<(String, Option<serde_json::Value>)>>,
}

impl NodeShared {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        user: String,
        password: String,
        cookie: String,
        cookie_path: PathBuf,
        cookie_dir_made: Option<PathBuf>,
        jsonrpc_v2: bool,
        addr: std::net::SocketAddr,
        record_limit: usize,
        block_interval: Option<Duration>,
    ) -> Self {
        NodeShared {
            user,
            password,
            cookie,
            cookie_path,
            cookie_dir_made,
            jsonrpc_v2,
            addr,
            record_limit,
            faults: Mutex::new(NodeFaults::default()),
            stats: Mutex::new(NodeStats::default()),
            server: Mutex::new(None),
            block_interval: watch::channel(block_interval).0,
            calls: watch::channel(0).0,
            held: Mutex::new(Vec::new()),
        }
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, NodeFaults> {
        crate::lock(&self.faults)
    }

    pub(crate) fn count(&self, method: &str) {
        *crate::lock(&self.stats)
            .counts
            .entry(method.to_owned())
            .or_insert(0) += 1;
        self.calls.send_modify(|n| *n += 1);
    }

    pub(crate) fn record(&self, record: NodeRequestRecord) {
        let mut stats = crate::lock(&self.stats);
        if self.record_limit == 0 {
            return;
        }
        if stats.requests.len() >= self.record_limit {
            stats.requests.remove(0);
        }
        stats.requests.push(record);
    }

    pub(crate) fn stats(&self) -> NodeStats {
        crate::lock(&self.stats).clone()
    }

    pub(crate) fn reset_stats(&self) {
        *crate::lock(&self.stats) = NodeStats::default();
    }

    /// Stops serving: the port refuses connections.
    pub(crate) fn stop(&self) {
        if let Some(task) = crate::lock(&self.server).take() {
            task.abort();
        }
    }
}

impl Drop for NodeShared {
    fn drop(&mut self) {
        self.stop();
        // Elements deletes its cookie on shutdown; so does the sandbox.
        let _ = std::fs::remove_file(&self.cookie_path);
        if let Some(dir) = &self.cookie_dir_made {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// A random cookie secret: 32 bytes as 64 hex characters, as Elements Core
/// makes it (from `fastrand`: fine for a local sandbox, not for a real node).
pub(crate) fn new_cookie() -> String {
    let mut rng = fastrand::Rng::new();
    (0..32).map(|_| format!("{:02x}", rng.u8(..))).collect()
}

/// Writes `__cookie__:<secret>` to `path`, readable by its owner only.
pub(crate) fn write_cookie(path: &Path, secret: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(format!("{COOKIE_USER}:{secret}").as_bytes())
}

/// A fresh folder for the cookie under the system's temporary folder,
/// readable by its owner only.
pub(crate) fn make_cookie_dir() -> std::io::Result<PathBuf> {
    let mut rng = fastrand::Rng::new();
    let dir = std::env::temp_dir().join(format!("amp-sandbox-node-{:016x}", rng.u64(..)));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(&dir)?;
    Ok(dir)
}
