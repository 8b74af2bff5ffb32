//! The one conversion of an answer with an error status into an [`Error`]:
//! the server's text summarised and scrubbed of every secret the client
//! holds, before any log or error sees it; a refused token told apart from
//! a refused permission; a 429 or 503's `Retry-After` read and recorded.

use std::time::{Duration, SystemTime};

use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use zeroize::Zeroizing;

use super::driver::Failed;
use super::request::rejects_the_token;
use super::{Answer, Auth, Op, Raw, Transport};
use crate::error::Error;
use crate::retry::{self, Failure};
use crate::wire::parse_error_body;

impl Transport {
    /// An answer outside 2xx: its `Retry-After` read (and a 429 counted and
    /// paused on), the error it stands for, and the answer itself when
    /// `keep` (a caller who wants the answer whatever its status).
    pub(super) fn failed_answer(
        &self,
        operation: &Op<'_>,
        raw: Raw,
        auth: Auth<'_>,
        keep: bool,
    ) -> Failed {
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
        let error = self.error_of(operation, &raw, auth, retry_after);
        let answer = keep.then(|| Answer {
            status: raw.status,
            refused_token: error.is_token_rejected(),
            headers: raw.headers,
            body: raw.body,
            error: None,
            // The driver sets the attempts it took when it gives up.
            attempts: 1,
        });
        Failed {
            failure,
            error,
            answer,
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
        let operation = operation.get();
        if raw.status == StatusCode::TOO_MANY_REQUESTS {
            return Error::rate_limited(operation, raw.status, retry_after);
        }
        // Secrets are scrubbed from the body as it came, before the summary
        // changes their form (collapsed blanks, a first line); the summary
        // is scrubbed again for the escaped and cut forms it may hold. The
        // copies made along the way are dropped unwiped except these two:
        // the parsers' own are out of reach.
        let secret = auth.secret();
        let body = Zeroizing::new(String::from_utf8_lossy(&raw.body).into_owned());
        let scrubbed = Zeroizing::new(self.secrets.scrub(&body, secret));
        let summary = Zeroizing::new(parse_error_body(scrubbed.as_bytes()));
        let message = if summary.is_empty() {
            raw.status
                .canonical_reason()
                .unwrap_or("no explanation")
                .to_string()
        } else {
            self.secrets.scrub(&summary, secret)
        };
        // Whether the token was refused is read from the server's own
        // words (a password such as "token" must not hide them).
        let refused = matches!(auth, Auth::Token(_))
            && matches!(raw.status, StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN)
            && rejects_the_token(raw.status, &Zeroizing::new(parse_error_body(&raw.body)));
        if refused {
            return Error::token_rejected(operation, raw.status, message);
        }
        Error::api(operation, raw.status, message)
    }
}
