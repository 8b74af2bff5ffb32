//! Keep-fresh: a background task renews the token at its soft
//! point even when no call comes. Paused tokio time and a `TokioClock`, so
//! 72 hours pass in milliseconds.

use std::sync::Arc;
use std::time::Duration;

use amp_client::{
    AmpClient, BoxFuture, Config, MemoryStore, RenewalGuard, TokenData, TokenStore, TokioClock,
};
use amp_sandbox::Sandbox;

const HOUR: Duration = Duration::from_secs(3600);

fn config(sandbox: &Sandbox) -> Config {
    Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap()
}

fn keeping(sandbox: &Sandbox, store: Option<Arc<dyn TokenStore>>) -> AmpClient {
    let mut builder = AmpClient::builder(config(sandbox))
        .clock(Arc::new(TokioClock::new()))
        .keep_fresh(true);
    if let Some(store) = store {
        builder = builder.store(store);
    }
    builder.build().unwrap()
}

fn renewals(sandbox: &Sandbox) -> (u64, u64) {
    let refreshes =
        sandbox.count("GET", "/user/refresh-token") + sandbox.count("POST", "/user/refresh-token");
    (sandbox.count("POST", "/user/obtain_token"), refreshes)
}

// A client idle for 72 hours, then a call: the call pays no login or
// refresh, and the 72 hours cost 1 login and 3 refreshes.
#[tokio::test(start_paused = true)]
async fn an_idle_client_finds_a_fresh_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = keeping(&sandbox, None);
    tokio::time::sleep(72 * HOUR).await;
    let before = renewals(&sandbox);
    assert_eq!(before, (1, 3), "one login and a refresh a day");
    client.assets().list().await.unwrap();
    assert_eq!(renewals(&sandbox), before, "nothing on the call's path");
    let stats = client.token_manager().stats();
    assert_eq!((stats.obtains, stats.refreshes, stats.failures), (1, 3, 0));
}

// The task stops with the last handle of the client.
#[tokio::test(start_paused = true)]
async fn the_task_stops_with_the_last_client() {
    let sandbox = Sandbox::start().await.unwrap();
    let client = keeping(&sandbox, None);
    let clone = client.clone();
    tokio::time::sleep(HOUR).await;
    drop(client);
    tokio::time::sleep(30 * HOUR).await;
    assert_eq!(renewals(&sandbox), (1, 1), "a clone still holds it");
    drop(clone);
    tokio::time::sleep(72 * HOUR).await;
    assert_eq!(renewals(&sandbox), (1, 1), "nothing after the last drop");
}

/// A store shared by "processes" with a renewal lock, as the file and
/// Redis stores have one (theirs do real I/O, which paused time cannot
/// follow: its timeouts would fire at once while a blocking read runs).
#[derive(Debug, Clone, Default)]
struct SharedStore {
    inner: MemoryStore,
    lock: Arc<tokio::sync::Mutex<()>>,
}

impl TokenStore for SharedStore {
    fn describe(&self) -> String {
        "shared".to_string()
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
    fn lock(&self) -> BoxFuture<'_, amp_client::Result<RenewalGuard>> {
        let lock = Arc::clone(&self.lock);
        Box::pin(async move {
            let held = lock.lock_owned().await;
            Ok(RenewalGuard::new(move || {
                Box::pin(async move { drop(held) })
            }))
        })
    }
}

// Two processes sharing a store (two clients here, on clones of one store
// with a renewal lock): one login and one renewal a day serve both.
#[tokio::test(start_paused = true)]
async fn with_a_shared_store_one_renewal_serves_every_process() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = SharedStore::default();
    let a = keeping(&sandbox, Some(Arc::new(store.clone())));
    let b = keeping(&sandbox, Some(Arc::new(store)));
    tokio::time::sleep(72 * HOUR).await;
    assert_eq!(renewals(&sandbox), (1, 3));
    a.assets().list().await.unwrap();
    b.assets().list().await.unwrap();
    assert_eq!(renewals(&sandbox), (1, 3));
    // Each time, one renewed and the other took its token from the store.
    let adoptions =
        a.token_manager().stats().store_adoptions + b.token_manager().stats().store_adoptions;
    assert_eq!(adoptions, 4, "the first login and three refreshes");
}

// Keep-fresh needs a runtime to run on: outside one, building says so.
#[test]
fn without_a_runtime_building_says_so() {
    let config = Config::builder()
        .base_url("http://127.0.0.1:9/api")
        .keep_fresh(true)
        .build()
        .unwrap();
    let e = AmpClient::new(config).unwrap_err();
    assert!(e.is_config(), "{e}");
    assert!(e.to_string().contains("AMP_TOKEN_KEEP_FRESH"), "{e}");
}

// Tokens that live 2 s, a keeper and no call: it renews at most once per
// background cooldown (5 s), as callers would, not at every soft point.
#[tokio::test(start_paused = true)]
async fn short_lives_are_kept_fresh_at_most_once_per_cooldown() {
    let sandbox = Sandbox::builder()
        .token_life(Duration::from_secs(2))
        .start()
        .await
        .unwrap();
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .token_policy(amp_client::TokenPolicy {
            lifetime: Duration::from_secs(2),
            refresh_before: Duration::from_secs(1),
            hard_before: Duration::from_millis(200),
            refresh_jitter: Duration::ZERO,
            ..amp_client::TokenPolicy::default()
        })
        .build()
        .unwrap();
    let client = AmpClient::builder(config)
        .clock(Arc::new(TokioClock::new()))
        .keep_fresh(true)
        .build()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(20)).await;
    let (logins, refreshes) = renewals(&sandbox);
    assert!(
        logins + refreshes <= 5,
        "{logins} logins, {refreshes} refreshes in 20 s"
    );
    drop(client);
}
