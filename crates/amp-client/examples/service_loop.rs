//! A long-running service, and its token refreshed under it without a
//! failed call.
//!
//! A service polls AMP in a loop. It never handles the token: the client
//! logs in on the first call, refreshes the token in the background before
//! it expires (the call that notices keeps using the still valid token and
//! does not wait), and shares it between every task. The loop below prints
//! each call's outcome and, whenever the token changes, its generation,
//! fingerprint and expiry, which is all that may be shown of it.
//!
//! AMP's tokens live 24 h, so to see a few refreshes in seconds this example
//! starts a local AMP sandbox whose tokens live 5 s and tells the client so.
//! That setup is kept apart, in `local_amp_with_short_tokens`; the rest is
//! what a service writes. It runs for about 10 s, needs no credentials and
//! no network:
//!
//! ```sh
//! cargo run -p amp-client --example service_loop
//! ```
//!
//! It ends after three refreshes with a summary, and exits non-zero if any
//! call failed or the token was not refreshed as expected.

use std::time::{Duration, Instant};

use amp_client::{AmpClient, Config, Stats, TokenInfo, TokenPolicy};
use amp_sandbox::Sandbox;
use tokio::time::MissedTickBehavior;

/// How often the service calls AMP.
const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// The example stops after this many refreshes.
const REFRESHES_TO_SEE: u64 = 3;
/// … or after this long, whatever happened (then it fails).
const GIVE_UP_AFTER: Duration = Duration::from_secs(30);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Only for the example: a local AMP whose tokens live 5 s.
    let (sandbox, config) = local_amp_with_short_tokens().await?;

    // The service. Against the real AMP the client is
    // `AmpClient::from_env()?` (AMP_USERNAME, AMP_PASSWORD, AMP_API_BASE_URL),
    // with the default token policy.
    let client = AmpClient::new(config)?;
    let started = Instant::now();
    let outcome = poll(&client, |stats| {
        stats.refreshes >= REFRESHES_TO_SEE || started.elapsed() > GIVE_UP_AFTER
    })
    .await;

    // The summary, from the client's own counters.
    let stats = client.token_manager().stats();
    println!(
        "\nSummary after {:.1} s: {} calls, {} failed; {} login(s), {} refresh(es), \
         {} failed renewal(s); token generation {}.",
        started.elapsed().as_secs_f64(),
        outcome.calls,
        outcome.failures,
        stats.obtains,
        stats.refreshes,
        stats.failures,
        stats.generation
    );

    // The example checks its own outcome, so a change that breaks it fails CI:
    // every call answered, one login, then only refreshes, each seen by AMP.
    let refreshes_seen_by_amp =
        sandbox.count("GET", "/user/refresh-token") + sandbox.count("POST", "/user/refresh-token");
    check(outcome.failures == 0, "no call failed")?;
    check(
        stats.refreshes >= REFRESHES_TO_SEE,
        "at least three refreshes before giving up",
    )?;
    check(stats.obtains == 1, "one login, then only refreshes")?;
    check(stats.failures == 0, "no renewal failed")?;
    check(
        sandbox.count("POST", "/user/obtain_token") == 1,
        "AMP saw one login",
    )?;
    check(
        refreshes_seen_by_amp == stats.refreshes,
        "AMP saw every refresh",
    )?;
    println!("Done: all checks passed.");
    Ok(())
}

/// What the loop did.
struct Outcome {
    calls: u64,
    failures: u64,
}

/// The service's loop: one call every [`POLL_INTERVAL`] until `stop` says
/// so (a real service would stop on a signal or a shutdown channel). A
/// failed call is reported and counted, and the loop goes on.
async fn poll(client: &AmpClient, stop: impl Fn(&Stats) -> bool) -> Outcome {
    let mut outcome = Outcome {
        calls: 0,
        failures: 0,
    };
    let mut ticker = tokio::time::interval(POLL_INTERVAL);
    // After a slow call, carry on at the interval rather than catch up.
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    let tokens = client.token_manager();
    let mut last = tokens.stats();
    let mut last_info = tokens.info();
    loop {
        ticker.tick().await;

        // Has the token changed since the last call? (Renewals run in the
        // background, so a refresh a call started may end after it.)
        let stats = tokens.stats();
        let info = tokens.info();
        if stats.generation != last.generation {
            report_new_token(&info, &last_info, how_renewed(&last, &stats), &stats);
        }
        if stop(&stats) {
            return outcome;
        }

        outcome.calls += 1;
        let token = match info.expires_in {
            Some(left) => format!(
                "token {} has {:.1} s left",
                stats.generation,
                left.as_secs_f64()
            ),
            None => "no token yet".to_string(),
        };
        let sent = Instant::now();
        match client.assets().list().await {
            Ok(assets) => println!(
                "call {:>2} ({token}): ok, {} assets, in {} ms",
                outcome.calls,
                assets.len(),
                sent.elapsed().as_millis()
            ),
            Err(err) => {
                outcome.failures += 1;
                // The client's errors never hold the password or the token.
                eprintln!("call {:>2} ({token}): FAILED: {err}", outcome.calls);
            }
        }
        (last, last_info) = (stats, info);
    }
}

/// How the token changed between two readings of the counters.
fn how_renewed(before: &Stats, now: &Stats) -> &'static str {
    if now.obtains > before.obtains {
        "logged in with the credentials"
    } else if now.refreshes > before.refreshes {
        "refreshed in the background"
    } else {
        "renewed"
    }
}

/// Prints what may be shown of a new token: its generation, fingerprint
/// and expiry (never the token), and how long the previous one had left.
fn report_new_token(info: &TokenInfo, previous: &TokenInfo, how: &str, stats: &Stats) {
    let fingerprint = info.fingerprint.as_deref().unwrap_or("-");
    let expires_at = info.expires_at.map_or("-".to_string(), |at| {
        at.format("%H:%M:%S%.3f UTC").to_string()
    });
    let previous_left = match (previous.expires_at, info.obtained_at) {
        (Some(old_expiry), Some(new_start)) => {
            let left = (old_expiry - new_start).num_milliseconds() as f64 / 1000.0;
            format!(", {left:.1} s before the previous one expired")
        }
        _ => String::new(),
    };
    println!(
        "         new token ({how}{previous_left}): generation {}, \
         fingerprint {fingerprint}, expires at {expires_at}",
        stats.generation
    );
}

/// Only for the example: a local AMP sandbox whose tokens live 5 s instead
/// of 24 h, and a client configured for it.
///
/// AMP's token answer does not say how long the token lives, so the client
/// is told: the same 5 s, refreshed once 2 s remain (a real service keeps
/// the defaults: 24 h, refreshed 5 min before expiry). The refreshes are
/// spaced by the token's life, not by a cooldown, so the background cooldown
/// is shortened too.
async fn local_amp_with_short_tokens() -> Result<(Sandbox, Config), Box<dyn std::error::Error>> {
    const TOKEN_LIFE: Duration = Duration::from_secs(5);
    let sandbox = Sandbox::builder().token_life(TOKEN_LIFE).start().await?;
    let policy = TokenPolicy {
        lifetime: TOKEN_LIFE,
        refresh_before: Duration::from_secs(2),
        hard_before: Duration::from_secs(1),
        refresh_jitter: Duration::from_millis(250),
        background_cooldown: Duration::from_millis(500),
        ..TokenPolicy::default()
    };
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .token_policy(policy)
        .build()?;
    println!(
        "A local AMP at {} gives tokens that live {} s.\n",
        sandbox.base_url(),
        TOKEN_LIFE.as_secs()
    );
    Ok((sandbox, config))
}

/// `Ok` when `ok` holds, otherwise an error saying what was expected.
fn check(ok: bool, expected: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: expected {expected}"))
    }
}
