//! [`TokenPolicy`]: when tokens are considered old, and how long they live.

use std::time::Duration;

/// When tokens are considered old, and how long they live.
///
/// The defaults follow AMP: a token lives 24 h; it is refreshed in the
/// background once less than 5 min remain; with less than 30 s left callers
/// wait for a new one instead of using it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenPolicy {
    /// How long a newly obtained token lives (unless the server says less).
    pub lifetime: Duration,
    /// Refresh once less than this remains (the soft point).
    pub refresh_before: Duration,
    /// Stop using a token once less than this remains (the hard point).
    pub hard_before: Duration,
    /// The soft point is moved earlier by a random amount up to this, so many
    /// clients do not refresh in step.
    pub refresh_jitter: Duration,
    /// After a failed renewal, callers that must wait for a token get that
    /// failure at once for this long instead of starting another renewal each.
    pub failure_cooldown: Duration,
    /// After a renewal ends (success or failure), no background renewal
    /// starts for this long: a failing server is not asked again on every
    /// call, and a token that renewal leaves inside the refresh window (a
    /// server that gives short lives) is not renewed on every call.
    pub background_cooldown: Duration,
    /// After the server refused the tokens of two fresh logins in a row
    /// (logins succeed, tokens are refused: a misrouting proxy, a disabled
    /// account), callers get that refusal at once for this long instead of
    /// logging in again on every call.
    pub rejection_cooldown: Duration,
}

impl Default for TokenPolicy {
    fn default() -> Self {
        TokenPolicy {
            lifetime: Duration::from_secs(24 * 3600),
            refresh_before: Duration::from_secs(5 * 60),
            hard_before: Duration::from_secs(30),
            refresh_jitter: Duration::from_secs(30),
            failure_cooldown: Duration::from_secs(1),
            background_cooldown: Duration::from_secs(5),
            rejection_cooldown: Duration::from_secs(60),
        }
    }
}
