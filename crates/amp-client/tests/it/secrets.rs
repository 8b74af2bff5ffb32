//! Secrets never leave: server text that echoes the password or a token is
//! scrubbed before any event, error or output sees it, at every log level;
//! `Debug` of every type that holds a secret redacts it; errors never quote a
//! request body; server text a person reads (HTML pages, escape sequences) is
//! made harmless; each call is one span that records no secret.

use crate::common;
use crate::common::capture;

use std::time::Duration;

use amp_client::{
    AmpClient, Config, Credentials, Error, Method, StatusCode, StoreSpec, TokenData, TokenPolicy,
};
use capture::Capture;
use common::*;
use secrecy::ExposeSecret;
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

// A query may hold what a log should not (an email, a GAID): the span, the
// retry events, the warning when the budget is spent and the error name the
// path alone.
#[tokio::test]
async fn a_query_reaches_no_log_and_no_error() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 3);
    let capture = Capture::default();
    let guard = capture.start("trace");
    let e = client
        .get::<serde_json::Value>("assets/?email=investor%40example.com")
        .await
        .unwrap_err();
    drop(guard);
    let text = format!("{}\n{e}\n{e:?}", capture.text());
    assert!(text.contains("GET /assets/"), "{text}");
    assert!(text.contains("path=\"assets/\""), "{text}");
    assert_absent(&text, "investor", "the query");
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

// ---------------------------------------------------------------------------
// Secrets: Debug redacts, errors do not quote.
// ---------------------------------------------------------------------------

const REDIS_PW: &str = "redis-pw-Qq77-secret";

fn a_token() -> TokenData {
    let now = chrono::Utc::now();
    TokenData::new(T1, now, now + chrono::Duration::hours(24))
}

fn debug_all<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?} {v:#?}")
}

#[test]
fn credentials_debug_redacts_the_password() {
    let c = Credentials::new(USER, PASSWORD);
    assert_hidden(&debug_all(&c), PASSWORD, "the password");
    assert!(debug_all(&c).contains(USER));
}

#[test]
fn token_data_debug_redacts_the_token() {
    let t = a_token();
    let d = debug_all(&t);
    assert_hidden(&d, T1, "the token");
    assert!(d.contains(&t.fingerprint()));
    let info =
        amp_client::__private::token_info_at(&t, chrono::Utc::now(), &TokenPolicy::default());
    assert_hidden(&debug_all(&info), T1, "the token");
    assert_hidden(&serde_json::to_string(&info).unwrap(), T1, "the token");
}

#[tokio::test]
async fn access_token_debug_redacts_the_token() {
    let server = MockServer::start().await;
    let (client, _clock) = client(&server, 1);
    let access = client.token_manager().set_token(a_token()).await.unwrap();
    assert_eq!(access.secret().expose_secret(), T1);
    assert_hidden(&debug_all(&access), T1, "the token");
    assert_hidden(&debug_all(access.data()), T1, "the token");
}

#[test]
fn config_and_its_builder_redact_credentials_and_store_passwords() {
    let spec: StoreSpec = format!("rediss://amp:{REDIS_PW}@redis.internal:6380/0")
        .parse()
        .unwrap();
    let builder = Config::builder()
        .base_url("https://amp.example.com/api")
        .credentials(USER, PASSWORD)
        .token_store(spec);
    let d = debug_all(&builder);
    assert_hidden(&d, PASSWORD, "the password");
    assert_hidden(&d, REDIS_PW, "the Redis password");
    let config = builder.build().unwrap();
    let d = debug_all(&config);
    assert_hidden(&d, PASSWORD, "the password");
    assert_hidden(&d, REDIS_PW, "the Redis password");
    assert!(d.contains("redis.internal"));
}

#[test]
fn store_spec_debug_and_display_redact_the_redis_password() {
    for url in [
        format!("redis://amp:{REDIS_PW}@redis.internal:6379/0"),
        format!("redis://:{REDIS_PW}@redis.internal/0"),
        format!("rediss://amp:{REDIS_PW}@redis.internal:6380"),
    ] {
        let spec: StoreSpec = url.parse().unwrap();
        assert_hidden(&debug_all(&spec), REDIS_PW, "the Redis password");
        assert_hidden(&spec.to_string(), REDIS_PW, "the Redis password");
    }
    // A URL that does not parse is refused without being quoted.
    let bad = format!("redis://amp:{REDIS_PW}@redis.internal:notaport/0");
    let e = bad.parse::<StoreSpec>().unwrap_err();
    assert_hidden(&e, REDIS_PW, "the Redis password");
    let e = Config::from_lookup(&env(vec![("AMP_TOKEN_STORE", bad)])).unwrap_err();
    assert!(e.to_string().contains("AMP_TOKEN_STORE"), "{e}");
    assert_hidden(&shown(&e), REDIS_PW, "the Redis password");
}

#[tokio::test]
async fn token_manager_and_client_debug_redact_everything() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let (client, _clock) = client(&server, 1);
    client.assets().list().await.unwrap();
    for d in [
        debug_all(&client),
        debug_all(client.token_manager()),
        debug_all(&client.token_manager().stats()),
        debug_all(&client.token_manager().info()),
        debug_all(&client.token_manager().snapshot()),
        debug_all(&client.token_manager().describe_store()),
        debug_all(&AmpClient::builder(client.config().clone())),
    ] {
        assert_hidden(&d, T1, "the token");
        assert_hidden(&d, PASSWORD, "the password");
    }
}

#[tokio::test]
async fn file_store_debug_shows_the_path_only() {
    let dir = std::env::temp_dir().join(format!(
        "amp-hardening-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let store = amp_client::FileStore::new(dir.join("token.json"));
    use amp_client::TokenStore;
    store.save(&a_token()).await.unwrap();
    let d = debug_all(&store);
    assert_hidden(&d, T1, "the token");
    assert!(d.contains("token.json"));
    assert_hidden(&store.describe(), T1, "the token");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "redis")]
#[test]
fn redis_store_debug_redacts_the_password() {
    let store = amp_client::RedisStore::new(
        &format!("redis://amp:{REDIS_PW}@redis.internal:6379/0"),
        "amp:token:test",
    )
    .unwrap();
    use amp_client::TokenStore;
    assert_hidden(&debug_all(&store), REDIS_PW, "the Redis password");
    assert_hidden(&store.describe(), REDIS_PW, "the Redis password");
}

/// Base URLs carrying credentials are refused without repeating them.
#[test]
fn a_base_url_with_credentials_is_refused_unquoted() {
    for url in [
        format!("https://{USER}:{PASSWORD}@amp.example.com/api"),
        format!("https://{USER}:{PASSWORD}@amp.example.com:notaport/api"),
        format!("ftp://{USER}:{PASSWORD}@amp.example.com/api"),
    ] {
        let e = Config::builder().base_url(url.clone()).build().unwrap_err();
        assert!(e.is_config(), "{e}");
        assert_hidden(&shown(&e), PASSWORD, "the password");
        let e = Config::from_lookup(&env(vec![("AMP_API_BASE_URL", url)])).unwrap_err();
        assert_hidden(&shown(&e), PASSWORD, "the password");
    }
}

/// A request body never appears in an error, whatever the failure: refused,
/// torn, timed out, a 5xx or a 4xx with an empty body.
#[tokio::test]
async fn errors_never_quote_the_request_body() {
    const MARK: &str = "body-marker-5ab1e";
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/e500"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(path("/api/e422"))
        .respond_with(ResponseTemplate::new(422))
        .mount(&server)
        .await;
    Mock::given(path("/api/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let config = Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let body = serde_json::json!({"name": MARK, "nested": {"secret": MARK}});
    for (m, p) in [
        (Method::POST, "e500"),
        (Method::PUT, "e500"),
        (Method::POST, "e422"),
        (Method::PUT, "slow"),
    ] {
        let sent = if m == Method::POST {
            client.post::<serde_json::Value>(p, &body).await
        } else {
            client.put::<serde_json::Value>(p, &body).await
        };
        let e = sent.unwrap_err();
        assert_hidden(&shown(&e), MARK, "the request body");
        assert_hidden(&shown(&e), T1, "the token");
    }
    // Nothing listening: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let config = Config::builder()
        .base_url(format!("http://{closed}/api"))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    client.token_manager().set_token(a_token()).await.unwrap();
    let e = client
        .put::<serde_json::Value>("assets/x", &body)
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_hidden(&shown(&e), MARK, "the request body");
    assert_hidden(&shown(&e), T1, "the token");
}

// ---------------------------------------------------------------------------
// A failed login never shows the password, whatever the server echoes.
// ---------------------------------------------------------------------------

async fn login_error(respond: ResponseTemplate, attempts: u32) -> (Error, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(respond)
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, attempts);
    let e = client.assets().list().await.unwrap_err();
    (e, server)
}

#[tokio::test]
async fn a_password_echoed_in_500s_through_every_retry_is_scrubbed() {
    let body = serde_json::json!({
        "detail": format!("internal error handling {{\"username\": \"{USER}\", \"password\": \"{PASSWORD}\"}}"),
    });
    let (e, server) = login_error(ResponseTemplate::new(500).set_body_json(body), 3).await;
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.attempts(), Some(3), "{e}");
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 3);
    let text = shown(&e);
    assert!(
        text.contains("[REDACTED]"),
        "the message was kept, scrubbed: {text}"
    );
    assert_hidden(&text, PASSWORD, "the password");
}

#[tokio::test]
async fn a_password_echoed_in_a_plain_text_502_is_scrubbed() {
    let (e, _server) = login_error(
        ResponseTemplate::new(502).set_body_string(format!(
            "upstream said: password={PASSWORD}&username={USER}"
        )),
        2,
    )
    .await;
    assert_eq!(e.status().map(|s| s.as_u16()), Some(502), "{e}");
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

#[tokio::test]
async fn a_password_echoed_by_a_401_from_obtain_is_scrubbed() {
    let (e, server) = login_error(
        ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"detail": format!("no user {USER} with password {PASSWORD}")}),
        ),
        3,
    )
    .await;
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(401), "{e}");
    assert_eq!(
        count(&server, "POST", "/api/user/obtain_token").await,
        1,
        "a 401 is not retried"
    );
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

#[tokio::test]
async fn a_password_echoed_in_field_errors_of_a_400_is_scrubbed() {
    let (e, _server) = login_error(
        ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "password": [format!("'{PASSWORD}' is not the password")],
            "non_field_errors": [PASSWORD],
        })),
        3,
    )
    .await;
    assert!(e.is_credentials_refused(), "{e}");
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

/// An echo that a 429 interrupts, then 500s to the end.
#[tokio::test]
async fn a_password_echoed_after_a_rate_limit_is_scrubbed() {
    let server = MockServer::start().await;
    Mock::given(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(503).set_body_string(PASSWORD))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, 3);
    let e = client.token_manager().login().await.unwrap_err();
    assert_eq!(e.attempts(), Some(3), "{e}");
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

/// The error message keeps 300 bytes of a JSON message, 200 characters of
/// plain text. When the echo straddles that cut, the half that is left must
/// go too.
#[tokio::test]
async fn a_password_echoed_across_the_message_cut_is_scrubbed() {
    let plain = format!("{}{PASSWORD}", "x".repeat(190));
    let json = serde_json::json!({ "detail": format!("{}{PASSWORD}", "x".repeat(290)) });
    for body in [plain, json.to_string()] {
        let (e, _server) = login_error(ResponseTemplate::new(500).set_body_string(body), 2).await;
        let text = shown(&e);
        // Scrubbed before the message is cut (it may then fit whole).
        assert!(text.contains("x[REDACTED]"), "cut inside the echo: {text}");
        assert_hidden(&text, &PASSWORD[..8], "a prefix of the password");
    }
}

/// A server that echoes the raw request body (JSON) in a non-JSON error page
/// echoes the password JSON-escaped; a password with `"` or `\` is then not
/// found by a plain search: the escaped form is scrubbed too.
#[tokio::test]
async fn a_json_escaped_echo_is_scrubbed() {
    const PW: &str = r#"pa"ss\word-Zx81"#;
    let server = MockServer::start().await;
    let escaped = serde_json::to_string(PW).unwrap();
    Mock::given(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!(
            "<html>Server Error. Request body: {{\"username\": \"u\", \"password\": {escaped}}}</html>"
        )))
        .mount(&server)
        .await;
    let config = Config::builder()
        .base_url(api(&server))
        .credentials(USER, PW)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let e = client.token_manager().login().await.unwrap_err();
    let text = shown(&e);
    assert_hidden(&text, PW, "the password");
    assert_hidden(
        &text,
        &escaped[1..escaped.len() - 1],
        "the escaped password",
    );
}

// ---------------------------------------------------------------------------
// Server text a person reads.
// ---------------------------------------------------------------------------

const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";

/// Django's `ERROR_PAGE_TEMPLATE` (its 404 and 500 pages with DEBUG off).
fn django_page(title: &str, details: &str) -> String {
    format!(
        "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n<body>\n  \
         <h1>{title}</h1><p>{details}</p>\n</body>\n</html>\n"
    )
}

/// An error page answers `GET /api/assets/`; the error the caller gets.
async fn error_for(status: u16, body: String) -> Error {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, 2);
    client.assets().list().await.unwrap_err()
}

#[tokio::test]
async fn html_error_pages_read_as_their_title_never_as_markup() {
    let not_found = django_page(
        "Not Found",
        "The requested resource was not found on this server.",
    );
    for (status, body, want) in [
        (
            502,
            NGINX_502.to_string(),
            "HTTP 502 Bad Gateway: 502 Bad Gateway",
        ),
        (404, not_found, "HTTP 404 Not Found: Not Found"),
        (
            500,
            django_page("Server Error (500)", ""),
            "HTTP 500 Internal Server Error: Server Error (500)",
        ),
    ] {
        let e = error_for(status, body).await;
        let text = e.to_string();
        assert!(text.contains(want), "{status}: {text}");
        assert!(
            !text.contains('<') && !text.contains('\n'),
            "{status}: {text}"
        );
    }
}

/// A server's text can hold terminal escape sequences (clear the screen,
/// retitle the window, a fake second line of output). The error shows them
/// escaped: printed to a terminal or logged, it does nothing.
#[tokio::test]
async fn escape_sequences_from_the_server_are_escaped_in_errors() {
    let bodies = [
        serde_json::json!({ "detail": "\u{1b}[2J\u{1b}]0;owned\u{7}gone\nerror: fake line" })
            .to_string(),
        "\u{1b}[31mplain text\u{9b}1m\u{7f}".to_string(),
        "<html><title>\u{1b}[5mblink</title></html>".to_string(),
    ];
    for body in bodies {
        let e = error_for(400, body.clone()).await;
        let text = e.to_string();
        assert!(!text.chars().any(char::is_control), "{body:?}: {text:?}");
        assert!(text.contains("\\u{1b}"), "{body:?}: {text:?}");
    }
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
