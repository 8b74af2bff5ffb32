//! One request through the agent: who is calling, where to, under the caps,
//! sent with the client's whole behaviour, and AMP's answer handed back.
//!
//! Nothing of the caller's request goes to AMP but its method, its path
//! under `/api/` with the query, and its body: no header at all, so an
//! `Authorization` or `Cookie` a caller sends, or the agent's key, never
//! leaves this process. The token is the client's, added by the client.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Method};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{HeaderValue, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::Response;
use tokio::sync::Semaphore;

use super::body::{drain, read_body, Unread};
use super::listen::{Key, KEY_HEADER};
use super::route::{route, Route};
use super::{status, LOG_TARGET};

/// The caps of [`Agent`].
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest request body accepted (413 beyond).
    pub max_body_bytes: usize,
    /// How many requests may be in flight at once (503 beyond).
    pub max_in_flight: usize,
    /// How long a request's body may take to arrive (408 beyond): a caller
    /// that stops sending half-way would otherwise hold its permit for ever.
    pub body_timeout: Duration,
}

/// What every connection of the agent shares: the client, the caps, the counters.
#[derive(Debug)]
pub struct Agent {
    /// The one client, shared by every caller: one token, one 429 pause,
    /// one retry budget for the whole host.
    pub client: AmpClient,
    /// The caps.
    pub limits: Limits,
    /// Permits for requests in flight; a request without one is refused.
    permits: Arc<Semaphore>,
    /// The agent's own counters.
    pub counters: Counters,
    /// When the agent started, for its uptime.
    pub started: Instant,
    /// Where it listens, for its status.
    pub listening: Vec<String>,
}

impl Agent {
    /// An agent around `client`.
    pub fn new(client: AmpClient, limits: Limits, listening: Vec<String>) -> Agent {
        Agent {
            client,
            limits,
            permits: Arc::new(Semaphore::new(limits.max_in_flight)),
            counters: Counters::default(),
            started: Instant::now(),
            listening,
        }
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.limits
            .max_in_flight
            .saturating_sub(self.permits.available_permits())
    }
}

/// Counts of what the agent answered, for `GET /agent/status`.
#[derive(Debug, Default)]
pub struct Counters {
    /// Requests received, every one counted.
    pub requests: AtomicU64,
    /// Requests AMP answered (any status), handed back as they came.
    pub forwarded: AtomicU64,
    /// Requests that got no answer from AMP (timeout, network, no token …).
    pub failed: AtomicU64,
    /// TCP requests without the right key.
    pub refused_key: AtomicU64,
    /// Requests for the login, refresh or password endpoints.
    pub blocked: AtomicU64,
    /// Requests outside `/api/` and `/agent/status`, or with a path that is refused.
    pub not_found: AtomicU64,
    /// Requests whose body was over the cap.
    pub too_large: AtomicU64,
    /// Requests refused because too many were in flight.
    pub busy: AtomicU64,
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// One listener's view of the agent: TCP callers must show the key, socket
/// callers need not (the socket's file mode already decided).
#[derive(Debug, Clone)]
pub struct Door {
    /// The agent.
    pub agent: Arc<Agent>,
    /// The key callers through this door must show, if any.
    pub key: Option<Arc<Key>>,
}

/// The agent's own answer (not AMP's): JSON in DRF's shape, `{"detail": …}`,
/// so that programs written for AMP's errors read it too, and marked as the
/// agent's by `"source"`.
pub fn own_answer(status: StatusCode, message: &str) -> Response {
    let body = serde_json::json!({"detail": message, "source": "amp agent"});
    let mut response = Response::new(Body::from(body.to_string()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// What a request came to, for its log line.
struct Outcome {
    status: StatusCode,
    attempts: u32,
}

/// Serves one request (axum's fallback: every path comes here).
pub async fn handle(State(door): State<Door>, request: Request) -> Response {
    let started = Instant::now();
    bump(&door.agent.counters.requests);
    // Split once: the head stays here for the log line (no copy of the
    // path or method per request), the body goes on to be read.
    let (parts, body) = request.into_parts();
    let (response, outcome) = serve(&door, &parts, body).await;
    tracing::info!(
        target: LOG_TARGET,
        method = %parts.method,
        // The path only: a query string is the caller's business, and the
        // headers (a key, a caller's Authorization) are never logged.
        path = %parts.uri.path(),
        status = outcome.status.as_u16(),
        attempts = outcome.attempts,
        elapsed_ms = started.elapsed().as_micros() as f64 / 1000.0,
        "request"
    );
    response
}

/// The agent's own answer, counted under `counter`.
fn own(counter: &AtomicU64, status: StatusCode, message: &str) -> (Response, Outcome) {
    bump(counter);
    (
        own_answer(status, message),
        Outcome {
            status,
            attempts: 0,
        },
    )
}

/// What to do with a request, decided from its head alone.
enum Next<'a> {
    /// Send it to AMP as this path (with the query).
    Forward(Cow<'a, str>),
    /// Answer it here.
    Answer(Response, Outcome),
}

async fn serve(door: &Door, parts: &Parts, body: Body) -> (Response, Outcome) {
    match next(door, parts) {
        Next::Forward(target) => forward(&door.agent, &target, parts, body).await,
        Next::Answer(response, outcome) => {
            drain(body).await;
            (response, outcome)
        }
    }
}

/// The methods forwarded: AMP's, and the harmless ones. TRACE echoes the
/// request (with the token the client added) and CONNECT or a made-up
/// method has no business with a REST API.
fn forwarded(method: &Method) -> bool {
    [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::PATCH,
        Method::DELETE,
        Method::OPTIONS,
    ]
    .contains(method)
}

fn next<'a>(door: &Door, parts: &'a Parts) -> Next<'a> {
    let agent = &door.agent;
    let answer = |(response, outcome)| Next::Answer(response, outcome);
    if let Some(key) = &door.key {
        let given = parts
            .headers
            .get(KEY_HEADER)
            .map_or(&b""[..], HeaderValue::as_bytes);
        if !key.matches(given) {
            let (mut response, outcome) = own(
                &agent.counters.refused_key,
                StatusCode::UNAUTHORIZED,
                "this agent's TCP port needs its key in the X-AMP-Agent-Key header \
                 (the key is in the agent's key file)",
            );
            // One answer per connection for a caller without the key: hyper
            // closes the connection after it. Otherwise any local user could
            // pipeline requests and never read the answers, and hyper, its
            // writes stalled, would hold the connection (and its slot) for
            // ever: no timer runs while an answer waits to be written.
            response
                .headers_mut()
                .insert(CONNECTION, HeaderValue::from_static("close"));
            return answer((response, outcome));
        }
    }
    match route(parts.uri.path()) {
        Route::Status if parts.method == Method::GET => {
            let mut r = Response::new(Body::from(status::render(agent)));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            let outcome = Outcome {
                status: StatusCode::OK,
                attempts: 0,
            };
            Next::Answer(r, outcome)
        }
        Route::Status => answer(own(
            &agent.counters.not_found,
            StatusCode::METHOD_NOT_ALLOWED,
            "/agent/status answers GET only",
        )),
        Route::NotFound => answer(own(
            &agent.counters.not_found,
            StatusCode::NOT_FOUND,
            "the agent serves AMP's API under /api/ and its status at /agent/status",
        )),
        Route::BadPath => answer(own(
            &agent.counters.not_found,
            StatusCode::NOT_FOUND,
            "paths with . or .. segments, escaped slashes, control characters or spaces \
             are not forwarded",
        )),
        Route::Blocked => answer(own(
            &agent.counters.blocked,
            StatusCode::FORBIDDEN,
            "the login, refresh and password endpoints are not reachable through the agent: \
             it logs in and refreshes by itself (amp token login, amp token refresh)",
        )),
        Route::Api(_) if !forwarded(&parts.method) => answer(own(
            &agent.counters.not_found,
            StatusCode::METHOD_NOT_ALLOWED,
            "the agent forwards GET, HEAD, POST, PUT, PATCH, DELETE and OPTIONS only",
        )),
        Route::Api(rest) => Next::Forward(match parts.uri.query() {
            Some(query) => Cow::Owned(format!("{rest}?{query}")),
            None => Cow::Borrowed(rest),
        }),
    }
}

/// Sends the request to AMP through the client, under the caps.
async fn forward(agent: &Agent, target: &str, parts: &Parts, body: Body) -> (Response, Outcome) {
    // Refused at once rather than queued: a caller told to come back later
    // is better off than one whose request waits behind a backlog it cannot see.
    let Ok(_permit) = Arc::clone(&agent.permits).try_acquire_owned() else {
        let (mut r, o) = own(
            &agent.counters.busy,
            StatusCode::SERVICE_UNAVAILABLE,
            &format!(
                "the agent has {} requests in flight, its limit (--max-in-flight); try again shortly",
                agent.limits.max_in_flight
            ),
        );
        r.headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from_static("1"));
        drain(body).await;
        return (r, o);
    };
    let max = agent.limits.max_body_bytes;
    let declared = parts
        .headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    // A length declared over the cap is refused before a byte is kept.
    let read = if declared.is_some_and(|n| n > max as u64) {
        drain(body).await;
        Err(Unread::TooLarge)
    } else {
        read_body(body, max, agent.limits.body_timeout).await
    };
    let body = match read {
        Ok(body) => body,
        // Messages made only when needed: not an allocation on every request.
        Err(Unread::TooLarge) => {
            return own(
                &agent.counters.too_large,
                StatusCode::PAYLOAD_TOO_LARGE,
                &format!(
                    "the request body is larger than the agent's limit of {max} bytes \
                     (--max-body-bytes)"
                ),
            )
        }
        Err(Unread::TooSlow) => {
            return own(
                &agent.counters.failed,
                StatusCode::REQUEST_TIMEOUT,
                &format!(
                    "the request body did not arrive within {} s (--body-timeout)",
                    agent.limits.body_timeout.as_secs()
                ),
            )
        }
        Err(Unread::Broken(e)) => {
            return own(
                &agent.counters.failed,
                StatusCode::BAD_REQUEST,
                &format!("the request body could not be read: {e}"),
            )
        }
    };
    let body = (!body.is_empty()).then_some(body);
    // A standard method is an enum: its clone copies nothing.
    match agent.client.send(parts.method.clone(), target, body).await {
        Ok(answer) if unfollowed_redirect(answer.status()) => {
            let status = answer.status();
            tracing::warn!(
                target: LOG_TARGET,
                status = status.as_u16(),
                "AMP answered a redirect the client does not follow; answered 502"
            );
            let (response, mut outcome) = own(
                &agent.counters.failed,
                StatusCode::BAD_GATEWAY,
                &format!(
                    "AMP answered {status}, a redirect the client does not follow: it leads \
                     outside the API root {} (where the token must not go), or has no usable \
                     Location",
                    agent.client.config().base_url()
                ),
            );
            outcome.attempts = answer.attempts();
            (response, outcome)
        }
        Ok(answer) => {
            bump(&agent.counters.forwarded);
            let outcome = Outcome {
                status: answer.status(),
                attempts: answer.attempts(),
            };
            (relay(answer), outcome)
        }
        Err(e) => {
            bump(&agent.counters.failed);
            let attempts = e.attempts().unwrap_or(0);
            let (status, retry_after) = status_of(&e);
            // The library's errors are already scrubbed of every secret it holds.
            let mut r = own_answer(status, &format!("amp agent: {e}"));
            if let Some(seconds) = retry_after {
                if let Ok(v) = HeaderValue::from_str(&seconds.to_string()) {
                    r.headers_mut().insert(RETRY_AFTER, v);
                }
            }
            (r, Outcome { status, attempts })
        }
    }
}

/// Whether `status` is a redirect that came back unfollowed. The client
/// follows every redirect that stays under the API root (up to 5, then an
/// error), so one that reaches the agent leads elsewhere (another origin,
/// another path on AMP's host, https to http), or names no usable
/// `Location`, or is a 300 (which no client follows). Handed back as it
/// came, its `Location` would point the caller off the agent, where the
/// caller has no credentials, or would be dropped and leave a 3xx that
/// leads nowhere: the agent answers 502 instead. A 304 is no redirect (and
/// the agent forwards no `If-None-Match` that could bring one): handed back.
fn unfollowed_redirect(status: StatusCode) -> bool {
    status.is_redirection() && status != StatusCode::NOT_MODIFIED
}

/// The status the agent answers when AMP gave no answer to hand back.
fn status_of(e: &amp_client::Error) -> (StatusCode, Option<u64>) {
    if e.is_rate_limited() {
        // A pause longer than the client's maximum delay: the caller waits it out.
        let seconds = e.retry_after().map(|d| d.as_secs().max(1));
        (StatusCode::TOO_MANY_REQUESTS, seconds)
    } else if e.is_timeout() {
        (StatusCode::GATEWAY_TIMEOUT, None)
    } else if e.is_config() || e.is_invalid_input() {
        // The path cannot be sent as it is (it does not make a URL under the root).
        (StatusCode::BAD_REQUEST, None)
    } else {
        // No token could be had, AMP could not be reached, its answer was unreadable.
        (StatusCode::BAD_GATEWAY, None)
    }
}

/// AMP's answer as the caller gets it (any but an unfollowed redirect,
/// [`unfollowed_redirect`]): the status and body as they came,
/// with the headers that describe them (`Content-Type`, and `Retry-After` on
/// a 429 or 503 the client ended on), and the attempts it took. The body
/// comes from the client already scrubbed of the token the request carried
/// and of the current one (a server that echoes the request back): no
/// token reaches a caller, even one renewed while the request was in flight.
fn relay(answer: amp_client::Response) -> Response {
    let status = answer.status();
    let content_type = answer.headers().get(CONTENT_TYPE).cloned();
    let retry_after = answer.headers().get(RETRY_AFTER).cloned();
    let attempts = answer.attempts();
    let mut response = Response::new(Body::from(answer.into_body()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    if let Some(v) = content_type {
        headers.insert(CONTENT_TYPE, v);
    }
    if let Some(v) = retry_after {
        headers.insert(RETRY_AFTER, v);
    }
    headers.insert("x-amp-agent-attempts", attempts_header(attempts));
    response
}

/// `attempts` as a header value; the usual counts without formatting or
/// allocating (nearly every answer took one attempt).
fn attempts_header(attempts: u32) -> HeaderValue {
    match attempts {
        1 => HeaderValue::from_static("1"),
        2 => HeaderValue::from_static("2"),
        3 => HeaderValue::from_static("3"),
        n => HeaderValue::from(n),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attempts_are_shown_as_counted() {
        assert_eq!(attempts_header(1), "1");
        assert_eq!(attempts_header(3), "3");
        assert_eq!(attempts_header(17), "17");
    }

    #[tokio::test]
    async fn own_answers_are_json_in_drf_shape() {
        let r = own_answer(StatusCode::FORBIDDEN, "no \"way\"");
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        assert_eq!(r.headers()[CONTENT_TYPE], "application/json");
        let body = axum::body::to_bytes(r.into_body(), 1024).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["detail"], "no \"way\"");
        assert_eq!(v["source"], "amp agent");
    }
}
