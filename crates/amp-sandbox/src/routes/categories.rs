//! Handlers: categories and their links to users and assets.

use super::{no_content, ok, Ctx};
use crate::drf::{parse_object, Char, Fields, Handled, Reply};

pub(super) fn list(ctx: &mut Ctx) -> Handled {
    Ok(Reply::ok(ctx.store().categories()))
}

pub(super) fn get(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().category_json(ctx.param(0)))
}

/// `{"name", "description"?}`: 201.
pub(super) fn add(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::REQUIRED);
    let description = fields.char(&object, "description", Char::NULLABLE);
    fields.finish()?;
    let category = ctx
        .store()
        .add_category(name.unwrap_or_default(), description);
    Ok(Reply::created(category))
}

pub(super) fn edit(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::OPTIONAL);
    let description = fields.char(&object, "description", Char::NULLABLE);
    fields.finish()?;
    // Absent leaves the description alone; null clears it.
    let description = object.contains_key("description").then_some(description);
    ok(ctx.store().edit_category(ctx.param(0), name, description))
}

pub(super) fn delete(ctx: &mut Ctx) -> Handled {
    no_content(ctx.store().delete_category(ctx.param(0)))
}

pub(super) fn user_add(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().link_user(ctx.param(0), ctx.param(1), true))
}

pub(super) fn user_remove(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().link_user(ctx.param(0), ctx.param(1), false))
}

pub(super) fn asset_add(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().link_asset(ctx.param(0), ctx.param(1), true))
}

pub(super) fn asset_remove(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().link_asset(ctx.param(0), ctx.param(1), false))
}
