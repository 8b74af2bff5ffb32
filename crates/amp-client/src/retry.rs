//! Retry decisions, kept pure: what a failure is, whether to try again, how
//! long to wait. Nothing here sleeps or sends; the client's transport layer
//! does, following these answers. The crate's own: users set
//! [`RetryConfig`], and the rest may change at any time.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::StatusCode;

use crate::config::RetryConfig;

/// How one attempt failed, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// The request never left: connection refused, DNS, TLS handshake. Always
    /// safe to repeat.
    NotSent,
    /// The request may have reached the server: a timeout or a connection
    /// broken while waiting for or reading the answer.
    MaybeSent {
        /// True when it was the per-attempt timeout.
        timeout: bool,
    },
    /// The server answered with this status.
    Status {
        /// The status.
        status: StatusCode,
        /// The parsed `Retry-After` header, if any.
        retry_after: Option<Duration>,
    },
}

/// Whether a request may be sent twice without harm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// GET, HEAD, PUT, DELETE, and the auth calls: repeating them is harmless.
    Safe,
    /// A POST that changes state: repeated only when it surely did not run.
    Unsafe,
}

impl Idempotency {
    /// The rule for a method: everything but POST and PATCH is safe.
    pub fn of(method: &reqwest::Method) -> Idempotency {
        if method == reqwest::Method::POST || method == reqwest::Method::PATCH {
            Idempotency::Unsafe
        } else {
            Idempotency::Safe
        }
    }
}

/// Why retrying stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// This failure is not worth repeating (a 400, a 404, an unsafe POST that may have run …).
    NotRetryable,
    /// The attempts are used up.
    Exhausted,
    /// The server asked for a wait longer than the configured maximum delay.
    RetryAfterTooLong(Duration),
}

/// What to do after a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Wait this long, then try again.
    Retry(Duration),
    /// Give up.
    Stop(Stop),
}

/// True for statuses that say "try again later": 408, 429, 500, 502, 503, 504.
pub fn is_retryable_status(status: StatusCode) -> bool {
    matches!(status.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)
}

/// Decides what follows attempt number `attempt` (1-based) that failed with
/// `failure`. `jitter` is a uniform random number in `[0, 1)`, passed in so the
/// decision stays a pure function.
pub fn decide(
    config: &RetryConfig,
    attempt: u32,
    idempotency: Idempotency,
    failure: Failure,
    jitter: f64,
) -> Decision {
    let safe = idempotency == Idempotency::Safe;
    let (retryable, retry_after) = match failure {
        Failure::NotSent => (true, None),
        Failure::MaybeSent { .. } => (safe, None),
        // A 429 means the request was turned away unprocessed.
        Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after,
        } => (true, retry_after),
        Failure::Status {
            status,
            retry_after,
        } => (safe && is_retryable_status(status), retry_after),
    };
    if !retryable {
        return Decision::Stop(Stop::NotRetryable);
    }
    if let Some(wait) = retry_after {
        if wait > config.max_delay {
            return Decision::Stop(Stop::RetryAfterTooLong(wait));
        }
    }
    if attempt >= config.max_attempts {
        return Decision::Stop(Stop::Exhausted);
    }
    let delay = backoff(config, attempt, jitter).max(retry_after.unwrap_or(Duration::ZERO));
    Decision::Retry(delay)
}

/// The full-jitter delay before retry number `retry` (1-based):
/// `jitter * min(max_delay, base_delay * 2^(retry-1))`.
pub fn backoff(config: &RetryConfig, retry: u32, jitter: f64) -> Duration {
    let exp = retry.saturating_sub(1).min(31);
    let ceiling = config
        .base_delay
        .checked_mul(1u32 << exp)
        .unwrap_or(config.max_delay)
        .min(config.max_delay);
    // NaN counts as 0; the product may round above a ceiling near
    // `Duration::MAX`, which `mul_f64` would panic on.
    let jitter = if jitter.is_nan() {
        0.0
    } else {
        jitter.clamp(0.0, 1.0)
    };
    Duration::try_from_secs_f64(ceiling.as_secs_f64() * jitter)
        .unwrap_or(ceiling)
        .min(ceiling)
}

/// Parses a `Retry-After` value: delta-seconds (`"120"`) or an HTTP-date
/// (`"Wed, 21 Oct 2015 07:28:00 GMT"`), relative to `now`. A date in the past
/// means no wait; anything else unparsable is `None`.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // More digits than u64 holds is still "a very long time".
        return Some(Duration::from_secs(
            value.parse::<u64>().unwrap_or(u64::MAX),
        ));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The wait an answer asks for: its `Retry-After` header (`value`), read
/// only on 429 and 503, the statuses that define it. Pure: the caller decides
/// what the wait means (sleep, pause the client, give up).
pub fn retry_after_of(
    status: StatusCode,
    value: Option<&str>,
    now: SystemTime,
) -> Option<Duration> {
    match status.as_u16() {
        429 | 503 => parse_retry_after(value?, now),
        _ => None,
    }
}

/// A retry budget shared by all requests of one client: a token bucket from
/// which each retry takes and each success gives back a little. While an
/// outage lasts, the bucket empties and requests fail after their first
/// attempt instead of multiplying the load; when calls succeed again it fills.
#[derive(Debug)]
pub struct RetryBudget {
    tokens: AtomicU32,
    capacity: u32,
}

impl RetryBudget {
    /// What a full bucket holds.
    pub const CAPACITY: u32 = 500;
    /// What a retry costs.
    pub const RETRY_COST: u32 = 5;
    /// What a retry after a timeout costs: timeouts hint at an overloaded server.
    pub const TIMEOUT_COST: u32 = 10;
    /// What a success gives back.
    pub const SUCCESS_REFUND: u32 = 1;

    /// A full budget.
    pub fn new() -> RetryBudget {
        RetryBudget::with_capacity(Self::CAPACITY)
    }

    /// A full budget of `capacity`.
    pub fn with_capacity(capacity: u32) -> RetryBudget {
        RetryBudget {
            tokens: AtomicU32::new(capacity),
            capacity,
        }
    }

    /// What a retry after `failure` costs.
    pub fn cost_of(failure: Failure) -> u32 {
        match failure {
            Failure::MaybeSent { timeout: true } => Self::TIMEOUT_COST,
            _ => Self::RETRY_COST,
        }
    }

    /// Takes the cost of one retry after `failure`; false when the budget cannot pay.
    pub fn try_spend(&self, failure: Failure) -> bool {
        let cost = Self::cost_of(failure);
        self.tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| t.checked_sub(cost))
            .is_ok()
    }

    /// Records a request that got its answer after spending `spent` on
    /// retries: those are given back (a retry that worked was worth it), plus
    /// [`SUCCESS_REFUND`](Self::SUCCESS_REFUND). Only retries that end in
    /// failure drain the budget, so scattered failures never empty it while
    /// an outage does.
    pub fn on_success(&self, spent: u32) {
        let cap = self.capacity;
        let gain = spent.saturating_add(Self::SUCCESS_REFUND);
        let _ = self
            .tokens
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |t| {
                (t < cap).then(|| t.saturating_add(gain).min(cap))
            });
    }

    /// What is left.
    #[cfg(test)]
    pub fn remaining(&self) -> u32 {
        self.tokens.load(Ordering::Acquire)
    }
}

impl Default for RetryBudget {
    fn default() -> Self {
        RetryBudget::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn cfg() -> RetryConfig {
        RetryConfig::default()
    }

    fn status(code: u16) -> Failure {
        Failure::Status {
            status: StatusCode::from_u16(code).unwrap(),
            retry_after: None,
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let c = cfg();
        assert_eq!(backoff(&c, 1, 1.0), Duration::from_millis(1000));
        assert_eq!(backoff(&c, 2, 1.0), Duration::from_millis(2000));
        assert_eq!(backoff(&c, 3, 1.0), Duration::from_millis(4000));
        assert_eq!(backoff(&c, 6, 1.0), Duration::from_millis(30000));
        assert_eq!(backoff(&c, 400, 1.0), Duration::from_millis(30000));
        assert_eq!(backoff(&c, 3, 0.0), Duration::ZERO);
        assert_eq!(backoff(&c, 3, 0.5), Duration::from_millis(2000));
    }

    #[test]
    fn which_failures_are_retried() {
        let c = cfg();
        for code in [408, 429, 500, 502, 503, 504] {
            assert!(
                matches!(
                    decide(&c, 1, Idempotency::Safe, status(code), 0.5),
                    Decision::Retry(_)
                ),
                "{code}"
            );
        }
        for code in [400, 401, 403, 404, 405, 409, 422, 501] {
            assert_eq!(
                decide(&c, 1, Idempotency::Safe, status(code), 0.5),
                Decision::Stop(Stop::NotRetryable),
                "{code}"
            );
        }
    }

    #[test]
    fn unsafe_posts_repeat_only_when_surely_not_run() {
        let c = cfg();
        let post = Idempotency::Unsafe;
        assert!(matches!(
            decide(&c, 1, post, Failure::NotSent, 0.5),
            Decision::Retry(_)
        ));
        assert!(matches!(
            decide(&c, 1, post, status(429), 0.5),
            Decision::Retry(_)
        ));
        for f in [
            Failure::MaybeSent { timeout: true },
            Failure::MaybeSent { timeout: false },
            status(500),
            status(503),
        ] {
            assert_eq!(
                decide(&c, 1, post, f, 0.5),
                Decision::Stop(Stop::NotRetryable),
                "{f:?}"
            );
        }
    }

    #[test]
    fn attempts_are_capped() {
        let c = cfg();
        assert!(matches!(
            decide(&c, 2, Idempotency::Safe, status(503), 0.5),
            Decision::Retry(_)
        ));
        assert_eq!(
            decide(&c, 3, Idempotency::Safe, status(503), 0.5),
            Decision::Stop(Stop::Exhausted)
        );
    }

    #[test]
    fn retry_after_beyond_the_cap_stops_at_once() {
        let c = cfg();
        let f = Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(31)),
        };
        assert_eq!(
            decide(&c, 1, Idempotency::Safe, f, 0.5),
            Decision::Stop(Stop::RetryAfterTooLong(Duration::from_secs(31)))
        );
    }

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        assert_eq!(parse_retry_after(" 7 ", now), Some(Duration::from_secs(7)));
        assert_eq!(parse_retry_after("0", now), Some(Duration::ZERO));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(2));
        assert_eq!(parse_retry_after(&date, now), Some(Duration::from_secs(2)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(60));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("99999999999999999999999", now),
            Some(Duration::from_secs(u64::MAX))
        );
        for bad in ["", "-1", "1.5", "soon", "Wed, 99 Foo 2015"] {
            assert_eq!(parse_retry_after(bad, now), None, "{bad:?}");
        }
    }

    #[test]
    fn budget_empties_and_refills() {
        let b = RetryBudget::with_capacity(10);
        assert!(b.try_spend(Failure::NotSent));
        assert!(b.try_spend(Failure::NotSent));
        assert!(!b.try_spend(Failure::NotSent));
        assert!(!b.try_spend(Failure::MaybeSent { timeout: true }));
        for _ in 0..5 {
            b.on_success(0);
        }
        assert_eq!(b.remaining(), 5);
        assert!(b.try_spend(Failure::NotSent));
        // A request whose retry worked gets its cost back.
        b.on_success(RetryBudget::RETRY_COST);
        assert_eq!(b.remaining(), 6);
        for _ in 0..100 {
            b.on_success(0);
        }
        assert_eq!(b.remaining(), 10);
    }

    /// What the public docs showed, before this module was the crate's own.
    #[test]
    fn a_429_waits_its_retry_after_until_the_attempts_run_out() {
        let cfg = RetryConfig::default();
        let too_many = Failure::Status {
            status: StatusCode::TOO_MANY_REQUESTS,
            retry_after: Some(Duration::from_secs(2)),
        };
        assert_eq!(
            decide(&cfg, 1, Idempotency::Unsafe, too_many, 0.0),
            Decision::Retry(Duration::from_secs(2))
        );
        assert_eq!(
            decide(&cfg, 3, Idempotency::Safe, too_many, 0.0),
            Decision::Stop(Stop::Exhausted)
        );
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_445_412_478);
        assert_eq!(parse_retry_after("2", now), Some(Duration::from_secs(2)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::from_secs(2))
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn retry_after_counts_only_on_429_and_503() {
        let now = SystemTime::now();
        assert_eq!(
            retry_after_of(StatusCode::TOO_MANY_REQUESTS, Some("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after_of(StatusCode::SERVICE_UNAVAILABLE, Some("3"), now),
            Some(Duration::from_secs(3))
        );
        assert_eq!(
            retry_after_of(StatusCode::INTERNAL_SERVER_ERROR, Some("3"), now),
            None
        );
    }

    /// The jitter is documented as `[0, 1)` but the functions take any f64: NaN and
    /// infinities must not panic, and a cap near `Duration::MAX` must not overflow
    /// the float conversion.
    #[test]
    fn backoff_takes_any_jitter_and_any_cap() {
        for max_delay in [Duration::from_secs(30), Duration::MAX] {
            let c = RetryConfig {
                max_attempts: u32::MAX,
                base_delay: Duration::from_millis(1000),
                max_delay,
            };
            for jitter in [
                f64::NAN,
                f64::INFINITY,
                f64::NEG_INFINITY,
                -1.0,
                0.0,
                0.5,
                0.999_999,
                1.0,
                7.0,
            ] {
                for attempt in [0, 1, 2, 40, 64, u32::MAX] {
                    let d = backoff(&c, attempt, jitter);
                    assert!(d <= c.max_delay, "{jitter} {attempt}: {d:?}");
                    let f = Failure::Status {
                        status: StatusCode::SERVICE_UNAVAILABLE,
                        retry_after: Some(Duration::from_secs(3)),
                    };
                    if let Decision::Retry(d) = decide(&c, attempt, Idempotency::Safe, f, jitter) {
                        assert!(d >= Duration::from_secs(3) && d <= c.max_delay, "{d:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn fuzz_crash_retry_after_nan_jitter() {
        // retry_after/crash-737393c9…: jitter bytes 00 7e ff ff ff ff ff ff are a NaN.
        // Panicked: cannot convert float seconds to Duration: value is either too big or NaN.
        let data: [u8; 27] = [
            0x7e, 0x3e, 0x27, 0x56, 0, 0, 0, 0, 0x00, 0x7e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0x3e, 0x27, 0x56, 0, 0, 0, 0, 0,
        ];
        let jitter = f64::from_le_bytes(data[8..16].try_into().unwrap());
        assert!(jitter.is_nan());
        let attempt = u32::from_le_bytes(data[16..20].try_into().unwrap());
        let wide = RetryConfig {
            max_attempts: u32::MAX,
            base_delay: Duration::from_millis(
                u64::from(u16::from_le_bytes([data[20], data[21]])).max(1),
            ),
            max_delay: Duration::MAX,
        };
        assert_eq!(backoff(&wide, attempt, jitter), Duration::ZERO);
    }

    proptest! {
        #[test]
        fn every_delay_is_within_bounds_and_honours_retry_after(
            base in 1u64..5_000,
            extra in 0u64..60_000,
            attempt in 1u32..40,
            max_attempts in 1u32..50,
            jitter in 0.0f64..1.0,
            retry_after in proptest::option::of(0u64..100_000),
            code in 400u16..600,
        ) {
            let c = RetryConfig {
                max_attempts,
                base_delay: Duration::from_millis(base),
                max_delay: Duration::from_millis(base + extra),
            };
            let ra = retry_after.map(Duration::from_millis);
            let f = Failure::Status { status: StatusCode::from_u16(code).unwrap(), retry_after: ra };
            match decide(&c, attempt, Idempotency::Safe, f, jitter) {
                Decision::Retry(d) => {
                    prop_assert!(d <= c.max_delay);
                    if let Some(ra) = ra { prop_assert!(d >= ra); }
                    prop_assert!(attempt < max_attempts);
                }
                Decision::Stop(Stop::RetryAfterTooLong(w)) => prop_assert!(w > c.max_delay),
                Decision::Stop(_) => {}
            }
        }
    }

    /// Properties of the delays and decisions, for any input (they were
    /// integration tests while this module was public).
    mod properties {
        use super::*;

        fn cases(n: u32) -> ProptestConfig {
            // PROPTEST_CASES, when set, overrides the default of each block.
            let n = std::env::var("PROPTEST_CASES")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(n);
            ProptestConfig {
                cases: n,
                failure_persistence: None,
                ..ProptestConfig::default()
            }
        }

        fn retry_config() -> impl Strategy<Value = RetryConfig> {
            (
                1u32..20,
                1u64..120_000,
                prop_oneof![0u64..200_000, Just(u64::MAX / 2)],
            )
                .prop_map(|(max_attempts, base, extra)| RetryConfig {
                    max_attempts,
                    base_delay: Duration::from_millis(base),
                    max_delay: Duration::from_millis(base.saturating_add(extra)),
                })
        }

        /// Any f64 at all: NaN, infinities, negatives, beyond 1.
        fn any_jitter() -> impl Strategy<Value = f64> {
            prop_oneof![
                4 => 0.0f64..1.0,
                1 => any::<f64>(),
                1 => Just(1.0),
                1 => Just(f64::NAN),
            ]
        }

        fn status() -> impl Strategy<Value = StatusCode> {
            prop_oneof![
                Just(429u16),
                Just(503),
                Just(500),
                Just(502),
                Just(504),
                Just(408),
                400u16..600
            ]
            .prop_map(|c| StatusCode::from_u16(c).unwrap())
        }

        fn failure() -> impl Strategy<Value = Failure> {
            prop_oneof![
                Just(Failure::NotSent),
                any::<bool>().prop_map(|timeout| Failure::MaybeSent { timeout }),
                (status(), proptest::option::of(0u64..200_000)).prop_map(|(status, ra)| {
                    Failure::Status {
                        status,
                        retry_after: ra.map(Duration::from_millis),
                    }
                }),
            ]
        }

        // ---------------------------------------------------------------------------
        // Retry delays.
        // ---------------------------------------------------------------------------

        proptest! {
            #![proptest_config(cases(2000))]

            /// Every backoff delay lies in [0, min(max delay, base · 2^(n−1))], for any jitter.
            #[test]
            fn backoff_stays_in_its_bounds(c in retry_config(), retry in 0u32..200, jitter in any_jitter()) {
                let d = backoff(&c, retry, jitter);
                let exp = retry.saturating_sub(1).min(31);
                let ceiling = c.base_delay.checked_mul(1 << exp).unwrap_or(c.max_delay).min(c.max_delay);
                prop_assert!(d <= ceiling, "{d:?} > {ceiling:?}");
                prop_assert!(d <= c.max_delay);
            }

            /// A retry waits no longer than the maximum delay and never less than the
            /// server's Retry-After; a Retry-After beyond the maximum stops at once;
            /// the attempts are never exceeded; unsafe requests are repeated only when
            /// they surely did not run (or were turned away with a 429).
            #[test]
            fn decisions_respect_every_bound(
                c in retry_config(),
                attempt in 1u32..30,
                failure in failure(),
                safe in any::<bool>(),
                jitter in any_jitter(),
            ) {
                let idem = if safe { Idempotency::Safe } else { Idempotency::Unsafe };
                let retry_after = match failure { Failure::Status { retry_after, .. } => retry_after, _ => None };
                match decide(&c, attempt, idem, failure, jitter) {
                    Decision::Retry(d) => {
                        prop_assert!(d <= c.max_delay, "{d:?} beyond the cap");
                        if let Some(ra) = retry_after {
                            prop_assert!(d >= ra, "{d:?} earlier than Retry-After {ra:?}");
                        }
                        prop_assert!(attempt < c.max_attempts);
                        if !safe {
                            let surely_not_run = matches!(failure, Failure::NotSent)
                                || matches!(failure, Failure::Status { status, .. } if status == StatusCode::TOO_MANY_REQUESTS);
                            prop_assert!(surely_not_run, "an unsafe request repeated after {failure:?}");
                        }
                    }
                    Decision::Stop(Stop::RetryAfterTooLong(w)) => {
                        prop_assert!(w > c.max_delay);
                        prop_assert_eq!(Some(w), retry_after);
                    }
                    Decision::Stop(Stop::Exhausted) => prop_assert!(attempt >= c.max_attempts),
                    Decision::Stop(Stop::NotRetryable) => {}
                }
            }

            /// The same through the header: a Retry-After in either form, parsed, is
            /// never undercut by the delay decided.
            #[test]
            fn a_retry_after_header_is_never_undercut(
                c in retry_config(),
                wait in 0u64..100_000,
                as_date in any::<bool>(),
                now_secs in 0u64..4_000_000_000,
                jitter in any_jitter(),
            ) {
                let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs);
                let header = if as_date {
                    httpdate::fmt_http_date(now + Duration::from_secs(wait))
                } else {
                    wait.to_string()
                };
                let parsed = parse_retry_after(&header, now);
                prop_assert_eq!(parsed, Some(Duration::from_secs(wait)));
                let f = Failure::Status { status: StatusCode::TOO_MANY_REQUESTS, retry_after: parsed };
                if let Decision::Retry(d) = decide(&c, 1, Idempotency::Unsafe, f, jitter) {
                    prop_assert!(d >= Duration::from_secs(wait));
                }
            }
        }

        proptest! {
            #[test]
            fn the_retry_after_parser_takes_anything(v in "\\PC{0,40}", now in any::<u64>()) {
                let now = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(SystemTime::UNIX_EPOCH);
                let _ = parse_retry_after(&v, now);
            }
        }
    }
}
