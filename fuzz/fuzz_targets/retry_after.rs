//! `retry::parse_retry_after`, and what `retry::decide` makes of its result.
//!
//! Input: 8 bytes of "now" (seconds since the epoch, any u64), 8 bytes of
//! jitter (an f64, any bit pattern), 4 of the attempt number, 2 of the
//! backoff base and 2 of the cap (milliseconds), then the header value (lossy
//! UTF-8). Never panics; a delay decided is never earlier than the
//! Retry-After and never beyond the configured maximum.
#![no_main]

use std::time::{Duration, SystemTime};

use amp_client::__private::retry::{decide, parse_retry_after, Decision, Failure, Idempotency, Stop};
use amp_client::{RetryConfig, StatusCode};
use libfuzzer_sys::fuzz_target;

fn bytes<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut b = [0u8; N];
    for (i, x) in data.iter().skip(at).take(N).enumerate() {
        b[i] = *x;
    }
    b
}

fuzz_target!(|data: &[u8]| {
    let now_secs = u64::from_le_bytes(bytes(data, 0));
    let now = SystemTime::UNIX_EPOCH
        .checked_add(Duration::from_secs(now_secs))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let jitter = f64::from_le_bytes(bytes(data, 8));
    let attempt = u32::from_le_bytes(bytes(data, 16));
    let base = u64::from(u16::from_le_bytes(bytes(data, 20))).max(1);
    let cap = base + u64::from(u16::from_le_bytes(bytes(data, 22)));
    let value = String::from_utf8_lossy(data.get(24..).unwrap_or(&[]));

    let parsed = parse_retry_after(&value, now);
    let trimmed = value.trim();
    if !trimmed.is_empty() && trimmed.bytes().all(|b| b.is_ascii_digit()) {
        let want = trimmed.parse::<u64>().unwrap_or(u64::MAX);
        assert_eq!(parsed, Some(Duration::from_secs(want)));
    }

    let config = RetryConfig {
        max_attempts: 3,
        base_delay: Duration::from_millis(base),
        max_delay: Duration::from_millis(cap),
    };
    for status in [429u16, 503] {
        let failure = Failure::Status {
            status: StatusCode::from_u16(status).unwrap(),
            retry_after: parsed,
        };
        match decide(&config, attempt, Idempotency::Safe, failure, jitter) {
            Decision::Retry(d) => {
                assert!(d <= config.max_delay, "{d:?} beyond the cap");
                if let Some(ra) = parsed {
                    assert!(d >= ra, "{d:?} earlier than Retry-After {ra:?}");
                }
            }
            Decision::Stop(Stop::RetryAfterTooLong(w)) => assert!(w > config.max_delay),
            Decision::Stop(_) => {}
        }
    }
    // The backoff alone, with the same (arbitrary) jitter and the widest caps.
    let wide = RetryConfig {
        max_attempts: u32::MAX,
        base_delay: Duration::from_millis(base),
        max_delay: Duration::MAX,
    };
    let d = amp_client::__private::retry::backoff(&wide, attempt, jitter);
    assert!(d <= wide.max_delay);
});
