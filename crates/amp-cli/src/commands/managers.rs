//! `amp managers …` and `amp user change-password`: accounts, and the two
//! commands that take a new password (see `password.rs` for where it comes
//! from; it is never printed, nor is the token a change may hand back).

use amp_client::model::{NewManager, PasswordChanged};
use serde::Serialize;

use super::Ctx;
use crate::cli::{ManagersCommand, UserCommand};
use crate::failure::CliResult;
use crate::output::{self, col, Column};
use crate::password::new_password;

/// The columns of `amp managers list`.
const MANAGER_COLUMNS: &[Column] = &[
    col("ID", "id"),
    col("USERNAME", "username"),
    col("LOCKED", "is_locked"),
    col("ASSETS", "assets"),
];

/// What `amp managers change-password --json` prints of the answer: the
/// secrets it may hold (the password echoed, the manager's new token) are
/// left out.
#[derive(Debug, Serialize)]
struct Changed {
    /// The manager's login name, if AMP said it.
    username: Option<String>,
}

/// Runs one `amp managers` command.
pub async fn run(ctx: &Ctx, command: ManagersCommand) -> CliResult {
    let managers = ctx.client.managers();
    let json = ctx.json;
    match command {
        ManagersCommand::List => {
            output::list(&ctx.check(managers.list().await)?, MANAGER_COLUMNS, json)
        }
        ManagersCommand::Get(m) => output::one(&ctx.check(managers.get(m.id).await)?, json),
        ManagersCommand::Me => output::one(&ctx.check(managers.me().await)?, json),
        ManagersCommand::Create { username } => {
            let password = new_password(&format!("manager {username}"))?;
            let new = NewManager { username, password };
            output::one(&ctx.check(managers.create(&new).await)?, json)
        }
        ManagersCommand::Lock(m) => {
            let answer = ctx.check(managers.lock(m.id).await)?;
            output::lenient(&answer, "locked", json)
        }
        ManagersCommand::Unlock(m) => {
            let answer = ctx.check(managers.unlock(m.id).await)?;
            output::lenient(&answer, "unlocked", json)
        }
        ManagersCommand::AddAsset(m) => {
            let answer = ctx.check(managers.add_asset(m.id, &m.asset_uuid).await)?;
            output::lenient(&answer, "asset added", json)
        }
        ManagersCommand::RemoveAsset(m) => {
            let answer = ctx.check(managers.remove_asset(m.id, &m.asset_uuid).await)?;
            output::lenient(&answer, "asset removed", json)
        }
        ManagersCommand::ChangePassword(m) => {
            let password = new_password(&format!("manager {}", m.id))?;
            let answer: PasswordChanged =
                ctx.check(managers.change_password(m.id, password).await)?;
            let changed = Changed {
                username: answer.username,
            };
            if json {
                return output::print_json(&changed);
            }
            let whom = changed.username.unwrap_or_else(|| m.id.to_string());
            output::write_stdout(&format!(
                "password of manager {} changed\n",
                amp_client::text::escape_controls_line(&whom)
            ))
        }
    }
}

/// Runs `amp user change-password`.
pub async fn user(ctx: &Ctx, command: UserCommand) -> CliResult {
    match command {
        UserCommand::ChangePassword => {
            let username = ctx
                .client
                .config()
                .credentials()
                .map_or_else(|| "this account".to_string(), |c| c.username().to_string());
            let password = new_password(&username)?;
            ctx.check(ctx.client.user().change_password(password).await)?;
            output::done(
                &format!(
                    "password changed; set {} to the new one for later logins",
                    amp_client::PASSWORD_VAR
                ),
                ctx.json,
            )
        }
    }
}
