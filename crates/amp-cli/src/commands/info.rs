//! `amp info` and `amp changelog`: the API itself.

use super::Ctx;
use crate::failure::CliResult;
use crate::output;

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

/// `amp changelog`: `version  what changed` lines, or the JSON object.
pub async fn changelog(ctx: &Ctx) -> CliResult {
    output::one(&ctx.check(ctx.client.changelog().await)?, ctx.json)
}
