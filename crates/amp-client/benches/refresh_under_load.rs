//! Figure 2 of issue 7: the latency of `token()` while the token crosses the
//! 5-minute point and the server takes 200 ms to answer the refresh.
//!
//! 1,000 tasks on a multi-thread runtime call `token()` in a loop (yielding
//! between calls). The client reads a `ManualClock` that stands 6 min before
//! the token's expiry, outside the refresh window; once the callers run, the
//! clock is moved 2 min forward, into the window (4 min left: past the soft
//! point, well before the hard point at 30 s). The sandbox delays the answer to
//! the refresh by 200 ms. Every call in progress at some moment between the
//! clock's move and the new token being in place (started in that span, or
//! still waiting when the clock moved) is "during the refresh"; each call's
//! latency is timed with `std::time::Instant` and collected in a `Vec`, sorted
//! at the end for p50, p99 and max.
//!
//! The baseline is the design where callers wait behind the refresh: a
//! `tokio::sync::Mutex<Option<(String, expiry)>>` held across the refresh call
//! to the same sandbox.
//!
//! This bench has its own `main` rather than a criterion loop: the figure is
//! a distribution of individual latencies of 1,000 concurrent callers around
//! one event, and criterion only times the total of repeated iterations of
//! one routine. The scenario is repeated (runs alternate between the two
//! designs) and each figure is reported as the median over the runs with
//! its minimum and maximum.
//!
//! It also prints the login counts (also asserted by the test module
//! `login_count`): a cold start with 10,000 concurrent callers, and
//! 72 simulated hours with a real API call every simulated second (the test,
//! in a debug build, makes the real call once a simulated minute and asks
//! the token manager the other seconds).

mod common;

use std::hint::black_box;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Clock, Config, ManualClock, MemoryStore, TokioClock};
use amp_sandbox::{Fault, Sandbox};
use chrono::{DateTime, Utc};
use common::{human, quantile, spread};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use tokio::runtime::Runtime;

const CALLERS: usize = 1000;
const REFRESH_DELAY: Duration = Duration::from_millis(200);
const REFRESH_ROUTE: &str = "/user/refresh-token";

// ---------------------------------------------------------------- the baseline

/// Callers wait behind the refresh: the lock is held across the HTTP call.
struct WaitBehind {
    cell: tokio::sync::Mutex<Option<(String, DateTime<Utc>)>>,
    http: reqwest::Client,
    base: String,
    username: String,
    password: String,
    clock: ManualClock,
    renewals: AtomicU64,
}

#[derive(serde::Deserialize)]
struct TokenAnswer {
    token: String,
}

impl WaitBehind {
    /// The token, and how many renewals it has seen (for the bench's bookkeeping).
    async fn token(&self) -> Result<(String, u64), Box<dyn std::error::Error + Send + Sync>> {
        let mut cell = self.cell.lock().await;
        let now = self.clock.now();
        if let Some((token, expires_at)) = cell.as_ref() {
            if now + chrono::Duration::minutes(5) < *expires_at {
                return Ok((token.clone(), self.renewals.load(Ordering::Acquire)));
            }
        }
        let request = match cell.as_ref() {
            Some((token, _)) => self
                .http
                .get(format!("{}/user/refresh-token", self.base))
                .header(AUTHORIZATION, format!("token {token}")),
            None => self
                .http
                .post(format!("{}/user/obtain_token", self.base))
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(&serde_json::json!({
                    "username": self.username,
                    "password": self.password,
                }))?),
        };
        let body = request.send().await?.error_for_status()?.bytes().await?;
        let answer: TokenAnswer = serde_json::from_slice(&body)?;
        *cell = Some((answer.token.clone(), now + chrono::Duration::hours(24)));
        let renewals = self.renewals.fetch_add(1, Ordering::AcqRel) + 1;
        Ok((answer.token, renewals))
    }
}

// ---------------------------------------------------------------- the scenario

#[derive(Clone, Copy, Debug, PartialEq)]
enum Design {
    Ours,
    WaitBehind,
}

impl Design {
    fn name(self) -> &'static str {
        match self {
            Design::Ours => "ours",
            Design::WaitBehind => "wait-behind baseline",
        }
    }
}

#[derive(Clone)]
enum Caller {
    Ours(AmpClient),
    WaitBehind(Arc<WaitBehind>),
}

impl Caller {
    /// One call: which token it got (a number that grows with each renewal),
    /// or `None` if it failed.
    async fn call(&self) -> Option<u64> {
        match self {
            Caller::Ours(c) => c
                .token_manager()
                .token()
                .await
                .ok()
                .map(|t| black_box(t).generation()),
            Caller::WaitBehind(b) => b.token().await.ok().map(|t| black_box(t).1),
        }
    }

    /// How many times the token was replaced so far.
    fn renewals(&self) -> u64 {
        match self {
            Caller::Ours(c) => c.token_manager().stats().generation,
            Caller::WaitBehind(b) => b.renewals.load(Ordering::Acquire),
        }
    }

    fn expires_at(&self) -> DateTime<Utc> {
        match self {
            Caller::Ours(c) => c.token_manager().snapshot().unwrap().expires_at,
            Caller::WaitBehind(b) => b.cell.try_lock().unwrap().as_ref().unwrap().1,
        }
    }
}

fn config(sandbox: &Sandbox) -> Config {
    Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap()
}

fn caller(design: Design, sandbox: &Sandbox, clock: &ManualClock) -> Caller {
    match design {
        Design::Ours => Caller::Ours(
            AmpClient::builder(config(sandbox))
                .clock(Arc::new(clock.clone()))
                .store(Arc::new(MemoryStore::new()))
                .build()
                .unwrap(),
        ),
        Design::WaitBehind => Caller::WaitBehind(Arc::new(WaitBehind {
            cell: tokio::sync::Mutex::new(None),
            http: reqwest::Client::new(),
            base: sandbox.base_url(),
            username: sandbox.username().to_string(),
            password: sandbox.password().to_string(),
            clock: clock.clone(),
            renewals: AtomicU64::new(0),
        })),
    }
}

struct Run {
    design: Design,
    /// Latencies of the calls in progress during the refresh, sorted, in ns.
    during: Vec<u64>,
    /// Latencies of the calls that ended in the 50 ms before the clock moved, sorted.
    before: Vec<u64>,
    /// From the clock's move to the end of the first call that got the new token.
    window: Duration,
    failed: u64,
}

fn multi_thread() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn run(design: Design, sandbox: &Sandbox, callers: usize) -> Run {
    let rt = multi_thread();
    let clock = ManualClock::new(Utc::now());
    let caller = caller(design, sandbox, &clock);
    assert!(
        rt.block_on(caller.call()).is_some(),
        "the first login failed"
    );
    // Just outside the refresh window (5 min, jittered up to 30 s earlier).
    clock.set(caller.expires_at() - chrono::Duration::minutes(6));
    let renewals_before = caller.renewals();
    sandbox.push_fault(REFRESH_ROUTE, Fault::Delay(REFRESH_DELAY));

    let origin = Instant::now();
    let recording = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicU64::new(0));
    let tasks: Vec<_> = (0..callers)
        .map(|_| {
            let (caller, recording, stop, failed) = (
                caller.clone(),
                recording.clone(),
                stop.clone(),
                failed.clone(),
            );
            rt.spawn(async move {
                // (start of the call since `origin` and latency in ns, token got).
                let mut samples: Vec<(u64, u64, u64)> = Vec::with_capacity(1024);
                while !stop.load(Ordering::Relaxed) {
                    let t0 = Instant::now();
                    let got = caller.call().await;
                    let latency = t0.elapsed();
                    if got.is_none() {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    if recording.load(Ordering::Relaxed) {
                        samples.push((
                            (t0 - origin).as_nanos() as u64,
                            latency.as_nanos() as u64,
                            got.unwrap_or(0),
                        ));
                    }
                    tokio::task::yield_now().await;
                }
                samples
            })
        })
        .collect();

    std::thread::sleep(Duration::from_millis(100));
    recording.store(true, Ordering::Relaxed);
    std::thread::sleep(Duration::from_millis(50));
    let moved = origin.elapsed();
    clock.advance(Duration::from_secs(120));
    let deadline = Instant::now() + Duration::from_secs(30);
    while caller.renewals() == renewals_before {
        assert!(
            Instant::now() < deadline,
            "{design:?}: no refresh within 30 s"
        );
        std::thread::sleep(Duration::from_micros(200));
    }
    std::thread::sleep(Duration::from_millis(20));
    stop.store(true, Ordering::Relaxed);
    let samples: Vec<(u64, u64, u64)> = rt.block_on(async {
        let mut all = Vec::new();
        for t in tasks {
            all.extend(t.await.unwrap());
        }
        all
    });
    let moved_ns = moved.as_nanos() as u64;
    // The new token was in place when the first call that got it ended.
    let renewed_ns = samples
        .iter()
        .filter(|s| s.2 > renewals_before)
        .map(|&(at, l, _)| at + l)
        .min()
        .expect("no call got the new token");
    // During: every call in progress at some point between the clock's move
    // and the new token (a caller already queued when the clock moved counts).
    let mut during: Vec<u64> = samples
        .iter()
        .filter(|&&(at, l, _)| at <= renewed_ns && at + l >= moved_ns)
        .map(|&(_, l, _)| l)
        .collect();
    let mut before: Vec<u64> = samples
        .iter()
        .filter(|&&(at, l, _)| at + l < moved_ns)
        .map(|&(_, l, _)| l)
        .collect();
    during.sort_unstable();
    before.sort_unstable();
    rt.shutdown_timeout(Duration::from_secs(1));
    Run {
        design,
        during,
        before,
        window: Duration::from_nanos(renewed_ns.saturating_sub(moved_ns)),
        failed: failed.load(Ordering::Relaxed),
    }
}

fn ns(v: u64) -> String {
    human(Duration::from_nanos(v))
}

fn report(runs: &[Run]) {
    println!();
    println!("== token() latency during the refresh ({CALLERS} callers, refresh answered after {REFRESH_DELAY:?}) ==");
    for r in runs {
        println!(
            "run {:<22} window {:>9}  calls {:>8}  p50 {:>9}  p99 {:>9}  max {:>9}   (before: calls {:>7} p50 {:>8} p99 {:>8} max {:>8})  failed {}",
            r.design.name(),
            human(r.window),
            r.during.len(),
            ns(quantile(&r.during, 0.50)),
            ns(quantile(&r.during, 0.99)),
            ns(*r.during.last().unwrap()),
            r.before.len(),
            ns(quantile(&r.before, 0.50)),
            ns(quantile(&r.before, 0.99)),
            ns(*r.before.last().unwrap()),
            r.failed,
        );
    }
    let figure = |design: Design, f: &dyn Fn(&Run) -> f64| -> Vec<f64> {
        runs.iter().filter(|r| r.design == design).map(f).collect()
    };
    let p50 = |r: &Run| quantile(&r.during, 0.50) as f64;
    let p99 = |r: &Run| quantile(&r.during, 0.99) as f64;
    let max = |r: &Run| *r.during.last().unwrap() as f64;
    println!();
    for (label, f) in [
        ("p50", &p50 as &dyn Fn(&Run) -> f64),
        ("p99", &p99),
        ("max", &max),
    ] {
        let ours = spread(&figure(Design::Ours, f));
        let base = spread(&figure(Design::WaitBehind, f));
        let show = |(m, lo, hi): (f64, f64, f64)| {
            format!("{} [{} – {}]", ns(m as u64), ns(lo as u64), ns(hi as u64))
        };
        println!(
            "RESULT refresh {label}: ours {}  baseline {}  ratio baseline/ours {:.0}x",
            show(ours),
            show(base),
            base.0 / ours.0
        );
    }
    let windows: Vec<f64> = runs
        .iter()
        .filter(|r| r.design == Design::Ours)
        .map(|r| r.window.as_secs_f64() * 1e3)
        .collect();
    let (m, lo, hi) = spread(&windows);
    println!("RESULT refresh window (ours, clock move → new token): median {m:.1} ms [{lo:.1} – {hi:.1}]");
    let failed: u64 = runs.iter().map(|r| r.failed).sum();
    println!("RESULT refresh failed calls: {failed}");
}

// ---------------------------------------------------------------- logins

fn logins(sandbox: &Sandbox) -> u64 {
    sandbox.count("POST", "/user/obtain_token")
}

fn refreshes(sandbox: &Sandbox) -> u64 {
    sandbox.count("GET", REFRESH_ROUTE) + sandbox.count("POST", REFRESH_ROUTE)
}

/// 10,000 callers at once on a client that has no token yet.
fn cold_start(callers: usize) {
    let rt = multi_thread();
    let (count, failed, elapsed) = rt.block_on(async {
        let sandbox = Sandbox::builder().record_limit(100).start().await.unwrap();
        let client = AmpClient::builder(config(&sandbox))
            .store(Arc::new(MemoryStore::new()))
            .build()
            .unwrap();
        let start = Instant::now();
        let tasks: Vec<_> = (0..callers)
            .map(|_| {
                let c = client.clone();
                tokio::spawn(async move { c.token_manager().token().await.is_ok() })
            })
            .collect();
        let mut failed = 0;
        for t in tasks {
            failed += u64::from(!t.await.unwrap());
        }
        (logins(&sandbox), failed, start.elapsed())
    });
    println!(
        "RESULT logins cold start: {callers} concurrent callers → {count} login(s), {failed} failed, all served in {}",
        human(elapsed)
    );
}

/// 72 simulated hours with a real API call (`GET /assets/`) every simulated
/// second, in paused time with the sandbox on the same runtime.
fn three_days() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap();
    let real = Instant::now();
    let (calls, api_calls, failed, login_count, refresh_count) = rt.block_on(async {
        let sandbox = Sandbox::builder().record_limit(100).start().await.unwrap();
        let client = AmpClient::builder(config(&sandbox))
            .clock(Arc::new(TokioClock::new()))
            .store(Arc::new(MemoryStore::new()))
            .build()
            .unwrap();
        let (mut calls, mut failed) = (0u64, 0u64);
        for _ in 0..72 * 3600u64 {
            calls += 1;
            let ok = client.get::<serde_json::Value>("assets/").await.is_ok();
            failed += u64::from(!ok);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let api_calls = sandbox.count("GET", "/assets");
        (
            calls,
            api_calls,
            failed,
            logins(&sandbox),
            refreshes(&sandbox),
        )
    });
    println!(
        "RESULT logins 72 h: {calls} API calls ({api_calls} answered by the sandbox) → {login_count} login(s), {refresh_count} refresh(es), {failed} failed; {} real time",
        human(real.elapsed())
    );
}

fn main() {
    let bench = common::is_bench_run();
    let runs = if bench { 7 } else { 1 };
    // The server on its own runtime and thread, like a server elsewhere.
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let sandbox = server_rt
        .block_on(Sandbox::builder().record_limit(1000).start())
        .unwrap();
    let mut results = Vec::new();
    for _ in 0..runs {
        for design in [Design::Ours, Design::WaitBehind] {
            results.push(run(design, &sandbox, CALLERS));
        }
    }
    report(&results);
    println!();
    cold_start(10_000);
    if bench {
        three_days();
    }
}
