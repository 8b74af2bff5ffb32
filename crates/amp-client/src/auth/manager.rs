//! [`TokenManager`]: the token cell, one renewal at a time, refresh before
//! expiry without making callers wait, recovery from revoked tokens.
//!
//! `token()` decides, with the injected [`Clock`]:
//! 1. more than the refresh window left (the soft point, jittered a little
//!    earlier) → return the token: a mutex held for a few loads, no await, no
//!    new secret (the token is shared by `Arc`), no log above trace;
//! 2. inside the window but before the hard point → start one background
//!    refresh if none runs, and return the still valid token at once;
//! 3. no token, expired, or past the hard point → join the one renewal in
//!    flight (start it if none) and wait, each caller with its own timeout.
//!
//! The renewal runs in a spawned task: a cancelled caller does not cancel it
//! for the others, and every waiter receives the same result. A failure is
//! remembered for a short cooldown so a thousand waiters do not retry one
//! after another.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::auth::endpoints;
use crate::auth::store::{MemoryStore, TokenStore};
use crate::auth::token::{to_chrono, Clock, SystemClock, TokenData, TokenInfo};
use crate::config::{Config, TokenPolicy};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::transport::{Counters, Transport};

/// A token handed to a caller, with the generation it belongs to.
///
/// Cloning shares the secret; `Debug` shows only the fingerprint.
#[derive(Clone)]
pub struct AccessToken {
    data: TokenData,
    generation: u64,
}

impl AccessToken {
    /// The token, to put on the wire.
    pub fn secret(&self) -> &secrecy::SecretString {
        self.data.token()
    }

    /// The token with its times.
    pub fn data(&self) -> &TokenData {
        &self.data
    }

    /// Which token this is: every new token gets a higher generation.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

impl std::fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessToken")
            .field("fingerprint", &self.data.fingerprint())
            .field("generation", &self.generation)
            .field("expires_at", &self.data.expires_at)
            .finish()
    }
}

/// Counters for monitoring, read with [`TokenManager::stats`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stats {
    /// HTTP requests sent, every attempt counted.
    pub requests: u64,
    /// Tokens obtained with the credentials.
    pub obtains: u64,
    /// Tokens refreshed with themselves.
    pub refreshes: u64,
    /// Refreshes that failed and fell back to obtaining.
    pub fallbacks: u64,
    /// Tokens dropped after a 401 and obtained again.
    pub reauths: u64,
    /// Tokens taken from the store, renewed by another client or process.
    pub store_adoptions: u64,
    /// Renewals that failed.
    pub failures: u64,
    /// … of which the credentials were refused.
    pub failures_refused: u64,
    /// … of which were rate limited.
    pub failures_rate_limited: u64,
    /// … of which timed out.
    pub failures_timeout: u64,
    /// … of which the network failed.
    pub failures_network: u64,
    /// … of which the server failed (5xx).
    pub failures_server: u64,
    /// … of which failed otherwise.
    pub failures_other: u64,
    /// Attempts repeated after a failure, all requests counted.
    pub retries: u64,
    /// 429 answers received.
    pub rate_limited: u64,
    /// The generation of the current token (0: none yet).
    pub generation: u64,
}

/// What a renewal is asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Renewal {
    /// Whatever the token needs: nothing, a refresh, or a login.
    Auto,
    /// Refresh even a fresh token (falls back to a login).
    Refresh,
    /// Log in even if a token is valid.
    Obtain,
}

type Outcome = Option<Result<AccessToken>>;

#[derive(Debug, Default)]
struct Flight {
    /// The renewal in progress; its result is published on the channel.
    running: Option<watch::Receiver<Outcome>>,
    /// The last failure and when it happened, served during the cooldown.
    failed: Option<(Instant, Error)>,
    /// A background refresh that failed is not retried before this.
    next_background: Option<Instant>,
}

struct Inner {
    /// Tells managers apart in the per-thread caches.
    id: u64,
    /// The token. A synchronous mutex, held only to read or swap, never across an await.
    cell: Arc<Mutex<Option<TokenData>>>,
    /// Bumped under the cell's lock with every new token.
    generation: AtomicU64,
    /// Soft and hard points of the current token, microseconds since the epoch,
    /// written under the cell's lock.
    soft_at: AtomicI64,
    hard_at: AtomicI64,
    /// A renewal is in flight (set and cleared with `Flight::running`, under
    /// its lock). Until the hard point, callers get the current token then
    /// anyway, so the per-thread copies may serve it without taking a lock.
    renewing: AtomicBool,
    /// The last refresh did not move the expiry forward: log in next time instead.
    refresh_stalled: AtomicBool,
    /// A token the server revoked: never adopt it again from the store.
    rejected: Mutex<Option<TokenData>>,
    flight: Mutex<Flight>,
    policy: TokenPolicy,
    wait_timeout: Duration,
    clock: Arc<dyn Clock>,
    store: Arc<dyn TokenStore>,
    transport: Arc<Transport>,
    credentials: Option<Credentials>,
    counters: Arc<Counters>,
}

/// Owns the token: obtains, refreshes, shares and stores it.
///
/// Cheap to clone (clones share everything). Normally used through
/// [`AmpClient`](crate::AmpClient), which calls [`TokenManager::token`]
/// before every request; use it directly to inspect or steer the token.
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// let manager = client.token_manager();
/// let info = manager.info();
/// println!("state {}, expires in {:?}", info.state, info.expires_in);
/// manager.force_refresh().await?;
/// manager.clear().await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TokenManager {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for TokenManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenManager")
            .field("info", &self.info())
            .field("store", &self.inner.store.describe())
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding one of these locks leaves consistent data behind
    // (every critical section is a few loads and stores).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

impl TokenManager {
    pub(crate) fn new(
        config: &Config,
        transport: Arc<Transport>,
        counters: Arc<Counters>,
        clock: Option<Arc<dyn Clock>>,
        store: Option<Arc<dyn TokenStore>>,
    ) -> TokenManager {
        TokenManager {
            inner: Arc::new(Inner {
                id: thread_cache::next_id(),
                cell: Arc::new(Mutex::new(None)),
                generation: AtomicU64::new(0),
                soft_at: AtomicI64::new(i64::MIN),
                hard_at: AtomicI64::new(i64::MIN),
                renewing: AtomicBool::new(false),
                refresh_stalled: AtomicBool::new(false),
                rejected: Mutex::new(None),
                flight: Mutex::new(Flight::default()),
                policy: *config.token_policy(),
                wait_timeout: config.token_wait_timeout(),
                clock: clock.unwrap_or_else(|| Arc::new(SystemClock)),
                store: store.unwrap_or_else(|| Arc::new(MemoryStore::new())),
                transport,
                credentials: config.credentials().cloned(),
                counters,
            }),
        }
    }

    /// A valid token: the current one, or a new one if it must be renewed first.
    ///
    /// Inside the refresh window this returns the current token at once and
    /// refreshes in the background.
    pub async fn token(&self) -> Result<AccessToken> {
        let inner = &self.inner;
        let now = inner.clock.now_micros();
        // The hot path touches no memory another thread writes: the current
        // generation is only read, and the token comes from this thread's
        // own copy (see `thread_cache`). Past the soft point it still serves
        // while a renewal is in flight, which is what the slow path below
        // would answer too, without the two locks every caller would take.
        let generation = inner.generation.load(Ordering::Acquire);
        let renewing = || inner.renewing.load(Ordering::Acquire);
        if let Some(token) = thread_cache::get(inner.id, generation, now, renewing) {
            return Ok(token);
        }
        {
            let cell = lock(&inner.cell);
            if let Some(data) = cell.as_ref() {
                let soft_at = inner.soft_at.load(Ordering::Acquire);
                let hard_at = inner.hard_at.load(Ordering::Acquire);
                if now < soft_at {
                    let token = AccessToken {
                        data: data.clone(),
                        generation: inner.generation.load(Ordering::Acquire),
                    };
                    drop(cell);
                    thread_cache::put(inner.id, &token, soft_at, hard_at);
                    return Ok(token);
                }
                if now < hard_at {
                    let current = AccessToken {
                        data: data.clone(),
                        generation: inner.generation.load(Ordering::Acquire),
                    };
                    drop(cell);
                    self.start_background_refresh();
                    if renewing() {
                        thread_cache::put(inner.id, &current, soft_at, hard_at);
                    }
                    return Ok(current);
                }
            }
        }
        self.wait_for(Renewal::Auto).await
    }

    /// Refreshes the token now (with itself; falls back to a login), whatever its age.
    /// Unlike [`token`](Self::token), a failure is returned even while the old
    /// token is still valid (the old token stays in place).
    pub async fn force_refresh(&self) -> Result<AccessToken> {
        self.wait_for(Renewal::Refresh).await
    }

    /// Logs in now with the credentials, whatever the current token. A failure
    /// is returned even while the old token is still valid (it stays in place).
    pub async fn login(&self) -> Result<AccessToken> {
        self.wait_for(Renewal::Obtain).await
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
    pub fn snapshot(&self) -> Option<TokenData> {
        lock(&self.inner.cell).clone()
    }

    /// Expiry, age, state and fingerprint of the current token — never the token.
    pub fn info(&self) -> TokenInfo {
        let now = self.inner.clock.now();
        match lock(&self.inner.cell).as_ref() {
            Some(t) => t.info_at(now, &self.inner.policy),
            None => TokenInfo::none(),
        }
    }

    /// Reads the store without renewing anything, and adopts a newer token
    /// found there. Returns the resulting info (used by `amp token status`).
    pub async fn load_from_store(&self) -> Result<TokenInfo> {
        if let Some(stored) = self.inner.store.load().await? {
            // With no token at all, even an expired stored one is worth
            // showing ("expired" says more than "none"); the next call
            // obtains a new one either way.
            let show_expired = lock(&self.inner.cell).is_none();
            self.inner.adopt_if_newer(stored, show_expired);
        }
        Ok(self.info())
    }

    /// Counters for monitoring.
    pub fn stats(&self) -> Stats {
        let c = &self.inner.counters;
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        Stats {
            requests: g(&c.requests),
            obtains: g(&c.obtains),
            refreshes: g(&c.refreshes),
            fallbacks: g(&c.fallbacks),
            reauths: g(&c.reauths),
            store_adoptions: g(&c.store_adoptions),
            failures: g(&c.failures),
            failures_refused: g(&c.failures_refused),
            failures_rate_limited: g(&c.failures_rate_limited),
            failures_timeout: g(&c.failures_timeout),
            failures_network: g(&c.failures_network),
            failures_server: g(&c.failures_server),
            failures_other: g(&c.failures_other),
            retries: g(&c.retries),
            rate_limited: g(&c.rate_limited),
            generation: self.inner.generation.load(Ordering::Acquire),
        }
    }

    /// Forgets the token, here and in the store, and any remembered failure.
    /// The next call obtains a new one. Meant for tests and `amp token clear`.
    pub async fn clear(&self) -> Result<()> {
        {
            let mut cell = lock(&self.inner.cell);
            *cell = None;
            self.inner.generation.fetch_add(1, Ordering::AcqRel);
        }
        {
            let mut f = lock(&self.inner.flight);
            f.failed = None;
            f.next_background = None;
        }
        tracing::debug!(store = %self.inner.store.describe(), "token cleared");
        self.inner.store.clear().await
    }

    /// Puts a token in place, as if it had just been obtained (and writes it to
    /// the store). For restoring a token saved elsewhere, and for tests.
    pub async fn set_token(&self, token: TokenData) -> Result<AccessToken> {
        let access = self.inner.install(token.clone(), "set");
        self.inner.store.save(&token).await?;
        Ok(access)
    }

    /// Called after the server answered 401 to a request made with token
    /// `generation`: drops that token if it is still the current one, so the
    /// next [`token`](Self::token) obtains a new one. Returns true if it did.
    /// Many requests failing with the same token therefore cause one login.
    pub fn invalidate(&self, generation: u64) -> bool {
        let inner = &self.inner;
        let dropped = {
            let mut cell = lock(&inner.cell);
            if inner.generation.load(Ordering::Acquire) != generation || cell.is_none() {
                return false;
            }
            // A new generation, so no thread's cached copy is served again.
            inner.generation.fetch_add(1, Ordering::AcqRel);
            cell.take()
        };
        if let Some(old) = dropped {
            Counters::bump(&inner.counters.reauths);
            tracing::debug!(fingerprint = %old.fingerprint(), generation, "token rejected by the server; dropping it");
            *lock(&inner.rejected) = Some(old);
        }
        // A failure remembered from before must not block the new login.
        lock(&inner.flight).failed = None;
        true
    }

    /// The clock this manager reads.
    pub fn clock(&self) -> &Arc<dyn Clock> {
        &self.inner.clock
    }

    /// The store this manager reads and writes.
    pub fn store(&self) -> &Arc<dyn TokenStore> {
        &self.inner.store
    }

    /// The raw token cell (`Arc<Mutex<Option<TokenData>>>`), for inspection.
    /// Do not write it: a direct write bypasses the generation, the store and
    /// the per-thread copies of the hot path; use [`set_token`](Self::set_token)
    /// and [`clear`](Self::clear).
    pub fn cell(&self) -> &Arc<Mutex<Option<TokenData>>> {
        &self.inner.cell
    }

    fn start_background_refresh(&self) {
        let now = Instant::now();
        {
            let f = lock(&self.inner.flight);
            if f.running.is_some() || f.next_background.is_some_and(|t| now < t) {
                return;
            }
        }
        tracing::trace!("refresh window reached; refreshing in the background");
        // Nobody waits for it; callers use the current token meanwhile.
        let _ = self.join_or_start(Renewal::Auto, true);
    }

    /// Waits for a renewal of the given kind (joining one in flight).
    async fn wait_for(&self, kind: Renewal) -> Result<AccessToken> {
        let mut rx = match self.join_or_start(kind, false)? {
            Joined::Ready(token) => return Ok(token),
            Joined::Waiting(rx) => rx,
        };
        let waited = self.inner.wait_timeout;
        let outcome = match tokio::time::timeout(waited, rx.wait_for(Option::is_some)).await {
            Err(_) => return Err(Error::TokenWaitTimeout { waited }),
            Ok(Err(_)) => {
                return Err(Error::Internal(
                    "the token renewal ended without a result".to_string(),
                ))
            }
            Ok(Ok(outcome)) => outcome.clone(),
        };
        match outcome {
            Some(Ok(token)) => Ok(token),
            // An explicit login or refresh reports its failure; an automatic
            // renewal falls back to a token that still has time left.
            Some(Err(e)) if kind == Renewal::Auto => self.still_valid().ok_or(e),
            Some(Err(e)) => Err(e),
            None => Err(Error::Internal("empty renewal result".to_string())),
        }
    }

    /// The current token if it has not expired yet: what a caller gets when a
    /// renewal fails, rather than an error, as long as there is time left.
    fn still_valid(&self) -> Option<AccessToken> {
        let now = self.inner.clock.now();
        let cell = lock(&self.inner.cell);
        let data = cell.as_ref().filter(|d| now < d.expires_at)?;
        Some(AccessToken {
            data: data.clone(),
            generation: self.inner.generation.load(Ordering::Acquire),
        })
    }

    fn join_or_start(&self, kind: Renewal, background: bool) -> Result<Joined> {
        let inner = &self.inner;
        let mut f = lock(&inner.flight);
        if let Some(rx) = &f.running {
            return Ok(Joined::Waiting(rx.clone()));
        }
        if kind == Renewal::Auto {
            // A renewal may have finished between the caller's look at the
            // cell and now: do not start a second one.
            let now = inner.clock.now_micros();
            let ready = {
                let cell = lock(&inner.cell);
                cell.as_ref().and_then(|data| {
                    let limit = if background {
                        &inner.soft_at
                    } else {
                        &inner.hard_at
                    };
                    (now < limit.load(Ordering::Acquire)).then(|| AccessToken {
                        data: data.clone(),
                        generation: inner.generation.load(Ordering::Acquire),
                    })
                })
            };
            if let Some(token) = ready {
                return Ok(Joined::Ready(token));
            }
            if !background {
                if let Some((at, error)) = &f.failed {
                    if Instant::now() < *at + inner.policy.failure_cooldown {
                        let error = error.clone();
                        drop(f);
                        return self.still_valid().map(Joined::Ready).ok_or(error);
                    }
                }
            }
        }
        f.failed = None;
        let (tx, rx) = watch::channel(None);
        f.running = Some(rx.clone());
        inner.renewing.store(true, Ordering::Release);
        drop(f);
        let task_inner = Arc::clone(inner);
        // Clears the slot even if the renewal panics or the runtime drops
        // the task; made before the task so that it also covers a task
        // dropped before it ever ran (its runtime shutting down).
        let guard = FlightGuard {
            inner: Arc::clone(inner),
            armed: true,
        };
        tokio::spawn(async move {
            // The whole guard moves in (a field assignment alone would only
            // capture the field, and the guard would drop here at once).
            let mut guard = guard;
            let result = task_inner.renew(kind).await;
            {
                let mut f = lock(&task_inner.flight);
                task_inner.end_flight(&mut f);
                match &result {
                    Ok(_) => f.next_background = None,
                    Err(e) => {
                        let now = Instant::now();
                        f.failed = Some((now, e.clone()));
                        f.next_background = Some(
                            now + task_inner
                                .policy
                                .failure_cooldown
                                .max(Duration::from_secs(5)),
                        );
                    }
                }
            }
            guard.armed = false;
            let _ = tx.send(Some(result));
        });
        Ok(Joined::Waiting(rx))
    }
}

enum Joined {
    Ready(AccessToken),
    Waiting(watch::Receiver<Outcome>),
}

struct FlightGuard {
    inner: Arc<Inner>,
    armed: bool,
}

impl Drop for FlightGuard {
    fn drop(&mut self) {
        if self.armed {
            self.inner.end_flight(&mut lock(&self.inner.flight));
        }
    }
}

impl Inner {
    /// Marks the renewal in flight as over; `f` is the flight's lock, held.
    fn end_flight(&self, f: &mut Flight) {
        f.running = None;
        self.renewing.store(false, Ordering::Release);
    }

    /// Makes `data` the current token.
    fn install(&self, data: TokenData, how: &'static str) -> AccessToken {
        let jitter_us = u64::try_from(self.policy.refresh_jitter.as_micros()).unwrap_or(u64::MAX);
        let jitter = Duration::from_micros(fastrand::u64(0..=jitter_us));
        let soft = data.expires_at - to_chrono(self.policy.refresh_before) - to_chrono(jitter);
        let hard = data.expires_at - to_chrono(self.policy.hard_before);
        let fingerprint = data.fingerprint();
        let expires_at = data.expires_at;
        let generation = {
            let mut cell = lock(&self.cell);
            let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
            self.soft_at.store(micros(soft), Ordering::Release);
            self.hard_at.store(micros(hard), Ordering::Release);
            *cell = Some(data.clone());
            generation
        };
        tracing::debug!(%fingerprint, %expires_at, generation, how, "token in place");
        AccessToken { data, generation }
    }

    /// Adopts `stored` if it is newer than the current token, still valid
    /// (unless `allow_expired`), and not a token the server rejected.
    /// Returns true if it did.
    fn adopt_if_newer(&self, stored: TokenData, allow_expired: bool) -> bool {
        let now = self.clock.now();
        if stored.expires_at <= now && !allow_expired {
            return false;
        }
        if lock(&self.rejected)
            .as_ref()
            .is_some_and(|r| r.same_token(&stored))
        {
            return false;
        }
        let newer = match lock(&self.cell).as_ref() {
            None => true,
            Some(current) => !current.same_token(&stored) && stored.expires_at > current.expires_at,
        };
        if newer {
            Counters::bump(&self.counters.store_adoptions);
            self.refresh_stalled.store(false, Ordering::Release);
            self.install(stored, "store");
        }
        newer
    }

    /// One renewal, run in its own task, under the store's renewal lock.
    async fn renew(self: &Arc<Self>, kind: Renewal) -> Result<AccessToken> {
        let guard = match self.store.lock().await {
            Ok(g) => Some(g),
            Err(e) => {
                // Without the lock we may log in twice across processes; that
                // is better than not logging in.
                tracing::warn!(store = %self.store.describe(), error = %e, "renewal lock unavailable; renewing without it");
                None
            }
        };
        let result = self.renew_locked(kind).await;
        if let Some(g) = guard {
            g.release().await;
        }
        if let Err(e) = &result {
            self.counters.failure(e);
            tracing::warn!(error = %e, "token renewal failed");
        }
        result
    }

    async fn renew_locked(self: &Arc<Self>, kind: Renewal) -> Result<AccessToken> {
        // Another client or process sharing the store may have renewed already.
        match self.store.load().await {
            Ok(Some(stored)) => {
                if self.adopt_if_newer(stored, false) {
                    tracing::debug!(store = %self.store.describe(), "took a newer token from the store");
                }
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(store = %self.store.describe(), error = %e, "token store unreadable")
            }
        }
        let now = self.clock.now();
        let current = {
            let cell = lock(&self.cell);
            cell.clone()
                .map(|d| (d, self.generation.load(Ordering::Acquire)))
        };
        let new = match (kind, current) {
            (Renewal::Auto, Some((data, generation)))
                if micros(now) < self.soft_at.load(Ordering::Acquire) =>
            {
                return Ok(AccessToken { data, generation });
            }
            (Renewal::Obtain, _) => self.obtain().await?,
            (_, Some((data, _)))
                if now < data.expires_at && !self.refresh_stalled.load(Ordering::Acquire) =>
            {
                match endpoints::refresh(&self.transport, &data, || self.clock.now()).await {
                    Ok(new) => {
                        Counters::bump(&self.counters.refreshes);
                        let stalled = new.expires_at <= data.expires_at;
                        self.refresh_stalled.store(stalled, Ordering::Release);
                        if stalled {
                            tracing::warn!(
                                "refresh did not move the expiry forward; the next renewal logs in"
                            );
                        }
                        tracing::debug!(fingerprint = %new.fingerprint(), "token refreshed");
                        new
                    }
                    Err(e) => {
                        Counters::bump(&self.counters.fallbacks);
                        tracing::debug!(error = %e, "refresh failed; logging in instead");
                        self.obtain().await?
                    }
                }
            }
            _ => self.obtain().await?,
        };
        if let Err(e) = self.store.save(&new).await {
            // The token works even if it could not be stored.
            tracing::warn!(store = %self.store.describe(), error = %e, "could not store the token");
        }
        Ok(self.install(new, "renewal"))
    }

    async fn obtain(&self) -> Result<TokenData> {
        let data = endpoints::obtain(&self.transport, self.credentials.as_ref(), || {
            self.clock.now()
        })
        .await
        .map_err(|e| match e {
            e @ Error::Config { .. } | e @ Error::InsecureTransport { .. } => e,
            e => Error::Auth {
                source: Box::new(e),
            },
        })?;
        Counters::bump(&self.counters.obtains);
        self.refresh_stalled.store(false, Ordering::Release);
        tracing::debug!(fingerprint = %data.fingerprint(), expires_at = %data.expires_at, "token obtained");
        Ok(data)
    }
}

/// Per-thread copies of the current token, so that `token()` on many threads
/// at once does not make them fight over one mutex and one reference count
/// (BENCHMARKS.md: 393 ns per call with two threads through the mutex).
///
/// An entry is served only while its manager's generation is unchanged and
/// its soft point is ahead; every change of token (new token, 401, clear)
/// bumps the generation. Each entry holds its own copy of the secret
/// (zeroized when the entry is replaced or the thread ends), so the reference
/// count a caller's clone touches is this thread's alone.
mod thread_cache {
    use std::cell::RefCell;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::AccessToken;

    /// A few managers per thread: a program rarely has more clients.
    const SLOTS: usize = 4;

    struct Entry {
        manager: u64,
        generation: u64,
        soft_at: i64,
        hard_at: i64,
        token: AccessToken,
    }

    thread_local! {
        static CACHE: RefCell<[Option<Entry>; SLOTS]> = const { RefCell::new([None, None, None, None]) };
    }

    static NEXT_ID: AtomicU64 = AtomicU64::new(1);

    /// A process-wide unique id for a new manager.
    pub(super) fn next_id() -> u64 {
        NEXT_ID.fetch_add(1, Ordering::Relaxed)
    }

    /// This thread's copy of `manager`'s token, if it is of `generation`
    /// and `now` is before its soft point, or before its hard point while
    /// `renewing()` (only asked past the soft point).
    pub(super) fn get(
        manager: u64,
        generation: u64,
        now: i64,
        renewing: impl FnOnce() -> bool,
    ) -> Option<AccessToken> {
        CACHE
            .try_with(|c| {
                let c = c.try_borrow().ok()?;
                let e = c
                    .iter()
                    .flatten()
                    .find(|e| e.manager == manager && e.generation == generation)?;
                (now < e.soft_at || (now < e.hard_at && renewing())).then(|| e.token.clone())
            })
            .ok()
            .flatten()
    }

    /// Keeps a copy of `token` for this thread, replacing `manager`'s old
    /// entry, else an empty slot, else the first one. Nothing to do when the
    /// entry already holds this generation.
    pub(super) fn put(manager: u64, token: &AccessToken, soft_at: i64, hard_at: i64) {
        let _ = CACHE.try_with(|c| {
            let Ok(mut c) = c.try_borrow_mut() else {
                return;
            };
            let held = c
                .iter()
                .flatten()
                .any(|e| e.manager == manager && e.generation == token.generation);
            if held {
                return;
            }
            let slot = c
                .iter()
                .position(|e| e.as_ref().is_some_and(|e| e.manager == manager))
                .or_else(|| c.iter().position(Option::is_none))
                .unwrap_or(0);
            c[slot] = Some(Entry {
                manager,
                generation: token.generation,
                soft_at,
                hard_at,
                token: AccessToken {
                    data: token.data.own_copy(),
                    generation: token.generation,
                },
            });
        });
    }
}
