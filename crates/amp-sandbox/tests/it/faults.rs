//! Every fault kind, queues, rates, and the request records.

use crate::common;

use std::time::{Duration, SystemTime};

use amp_sandbox::{Fault, Sandbox};
use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn status_fault_answers_a_drf_detail_once() {
    let sandbox = Sandbox::builder()
        .fault("/info", Fault::Status(503))
        .start()
        .await
        .unwrap();
    let faulted = get(&sandbox, "/info", None).await;
    assert_eq!(faulted.status, 503);
    assert!(faulted.json()["detail"].is_string());
    assert_eq!(get(&sandbox, "/info", None).await.status, 200);

    sandbox.push_fault("/info", Fault::Status(401));
    let unauthorized = get(&sandbox, "/info", None).await;
    assert_eq!(unauthorized.status, 401);
    assert_eq!(
        unauthorized.header("www-authenticate").as_deref(),
        Some("Token")
    );
    assert_eq!(unauthorized.json(), json!({"detail": "Invalid token."}));
}

#[tokio::test]
async fn faults_come_before_authentication_and_routing() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/assets", Fault::Status(500));
    // No token, yet the fault answers, not the 401.
    assert_eq!(get(&sandbox, "/assets/", None).await.status, 500);
    assert_eq!(get(&sandbox, "/assets/", None).await.status, 401);
    // A wrong method on a faulted route still gets the fault.
    sandbox.push_fault("/info", Fault::Status(502));
    assert_eq!(delete(&sandbox, "/info", None).await.status, 502);
    // `*` reaches even paths that match no route.
    sandbox.push_fault("*", Fault::Status(504));
    assert_eq!(get(&sandbox, "/no/such/route", None).await.status, 504);
}

#[tokio::test]
async fn rate_limit_with_seconds() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/user/obtain_token", Fault::RateLimitSeconds(7));
    let body = json!({"username": sandbox.username(), "password": sandbox.password()});
    let limited = post(&sandbox, "/user/obtain_token", None, &body).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after").as_deref(), Some("7"));
    assert!(limited.json()["detail"]
        .as_str()
        .unwrap()
        .contains("throttled"));
    // The fault did not log in; the next call does.
    assert_eq!(
        post(&sandbox, "/user/obtain_token", None, &body)
            .await
            .status,
        200
    );
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 2);
}

#[tokio::test]
async fn rate_limit_with_an_http_date() {
    let sandbox = Sandbox::start().await.unwrap();
    let wait = Duration::from_secs(120);
    sandbox.push_fault("/info", Fault::RateLimitDate(wait));
    let before = SystemTime::now();
    let limited = get(&sandbox, "/info", None).await;
    let after = SystemTime::now();
    assert_eq!(limited.status, 429);
    let date = limited.header("retry-after").unwrap();
    assert!(date.ends_with(" GMT"), "{date}");
    let at = httpdate::parse_http_date(&date).unwrap();
    // HTTP-dates drop the sub-second part.
    assert!(at + Duration::from_secs(1) > before + wait, "{date}");
    assert!(at <= after + wait, "{date}");
}

#[tokio::test]
async fn delay_then_a_normal_answer() {
    let sandbox = Sandbox::builder()
        .fault("/info", Fault::Delay(Duration::from_millis(300)))
        .start()
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let answer = get(&sandbox, "/info", None).await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json()["version"], "0.1.13");
    let records = sandbox.stats().requests;
    assert_eq!(
        records[0].fault,
        Some(Fault::Delay(Duration::from_millis(300)))
    );
    assert_eq!(records[0].status, 200);
}

/// The delay sleeps on the tokio clock, so paused time skips it.
#[tokio::test(start_paused = true)]
async fn delay_follows_the_paused_clock() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/info", Fault::Delay(Duration::from_secs(3600)));
    let started = tokio::time::Instant::now();
    let real = std::time::Instant::now();
    assert_eq!(get(&sandbox, "/info", None).await.status, 200);
    assert!(started.elapsed() >= Duration::from_secs(3600));
    assert!(real.elapsed() < Duration::from_secs(60));
}

#[tokio::test]
async fn drop_connection_is_a_transport_error_without_status() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/user/obtain_token", Fault::DropConnection);
    let body = json!({"username": sandbox.username(), "password": sandbox.password()});
    let err = send(
        &sandbox,
        Method::POST,
        "/user/obtain_token",
        None,
        Some(&body),
    )
    .await
    .unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert!(
        err.is_request() || err.is_connect() || err.is_body(),
        "{err:?}"
    );
    let records = sandbox.stats().requests;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].status, 0);
    assert_eq!(records[0].fault, Some(Fault::DropConnection));
    // The server lives on.
    login(&sandbox).await;
}

#[tokio::test]
async fn drop_connection_on_a_reused_connection() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = http();
    let url = format!("{}/info", sandbox.base_url());
    // Warm a keep-alive connection first, so the tear hits a pooled one.
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
    sandbox.push_fault("/info", Fault::DropConnection);
    let err = client.get(&url).send().await.unwrap_err();
    assert!(err.status().is_none(), "{err:?}");
    assert_eq!(client.get(&url).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn malformed_and_exact_bodies() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/user/obtain_token", Fault::MalformedBody);
    sandbox.push_fault(
        "/user/obtain_token",
        Fault::Body(200, r#"{"token": ""}"#.to_owned()),
    );
    sandbox.push_fault("/user/obtain_token", Fault::Body(418, "teapot".to_owned()));
    let body = json!({"username": sandbox.username(), "password": sandbox.password()});

    let malformed = post(&sandbox, "/user/obtain_token", None, &body).await;
    assert_eq!(malformed.status, 200);
    assert_eq!(
        malformed.header("content-type").as_deref(),
        Some("application/json")
    );
    assert!(serde_json::from_str::<serde_json::Value>(&malformed.text).is_err());

    let empty_token = post(&sandbox, "/user/obtain_token", None, &body).await;
    assert_eq!(empty_token.status, 200);
    assert_eq!(empty_token.text, r#"{"token": ""}"#);

    let teapot = post(&sandbox, "/user/obtain_token", None, &body).await;
    assert_eq!((teapot.status, teapot.text.as_str()), (418, "teapot"));
}

#[tokio::test]
async fn queued_faults_are_fifo_and_one_shot_per_route() {
    let sandbox = Sandbox::builder()
        .fault("/info", Fault::Status(500))
        .fault("*", Fault::Status(504))
        .start()
        .await
        .unwrap();
    sandbox.push_fault("/info/", Fault::Status(502));
    sandbox.push_fault("/api/info", Fault::Status(503));
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(get(&sandbox, "/info", None).await.status);
    }
    // The route's own queue in order, then the `*` queue, then nothing.
    assert_eq!(statuses, [500, 502, 503, 504, 200]);

    // A route's faults apply to any method on it.
    sandbox.push_fault("/user/refresh-token", Fault::Status(500));
    sandbox.push_fault("/user/refresh-token", Fault::Status(501));
    assert_eq!(get(&sandbox, "/user/refresh-token", None).await.status, 500);
    let post_answer = send(&sandbox, Method::POST, "/user/refresh-token", None, None)
        .await
        .unwrap();
    assert_eq!(post_answer.status, 501);

    // A concrete path only hits that path; a pattern hits every path of it.
    let token = login(&sandbox).await;
    let uuids: Vec<String> = get(&sandbox, "/assets", Some(&token))
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["asset_uuid"].as_str().unwrap().to_owned())
        .collect();
    sandbox.push_fault(&format!("/assets/{}", uuids[1]), Fault::Status(500));
    assert_eq!(
        get(&sandbox, &format!("/assets/{}", uuids[0]), Some(&token))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&sandbox, &format!("/assets/{}", uuids[1]), Some(&token))
            .await
            .status,
        500
    );
    sandbox.push_fault("/assets/{assetUuid}", Fault::Status(500));
    assert_eq!(
        get(&sandbox, &format!("/assets/{}", uuids[0]), Some(&token))
            .await
            .status,
        500
    );

    sandbox.push_fault("/info", Fault::Status(500));
    sandbox.clear_faults();
    assert_eq!(get(&sandbox, "/info", None).await.status, 200);
}

async fn statuses_with_seed(seed: u64) -> Vec<u16> {
    let sandbox = Sandbox::builder()
        .seed(seed)
        .fault_rate("/info", Fault::Status(503), 0.3)
        .fault_rate("*", Fault::Status(500), 0.1)
        .start()
        .await
        .unwrap();
    let mut statuses = Vec::new();
    for _ in 0..60 {
        statuses.push(get(&sandbox, "/info", None).await.status);
    }
    statuses
}

#[tokio::test]
async fn fault_rates_repeat_with_a_seed() {
    let first = statuses_with_seed(7).await;
    assert_eq!(first, statuses_with_seed(7).await);
    assert_ne!(first, statuses_with_seed(8).await);
    let count = |status| first.iter().filter(|s| **s == status).count();
    assert!(count(503) > 5 && count(503) < 35, "{first:?}");
    assert!(count(200) > 15, "{first:?}");
    assert_eq!(count(503) + count(500) + count(200), 60);
}

#[tokio::test]
async fn fault_rates_of_one_and_zero() {
    let sandbox = Sandbox::builder().seed(1).start().await.unwrap();
    sandbox.set_fault_rate("/info", Fault::RateLimitSeconds(1), 1.0);
    for _ in 0..5 {
        assert_eq!(get(&sandbox, "/info", None).await.status, 429);
    }
    // A queued fault goes first, and rates resume after it.
    sandbox.push_fault("/info", Fault::Status(500));
    assert_eq!(get(&sandbox, "/info", None).await.status, 500);
    assert_eq!(get(&sandbox, "/info", None).await.status, 429);
    // Probability 0 removes the rate.
    sandbox.set_fault_rate("/info", Fault::RateLimitSeconds(1), 0.0);
    assert_eq!(get(&sandbox, "/info", None).await.status, 200);
}

#[tokio::test]
async fn records_hold_route_method_authorization_and_status() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = login(&sandbox).await;
    get(&sandbox, "/assets/", Some(&token)).await;
    get(&sandbox, "/registered_users/1", Some(&token)).await;
    get(&sandbox, "/registered_users/2/", None).await;
    sandbox.push_fault("/info", Fault::DropConnection);
    let _ = send(&sandbox, Method::GET, "/info", Some(&token), None).await;

    let stats = sandbox.stats();
    assert_eq!(stats.total(), 5);
    assert_eq!(stats.requests.len(), 5);
    let by_route = stats.by_route();
    assert_eq!(by_route["POST /user/obtain_token"], 1);
    assert_eq!(by_route["GET /assets"], 1);
    assert_eq!(by_route["GET /registered_users/{registeredUserId}"], 2);
    assert_eq!(by_route["GET /info"], 1);
    assert_eq!(
        sandbox.count("get", "/api/registered_users/{registeredUserId}/"),
        2
    );

    let auth = format!("token {token}");
    let summary: Vec<(&str, &str, Option<&str>, u16)> = stats
        .requests
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.route.as_str(),
                r.authorization.as_deref(),
                r.status,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("POST", "/user/obtain_token", None, 200),
            ("GET", "/assets", Some(auth.as_str()), 200),
            (
                "GET",
                "/registered_users/{registeredUserId}",
                Some(auth.as_str()),
                200
            ),
            ("GET", "/registered_users/{registeredUserId}", None, 401),
            ("GET", "/info", Some(auth.as_str()), 0),
        ]
    );
    assert_eq!(stats.requests[2].path, "/api/registered_users/1");

    sandbox.reset_stats();
    assert_eq!(sandbox.stats().total(), 0);
    assert!(sandbox.stats().requests.is_empty());
    assert_eq!(sandbox.count("GET", "/assets"), 0);
}

#[tokio::test]
async fn record_limit_keeps_the_latest_but_counts_all() {
    let sandbox = Sandbox::builder().record_limit(2).start().await.unwrap();
    for _ in 0..4 {
        get(&sandbox, "/info", None).await;
    }
    get(&sandbox, "/info/", None).await;
    let stats = sandbox.stats();
    assert_eq!(stats.total(), 5);
    assert_eq!(stats.requests.len(), 2);
    assert_eq!(stats.requests[1].path, "/api/info/");
}

#[tokio::test]
async fn shutdown_ends_delays_and_closes_the_port() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/info", Fault::Delay(Duration::from_secs(3600)));
    let url = format!("{}/info", sandbox.base_url());
    let pending = tokio::spawn(async move { http().get(url).send().await });
    // Let the request reach the handler and start waiting.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let addr = sandbox.addr();
    let base = sandbox.base_url();
    tokio::time::timeout(Duration::from_secs(10), sandbox.shutdown())
        .await
        .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), pending)
        .await
        .unwrap()
        .unwrap();
    assert!(answer.is_err(), "{answer:?}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    assert!(http().get(format!("{base}/info")).send().await.is_err());
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it() {
    let sandbox = Sandbox::start().await.unwrap();
    let addr = sandbox.addr();
    drop(sandbox);
    // The abort is asynchronous; give the runtime a moment.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused);
}

#[tokio::test]
async fn statuses_without_a_body_and_out_of_range() {
    let sandbox = Sandbox::start().await.unwrap();
    sandbox.push_fault("/info", Fault::Status(204));
    sandbox.push_fault("/info", Fault::Body(304, "ignored".into()));
    sandbox.push_fault("/info", Fault::Status(42));
    let no_content = get(&sandbox, "/info", None).await;
    assert_eq!((no_content.status, no_content.text.as_str()), (204, ""));
    let not_modified = get(&sandbox, "/info", None).await;
    assert_eq!((not_modified.status, not_modified.text.as_str()), (304, ""));
    assert_eq!(get(&sandbox, "/info", None).await.status, 500);
    // The connection survives all of that.
    assert_eq!(get(&sandbox, "/info", None).await.status, 200);
}

/// Many tasks on many threads: every request is counted exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_are_all_counted() {
    let sandbox = std::sync::Arc::new(Sandbox::start().await.unwrap());
    sandbox.set_fault_rate("/info", Fault::Status(503), 0.2);
    let client = http();
    let mut tasks = Vec::new();
    for _ in 0..200 {
        let client = client.clone();
        let url = format!("{}/info", sandbox.base_url());
        tasks.push(tokio::spawn(async move {
            client.get(url).send().await.unwrap().status().as_u16()
        }));
    }
    let mut ok = 0;
    for task in tasks {
        if task.await.unwrap() == 200 {
            ok += 1;
        }
    }
    let stats = sandbox.stats();
    assert_eq!(sandbox.count("GET", "/info"), 200);
    assert_eq!(stats.requests.len(), 200);
    let recorded_ok = stats.requests.iter().filter(|r| r.status == 200).count();
    assert_eq!(recorded_ok, ok);
}

#[test]
fn sandbox_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Sandbox>();
    assert_send_sync::<amp_sandbox::SandboxBuilder>();
    assert_send_sync::<amp_sandbox::Stats>();
}
