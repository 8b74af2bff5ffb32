//! 401 healing: a token the server rejects is dropped and replaced by one
//! login, shared by every caller that met the rejection; the call is sent
//! again once; a second rejection, and a 403 that is not about the token,
//! are errors. (Through the raw entry point: `send`; under faults in paused
//! time: `retries`.)

use crate::common::*;

use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, StatusCode};

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

// A 403 is a rejected token only with one of DRF's authentication messages;
// a permission error that mentions a token keeps the token and logs in
// nobody.
#[tokio::test]
async fn only_drf_authentication_403s_drop_the_token() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(403).set_body_json(serde_json::json!({
            "detail": "You may not burn the reissuance token of this asset."
        })))
        .mount(&server)
        .await;
    let (c, clock) = client(&server, 3);
    c.token_manager()
        .set_token(aged_token(T1, &clock, HOUR))
        .await
        .unwrap();
    for _ in 0..3 {
        let e = c.assets().list().await.unwrap_err();
        assert_eq!(e.status(), Some(StatusCode::FORBIDDEN));
    }
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 0);
    assert_eq!(c.token_manager().stats().reauths, 0);

    for message in [
        "Authentication credentials were not provided.",
        "Invalid token.",
        "Token has expired.",
        "invalid token",
    ] {
        let server = MockServer::start().await;
        mount_obtain(&server, T2).await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(
                ResponseTemplate::new(403).set_body_json(serde_json::json!({ "detail": message })),
            )
            .up_to_n_times(1)
            .mount(&server)
            .await;
        mount_assets_for(&server, T2).await;
        let (c, clock) = client(&server, 3);
        c.token_manager()
            .set_token(aged_token(T1, &clock, HOUR))
            .await
            .unwrap();
        c.assets().list().await.unwrap();
        assert_eq!(c.token_manager().stats().reauths, 1, "{message}");
    }
}

// The 403 rule reads the server's message before it is scrubbed: a
// password that is a word of DRF's message ("token") must not hide it.
#[tokio::test]
async fn a_password_inside_drfs_message_does_not_hide_a_rejected_token() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(403)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_assets_for(&server, T2).await;
    let config = Config::builder()
        .base_url(api(&server))
        .credentials(USER, "token")
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let clock = amp_client::ManualClock::new(chrono::Utc::now());
    let client = AmpClient::builder(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    client
        .token_manager()
        .set_token(aged_token(T1, &clock, HOUR))
        .await
        .unwrap();
    client.assets().list().await.unwrap();
    assert_eq!(client.token_manager().stats().reauths, 1);
}
