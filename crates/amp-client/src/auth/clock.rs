//! The [`Clock`] that decides a token's age: the system's, and two for
//! tests and simulations that move through a 24 h token life in
//! milliseconds.

use std::fmt;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

/// The wall clock the token manager reads. Injected so tests (and
/// simulations) can move through a 24 h token life in milliseconds.
pub trait Clock: Send + Sync + fmt::Debug {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;

    /// The current time in microseconds since the Unix epoch. The token
    /// manager's hot path reads this; implement it when a faster way than
    /// converting [`now`](Clock::now) exists.
    fn now_micros(&self) -> i64 {
        self.now().timestamp_micros()
    }
}

/// The system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    // The token hot path reads this. On Linux, the coarse clock (the time
    // of the kernel's last tick, a few ms old) costs a fifth of the precise
    // one, which was half the hot path's time (BENCHMARKS.md); a few ms are
    // nothing against refresh points minutes apart. Elsewhere the trait's
    // default reads `now()` (its figures are not measured there).
    #[cfg(target_os = "linux")]
    fn now_micros(&self) -> i64 {
        let t = rustix::time::clock_gettime(rustix::time::ClockId::RealtimeCoarse);
        t.tv_sec
            .saturating_mul(1_000_000)
            .saturating_add(t.tv_nsec / 1_000)
    }
}

/// A clock that only moves when told to. Clones share the same time.
///
/// ```
/// use amp_client::{Clock, ManualClock};
/// use std::time::Duration;
/// let clock = ManualClock::new(chrono::Utc::now());
/// let t0 = clock.now();
/// clock.advance(Duration::from_secs(24 * 3600));
/// assert_eq!((clock.now() - t0).num_hours(), 24);
/// ```
#[derive(Debug, Clone)]
pub struct ManualClock {
    micros: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `start`.
    pub fn new(start: DateTime<Utc>) -> ManualClock {
        ManualClock {
            micros: Arc::new(AtomicI64::new(start.timestamp_micros())),
        }
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let us = crate::auth::policy::micros(by);
        // Saturating: a clock advanced past the end of time stays there.
        let _ = self
            .micros
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(us))
            });
    }

    /// Sets the clock.
    pub fn set(&self, to: DateTime<Utc>) {
        self.micros.store(to.timestamp_micros(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        Utc.timestamp_micros(self.micros.load(Ordering::SeqCst))
            .single()
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }

    fn now_micros(&self) -> i64 {
        self.micros.load(Ordering::SeqCst)
    }
}

/// A wall clock that follows tokio's clock: it starts at the system time and
/// then advances with `tokio::time::Instant`. Under `tokio::time::pause()` it
/// moves only when tokio's time does, so sleeps, timeouts and token expiry
/// stay in step in simulations of days.
#[derive(Debug, Clone)]
pub struct TokioClock {
    wall_start: DateTime<Utc>,
    start: tokio::time::Instant,
}

impl TokioClock {
    /// A clock starting now. Call it inside a tokio runtime.
    pub fn new() -> TokioClock {
        TokioClock {
            wall_start: Utc::now(),
            start: tokio::time::Instant::now(),
        }
    }
}

impl Default for TokioClock {
    fn default() -> Self {
        TokioClock::new()
    }
}

impl Clock for TokioClock {
    fn now(&self) -> DateTime<Utc> {
        self.wall_start
            .checked_add_signed(to_chrono(self.start.elapsed()))
            .unwrap_or(DateTime::<Utc>::MAX_UTC)
    }
}

/// Negative spans become zero.
pub(crate) fn to_std(d: chrono::Duration) -> Duration {
    d.to_std().unwrap_or(Duration::ZERO)
}

/// Spans beyond chrono's range (hundreds of millions of years) are clamped.
pub(crate) fn to_chrono(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn now_micros_agrees_with_now() {
        let system = SystemClock;
        let a = system.now().timestamp_micros();
        let b = system.now_micros();
        let c = system.now().timestamp_micros();
        // The coarse clock may lag the precise one by a tick (a few ms).
        assert!(a - 50_000 <= b && b <= c, "{a} {b} {c}");
        let manual = ManualClock::new(Utc::now());
        assert_eq!(manual.now_micros(), manual.now().timestamp_micros());
        manual.advance(Duration::from_secs(1));
        assert_eq!(manual.now_micros(), manual.now().timestamp_micros());
    }
}
