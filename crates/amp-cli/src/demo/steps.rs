//! The six steps of the demo and its summary, each a method of [`Demo`]:
//! what it does, what it says, and what it checks in the sandbox's records.

use std::time::{Duration, Instant};

use amp_client::TokenState;
use amp_sandbox::Fault;

use super::window::{ASSETS, LOGIN, REFRESH};
use super::{Demo, REFRESH_HOLD};
use crate::failure::CliResult;
use crate::output::{human_duration, Table};

impl Demo {
    /// Step 1: the first call obtains a token.
    pub(super) async fn first_call(&mut self) -> CliResult {
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
    pub(super) async fn concurrent_calls(&mut self) -> CliResult {
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
    pub(super) async fn refresh_window(&mut self) -> CliResult {
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
    pub(super) async fn expired(&mut self) -> CliResult {
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
    pub(super) async fn rate_limited(&mut self) -> CliResult {
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
    pub(super) async fn revoked(&mut self) -> CliResult {
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
    pub(super) fn summary(&mut self, started: Instant, simulated: chrono::Duration) -> CliResult {
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
