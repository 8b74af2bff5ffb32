//! A client for the Blockstream AMP (Asset Management Platform) REST API
//! whose authentication manages itself.
//!
//! Build a client and call the API; the token is obtained on the first call,
//! attached to every call, refreshed in the background before it expires,
//! obtained again when it is revoked, and shared by every task using the
//! client. Failures are retried with exponential backoff and jitter, and
//! `Retry-After` is honoured.
//!
//! ```no_run
//! # async fn demo() -> amp_client::Result<()> {
//! // AMP_USERNAME, AMP_PASSWORD (and optionally AMP_API_BASE_URL, API_RETRY_*,
//! // API_REQUEST_TIMEOUT_SECONDS, AMP_TOKEN_STORE) come from the environment.
//! let client = amp_client::AmpClient::from_env()?;
//! let assets = client.assets().list().await?;
//! println!("{} assets", assets.len());
//! # Ok(()) }
//! ```
//!
//! A runnable example against a local sandbox server:
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let sandbox = amp_sandbox::Sandbox::start().await?;
//! let config = amp_client::Config::builder()
//!     .base_url(sandbox.base_url())
//!     .credentials(sandbox.username(), sandbox.password())
//!     .build()?;
//! let client = amp_client::AmpClient::new(config)?;
//! let assets = client.assets().list().await?;      // logs in first
//! let again = client.assets().list().await?;       // reuses the token
//! assert_eq!(assets, again);
//! assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
//! assert_eq!(client.token_manager().info().state, amp_client::TokenState::Valid);
//! # Ok(()) }
//! ```
//!
//! See [`TokenManager`] for the renewal rules, [`Config`] for the settings,
//! and [`Error`] for what can go wrong.
//!
//! # Features
//!
//! | feature | default | adds |
//! |---|---|---|
//! | `redis` | no | `RedisStore`: one token shared by many machines through Redis, with a renewal lock so that they log in once between them; `redis://` and `rediss://` (TLS by rustls, trusting Mozilla's roots and the CA file `AMP_REDIS_CA_FILE`). `AMP_TOKEN_STORE=redis://…` needs it. |
//! | `metrics` | no | counters, a gauge and a histogram through the [`metrics`](https://docs.rs/metrics) facade (below) |
//!
//! Without any feature the crate has the memory and file stores, and
//! everything else.
//!
//! # Metrics (feature `metrics`)
//!
//! Emitted through the [`metrics`](https://docs.rs/metrics) facade, so the
//! program picks the recorder (a Prometheus exporter, say). Nothing is
//! emitted without one.
//!
//! | metric | kind | labels | what |
//! |---|---|---|---|
//! | `amp_http_requests_total` | counter | | HTTP requests sent, every attempt counted |
//! | `amp_http_retries_total` | counter | | attempts repeated after a failure |
//! | `amp_http_rate_limited_total` | counter | | 429 answers |
//! | `amp_token_logins_total` | counter | | tokens obtained with the credentials |
//! | `amp_token_refreshes_total` | counter | | tokens refreshed with themselves |
//! | `amp_token_refresh_fallbacks_total` | counter | | refreshes that failed and fell back to a login |
//! | `amp_token_relogins_total` | counter | | tokens the server rejected (401), dropped to log in again |
//! | `amp_token_store_adoptions_total` | counter | | tokens taken from the store (renewed elsewhere) |
//! | `amp_token_renewal_failures_total` | counter | | renewals that failed |
//! | `amp_token_renewal_failures_by_cause_total` | counter | `cause`: `refused`, `rate_limited`, `timeout`, `network`, `server`, `other` | the same, by cause |
//! | `amp_token_expires_in_seconds` | gauge | | seconds left on the current token (0: none), set with every new token and every API call; one per process (with several clients, the last one to set it wins) |
//! | `amp_token_renewal_duration_seconds` | histogram | `outcome`: `renewed`, `superseded`, `failed` | how long each renewal took |
//!
//! The same counts are always readable without the feature, from
//! [`TokenManager::stats`].

#![warn(missing_docs)]
#![forbid(unsafe_code)]
// On docs.rs (`--cfg docsrs`), items that need a feature say which.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod api;
mod auth;
mod client;
pub mod config;
mod credentials;
mod error;
pub mod model;
pub mod private_fs;
mod proxy;
mod response;
mod retry;
mod stats;
mod transport;
mod wire;

pub use auth::clock::{Clock, ManualClock, SystemClock, TokioClock};
pub use auth::manager::{AccessToken, Renewal, TokenManager};
#[cfg(feature = "redis")]
pub use auth::store::RedisStore;
pub use auth::store::{
    account_id, account_name, open as open_store, BoxFuture, FileStore, MemoryStore, RenewalGuard,
    TokenStore,
};
pub use auth::token::{TokenData, TokenInfo, TokenState};
pub use bytes::Bytes;
pub use client::{AmpClient, ClientBuilder};
pub use config::{Config, ConfigBuilder, RetryConfig, StoreSpec, TokenPolicy};
pub use credentials::{Credentials, PASSWORD_VAR, USERNAME_VAR};
pub use error::{Error, Result};
/// The HTTP client this crate is built on, for
/// [`ClientBuilder::http_client`]: the same version, so its builder fits.
pub use reqwest;
pub use reqwest::{Method, StatusCode};
pub use response::Response;
pub use stats::Stats;

/// Making server text safe to print: every character that could drive a
/// terminal (ESC, BEL, C1 controls, bidirectional overrides) escaped. The
/// client already does this to the server text in its errors; use these for
/// text you print from answers yourself (names, memos …).
pub mod text {
    pub use crate::wire::{escape_controls, escape_controls_line, is_terminal_control};
}

/// Not public API: the parsers and the retry decisions, for the fuzz
/// targets and the property tests. May change or go at any time.
#[doc(hidden)]
pub mod __private {
    pub use crate::wire::{parse_error_body, parse_token_answer};

    /// The retry decisions (`fuzz/fuzz_targets/retry_after.rs`).
    pub mod retry {
        pub use crate::retry::{
            backoff, decide, parse_retry_after, Decision, Failure, Idempotency, Stop,
        };
    }

    /// [`TokenData`](crate::TokenData)'s info at `now` under `policy`
    /// (without the soft point's jitter).
    pub fn token_info_at(
        token: &crate::TokenData,
        now: chrono::DateTime<chrono::Utc>,
        policy: &crate::TokenPolicy,
    ) -> crate::TokenInfo {
        token.info_with(now, &token.points(policy, 0.0))
    }
}
