//! The one renewal in flight, its waiters, and what the last one left behind.
//!
//! A renewal runs in a task of its own, so a caller that gives up (or is
//! cancelled) does not cancel it for the others, and every waiter receives
//! the same [`Outcome`] through a `watch` channel. The task has a deadline
//! (the caller's wait limit), covering the store's operations too: a hung
//! store or server ends the flight with a failure, the cooldown applies,
//! and the next caller starts afresh.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::auth::manager::{lock, Inner, Renewed};
use crate::auth::policy::{FlightView, Want};
use crate::error::{Error, Result};

/// How a renewal ended.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    /// A new token is in place.
    Renewed(Renewed),
    /// Nothing was installed: a `clear()` or `set_token()` came first (or
    /// the renewal waited for was of another kind). Look again.
    Superseded,
    /// It failed; every waiter gets the same error.
    Failed(Error),
}

type Done = watch::Receiver<Option<Outcome>>;

/// The flight's state, behind `Inner::flight`.
#[derive(Debug, Default)]
pub(super) struct Flight {
    running: Option<Running>,
    /// When the last renewal ended (clock micros).
    last_end: Option<i64>,
    /// The last renewal's failure, if it failed, and when.
    last_failure: Option<(i64, Error)>,
}

#[derive(Debug)]
struct Running {
    want: Want,
    done: Done,
}

/// A renewal a caller waits on.
pub(super) enum Joined {
    /// Its outcome answers the caller.
    Answers(Done),
    /// A renewal of another kind: wait for it to end, then look again.
    Precedes(Done),
}

impl Flight {
    /// What the policy needs to know.
    pub fn view(&self) -> FlightView {
        FlightView {
            renewing: self.running.is_some(),
            last_end: self.last_end,
            last_failure: self.last_failure.as_ref().map(|(at, _)| *at),
        }
    }

    /// The failure the last renewal ended with.
    pub fn last_error(&self) -> Error {
        match &self.last_failure {
            Some((_, e)) => e.clone(),
            None => Error::Internal("no failure to report".to_string()),
        }
    }

    /// Forgets the last renewal (`clear()`): no cooldown applies afterwards.
    pub fn forget(&mut self) {
        self.last_end = None;
        self.last_failure = None;
    }

    /// Forgets the last failure (a token was rejected: log in at once).
    pub fn forget_failure(&mut self) {
        self.last_failure = None;
    }
}

impl Inner {
    /// Joins the renewal in flight if it answers `want`, else starts one;
    /// `f` is the flight's lock, held.
    pub(super) fn join_or_start(self: &Arc<Self>, f: &mut Flight, want: Want) -> Joined {
        match &f.running {
            Some(r) if want.served_by(r.want) => Joined::Answers(r.done.clone()),
            Some(r) => Joined::Precedes(r.done.clone()),
            None => Joined::Answers(self.start(f, want)),
        }
    }

    /// Starts a renewal for `want` in a task of its own; `f` is the flight's
    /// lock, held. Returns what its outcome is published on.
    pub(super) fn start(self: &Arc<Self>, f: &mut Flight, want: Want) -> Done {
        if let Some(r) = &f.running {
            return r.done.clone();
        }
        let (tx, done) = watch::channel(None);
        f.running = Some(Running {
            want,
            done: done.clone(),
        });
        self.renewing.store(true, Ordering::Release);
        let epoch = self.state.epoch();
        // Made before the task, so that it also ends the flight if the task
        // is dropped before it ever runs (its runtime shutting down).
        let guard = EndGuard {
            inner: Arc::clone(self),
            ended: false,
        };
        let inner = Arc::clone(self);
        tokio::spawn(async move {
            // The whole guard moves in (naming a field only would capture
            // the field, and the guard would be dropped here at once).
            let mut guard = guard;
            let deadline = inner.wait_timeout;
            let outcome = match tokio::time::timeout(deadline, inner.renew(want, epoch)).await {
                Ok(outcome) => outcome,
                Err(_) => Outcome::Failed(Error::Timeout {
                    operation: "token renewal".to_string(),
                    timeout: deadline,
                }),
            };
            guard.end(&outcome);
            // No receiver left is fine: nobody was waiting.
            let _ = tx.send(Some(outcome));
        });
        done
    }
}

/// Ends the flight: when the renewal ends, or when its task is dropped.
struct EndGuard {
    inner: Arc<Inner>,
    ended: bool,
}

impl EndGuard {
    fn end(&mut self, outcome: &Outcome) {
        self.ended = true;
        let inner = &self.inner;
        if let Outcome::Failed(e) = outcome {
            inner.counters.failure(e);
            tracing::warn!(error = %e, "token renewal failed");
        }
        let now = inner.clock.now_micros();
        let mut f = lock(&inner.flight);
        f.running = None;
        inner.renewing.store(false, Ordering::Release);
        f.last_end = Some(now);
        match outcome {
            Outcome::Failed(e) => f.last_failure = Some((now, e.clone())),
            Outcome::Renewed(_) => f.last_failure = None,
            Outcome::Superseded => {}
        }
    }
}

impl Drop for EndGuard {
    fn drop(&mut self) {
        if !self.ended {
            // The task was dropped (its runtime shutting down) or panicked:
            // its waiters see the channel close, and the next caller starts
            // afresh. Nothing the server did, so no failure is remembered.
            tracing::debug!("the token renewal ended without finishing");
            self.end(&Outcome::Superseded);
        }
    }
}

/// Waits for `joined` until `deadline`; `limit` is what the caller was
/// allowed in all, named in the timeout error.
pub(super) async fn wait(joined: Joined, deadline: Instant, limit: Duration) -> Result<Outcome> {
    let (mut done, answers) = match joined {
        Joined::Answers(done) => (done, true),
        Joined::Precedes(done) => (done, false),
    };
    let outcome = match tokio::time::timeout_at(deadline, done.wait_for(Option::is_some)).await {
        Err(_) => return Err(Error::TokenWaitTimeout { waited: limit }),
        Ok(Err(_)) => {
            return Err(Error::Internal(
                "the token renewal ended without a result".to_string(),
            ))
        }
        Ok(Ok(outcome)) => outcome.clone(),
    };
    Ok(match outcome {
        Some(outcome) if answers => outcome,
        _ => Outcome::Superseded,
    })
}
