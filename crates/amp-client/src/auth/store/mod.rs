//! Where tokens are kept: [`TokenStore`] and its implementations.
//!
//! The [`TokenManager`](crate::TokenManager) loads from its store before every
//! renewal (another process may have renewed already) and writes each new
//! token through. A store shared by processes or machines also provides a
//! renewal lock, so that they log in once between them.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use std::sync::Arc;

use crate::auth::token::TokenData;
use crate::config::{vars, Config, StoreSpec};
use crate::error::{Error, Result};

mod file;
mod memory;
#[cfg(feature = "redis")]
mod redis;

pub use file::FileStore;
pub use memory::MemoryStore;
#[cfg(feature = "redis")]
pub use redis::RedisStore;

/// Opens the store `spec` names: a [`MemoryStore`], a [`FileStore`] on the
/// path, or a `RedisStore` (cargo feature `redis`) on the URL, keyed by
/// `config`'s base URL and username (see `RedisStore::key_for`), trusting for
/// `rediss://` the CA file of `config`, if any (`AMP_REDIS_CA_FILE`).
///
/// Nothing is created or connected here: that happens on first use; only a
/// CA file is read. A Redis URL this build cannot use (without the `redis`
/// feature) is a configuration error naming `AMP_TOKEN_STORE`; a CA file that
/// cannot be read, holds no certificate, or comes with a plain `redis://`
/// URL, one naming `AMP_REDIS_CA_FILE`.
pub fn open(spec: &StoreSpec, config: &Config) -> Result<Arc<dyn TokenStore>> {
    match spec {
        StoreSpec::Memory => Ok(Arc::new(MemoryStore::new())),
        StoreSpec::File(path) => Ok(Arc::new(FileStore::new(path.clone()))),
        #[cfg(feature = "redis")]
        StoreSpec::Redis(url) => {
            // What the store cannot use is a configuration error, named by
            // the variable at fault.
            let config_error = |name: &'static str| move |e: Error| e.store_as_config(name);
            let username = config.credentials().map_or("", |c| c.username());
            let key = RedisStore::key_for(config.base_url().as_str(), username);
            let mut store = RedisStore::new(url, key).map_err(config_error(vars::TOKEN_STORE))?;
            if let Some(ca_file) = config.redis_ca_file() {
                store = store
                    .ca_file(ca_file)
                    .map_err(config_error(vars::REDIS_CA_FILE))?;
            }
            Ok(Arc::new(store))
        }
        #[cfg(not(feature = "redis"))]
        StoreSpec::Redis(_) => {
            let _ = config;
            Err(Error::config(
                vars::TOKEN_STORE,
                format!(
                    "{spec} needs the `redis` feature of amp-client, which this build does not have"
                ),
            ))
        }
    }
}

/// A short, stable name for one account on one AMP instance: 16 hex
/// characters of SHA-256 over the base URL (without trailing slash) and the
/// username. Stores shared by several accounts key tokens by it (the Redis
/// key, the `amp` command's default file name). Not a secret: it only keeps
/// accounts apart.
///
/// ```
/// use amp_client::account_id;
/// let a = account_id("https://amp.blockstream.com/api/", "issuer");
/// assert_eq!(a.len(), 16);
/// assert_eq!(a, account_id("https://amp.blockstream.com/api", "issuer"));
/// assert_ne!(a, account_id("https://amp.blockstream.com/api", "other"));
/// ```
pub fn account_id(base_url: &str, username: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(base_url.trim_end_matches('/').as_bytes());
    // A NUL keeps ("ab", "c") and ("a", "bc") apart.
    hash.update([0u8]);
    hash.update(username.as_bytes());
    hash.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The account a token is bound to, as people read it:
/// `<username> at <API root>` (the root without its trailing slash). Stored
/// with the token ([`TokenData::account`]) and named in warnings; not a
/// secret. No two accounts share a name: an API root holds no space, so the
/// last ` at ` splits the two.
///
/// ```
/// use amp_client::account_name;
/// assert_eq!(
///     account_name("https://amp.blockstream.com/api/", "issuer"),
///     "issuer at https://amp.blockstream.com/api"
/// );
/// ```
pub fn account_name(base_url: &str, username: &str) -> String {
    format!("{username} at {}", base_url.trim_end_matches('/'))
}

/// A boxed future, as returned by [`TokenStore`] methods (the trait is used as
/// `dyn TokenStore`, which `async fn` in traits does not allow).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Somewhere a token can be kept: memory, a file, Redis.
///
/// Implementations must never log or put in an error the token they hold.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// A description for logs and errors, without secrets, e.g.
    /// `file:/home/me/.cache/amp/token.json`.
    fn describe(&self) -> String;

    /// The stored token, if there is a usable one. A stored form that cannot
    /// be read is set aside (with a warning) and reported as `None`.
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenData>>>;

    /// Stores `token`, replacing what was there.
    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>>;

    /// Forgets the stored token.
    fn clear(&self) -> BoxFuture<'_, Result<()>>;

    /// Forgets the stored token if it is `token` (the server rejected it),
    /// and leaves any other token in place (another process may have stored
    /// a newer one).
    ///
    /// The default loads, compares and clears: two steps, right only for a
    /// store no one else writes (the token manager runs its own store
    /// operations one at a time). A store shared by processes or machines
    /// must override it with one step, or a newer token stored between the
    /// two is deleted: [`FileStore`] does it under its file lock,
    /// `RedisStore` with a Lua script.
    fn discard<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            match self.load().await? {
                Some(stored) if stored.same_token(token) => self.clear().await,
                _ => Ok(()),
            }
        })
    }

    /// Takes the lock under which one renewal runs among all users of this store.
    /// The default is no lock, right for a store private to one process.
    fn lock(&self) -> BoxFuture<'_, Result<RenewalGuard>> {
        Box::pin(async { Ok(RenewalGuard::none()) })
    }
}

/// Held while a renewal runs; releases the store's lock when released or dropped.
pub struct RenewalGuard {
    release: Option<Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>>,
}

impl RenewalGuard {
    /// A guard that holds nothing.
    pub fn none() -> RenewalGuard {
        RenewalGuard { release: None }
    }

    /// A guard that runs `release` when released or dropped.
    pub fn new(release: impl FnOnce() -> BoxFuture<'static, ()> + Send + 'static) -> RenewalGuard {
        RenewalGuard {
            release: Some(Box::new(release)),
        }
    }

    /// Releases the lock and waits until it is released.
    pub async fn release(mut self) {
        if let Some(release) = self.release.take() {
            release().await;
        }
    }
}

impl Drop for RenewalGuard {
    fn drop(&mut self) {
        // Dropped without `release` (a cancelled or panicked renewal): release
        // in the background if a runtime is there to run it.
        if let Some(release) = self.release.take() {
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(release());
            }
        }
    }
}

impl fmt::Debug for RenewalGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenewalGuard")
            .field("held", &self.release.is_some())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(spec: &str) -> Config {
        Config::builder()
            .base_url("http://127.0.0.1:1/api")
            .credentials("u", "p")
            .token_store(spec.parse().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn open_picks_the_named_store() {
        let c = config("memory");
        assert_eq!(open(c.token_store(), &c).unwrap().describe(), "memory");
        let c = config("file:/tmp/amp-open-test/token.json");
        assert_eq!(
            open(c.token_store(), &c).unwrap().describe(),
            "file:/tmp/amp-open-test/token.json"
        );
        // Nothing is created before the first use.
        assert!(!std::path::Path::new("/tmp/amp-open-test/token.json").exists());
    }

    #[cfg(feature = "redis")]
    #[test]
    fn open_keys_redis_by_url_and_user_and_hides_the_password() {
        let key = RedisStore::key_for("http://127.0.0.1:1/api", "u");
        let c = config("redis://:hunter2@127.0.0.1:6379/0");
        let d = open(c.token_store(), &c).unwrap().describe();
        assert_eq!(d, format!("redis://:***@127.0.0.1:6379/0 key {key}"));
        let c = config("rediss://amp:hunter2@127.0.0.1:6379/0");
        let d = open(c.token_store(), &c).unwrap().describe();
        assert_eq!(d, format!("rediss://amp:***@127.0.0.1:6379/0 key {key}"));
        // A URL redis-rs refuses names the variable, without the password.
        let c = config("rediss://amp:hunter2@127.0.0.1:6379/0#insecure");
        let e = open(c.token_store(), &c).unwrap_err();
        let msg = e.to_string();
        assert!(e.is_config() && msg.contains(vars::TOKEN_STORE), "{msg}");
        assert!(!msg.contains("hunter2"), "{msg}");
    }

    #[cfg(feature = "redis")]
    #[test]
    fn a_bad_redis_ca_file_is_a_config_error_naming_the_variable() {
        let with_ca = |spec: &str, ca: &std::path::Path| {
            Config::builder()
                .base_url("http://127.0.0.1:1/api")
                .credentials("u", "p")
                .token_store(spec.parse().unwrap())
                .redis_ca_file(ca)
                .build()
                .unwrap()
        };
        let missing = std::env::temp_dir().join("amp-open-test-no-such-ca.pem");
        let no_cert =
            std::env::temp_dir().join(format!("amp-open-test-{}.pem", std::process::id()));
        std::fs::write(&no_cert, "not a certificate\n").unwrap();
        for (spec, ca, why) in [
            (
                "rediss://:hunter2@127.0.0.1:6379/0",
                &missing,
                "cannot read",
            ),
            (
                "rediss://:hunter2@127.0.0.1:6379/0",
                &no_cert,
                "no certificate",
            ),
            (
                "redis://:hunter2@127.0.0.1:6379/0",
                &no_cert,
                "only used with rediss://",
            ),
        ] {
            let c = with_ca(spec, ca);
            let e = open(c.token_store(), &c).unwrap_err();
            let msg = e.to_string();
            assert!(e.is_config() && msg.contains(vars::REDIS_CA_FILE), "{msg}");
            assert!(
                msg.contains(why) && msg.contains(&ca.display().to_string()),
                "{msg}"
            );
            assert!(!msg.contains("hunter2"), "{msg}");
        }
        // A FIFO in its place (nobody writes it) or a file too large to be
        // a CA bundle: refused at once, the client is not held.
        #[cfg(unix)]
        {
            let fifo =
                std::env::temp_dir().join(format!("amp-open-test-{}.fifo", std::process::id()));
            let _ = std::fs::remove_file(&fifo);
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            assert!(made.is_ok_and(|s| s.success()), "mkfifo");
            let big =
                std::env::temp_dir().join(format!("amp-open-test-{}-big.pem", std::process::id()));
            std::fs::write(&big, vec![b'x'; 2 * 1024 * 1024]).unwrap();
            for (ca, why) in [(&fifo, "not a regular file"), (&big, "larger than 1 MiB")] {
                let c = with_ca("rediss://:hunter2@127.0.0.1:6379/0", ca);
                let msg = open(c.token_store(), &c).unwrap_err().to_string();
                assert!(
                    msg.contains(vars::REDIS_CA_FILE) && msg.contains(why),
                    "{msg}"
                );
            }
            let _ = std::fs::remove_file(fifo);
            let _ = std::fs::remove_file(big);
        }
        // Without a Redis store, the CA file is not read.
        let c = with_ca("memory", &missing);
        assert_eq!(open(c.token_store(), &c).unwrap().describe(), "memory");
        let _ = std::fs::remove_file(no_cert);
    }

    #[cfg(not(feature = "redis"))]
    #[test]
    fn redis_without_the_feature_is_a_config_error() {
        let c = config("redis://:hunter2@127.0.0.1:6379/0");
        let e = open(c.token_store(), &c).unwrap_err();
        let msg = e.to_string();
        assert!(e.is_config(), "{msg}");
        assert!(
            msg.contains(vars::TOKEN_STORE) && msg.contains("`redis` feature"),
            "{msg}"
        );
        assert!(!msg.contains("hunter2"), "{msg}");
    }
}
