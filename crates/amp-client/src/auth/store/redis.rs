//! [`RedisStore`]: one token shared by many machines through a Redis server
//! (cargo feature `redis`).

use std::fmt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::ExposeSecret;
use zeroize::Zeroizing;

use super::file::{decode, encode};
use super::{BoxFuture, RenewalGuard, TokenStore};
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

mod connection;

use connection::Connector;

/// How long the renewal lock lives if its owner never releases it.
const DEFAULT_LOCK_TTL: Duration = Duration::from_secs(30);
/// Waiting for the lock: first pause, longest pause.
const FIRST_BACKOFF: Duration = Duration::from_millis(20);
const MAX_BACKOFF: Duration = Duration::from_millis(500);
/// The longest one operation may take, connecting included. Redis answers in
/// well under a millisecond; a server that has not answered in this long is
/// treated as gone, so that a renewal never hangs on it.
const DEFAULT_OPERATION_TIMEOUT: Duration = Duration::from_secs(3);
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

/// Deletes the token only if the stored form holds the rejected token
/// (`ARGV[1]`): the compare and the delete in one step on the server, so a
/// newer token another machine stores meanwhile is never deleted. A value
/// that is not a stored form is left for the next save to overwrite.
const DISCARD_SCRIPT: &str = r#"
local value = redis.call("GET", KEYS[1])
if not value then
    return 0
end
local ok, form = pcall(cjson.decode, value)
if ok and type(form) == "table" and form.token == ARGV[1] then
    return redis.call("DEL", KEYS[1])
end
return 0
"#;

/// Extends the lock only while it still holds the owner's value.
const EXTEND_SCRIPT: &str = r#"
if redis.call("GET", KEYS[1]) == ARGV[1] then
    return redis.call("PEXPIRE", KEYS[1], ARGV[2])
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
/// * **Discarding a rejected token** ([`discard`](TokenStore::discard)) is
///   one Lua script: the key is deleted only if it still holds that token,
///   so a newer token another machine stored is never deleted.
/// * **Connection**: one multiplexed connection, opened on first use and
///   opened again, by the next operation, after it breaks: when the server
///   comes back, sharing resumes by itself. Every operation, connecting
///   included, has a time limit ([`RedisStore::operation_timeout`], 3 s by
///   default), so a server that is gone or hangs makes operations fail in
///   bounded time, never hang. Failing operations are errors ([`Error::is_store`])
///   naming the URL with its password masked; the store logs one warning when
///   it loses the server (not one per operation) and one message when it is
///   back.
/// * **TLS**: `rediss://` URLs connect with TLS (rustls, no OpenSSL) and
///   check the server's certificate against Mozilla's roots (the same as the
///   AMP API's HTTPS connections, and the same on every machine, container
///   images without a CA folder included), plus the certificates of a PEM
///   file given to [`RedisStore::ca_file`] (`AMP_REDIS_CA_FILE`) for a
///   private CA. Certificate checks cannot be turned off.
/// * **ACL**: `redis[s]://user:password@host/` authenticates as `user`; the
///   password never appears in [`describe`](TokenStore::describe), `Debug`,
///   errors or logs.
/// * A stored value that does not parse is reported (with a warning, never
///   its contents) as no token; the next saved token overwrites it.
///
/// ```no_run
/// # async fn demo() -> amp_client::Result<()> {
/// use amp_client::{AmpClient, Config, RedisStore};
/// use std::sync::Arc;
/// let config = Config::from_env()?;
/// let key = RedisStore::key_for(config.base_url().as_str(), "issuer");
/// let store = RedisStore::new("rediss://amp:secret@cache.example.com:6380/0", key)?
///     .ca_file("/etc/amp/redis-ca.pem")?;
/// let client = AmpClient::builder(config).store(Arc::new(store)).build()?;
/// # Ok(()) }
/// ```
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
#[derive(Clone)]
pub struct RedisStore {
    conn: Arc<Connector>,
    key: String,
    lock_key: String,
    lock_ttl: Duration,
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &self.conn.redacted)
            .field("key", &self.key)
            .field("lock_ttl", &self.lock_ttl)
            .field("operation_timeout", &self.conn.timeout)
            .finish_non_exhaustive()
    }
}

impl RedisStore {
    /// A store keeping the token under `key` on the Redis server at `url`
    /// (`redis://[user:password@]host[:port][/db]`, or `rediss://…` for TLS).
    /// Nothing is connected before the first use; an error here means the URL
    /// is not usable.
    pub fn new(url: &str, key: impl Into<String>) -> Result<RedisStore> {
        let key = key.into();
        let conn = Connector::new(url, None, DEFAULT_OPERATION_TIMEOUT)
            .map_err(|reason| store_error(url, &key, reason))?;
        Ok(RedisStore {
            conn: Arc::new(conn),
            lock_key: format!("{key}:lock"),
            key,
            lock_ttl: DEFAULT_LOCK_TTL,
        })
    }

    /// Trusts, for this `rediss://` store, the CA certificates of the PEM
    /// file at `path` besides Mozilla's roots: for a server whose certificate
    /// a private CA signed. The file is read now. An error if it cannot be
    /// read, holds no certificate, or the URL is plain `redis://`. A second
    /// call replaces the file of the first.
    ///
    /// ```no_run
    /// # fn demo() -> amp_client::Result<()> {
    /// let store = amp_client::RedisStore::new("rediss://redis.internal:6380/", "amp:token:x")?
    ///     .ca_file("/etc/ssl/private-ca.pem")?;
    /// # Ok(()) }
    /// ```
    pub fn ca_file(self, path: impl AsRef<Path>) -> Result<RedisStore> {
        let conn = self
            .conn
            .with_ca_file(path.as_ref())
            .map_err(|reason| self.error(reason))?;
        Ok(RedisStore {
            conn: Arc::new(conn),
            ..self
        })
    }

    /// The longest one operation may take, connecting included (3 s by
    /// default); past it the operation fails and the connection is opened
    /// again by the next one.
    pub fn operation_timeout(self, timeout: Duration) -> RedisStore {
        // The connection is opened on first use, so nothing is lost by
        // starting from a new connector (a store not used yet has none).
        let timeout = timeout.max(Duration::from_millis(1));
        let rebuilt = self.conn.with_timeout(timeout);
        RedisStore {
            conn: Arc::new(rebuilt),
            ..self
        }
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
        // Bounded: the lock's deadline is computed from it, and a lock that
        // outlives a day is a typo (a dead holder would block for that long).
        self.lock_ttl = ttl.clamp(Duration::from_millis(1), Duration::from_secs(24 * 3600));
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

    fn error(&self, reason: String) -> Error {
        Error::store(self.describe(), reason)
    }

    /// Runs `cmd` on the shared connection, opening it if needed.
    async fn query<T: redis::FromRedisValue>(&self, what: &str, cmd: &redis::Cmd) -> Result<T> {
        self.conn
            .run(
                what,
                |mut conn| async move { cmd.query_async(&mut conn).await },
            )
            .await
            .map_err(|reason| self.error(reason))
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

    async fn discard_async(&self, token: &TokenData) -> Result<()> {
        let script = redis::Script::new(DISCARD_SCRIPT);
        let mut invocation = script.key(&self.key);
        // The token goes to the server as it does in every SET; a copy of it
        // stays in redis-rs's command buffer, as there.
        invocation.arg(token.token().expose_secret());
        let deleted: i64 = self
            .conn
            .run("discarding the rejected token", |mut c| async move {
                invocation.invoke_async::<i64>(&mut c).await
            })
            .await
            .map_err(|reason| self.error(reason))?;
        if deleted == 1 {
            tracing::debug!(store = %self.describe(), "the rejected token was removed from the store");
        }
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
                return Err(self.error(format!(
                    "the renewal lock {} is still held by another owner after {:?}",
                    self.lock_key, self.lock_ttl
                )));
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
                let extend = redis::Script::new(EXTEND_SCRIPT);
                loop {
                    tokio::time::sleep(period).await;
                    let mut invocation = extend.key(&lock_key);
                    invocation.arg(&owner).arg(ttl_ms);
                    let extended = conn
                        .run("extending the renewal lock", |mut c| async move {
                            invocation.invoke_async::<i64>(&mut c).await
                        })
                        .await;
                    // Not ours any more; a failure is tried again next period.
                    if matches!(extended, Ok(0)) {
                        break;
                    }
                }
            })
        };
        let conn = Arc::clone(&self.conn);
        let lock_key = self.lock_key.clone();
        let store = self.describe();
        Ok(RenewalGuard::new(move || {
            watchdog.abort();
            Box::pin(async move { release(&conn, &store, &lock_key, &owner).await })
        }))
    }
}

/// Deletes the renewal lock if `owner` still holds it.
async fn release(conn: &Connector, store: &str, lock_key: &str, owner: &str) {
    let script = redis::Script::new(RELEASE_SCRIPT);
    let mut invocation = script.key(lock_key);
    invocation.arg(owner);
    let result = conn
        .run("releasing the renewal lock", |mut c| async move {
            invocation.invoke_async::<i64>(&mut c).await
        })
        .await;
    match result {
        Ok(1) => tracing::trace!(lock = %lock_key, "renewal lock released"),
        Ok(_) => tracing::warn!(
            store,
            lock = %lock_key,
            "the renewal lock had expired before it was released (the renewal took longer than its TTL)"
        ),
        Err(error) => tracing::warn!(
            store,
            lock = %lock_key,
            error,
            "could not release the renewal lock; it expires by itself"
        ),
    }
}

/// An error about a store that could not be made, naming it without secrets.
fn store_error(url: &str, key: &str, reason: String) -> Error {
    Error::store(
        format!("{} key {key}", crate::config::redact_url(url)),
        reason,
    )
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

    fn discard<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.discard_async(token))
    }

    fn lock(&self) -> BoxFuture<'_, Result<RenewalGuard>> {
        Box::pin(self.lock_async())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // A lock that would outlive a day is a typo: bounded, so the lock's
    // deadline (now + ttl) cannot overflow (Duration::MAX panicked there).
    #[test]
    fn the_lock_ttl_is_bounded() {
        let store = RedisStore::new("redis://127.0.0.1:1/", "k".to_string()).unwrap();
        assert_eq!(
            store.clone().lock_ttl(Duration::MAX).lock_ttl,
            Duration::from_secs(24 * 3600)
        );
        assert_eq!(
            store.lock_ttl(Duration::ZERO).lock_ttl,
            Duration::from_millis(1)
        );
    }

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
    fn tls_urls_are_accepted_and_hide_the_password() {
        let s = RedisStore::new("rediss://amp:pw-s3cret@127.0.0.1:1/0", "k").unwrap();
        let shown = format!("{s:?} {}", s.describe());
        assert!(shown.contains("rediss://amp:***@127.0.0.1:1/0"), "{shown}");
        assert!(!shown.contains("pw-s3cret"), "{shown}");
    }

    #[test]
    fn settings_survive_each_other() {
        let s = RedisStore::new("redis://127.0.0.1:1/", "k")
            .unwrap()
            .lock_ttl(Duration::from_secs(7))
            .operation_timeout(Duration::from_millis(250));
        assert_eq!(s.lock_ttl, Duration::from_secs(7));
        assert_eq!(s.conn.timeout, Duration::from_millis(250));
        assert_eq!(s.key(), "k");
    }
}
