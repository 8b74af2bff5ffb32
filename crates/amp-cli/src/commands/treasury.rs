//! The treasury side of `amp assets …`: UTXOs and their blacklist, treasury
//! addresses, blinders, reissuance and burn. The nested bodies come from
//! flags or whole from `--data` (see `body.rs`).

use amp_client::model::{
    Lenient, Outpoint, ReissuanceOutput, ReissueConfirm, TxConfirmation, UpdateBlinders, Utxo,
};
use amp_elements::journal::JobKind;
use serde_json::Value;

use super::Ctx;
use crate::body::Sources;
use crate::cli::{
    AddressesArgs, BlindersArgs, BurnConfirmArgs, ReissueConfirmArgs, TreasuryCommand, UtxosArgs,
};
use crate::failure::CliResult;
use crate::output::{self, col, Column};

/// The columns of `amp assets utxos`.
const UTXO_COLUMNS: &[Column] = &[
    col("TXID", "txid"),
    col("VOUT", "vout"),
    col("AMOUNT", "amount"),
    col("USER", "registered_user"),
    col("GAID", "gaid"), // lower case in this answer (amp-rs's `Utxo`)
    col("BLACKLISTED", "blacklisted"),
];

/// The column of `amp assets treasury-addresses`: the list's strings.
const ADDRESS_COLUMNS: &[Column] = &[col("ADDRESS", "")];

/// The columns of `amp assets reissuances`.
const REISSUANCE_COLUMNS: &[Column] = &[
    col("TXID", "txid"),
    col("VOUT", "vout"),
    col("AMOUNT", "reissuance_amount"),
    col("ADDRESS", "destination_address"),
    col("BLOCK", "confirmed_in_block"),
    col("CREATED", "created"),
];

/// Runs one treasury command of `amp assets`.
pub async fn run(ctx: &Ctx, command: TreasuryCommand) -> CliResult {
    let assets = ctx.client.assets();
    let json = ctx.json;
    match command {
        TreasuryCommand::Utxos(a) => output::list(
            &ctx.check(assets.utxos(&a.asset_uuid).await)?,
            UTXO_COLUMNS,
            json,
        ),
        TreasuryCommand::BlacklistUtxos(args) => {
            let outpoints = outpoints(&args)?;
            let answer = assets.blacklist_utxos(&args.asset_uuid, &outpoints).await;
            print_utxos(&ctx.check(answer)?, "blacklisted", json)
        }
        TreasuryCommand::WhitelistUtxos(args) => {
            let outpoints = outpoints(&args)?;
            let answer = assets.whitelist_utxos(&args.asset_uuid, &outpoints).await;
            print_utxos(&ctx.check(answer)?, "whitelisted", json)
        }
        TreasuryCommand::TreasuryAddresses(a) => {
            let list = assets.treasury_addresses(&a.asset_uuid).await;
            output::list(&ctx.check(list)?, ADDRESS_COLUMNS, json)
        }
        TreasuryCommand::AddTreasuryAddresses(args) => {
            let addresses = addresses(&args)?;
            ctx.check(
                assets
                    .add_treasury_addresses(&args.asset_uuid, &addresses)
                    .await,
            )?;
            let n = addresses.len();
            output::done(&format!("{n} treasury address{} added", plural(n)), json)
        }
        TreasuryCommand::DeleteTreasuryAddresses(args) => {
            let addresses = addresses(&args)?;
            let deleted = assets.delete_treasury_addresses(&args.asset_uuid, &addresses);
            ctx.check(deleted.await)?;
            let n = addresses.len();
            output::done(&format!("{n} treasury address{} deleted", plural(n)), json)
        }
        TreasuryCommand::UpdateBlinders(args) if args.txid.is_none() && args.data.is_none() => {
            super::onchain::update_blinders(ctx, &args.asset_uuid, &args.node).await
        }
        TreasuryCommand::UpdateBlinders(args) => {
            let blinders = blinders(&args)?;
            ctx.check(assets.update_blinders(&args.asset_uuid, &blinders).await)?;
            output::done("blinders updated", json)
        }
        TreasuryCommand::ReissueRequest { asset_uuid, amount } => output::one(
            &ctx.check(assets.reissue_request(&asset_uuid, amount).await)?,
            json,
        ),
        TreasuryCommand::ReissueConfirm(args) => {
            let confirmation = reissue_confirmation(&args)?;
            let answer = assets
                .reissue_confirm(&args.asset_uuid, &confirmation)
                .await;
            output::lenient(&ctx.check(answer)?, "reissuance confirmed", json)
        }
        TreasuryCommand::BurnRequest { asset_uuid, amount } => output::one(
            &ctx.check(assets.burn_request(&asset_uuid, amount).await)?,
            json,
        ),
        TreasuryCommand::BurnConfirm(args) => {
            let confirmation = burn_confirmation(&args)?;
            ctx.check(assets.burn_confirm(&args.asset_uuid, &confirmation).await)?;
            output::done("burn confirmed", json)
        }
        TreasuryCommand::Reissuances(a) => {
            let list = assets.reissuances(&a.asset_uuid).await;
            output::list(&ctx.check(list)?, REISSUANCE_COLUMNS, json)
        }
        TreasuryCommand::Distribute(args) => super::onchain::distribute(ctx, args).await,
        TreasuryCommand::Reissue(args) => super::onchain::supply(ctx, JobKind::Reissue, args).await,
        TreasuryCommand::Burn(args) => super::onchain::supply(ctx, JobKind::Burn, args).await,
    }
}

/// The plural ending of "address" after a count `n`.
fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "es"
    }
}

/// The outputs of `blacklist-utxos` and `whitelist-utxos`.
fn outpoints(args: &UtxosArgs) -> CliResult<Vec<Outpoint>> {
    match &args.data {
        Some(data) => Sources::default().typed("--data", data, "list of outputs"),
        None => Ok(args.utxos.clone()),
    }
}

/// The UTXO list the blacklist answers with, as a table; anything else as it came.
fn print_utxos(answer: &Lenient<Vec<Utxo>>, message: &str, json: bool) -> CliResult {
    match answer {
        Lenient::Typed(utxos) => output::list(utxos, UTXO_COLUMNS, json),
        other => output::lenient(other, message, json),
    }
}

/// The addresses of `add-treasury-addresses` and `delete-treasury-addresses`.
fn addresses(args: &AddressesArgs) -> CliResult<Vec<String>> {
    match &args.data {
        Some(data) => Sources::default().typed("--data", data, "list of addresses"),
        None => Ok(args.addresses.clone()),
    }
}

/// The body of `update-blinders`.
fn blinders(args: &BlindersArgs) -> CliResult<UpdateBlinders> {
    if let Some(data) = &args.data {
        return Sources::default().typed("--data", data, "update-blinders body");
    }
    Ok(UpdateBlinders {
        txid: args.txid.clone().unwrap_or_default(),
        vout: args.vout.unwrap_or_default(),
        asset_blinder: args.asset_blinder.clone().unwrap_or_default(),
        amount_blinder: args.amount_blinder.clone().unwrap_or_default(),
    })
}

/// The body of `reissue-confirm`; `details` and `listissuances` default to `[]`.
fn reissue_confirmation(args: &ReissueConfirmArgs) -> CliResult<ReissueConfirm> {
    let mut sources = Sources::default();
    if let Some(data) = &args.data {
        return sources.typed("--data", data, "reissue confirmation");
    }
    let details = match &args.details {
        Some(raw) => sources.json("--details", raw)?,
        None => Value::Array(Vec::new()),
    };
    let listissuances = match &args.listissuances {
        Some(raw) => sources.typed("--listissuances", raw, "list")?,
        None => Vec::new(),
    };
    Ok(ReissueConfirm {
        details,
        listissuances,
        reissuance_output: ReissuanceOutput {
            txid: args.txid.clone().unwrap_or_default(),
            vin: args.vin.unwrap_or_default(),
        },
    })
}

/// The body of `burn-confirm`.
fn burn_confirmation(args: &BurnConfirmArgs) -> CliResult<TxConfirmation> {
    let mut sources = Sources::default();
    if let Some(data) = &args.data {
        return sources.typed("--data", data, "burn confirmation");
    }
    let mut confirmation = TxConfirmation::new(args.txid.clone().unwrap_or_default());
    if let Some(raw) = &args.change_data {
        confirmation = confirmation.change(sources.typed("--change-data", raw, "list")?);
    }
    Ok(confirmation)
}
