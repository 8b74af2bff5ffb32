//! `amp demo`: the whole life of a token, narrated, against a sandbox embedded
//! in this process. No credentials, no network, a few seconds of real time.
//!
//! How time is driven: the client reads a [`ManualClock`], which the demo moves
//! forward by hours in an instant, so the 24 h token life, the refresh window
//! 5 minutes before expiry and the expiry itself are reached at once. The
//! sandbox keeps real (tokio) time with its default 24 h tokens, so it never
//! expires anything by itself; when the client's clock passes the expiry, the
//! demo revokes the sandbox's tokens so that both sides agree the old token is
//! dead. Real waits remain only where the point is to wait: the 1 s
//! `Retry-After`, and a refresh the sandbox holds for 1.5 s to show that
//! callers do not wait for it.
//!
//! Every claim is checked against the sandbox's request records, and the
//! summary is taken from them, not from the client's own counters.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Clock, Config, ManualClock, MemoryStore, RetryConfig, TokenState};
use amp_sandbox::{Fault, RequestRecord, Sandbox};
use chrono::Utc;
use tokio::task::JoinSet;

use crate::failure::{CliResult, Failure};
use crate::output::{self, human_duration, Table};

/// The login route, as the sandbox records it.
const LOGIN: &str = "/user/obtain_token";
/// The refresh route.
const REFRESH: &str = "/user/refresh-token";
/// The route every demo call uses.
const ASSETS: &str = "/assets";

/// How long the sandbox holds the refresh in step 3.
const REFRESH_HOLD: Duration = Duration::from_millis(1500);

/// Runs the demo; fails (exit 1) if anything did not happen as narrated.
pub async fn run() -> CliResult {
    let started = Instant::now();
    let sandbox = Sandbox::builder()
        .start()
        .await
        .map_err(|e| Failure::runtime(format!("cannot start the embedded sandbox: {e}")))?;
    let clock = ManualClock::new(Utc::now());
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(RetryConfig {
            max_attempts: 3,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(5),
        })
        .build()
        .map_err(|e| Failure::runtime(format!("demo configuration: {e}")))?;
    let client = AmpClient::builder(config)
        .clock(Arc::new(clock.clone()))
        .store(Arc::new(MemoryStore::new()))
        .build()
        .map_err(|e| Failure::runtime(format!("demo client: {e}")))?;
    let start_time = clock.now();
    let mut demo = Demo {
        sandbox,
        client,
        clock,
        step: 0,
        seen: 0,
        calls: 0,
        failures: 0,
        surprises: 0,
    };
    demo.say(&format!(
        "amp demo: the life of a token, against an AMP sandbox running inside this process at {}\n\
         No credentials, no network. The client's clock is simulated, so hours pass in an instant;\n\
         the sandbox records every request, and each step is checked against its records.\n",
        demo.sandbox.base_url()
    ))?;
    demo.first_call().await?;
    demo.concurrent_calls().await?;
    demo.refresh_window().await?;
    demo.expired().await?;
    demo.rate_limited().await?;
    demo.revoked().await?;
    demo.summary(started, demo.clock.now() - start_time)?;
    let Demo {
        sandbox,
        failures,
        surprises,
        ..
    } = demo;
    sandbox.shutdown().await;
    if failures + surprises > 0 {
        return Err(Failure::runtime(format!(
            "the demo saw {failures} failed call(s) and {surprises} unexpected result(s)"
        )));
    }
    Ok(())
}

/// The demo's state: the sandbox, the client, its clock, and what was seen.
struct Demo {
    /// The embedded server.
    sandbox: Sandbox,
    /// The client under demonstration, reading `clock`.
    client: AmpClient,
    /// The client's clock, moved by the demo.
    clock: ManualClock,
    /// The number of the current step.
    step: usize,
    /// How many sandbox records earlier steps have looked at.
    seen: usize,
    /// Calls made by the demo (the caller).
    calls: u64,
    /// Calls that returned an error to the caller.
    failures: u64,
    /// Checks that did not hold.
    surprises: u64,
}

/// The requests the sandbox recorded during one step.
struct Window(Vec<RequestRecord>);

impl Window {
    /// Requests to `route` whose status passes `status`.
    fn count(&self, route: &str, status: impl Fn(u16) -> bool) -> usize {
        self.0
            .iter()
            .filter(|r| r.route == route && status(r.status))
            .count()
    }

    /// Successful logins.
    fn logins(&self) -> usize {
        self.count(LOGIN, |s| s == 200)
    }

    /// Requests to the refresh endpoint, successful or not.
    fn refresh_requests(&self) -> usize {
        self.count(REFRESH, |_| true)
    }

    /// Answers with this status, on any route.
    fn with_status(&self, status: u16) -> usize {
        self.0.iter().filter(|r| r.status == status).count()
    }

    /// The distinct `Authorization` headers seen on `route` (compared, never printed).
    fn tokens_on(&self, route: &str) -> BTreeSet<&str> {
        self.0
            .iter()
            .filter(|r| r.route == route)
            .filter_map(|r| r.authorization.as_deref())
            .collect()
    }
}

impl Demo {
    /// How many steps the demo has.
    const STEPS: usize = 6;

    /// Prints a line.
    fn say(&self, text: &str) -> CliResult {
        output::write_stdout(&format!("{text}\n"))
    }

    /// Starts step `n`: its title.
    fn step(&mut self, title: &str) -> CliResult {
        self.step += 1;
        self.say(&format!("[{}/{}] {title}", self.step, Self::STEPS))
    }

    /// An indented detail line of the current step.
    fn detail(&self, text: &str) -> CliResult {
        self.say(&format!("      {text}"))
    }

    /// Records a check; prints what was expected when it does not hold.
    fn check(&mut self, ok: bool, expected: &str) -> CliResult {
        if !ok {
            self.surprises += 1;
            self.detail(&format!("UNEXPECTED: expected {expected}"))?;
        }
        Ok(())
    }

    /// The sandbox's records since the previous call.
    fn window(&mut self) -> Window {
        let records = self.sandbox.stats().requests;
        let new = records.get(self.seen..).unwrap_or_default().to_vec();
        self.seen = records.len();
        Window(new)
    }

    /// One API call, as a user of the library makes it; returns the number of assets.
    async fn call(&mut self) -> CliResult<Option<usize>> {
        self.calls += 1;
        match self.client.assets().list().await {
            Ok(assets) => Ok(Some(assets.len())),
            Err(e) => {
                self.failures += 1;
                self.detail(&format!("call failed: {e}"))?;
                Ok(None)
            }
        }
    }

    /// `n` calls at once from as many tasks; returns how many succeeded and how long they took.
    async fn calls_at_once(&mut self, n: usize) -> CliResult<(usize, Duration)> {
        let started = Instant::now();
        let mut tasks = JoinSet::new();
        for _ in 0..n {
            let client = self.client.clone();
            tasks.spawn(async move { client.assets().list().await.map(|_| ()) });
        }
        let mut ok = 0;
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            self.calls += 1;
            match joined {
                Ok(Ok(())) => ok += 1,
                Ok(Err(e)) => {
                    self.failures += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
                Err(e) => {
                    self.failures += 1;
                    first_error.get_or_insert_with(|| e.to_string());
                }
            }
        }
        let elapsed = started.elapsed();
        if let Some(e) = first_error {
            self.detail(&format!("a call failed: {e}"))?;
        }
        Ok((ok, elapsed))
    }

    /// The current token's fingerprint, or `-`.
    fn fingerprint(&self) -> String {
        self.client
            .token_manager()
            .info()
            .fingerprint
            .unwrap_or_else(|| "-".to_string())
    }

    /// The time the current token has left, for people.
    fn expires_in(&self) -> String {
        self.client
            .token_manager()
            .info()
            .expires_in
            .map_or_else(|| "-".to_string(), human_duration)
    }

    /// Moves the client's clock so that `left` remains before the token expires
    /// (past the expiry by `-left` when `past` is set); returns how far it moved.
    fn move_clock_to_expiry(&self, left: Duration, past: bool) -> Duration {
        let info = self.client.token_manager().info();
        let now = self.clock.now();
        let Some(expires_at) = info.expires_at else {
            return Duration::ZERO;
        };
        let left = chrono::Duration::from_std(left).unwrap_or_default();
        let target = if past {
            expires_at + left
        } else {
            expires_at - left
        };
        let by = (target - now).to_std().unwrap_or_default();
        self.clock.advance(by);
        by
    }

    /// Step 1: the first call obtains a token.
    async fn first_call(&mut self) -> CliResult {
        self.step("The first call logs in")?;
        let assets = self.call().await?;
        let w = self.window();
        self.detail(&format!(
            "GET /assets/ returned {} assets. There was no token, so the client logged in first \
             ({} login); token {} is valid for {}.",
            assets.map_or_else(|| "no".to_string(), |n| n.to_string()),
            w.logins(),
            self.fingerprint(),
            self.expires_in(),
        ))?;
        self.check(
            assets.is_some() && w.logins() == 1,
            "the call to succeed after exactly 1 login",
        )
    }

    /// Step 2: 100 concurrent calls, one token.
    async fn concurrent_calls(&mut self) -> CliResult {
        self.step("100 concurrent calls share one token")?;
        let (ok, elapsed) = self.calls_at_once(100).await?;
        let w = self.window();
        let tokens = w.tokens_on(ASSETS).len();
        self.detail(&format!(
            "{ok} of 100 calls succeeded in {} ms, with {} new logins; the sandbox saw {tokens} \
             distinct token on them.",
            elapsed.as_millis(),
            w.logins(),
        ))?;
        self.check(
            ok == 100 && w.logins() == 0 && tokens == 1,
            "100 successes, 0 logins, 1 token",
        )
    }

    /// Step 3: inside the refresh window, one background refresh; callers do not wait.
    async fn refresh_window(&mut self) -> CliResult {
        self.step("5 minutes before expiry, the token is refreshed while calls go on")?;
        let before = self.fingerprint();
        let moved = self.move_clock_to_expiry(Duration::from_secs(4 * 60), false);
        let state = self.client.token_manager().info().state;
        self.sandbox.push_fault(REFRESH, Fault::Delay(REFRESH_HOLD));
        self.detail(&format!(
            "The clock jumped {} ahead: {} left, state {state}. The sandbox will hold the refresh for {:.1} s.",
            human_duration(moved),
            self.expires_in(),
            REFRESH_HOLD.as_secs_f64(),
        ))?;
        let (ok, elapsed) = self.calls_at_once(20).await?;
        let during = self.window();
        // Wait for the background refresh to land (the sandbox holds it).
        let waited = Instant::now();
        while self.client.token_manager().info().state != TokenState::Valid
            && waited.elapsed() < Duration::from_secs(15)
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let after = self.window();
        let refreshes = during.refresh_requests() + after.refresh_requests();
        let logins = during.logins() + after.logins();
        let tokens = during.tokens_on(ASSETS).len();
        self.detail(&format!(
            "{ok} of 20 calls returned in {} ms on the current token; meanwhile {} refresh ran in \
             the background ({} logins), and token {} took over, valid for {}.",
            elapsed.as_millis(),
            refreshes,
            logins,
            self.fingerprint(),
            self.expires_in(),
        ))?;
        self.check(state == TokenState::Expiring, "the state to be expiring")?;
        self.check(
            ok == 20 && elapsed < REFRESH_HOLD && tokens == 1,
            "20 calls done before the refresh answered, all on the current token",
        )?;
        self.check(
            refreshes == 1 && logins == 0 && self.fingerprint() != before,
            "exactly 1 refresh, 0 logins, and a new token",
        )
    }

    /// Step 4: past the expiry, a new login (the old token is never sent).
    async fn expired(&mut self) -> CliResult {
        self.step("An expired token is obtained anew")?;
        let moved = self.move_clock_to_expiry(Duration::from_secs(60), true);
        // The sandbox keeps real time; make it agree that the old token is dead.
        self.sandbox.revoke_all_tokens();
        let state = self.client.token_manager().info().state;
        self.detail(&format!(
            "The clock jumped {} ahead, past the expiry: state {state} (the sandbox forgot the token too).",
            human_duration(moved)
        ))?;
        let assets = self.call().await?;
        let w = self.window();
        self.detail(&format!(
            "The next call logged in first ({} login, {} refreshes, {} rejected requests: the expired \
             token was never sent) and {}.",
            w.logins(),
            w.refresh_requests(),
            w.with_status(401),
            if assets.is_some() { "succeeded" } else { "failed" },
        ))?;
        self.check(state == TokenState::Expired, "the state to be expired")?;
        self.check(
            assets.is_some()
                && w.logins() == 1
                && w.refresh_requests() == 0
                && w.with_status(401) == 0,
            "1 login, no refresh, no 401, and a successful call",
        )
    }

    /// Step 5: a 429 with `Retry-After: 1` is waited out.
    async fn rate_limited(&mut self) -> CliResult {
        self.step("A 429 with Retry-After is honoured")?;
        self.sandbox.push_fault(ASSETS, Fault::RateLimitSeconds(1));
        let started = Instant::now();
        let assets = self.call().await?;
        let elapsed = started.elapsed();
        let w = self.window();
        self.detail(&format!(
            "The sandbox answered 429 with Retry-After: 1; the client waited {:.2} s, asked again \
             ({} requests in all), and the call {}.",
            elapsed.as_secs_f64(),
            w.count(ASSETS, |_| true),
            if assets.is_some() {
                "succeeded"
            } else {
                "failed"
            },
        ))?;
        self.check(
            assets.is_some()
                && w.count(ASSETS, |s| s == 429) == 1
                && w.count(ASSETS, |_| true) == 2
                && elapsed >= Duration::from_secs(1),
            "one 429, a wait of at least 1 s, then success",
        )
    }

    /// Step 6: a revoked token is replaced by one login and the call replayed.
    async fn revoked(&mut self) -> CliResult {
        self.step("A revoked token heals itself")?;
        self.sandbox.revoke_all_tokens();
        let assets = self.call().await?;
        let w = self.window();
        self.detail(&format!(
            "The sandbox revoked every token. The next call got {} × 401, the client logged in {} time \
             and replayed it: the call {}.",
            w.with_status(401),
            w.logins(),
            if assets.is_some() { "succeeded" } else { "failed" },
        ))?;
        self.check(
            assets.is_some() && w.with_status(401) == 1 && w.logins() == 1,
            "one 401, one login, then success",
        )
    }

    /// The table of what the sandbox saw over the whole demo.
    fn summary(&mut self, started: Instant, simulated: chrono::Duration) -> CliResult {
        let stats = self.sandbox.stats();
        let records = &stats.requests;
        let api_ok = records
            .iter()
            .filter(|r| !r.route.starts_with("/user/") && (200..300).contains(&r.status))
            .count();
        let by_status = |route: &str, status: u16| {
            records
                .iter()
                .filter(|r| r.route == route && r.status == status)
                .count()
        };
        let retried = records
            .iter()
            .filter(|r| r.status == 429 || r.status >= 500 || r.status == 0)
            .count();
        let status = |s: u16| records.iter().filter(|r| r.status == s).count();
        let mut table = Table::bare();
        let mut row =
            |what: &str, n: String, note: &str| table.row([what.to_string(), n, note.to_string()]);
        row(
            "calls",
            api_ok.to_string(),
            &format!("answered, of {} the demo made", self.calls),
        );
        row(
            "logins",
            by_status(LOGIN, 200).to_string(),
            "POST /user/obtain_token",
        );
        row(
            "refreshes",
            by_status(REFRESH, 200).to_string(),
            "/user/refresh-token",
        );
        row(
            "retries",
            retried.to_string(),
            "answers the client asked again after (429, 5xx, torn)",
        );
        row("429s", status(429).to_string(), "rate limited");
        row(
            "401s",
            status(401).to_string(),
            "revoked token, healed by one login",
        );
        row(
            "failures",
            self.failures.to_string(),
            "calls that returned an error to the caller",
        );
        let indented: String = table
            .render()
            .lines()
            .map(|line| format!("  {line}\n"))
            .collect();
        self.say(&format!(
            "\nSummary, from the sandbox's records ({} requests in all):\n{indented}\
             Done in {:.1} s of real time, while the client's clock moved {}.\n\
             Run with RUST_LOG=amp_client=debug to see the client's own log of each login and refresh.",
            stats.total(),
            started.elapsed().as_secs_f64(),
            human_duration(simulated.to_std().unwrap_or_default()),
        ))?;
        let consistent = api_ok as u64 + self.failures == self.calls;
        self.check(consistent, "every call made to be answered by the sandbox")
    }
}
