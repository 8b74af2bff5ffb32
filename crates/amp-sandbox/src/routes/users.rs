//! Handlers: registered users, their GAIDs, and the `/gaids` routes.

use axum::http::StatusCode;
use serde_json::json;

use super::{no_content, ok, Ctx};
use crate::data::{address_for, check_gaid};
use crate::drf::{parse_object, string_or_field, Char, Fields, Handled, Reply};

pub(super) fn list(ctx: &mut Ctx) -> Handled {
    Ok(Reply::ok(ctx.store().users()))
}

pub(super) fn get(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().user_json(ctx.param(0)))
}

/// `{"name", "GAID"?, "is_company"}` (upper-case `GAID`): 201.
pub(super) fn add(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::REQUIRED);
    let gaid = fields.char(&object, "GAID", Char::NULLABLE);
    let is_company = fields.boolean(&object, "is_company", true);
    fields.finish()?;
    let gaid = gaid.filter(|g| !g.is_empty());
    let user = ctx.store().add_user(
        name.unwrap_or_default(),
        gaid,
        is_company.unwrap_or_default(),
    )?;
    Ok(Reply::created(user))
}

pub(super) fn edit(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::REQUIRED);
    let is_company = fields.boolean(&object, "is_company", false);
    fields.finish()?;
    ok(ctx.store().edit_user(ctx.param(0), name, is_company))
}

pub(super) fn delete(ctx: &mut Ctx) -> Handled {
    no_content(ctx.store().delete_user(ctx.param(0)))
}

pub(super) fn summary(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().user_summary(ctx.param(0)))
}

pub(super) fn gaids(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().user_gaids(ctx.param(0)))
}

/// `{"GAID": …}` (the CLI) or a bare JSON string (amp-rs).
pub(super) fn gaid_add(ctx: &mut Ctx) -> Handled {
    let gaid = string_or_field(&ctx.body, "GAID", false)?;
    ok(ctx.store().add_gaid(ctx.param(0), gaid))
}

/// Body as for [`gaid_add`].
pub(super) fn gaid_set_default(ctx: &mut Ctx) -> Handled {
    let gaid = string_or_field(&ctx.body, "GAID", false)?;
    ok(ctx.store().set_default_gaid(ctx.param(0), gaid))
}

pub(super) fn gaid_validate(ctx: &mut Ctx) -> Handled {
    Ok(Reply::ok(match check_gaid(ctx.param(0)) {
        Ok(()) => json!({ "is_valid": true }),
        Err(error) => json!({ "is_valid": false, "error": error }),
    }))
}

/// The GAID of the path, or a 400 `{"error": …}` naming what is wrong with it.
fn valid_gaid(ctx: &Ctx) -> Result<&str, Reply> {
    let gaid = ctx.param(0);
    check_gaid(gaid)
        .map_err(|error| Reply::new(StatusCode::BAD_REQUEST, json!({ "error": error })))?;
    Ok(gaid)
}

pub(super) fn gaid_address(ctx: &mut Ctx) -> Handled {
    let gaid = valid_gaid(ctx)?;
    Ok(Reply::ok(json!({ "address": address_for(gaid) })))
}

pub(super) fn gaid_user(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().gaid_user(ctx.param(0)))
}

pub(super) fn gaid_balance(ctx: &mut Ctx) -> Handled {
    let gaid = valid_gaid(ctx)?;
    Ok(Reply::ok(ctx.store().gaid_balance(gaid)))
}

pub(super) fn gaid_asset_balance(ctx: &mut Ctx) -> Handled {
    let gaid = valid_gaid(ctx)?;
    ok(ctx.store().gaid_asset_balance(gaid, ctx.param(1)))
}
