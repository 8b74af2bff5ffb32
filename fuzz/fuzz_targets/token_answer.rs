//! `wire::parse_token_answer`: the body of an obtain_token / refresh-token
//! answer, at any clock reading and with any configured token lifetime.
//!
//! Input: 8 bytes of "now" (seconds, folded into years 1970–9999), 8 bytes
//! of lifetime (seconds, any u64: a `TokenPolicy` accepts any lifetime), then
//! the body. Never panics; a token it accepts is non-empty, fits in a
//! header, has not expired, and its error never quotes the token.
#![no_main]

use std::time::Duration;

use amp_client::TokenPolicy;
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;
use secrecy::ExposeSecret;

mod common;
use common::redacted;

/// 9999-12-31T23:59:59Z.
const MAX_SECS: u64 = 253_402_300_799;

fn u64_at(data: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    for (i, x) in data.iter().skip(at).take(8).enumerate() {
        b[i] = *x;
    }
    u64::from_le_bytes(b)
}

fuzz_target!(|data: &[u8]| {
    let now_secs = u64_at(data, 0) % MAX_SECS;
    let lifetime = Duration::from_secs(u64_at(data, 8));
    let body = data.get(16..).unwrap_or(&[]);
    let now = DateTime::<Utc>::from_timestamp(now_secs as i64, 0).unwrap();
    match amp_client::__private::parse_token_answer(body, now, lifetime) {
        Ok(t) => {
            let token = t.token().expose_secret();
            assert!(!token.is_empty());
            assert!(token.bytes().all(|b| b.is_ascii_graphic()));
            assert!(t.expires_at > now, "accepted an expired token");
            assert_eq!(t.obtained_at, now);
            // What the manager and `amp token status` then compute must not panic.
            let policy = TokenPolicy::default();
            let _ = amp_client::__private::token_info_at(&t, now, &policy);
            let _ = amp_client::__private::token_info_at(&t, t.expires_at, &policy).state;
            redacted(&t);
        }
        Err(reason) => {
            assert!(!reason.is_empty());
        }
    }
});
