//! Callers waiting for a token: `token()` past the soft point asks the
//! policy, joins or starts the one renewal, waits, and asks again;
//! `login()` and `force_refresh()` wait for a renewal that answers them.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use super::renew::Task;
use super::{AccessToken, Inner, Renewal};
use crate::auth::policy::{self, Action, Want};
use crate::auth::state::Outcome;
use crate::auth::state::{Current, State};
use crate::error::{Error, Result};

/// `wait` from now, or the far future if that cannot be represented.
pub(super) fn deadline_after(wait: Duration) -> Instant {
    let now = Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(100 * 365 * 24 * 3600))
}

/// Waits for the renewal that reports on `done` to end, until `deadline`;
/// `limit` is what the caller was allowed in all, named in the timeout error.
pub(super) async fn wait(
    mut done: watch::Receiver<Option<Outcome>>,
    deadline: Instant,
    limit: Duration,
) -> Result<Outcome> {
    match tokio::time::timeout_at(deadline, done.wait_for(Option::is_some)).await {
        Err(_) => Err(Error::token_wait_timeout(limit)),
        // The task was dropped (its runtime shutting down) before it ended.
        Ok(Err(_)) => Err(Error::internal("the token renewal ended without a result")),
        Ok(Ok(outcome)) => Ok(outcome.clone().unwrap_or(Outcome::Superseded)),
    }
}

impl Inner {
    /// `token()` past the soft point, or with no token: asks the policy,
    /// and after each wait asks again, so that what a caller gets is always
    /// the current state's answer (a token cleared, revoked or replaced
    /// meanwhile is never handed out).
    pub(super) async fn token_slow(self: &Arc<Self>) -> Result<AccessToken> {
        let deadline = deadline_after(self.wait_timeout);
        // The failure this caller's own wait ended in, if it did.
        let mut gave_up: Option<Error> = None;
        // Served only while valid, so there is a token to serve.
        let serve = |current: Option<Arc<Current>>| {
            current
                .map(AccessToken)
                .ok_or_else(|| Error::internal("no token to serve"))
        };
        loop {
            let now = self.shared.clock.now_micros();
            let (action, current, (done, _, task)) = {
                let mut st = self.shared.lock();
                let current = self.shared.current();
                let (points, renewing) = (current.as_ref().map(|c| &c.points), st.flight.is_some());
                let (history, policy) = (&st.history, &self.shared.policy);
                let action =
                    policy::decide(now, points, renewing, history, gave_up.is_some(), policy);
                match action {
                    Action::Serve => return serve(current),
                    Action::Fail => {
                        return Err(gave_up.unwrap_or_else(|| self.remembered(&st, now)));
                    }
                    _ => (action, current, Task::join(self, &mut st, Want::Auto)),
                }
            };
            let spawned = task.map_or(Ok(()), Task::spawn);
            if action == Action::ServeAndRenew {
                // The token is still good: served even when no renewal could
                // start (no runtime here); the next caller starts one.
                tracing::trace!("refresh window reached; renewing in the background");
                return serve(current);
            }
            spawned?;
            match wait(done, deadline, self.wait_timeout).await {
                Ok(Outcome::Failed(e)) | Err(e) => gave_up = Some(e),
                Ok(_) => {}
            }
        }
    }

    /// The failure remembered for callers that must wait (see
    /// `policy::failed_lately`).
    fn remembered(&self, st: &State, now: i64) -> Error {
        let cooldown = self.shared.policy.rejection_cooldown;
        match &st.failure {
            _ if policy::within(now, st.history.refused, cooldown) => Error::token_rejected(
                "token renewal",
                reqwest::StatusCode::UNAUTHORIZED,
                format!(
                    "logins succeed but the server refuses their tokens; no login for {}",
                    crate::error::human(cooldown)
                ),
            ),
            Some(failure) => failure.clone(),
            None => Error::internal("no failure to report"),
        }
    }

    /// An explicit renewal (`login()`, `force_refresh()`): joins one that
    /// answers it, waits out one that does not, reports failures.
    pub(super) async fn renew_now(self: &Arc<Self>, want: Want) -> Result<(AccessToken, Renewal)> {
        let deadline = deadline_after(self.wait_timeout);
        loop {
            match self.renewal(want, deadline).await? {
                // The token it installed, if still the current one.
                (Outcome::Renewed(generation, how), true) => {
                    let current = self.shared.current().filter(|c| c.generation == generation);
                    if let Some(current) = current {
                        return Ok((AccessToken(current), how));
                    }
                }
                (Outcome::Failed(e), true) => return Err(e),
                _ => {}
            }
        }
    }

    /// Joins the renewal in flight, or starts one for `want`, and waits
    /// until it ends (or `deadline`): how it ended, and whether that
    /// answers `want`.
    pub(super) async fn renewal(
        self: &Arc<Self>,
        want: Want,
        deadline: Instant,
    ) -> Result<(Outcome, bool)> {
        let (done, answers, task) = Task::join(self, &mut self.shared.lock(), want);
        if let Some(task) = task {
            task.spawn()?;
        }
        Ok((wait(done, deadline, self.wait_timeout).await?, answers))
    }
}
