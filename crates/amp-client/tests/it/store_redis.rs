//! The Redis token store (cargo feature `redis`) against real Redis servers,
//! plain and TLS.
//!
//! The servers are named by environment variables that `.ci/redis.sh start`
//! prints (one redis-server listening on a plain and a TLS port, with a
//! throwaway CA and an ACL user):
//!
//! * `AMP_TEST_REDIS_URL`: a plain server, e.g. `redis://127.0.0.1:6390/`;
//! * `AMP_TEST_REDISS_URL`: a TLS server, e.g. `rediss://user:pw@127.0.0.1:6391/`,
//!   with `AMP_TEST_REDIS_CA_FILE` the CA that signed its certificate;
//! * `AMP_TEST_REDIS_TLS_CERT`, `AMP_TEST_REDIS_TLS_KEY`: that certificate and
//!   its key, for the test that starts (and stops) a TLS server of its own.
//!
//! Each shared-server test runs against both servers; the outage test starts
//! its own `redis-server`. They are ignored unless asked for, and fail when
//! asked for without their servers, so none passes without checking:
//!
//! ```text
//! eval "$(bash .ci/redis.sh start)"
//! cargo test -p amp-client --all-features --test it -- --ignored store_redis:: --skip child_entry
//! bash .ci/redis.sh stop
//! ```
#![cfg(feature = "redis")]

use crate::common::capture;

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Config, RedisStore, StoreSpec, TokenData, TokenStore};
use amp_sandbox::Sandbox;
use capture::Capture;
use chrono::Utc;
use secrecy::ExposeSecret;

const URL_VAR: &str = "AMP_TEST_REDIS_URL";
const TLS_URL_VAR: &str = "AMP_TEST_REDISS_URL";
const CA_VAR: &str = "AMP_TEST_REDIS_CA_FILE";
const CERT_VAR: &str = "AMP_TEST_REDIS_TLS_CERT";
const KEY_VAR: &str = "AMP_TEST_REDIS_TLS_KEY";
const CHILD_VAR: &str = "AMP_STORE_TEST_CHILD";
const START_AT_VAR: &str = "AMP_STORE_TEST_START_AT_MS";
const OBTAIN: &str = "/user/obtain_token";

/// One Redis server to test against.
#[derive(Debug, Clone)]
struct Server {
    /// `plain` or `tls`, for messages.
    kind: &'static str,
    url: String,
    /// The CA to trust (TLS only).
    ca_file: Option<PathBuf>,
}

impl Server {
    /// A store on this server, trusting its CA.
    fn store(&self, key: impl Into<String>) -> RedisStore {
        let store = RedisStore::new(&self.url, key).unwrap();
        match &self.ca_file {
            Some(ca) => store.ca_file(ca).unwrap(),
            None => store,
        }
    }

    /// A connection of our own, to look at the keys behind the store's back
    /// (over TLS made here, with the test CA: independent of the store's code).
    async fn raw(&self) -> redis::aio::MultiplexedConnection {
        use redis::IntoConnectionInfo;
        let Some(ca) = &self.ca_file else {
            let client = redis::Client::open(self.url.as_str()).unwrap();
            return client.get_multiplexed_async_connection().await.unwrap();
        };
        let mut url = url::Url::parse(&self.url).unwrap();
        let host = url.host_str().unwrap().to_string();
        let port = url.port().unwrap_or(6379);
        url.set_scheme("redis").unwrap();
        let info = url.as_str().into_connection_info().unwrap();
        let mut roots = rustls::RootCertStore::empty();
        let pem = std::fs::read(ca).unwrap();
        for cert in rustls::pki_types::pem::PemObject::pem_slice_iter(&pem) {
            roots.add(cert.unwrap()).unwrap();
        }
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .unwrap();
        let name = rustls::pki_types::ServerName::try_from(host).unwrap();
        let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
            .connect(name, tcp)
            .await
            .unwrap();
        let (conn, driver) = redis::aio::MultiplexedConnection::new_with_config(
            info.redis_settings(),
            stream,
            redis::AsyncConnectionConfig::new(),
        )
        .await
        .unwrap();
        tokio::spawn(driver);
        conn
    }

    /// The password in the URL, if any: it must never be shown.
    fn password(&self) -> Option<String> {
        url::Url::parse(&self.url)
            .ok()?
            .password()
            .map(str::to_string)
    }
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The servers named by the environment, a plain and a TLS one. The tests
/// that use them are ignored unless asked for (`--ignored`, as `.ci/run`
/// does), so a server missing then is a failure, never a silent pass.
fn servers(test: &str) -> Vec<Server> {
    let missing = |name: &str| -> String {
        panic!("{test}: {name} is not set (eval \"$(bash .ci/redis.sh start)\" first)")
    };
    vec![
        Server {
            kind: "plain",
            url: var(URL_VAR).unwrap_or_else(|| missing(URL_VAR)),
            ca_file: None,
        },
        Server {
            kind: "tls",
            url: var(TLS_URL_VAR).unwrap_or_else(|| missing(TLS_URL_VAR)),
            ca_file: var(CA_VAR).map(PathBuf::from),
        },
    ]
}

/// A key no other test (or earlier run) uses.
fn unique_key(name: &str) -> String {
    format!(
        "amp:test:{name}:{}:{:016x}",
        std::process::id(),
        fastrand::u64(..)
    )
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
#[ignore = "not a test: the entry point of the child processes this module's tests start"]
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
        // AMP_TOKEN_STORE names the Redis server (and AMP_REDIS_CA_FILE its
        // CA): the store is opened from the configuration, keyed by base URL
        // and username.
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
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn round_trip_with_the_remaining_life_as_ttl() {
    for server in servers("round_trip_with_the_remaining_life_as_ttl") {
        round_trip(&server).await;
    }
}

async fn round_trip(server: &Server) {
    let kind = server.kind;
    let key = unique_key("round-trip");
    let store = server.store(key.clone());
    assert_eq!(store.load().await.unwrap(), None, "{kind}");

    let t = token("0123456789abcdef0123456789abcdef01234567", 60);
    store.save(&t).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(t.clone()), "{kind}");
    // Another store on the same key sees it.
    let other = server.store(key.clone());
    assert_eq!(other.load().await.unwrap(), Some(t.clone()), "{kind}");

    let mut conn = server.raw().await;
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(
        (59 * 60_000..=60 * 60_000).contains(&ttl),
        "{kind}: the TTL is the remaining life: {ttl} ms"
    );
    // The value is the file's JSON.
    let value: String = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    let json: serde_json::Value = serde_json::from_str(&value).unwrap();
    assert_eq!(json["version"], 2);
    assert_eq!(json["token"], t.token().expose_secret());
    // A token bound to no account is stored without one.
    assert_eq!(json.as_object().unwrap().len(), 4);

    // Junk in the key is read as no token, and overwritten by the next save.
    let _: () = redis::cmd("SET")
        .arg(&key)
        .arg("{not json")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(store.load().await.unwrap(), None, "{kind}");
    store.save(&t).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(t.clone()), "{kind}");

    // An expired token is not kept.
    store.save(&token("expired", -1)).await.unwrap();
    assert_eq!(store.load().await.unwrap(), None, "{kind}");

    store.save(&t).await.unwrap();
    store.clear().await.unwrap();
    assert_eq!(store.load().await.unwrap(), None, "{kind}");
    let exists: bool = redis::cmd("EXISTS")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(!exists, "{kind}");
}

/// A discard deletes the key only if it holds the rejected
/// token; any other value (a newer token, something that is not a stored
/// form) stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn a_discard_deletes_only_the_rejected_token() {
    for server in servers("a_discard_deletes_only_the_rejected_token") {
        discard_only_the_rejected(&server).await;
    }
}

async fn discard_only_the_rejected(server: &Server) {
    let kind = server.kind;
    let key = unique_key("discard");
    let store = server.store(key.clone());
    let rejected = token("rejected-0123456789abcdef0123456789abcdef", 60);
    let newer = token("newer-0123456789abcdef0123456789abcdef0123", 60);
    // Nothing stored: nothing to do.
    store.discard(&rejected).await.unwrap();
    store.save(&newer).await.unwrap();
    store.discard(&rejected).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(newer.clone()), "{kind}");
    store.save(&rejected).await.unwrap();
    store.discard(&rejected).await.unwrap();
    assert_eq!(store.load().await.unwrap(), None, "{kind}");
    // Not a stored form: left for the next save to overwrite.
    let mut conn = server.raw().await;
    for junk in ["{not json", "[1,2]", r#"{"token":42}"#] {
        let _: () = redis::cmd("SET")
            .arg(&key)
            .arg(junk)
            .query_async(&mut conn)
            .await
            .unwrap();
        store.discard(&rejected).await.unwrap();
        let value: Option<String> = redis::cmd("GET")
            .arg(&key)
            .query_async(&mut conn)
            .await
            .unwrap();
        assert_eq!(value.as_deref(), Some(junk), "{kind}");
    }
    store.clear().await.unwrap();
}

/// A TCP relay in front of a plain Redis server that, just before it
/// passes on the first command that can delete a key (`DEL`, `UNLINK`,
/// `EVAL`, `EVALSHA`), runs `inject` against the server directly: another
/// machine writing at the worst moment for a discard, after it decided to
/// delete and before the delete. Returns the relay's address.
async fn relay_injecting_before_a_delete<F, Fut>(
    upstream: std::net::SocketAddr,
    inject: F,
) -> std::net::SocketAddr
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let inject = Arc::new(Mutex::new(Some(inject)));
    tokio::spawn(async move {
        loop {
            let Ok((client, _)) = listener.accept().await else {
                return;
            };
            let inject = Arc::clone(&inject);
            tokio::spawn(async move {
                let server = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let (mut from_client, mut to_client) = client.into_split();
                let (mut from_server, mut to_server) = server.into_split();
                tokio::spawn(async move {
                    let _ = tokio::io::copy(&mut from_server, &mut to_client).await;
                });
                let mut pending = Vec::new();
                let mut buf = [0u8; 4096];
                loop {
                    let n = match from_client.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    };
                    pending.extend_from_slice(&buf[..n]);
                    while let Some((len, name)) = resp_command(&pending) {
                        let deletes = ["DEL", "UNLINK", "EVAL", "EVALSHA"].contains(&name.as_str());
                        if deletes {
                            let once = inject.lock().unwrap().take();
                            if let Some(inject) = once {
                                inject().await;
                            }
                        }
                        if to_server.write_all(&pending[..len]).await.is_err() {
                            return;
                        }
                        pending.drain(..len);
                    }
                }
            });
        }
    });
    addr
}

/// The length and the (upper-case) name of the first whole command in
/// `buf`, a RESP array of bulk strings as clients send them; `None` until
/// it is all there.
fn resp_command(buf: &[u8]) -> Option<(usize, String)> {
    fn line(buf: &[u8], from: usize) -> Option<(&[u8], usize)> {
        let end = buf.get(from..)?.windows(2).position(|w| w == b"\r\n")? + from;
        Some((&buf[from..end], end + 2))
    }
    let (head, mut at) = line(buf, 0)?;
    let count: usize = std::str::from_utf8(head.strip_prefix(b"*")?)
        .ok()?
        .parse()
        .ok()?;
    let mut name = String::new();
    for i in 0..count {
        let (len, next) = line(buf, at)?;
        let len: usize = std::str::from_utf8(len.strip_prefix(b"$")?)
            .ok()?
            .parse()
            .ok()?;
        let arg = buf.get(next..next + len)?;
        if i == 0 {
            name = String::from_utf8_lossy(arg).to_ascii_uppercase();
        }
        at = next + len + 2;
        if buf.len() < at {
            return None;
        }
    }
    Some((at, name))
}

/// The race the trait's default discard lost: it read the rejected token,
/// then another machine stored a newer one, then it deleted the key with
/// the newer token in it. Here the newer token is stored exactly between
/// the decision and the delete (by a relay in front of the server): the
/// script compares and deletes in one step on the server, and keeps it.
/// Plain server only: the relay reads the commands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn a_token_stored_just_before_the_delete_is_kept() {
    let Some(server) = servers("a_token_stored_just_before_the_delete_is_kept")
        .into_iter()
        .find(|s| s.kind == "plain")
    else {
        unreachable!("servers() names a plain and a TLS server")
    };
    let key = unique_key("discard-race");
    let rejected = token("rejected-0123456789abcdef0123456789abcdef", 60);
    let newer = token("newer-0123456789abcdef0123456789abcdef0123", 60);
    server.store(key.clone()).save(&rejected).await.unwrap();
    let url = url::Url::parse(&server.url).unwrap();
    let upstream = (url.host_str().unwrap(), url.port().unwrap_or(6379));
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .unwrap()
        .next()
        .unwrap();
    let injected = Arc::new(Mutex::new(false));
    let relay = {
        let (direct, newer, injected) = (
            server.store(key.clone()),
            newer.clone(),
            Arc::clone(&injected),
        );
        relay_injecting_before_a_delete(upstream, move || async move {
            direct.save(&newer).await.unwrap();
            *injected.lock().unwrap() = true;
        })
        .await
    };
    let mut through = url.clone();
    through.set_port(Some(relay.port())).unwrap();
    let store = RedisStore::new(through.as_str(), key.clone()).unwrap();
    store.discard(&rejected).await.unwrap();
    assert!(
        *injected.lock().unwrap(),
        "the newer token was stored before the delete"
    );
    assert_eq!(
        server.store(key.clone()).load().await.unwrap(),
        Some(newer),
        "the newer token is kept"
    );
    server.store(key).clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn the_lock_excludes_others_and_is_released_only_by_its_owner() {
    for server in servers("the_lock_excludes_others_and_is_released_only_by_its_owner") {
        lock_excludes_others(&server).await;
    }
}

async fn lock_excludes_others(server: &Server) {
    let kind = server.kind;
    let key = unique_key("lock");
    let mut conn = server.raw().await;
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

    let a = server.store(key.clone());
    let b = server
        .store(key.clone())
        .lock_ttl(Duration::from_millis(300));
    let guard_a = a.lock().await.unwrap();
    let held_by_a = lock_value(&mut conn).await.unwrap();
    let ttl: i64 = redis::cmd("PTTL")
        .arg(a.lock_key())
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!((1..=30_000).contains(&ttl), "{kind}: {ttl}");

    // B waits, with backoff, and gives up after its TTL.
    let started = Instant::now();
    let e = b.lock().await.unwrap_err();
    assert!(started.elapsed() >= Duration::from_millis(250), "{kind}");
    assert!(e.to_string().contains("still held"), "{kind}: {e}");
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
    assert_ne!(held_by_a, held_by_b, "{kind}");
    guard_b.release().await;
    assert_eq!(lock_value(&mut conn).await, None, "{kind}");

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
        "{kind}: only its owner releases a lock"
    );
    let _: () = redis::cmd("DEL")
        .arg(a.lock_key())
        .query_async(&mut conn)
        .await
        .unwrap();
    let c = server.store(key.clone());
    let guard_c = c.lock().await.unwrap();
    // Dropping a guard releases it as well (in the background).
    drop(guard_c);
    for _ in 0..50 {
        if lock_value(&mut conn).await.is_none() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(lock_value(&mut conn).await, None, "{kind}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn eight_processes_on_one_key_log_in_once() {
    for server in servers("eight_processes_on_one_key_log_in_once") {
        eight_processes(&server).await;
    }
}

async fn eight_processes(server: &Server) {
    let kind = server.kind;
    let sandbox = Sandbox::start().await.unwrap();
    // The key the children's configuration leads to; empty it first.
    let key = RedisStore::key_for(&sandbox.base_url(), sandbox.username());
    server.store(key.clone()).clear().await.unwrap();
    let start_at = Utc::now().timestamp_millis() + 1500;
    let children: Vec<_> = (0..8)
        .map(|_| {
            let mut child = Command::new(std::env::current_exe().unwrap());
            child
                .args([
                    "--exact",
                    "store_redis::child_entry",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .env(CHILD_VAR, "login")
                .env(START_AT_VAR, start_at.to_string())
                .env("AMP_API_BASE_URL", sandbox.base_url())
                .env("AMP_USERNAME", sandbox.username())
                .env("AMP_PASSWORD", sandbox.password())
                .env("AMP_TOKEN_STORE", &server.url)
                .env_remove("AMP_REDIS_CA_FILE")
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped());
            if let Some(ca) = &server.ca_file {
                child.env("AMP_REDIS_CA_FILE", ca);
            }
            child.spawn().unwrap()
        })
        .collect();
    let mut fingerprints = Vec::new();
    for child in children {
        let out: Output = tokio::task::spawn_blocking(move || child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{kind}: {stdout}\n{stderr}");
        if let Some(pw) = server.password() {
            assert!(!stdout.contains(&pw) && !stderr.contains(&pw), "{kind}");
        }
        let fp = stdout
            .lines()
            .find_map(|l| l.split("FINGERPRINT=").nth(1))
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or_else(|| panic!("{kind}: no fingerprint in {stdout}"))
            .to_string();
        fingerprints.push(fp);
    }
    assert_eq!(
        sandbox.count("POST", OBTAIN),
        1,
        "{kind}: one login among 8 machines"
    );
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "{kind}: {fingerprints:?}");
    let store = server.store(key);
    let stored = store.load().await.unwrap().unwrap();
    assert_eq!(stored.fingerprint(), fingerprints[0]);
    store.clear().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn eight_clients_in_one_process_on_one_key_log_in_once() {
    for server in servers("eight_clients_in_one_process_on_one_key_log_in_once") {
        eight_clients(&server).await;
    }
}

async fn eight_clients(server: &Server) {
    let kind = server.kind;
    let sandbox = Sandbox::start().await.unwrap();
    let key = unique_key("eight-tasks");
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let client = AmpClient::builder(config.clone())
                .store(Arc::new(server.store(key.clone())))
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
    assert_eq!(sandbox.count("POST", OBTAIN), 1, "{kind}");
    fingerprints.dedup();
    assert_eq!(fingerprints.len(), 1, "{kind}: {fingerprints:?}");
    server.store(key).clear().await.unwrap();
}

// A renewal that outlasts the lock's TTL keeps the lock: the holder's watchdog
// extends it, so nobody else can take it until it is released.
#[tokio::test]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn a_held_lock_outlives_its_ttl_until_released() {
    for server in servers("a_held_lock_outlives_its_ttl_until_released") {
        let key = unique_key("watchdog");
        let holder = server
            .store(key.clone())
            .lock_ttl(Duration::from_millis(300));
        let other = server
            .store(key.clone())
            .lock_ttl(Duration::from_millis(900));
        let guard = holder.lock().await.unwrap();
        // Three TTLs of the holder pass while the other waits, and it still cannot win.
        let e = other.lock().await.unwrap_err();
        assert!(e.to_string().contains("still held"), "{}: {e}", server.kind);
        guard.release().await;
        let again = other.lock().await.unwrap();
        again.release().await;
    }
}

/// The store is opened from the configuration, as `AMP_TOKEN_STORE` and
/// `AMP_REDIS_CA_FILE` name it, and works against the TLS server (with its
/// ACL user) like any other.
#[tokio::test]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn a_tls_store_opened_from_the_environment_shares_the_token() {
    let Some(server) = servers("a_tls_store_opened_from_the_environment_shares_the_token")
        .into_iter()
        .find(|s| s.kind == "tls")
    else {
        unreachable!("servers() names a plain and a TLS server")
    };
    let sandbox = Sandbox::start().await.unwrap();
    let lookup = |name: &str| match name {
        "AMP_API_BASE_URL" => Some(sandbox.base_url()),
        "AMP_USERNAME" => Some(sandbox.username().to_string()),
        "AMP_PASSWORD" => Some(sandbox.password().to_string()),
        "AMP_TOKEN_STORE" => Some(server.url.clone()),
        "AMP_REDIS_CA_FILE" => server.ca_file.as_ref().map(|p| p.display().to_string()),
        _ => None,
    };
    let config = Config::from_lookup(&lookup).unwrap();
    let first = AmpClient::new(config.clone()).unwrap();
    let second = AmpClient::new(config).unwrap();
    if let Some(pw) = server.password() {
        assert!(!format!("{first:?}").contains(&pw));
    }
    let a = first.token_manager().token().await.unwrap();
    let b = second.token_manager().token().await.unwrap();
    assert_eq!(a.data().fingerprint(), b.data().fingerprint());
    assert_eq!(
        sandbox.count("POST", OBTAIN),
        1,
        "the second client read the first's token"
    );
    first.token_manager().clear().await.unwrap();
}

/// Without the CA that signed the server's certificate, a TLS server is not
/// trusted; with a wrong ACL password, it refuses us. Neither error shows the
/// password.
#[tokio::test]
#[ignore = "needs a Redis server: set AMP_TEST_REDIS_URL (and AMP_TEST_REDISS_URL, AMP_TEST_REDIS_CA_FILE for TLS) or run .ci/run"]
async fn tls_needs_a_trusted_certificate_and_the_right_password() {
    let Some(server) = servers("tls_needs_a_trusted_certificate_and_the_right_password")
        .into_iter()
        .find(|s| s.kind == "tls")
    else {
        unreachable!("servers() names a plain and a TLS server")
    };
    let key = unique_key("untrusted");
    // Mozilla's roots alone do not know the throwaway CA.
    let untrusted = RedisStore::new(&server.url, key.clone()).unwrap();
    let e = untrusted.load().await.unwrap_err();
    let shown = format!("{e} {e:?}");
    assert!(shown.contains("cannot connect"), "{shown}");
    assert!(shown.to_lowercase().contains("certificate"), "{shown}");
    if let Some(pw) = server.password() {
        assert!(!shown.contains(&pw), "{shown}");

        let mut wrong = url::Url::parse(&server.url).unwrap();
        wrong.set_password(Some("not-the-password")).unwrap();
        let wrong = Server {
            url: wrong.to_string(),
            ..server.clone()
        };
        let e = wrong.store(key).load().await.unwrap_err();
        let shown = format!("{e} {e:?}");
        assert!(shown.contains("cannot connect"), "{shown}");
        assert!(
            !shown.contains("not-the-password") && !shown.contains(&pw),
            "{shown}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_redis_is_named_without_its_password() {
    // Needs no server: nothing listens on port 1.
    for url in [
        "redis://:pw-s3cret@127.0.0.1:1/",
        "rediss://amp:pw-s3cret@127.0.0.1:1/",
    ] {
        let store = RedisStore::new(url, "amp:token:test").unwrap();
        let shown_url = url.replace("pw-s3cret", "***");
        for e in [
            store.load().await.unwrap_err(),
            store.save(&token("t", 60)).await.unwrap_err(),
            store.lock().await.unwrap_err(),
            store.clear().await.unwrap_err(),
        ] {
            let shown = format!("{e} {e:?}");
            assert!(e.is_store(), "{shown}");
            assert!(shown.contains(&shown_url), "{shown}");
            assert!(!shown.contains("pw-s3cret"), "{shown}");
        }
    }

    // A client with that store still works: the store is a help, not a need.
    let url = "redis://:pw-s3cret@127.0.0.1:1/";
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

/// A server that accepts connections and never answers (hung, or a black
/// hole behind a load balancer): every operation gives up after the store's
/// time limit instead of hanging. Needs no Redis.
#[tokio::test]
async fn a_server_that_never_answers_fails_each_operation_in_bounded_time() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = tokio::spawn({
        let held = Arc::clone(&held);
        async move {
            while let Ok((socket, _)) = listener.accept().await {
                held.lock().unwrap().push(socket);
            }
        }
    });
    let limit = Duration::from_millis(300);
    for url in [
        format!("redis://:pw-s3cret@127.0.0.1:{port}/"),
        format!("rediss://:pw-s3cret@127.0.0.1:{port}/"),
    ] {
        let store = RedisStore::new(&url, "amp:token:silent")
            .unwrap()
            .operation_timeout(limit);
        for _ in 0..2 {
            let started = Instant::now();
            let e = store.load().await.unwrap_err();
            let took = started.elapsed();
            assert!(took >= limit && took < limit * 5, "{url}: {took:?}");
            let shown = format!("{e} {e:?}");
            assert!(shown.contains("within 300ms"), "{shown}");
            assert!(!shown.contains("pw-s3cret"), "{shown}");
        }
    }
    assert!(!held.lock().unwrap().is_empty(), "the store did connect");
    holder.abort();
}

/// A `redis-server` of the test's own on a free port, stopped when dropped.
struct OwnServer {
    child: Child,
    port: u16,
}

impl OwnServer {
    /// Starts `redis-server` on `port` (TLS with `tls`), and waits until it
    /// says it accepts connections.
    async fn start(port: u16, tls: Option<&TlsFiles>) -> OwnServer {
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        cmd.args(["--dir", &std::env::temp_dir().display().to_string()]);
        match tls {
            None => {
                cmd.args(["--port", &port.to_string()]);
            }
            Some(files) => {
                cmd.args(["--port", "0", "--tls-port", &port.to_string()]);
                cmd.arg("--tls-cert-file").arg(&files.cert);
                cmd.arg("--tls-key-file").arg(&files.key);
                cmd.arg("--tls-ca-cert-file").arg(&files.ca);
                cmd.args(["--tls-auth-clients", "no"]);
            }
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Redis logs to stdout; read it (all of it, so it never blocks on a
        // full pipe) and say when it is ready.
        let stdout = child.stdout.take().unwrap();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let mut ready = Some(ready_tx);
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.contains("Ready to accept connections") {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
        let server = OwnServer { child, port };
        tokio::time::timeout(Duration::from_secs(20), ready_rx)
            .await
            .expect("redis-server did not get ready in 20 s")
            .expect("redis-server exited before it was ready");
        server
    }

    /// Kills the server (as a crash would) and waits until it is gone.
    fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct TlsFiles {
    cert: PathBuf,
    key: PathBuf,
    ca: PathBuf,
}

fn redis_server_on_path() -> bool {
    Command::new("redis-server")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Lines logged at WARN or above.
fn warnings(logs: &str) -> usize {
    logs.lines()
        .filter(|l| l.contains(" WARN ") || l.contains(" ERROR "))
        .count()
}

const LOST: &str = "lost the Redis token store";
const BACK: &str = "the Redis token store is back";

/// A server that goes away mid-run: operations fail at once with a clear
/// error (no hang), the store says once that it lost the server, reconnects
/// by itself when the server is back, says so once, and the token is shared
/// again. Plain, and TLS with the certificate `.ci/redis.sh` made.
#[tokio::test]
#[ignore = "needs redis-server on PATH and a TLS certificate (AMP_TEST_REDIS_TLS_CERT, AMP_TEST_REDIS_TLS_KEY, AMP_TEST_REDIS_CA_FILE): run .ci/run, or eval \"$(bash .ci/redis.sh start)\" first"]
async fn a_server_that_goes_away_and_comes_back() {
    assert!(redis_server_on_path(), "redis-server is not on PATH");
    let capture = Capture::default();
    // A current-thread runtime: every task of the test logs to this subscriber.
    let _guard = capture.start("amp_client=trace");

    outage(None, &capture).await;
    match (var(CERT_VAR), var(KEY_VAR), var(CA_VAR)) {
        (Some(cert), Some(key), Some(ca)) => {
            let files = TlsFiles {
                cert: cert.into(),
                key: key.into(),
                ca: ca.into(),
            };
            outage(Some(&files), &capture).await;
        }
        _ => panic!(
            "{CERT_VAR}, {KEY_VAR} and {CA_VAR} are not all set \
             (eval \"$(bash .ci/redis.sh start)\" first)"
        ),
    }
}

async fn outage(tls: Option<&TlsFiles>, capture: &Capture) {
    let kind = if tls.is_some() { "tls" } else { "plain" };
    capture.clear();
    let port = free_port();
    let scheme = if tls.is_some() { "rediss" } else { "redis" };
    let url = format!("{scheme}://127.0.0.1:{port}/");
    let server = OwnServer::start(port, tls).await;
    let open = || {
        let store = RedisStore::new(&url, "amp:token:outage").unwrap();
        match tls {
            Some(files) => store.ca_file(&files.ca).unwrap(),
            None => store,
        }
    };
    let store = open();
    let t = token("0123456789abcdef0123456789abcdef01234567", 60);
    store.save(&t).await.unwrap();
    assert_eq!(store.load().await.unwrap(), Some(t.clone()), "{kind}");

    server.kill();
    // Every operation fails, quickly and clearly; the outage is told once.
    for _ in 0..5 {
        let started = Instant::now();
        let e = store.load().await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "{kind}: {:?}",
            started.elapsed()
        );
        let shown = e.to_string();
        assert!(e.is_store(), "{kind}: {shown}");
        assert!(shown.contains(&url), "{kind}: {shown}");
        assert!(store.save(&t).await.is_err(), "{kind}");
    }
    let logs = capture.text();
    assert_eq!(logs.matches(LOST).count(), 1, "{kind}: {logs}");
    assert_eq!(
        warnings(&logs),
        1,
        "{kind}: one warning for the outage, not one per call: {logs}"
    );
    assert_eq!(logs.matches(BACK).count(), 0, "{kind}: {logs}");

    // Back on the same port (empty: it keeps nothing on disk). The same store
    // reconnects by itself, and what it saves another store reads.
    let server = OwnServer::start(port, tls).await;
    assert_eq!(server.port, port);
    assert_eq!(store.load().await.unwrap(), None, "{kind}");
    store.save(&t).await.unwrap();
    assert_eq!(
        open().load().await.unwrap(),
        Some(t.clone()),
        "{kind}: shared again"
    );
    store.clear().await.unwrap();
    let logs = capture.text();
    assert_eq!(logs.matches(LOST).count(), 1, "{kind}: {logs}");
    assert_eq!(warnings(&logs), 1, "{kind}: {logs}");
    assert_eq!(logs.matches(BACK).count(), 1, "{kind}: {logs}");
    drop(server);
}
