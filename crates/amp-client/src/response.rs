//! An answer as the server gave it, for [`AmpClient::send`](crate::AmpClient::send).

use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The final answer to a request sent with [`AmpClient::send`](crate::AmpClient::send):
/// status, headers and body as the server sent them, whatever the status
/// (the body without the token, see [`body`](Self::body)).
///
/// ```no_run
/// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
/// use amp_client::Method;
/// let answer = client.send(Method::GET, "assets/", None).await?;
/// if answer.status().is_success() {
///     let assets: Vec<amp_client::model::Asset> = answer.json()?;
///     println!("{} assets", assets.len());
/// } else {
///     println!("AMP answered {}", answer.status());
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Response {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: bytes::Bytes,
    /// The server refused the token this request carried (a 401, or a 403
    /// with one of DRF's authentication messages): the client heals that
    /// once, by a new token and a replay.
    pub(crate) refused_token: bool,
    /// For a status outside 2xx, the error the typed calls would have
    /// returned ([`error_for_status`](Self::error_for_status)).
    pub(crate) error: Option<Error>,
    /// How many times the request went on the wire for this answer: the
    /// attempts of the send, and of the first one too when a refused
    /// token made the client replay it.
    pub(crate) attempts: u32,
}

impl Response {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The headers the server sent; a value holding the token the request
    /// carried (or the current one) is replaced whole by `[REDACTED]`.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The body, as it came (at most the configured maximum body size),
    /// but for the token: a body holding the token the request carried
    /// (or the current one) comes back with it replaced by `[REDACTED]`;
    /// the token is the manager's to give:
    /// [`token_manager`](crate::AmpClient::token_manager).
    pub fn body(&self) -> &bytes::Bytes {
        &self.body
    }

    /// How many attempts this answer took: 1 when the first one was
    /// answered, more when failures were retried or a refused token was
    /// replaced and the call replayed (every attempt counted, both sends'),
    /// for a log line or a metric per call.
    pub fn attempts(&self) -> u32 {
        self.attempts
    }

    /// The body, taken out of the answer (scrubbed as for [`body`](Self::body)).
    pub fn into_body(self) -> bytes::Bytes {
        self.body
    }

    /// This answer when its status is 2xx; otherwise the error the typed
    /// calls ([`AmpClient::get`](crate::AmpClient::get) …) would have
    /// returned for it: the status with the server's explanation (scrubbed
    /// of every secret), a refused token, rate limiting …, and the attempts
    /// made.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::Method;
    /// let answer = client.send(Method::GET, "assets/", None).await?.error_for_status()?;
    /// println!("{} bytes", answer.body().len());
    /// # Ok(()) }
    /// ```
    pub fn error_for_status(self) -> Result<Response> {
        match self.error {
            Some(error) => Err(error),
            None => Ok(self),
        }
    }

    /// The body decoded from JSON; an empty body (a 204) decodes as `null`,
    /// so `()` and `Option<_>` work for it. An error says what was wrong
    /// with the JSON (without quoting the body).
    pub fn json<T: DeserializeOwned>(&self) -> Result<T> {
        let empty = self.body.iter().all(u8::is_ascii_whitespace);
        let parsed = if self.status == StatusCode::NO_CONTENT || empty {
            serde_json::from_value(serde_json::Value::Null)
        } else {
            serde_json::from_slice(&self.body)
        };
        parsed.map_err(|e| {
            // serde's own message may quote the body: only where and what kind.
            let reason = format!(
                "unexpected JSON ({:?} error at line {} column {})",
                e.classify(),
                e.line(),
                e.column()
            );
            Error::decode("the answer", reason)
        })
    }
}

impl std::fmt::Debug for Response {
    /// The body may hold a secret (a token, a password the server echoed):
    /// only its length is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .field("attempts", &self.attempts)
            .finish()
    }
}
