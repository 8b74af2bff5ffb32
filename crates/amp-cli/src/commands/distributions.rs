//! `amp distributions list | get | create | confirm | cancel ASSET …`.

use amp_client::model::TxConfirmation;

use super::Ctx;
use crate::body::Sources;
use crate::cli::{ConfirmArgs, DistributionsCommand};
use crate::failure::CliResult;
use crate::output::{self, col, Column};

/// The columns of `amp distributions list`.
const DISTRIBUTION_COLUMNS: &[Column] = &[
    col("UUID", "distribution_uuid"),
    col("STATUS", "distribution_status"),
    col("TXIDS", "transactions.txid"),
    col("HEIGHTS", "transactions.included_blockheight"),
];

/// Runs one `amp distributions` command.
pub async fn run(ctx: &Ctx, command: DistributionsCommand) -> CliResult {
    let json = ctx.json;
    match command {
        DistributionsCommand::List { asset_uuid } => {
            let list = ctx.client.distributions(&asset_uuid).list().await;
            output::list(&ctx.check(list)?, DISTRIBUTION_COLUMNS, json)
        }
        DistributionsCommand::Get(d) => {
            let one = ctx
                .client
                .distributions(&d.asset_uuid)
                .get(&d.distribution_uuid)
                .await;
            output::one(&ctx.check(one)?, json)
        }
        DistributionsCommand::Create { asset_uuid } => {
            let plan = ctx.client.distributions(&asset_uuid).create().await;
            output::one(&ctx.check(plan)?, json)
        }
        DistributionsCommand::Confirm(args) => {
            let confirmation = confirmation(&args)?;
            let distributions = ctx.client.distributions(&args.asset_uuid);
            let confirmed = distributions.confirm(&args.distribution_uuid, &confirmation);
            ctx.check(confirmed.await)?;
            let message = format!("distribution {} confirmed", args.distribution_uuid);
            output::done(&message, json)
        }
        DistributionsCommand::Cancel(d) => {
            let distributions = ctx.client.distributions(&d.asset_uuid);
            ctx.check(distributions.cancel(&d.distribution_uuid).await)?;
            output::done(
                &format!("distribution {} cancelled", d.distribution_uuid),
                json,
            )
        }
    }
}

/// The body of `confirm`: `--data` whole, or `--txid` with the node's JSON.
fn confirmation(args: &ConfirmArgs) -> CliResult<TxConfirmation> {
    let mut sources = Sources::default();
    if let Some(data) = &args.data {
        return sources.typed("--data", data, "distribution confirmation");
    }
    let mut confirmation = TxConfirmation::new(args.txid.clone().unwrap_or_default());
    if let Some(raw) = &args.details {
        confirmation = confirmation.details(sources.json("--details", raw)?);
    }
    if let Some(raw) = &args.change_data {
        confirmation = confirmation.change(sources.typed("--change-data", raw, "list")?);
    }
    Ok(confirmation)
}
