//! Whole flows against the amp-sandbox, in tokio's paused time: the sandbox
//! runs on the test's runtime, so backoff sleeps, `Retry-After` waits, token
//! lives and timeouts all pass in virtual time, and the client's `TokioClock`
//! follows the same clock.

use crate::common::capture;

use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, RetryConfig, TokenPolicy, TokenState, TokioClock};
use amp_sandbox::{Fault, Sandbox};
use capture::Capture;
use tokio::time::Instant;

const HOUR: Duration = Duration::from_secs(3600);

fn config(sandbox: &Sandbox, retry: RetryConfig) -> Config {
    Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(retry)
        .build()
        .unwrap()
}

fn client(sandbox: &Sandbox, retry: RetryConfig) -> AmpClient {
    AmpClient::builder(config(sandbox, retry))
        .clock(Arc::new(TokioClock::new()))
        .build()
        .unwrap()
}

const LOGIN: (&str, &str) = ("POST", "/user/obtain_token");

fn logins(s: &Sandbox) -> u64 {
    s.count(LOGIN.0, LOGIN.1)
}

fn refreshes(s: &Sandbox) -> u64 {
    s.count("GET", "/user/refresh-token") + s.count("POST", "/user/refresh-token")
}

// R4.2: 429 with `Retry-After: 2` → the next attempt no earlier than 2 s later.
#[tokio::test(start_paused = true)]
async fn retry_after_seconds_is_honoured() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.token_manager().token().await.unwrap();
    sandbox.push_fault("/assets", Fault::RateLimitSeconds(2));
    let started = Instant::now();
    client.assets().list().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.count("GET", "/assets"), 2);
    assert_eq!(client.token_manager().stats().rate_limited, 1);
}

// R4.2: 429 with an HTTP-date → no attempt before that date.
#[tokio::test(start_paused = true)]
async fn retry_after_http_date_is_honoured() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.token_manager().token().await.unwrap();
    // HTTP-dates have whole seconds: 3 s ahead names an instant 2 to 3 s away.
    sandbox.push_fault("/assets", Fault::RateLimitDate(Duration::from_secs(3)));
    let started = Instant::now();
    client.assets().list().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(sandbox.count("GET", "/assets"), 2);
}

// A Retry-After longer than the maximum delay stops at once, and later calls
// respect the pause without sending anything.
#[tokio::test(start_paused = true)]
async fn a_long_retry_after_fails_fast_and_pauses_the_client() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.token_manager().token().await.unwrap();
    sandbox.push_fault("/assets", Fault::RateLimitSeconds(120));
    let started = Instant::now();
    let e = client.assets().list().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert!(e.is_rate_limited(), "{e}");
    assert_eq!(e.retry_after(), Some(Duration::from_secs(120)));
    assert!(e.to_string().contains("retry after 120"), "{e}");
    let e = client.assets().list().await.unwrap_err();
    assert!(e.is_rate_limited(), "{e}");
    assert_eq!(sandbox.count("GET", "/assets"), 1);
    tokio::time::advance(Duration::from_secs(121)).await;
    client.assets().list().await.unwrap();
    assert_eq!(sandbox.count("GET", "/assets"), 2);
}

// A 429 on login: every waiting task respects it, and one login serves them all.
#[tokio::test(start_paused = true)]
async fn a_rate_limited_login_is_waited_out_once() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/user/obtain_token", Fault::RateLimitSeconds(3));
    let client = client(&sandbox, RetryConfig::default());
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let c = client.clone();
        tasks.spawn(async move { c.assets().list().await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert!(started.elapsed() >= Duration::from_secs(3));
    assert_eq!(logins(&sandbox), 2, "the 429, then one login");
    assert_eq!(sandbox.count("GET", "/assets"), 200);
}

// Torn connections and 5xx are retried; POSTs that may have run are not.
#[tokio::test(start_paused = true)]
async fn dropped_connections_and_5xx_are_retried() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.token_manager().token().await.unwrap();
    sandbox.push_fault("/assets", Fault::DropConnection);
    sandbox.push_fault("/assets", Fault::Status(502));
    client.assets().list().await.unwrap();
    assert_eq!(sandbox.count("GET", "/assets"), 3);
    assert_eq!(client.token_manager().stats().retries, 2);
    sandbox.push_fault("/registered_users/add", Fault::DropConnection);
    let e = client
        .post::<serde_json::Value>(
            "registered_users/add",
            &serde_json::json!({"name": "Ann", "GAID": null, "is_company": false}),
        )
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_eq!(sandbox.count("POST", "/registered_users/add"), 1);
}

// Timeouts: a slow answer past the per-attempt limit is abandoned and retried.
#[tokio::test(start_paused = true)]
async fn slow_answers_time_out_per_attempt() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::for_tests());
    client.token_manager().token().await.unwrap();
    sandbox.push_fault("/assets", Fault::Delay(Duration::from_secs(60)));
    let started = Instant::now();
    client.assets().list().await.unwrap();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(12),
        "{waited:?}"
    );
    assert_eq!(sandbox.count("GET", "/assets"), 2);
}

// Revocation: every token dies at the server; the next call heals with one login.
#[tokio::test(start_paused = true)]
async fn revoked_tokens_heal_with_one_login() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.assets().list().await.unwrap();
    sandbox.revoke_all_tokens();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let c = client.clone();
        tasks.spawn(async move { c.assets().list().await });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(logins(&sandbox), 2);
    assert_eq!(client.token_manager().stats().reauths, 1);
}

// Three simulated days with a call every simulated minute: one login, a
// refresh before each expiry, no failed call, and no caller ever waited.
#[tokio::test(start_paused = true)]
async fn three_days_one_login_three_refreshes() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    let end = Instant::now() + 72 * HOUR;
    let mut calls = 0u32;
    while Instant::now() < end {
        client.assets().list().await.unwrap();
        calls += 1;
        tokio::time::sleep(Duration::from_secs(60)).await;
    }
    assert_eq!(calls, 72 * 60);
    assert_eq!(logins(&sandbox), 1);
    assert_eq!(refreshes(&sandbox), 3);
    let s = client.token_manager().stats();
    assert_eq!(
        (s.obtains, s.refreshes, s.failures, s.fallbacks),
        (1, 3, 0, 0)
    );
}

// The sandbox ends tokens on its own clock: a short server-side life shows the
// 401 path healing too.
#[tokio::test(start_paused = true)]
async fn a_token_the_server_expired_early_is_replaced() {
    let sandbox = Sandbox::builder()
        .token_life(Duration::from_secs(600))
        .start()
        .await
        .unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.assets().list().await.unwrap();
    tokio::time::advance(Duration::from_secs(601)).await;
    client.assets().list().await.unwrap();
    assert_eq!(logins(&sandbox), 2);
    assert_eq!(client.token_manager().stats().reauths, 1);
}

// After a failed login the cooldown passes and the next call logs in.
#[tokio::test(start_paused = true)]
async fn after_the_cooldown_a_new_login_is_tried() {
    let sandbox = Sandbox::start().await.unwrap();
    for _ in 0..2 {
        sandbox.push_fault("/user/obtain_token", Fault::Status(500));
    }
    let cfg = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(RetryConfig::for_tests())
        .token_policy(TokenPolicy {
            failure_cooldown: Duration::from_secs(5),
            ..TokenPolicy::default()
        })
        .build()
        .unwrap();
    // Cooldowns are measured on the manager's clock: here tokio's.
    let client = AmpClient::builder(cfg)
        .clock(Arc::new(TokioClock::new()))
        .build()
        .unwrap();
    let e = client.assets().list().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(e.to_string().contains("2 attempts"), "{e}");
    client.assets().list().await.unwrap_err();
    assert_eq!(logins(&sandbox), 2, "the cooldown served the second caller");
    tokio::time::advance(Duration::from_secs(6)).await;
    client.assets().list().await.unwrap();
    assert_eq!(logins(&sandbox), 3);
}

// A background refresh that fails keeps the valid token in use.
#[tokio::test(start_paused = true)]
async fn a_failed_background_refresh_keeps_the_valid_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::for_tests());
    let first = client.token_manager().token().await.unwrap();
    sandbox.set_fault_rate("/user/refresh-token", Fault::Status(503), 1.0);
    sandbox.set_fault_rate("/user/obtain_token", Fault::Status(503), 1.0);
    tokio::time::advance(24 * HOUR - Duration::from_secs(200)).await;
    for _ in 0..20 {
        let t = client.token_manager().token().await.unwrap();
        assert_eq!(t.generation(), first.generation());
        client.assets().list().await.unwrap();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(client.token_manager().info().state, TokenState::Expiring);
    assert!(client.token_manager().stats().failures >= 1);
    sandbox.clear_faults();
    tokio::time::advance(Duration::from_secs(10)).await;
    let t = client.token_manager().force_refresh().await.unwrap().0;
    assert!(t.generation() > first.generation());
}

// The per-thread copies serve past the soft point only while a renewal is in
// flight: in the pause after a failed one, callers take the slow path again,
// and the first one after the pause starts the next attempt.
#[tokio::test(start_paused = true)]
async fn after_a_failed_background_refresh_the_window_tries_again() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::for_tests());
    let m = client.token_manager();
    let first = m.token().await.unwrap();
    sandbox.set_fault_rate("/user/refresh-token", Fault::Status(503), 1.0);
    sandbox.set_fault_rate("/user/obtain_token", Fault::Status(503), 1.0);
    tokio::time::advance(24 * HOUR - Duration::from_secs(200)).await;
    assert_eq!(m.token().await.unwrap().generation(), first.generation());
    assert!(
        m.is_renewing(),
        "the first caller in the window starts a refresh"
    );
    // Joins the background refresh and reports how it ended.
    assert!(m.force_refresh().await.is_err());
    assert!(!m.is_renewing());
    sandbox.clear_faults();
    assert_eq!(m.token().await.unwrap().generation(), first.generation());
    assert!(!m.is_renewing(), "no new attempt during the pause");
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(m.token().await.unwrap().generation(), first.generation());
    assert!(
        m.is_renewing(),
        "the first caller after the pause starts one"
    );
    let renewed = m.force_refresh().await.unwrap().0;
    assert!(renewed.generation() > first.generation());
    assert_eq!(m.token().await.unwrap().generation(), renewed.generation());
}

// R3: a whole lifecycle traced at TRACE, errors and Debug output included:
// neither the password nor any token appears anywhere.
#[tokio::test(start_paused = true)]
async fn no_secret_in_any_log_error_or_debug_output() {
    let capture = Capture::default();
    // Everything at TRACE, except the sandbox's own log (it is the server,
    // and prints the faults this test injects, password included).
    let _guard = capture.start("trace,amp_sandbox=off");

    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::for_tests());
    let mut shown = Vec::new();
    client.assets().list().await.unwrap();
    shown.push(format!(
        "{client:?} {:?}",
        client.token_manager().token().await.unwrap()
    ));
    shown.push(format!("{:?}", client.token_manager().snapshot()));
    shown.push(format!("{:?}", client.config()));
    tokio::time::advance(24 * HOUR - Duration::from_secs(120)).await;
    client.assets().list().await.unwrap();
    client.token_manager().force_refresh().await.unwrap();
    sandbox.revoke_all_tokens();
    client.assets().list().await.unwrap();
    sandbox.push_fault("/assets", Fault::RateLimitSeconds(1));
    sandbox.push_fault("/assets", Fault::Status(500));
    client.assets().list().await.unwrap_err();
    tokio::time::advance(25 * HOUR).await;
    client.assets().list().await.unwrap();
    sandbox.push_fault(
        "/user/obtain_token",
        Fault::Body(
            400,
            format!("{{\"detail\": \"wrong {}\"}}", sandbox.password()),
        ),
    );
    client.token_manager().clear().await.unwrap();
    let e = client.assets().list().await.unwrap_err();
    shown.push(format!("{e} {e:?}"));
    client.token_manager().login().await.unwrap();
    shown.push(format!(
        "{:?} {:?}",
        client.token_manager(),
        client.token_manager().stats()
    ));

    let mut text = capture.text();
    text.push_str(&shown.join("\n"));
    assert!(
        text.contains("token obtained"),
        "debug events were captured"
    );
    assert!(text.contains("token refreshed"));
    let mut tokens: Vec<String> = sandbox
        .stats()
        .requests
        .iter()
        .filter_map(|r| r.authorization.clone())
        .filter_map(|a| a.strip_prefix("token ").map(str::to_string))
        .collect();
    tokens.sort();
    tokens.dedup();
    assert!(
        tokens.len() >= 4,
        "several tokens were used: {}",
        tokens.len()
    );
    if let Some(i) = text.find(sandbox.password()) {
        panic!(
            "the password leaked: {}",
            &text[i.saturating_sub(400)..(i + 100).min(text.len())]
        );
    }
    for t in &tokens {
        assert!(!text.contains(t.as_str()), "a token leaked");
    }
}

// The retry budget: during an outage, retries stop after a while and calls fail
// after their first attempt, instead of tripling the load; successes refill it.
#[tokio::test(start_paused = true)]
async fn the_retry_budget_stops_a_retry_storm() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.token_manager().token().await.unwrap();
    sandbox.set_fault_rate("/assets", Fault::Status(503), 1.0);
    let mut budget_errors = 0;
    for _ in 0..100 {
        let e = client.assets().list().await.unwrap_err();
        assert_eq!(
            e.status(),
            Some(amp_client::StatusCode::SERVICE_UNAVAILABLE)
        );
        if e.is_budget_exhausted() {
            assert_eq!(e.attempts(), Some(1));
            assert!(e.to_string().contains("retry budget"), "{e}");
            budget_errors += 1;
        }
    }
    // 500 units, 5 per retry, 2 retries per failing call: 50 calls retry fully.
    assert_eq!(budget_errors, 50);
    assert_eq!(sandbox.count("GET", "/assets"), 50 * 3 + 50);
    sandbox.clear_faults();
    for _ in 0..50 {
        client.assets().list().await.unwrap();
    }
    // 50 successes earned back 10 retries.
    sandbox.set_fault_rate("/assets", Fault::Status(503), 1.0);
    let e = client.assets().list().await.unwrap_err();
    assert!(!e.is_budget_exhausted() && e.attempts() == Some(3), "{e}");
}

// Scattered failures never empty the budget: a retry that works is given back.
#[tokio::test(start_paused = true)]
async fn retries_that_work_do_not_drain_the_budget() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = client(&sandbox, RetryConfig::default());
    client.token_manager().token().await.unwrap();
    // 500 units, 5 per retry: without refunds the 101st call would fail.
    for _ in 0..300 {
        sandbox.push_fault("/assets", Fault::Status(503));
        client.assets().list().await.unwrap();
    }
    assert_eq!(sandbox.count("GET", "/assets"), 600);
    assert_eq!(client.token_manager().stats().retries, 300);
}

/// The same rules against exact stubs (wiremock), in real time with
/// millisecond delays.
mod exact {
    use crate::common::*;

    use std::time::Duration;

    use amp_client::{AmpClient, Config, StatusCode};
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};

    // R4: 503 on every attempt → exactly max_attempts attempts and an error naming them.
    #[tokio::test]
    async fn server_errors_are_retried_up_to_max_attempts() {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(503).set_body_string("down for maintenance"))
            .mount(&server)
            .await;
        let (client, _) = client(&server, 3);
        let e = client.assets().list().await.unwrap_err();
        assert_eq!(count(&server, "GET", "/api/assets/").await, 3);
        assert_eq!(e.attempts(), Some(3));
        assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
        let msg = e.to_string();
        assert!(msg.contains("3 attempts"), "{msg}");
        assert!(msg.contains("GET /assets/"), "{msg}");
        assert!(msg.contains("503"), "{msg}");
        assert!(msg.contains("down for maintenance"), "{msg}");
        assert_eq!(client.token_manager().stats().retries, 2);
    }

    // A POST that may have run (500) is not repeated; one that was turned away (429) is.
    #[tokio::test]
    async fn unsafe_posts_are_not_repeated_after_a_server_error() {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(method("POST"))
            .and(path("/api/registered_users/add"))
            .respond_with(ResponseTemplate::new(500))
            .mount(&server)
            .await;
        let (client, _) = client(&server, 3);
        let body = serde_json::json!({"name": "x"});
        let e = client
            .post::<serde_json::Value>("registered_users/add", &body)
            .await
            .unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
        assert_eq!(count(&server, "POST", "/api/registered_users/add").await, 1);
    }

    // R5.4: the per-attempt timeout is enforced, and timeouts are retried.
    #[tokio::test]
    async fn the_request_timeout_is_enforced() {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(10)))
            .mount(&server)
            .await;
        let config = amp_client::Config::builder()
            .base_url(api(&server))
            .credentials(USER, PASSWORD)
            .retry(fast_retry(2))
            .request_timeout(Duration::from_millis(200))
            .build()
            .unwrap();
        let client = amp_client::AmpClient::new(config).unwrap();
        let started = std::time::Instant::now();
        let e = client.assets().list().await.unwrap_err();
        assert!(e.is_timeout(), "{e}");
        assert_eq!(e.attempts(), Some(2));
        assert!(started.elapsed() < Duration::from_secs(5));
        assert_eq!(count(&server, "GET", "/api/assets/").await, 2);
    }

    // A 503 whose Retry-After is beyond the maximum delay stops at once and
    // stays a 503.
    #[tokio::test]
    async fn a_long_503_stays_a_503() {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "3600"))
            .mount(&server)
            .await;
        let (client, _) = client(&server, 3);
        let e = client.assets().list().await.unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE), "{e}");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3600)));
        assert!(e.to_string().contains("HTTP 503"), "{e}");
        assert_eq!(count(&server, "GET", "/api/assets/").await, 1);
    }

    // While a 429's pause outlasts the maximum delay, calls fail at once naming
    // the wait: no request, no attempt, no retry budget spent.
    #[tokio::test]
    async fn a_long_pause_fails_calls_at_once_and_spends_nothing() {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "600"))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        let (client, _) = client(&server, 3);
        let e = client.assets().list().await.unwrap_err();
        assert!(e.is_rate_limited(), "{e}");
        let retries = client.token_manager().stats().retries;
        for _ in 0..50 {
            let e = client.assets().list().await.unwrap_err();
            assert!(e.is_rate_limited(), "{e:?}");
            assert_eq!(e.attempts(), Some(1));
            assert!(e.retry_after().unwrap() > Duration::from_secs(590), "{e}");
            assert!(e.to_string().contains("retry after"), "{e}");
        }
        assert_eq!(count(&server, "GET", "/api/assets/").await, 1);
        assert_eq!(client.token_manager().stats().retries, retries);
    }

    // People and log searches look for "timed out".
    #[tokio::test]
    async fn a_timeout_reads_timed_out_after() {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let config = Config::builder()
            .base_url(api(&server))
            .credentials(USER, PASSWORD)
            .retry(fast_retry(1))
            .request_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        let e = AmpClient::new(config)
            .unwrap()
            .assets()
            .list()
            .await
            .unwrap_err();
        assert!(e.is_timeout());
        assert!(e.to_string().contains("timed out after 1 s"), "{e}");
    }
}
