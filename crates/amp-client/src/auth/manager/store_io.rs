//! The manager's side of its store: every store operation under
//! `store_io` and its timeout, the write of the state to the store, the
//! adoption of a stored token, and which account's tokens may be used.

use std::future::Future;
use std::sync::atomic::Ordering;

use super::Inner;
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

    /// Runs a store operation under `store_io`, the wait for it included in
    /// the store timeout, and reports an outage once (and its end once)
    /// instead of on every call.
    pub(super) async fn store_op<T>(
        &self,
        what: &str,
        op: impl Future<Output = Result<T>>,
    ) -> Result<T> {
        let run = async {
            let _io = self.store_io.lock().await;
            op.await
        };
        let result = tokio::time::timeout(self.store_timeout, run)
            .await
            .unwrap_or_else(|_| {
                let took = crate::error::human(self.store_timeout);
                Err(Error::Store {
                    store: self.store.describe(),
                    reason: format!("{what} timed out after {took}"),
                })
            });
        match &result {
            Ok(_) if !self.store_up.swap(true, Ordering::AcqRel) => {
                tracing::info!(store = %self.store.describe(), "token store answers again");
            }
            Err(e) if self.store_up.swap(false, Ordering::AcqRel) => {
                tracing::warn!(store = %self.store.describe(), error = %e, "token store unavailable; working from memory until it answers");
            }
            Err(e) => {
                tracing::debug!(store = %self.store.describe(), error = %e, "token store still unavailable")
            }
            Ok(_) => {}
        }
        result
    }

    /// Makes the store hold what the state holds, if the state is still at
    /// `generation` when the store is free (a later change writes its own).
    pub(super) async fn sync_store(&self, generation: u64) -> Result<()> {
        self.store_op("save", async {
            let token = {
                let st = self.shared.lock();
                if st.generation != generation {
                    return Ok(());
                }
                st.token.clone()
            };
            match token {
                Some(token) => self.store.save(&token).await,
                None => self.store.clear().await,
            }
        })
        .await
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
        let Some(stored) = self.store_op("load", self.store.load()).await? else {
            return Ok(None);
        };
        let now = self.shared.clock.now();
        if let Some(problem) = stored.problem(now) {
            tracing::warn!(store = %self.store.describe(), problem, "the stored token cannot be used; setting it aside");
            let _ = self.store_op("discard", self.store.discard(&stored)).await;
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
        let adopted = self
            .shared
            .adopt(stored, generation, now.timestamp_micros(), even_expired);
        if adopted.is_some() {
            self.counters.store_adoptions.bump();
            tracing::debug!(store = %self.store.describe(), "took a newer token from the store");
        }
        Ok(adopted)
    }
}
