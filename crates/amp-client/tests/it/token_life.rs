//! A token's life against exact stubs (wiremock): the first login and the
//! token every call carries, credentials from the environment, a 24 h life
//! moved through by a `ManualClock`, expiry, answers that are not a token,
//! `info()`, `clear()`, and a token that survives a restart. Retries use
//! millisecond delays.

use crate::common;

use std::time::Duration;

use amp_client::{Clock, TokenData, TokenState};
use common::*;
use secrecy::ExposeSecret;
use wiremock::matchers::{body_json, header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

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

/// Token answers a hostile server could send: a token that would inject a
/// header, one of another type, an empty one, two `token` keys whose last
/// is bad. None is installed: the login fails, no request carries a
/// broken `Authorization`, and the error quotes no token.
#[tokio::test]
async fn odd_token_answers_install_nothing() {
    let injected = "abcdef0123456789\r\nX-Injected: yes";
    let answers = [
        format!(r#"{{"token":"{}"}}"#, injected.replace("\r\n", "\\r\\n")),
        r#"{"token":1234567890123}"#.to_string(),
        r#"{"token":["a","b"]}"#.to_string(),
        r#"{"token":"   "}"#.to_string(),
        format!(r#"{{"token":"{T1}","token":null}}"#),
        format!(r#"{{"token":"{T1}","expires_in":-5}}"#),
        format!(r#"{{"token":"{T1}","expires_at":"not a date"}}"#),
        format!(r#"{{"token":"{T1}\u0000"}}"#),
    ];
    for answer in answers {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-type", "application/json")
                    .set_body_raw(answer.clone(), "application/json"),
            )
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
            .mount(&server)
            .await;
        let (client, _clock) = client(&server, 1);
        let e = client.assets().list().await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(!shown.contains(T1), "{answer}: {shown}");
        assert!(!shown.contains("abcdef0123456789"), "{answer}: {shown}");
        let calls = count(&server, "GET", "/api/assets/").await;
        assert_eq!(calls, 0, "{answer}: a call went out with that token");
        let injected_seen = server
            .received_requests()
            .await
            .unwrap()
            .iter()
            .any(|r| r.headers.contains_key("x-injected"));
        assert!(!injected_seen, "{answer}");
    }
}
