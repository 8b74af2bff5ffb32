//! The [`Sandbox`] methods that reach and steer the node, and the tasks
//! behind them (serving its port, mining on a timer).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Weak};
use std::time::Duration;

use super::{NodeFault, NodeStats, RpcError};
use crate::{lock, Sandbox, Shared, DEFAULT_WALLET_PASSPHRASE};

impl Sandbox {
    /// The node's JSON-RPC URL, `http://127.0.0.1:PORT/` (no credentials).
    pub fn node_url(&self) -> String {
        format!("http://{}/", self.shared.node.addr)
    }

    /// The node's URL with `rpcuser:rpcpassword` in it, the form the
    /// official script's `--node-url` takes.
    pub fn node_url_with_credentials(&self) -> String {
        let node = &self.shared.node;
        format!("http://{}:{}@{}/", node.user, node.password, node.addr)
    }

    /// The address the node listens on.
    pub fn node_addr(&self) -> SocketAddr {
        self.shared.node.addr
    }

    /// The node's `rpcuser`.
    pub fn node_user(&self) -> &str {
        &self.shared.node.user
    }

    /// The node's `rpcpassword`.
    pub fn node_password(&self) -> &str {
        &self.shared.node.password
    }

    /// The cookie file (`__cookie__:<64 hex>`, mode 0600), as Elements
    /// Core's `.cookie`.
    pub fn node_cookie_path(&self) -> &Path {
        &self.shared.node.cookie_path
    }

    /// Mines `blocks` blocks (the first takes every transaction waiting);
    /// their hashes.
    pub fn mine(&self, blocks: u64) -> Vec<String> {
        self.shared.store().chain.mine(blocks)
    }

    /// The height of the chain's tip.
    pub fn node_height(&self) -> u64 {
        self.shared.store().chain.height()
    }

    /// Confirmations of a transaction (0 in the mempool), `None` if the chain
    /// has no such transaction.
    pub fn confirmations(&self, txid: &str) -> Option<u64> {
        let store = self.shared.store();
        let tx = store.chain.txs.get(&txid.to_ascii_lowercase())?;
        Some(store.chain.confirmations(tx))
    }

    /// What the wallet holds of an asset (hex id) in outputs with at least one
    /// confirmation, in base units.
    pub fn wallet_balance(&self, asset_id: &str) -> u64 {
        let store = self.shared.store();
        let balances = store.chain.balances(1);
        balances
            .get(&asset_id.to_ascii_lowercase())
            .copied()
            .unwrap_or(0)
    }

    /// What the official confirm script does with a `distributions/create`
    /// answer, done on the node directly (not counted): `sendmany` of its
    /// maps, two blocks, and the body for `distributions/{d}/confirm`
    /// (`{"tx_data": {"details", "txid"}, "change_data"}`). For tests and
    /// examples that need a confirmed distribution but are not about the
    /// node; a client of the node makes these calls over JSON-RPC instead.
    ///
    /// # Errors
    ///
    /// What the node would answer: the wallet is locked, lacks funds, or the
    /// plan is not one.
    pub fn wallet_distribute(
        &self,
        plan: &serde_json::Value,
    ) -> Result<serde_json::Value, RpcError> {
        super::script::distribute(&mut self.shared.store().chain, plan)
    }

    /// As [`Sandbox::wallet_distribute`], for a `reissue-request` answer:
    /// `reissueasset`, two blocks, the `reissue-confirm` body.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::wallet_distribute`].
    pub fn wallet_reissue(&self, plan: &serde_json::Value) -> Result<serde_json::Value, RpcError> {
        super::script::reissue(&mut self.shared.store().chain, plan)
    }

    /// As [`Sandbox::wallet_distribute`], for a `burn-request` answer:
    /// `destroyamount`, two blocks, the `burn-confirm` body.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::wallet_distribute`].
    pub fn wallet_burn(&self, plan: &serde_json::Value) -> Result<serde_json::Value, RpcError> {
        super::script::burn(&mut self.shared.store().chain, plan)
    }

    /// The blinders the chain has for output `vout` of `txid` (`(asset
    /// blinder, amount blinder)`, what the node's `gettransaction` details
    /// show): what `update-blinders` must be sent.
    pub fn output_blinders(&self, txid: &str, vout: u32) -> Option<(String, String)> {
        let store = self.shared.store();
        let tx = store.chain.txs.get(&txid.to_ascii_lowercase())?;
        let out = tx.outputs.get(usize::try_from(vout).ok()?)?;
        Some((out.asset_blinder.clone(), out.amount_blinder.clone()))
    }

    /// Mines a block every `interval` from now on (`None`: only on request).
    pub fn set_block_interval(&self, interval: Option<Duration>) {
        let interval = interval.filter(|d| !d.is_zero());
        self.shared.node.block_interval.send_replace(interval);
    }

    /// Waits until the node has received at least `n` calls of `method`.
    /// A call is counted as it arrives and carried out with no pause after
    /// that (unless a [`NodeFault::DelayBefore`] holds it), so once this
    /// returns, a call held by [`NodeFault::DelayAfter`] has had its effect:
    /// a test may then kill the client that waits for its answer.
    pub async fn node_called(&self, method: &str, n: u64) {
        let mut calls = self.shared.node.calls.subscribe();
        while self.node_count(method) < n {
            if calls.changed().await.is_err() {
                return;
            }
        }
    }

    /// Waits until requests to the API have taken at least `n` faults in
    /// all (one-shot or by rate) since the sandbox started; a request that
    /// took a [`crate::Fault::Delay`] is then being held.
    pub async fn faults_taken(&self, n: u64) {
        let mut taken = self.shared.faults_taken.subscribe();
        while *taken.borrow_and_update() < n {
            if taken.changed().await.is_err() {
                return;
            }
        }
    }

    /// Carries out the calls a [`NodeFault::DropAndHold`] kept, in the
    /// order they came, and says how many there were: the node finishing a
    /// send whose client gave up on it.
    pub fn release_held_node_calls(&self) -> usize {
        let held = std::mem::take(&mut *crate::lock(&self.shared.node.held));
        let mut store = self.shared.store();
        for (method, params) in &held {
            let _ = super::rpc::call(&mut store.chain, method, params.as_ref());
        }
        held.len()
    }

    /// Calls of this RPC method so far, e.g. `node_count("sendmany")`.
    pub fn node_count(&self, method: &str) -> u64 {
        self.shared.node.stats().count(method)
    }

    /// The node's counters and recent requests.
    pub fn node_stats(&self) -> NodeStats {
        self.shared.node.stats()
    }

    /// Sets the node's counters to zero and forgets its records.
    pub fn reset_node_stats(&self) {
        self.shared.node.reset_stats();
    }

    /// Queues a one-shot fault for the next call of an RPC method (`*`: any
    /// method); a method's own queue is used before `*`'s.
    pub fn push_node_fault(&self, method: &str, fault: NodeFault) {
        self.shared.node.faults().push(method, fault);
    }

    /// Removes every queued node fault.
    pub fn clear_node_faults(&self) {
        self.shared.node.faults().clear();
    }

    /// Takes the node down (its port refuses connections; open connections
    /// close) or brings it back up on the same port.
    ///
    /// # Errors
    ///
    /// Bringing it up: the port cannot be bound again.
    pub async fn set_node_down(&self, down: bool) -> std::io::Result<()> {
        set_node_down(&self.shared, down).await
    }

    /// Locks the node's wallet (encrypting it with
    /// [`DEFAULT_WALLET_PASSPHRASE`] if it is not encrypted yet), or unlocks
    /// it for good. A locked wallet answers -13 to what needs its keys.
    pub fn set_wallet_locked(&self, locked: bool) {
        set_wallet_locked(&self.shared, locked);
    }

    /// The wallet's passphrase, if it is encrypted.
    pub fn wallet_passphrase(&self) -> Option<String> {
        self.shared.store().chain.wallet.passphrase.clone()
    }
}

/// Serves the node on `listener` (replacing a previous server task).
pub(crate) fn serve_node(shared: &Arc<Shared>, listener: tokio::net::TcpListener) {
    let app = super::server::router(shared.clone());
    let task = tokio::spawn(async move {
        if let Err(err) = axum::serve(listener, app).await {
            tracing::warn!(%err, "amp sandbox node stopped");
        }
    });
    if let Some(old) = lock(&shared.node.server).replace(task) {
        old.abort();
    }
}

/// Mines a block every block interval, while the sandbox lives.
pub(crate) async fn mine_on_timer(shared: Weak<Shared>) {
    let Some(mut interval) = shared.upgrade().map(|s| s.node.block_interval.subscribe()) else {
        return;
    };
    loop {
        let current = *interval.borrow_and_update();
        match current {
            Some(every) => {
                tokio::select! {
                    () = tokio::time::sleep(every) => {
                        let Some(shared) = shared.upgrade() else { return };
                        shared.store().chain.mine(1);
                    }
                    changed = interval.changed() => {
                        if changed.is_err() { return; }
                    }
                }
            }
            None => {
                if interval.changed().await.is_err() {
                    return;
                }
            }
        }
    }
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials here: the password must not reach logs.
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// Takes the node down, or serves it again on its port.
pub(crate) async fn set_node_down(shared: &Arc<Shared>, down: bool) -> std::io::Result<()> {
    if down {
        shared.node.stop();
        return Ok(());
    }
    if lock(&shared.node.server)
        .as_ref()
        .is_some_and(|t| !t.is_finished())
    {
        return Ok(());
    }
    let listener = tokio::net::TcpListener::bind(shared.node.addr).await?;
    serve_node(shared, listener);
    Ok(())
}

/// Locks (encrypting if needed) or unlocks the wallet.
pub(crate) fn set_wallet_locked(shared: &Shared, locked: bool) {
    let mut store = shared.store();
    let wallet = &mut store.chain.wallet;
    if locked {
        if wallet.passphrase.is_none() {
            wallet.passphrase = Some(DEFAULT_WALLET_PASSPHRASE.to_owned());
        }
        wallet.unlocked_until = None;
    } else if wallet.passphrase.is_some() {
        wallet.unlocked_until =
            Some(tokio::time::Instant::now() + Duration::from_secs(100 * 365 * 24 * 3600));
    }
}
