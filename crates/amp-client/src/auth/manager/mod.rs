//! [`TokenManager`]: the I/O shell around [`policy`](crate::auth::policy).
//!
//! Every decision (serve, renew, wait; refresh or obtain; cooldowns) is a
//! pure function in `policy`; this module gathers its inputs and carries
//! out its answers. It is split by responsibility:
//!
//! | file | owns |
//! |---|---|
//! | `mod.rs` | the public API, and `token()`: read the snapshot, ask the policy, serve or wait |
//! | `state.rs` | the token cell and every change of it: install, adopt, clear, invalidate |
//! | `flight.rs` | the one renewal in flight, its waiters, and the memory of the last one |
//! | `renew.rs` | one renewal: the store's lock, the store, the HTTP call, the deadline |
//! | `keeper.rs` | keep-fresh: the optional task that renews at the soft point when nobody calls |
//!
//! # Locks
//!
//! Taken in this order, never the other way round, and the synchronous ones
//! never across an `.await`:
//!
//! 1. `store_io` (`tokio::sync::Mutex`, in [`Inner`]): held around each
//!    load, save, clear and discard of this manager's store (not around the
//!    store's renewal lock, which is held across a whole renewal), and by
//!    `clear()` and `set_token()` around their change of state too, so that
//!    neither can interleave with a renewal's read or write of the store
//!    (`invalidate()` changes state first and then discards from the store:
//!    the retired mark keeps the token from coming back in between);
//! 2. `cell` (`std::sync::Mutex`, in `state.rs`): the token itself, the
//!    source of truth; the generation, the epoch, the retired tokens and the
//!    published snapshot change only while it is held;
//! 3. `retired` (in `state.rs`): only ever taken while holding `cell`;
//! 4. `flight` (`std::sync::Mutex`, in `flight.rs`): the renewal in flight.
//!    Never held while taking `cell`, and released before a renewal's task
//!    is spawned (spawning on a runtime that shuts down drops the task at
//!    once, and ending the flight takes this lock).
//!
//! The hot path takes none of them: it reads the snapshot
//! ([`Secrets::current`]), an `arc_swap` value published under `cell`.

mod flight;
mod keeper;
mod renew;
mod state;
#[cfg(test)]
mod tests;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::auth::policy::{self, Action, Stage, Want};
use crate::auth::secrets::{Current, Pending, Secrets};
use crate::auth::store::{MemoryStore, TokenStore};
use crate::auth::token::{Clock, SystemClock, TokenData, TokenInfo};
use crate::config::{Config, TokenPolicy};
use crate::error::{Error, Result};
use crate::stats::{Counters, Stats};
use crate::transport::Transport;
use secrecy::SecretString;

use flight::{Flight, Waited};
use state::State;

/// A token handed to a caller, with the generation it belongs to.
///
/// Cloning shares the secret (no copy is made); `Debug` shows only the
/// fingerprint. The secret is zeroized when the last holder drops it.
pub struct AccessToken {
    held: Held,
}

/// How an [`AccessToken`] holds the snapshot it was read from.
enum Held {
    /// Read on the hot path: an `arc_swap` guard, which writes only this
    /// thread's own slot in the crate, not the reference count every thread
    /// shares (two threads calling `token()` at once would otherwise fight
    /// over that count's cache line on every call). Made only from a
    /// snapshot that holds a token ([`AccessToken::loaded`]).
    Loaded(arc_swap::Guard<Option<Arc<Current>>>),
    /// A reference of its own: a clone, or what a renewal handed over.
    Owned(Arc<Current>),
}

impl AccessToken {
    /// The token in `current`.
    fn owned(current: Arc<Current>) -> AccessToken {
        AccessToken {
            held: Held::Owned(current),
        }
    }

    /// The token in a snapshot read by `load()`, if it holds one.
    fn loaded(guard: arc_swap::Guard<Option<Arc<Current>>>) -> Option<AccessToken> {
        guard.is_some().then(|| AccessToken {
            held: Held::Loaded(guard),
        })
    }

    fn current(&self) -> &Current {
        match &self.held {
            Held::Owned(current) => current,
            Held::Loaded(guard) => match guard.as_deref() {
                Some(current) => current,
                // `loaded` is the only way in, and it checks.
                None => unreachable!("an AccessToken is only made from a snapshot with a token"),
            },
        }
    }

    /// The token, to put on the wire.
    pub fn secret(&self) -> &secrecy::SecretString {
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

    /// Seconds left at `now` (clock microseconds), negative once expired.
    pub(crate) fn expires_in_seconds(&self, now: i64) -> f64 {
        self.current().points.expires_at.saturating_sub(now) as f64 / 1e6
    }
}

impl AccessToken {
    /// The same token with a reference of its own, releasing the snapshot
    /// guard: for a token held across an await (a request in flight).
    pub(crate) fn into_owned(self) -> AccessToken {
        match self.held {
            Held::Owned(_) => self,
            Held::Loaded(_) => self.clone(),
        }
    }
}

impl Clone for AccessToken {
    fn clone(&self) -> AccessToken {
        let current = match &self.held {
            Held::Owned(current) => Arc::clone(current),
            Held::Loaded(guard) => match guard.as_ref() {
                Some(current) => Arc::clone(current),
                None => unreachable!("an AccessToken is only made from a snapshot with a token"),
            },
        };
        AccessToken::owned(current)
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let current = self.current();
        f.debug_struct("AccessToken")
            .field("fingerprint", &current.token.fingerprint())
            .field("generation", &current.generation)
            .field("expires_at", &current.token.expires_at)
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

/// A token just renewed, and how.
#[derive(Debug, Clone)]
pub struct Renewed {
    /// The new token.
    pub token: AccessToken,
    /// How it was renewed.
    pub how: Renewal,
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
///    earlier) → the token at once: no lock, no await, no allocation;
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
/// let renewed = manager.force_refresh().await?;
/// println!("{}", renewed.how);
/// manager.clear().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

/// What a manager and its renewal task share.
struct Inner {
    state: State,
    flight: Mutex<Flight>,
    /// A renewal is in flight. Set and cleared with `Flight::running`, under
    /// the flight's lock; read without it by callers in the refresh window,
    /// who then serve the current token without taking any lock.
    renewing: AtomicBool,
    /// The last refresh did not move the expiry forward: log in next time.
    refresh_stalled: AtomicBool,
    /// Serializes this manager's store operations with the state changes
    /// that go with them (see the lock order in the module docs).
    store_io: tokio::sync::Mutex<()>,
    /// Whether the store answered last time, so an outage is reported once.
    store_up: AtomicBool,
    secrets: Arc<Secrets>,
    /// The account this manager's tokens are for (`account_name`): a token
    /// of another account, found in a store or set, is never used.
    account: String,
    policy: TokenPolicy,
    /// How long one caller waits for a token; also a renewal's deadline.
    wait_timeout: Duration,
    /// The bound on each store operation.
    store_timeout: Duration,
    clock: Arc<dyn Clock>,
    store: Arc<dyn TokenStore>,
    transport: Arc<Transport>,
    counters: Arc<Counters>,
    /// Dropped with the manager: stops its keep-fresh task, if it has one.
    _keeper_stop: tokio::sync::watch::Sender<()>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("info", &self.info())
            .field("store", &self.inner.store.describe())
            .finish_non_exhaustive()
    }
}

/// `wait` from now, or the far future if that cannot be represented.
fn deadline_after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

pub(super) use crate::auth::lock;

impl TokenManager {
    /// A manager for `config`; with `keep_fresh`, it starts its keep-fresh
    /// task on the current tokio runtime (an error without one).
    pub(crate) fn new(
        config: &Config,
        secrets: Arc<Secrets>,
        transport: Arc<Transport>,
        counters: Arc<Counters>,
        clock: Option<Arc<dyn Clock>>,
        store: Option<Arc<dyn TokenStore>>,
        keep_fresh: bool,
    ) -> Result<TokenManager> {
        let policy = *config.token_policy();
        let (keeper_stop, stop) = tokio::sync::watch::channel(());
        let username = secrets.credentials().map(|c| c.username().to_string());
        let account = crate::account_name(
            config.base_url().as_str(),
            username.as_deref().unwrap_or(""),
        );
        let inner = Arc::new(Inner {
            state: State::new(Arc::clone(&secrets), policy),
            flight: Mutex::new(Flight::default()),
            renewing: AtomicBool::new(false),
            refresh_stalled: AtomicBool::new(false),
            store_io: tokio::sync::Mutex::new(()),
            store_up: AtomicBool::new(true),
            secrets,
            account,
            policy,
            wait_timeout: config.token_wait_timeout(),
            store_timeout: config.request_timeout(),
            clock: clock.unwrap_or_else(|| Arc::new(SystemClock)),
            store: store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
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
        let now = self.inner.clock.now_micros();
        let snapshot = self.inner.secrets.current().load();
        if let Some(current) = snapshot.as_deref() {
            if policy::stage(now, Some(&current.points)) == Stage::Fresh {
                if let Some(token) = AccessToken::loaded(snapshot) {
                    return Ok(token);
                }
            }
        }
        self.token_slow().await
    }

    /// `token()` past the soft point, or with no token.
    async fn token_slow(&self) -> Result<AccessToken> {
        let inner = &self.inner;
        let deadline = deadline_after(inner.wait_timeout);
        loop {
            let now = inner.clock.now_micros();
            let current = inner.secrets.current().load_full();
            let stage = policy::stage(now, current.as_ref().map(|c| &c.points));
            // What to wait for (nothing: serve), and a renewal to start.
            let (joined, launch) =
                if stage == Stage::Window && inner.renewing.load(Ordering::Acquire) {
                    // What the policy answers with a renewal in flight,
                    // known without taking the flight's lock.
                    (None, None)
                } else {
                    let mut f = lock(&inner.flight);
                    match policy::decide(now, stage, &f.view(), &inner.policy) {
                        Action::Serve => (None, None),
                        Action::ServeAndRenew => {
                            tracing::trace!("refresh window reached; renewing in the background");
                            (None, inner.start(&mut f, Want::Auto))
                        }
                        Action::Wait => {
                            let (joined, launch) = inner.join_or_start(&mut f, Want::Auto);
                            (Some(joined), launch)
                        }
                        Action::Fail => {
                            let error = f.last_error();
                            drop(f);
                            return self.still_valid().ok_or(error);
                        }
                    }
                };
            if let Some(launch) = launch {
                launch.spawn()?;
            }
            let Some(joined) = joined else {
                // Served only while valid, so there is a token.
                return current
                    .map(AccessToken::owned)
                    .ok_or_else(|| Error::Internal("no token to serve".to_string()));
            };
            match flight::wait(inner, joined, deadline, inner.wait_timeout).await {
                Ok(Waited::Renewed(renewed)) => return Ok(renewed.token),
                // A clear(), invalidate() or set_token() won over that
                // renewal, or it was one of another kind: look again.
                Ok(Waited::Superseded) => continue,
                Ok(Waited::Failed(e)) | Err(e) => return self.still_valid().ok_or(e),
            }
        }
    }

    /// Refreshes the token now (with itself; falls back to a login), whatever
    /// its age, and says how it was renewed. Unlike [`token`](Self::token), a
    /// failure is returned even while the old token is still valid (it stays
    /// in place). A refresh or login already in flight is joined.
    pub async fn force_refresh(&self) -> Result<Renewed> {
        self.inner.renew_now(Want::Refresh).await
    }

    /// Logs in now with the credentials, whatever the current token. A
    /// failure is returned even while the old token is still valid (it stays
    /// in place). A login already in flight is joined; a refresh in flight is
    /// waited out first.
    pub async fn login(&self) -> Result<Renewed> {
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
        self.inner.renewing.load(Ordering::Acquire)
    }

    /// The token as it stands, without renewing: for display and persistence.
    /// The copy returned shares the secret; it is the caller's to drop.
    pub fn snapshot(&self) -> Option<TokenData> {
        self.inner.state.token()
    }

    /// Expiry, age, state and fingerprint of the current token — never the token.
    /// The state is the manager's own: "expiring" from the (jittered) soft point on.
    pub fn info(&self) -> TokenInfo {
        let now = self.inner.clock.now();
        match self.inner.secrets.current().load().as_deref() {
            Some(c) => c.token.info_with(now, &c.points),
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
        self.inner.counters.read(self.inner.state.generation())
    }

    /// Forgets the token, here and in the store, and any remembered failure.
    /// A renewal in flight installs nothing when it ends, and stores nothing.
    /// The next call obtains a new token. Meant for tests and `amp token clear`.
    pub async fn clear(&self) -> Result<()> {
        let inner = &self.inner;
        let _io = inner.store_io.lock().await;
        inner.state.clear();
        lock(&inner.flight).forget();
        tracing::debug!(store = %inner.store.describe(), "token cleared");
        inner.bounded("clear", inner.store.clear()).await
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
        if let Some(problem) = token.problem(inner.clock.now()) {
            return Err(refuse(problem.to_string()));
        }
        let token = match token.account.as_deref() {
            None => token.for_account(inner.account.clone()),
            Some(a) if inner.accepts(Some(a)) => token,
            Some(a) => {
                return Err(refuse(format!(
                    "it was issued for {a}, and this client is {}",
                    inner.account
                )))
            }
        };
        let _io = inner.store_io.lock().await;
        let access = inner.state.set(token.clone(), inner.jitter());
        crate::stats::token_expires_in(Some(access.expires_in_seconds(inner.clock.now_micros())));
        inner.refresh_stalled.store(false, Ordering::Release);
        let saved = inner.bounded("save", inner.store.save(&token)).await;
        inner.note_store(&saved);
        Ok(access)
    }

    /// Called after the server answered 401 to a request made with token
    /// `generation`: drops that token (here and from the store) if it is
    /// still the current one, so the next [`token`](Self::token) obtains a
    /// new one, and never takes it back from the store. Returns true if it
    /// did. Many requests failing with the same token cause one login.
    pub async fn invalidate(&self, generation: u64) -> bool {
        let inner = &self.inner;
        let Some(dropped) = inner.state.invalidate(generation) else {
            return false;
        };
        inner.counters.reauths.bump();
        tracing::debug!(fingerprint = %dropped.fingerprint(), generation, "token rejected by the server; dropping it");
        // A failure remembered from before must not block the new login.
        lock(&inner.flight).forget_failure();
        let _io = inner.store_io.lock().await;
        let discarded = inner
            .bounded("discard", inner.store.discard(&dropped))
            .await;
        inner.note_store(&discarded);
        true
    }

    /// The current token if it has not expired yet: what a caller gets when
    /// a renewal fails, rather than an error, as long as there is time left.
    fn still_valid(&self) -> Option<AccessToken> {
        let now = self.inner.clock.now_micros();
        let current = self.inner.secrets.current().load_full()?;
        (now < current.points.expires_at).then_some(AccessToken::owned(current))
    }

    /// True when the manager has credentials to log in with
    /// (`AMP_USERNAME` / `AMP_PASSWORD`, or the builder's).
    pub fn has_credentials(&self) -> bool {
        self.inner.secrets.credentials().is_some()
    }

    /// The clock this manager reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The store this manager reads and writes.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// A password change is under way: `password` is scrubbed from the
    /// server's text until the guard is dropped.
    pub(crate) fn password_pending<'a>(&'a self, password: &SecretString) -> Pending<'a> {
        self.inner.secrets.pending(password)
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
        let inner = &self.inner;
        if let Some(old) = inner.secrets.credentials() {
            inner.secrets.set_credentials(old.with_password(password));
            tracing::debug!("password changed; later logins use the new one");
        }
        if let Some(token) = token {
            let lifetime = inner.policy.lifetime;
            self.set_token(TokenData::obtained(token, inner.clock.now(), lifetime))
                .await?;
        }
        Ok(())
    }
}

impl Inner {
    /// True when a token bound to `account` may be used here: this
    /// manager's account, or, for a manager without credentials (which
    /// logs in as nobody), any user's at the same API root. A token bound
    /// to no account could be anyone's: never.
    fn accepts(&self, account: Option<&str>) -> bool {
        match account {
            // `self.account` is " at <root>" then; a root holds no space.
            Some(a) if self.secrets.credentials().is_none() => a.ends_with(&self.account),
            Some(a) => a == self.account,
            None => false,
        }
    }

    /// A jitter for the soft point of a token installed now.
    fn jitter(&self) -> f64 {
        fastrand::f64()
    }

    /// An explicit renewal (`login()`, `force_refresh()`): joins one of the
    /// same kind in flight, waits out one of another kind, reports failures.
    async fn renew_now(self: &Arc<Self>, want: Want) -> Result<Renewed> {
        let deadline = deadline_after(self.wait_timeout);
        loop {
            let (joined, launch) = {
                let mut f = lock(&self.flight);
                self.join_or_start(&mut f, want)
            };
            if let Some(launch) = launch {
                launch.spawn()?;
            }
            match flight::wait(self, joined, deadline, self.wait_timeout).await? {
                Waited::Renewed(renewed) => return Ok(renewed),
                Waited::Superseded => continue,
                Waited::Failed(e) => return Err(e),
            }
        }
    }

    /// Runs a store operation within the store timeout.
    async fn bounded<T>(
        &self,
        what: &str,
        op: impl std::future::Future<Output = Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.store_timeout, op).await {
            Ok(result) => result,
            Err(_) => Err(Error::Store {
                store: self.store.describe(),
                reason: format!(
                    "{what} timed out after {}",
                    crate::error::human(self.store_timeout)
                ),
            }),
        }
    }

    /// Reports a store outage once, and its end once, instead of on every call.
    fn note_store<T>(&self, result: &Result<T>) {
        match result {
            Ok(_) => {
                if !self.store_up.swap(true, Ordering::AcqRel) {
                    tracing::info!(store = %self.store.describe(), "token store answers again");
                }
            }
            Err(e) => {
                if self.store_up.swap(false, Ordering::AcqRel) {
                    tracing::warn!(store = %self.store.describe(), error = %e, "token store unavailable; working from memory until it answers");
                } else {
                    tracing::debug!(store = %self.store.describe(), error = %e, "token store still unavailable");
                }
            }
        }
    }
}
