//! One request end to end: URL, headers, per-attempt timeout, bounded body,
//! retries with backoff and `Retry-After`, the shared retry budget and the
//! shared rate-limit pause. Tokens are handled a level up, in
//! [`AmpClient`](crate::AmpClient); this layer only puts on the wire the
//! token it is given.
//!
//! It is also the one place where an answer with an error status becomes an
//! [`Error`]: the server's text is summarised and scrubbed of every secret
//! the client holds there ([`Shared::scrub`]), before any log or error
//! sees it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use reqwest::{StatusCode, Url};
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::auth::state::Shared;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::retry::{self, Decision, Failure, RetryBudget, Stop};
use crate::stats::Counters;
use crate::wire::parse_error_body;

mod request;
mod url;
mod wiped;

use request::rejects_the_token;
pub(crate) use request::{wiped_json, Answer, Auth, Op, Request};
use url::{classify, redirects_within, too_large};
use wiped::{TooLarge, WipedBody};

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

    /// Sends `req` with `token` (if any) until it succeeds, fails for good
    /// or the attempts run out. Any status outside 2xx is an error: the one
    /// conversion of an answer into an [`Error`] is here ([`Self::error_of`]).
    pub async fn send(&self, req: &Request<'_>, auth: Auth<'_>) -> Result<Answer> {
        let operation = Op::new(req);
        // Built once per request: a path or token that cannot be sent fails
        // at once instead of being retried.
        let mut first_url = Some(self.url(req.path)?);
        let authorization = match auth {
            Auth::Token(t) => Some(t.authorization().ok_or_else(|| Error::InvalidInput {
                what: "token".to_string(),
                reason: "it holds characters that cannot go in a header".to_string(),
            })?),
            Auth::None | Auth::Login(_) => None,
        };
        let retry_config = *self.config.retry();
        let mut attempt: u32 = 1;
        let mut spent: u32 = 0;
        loop {
            // A token cleared, replaced or refused elsewhere while this call
            // waited to retry is not put on the wire again: the call ends as
            // if the server had refused it (an API call then heals with the
            // new token, a refresh falls back to a login).
            if let Auth::Token(token) = auth {
                if attempt > 1 && self.secrets.is_retired(token) {
                    return Err(Error::TokenRejected {
                        operation: operation.get().to_string(),
                        status: StatusCode::UNAUTHORIZED,
                        message: "the token was withdrawn while the call waited to retry"
                            .to_string(),
                    });
                }
            }
            // A pause longer than we would ever sleep fails the call at once,
            // before an attempt or a retry is spent on it.
            self.wait_out_pause(&operation).await?;
            req.span.record("attempts", attempt);
            let url = match first_url.take() {
                Some(url) => url,
                None => self.url(req.path)?,
            };
            let (failure, error, answer) = match self
                .attempt(req, url, authorization.as_ref(), &operation)
                .await
            {
                Ok(raw) if raw.status.is_success() => {
                    self.budget.on_success(spent);
                    return Ok(Answer {
                        status: raw.status,
                        headers: raw.headers,
                        body: raw.body,
                        refused_token: false,
                        attempts: attempt,
                    });
                }
                Ok(raw) => {
                    let retry_after = retry::retry_after_of(
                        raw.status,
                        raw.headers.get(RETRY_AFTER).and_then(|v| v.to_str().ok()),
                        SystemTime::now(),
                    );
                    self.note_answer(raw.status, retry_after);
                    let failure = Failure::Status {
                        status: raw.status,
                        retry_after,
                    };
                    let error = self.error_of(&operation, &raw, auth, retry_after);
                    // Kept only for a caller who wants the answer whatever
                    // its status; the others get `error`.
                    let answer = req.any_status.then(|| Answer {
                        status: raw.status,
                        refused_token: error.is_token_rejected(),
                        attempts: attempt,
                        headers: raw.headers,
                        body: raw.body,
                    });
                    (failure, error, answer)
                }
                Err((failure, error)) => (failure, error, None),
            };
            let decision = retry::decide(
                &retry_config,
                attempt,
                req.idempotency,
                failure,
                fastrand::f64(),
            );
            let budget_spent = match decision {
                Decision::Retry(delay) if self.budget.try_spend(failure) => {
                    spent += RetryBudget::cost_of(failure);
                    self.counters.retries.bump();
                    tracing::debug!(%operation, attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                    continue;
                }
                Decision::Retry(_) => {
                    tracing::warn!(%operation, attempt, "retry budget spent; not retrying");
                    true
                }
                Decision::Stop(_) => false,
            };
            // The retries end here. A caller of `any_status` gets the
            // answer they ended on; the others an error.
            if let Some(answer) = answer {
                return Ok(answer);
            }
            let last = match decision {
                Decision::Stop(Stop::RetryAfterTooLong(wait)) => {
                    tracing::debug!(%operation, attempt, wait_s = wait.as_secs(), "Retry-After beyond the maximum delay; giving up");
                    let status = match failure {
                        Failure::Status { status, .. } => status,
                        _ => StatusCode::TOO_MANY_REQUESTS,
                    };
                    Error::RateLimited {
                        operation: operation.get().to_string(),
                        status,
                        retry_after: Some(wait),
                    }
                }
                _ => error,
            };
            return Err(match decision {
                _ if budget_spent => Error::RetryBudgetExhausted {
                    operation: operation.get().to_string(),
                    attempts: attempt,
                    last: Box::new(last),
                },
                Decision::Stop(Stop::Exhausted) => Error::RetriesExhausted {
                    operation: operation.get().to_string(),
                    attempts: attempt,
                    last: Box::new(last),
                },
                _ if attempt == 1 => last,
                _ => Error::RetriesExhausted {
                    operation: operation.get().to_string(),
                    attempts: attempt,
                    last: Box::new(last),
                },
            });
        }
    }

    /// The error an answer with an error status stands for. The server's
    /// text is summarised ([`parse_error_body`]) and scrubbed of the
    /// password and every token the client holds, and of `auth`'s secret
    /// (the one this request carried).
    fn error_of(
        &self,
        operation: &Op<'_>,
        raw: &Raw,
        auth: Auth<'_>,
        retry_after: Option<Duration>,
    ) -> Error {
        let operation = operation.get().to_string();
        if raw.status == StatusCode::TOO_MANY_REQUESTS {
            return Error::RateLimited {
                operation,
                status: raw.status,
                retry_after,
            };
        }
        // Secrets are scrubbed from the body as it came, before the summary
        // changes their form (collapsed blanks, a first line); the summary
        // is scrubbed again for the escaped and cut forms it may hold. The
        // copies made along the way are dropped unwiped except these two:
        // the parsers' own are out of reach.
        let secret = auth.secret();
        let body = Zeroizing::new(String::from_utf8_lossy(&raw.body).into_owned());
        let scrubbed = Zeroizing::new(self.secrets.scrub(&body, secret));
        let summary = Zeroizing::new(parse_error_body(scrubbed.as_bytes()));
        let message = if summary.is_empty() {
            raw.status
                .canonical_reason()
                .unwrap_or("no explanation")
                .to_string()
        } else {
            self.secrets.scrub(&summary, secret)
        };
        // Whether the token was refused is read from the server's own
        // words (a password such as "token" must not hide them).
        let refused = matches!(auth, Auth::Token(_))
            && matches!(raw.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            && rejects_the_token(raw.status, &Zeroizing::new(parse_error_body(&raw.body)));
        if refused {
            return Error::TokenRejected {
                operation,
                status: raw.status,
                message,
            };
        }
        Error::Api {
            operation,
            status: raw.status,
            message,
        }
    }

    /// Counts a 429, and makes its `Retry-After` pause every request of this client.
    fn note_answer(&self, status: StatusCode, retry_after: Option<Duration>) {
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
    async fn wait_out_pause(&self, operation: &Op<'_>) -> Result<()> {
        let Some(wait) = self.pause_left() else {
            return Ok(());
        };
        if wait > self.config.retry().max_delay {
            return Err(Error::RateLimited {
                operation: operation.get().to_string(),
                status: StatusCode::TOO_MANY_REQUESTS,
                retry_after: Some(wait),
            });
        }
        tracing::trace!(%operation, wait_ms = wait.as_millis() as u64, "waiting out a rate limit");
        tokio::time::sleep(wait).await;
        Ok(())
    }

    /// One attempt: a complete answer (any status), or how it failed. The
    /// attempt's timeout covers sending and reading the whole answer.
    async fn attempt(
        &self,
        req: &Request<'_>,
        url: Url,
        authorization: Option<&HeaderValue>,
        operation: &Op<'_>,
    ) -> std::result::Result<Raw, (Failure, Error)> {
        let timeout = self.config.request_timeout();
        // tokio's timeout rather than reqwest's: its timer lives in this
        // future, where reqwest boxes one per request and wraps the body in
        // another.
        let exchange = self.exchange(req, url, authorization, operation, timeout);
        tokio::time::timeout(timeout, exchange)
            .await
            .unwrap_or_else(|_| {
                Err((
                    Failure::MaybeSent { timeout: true },
                    Error::Timeout {
                        operation: operation.get().to_string(),
                        timeout,
                    },
                ))
            })
    }

    /// Sends and reads the answer, with no timeout of its own (`timeout` is
    /// the caller's, named in a connect timeout's error).
    async fn exchange(
        &self,
        req: &Request<'_>,
        url: Url,
        authorization: Option<&HeaderValue>,
        operation: &Op<'_>,
        timeout: Duration,
    ) -> std::result::Result<Raw, (Failure, Error)> {
        let mut builder = self.http.request(req.method.clone(), url);
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value.clone());
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        self.counters.requests.bump();
        tracing::trace!(%operation, "sending");
        let mut response = builder
            .send()
            .await
            .map_err(|e| classify(e, operation.get(), timeout, false))?;
        let status = response.status();
        let headers = std::mem::take(response.headers_mut());
        let limit = self.config.max_body_bytes();
        if response.content_length().is_some_and(|n| n > limit as u64) {
            return Err(too_large(operation.get(), limit));
        }
        let reading = |e| classify(e, operation.get(), timeout, true);
        let body = if req.sensitive {
            // Copied into a buffer of ours that leaves no unwiped copy as it
            // grows, and is wiped when the last reference to the body is
            // dropped (hyper's and rustls's own buffers are out of reach:
            // `wiped.rs` says what they copy).
            let mut body = WipedBody::new(response.content_length(), limit);
            while let Some(chunk) = response.chunk().await.map_err(reading)? {
                body.push(&chunk)
                    .map_err(|TooLarge| too_large(operation.get(), limit))?;
            }
            body.into_bytes()
        } else if response.content_length().is_some() {
            // A declared length within the limit (checked above): hyper
            // enforces it, so the body can be taken whole, without copying.
            response.bytes().await.map_err(reading)?
        } else {
            // Chunked: count as it comes, and stop at the limit.
            let mut body = bytes::BytesMut::new();
            while let Some(chunk) = response.chunk().await.map_err(reading)? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(operation.get(), limit));
                }
                body.extend_from_slice(&chunk);
            }
            body.freeze()
        };
        tracing::trace!(%operation, status = status.as_u16(), wiped = req.sensitive, "answered");
        Ok(Raw {
            status,
            headers,
            body,
        })
    }
}
