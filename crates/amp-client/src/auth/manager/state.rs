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
//! * **retired** tokens — the last few cleared or rejected by the server,
//!   kept as SHA-256 digests, never as tokens — are never installed again
//!   from the store or from a refresh, even if the store still holds them (a
//!   clear of the store that failed, a store shared with others). A login
//!   handing one back takes it out of retirement: the server vouched for the
//!   key by handing it out.

use std::collections::VecDeque;
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
    /// A login: taken even if retired (and no longer retired).
    Obtained,
    /// A refresh: refused if retired.
    Refreshed,
    /// The store: refused if retired, expired (unless asked), or older.
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

/// How many retired tokens are remembered: more than a client retires
/// between two logins in any real run.
const RETIRED_KEPT: usize = 16;

pub(super) struct State {
    /// The token. Locked only to read or change it, never across an await.
    cell: Arc<Mutex<Option<TokenData>>>,
    /// Moves on with every change of the cell; written under its lock.
    generation: AtomicU64,
    /// Moves on with `clear()` and `set_token()`; written under the cell's lock.
    epoch: AtomicU64,
    /// SHA-256 of retired tokens, oldest first, at most [`RETIRED_KEPT`].
    /// Taken only while the cell's lock is held.
    retired: Mutex<VecDeque<[u8; 32]>>,
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
            retired: Mutex::new(VecDeque::new()),
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
    /// epoch, or the token is retired (a login's result is taken even then,
    /// and leaves retirement). `None` when refused.
    pub fn install(
        &self,
        data: TokenData,
        source: Source,
        epoch: u64,
        jitter: f64,
    ) -> Option<AccessToken> {
        let mut cell = lock(&self.cell);
        if epoch != self.epoch() {
            tracing::debug!(
                how = source.name(),
                "a clear() or set_token() came first; the renewal's token is dropped"
            );
            return None;
        }
        {
            let mut retired = lock(&self.retired);
            let digest = data.digest();
            if source == Source::Obtained {
                retired.retain(|r| *r != digest);
            } else if retired.contains(&digest) {
                tracing::debug!(
                    how = source.name(),
                    "this token was cleared or rejected before; not taking it back"
                );
                return None;
            }
        }
        Some(self.put(&mut cell, data, source, jitter))
    }

    /// Installs a token given by `set_token()`: always (taking it out of
    /// retirement), and moving the epoch on so that a renewal in flight does
    /// not replace it.
    pub fn set(&self, data: TokenData, jitter: f64) -> AccessToken {
        let mut cell = lock(&self.cell);
        let digest = data.digest();
        lock(&self.retired).retain(|r| *r != digest);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.put(&mut cell, data, Source::Set, jitter)
    }

    /// Takes a token read from the store if the policy says it is worth it
    /// (valid, not retired, newer than the current one), under the same
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
        let rejected = lock(&self.retired).contains(&stored.digest());
        let current = self.secrets.current().load();
        let current_points = current.as_deref().map(|c| &c.points);
        let take = policy::adopt(now, &points, rejected, current_points)
            || (even_expired && cell.is_none() && !rejected);
        take.then(|| self.put(&mut cell, stored, Source::Stored, jitter))
    }

    /// True when `data` is a retired token.
    pub fn is_retired(&self, data: &TokenData) -> bool {
        let _cell = lock(&self.cell);
        lock(&self.retired).contains(&data.digest())
    }

    /// Empties the cell, retiring its token, and moves the epoch on:
    /// nothing renewed before this is installed after it.
    pub fn clear(&self) {
        let mut cell = lock(&self.cell);
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.generation.fetch_add(1, Ordering::AcqRel);
        if let Some(old) = cell.take() {
            self.retire(&old);
        }
        self.secrets.current().store(None);
        crate::stats::token_expires_in(None);
    }

    /// Drops the token of `generation`, if it is still the current one, and
    /// retires it; returns it (for the log and the store).
    pub fn invalidate(&self, generation: u64) -> Option<TokenData> {
        let mut cell = lock(&self.cell);
        if self.generation() != generation {
            return None;
        }
        let dropped = cell.take()?;
        self.retire(&dropped);
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.secrets.current().store(None);
        crate::stats::token_expires_in(None);
        Some(dropped)
    }

    /// Remembers `data` as retired; the cell's lock is held.
    fn retire(&self, data: &TokenData) {
        let mut retired = lock(&self.retired);
        retired.push_back(data.digest());
        while retired.len() > RETIRED_KEPT {
            retired.pop_front();
        }
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
        AccessToken::owned(current)
    }

    /// The cell itself, for the crate's own tests of the lock discipline.
    #[cfg(test)]
    pub fn cell(&self) -> &Arc<Mutex<Option<TokenData>>> {
        &self.cell
    }
}
