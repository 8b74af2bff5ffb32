//! Fault injection: what a misbehaving server or network can do to one request.

use std::collections::{HashMap, VecDeque};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime};

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::drf;

/// One misbehaviour the sandbox can inject into the answer to a request.
///
/// Faults are set per route (see [`crate::Sandbox::push_fault`]) and are applied
/// before authentication and before the route's own logic, so a faulted request
/// neither needs nor consumes a valid token.
///
/// # JSON shape (control endpoint)
///
/// `POST /_sandbox/faults` takes the fault as an object tagged by `kind`:
///
/// | Rust | JSON |
/// |---|---|
/// | `Status(503)` | `{"kind": "status", "status": 503}` |
/// | `RateLimitSeconds(5)` | `{"kind": "rate_limit_seconds", "seconds": 5}` |
/// | `RateLimitDate(d)` | `{"kind": "rate_limit_date", "ms": 5000}` (or `"seconds": 5`) |
/// | `Delay(d)` | `{"kind": "delay", "ms": 1500}` (or `"seconds": 2`) |
/// | `DropConnection` | `{"kind": "drop_connection"}` |
/// | `MalformedBody` | `{"kind": "malformed_body"}` |
/// | `Body(200, s)` | `{"kind": "body", "status": 200, "body": "{\"token\": \"\"}"}` |
///
/// Durations are written as `ms`; on input either `ms` or `seconds` is accepted
/// (not both).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "FaultRepr", into = "FaultRepr")]
pub enum Fault {
    /// Answer with this status and a DRF-style body `{"detail": "..."}`.
    /// A 401 also carries `WWW-Authenticate: Token`. Statuses below 200 or above
    /// 999 cannot be sent as a final answer and are answered as 500.
    Status(u16),
    /// Answer 429 with `Retry-After: N` (delta-seconds).
    RateLimitSeconds(u64),
    /// Answer 429 with `Retry-After` as an HTTP-date: the wall clock now plus this
    /// duration (HTTP-dates have whole-second resolution, so it is truncated).
    RateLimitDate(Duration),
    /// Sleep this long (on the tokio clock, so paused test time applies), then
    /// answer normally.
    Delay(Duration),
    /// Close the connection without any HTTP answer: the client sees a torn
    /// connection, not a status.
    DropConnection,
    /// Answer 200 with `Content-Type: application/json` and a body that is not JSON.
    MalformedBody,
    /// Answer exactly this status and raw body (`Content-Type: application/json`),
    /// e.g. `Body(200, r#"{"token": ""}"#.into())` for malformed-answer tests.
    Body(u16, String),
}

/// The wire form of [`Fault`]; kept private so the Rust enum stays the one API.
#[derive(Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum FaultRepr {
    Status {
        status: u16,
    },
    RateLimitSeconds {
        seconds: u64,
    },
    RateLimitDate {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<u64>,
    },
    Delay {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        ms: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        seconds: Option<u64>,
    },
    DropConnection,
    MalformedBody,
    Body {
        status: u16,
        body: String,
    },
}

fn duration_of(kind: &str, ms: Option<u64>, seconds: Option<u64>) -> Result<Duration, String> {
    match (ms, seconds) {
        (Some(ms), None) => Ok(Duration::from_millis(ms)),
        (None, Some(s)) => Ok(Duration::from_secs(s)),
        _ => Err(format!(
            "fault kind \"{kind}\" needs exactly one of \"ms\" or \"seconds\""
        )),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

impl TryFrom<FaultRepr> for Fault {
    type Error = String;

    fn try_from(repr: FaultRepr) -> Result<Self, Self::Error> {
        Ok(match repr {
            FaultRepr::Status { status } => Fault::Status(status),
            FaultRepr::RateLimitSeconds { seconds } => Fault::RateLimitSeconds(seconds),
            FaultRepr::RateLimitDate { ms, seconds } => {
                Fault::RateLimitDate(duration_of("rate_limit_date", ms, seconds)?)
            }
            FaultRepr::Delay { ms, seconds } => Fault::Delay(duration_of("delay", ms, seconds)?),
            FaultRepr::DropConnection => Fault::DropConnection,
            FaultRepr::MalformedBody => Fault::MalformedBody,
            FaultRepr::Body { status, body } => Fault::Body(status, body),
        })
    }
}

impl From<Fault> for FaultRepr {
    fn from(fault: Fault) -> Self {
        match fault {
            Fault::Status(status) => FaultRepr::Status { status },
            Fault::RateLimitSeconds(seconds) => FaultRepr::RateLimitSeconds { seconds },
            Fault::RateLimitDate(d) => FaultRepr::RateLimitDate {
                ms: Some(millis(d)),
                seconds: None,
            },
            Fault::Delay(d) => FaultRepr::Delay {
                ms: Some(millis(d)),
                seconds: None,
            },
            Fault::DropConnection => FaultRepr::DropConnection,
            Fault::MalformedBody => FaultRepr::MalformedBody,
            Fault::Body(status, body) => FaultRepr::Body { status, body },
        }
    }
}

/// What the request pipeline must do about a fault.
pub(crate) enum Plan {
    /// Wait, then carry on as if nothing happened.
    Delay(Duration),
    /// Tear the connection down.
    Drop,
    /// Answer with this instead of running the route.
    Answer(Response),
}

impl Fault {
    pub(crate) fn plan(&self) -> Plan {
        match self {
            Fault::Delay(d) => Plan::Delay(*d),
            Fault::DropConnection => Plan::Drop,
            Fault::Status(code) => {
                let status = final_status(*code);
                let body = drf::detail_body(default_detail(status)).to_string();
                let mut response = raw_json(status, body);
                if status == StatusCode::UNAUTHORIZED {
                    response
                        .headers_mut()
                        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"));
                }
                Plan::Answer(response)
            }
            Fault::RateLimitSeconds(seconds) => Plan::Answer(rate_limited(
                HeaderValue::from(*seconds),
                format!("Request was throttled. Expected available in {seconds} seconds."),
            )),
            Fault::RateLimitDate(d) => {
                let at = SystemTime::now()
                    .checked_add(*d)
                    .unwrap_or(SystemTime::now());
                let date = httpdate::fmt_http_date(at);
                // An HTTP-date is plain ASCII, so this cannot fail; fall back anyway.
                let value =
                    HeaderValue::from_str(&date).unwrap_or_else(|_| HeaderValue::from(d.as_secs()));
                Plan::Answer(rate_limited(
                    value,
                    format!(
                        "Request was throttled. Expected available in {} seconds.",
                        d.as_secs()
                    ),
                ))
            }
            Fault::MalformedBody => Plan::Answer(raw_json(
                StatusCode::OK,
                "<html><body>sandbox: this answer is not JSON".to_owned(),
            )),
            Fault::Body(code, body) => Plan::Answer(raw_json(final_status(*code), body.clone())),
        }
    }
}

fn final_status(code: u16) -> StatusCode {
    match StatusCode::from_u16(code) {
        Ok(status) if code >= 200 => status,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn default_detail(status: StatusCode) -> String {
    let text = match status.as_u16() {
        400 => "Bad request.",
        401 => "Invalid token.",
        403 => "You do not have permission to perform this action.",
        404 => "Not found.",
        405 => "Method not allowed.",
        408 => "Request timeout.",
        429 => "Request was throttled.",
        500 => "A server error occurred.",
        502 => "Bad gateway.",
        503 => "Service temporarily unavailable, try again later.",
        504 => "Gateway timeout.",
        other => return format!("Sandbox fault: status {other}."),
    };
    text.to_owned()
}

fn rate_limited(retry_after: HeaderValue, detail: String) -> Response {
    let mut response = drf::json_response(StatusCode::TOO_MANY_REQUESTS, &drf::detail_body(detail));
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, retry_after);
    response
}

/// A JSON answer with a verbatim body; 204 and 304 may not carry one, so theirs is dropped.
fn raw_json(status: StatusCode, body: String) -> Response {
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        return status.into_response();
    }
    (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A response body that fails on its first poll. hyper then abandons the
/// connection before the buffered head is flushed, so the client sees the
/// connection close without any status: a torn connection, without a panic.
struct TornBody;

impl HttpBody for TornBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "sandbox fault: drop connection",
        ))))
    }
}

/// The answer that makes hyper drop the connection (see [`TornBody`]).
pub(crate) fn torn_connection() -> Response {
    let mut response = Response::new(Body::new(TornBody));
    // Ask hyper not to keep the connection for another request, in case a
    // future hyper flushes the head before polling the body.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Puts a user-given route name into the form routes are matched in:
/// leading slash, no `/api` prefix, no trailing slash. `*` stays `*`.
pub(crate) fn normalize_route(route: &str) -> String {
    let route = route.trim();
    if route == "*" {
        return route.to_owned();
    }
    let route = route.strip_prefix("/api/").unwrap_or(route);
    let route = route.strip_prefix("api/").unwrap_or(route);
    let route = route.trim_matches('/');
    format!("/{route}")
}

struct Rate {
    route: String,
    fault: Fault,
    probability: f64,
}

/// The fault plan of one sandbox: one-shot queues per route, then random rates.
pub(crate) struct FaultTable {
    queues: HashMap<String, VecDeque<Fault>>,
    rates: Vec<Rate>,
    rng: fastrand::Rng,
}

impl FaultTable {
    pub(crate) fn new(seed: Option<u64>) -> Self {
        FaultTable {
            queues: HashMap::new(),
            rates: Vec::new(),
            rng: seed.map_or_else(fastrand::Rng::new, fastrand::Rng::with_seed),
        }
    }

    pub(crate) fn push(&mut self, route: &str, fault: Fault) {
        self.queues
            .entry(normalize_route(route))
            .or_default()
            .push_back(fault);
    }

    /// Sets (or replaces, or with probability 0 removes) the rate of one fault on one route.
    pub(crate) fn set_rate(&mut self, route: &str, fault: Fault, probability: f64) {
        let route = normalize_route(route);
        let probability = if probability.is_nan() {
            0.0
        } else {
            probability.clamp(0.0, 1.0)
        };
        self.rates
            .retain(|rate| !(rate.route == route && rate.fault == fault));
        if probability > 0.0 {
            self.rates.push(Rate {
                route,
                fault,
                probability,
            });
        }
    }

    pub(crate) fn clear(&mut self) {
        self.queues.clear();
        self.rates.clear();
    }

    /// The fault for one request, if any: the queue of the route pattern, of the
    /// concrete path, of `*`, then each matching rate in the order set. At most one
    /// fault is taken per request, and the random generator is drawn only for rates
    /// that match, so a seeded run repeats as long as the requests do.
    pub(crate) fn next(&mut self, route: &str, path: &str) -> Option<Fault> {
        let mut keys = vec![route];
        if path != route {
            keys.push(path);
        }
        if route != "*" {
            keys.push("*");
        }
        for &key in &keys {
            if let Some(queue) = self.queues.get_mut(key) {
                if let Some(fault) = queue.pop_front() {
                    if queue.is_empty() {
                        self.queues.remove(key);
                    }
                    return Some(fault);
                }
            }
        }
        for &key in &keys {
            for rate in self.rates.iter().filter(|rate| rate.route == key) {
                if self.rng.f64() < rate.probability {
                    return Some(rate.fault.clone());
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_shape_round_trips() {
        let cases = [
            (Fault::Status(503), r#"{"kind":"status","status":503}"#),
            (
                Fault::RateLimitSeconds(5),
                r#"{"kind":"rate_limit_seconds","seconds":5}"#,
            ),
            (
                Fault::RateLimitDate(Duration::from_secs(7)),
                r#"{"kind":"rate_limit_date","ms":7000}"#,
            ),
            (
                Fault::Delay(Duration::from_millis(1500)),
                r#"{"kind":"delay","ms":1500}"#,
            ),
            (Fault::DropConnection, r#"{"kind":"drop_connection"}"#),
            (Fault::MalformedBody, r#"{"kind":"malformed_body"}"#),
            (
                Fault::Body(200, "{}".into()),
                r#"{"kind":"body","status":200,"body":"{}"}"#,
            ),
        ];
        for (fault, json) in cases {
            assert_eq!(serde_json::to_string(&fault).unwrap(), json);
            assert_eq!(serde_json::from_str::<Fault>(json).unwrap(), fault);
        }
        let delay: Fault = serde_json::from_str(r#"{"kind":"delay","seconds":2}"#).unwrap();
        assert_eq!(delay, Fault::Delay(Duration::from_secs(2)));
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"delay"}"#).is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"delay","ms":1,"seconds":1}"#).is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"nope"}"#).is_err());
    }

    #[test]
    fn routes_normalize() {
        assert_eq!(normalize_route("/user/obtain_token/"), "/user/obtain_token");
        assert_eq!(normalize_route("user/obtain_token"), "/user/obtain_token");
        assert_eq!(normalize_route("/api/assets/"), "/assets");
        assert_eq!(normalize_route("*"), "*");
    }

    #[test]
    fn queue_is_fifo_and_one_shot_and_specific_first() {
        let mut table = FaultTable::new(Some(1));
        table.push("*", Fault::Status(500));
        table.push("/info", Fault::Status(501));
        table.push("/info/", Fault::Status(502));
        assert_eq!(table.next("/info", "/info"), Some(Fault::Status(501)));
        assert_eq!(table.next("/info", "/info"), Some(Fault::Status(502)));
        assert_eq!(table.next("/info", "/info"), Some(Fault::Status(500)));
        assert_eq!(table.next("/info", "/info"), None);
    }

    #[test]
    fn rates_are_repeatable_with_a_seed() {
        let run = || {
            let mut table = FaultTable::new(Some(42));
            table.set_rate("/info", Fault::Status(503), 0.5);
            (0..200)
                .map(|_| table.next("/info", "/info").is_some())
                .collect::<Vec<_>>()
        };
        let first = run();
        assert_eq!(first, run());
        let hits = first.iter().filter(|hit| **hit).count();
        assert!((60..140).contains(&hits), "{hits}");
    }
}
