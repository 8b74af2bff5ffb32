//! A simulated Elements wallet node: the issuer's node that holds the
//! treasury of the sandbox's assets, spoken to over JSON-RPC as Elements
//! Core is.
//!
//! The node serves its own loopback port ([`crate::Sandbox::node_url`]),
//! with HTTP basic auth by `rpcuser:rpcpassword`
//! ([`crate::Sandbox::node_user`], [`crate::Sandbox::node_password`]) or by
//! the cookie file it writes as Elements Core does (`__cookie__:<64 hex>`,
//! mode 0600, [`crate::Sandbox::node_cookie_path`]). Its chain and wallet are
//! the sandbox's: every asset AMP issues pays the wallet (issuance outputs,
//! and reissuance tokens of reissuable assets), the wallet starts with 1
//! L-BTC for fees, and AMP's confirm endpoints check what they are told
//! against this chain. See the crate docs ("The node") for the RPCs.

pub(crate) mod amount;
pub(crate) mod chain;
mod faults;
mod params;
pub(crate) mod rpc;
pub(crate) mod script;
pub(crate) mod server;
mod views;
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
