//! The pause a 429 sets on every request of this client: recorded from an
//! answer's `Retry-After`, waited out before each attempt, or refused at
//! once when it is longer than the maximum delay.

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use tokio::time::Instant;

use super::{Op, Transport};
use crate::error::{Error, Result};

impl Transport {
    /// Counts a 429, and makes its `Retry-After` pause every request of this client.
    pub(super) fn note_answer(&self, status: StatusCode, retry_after: Option<Duration>) {
        if status != StatusCode::TOO_MANY_REQUESTS {
            return;
        }
        self.counters.rate_limited.bump();
        if let Some(wait) = retry_after {
            let until = Instant::now() + wait.min(Duration::from_secs(24 * 3600));
            let us = u64::try_from((until - self.epoch).as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            self.not_before.fetch_max(us, Ordering::AcqRel);
        }
    }

    /// How much of a pause set by an earlier 429 is left, if any.
    fn pause_left(&self) -> Option<Duration> {
        let us = self.not_before.load(Ordering::Acquire);
        if us == 0 {
            return None;
        }
        let until = self.epoch + Duration::from_micros(us);
        until
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
    }

    /// Waits out a pause set by an earlier 429, or refuses at once when the
    /// pause is longer than the maximum delay (no attempt, no budget spent).
    pub(super) async fn wait_out_pause(&self, operation: &Op<'_>) -> Result<()> {
        let Some(wait) = self.pause_left() else {
            return Ok(());
        };
        if wait > self.config.retry().max_delay {
            return Err(Error::rate_limited(
                operation.get(),
                StatusCode::TOO_MANY_REQUESTS,
                Some(wait),
            ));
        }
        tracing::trace!(%operation, wait_ms = wait.as_millis() as u64, "waiting out a rate limit");
        tokio::time::sleep(wait).await;
        Ok(())
    }
}
