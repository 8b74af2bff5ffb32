//! Renewal and single flight: one renewal at a time however many callers ask
//! (a thousand cold callers share one login, callers in the refresh window one
//! background refresh); the token is served until the hard point, a failing
//! refresh falls back to a login, a cancelled caller does not cancel it.
//! `clear()` and `invalidate()` win over a renewal in flight and over the
//! store; a hung store or a runtime shutting down wedges nothing; short lives
//! do not storm; unusable tokens are set aside; extreme dates do not panic;
//! `login()` and `force_refresh()` say what they did.

use crate::common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amp_client::{
    AmpClient, BoxFuture, Error, FileStore, MemoryStore, Renewal, RenewalGuard, StatusCode,
    TokenData, TokenState, TokenStore, TokioClock,
};
use amp_sandbox::{Fault, Sandbox};
use common::*;
use secrecy::ExposeSecret;
use tokio::sync::Notify;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn secret(t: &amp_client::AccessToken) -> String {
    t.secret().expose_secret().to_string()
}

/// A store over a `MemoryStore` whose operations can be held at a gate.
#[derive(Debug, Default)]
struct GatedStore {
    inner: MemoryStore,
    /// `clear()` announces itself here, then waits for `open`.
    clearing: Notify,
    open: Notify,
    hold_clear: bool,
    /// `load()`, `save()` and `lock()` never finish.
    hang_load: bool,
    hang_save: bool,
    hang_lock: bool,
    /// `clear()` and `discard()` do nothing (a store that keeps everything).
    keep_everything: bool,
    /// … and `clear()` says it failed.
    fail_clear: bool,
    /// The renewal lock's release waits for `open`.
    hold_release: bool,
    releasing: Arc<Notify>,
    release_gate: Arc<Notify>,
    loads: AtomicUsize,
}

impl TokenStore for GatedStore {
    fn describe(&self) -> String {
        "gated".to_string()
    }

    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        Box::pin(async move {
            self.loads.fetch_add(1, Ordering::SeqCst);
            if self.hang_load {
                std::future::pending::<()>().await;
            }
            self.inner.load().await
        })
    }

    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        Box::pin(async move {
            if self.hang_save {
                std::future::pending::<()>().await;
            }
            self.inner.save(token).await
        })
    }

    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        Box::pin(async move {
            if self.fail_clear {
                return Err(Error::store("gated", "down"));
            }
            if self.keep_everything {
                return Ok(());
            }
            if self.hold_clear {
                self.clearing.notify_one();
                self.open.notified().await;
            }
            self.inner.clear().await
        })
    }

    fn discard<'a>(&'a self, _token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        if self.keep_everything {
            return Box::pin(async { Ok(()) });
        }
        self.inner.clear()
    }

    fn lock(&self) -> BoxFuture<'_, amp_client::Result<RenewalGuard>> {
        Box::pin(async move {
            if self.hang_lock {
                std::future::pending::<()>().await;
            }
            if !self.hold_release {
                return Ok(RenewalGuard::none());
            }
            let (releasing, gate) = (self.releasing.clone(), self.release_gate.clone());
            Ok(RenewalGuard::new(move || {
                Box::pin(async move {
                    releasing.notify_one();
                    gate.notified().await;
                })
            }))
        })
    }
}

fn client_with_store(
    server: &MockServer,
    store: Arc<dyn TokenStore>,
) -> (AmpClient, amp_client::ManualClock) {
    let clock = amp_client::ManualClock::new(chrono::Utc::now());
    let client = AmpClient::builder(config_for(&api(server), 3))
        .clock(Arc::new(clock.clone()))
        .store(store)
        .build()
        .unwrap();
    (client, clock)
}

// A refresh in flight when clear() runs installs nothing and stores
// nothing: the next call logs in.
#[tokio::test]
async fn clear_wins_over_the_result_of_a_renewal_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    mount_obtain(&server, T3).await;
    let store = Arc::new(MemoryStore::new());
    let (client, clock) = client_with_store(&server, store.clone());
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 24 * HOUR - 4 * MIN))
        .await
        .unwrap();
    m.token().await.unwrap(); // starts the background refresh
    assert!(m.is_renewing());
    // The refresh is on the wire before the clear.
    while count(&server, "GET", "/api/user/refresh-token").await == 0 {
        tokio::task::yield_now().await;
    }
    m.clear().await.unwrap();
    // Waits out the refresh (a login would join it otherwise).
    let after = m.token().await.unwrap();
    assert_eq!(secret(&after), T3, "the cleared renewal's token came back");
    assert_eq!(count(&server, "GET", "/api/user/refresh-token").await, 1);
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.token().expose_secret(), T3);
}

// clear() empties the store before anyone may read it back: a caller that
// comes while the store is still clearing waits, and logs in.
#[tokio::test]
async fn clear_wins_over_the_store() {
    let server = MockServer::start().await;
    mount_obtain(&server, T3).await;
    let store = Arc::new(GatedStore {
        hold_clear: true,
        ..GatedStore::default()
    });
    let (client, clock) = client_with_store(&server, store.clone());
    let m = client.token_manager().clone();
    m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    let clearing = tokio::spawn({
        let m = m.clone();
        async move { m.clear().await }
    });
    store.clearing.notified().await;
    let caller = tokio::spawn({
        let m = m.clone();
        async move { m.token().await }
    });
    // Let the caller run up to wherever it waits, then let clear() finish.
    tokio::task::yield_now().await;
    store.open.notify_one();
    clearing.await.unwrap().unwrap();
    let t = caller.await.unwrap().unwrap();
    assert_eq!(secret(&t), T3, "the cleared token came back from the store");
}

// A token the server rejected (401) is never taken back from a store that
// still holds it: the next renewal logs in.
#[tokio::test]
async fn a_revoked_token_is_not_taken_back_from_the_store() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_assets_for(&server, T2).await;
    let store = Arc::new(GatedStore {
        keep_everything: true,
        ..GatedStore::default()
    });
    let (client, clock) = client_with_store(&server, store.clone());
    client
        .token_manager()
        .set_token(aged_token(T1, &clock, HOUR))
        .await
        .unwrap();
    client.assets().list().await.unwrap();
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
    assert!(
        store.loads.load(Ordering::SeqCst) >= 1,
        "the store was read"
    );
    assert_eq!(secret(&client.token_manager().token().await.unwrap()), T2);
}

// A store whose reads never finish costs a renewal its store timeout, not
// the renewal itself: the login goes ahead, and callers get their token.
#[tokio::test(start_paused = true)]
async fn a_hung_store_does_not_wedge_renewals() {
    let sandbox = Sandbox::start().await.unwrap();
    for (hang_load, hang_lock) in [(true, false), (false, true)] {
        let store = Arc::new(GatedStore {
            hang_load,
            hang_lock,
            ..GatedStore::default()
        });
        let config = amp_client::Config::builder()
            .base_url(sandbox.base_url())
            .credentials(sandbox.username(), sandbox.password())
            .build()
            .unwrap();
        let client = AmpClient::builder(config)
            .clock(Arc::new(TokioClock::new()))
            .store(store)
            .build()
            .unwrap();
        client.assets().list().await.unwrap();
        client.assets().list().await.unwrap();
        assert!(!client.token_manager().is_renewing());
    }
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 2);
}

// A server that gives tokens a life shorter than the refresh window: they
// are renewed about once per half life, not on every call.
#[tokio::test]
async fn short_lives_do_not_storm() {
    let server = MockServer::start().await;
    let answer = |t: &str| {
        ResponseTemplate::new(200).set_body_json(serde_json::json!({"token": t, "expires_in": 60}))
    };
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(answer(T1))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(answer(T2))
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 3);
    let m = client.token_manager();
    // Five minutes of calls, one a second.
    for _ in 0..300 {
        m.token().await.unwrap();
        // Let a background refresh, if one started, finish before time moves.
        while m.is_renewing() {
            tokio::task::yield_now().await;
        }
        clock.advance(Duration::from_secs(1));
    }
    let renewals = count(&server, "GET", "/api/user/refresh-token").await
        + count(&server, "POST", "/api/user/obtain_token").await;
    // Every 30 s (half of the 60 s life): about ten, far from 300.
    assert!((8..=13).contains(&renewals), "{renewals} renewals");
}

// A stored token that cannot go in a header (or with absurd dates) is set
// aside with a fresh login, instead of failing every call.
#[tokio::test]
async fn an_unusable_stored_token_is_set_aside() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let dir = std::env::temp_dir().join(format!("amp-core-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (token, obtained, expires)) in [
        (
            "abc\u{1}def",
            "2026-01-01T00:00:00Z",
            "2099-01-01T00:00:00Z",
        ),
        (
            "0123456789abcdef",
            "2026-01-02T00:00:00Z",
            "2026-01-01T00:00:00Z",
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let file = dir.join(format!("token-{i}.json"));
        let form = serde_json::json!({
            "version": 2, "token": token, "obtained_at": obtained, "expires_at": expires
        });
        std::fs::write(&file, form.to_string()).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let (client, _) = client_with_store(&server, Arc::new(FileStore::new(&file)));
        client.assets().list().await.unwrap();
        client.assets().list().await.unwrap();
    }
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

// set_token refuses what cannot be used, and dates at chrono's limits panic
// nowhere (the old manager overflowed computing the soft point).
#[tokio::test]
async fn set_token_refuses_unusable_tokens_and_extreme_dates_do_not_panic() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let (client, _) = client(&server, 3);
    let m = client.token_manager();
    let now = chrono::Utc::now();
    let e = m
        .set_token(TokenData::new(
            "abc\u{1}def",
            now,
            now + chrono::Duration::hours(1),
        ))
        .await
        .unwrap_err();
    assert!(e.is_invalid_input(), "{e}");
    assert!(!e.to_string().contains("abc"), "{e}");
    let min = chrono::DateTime::<chrono::Utc>::MIN_UTC;
    let max = chrono::DateTime::<chrono::Utc>::MAX_UTC;
    m.set_token(TokenData::new(T1, min, min + chrono::Duration::hours(24)))
        .await
        .unwrap();
    let _ = m.info();
    assert_eq!(secret(&m.token().await.unwrap()), T2, "expired: logged in");
    for (obtained, expires) in [(min, max), (max, max), (now, max), (min, min)] {
        let _ = m.set_token(TokenData::new(T1, obtained, expires)).await;
        let _ = m.info();
        let _ = m.token().await;
    }
}

// login() logs in, even while a refresh is in flight; force_refresh() says
// which renewal it did.
#[tokio::test]
async fn login_logs_in_and_force_refresh_says_what_it_did() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T2).set_delay(Duration::from_millis(200)))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    mount_obtain(&server, T3).await;
    let (client, clock) = client(&server, 1);
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 24 * HOUR - 4 * MIN))
        .await
        .unwrap();
    m.token().await.unwrap(); // a background refresh is in flight
    let (login, how) = m.login().await.unwrap();
    assert_eq!(how, Renewal::Obtained);
    assert_eq!(secret(&login), T3);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);

    // Each renewal moves the expiry forward (one that did not would make
    // the next renewal a login, by rule).
    clock.advance(MIN);
    let (refreshed, how) = m.force_refresh().await.unwrap();
    assert_eq!(how, Renewal::Refreshed);
    assert_eq!(secret(&refreshed), T2);
    clock.advance(MIN);
    let (_, how) = m.force_refresh().await.unwrap();
    assert_eq!(how, Renewal::ObtainedAfterFailedRefresh);
    clock.advance(25 * HOUR);
    let (_, how) = m.force_refresh().await.unwrap();
    assert_eq!(how, Renewal::Obtained, "an expired token is not refreshed");
}

// A renewal that installed its token is still releasing the store's lock
// when clear() runs: its waiter had the token before the clear (it was the
// current one then), and a caller that comes after the clear gets a new
// login, not the cleared token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_after_a_clear_never_gets_the_cleared_token() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(GatedStore {
        hold_release: true,
        ..GatedStore::default()
    });
    let (client, _) = client_with_store(&server, store.clone());
    let m = client.token_manager().clone();
    let first = tokio::spawn({
        let m = m.clone();
        async move { m.token().await }
    });
    // T1 is installed and handed out; the renewal waits in the release.
    store.releasing.notified().await;
    assert_eq!(secret(&first.await.unwrap().unwrap()), T1);
    m.clear().await.unwrap();
    let second = tokio::spawn({
        let m = m.clone();
        async move { m.token().await }
    });
    store.release_gate.notify_one();
    // The second login's release waits too.
    store.releasing.notified().await;
    store.release_gate.notify_one();
    assert_eq!(
        secret(&second.await.unwrap().unwrap()),
        T2,
        "the cleared token came back"
    );
}

// clear() that fails at the store still forgets the token here, and the
// token the store kept is not taken back.
#[tokio::test]
async fn a_failed_clear_of_the_store_does_not_bring_the_token_back() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(GatedStore {
        fail_clear: true,
        ..GatedStore::default()
    });
    let (client, clock) = client_with_store(&server, store.clone());
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    assert!(m.clear().await.is_err());
    assert!(
        store.inner.load().await.unwrap().is_some(),
        "the store kept T1"
    );
    assert_eq!(secret(&m.token().await.unwrap()), T2);
}

// A caller on a runtime that is shutting down (its renewal's task is
// dropped the moment it is spawned) neither hangs nor wedges the manager:
// callers elsewhere renew as usual.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewal_on_a_runtime_shutting_down_wedges_nothing() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let (client, _) = client(&server, 3);
    let m = client.token_manager().clone();
    let other = m.clone();
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        drop(rt);
        // An error, or tokio's panic about a runtime that is gone: either
        // way it returns.
        let ended = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            handle.block_on(other.token()).is_ok()
        }));
        let _ = done_tx.send(ended.unwrap_or(false));
    });
    let got = done_rx
        .recv_timeout(Duration::from_secs(20))
        .expect("token() on a runtime shutting down hung");
    assert!(!got, "no token from a runtime that is gone");
    assert!(
        !m.is_renewing(),
        "the dropped renewal still holds the flight"
    );
    assert_eq!(secret(&m.token().await.unwrap()), T1);
}

// A server whose tokens live less than a call needs (1 ms): the answer is
// refused as malformed, and the failure cooldown keeps ten callers from
// asking it ten times.
#[tokio::test]
async fn tokens_too_short_to_use_are_refused_without_a_storm() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"token": T1, "expires_in": 0.001})),
        )
        .mount(&server)
        .await;
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(1))
        .build()
        .unwrap();
    let clock = amp_client::ManualClock::new(chrono::Utc::now());
    let client = AmpClient::builder(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    for _ in 0..10 {
        let e = client.token_manager().token().await.unwrap_err();
        assert!(e.is_decode(), "{e}");
        assert!(e.to_string().contains("lives"), "{e}");
        clock.advance(Duration::from_millis(1));
    }
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
}

// Writing the new token to a store that hangs costs the call that logged
// in the store timeout (the request timeout, 1 s here), once: the call
// succeeds, and the renewal is not failed for it. The outer timeout only
// turns a regression into a failure instead of a hang.
#[tokio::test]
async fn a_hung_store_write_costs_a_call_at_most_the_store_timeout() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let store = Arc::new(GatedStore {
        hang_save: true,
        ..GatedStore::default()
    });
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let client = AmpClient::builder(config).store(store).build().unwrap();
    let assets = client.assets();
    let call = tokio::time::timeout(Duration::from_secs(60), assets.list()).await;
    assert!(
        matches!(call, Ok(Ok(_))),
        "the call failed or hung on the store"
    );
    assert_eq!(client.token_manager().stats().failures, 0);
}

// A renewal running when clear() is called fails afterwards: its failure
// is forgotten with the rest, and the next call logs in again at once.
#[tokio::test]
async fn clear_forgets_the_failure_of_a_renewal_still_running() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(300)))
        .mount(&server)
        .await;
    // The default cooldown: a remembered failure would be served for 1 s.
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(1))
        .build()
        .unwrap();
    let client = AmpClient::builder(config)
        .clock(Arc::new(amp_client::ManualClock::new(chrono::Utc::now())))
        .build()
        .unwrap();
    let m = client.token_manager().clone();
    let first = tokio::spawn({
        let m = m.clone();
        async move { m.token().await }
    });
    while count(&server, "POST", "/api/user/obtain_token").await == 0 {
        tokio::task::yield_now().await;
    }
    m.clear().await.unwrap();
    assert!(first.await.unwrap().is_err());
    assert!(m.token().await.is_err());
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 2);
}

/// A store over a `MemoryStore` whose `discard` waits at a gate, and says
/// when it has discarded.
#[derive(Debug, Default)]
struct SlowDiscard {
    inner: MemoryStore,
    gate: Notify,
    discarded: Notify,
}

impl TokenStore for SlowDiscard {
    fn describe(&self) -> String {
        "slow-discard".to_string()
    }
    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        self.inner.load()
    }
    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        self.inner.save(token)
    }
    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        self.inner.clear()
    }
    fn discard<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        Box::pin(async move {
            self.gate.notified().await;
            self.inner.discard(token).await?;
            self.discarded.notify_one();
            Ok(())
        })
    }
}

// The server rejected a token, and the caller that drops it is cancelled
// while the store is slow: the token still leaves the store (other
// processes sharing it would adopt it otherwise).
#[tokio::test]
async fn a_rejected_tokens_discard_survives_its_callers_cancellation() {
    let server = MockServer::start().await;
    let store = Arc::new(SlowDiscard::default());
    let (client, clock) = client_with_store(&server, store.clone());
    let m = client.token_manager();
    let t = m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    assert!(store.inner.load().await.unwrap().is_some());
    let cancelled = tokio::time::timeout(Duration::from_millis(50), m.invalidate(t.generation()));
    assert!(cancelled.await.is_err(), "the discard was held at its gate");
    assert!(store.inner.load().await.unwrap().is_some(), "not yet");
    store.gate.notify_one();
    tokio::time::timeout(Duration::from_secs(10), store.discarded.notified())
        .await
        .expect("the discard was dropped with its caller");
    assert_eq!(store.inner.load().await.unwrap(), None);
}

// A store write after a renewal is bounded by the store timeout, its wait
// for the store included: writes queued behind a hung store (ten
// set_token() calls here, each held the store timeout once the store was
// theirs) cost a login its store timeout, not the sum of theirs.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_write_waits_for_the_store_at_most_the_store_timeout() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(GatedStore {
        hang_save: true,
        ..GatedStore::default()
    });
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let clock = amp_client::ManualClock::new(chrono::Utc::now());
    let client = AmpClient::builder(config)
        .clock(Arc::new(clock.clone()))
        .store(store)
        .build()
        .unwrap();
    let m = client.token_manager().clone();
    let mut sets = tokio::task::JoinSet::new();
    for _ in 0..10 {
        let (m, t) = (m.clone(), aged_token(T1, &clock, HOUR));
        sets.spawn(async move { m.set_token(t).await.map(|_| ()) });
    }
    let started = std::time::Instant::now();
    let (login, _) = m.login().await.unwrap();
    let took = started.elapsed();
    assert_eq!(secret(&login), T2);
    // Ten writes in a row would be ten seconds; each wait is bounded by one.
    assert!(took < Duration::from_secs(5), "the login took {took:?}");
    while let Some(set) = sets.join_next().await {
        set.unwrap().unwrap();
    }
}

// A refresh that hands back a token cleared before (retired: the
// generation cannot see it, the same key coming back) is not taken: the
// renewal logs in instead.
#[tokio::test]
async fn a_refresh_handing_back_a_retired_token_logs_in_instead() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T1))
        .mount(&server)
        .await;
    mount_obtain(&server, T3).await;
    let (client, clock) = client_with_store(&server, Arc::new(MemoryStore::new()));
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
    m.clear().await.unwrap();
    m.set_token(aged_token(T2, &clock, HOUR)).await.unwrap();
    let (t, how) = m.force_refresh().await.unwrap();
    assert_eq!(
        (secret(&t), how),
        (T3.to_string(), Renewal::ObtainedAfterFailedRefresh)
    );
    assert_eq!(count(&server, "GET", "/api/user/refresh-token").await, 1);
    assert_eq!(m.stats().fallbacks, 1);
}

// A server that refuses every token while logins work (a misrouting proxy,
// a disabled account): after the tokens of two fresh logins are refused,
// calls fail at once saying so, for the rejection cooldown; 100 calls cost
// at most 2 logins, whether they come one by one or all at once. After the
// cooldown, a login is tried again.
#[tokio::test]
async fn when_every_token_is_refused_logins_stay_few() {
    for concurrent in [false, true] {
        let server = MockServer::start().await;
        mount_obtain(&server, T1).await;
        Mock::given(method("GET"))
            .and(path("/api/assets/"))
            .respond_with(
                ResponseTemplate::new(401)
                    .set_body_json(serde_json::json!({"detail": "Invalid token."})),
            )
            .mount(&server)
            .await;
        let (client, clock) = client(&server, 1);
        let mut errors = Vec::new();
        if concurrent {
            let mut calls = tokio::task::JoinSet::new();
            for _ in 0..100 {
                let c = client.clone();
                calls.spawn(async move { c.assets().list().await });
            }
            while let Some(call) = calls.join_next().await {
                errors.push(call.unwrap().unwrap_err());
            }
        } else {
            for _ in 0..100 {
                errors.push(client.assets().list().await.unwrap_err());
            }
        }
        assert!(errors.iter().all(Error::is_token_rejected), "{errors:?}");
        let logins = count(&server, "POST", "/api/user/obtain_token").await;
        assert!(logins <= 2, "{logins} logins (concurrent: {concurrent})");
        // The next call fails at once, saying why, and logs in no more.
        let next = client.assets().list().await.unwrap_err().to_string();
        assert!(
            next.contains("logins succeed but the server refuses their tokens"),
            "{next}"
        );
        assert_eq!(
            count(&server, "POST", "/api/user/obtain_token").await,
            logins
        );
        clock.advance(61 * amp_client::TokenPolicy::default().rejection_cooldown / 60);
        assert!(client
            .assets()
            .list()
            .await
            .unwrap_err()
            .is_token_rejected());
        let again = count(&server, "POST", "/api/user/obtain_token").await;
        assert!(
            again > logins && again <= logins + 2,
            "{logins} then {again}"
        );
    }
}

// While logins are held back because their tokens were refused, a later,
// unrelated failure (an explicit login answered 503) is reported for its own
// cooldown only; after it, callers are told of the refusal again, not of a
// 503 long past (their retry logic would hammer a server that is up).
#[tokio::test]
async fn the_refusal_is_reported_again_once_a_later_failure_is_old() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .mount(&server)
        .await;
    let (client, clock) = client(&server, 1);
    for _ in 0..4 {
        let _ = client.assets().list().await;
    }
    let m = client.token_manager();
    assert!(m.token().await.unwrap_err().is_token_rejected());
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(503))
        .with_priority(1)
        .mount(&server)
        .await;
    let e = m.login().await.unwrap_err();
    assert_eq!(
        e.status(),
        Some(amp_client::StatusCode::SERVICE_UNAVAILABLE),
        "{e}"
    );
    clock.advance(Duration::from_secs(2));
    let e = m.token().await.unwrap_err();
    assert!(e.is_token_rejected(), "{e}");
}

// A caller outside any tokio runtime (another executor's thread) gets an
// error saying so, also when a renewal is already in flight on a runtime:
// joining it would wait on tokio's timer, which panics without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_caller_without_a_runtime_gets_an_error_even_with_a_renewal_in_flight() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1).set_delay(Duration::from_secs(30)))
        .mount(&server)
        .await;
    let (client, _) = client(&server, 1);
    let m = client.token_manager().clone();
    let in_flight = tokio::spawn(async move { m.token().await });
    while !client.token_manager().is_renewing() {
        tokio::task::yield_now().await;
    }
    let m = client.token_manager().clone();
    let outcome = std::thread::spawn(move || {
        use std::future::Future;
        let mut call = std::pin::pin!(m.token());
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        match call.as_mut().poll(&mut cx) {
            std::task::Poll::Ready(r) => r.map(|_| ()).map_err(|e| e.to_string()),
            std::task::Poll::Pending => Err("pending".into()),
        }
    })
    .join()
    .expect("no panic");
    let e = outcome.unwrap_err();
    assert!(e.contains("tokio runtime"), "{e}");
    in_flight.abort();
}

// The refresh endpoint refuses the token itself (401): the token is
// dropped (and taken out of the store) as after any 401, not served on
// when the fallback login fails too.
#[tokio::test]
async fn a_token_the_refresh_refuses_is_dropped_even_if_the_login_fails() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"detail": "Invalid token."})),
        )
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let store = Arc::new(MemoryStore::new());
    let (client, clock) = client_with_store(&server, store.clone());
    let m = client.token_manager();
    m.set_token(aged_token(T1, &clock, 24 * HOUR - 4 * MIN))
        .await
        .unwrap();
    assert!(m.force_refresh().await.is_err());
    assert!(
        m.snapshot().is_none(),
        "the refused token is still in place"
    );
    assert!(
        store.load().await.unwrap().is_none(),
        "the refused token is still stored"
    );
    assert!(m.token().await.is_err(), "the refused token was served");
}

// The refresh endpoint refuses the token (401) and the fallback login works:
// the login's token is installed over the generation the refusal moved to
// (one login, no second renewal), answered as what it was, and stored.
#[tokio::test]
async fn a_login_after_a_refused_refresh_is_installed_at_once() {
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(MemoryStore::new());
    let (client, clock) = client_with_store(&server, store.clone());
    let m = client.token_manager();
    let set = m
        .set_token(aged_token(T1, &clock, 24 * HOUR - 4 * MIN))
        .await
        .unwrap();
    let (token, how) = m.force_refresh().await.unwrap();
    assert_eq!(how, Renewal::ObtainedAfterFailedRefresh);
    assert_eq!(secret(&token), T2);
    // set, invalidated, installed: three generations, and no other.
    assert_eq!(token.generation(), set.generation() + 2);
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
    let stored = store
        .load()
        .await
        .unwrap()
        .expect("the login's token is stored");
    assert_eq!(stored.token().expose_secret(), T2);
}

// Events are emitted, and metrics set, with the state's lock released: a
// subscriber that asks the manager about its token as it records an event
// does not deadlock.
#[tokio::test]
async fn a_subscriber_may_ask_the_manager_while_it_logs() {
    use tracing_subscriber::layer::SubscriberExt;
    struct Asks(amp_client::TokenManager);
    impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Asks {
        fn on_event(&self, _: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
            let _ = (self.0.is_renewing(), self.0.stats(), self.0.snapshot());
        }
    }
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let (client, clock) = client_with_store(&server, Arc::new(MemoryStore::new()));
    let m = client.token_manager().clone();
    let subscriber = tracing_subscriber::registry().with(Asks(m.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);
    let done = tokio::time::timeout(Duration::from_secs(10), async {
        m.set_token(aged_token(T1, &clock, HOUR)).await.unwrap();
        m.clear().await.unwrap();
        m.login().await.unwrap();
        let g = m.token().await.unwrap().generation();
        m.invalidate(g).await;
    });
    assert!(done.await.is_ok(), "deadlocked");
}

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

/// A store whose every operation (its lock and the lock's release too)
/// takes `each`, and whose token is one that cannot be used (so a renewal
/// reads it, then discards it).
#[derive(Debug)]
struct SlowStore {
    each: Duration,
    unusable: TokenData,
}

impl SlowStore {
    fn op<'a, T: Send + 'a>(&self, value: T) -> BoxFuture<'a, amp_client::Result<T>> {
        let each = self.each;
        Box::pin(async move {
            tokio::time::sleep(each).await;
            Ok(value)
        })
    }
}

impl TokenStore for SlowStore {
    fn describe(&self) -> String {
        "slow".to_string()
    }
    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        self.op(Some(self.unusable.clone()))
    }
    fn save<'a>(&'a self, _token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        self.op(())
    }
    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        self.op(())
    }
    fn discard<'a>(&'a self, _token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        self.op(())
    }
    fn lock(&self) -> BoxFuture<'_, amp_client::Result<RenewalGuard>> {
        let each = self.each;
        self.op(RenewalGuard::new(move || {
            Box::pin(tokio::time::sleep(each))
        }))
    }
}

// Callers wait for a whole renewal, its four store operations included
// (the read, the discard of the unusable token read, the write, the
// lock's release), each just under the store timeout, with its calls (a
// refresh timing out, then a login answering just before the renewal's
// time is up): they are told how it ended, not that their wait timed out.
// The bound: 1.5 × renewal time + 4 × store timeout; with three store
// operations counted it ends 0.64 s too early (`token()` is then served
// the token installed meanwhile; `force_refresh()` fails).
#[tokio::test(start_paused = true)]
async fn a_caller_waits_for_a_renewal_with_four_slow_store_operations() {
    let sandbox = Sandbox::start().await.unwrap();
    let (store_timeout, margin) = (Duration::from_secs(1), Duration::from_millis(50));
    let config = amp_client::Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(fast_retry(1))
        .request_timeout(store_timeout)
        .build()
        .unwrap();
    // The renewal's time: 2 × (1 s + 20 ms); each store operation 0.95 s.
    assert_eq!(config.token_wait_timeout(), Duration::from_millis(2040));
    let now = chrono::Utc::now();
    let unusable = TokenData::new(T3, now, now - chrono::Duration::hours(1));
    let store = SlowStore {
        each: store_timeout - margin,
        unusable,
    };
    let client = AmpClient::builder(config)
        .clock(Arc::new(TokioClock::new()))
        .store(Arc::new(store))
        .build()
        .unwrap();
    let m = client.token_manager();
    // Past its hard point (30 s before the expiry), still valid: refreshed.
    let old = TokenData::new(
        T1,
        now - chrono::Duration::hours(24),
        now + chrono::Duration::seconds(20),
    );
    m.set_token(old).await.unwrap();
    sandbox.push_fault("/user/refresh-token", Fault::Delay(2 * store_timeout));
    sandbox.push_fault("/user/obtain_token", Fault::Delay(store_timeout - margin));
    let started = tokio::time::Instant::now();
    let (t, forced) = tokio::join!(m.token(), m.force_refresh());
    let (t, (forced, how)) = (t.unwrap(), forced.expect("the wait timed out"));
    // Lock, read, discard, refresh (timed out), login, write, release.
    assert_eq!(started.elapsed(), 7 * store_timeout - 6 * margin);
    assert_ne!(secret(&t), T1);
    assert_eq!(secret(&forced), secret(&t));
    assert_eq!(how, Renewal::ObtainedAfterFailedRefresh);
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
}
