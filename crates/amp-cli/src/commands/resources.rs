//! Read commands over AMP resources: `info`, `assets`, `registered-users`,
//! `categories`, `managers`, `gaids`.
//!
//! A resource is a list of columns and a match arm: declare which JSON fields
//! its table shows, and hand the library's answer to [`output::list`] or
//! [`output::one`], which print it for people or, with `--json`, for machines.

use super::Ctx;
use crate::cli::{AssetsCommand, GaidCommand, ListGet};
use crate::failure::CliResult;
use crate::output::{self, col, Column};

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

/// The columns of `amp registered-users list`.
const REGISTERED_USER_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("NAME", "name"),
    col("GAID", "GAID"), // AMP spells this field in capitals
    col("COMPANY", "is_company"),
    col("CATEGORIES", "categories"),
];

/// The columns of `amp categories list`.
const CATEGORY_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("NAME", "name"),
    col("DESCRIPTION", "description"),
    col("USERS", "registered_users"),
    col("ASSETS", "assets"),
];

/// The columns of `amp managers list`.
const MANAGER_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("USERNAME", "username"),
    col("LOCKED", "is_locked"),
    col("ASSETS", "assets"),
];

/// The columns of `amp gaids balance`.
const BALANCE_COLUMNS: &[Column] = &[
    col("ASSET_UUID", "asset_uuid"),
    col("ASSET_ID", "asset_id"),
    col("BALANCE", "balance"),
];

/// `amp info`: the API version (no token needed).
pub async fn info(ctx: &Ctx) -> CliResult {
    let info = ctx.check(ctx.client.info().await)?;
    if ctx.json {
        return output::print_json(&info);
    }
    // The version is the server's text, on our line: it must not break it.
    let mut text = format!(
        "AMP API {} at {}\n",
        amp_client::text::escape_controls_line(&info.version),
        ctx.client.config().base_url()
    );
    if let Some(notes) = info.notes.as_deref().filter(|n| !n.trim().is_empty()) {
        text.push_str(notes.trim_end());
        text.push('\n');
    }
    output::write_stdout(&text)
}

/// `amp assets list | get UUID`.
pub async fn assets(ctx: &Ctx, command: AssetsCommand) -> CliResult {
    ctx.need_credentials(true).await?;
    let assets = ctx.client.assets();
    match command {
        AssetsCommand::List => {
            output::list(&ctx.check(assets.list().await)?, ASSET_COLUMNS, ctx.json)
        }
        AssetsCommand::Get { asset_uuid } => {
            output::one(&ctx.check(assets.get(&asset_uuid).await)?, ctx.json)
        }
    }
}

/// `amp registered-users list | get ID`.
pub async fn registered_users(ctx: &Ctx, command: ListGet) -> CliResult {
    ctx.need_credentials(true).await?;
    let users = ctx.client.registered_users();
    match command {
        ListGet::List => output::list(
            &ctx.check(users.list().await)?,
            REGISTERED_USER_COLUMNS,
            ctx.json,
        ),
        ListGet::Get { id } => output::one(&ctx.check(users.get(id).await)?, ctx.json),
    }
}

/// `amp categories list | get ID`.
pub async fn categories(ctx: &Ctx, command: ListGet) -> CliResult {
    ctx.need_credentials(true).await?;
    let categories = ctx.client.categories();
    match command {
        ListGet::List => output::list(
            &ctx.check(categories.list().await)?,
            CATEGORY_COLUMNS,
            ctx.json,
        ),
        ListGet::Get { id } => output::one(&ctx.check(categories.get(id).await)?, ctx.json),
    }
}

/// `amp managers list | get ID`.
pub async fn managers(ctx: &Ctx, command: ListGet) -> CliResult {
    ctx.need_credentials(true).await?;
    let managers = ctx.client.managers();
    match command {
        ListGet::List => output::list(
            &ctx.check(managers.list().await)?,
            MANAGER_COLUMNS,
            ctx.json,
        ),
        ListGet::Get { id } => output::one(&ctx.check(managers.get(id).await)?, ctx.json),
    }
}

/// `amp gaids validate | address | balance | registered-user GAID`.
pub async fn gaids(ctx: &Ctx, command: GaidCommand) -> CliResult {
    ctx.need_credentials(true).await?;
    let gaids = ctx.client.gaids();
    match command {
        GaidCommand::Validate { gaid } => {
            output::one(&ctx.check(gaids.validate(&gaid).await)?, ctx.json)
        }
        GaidCommand::Address { gaid } => {
            output::one(&ctx.check(gaids.address(&gaid).await)?, ctx.json)
        }
        GaidCommand::Balance { gaid } => output::list(
            &ctx.check(gaids.balance(&gaid).await)?,
            BALANCE_COLUMNS,
            ctx.json,
        ),
        GaidCommand::RegisteredUser { gaid } => {
            output::one(&ctx.check(gaids.registered_user(&gaid).await)?, ctx.json)
        }
    }
}
