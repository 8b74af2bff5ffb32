//! The one renewal in flight, its waiters, and what the last one left behind.
//!
//! A renewal runs in a task of its own, so a caller that gives up (or is
//! cancelled) does not cancel it for the others, and every waiter receives
//! the same [`Outcome`] through a `watch` channel. The renewal has a
//! deadline up to its install (see `renew.rs`): a hung server, store read or
//! store lock ends the flight with a failure, the cooldown applies, and the
//! next caller starts afresh; the store write and the lock's release after
//! the install are bounded each by the store timeout, and cannot turn a
//! renewal that worked into a failure.
//!
//! The task runs on the tokio runtime of the caller that started it. A
//! runtime that stops (dropped, shut down) ends the flight with it; one that
//! is no longer driven (a current-thread runtime outside `block_on`) leaves
//! the renewal waiting, and callers on other runtimes time out on it.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::auth::manager::{lock, Inner, Renewal};
use crate::auth::policy::{FlightView, Want};
use crate::error::{Error, Result};

/// How a renewal ended. It carries no token: a waiter takes the token from
/// the snapshot, and only if it is still the one this renewal installed, so
/// the channel never holds a copy of a secret.
#[derive(Debug, Clone)]
pub(super) enum Outcome {
    /// A new token is in place, of this generation.
    Renewed {
        /// The generation of the installed token.
        generation: u64,
        /// How it was renewed.
        how: Renewal,
    },
    /// Nothing was installed: a `clear()` or `set_token()` came first (or
    /// the renewal waited for was of another kind). Look again.
    Superseded,
    /// It failed; every waiter gets the same error.
    Failed(Error),
}

impl Outcome {
    /// How it ended, in one word, for the renewal-time metric.
    fn kind(&self) -> &'static str {
        match self {
            Outcome::Renewed { .. } => "renewed",
            Outcome::Superseded => "superseded",
            Outcome::Failed(_) => "failed",
        }
    }

    /// How it ended, in a word or two, for the renewal's span.
    fn name(&self) -> String {
        match self {
            Outcome::Renewed { how, .. } => how.to_string(),
            Outcome::Superseded => "superseded".to_string(),
            Outcome::Failed(_) => "failed".to_string(),
        }
    }
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
    /// When the last renewal installed a token, if it did.
    last_success: Option<i64>,
}

#[derive(Debug)]
struct Running {
    want: Want,
    /// The epoch it began under: after a `clear()` or `set_token()` its
    /// outcome answers nobody, so new callers do not join it.
    epoch: u64,
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
            last_success: self.last_success,
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
        self.last_success = None;
    }

    /// Forgets the last failure (a token was rejected: log in at once).
    pub fn forget_failure(&mut self) {
        self.last_failure = None;
    }
}

/// A renewal registered in the flight, to be spawned once the flight's lock
/// is released (spawning may drop the task at once, on a runtime that is
/// shutting down, and ending the flight takes that lock).
#[must_use = "a registered renewal must be spawned, or the flight stays taken until it is dropped"]
pub(super) struct Launch {
    inner: Arc<Inner>,
    want: Want,
    epoch: u64,
    tx: watch::Sender<Option<Outcome>>,
    guard: EndGuard,
}

impl Inner {
    /// Joins the renewal in flight if it answers `want` (and began under
    /// the current epoch), else starts one; `f` is the flight's lock, held.
    pub(super) fn join_or_start(
        self: &Arc<Self>,
        f: &mut Flight,
        want: Want,
    ) -> (Joined, Option<Launch>) {
        match &f.running {
            Some(r) if want.served_by(r.want) && r.epoch == self.state.epoch() => {
                (Joined::Answers(r.done.clone()), None)
            }
            Some(r) => (Joined::Precedes(r.done.clone()), None),
            None => {
                let (done, launch) = self.register(f, want);
                (Joined::Answers(done), Some(launch))
            }
        }
    }

    /// Starts a renewal for `want` unless one is in flight; `f` is the
    /// flight's lock, held.
    pub(super) fn start(self: &Arc<Self>, f: &mut Flight, want: Want) -> Option<Launch> {
        if f.running.is_some() {
            return None;
        }
        Some(self.register(f, want).1)
    }

    /// Takes the flight for a renewal of `want`; `f` is the flight's lock, held.
    fn register(self: &Arc<Self>, f: &mut Flight, want: Want) -> (Done, Launch) {
        let (tx, done) = watch::channel(None);
        let epoch = self.state.epoch();
        f.running = Some(Running {
            want,
            epoch,
            done: done.clone(),
        });
        self.renewing.store(true, Ordering::Release);
        let launch = Launch {
            inner: Arc::clone(self),
            want,
            epoch,
            tx,
            // Ends the flight however the task ends, even if it never runs.
            guard: EndGuard {
                inner: Arc::clone(self),
                epoch,
                ended: false,
            },
        };
        (done, launch)
    }
}

impl Launch {
    /// Runs the renewal in a task of its own on the current tokio runtime,
    /// within its deadline. Call it with the flight's lock released.
    pub fn spawn(self) -> Result<()> {
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::Internal("the token manager needs a tokio runtime to renew".to_string())
        })?;
        let Launch {
            inner,
            want,
            epoch,
            tx,
            guard,
        } = self;
        // Its own span, `amp.renewal` (a root: it serves every caller
        // waiting, not only the one that started it): what was asked, how
        // it ended, the attempts of its last call and the time it took.
        let span = tracing::info_span!(
            parent: None,
            "amp.renewal",
            want = ?want,
            outcome = tracing::field::Empty,
            attempts = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let task = async move {
            // The whole guard moves in (naming a field only would capture
            // the field, and the guard would be dropped here at once).
            let mut guard = guard;
            let started = Instant::now();
            let (outcome, finish) = inner.renew(want, epoch).await;
            let span = tracing::Span::current();
            let took = started.elapsed();
            span.record("outcome", tracing::field::display(outcome.name()));
            span.record("elapsed_ms", took.as_millis() as u64);
            crate::stats::renewal_took(took.as_secs_f64(), outcome.kind());
            // The token is stored and the store's lock released before
            // anyone is told: a process that exits right after its call
            // (the `amp` command) leaves the token for the next one. Each is
            // bounded by the store timeout, so a hung store costs the
            // callers of this renewal that much once, not the renewal.
            inner.finish(finish, epoch).await;
            guard.end(&outcome);
            // No receiver left is fine: nobody was waiting.
            let _ = tx.send(Some(outcome));
        };
        handle.spawn(tracing::Instrument::instrument(task, span));
        Ok(())
    }
}

/// Ends the flight: when the renewal ends, or when its task is dropped.
struct EndGuard {
    inner: Arc<Inner>,
    /// The epoch the renewal began under: after a `clear()` (which forgets
    /// the last renewal) its end is not remembered either.
    epoch: u64,
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
        if inner.state.epoch() != self.epoch {
            return;
        }
        f.last_end = Some(now);
        match outcome {
            Outcome::Failed(e) => {
                f.last_failure = Some((now, e.clone()));
                f.last_success = None;
            }
            Outcome::Renewed { .. } => {
                f.last_failure = None;
                f.last_success = Some(now);
            }
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

/// What a waiter gets.
pub(super) enum Waited {
    /// The renewed token, still the current one.
    Renewed(super::Renewed),
    /// Look again: nothing was installed, or what was is no longer current
    /// (a `clear()`, `invalidate()` or `set_token()` came in between).
    Superseded,
    /// The renewal failed.
    Failed(Error),
}

/// Waits for `joined` until `deadline`; `limit` is what the caller was
/// allowed in all, named in the timeout error. A renewed token is taken from
/// the snapshot, and only if it is still the current one: a token cleared,
/// revoked or replaced since is never handed out.
pub(super) async fn wait(
    inner: &Inner,
    joined: Joined,
    deadline: Instant,
    limit: Duration,
) -> Result<Waited> {
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
        Some(Outcome::Renewed { generation, how }) if answers => {
            match inner.secrets.current().load_full() {
                Some(current) if current.generation == generation => {
                    Waited::Renewed(super::Renewed {
                        token: super::AccessToken::owned(current),
                        how,
                    })
                }
                _ => Waited::Superseded,
            }
        }
        Some(Outcome::Failed(e)) if answers => Waited::Failed(e),
        _ => Waited::Superseded,
    })
}
