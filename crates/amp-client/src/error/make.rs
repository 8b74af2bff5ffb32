//! How the crate makes its errors: one constructor per kind, and the two
//! conversions that change a kind once its context is known (a login's 400
//! is refused credentials; a store's failure at start is a setting's).
//! Crate-private: users read errors, they do not make them (but for
//! [`Error::store`], for their own token stores).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;

use super::{Error, Kind};

impl Error {
    pub(crate) fn config(name: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::new(
            Kind::Config {
                name: name.into(),
                reason: reason.to_string(),
            },
            None,
        )
    }

    pub(crate) fn insecure_transport(host: impl Into<String>) -> Error {
        Error::new(Kind::InsecureTransport { host: host.into() }, None)
    }

    pub(crate) fn token_rejected(
        operation: impl Into<String>,
        status: StatusCode,
        message: impl Into<String>,
    ) -> Error {
        let message = message.into();
        Error::with_op(operation, Kind::TokenRejected { status, message })
    }

    pub(crate) fn api(
        operation: impl Into<String>,
        status: StatusCode,
        message: impl Into<String>,
    ) -> Error {
        let message = message.into();
        Error::with_op(operation, Kind::Api { status, message })
    }

    /// A login's 400 is the credentials refused (DRF's ObtainAuthToken
    /// answers wrong credentials so); any other error is kept.
    pub(crate) fn refusing_credentials(self) -> Error {
        match self.inner.kind {
            Kind::Api {
                status: StatusCode::BAD_REQUEST,
                message,
            } => Error::new(
                Kind::CredentialsRefused {
                    status: StatusCode::BAD_REQUEST,
                    message,
                },
                self.inner.operation,
            ),
            kind => Error::new(kind, self.inner.operation),
        }
    }

    pub(crate) fn rate_limited(
        operation: impl Into<String>,
        status: StatusCode,
        retry_after: Option<Duration>,
    ) -> Error {
        Error::with_op(
            operation,
            Kind::RateLimited {
                status,
                retry_after,
            },
        )
    }

    pub(crate) fn timeout(operation: impl Into<String>, timeout: Duration) -> Error {
        Error::with_op(operation, Kind::Timeout { timeout })
    }

    pub(crate) fn transport(
        operation: impl Into<String>,
        what: &'static str,
        source: reqwest::Error,
    ) -> Error {
        let source = Arc::new(source);
        Error::with_op(operation, Kind::Transport { what, source })
    }

    pub(crate) fn decode(operation: impl Into<String>, reason: impl fmt::Display) -> Error {
        let reason = reason.to_string();
        Error::with_op(operation, Kind::Decode { reason })
    }

    pub(crate) fn body_too_large(operation: impl Into<String>, limit: usize) -> Error {
        Error::with_op(operation, Kind::BodyTooLarge { limit })
    }

    /// Retrying ended on `last` after `attempts`; `budget`: because the
    /// retry budget is spent, not because the attempts ran out.
    pub(crate) fn retries(
        operation: impl Into<String>,
        attempts: u32,
        budget: bool,
        last: Error,
    ) -> Error {
        Error::with_op(
            operation,
            Kind::Retries {
                attempts,
                budget,
                last,
            },
        )
    }

    /// Obtaining or refreshing a token failed with `source`.
    pub(crate) fn auth(source: Error) -> Error {
        Error::new(Kind::Auth { source }, None)
    }

    pub(crate) fn token_wait_timeout(waited: Duration) -> Error {
        Error::new(Kind::TokenWaitTimeout { waited }, None)
    }

    /// A store's failure as a configuration error naming `name` (what the
    /// store cannot use was set there); any other error is kept.
    #[cfg(feature = "redis")]
    pub(crate) fn store_as_config(self, name: &str) -> Error {
        match self.inner.kind {
            Kind::Store { reason, .. } => Error::config(name, reason),
            kind => Error::new(kind, self.inner.operation),
        }
    }

    pub(crate) fn json(operation: impl Into<String>, reason: impl fmt::Display) -> Error {
        let reason = reason.to_string();
        Error::with_op(operation, Kind::Json { reason })
    }

    pub(crate) fn invalid_input(what: impl Into<String>, reason: impl fmt::Display) -> Error {
        Error::new(
            Kind::InvalidInput {
                what: what.into(),
                reason: reason.to_string(),
            },
            None,
        )
    }

    pub(crate) fn internal(what: impl Into<String>) -> Error {
        Error::new(Kind::Internal(what.into()), None)
    }
}
