//! `GET /agent/status`: the token's state and expiry as `amp token status
//! --json` shows them, the client's counters (the figures the library's
//! metrics report), and the agent's own. Never the token, the key or the
//! password: what may be shown of a token is its fingerprint.

use std::sync::atomic::Ordering;

use serde::Serialize;

use super::proxy::Agent;
use crate::commands::TokenStatus;

/// The JSON of `GET /agent/status`.
#[derive(Debug, Serialize)]
struct Status<'a> {
    /// The token, exactly as `amp token status --json` shows it.
    token: TokenStatus,
    /// Whether a login or refresh is in flight.
    renewing: bool,
    /// The API root the agent calls.
    base_url: &'a str,
    /// The token store, described without secrets.
    store: String,
    /// The client's counters (requests, logins, refreshes, 429s …): the
    /// figures of the library's metrics, named as in `amp_client::Stats`.
    client: amp_client::Stats,
    /// The agent's own figures.
    agent: AgentFigures<'a>,
}

#[derive(Debug, Serialize)]
struct AgentFigures<'a> {
    version: &'static str,
    uptime_seconds: u64,
    listening: &'a [String],
    in_flight: usize,
    max_in_flight: usize,
    max_body_bytes: usize,
    requests: u64,
    forwarded: u64,
    failed: u64,
    refused_key: u64,
    blocked: u64,
    not_found: u64,
    too_large: u64,
    busy: u64,
    /// Log lines dropped because stderr was not read fast enough.
    log_lines_dropped: u64,
}

/// The status of `agent` as JSON text.
pub fn render(agent: &Agent) -> String {
    let manager = agent.client.token_manager();
    let c = &agent.counters;
    let read = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let status = Status {
        token: TokenStatus::from(&manager.info()),
        renewing: manager.is_renewing(),
        base_url: agent.client.config().base_url().as_str(),
        store: manager.describe_store(),
        client: manager.stats(),
        agent: AgentFigures {
            version: env!("CARGO_PKG_VERSION"),
            uptime_seconds: agent.started.elapsed().as_secs(),
            listening: &agent.listening,
            in_flight: agent.in_flight(),
            max_in_flight: agent.limits.max_in_flight,
            max_body_bytes: agent.limits.max_body_bytes,
            requests: read(&c.requests),
            forwarded: read(&c.forwarded),
            failed: read(&c.failed),
            refused_key: read(&c.refused_key),
            blocked: read(&c.blocked),
            not_found: read(&c.not_found),
            too_large: read(&c.too_large),
            busy: read(&c.busy),
            log_lines_dropped: crate::output::log_lines_dropped(),
        },
    };
    // Plain data: serializing it cannot fail; an empty object if it ever did.
    serde_json::to_string(&status).unwrap_or_else(|_| "{}".to_string())
}
