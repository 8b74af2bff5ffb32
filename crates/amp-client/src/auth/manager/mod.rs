//! [`TokenManager`]: the I/O shell around [`policy`](crate::auth::policy).
//!
//! Every decision (serve, renew, wait; refresh or obtain; cooldowns) is a
//! pure function in `policy`; the state lives in [`Shared`]; this module
//! gathers the policy's inputs and carries out its answers:
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the public API, and `token()`'s hot path: read the snapshot, serve a fresh token |
//! | `wait.rs` | callers that must wait: ask the policy, join or start the one renewal, wait, ask again; keep-fresh, the optional task that renews at the soft point when nobody calls |
//! | `renew.rs` | one renewal, as a task of its own: the store's lock, the store, the HTTP call, the install |
//! | `endpoints.rs` | the two HTTP calls of a renewal: obtain and refresh |
//! | `store_io.rs` | the store: each operation under `store_io` and its timeout, writes, adoption, accounts |
//!
//! # Locks
//!
//! | order | lock | kind | held around |
//! |---|---|---|---|
//! | 1 | `store_io` (in [`Inner`]) | `tokio::sync::Mutex` | each load, save, clear and discard of this manager's store, in a task of its own that holds it until the operation ends (so operations land in order even when a caller gave up), with the check that the state is still what a write is for |
//! | 2 | the state (in [`Shared`]) | `std::sync::Mutex` | reads and changes of the state; never across an `.await` |
//!
//! Taken in that order, never the other way round. The store's own renewal
//! lock (a file lock, a Redis key) is not a lock of this process: it is
//! held across a whole renewal, inside its task. The hot path takes no
//! lock: it reads the snapshot, an `arc_swap` value published under the
//! state's lock.

mod endpoints;
pub(crate) mod renew;
mod store_io;
#[cfg(test)]
mod tests;
mod wait;

use std::sync::atomic::AtomicU8;
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::sync::watch;

pub use crate::auth::policy::Renewal;
use crate::auth::policy::Want;
use crate::auth::state::{Current, Shared};
use crate::auth::store::TokenStore;
use crate::auth::token::{TokenData, TokenInfo};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::stats::{Counters, Stats};
use crate::transport::Transport;

/// A token handed to a caller: a reference to the snapshot it was read
/// from (the token, its generation and its points).
///
/// On the hot path the reference is an `arc_swap` guard: taking it writes
/// a slot of this thread's own, not the reference count every thread
/// shares, so threads calling `token()` at once do not fight over that
/// count's cache line on every call (the one cost of the hot path that
/// grows with threads). A guard is meant to be held briefly: arc_swap
/// gives each thread a few slots and hands out a counted reference beyond
/// them, so one held long costs nothing but speed; a clone, and every
/// token from a renewal, holds a counted reference of its own.
///
/// Cloning shares the secret (no copy is made); `Debug` shows the token's
/// fingerprint, never the token. The secret is zeroized when the last
/// holder drops it.
#[derive(Debug)]
pub struct AccessToken(arc_swap::Guard<Option<Arc<Current>>>);

impl Clone for AccessToken {
    fn clone(&self) -> AccessToken {
        AccessToken(arc_swap::Guard::from_inner(Option::clone(&self.0)))
    }
}

impl AccessToken {
    /// The token of a snapshot that holds one (every way in checks).
    fn current(&self) -> &Current {
        match self.0.as_deref() {
            Some(current) => current,
            None => unreachable!("an AccessToken is only made from a snapshot with a token"),
        }
    }

    /// The token in `current`, as a counted reference.
    fn owned(current: Arc<Current>) -> AccessToken {
        AccessToken(arc_swap::Guard::from_inner(Some(current)))
    }

    /// The token, to put on the wire.
    pub fn secret(&self) -> &SecretString {
        self.current().token.token()
    }

    /// The token with its times.
    pub fn data(&self) -> &TokenData {
        &self.current().token
    }

    /// Which token this is: every new token gets a higher generation.
    pub fn generation(&self) -> u64 {
        self.current().generation
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
    /// How long a renewal's HTTP calls may take, from the first to the
    /// install: a login and its fallback, every attempt and its backoff.
    renewal_timeout: Duration,
    /// How long one caller waits for a token: a whole renewal (its store
    /// lock, the store read, its calls, the store write and the lock's
    /// release), so that a caller is told how the renewal it joined ended.
    /// A few days at most (the configuration's limits bound its parts), so
    /// an `Instant` that far ahead cannot overflow.
    wait_timeout: Duration,
    /// The bound on each store operation.
    store_timeout: Duration,
    store: Arc<dyn TokenStore>,
    /// Serializes this manager's store operations (see the lock order);
    /// shared with the tasks that run them.
    store_io: Arc<tokio::sync::Mutex<()>>,
    /// Which of the store's reads (1) and writes (2) failed last time, so
    /// an outage is reported once: a store that reads but cannot write is
    /// one outage, not one per renewal.
    store_down: AtomicU8,
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
        store: Arc<dyn TokenStore>,
        keep_fresh: bool,
    ) -> Result<TokenManager> {
        let (keeper_stop, stop) = watch::channel(());
        let user = shared.credentials().map(|c| c.username().to_string());
        let inner = Arc::new(Inner {
            account: crate::account_name(config.base_url().as_str(), user.as_deref().unwrap_or("")),
            shared,
            renewal_timeout: config.token_wait_timeout(),
            // The lock's half of the renewal's time, its calls, and four
            // store operations (read, the discard of a bad token read,
            // write, release).
            wait_timeout: (config.token_wait_timeout().saturating_mul(3) / 2)
                .saturating_add(config.request_timeout().saturating_mul(4)),
            store_timeout: config.request_timeout(),
            store,
            store_io: Arc::new(tokio::sync::Mutex::new(())),
            store_down: AtomicU8::new(0),
            transport,
            counters,
            _keeper_stop: keeper_stop,
        });
        if keep_fresh {
            let handle = tokio::runtime::Handle::try_current().map_err(|_| {
                let why =
                    "keeping the token fresh needs a tokio runtime: build the client inside one";
                Error::config(crate::config::vars::KEEP_FRESH, why)
            })?;
            handle.spawn(wait::keeper(Arc::downgrade(&inner), stop));
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
        let snapshot = self.inner.shared.snapshot();
        if snapshot.as_ref().is_some_and(|c| c.points.fresh(now)) {
            return Ok(AccessToken(snapshot));
        }
        // Not held across the wait.
        drop(snapshot);
        self.inner.token_slow().await
    }

    /// Refreshes the token now (with itself; falls back to a login), whatever
    /// its age, and says how it was renewed. Unlike [`token`](Self::token), a
    /// failure is returned even while the old token is still valid (it stays
    /// in place). A renewal already in flight is joined: its outcome is this
    /// call's (how it renewed, or that it found nothing to do, and then this
    /// call refreshes).
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
        let (now, current) = (self.inner.shared.clock.now(), self.inner.shared.current());
        current.map_or_else(TokenInfo::default, |c| c.token.info_with(now, &c.points))
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
        let generation = self.inner.shared.lock().generation;
        self.inner.counters.read(generation)
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
    /// carry, dates that make no sense, another account's) is refused (an error for which
    /// [`Error::is_invalid_input`] is true). A store that fails is reported (once, as for
    /// renewals) and the token is in place all the same: it works from memory.
    pub async fn set_token(&self, token: TokenData) -> Result<AccessToken> {
        let inner = &self.inner;
        let account = token.account.clone().unwrap_or(inner.account.clone());
        let refused = match token.problem(inner.shared.clock.now()) {
            Some(problem) => Some(problem.to_string()),
            None if inner.accepts(Some(&account)) => None,
            None => Some(format!(
                "it was issued for {account}, and this client is {}",
                inner.account
            )),
        };
        if let Some(reason) = refused {
            return Err(Error::invalid_input("token".to_string(), reason));
        }
        let current = inner.shared.set(token.for_account(account));
        let _ = inner.sync_store(current.generation).await;
        Ok(AccessToken::owned(current))
    }

    /// Called after the server answered 401 to a request made with token
    /// `generation`: drops that token (here and from the store) if it is
    /// still the current one, so the next [`token`](Self::token) obtains a
    /// new one, and never takes it back from the store. Returns true if it
    /// did. Many requests failing with the same token cause one login.
    pub async fn invalidate(&self, generation: u64) -> bool {
        self.inner.invalidate(generation).await.is_some()
    }

    /// True when the manager has credentials to log in with
    /// (`AMP_USERNAME` / `AMP_PASSWORD`, or the builder's).
    pub fn has_credentials(&self) -> bool {
        self.inner.shared.credentials().is_some()
    }

    /// Seconds `token` has left by this manager's clock, negative once expired.
    #[cfg(feature = "metrics")]
    pub(crate) fn expires_in_seconds(&self, token: &AccessToken) -> f64 {
        let now = self.inner.shared.clock.now_micros();
        token.current().points.expires_at.saturating_sub(now) as f64 / 1e6
    }

    /// The token store, as it names itself in messages and `amp token
    /// status`: `memory`, `file:/path/token.json`, the Redis URL and key
    /// (without a password) …
    pub fn describe_store(&self) -> String {
        self.inner.store.describe()
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
    /// with an error for which [`Error::is_credentials_refused`] is true; the next one uses the new password.
    pub(crate) async fn password_changed(
        &self,
        password: SecretString,
        token: Option<SecretString>,
    ) -> Result<()> {
        let shared = &self.inner.shared;
        if let Some(c) = shared.lock().credentials.as_mut() {
            *c = Arc::new(c.with_password(password));
        }
        tracing::debug!("password changed; later logins use the new one");
        if let Some(token) = token {
            let lifetime = shared.policy.lifetime;
            self.set_token(TokenData::obtained(token, shared.clock.now(), lifetime))
                .await?;
        }
        Ok(())
    }
}
