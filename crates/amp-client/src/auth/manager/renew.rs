//! One renewal, as a task of its own: take the store's renewal lock, look
//! in the store (another process may have renewed already), make the call
//! the policy names, install the result, store it, and tell the waiters.
//!
//! A renewal runs in a task, so a caller that gives up (or is cancelled)
//! does not cancel it for the others, and every waiter learns the same
//! [`Outcome`]. Each of its steps has its own bound (a hung store costs its
//! bounds, never the calls' time): the store's lock half the renewal's
//! time (renewing goes on without it: processes may then log in twice,
//! never wedge), the store read the store timeout, the calls up to the
//! install the renewal's time (a hung server ends it with a failure, the
//! cooldown applies, and the next caller starts afresh), and after the
//! install the store write and the lock's release the store timeout each.
//! Callers wait for a whole renewal, its store steps included, so a slow
//! store cannot turn a renewal that worked into a failure for them.
//!
//! The task runs on the tokio runtime of the caller that started it. A
//! runtime that stops (dropped, shut down) drops the task, which ends the
//! flight; one that is no longer driven (a current-thread runtime outside
//! `block_on`) leaves the renewal waiting, and callers on other runtimes
//! time out on it.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use tracing::field::Empty;

use crate::auth::manager::{Inner, Renewal};
use crate::auth::policy::{self, Want};
use crate::auth::state::{Outcome, State};
use crate::error::{Error, Result};

/// The renewal in flight: registered in the state under its lock (so no
/// second one starts), spawned once the lock is released, and ending the
/// flight when it is dropped: at its end, or without ending (its runtime
/// shutting down: its waiters then see the channel close).
pub(crate) struct Task {
    inner: Arc<Inner>,
    want: Want,
    /// The generation it may install over: the one it began under, then
    /// the one of the token it took from the store.
    generation: u64,
    tx: watch::Sender<Option<Outcome>>,
    /// How it ended, once it has.
    outcome: Option<Outcome>,
}

impl Task {
    /// Joins the renewal in flight, or registers a new one for `want` in
    /// the state (`st`, locked) and spawns it on the current tokio runtime
    /// once the lock is released: where it reports its end, and whether
    /// its outcome answers `want`.
    pub fn start(
        inner: &Arc<Inner>,
        mut st: MutexGuard<'_, State>,
        want: Want,
    ) -> Result<(watch::Receiver<Option<Outcome>>, bool)> {
        // Checked before joining too: waiting for a renewal needs a runtime
        // as much as starting one (tokio's timer panics without one).
        let handle = tokio::runtime::Handle::try_current()
            .map_err(|_| Error::internal("the token manager needs a tokio runtime to renew"))?;
        if let Some((running, done)) = &st.flight {
            return Ok((done.clone(), want.served_by(*running)));
        }
        let (tx, done) = watch::channel(None);
        st.flight = Some((want, done.clone()));
        let task = Task {
            inner: Arc::clone(inner),
            want,
            generation: st.generation,
            tx,
            outcome: None,
        };
        drop(st);
        handle.spawn(task.run());
        Ok((done, true))
    }

    // Its own span, a root (it serves every caller waiting, not only the
    // one that started it): what was asked, how it ended, the attempts of
    // its last call and the time it took.
    #[tracing::instrument(name = "amp.renewal", parent = None, skip_all,
        fields(want = ?self.want, outcome = Empty, attempts = Empty, elapsed_ms = Empty))]
    async fn run(mut self) {
        let started = Instant::now();
        let inner = Arc::clone(&self.inner);
        // The store's renewal lock, so that processes sharing the store
        // renew once between them; renewing goes on without it when it
        // cannot be had in time (a lock won later is released when the
        // task's result is dropped).
        let store = Arc::clone(&inner.store);
        let lock = spawned(inner.renewal_timeout / 2, async move { store.lock().await })
            .await
            .and_then(|locked| locked.map_err(|e| format!("unavailable: {e}")))
            .inspect_err(|why| match inner.store_down.load(Ordering::Acquire) {
                // Said once already: the store is down.
                0 => tracing::warn!(store = %inner.store.describe(), why, "renewal lock not had; renewing without it"),
                _ => tracing::debug!(store = %inner.store.describe(), why, "renewal lock not had; renewing without it"),
            })
            .ok();
        // Another client or process sharing the store may have renewed
        // already. A store that fails is only reported (once).
        let adopted = inner.adopt_from_store(Some(self.generation), false).await;
        let adopted = adopted.ok().flatten();
        self.generation = adopted.unwrap_or(self.generation);
        let timeout = inner.renewal_timeout;
        let outcome = tokio::time::timeout(timeout, self.renew(adopted.is_some()))
            .await
            .unwrap_or_else(|_| Err(Error::timeout("token renewal".to_string(), timeout)));
        let took = started.elapsed();
        let (kind, name) = match &outcome {
            Ok(Some((_, how))) => ("renewed", how.to_string()),
            Ok(None) => ("superseded", "superseded".to_string()),
            Err(_) => ("failed", "failed".to_string()),
        };
        tracing::Span::current()
            .record("outcome", tracing::field::display(name))
            .record("elapsed_ms", took.as_millis() as u64);
        crate::stats::renewal_took(took.as_secs_f64(), kind);
        // The token is stored and the store's lock released before anyone
        // is told: a process that exits right after its call (the `amp`
        // command) leaves the token for the next one. A token taken from
        // the store is there already.
        if let Ok(Some((generation, how))) = &outcome {
            if *how != Renewal::FromStore {
                let _ = inner.sync_store(*generation).await;
            }
        }
        if let Some(lock) = lock {
            if let Err(why) = spawned(inner.store_timeout, lock.release()).await {
                tracing::warn!(store = %inner.store.describe(), why, "releasing the renewal lock failed");
            }
        }
        self.outcome.replace(outcome);
    }

    /// The calls up to the install, the store's lock held (if it could be
    /// had); `adopted`: the token in place was just taken from the store.
    async fn renew(&mut self, adopted: bool) -> Outcome {
        let inner = Arc::clone(&self.inner);
        let (current, stalled) = {
            let st = inner.shared.lock();
            if st.generation != self.generation {
                // The token changed before the call was made: its result
                // would be dropped anyway.
                return Ok(None);
            }
            (inner.shared.current(), st.stalled)
        };
        let now = inner.shared.clock.now_micros();
        let call = policy::renewal(now, self.want, current.as_ref().map(|c| &c.points), stalled);
        let (token, how) = match (call, current) {
            // Fresh already: taken from the store just now, or renewed by
            // the renewal that ended as this one began.
            (None, _) if adopted => return Ok(Some((self.generation, Renewal::FromStore))),
            (None, _) => return Ok(None),
            (Some(Renewal::Refreshed), Some(old)) => match inner.refresh(&old.token).await {
                Ok(new) => (new, Renewal::Refreshed),
                Err(e) => {
                    inner.counters.fallbacks.bump();
                    tracing::debug!(error = %e, "refresh failed; logging in instead");
                    // The server refused the token itself: dropped, and
                    // taken out of the store, as after a 401.
                    if e.is_token_rejected() {
                        let dropped = inner.invalidate(self.generation).await;
                        self.generation = dropped.unwrap_or(self.generation);
                    }
                    if inner.shared.lock().generation != self.generation {
                        // Cleared or replaced meanwhile: no login for nothing.
                        return Ok(None);
                    }
                    (inner.obtain().await?, Renewal::ObtainedAfterFailedRefresh)
                }
            },
            _ => (inner.obtain().await?, Renewal::Obtained),
        };
        let login = how != Renewal::Refreshed;
        let bound = token.for_account(inner.account.clone());
        let Some(current) = inner.shared.install(bound, self.generation, login) else {
            return Ok(None);
        };
        self.generation = current.generation;
        Ok(Some((self.generation, how)))
    }
}

impl Drop for Task {
    /// Ends the flight, and remembers how it ended, unless the token
    /// changed since (a `clear()` forgets the last renewals: this one too),
    /// then tells the waiters. A task dropped before it ended (its runtime
    /// shutting down) or that panicked tells nobody, and remembers no
    /// failure (nothing the server did): the next caller starts afresh.
    fn drop(&mut self) {
        let inner = &self.inner;
        match &self.outcome {
            Some(Err(e)) => {
                inner.counters.failure(e);
                tracing::warn!(error = %e, "token renewal failed");
            }
            None => tracing::debug!("the token renewal ended without finishing"),
            _ => {}
        }
        let now = inner.shared.clock.now_micros();
        let mut guard = inner.shared.lock();
        let st = &mut *guard;
        st.flight = None;
        if st.generation == self.generation {
            let h = &mut st.history;
            h.end = Some(now);
            match &self.outcome {
                Some(Err(e)) => {
                    (h.failure, h.success, st.failure) = (Some(now), None, Some(e.clone()))
                }
                Some(Ok(Some(_))) => (h.failure, h.success) = (None, Some(now)),
                _ => {}
            }
        }
        drop(guard);
        if let Some(outcome) = self.outcome.take() {
            // No receiver left is fine: nobody was waiting.
            let _ = self.tx.send(Some(outcome));
        }
    }
}

/// Runs `op` in a task of its own and waits for it at most `limit`: a
/// caller that gives up or is cancelled does not cancel it, and one that
/// panics costs only itself. Every store operation runs so. Why it gave
/// no answer, if it did not.
pub(super) async fn spawned<T: Send + 'static>(
    limit: Duration,
    op: impl Future<Output = T> + Send + 'static,
) -> std::result::Result<T, String> {
    let handle = tokio::runtime::Handle::try_current()
        .map_err(|_| "no tokio runtime to run it on".to_string())?;
    match tokio::time::timeout(limit, handle.spawn(op)).await {
        Ok(Ok(done)) => Ok(done),
        Ok(Err(e)) if e.is_panic() => Err("it panicked".to_string()),
        Ok(Err(_)) => Err("it was cancelled".to_string()),
        Err(_) => Err(format!("it timed out after {}", crate::error::human(limit))),
    }
}
