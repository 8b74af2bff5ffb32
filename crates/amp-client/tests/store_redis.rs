//! The Redis token store (cargo feature `redis`) against a real Redis server.
//!
//! The server is named by `AMP_TEST_REDIS_URL` (e.g. `redis://127.0.0.1:6390/`;
//! `.ci/redis.sh` starts one and prints the line to export). Without it, the
//! tests that need a server say so and pass without checking anything.
//!
//! ```text
//! eval "$(.ci/redis.sh)"   # or: redis-server --port 6390 --save '' --daemonize yes
//! AMP_TEST_REDIS_URL=redis://127.0.0.1:6390/ cargo test -p amp-client --features redis --test store_redis
//! ```
#![cfg(feature = "redis")]

use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, RedisStore, StoreSpec, TokenData, TokenStore};
use amp_sandbox::Sandbox;
use chrono::Utc;
use secrecy::ExposeSecret;

const URL_VAR: &str = "AMP_TEST_REDIS_URL";
const CHILD_VAR: &str = "AMP_STORE_TEST_CHILD";
const START_AT_VAR: &str = "AMP_STORE_TEST_START_AT_MS";
const OBTAIN: &str = "/user/obtain_token";

/// The test server's URL, or `None` (with a note) when there is none.
fn redis_url(test: &str) -> Option<String> {
    match std::env::var(URL_VAR) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!(
                "{test}: skipped, {URL_VAR} is not set (run .ci/redis.sh to start a Redis server)"
            );
            None
        }
    }
}

/// A key no other test (or earlier run) uses.
fn unique_key(name: &str) -> String {
    format!(
        "amp:test:{name}:{}:{:016x}",
        std::process::id(),
        fastrand::u64(..)
    )
}

async fn raw_connection(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

fn token(raw: &str, minutes_left: i64) -> TokenData {
    let now = Utc::now();
    TokenData::new(
        raw,
        now - chrono::Duration::minutes(10),
        now + chrono::Duration::minutes(minutes_left),
    )
}

/// The entry point of child processes; a no-op in a normal test run.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var(CHILD_VAR) else {
        return;
    };
    assert_eq!(role, "login", "unknown child role");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        // AMP_TOKEN_STORE names the Redis server: the store is opened from the
        // configuration, keyed by base URL and username.
        let client = AmpClient::from_env().unwrap();
        let at: i64 = std::env::var(START_AT_VAR).unwrap().parse().unwrap();
        let wait = at - Utc::now().timestamp_millis();
        if wait > 0 {
            tokio::time::sleep(Duration::from_millis(wait as u64)).await;
        }
        let token = client.token_manager().token().await.unwrap();
        println!("\nFINGERPRINT={}", token.data().fingerprint());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_with_the_remaining_life_as_ttl() {
    let Some(url) = redis_url("round_trip_with_the_remaining_life_as_ttl") else {
        return;
    };
    let key = unique_key("round-trip");
    let store = RedisStore::new(&url, key.clone()).unwrap();
    assert_eq!(store.load().await.unwrap(), None);

    let t = token("0123456789abcdef0123456789abcdef01234567", 60);
    store.save(&t).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(t.clone()));
    // Another store on the same key sees it.
    let other = RedisStore::new(&url, key.clone()).unwrap();
    assert_eq!(other.load().await.unwrap(), Some(t.clone()));

    let mut conn = raw_connection(&url).await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        (59 * 60_000..=60 * 60_000).contains(&ttl),
        "the TTL is the remaining life: {ttl} ms"
    );
    // The value is the file's JSON.
    let value: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&value).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["token"], t.token().expose_secret());
    assert_eq!(json.as_object().unwrap().len(), 4);

    // Junk in the key is read as no token, and overwritten by the next save.
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.load().await.unwrap(), None);
    store.save(&t).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(t.clone()));

    // An expired token is not kept.
    store.save(&token("expired", -1)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), None);

    store.save(&t).await.unwrap();
    store.clear().await.unwrap();
    assert_eq!(store.load().await.unwrap(), None);
    let exists: bool = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!exists);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lock_excludes_others_and_is_released_only_by_its_owner() {
    let Some(url) = redis_url("the_lock_excludes_others_and_is_released_only_by_its_owner") else {
        return;
    };
    let key = unique_key("lock");
    let mut conn = raw_connection(&url).await;
    let lock_value = |conn: &mut redis::aio::MultiplexedConnection| {
        let mut conn = conn.clone();
        let lock_key = format!("{key}:lock");
        async move {
            redis::cmd("GET")
                .arg(lock_key)
                .query_async::<Option<String>>(&mut conn)
                .await
                .unwrap()
        }
    };

    let a = RedisStore::new(&url, key.clone()).unwrap();
    let b = RedisStore::new(&url, key.clone())
        .unwrap()
        .lock_ttl(Duration::from_millis(300));
    let guard_a = a.lock().await.unwrap();
    let held_by_a = lock_value(&mut conn).await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(a.lock_key())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=30_000).contains(&ttl), "{ttl}");

    // B waits, with backoff, and gives up after its TTL.
    let started = std::time::Instant::now();
    let e = b.lock().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(250));
    assert!(e.to_string().contains("still held"), "{e}");
    assert_eq!(lock_value(&mut conn).await, Some(held_by_a.clone()));

    // Released by A, B gets it; B waiting while A releases gets it too.
    let b_waits = tokio::spawn({
        let b = b.clone().lock_ttl(Duration::from_secs(10));
        async move { b.lock().await }
    });
    tokio::time::sleep(Duration::from_millis(100)).await;
    guard_a.release().await;
    let guard_b = b_waits.await.unwrap().unwrap();
    let held_by_b = lock_value(&mut conn).await.unwrap();
    assert_ne!(held_by_a, held_by_b);
    guard_b.release().await;
    assert_eq!(lock_value(&mut conn).await, None);

    // A lock that expired and was taken by another (its holder stalled past
    // the TTL, watchdog included) is not released by its first owner. The
    // expiry and the takeover are played by writing the key directly.
    let late_guard = a.lock().await.unwrap();
    let _: () = redis::cmd("SET")
        .arg(a.lock_key())
        .arg("another-owner")
        .arg("PX")
        .arg(10_000)
        .query_async(&mut conn)
        .await
        .unwrap();
    late_guard.release().await;
    assert_eq!(
        lock_value(&mut conn).await.as_deref(),
        Some("another-owner"),
        "only its owner releases a lock"
    );
    let _: () = redis::cmd("DEL")
        .arg(a.lock_key())
        .query_async(&mut conn)
        .await
        .unwrap();
    let c = RedisStore::new(&url, key.clone()).unwrap();
    let guard_c = c.lock().await.unwrap();
    // Dropping a guard releases it as well (in the background).
    drop(guard_c);
    for _ in 0..50 {
        if lock_value(&mut conn).await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(lock_value(&mut conn).await, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_processes_on_one_key_log_in_once() {
    let Some(url) = redis_url("eight_processes_on_one_key_log_in_once") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    // The key the children's configuration leads to; empty it first.
    let key = RedisStore::key_for(&sandbox.base_url(), sandbox.username());
    RedisStore::new(&url, key.clone())
        .unwrap()
        .clear()
        .await
        .unwrap();
    let start_at = Utc::now().timestamp_millis() + 1500;
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(std::env::current_exe().unwrap())
                .args(["--exact", "child_entry", "--nocapture", "--test-threads=1"])
                .env(CHILD_VAR, "login")
                .env(START_AT_VAR, start_at.to_string())
                .env("AMP_API_BASE_URL", sandbox.base_url())
                .env("AMP_USERNAME", sandbox.username())
                .env("AMP_PASSWORD", sandbox.password())
                .env("AMP_TOKEN_STORE", &url)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut fingerprints = Vec::new();
    for child in children {
        let out: Output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let fp = stdout
            .lines()
            .find_map(|l| l.split("FINGERPRINT=").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("no fingerprint in {stdout}"))
            .to_string();
        fingerprints.push(fp);
    }
    assert_eq!(
        sandbox.count("POST", OBTAIN),
        1,
        "one login among 8 machines"
    );
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "{fingerprints:?}");
    let store = RedisStore::new(&url, key).unwrap();
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.fingerprint(), fingerprints[0]);
    store.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_clients_in_one_process_on_one_key_log_in_once() {
    let Some(url) = redis_url("eight_clients_in_one_process_on_one_key_log_in_once") else {
        return;
    };
    let sandbox = Sandbox::start().await.unwrap();
    let key = unique_key("eight-tasks");
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let store = RedisStore::new(&url, key.clone()).unwrap();
            let client = AmpClient::builder(config.clone())
                .store(Arc::new(store))
                .build()
                .unwrap();
            tokio::spawn(async move {
                client
                    .token_manager()
                    .token()
                    .await
                    .map(|t| t.data().fingerprint())
            })
        })
        .collect();
    let mut fingerprints = Vec::new();
    for t in tasks {
        fingerprints.push(t.await.unwrap().unwrap());
    }
    assert_eq!(sandbox.count("POST", OBTAIN), 1);
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "{fingerprints:?}");
    RedisStore::new(&url, key).unwrap().clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_named_without_its_password() {
    // Needs no server: nothing listens on port 1.
    let url = "redis://:pw-s3cret@127.0.0.1:1/";
    let store = RedisStore::new(url, "amp:token:test").unwrap();
    for e in [
        store.load().await.unwrap_err(),
        store.save(&token("t", 60)).await.unwrap_err(),
        store.lock().await.unwrap_err(),
        store.clear().await.unwrap_err(),
    ] {
        let shown = format!("{e} {e:?}");
        assert!(matches!(e, amp_client::Error::Store { .. }), "{shown}");
        assert!(shown.contains("redis://:***@127.0.0.1:1/"), "{shown}");
        assert!(!shown.contains("pw-s3cret"), "{shown}");
    }

    // A client with that store still works: the store is a help, not a need.
    let sandbox = Sandbox::start().await.unwrap();
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .token_store(StoreSpec::Redis(url.to_string()))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    assert!(!format!("{client:?}").contains("pw-s3cret"));
    client.assets().list().await.unwrap();
    assert_eq!(sandbox.count("POST", OBTAIN), 1);
}

// A renewal that outlasts the lock's TTL keeps the lock: the holder's watchdog
// extends it, so nobody else can take it until it is released.
#[tokio::test]
async fn a_held_lock_outlives_its_ttl_until_released() {
    let Some(url) = redis_url("a_held_lock_outlives_its_ttl_until_released") else {
        return;
    };
    let key = unique_key("watchdog");
    let holder = RedisStore::new(&url, key.clone())
        .unwrap()
        .lock_ttl(Duration::from_millis(300));
    let other = RedisStore::new(&url, key.clone())
        .unwrap()
        .lock_ttl(Duration::from_millis(900));
    let guard = holder.lock().await.unwrap();
    // Three TTLs of the holder pass while the other waits, and it still cannot win.
    let e = other.lock().await.unwrap_err();
    assert!(e.to_string().contains("still held"), "{e}");
    guard.release().await;
    let again = other.lock().await.unwrap();
    again.release().await;
}
