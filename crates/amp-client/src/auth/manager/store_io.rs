//! The manager's side of its store: every store operation in a task of its
//! own under `store_io`, the write of the state to the store, the adoption
//! of a stored token, and which account's tokens may be used.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use super::renew::spawned;
use super::Inner;
use crate::auth::store::{BoxFuture, TokenStore};
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

impl Inner {
    /// True when a token bound to `account` may be used here: this
    /// manager's account, or, for a manager without credentials (which
    /// logs in as nobody), any user's at the same API root. A token bound
    /// to no account could be anyone's: never.
    pub(super) fn accepts(&self, account: Option<&str>) -> bool {
        match account {
            // `self.account` is " at <root>" then; a root holds no space.
            Some(a) if self.shared.credentials().is_none() => a.ends_with(&self.account),
            Some(a) => a == self.account,
            None => false,
        }
    }

    /// Runs a store operation in a task of its own, under `store_io`, and
    /// waits for it at most the store timeout; reports an outage once (and
    /// its end once) instead of on every call.
    ///
    /// The task holds `store_io` until the operation ends, even when its
    /// caller gave up waiting or was cancelled: store operations land in
    /// the order they were asked for (a write given up on cannot land after
    /// a later clear), and none is lost with its caller (a `clear()`
    /// cancelled still clears the store). A store that panics or hangs
    /// costs this manager its store, never a renewal: it works from memory.
    pub(super) async fn store_op<T: Send + 'static>(
        &self,
        what: &str,
        op: impl for<'a> FnOnce(&'a dyn TokenStore) -> BoxFuture<'a, Result<T>> + Send + 'static,
    ) -> Result<T> {
        let (store, io) = (Arc::clone(&self.store), Arc::clone(&self.store_io));
        let describe = || self.store.describe();
        let task = async move {
            let _io = io.lock().await;
            op(&*store).await
        };
        let result = spawned(self.store_timeout, task)
            .await
            .unwrap_or_else(|why| Err(Error::store(describe(), format!("{what}: {why}"))));
        let kind = if what == "load" { 1 } else { 2 };
        let down = match &result {
            Ok(_) => self.store_down.fetch_and(!kind, Ordering::AcqRel),
            Err(_) => self.store_down.fetch_or(kind, Ordering::AcqRel),
        };
        match &result {
            Ok(_) if down == kind => {
                tracing::info!(store = %describe(), "token store answers again")
            }
            Ok(_) => {}
            Err(e) if down == 0 => {
                tracing::warn!(store = %describe(), error = %e, "token store unavailable; working from memory until it answers")
            }
            Err(e) => {
                tracing::debug!(store = %describe(), error = %e, "token store still unavailable")
            }
        }
        result
    }

    /// Makes the store hold what the state holds, if the state is still at
    /// `generation` when the store is free (a later change writes its own).
    pub(super) async fn sync_store(&self, generation: u64) -> Result<()> {
        let shared = Arc::clone(&self.shared);
        self.store_op("save", move |store| {
            Box::pin(async move {
                let token = {
                    let st = shared.lock();
                    (st.generation == generation).then(|| st.token.clone())
                };
                match token {
                    Some(Some(token)) => store.save(&token).await,
                    Some(None) => store.clear().await,
                    None => Ok(()),
                }
            })
        })
        .await
    }

    /// Takes `token` (rejected by the server, or unusable) out of the store,
    /// if it is still the one there.
    pub(super) async fn discard(&self, token: TokenData) -> Result<()> {
        self.store_op("discard", move |store| {
            Box::pin(async move { store.discard(&token).await })
        })
        .await
    }

    /// Drops the token of `generation`, refused by the server, if it is
    /// still the current one, and takes it out of the store. The new
    /// generation if it did.
    pub(super) async fn invalidate(&self, generation: u64) -> Option<u64> {
        let (next, dropped) = self.shared.invalidate(generation)?;
        self.counters.reauths.bump();
        tracing::debug!(fingerprint = %dropped.fingerprint(), generation, "token rejected by the server; dropping it");
        // Discarded from the store in a task of its own (see `store_op`): a
        // caller cancelled while the store is slow does not leave the
        // rejected token there for other processes to adopt.
        let _ = self.discard(dropped).await;
        Some(next)
    }

    /// Reads the store and takes its token if the policy says so (see
    /// `Shared::adopt`), under `generation` if given. A stored token that
    /// cannot be used is set aside instead (discarded from the store, with
    /// a warning); another account's is left alone. Returns the generation
    /// of the token taken, if one was.
    pub(super) async fn adopt_from_store(
        &self,
        generation: Option<u64>,
        even_expired: bool,
    ) -> Result<Option<u64>> {
        let Some(stored) = self.store_op("load", |store| store.load()).await? else {
            return Ok(None);
        };
        let now = self.shared.clock.now();
        if let Some(problem) = stored.problem(now) {
            tracing::warn!(store = %self.store.describe(), problem, "the stored token cannot be used; setting it aside");
            let _ = self.discard(stored).await;
            return Ok(None);
        }
        if !self.accepts(stored.account.as_deref()) {
            // Another account's token (a base URL or user changed under a
            // shared file), or one that names none (written before tokens
            // were bound): never sent anywhere. The next login replaces it.
            let stored_for = stored.account.as_deref().unwrap_or("no recorded account");
            tracing::warn!(store = %self.store.describe(), stored_for, account = %self.account, "the stored token is not this account's; not using it");
            return Ok(None);
        }
        let adopted = self.shared.adopt(stored, generation, even_expired);
        if adopted.is_some() {
            self.counters.store_adoptions.bump();
            tracing::debug!(store = %self.store.describe(), "took a newer token from the store");
        }
        Ok(adopted)
    }
}
