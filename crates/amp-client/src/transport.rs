//! One request end to end: URL, headers, per-attempt timeout, bounded body,
//! retries with backoff and `Retry-After`, the shared retry budget and the
//! shared rate-limit pause. Tokens are handled a level up, in
//! [`AmpClient`](crate::AmpClient); this layer only puts on the wire the token it is given.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use crate::auth::token::TokenData;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::retry::{self, Decision, Failure, Idempotency, RetryBudget, Stop};
use crate::wire::parse_error_body;

/// A request to send: everything needed to send it again.
#[derive(Debug, Clone)]
pub(crate) struct Request<'a> {
    pub method: Method,
    /// Relative to the API root, e.g. `assets/` or `user/obtain_token`.
    pub path: &'a str,
    /// A JSON body, already serialized (cheap to clone for a replay).
    pub body: Option<bytes::Bytes>,
    pub idempotency: Idempotency,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: &'a str) -> Request<'a> {
        let idempotency = Idempotency::of(&method);
        Request {
            method,
            path: path.trim_start_matches('/'),
            body: None,
            idempotency,
        }
    }

    pub fn json_body(mut self, body: bytes::Bytes) -> Request<'a> {
        self.body = Some(body);
        self
    }

    /// Marks a POST as harmless to repeat (the auth calls).
    pub fn safe_to_repeat(mut self) -> Request<'a> {
        self.idempotency = Idempotency::Safe;
        self
    }

    /// `GET /assets/`: how the request is named in errors and logs.
    pub fn operation(&self) -> String {
        format!("{} /{}", self.method, self.path)
    }
}

/// A request's name (`GET /assets/`), formatted on first use only: a
/// successful request with logs off never needs it.
pub(crate) struct Op<'r> {
    req: &'r Request<'r>,
    name: std::sync::OnceLock<String>,
}

impl<'r> Op<'r> {
    pub fn new(req: &'r Request<'r>) -> Op<'r> {
        Op {
            req,
            name: std::sync::OnceLock::new(),
        }
    }

    pub fn get(&self) -> &str {
        self.name.get_or_init(|| self.req.operation())
    }
}

impl std::fmt::Display for Op<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.get())
    }
}

/// A complete answer whose status is final: success, or an error status
/// that retrying will not change (the caller interprets it).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl Answer {
    /// The server's error message, parsed leniently.
    pub fn message(&self) -> String {
        let m = parse_error_body(&self.body);
        if m.is_empty() {
            self.status
                .canonical_reason()
                .unwrap_or("no explanation")
                .to_string()
        } else {
            m
        }
    }
}

/// Counters shared by the transport and the token manager.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub rate_limited: AtomicU64,
    pub obtains: AtomicU64,
    pub refreshes: AtomicU64,
    pub fallbacks: AtomicU64,
    pub reauths: AtomicU64,
    pub store_adoptions: AtomicU64,
    pub failures: AtomicU64,
    pub failures_refused: AtomicU64,
    pub failures_rate_limited: AtomicU64,
    pub failures_timeout: AtomicU64,
    pub failures_network: AtomicU64,
    pub failures_server: AtomicU64,
    pub failures_other: AtomicU64,
}

impl Counters {
    pub fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed renewal under its cause.
    pub fn failure(&self, e: &Error) {
        Counters::bump(&self.failures);
        let by = if e.is_credentials_refused() {
            &self.failures_refused
        } else if e.is_rate_limited() {
            &self.failures_rate_limited
        } else if e.is_timeout() {
            &self.failures_timeout
        } else if e.is_transport() {
            &self.failures_network
        } else if e.status().is_some_and(|s| s.is_server_error()) {
            &self.failures_server
        } else {
            &self.failures_other
        };
        Counters::bump(by);
    }
}

/// Sends requests to one API root.
#[derive(Debug)]
pub(crate) struct Transport {
    http: reqwest::Client,
    config: Config,
    budget: RetryBudget,
    /// Set by a 429 with `Retry-After`: no request of this client leaves before it.
    /// Microseconds after `epoch`; 0 when there is no pause. An atomic, not a
    /// mutex: every request reads it, and reading must not contend.
    not_before: AtomicU64,
    epoch: Instant,
    pub counters: std::sync::Arc<Counters>,
}

impl Transport {
    pub fn new(config: Config, counters: std::sync::Arc<Counters>) -> Result<Transport> {
        // Headers every request carries belong to the client: reqwest adds
        // them to each request, where setting them per request cost a map
        // insertion each time. Both are static: reqwest clones each default
        // header into every request, and a static value is the only kind
        // whose clone is not an atomic count shared by every thread
        // (`ClientBuilder::user_agent` would copy the text into a counted buffer).
        let headers = HeaderMap::from_iter([
            (ACCEPT, HeaderValue::from_static("application/json")),
            (
                USER_AGENT,
                HeaderValue::from_static(concat!("amp-client/", env!("CARGO_PKG_VERSION"))),
            ),
        ]);
        let http = crate::proxy::configure(reqwest::Client::builder(), &config)?
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::custom(same_origin_redirects))
            .connect_timeout(config.request_timeout())
            .build()
            .map_err(|e| Error::config("http client", e))?;
        Ok(Transport {
            http,
            config,
            budget: RetryBudget::new(),
            not_before: AtomicU64::new(0),
            epoch: Instant::now(),
            counters,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The URL of `path` under the API root. A path that would leave the
    /// root (`https://elsewhere/…`, `../…`) is refused: the token must only go
    /// to the configured API.
    fn url(&self, path: &str) -> Result<Url> {
        let base = self.config.base_url();
        let plain = !path.starts_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/?&=%+,".contains(&b));
        let parsed = if plain {
            // The root ends in `/` and has no query or fragment (Config sees
            // to it), so a path of these characters joins as plain text.
            // Parsing the whole string once sizes its buffer up front, where
            // `join` grows one step by step: a handful of reallocations per
            // request.
            parse_joined(base.as_str(), path)
        } else {
            // Anything else (a scheme such as `https://elsewhere/…`, spaces,
            // backslashes, a fragment) is read as `join` reads it; the check
            // below then refuses what leaves the root.
            base.join(path)
        };
        let url = parsed
            .map_err(|e| Error::config("path", format!("{path:?} does not make a URL: {e}")))?;
        if !url.as_str().starts_with(base.as_str()) {
            return Err(Error::InvalidInput {
                what: "path".to_string(),
                reason: format!("{path:?} leads outside the API root {base}"),
            });
        }
        Ok(url)
    }

    /// Sends `req` with retries, authorized by `token` when there is one.
    /// `Ok` holds a final answer (2xx, or an error status that is not
    /// retried, such as 400, 401 or 404); `Err` means no usable answer came
    /// after all the attempts allowed.
    pub async fn send(&self, req: &Request<'_>, token: Option<&TokenData>) -> Result<Answer> {
        // Named only when an error or an enabled log needs it.
        let operation = Op::new(req);
        // Checked before the first attempt; the first attempt takes this URL,
        // a retry builds it again (cheaper than a copy for every request).
        let mut first_url = Some(self.url(req.path)?);
        // The token's header, built once per token and shared by its requests.
        let authorization = match token {
            Some(token) => Some(token.authorization().ok_or_else(|| {
                Error::decode(operation.get(), "the token cannot be put in a header")
            })?),
            None => None,
        };
        let retry_config = *self.config.retry();
        let mut attempt: u32 = 1;
        let mut spent: u32 = 0;
        loop {
            let url = match first_url.take() {
                Some(url) => url,
                None => self.url(req.path)?,
            };
            let attempted = self
                .attempt(req, url, authorization.as_ref(), &operation)
                .await;
            let (failure, error) = match attempted {
                Ok(answer) if !retry::is_retryable_status(answer.status) => {
                    self.budget.on_success(spent);
                    return Ok(answer);
                }
                Ok(answer) => {
                    let retry_after = self.retry_after(&answer);
                    let failure = Failure::Status {
                        status: answer.status,
                        retry_after,
                    };
                    let error = if answer.status == StatusCode::TOO_MANY_REQUESTS {
                        Error::RateLimited {
                            operation: operation.get().to_string(),
                            retry_after,
                        }
                    } else {
                        Error::Api {
                            operation: operation.get().to_string(),
                            status: answer.status,
                            message: answer.message(),
                        }
                    };
                    (failure, error)
                }
                Err(pair) => pair,
            };
            let wrap = |attempts: u32, last: Error| {
                if attempts == 1 {
                    last
                } else {
                    Error::RetriesExhausted {
                        operation: operation.get().to_string(),
                        attempts,
                        last: Box::new(last),
                    }
                }
            };
            match retry::decide(
                &retry_config,
                attempt,
                req.idempotency,
                failure,
                fastrand::f64(),
            ) {
                Decision::Retry(delay) => {
                    if !self.budget.try_spend(failure) {
                        tracing::warn!(%operation, attempt, "retry budget spent; not retrying");
                        return Err(Error::RetryBudgetExhausted {
                            operation: operation.get().to_string(),
                            attempts: attempt,
                            last: Box::new(error),
                        });
                    }
                    spent += RetryBudget::cost_of(failure);
                    Counters::bump(&self.counters.retries);
                    tracing::debug!(%operation, attempt, delay_ms = delay.as_millis() as u64, error = %error, "retrying");
                    tokio::time::sleep(delay).await;
                    attempt += 1;
                }
                Decision::Stop(Stop::RetryAfterTooLong(wait)) => {
                    tracing::debug!(%operation, attempt, wait_s = wait.as_secs(), "Retry-After beyond the maximum delay; giving up");
                    return Err(wrap(
                        attempt,
                        Error::RateLimited {
                            operation: operation.get().to_string(),
                            retry_after: Some(wait),
                        },
                    ));
                }
                Decision::Stop(Stop::Exhausted) => {
                    return Err(Error::RetriesExhausted {
                        operation: operation.get().to_string(),
                        attempts: attempt,
                        last: Box::new(error),
                    })
                }
                Decision::Stop(Stop::NotRetryable) => return Err(wrap(attempt, error)),
            }
        }
    }

    /// `Retry-After` of a 429 or 503, which also pauses every request of this client.
    fn retry_after(&self, answer: &Answer) -> Option<Duration> {
        if !matches!(answer.status.as_u16(), 429 | 503) {
            return None;
        }
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            Counters::bump(&self.counters.rate_limited);
        }
        let wait = answer
            .headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry::parse_retry_after(v, SystemTime::now()))?;
        if answer.status == StatusCode::TOO_MANY_REQUESTS {
            let until = Instant::now() + wait.min(Duration::from_secs(24 * 3600));
            let us = u64::try_from((until - self.epoch).as_micros())
                .unwrap_or(u64::MAX)
                .max(1);
            self.not_before.fetch_max(us, Ordering::AcqRel);
        }
        Some(wait)
    }

    /// Waits out a pause set by an earlier 429, or refuses at once when the pause
    /// is longer than we would ever sleep.
    async fn respect_pause(&self, operation: &Op<'_>) -> Result<()> {
        let us = self.not_before.load(Ordering::Acquire);
        if us != 0 {
            let until = self.epoch + Duration::from_micros(us);
            let now = Instant::now();
            if until > now {
                let wait = until - now;
                if wait > self.config.retry().max_delay {
                    return Err(Error::RateLimited {
                        operation: operation.get().to_string(),
                        retry_after: Some(wait),
                    });
                }
                tracing::trace!(
                    %operation,
                    wait_ms = wait.as_millis() as u64,
                    "waiting out a rate limit"
                );
                tokio::time::sleep_until(until).await;
            }
        }
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
    ) -> std::result::Result<Answer, (Failure, Error)> {
        self.respect_pause(operation)
            .await
            .map_err(|e| (Failure::NotSent, e))?;
        let timeout = self.config.request_timeout();
        // tokio's timeout rather than reqwest's: its timer lives in this
        // future, where reqwest boxes one per request and wraps the body in
        // another (four allocations per request, in a path that makes few).
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
    ) -> std::result::Result<Answer, (Failure, Error)> {
        let mut builder = self.http.request(req.method.clone(), url);
        if let Some(value) = authorization {
            builder = builder.header(AUTHORIZATION, value.clone());
        }
        if let Some(body) = &req.body {
            builder = builder
                .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
                .body(body.clone());
        }
        Counters::bump(&self.counters.requests);
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
        let body = if response.content_length().is_some() {
            // A declared length within the limit (checked above): hyper
            // enforces it, so the body can be taken whole, without copying.
            response
                .bytes()
                .await
                .map_err(|e| classify(e, operation.get(), timeout, true))?
        } else {
            // Chunked: count as it comes, and stop at the limit.
            let mut body = bytes::BytesMut::new();
            loop {
                match response.chunk().await {
                    Ok(Some(chunk)) => {
                        if body.len() + chunk.len() > limit {
                            return Err(too_large(operation.get(), limit));
                        }
                        body.extend_from_slice(&chunk);
                    }
                    Ok(None) => break,
                    Err(e) => return Err(classify(e, operation.get(), timeout, true)),
                }
            }
            body.freeze()
        };
        tracing::trace!(%operation, status = status.as_u16(), "answered");
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

/// Root and path up to this length are joined on the stack.
const JOIN_BUFFER: usize = 256;

/// `Url::parse` of `base` followed by `path`, joined on the stack when they
/// fit: the joined text is only read once, so a heap copy of it would be one
/// allocation per request for nothing.
fn parse_joined(base: &str, path: &str) -> std::result::Result<Url, url::ParseError> {
    let mut buf = [0u8; JOIN_BUFFER];
    if let Some(joined) = buf.get_mut(..base.len() + path.len()) {
        let (head, tail) = joined.split_at_mut(base.len());
        head.copy_from_slice(base.as_bytes());
        tail.copy_from_slice(path.as_bytes());
        // Two `str`s joined are UTF-8; the check cannot fail.
        if let Ok(joined) = std::str::from_utf8(joined) {
            return Url::parse(joined);
        }
    }
    Url::parse(&[base, path].concat())
}

/// Follows at most 5 redirects, and none that leaves the origin (scheme, host,
/// port) of the request: the 3xx is then the answer, an error for the caller.
/// reqwest alone drops `Authorization` when the host or port changes, but not
/// when only the scheme does (https → http), and it re-sends the body of a
/// 307/308 (the login's password) to whatever origin the server names.
fn same_origin_redirects(attempt: reqwest::redirect::Attempt) -> reqwest::redirect::Action {
    let origin = attempt.url().origin();
    if attempt.previous().iter().any(|u| u.origin() != origin) {
        attempt.stop()
    } else if attempt.previous().len() > 5 {
        attempt.error("too many redirects")
    } else {
        attempt.follow()
    }
}

fn too_large(operation: &str, limit: usize) -> (Failure, Error) {
    (
        // Not retried: the same answer would come again.
        Failure::Status {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            retry_after: None,
        },
        Error::BodyTooLarge {
            operation: operation.to_string(),
            limit,
        },
    )
}

fn classify(
    e: reqwest::Error,
    operation: &str,
    timeout: Duration,
    reading: bool,
) -> (Failure, Error) {
    if e.is_timeout() {
        return (
            Failure::MaybeSent { timeout: true },
            Error::Timeout {
                operation: operation.to_string(),
                timeout,
            },
        );
    }
    let failure = if e.is_connect() && !reading {
        Failure::NotSent
    } else {
        Failure::MaybeSent { timeout: false }
    };
    let what = match (reading, e.is_connect()) {
        (true, _) => "reading the answer failed",
        (false, true) => "connection failed",
        (false, false) => "sending the request failed",
    };
    (
        failure,
        Error::Transport {
            operation: operation.to_string(),
            what,
            source: std::sync::Arc::new(e.without_url()),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn transport(base: &str) -> Transport {
        let config = Config::builder().base_url(base).build().unwrap();
        Transport::new(config, Default::default()).unwrap()
    }

    // The plain-text join of a path without a scheme must give exactly what
    // `Url::join` gives, and refuse exactly what leaves the root.
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn paths_join_as_url_join_does(
            base in prop::sample::select(vec!["http://127.0.0.1:8080/api", "https://amp.example/api/v1/", "http://localhost/"]),
            // Half of the paths only of the plain characters, half of any.
            path in prop_oneof!["[a-zA-Z0-9./?&=%_~+,-]{0,24}", "[a-z0-9./?&=#%_~+,: \\\\-]{0,24}"],
        ) {
            let t = transport(base);
            let root = t.config.base_url().clone();
            let expected = root.join(&path).ok().filter(|u| u.as_str().starts_with(root.as_str()));
            prop_assert_eq!(t.url(&path).ok(), expected);
        }
    }

    // The joined text is built on the stack up to `JOIN_BUFFER` bytes, on
    // the heap beyond: both give the same URL, either side of the boundary.
    #[test]
    fn long_paths_join_as_short_ones_do() {
        let t = transport("http://127.0.0.1:8080/api");
        let root = t.config.base_url().as_str().to_string();
        let fills = JOIN_BUFFER - root.len();
        for n in [1, fills - 1, fills, fills + 1, 20 * JOIN_BUFFER] {
            let path = "a".repeat(n);
            assert_eq!(t.url(&path).unwrap().as_str(), format!("{root}{path}"));
        }
        let leaving = format!("{}/../../x", "a".repeat(fills + 10));
        assert!(t.url(&leaving).is_err());
    }

    #[test]
    fn paths_that_leave_the_root_are_refused() {
        let t = transport("http://127.0.0.1:8080/api");
        assert_eq!(
            t.url("assets/?a=b").unwrap().as_str(),
            "http://127.0.0.1:8080/api/assets/?a=b"
        );
        for path in [
            "..",
            "../user",
            "a/../../x",
            "http://elsewhere/api/",
            "//elsewhere/x",
            "\\\\elsewhere",
        ] {
            assert!(
                matches!(t.url(path), Err(Error::InvalidInput { .. })),
                "{path}"
            );
        }
    }
}
