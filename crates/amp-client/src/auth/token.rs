//! A token with its times ([`TokenData`]), and what may be shown of it
//! ([`TokenInfo`], [`TokenState`]).

use std::fmt;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::auth::clock::{to_chrono, to_std};
use crate::auth::policy::{self, Points};
use crate::config::TokenPolicy;

/// An AMP token and when it was obtained and expires.
///
/// The token is a [`SecretString`] (zeroized on drop, redacted in `Debug`),
/// shared behind an `Arc` so handing it to a caller never copies the secret.
/// This is the form tokens are persisted in: it serializes to
/// `{"token": "…", "obtained_at": "<RFC 3339>", "expires_at": "<RFC 3339>",
/// "account": "…"}` (`account` only when the token is bound to one), and that
/// is the only place the token is ever written out.
///
/// ```
/// use amp_client::TokenData;
/// use chrono::{Duration, Utc};
/// let now = Utc::now();
/// let t = TokenData::new("0123456789abcdef0123456789abcdef01234567", now, now + Duration::hours(24));
/// assert!(!format!("{t:?}").contains("0123456789abcdef"));
/// let json = serde_json::to_string(&t).unwrap();
/// let back: TokenData = serde_json::from_str(&json).unwrap();
/// assert_eq!(back, t);
/// ```
#[derive(Clone, Serialize, Deserialize)]
pub struct TokenData {
    #[serde(with = "secret_token")]
    token: Arc<SecretString>,
    /// The `Authorization` header, made once, on first use, and shared by
    /// every copy: each request of this token clones it (a reference count)
    /// instead of formatting and validating it again.
    #[serde(skip)]
    header: Arc<OnceLock<Option<HeaderValue>>>,
    /// When the token was obtained.
    pub obtained_at: DateTime<Utc>,
    /// When it stops being valid.
    pub expires_at: DateTime<Utc>,
    /// The account the token was issued for (see
    /// [`account_name`](crate::account_name)): a token is only ever sent to
    /// its own account, and a store's token of another account is never
    /// taken. `None` for a token made by hand ([`TokenData::new`]); the token
    /// manager binds such a token to its own account when it is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
}

mod secret_token {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Arc<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(t.expose_secret())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<SecretString>, D::Error> {
        // Read into a zeroizing buffer so no plain copy is left behind.
        let s = zeroize::Zeroizing::new(String::deserialize(d)?);
        if s.trim().is_empty() {
            return Err(serde::de::Error::custom("the token is empty"));
        }
        Ok(Arc::new(SecretString::from(s.as_str())))
    }
}

/// `token <T>`, marked sensitive so reqwest's and hyper's debug output leave
/// it out; `None` when the token holds bytes a header cannot carry.
fn authorization_header(token: &SecretString) -> Option<HeaderValue> {
    // The header shares this buffer (reqwest and hyper hold
    // reference-counted views of it), which is wiped when the last request
    // holding the header is done. hyper still copies the header's bytes
    // into its connection's write buffer when it writes the request head
    // (and rustls into a TLS record, encrypted in place): a copy reused or
    // freed unwiped, out of our reach (see `transport/wiped.rs`).
    let raw = zeroize::Zeroizing::new([b"token ", token.expose_secret().as_bytes()].concat());
    let mut value = HeaderValue::from_maybe_shared(bytes::Bytes::from_owner(raw)).ok()?;
    value.set_sensitive(true);
    Some(value)
}

impl TokenData {
    /// A token with explicit times.
    pub fn new(
        token: impl Into<String>,
        obtained_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> TokenData {
        let token = SecretString::from(token.into());
        TokenData::obtained(token, obtained_at, Duration::ZERO).with_expiry(expires_at)
    }

    /// A token obtained at `now`, living `lifetime`.
    pub fn obtained(token: SecretString, now: DateTime<Utc>, lifetime: Duration) -> TokenData {
        TokenData {
            token: Arc::new(token),
            header: Arc::default(),
            obtained_at: now,
            expires_at: now
                .checked_add_signed(to_chrono(lifetime))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            account: None,
        }
    }

    /// The same token, bound to `account` (see [`account_name`](crate::account_name)).
    pub fn for_account(mut self, account: impl Into<String>) -> TokenData {
        self.account = Some(account.into());
        self
    }

    /// The same token with another expiry.
    pub(crate) fn with_expiry(mut self, expires_at: DateTime<Utc>) -> TokenData {
        self.expires_at = expires_at;
        self
    }

    /// The token itself. Expose it only to put it on the wire.
    pub fn token(&self) -> &SecretString {
        &self.token
    }

    /// The `Authorization` header for this token, built on first use and
    /// shared by every copy of this `TokenData`; `None` when the token cannot
    /// be put in a header.
    pub(crate) fn authorization(&self) -> Option<HeaderValue> {
        self.header
            .get_or_init(|| authorization_header(&self.token))
            .clone()
    }

    /// A short, stable, one-way fingerprint (8 hex characters of SHA-256) that
    /// identifies the token in logs and status output without revealing it.
    pub fn fingerprint(&self) -> String {
        let d = self.digest();
        format!("{:02x}{:02x}{:02x}{:02x}", d[0], d[1], d[2], d[3])
    }

    /// True when both hold the same token.
    pub fn same_token(&self, other: &TokenData) -> bool {
        Arc::ptr_eq(&self.token, &other.token)
            || self.token.expose_secret() == other.token.expose_secret()
    }

    /// SHA-256 of the token: tells tokens apart (the one the server
    /// rejected) without keeping a copy of one.
    pub(crate) fn digest(&self) -> [u8; 32] {
        Sha256::digest(self.token.expose_secret().as_bytes()).into()
    }

    /// Why this token cannot be used, if it cannot: it holds characters a
    /// header cannot carry, or its dates are absurd
    /// ([`policy::implausible`]). Such a token, stored or set, is refused
    /// rather than installed to fail every call.
    pub(crate) fn problem(&self, now: DateTime<Utc>) -> Option<&'static str> {
        if self.authorization().is_none() {
            return Some("the token holds characters that cannot go in a header");
        }
        policy::implausible(
            now.timestamp_micros(),
            self.obtained_at.timestamp_micros(),
            self.expires_at.timestamp_micros(),
        )
    }

    /// The soft and hard points of this token under `policy`, the soft
    /// point moved earlier by `jitter` (in `[0, 1)`) of the policy's jitter.
    pub(crate) fn points(&self, policy: &TokenPolicy, jitter: f64) -> Points {
        Points::new(
            self.obtained_at.timestamp_micros(),
            self.expires_at.timestamp_micros(),
            policy,
            jitter,
        )
    }

    /// What may be shown of this token at `now`, its state from `points`
    /// (the manager's [`info`](crate::TokenManager::info) passes its jittered
    /// points; without a manager, `points(policy, 0.0)`).
    pub(crate) fn info_with(&self, now: DateTime<Utc>, points: &Points) -> TokenInfo {
        TokenInfo {
            state: policy::state(now.timestamp_micros(), Some(points)),
            obtained_at: Some(self.obtained_at),
            expires_at: Some(self.expires_at),
            expires_in: Some(to_std(self.expires_at.signed_duration_since(now))),
            age: Some(to_std(now.signed_duration_since(self.obtained_at))),
            fingerprint: Some(self.fingerprint()),
        }
    }
}

impl PartialEq for TokenData {
    fn eq(&self, other: &Self) -> bool {
        self.same_token(other)
            && self.obtained_at == other.obtained_at
            && self.expires_at == other.expires_at
            && self.account == other.account
    }
}

impl fmt::Debug for TokenData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenData")
            .field("token", &"[REDACTED]")
            .field("fingerprint", &self.fingerprint())
            .field("obtained_at", &self.obtained_at)
            .field("expires_at", &self.expires_at)
            .field("account", &self.account)
            .finish()
    }
}

/// Where a token stands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenState {
    /// More than the refresh window left.
    Valid,
    /// Still valid, but inside the refresh window: a refresh is due.
    Expiring,
    /// Past its expiry.
    Expired,
    /// There is no token.
    #[default]
    None,
}

impl fmt::Display for TokenState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TokenState::Valid => "valid",
            TokenState::Expiring => "expiring",
            TokenState::Expired => "expired",
            TokenState::None => "none",
        })
    }
}

/// What may be shown of the current token, for debugging and monitoring. It
/// never holds the token itself. The default is the info of no token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// Valid, expiring, expired or none.
    pub state: TokenState,
    /// When it was obtained.
    pub obtained_at: Option<DateTime<Utc>>,
    /// When it expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// Time left (zero once expired).
    pub expires_in: Option<Duration>,
    /// Time since it was obtained.
    pub age: Option<Duration>,
    /// A one-way fingerprint, see [`TokenData::fingerprint`].
    pub fingerprint: Option<String>,
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A probe that tells whether this token's secret is still in memory
    /// (held by anything), for the tests that no copy outlives its holders.
    pub(crate) fn liveness(token: &TokenData) -> impl Fn() -> bool {
        let weak = Arc::downgrade(&token.token);
        move || weak.strong_count() > 0
    }

    impl TokenData {
        fn info_at(&self, now: DateTime<Utc>, policy: &TokenPolicy) -> TokenInfo {
            self.info_with(now, &self.points(policy, 0.0))
        }
    }

    const T: &str = "66b9c0ffee0123456789abcdef0123456789af51";

    #[test]
    fn obtained_token_lives_24_hours() {
        let now = Utc::now();
        let t = TokenData::obtained(SecretString::from(T), now, TokenPolicy::default().lifetime);
        assert_eq!(t.expires_at - t.obtained_at, chrono::Duration::hours(24));
    }

    #[test]
    fn state_follows_the_clock() {
        let p = TokenPolicy::default();
        let now = Utc::now();
        let t = TokenData::obtained(SecretString::from(T), now, p.lifetime);
        let state = |at| t.info_at(at, &p).state;
        assert_eq!(state(now), TokenState::Valid);
        let m = |mins: i64| now + chrono::Duration::minutes(mins);
        assert_eq!(state(m(24 * 60 - 6)), TokenState::Valid);
        assert_eq!(state(m(24 * 60 - 4)), TokenState::Expiring);
        assert_eq!(state(m(24 * 60)), TokenState::Expired);
        let info = t.info_at(m(60), &p);
        assert_eq!(info.age, Some(Duration::from_secs(3600)));
        assert_eq!(info.expires_in, Some(Duration::from_secs(23 * 3600)));
        let late = t.info_at(m(25 * 60), &p);
        assert_eq!(late.expires_in, Some(Duration::ZERO));
    }

    #[test]
    fn serde_round_trip_and_redaction() {
        let now = Utc::now();
        let t = TokenData::new(T, now, now + chrono::Duration::hours(24));
        let json = serde_json::to_string(&t).unwrap();
        assert!(json.contains(T), "the persisted form holds the token");
        let back: TokenData = serde_json::from_str(&json).unwrap();
        assert_eq!(back, t);
        assert!(!format!("{t:?}").contains(T));
        assert!(!format!("{:?}", t.info_at(now, &TokenPolicy::default())).contains(T));
    }

    #[test]
    fn empty_token_does_not_parse() {
        let e = serde_json::from_str::<TokenData>(
            r#"{"token":" ","obtained_at":"2026-01-01T00:00:00Z","expires_at":"2026-01-02T00:00:00Z"}"#,
        )
        .unwrap_err();
        assert!(e.to_string().contains("empty"));
    }

    #[test]
    fn fingerprint_is_short_stable_and_not_the_token() {
        let fingerprint = |t: &str| TokenData::new(t, Utc::now(), Utc::now()).fingerprint();
        let a = fingerprint(T);
        assert_eq!(a.len(), 8);
        assert_eq!(a, fingerprint(T));
        assert_ne!(a, fingerprint("other"));
        assert!(!T.contains(&a));
    }

    // The header is made once per token and shared by every request (and
    // every clone of the TokenData).
    #[test]
    fn the_authorization_header_is_built_once_and_shared() {
        let now = Utc::now();
        let t = TokenData::new(T, now, now + chrono::Duration::hours(24));
        let a = t.authorization().unwrap();
        let b = t.clone().authorization().unwrap();
        assert_eq!(a.as_bytes(), format!("token {T}").as_bytes());
        assert!(a.is_sensitive());
        assert!(!format!("{a:?}").contains(T));
        assert_eq!(
            a.as_bytes().as_ptr(),
            b.as_bytes().as_ptr(),
            "shared, not rebuilt"
        );
    }

    #[test]
    fn a_token_a_header_cannot_carry_gives_no_header() {
        let now = Utc::now();
        let t = TokenData::new("abc\r\nX-Evil: 1", now, now + chrono::Duration::hours(24));
        assert!(t.authorization().is_none());
    }
}
