//! `amp token status | login | refresh | clear | print`.
//!
//! Status shows what may be shown of a token — state, times, fingerprint —
//! and never the token itself. `print` is the one command that shows the
//! token: only on that explicit request, only on stdout, never in a log.

use amp_client::{Renewal, TokenInfo, TokenManager, TokenState};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use super::Ctx;
use crate::cli::TokenCommand;
use crate::failure::CliResult;
use crate::output::{self, human_duration, Table};

/// The JSON of `amp token status --json`: exactly these keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Status {
    /// `valid`, `expiring`, `expired` or `none`.
    pub state: TokenState,
    /// RFC 3339, or null without a token.
    pub obtained_at: Option<String>,
    /// RFC 3339, or null without a token.
    pub expires_at: Option<String>,
    /// Whole seconds left (0 once expired), or null.
    pub expires_in_seconds: Option<u64>,
    /// Whole seconds since it was obtained, or null.
    pub age_seconds: Option<u64>,
    /// A short one-way hash of the token, or null.
    pub fingerprint: Option<String>,
}

impl From<&TokenInfo> for Status {
    fn from(info: &TokenInfo) -> Status {
        Status {
            state: info.state,
            obtained_at: info.obtained_at.map(rfc3339),
            expires_at: info.expires_at.map(rfc3339),
            expires_in_seconds: info.expires_in.map(|d| d.as_secs()),
            age_seconds: info.age.map(|d| d.as_secs()),
            fingerprint: info.fingerprint.clone(),
        }
    }
}

/// A time as RFC 3339, to the second, in UTC (`Z`).
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Runs one `amp token` command.
pub async fn run(ctx: &Ctx, command: TokenCommand) -> CliResult {
    let manager = ctx.client.token_manager();
    match command {
        TokenCommand::Status => {
            // Report what the store holds: the token a previous run left.
            let info = ctx.check(manager.load_from_store().await)?;
            print_status(ctx, manager, &info, None)
        }
        TokenCommand::Login => {
            ctx.need_credentials(false).await?;
            ctx.check(manager.login().await)?;
            print_status(ctx, manager, &manager.info(), Some("logged in"))
        }
        TokenCommand::Refresh => {
            ctx.need_credentials(true).await?;
            let (_, how) = ctx.check(manager.force_refresh().await)?;
            let what = match how {
                Renewal::Refreshed => "refreshed",
                Renewal::ObtainedAfterFailedRefresh => "logged in (the refresh failed)",
                Renewal::FromStore => "taken from the store (renewed by another process)",
                _ => "logged in (there was no valid token to refresh)",
            };
            print_status(ctx, manager, &manager.info(), Some(what))
        }
        TokenCommand::Print => print_token(ctx).await,
        TokenCommand::Clear => {
            ctx.check(manager.clear().await)?;
            print_status(ctx, manager, &manager.info(), Some("token cleared"))
        }
    }
}

/// `amp token print`: the raw token on stdout, for tools that must hold one
/// (`curl -H "Authorization: token $(amp token print)"`). The stored token is
/// taken as it is while valid; one in its refresh window is renewed first
/// (the command ends at once, so a renewal in the background would be lost
/// and the next run would print a token about to expire), and without a
/// usable token one is obtained. The token goes to stdout only: nothing is
/// logged (the library never logs a token), and a failure says why without it.
async fn print_token(ctx: &Ctx) -> CliResult {
    use secrecy::ExposeSecret;
    let manager = ctx.client.token_manager();
    ctx.need_credentials(true).await?;
    let info = ctx.check(manager.load_from_store().await)?;
    let token = match info.state {
        TokenState::Valid => ctx.check(manager.token().await)?,
        // Falls back to a login when the refresh fails.
        TokenState::Expiring => ctx.check(manager.force_refresh().await)?.0,
        _ => ctx.check(manager.token().await)?,
    };
    let mut line = zeroize::Zeroizing::new(String::with_capacity(64));
    line.push_str(token.secret().expose_secret());
    line.push('\n');
    output::write_stdout(&line)
}

/// The status as JSON, or for people as `key  value` lines after a headline.
fn print_status(
    ctx: &Ctx,
    manager: &TokenManager,
    info: &TokenInfo,
    headline: Option<&str>,
) -> CliResult {
    let status = Status::from(info);
    if ctx.json {
        return output::print_json(&status);
    }
    let store = manager.describe_store();
    let mut text = String::new();
    if let Some(headline) = headline {
        text.push_str(headline);
        if store == "memory" && info.state != TokenState::None {
            text.push_str(
                " (kept in memory: it ends with this command; --store file:PATH keeps it)",
            );
        }
        text.push('\n');
    }
    let dash = || "-".to_string();
    let mut table = Table::bare();
    table.row(["state".to_string(), status.state.to_string()]);
    table.row([
        "obtained_at".to_string(),
        status.obtained_at.unwrap_or_else(dash),
    ]);
    table.row([
        "expires_at".to_string(),
        status.expires_at.unwrap_or_else(dash),
    ]);
    table.row([
        "expires_in".to_string(),
        info.expires_in.map_or_else(dash, human_duration),
    ]);
    table.row([
        "age".to_string(),
        info.age.map_or_else(dash, human_duration),
    ]);
    table.row([
        "fingerprint".to_string(),
        status.fingerprint.unwrap_or_else(dash),
    ]);
    table.row(["store".to_string(), store]);
    text.push_str(&table.render());
    output::write_stdout(&text)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn status_json_has_exactly_the_documented_keys() {
        let keys = |s: &Status| {
            let v = serde_json::to_value(s).unwrap();
            let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
            k.sort();
            k
        };
        let expected = [
            "age_seconds",
            "expires_at",
            "expires_in_seconds",
            "fingerprint",
            "obtained_at",
            "state",
        ];
        let none = Status::from(&TokenInfo::default());
        assert_eq!(keys(&none), expected);
        assert_eq!(serde_json::to_value(&none).unwrap()["state"], "none");
        let now = Utc::now();
        let t = amp_client::TokenData::new(
            "0123456789abcdef0123456789abcdef01234567",
            now,
            now + chrono::Duration::hours(24),
        );
        let info = TokenInfo {
            state: TokenState::Valid,
            obtained_at: Some(t.obtained_at),
            expires_at: Some(t.expires_at),
            expires_in: Some(Duration::from_secs(23 * 3600)),
            age: Some(Duration::from_secs(3600)),
            fingerprint: Some(t.fingerprint()),
        };
        let s = Status::from(&info);
        assert_eq!(keys(&s), expected);
        assert_eq!(
            s.expires_in_seconds,
            Some(Duration::from_secs(23 * 3600).as_secs())
        );
        assert_eq!(s.age_seconds, Some(3600));
        assert!(!serde_json::to_string(&s)
            .unwrap()
            .contains("0123456789abcdef"));
    }
}
