//! `amp assignments list | get | create | lock | unlock | delete ASSET …`.

use amp_client::model::NewAssignment;

use super::Ctx;
use crate::cli::AssignmentsCommand;
use crate::failure::CliResult;
use crate::output::{self, col, Column};

/// The columns of `amp assignments list` (and of `create`'s answer).
const ASSIGNMENT_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("USER", "registered_user"),
    col("AMOUNT", "amount"),
    col("GAID", "GAID"),
    col("READY", "ready_for_distribution"),
    col("VESTED", "has_vested"),
    col("DISTRIBUTED", "is_distributed"),
    col("DISTRIBUTION", "distribution_uuid"),
];

/// Runs one `amp assignments` command.
pub async fn run(ctx: &Ctx, command: AssignmentsCommand) -> CliResult {
    let json = ctx.json;
    match command {
        AssignmentsCommand::List { asset_uuid } => {
            let list = ctx.client.assignments(&asset_uuid).list().await;
            output::list(&ctx.check(list)?, ASSIGNMENT_COLUMNS, json)
        }
        AssignmentsCommand::Get(a) => {
            let one = ctx.client.assignments(&a.asset_uuid).get(a.id).await;
            output::one(&ctx.check(one)?, json)
        }
        AssignmentsCommand::Create {
            asset_uuid,
            user,
            amount,
            vesting_timestamp,
            ready,
        } => {
            let new = NewAssignment {
                registered_user: user,
                amount,
                vesting_timestamp,
                ready_for_distribution: ready,
            };
            let created = ctx.client.assignments(&asset_uuid).create(&new).await;
            output::list(&ctx.check(created)?, ASSIGNMENT_COLUMNS, json)
        }
        AssignmentsCommand::Lock(a) => {
            let locked = ctx.client.assignments(&a.asset_uuid).lock(a.id).await;
            output::one(&ctx.check(locked)?, json)
        }
        AssignmentsCommand::Unlock(a) => {
            let unlocked = ctx.client.assignments(&a.asset_uuid).unlock(a.id).await;
            output::one(&ctx.check(unlocked)?, json)
        }
        AssignmentsCommand::Delete(a) => {
            ctx.check(ctx.client.assignments(&a.asset_uuid).delete(a.id).await)?;
            output::done(&format!("assignment {} deleted", a.id), json)
        }
    }
}
