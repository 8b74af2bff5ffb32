//! Handlers: reissue and burn, request then confirm. The bodies are amp-rs's
//! (`ReissueRequest`, `ReissueConfirmRequest`, `BurnRequest`,
//! `BurnConfirmRequest`) and the official script's.

use serde_json::{Map, Value};

use super::{empty_ok, ok, Ctx};
use crate::data::MAX_UNITS;
use crate::drf::{not_a_dict, parse_object, Char, Fields, Handled, Int, Reply};

const MAX_AMOUNT: i64 = MAX_UNITS as i64;

/// A required object field of a body, for nested validation.
pub(super) fn nested<'a>(
    object: &'a Map<String, Value>,
    name: &str,
) -> Result<&'a Map<String, Value>, Reply> {
    match object.get(name) {
        None | Some(Value::Null) => Err(Reply::field_error(name, "This field is required.")),
        Some(Value::Object(inner)) => Ok(inner),
        Some(other) => {
            let body = not_a_dict(other).body.unwrap_or_default();
            Err(Reply::new(
                axum::http::StatusCode::BAD_REQUEST,
                serde_json::json!({ name: body["non_field_errors"] }),
            ))
        }
    }
}

/// The `txid` of a nested object (`tx_data`, `reissuance_output`), with the
/// error nested under the object's name as DRF does.
pub(super) fn nested_txid(inner: &Map<String, Value>, name: &str) -> Result<String, Reply> {
    let mut fields = Fields::default();
    let txid = fields.char(inner, "txid", Char::REQUIRED);
    if let Some(errors) = fields.into_errors() {
        return Err(Reply::new(
            axum::http::StatusCode::BAD_REQUEST,
            serde_json::json!({ name: errors }),
        ));
    }
    Ok(txid.unwrap_or_default())
}

/// A positive amount under Liquid's cap.
fn amount(name: &str, body: &axum::body::Bytes) -> Result<u64, Reply> {
    let object = parse_object(body)?;
    let mut fields = Fields::default();
    let amount = fields.integer(&object, name, Int::REQUIRED.min(1).max(MAX_AMOUNT));
    fields.finish()?;
    Ok(amount
        .and_then(|a| u64::try_from(a).ok())
        .unwrap_or_default())
}

/// `{"amount_to_reissue": n}` → what the confirm script needs.
pub(super) fn reissue_request(ctx: &mut Ctx) -> Handled {
    let amount = amount("amount_to_reissue", &ctx.body)?;
    let base_url = ctx.shared.base_url.clone();
    ok(ctx.store().reissue_request(ctx.param(0), amount, &base_url))
}

/// `{"details", "listissuances", "reissuance_output": {"txid", "vin"}}`: only
/// `reissuance_output.txid` is needed, the node's own data is not checked.
pub(super) fn reissue_confirm(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let output = nested(&object, "reissuance_output")?;
    let txid = nested_txid(output, "reissuance_output")?;
    let vin = output.get("vin").and_then(Value::as_u64).unwrap_or(0);
    ok(ctx.store().reissue_confirm(ctx.param(0), &txid, vin))
}

pub(super) fn reissuances(ctx: &mut Ctx) -> Handled {
    ok(ctx.store().reissuances(ctx.param(0)))
}

/// `{"amount": n}` → what the confirm script needs.
pub(super) fn burn_request(ctx: &mut Ctx) -> Handled {
    let amount = amount("amount", &ctx.body)?;
    let base_url = ctx.shared.base_url.clone();
    ok(ctx.store().burn_request(ctx.param(0), amount, &base_url))
}

/// `{"tx_data": {"txid"}, "change_data": […]}`: 200 with an empty body, as
/// amp-rs says the API answers.
pub(super) fn burn_confirm(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let txid = nested_txid(nested(&object, "tx_data")?, "tx_data")?;
    empty_ok(ctx.store().burn_confirm(ctx.param(0), &txid))
}
