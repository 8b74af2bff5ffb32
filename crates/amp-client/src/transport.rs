//! One request end to end: URL, headers, per-attempt timeout, bounded body,
//! retries with backoff and `Retry-After`, the shared retry budget and the
//! shared rate-limit pause. Tokens are handled a level up, in
//! [`AmpClient`](crate::AmpClient); this layer only puts on the wire the
//! token it is given.
//!
//! It is also the one place where an answer with an error status becomes an
//! [`Error`]: the server's text is summarised and scrubbed of every secret
//! the client holds there ([`Secrets::scrub`]), before any log or error
//! sees it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;
use tokio::time::Instant;
use zeroize::Zeroizing;

use crate::auth::secrets::Secrets;
use crate::auth::token::TokenData;
use crate::config::Config;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::retry::{self, Decision, Failure, Idempotency, RetryBudget, Stop};
use crate::stats::Counters;
use crate::wire::parse_error_body;
use secrecy::ExposeSecret;

/// A request to send: everything needed to send it again.
#[derive(Clone)]
pub(crate) struct Request<'a> {
    pub method: Method,
    /// Relative to the API root, e.g. `assets/` or `user/obtain_token`.
    pub path: &'a str,
    /// A JSON body, already serialized (cheap to clone for a replay).
    pub body: Option<bytes::Bytes>,
    pub idempotency: Idempotency,
    /// The answer holds a secret (a token): its body is read into a buffer
    /// that is wiped when dropped.
    pub sensitive: bool,
}

impl<'a> Request<'a> {
    pub fn new(method: Method, path: &'a str) -> Request<'a> {
        let idempotency = Idempotency::of(&method);
        Request {
            method,
            path: path.trim_start_matches('/'),
            body: None,
            idempotency,
            sensitive: false,
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

    /// Marks the answer as holding a secret (the auth calls).
    pub fn sensitive(mut self) -> Request<'a> {
        self.sensitive = true;
        self
    }

    /// `GET /assets/`: how the request is named in errors and logs.
    pub fn operation(&self) -> String {
        format!("{} /{}", self.method, self.path)
    }
}

impl std::fmt::Debug for Request<'_> {
    /// The body may hold the password (a login): only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("path", &self.path)
            .field("body_bytes", &self.body.as_ref().map(bytes::Bytes::len))
            .field("idempotency", &self.idempotency)
            .finish()
    }
}

/// `body` as JSON, in a buffer of exactly its size (counted first, so that
/// it never grows and leaves no copy behind in freed memory) that is wiped
/// when the last reference to it is dropped: a body may hold a password.
pub(crate) fn wiped_json<B: Serialize + ?Sized>(body: &B) -> serde_json::Result<bytes::Bytes> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, body)?;
    let mut buf = Zeroizing::new(Vec::with_capacity(count.0));
    serde_json::to_writer(&mut *buf, body)?;
    Ok(bytes::Bytes::from_owner(buf))
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

/// What a request carries that the server might echo back.
#[derive(Clone, Copy)]
pub(crate) enum Auth<'a> {
    /// Nothing (`info`).
    None,
    /// A token, sent as `Authorization: token …`.
    Token(&'a TokenData),
    /// A login body holding this password.
    Login(&'a Credentials),
}

impl Auth<'_> {
    /// The secret of this request, for scrubbing the answer.
    fn secret(&self) -> Option<&str> {
        match self {
            Auth::None => None,
            Auth::Token(t) => Some(t.token().expose_secret()),
            Auth::Login(c) => Some(c.password().expose_secret()),
        }
    }
}

/// DRF's messages for a request whose token is missing, wrong or expired.
/// A 403 carrying one of them means the token (not a permission) is the
/// problem: DRF answers 403 instead of 401 when session authentication
/// comes first.
const AUTHENTICATION_MESSAGES: [&str; 3] = [
    "Authentication credentials were not provided.",
    "Invalid token.",
    "Token has expired.",
];

/// True for a 401, or a 403 whose message (`summary`, before it is
/// scrubbed: a password such as "token" must not hide the message) is one
/// of DRF's authentication messages. Other 403s are permissions: logging in
/// again would not help, and would turn every forbidden call into a login
/// (a permission error that merely mentions a "reissuance token" must not
/// drop a good token).
fn rejects_the_token(status: StatusCode, summary: &str) -> bool {
    match status {
        StatusCode::UNAUTHORIZED => true,
        StatusCode::FORBIDDEN => {
            let m = summary.trim().trim_end_matches('.');
            AUTHENTICATION_MESSAGES
                .iter()
                .any(|a| a.trim_end_matches('.').eq_ignore_ascii_case(m))
        }
        _ => false,
    }
}

/// A successful (2xx) answer.
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: bytes::Bytes,
}

impl std::fmt::Debug for Answer {
    /// The body may hold a token (an auth answer): only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

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
    secrets: Arc<Secrets>,
    budget: RetryBudget,
    /// Set by a 429 with `Retry-After`: no request of this client leaves before it.
    /// Microseconds after `epoch`; 0 when there is no pause. An atomic, not a
    /// mutex: every request reads it, and reading must not contend.
    not_before: AtomicU64,
    epoch: Instant,
    counters: Arc<Counters>,
}

impl Transport {
    pub fn new(
        config: Config,
        counters: Arc<Counters>,
        secrets: Arc<Secrets>,
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
        let http = crate::proxy::configure(reqwest::Client::builder(), &config)?
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::custom(same_origin_redirects))
            .connect_timeout(config.request_timeout())
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
            // A pause longer than we would ever sleep fails the call at once,
            // before an attempt or a retry is spent on it.
            self.wait_out_pause(&operation).await?;
            let url = match first_url.take() {
                Some(url) => url,
                None => self.url(req.path)?,
            };
            let (failure, error) = match self
                .attempt(req, url, authorization.as_ref(), &operation)
                .await
            {
                Ok(raw) if raw.status.is_success() => {
                    self.budget.on_success(spent);
                    return Ok(Answer {
                        status: raw.status,
                        body: raw.body,
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
                    (failure, self.error_of(&operation, &raw, auth, retry_after))
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
                    let status = match failure {
                        Failure::Status { status, .. } => status,
                        _ => StatusCode::TOO_MANY_REQUESTS,
                    };
                    return Err(wrap(
                        attempt,
                        Error::RateLimited {
                            operation: operation.get().to_string(),
                            status,
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
        // The summary may quote a secret: wiped once scrubbed.
        let summary = Zeroizing::new(parse_error_body(&raw.body));
        let message = if summary.is_empty() {
            raw.status
                .canonical_reason()
                .unwrap_or("no explanation")
                .to_string()
        } else {
            self.secrets.scrub(&summary, auth.secret())
        };
        if matches!(auth, Auth::Token(_)) && rejects_the_token(raw.status, &summary) {
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
        Counters::bump(&self.counters.rate_limited);
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
        let reading = |e| classify(e, operation.get(), timeout, true);
        let body = if req.sensitive {
            // Copied into a buffer of ours, sized up front so it never
            // reallocates (which would leave a copy behind), and wiped when
            // the last reference to the body is dropped.
            let capacity = response.content_length().map_or(1024, |n| n as usize);
            let mut body = Zeroizing::new(Vec::with_capacity(capacity.min(limit)));
            while let Some(chunk) = response.chunk().await.map_err(reading)? {
                if body.len() + chunk.len() > limit {
                    return Err(too_large(operation.get(), limit));
                }
                body.extend_from_slice(&chunk);
            }
            bytes::Bytes::from_owner(body)
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
        tracing::trace!(%operation, status = status.as_u16(), "answered");
        Ok(Raw {
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
        Transport::new(config, Default::default(), Arc::new(Secrets::new(None))).unwrap()
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
