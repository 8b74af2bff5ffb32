//! Accounts and tokens: log in, check, refresh, revoke, change a password,
//! after DRF's `TokenAuthentication` and `ObtainAuthToken`.

use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use serde_json::json;
use tokio::time::Instant;

use crate::drf::{parse_object, Char, Fields, Handled, Reply};
use crate::routes::Ctx;

/// Whose token it is: the issuer (the sandbox's own login) or a manager.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Account {
    Issuer,
    Manager(u64),
}

/// How a password field is read: required, never trimmed.
pub(crate) const PASSWORD: Char = Char {
    trim: false,
    ..Char::REQUIRED
};

/// A live token: when it stops being valid (`None`: a life too long for
/// `Instant` to hold, never), and whose it is.
struct Live {
    expiry: Option<Instant>,
    account: Account,
}

/// The live tokens.
pub(crate) struct Tokens {
    live: HashMap<String, Live>,
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

    /// A fresh 40-hex token of the issuer, valid for `life` from now.
    pub(crate) fn issue(&mut self, life: Duration) -> String {
        self.issue_for(life, Account::Issuer)
    }

    /// A fresh 40-hex token of `account`, valid for `life` from now. The expiry
    /// is fixed at issue: changing the token life later affects only tokens
    /// issued after.
    pub(crate) fn issue_for(&mut self, life: Duration, account: Account) -> String {
        let token = loop {
            let candidate: String = (0..40)
                .map(|_| char::from(b"0123456789abcdef"[self.rng.usize(..16)]))
                .collect();
            if !self.live.contains_key(&candidate) {
                break candidate;
            }
        };
        let expiry = Instant::now().checked_add(life);
        self.live.insert(token.clone(), Live { expiry, account });
        token
    }

    /// The account of a live token; an expired one is forgotten on the way.
    pub(crate) fn account(&mut self, token: &str) -> Option<Account> {
        let live = self.live.get(token)?;
        if live.expiry.is_some_and(|expiry| Instant::now() >= expiry) {
            self.live.remove(token);
            return None;
        }
        Some(live.account)
    }

    /// Whether the token is live.
    pub(crate) fn is_valid(&mut self, token: &str) -> bool {
        self.account(token).is_some()
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
/// returns the token and its account, or the 401 to answer.
pub(crate) fn authenticate(ctx: &Ctx) -> Result<(String, Account), Reply> {
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
    // The token lock is released before the store's is taken.
    let account = ctx.shared.tokens().account(token);
    match account {
        None => Err(unauthorized("Invalid token.")),
        Some(Account::Manager(id)) => {
            let active = ctx
                .shared
                .store()
                .manager_by_id(id)
                .is_some_and(|m| !m.is_locked);
            if active {
                Ok((token.to_owned(), Account::Manager(id)))
            } else {
                Err(unauthorized("User inactive or deleted."))
            }
        }
        Some(account) => Ok((token.to_owned(), account)),
    }
}

/// `POST /user/obtain_token`: `{"username", "password"}` → `{"token"}`, for
/// the issuer or an unlocked manager.
pub(crate) fn obtain_token(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let username = fields.char(&object, "username", Char::REQUIRED);
    let password = fields.char(&object, "password", PASSWORD);
    fields.finish()?;
    let (username, password) = (username.unwrap_or_default(), password.unwrap_or_default());
    let account = if username == ctx.shared.username && password == ctx.shared.login_password() {
        Some(Account::Issuer)
    } else {
        let manager = ctx.shared.store().manager_login(&username, &password);
        manager.map(Account::Manager)
    };
    let Some(account) = account else {
        return Err(Reply::new(
            StatusCode::BAD_REQUEST,
            json!({"non_field_errors": ["Unable to log in with provided credentials."]}),
        ));
    };
    let life = ctx.shared.settings().token_life;
    let token = ctx.shared.tokens().issue_for(life, account);
    Ok(Reply::ok(json!({ "token": token })))
}

/// `GET|POST /user/refresh-token` with a valid token → `{"token": <new>}`,
/// of the same account.
pub(crate) fn refresh_token(ctx: &mut Ctx) -> Handled {
    let (Some(old), Some(account)) = (ctx.token.clone(), ctx.account) else {
        return Err(unauthorized(
            "Authentication credentials were not provided.",
        ));
    };
    let settings = ctx.shared.settings();
    let mut tokens = ctx.shared.tokens();
    if settings.refresh_revokes_old {
        tokens.revoke(&old);
    }
    let token = tokens.issue_for(settings.token_life, account);
    Ok(Reply::ok(json!({ "token": token })))
}

/// A `{"password": …}` body: required, not blank, not trimmed.
pub(crate) fn new_password(body: &Bytes) -> Result<String, Reply> {
    let object = parse_object(body)?;
    let mut fields = Fields::default();
    let password = fields.char(&object, "password", PASSWORD);
    fields.finish()?;
    Ok(password.unwrap_or_default())
}

/// The answer to a password change: `{"username", "token"}` with a new token
/// of `account`. The password is not echoed (amp-rs's model has a
/// `password` field; a client must not need it back).
pub(crate) fn password_changed(ctx: &Ctx, account: Account, username: &str) -> Reply {
    let life = ctx.shared.settings().token_life;
    let token = ctx.shared.tokens().issue_for(life, account);
    Reply::ok(json!({ "username": username, "token": token }))
}

/// `POST /user/change-password` `{"password"}`: the caller's own password
/// changes; the old one no longer logs in. Tokens already issued stay valid.
pub(crate) fn change_password(ctx: &mut Ctx) -> Handled {
    let password = new_password(&ctx.body)?;
    let account = ctx.account.unwrap_or(Account::Issuer);
    let username = match account {
        Account::Issuer => {
            ctx.shared.set_login_password(password);
            ctx.shared.username.clone()
        }
        Account::Manager(id) => {
            ctx.shared
                .store()
                .set_manager_password(&id.to_string(), password)?
                .1
        }
    };
    Ok(password_changed(ctx, account, &username))
}
