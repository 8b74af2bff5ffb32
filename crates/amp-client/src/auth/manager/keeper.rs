//! Keep-fresh (opt-in, `ConfigBuilder::keep_fresh`): a task that renews the
//! token at its soft point even when no call comes, so a service that calls
//! once an hour never pays a login or a refresh on its critical path.
//!
//! It decides with `policy::keeper_wait` (the soft point, and the same
//! background cooldown callers follow) and renews as a caller would
//! (joining a renewal in flight, taking a token another process stored). It holds the manager weakly, and stops
//! when the last handle is dropped (the manager's `keeper_stop` sender goes
//! with it, which wakes the task at once).

use std::sync::{Arc, Weak};

use tokio::sync::watch;

use crate::auth::manager::Inner;
use crate::auth::policy::{self, Want};
use crate::auth::state::Outcome;
use crate::error::{Error, Result};

/// Starts the keep-fresh task of `inner` on the current tokio runtime.
pub(super) fn spawn(inner: &Arc<Inner>, stop: watch::Receiver<()>) -> Result<()> {
    let handle = tokio::runtime::Handle::try_current().map_err(|_| {
        Error::config(
            crate::config::vars::KEEP_FRESH,
            "keeping the token fresh needs a tokio runtime: build the client inside one",
        )
    })?;
    handle.spawn(run(Arc::downgrade(inner), stop));
    Ok(())
}

async fn run(manager: Weak<Inner>, mut stop: watch::Receiver<()>) {
    let mut failures: u32 = 0;
    loop {
        let wait = {
            let Some(inner) = manager.upgrade() else {
                return;
            };
            let (renewing, history) = {
                let st = inner.shared.lock();
                (st.flight.is_some(), st.history)
            };
            let now = inner.shared.clock.now_micros();
            let current = inner.shared.current();
            let points = current.as_ref().map(|c| &c.points);
            match policy::keeper_wait(now, points, renewing, &history, &inner.shared.policy) {
                Some(wait) => wait,
                // Renew as a caller would: join the renewal in flight, or start one.
                None => {
                    let deadline = super::wait::deadline_after(inner.wait_timeout);
                    match inner.renewal(Want::Auto, deadline).await {
                        Ok((Outcome::Failed(e), _)) | Err(e) => {
                            failures = failures.saturating_add(1);
                            let wait = policy::keeper_backoff(failures, &inner.shared.policy);
                            tracing::debug!(error = %e, failures, retry_in = ?wait, "keep-fresh could not renew the token");
                            wait
                        }
                        Ok((outcome, _)) => {
                            failures = 0;
                            tracing::debug!(?outcome, "keep-fresh renewed the token");
                            continue;
                        }
                    }
                }
            }
        };
        // The manager is not held while sleeping: dropping its last handle
        // drops the sender, and `changed` returns at once.
        if let Ok(Err(_)) = tokio::time::timeout(wait, stop.changed()).await {
            return;
        }
    }
}
