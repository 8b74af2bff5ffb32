//! `amp registered-users …`: registered users and their GAIDs.

use amp_client::model::NewRegisteredUser;

use super::Ctx;
use crate::cli::RegisteredUsersCommand;
use crate::failure::CliResult;
use crate::output::{self, col, Column};

/// The columns of `amp registered-users list`.
const REGISTERED_USER_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("NAME", "name"),
    col("GAID", "GAID"), // AMP spells this field in capitals
    col("COMPANY", "is_company"),
    col("CATEGORIES", "categories"),
];

/// The columns of `amp registered-users summary`.
const SUMMARY_COLUMNS: &[Column] = &[
    col("ASSET_UUID", "asset_uuid"),
    col("ASSIGNED", "assignments_sum"),
    col("DISTRIBUTED", "distributions_sum"),
    col("BALANCE", "balance"),
];

/// The column of `amp registered-users gaids`.
const GAID_COLUMNS: &[Column] = &[col("GAID", "GAID")];

/// Runs one `amp registered-users` command.
pub async fn run(ctx: &Ctx, command: RegisteredUsersCommand) -> CliResult {
    let users = ctx.client.registered_users();
    let json = ctx.json;
    match command {
        RegisteredUsersCommand::List => output::list(
            &ctx.check(users.list().await)?,
            REGISTERED_USER_COLUMNS,
            json,
        ),
        RegisteredUsersCommand::Get(u) => output::one(&ctx.check(users.get(u.id).await)?, json),
        RegisteredUsersCommand::Add {
            name,
            gaid,
            company,
        } => {
            let new = NewRegisteredUser {
                name,
                gaid,
                is_company: company,
            };
            output::one(&ctx.check(users.add(&new).await)?, json)
        }
        RegisteredUsersCommand::Edit { id, name } => {
            output::one(&ctx.check(users.edit(id, &name).await)?, json)
        }
        RegisteredUsersCommand::Delete(u) => {
            ctx.check(users.delete(u.id).await)?;
            output::done(&format!("registered user {} deleted", u.id), json)
        }
        RegisteredUsersCommand::Summary(u) => output::list(
            &ctx.check(users.summary(u.id).await)?,
            SUMMARY_COLUMNS,
            json,
        ),
        RegisteredUsersCommand::Gaids(u) => {
            output::list(&ctx.check(users.gaids(u.id).await)?, GAID_COLUMNS, json)
        }
        RegisteredUsersCommand::AddGaid(a) => {
            let answer = ctx.check(users.add_gaid(a.id, &a.gaid).await)?;
            output::lenient(&answer, "GAID added", json)
        }
        RegisteredUsersCommand::SetDefaultGaid(a) => {
            let answer = ctx.check(users.set_default_gaid(a.id, &a.gaid).await)?;
            output::lenient(&answer, "default GAID set", json)
        }
    }
}
