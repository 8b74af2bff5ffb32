//! Token management against exact stubs (wiremock), one test or more per
//! requirement of DESIGN §1. Time: a `ManualClock` moves the token through its
//! 24 h life; retries use millisecond delays.

use crate::common;

use std::sync::Arc;
use std::time::Duration;

use amp_client::{Clock, StatusCode, TokenData, TokenState};
use common::*;
use secrecy::ExposeSecret;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// A client on `server` holding T1 with 4 minutes left: past the soft
/// point, before the hard one, so its first caller starts a refresh.
async fn client_in_refresh_window(
    server: &MockServer,
) -> (amp_client::AmpClient, amp_client::ManualClock) {
    let (client, clock) = client(server, 3);
    client
        .token_manager()
        .set_token(aged_token(T1, &clock, 24 * HOUR - 4 * MIN))
        .await
        .unwrap();
    (client, clock)
}

/// The tokens 200 concurrent callers get, on every thread of the runtime.
async fn tokens_on_every_thread(m: &amp_client::TokenManager) -> Vec<String> {
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..200 {
        let m = m.clone();
        tasks.spawn(async move { m.token().await.unwrap() });
    }
    let mut tokens = Vec::new();
    while let Some(t) = tasks.join_next().await {
        tokens.push(t.unwrap().secret().expose_secret().to_string());
    }
    tokens
}

// R1.5, R1.4/7.1/7.2: no token → obtain with the credentials; every call carries it.
#[tokio::test]
async fn first_call_obtains_with_credentials_and_every_call_carries_the_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .and(body_json(
            serde_json::json!({"username": USER, "password": PASSWORD}),
        ))
        .respond_with(token_json(T1))
        .expect(1)
        .mount(&server)
        .await;
    mount_assets_for(&server, T1).await;
    let (client, _) = client(&server, 3);
    assert_eq!(client.token_manager().info().state, TokenState::None);
    for _ in 0..5 {
        assert!(client.assets().list().await.unwrap().is_empty());
    }
    assert_eq!(count(&server, "GET", "/api/assets/").await, 5);
    assert_eq!(client.token_manager().stats().obtains, 1);
    // Every request, the login included, asks for JSON and names the client.
    for r in server.received_requests().await.unwrap() {
        let h = |name: &str| {
            r.headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        assert_eq!(
            h("accept").as_deref(),
            Some("application/json"),
            "{}",
            r.url
        );
        let agent = h("user-agent").unwrap_or_default();
        assert!(agent.starts_with("amp-client/"), "{}: {agent}", r.url);
    }
}

// R1.5: credentials come from AMP_USERNAME / AMP_PASSWORD.
#[tokio::test]
async fn credentials_from_the_environment_are_used() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .and(body_json(
            serde_json::json!({"username": "env-user", "password": "env-pw"}),
        ))
        .respond_with(token_json(T1))
        .expect(1)
        .mount(&server)
        .await;
    let base = api(&server);
    let env = move |k: &str| match k {
        "AMP_USERNAME" => Some("env-user".to_string()),
        "AMP_PASSWORD" => Some("env-pw".to_string()),
        "AMP_API_BASE_URL" => Some(base.clone()),
        _ => None,
    };
    let client =
        amp_client::AmpClient::new(amp_client::Config::from_lookup(&env).unwrap()).unwrap();
    client.token_manager().token().await.unwrap();
}

// Missing credentials: the error names the variable, nothing is sent.
#[tokio::test]
async fn missing_credentials_are_named() {
    let server = MockServer::start().await;
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .build()
        .unwrap();
    let client = amp_client::AmpClient::new(config).unwrap();
    let e = client.assets().list().await.unwrap_err();
    assert!(e.to_string().contains("AMP_USERNAME"), "{e}");
    assert!(e.is_config());
    assert!(server.received_requests().await.unwrap().is_empty());
}

// R1.3: a new token expires 24 h after it was obtained.
#[tokio::test]
async fn a_new_token_lives_24_hours() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let (client, clock) = client(&server, 3);
    let t = client.token_manager().token().await.unwrap();
    assert_eq!(t.data().obtained_at, clock.now());
    assert_eq!(
        t.data().expires_at - t.data().obtained_at,
        chrono::Duration::hours(24)
    );
    let info = client.token_manager().info();
    assert_eq!(info.expires_in, Some(Duration::from_secs(24 * 3600)));
    assert_eq!(info.state, TokenState::Valid);
}

// R1.1, R7.3/7.4: 1,000 concurrent callers with no token → exactly one login.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_cold_callers_share_one_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1).set_delay(Duration::from_millis(200)))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let c = client.clone();
        tasks.spawn(async move { c.token_manager().token().await });
    }
    let mut generations = std::collections::HashSet::new();
    while let Some(r) = tasks.join_next().await {
        let t = r.unwrap().unwrap();
        assert_eq!(t.secret().expose_secret(), T1);
        generations.insert(t.generation());
    }
    assert_eq!(generations.len(), 1);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
}

// R2.1 and "callers never wait for a refresh they don't need": 1,000 callers
// inside the 5-minute window → one refresh with the current token, and every
// caller gets the current token at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_callers_in_the_window_share_one_background_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .and(header("authorization", format!("token {T1}").as_str()))
        // Far longer than the burst takes: a caller that waited would see T2.
        .respond_with(token_json(T2).set_delay(Duration::from_millis(1500)))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _clock) = client_in_refresh_window(&server).await;
    let m = client.token_manager();
    assert_eq!(m.info().state, TokenState::Expiring);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..1000 {
        let c = client.clone();
        tasks.spawn(async move { c.token_manager().token().await });
    }
    while let Some(r) = tasks.join_next().await {
        assert_eq!(r.unwrap().unwrap().secret().expose_secret(), T1);
    }
    // Joining the refresh still in flight, not starting another.
    let (t, _) = m.force_refresh().await.unwrap();
    assert_eq!(t.secret().expose_secret(), T2);
    assert_eq!(count(&server, "GET", "/api/user/refresh-token").await, 1);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 0);
    assert_eq!(m.stats().refreshes, 1);
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T2);
}

// During a renewal the current token is served only until the hard point:
// past it, callers wait for the new token like everyone else.
#[tokio::test]
async fn during_a_renewal_the_token_is_served_until_the_hard_point() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;
    let (client, clock) = client_in_refresh_window(&server).await;
    let m = client.token_manager();
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
    // 20 s left: past the 30 s hard point, the refresh still in flight.
    clock.advance(3 * MIN + Duration::from_secs(40));
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T2);
}

// Past the hard point (30 s left) callers wait for the new token.
#[tokio::test]
async fn past_the_hard_point_callers_wait_for_the_refresh() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2))
        .expect(1)
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 24 * HOUR - Duration::from_secs(10)))
        .await
        .unwrap();
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T2);
}

// R2.2: an expired token is not refreshed but obtained anew.
#[tokio::test]
async fn an_expired_token_is_obtained_not_refreshed() {
    let server = MockServer::start().await;
    Mock::given(path("/api/user/refresh-token"))
        .respond_with(token_json(T3))
        .expect(0)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T2))
        .expect(1)
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 25 * HOUR))
        .await
        .unwrap();
    assert_eq!(m.info().state, TokenState::Expired);
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T2);
}

// A whole life on the manual clock: obtain, use, refresh in the window, use,
// expire unused, obtain.
#[tokio::test]
async fn two_days_of_token_life_in_milliseconds() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(token_json(T2))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T3))
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
    clock.advance(23 * HOUR);
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
    assert_eq!(m.info().state, TokenState::Valid);
    clock.advance(57 * MIN);
    assert_eq!(m.info().state, TokenState::Expiring);
    // Returns T1 at once; the refresh runs behind.
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
    assert_eq!(
        m.force_refresh().await.unwrap().0.secret().expose_secret(),
        T2
    );
    clock.advance(25 * HOUR);
    assert_eq!(m.info().state, TokenState::Expired);
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T3);
    let s = m.stats();
    assert_eq!((s.obtains, s.refreshes, s.failures), (2, 1, 0));
}

// R2.3/2.4: a refresh that fails falls back to obtain; the call succeeds.
#[tokio::test]
async fn a_failing_refresh_falls_back_to_obtain() {
    let server = MockServer::start().await;
    Mock::given(path("/api/user/refresh-token"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    mount_obtain(&server, T2).await;
    mount_assets_for(&server, T2).await;
    let (client, clock) = client(&server, 2);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 24 * HOUR - Duration::from_secs(20)))
        .await
        .unwrap();
    client.assets().list().await.unwrap();
    let s = m.stats();
    assert_eq!((s.fallbacks, s.obtains, s.refreshes), (1, 1, 0));
    // GET was tried with its retries, then the login.
    assert_eq!(count(&server, "GET", "/api/user/refresh-token").await, 2);
}

// Refresh: GET first, POST when GET is answered 405.
#[tokio::test]
async fn refresh_tries_post_when_get_is_not_allowed() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(
            ResponseTemplate::new(405)
                .set_body_json(serde_json::json!({"detail": "Method \"GET\" not allowed."})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/refresh-token"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(token_json(T2))
        .expect(1)
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    assert_eq!(
        m.force_refresh().await.unwrap().0.secret().expose_secret(),
        T2
    );
    assert_eq!(m.stats().fallbacks, 0);
}

// A refresh that does not move the expiry forward is not repeated in a loop.
#[tokio::test]
async fn a_refresh_that_does_not_extend_the_token_is_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"token": T2, "expires_in": 60})),
        )
        .mount(&server)
        .await;
    mount_obtain(&server, T3).await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 24 * HOUR - 2 * MIN))
        .await
        .unwrap();
    assert_eq!(
        m.force_refresh().await.unwrap().0.secret().expose_secret(),
        T2
    );
    // T2 is already inside the window; the next renewal must log in instead.
    assert_eq!(
        m.force_refresh().await.unwrap().0.secret().expose_secret(),
        T3
    );
    assert_eq!(count(&server, "GET", "/api/user/refresh-token").await, 1);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
}

// A caller cancelled while the login is in flight does not cancel it for others.
#[tokio::test]
async fn a_cancelled_caller_does_not_cancel_the_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1).set_delay(Duration::from_millis(300)))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let m = client.token_manager().clone();
    let other = {
        let m = m.clone();
        tokio::spawn(async move { m.token().await })
    };
    let cancelled = tokio::time::timeout(Duration::from_millis(20), m.token()).await;
    assert!(cancelled.is_err(), "the first caller gave up");
    let impatient = tokio::spawn({
        let m = m.clone();
        async move { m.token().await }
    });
    impatient.abort();
    assert_eq!(other.await.unwrap().unwrap().secret().expose_secret(), T1);
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
}

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

// 400 from obtain_token: wrong credentials, one attempt, said plainly.
#[tokio::test]
async fn refused_credentials_fail_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "non_field_errors": ["Unable to log in with provided credentials."]
        })))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let e = client.assets().list().await.unwrap_err();
    assert!(e.is_credentials_refused(), "{e}");
    assert!(e.is_auth());
    assert_eq!(e.attempts(), Some(1));
    let msg = e.to_string();
    assert!(msg.contains("refused the credentials"), "{msg}");
    assert!(msg.contains("Unable to log in"), "{msg}");
    assert_eq!(client.token_manager().stats().failures_refused, 1);
}

// A server echoing the password back never gets it into our error.
#[tokio::test]
async fn an_echoed_password_is_scrubbed_from_errors() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_string(format!("bad password {PASSWORD} for {USER}")),
        )
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let e = client.token_manager().token().await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(!shown.contains(PASSWORD), "{shown}");
    assert!(shown.contains("[REDACTED]"), "{shown}");
}

// Revoked token: 401 → drop it, one login, replay once, success.
#[tokio::test]
async fn a_revoked_token_heals_itself_once() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    Mock::given(path("/api/assets/"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .mount(&server)
        .await;
    mount_assets_for(&server, T2).await;
    let (client, clock) = client(&server, 3);
    client
        .token_manager()
        .set_token(aged_token(T1, &clock, HOUR))
        .await
        .unwrap();
    client.assets().list().await.unwrap();
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
    assert_eq!(client.token_manager().stats().reauths, 1);
}

// 50 parallel calls that all get 401 with the same token → one login.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_401s_cause_one_login() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T2).set_delay(Duration::from_millis(100)))
        .mount(&server)
        .await;
    Mock::given(path("/api/assets/"))
        .and(header("authorization", format!("token {T1}").as_str()))
        // Slow enough that all 50 calls are sent with T1 before the first 401 returns.
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"detail": "Invalid token."}))
                .set_delay(Duration::from_millis(300)),
        )
        .mount(&server)
        .await;
    mount_assets_for(&server, T2).await;
    let (client, clock) = client(&server, 3);
    client
        .token_manager()
        .set_token(aged_token(T1, &clock, HOUR))
        .await
        .unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    let start = Arc::new(tokio::sync::Barrier::new(50));
    for _ in 0..50 {
        let c = client.clone();
        let start = Arc::clone(&start);
        tasks.spawn(async move {
            start.wait().await;
            c.assets().list().await
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.unwrap().unwrap();
    }
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
    assert_eq!(count(&server, "GET", "/api/assets/").await, 100);
}

// A second 401 after the fresh login is returned as an error, not looped on.
#[tokio::test]
async fn a_second_401_is_an_error() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let e = client.assets().list().await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::UNAUTHORIZED));
    assert!(e.to_string().contains("Invalid token."));
    assert_eq!(count(&server, "GET", "/api/assets/").await, 2);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
}

// A 403 about permissions is not a token problem: no login.
#[tokio::test]
async fn a_permission_403_does_not_log_in_again() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"detail": "You do not have permission to perform this action."}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/api/categories/"))
        .respond_with(ResponseTemplate::new(403).set_body_json(
            serde_json::json!({"detail": "Authentication credentials were not provided."}),
        ))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let e = client.assets().list().await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
    // …while a 403 about credentials is treated like a 401.
    let e = client
        .get::<serde_json::Value>("categories/")
        .await
        .unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::FORBIDDEN));
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
}

// Malformed login answers: a clear error, no panic, not retried.
#[tokio::test]
async fn malformed_token_answers_are_named() {
    let cases: &[(&str, &str)] = &[
        ("not json at all", "not JSON"),
        ("{}", "no \"token\""),
        (r#"{"token": ""}"#, "empty"),
        (r#"{"token": 12345}"#, "a number"),
        (r#"["token"]"#, "an array"),
    ];
    for (body, want) in cases {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(ResponseTemplate::new(200).set_body_string(*body))
            .mount(&server)
            .await;
        let (client, _) = client(&server, 3);
        let e = client.token_manager().token().await.unwrap_err();
        assert!(e.is_decode(), "{body}: {e}");
        assert!(e.to_string().contains(want), "{body}: {e}");
        assert_eq!(
            count(&server, "POST", "/api/user/obtain_token").await,
            1,
            "{body}"
        );
    }
}

// Malformed API answers: the error says what did not fit.
#[tokio::test]
async fn malformed_api_answers_are_named() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(serde_json::json!({"not": "a list"})),
        )
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let e = client.assets().list().await.unwrap_err();
    assert!(e.is_decode(), "{e}");
    assert!(e.to_string().contains("GET /assets/"), "{e}");
    assert!(e.to_string().contains("expected a sequence"), "{e}");
}

// R1.2: a token serialized by one run is used by the next without a login.
#[tokio::test]
async fn a_serialized_token_survives_a_restart() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1))
        .expect(1)
        .mount(&server)
        .await;
    mount_assets_for(&server, T1).await;
    let saved = {
        let (first, _) = client(&server, 3);
        first.assets().list().await.unwrap();
        serde_json::to_string(&first.token_manager().snapshot().unwrap()).unwrap()
    };
    let (second, _) = client(&server, 3);
    let restored: TokenData = serde_json::from_str(&saved).unwrap();
    second.token_manager().set_token(restored).await.unwrap();
    second.assets().list().await.unwrap();
}

// R6: state visible, clear forgets, the next call logs in again.
#[tokio::test]
async fn info_and_clear() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    m.token().await.unwrap();
    clock.advance(2 * HOUR);
    let info = m.info();
    assert_eq!(info.state, TokenState::Valid);
    assert_eq!(info.age, Some(2 * HOUR));
    assert_eq!(info.expires_in, Some(22 * HOUR));
    assert_eq!(info.fingerprint.as_deref().map(str::len), Some(8));
    m.clear().await.unwrap();
    assert_eq!(m.info().state, TokenState::None);
    m.token().await.unwrap();
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
}

// A failed login is shared by its waiters and remembered for the cooldown.
#[tokio::test]
async fn a_failed_login_is_not_retried_by_every_waiter() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(100)))
        .mount(&server)
        .await;
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .token_policy(amp_client::TokenPolicy {
            failure_cooldown: Duration::from_secs(3600),
            ..Default::default()
        })
        .build()
        .unwrap();
    let client = amp_client::AmpClient::new(config).unwrap();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..100 {
        let c = client.clone();
        tasks.spawn(async move { c.assets().list().await });
    }
    while let Some(r) = tasks.join_next().await {
        let e = r.unwrap().unwrap_err();
        assert!(e.is_auth(), "{e}");
        assert_eq!(e.attempts(), Some(2));
    }
    // Within the cooldown: the same error at once, nothing sent.
    let e = client.assets().list().await.unwrap_err();
    assert_eq!(e.status(), Some(StatusCode::SERVICE_UNAVAILABLE));
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
    assert_eq!(client.token_manager().stats().failures, 1);
}

// Answers larger than the limit are refused with a clear error.
#[tokio::test]
async fn oversized_answers_are_refused() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[".repeat(5000)))
        .mount(&server)
        .await;
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .max_body_bytes(1024)
        .build()
        .unwrap();
    let client = amp_client::AmpClient::new(config).unwrap();
    let e = client.assets().list().await.unwrap_err();
    assert!(
        e.is_body_too_large() && e.to_string().contains("limit of 1024 bytes"),
        "{e}"
    );
    assert_eq!(count(&server, "GET", "/api/assets/").await, 1);
}

// An explicit login or refresh reports its failure, even though the old,
// still valid token stays in place for ordinary calls.
#[tokio::test]
async fn explicit_login_and_refresh_report_failure() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(400).set_body_json(
            serde_json::json!({"non_field_errors": ["Unable to log in with provided credentials."]}),
        ))
        .mount(&server)
        .await;
    Mock::given(path("/api/user/refresh-token"))
        .respond_with(ResponseTemplate::new(404))
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 2);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    assert!(m.login().await.unwrap_err().is_credentials_refused());
    assert!(m
        .force_refresh()
        .await
        .unwrap_err()
        .is_credentials_refused());
    assert_eq!(m.token().await.unwrap().secret().expose_secret(), T1);
}

// Once the token is dropped (401) or cleared, no thread serves it again
// (the hot path reads one snapshot, replaced on every change).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_thread_serves_a_dropped_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T2))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_obtain(&server, T3).await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager().clone();
    m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    let all = |tokens: Vec<String>, want: &str| tokens.iter().all(|t| t == want);
    assert!(all(tokens_on_every_thread(&m).await, T1));
    let g = m.token().await.unwrap().generation();
    assert!(m.invalidate(g).await);
    assert!(all(tokens_on_every_thread(&m).await, T2));
    m.clear().await.unwrap();
    assert!(all(tokens_on_every_thread(&m).await, T3));
}

// The same past the soft point, while a refresh is in flight and callers
// are served the current token without a lock: a revoked or cleared token is
// not served on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_renewal_no_thread_serves_a_dropped_token() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    // A new key for each login (the refresh in flight when T1 is revoked
    // installs nothing: the token changed under it).
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T3))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_obtain(&server, T4).await;
    let (client, _clock) = client_in_refresh_window(&server).await;
    let m = client.token_manager().clone();
    // All T1 (none is T2 yet: the refresh takes 2 s).
    assert!(tokens_on_every_thread(&m).await.iter().all(|t| t == T1));
    assert!(m.is_renewing());
    let g = m.token().await.unwrap().generation();
    assert!(m.invalidate(g).await);
    assert!(tokens_on_every_thread(&m).await.iter().all(|t| t != T1));
    let current = m.token().await.unwrap();
    m.clear().await.unwrap();
    let current = current.secret().expose_secret();
    assert!(tokens_on_every_thread(&m)
        .await
        .iter()
        .all(|t| t != current));
}

// A renewal spawned on a runtime that shuts down before running it must not
// leave the manager thinking one is still in flight: the next runtime's
// callers renew for themselves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_dropped_with_its_runtime_does_not_block_the_next() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2))
        .mount(&server)
        .await;
    let (client, _clock) = client_in_refresh_window(&server).await;
    let m = client.token_manager().clone();
    let other = m.clone();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        // Past the soft point: spawns the background refresh on `rt`, which
        // is dropped before it ever runs the task.
        let t = rt.block_on(other.token()).unwrap();
        assert_eq!(t.secret().expose_secret(), T1);
        assert!(other.is_renewing());
    })
    .join()
    .unwrap();
    assert!(!m.is_renewing(), "the dropped renewal is still in flight");
    let (t, _) = m.force_refresh().await.unwrap();
    assert_eq!(t.secret().expose_secret(), T2);
}

// A path that would leave the API root never gets the token: refused before
// anything is sent, once (a local mistake is not retried).
#[tokio::test]
async fn paths_outside_the_api_root_are_refused() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let (client, _) = client(&server, 3);
    client.token_manager().token().await.unwrap();
    for path in [
        "http://127.0.0.1:1/steal",
        "../user/obtain_token",
        "assets/../../user/obtain_token",
    ] {
        let e = client.get::<serde_json::Value>(path).await.unwrap_err();
        assert!(e.is_invalid_input(), "{path}: {e}");
        assert_eq!(e.attempts(), None, "{path}");
    }
    assert_eq!(
        server.received_requests().await.unwrap().len(),
        1,
        "only the login"
    );
}
