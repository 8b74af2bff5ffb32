//! [`RedisStore`]: one token shared by many machines through a Redis server
//! (cargo feature `redis`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError};
use zeroize::Zeroizing;

use super::file::{decode, encode};
use super::{BoxFuture, RenewalGuard, TokenStore};
use crate::auth::token::TokenData;
use crate::config::redact_url;
use crate::error::{Error, Result};

/// How long the renewal lock lives if its owner never releases it.
const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(30);
/// Waiting for the lock: first pause, longest pause.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// Time limits for connecting and for each command.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(5);
/// The longest TTL given to a stored token.
const MAX_TTL_MS: i64 = 10 * 365 * 24 * 3600 * 1000;

/// Deletes the lock only if it still holds the owner's value: a holder whose
/// lock expired and was taken by another never releases the other's lock.
const RELEASE_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("DEL", KEYS[1])
else
    return 0
end
"#;

/// Keeps the token in Redis, so that processes on many machines share one
/// login.
///
/// * **Key**: one per base URL and username, see [`RedisStore::key_for`]
///   (what [`open`](super::open) uses). The value is the same JSON as a
///   [`FileStore`](super::FileStore)'s file; its TTL is the token's remaining
///   life (measured with the system clock), so Redis forgets expired tokens by
///   itself. Saving a token that has already expired deletes the key.
/// * **Renewal lock** (extended by a watchdog while held): `SET <key>:lock <random owner> NX PX <ttl>` (30 s by
///   default). Waiters try again with a backoff from 20 ms doubling to 500 ms
///   and give up after the lock's TTL with an error (the token manager then
///   renews without the lock rather than not at all). The lock is released
///   by a compare-and-delete script, so only its owner can release it; if the
///   owner dies, it expires. A renewal that outlives the TTL (a login retried
///   for a long time) may therefore overlap with another one.
/// * **Connection**: one multiplexed connection, opened on first use and
///   opened again after it breaks. An unreachable server is an
///   [`Error::Store`] naming the URL with its password masked.
/// * A stored value that does not parse is reported (with a warning, never
///   its contents) as no token; the next saved token overwrites it.
///
/// `rediss://` URLs need TLS support, which this crate does not enable in
/// redis-rs (to stay lean): [`RedisStore::new`] refuses them with an error
/// saying so.
///
/// ```no_run
/// # async fn demo() -> amp_client::Result<()> {
/// use amp_client::{AmpClient, Config, RedisStore};
/// use std::sync::Arc;
/// let config = Config::from_env()?;
/// let key = RedisStore::key_for(config.base_url().as_str(), "issuer");
/// let store = RedisStore::new("redis://:secret@redis.internal:6379/0", key)?;
/// let client = AmpClient::builder(config).store(Arc::new(store)).build()?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RedisStore {
    conn: Arc<Connector>,
    key: String,
    lock_key: String,
    lock_ttl: Duration,
}

/// The client and its lazily opened connection, shared with lock guards.
struct Connector {
    client: redis::Client,
    url: Zeroizing<String>,
    redacted: String,
    password: Option<Zeroizing<String>>,
    slot: tokio::sync::Mutex<Option<MultiplexedConnection>>,
    release: redis::Script,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.conn.redacted)
            .field("key", &self.key)
            .field("lock_ttl", &self.lock_ttl)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store keeping the token under `key` on the Redis server at `url`
    /// (`redis://[user:password@]host[:port][/db]`). Nothing is connected
    /// before the first use; an error here means the URL is not usable.
    pub fn new(url: &str, key: impl Into<String>) -> Result<RedisStore> {
        let redacted = redact_url(url);
        let password = url::Url::parse(url)
            .ok()
            .and_then(|u| u.password().map(|p| Zeroizing::new(p.to_string())));
        let key = key.into();
        let store_name = format!("{redacted} key {key}");
        let client = redis::Client::open(url).map_err(|e| Error::Store {
            store: store_name.clone(),
            reason: format!(
                "{redacted} is not a usable Redis URL: {}",
                scrub(
                    &e.to_string(),
                    url,
                    &redacted,
                    password.as_deref().map(String::as_str),
                )
            ),
        })?;
        Ok(RedisStore {
            conn: Arc::new(Connector {
                client,
                url: Zeroizing::new(url.to_string()),
                redacted,
                password,
                slot: tokio::sync::Mutex::new(None),
                release: redis::Script::new(RELEASE_SCRIPT),
            }),
            lock_key: format!("{key}:lock"),
            key,
            lock_ttl: DEFAULT_LOCK_TTL,
        })
    }

    /// The key for the token of `username` at `base_url`:
    /// `amp:token:` followed by 16 hex characters of a SHA-256 of both (a
    /// trailing `/` of the URL does not matter). The username is not
    /// readable from the key.
    ///
    /// ```
    /// use amp_client::RedisStore;
    /// let k = RedisStore::key_for("https://amp.blockstream.com/api", "issuer");
    /// assert!(k.starts_with("amp:token:") && k.len() == "amp:token:".len() + 16);
    /// assert_eq!(k, RedisStore::key_for("https://amp.blockstream.com/api/", "issuer"));
    /// assert_ne!(k, RedisStore::key_for("https://amp.blockstream.com/api", "other"));
    /// ```
    pub fn key_for(base_url: &str, username: &str) -> String {
        format!("amp:token:{}", super::account_id(base_url, username))
    }

    /// How long the renewal lock lives if its owner does not release it (30 s
    /// by default); waiters give up after as long.
    pub fn lock_ttl(mut self, ttl: Duration) -> RedisStore {
        self.lock_ttl = ttl.max(Duration::from_millis(1));
        self
    }

    /// The key holding the token.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The key of the renewal lock: `<key>:lock`.
    pub fn lock_key(&self) -> &str {
        &self.lock_key
    }

    fn error(&self, what: &str, e: &RedisError) -> Error {
        Error::Store {
            store: self.describe(),
            reason: self.conn.reason(what, e),
        }
    }

    /// Runs `cmd` on the shared connection, opening it if needed.
    async fn query<T: redis::FromRedisValue>(&self, what: &str, cmd: &redis::Cmd) -> Result<T> {
        let mut conn = self
            .conn
            .get()
            .await
            .map_err(|e| self.error("connecting", &e))?;
        let result = cmd.query_async(&mut conn).await;
        self.conn.after(&result).await;
        result.map_err(|e| self.error(what, &e))
    }

    async fn load_async(&self) -> Result<Option<TokenData>> {
        let value: Option<Vec<u8>> = self.query("GET", redis::cmd("GET").arg(&self.key)).await?;
        let Some(value) = value.map(Zeroizing::new) else {
            return Ok(None);
        };
        match decode(&value) {
            Ok(token) => Ok(Some(token)),
            Err(reason) => {
                tracing::warn!(
                    store = %self.describe(),
                    reason,
                    "the stored token is unusable; a new token will be obtained and stored over it"
                );
                Ok(None)
            }
        }
    }

    async fn save_async(&self, token: &TokenData) -> Result<()> {
        let left = (token.expires_at - Utc::now()).num_milliseconds();
        if left <= 0 {
            return self.clear_async().await;
        }
        let bytes = encode(token);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&self.key)
            .arg(&bytes[..])
            .arg("PX")
            .arg(left.min(MAX_TTL_MS));
        let _: () = self.query("SET", &cmd).await?;
        Ok(())
    }

    async fn clear_async(&self) -> Result<()> {
        let _: () = self.query("DEL", redis::cmd("DEL").arg(&self.key)).await?;
        Ok(())
    }

    async fn lock_async(&self) -> Result<RenewalGuard> {
        let owner = format!("{:032x}", fastrand::u128(..));
        let ttl_ms = u64::try_from(self.lock_ttl.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        let mut cmd = redis::cmd("SET");
        cmd.arg(&self.lock_key)
            .arg(&owner)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms);
        let deadline = tokio::time::Instant::now() + self.lock_ttl;
        let mut pause = FIRST_BACKOFF;
        loop {
            let won: Option<String> = self.query("SET NX (renewal lock)", &cmd).await?;
            if won.is_some() {
                break;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Err(Error::Store {
                    store: self.describe(),
                    reason: format!(
                        "the renewal lock {} is still held by another owner after {:?}",
                        self.lock_key, self.lock_ttl
                    ),
                });
            }
            // A little jitter, so waiters do not knock in step.
            let jitter = Duration::from_millis(fastrand::u64(0..=pause.as_millis() as u64 / 4));
            tokio::time::sleep((pause + jitter).min(deadline - now)).await;
            pause = (pause * 2).min(MAX_BACKOFF);
        }
        tracing::trace!(lock = %self.lock_key, "renewal lock taken");
        // A login with its retries can outlast the TTL; while we hold the lock,
        // a watchdog extends it (only while we still own it), so a second
        // machine does not log in beside us. If this process dies, the lock
        // still expires after one TTL.
        let watchdog = {
            let conn = Arc::clone(&self.conn);
            let lock_key = self.lock_key.clone();
            let owner = owner.clone();
            let period = (self.lock_ttl / 3).max(Duration::from_millis(1));
            tokio::spawn(async move {
                let extend = redis::Script::new(
                    "if redis.call('get', KEYS[1]) == ARGV[1] then \
                     return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end",
                );
                loop {
                    tokio::time::sleep(period).await;
                    let Ok(mut c) = conn.get().await else {
                        continue;
                    };
                    let r: std::result::Result<i64, RedisError> = extend
                        .key(&lock_key)
                        .arg(&owner)
                        .arg(ttl_ms)
                        .invoke_async(&mut c)
                        .await;
                    conn.after(&r).await;
                    if matches!(r, Ok(0)) {
                        break; // no longer ours
                    }
                }
            })
        };
        let conn = Arc::clone(&self.conn);
        let lock_key = self.lock_key.clone();
        let store = self.describe();
        Ok(RenewalGuard::new(move || {
            watchdog.abort();
            Box::pin(async move { conn.release(&store, &lock_key, &owner).await })
        }))
    }
}

impl Connector {
    /// The connection, opened on first use (and again after it broke).
    async fn get(&self) -> std::result::Result<MultiplexedConnection, RedisError> {
        let mut slot = self.slot.lock().await;
        if let Some(conn) = slot.as_ref() {
            return Ok(conn.clone());
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Forgets a connection that broke, so the next call opens a new one.
    async fn after<T>(&self, result: &std::result::Result<T, RedisError>) {
        if let Err(e) = result {
            if e.is_io_error()
                || e.is_connection_dropped()
                || e.is_connection_refusal()
                || e.is_timeout()
                || e.is_unrecoverable_error()
            {
                *self.slot.lock().await = None;
            }
        }
    }

    /// An error message naming the URL without its password.
    fn reason(&self, what: &str, e: &RedisError) -> String {
        let detail = scrub(
            &e.to_string(),
            &self.url,
            &self.redacted,
            self.password.as_deref().map(String::as_str),
        );
        if what == "connecting" {
            format!("cannot connect to {}: {detail}", self.redacted)
        } else {
            format!("{what} on {} failed: {detail}", self.redacted)
        }
    }

    async fn release(&self, store: &str, lock_key: &str, owner: &str) {
        let result = match self.get().await {
            Ok(mut conn) => {
                let r: std::result::Result<i64, RedisError> = self
                    .release
                    .key(lock_key)
                    .arg(owner)
                    .invoke_async(&mut conn)
                    .await;
                self.after(&r).await;
                r
            }
            Err(e) => Err(e),
        };
        match result {
            Ok(1) => tracing::trace!(lock = %lock_key, "renewal lock released"),
            Ok(_) => tracing::warn!(
                store,
                lock = %lock_key,
                "the renewal lock had expired before it was released (the renewal took longer than its TTL)"
            ),
            Err(e) => tracing::warn!(
                store,
                lock = %lock_key,
                error = %self.reason("releasing the renewal lock", &e),
                "could not release the renewal lock; it expires by itself"
            ),
        }
    }
}

/// Removes the URL and the password from a message from redis-rs.
fn scrub(message: &str, url: &str, redacted: &str, password: Option<&str>) -> String {
    let mut m = message.replace(url, redacted);
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        m = m.replace(p, "***");
    }
    m
}

impl TokenStore for RedisStore {
    fn describe(&self) -> String {
        format!("{} key {}", self.conn.redacted, self.key)
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<TokenData>>> {
        Box::pin(self.load_async())
    }

    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.save_async(token))
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.clear_async())
    }

    fn lock(&self) -> BoxFuture<'_, Result<RenewalGuard>> {
        Box::pin(self.lock_async())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_differ_by_url_and_user() {
        let a = RedisStore::key_for("http://127.0.0.1:1/api/", "u");
        assert_eq!(a, RedisStore::key_for("http://127.0.0.1:1/api", "u"));
        assert_ne!(a, RedisStore::key_for("http://127.0.0.1:2/api/", "u"));
        assert_ne!(a, RedisStore::key_for("http://127.0.0.1:1/api/", "v"));
        // The separator keeps ("ab", "c") and ("a", "bc") apart.
        assert_ne!(
            RedisStore::key_for("ab", "c"),
            RedisStore::key_for("a", "bc")
        );
    }

    #[test]
    fn debug_and_describe_hide_the_password() {
        let s = RedisStore::new("redis://user:hunter2@127.0.0.1:6379/0", "k").unwrap();
        let shown = format!("{s:?} {}", s.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("127.0.0.1:6379"), "{shown}");
        assert_eq!(s.lock_key(), "k:lock");
    }

    #[test]
    fn tls_urls_are_refused_with_a_reason() {
        let e = RedisStore::new("rediss://:pw@127.0.0.1:1/", "k").unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("TLS"), "{msg}");
        assert!(msg.contains("rediss://:***@127.0.0.1:1/"), "{msg}");
        assert!(!msg.contains(":pw@"), "{msg}");
    }

    #[test]
    fn scrub_masks_url_and_password() {
        let m = scrub(
            "failed redis://:pw1234@h/ with pw1234",
            "redis://:pw1234@h/",
            "redis://:***@h/",
            Some("pw1234"),
        );
        assert_eq!(m, "failed redis://:***@h/ with ***");
    }
}
