//! Helpers shared by the integration tests.

pub mod capture;
pub mod resources;

use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, ManualClock, RetryConfig, TokenData, TokenPolicy};
use chrono::Utc;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub const USER: &str = "issuer-user";
pub const PASSWORD: &str = "pw-Zx81-very-secret";
pub const T1: &str = "1111111111aaaaaaaaaa1111111111aaaaaaaaaa";
pub const T2: &str = "2222222222bbbbbbbbbb2222222222bbbbbbbbbb";
pub const T3: &str = "3333333333cccccccccc3333333333cccccccccc";
pub const T4: &str = "4444444444dddddddddd4444444444dddddddddd";

/// Fast retries, so real-time tests against wiremock stay quick.
pub fn fast_retry(attempts: u32) -> RetryConfig {
    RetryConfig {
        max_attempts: attempts,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(20),
    }
}

pub fn config_for(base: &str, attempts: u32) -> Config {
    Config::builder()
        .base_url(base)
        .credentials(USER, PASSWORD)
        .retry(fast_retry(attempts))
        .request_timeout(Duration::from_secs(5))
        .token_policy(TokenPolicy {
            failure_cooldown: Duration::from_millis(0),
            ..TokenPolicy::default()
        })
        .build()
        .unwrap()
}

pub fn api(server: &MockServer) -> String {
    format!("{}/api", server.uri())
}

/// A client on `server` with a manual clock.
pub fn client(server: &MockServer, attempts: u32) -> (AmpClient, ManualClock) {
    let clock = ManualClock::new(Utc::now());
    let client = AmpClient::builder(config_for(&api(server), attempts))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (client, clock)
}

pub fn token_json(t: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": t }))
}

pub async fn mount_obtain(server: &MockServer, t: &str) {
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(t))
        .mount(server)
        .await;
}

/// Logins answering `first` once, then `then` for ever (a token refused,
/// then a new login).
pub async fn mount_obtain_twice(server: &MockServer, first: &str, then: &str) {
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(first))
        .up_to_n_times(1)
        .mount(server)
        .await;
    mount_obtain(server, then).await;
}

/// `GET /api/assets/` answering `[]` to a request carrying `token t`.
pub async fn mount_assets_for(server: &MockServer, t: &str) {
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .and(header("authorization", format!("token {t}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(server)
        .await;
}

pub async fn count(server: &MockServer, m: &str, p: &str) -> usize {
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.method.as_str() == m && r.url.path() == p)
        .count()
}

/// A token obtained `age` ago that lives 24 h.
pub fn aged_token(t: &str, clock: &ManualClock, age: Duration) -> TokenData {
    use amp_client::Clock;
    let obtained = clock.now() - chrono::Duration::from_std(age).unwrap();
    TokenData::new(t, obtained, obtained + chrono::Duration::hours(24))
}

pub const MIN: Duration = Duration::from_secs(60);
pub const HOUR: Duration = Duration::from_secs(3600);

/// Everything an error shows: `Display`, `Debug`, and every source in its chain.
pub fn shown(e: &amp_client::Error) -> String {
    let mut text = format!("{e} | {e:?} | {e:#?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" | {s} | {s:?}"));
        source = s.source();
    }
    text
}

/// Panics, showing where, when `secret` is in `text`.
pub fn assert_hidden(text: &str, secret: &str, what: &str) {
    if let Some(i) = text.find(secret) {
        let mut from = i.saturating_sub(120);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        panic!(
            "{what} leaked: …{}…",
            &text[from..(i + secret.len()).min(text.len())]
        );
    }
}

/// A lookup of these environment variables, for `Config::from_lookup`.
pub fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}
