//! Handlers: assignments and distributions under an asset.

use serde_json::{json, Value};

use super::{no_content, ok, Ctx, MAX_AMOUNT};
use crate::data::NewAssignment;
use crate::drf::{not_a_dict, not_a_list, parse_object, Fields, Handled, Int, Reply};

pub(super) fn list(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().assignments(ctx.param(0)))
}

pub(super) fn get(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().assignment(ctx.param(0), ctx.param(1)))
}

/// `{"assignments": [...]}` with exactly one element (0.1.7), its errors
/// nested as DRF nests a list serializer's.
fn new_assignment(body: &axum::body::Bytes) -> Result<NewAssignment, Reply> {
    let object = parse_object(body)?;
    let items = match object.get("assignments") {
        None => return Err(Reply::field_error("assignments", "This field is required.")),
        Some(Value::Array(items)) => items,
        Some(other) => return Err(not_a_list(Some("assignments"), other)),
    };
    let item = match items.as_slice() {
        [] => {
            return Err(Reply::field_error(
                "assignments",
                "This list may not be empty.",
            ))
        }
        [item] => item,
        _ => {
            return Err(Reply::field_error(
                "assignments",
                "Ensure this field has no more than 1 elements.",
            ))
        }
    };
    let nested_error = |errors: Value| {
        Reply::new(
            axum::http::StatusCode::BAD_REQUEST,
            json!({ "assignments": [errors] }),
        )
    };
    let Value::Object(item) = item else {
        return Err(nested_error(not_a_dict(item).body.unwrap_or_default()));
    };
    let mut fields = Fields::default();
    let user = fields.integer(item, "registered_user", Int::REQUIRED.min(0));
    let amount = fields.integer(item, "amount", Int::REQUIRED.min(1).max(MAX_AMOUNT));
    let vesting_timestamp = fields.integer(item, "vesting_timestamp", Int::NULLABLE.min(0));
    let ready = fields.boolean(item, "ready_for_distribution", false);
    if let Some(errors) = fields.into_errors() {
        return Err(nested_error(errors));
    }
    Ok(NewAssignment {
        registered_user: user.and_then(|u| u64::try_from(u).ok()).unwrap_or_default(),
        amount: amount
            .and_then(|a| u64::try_from(a).ok())
            .unwrap_or_default(),
        vesting_timestamp,
        ready_for_distribution: ready.unwrap_or(false),
    })
}

/// 201 with a list of the one assignment made.
pub(super) fn create(ctx: &mut Ctx) -> Handled {
    let new = new_assignment(&ctx.body)?;
    let made = ctx.store().create_assignment(ctx.param(0), &new)?;
    Ok(Reply::created(made))
}

pub(super) fn lock(ctx: &mut Ctx) -> Handled {
    ok(ctx
        .store()
        .lock_assignment(ctx.param(0), ctx.param(1), true))
}

pub(super) fn unlock(ctx: &mut Ctx) -> Handled {
    ok(ctx
        .store()
        .lock_assignment(ctx.param(0), ctx.param(1), false))
}

pub(super) fn delete(ctx: &mut Ctx) -> Handled {
    no_content(ctx.store().delete_assignment(ctx.param(0), ctx.param(1)))
}

pub(super) fn distributions(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().distributions(ctx.param(0)))
}

pub(super) fn distribution(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().distribution(ctx.param(0), ctx.param(1)))
}

/// GET (as amp-rs calls it) or POST. The distribution is made of the
/// assignments ready for it; a body (amp-rs sends one) is not read.
pub(super) fn distribution_create(ctx: &mut Ctx) -> Handled {
    let base_url = ctx.shared.base_url.clone();
    ok(ctx.store().create_distribution(ctx.param(0), &base_url))
}

/// `{"tx_data": {"txid", "details"}, "change_data": […]}` (the official
/// script's body; amp-rs's `ConfirmDistributionRequest`): checked against
/// the chain, 200 with the confirmed distribution.
pub(super) fn distribution_confirm(ctx: &mut Ctx) -> Handled {
    let report = super::tx_report(&ctx.body)?;
    ok(ctx
        .store()
        .confirm_distribution(ctx.param(0), ctx.param(1), &report))
}

/// DELETE (as amp-rs calls it) or POST: 204.
pub(super) fn distribution_cancel(ctx: &mut Ctx) -> Handled {
    no_content(ctx.store().cancel_distribution(ctx.param(0), ctx.param(1)))
}
