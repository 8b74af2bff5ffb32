//! Tests that need the manager's insides: its locks, and where copies of
//! the secret live.

use std::sync::Arc;

use std::time::Duration;

use chrono::Utc;

use crate::Clock;
use secrecy::ExposeSecret;
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

use crate::auth::token::TokenData;
use crate::{AmpClient, Config, ManualClock, RetryConfig, TokenManager, TokenPolicy};

const T1: &str = "1111111111aaaaaaaaaa1111111111aaaaaaaaaa";
const T2: &str = "2222222222bbbbbbbbbb2222222222bbbbbbbbbb";

fn client(server: &MockServer) -> (AmpClient, ManualClock) {
    let config = Config::builder()
        .base_url(format!("{}/api", server.uri()))
        .credentials("user", "password")
        .retry(RetryConfig {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(10),
        })
        .token_policy(TokenPolicy {
            failure_cooldown: Duration::ZERO,
            background_cooldown: Duration::ZERO,
            ..TokenPolicy::default()
        })
        .build()
        .unwrap();
    let clock = ManualClock::new(Utc::now());
    let client = AmpClient::builder(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    (client, clock)
}

fn token_json(t: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({ "token": t }))
}

/// A token obtained `age` ago that lives 24 h.
fn aged(t: &str, clock: &ManualClock, age: Duration) -> TokenData {
    let obtained = clock.now() - chrono::Duration::from_std(age).unwrap();
    TokenData::new(t, obtained, obtained + chrono::Duration::hours(24))
}

const HOUR: Duration = Duration::from_secs(3600);

// While a renewal is in flight and the hard point is ahead, callers are
// served the current token at once: they never wait for a renewal they
// do not need (the refresh here takes a minute).
#[tokio::test]
async fn during_a_renewal_callers_are_served_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        // Still in flight when the test ends.
        .respond_with(token_json(T2).set_delay(Duration::from_secs(60)))
        .mount(&server)
        .await;
    let (client, clock) = client(&server);
    let m = client.token_manager().clone();
    m.set_token(aged(T1, &clock, 24 * HOUR - 4 * Duration::from_secs(60)))
        .await
        .unwrap();
    // Past the soft point: starts the background refresh, returns T1.
    let first = m.token().await.unwrap();
    assert!(m.is_renewing());
    for _ in 0..100 {
        let t = tokio::time::timeout(Duration::from_secs(5), m.token())
            .await
            .expect("token() waited for the renewal")
            .unwrap();
        assert_eq!(t.generation(), first.generation());
    }
    assert!(m.is_renewing());
}

/// The manager and the probe of the secret it holds now.
async fn holding(m: &TokenManager) -> impl Fn() -> bool {
    let token = m.token().await.unwrap();
    let alive = crate::auth::token::tests::liveness(token.data());
    drop(token);
    assert!(alive(), "the manager holds the token");
    alive
}

// After `clear()`, after `invalidate()`, and after the last client is
// dropped, nothing holds the secret any more: not the cell, the snapshot,
// the store, the renewal's channel or a retired mark. Only the tokens
// callers keep. (One runtime thread, so that each login's task has finished
// when its caller resumes: a renewal still running holds the manager until
// it ends.)
#[tokio::test]
async fn no_copy_of_the_secret_outlives_clear_invalidate_or_drop() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server);
    let m = client.token_manager().clone();

    let alive = holding(&m).await;
    m.clear().await.unwrap();
    assert!(!alive(), "a copy survived clear()");

    let alive = holding(&m).await;
    let kept = m.token().await.unwrap();
    assert!(m.invalidate(kept.generation()).await);
    assert!(alive(), "the caller's own token is still theirs");
    drop(kept);
    assert!(!alive(), "a copy survived invalidate()");

    let alive = holding(&m).await;
    drop(m);
    drop(client);
    assert!(!alive(), "a copy survived the drop of the last client");
}

// Tokens from the hot path are arc_swap guards, not counted references:
// many held at once on one thread (more than arc_swap's slots per thread,
// so some are counted after all), and clones of them, each keep their token
// readable after the snapshot they came from is cleared and replaced, and
// the secret dies with the last of them, wherever they are dropped (half
// are moved to another task, which may run on the other thread).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_path_tokens_outlive_their_snapshot_and_then_die() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T2))
        .mount(&server)
        .await;
    let (client, clock) = client(&server);
    let m = client.token_manager().clone();
    m.set_token(aged(T1, &clock, HOUR)).await.unwrap();
    let mut held = Vec::new();
    for _ in 0..50 {
        held.push(m.token().await.unwrap());
    }
    let clones: Vec<_> = held.iter().map(Clone::clone).collect();
    let alive = crate::auth::token::tests::liveness(held[0].data());
    m.clear().await.unwrap();
    let renewed = m.token().await.unwrap();
    assert_eq!(renewed.secret().expose_secret(), T2);
    for t in held.iter().chain(&clones) {
        assert_eq!(t.secret().expose_secret(), T1);
        assert_eq!(t.generation(), held[0].generation());
    }
    let moved = held.split_off(25);
    let elsewhere = tokio::spawn(async move {
        tokio::task::yield_now().await;
        moved.iter().all(|t| t.secret().expose_secret() == T1)
    });
    assert!(
        elsewhere.await.unwrap(),
        "a token moved to another task changed"
    );
    drop(held);
    assert!(alive(), "the clones still hold the token");
    drop(clones);
    assert!(!alive(), "a copy outlived every holder");
}

// An automatic renewal that finds the token fresh, with no store giving it
// (here: started in the refresh window, the clock then set back before the
// soft point), installs nothing and says so: it is not reported as taken
// from the store, and a `force_refresh()` that joined it goes on to
// refresh for real.
#[tokio::test]
async fn a_renewal_with_nothing_to_do_is_not_taken_for_one_from_the_store() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2))
        .expect(1)
        .mount(&server)
        .await;
    let (client, clock) = client(&server);
    let m = client.token_manager().clone();
    let start = clock.now();
    m.set_token(aged(T1, &clock, 24 * HOUR - 4 * Duration::from_secs(60)))
        .await
        .unwrap();
    // Starts the background renewal; on this one runtime thread, it does
    // not run before this test's next await.
    m.token().await.unwrap();
    assert!(m.is_renewing());
    clock.set(start - chrono::Duration::hours(1));
    // Joins the automatic renewal, which finds the token fresh.
    let (t, how) = m.force_refresh().await.unwrap();
    assert_eq!(
        (t.secret().expose_secret(), how),
        (T2, super::Renewal::Refreshed)
    );
}
