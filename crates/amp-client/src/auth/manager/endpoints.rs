//! The two HTTP calls of authentication, and nothing else: a renewal's
//! login and refresh, each counted.
//!
//! * obtain: `POST user/obtain_token` with `{"username", "password"}`;
//! * refresh: `user/refresh-token` with the current token, GET first and POST
//!   when GET is answered 405 (amp-api.md §1.3: the method is not documented).
//!
//! Their answers hold a token: the transport reads them into buffers that
//! are wiped when dropped ([`Request::sensitive`]).

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;

use super::Inner;
use crate::auth::token::TokenData;
use crate::credentials::{Credentials, PASSWORD_VAR, USERNAME_VAR};
use crate::error::{Error, Result};
use crate::transport::{wiped_json, Answer, Auth, Request};
use crate::wire::parse_token_answer;

/// The path of the login call.
pub(crate) const OBTAIN_PATH: &str = "user/obtain_token";
/// The path of the refresh call.
pub(crate) const REFRESH_PATH: &str = "user/refresh-token";

/// `{"username": …, "password": …}`, in a buffer wiped when dropped. The map
/// borrows both, so serializing it makes no copy of the password but the
/// one in the body itself.
fn login_body(credentials: &Credentials) -> Result<bytes::Bytes> {
    let body = std::collections::BTreeMap::from([
        ("username", credentials.username()),
        ("password", credentials.password().expose_secret()),
    ]);
    wiped_json(&body).map_err(|e| Error::internal(format!("serializing the login body: {e}")))
}

impl Inner {
    /// Logs in with the credentials.
    pub(super) async fn obtain(&self) -> Result<TokenData> {
        let credentials = self.shared.credentials().ok_or_else(|| {
            Error::config(
                USERNAME_VAR,
                format!(
                    "is not set: {USERNAME_VAR} and {PASSWORD_VAR} are needed to obtain a token"
                ),
            )
        })?;
        let auth = |e: Error| if e.is_config() { e } else { Error::auth(e) };
        let req = Request::new(Method::POST, OBTAIN_PATH)
            .json_body(login_body(&credentials).map_err(auth)?)
            .safe_to_repeat()
            .sensitive();
        let answer = self.transport.send(&req, Auth::Login(&credentials)).await;
        // DRF's ObtainAuthToken answers wrong credentials with 400.
        let answer = answer.map_err(Error::refusing_credentials).map_err(auth)?;
        let data = self.token_from(&answer, &req).map_err(auth)?;
        self.counters.obtains.bump();
        tracing::debug!(fingerprint = %data.fingerprint(), expires_at = %data.expires_at, "token obtained");
        Ok(data)
    }

    /// Renews `current` with itself. A refresh that hands back a retired
    /// token fails (and the renewal logs in instead).
    pub(super) async fn refresh(&self, current: &TokenData) -> Result<TokenData> {
        // The attempts are recorded on the current span: this call runs only
        // in a renewal's task, whose span is `amp.renewal` (a root span, so
        // never one of the program's own).
        let request = |method| {
            Request::new(method, REFRESH_PATH)
                .safe_to_repeat()
                .sensitive()
                .in_span(tracing::Span::current())
        };
        let get = request(Method::GET);
        let new = match self.transport.send(&get, Auth::Token(current)).await {
            Err(e) if e.status() == Some(StatusCode::METHOD_NOT_ALLOWED) => {
                tracing::debug!("refresh: GET answered 405, trying POST");
                let post = request(Method::POST);
                let answer = self.transport.send(&post, Auth::Token(current)).await?;
                self.token_from(&answer, &post)?
            }
            answer => self.token_from(&answer?, &get)?,
        };
        if self.shared.is_retired(&new) {
            let why = "the server handed back a token that was cleared or rejected";
            return Err(Error::decode("refresh", why));
        }
        self.counters.refreshes.bump();
        tracing::debug!(fingerprint = %new.fingerprint(), "token refreshed");
        Ok(new)
    }

    /// The token in `answer`. Its life starts when the answer arrived (now),
    /// not when the request left: a token the server gives a short life is
    /// not handed out already expired.
    fn token_from(&self, answer: &Answer, req: &Request<'_>) -> Result<TokenData> {
        let (now, lifetime) = (self.shared.clock.now(), self.shared.policy.lifetime);
        parse_token_answer(&answer.body, now, lifetime)
            .map_err(|reason| Error::decode(req.operation(), reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_login_body_is_json() {
        for password in ["plain", "quo\"te\\back", "\u{1}\u{2}\u{3}", "é😀"] {
            let c = Credentials::new("user\"name", password);
            let body = login_body(&c).unwrap();
            let parsed: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(parsed["username"], "user\"name");
            assert_eq!(parsed["password"], password);
        }
    }
}
