//! `AmpClient::send`, the raw entry point: the final answer whatever its
//! status, with the client's whole behaviour (token, retries, 401 healing)
//! in front of it.

use crate::common;

use amp_client::{Method, StatusCode};
use common::*;
use wiremock::matchers::{body_json, header, method, path, query_param};
use wiremock::{Mock, MockServer, ResponseTemplate};

// An error status comes back as the answer, status, headers and body as the
// server sent them; nothing is retried that a typed call would not retry.
#[tokio::test]
async fn an_error_status_is_the_answer() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/nope"))
        .respond_with(
            ResponseTemplate::new(404)
                .insert_header("x-amp", "1")
                .set_body_string(r#"{"detail": "Not found."}"#),
        )
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let answer = client.send(Method::GET, "assets/nope", None).await.unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert_eq!(answer.headers()["x-amp"], "1");
    assert_eq!(answer.attempts(), 1);
    assert_eq!(&answer.body()[..], br#"{"detail": "Not found."}"#);
    let detail: serde_json::Value = answer.json().unwrap();
    assert_eq!(detail["detail"], "Not found.");
}

// A 503 is retried as for any call; the last one is the answer.
#[tokio::test]
async fn the_last_answer_of_exhausted_retries_is_the_answer() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(503).set_body_string("down"))
        .expect(3)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let answer = client.send(Method::GET, "assets/", None).await.unwrap();
    assert_eq!(answer.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(&answer.body()[..], b"down");
    assert_eq!(answer.attempts(), 3);
    assert_eq!(client.token_manager().stats().obtains, 1);
}

// A refused token heals once, as for any call: the replay's answer is the answer.
#[tokio::test]
async fn a_refused_token_heals_once_then_the_answer_is_returned() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T2))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/registered_users/add"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"detail": "Invalid token."}"#))
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/registered_users/add"))
        .and(header("authorization", format!("token {T2}").as_str()))
        .and(body_json(serde_json::json!({"name": "Alice"})))
        .respond_with(ResponseTemplate::new(201).set_body_string(r#"{"id": 7}"#))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let body = amp_client::Bytes::from_static(br#"{"name": "Alice"}"#);
    let answer = client
        .send(Method::POST, "registered_users/add", Some(body))
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::CREATED);
    // The refused send and its replay.
    assert_eq!(answer.attempts(), 2);
    assert_eq!(answer.json::<serde_json::Value>().unwrap()["id"], 7);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
}

// A token refused again after the replay: the 401 is the answer, no third try.
#[tokio::test]
async fn a_401_after_the_replay_is_the_answer() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(401).set_body_string(r#"{"detail": "Invalid token."}"#))
        .expect(2)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let answer = client.send(Method::GET, "assets/", None).await.unwrap();
    assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
}

// The path may carry a query string; it reaches the server as given.
#[tokio::test]
async fn a_query_string_is_sent_as_given() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .and(query_param("limit", "10"))
        .respond_with(ResponseTemplate::new(200).set_body_string("[]"))
        .expect(1)
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let answer = client
        .send(Method::GET, "assets/?limit=10", None)
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert!(answer.json::<Vec<serde_json::Value>>().unwrap().is_empty());
}

// With no answer to return (nothing listens), the error says what failed
// and how many attempts were made.
#[tokio::test]
async fn no_answer_at_all_is_an_error() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let clock = amp_client::ManualClock::new(chrono::Utc::now());
    let client =
        amp_client::AmpClient::builder(config_for(&format!("http://127.0.0.1:{port}/api"), 3))
            .clock(std::sync::Arc::new(clock.clone()))
            .build()
            .unwrap();
    client
        .token_manager()
        .set_token(aged_token(T1, &clock, MIN))
        .await
        .unwrap();
    let e = client.send(Method::GET, "assets/", None).await.unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_eq!(e.attempts(), Some(3), "{e}");
}

// The body of an answer never shows in Debug (it may hold a secret).
#[tokio::test]
async fn debug_shows_no_body() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/echo"))
        .respond_with(ResponseTemplate::new(200).set_body_string("sekrit-in-body"))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let answer = client.send(Method::GET, "echo", None).await.unwrap();
    assert!(!format!("{answer:?}").contains("sekrit"));
}
