//! A soak under faults: 200 tasks share one client for three simulated days
//! against a sandbox that fails a quarter of all requests, in tokio's paused
//! time (the sandbox runs on the test's runtime, so its token lives, delays and
//! `Retry-After`s pass in virtual time too).
//!
//! Every request, logins and refreshes included, draws at most one fault:
//!
//! | fault | share of requests |
//! |---|---|
//! | 500 / 502 / 503 / 504 | 8 % / 4 % / 4 % / 4 % (20 % 5xx) |
//! | 429 `Retry-After: 1` / 429 `Retry-After: <HTTP-date 2 s ahead>` | 2.5 % / 2.5 % (5 %) |
//! | torn connection | 2 % |
//! | latency 50 ms / 500 ms / 3 s | 10 % / 5 % / 2 % |
//! | latency 12 s (beyond the 10 s request timeout) | 0.5 % |
//!
//! and every token is revoked once per simulated day (at 10 h, 34 h, 58 h).
//! Tokens live 6 h (the sandbox issues them so and the client is told), so
//! that refreshes, not only revocations, happen under fire: a dozen of them.
//! Each task calls every 30 simulated minutes (from a random phase): 90 % GET
//! `assets/`, 10 % POST `registered_users/add`. That is 28 800 calls, which a
//! debug build runs in well under a minute. The test prints its figures (`cargo test -p amp-client --test it soak -- --nocapture`).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amp_client::{AmpClient, Config, Error, RetryConfig, TokenPolicy, TokioClock};
use amp_sandbox::{Fault, Sandbox};

const TASKS: usize = 200;
const DAYS: u64 = 3;
const HOUR: Duration = Duration::from_secs(3600);
const DAY: Duration = Duration::from_secs(24 * 3600);
const CALL_EVERY: Duration = Duration::from_secs(30 * 60);
const MAX_ATTEMPTS: u32 = 3;
const TOKEN_LIFE: Duration = Duration::from_secs(6 * 3600);

/// The faults and the share of all requests each should hit. The sandbox
/// tries the rates of a route in the order they were set, each with its own
/// draw, and applies the first that hits; so the i-th rate is set to its share
/// divided by what the earlier ones leave.
fn faults() -> Vec<(Fault, f64)> {
    vec![
        (Fault::Status(500), 0.08),
        (Fault::Status(502), 0.04),
        (Fault::Status(503), 0.04),
        (Fault::Status(504), 0.04),
        (Fault::RateLimitSeconds(1), 0.025),
        (Fault::RateLimitDate(Duration::from_secs(2)), 0.025),
        (Fault::DropConnection, 0.02),
        (Fault::Delay(Duration::from_millis(50)), 0.10),
        (Fault::Delay(Duration::from_millis(500)), 0.05),
        (Fault::Delay(Duration::from_secs(3)), 0.02),
        (Fault::Delay(Duration::from_secs(12)), 0.005),
    ]
}

/// The kind of a failed call, by the `Error` predicates alone; `None` when no
/// predicate admits to it (which fails the test).
fn kind(e: &Error) -> Option<&'static str> {
    let base = if e.is_rate_limited() {
        "rate limited"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_transport() {
        "transport"
    } else if e.is_decode() {
        "decode"
    } else if e.is_config() {
        return None;
    } else if let Some(s) = e.status() {
        if s.is_server_error() {
            "server error"
        } else {
            return None;
        }
    } else {
        return None;
    };
    Some(match e {
        e if e.is_auth() => match base {
            "rate limited" => "login: rate limited",
            "timeout" => "login: timeout",
            "transport" => "login: transport",
            "server error" => "login: server error",
            _ => "login: other",
        },
        e if e.is_budget_exhausted() => "retry budget spent",
        _ => base,
    })
}

/// Aborts the process if the soak has not ended after this much real time:
/// paused time bounds everything that waits on a timer, this bounds the rest.
fn watchdog(limit: Duration) -> Arc<std::sync::atomic::AtomicBool> {
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = done.clone();
    std::thread::spawn(move || {
        let start = std::time::Instant::now();
        while start.elapsed() < limit {
            if flag.load(std::sync::atomic::Ordering::Relaxed) {
                return;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        eprintln!("soak still running after {limit:?} of real time: hung");
        std::process::abort();
    });
    done
}

#[tokio::test(start_paused = true)]
async fn three_days_of_faults_with_200_tasks() {
    let done = watchdog(Duration::from_secs(900));
    let mut builder = Sandbox::builder()
        .seed(0x5eed_c4a0)
        // Every request's record is kept (~35 000), for the fault tally.
        .record_limit(100_000)
        .token_life(TOKEN_LIFE);
    let mut left = 1.0;
    for (fault, share) in faults() {
        builder = builder.fault_rate("*", fault, share / left);
        left -= share;
    }
    let sandbox = builder.start().await.unwrap();
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(RetryConfig {
            max_attempts: MAX_ATTEMPTS,
            ..RetryConfig::default()
        })
        .request_timeout(Duration::from_secs(10))
        .token_policy(TokenPolicy {
            lifetime: TOKEN_LIFE,
            ..TokenPolicy::default()
        })
        .build()
        .unwrap();
    let client = AmpClient::builder(config)
        .clock(Arc::new(TokioClock::new()))
        .build()
        .unwrap();

    let start = tokio::time::Instant::now();
    let end = start + DAY * DAYS as u32;
    let outcomes: Arc<Mutex<BTreeMap<&'static str, u64>>> = Default::default();
    let unclassified: Arc<Mutex<Vec<String>>> = Default::default();
    let revocations = Arc::new(std::sync::atomic::AtomicU64::new(0));

    let soak = async {
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..TASKS {
            let client = client.clone();
            let outcomes = outcomes.clone();
            let unclassified = unclassified.clone();
            tasks.spawn(async move {
                let mut rng = fastrand::Rng::with_seed(i as u64);
                let phase = CALL_EVERY.mul_f64(rng.f64());
                tokio::time::sleep(phase).await;
                let mut n = 0u64;
                while tokio::time::Instant::now() < end {
                    let result = if rng.u8(..10) == 0 {
                        let body = serde_json::json!({
                            "name": format!("chaos {i} {n}"),
                            "GAID": null,
                            "is_company": false,
                        });
                        client
                            .post::<serde_json::Value>("registered_users/add", &body)
                            .await
                    } else {
                        client.get::<serde_json::Value>("assets/").await
                    };
                    let key = match &result {
                        Ok(_) => Some("ok"),
                        Err(e) => {
                            let k = kind(e);
                            // Never more attempts than configured (a retry may
                            // stop earlier: a failure not worth repeating, the
                            // retry budget, a Retry-After beyond the cap).
                            let attempts_ok = e.attempts().is_none_or(|a| a <= MAX_ATTEMPTS);
                            if k.is_none() || !attempts_ok {
                                unclassified.lock().unwrap().push(format!("{e} / {e:?}"));
                            }
                            k
                        }
                    };
                    *outcomes
                        .lock()
                        .unwrap()
                        .entry(key.unwrap_or("UNCLASSIFIED"))
                        .or_default() += 1;
                    n += 1;
                    tokio::time::sleep(CALL_EVERY).await;
                }
            });
        }
        let revoker = {
            let revocations = revocations.clone();
            let sandbox = &sandbox;
            async move {
                let mut at = start + 10 * HOUR;
                while at < end {
                    tokio::time::sleep_until(at).await;
                    sandbox.revoke_all_tokens();
                    revocations.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    at += DAY;
                }
            }
        };
        let join = async {
            while let Some(r) = tasks.join_next().await {
                r.expect("no task panics");
            }
        };
        tokio::join!(revoker, join);
    };
    tokio::time::timeout(DAY * DAYS as u32 + 2 * HOUR, soak)
        .await
        .expect("every task ended: no call hung");
    done.store(true, std::sync::atomic::Ordering::Relaxed);

    let outcomes = outcomes.lock().unwrap().clone();
    let total: u64 = outcomes.values().sum();
    let stats = client.token_manager().stats();
    let revocations = revocations.load(std::sync::atomic::Ordering::Relaxed);
    let server = sandbox.stats();
    let mut faulted: BTreeMap<String, u64> = BTreeMap::new();
    for r in &server.requests {
        if let Some(f) = &r.fault {
            *faulted.entry(format!("{f:?}")).or_default() += 1;
        }
    }
    println!("calls: {total}, outcomes: {outcomes:#?}");
    println!("client stats: {stats:#?}");
    println!(
        "revocations: {revocations}; server requests: {} (logins {}, refreshes GET {} POST {}, GET assets {}, POST add {})",
        server.total(),
        sandbox.count("POST", "/user/obtain_token"),
        sandbox.count("GET", "/user/refresh-token"),
        sandbox.count("POST", "/user/refresh-token"),
        sandbox.count("GET", "/assets"),
        sandbox.count("POST", "/registered_users/add"),
    );
    println!(
        "faults over all {} requests: {faulted:#?}",
        server.requests.len()
    );

    let unclassified = unclassified.lock().unwrap();
    assert!(
        unclassified.is_empty(),
        "unclassified failures: {unclassified:#?}"
    );
    let per_task = (DAY * DAYS as u32).as_secs() / CALL_EVERY.as_secs();
    assert!(
        total >= TASKS as u64 * (per_task - 1) && total <= TASKS as u64 * (per_task + 1),
        "every task kept calling: {total}"
    );
    assert!(
        outcomes.get("ok").copied().unwrap_or(0) > total / 2,
        "{outcomes:?}"
    );
    assert_eq!(revocations, DAYS);
    assert!(
        stats.obtains <= 1 + revocations + stats.fallbacks,
        "logins {} > 1 + revocations {} + fallbacks {}",
        stats.obtains,
        revocations,
        stats.fallbacks
    );
    assert!(
        stats.obtains > revocations,
        "the first login, and every revocation healed by a login"
    );
    // 12 lives of 6 h in 3 days, 3 of them cut short by a revocation.
    assert!(
        stats.refreshes >= 6,
        "tokens were refreshed, not only replaced"
    );
}
