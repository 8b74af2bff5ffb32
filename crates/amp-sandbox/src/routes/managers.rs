//! Handlers: manager accounts.

use axum::http::StatusCode;

use super::{ok, Ctx};
use crate::auth::{self, Account};
use crate::drf::{parse_object, Char, Fields, Handled, Reply};

pub(super) fn list(ctx: &mut Ctx) -> Handled {
    Ok(Reply::ok(ctx.store().managers()))
}

pub(super) fn get(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().manager_json(ctx.param(0)))
}

/// The manager the token belongs to; the issuer is no manager (404).
pub(super) fn me(ctx: &mut Ctx) -> Handled {
    match ctx.account {
        Some(Account::Manager(id)) => ok(ctx.store().manager_json(&id.to_string())),
        _ => Err(Reply::detail(
            StatusCode::NOT_FOUND,
            "Not found: the authenticated user is an issuer, not a manager.",
        )),
    }
}

/// `{"username", "password"}`: 201 with the manager, created locked.
pub(super) fn create(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let username = fields.char(&object, "username", Char::REQUIRED);
    let password = fields.char(&object, "password", auth::PASSWORD);
    fields.finish()?;
    let manager = ctx.store().create_manager(
        username.unwrap_or_default(),
        password.unwrap_or_default(),
        &ctx.shared.username,
    )?;
    Ok(Reply::created(manager))
}

pub(super) fn lock(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().lock_manager(ctx.param(0), true))
}

pub(super) fn unlock(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().lock_manager(ctx.param(0), false))
}

pub(super) fn asset_add(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().manager_asset(ctx.param(0), ctx.param(1), true))
}

/// PUT or POST: the method is UNCERTAIN (amp-api.md §3.6).
pub(super) fn asset_remove(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().manager_asset(ctx.param(0), ctx.param(1), false))
}

/// `{"password"}` → `{"username", "token"}`: the manager's new password, and
/// a new token for the manager (its older tokens stay valid).
pub(super) fn change_password(ctx: &mut Ctx) -> Handled {
    let password = auth::new_password(&ctx.body)?;
    let (id, username) = ctx.store().set_manager_password(ctx.param(0), password)?;
    Ok(auth::password_changed(ctx, Account::Manager(id), &username))
}
