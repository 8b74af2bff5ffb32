//! [`Sandbox`]: the handle of a running sandbox, its URLs and credentials,
//! and the controls tests drive it with.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use crate::{Fault, SandboxBuilder, Shared, Stats};

/// A running sandbox server. Dropping it shuts the server down.
///
/// All methods that change behaviour take effect for the next request.
pub struct Sandbox {
    pub(crate) addr: SocketAddr,
    pub(crate) shared: Arc<Shared>,
    pub(crate) task: Option<JoinHandle<()>>,
    pub(crate) miner: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// A builder with the defaults: any free port, `sandbox-user` /
    /// `sandbox-password`, 24 h tokens, sample data, no faults.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Starts a sandbox with the defaults; the same as `Sandbox::builder().start()`.
    pub async fn start() -> std::io::Result<Sandbox> {
        Sandbox::builder().start().await
    }

    /// The API root, `http://127.0.0.1:PORT/api` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The control root, `http://127.0.0.1:PORT/_sandbox`.
    pub fn control_url(&self) -> String {
        format!("http://{}/_sandbox", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The username `obtain_token` accepts.
    pub fn username(&self) -> &str {
        &self.shared.username
    }

    /// The password the sandbox started with, which `obtain_token` accepts
    /// until a client changes it with `POST /user/change-password` (see
    /// [`Sandbox::current_password`]).
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// The password `obtain_token` accepts now: [`Sandbox::password`], or the
    /// last one set through `POST /user/change-password`.
    pub fn current_password(&self) -> String {
        self.shared.login_password()
    }

    /// A snapshot of the counters and the recent request records.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// How many requests with this method reached this route, e.g.
    /// `count("POST", "/user/obtain_token")`. The route may be written with or
    /// without `/api` and a trailing slash.
    pub fn count(&self, method: &str, route: &str) -> u64 {
        self.shared.count(method, route)
    }

    /// Queues a one-shot fault for the next request to `route` (any method).
    /// Faults of one route are used in the order queued. `route` is a pattern
    /// such as `/assets/{assetUuid}`, a concrete path such as `/assets/abc`, or
    /// `*` for every route; a route's own queue is used before the `*` queue.
    pub fn push_fault(&self, route: &str, fault: Fault) {
        self.shared.faults().push(route, fault);
    }

    /// Injects `fault` into each request to `route` with this probability
    /// (clamped to 0..=1; 0 removes the rate). Setting the same fault on the same
    /// route again replaces its probability. Rates are drawn after the queues
    /// are empty, from a generator seeded by [`SandboxBuilder::seed`].
    pub fn set_fault_rate(&self, route: &str, fault: Fault, probability: f64) {
        self.shared.faults().set_rate(route, fault, probability);
    }

    /// Removes every queued fault and every fault rate.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Revokes every token issued so far: the next request with one gets a 401.
    pub fn revoke_all_tokens(&self) {
        self.shared.tokens().revoke_all();
    }

    /// Issues a valid token directly, without a request (not counted). Useful to
    /// seed a client's token store.
    pub fn issue_token(&self) -> String {
        let life = self.shared.settings().token_life;
        self.shared.tokens().issue(life)
    }

    /// Whether the sandbox would accept this token now.
    pub fn is_token_valid(&self, token: &str) -> bool {
        self.shared.tokens().is_valid(token)
    }

    /// The life of tokens issued from now on, measured on the tokio clock.
    /// Tokens already issued keep their expiry.
    pub fn set_token_life(&self, life: Duration) {
        self.shared.set_token_life(life);
    }

    /// Whether `/user/refresh-token` revokes the token it was called with.
    pub fn set_refresh_revokes_old(&self, yes: bool) {
        self.shared.set_refresh_revokes_old(yes);
    }

    /// Sets every counter to zero and forgets the request records.
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Stops the server and waits until it no longer accepts connections.
    /// Open connections are closed as soon as their current request is answered;
    /// requests held by a [`Fault::Delay`] end at once, without an answer.
    pub async fn shutdown(mut self) {
        if let Some(task) = self.stop() {
            // The task is ours and was just aborted: its only outcome is a
            // cancellation, which is what we wanted.
            let _ = task.await;
        }
    }

    /// Ends delays, the node and the miner, and aborts the accept loop
    /// (which also drops axum's shutdown watch, telling every connection
    /// task to close gracefully). Returns the aborted loop, to wait for.
    fn stop(&mut self) -> Option<JoinHandle<()>> {
        self.shared.closing.send_replace(true);
        self.shared.node.stop();
        if let Some(miner) = self.miner.take() {
            miner.abort();
        }
        let task = self.task.take();
        if let Some(task) = &task {
            task.abort();
        }
        task
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop();
    }
}
