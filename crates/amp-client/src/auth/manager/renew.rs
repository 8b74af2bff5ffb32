//! One renewal, run by the flight's task: take the store's renewal lock,
//! look in the store (another process may have renewed already), make the
//! call the policy names, install the result and store it.
//!
//! The renewal has a deadline up to the install; every store operation is
//! bounded (`store_timeout`; the lock by half the renewal's deadline), and
//! its failure only degrades the renewal: without
//! the lock processes may log in twice, without the store the token lives in
//! memory. An outage is reported once ([`Inner::note_store`]).

use std::sync::atomic::Ordering;
use std::sync::Arc;

use crate::auth::endpoints;
use crate::auth::manager::flight::Outcome;
use crate::auth::manager::state::Source;
use crate::auth::manager::{AccessToken, Inner, Renewal};
use crate::auth::policy::{self, Call, Want};
use crate::auth::store::RenewalGuard;
use crate::auth::token::TokenData;
use crate::error::{Error, Result};

/// What is left of a renewal once its outcome is known.
#[derive(Default)]
pub(super) struct Finish {
    /// The store's renewal lock, to release.
    guard: Option<RenewalGuard>,
    /// The token installed, to store.
    store: Option<AccessToken>,
}

/// How a renewal's part within the deadline ended.
enum Installed {
    /// This token is in place (to be stored).
    Token(AccessToken, Renewal),
    /// No token was installed.
    Nothing(Outcome),
}

impl Inner {
    /// One renewal for `want`, begun under `epoch`, up to the install,
    /// within the renewal's deadline (the caller's wait limit). What is
    /// left — store the token, release the store's lock — is returned for
    /// [`finish`](Self::finish), bounded on its own: a slow store cannot
    /// turn a renewal that worked into a failure.
    pub(super) async fn renew(self: &Arc<Self>, want: Want, epoch: u64) -> (Outcome, Finish) {
        let deadline = self.wait_timeout;
        let until_installed = async {
            let guard = self.renewal_lock().await;
            (guard, self.renew_locked(want, epoch).await)
        };
        // On the deadline the future is dropped, and with it the renewal
        // lock's guard, which releases the lock in the background.
        let Ok((guard, installed)) = tokio::time::timeout(deadline, until_installed).await else {
            let timeout = Error::Timeout {
                operation: "token renewal".to_string(),
                timeout: deadline,
            };
            return (Outcome::Failed(timeout), Finish::default());
        };
        match installed {
            Installed::Token(token, how) => {
                let outcome = Outcome::Renewed {
                    generation: token.generation(),
                    how,
                };
                // A token taken from the store is there already.
                let store = (how != Renewal::FromStore).then_some(token);
                (outcome, Finish { guard, store })
            }
            Installed::Nothing(outcome) => (outcome, Finish { guard, store: None }),
        }
    }

    /// What a renewal leaves to do after the install.
    pub(super) async fn finish(&self, finish: Finish, epoch: u64) {
        if let Some(token) = finish.store {
            self.store_renewed(&token, epoch).await;
        }
        if let Some(guard) = finish.guard {
            if tokio::time::timeout(self.store_timeout, guard.release())
                .await
                .is_err()
            {
                tracing::warn!(store = %self.store.describe(), "releasing the renewal lock timed out");
            }
        }
    }

    /// Writes a renewal's token to the store, unless a `clear()` or
    /// `set_token()` came since the renewal began (they take `store_io`
    /// too, so neither can slip in between the check and the write), or the
    /// token is no longer the current one (revoked, or renewed again since).
    async fn store_renewed(&self, token: &AccessToken, epoch: u64) {
        let _io = self.store_io.lock().await;
        if self.state.epoch() != epoch || self.state.generation() != token.generation() {
            return;
        }
        let saved = self.bounded("save", self.store.save(token.data())).await;
        self.note_store(&saved);
    }

    /// The store's renewal lock, so that processes sharing the store renew
    /// once between them; `None` (renew without it) when it cannot be had.
    async fn renewal_lock(&self) -> Option<RenewalGuard> {
        let limit = self.wait_timeout / 2;
        match tokio::time::timeout(limit, self.store.lock()).await {
            Ok(Ok(guard)) => Some(guard),
            Ok(Err(e)) => {
                tracing::warn!(store = %self.store.describe(), error = %e, "renewal lock unavailable; renewing without it");
                None
            }
            Err(_) => {
                tracing::warn!(store = %self.store.describe(), wait = %crate::error::human(limit), "renewal lock not won in time; renewing without it");
                None
            }
        }
    }

    async fn renew_locked(self: &Arc<Self>, want: Want, epoch: u64) -> Installed {
        // Another client or process sharing the store may have renewed
        // already. A store that fails is only reported (once).
        let _ = self.adopt_from_store(Some(epoch), false).await;
        if self.state.epoch() != epoch {
            // A clear() or set_token() came before the call was made: its
            // result would be dropped anyway.
            return Installed::Nothing(Outcome::Superseded);
        }
        let now = self.clock.now();
        let current = self.secrets.current().load_full();
        let call = policy::renewal(
            now.timestamp_micros(),
            want,
            current.as_ref().map(|c| &c.points),
            self.refresh_stalled.load(Ordering::Acquire),
        );
        let (token, source, how) = match (call, current) {
            // Fresh already: taken from the store (the epoch was checked
            // above, with no await since).
            (Call::Nothing, Some(current)) => {
                return Installed::Token(AccessToken::owned(current), Renewal::FromStore);
            }
            (Call::Nothing, _) => return Installed::Nothing(Outcome::Superseded),
            (Call::Refresh, Some(current)) => {
                let refreshed = endpoints::refresh(&self.transport, &current.token, &*self.clock)
                    .await
                    .and_then(|new| {
                        if self.state.is_retired(&new) {
                            Err(Error::decode(
                                "refresh",
                                "the server handed back a token that was cleared or rejected",
                            ))
                        } else {
                            Ok(new)
                        }
                    });
                match refreshed {
                    Ok(new) => {
                        self.counters.refreshes.bump();
                        let stalled = policy::refresh_stalled(
                            current.points.expires_at,
                            new.expires_at.timestamp_micros(),
                        );
                        self.refresh_stalled.store(stalled, Ordering::Release);
                        if stalled {
                            tracing::warn!(
                                "the refresh did not move the expiry forward; the next renewal logs in"
                            );
                        }
                        tracing::debug!(fingerprint = %new.fingerprint(), "token refreshed");
                        (new, Source::Refreshed, Renewal::Refreshed)
                    }
                    Err(e) => {
                        self.counters.fallbacks.bump();
                        tracing::debug!(error = %e, "refresh failed; logging in instead");
                        match self.obtain().await {
                            Ok(new) => (new, Source::Obtained, Renewal::ObtainedAfterFailedRefresh),
                            Err(e) => return Installed::Nothing(Outcome::Failed(e)),
                        }
                    }
                }
            }
            (Call::Refresh | Call::Obtain, _) => match self.obtain().await {
                Ok(new) => (new, Source::Obtained, Renewal::Obtained),
                Err(e) => return Installed::Nothing(Outcome::Failed(e)),
            },
        };
        self.install(token.for_account(self.account.clone()), source, how, epoch)
    }

    /// Installs a renewal's token, unless a `clear()` or `set_token()` came
    /// since the renewal began, or it is retired.
    fn install(&self, token: TokenData, source: Source, how: Renewal, epoch: u64) -> Installed {
        match self.state.install(token, source, epoch, self.jitter()) {
            Some(token) => {
                crate::stats::token_expires_in(Some(
                    token.expires_in_seconds(self.clock.now_micros()),
                ));
                Installed::Token(token, how)
            }
            None => Installed::Nothing(Outcome::Superseded),
        }
    }

    /// Logs in with the credentials.
    async fn obtain(&self) -> Result<TokenData> {
        let credentials = self.secrets.credentials();
        let data = endpoints::obtain(&self.transport, credentials.as_deref(), &*self.clock)
            .await
            .map_err(|e| match e {
                e @ Error::Config { .. } | e @ Error::InsecureTransport { .. } => e,
                e => Error::Auth {
                    source: Box::new(e),
                },
            })?;
        self.counters.obtains.bump();
        self.refresh_stalled.store(false, Ordering::Release);
        tracing::debug!(fingerprint = %data.fingerprint(), expires_at = %data.expires_at, "token obtained");
        Ok(data)
    }

    /// Reads the store and takes its token if the policy says so (see
    /// `State::adopt`). A stored token that cannot be used is set aside
    /// (cleared from the store, with a warning) instead. Returns whether a
    /// token was taken.
    pub(super) async fn adopt_from_store(
        &self,
        epoch: Option<u64>,
        even_expired: bool,
    ) -> Result<bool> {
        let _io = self.store_io.lock().await;
        let loaded = self.bounded("load", self.store.load()).await;
        self.note_store(&loaded);
        let Some(stored) = loaded? else {
            return Ok(false);
        };
        let now = self.clock.now();
        if let Some(problem) = stored.problem(now) {
            tracing::warn!(store = %self.store.describe(), problem, "the stored token cannot be used; setting it aside");
            let cleared = self.bounded("clear", self.store.clear()).await;
            self.note_store(&cleared);
            return Ok(false);
        }
        if !self.accepts(stored.account.as_deref()) {
            // Another account's token (a base URL or user changed under a
            // shared file), or one that names none (written before tokens
            // were bound): never sent anywhere. The next login replaces it.
            tracing::warn!(
                store = %self.store.describe(),
                stored_for = stored.account.as_deref().unwrap_or("no recorded account"),
                account = %self.account,
                "the stored token is not this account's; not using it"
            );
            return Ok(false);
        }
        let adopted = self.state.adopt(
            stored,
            epoch,
            now.timestamp_micros(),
            even_expired,
            self.jitter(),
        );
        if adopted.is_some() {
            self.counters.store_adoptions.bump();
            self.refresh_stalled.store(false, Ordering::Release);
            tracing::debug!(store = %self.store.describe(), "took a newer token from the store");
        }
        Ok(adopted.is_some())
    }
}
