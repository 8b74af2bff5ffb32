//! A store that fails, hangs, panics or is slow, racing `clear()`,
//! `invalidate()` and `set_token()`: a cleared or replaced token never comes
//! back from the store, a store write given up on never lands later, a hung
//! store leaves the login its time, a panicking store costs the store and not
//! the renewal, and `login()` reports what happened.

use crate::common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, BoxFuture, Error, MemoryStore, RenewalGuard, TokenData, TokenStore};
use common::*;
use secrecy::ExposeSecret;
use tokio::sync::Notify;
use wiremock::MockServer;

fn secret(t: &amp_client::AccessToken) -> String {
    t.secret().expose_secret().to_string()
}

/// A store over a `MemoryStore` that misbehaves on demand.
#[derive(Debug, Default)]
struct Faulty {
    inner: MemoryStore,
    /// `clear()` waits for `open` before clearing.
    hold_clear: AtomicBool,
    open: Notify,
    /// `save()`, `clear()` and `discard()` fail (a read-only store).
    fail_writes: AtomicBool,
    /// `load()` and `lock()` fail too (a store that is down).
    fail_loads: AtomicBool,
}

impl Faulty {
    fn down() -> Error {
        Error::store("faulty", "read-only")
    }
}

impl TokenStore for Faulty {
    fn describe(&self) -> String {
        "faulty".to_string()
    }

    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        if self.fail_loads.load(Ordering::SeqCst) {
            return Box::pin(async { Err(Faulty::down()) });
        }
        self.inner.load()
    }

    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        Box::pin(async move {
            if self.fail_writes.load(Ordering::SeqCst) {
                return Err(Faulty::down());
            }
            self.inner.save(token).await
        })
    }

    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        Box::pin(async move {
            if self.fail_writes.load(Ordering::SeqCst) {
                return Err(Faulty::down());
            }
            if self.hold_clear.load(Ordering::SeqCst) {
                self.open.notified().await;
            }
            self.inner.clear().await
        })
    }

    fn discard<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        Box::pin(async move {
            if self.fail_writes.load(Ordering::SeqCst) {
                return Err(Faulty::down());
            }
            self.inner.discard(token).await
        })
    }

    fn lock(&self) -> BoxFuture<'_, amp_client::Result<RenewalGuard>> {
        Box::pin(async move {
            if self.fail_loads.load(Ordering::SeqCst) {
                return Err(Faulty::down());
            }
            Ok(RenewalGuard::none())
        })
    }
}

/// A client of `server` over `store`, with a manual clock.
fn client_on(
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

// clear() forgets the token, then clears the store. A caller cancelled in
// between (a timeout around it, a `select!` on shutdown, Ctrl-C in `amp token
// clear`) must not leave the cleared token in the store for another client
// sharing it: the store's clear runs to its end whatever the caller does.
#[tokio::test]
async fn a_cancelled_clear_still_clears_the_store() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(Faulty::default());
    let (a, clock) = client_on(&server, store.clone());
    a.token_manager()
        .set_token(aged_token(T1, &clock, HOUR))
        .await
        .unwrap();
    store.hold_clear.store(true, Ordering::SeqCst);
    let cancelled = tokio::time::timeout(Duration::from_millis(100), a.token_manager().clear());
    assert!(cancelled.await.is_err(), "clear() was held at the store");
    assert_eq!(
        a.token_manager().info().state,
        amp_client::TokenState::None,
        "the state forgot the token"
    );
    // The store answers again; nothing is left to clear it.
    store.hold_clear.store(false, Ordering::SeqCst);
    store.open.notify_waiters();
    let (b, _) = client_on(&server, store.clone());
    let got = b.token_manager().token().await.unwrap();
    assert_ne!(
        secret(&got),
        T1,
        "another client was handed the token clear() forgot"
    );
}

/// Requests to `p` that carried `token t`.
async fn sent_with(server: &MockServer, p: &str, t: &str) -> usize {
    let auth = format!("token {t}");
    server
        .received_requests()
        .await
        .unwrap_or_default()
        .iter()
        .filter(|r| r.url.path() == p)
        .filter(|r| {
            r.headers
                .get("authorization")
                .is_some_and(|v| v.as_bytes() == auth.as_bytes())
        })
        .count()
}

// A background refresh takes the token when it begins, and the transport
// retries it on a 5xx. Once clear() or invalidate() has returned, no retry
// puts the cleared (or revoked) token on the wire again.
#[tokio::test]
async fn a_refresh_retry_never_sends_a_token_cleared_or_invalidated_meanwhile() {
    use wiremock::matchers::{method, path};
    use wiremock::{Mock, ResponseTemplate};
    for invalidate in [false, true] {
        let server = MockServer::start().await;
        Mock::given(method("GET"))
            .and(path("/api/user/refresh-token"))
            .respond_with(ResponseTemplate::new(503).set_delay(Duration::from_millis(300)))
            .up_to_n_times(1)
            .mount(&server)
            .await;
        Mock::given(method("GET"))
            .and(path("/api/user/refresh-token"))
            .respond_with(token_json(T2))
            .mount(&server)
            .await;
        mount_obtain(&server, T3).await;
        let (client, clock) = client(&server, 3);
        let m = client.token_manager();
        let t1 = m
            .set_token(aged_token(T1, &clock, 24 * HOUR - 4 * MIN))
            .await
            .unwrap();
        m.token().await.unwrap(); // starts the background refresh
        while count(&server, "GET", "/api/user/refresh-token").await == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        if invalidate {
            assert!(m.invalidate(t1.generation()).await);
        } else {
            m.clear().await.unwrap();
        }
        let before = sent_with(&server, "/api/user/refresh-token", T1).await;
        for _ in 0..400 {
            if !m.is_renewing() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let after = sent_with(&server, "/api/user/refresh-token", T1).await;
        let what = if invalidate {
            "invalidate()"
        } else {
            "clear()"
        };
        assert_eq!(
            after, before,
            "the token went on the wire again after {what} returned"
        );
    }
}

// A store that loads but cannot be written (a token file mounted read-only,
// a Redis replica) still holds a token clear() forgot. Retired tokens are
// remembered until they expire, so however many others are retired after
// it, the cleared token is never taken back from such a store while its
// dates would still allow it.
#[tokio::test]
async fn a_cleared_token_never_comes_back_from_the_store_however_many_retire() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(Faulty::default());
    let (client, clock) = client_on(&server, store.clone());
    let account = amp_client::account_name(client.config().base_url().as_str(), USER);
    store
        .inner
        .save(&aged_token(T1, &clock, HOUR).for_account(account))
        .await
        .unwrap();
    store.fail_writes.store(true, Ordering::SeqCst);
    let m = client.token_manager();
    assert_eq!(
        secret(&m.token().await.unwrap()),
        T1,
        "taken from the store"
    );
    assert!(m.clear().await.is_err(), "the store cannot be cleared");
    assert_eq!(secret(&m.token().await.unwrap()), T2, "not taken back");
    for i in 0..16 {
        let other = format!("{i:040}");
        m.set_token(aged_token(&other, &clock, HOUR)).await.unwrap();
        let _ = m.clear().await;
    }
    let t = m.token().await.unwrap();
    assert_ne!(secret(&t), T1, "the cleared token came back from the store");
}

// set_token() retires the token it replaces. When the store fails the
// write, it still holds the replaced token, which expires later than the one
// set; the next automatic renewal must not adopt it from the store.
#[tokio::test]
async fn a_replaced_token_never_comes_back_from_a_store_that_failed_its_write() {
    use wiremock::matchers::{method, path};
    use wiremock::Mock;
    let server = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/api/user/refresh-token"))
        .respond_with(token_json(T3))
        .mount(&server)
        .await;
    mount_obtain(&server, T3).await;
    let store = Arc::new(Faulty::default());
    let (client, clock) = client_on(&server, store.clone());
    let m = client.token_manager();
    let now = amp_client::Clock::now(&clock);
    m.set_token(TokenData::new(T1, now, now + chrono::Duration::hours(24)))
        .await
        .unwrap();
    store.fail_writes.store(true, Ordering::SeqCst);
    m.set_token(TokenData::new(T2, now, now + chrono::Duration::hours(12)))
        .await
        .expect("a failing store is only reported");
    // T2's refresh window: the background renewal looks in the store.
    clock.advance(12 * HOUR - 3 * MIN);
    assert_eq!(secret(&m.token().await.unwrap()), T2);
    for _ in 0..400 {
        if !m.is_renewing() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let t = m.token().await.unwrap();
    assert_ne!(secret(&t), T1, "the token set_token() replaced came back");
}

// The configuration accepts a token lifetime up to a century, and the
// manager calls a token implausible only beyond that: a second client sharing
// the store keeps the first one's long-lived token, and the manager takes its
// own token back through set_token().
#[tokio::test]
async fn every_lifetime_the_config_accepts_makes_tokens_the_manager_keeps() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let config = || {
        amp_client::Config::builder()
            .base_url(api(&server))
            .credentials(USER, PASSWORD)
            .retry(fast_retry(1))
            .token_policy(amp_client::TokenPolicy {
                lifetime: Duration::from_secs(20 * 365 * 24 * 3600),
                ..amp_client::TokenPolicy::default()
            })
            .build()
            .expect("the config takes a 20-year lifetime")
    };
    let store = Arc::new(MemoryStore::new());
    let a = AmpClient::builder(config())
        .store(store.clone())
        .build()
        .unwrap();
    let b = AmpClient::builder(config())
        .store(store.clone())
        .build()
        .unwrap();
    a.token_manager().token().await.unwrap();
    b.token_manager().token().await.unwrap();
    assert_eq!(
        count(&server, "POST", "/api/user/obtain_token").await,
        1,
        "the second client did not take the first one's token"
    );
    let own = a.token_manager().snapshot().unwrap();
    a.token_manager()
        .set_token(own)
        .await
        .expect("the manager refuses its own token");
}

/// A store whose writes run off the caller's future, as `FileStore`'s do
/// (`spawn_blocking`, file.rs): a write the caller stops waiting for still
/// lands, `delay` later. `landed` says when it did.
#[derive(Debug)]
struct OffThread {
    inner: MemoryStore,
    delay: Duration,
    landed: Arc<Notify>,
}

impl TokenStore for OffThread {
    fn describe(&self) -> String {
        "off-thread".to_string()
    }
    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        self.inner.load()
    }
    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        let (inner, token, delay) = (self.inner.clone(), token.clone(), self.delay);
        let landed = Arc::clone(&self.landed);
        let work = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let saved = inner.save(&token).await;
            landed.notify_one();
            saved
        });
        Box::pin(async move { work.await.unwrap() })
    }
    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        self.inner.clear()
    }
}

// A store write that outlasts the store timeout is given up by its caller,
// but runs to its end before the next store operation starts: clear() comes
// after it, so the write of the token clear() forgets can never land later
// and hand it to another client sharing the store.
#[tokio::test]
async fn a_store_write_given_up_never_lands_after_clear() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(OffThread {
        inner: MemoryStore::new(),
        delay: Duration::from_millis(1500),
        landed: Arc::new(Notify::new()),
    });
    let build = || {
        let config = amp_client::Config::builder()
            .base_url(api(&server))
            .credentials(USER, PASSWORD)
            .retry(fast_retry(1))
            .request_timeout(Duration::from_secs(1))
            .build()
            .unwrap();
        AmpClient::builder(config)
            .store(store.clone())
            .build()
            .unwrap()
    };
    let a = build();
    let now = chrono::Utc::now();
    a.token_manager()
        .set_token(TokenData::new(T1, now, now + chrono::Duration::hours(24)))
        .await
        .expect("a slow store is only reported");
    a.token_manager().clear().await.unwrap();
    tokio::time::timeout(Duration::from_secs(10), store.landed.notified())
        .await
        .unwrap();
    let b = build();
    let got = b.token_manager().token().await.unwrap();
    assert_ne!(secret(&got), T1, "the token clear() forgot came back");
}

/// A store whose lock, reads or writes never answer (a Redis that accepts
/// connections and answers nothing, a hung network file system).
#[derive(Debug, Default)]
struct Hung {
    inner: MemoryStore,
    lock: bool,
    load: bool,
    save: bool,
}

impl TokenStore for Hung {
    fn describe(&self) -> String {
        "hung".to_string()
    }
    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        Box::pin(async move {
            if self.load {
                std::future::pending::<()>().await;
            }
            self.inner.load().await
        })
    }
    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        Box::pin(async move {
            if self.save {
                std::future::pending::<()>().await;
            }
            self.inner.save(token).await
        })
    }
    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        self.inner.clear()
    }
    fn lock(&self) -> BoxFuture<'_, amp_client::Result<RenewalGuard>> {
        Box::pin(async move {
            if self.lock {
                std::future::pending::<()>().await;
            }
            Ok(RenewalGuard::none())
        })
    }
}

/// One attempt per call, short delays, 1 s request (and store) timeout:
/// the token wait limit is then 2 × (1 s + 1 ms).
fn one_attempt(server: &MockServer) -> amp_client::Config {
    amp_client::Config::builder()
        .base_url(api(server))
        .credentials(USER, PASSWORD)
        .retry(amp_client::RetryConfig {
            max_attempts: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        })
        .request_timeout(Duration::from_secs(1))
        .build()
        .unwrap()
}

// Each step of a renewal has its own bound, and callers wait for a whole
// renewal: a store that answers nothing costs its own timeouts, and the login
// (which the server answers within 50 ms) still has its time. Renewing goes
// on without the store; nothing wedges.
#[tokio::test]
async fn a_hung_store_leaves_the_login_its_time() {
    use wiremock::matchers::{method, path};
    use wiremock::Mock;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1).set_delay(Duration::from_millis(50)))
        .mount(&server)
        .await;
    let store = Arc::new(Hung {
        lock: true,
        load: true,
        ..Hung::default()
    });
    let client = AmpClient::builder(one_attempt(&server))
        .store(store)
        .build()
        .unwrap();
    let got = client.token_manager().token().await;
    assert!(
        got.is_ok(),
        "no token although the server logs in within 50 ms: {:?}",
        got.err()
    );
}

// login() waits for its renewal's end, which comes after the store write.
// When that write runs long, login() still reports the login that worked
// (its token is in place), so a caller never retries and logs in twice.
#[tokio::test]
async fn login_never_reports_a_login_that_worked_as_failed() {
    use wiremock::matchers::{method, path};
    use wiremock::Mock;
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(token_json(T1).set_delay(Duration::from_millis(50)))
        .mount(&server)
        .await;
    let store = Arc::new(Hung {
        lock: true,
        save: true,
        ..Hung::default()
    });
    let client = AmpClient::builder(one_attempt(&server))
        .store(store)
        .build()
        .unwrap();
    let m = client.token_manager();
    let login = m.login().await;
    assert_eq!(m.stats().obtains, 1, "it logged in");
    assert_eq!(
        secret(&m.token().await.unwrap()),
        T1,
        "its token is in place"
    );
    assert!(login.is_ok(), "login() said it failed: {:?}", login.err());
}

/// A store whose reads panic (a user's store with a poisoned lock, an
/// `unwrap` on a missing key), counting them.
#[derive(Debug, Default)]
struct Panicky {
    inner: MemoryStore,
    loads: std::sync::atomic::AtomicUsize,
}

impl TokenStore for Panicky {
    fn describe(&self) -> String {
        "panicky".to_string()
    }
    fn load(&self) -> BoxFuture<'_, amp_client::Result<Option<TokenData>>> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        panic!("the store's lock is poisoned");
    }
    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, amp_client::Result<()>> {
        self.inner.save(token)
    }
    fn clear(&self) -> BoxFuture<'_, amp_client::Result<()>> {
        self.inner.clear()
    }
}

// A store that panics (here in its read) is treated like a store that
// fails: reported, and the renewal goes on from memory, so callers get a
// token and no caller starts a renewal after another that panics again.
#[tokio::test]
async fn a_panicking_store_costs_the_store_not_the_renewal() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    let store = Arc::new(Panicky::default());
    let config = amp_client::Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(1))
        .build()
        .unwrap();
    let client = AmpClient::builder(config)
        .clock(Arc::new(amp_client::ManualClock::new(chrono::Utc::now())))
        .store(store.clone())
        .build()
        .unwrap();
    let mut failed = 0;
    for _ in 0..20 {
        failed += usize::from(client.token_manager().token().await.is_err());
    }
    let loads = store.loads.load(Ordering::SeqCst);
    assert!(
        loads <= 2,
        "{loads} renewals within the failure cooldown ({failed} calls failed)"
    );
    assert_eq!(failed, 0, "no call got a token");
}

// A store that reads but cannot write (a read-only file system, a full
// disk, a Redis replica refusing writes) is one outage: reported once, and
// its end once, however many renewals read it and fail to write it (each
// renewal's read that worked had reported its end, and its write a new
// outage). So is one that then stops answering reads too.
#[tokio::test]
async fn a_store_that_reads_but_cannot_write_is_reported_once() {
    let server = MockServer::start().await;
    mount_obtain(&server, T2).await;
    let store = Arc::new(Faulty::default());
    let (client, _clock) = client_on(&server, store.clone());
    let m = client.token_manager();
    let capture = common::capture::Capture::default();
    let _guard = capture.start("amp_client=info");
    store.fail_writes.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        // A renewal reads the store (it answers) and writes it (it fails).
        m.login().await.unwrap();
    }
    store.fail_loads.store(true, Ordering::SeqCst);
    for _ in 0..3 {
        m.login().await.unwrap();
    }
    store.fail_loads.store(false, Ordering::SeqCst);
    store.fail_writes.store(false, Ordering::SeqCst);
    m.login().await.unwrap();
    m.login().await.unwrap();
    let logs = capture.text();
    let said = |what: &str| logs.lines().filter(|l| l.contains(what)).count();
    assert_eq!(said("token store unavailable"), 1, "{logs}");
    assert_eq!(said("token store answers again"), 1, "{logs}");
    // The renewal lock of a store known to be down is not news either.
    assert_eq!(said("WARN"), 1, "{logs}");
}
