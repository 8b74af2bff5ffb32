//! [`MemoryStore`]: tokens kept in this process.

use std::sync::{Arc, Mutex};

use super::{BoxFuture, TokenStore};
use crate::auth::lock;
use crate::auth::token::TokenData;
use crate::error::Result;

/// Keeps the token in memory. Clones share the token, so clients built with
/// clones of one `MemoryStore` share one login.
///
/// ```
/// use amp_client::{MemoryStore, TokenStore, TokenData};
/// # tokio_test();
/// # fn tokio_test() {
/// let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
/// rt.block_on(async {
///     let store = MemoryStore::new();
///     let now = chrono::Utc::now();
///     store.save(&TokenData::new("abc", now, now + chrono::Duration::hours(24))).await.unwrap();
///     assert!(store.clone().load().await.unwrap().is_some());
/// });
/// # }
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    cell: Arc<Mutex<Option<TokenData>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl TokenStore for MemoryStore {
    fn describe(&self) -> String {
        "memory".to_string()
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<TokenData>>> {
        let token = lock(&self.cell).clone();
        Box::pin(async move { Ok(token) })
    }

    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        *lock(&self.cell) = Some(token.clone());
        Box::pin(async { Ok(()) })
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        *lock(&self.cell) = None;
        Box::pin(async { Ok(()) })
    }

    fn discard<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        let mut cell = lock(&self.cell);
        if cell.as_ref().is_some_and(|t| t.same_token(token)) {
            *cell = None;
        }
        Box::pin(async { Ok(()) })
    }
}
