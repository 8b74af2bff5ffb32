//! A request and what it carries, and the answer it gets.

use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret;
use serde::Serialize;
use zeroize::Zeroizing;

use crate::auth::token::TokenData;
use crate::credentials::Credentials;
use crate::retry::Idempotency;

/// An answer, as [`Transport::send`](super::Transport::send) returns it.
pub(crate) use crate::response::Response as Answer;

/// A request to send: everything needed to send it again.
#[derive(Clone)]
pub(crate) struct Request<'a> {
    pub method: Method,
    /// Relative to the API root, e.g. `assets/` or `user/obtain_token`.
    pub path: &'a str,
    /// A JSON body, already serialized (cheap to clone for a replay).
    pub body: Option<bytes::Bytes>,
    pub idempotency: Idempotency,
    /// The answer holds a secret (a token, a password): its body is read
    /// into a buffer that is wiped when dropped, and never leaves an
    /// unwiped copy as it grows (`wiped.rs`).
    pub sensitive: bool,
    /// The final answer is returned whatever its status
    /// ([`AmpClient::send`](crate::AmpClient::send)): a status outside 2xx
    /// ends the retries as it would, but comes back as an answer instead of
    /// an error.
    pub any_status: bool,
    /// The span the attempts are recorded on (`amp.call`, `amp.renewal`),
    /// or none: never whatever span the caller happens to be in.
    pub span: tracing::Span,
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
            any_status: false,
            span: tracing::Span::none(),
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

    /// Records the attempts on `span`.
    pub fn in_span(mut self, span: tracing::Span) -> Request<'a> {
        self.span = span;
        self
    }

    /// Marks the answer as holding a secret (the auth calls, the password
    /// changes).
    pub fn sensitive(mut self) -> Request<'a> {
        self.sensitive = true;
        self
    }

    /// `GET /assets/`: how the request is named in errors and logs.
    pub fn operation(&self) -> String {
        format!("{} /{}", self.method, self.named_path())
    }

    /// The path without its query, as errors and logs name it: a query may
    /// hold what a log should not (an email, a GAID), and errors and logs
    /// travel further than the call.
    pub fn named_path(&self) -> &'a str {
        self.path
            .split_once('?')
            .map_or(self.path, |(path, _)| path)
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
    pub(super) fn secret(&self) -> Option<&str> {
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
pub(super) fn rejects_the_token(status: StatusCode, summary: &str) -> bool {
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
