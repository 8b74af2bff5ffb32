//! Callers waiting for a token: `token()` past the soft point asks the
//! policy, joins or starts the one renewal, waits, and asks again;
//! `login()` and `force_refresh()` wait for a renewal that answers them.
//!
//! And keep-fresh (opt-in, `ConfigBuilder::keep_fresh`): a task that renews
//! the token at its soft point even when no call comes, so a service that
//! calls once an hour never pays a login or a refresh on its critical path.
//! It decides with `policy::keeper_wait` (the soft point, and the same
//! background cooldown callers follow) and renews as a caller would
//! (joining a renewal in flight, taking a token another process stored). It
//! holds the manager weakly, and stops when the last handle is dropped (the
//! manager's `keeper_stop` sender goes with it, which wakes the task at
//! once).

use std::sync::{Arc, Weak};

use tokio::sync::watch;
use tokio::time::Instant;

use super::renew::Task;
use super::{AccessToken, Inner, Renewal};
use crate::auth::policy::{self, Action, Want};
use crate::auth::state::{Current, Outcome};
use crate::error::{Error, Result};

impl Inner {
    /// Waits for the renewal that reports on `done` to end, until `deadline`.
    async fn wait(
        &self,
        (mut done, answers): (watch::Receiver<Option<Outcome>>, bool),
        deadline: Instant,
    ) -> Result<(Outcome, bool)> {
        match tokio::time::timeout_at(deadline, done.wait_for(Option::is_some)).await {
            Err(_) => Err(Error::token_wait_timeout(self.wait_timeout)),
            // The task was dropped (its runtime shutting down) before it ended.
            Ok(Err(_)) => Err(Error::internal("the token renewal ended without a result")),
            Ok(Ok(outcome)) => Ok((outcome.clone().unwrap_or(Ok(None)), answers)),
        }
    }

    /// `token()` past the soft point, or with no token: asks the policy,
    /// and after each wait asks again, so that what a caller gets is always
    /// the current state's answer (a token cleared, revoked or replaced
    /// meanwhile is never handed out).
    pub(super) async fn token_slow(self: &Arc<Self>) -> Result<AccessToken> {
        let deadline = Instant::now() + self.wait_timeout;
        // The failure this caller's own wait ended in, if it did.
        let mut gave_up: Option<Error> = None;
        // Served only while valid, so there is a token to serve.
        let serve = |current: Option<Arc<Current>>| {
            current
                .map(AccessToken::owned)
                .ok_or_else(|| Error::internal("no token to serve"))
        };
        loop {
            let now = self.shared.clock.now_micros();
            let (action, current, joined) = {
                let st = self.shared.lock();
                let current = self.shared.current();
                let points = current.as_ref().map(|c| &c.points);
                let (renewing, history) = (st.flight.is_some(), &st.history);
                let (failed, policy) = (gave_up.is_some(), &self.shared.policy);
                match policy::decide(now, points, renewing, history, failed, policy) {
                    Action::Serve => return serve(current),
                    // Its own failure, or the one remembered (see
                    // `policy::failed_lately`): the renewal's in its cooldown,
                    // else the refused logins'.
                    Action::Fail => {
                        let recent = policy::within(now, history.failure, policy.failure_cooldown);
                        return Err(gave_up.unwrap_or_else(|| match &st.failure {
                            Some(e) if recent => e.clone(),
                            _ => self.shared.refusal(),
                        }));
                    }
                    action => (action, current, Task::start(self, st, Want::Auto)),
                }
            };
            if action == Action::ServeAndRenew {
                // The token is still good: served even when no renewal could
                // start (no runtime here); the next caller starts one.
                tracing::trace!("refresh window reached; renewing in the background");
                return serve(current);
            }
            if let Ok((Err(e), _)) | Err(e) = self.wait(joined?, deadline).await {
                gave_up = Some(e);
            }
        }
    }

    /// An explicit renewal (`login()`, `force_refresh()`): joins one that
    /// answers it, waits out one that does not, reports failures.
    pub(super) async fn renew_now(self: &Arc<Self>, want: Want) -> Result<(AccessToken, Renewal)> {
        let deadline = Instant::now() + self.wait_timeout;
        loop {
            match self.renewal(want, deadline).await? {
                // The token it installed, if still the current one.
                (Ok(Some((generation, how))), true) => {
                    let current = self.shared.current().filter(|c| c.generation == generation);
                    if let Some(current) = current {
                        return Ok((AccessToken::owned(current), how));
                    }
                }
                (Err(e), true) => return Err(e),
                _ => {}
            }
        }
    }

    /// Joins the renewal in flight, or starts one for `want`, and waits
    /// until it ends (or `deadline`): how it ended, and whether that
    /// answers `want`.
    async fn renewal(self: &Arc<Self>, want: Want, deadline: Instant) -> Result<(Outcome, bool)> {
        let joined = Task::start(self, self.shared.lock(), want)?;
        self.wait(joined, deadline).await
    }
}

/// The keep-fresh task of a manager, until its last handle is dropped.
pub(super) async fn keeper(manager: Weak<Inner>, mut stop: watch::Receiver<()>) {
    let mut failures: u32 = 0;
    loop {
        let Some(inner) = manager.upgrade() else {
            return;
        };
        let (now, current) = (inner.shared.clock.now_micros(), inner.shared.current());
        let deadline = Instant::now() + inner.wait_timeout;
        let (points, policy) = (current.as_ref().map(|c| &c.points), &inner.shared.policy);
        let due = {
            let st = inner.shared.lock();
            policy::keeper_wait(now, points, st.flight.is_some(), &st.history, policy)
        };
        let wait = match due {
            Some(wait) => wait,
            // Renew as a caller would: join the renewal in flight, or start one.
            None => match inner.renewal(Want::Auto, deadline).await {
                Ok((Err(e), _)) | Err(e) => {
                    failures = failures.saturating_add(1);
                    let wait = policy::keeper_backoff(failures, policy);
                    tracing::debug!(error = %e, failures, retry_in = ?wait, "keep-fresh could not renew the token");
                    wait
                }
                Ok((outcome, _)) => {
                    failures = 0;
                    tracing::debug!(?outcome, "keep-fresh renewed the token");
                    continue;
                }
            },
        };
        // The manager (and the token) is not held while sleeping: dropping
        // its last handle drops the sender, and `changed` returns at once.
        drop((inner, current));
        if let Ok(Err(_)) = tokio::time::timeout(wait, stop.changed()).await {
            return;
        }
    }
}
