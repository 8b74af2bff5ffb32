//! Secrets at the edge where the server talks back (issue 13 §1, §4, §5):
//! server text that echoes the password or a token is scrubbed before any
//! event, error or output sees it, at every log level; which 403s count as
//! a rejected token; how long waits and timeouts read.

use crate::common;
use crate::common::capture;

use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, StatusCode};
use capture::Capture;
use common::*;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Fails naming the context if `secret`, or a long piece of it, is in `text`.
fn assert_absent(text: &str, secret: &str, what: &str) {
    let piece = &secret[..secret.len().min(12)];
    if let Some(i) = text.find(piece) {
        panic!(
            "{what} leaked: …{}…",
            &text[i.saturating_sub(200)..(i + 60).min(text.len())]
        );
    }
}

/// Bodies that echo `secret`: plain, JSON-escaped inside a JSON body, in
/// an HTML page, and cut in the middle by a long prefix (the client keeps
/// only the start of a long message).
fn echoes(secret: &str) -> Vec<String> {
    let escaped = serde_json::to_string(secret).unwrap();
    let mut bodies = vec![
        format!("upstream said: {secret}"),
        format!(
            r#"{{"detail": "echo {{\"password\": {}}}"}}"#,
            escaped.replace('"', "\\\"")
        ),
        format!(r#"{{"request": {{"password": {escaped}, "token": {escaped}}}}}"#),
        format!("<html><head><title>Error {secret}</title></head><body>{secret}</body></html>"),
    ];
    for prefix in (150..320).step_by(3) {
        bodies.push(format!("{}{secret} and more", "x".repeat(prefix)));
    }
    bodies
}

/// A password that JSON escapes differently from its plain form.
const ODD_PASSWORD: &str = r#"pw"Zx81\very-secret"#;

fn odd_client(server: &MockServer) -> AmpClient {
    let config = Config::builder()
        .base_url(api(server))
        .credentials(USER, ODD_PASSWORD)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    AmpClient::new(config).unwrap()
}

// A login answered 500 whose body echoes the password: nothing at TRACE (the
// `retrying` event included), in the error or its Debug shows it.
#[tokio::test]
async fn a_login_echoing_the_password_is_scrubbed_everywhere() {
    for body in echoes(ODD_PASSWORD) {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(ResponseTemplate::new(500).set_body_string(body.clone()))
            .mount(&server)
            .await;
        let capture = Capture::default();
        let guard = capture.start("trace");
        let e = odd_client(&server).assets().list().await.unwrap_err();
        drop(guard);
        let text = format!("{}\n{e}\n{e:?}", capture.text());
        assert!(text.contains("retrying"), "the retry was logged: {text}");
        assert_absent(&text, ODD_PASSWORD, "the password");
        let escaped = serde_json::to_string(ODD_PASSWORD).unwrap();
        assert_absent(
            &text,
            &escaped[1..escaped.len() - 1],
            "the escaped password",
        );
        assert_eq!(e.status(), Some(StatusCode::INTERNAL_SERVER_ERROR));
    }
}

// A refresh answered 502, and API calls answered 500 and 400, whose bodies
// echo the token the request carried: scrubbed at every level too.
#[tokio::test]
async fn answers_echoing_a_token_are_scrubbed_everywhere() {
    for body in echoes(T1) {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/user/refresh-token"))
            .respond_with(ResponseTemplate::new(502).set_body_string(body.clone()))
            .mount(&server)
            .await;
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(ResponseTemplate::new(503).set_body_string(body.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(500).set_body_string(body.clone()))
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/categories/"))
            .respond_with(ResponseTemplate::new(400).set_body_string(body.clone()))
            .mount(&server)
            .await;
        let (client, clock) = client(&server, 2);
        let m = client.token_manager();
        m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
        let capture = Capture::default();
        let guard = capture.start("trace");
        let api = client.assets().list().await.unwrap_err();
        let bad = client.categories().list().await.unwrap_err();
        let refresh = m.force_refresh().await.unwrap_err();
        drop(guard);
        let text = format!(
            "{}\n{api} {api:?}\n{bad} {bad:?}\n{refresh} {refresh:?}",
            capture.text()
        );
        assert!(text.contains("retrying"), "retries were logged");
        assert_absent(&text, T1, "the token");
        assert_eq!(bad.status(), Some(StatusCode::BAD_REQUEST));
    }
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

// A password change answered 400 that quotes the new password: the error
// shows neither it nor the old one.
#[tokio::test]
async fn a_refused_password_change_does_not_quote_the_new_password() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let new = "brand-new-Secret-99";
    Mock::given(method("POST"))
        .and(path("/api/user/change-password"))
        .respond_with(ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "password": [format!("{new} is too similar to {PASSWORD}")]
        })))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 2);
    let capture = Capture::default();
    let guard = capture.start("trace");
    let e = client
        .user()
        .change_password(secrecy::SecretString::from(new))
        .await
        .unwrap_err();
    drop(guard);
    let text = format!("{}\n{e}\n{e:?}", capture.text());
    assert!(text.contains("too similar"), "{text}");
    assert_absent(&text, new, "the new password");
    assert_absent(&text, PASSWORD, "the old password");
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

// Each API call is one `amp.call` span with its method, path, attempts,
// final status and time, its retries as events inside; each renewal an
// `amp.renewal` span. No secret in any field (the echo tests above capture
// spans too).
#[tokio::test]
async fn each_call_is_one_span_with_its_attempts_and_status() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(503))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_assets_for(&server, T1).await;
    let (client, _) = client(&server, 3);
    let capture = Capture::default();
    let guard = capture.start("trace");
    client.assets().list().await.unwrap();
    drop(guard);
    let text = capture.text();
    let closes: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("amp.call") && l.contains("close"))
        .collect();
    assert_eq!(closes.len(), 1, "{text}");
    let close = closes[0];
    for field in ["method=GET", "path=\"assets/\"", "attempts=2", "status=200"] {
        assert!(close.contains(field), "{field} in {close}");
    }
    assert!(text.contains("amp.renewal"), "{text}");
    assert!(text.contains("outcome=obtained"), "{text}");
    assert_absent(&text, T1, "the token");
    assert_absent(&text, PASSWORD, "the password");
}

// The summary of an error body changes a secret's form (blanks collapsed
// in HTML, only the first line of text): the body is scrubbed as it came,
// before it is summarised.
#[tokio::test]
async fn a_secret_the_summary_would_reshape_is_scrubbed_first() {
    for (password, body) in [
        (
            "pw  two  spaces",
            "<html><head><title>Bad password pw  two  spaces</title></head></html>",
        ),
        (
            "first-half\nsecond-half",
            "rejected: first-half\nsecond-half",
        ),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(ResponseTemplate::new(400).set_body_string(body))
            .mount(&server)
            .await;
        let config = Config::builder()
            .base_url(api(&server))
            .credentials(USER, password)
            .retry(fast_retry(1))
            .build()
            .unwrap();
        let e = AmpClient::new(config)
            .unwrap()
            .assets()
            .list()
            .await
            .unwrap_err();
        let text = format!("{e} {e:?}");
        for piece in ["two spaces", "pw two", "first-half", "second-half"] {
            assert!(!text.contains(piece), "{piece:?} leaked: {text}");
        }
        assert!(text.contains("[REDACTED]"), "{text}");
    }
}

// With the library's spans filtered out, nothing it records lands in the
// program's own span (fields named `status` or `attempts` there keep
// their own values).
#[tokio::test]
async fn a_filtered_call_span_records_nothing_into_the_callers() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let (client, _) = client(&server, 2);
    let capture = Capture::default();
    let guard = capture.start("trace,amp_client=warn");
    let app = tracing::info_span!(
        "app",
        status = tracing::field::Empty,
        attempts = tracing::field::Empty
    );
    tracing::Instrument::instrument(async { client.assets().list().await.unwrap() }, app).await;
    drop(guard);
    let text = capture.text();
    assert!(text.contains("app"), "{text}");
    assert!(!text.contains("status=200"), "{text}");
    assert!(!text.contains("attempts="), "{text}");
}
