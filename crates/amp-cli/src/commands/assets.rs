//! `amp assets …` but the treasury side (see `treasury.rs`): the asset
//! itself, its registry state, memo, holders and history.

use amp_client::model::{ActivitiesQuery, AssetBalance, IssueRequest};

use super::{treasury, Ctx};
use crate::body::Sources;
use crate::cli::{AssetsCommand, IssueArgs, PageArgs};
use crate::failure::CliResult;
use crate::output::{self, col, Column, Table};

/// The columns of `amp assets list`.
const ASSET_COLUMNS: &[Column] = &[
    col("UUID", "asset_uuid"),
    col("NAME", "name"),
    col("TICKER", "ticker"),
    col("PRECISION", "precision"),
    col("REGISTERED", "is_registered"),
    col("AUTHORIZED", "is_authorized"),
    col("LOCKED", "is_locked"),
];

/// The columns of `amp assets ownerships` and of the holdings in `balance`.
const OWNERSHIP_COLUMNS: &[Column] = &[
    col("OWNER", "owner"),
    col("GAID", "GAID"),
    col("AMOUNT", "amount"),
];

/// The columns of `amp assets activities`.
const ACTIVITY_COLUMNS: &[Column] = &[
    col("TYPE", "type"),
    col("DATETIME", "datetime"),
    col("AMOUNT", "amount"),
    col("USER", "registered user"), // AMP's key has a space
    col("TXID", "txid"),
    col("VOUT", "vout"),
    col("HEIGHT", "blockheight"),
];

/// The columns of `amp assets txs`.
const TX_COLUMNS: &[Column] = &[
    col("TXID", "txid"),
    col("DATETIME", "datetime"),
    col("HEIGHT", "blockheight"),
    col("ISSUANCE", "is_issuance"),
    col("REISSUANCE", "is_reissuance"),
    col("DISTRIBUTION", "is_distribution"),
];

/// Runs one `amp assets` command.
pub async fn run(ctx: &Ctx, command: AssetsCommand) -> CliResult {
    let assets = ctx.client.assets();
    let json = ctx.json;
    match command {
        AssetsCommand::List => output::list(&ctx.check(assets.list().await)?, ASSET_COLUMNS, json),
        AssetsCommand::Get(a) => output::one(&ctx.check(assets.get(&a.asset_uuid).await)?, json),
        AssetsCommand::Issue(args) => {
            let request = issue_request(args)?;
            output::one(&ctx.check(assets.issue(&request).await)?, json)
        }
        AssetsCommand::Edit {
            asset_uuid,
            issuer_authorization_endpoint,
        } => {
            let edited = assets.edit(&asset_uuid, &issuer_authorization_endpoint);
            output::one(&ctx.check(edited.await)?, json)
        }
        AssetsCommand::Delete(a) => {
            ctx.check(assets.delete(&a.asset_uuid).await)?;
            output::done(&format!("asset {} deleted", a.asset_uuid), json)
        }
        AssetsCommand::Register(a) => {
            let answer = ctx.check(assets.register(&a.asset_uuid).await)?;
            output::lenient(&answer, "registered", json)
        }
        AssetsCommand::RegisterAuthorized(a) => {
            let answer = ctx.check(assets.register_authorized(&a.asset_uuid).await)?;
            output::lenient(&answer, "registered as authorized", json)
        }
        AssetsCommand::Summary(a) => {
            output::one(&ctx.check(assets.summary(&a.asset_uuid).await)?, json)
        }
        AssetsCommand::Lock(a) => {
            let answer = ctx.check(assets.lock(&a.asset_uuid).await)?;
            output::lenient(&answer, "locked", json)
        }
        AssetsCommand::Unlock(a) => {
            let answer = ctx.check(assets.unlock(&a.asset_uuid).await)?;
            output::lenient(&answer, "unlocked", json)
        }
        AssetsCommand::Memo { asset_uuid, set } => match set {
            Some(text) => {
                let answer = ctx.check(assets.set_memo(&asset_uuid, &text).await)?;
                output::lenient(&answer, "memo set", json)
            }
            None => output::one(&ctx.check(assets.memo(&asset_uuid).await)?, json),
        },
        AssetsCommand::Ownerships { asset_uuid, height } => {
            let holders = match height {
                Some(h) => assets.ownerships_at(&asset_uuid, h).await,
                None => assets.ownerships(&asset_uuid).await,
            };
            output::list(&ctx.check(holders)?, OWNERSHIP_COLUMNS, json)
        }
        AssetsCommand::Balance(a) => {
            print_balance(&ctx.check(assets.balance(&a.asset_uuid).await)?, json)
        }
        AssetsCommand::LostOutputs(a) => {
            output::one(&ctx.check(assets.lost_outputs(&a.asset_uuid).await)?, json)
        }
        AssetsCommand::Activities { asset_uuid, page } => {
            let query = page_query(page);
            let list = assets.activities(&asset_uuid, Some(&query)).await;
            output::list(&ctx.check(list)?, ACTIVITY_COLUMNS, json)
        }
        AssetsCommand::Txs { asset_uuid, page } => {
            let query = page_query(page);
            let list = assets.txs(&asset_uuid, Some(&query)).await;
            output::list(&ctx.check(list)?, TX_COLUMNS, json)
        }
        AssetsCommand::Tx { asset_uuid, txid } => {
            output::one(&ctx.check(assets.tx(&asset_uuid, &txid).await)?, json)
        }
        AssetsCommand::Treasury(command) => treasury::run(ctx, command).await,
    }
}

/// The issue request: `--data` whole, or the flags (clap lets only one of
/// them through, and makes the six required flags required without `--data`).
fn issue_request(args: IssueArgs) -> CliResult<IssueRequest> {
    if let Some(data) = &args.data {
        return Sources::default().typed("--data", data, "issue request");
    }
    // A bool flag not given leaves the field out, so AMP applies its default.
    let given = |flag: bool| flag.then_some(true);
    Ok(IssueRequest {
        name: args.name.unwrap_or_default(),
        amount: args.amount.unwrap_or_default(),
        destination_address: args.destination_address.unwrap_or_default(),
        domain: args.domain.unwrap_or_default(),
        ticker: args.ticker.unwrap_or_default(),
        pubkey: args.pubkey.unwrap_or_default(),
        precision: args.precision,
        is_confidential: given(args.confidential),
        is_reissuable: given(args.reissuable),
        reissuance_amount: args.reissuance_amount,
        reissuance_address: args.reissuance_address,
        transfer_restricted: given(args.transfer_restricted),
    })
}

/// The query of `activities` and `txs`.
fn page_query(page: PageArgs) -> ActivitiesQuery {
    ActivitiesQuery {
        start: page.start,
        count: page.count,
        sortcolumn: page.sort_column,
        sortorder: page.sort_order,
        height_start: page.height_start,
        height_stop: page.height_stop,
    }
}

/// `amp assets balance`: the holdings as a table, then the lost outputs
/// (and any other key AMP sent) as `key  value` lines.
fn print_balance(balance: &AssetBalance, json: bool) -> CliResult {
    if json {
        return output::print_json(balance);
    }
    let value = serde_json::to_value(balance)
        .map_err(|e| crate::failure::Failure::runtime(format!("cannot show the answer: {e}")))?;
    let mut table = Table::new(OWNERSHIP_COLUMNS.iter().map(|c| c.header));
    for entry in value["confirmed_balance"].as_array().into_iter().flatten() {
        table.row(
            OWNERSHIP_COLUMNS
                .iter()
                .map(|c| output::cell(&output::lookup(entry, c.field))),
        );
    }
    let mut rest = Table::bare();
    if let Some(map) = value.as_object() {
        for (key, v) in map.iter().filter(|(k, _)| *k != "confirmed_balance") {
            rest.row([
                amp_client::text::escape_controls_line(key).into_owned(),
                output::cell(v),
            ]);
        }
    }
    output::write_stdout(&format!("{}\n{}", table.render(), rest.render()))
}
