//! Handlers: what an asset's outputs say (summary, ownerships, balance,
//! UTXOs, treasury addresses, txs, activities, blinders). The shapes of
//! UTXOs, txs and update-blinders come from amp-rs.

use axum::body::Bytes;
use axum::http::StatusCode;
use serde_json::{json, Map, Value};

use super::{empty_ok, ok, Ctx};
use crate::data::{Page, StoreError, ACTIVITY_COLUMNS, TX_COLUMNS};
use crate::drf::{
    not_a_dict, not_a_list, parse_json, parse_object, Char, Fields, Handled, Int, Reply,
};

pub(super) fn summary(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().asset_summary(ctx.param(0)))
}

pub(super) fn ownerships(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().ownerships(ctx.param(0), None))
}

/// amp-rs appends a block height as one more segment (UNCERTAIN); a segment
/// that is not a height names nothing.
pub(super) fn ownerships_at(ctx: &mut Ctx) -> Handled {
    let height = ctx
        .param(1)
        .parse::<u64>()
        .map_err(|_| StoreError::NotFound)?;
    ok(ctx.store().ownerships(ctx.param(0), Some(height)))
}

pub(super) fn balance(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().balance(ctx.param(0)))
}

pub(super) fn lost_outputs(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().lost_outputs(ctx.param(0)))
}

/// The query of `activities` and `txs`: `start`, `count`, `sortcolumn`
/// (one of `columns`), `sortorder` (`asc` or `desc`), `height_start`,
/// `height_stop`.
fn page(query: &Map<String, Value>, columns: &[&str]) -> Result<Page, Reply> {
    let mut fields = Fields::default();
    let natural = Int::OPTIONAL.min(0);
    let start = fields.integer(query, "start", natural);
    let count = fields.integer(query, "count", natural);
    let height_start = fields.integer(query, "height_start", natural);
    let height_stop = fields.integer(query, "height_stop", natural);
    let sortcolumn = fields.char(query, "sortcolumn", Char::OPTIONAL);
    let sortorder = fields.char(query, "sortorder", Char::OPTIONAL);
    if let Some(column) = sortcolumn.as_deref().filter(|c| !columns.contains(c)) {
        fields.error("sortcolumn", format!("\"{column}\" is not a valid choice."));
    }
    let descending = match sortorder.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(other) => {
            fields.error("sortorder", format!("\"{other}\" is not a valid choice."));
            false
        }
    };
    fields.finish()?;
    let size = |n: Option<i64>| n.and_then(|n| usize::try_from(n).ok());
    let height = |n: Option<i64>| n.and_then(|n| u64::try_from(n).ok());
    Ok(Page {
        start: size(start).unwrap_or(0),
        count: size(count),
        sortcolumn,
        descending,
        height_start: height(height_start),
        height_stop: height(height_stop),
    })
}

pub(super) fn activities(ctx: &mut Ctx) -> Handled {
    let page = page(&ctx.query, ACTIVITY_COLUMNS)?;
    ok(ctx.store().activities(ctx.param(0), &page))
}

pub(super) fn txs(ctx: &mut Ctx) -> Handled {
    let page = page(&ctx.query, TX_COLUMNS)?;
    ok(ctx.store().txs(ctx.param(0), &page))
}

pub(super) fn tx(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().tx(ctx.param(0), ctx.param(1)))
}

pub(super) fn utxos(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().utxos(ctx.param(0)))
}

/// A body that must be a non-empty JSON list.
fn list_body(body: &Bytes) -> Result<Vec<Value>, Reply> {
    match parse_json(body)? {
        Value::Array(items) if items.is_empty() => Err(Reply::field_error(
            "non_field_errors",
            "This list may not be empty.",
        )),
        Value::Array(items) => Ok(items),
        other => Err(not_a_list(None, &other)),
    }
}

/// `[{"txid", "vout"}, …]`; the errors as DRF lists them, one entry per item.
fn outpoints(body: &Bytes) -> Result<Vec<(String, u32)>, Reply> {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    for item in list_body(body)? {
        let Value::Object(object) = &item else {
            errors.push(not_a_dict(&item).body.unwrap_or_default());
            continue;
        };
        let mut fields = Fields::default();
        let txid = fields.char(object, "txid", Char::REQUIRED);
        let vout = fields.integer(object, "vout", Int::REQUIRED.min(0).max(u32::MAX.into()));
        match (
            fields.into_errors(),
            txid,
            vout.and_then(|v| u32::try_from(v).ok()),
        ) {
            (None, Some(txid), Some(vout)) => {
                errors.push(json!({}));
                found.push((txid, vout));
            }
            (errs, ..) => errors.push(errs.unwrap_or_default()),
        }
    }
    if found.len() == errors.len() {
        Ok(found)
    } else {
        Err(Reply::new(StatusCode::BAD_REQUEST, Value::Array(errors)))
    }
}

pub(super) fn blacklist(ctx: &mut Ctx) -> Handled {
    let outpoints = outpoints(&ctx.body)?;
    ok(ctx.store().set_blacklisted(ctx.param(0), &outpoints, true))
}

pub(super) fn whitelist(ctx: &mut Ctx) -> Handled {
    let outpoints = outpoints(&ctx.body)?;
    ok(ctx.store().set_blacklisted(ctx.param(0), &outpoints, false))
}

pub(super) fn treasury_addresses(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().treasury_addresses(ctx.param(0)))
}

/// `["address", …]`, every item a non-blank string.
fn addresses(body: &Bytes) -> Result<Vec<String>, Reply> {
    list_body(body)?
        .into_iter()
        .enumerate()
        .map(|(index, item)| match item {
            Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
            _ => Err(Reply::new(
                StatusCode::BAD_REQUEST,
                json!({ index.to_string(): ["Not a valid address."] }),
            )),
        })
        .collect()
}

pub(super) fn treasury_add(ctx: &mut Ctx) -> Handled {
    let addresses = addresses(&ctx.body)?;
    ok(ctx
        .store()
        .edit_treasury_addresses(ctx.param(0), addresses, true))
}

pub(super) fn treasury_delete(ctx: &mut Ctx) -> Handled {
    let addresses = addresses(&ctx.body)?;
    ok(ctx
        .store()
        .edit_treasury_addresses(ctx.param(0), addresses, false))
}

/// A blinder: 64 hex characters.
fn blinder(fields: &mut Fields, object: &Map<String, Value>, name: &str) -> Option<String> {
    let value = fields.char(object, name, Char::REQUIRED)?;
    if value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        Some(value.to_ascii_lowercase())
    } else {
        fields.error(name, "Ensure this field has 64 hexadecimal characters.");
        None
    }
}

/// `POST /assets/{uuid}/update-blinders` `{"txid", "vout", "asset_blinder",
/// "amount_blinder"}` (amp-rs's `UpdateBlindersRequest`; one output per
/// request, as the official script sends them): 200 with an empty body.
pub(super) fn update_blinders(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let txid = fields.char(&object, "txid", Char::REQUIRED);
    let vout = fields.integer(&object, "vout", Int::REQUIRED.min(0).max(u32::MAX.into()));
    let asset_blinder = blinder(&mut fields, &object, "asset_blinder");
    let amount_blinder = blinder(&mut fields, &object, "amount_blinder");
    fields.finish()?;
    let vout = vout.and_then(|v| u32::try_from(v).ok()).unwrap_or_default();
    empty_ok(ctx.store().update_blinders(
        ctx.param(0),
        &txid.unwrap_or_default(),
        vout,
        asset_blinder.unwrap_or_default(),
        amount_blinder.unwrap_or_default(),
    ))
}
