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

mod memory;

pub use memory::MemoryStore;

/// Opens the store `spec` names. `config` gives what identifies the token
/// (base URL and username), for stores shared by several accounts.
pub fn open(spec: &StoreSpec, config: &Config) -> Result<Arc<dyn TokenStore>> {
    let _ = config;
    match spec {
        StoreSpec::Memory => Ok(Arc::new(MemoryStore::new())),
        other => Err(Error::config(
            vars::TOKEN_STORE,
            format!("{other} is not supported yet"),
        )),
    }
}

/// A boxed future, as returned by [`TokenStore`] methods (the trait is used as
/// `dyn TokenStore`, which `async fn` in traits does not allow).
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Somewhere a token can be kept: memory, a file, Redis.
///
/// Implementations must never log or put in an error the token they hold.
pub trait TokenStore: Send + Sync + fmt::Debug {
    /// A description for logs and errors, without secrets, e.g. `file:/tmp/t.json`.
    fn describe(&self) -> String;

    /// The stored token, if there is a usable one. A stored form that cannot
    /// be read is set aside (with a warning) and reported as `None`.
    fn load(&self) -> BoxFuture<'_, Result<Option<TokenData>>>;

    /// Stores `token`, replacing what was there.
    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>>;

    /// Forgets the stored token.
    fn clear(&self) -> BoxFuture<'_, Result<()>>;

    /// Takes the lock under which one renewal runs among all users of this store.
    /// The default is no lock, right for a store private to one process.
    fn lock(&self) -> BoxFuture<'_, Result<RenewalGuard>> {
        Box::pin(async { Ok(RenewalGuard::none()) })
    }
}

type Release = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// Held while a renewal runs; releases the store's lock when released or dropped.
pub struct RenewalGuard {
    release: Option<Release>,
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
