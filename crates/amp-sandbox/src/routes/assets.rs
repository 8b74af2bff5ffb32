//! Handlers: general routes, and an asset's own record (issue, edit,
//! delete, register, lock, memo).

use serde_json::json;

use super::{no_content, ok, Ctx};
use crate::data::{Issue, MAX_UNITS};
use crate::drf::{parse_object, string_or_field, Char, Fields, Handled, Int, Reply};

/// Liquid's cap on an amount, as the validators take it.
const MAX_AMOUNT: i64 = MAX_UNITS as i64;

pub(super) fn info(_: &mut Ctx) -> Handled {
    Ok(Reply::ok(
        json!({ "version": "0.1.13", "notes": "AMP sandbox" }),
    ))
}

pub(super) fn changelog(_: &mut Ctx) -> Handled {
    // Paraphrased milestones (amp-api.md §2); keys are deliberately unordered strings.
    Ok(Reply::ok(json!({
        "0.1.0": "Add /changelog. Assignments: is_distributed replaces distribution_status; add vesting_timestamp.",
        "0.1.1": "Rename authorizer_endpoint to issuer_authorization_endpoint.",
        "0.1.2": "Add precision to assets.",
        "0.1.4": "Add is_locked, asset lock/unlock and /gaids/{gaid}/address.",
        "0.1.5": "Add lost outputs, /user/refresh-token to renew the authentication token, /user/change-password and the manager endpoints.",
        "0.1.6": "Add /gaids/{gaid}/investor and new category association endpoints.",
        "0.1.7": "Rename investor to registered_user; remove the old category association endpoints.",
        "0.1.8": "Add reissuance_token_id and assignment vesting_timestamp.",
        "0.1.10": "Add /txs.",
        "0.1.12": "Add /update-blinders.",
        "0.1.13": "Add GAID on assignments.",
    })))
}

pub(super) fn list(ctx: &mut Ctx) -> Handled {
    Ok(Reply::ok(ctx.store().assets()))
}

pub(super) fn get(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().asset_json(ctx.param(0)))
}

/// `POST /assets/issue` (amp-api.md §3.1): 201 with the IssuanceResponse.
pub(super) fn issue(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let amount_rules = Int::REQUIRED.min(1).max(MAX_AMOUNT);
    let name = fields.char(&object, "name", Char::REQUIRED);
    let amount = fields.integer(&object, "amount", amount_rules);
    let destination_address = fields.char(&object, "destination_address", Char::REQUIRED);
    let domain = fields.char(&object, "domain", Char::REQUIRED);
    let ticker = fields.char(&object, "ticker", Char::REQUIRED);
    let pubkey = fields.char(&object, "pubkey", Char::REQUIRED);
    let precision = fields.integer(&object, "precision", Int::OPTIONAL.min(0).max(8));
    let is_confidential = fields.boolean(&object, "is_confidential", false);
    let is_reissuable = fields.boolean(&object, "is_reissuable", false);
    let tokens = fields.integer(
        &object,
        "reissuance_amount",
        Int::NULLABLE.min(0).max(MAX_AMOUNT),
    );
    let reissuance_address = fields.char(&object, "reissuance_address", Char::NULLABLE);
    let transfer_restricted = fields.boolean(&object, "transfer_restricted", false);
    fields.finish()?;
    let is_reissuable = is_reissuable.unwrap_or(false);
    // A reissuable asset gets one token unless told otherwise; the tokens of
    // an asset that is not reissuable are ignored.
    let tokens = match (is_reissuable, tokens) {
        (false, _) => 0,
        (true, None) => 1,
        (true, Some(0)) => {
            return Err(Reply::field_error(
                "reissuance_amount",
                "A reissuable asset needs at least 1 reissuance token.",
            ))
        }
        (true, Some(n)) => n,
    };
    let request = Issue {
        name: name.unwrap_or_default(),
        amount: u64::try_from(amount.unwrap_or(1)).unwrap_or(1),
        destination_address: destination_address.unwrap_or_default(),
        domain: domain.unwrap_or_default(),
        ticker: ticker.unwrap_or_default(),
        pubkey: pubkey.unwrap_or_default(),
        precision: precision.and_then(|p| u8::try_from(p).ok()).unwrap_or(8),
        is_confidential: is_confidential.unwrap_or(false),
        is_reissuable,
        reissuance_amount: u64::try_from(tokens).unwrap_or(0),
        reissuance_address: reissuance_address.filter(|a| !a.is_empty()),
        transfer_restricted: transfer_restricted.unwrap_or(false),
    };
    Ok(Reply::created(ctx.store().issue(&request)))
}

/// `PUT /assets/{uuid}/edit` `{"issuer_authorization_endpoint": url | null}`.
pub(super) fn edit(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let rules = Char {
        allow_null: true,
        allow_blank: true,
        ..Char::REQUIRED
    };
    let endpoint = fields.char(&object, "issuer_authorization_endpoint", rules);
    fields.finish()?;
    let endpoint = endpoint.filter(|e| !e.is_empty());
    if let Some(url) = &endpoint {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Reply::field_error(
                "issuer_authorization_endpoint",
                "Enter a valid URL.",
            ));
        }
    }
    ok(ctx.store().edit_asset(ctx.param(0), endpoint))
}

pub(super) fn delete(ctx: &mut Ctx) -> Handled {
    no_content(ctx.store().delete_asset(ctx.param(0)))
}

pub(super) fn register(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().register(ctx.param(0)))
}

pub(super) fn register_authorized(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().register_authorized(ctx.param(0)))
}

pub(super) fn lock(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().set_locked(ctx.param(0), true))
}

pub(super) fn unlock(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().set_locked(ctx.param(0), false))
}

pub(super) fn memo(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().memo(ctx.param(0)))
}

/// The memo as a bare JSON string or as `{"memo": …}` (amp-api.md §3.1).
pub(super) fn memo_set(ctx: &mut Ctx) -> Handled {
    let memo = string_or_field(&ctx.body, "memo", true)?;
    ok(ctx.store().set_memo(ctx.param(0), memo))
}
