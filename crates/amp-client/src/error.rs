//! The one error type of the crate.
//!
//! Like `reqwest::Error`, callers mostly ask questions of an error
//! ([`Error::is_timeout`], [`Error::status`], …) rather than match on it; the
//! variants are public for those who want the detail. No variant ever holds a
//! password or a token, and messages copied from the server are scrubbed of
//! the password before they are stored (a server may echo a request back).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

/// A `Result` whose error is [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in this crate.
///
/// The type is cheap to clone (sources are shared), because one failed login
/// is reported to every caller that was waiting for it.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A configuration value is missing or wrong. `name` is the environment
    /// variable (or builder setting) at fault; the value itself is not repeated,
    /// because it may be a secret.
    #[error("configuration error: {name}: {reason}")]
    Config {
        /// The variable or setting at fault, e.g. `API_RETRY_MAX_ATTEMPTS`.
        name: String,
        /// Why it was refused.
        reason: String,
    },

    /// Credentials would have been sent over plain HTTP to a host that is not
    /// loopback.
    #[error(
        "refusing to send credentials over plain http to {host}; use https, or set AMP_ALLOW_INSECURE_HTTP=1"
    )]
    InsecureTransport {
        /// The host that was refused.
        host: String,
    },

    /// `POST user/obtain_token` answered 400: the username or password is wrong.
    #[error("{operation}: the server refused the credentials (HTTP {status}): {message}")]
    CredentialsRefused {
        /// What was being done, e.g. `POST /user/obtain_token`.
        operation: String,
        /// The HTTP status (400 for AMP).
        status: StatusCode,
        /// The server's explanation, parsed leniently from its body.
        message: String,
    },

    /// The server refused the token a call carried: 401, or a 403 with one of
    /// DRF's authentication messages ("Invalid token." …). The client drops
    /// that token, logs in and replays the call once; this is what a call
    /// gets when the replay is refused too.
    #[error("{operation}: HTTP {status}: the server refused the token: {message}")]
    TokenRejected {
        /// What was being done.
        operation: String,
        /// 401 or 403.
        status: StatusCode,
        /// The server's explanation.
        message: String,
    },

    /// The server answered with an error status that is not retried (or no longer).
    #[error("{operation}: HTTP {status}: {message}")]
    Api {
        /// What was being done, e.g. `GET /assets/`.
        operation: String,
        /// The HTTP status.
        status: StatusCode,
        /// The server's explanation, parsed leniently from its body.
        message: String,
    },

    /// The server asked us to wait: a 429 (rate limited), or a 503 whose
    /// `Retry-After` is longer than the configured maximum delay; or an
    /// earlier 429 paused this client for longer than that. `status` says
    /// which (a 503 stays a 503).
    #[error("{operation}: {}{}", waiting_reason(*.status), fmt_retry_after(*.retry_after))]
    RateLimited {
        /// What was being done.
        operation: String,
        /// 429, or 503.
        status: StatusCode,
        /// How long the server asked us to wait, when it said.
        retry_after: Option<Duration>,
    },

    /// One attempt took longer than the request timeout (or a renewal of
    /// the token longer than its deadline).
    #[error("{operation}: timed out after {}", human(*.timeout))]
    Timeout {
        /// What was being done.
        operation: String,
        /// The per-attempt timeout that ran out.
        timeout: Duration,
    },

    /// The request could not be sent or its answer could not be read (refused
    /// connection, reset, DNS, TLS …).
    #[error("{operation}: {what}: {source}")]
    Transport {
        /// What was being done.
        operation: String,
        /// A short description: "connection failed", "reading the answer failed".
        what: &'static str,
        /// The underlying error.
        #[source]
        source: Arc<reqwest::Error>,
    },

    /// The server's answer was not what the API promises: not JSON, a missing or
    /// empty field, a wrong type …
    #[error("{operation}: malformed answer: {reason}")]
    Decode {
        /// What was being done.
        operation: String,
        /// What was wrong with the answer.
        reason: String,
    },

    /// The answer was larger than the configured body limit.
    #[error("{operation}: answer larger than the limit of {limit} bytes")]
    BodyTooLarge {
        /// What was being done.
        operation: String,
        /// The configured limit.
        limit: usize,
    },

    /// Every attempt failed; `last` is the failure of the final attempt.
    ///
    /// Told apart from [`RetryBudgetExhausted`](Self::RetryBudgetExhausted):
    /// here this request used all its attempts; there the client stopped
    /// retrying early because many of its requests have been failing (an
    /// outage, where more retries would only add load).
    #[error("{operation} failed after {attempts} attempt{}: {last}", if *.attempts == 1 { "" } else { "s" })]
    RetriesExhausted {
        /// What was being done.
        operation: String,
        /// How many attempts were made, the first included.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },

    /// Retrying was stopped before the attempts ran out, because too many
    /// requests of this client have been failing lately (the retry budget is
    /// spent): a storm of retries would only deepen an outage. `attempts` is
    /// how many were made.
    #[error("{operation}: not retried, the retry budget is spent after {attempts} attempt{}: {last}", if *.attempts == 1 { "" } else { "s" })]
    RetryBudgetExhausted {
        /// What was being done.
        operation: String,
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        #[source]
        last: Box<Error>,
    },

    /// The token could not be obtained or refreshed. Every caller that waited for
    /// the same renewal receives the same error.
    #[error("authentication failed: {source}")]
    Auth {
        /// Why.
        #[source]
        source: Box<Error>,
    },

    /// Waiting for a token took longer than this caller's limit.
    #[error("no token within {}: the renewal of the token is still running", human(*.waited))]
    TokenWaitTimeout {
        /// How long this caller waited.
        waited: Duration,
    },

    /// The token store failed (file system, Redis …).
    #[error("token store {store}: {reason}")]
    Store {
        /// Which store, e.g. `file:/home/me/.cache/amp/token.json`, without secrets.
        store: String,
        /// What went wrong.
        reason: String,
    },

    /// The request body given by the caller could not be serialized to JSON
    /// (a map with non-string keys, a failing `Serialize` impl …). Nothing
    /// was sent. An answer that cannot be decoded is [`Decode`](Self::Decode).
    #[error("{operation}: {reason}")]
    Json {
        /// What was being done.
        operation: String,
        /// serde's explanation.
        reason: String,
    },

    /// An argument given by the caller cannot be used (an id that is not one path segment …).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// What was given.
        what: String,
        /// Why it was refused.
        reason: String,
    },

    /// An internal task ended unexpectedly (a bug: please report it).
    #[error("internal error: {0}")]
    Internal(String),
}

fn fmt_retry_after(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!("; retry after {}", human(d)),
        None => String::new(),
    }
}

fn waiting_reason(status: StatusCode) -> String {
    if status == StatusCode::TOO_MANY_REQUESTS {
        "rate limited by the server (HTTP 429)".to_string()
    } else {
        format!("the server asks to wait (HTTP {status})")
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
    /// The error of the final attempt when retries were made, else `self`:
    /// the failure that decided the outcome.
    pub fn root(&self) -> &Error {
        match self {
            Error::RetriesExhausted { last, .. } | Error::RetryBudgetExhausted { last, .. } => {
                last.root()
            }
            Error::Auth { source } => source.root(),
            other => other,
        }
    }

    /// How many attempts were made, when the error comes from a request.
    pub fn attempts(&self) -> Option<u32> {
        match self {
            Error::RetriesExhausted { attempts, .. }
            | Error::RetryBudgetExhausted { attempts, .. } => Some(*attempts),
            Error::Auth { source } => source.attempts(),
            Error::Api { .. }
            | Error::TokenRejected { .. }
            | Error::CredentialsRefused { .. }
            | Error::RateLimited { .. }
            | Error::Timeout { .. }
            | Error::Transport { .. }
            | Error::Decode { .. }
            | Error::BodyTooLarge { .. } => Some(1),
            _ => None,
        }
    }

    /// The HTTP status of the answer that decided the outcome, if there was one.
    pub fn status(&self) -> Option<StatusCode> {
        match self.root() {
            Error::Api { status, .. }
            | Error::TokenRejected { status, .. }
            | Error::CredentialsRefused { status, .. }
            | Error::RateLimited { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// True when an attempt ran out of time.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.root(),
            Error::Timeout { .. } | Error::TokenWaitTimeout { .. }
        )
    }

    /// True when the server asked us to wait: a 429, or a 503 whose
    /// `Retry-After` was beyond the maximum delay ([`Error::RateLimited`]).
    pub fn is_rate_limited(&self) -> bool {
        matches!(self.root(), Error::RateLimited { .. })
    }

    /// How long the server asked us to wait, when it was rate limiting.
    pub fn retry_after(&self) -> Option<Duration> {
        match self.root() {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    /// True when the server refused the credentials (`obtain_token` answered 400).
    pub fn is_credentials_refused(&self) -> bool {
        matches!(self.root(), Error::CredentialsRefused { .. })
    }

    /// True when the server refused the token a call carried (after the
    /// client's one re-login and replay).
    pub fn is_token_rejected(&self) -> bool {
        matches!(self.root(), Error::TokenRejected { .. })
    }

    /// True when obtaining or refreshing a token failed.
    pub fn is_auth(&self) -> bool {
        matches!(self, Error::Auth { .. })
            || matches!(self.root(), Error::CredentialsRefused { .. })
    }

    /// True for configuration errors (bad or missing environment variables …).
    pub fn is_config(&self) -> bool {
        matches!(
            self.root(),
            Error::Config { .. } | Error::InsecureTransport { .. }
        )
    }

    /// True when an argument given by the caller cannot be used (an id that
    /// is not one path segment, a path that leads outside the API root …):
    /// nothing was sent.
    pub fn is_invalid_input(&self) -> bool {
        matches!(self.root(), Error::InvalidInput { .. })
    }

    /// True when the connection failed or broke before a full answer arrived.
    pub fn is_transport(&self) -> bool {
        matches!(self.root(), Error::Transport { .. })
    }

    /// True when the server's answer was malformed (or too large to read).
    pub fn is_decode(&self) -> bool {
        matches!(
            self.root(),
            Error::Decode { .. } | Error::BodyTooLarge { .. }
        )
    }

    pub(crate) fn config(name: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::Config {
            name: name.into(),
            reason: reason.to_string(),
        }
    }

    pub(crate) fn decode(operation: &str, reason: impl fmt::Display) -> Error {
        Error::Decode {
            operation: operation.to_string(),
            reason: reason.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let e = Error::Timeout {
            operation: "GET /assets/".to_string(),
            timeout: Duration::from_secs(1),
        };
        assert_eq!(e.to_string(), "GET /assets/: timed out after 1 s");
        assert!(e.is_timeout());
        assert!(!e.is_invalid_input());
    }

    #[test]
    fn an_argument_that_cannot_be_used_is_invalid_input() {
        let e = Error::InvalidInput {
            what: "path".to_string(),
            reason: "it leads outside the API root".to_string(),
        };
        assert!(e.is_invalid_input());
        assert!(!e.is_config() && !e.is_transport());
    }

    #[test]
    fn a_long_503_stays_a_503() {
        let e = Error::RateLimited {
            operation: "GET /assets/".to_string(),
            status: StatusCode::SERVICE_UNAVAILABLE,
            retry_after: Some(Duration::from_secs(3600)),
        };
        assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
        assert!(e.to_string().contains("HTTP 503"), "{e}");
        assert!(e.to_string().contains("retry after 3600 s"), "{e}");
    }
}
