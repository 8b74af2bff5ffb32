//! One request end to end: URL, headers, per-attempt timeout, bounded body,
//! retries with backoff and `Retry-After`, the shared retry budget and the
//! shared rate-limit pause. Tokens are handled a level up, in
//! [`AmpClient`](crate::AmpClient); this layer only puts on the wire the
//! token it is given.
//!
//! The request path, step by step:
//!
//! - `driver.rs`: the retry driver ([`Transport::send`]), and the one place
//!   the error a request ends with is made;
//! - `pause.rs`: the pause a 429 sets on every request of the client;
//! - `attempt.rs`: one attempt on the wire, within the per-attempt timeout;
//! - `body.rs`: the answer's body, read within the body limit;
//! - `status_error.rs`: the one place where an answer with an error status
//!   becomes an [`Error`], the server's text summarised and scrubbed of
//!   every secret the client holds ([`Shared::scrub`]) before any log or
//!   error sees it;
//! - `scrub.rs`: the body of an answer handed back as it came
//!   ([`AmpClient::send`](crate::AmpClient::send)) cleaned of the token the
//!   request carried and of the current one ([`Transport::scrub_answer`]; a header value holding one is replaced whole);
//! - `url.rs`: the URL of a path, the redirect rule and the HTTP layer's
//!   errors; `request.rs`: what a request carries; `wiped.rs`: the buffer
//!   a sensitive answer is read into.

use std::sync::atomic::AtomicU64;
use std::sync::Arc;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, USER_AGENT};
use reqwest::StatusCode;
use tokio::time::Instant;

use crate::auth::state::Shared;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::retry::RetryBudget;
use crate::stats::Counters;

mod attempt;
mod body;
mod driver;
mod pause;
mod request;
mod scrub;
mod status_error;
mod url;
mod wiped;

pub(crate) use request::{wiped_json, Answer, Auth, Op, Request};
use url::redirects_within;

/// An answer as it came, any status, before it is judged.
struct Raw {
    status: StatusCode,
    headers: HeaderMap,
    body: bytes::Bytes,
}

/// Sends requests to one API root.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    config: Config,
    secrets: Arc<Shared>,
    budget: RetryBudget,
    /// Set by a 429 with `Retry-After`: no request of this client leaves before it.
    /// Microseconds after `epoch`; 0 when there is no pause. An atomic, not a
    /// mutex: every request reads it, and reading must not contend.
    not_before: AtomicU64,
    epoch: Instant,
    counters: Arc<Counters>,
}

impl Transport {
    /// A transport for `config`, over `http` (the caller's settings, see
    /// [`ClientBuilder::http_client`](crate::ClientBuilder::http_client)) or
    /// reqwest's defaults, with the client's own rules on top.
    pub fn new(
        config: Config,
        counters: Arc<Counters>,
        secrets: Arc<Shared>,
        http: Option<reqwest::ClientBuilder>,
    ) -> Result<Transport> {
        // Headers every request carries belong to the client: reqwest adds
        // them to each request. Both are static, so cloning them into a
        // request shares nothing between threads.
        let headers = HeaderMap::from_iter([
            (ACCEPT, HeaderValue::from_static("application/json")),
            (
                USER_AGENT,
                HeaderValue::from_static(concat!("amp-client/", env!("CARGO_PKG_VERSION"))),
            ),
        ]);
        let builder = match http {
            // The caller's proxies stand for an https root off loopback;
            // plain http takes only a proxy on loopback, and a loopback root
            // none at all, whatever was set.
            Some(http)
                if config.base_url().scheme() == "https"
                    && !crate::config::is_loopback(config.base_url()) =>
            {
                http
            }
            Some(http) => crate::proxy::configure(http, &config)?,
            None => crate::proxy::configure(reqwest::Client::builder(), &config)?
                .connect_timeout(config.request_timeout()),
        };
        let http = builder
            // reqwest's verbose mode logs the bytes on the wire: the
            // password and the token with them.
            .connection_verbose(false)
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::custom(redirects_within(
                config.base_url(),
            )))
            .build()
            .map_err(|e| Error::config("http client", e))?;
        Ok(Transport {
            http,
            config,
            secrets,
            budget: RetryBudget::new(),
            not_before: AtomicU64::new(0),
            epoch: Instant::now(),
            counters,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// `text` (from the server) scrubbed of every secret the client holds,
    /// and of `auth`'s.
    pub fn clean(&self, text: &str, auth: Auth<'_>) -> String {
        self.secrets.scrub(text, auth.secret())
    }

    /// The body and headers of an answer handed back as it came, cleaned
    /// of the secret `auth` carried (the request's token, which may no
    /// longer be the current one: a renewal, a 401 healed by another call
    /// or a `set_token` while the request was in flight) and of the current
    /// token: in the body each is replaced by `[REDACTED]`, a header value
    /// holding one is replaced whole. The body itself, not a copy, when it
    /// holds neither: every answer AMP gives.
    pub fn scrub_answer(
        &self,
        body: bytes::Bytes,
        headers: &mut reqwest::header::HeaderMap,
        auth: Auth<'_>,
    ) -> bytes::Bytes {
        use secrecy::ExposeSecret;
        let sent = auth.secret();
        // Read after the answer came: the newest token there is. A lock-free
        // read of the snapshot, and no second scan when the request carried
        // the current token (nearly always).
        let current = self.secrets.current();
        let current = current.as_ref().map(|c| c.token.token().expose_secret());
        let mut body = body;
        for secret in [sent, current.filter(|c| Some(*c) != sent)]
            .into_iter()
            .flatten()
        {
            body = scrub::scrub(body, secret);
            scrub::scrub_headers(headers, secret);
        }
        body
    }
}
