//! [`TokenManager`]: the I/O shell around [`policy`](crate::auth::policy).
//!
//! Every decision (serve, renew, wait; refresh or obtain; cooldowns) is a
//! pure function in `policy`; the state lives in [`Shared`]; this module
//! gathers the policy's inputs and carries out its answers:
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the public API, and `token()`: read the snapshot, ask the policy, serve or wait |
//! | `renew.rs` | one renewal, as a task of its own: the store's lock, the store, the HTTP call, the install |
//! | `keeper.rs` | keep-fresh: the optional task that renews at the soft point when nobody calls |
//!
//! # Locks
//!
//! | order | lock | kind | held around |
//! |---|---|---|---|
//! | 1 | `store_io` (in [`Inner`]) | `tokio::sync::Mutex` | each load, save, clear and discard of this manager's store, with the check that the state is still what the write is for |
//! | 2 | the state (in [`Shared`]) | `std::sync::Mutex` | reads and changes of the state; never across an `.await` |
//!
//! Taken in that order, never the other way round. The store's own renewal
//! lock (a file lock, a Redis key) is not a lock of this process: it is
//! held across a whole renewal, inside its task. The hot path takes no
//! lock: it reads the snapshot, an `arc_swap` value published under the
//! state's lock.

mod keeper;
pub(crate) mod renew;
#[cfg(test)]
mod tests;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::auth::policy::{self, Action, Want};
use crate::auth::state::{Current, Shared, State};
use crate::auth::store::{MemoryStore, TokenStore};
use crate::auth::token::{Clock, TokenData, TokenInfo};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::stats::{Counters, Stats};
use crate::transport::Transport;

use renew::{Outcome, Task};

/// A token handed to a caller: a shared reference to the snapshot it was
/// read from (the token, its generation and its points).
///
/// Cloning shares the secret (no copy is made); `Debug` shows only the
/// fingerprint. The secret is zeroized when the last holder drops it.
#[derive(Clone)]
pub struct AccessToken(Arc<Current>);

impl AccessToken {
    /// The token, to put on the wire.
    pub fn secret(&self) -> &SecretString {
        self.0.token.token()
    }

    /// The token with its times.
    pub fn data(&self) -> &TokenData {
        &self.0.token
    }

    /// Which token this is: every new token gets a higher generation.
    pub fn generation(&self) -> u64 {
        self.0.generation
    }

    /// Seconds left at `now` (clock microseconds), negative once expired.
    pub(crate) fn expires_in_seconds(&self, now: i64) -> f64 {
        self.0.points.expires_at.saturating_sub(now) as f64 / 1e6
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("fingerprint", &self.0.token.fingerprint())
            .field("generation", &self.0.generation)
            .field("expires_at", &self.0.token.expires_at)
            .finish()
    }
}

/// How a token was renewed, as [`TokenManager::login`] and
/// [`TokenManager::force_refresh`] report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Renewal {
    /// Refreshed with itself (`user/refresh-token`).
    Refreshed,
    /// Obtained with the credentials (`user/obtain_token`).
    Obtained,
    /// The refresh failed, so a new token was obtained with the credentials.
    ObtainedAfterFailedRefresh,
    /// Taken from the store: another client or process had just renewed it.
    FromStore,
}

impl std::fmt::Display for Renewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Renewal::Refreshed => "refreshed",
            Renewal::Obtained => "obtained with the credentials",
            Renewal::ObtainedAfterFailedRefresh => {
                "obtained with the credentials (the refresh failed)"
            }
            Renewal::FromStore => "taken from the store (renewed elsewhere)",
        })
    }
}

/// Owns the token: obtains, refreshes, shares and stores it.
///
/// Cheap to clone (clones share everything). Renewals run as tasks on the
/// tokio runtime of the caller that starts them; one in flight keeps the
/// manager alive until it ends. Normally used through
/// [`AmpClient`](crate::AmpClient), which calls [`TokenManager::token`]
/// before every request; use it directly to inspect or steer the token.
///
/// `token()` follows the rules of `auth::policy`:
/// 1. more than the refresh window left (5 min by default, jittered a little
///    earlier) → the token at once: no lock, no await;
/// 2. inside the window but before the hard point (30 s left) → the token at
///    once, and one refresh starts in the background;
/// 3. no token, expired, or past the hard point → wait for the one renewal
///    in flight (a refresh while the token is valid, else a login).
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// let manager = client.token_manager();
/// let info = manager.info();
/// println!("state {}, expires in {:?}", info.state, info.expires_in);
/// let (_token, how) = manager.force_refresh().await?;
/// println!("{how}");
/// manager.clear().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// What a manager and its renewal tasks share.
pub(crate) struct Inner {
    shared: Arc<Shared>,
    /// The account this manager's tokens are for (`account_name`): a token
    /// of another account, found in a store or set, is never used.
    account: String,
    /// How long one caller waits for a token; also a renewal's deadline.
    wait_timeout: Duration,
    /// The bound on each store operation.
    store_timeout: Duration,
    store: Arc<dyn TokenStore>,
    /// Serializes this manager's store operations (see the lock order).
    store_io: tokio::sync::Mutex<()>,
    /// Whether the store answered last time, so an outage is reported once.
    store_up: AtomicBool,
    transport: Arc<Transport>,
    counters: Arc<Counters>,
    /// Dropped with the manager: stops its keep-fresh task, if it has one.
    _keeper_stop: watch::Sender<()>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("info", &self.info())
            .field("store", &self.inner.store.describe())
            .finish_non_exhaustive()
    }
}

impl TokenManager {
    /// A manager for `config` over `shared`; with `keep_fresh`, it starts
    /// its keep-fresh task on the current tokio runtime (an error without one).
    pub(crate) fn new(
        config: &Config,
        shared: Arc<Shared>,
        transport: Arc<Transport>,
        counters: Arc<Counters>,
        store: Option<Arc<dyn TokenStore>>,
        keep_fresh: bool,
    ) -> Result<TokenManager> {
        let (keeper_stop, stop) = watch::channel(());
        let user = shared.credentials().map(|c| c.username().to_string());
        let inner = Arc::new(Inner {
            account: crate::account_name(config.base_url().as_str(), user.as_deref().unwrap_or("")),
            shared,
            wait_timeout: config.token_wait_timeout(),
            store_timeout: config.request_timeout(),
            store: store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
            store_io: tokio::sync::Mutex::new(()),
            store_up: AtomicBool::new(true),
            transport,
            counters,
            _keeper_stop: keeper_stop,
        });
        if keep_fresh {
            keeper::spawn(&inner, stop)?;
        }
        Ok(TokenManager { inner })
    }

    /// A valid token: the current one, or a new one if it must be renewed first.
    ///
    /// Inside the refresh window this returns the current token at once and
    /// refreshes in the background. When a renewal fails while the current
    /// token has not expired yet, that token is returned.
    pub async fn token(&self) -> Result<AccessToken> {
        let now = self.inner.shared.clock.now_micros();
        match self.inner.shared.current() {
            Some(current) if current.points.fresh(now) => Ok(AccessToken(current)),
            _ => self.inner.token_slow().await,
        }
    }

    /// Refreshes the token now (with itself; falls back to a login), whatever
    /// its age, and says how it was renewed. Unlike [`token`](Self::token), a
    /// failure is returned even while the old token is still valid (it stays
    /// in place). A refresh or login already in flight is joined; an
    /// automatic renewal in flight is waited out first.
    pub async fn force_refresh(&self) -> Result<(AccessToken, Renewal)> {
        self.inner.renew_now(Want::Refresh).await
    }

    /// Logs in now with the credentials, whatever the current token. A
    /// failure is returned even while the old token is still valid (it stays
    /// in place). A login already in flight is joined; another renewal in
    /// flight is waited out first.
    pub async fn login(&self) -> Result<(AccessToken, Renewal)> {
        self.inner.renew_now(Want::Login).await
    }

    /// True while a login or refresh is in flight (started by a caller, in
    /// the background, or by [`login`](Self::login) /
    /// [`force_refresh`](Self::force_refresh)).
    ///
    /// ```no_run
    /// # fn demo(client: amp_client::AmpClient) {
    /// if client.token_manager().is_renewing() {
    ///     println!("renewing the token");
    /// }
    /// # }
    /// ```
    pub fn is_renewing(&self) -> bool {
        self.inner.shared.lock().flight.is_some()
    }

    /// The token as it stands, without renewing: for display and persistence.
    /// The copy returned shares the secret; it is the caller's to drop.
    pub fn snapshot(&self) -> Option<TokenData> {
        self.inner.shared.lock().token.clone()
    }

    /// Expiry, age, state and fingerprint of the current token — never the token.
    /// The state is the manager's own: "expiring" from the (jittered) soft point on.
    pub fn info(&self) -> TokenInfo {
        match self.inner.shared.current() {
            Some(c) => c.token.info_with(self.inner.shared.clock.now(), &c.points),
            None => TokenInfo::none(),
        }
    }

    /// Reads the store without renewing anything, and adopts a newer token
    /// found there. Returns the resulting info (used by `amp token status`).
    /// With no token at all, even an expired stored one is taken, so that
    /// "expired" can be shown rather than "none"; the next call obtains a
    /// new one either way.
    pub async fn load_from_store(&self) -> Result<TokenInfo> {
        self.inner.adopt_from_store(None, true).await?;
        Ok(self.info())
    }

    /// Counters for monitoring.
    pub fn stats(&self) -> Stats {
        self.inner
            .counters
            .read(self.inner.shared.lock().generation)
    }

    /// Forgets the token, here and in the store, and any remembered failure.
    /// A renewal in flight installs nothing when it ends, and stores nothing.
    /// The next call obtains a new token. Meant for tests and `amp token clear`.
    pub async fn clear(&self) -> Result<()> {
        let generation = self.inner.shared.clear();
        tracing::debug!(store = %self.inner.store.describe(), "token cleared");
        self.inner.sync_store(generation).await
    }

    /// Puts a token in place, as if it had just been obtained, and writes it
    /// to the store. For restoring a token saved elsewhere, and for tests. A
    /// renewal in flight installs nothing when it ends.
    ///
    /// A token without an account ([`TokenData::account`]) is bound to this
    /// manager's. A token that cannot be used (characters a header cannot
    /// carry, dates that make no sense, another account's) is refused with
    /// [`Error::InvalidInput`]. A store that fails is reported (once, as for
    /// renewals) and the token is in place all the same: it works from memory.
    pub async fn set_token(&self, token: TokenData) -> Result<AccessToken> {
        let inner = &self.inner;
        let refuse = |reason: String| Error::InvalidInput {
            what: "token".to_string(),
            reason,
        };
        if let Some(problem) = token.problem(inner.shared.clock.now()) {
            return Err(refuse(problem.to_string()));
        }
        let token = match token.account.as_deref() {
            None => token.for_account(inner.account.clone()),
            Some(a) if inner.accepts(Some(a)) => token,
            Some(a) => {
                let ours = &inner.account;
                return Err(refuse(format!(
                    "it was issued for {a}, and this client is {ours}"
                )));
            }
        };
        let current = inner
            .shared
            .set(token)
            .ok_or_else(|| Error::Internal("no token set".into()))?;
        let _ = inner.sync_store(current.generation).await;
        Ok(AccessToken(current))
    }

    /// Called after the server answered 401 to a request made with token
    /// `generation`: drops that token (here and from the store) if it is
    /// still the current one, so the next [`token`](Self::token) obtains a
    /// new one, and never takes it back from the store. Returns true if it
    /// did. Many requests failing with the same token cause one login.
    pub async fn invalidate(&self, generation: u64) -> bool {
        let Some(dropped) = self.inner.shared.invalidate(generation) else {
            return false;
        };
        self.inner.counters.reauths.bump();
        tracing::debug!(fingerprint = %dropped.fingerprint(), generation, "token rejected by the server; dropping it");
        // Discarded from the store in a task of its own: a caller cancelled
        // while the store is slow must not leave the rejected token there
        // for other processes to adopt. Awaited, so a caller that is not
        // cancelled sees the store without it.
        let inner = Arc::clone(&self.inner);
        let discard = async move {
            let _ = inner
                .store_op("discard", inner.store.discard(&dropped))
                .await;
        };
        match tokio::runtime::Handle::try_current() {
            Ok(handle) => {
                let _ = handle.spawn(discard).await;
            }
            Err(_) => discard.await,
        }
        true
    }

    /// True when the manager has credentials to log in with
    /// (`AMP_USERNAME` / `AMP_PASSWORD`, or the builder's).
    pub fn has_credentials(&self) -> bool {
        self.inner.shared.credentials().is_some()
    }

    /// The clock this manager reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.shared.clock
    }

    /// The store this manager reads and writes.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// A password change is under way: `password` is scrubbed from the
    /// server's text for as long as the returned value is held.
    pub(crate) fn password_pending(&self, password: &SecretString) -> Arc<SecretString> {
        self.inner.shared.pending(password)
    }

    /// The password changed (`user/change-password` succeeded): later logins
    /// use `password`, and the token the server handed back with the change,
    /// if any, is installed as a new generation and stored. The old password
    /// is zeroized once no login in flight still uses it.
    ///
    /// A login that was already under way with the old password may fail
    /// with [`Error::CredentialsRefused`]; the next one uses the new password.
    pub(crate) async fn password_changed(
        &self,
        password: SecretString,
        token: Option<SecretString>,
    ) -> Result<()> {
        let shared = &self.inner.shared;
        {
            let mut st = shared.lock();
            if let Some(old) = st.credentials.take() {
                st.credentials = Some(Arc::new(old.with_password(password)));
                tracing::debug!("password changed; later logins use the new one");
            }
        }
        if let Some(token) = token {
            let lifetime = shared.policy.lifetime;
            self.set_token(TokenData::obtained(token, shared.clock.now(), lifetime))
                .await?;
        }
        Ok(())
    }
}

/// `wait` from now, or the far future if that cannot be represented.
fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Waits for the renewal that reports on `done` to end, until `deadline`;
/// `limit` is what the caller was allowed in all, named in the timeout error.
async fn wait(
    mut done: watch::Receiver<Option<Outcome>>,
    deadline: Instant,
    limit: Duration,
) -> Result<Outcome> {
    match tokio::time::timeout_at(deadline, done.wait_for(Option::is_some)).await {
        Err(_) => Err(Error::TokenWaitTimeout { waited: limit }),
        // The task was dropped (its runtime shutting down) before it ended.
        Ok(Err(_)) => Err(Error::Internal(
            "the token renewal ended without a result".to_string(),
        )),
        Ok(Ok(outcome)) => Ok(outcome.clone().unwrap_or(Outcome::Superseded)),
    }
}

impl Inner {
    /// `token()` past the soft point, or with no token: asks the policy,
    /// and after each wait asks again, so that what a caller gets is always
    /// the current state's answer (a token cleared, revoked or replaced
    /// meanwhile is never handed out).
    async fn token_slow(self: &Arc<Self>) -> Result<AccessToken> {
        let deadline = deadline_after(self.wait_timeout);
        // The failure this caller's own wait ended in, if it did.
        let mut gave_up: Option<Error> = None;
        // Served only while valid, so there is a token to serve.
        let serve = |current: Option<Arc<Current>>| {
            current
                .map(AccessToken)
                .ok_or_else(|| Error::Internal("no token to serve".to_string()))
        };
        loop {
            let now = self.shared.clock.now_micros();
            let (action, current, (done, _, task)) = {
                let mut st = self.shared.lock();
                let current = self.shared.current();
                let points = current.as_ref().map(|c| &c.points);
                let renewing = st.flight.is_some();
                let policy = &self.shared.policy;
                let given_up = gave_up.is_some();
                let action = policy::decide(now, points, renewing, &st.history, given_up, policy);
                match action {
                    Action::Serve => return serve(current),
                    Action::Fail => {
                        return Err(gave_up.unwrap_or_else(|| self.remembered(&st, now)));
                    }
                    _ => (action, current, self.join(&mut st, Want::Auto)),
                }
            };
            if let Some(task) = task {
                task.spawn()?;
            }
            if action == Action::ServeAndRenew {
                tracing::trace!("refresh window reached; renewing in the background");
                return serve(current);
            }
            match wait(done, deadline, self.wait_timeout).await {
                Ok(Outcome::Failed(e)) | Err(e) => gave_up = Some(e),
                Ok(_) => {}
            }
        }
    }

    /// The failure remembered for callers that must wait (see
    /// `policy::failed_lately`).
    fn remembered(&self, st: &State, now: i64) -> Error {
        if policy::within(
            now,
            st.history.refused,
            self.shared.policy.rejection_cooldown,
        ) {
            let wait = crate::error::human(self.shared.policy.rejection_cooldown);
            return Error::TokenRejected {
                operation: "token renewal".to_string(),
                status: reqwest::StatusCode::UNAUTHORIZED,
                message: format!("logins succeed but the server refuses their tokens; not logging in again for {wait}"),
            };
        }
        st.failure
            .clone()
            .unwrap_or_else(|| Error::Internal("no failure to report".to_string()))
    }

    /// The renewal in flight, or a new one for `want`: where it reports its
    /// end, whether its outcome answers `want`, and the task to spawn once
    /// the lock is released. `st` is the state, locked.
    fn join(
        self: &Arc<Self>,
        st: &mut State,
        want: Want,
    ) -> (watch::Receiver<Option<Outcome>>, bool, Option<Task>) {
        match &st.flight {
            Some((running, done)) => (done.clone(), want.served_by(*running), None),
            None => {
                let (task, done) = Task::register(self, st, want);
                (done, true, Some(task))
            }
        }
    }

    /// An explicit renewal (`login()`, `force_refresh()`): joins one that
    /// answers it, waits out one that does not, reports failures.
    async fn renew_now(self: &Arc<Self>, want: Want) -> Result<(AccessToken, Renewal)> {
        let deadline = deadline_after(self.wait_timeout);
        loop {
            let (done, answers, task) = self.join(&mut self.shared.lock(), want);
            if let Some(task) = task {
                task.spawn()?;
            }
            match wait(done, deadline, self.wait_timeout).await? {
                // The token it installed, if still the current one.
                Outcome::Renewed(generation, how) if answers => {
                    if let Some(current) =
                        self.shared.current().filter(|c| c.generation == generation)
                    {
                        return Ok((AccessToken(current), how));
                    }
                }
                Outcome::Failed(e) if answers => return Err(e),
                _ => {}
            }
        }
    }

    /// True when a token bound to `account` may be used here: this
    /// manager's account, or, for a manager without credentials (which
    /// logs in as nobody), any user's at the same API root. A token bound
    /// to no account could be anyone's: never.
    fn accepts(&self, account: Option<&str>) -> bool {
        match account {
            // `self.account` is " at <root>" then; a root holds no space.
            Some(a) if self.shared.credentials().is_none() => a.ends_with(&self.account),
            Some(a) => a == self.account,
            None => false,
        }
    }

    /// Runs a store operation under `store_io`, the wait for it included in
    /// the store timeout, and reports an outage once (and its end once)
    /// instead of on every call.
    async fn store_op<T>(&self, what: &str, op: impl Future<Output = Result<T>>) -> Result<T> {
        let run = async {
            let _io = self.store_io.lock().await;
            op.await
        };
        let result = tokio::time::timeout(self.store_timeout, run)
            .await
            .unwrap_or_else(|_| {
                let took = crate::error::human(self.store_timeout);
                Err(Error::Store {
                    store: self.store.describe(),
                    reason: format!("{what} timed out after {took}"),
                })
            });
        match &result {
            Ok(_) if !self.store_up.swap(true, Ordering::AcqRel) => {
                tracing::info!(store = %self.store.describe(), "token store answers again");
            }
            Err(e) if self.store_up.swap(false, Ordering::AcqRel) => {
                tracing::warn!(store = %self.store.describe(), error = %e, "token store unavailable; working from memory until it answers");
            }
            Err(e) => {
                tracing::debug!(store = %self.store.describe(), error = %e, "token store still unavailable")
            }
            Ok(_) => {}
        }
        result
    }

    /// Makes the store hold what the state holds, if the state is still at
    /// `generation` when the store is free (a later change writes its own).
    async fn sync_store(&self, generation: u64) -> Result<()> {
        self.store_op("save", async {
            let token = {
                let st = self.shared.lock();
                if st.generation != generation {
                    return Ok(());
                }
                st.token.clone()
            };
            match token {
                Some(token) => self.store.save(&token).await,
                None => self.store.clear().await,
            }
        })
        .await
    }

    /// Reads the store and takes its token if the policy says so (see
    /// `Shared::adopt`), under `generation` if given. A stored token that
    /// cannot be used is set aside instead (discarded from the store, with
    /// a warning); another account's is left alone. Returns the generation
    /// of the token taken, if one was.
    async fn adopt_from_store(
        &self,
        generation: Option<u64>,
        even_expired: bool,
    ) -> Result<Option<u64>> {
        let Some(stored) = self.store_op("load", self.store.load()).await? else {
            return Ok(None);
        };
        let now = self.shared.clock.now();
        if let Some(problem) = stored.problem(now) {
            tracing::warn!(store = %self.store.describe(), problem, "the stored token cannot be used; setting it aside");
            let _ = self.store_op("discard", self.store.discard(&stored)).await;
            return Ok(None);
        }
        if !self.accepts(stored.account.as_deref()) {
            // Another account's token (a base URL or user changed under a
            // shared file), or one that names none (written before tokens
            // were bound): never sent anywhere. The next login replaces it.
            let stored_for = stored.account.as_deref().unwrap_or("no recorded account");
            tracing::warn!(store = %self.store.describe(), stored_for, account = %self.account, "the stored token is not this account's; not using it");
            return Ok(None);
        }
        let adopted = self
            .shared
            .adopt(stored, generation, now.timestamp_micros(), even_expired);
        if adopted.is_some() {
            self.counters.store_adoptions.bump();
            tracing::debug!(store = %self.store.describe(), "took a newer token from the store");
        }
        Ok(adopted)
    }
}
