//! The one error type of the crate.
//!
//! Shaped like `reqwest::Error`: one opaque struct that callers ask
//! questions of ([`Error::is_timeout`], [`Error::status`], …) rather than
//! match on, so that what it holds can grow without breaking anyone. No
//! error ever holds a password or a token, and messages copied from the
//! server are scrubbed of every secret before they are stored (a server may
//! echo a request back).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

mod make;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
///
/// Ask it what happened rather than match on it: [`is_timeout`](Self::is_timeout),
/// [`is_rate_limited`](Self::is_rate_limited), [`status`](Self::status),
/// [`attempts`](Self::attempts) … Its `Display` says what was being done,
/// what failed and, when retries were made, how many attempts; its
/// [`source`](std::error::Error::source) is the underlying error, if any.
///
/// The type is cheap to clone (the underlying errors are shared), because
/// one failed login is reported to every caller that was waiting for it.
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) {
/// match client.assets().list().await {
///     Ok(assets) => println!("{} assets", assets.len()),
///     Err(e) if e.is_rate_limited() => {
///         println!("slow down; the server asks to wait {:?}", e.retry_after());
///     }
///     Err(e) if e.status() == Some(amp_client::StatusCode::NOT_FOUND) => println!("none"),
///     Err(e) => eprintln!("error: {e} ({:?} attempts)", e.attempts()),
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct Error {
    inner: Box<Inner>,
}

#[derive(Debug, Clone)]
struct Inner {
    kind: Kind,
    /// What was being done, e.g. `GET /assets/`, when a request was.
    operation: Option<String>,
}

/// What went wrong. Private: callers ask the predicates.
#[derive(Debug, Clone)]
enum Kind {
    /// A configuration value is missing or wrong. `name` is the environment
    /// variable (or builder setting) at fault; the value itself is not
    /// repeated, because it may be a secret.
    Config { name: String, reason: String },
    /// Credentials would have been sent over plain HTTP to a host that is
    /// not loopback.
    InsecureTransport { host: String },
    /// `POST user/obtain_token` answered 400: the username or password is wrong.
    CredentialsRefused { status: StatusCode, message: String },
    /// The server refused the token a call carried: 401, or a 403 with one
    /// of DRF's authentication messages ("Invalid token." …). The client
    /// drops that token, logs in and replays the call once; this is what a
    /// call gets when the replay is refused too.
    TokenRejected { status: StatusCode, message: String },
    /// An error status that is not retried (or no longer).
    Api { status: StatusCode, message: String },
    /// The server asked us to wait: a 429, or a 503 whose `Retry-After` is
    /// longer than the configured maximum delay; or an earlier 429 paused
    /// this client for longer than that. `status` says which (a 503 stays a
    /// 503).
    RateLimited {
        status: StatusCode,
        retry_after: Option<Duration>,
    },
    /// One attempt took longer than the request timeout (or a renewal of
    /// the token longer than its deadline).
    Timeout { timeout: Duration },
    /// The request could not be sent or its answer could not be read
    /// (refused connection, reset, DNS, TLS …). `what` is a short
    /// description: "connection failed", "reading the answer failed".
    Transport {
        what: &'static str,
        source: Arc<reqwest::Error>,
    },
    /// The server's answer was not what the API promises: not JSON, a
    /// missing or empty field, a wrong type …
    Decode { reason: String },
    /// The answer was larger than the configured body limit.
    BodyTooLarge { limit: usize },
    /// Retrying ended without success; `last` is the failure of the final
    /// attempt. `budget`: the client stopped retrying before the attempts
    /// ran out, because many of its requests have been failing lately (the
    /// retry budget is spent: a storm of retries would only deepen an
    /// outage); otherwise this request used all its attempts.
    Retries {
        attempts: u32,
        budget: bool,
        last: Error,
    },
    /// The token could not be obtained or refreshed. Every caller that
    /// waited for the same renewal receives the same error.
    Auth { source: Error },
    /// Waiting for a token took longer than this caller's limit.
    TokenWaitTimeout { waited: Duration },
    /// The token store failed (file system, Redis …). `store` names it
    /// without secrets.
    Store { store: String, reason: String },
    /// The request body given by the caller could not be serialized to
    /// JSON. Nothing was sent.
    Json { reason: String },
    /// An argument given by the caller cannot be used (an id that is not
    /// one path segment …).
    InvalidInput { what: String, reason: String },
    /// An internal task ended unexpectedly (a bug).
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = self.inner.operation.as_deref().unwrap_or("request");
        let s = |n: u32| if n == 1 { "" } else { "s" };
        match &self.inner.kind {
            Kind::Config { name, reason } => write!(f, "configuration error: {name}: {reason}"),
            Kind::InsecureTransport { host } => write!(
                f,
                "refusing to send credentials over plain http to {host}; use https, or set AMP_ALLOW_INSECURE_HTTP=1"
            ),
            Kind::CredentialsRefused { status, message } => write!(
                f,
                "{op}: the server refused the credentials (HTTP {status}): {message}"
            ),
            Kind::TokenRejected { status, message } => write!(
                f,
                "{op}: HTTP {status}: the server refused the token: {message}"
            ),
            Kind::Api { status, message } => write!(f, "{op}: HTTP {status}: {message}"),
            Kind::RateLimited {
                status,
                retry_after,
            } => {
                if *status == StatusCode::TOO_MANY_REQUESTS {
                    write!(f, "{op}: rate limited by the server (HTTP 429)")?;
                } else {
                    write!(f, "{op}: the server asks to wait (HTTP {status})")?;
                }
                match retry_after {
                    Some(d) => write!(f, "; retry after {}", human(*d)),
                    None => Ok(()),
                }
            }
            Kind::Timeout { timeout } => write!(f, "{op}: timed out after {}", human(*timeout)),
            Kind::Transport { what, source } => write!(f, "{op}: {what}: {source}"),
            Kind::Decode { reason } => write!(f, "{op}: malformed answer: {reason}"),
            Kind::BodyTooLarge { limit } => {
                write!(f, "{op}: answer larger than the limit of {limit} bytes")
            }
            Kind::Retries {
                attempts,
                budget: false,
                last,
            } => write!(f, "{op} failed after {attempts} attempt{}: {last}", s(*attempts)),
            Kind::Retries {
                attempts,
                budget: true,
                last,
            } => write!(
                f,
                "{op}: not retried, the retry budget is spent after {attempts} attempt{}: {last}",
                s(*attempts)
            ),
            Kind::Auth { source } => write!(f, "authentication failed: {source}"),
            Kind::TokenWaitTimeout { waited } => write!(
                f,
                "no token within {}: the renewal of the token is still running",
                human(*waited)
            ),
            Kind::Store { store, reason } => write!(f, "token store {store}: {reason}"),
            Kind::Json { reason } => write!(f, "{op}: {reason}"),
            Kind::InvalidInput { what, reason } => write!(f, "invalid {what}: {reason}"),
            Kind::Internal(what) => write!(f, "internal error: {what}"),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("amp_client::Error");
        d.field("kind", &self.inner.kind);
        if let Some(operation) = &self.inner.operation {
            d.field("operation", operation);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.inner.kind {
            Kind::Transport { source, .. } => Some(&**source),
            Kind::Retries { last, .. } => Some(last),
            Kind::Auth { source } => Some(source),
            _ => None,
        }
    }
}

/// A duration as people write it, in the one unit log searches expect:
/// `250 ms` below a second, else seconds (`1 s`, `1.5 s`, `120 s`).
pub(crate) fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if ms.is_multiple_of(1000) {
        format!("{} s", ms / 1000)
    } else {
        format!("{} s", d.as_secs_f64())
    }
}

impl Error {
    fn new(kind: Kind, operation: Option<String>) -> Error {
        Error {
            inner: Box::new(Inner { kind, operation }),
        }
    }

    fn with_op(operation: impl Into<String>, kind: Kind) -> Error {
        Error::new(kind, Some(operation.into()))
    }

    /// The error a [`TokenStore`](crate::TokenStore) of your own reports when
    /// it fails: `store` names it (without secrets, e.g. `file:/path` or
    /// `redis://host/0`), `reason` says what went wrong. It reads
    /// `token store {store}: {reason}`, and [`is_store`](Self::is_store) is
    /// true for it.
    ///
    /// ```
    /// let e = amp_client::Error::store("vault", "sealed");
    /// assert!(e.is_store());
    /// assert_eq!(e.to_string(), "token store vault: sealed");
    /// ```
    pub fn store(store: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::new(
            Kind::Store {
                store: store.into(),
                reason: reason.to_string(),
            },
            None,
        )
    }

    /// The error of the final attempt when retries were made (or of the
    /// renewal behind an authentication failure), else `self`: the failure
    /// that decided the outcome.
    pub fn root(&self) -> &Error {
        match &self.inner.kind {
            Kind::Retries { last, .. } => last.root(),
            Kind::Auth { source } => source.root(),
            _ => self,
        }
    }

    /// What was being done when the error happened, e.g. `GET /assets/` or
    /// `POST /user/obtain_token`; `None` when no request was (a
    /// configuration error, a store that failed …).
    pub fn operation(&self) -> Option<&str> {
        match (&self.inner.operation, &self.inner.kind) {
            (Some(operation), _) => Some(operation),
            (None, Kind::Auth { source }) => source.operation(),
            (None, _) => None,
        }
    }

    /// How many attempts were made, the first included, when the error
    /// comes from a request.
    pub fn attempts(&self) -> Option<u32> {
        match &self.inner.kind {
            Kind::Retries { attempts, .. } => Some(*attempts),
            Kind::Auth { source } => source.attempts(),
            Kind::Api { .. }
            | Kind::TokenRejected { .. }
            | Kind::CredentialsRefused { .. }
            | Kind::RateLimited { .. }
            | Kind::Timeout { .. }
            | Kind::Transport { .. }
            | Kind::Decode { .. }
            | Kind::BodyTooLarge { .. } => Some(1),
            _ => None,
        }
    }

    /// The HTTP status of the answer that decided the outcome, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match &self.root().inner.kind {
            Kind::Api { status, .. }
            | Kind::TokenRejected { status, .. }
            | Kind::CredentialsRefused { status, .. }
            | Kind::RateLimited { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// How long the server asked us to wait, when it was rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match &self.root().inner.kind {
            Kind::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// For a configuration error, the environment variable (or builder
    /// setting) at fault, e.g. `API_RETRY_MAX_ATTEMPTS`; the value itself is
    /// never repeated, because it may be a secret.
    pub fn setting(&self) -> Option<&str> {
        match &self.root().inner.kind {
            Kind::Config { name, .. } => Some(name),
            _ => None,
        }
    }

    /// True when an attempt ran out of time, or a caller waited for a token
    /// longer than its limit.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.root().inner.kind,
            Kind::Timeout { .. } | Kind::TokenWaitTimeout { .. }
        )
    }

    /// True when the server asked us to wait: a 429, or a 503 whose
    /// `Retry-After` was beyond the maximum delay, or a pause set by an
    /// earlier 429 that is longer than that.
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.root().inner.kind, Kind::RateLimited { .. })
    }

    /// True when the server refused the credentials (`obtain_token` answered 400).
    pub fn is_credentials_refused(&self) -> bool {
        matches!(self.root().inner.kind, Kind::CredentialsRefused { .. })
    }

    /// True when the server refused the token a call carried (after the
    /// client's one re-login and replay).
    pub fn is_token_rejected(&self) -> bool {
        matches!(self.root().inner.kind, Kind::TokenRejected { .. })
    }

    /// True when obtaining or refreshing a token failed.
    pub fn is_auth(&self) -> bool {
        matches!(self.inner.kind, Kind::Auth { .. }) || self.is_credentials_refused()
    }

    /// True for configuration errors: a bad or missing environment variable
    /// or setting ([`setting`](Self::setting) names it), or credentials that
    /// would have gone over plain http to a host that is not loopback.
    pub fn is_config(&self) -> bool {
        matches!(
            self.root().inner.kind,
            Kind::Config { .. } | Kind::InsecureTransport { .. }
        )
    }

    /// True when the connection could not be made (refused, DNS, TLS …).
    pub fn is_connect(&self) -> bool {
        matches!(&self.root().inner.kind, Kind::Transport { source, .. } if source.is_connect())
    }

    /// True when the connection failed or broke before a full answer
    /// arrived (connecting included, see [`is_connect`](Self::is_connect)).
    pub fn is_transport(&self) -> bool {
        matches!(self.root().inner.kind, Kind::Transport { .. })
    }

    /// True when the server's answer was malformed (or too large to read).
    pub fn is_decode(&self) -> bool {
        matches!(
            self.root().inner.kind,
            Kind::Decode { .. } | Kind::BodyTooLarge { .. }
        )
    }

    /// True when the answer was larger than the configured body limit
    /// ([`ConfigBuilder::max_body_bytes`](crate::ConfigBuilder::max_body_bytes)).
    pub fn is_body_too_large(&self) -> bool {
        matches!(self.root().inner.kind, Kind::BodyTooLarge { .. })
    }

    /// True when retrying stopped before the attempts ran out because the
    /// client's retry budget is spent: many of its requests have been
    /// failing lately, and more retries would only add load to an outage.
    pub fn is_budget_exhausted(&self) -> bool {
        match &self.inner.kind {
            Kind::Retries { budget, .. } => *budget,
            Kind::Auth { source } => source.is_budget_exhausted(),
            _ => false,
        }
    }

    /// True when an argument given by the caller cannot be used (an id that
    /// is not one path segment, an amount that is not positive …). Nothing
    /// was sent. (A request body that cannot be serialized to JSON is not
    /// one of these: its error says so, and nothing was sent either.)
    pub fn is_invalid_input(&self) -> bool {
        matches!(self.root().inner.kind, Kind::InvalidInput { .. })
    }

    /// True when the token store failed (file system, Redis …).
    pub fn is_store(&self) -> bool {
        matches!(self.root().inner.kind, Kind::Store { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_one_pointer_shared_across_tasks() {
        fn shared<T: Send + Sync + Clone + 'static>() {}
        shared::<Error>();
        assert_eq!(std::mem::size_of::<Error>(), std::mem::size_of::<usize>());
    }

    #[test]
    fn durations_read_as_people_write_them() {
        assert_eq!(human(Duration::from_secs(1)), "1 s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5 s");
        assert_eq!(human(Duration::from_millis(250)), "250 ms");
        assert_eq!(human(Duration::from_secs(120)), "120 s");
        assert_eq!(human(Duration::ZERO), "0 ms");
    }

    #[test]
    fn a_timeout_says_timed_out() {
        let e = Error::timeout("GET /assets/", Duration::from_secs(1));
        assert_eq!(e.to_string(), "GET /assets/: timed out after 1 s");
        assert!(e.is_timeout());
        assert_eq!(e.operation(), Some("GET /assets/"));
        assert_eq!(e.attempts(), Some(1));
        assert!(!e.is_invalid_input());
    }

    #[test]
    fn an_argument_that_cannot_be_used_is_invalid_input() {
        let e = Error::invalid_input("path", "it leads outside the API root");
        assert!(e.is_invalid_input());
        assert!(!e.is_config() && !e.is_transport());
    }

    #[test]
    fn a_long_503_stays_a_503() {
        let e = Error::rate_limited(
            "GET /assets/",
            StatusCode::SERVICE_UNAVAILABLE,
            Some(Duration::from_secs(3600)),
        );
        assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
        assert!(e.to_string().contains("HTTP 503"), "{e}");
        assert!(e.to_string().contains("retry after 3600 s"), "{e}");
    }

    #[test]
    fn exhausted_retries_say_whether_the_budget_stopped_them() {
        let last = || Error::api("GET /x", StatusCode::BAD_GATEWAY, "Bad Gateway");
        let out = Error::retries("GET /x", 3, false, last());
        assert_eq!(
            out.to_string(),
            "GET /x failed after 3 attempts: GET /x: HTTP 502 Bad Gateway: Bad Gateway"
        );
        assert!(!out.is_budget_exhausted());
        assert_eq!(out.attempts(), Some(3));
        assert_eq!(out.status(), Some(StatusCode::BAD_GATEWAY));
        let budget = Error::retries("GET /x", 1, true, last());
        assert_eq!(
            budget.to_string(),
            "GET /x: not retried, the retry budget is spent after 1 attempt: GET /x: HTTP 502 Bad Gateway: Bad Gateway"
        );
        assert!(budget.is_budget_exhausted());
        let source = std::error::Error::source(&budget).map(ToString::to_string);
        assert_eq!(source, Some(last().to_string()));
    }

    #[test]
    fn an_auth_failure_answers_for_its_cause() {
        let e = Error::auth(
            Error::api("POST /user/obtain_token", StatusCode::BAD_REQUEST, "wrong")
                .refusing_credentials(),
        );
        assert!(e.is_auth() && e.is_credentials_refused());
        assert_eq!(e.operation(), Some("POST /user/obtain_token"));
        assert_eq!(
            e.to_string(),
            "authentication failed: POST /user/obtain_token: the server refused the credentials (HTTP 400 Bad Request): wrong"
        );
        #[cfg(feature = "redis")]
        {
            let config = Error::store("redis://h/0", "bad url").store_as_config("AMP_TOKEN_STORE");
            assert!(config.is_config());
            assert_eq!(config.setting(), Some("AMP_TOKEN_STORE"));
            assert_eq!(
                config.to_string(),
                "configuration error: AMP_TOKEN_STORE: bad url"
            );
        }
    }
}
