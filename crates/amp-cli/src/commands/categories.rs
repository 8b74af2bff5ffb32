//! `amp categories …`: categories and their members.

use amp_client::model::{CategoryEdit, NewCategory};

use super::Ctx;
use crate::cli::CategoriesCommand;
use crate::failure::CliResult;
use crate::output::{self, col, Column};

/// The columns of `amp categories list`.
const CATEGORY_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("NAME", "name"),
    col("DESCRIPTION", "description"),
    col("USERS", "registered_users"),
    col("ASSETS", "assets"),
];

/// Runs one `amp categories` command.
pub async fn run(ctx: &Ctx, command: CategoriesCommand) -> CliResult {
    let categories = ctx.client.categories();
    let json = ctx.json;
    match command {
        CategoriesCommand::List => {
            output::list(&ctx.check(categories.list().await)?, CATEGORY_COLUMNS, json)
        }
        CategoriesCommand::Get(c) => output::one(&ctx.check(categories.get(c.id).await)?, json),
        CategoriesCommand::Add { name, description } => {
            let new = NewCategory { name, description };
            output::one(&ctx.check(categories.add(&new).await)?, json)
        }
        CategoriesCommand::Edit {
            id,
            name,
            description,
        } => {
            let edit = CategoryEdit { name, description };
            output::one(&ctx.check(categories.edit(id, &edit).await)?, json)
        }
        CategoriesCommand::Delete(c) => {
            ctx.check(categories.delete(c.id).await)?;
            output::done(&format!("category {} deleted", c.id), json)
        }
        CategoriesCommand::AddUser(m) => {
            let answer = ctx.check(categories.add_registered_user(m.id, m.user_id).await)?;
            output::lenient(&answer, "registered user added", json)
        }
        CategoriesCommand::RemoveUser(m) => {
            let answer = ctx.check(categories.remove_registered_user(m.id, m.user_id).await)?;
            output::lenient(&answer, "registered user removed", json)
        }
        CategoriesCommand::AddAsset(m) => {
            let answer = ctx.check(categories.add_asset(m.id, &m.asset_uuid).await)?;
            output::lenient(&answer, "asset added", json)
        }
        CategoriesCommand::RemoveAsset(m) => {
            let answer = ctx.check(categories.remove_asset(m.id, &m.asset_uuid).await)?;
            output::lenient(&answer, "asset removed", json)
        }
    }
}
