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
    mount_obtain_twice(&server, T1, T2).await;
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

/// Answers with the `Authorization` header of the request echoed in a JSON
/// body, as a debugging endpoint (or a proxy in front of AMP) might.
struct EchoAuthorization(u16);

impl wiremock::Respond for EchoAuthorization {
    fn respond(&self, request: &wiremock::Request) -> ResponseTemplate {
        let authorization = request
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        ResponseTemplate::new(self.0)
            .insert_header("x-echo", authorization)
            .insert_header("x-other", "kept")
            .set_body_json(serde_json::json!({
                "authorization": authorization,
                "detail": format!("you sent {authorization}"),
            }))
    }
}

fn echoed(authorization: &str) -> serde_json::Value {
    serde_json::json!({
        "authorization": authorization,
        "detail": format!("you sent {authorization}"),
    })
}

// A server that echoes the request: the body comes back without the token,
// whatever the status, the rest of it as it was.
#[tokio::test]
async fn an_echoed_token_never_comes_back_in_the_body() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/echo/ok"))
        .respond_with(EchoAuthorization(200))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/echo/missing"))
        .respond_with(EchoAuthorization(404))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    for (path, status) in [
        ("echo/ok", StatusCode::OK),
        ("echo/missing", StatusCode::NOT_FOUND),
    ] {
        let answer = client.send(Method::GET, path, None).await.unwrap();
        assert_eq!(answer.status(), status);
        assert_hidden(&String::from_utf8_lossy(answer.body()), T1, "the token");
        assert_eq!(
            answer.json::<serde_json::Value>().unwrap(),
            echoed("token [REDACTED]"),
            "{path}"
        );
        let body = answer.clone().into_body();
        assert_hidden(&String::from_utf8_lossy(&body), T1, "the token");
        // An echo in a header is replaced whole; other headers are kept.
        assert_eq!(answer.headers()["x-echo"], "[REDACTED]", "{path}");
        assert_eq!(answer.headers()["x-other"], "kept", "{path}");
    }
    // The server did get the token: it is the body that was cleaned.
    let sent = server.received_requests().await.unwrap();
    assert!(sent
        .iter()
        .filter(|r| r.url.path().starts_with("/api/echo/"))
        .all(|r| r.headers["authorization"] == format!("token {T1}").as_str()));
}

// A refused token healed by a login and a replay: the replay's echo of the
// new token comes back scrubbed too.
#[tokio::test]
async fn an_echo_of_the_replay_token_is_scrubbed() {
    let server = MockServer::start().await;
    mount_obtain_twice(&server, T1, T2).await;
    Mock::given(method("GET"))
        .and(path("/api/echo"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(EchoAuthorization(401))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/echo"))
        .and(header("authorization", format!("token {T2}").as_str()))
        .respond_with(EchoAuthorization(200))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let answer = client.send(Method::GET, "echo", None).await.unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.attempts(), 2);
    let body = String::from_utf8_lossy(answer.body()).into_owned();
    assert_hidden(&body, T1, "the refused token");
    assert_hidden(&body, T2, "the token");
    assert_eq!(
        answer.json::<serde_json::Value>().unwrap(),
        echoed("token [REDACTED]")
    );
}

/// An HTTP server for one request that holds its answer: it tells the test
/// the `Authorization` header the request carried (`seen`), waits for the
/// test's word (`go`), then answers 200 with that header echoed in a JSON
/// body. wiremock's responders cannot wait for the test.
struct HeldEcho {
    base: String,
    seen: tokio::sync::oneshot::Receiver<String>,
    go: tokio::sync::oneshot::Sender<()>,
}

async fn held_echo() -> HeldEcho {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/api", listener.local_addr().unwrap());
    let (seen_tx, seen) = tokio::sync::oneshot::channel();
    let (go, go_rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = conn.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request ended before its head did");
            head.extend_from_slice(&buf[..n]);
        }
        let head = String::from_utf8(head).unwrap();
        let authorization = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("authorization")
                    .then(|| value.trim().to_string())
            })
            .unwrap_or_default();
        seen_tx.send(authorization.clone()).unwrap();
        go_rx.await.unwrap();
        let body = serde_json::json!({ "authorization": authorization }).to_string();
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        conn.write_all(answer.as_bytes()).await.unwrap();
        conn.shutdown().await.unwrap();
    });
    HeldEcho { base, seen, go }
}

// The race: the token is replaced while the request is in flight (as a
// background refresh, a 401 healed by another call or a login elsewhere
// would), and the server then echoes the token the request carried, no
// longer the current one. It is scrubbed all the same.
#[tokio::test]
async fn an_echo_of_a_token_replaced_while_in_flight_is_scrubbed() {
    use secrecy::ExposeSecret;
    let held = held_echo().await;
    let clock = amp_client::ManualClock::new(chrono::Utc::now());
    let client = amp_client::AmpClient::builder(config_for(&held.base, 1))
        .clock(std::sync::Arc::new(clock.clone()))
        .build()
        .unwrap();
    let manager = client.token_manager();
    manager
        .set_token(aged_token(T1, &clock, MIN))
        .await
        .unwrap();
    let call = tokio::spawn({
        let client = client.clone();
        async move { client.send(Method::GET, "echo", None).await }
    });
    assert_eq!(held.seen.await.unwrap(), format!("token {T1}"));
    manager
        .set_token(aged_token(T2, &clock, MIN))
        .await
        .unwrap();
    held.go.send(()).unwrap();
    let answer = call.await.unwrap().unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let body = String::from_utf8_lossy(answer.body()).into_owned();
    assert_hidden(&body, T1, "the token the request carried");
    assert_eq!(body, r#"{"authorization":"token [REDACTED]"}"#);
    // The replacement stands: nothing in the call undid it.
    assert_eq!(manager.snapshot().unwrap().token().expose_secret(), T2);
}
