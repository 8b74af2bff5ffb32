//! Handlers: reissue and burn, request then confirm. The bodies are amp-rs's
//! (`ReissueRequest`, `ReissueConfirmRequest`, `BurnRequest`,
//! `BurnConfirmRequest`) and the official script's.

use serde_json::Value;

use super::{empty_ok, nested, nested_txid, ok, Ctx, MAX_AMOUNT};
use crate::data::{parse_details, ReissueReport};
use crate::drf::{parse_object, Fields, Handled, Int, Reply};

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

/// `{"details", "listissuances", "reissuance_output": {"txid", "vin"}}`, the
/// official script's body, checked against the chain.
pub(super) fn reissue_confirm(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let output = nested(&object, "reissuance_output")?;
    let txid = nested_txid(output, "reissuance_output")?;
    let vin = output.get("vin").and_then(Value::as_u64).unwrap_or(0);
    let details =
        parse_details(object.get("details")).map_err(|e| Reply::field_error("details", e))?;
    let listissuances = match object.get("listissuances") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.clone(),
        Some(_) => {
            return Err(Reply::field_error(
                "listissuances",
                "Expected a list of items.",
            ))
        }
    };
    let report = ReissueReport {
        txid,
        vin,
        details,
        listissuances,
    };
    ok(ctx.store().reissue_confirm(ctx.param(0), &report))
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

/// `{"tx_data": {"txid"}, "change_data": […]}`, checked against the chain:
/// 200 with an empty body, as amp-rs says the API answers.
pub(super) fn burn_confirm(ctx: &mut Ctx) -> Handled {
    let report = super::tx_report(&ctx.body)?;
    empty_ok(ctx.store().burn_confirm(ctx.param(0), &report))
}
