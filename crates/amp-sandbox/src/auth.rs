//! Tokens: issue, check, refresh, revoke, after DRF's `TokenAuthentication`.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use serde_json::json;
use tokio::time::Instant;

use crate::drf::{parse_object, Char, Fields, Handled, Reply};
use crate::routes::Ctx;

/// The live tokens and when each stops being valid.
pub(crate) struct Tokens {
    /// token → expiry on the tokio clock; `None` never expires (a life too long
    /// for `Instant` to hold).
    live: HashMap<String, Option<Instant>>,
    /// Not the seeded fault generator: tokens must differ between sandboxes built
    /// with the same seed, and issuing one must not shift the fault sequence.
    rng: fastrand::Rng,
}

impl Tokens {
    pub(crate) fn new() -> Self {
        Tokens {
            live: HashMap::new(),
            rng: fastrand::Rng::new(),
        }
    }

    /// A fresh 40-hex token, valid for `life` from now. The expiry is fixed at
    /// issue: changing the token life later affects only tokens issued after.
    pub(crate) fn issue(&mut self, life: Duration) -> String {
        let token = loop {
            let candidate: String = (0..40)
                .map(|_| char::from(b"0123456789abcdef"[self.rng.usize(..16)]))
                .collect();
            if !self.live.contains_key(&candidate) {
                break candidate;
            }
        };
        self.live
            .insert(token.clone(), Instant::now().checked_add(life));
        token
    }

    /// Whether the token is live; an expired one is forgotten on the way.
    pub(crate) fn is_valid(&mut self, token: &str) -> bool {
        match self.live.get(token) {
            None => false,
            Some(Some(expiry)) if Instant::now() >= *expiry => {
                self.live.remove(token);
                false
            }
            Some(_) => true,
        }
    }

    pub(crate) fn revoke(&mut self, token: &str) {
        self.live.remove(token);
    }

    pub(crate) fn revoke_all(&mut self) {
        self.live.clear();
    }
}

/// A 401 as DRF sends it: the detail, and the header naming the scheme.
fn unauthorized(detail: &str) -> Reply {
    Reply::detail(StatusCode::UNAUTHORIZED, detail)
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Token"))
}

/// Checks the `Authorization` header the way DRF's `TokenAuthentication` does and
/// returns the token, or the 401 to answer.
pub(crate) fn authenticate(ctx: &Ctx) -> Result<String, Reply> {
    let Some(raw) = ctx.authorization_bytes.as_deref() else {
        return Err(unauthorized(
            "Authentication credentials were not provided.",
        ));
    };
    let parts: Vec<&[u8]> = raw
        .split(u8::is_ascii_whitespace)
        .filter(|part| !part.is_empty())
        .collect();
    // Another scheme (e.g. `Bearer`) is not this authenticator's business, so DRF
    // treats the request as carrying no credentials at all.
    match parts.first() {
        Some(keyword) if keyword.eq_ignore_ascii_case(b"token") => {}
        _ => {
            return Err(unauthorized(
                "Authentication credentials were not provided.",
            ))
        }
    }
    let token = match parts.as_slice() {
        [_] => {
            return Err(unauthorized(
                "Invalid token header. No credentials provided.",
            ))
        }
        [_, token] => *token,
        _ => {
            return Err(unauthorized(
                "Invalid token header. Token string should not contain spaces.",
            ))
        }
    };
    let Ok(token) = std::str::from_utf8(token) else {
        return Err(unauthorized(
            "Invalid token header. Token string should not contain invalid characters.",
        ));
    };
    if ctx.shared.tokens().is_valid(token) {
        Ok(token.to_owned())
    } else {
        Err(unauthorized("Invalid token."))
    }
}

/// `POST /user/obtain_token`: `{"username", "password"}` → `{"token"}`.
pub(crate) fn obtain_token(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let username = fields.char(&object, "username", Char::REQUIRED);
    let password = fields.char(
        &object,
        "password",
        Char {
            trim: false,
            ..Char::REQUIRED
        },
    );
    fields.finish()?;
    let settings = ctx.shared.settings();
    let good = username.as_deref() == Some(ctx.shared.username.as_str())
        && password.as_deref() == Some(ctx.shared.password.as_str());
    if !good {
        return Err(Reply::new(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Unable to log in with provided credentials."]}),
        ));
    }
    let token = ctx.shared.tokens().issue(settings.token_life);
    Ok(Reply::ok(json!({ "token": token })))
}

/// `GET|POST /user/refresh-token` with a valid token → `{"token": <new>}`.
pub(crate) fn refresh_token(ctx: &mut Ctx) -> Handled {
    let Some(old) = ctx.token.clone() else {
        return Err(unauthorized(
            "Authentication credentials were not provided.",
        ));
    };
    let settings = ctx.shared.settings();
    let mut tokens = ctx.shared.tokens();
    if settings.refresh_revokes_old {
        tokens.revoke(&old);
    }
    let token = tokens.issue(settings.token_life);
    Ok(Reply::ok(json!({ "token": token })))
}
