//! [`RetryConfig`]: how failed requests are retried, and its bounds.

use std::time::Duration;

use super::{vars, MAX_ATTEMPTS_LIMIT, MAX_DELAY_LIMIT};
use crate::error::{Error, Result};

/// How failed requests are retried.
///
/// The delay before retry `n` (1-based) is drawn uniformly from
/// `[0, min(max_delay, base_delay * 2^(n-1))]` ("full jitter"), and is never
/// shorter than a `Retry-After` the server sent.
///
/// ```
/// use amp_client::RetryConfig;
/// use std::time::Duration;
/// let d = RetryConfig::default();
/// assert_eq!((d.max_attempts, d.base_delay, d.max_delay),
///            (3, Duration::from_millis(1000), Duration::from_millis(30_000)));
/// let t = RetryConfig::for_tests();
/// assert_eq!((t.max_attempts, t.base_delay), (2, Duration::from_millis(500)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryConfig {
    /// Attempts per request, the first included (at least 1).
    pub max_attempts: u32,
    /// The backoff base.
    pub base_delay: Duration,
    /// The backoff cap, and the longest `Retry-After` we are willing to sleep.
    pub max_delay: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 3,
            base_delay: Duration::from_millis(1000),
            max_delay: Duration::from_millis(30_000),
        }
    }
}

impl RetryConfig {
    /// The test profile: 2 attempts, 500 ms base, 30 s cap.
    pub fn for_tests() -> RetryConfig {
        RetryConfig {
            max_attempts: 2,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_millis(30_000),
        }
    }

    /// Checks the values: 1 to [`MAX_ATTEMPTS_LIMIT`] attempts, a non-zero
    /// base, a cap not below the base, and neither beyond [`MAX_DELAY_LIMIT`].
    ///
    /// ```
    /// use amp_client::RetryConfig;
    /// let r = RetryConfig { max_attempts: 50, ..RetryConfig::default() };
    /// assert!(r.validate().unwrap_err().to_string().contains("API_RETRY_MAX_ATTEMPTS"));
    /// ```
    pub fn validate(&self) -> Result<()> {
        if self.max_attempts == 0 {
            return Err(Error::config(vars::MAX_ATTEMPTS, "must be at least 1"));
        }
        if self.max_attempts > MAX_ATTEMPTS_LIMIT {
            return Err(Error::config(
                vars::MAX_ATTEMPTS,
                format!(
                    "{} is more than the limit: at most {MAX_ATTEMPTS_LIMIT}",
                    self.max_attempts
                ),
            ));
        }
        if self.base_delay.is_zero() {
            return Err(Error::config(vars::BASE_DELAY_MS, "must be more than 0"));
        }
        for (name, delay) in [
            (vars::BASE_DELAY_MS, self.base_delay),
            (vars::MAX_DELAY_MS, self.max_delay),
        ] {
            if delay > MAX_DELAY_LIMIT {
                return Err(Error::config(
                    name,
                    format!(
                        "{} ms is more than the limit: at most 1 h ({} ms)",
                        delay.as_millis(),
                        MAX_DELAY_LIMIT.as_millis()
                    ),
                ));
            }
        }
        if self.max_delay < self.base_delay {
            return Err(Error::config(
                vars::MAX_DELAY_MS,
                format!(
                    "{} ms is less than {} ({} ms)",
                    self.max_delay.as_millis(),
                    vars::BASE_DELAY_MS,
                    self.base_delay.as_millis()
                ),
            ));
        }
        Ok(())
    }
}
