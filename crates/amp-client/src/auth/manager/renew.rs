//! One renewal, as a task of its own: take the store's renewal lock, look
//! in the store (another process may have renewed already), make the call
//! the policy names, install the result, store it, and tell the waiters.
//!
//! A renewal runs in a task, so a caller that gives up (or is cancelled)
//! does not cancel it for the others, and every waiter learns the same
//! [`Outcome`]. Each of its steps is bounded: the store's lock by half the
//! renewal's time (renewing goes on without it: processes may then log in
//! twice, never wedge), the store read by the store timeout, the calls up
//! to the install by the renewal's time (a hung server ends it with a
//! failure, the cooldown applies, and the next caller starts afresh), and
//! after the install the store write and the lock's release by the store
//! timeout each. Callers wait for a whole renewal, its store steps
//! included, so a slow store cannot turn a renewal that worked into a
//! failure for them.
//!
//! The task runs on the tokio runtime of the caller that started it. A
//! runtime that stops (dropped, shut down) drops the task, which ends the
//! flight; one that is no longer driven (a current-thread runtime outside
//! `block_on`) leaves the renewal waiting, and callers on other runtimes
//! time out on it.

use std::sync::Arc;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::auth::endpoints;
use crate::auth::manager::{Inner, Renewal};
use crate::auth::policy::{self, Want};
use crate::auth::state::{Outcome, State};
use crate::auth::store::RenewalGuard;
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

/// The renewal in flight: registered in the state under its lock (so no
/// second one starts), spawned once the lock is released, and ending the
/// flight when it ends, or when it is dropped without ending (its runtime
/// shutting down: its waiters then see the channel close).
pub(crate) struct Task {
    inner: Arc<Inner>,
    want: Want,
    /// The generation it may install over: the one it began under, then
    /// the one of the token it took from the store.
    generation: u64,
    tx: watch::Sender<Option<Outcome>>,
    ended: bool,
}

impl Task {
    /// The renewal in flight, or a new one for `want` that takes the
    /// flight: where it reports its end, whether its outcome answers
    /// `want`, and the task to spawn once the lock is released. `st` is the
    /// state, locked.
    pub fn join(
        inner: &Arc<Inner>,
        st: &mut State,
        want: Want,
    ) -> (watch::Receiver<Option<Outcome>>, bool, Option<Task>) {
        if let Some((running, done)) = &st.flight {
            return (done.clone(), want.served_by(*running), None);
        }
        let (tx, done) = watch::channel(None);
        st.flight = Some((want, done.clone()));
        let task = Task {
            inner: Arc::clone(inner),
            want,
            generation: st.generation,
            tx,
            ended: false,
        };
        (done, true, Some(task))
    }

    /// Runs the renewal in a task of its own on the current tokio runtime.
    /// Call it with the state's lock released.
    pub fn spawn(self) -> Result<()> {
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("the token manager needs a tokio runtime to renew"))?;
        // Its own span, `amp.renewal` (a root: it serves every caller
        // waiting, not only the one that started it): what was asked, how
        // it ended, the attempts of its last call and the time it took.
        let span = tracing::info_span!(
            parent: None,
            "amp.renewal",
            want = ?self.want,
            outcome = tracing::field::Empty,
            attempts = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        handle.spawn(tracing::Instrument::instrument(self.run(), span));
        Ok(())
    }

    async fn run(mut self) {
        let started = Instant::now();
        let inner = Arc::clone(&self.inner);
        // Each step has its own bound: the store's lock half the renewal's
        // time, the store read the store timeout, the calls up to the
        // install the renewal's time. A hung store costs its bounds, never
        // the calls' time.
        let lock = inner.renewal_lock().await;
        // Another client or process sharing the store may have renewed
        // already. A store that fails is only reported (once).
        let adopted = inner.adopt_from_store(Some(self.generation), false).await;
        let adopted = adopted.ok().flatten();
        self.generation = adopted.unwrap_or(self.generation);
        let timeout = inner.renewal_timeout;
        let outcome = match tokio::time::timeout(timeout, self.renew(adopted.is_some())).await {
            Ok(outcome) => outcome.unwrap_or_else(Outcome::Failed),
            Err(_) => {
                let operation = "token renewal".to_string();
                Outcome::Failed(Error::timeout(operation, timeout))
            }
        };
        let took = started.elapsed();
        let (kind, name) = match &outcome {
            Outcome::Renewed(_, how) => ("renewed", how.to_string()),
            Outcome::Superseded => ("superseded", "superseded".to_string()),
            Outcome::Failed(_) => ("failed", "failed".to_string()),
        };
        let span = tracing::Span::current();
        span.record("outcome", tracing::field::display(name));
        span.record("elapsed_ms", took.as_millis() as u64);
        crate::stats::renewal_took(took.as_secs_f64(), kind);
        // The token is stored and the store's lock released before anyone
        // is told: a process that exits right after its call (the `amp`
        // command) leaves the token for the next one. A token taken from
        // the store is there already.
        if let Outcome::Renewed(generation, how) = &outcome {
            if *how != Renewal::FromStore {
                let _ = inner.sync_store(*generation).await;
            }
        }
        if let Some(lock) = lock {
            if tokio::time::timeout(inner.store_timeout, lock.release())
                .await
                .is_err()
            {
                tracing::warn!(store = %inner.store.describe(), "releasing the renewal lock timed out");
            }
        }
        self.end(&outcome);
        // No receiver left is fine: nobody was waiting.
        let _ = self.tx.send(Some(outcome));
    }

    /// Ends the flight, and remembers how it ended, unless the token
    /// changed since (a `clear()` forgets the last renewals: this one too).
    fn end(&mut self, outcome: &Outcome) {
        self.ended = true;
        let inner = &self.inner;
        if let Outcome::Failed(e) = outcome {
            inner.counters.failure(e);
            tracing::warn!(error = %e, "token renewal failed");
        }
        let now = inner.shared.clock.now_micros();
        let mut st = inner.shared.lock();
        st.flight = None;
        if st.generation != self.generation {
            return;
        }
        st.history.end = Some(now);
        match outcome {
            Outcome::Failed(e) => {
                (st.history.failure, st.history.success) = (Some(now), None);
                st.failure = Some(e.clone());
            }
            Outcome::Renewed(..) => (st.history.failure, st.history.success) = (None, Some(now)),
            Outcome::Superseded => {}
        }
    }

    /// The calls up to the install, the store's lock held (if it could be
    /// had); `adopted`: the token in place was just taken from the store.
    async fn renew(&mut self, adopted: bool) -> Result<Outcome> {
        let inner = Arc::clone(&self.inner);
        let (current, stalled) = {
            let st = inner.shared.lock();
            if st.generation != self.generation {
                // The token changed before the call was made: its result
                // would be dropped anyway.
                return Ok(Outcome::Superseded);
            }
            (inner.shared.current(), st.stalled)
        };
        let now = inner.shared.clock.now_micros();
        let call = policy::renewal(now, self.want, current.as_ref().map(|c| &c.points), stalled);
        let (token, how) = match (call, current) {
            // Fresh already: taken from the store just now, or renewed by
            // the renewal that ended as this one began.
            (None, _) if adopted => {
                return Ok(Outcome::Renewed(self.generation, Renewal::FromStore))
            }
            (None, _) => return Ok(Outcome::Superseded),
            (Some(Renewal::Refreshed), Some(current)) => {
                match inner.refresh(&current.token).await {
                    Ok(new) => (new, Renewal::Refreshed),
                    Err(e) => {
                        inner.counters.fallbacks.bump();
                        tracing::debug!(error = %e, "refresh failed; logging in instead");
                        // The server refused the token itself: dropped,
                        // and taken out of the store, as after a 401.
                        if e.is_token_rejected() && inner.invalidate(self.generation).await {
                            self.generation += 1;
                        }
                        if inner.shared.lock().generation != self.generation {
                            // Cleared or replaced meanwhile: no login for nothing.
                            return Ok(Outcome::Superseded);
                        }
                        (inner.obtain().await?, Renewal::ObtainedAfterFailedRefresh)
                    }
                }
            }
            _ => (inner.obtain().await?, Renewal::Obtained),
        };
        let login = how != Renewal::Refreshed;
        let bound = token.for_account(inner.account.clone());
        let Some(current) = inner.shared.install(bound, self.generation, login) else {
            return Ok(Outcome::Superseded);
        };
        self.generation = current.generation;
        Ok(Outcome::Renewed(self.generation, how))
    }
}

impl Drop for Task {
    fn drop(&mut self) {
        if !self.ended {
            // Dropped before it ended (its runtime shutting down, a spawn
            // that failed) or panicked: the next caller starts afresh.
            // Nothing the server did, so no failure is remembered.
            tracing::debug!("the token renewal ended without finishing");
            self.end(&Outcome::Superseded);
        }
    }
}

impl Inner {
    /// The store's renewal lock, so that processes sharing the store renew
    /// once between them; `None` (renew without it) when it cannot be had
    /// within half the renewal's deadline.
    async fn renewal_lock(&self) -> Option<RenewalGuard> {
        let limit = self.renewal_timeout / 2;
        let store = Arc::clone(&self.store);
        // In a task of its own, as every store operation: a store that
        // panics costs its lock, not the renewal. A lock won after the
        // limit is released when the task's result is dropped.
        let locking = tokio::spawn(async move { store.lock().await });
        let why = match tokio::time::timeout(limit, locking).await {
            Ok(Ok(Ok(guard))) => return Some(guard),
            Ok(Ok(Err(e))) => format!("unavailable: {e}"),
            Ok(Err(_)) => "it panicked".to_string(),
            Err(_) => format!("not won within {}", crate::error::human(limit)),
        };
        tracing::warn!(store = %self.store.describe(), why, "renewal lock not had; renewing without it");
        None
    }

    /// Refreshes `current` with itself. A refresh that hands back a retired
    /// token fails (and the renewal logs in instead).
    async fn refresh(&self, current: &TokenData) -> Result<TokenData> {
        let new = endpoints::refresh(&self.transport, current, &*self.shared.clock).await?;
        if self.shared.is_retired(&new) {
            return Err(Error::decode(
                "refresh",
                "the server handed back a token that was cleared or rejected",
            ));
        }
        self.counters.refreshes.bump();
        tracing::debug!(fingerprint = %new.fingerprint(), "token refreshed");
        Ok(new)
    }

    /// Logs in with the credentials.
    async fn obtain(&self) -> Result<TokenData> {
        let credentials = self.shared.credentials();
        let data = endpoints::obtain(&self.transport, credentials.as_deref(), &*self.shared.clock)
            .await
            .map_err(|e| if e.is_config() { e } else { Error::auth(e) })?;
        self.counters.obtains.bump();
        tracing::debug!(fingerprint = %data.fingerprint(), expires_at = %data.expires_at, "token obtained");
        Ok(data)
    }
}
