//! `amp gaids validate | address | balance | registered-user GAID`.

use super::Ctx;
use crate::cli::GaidCommand;
use crate::failure::CliResult;
use crate::output::{self, col, Column};

/// The columns of `amp gaids balance`.
const BALANCE_COLUMNS: &[Column] = &[
    col("ASSET_UUID", "asset_uuid"),
    col("ASSET_ID", "asset_id"),
    col("BALANCE", "balance"),
];

/// Runs one `amp gaids` command.
pub async fn run(ctx: &Ctx, command: GaidCommand) -> CliResult {
    let gaids = ctx.client.gaids();
    let json = ctx.json;
    match command {
        GaidCommand::Validate { gaid } => {
            output::one(&ctx.check(gaids.validate(&gaid).await)?, json)
        }
        GaidCommand::Address { gaid } => output::one(&ctx.check(gaids.address(&gaid).await)?, json),
        GaidCommand::Balance { gaid, asset: None } => output::list(
            &ctx.check(gaids.balance(&gaid).await)?,
            BALANCE_COLUMNS,
            json,
        ),
        GaidCommand::Balance {
            gaid,
            asset: Some(asset_uuid),
        } => output::one(
            &ctx.check(gaids.asset_balance(&gaid, &asset_uuid).await)?,
            json,
        ),
        GaidCommand::RegisteredUser { gaid } => {
            output::one(&ctx.check(gaids.registered_user(&gaid).await)?, json)
        }
    }
}
