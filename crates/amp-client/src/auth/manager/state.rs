//! The token cell, and every change of it.
//!
//! `cell` (`Arc<Mutex<Option<TokenData>>>`) is the source of truth. Every
//! change takes its lock and, before releasing it, moves the generation on
//! and publishes the snapshot the hot path reads ([`Secrets::current`]), so
//! a reader of the snapshot never sees a token the cell no longer holds.
//!
//! Two rules keep old tokens from coming back:
//! * the **epoch** moves on with `clear()` and `set_token()`: a renewal
//!   that began under an older epoch installs nothing;
//! * the **rejected** token (its SHA-256, not the token) is the last one the
//!   server refused: it is never installed again from the store or from a
//!   refresh. Only a login clears the mark (the server vouched for the key
//!   by handing it out).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use crate::auth::manager::{lock, AccessToken};
use crate::auth::policy;
use crate::auth::secrets::{Current, Secrets};
use crate::auth::token::TokenData;
use crate::config::TokenPolicy;

/// Where a token being installed comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Source {
    /// A login: clears the rejected mark.
    Obtained,
    /// A refresh: refused if it is the rejected token.
    Refreshed,
    /// The store: refused if rejected, expired (unless asked), or older.
    Stored,
    /// `set_token()` (see [`State::set`]).
    Set,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Obtained => "obtained",
            Source::Refreshed => "refreshed",
            Source::Stored => "store",
            Source::Set => "set",
        }
    }
}

pub(super) struct State {
    /// The token. Locked only to read or change it, never across an await.
    cell: Arc<Mutex<Option<TokenData>>>,
    /// Moves on with every change of the cell; written under its lock.
    generation: AtomicU64,
    /// Moves on with `clear()` and `set_token()`; written under the cell's lock.
    epoch: AtomicU64,
    /// SHA-256 of the token the server last rejected. Taken only while the
    /// cell's lock is held.
    rejected: Mutex<Option<[u8; 32]>>,
    /// Where the snapshot is published (under the cell's lock).
    secrets: Arc<Secrets>,
    policy: TokenPolicy,
}

impl State {
    pub fn new(secrets: Arc<Secrets>, policy: TokenPolicy) -> State {
        State {
            cell: Arc::new(Mutex::new(None)),
            generation: AtomicU64::new(0),
            epoch: AtomicU64::new(0),
            rejected: Mutex::new(None),
            secrets,
            policy,
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A copy of the token in the cell (sharing its secret).
    pub fn token(&self) -> Option<TokenData> {
        lock(&self.cell).clone()
    }

    /// Installs a renewal's result, unless the renewal began under another
    /// epoch, or the token is the one the server rejected (a login's result
    /// is taken even then, and clears the mark). `None` when refused.
    pub fn install(
        &self,
        data: TokenData,
        source: Source,
        epoch: Option<u64>,
        jitter: f64,
    ) -> Option<AccessToken> {
        let mut cell = lock(&self.cell);
        if epoch.is_some_and(|e| e != self.epoch()) {
            tracing::debug!(
                how = source.name(),
                "a clear() or set_token() came first; the renewal's token is dropped"
            );
            return None;
        }
        {
            let mut rejected = lock(&self.rejected);
            if source == Source::Obtained {
                *rejected = None;
            } else if rejected.is_some_and(|r| r == data.digest()) {
                tracing::debug!(
                    how = source.name(),
                    "the server rejected this token before; not taking it back"
                );
                return None;
            }
        }
        Some(self.put(&mut cell, data, source, jitter))
    }

    /// Installs a token given by `set_token()`: always, clearing the
    /// rejected mark, and moving the epoch on so that a renewal in flight
    /// does not replace it.
    pub fn set(&self, data: TokenData, jitter: f64) -> AccessToken {
        let mut cell = lock(&self.cell);
        *lock(&self.rejected) = None;
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.put(&mut cell, data, Source::Set, jitter)
    }

    /// Takes a token read from the store if the policy says it is worth it
    /// (valid, not rejected, newer than the current one), under the same
    /// epoch rule as [`install`](Self::install). `even_expired` takes an
    /// expired one into an empty cell, for display.
    pub fn adopt(
        &self,
        stored: TokenData,
        epoch: Option<u64>,
        now: i64,
        even_expired: bool,
        jitter: f64,
    ) -> Option<AccessToken> {
        let mut cell = lock(&self.cell);
        if epoch.is_some_and(|e| e != self.epoch()) {
            return None;
        }
        let points = stored.points(&self.policy, jitter);
        let rejected = lock(&self.rejected).is_some_and(|r| r == stored.digest());
        let current = self.secrets.current().load();
        let current_points = current.as_deref().map(|c| &c.points);
        let take = policy::adopt(now, &points, rejected, current_points)
            || (even_expired && cell.is_none() && !rejected);
        take.then(|| self.put(&mut cell, stored, Source::Stored, jitter))
    }

    /// Empties the cell and moves the epoch on: nothing renewed before this
    /// is installed after it.
    pub fn clear(&self) {
        let mut cell = lock(&self.cell);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.generation.fetch_add(1, Ordering::AcqRel);
        *cell = None;
        self.secrets.current().store(None);
    }

    /// Drops the token of `generation`, if it is still the current one, and
    /// marks it rejected; returns it (for the log and the store).
    pub fn invalidate(&self, generation: u64) -> Option<TokenData> {
        let mut cell = lock(&self.cell);
        if self.generation() != generation {
            return None;
        }
        let dropped = cell.take()?;
        *lock(&self.rejected) = Some(dropped.digest());
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.secrets.current().store(None);
        Some(dropped)
    }

    /// Makes `data` the current token; `cell` is the cell's lock, held.
    fn put(
        &self,
        cell: &mut Option<TokenData>,
        data: TokenData,
        source: Source,
        jitter: f64,
    ) -> AccessToken {
        let generation = self.generation.fetch_add(1, Ordering::AcqRel) + 1;
        let current = Arc::new(Current {
            points: data.points(&self.policy, jitter),
            token: data.clone(),
            generation,
        });
        *cell = Some(data);
        self.secrets.current().store(Some(Arc::clone(&current)));
        tracing::debug!(
            fingerprint = %current.token.fingerprint(),
            expires_at = %current.token.expires_at,
            generation,
            how = source.name(),
            "token in place"
        );
        AccessToken { current }
    }

    /// The cell itself, for the crate's own tests of the lock discipline.
    #[cfg(test)]
    pub fn cell(&self) -> &Arc<Mutex<Option<TokenData>>> {
        &self.cell
    }
}
