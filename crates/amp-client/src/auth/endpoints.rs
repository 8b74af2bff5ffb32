//! The two HTTP calls of authentication, and nothing else.
//!
//! * obtain: `POST user/obtain_token` with `{"username", "password"}`;
//! * refresh: `user/refresh-token` with the current token, GET first and POST
//!   when GET is answered 405 (amp-api.md §1.3: the method is not documented).

use chrono::{DateTime, Utc};
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use crate::auth::token::TokenData;
use crate::config::Config;
use crate::credentials::{Credentials, USERNAME_VAR};
use crate::error::{Error, Result};
use crate::transport::{Answer, Request, Transport};
use crate::wire::parse_token_answer;

/// The path of the login call.
pub const OBTAIN_PATH: &str = "user/obtain_token";
/// The path of the refresh call.
pub const REFRESH_PATH: &str = "user/refresh-token";

/// Logs in with the credentials.
pub(crate) async fn obtain(
    transport: &Transport,
    credentials: Option<&Credentials>,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<TokenData> {
    let credentials = credentials.ok_or_else(|| {
        Error::config(
            USERNAME_VAR,
            "is not set: AMP_USERNAME and AMP_PASSWORD are needed to obtain a token",
        )
    })?;
    // The serialized body holds the password: build it in a buffer that is
    // wiped when the last reference to it (ours, or reqwest's while sending)
    // is dropped.
    let body = Zeroizing::new(
        serde_json::to_vec(&serde_json::json!({
            "username": credentials.username(),
            "password": credentials.password().expose_secret(),
        }))
        .map_err(|e| Error::Internal(format!("serializing the login body: {e}")))?,
    );
    let req = Request::new(Method::POST, OBTAIN_PATH)
        .json_body(bytes::Bytes::from_owner(body))
        .safe_to_repeat();
    let operation = req.operation();
    let answer = transport
        .send(&req, None)
        .await
        .map_err(|e| scrub_error(e, credentials))?;
    if answer.status == StatusCode::BAD_REQUEST {
        return Err(Error::CredentialsRefused {
            operation,
            status: answer.status,
            message: credentials.scrub(&answer.message()),
        });
    }
    token_from(
        answer,
        &operation,
        transport.config(),
        now(),
        Some(credentials),
    )
}

/// Renews `current` with itself.
pub(crate) async fn refresh(
    transport: &Transport,
    current: &TokenData,
    now: impl Fn() -> DateTime<Utc>,
) -> Result<TokenData> {
    let get = Request::new(Method::GET, REFRESH_PATH).safe_to_repeat();
    let mut answer = transport.send(&get, Some(current)).await?;
    let mut operation = get.operation();
    if answer.status == StatusCode::METHOD_NOT_ALLOWED {
        tracing::debug!("refresh: GET answered 405, trying POST");
        let post = Request::new(Method::POST, REFRESH_PATH).safe_to_repeat();
        answer = transport.send(&post, Some(current)).await?;
        operation = post.operation();
    }
    token_from(answer, &operation, transport.config(), now(), None)
}

fn token_from(
    answer: Answer,
    operation: &str,
    config: &Config,
    now: DateTime<Utc>,
    credentials: Option<&Credentials>,
) -> Result<TokenData> {
    if !answer.status.is_success() {
        let message = answer.message();
        return Err(Error::Api {
            operation: operation.to_string(),
            status: answer.status,
            message: credentials.map_or(message.clone(), |c| c.scrub(&message)),
        });
    }
    parse_token_answer(&answer.body, now, config.token_policy().lifetime)
        .map_err(|reason| Error::decode(operation, reason))
}

/// Errors from a login may quote the server, which may quote the password.
fn scrub_error(e: Error, credentials: &Credentials) -> Error {
    match e {
        Error::Api {
            operation,
            status,
            message,
        } => Error::Api {
            operation,
            status,
            message: credentials.scrub(&message),
        },
        Error::RetriesExhausted {
            operation,
            attempts,
            last,
        } => Error::RetriesExhausted {
            operation,
            attempts,
            last: Box::new(scrub_error(*last, credentials)),
        },
        Error::RetryBudgetExhausted {
            operation,
            attempts,
            last,
        } => Error::RetryBudgetExhausted {
            operation,
            attempts,
            last: Box::new(scrub_error(*last, credentials)),
        },
        other => other,
    }
}
