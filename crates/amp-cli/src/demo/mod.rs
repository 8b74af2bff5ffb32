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

use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Clock, Config, ManualClock, MemoryStore, RetryConfig};
use amp_sandbox::Sandbox;
use chrono::Utc;
use tokio::task::JoinSet;

pub mod onchain;
mod steps;
mod window;

use crate::failure::{CliResult, Failure};
use crate::output::{self, human_duration};
use window::Window;

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
}
