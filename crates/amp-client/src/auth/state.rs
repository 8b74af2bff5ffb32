//! The one state of a client's authentication, and the snapshot of it that
//! the hot path reads.
//!
//! [`State`] sits behind one `Arc<Mutex<…>>`: the token itself (R1.1:
//! `Option<TokenData>`), the credentials, the generation, the retired
//! tokens, the renewal in flight and what the last ones left behind. Every
//! change of the token happens here, under that lock, and publishes the
//! snapshot ([`Current`]: the token, its generation and its points) before
//! the lock is released, so a reader of the snapshot never sees a token the
//! state no longer holds. The lock is never held across an `.await`.
//!
//! One guard keeps old tokens from coming back: the **generation** moves on
//! with every change of the token (install, set, adopt, clear, invalidate).
//! A renewal installs only if the generation it began under (or the one it
//! installed itself) is still current; a store write happens only for the
//! generation it is for. **Retired** tokens (the last few cleared or
//! rejected, kept as SHA-256 digests, never as tokens) cover what the
//! generation cannot see: the same token handed back by a store (a clear
//! of the store that failed, a store shared with others) or by a refresh.
//! A login handing one back takes it out of retirement: the server vouched
//! for the key by handing it out.
//!
//! It is also where server text is scrubbed ([`Shared::scrub`]): this is
//! where every secret of the client is.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use arc_swap::ArcSwapOption;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::watch;

use crate::auth::clock::Clock;
use crate::auth::policy::{self, History, Points, Renewal, Want};
use crate::auth::token::TokenData;
use crate::config::TokenPolicy;
use crate::credentials::Credentials;
use crate::error::Error;

/// The most retired tokens remembered at once. A retired token is kept
/// until it expires (a store may hand it back for as long as it is valid;
/// after that it is never taken anyway): this bound is only against a
/// program that clears in a loop; with refusals bounded by the rejection
/// cooldown, no real run comes near it.
const RETIRED_KEPT: usize = 4096;

/// The current token as callers get it: the token, its generation and its
/// points, published as one immutable value.
#[derive(Debug)]
pub(crate) struct Current {
    pub token: TokenData,
    pub generation: u64,
    pub points: Points,
}

/// How a renewal ended: `Some((generation, how))`, a token of this
/// generation is in place, renewed so; `None`, nothing was installed (the
/// token changed meanwhile, by a `clear()`, `set_token()` or `invalidate()`,
/// or it was fresh already): look again; an error, every waiter gets the
/// same. It carries no token: a waiter takes the token from the snapshot,
/// and only if it is still the one this renewal installed, so the channel
/// never holds a copy of a secret.
pub(crate) type Outcome = Result<Option<(u64, Renewal)>, Error>;

/// Everything about the token that changes, under one lock.
#[derive(Debug, Default)]
pub(crate) struct State {
    /// The token (R1.1).
    pub token: Option<TokenData>,
    /// Moves on with every change of `token`.
    pub generation: u64,
    /// The generation the last login installed (see `policy::rejected`).
    login: u64,
    /// Replaced whole when the password changes; the old value is dropped
    /// (and zeroized) once no login in flight still uses it.
    pub credentials: Option<Arc<Credentials>>,
    /// New passwords on their way to the server (several password changes
    /// may run at once), held by their senders: scrubbed from server text
    /// while a sender holds one.
    pending: Vec<Weak<SecretString>>,
    /// SHA-256 of retired tokens and when each expires (clock
    /// microseconds), oldest first, at most [`RETIRED_KEPT`].
    retired: VecDeque<([u8; 32], i64)>,
    /// The renewal in flight: what it was asked for, and where it tells
    /// its end. Set and cleared only by the renewal's task (`renew.rs`).
    pub flight: Option<(Want, watch::Receiver<Option<Outcome>>)>,
    /// What the last renewals and rejections left behind.
    pub history: History,
    /// The last failure of a renewal, the one `history.failure` dates.
    pub failure: Option<Error>,
    /// The last refresh did not move the expiry forward: log in next time.
    pub stalled: bool,
}

/// The state and its snapshot, shared by the token manager (which changes
/// them) and the transport (which scrubs server text of their secrets).
#[derive(Debug)]
pub(crate) struct Shared {
    state: Arc<Mutex<State>>,
    current: ArcSwapOption<Current>,
    pub policy: TokenPolicy,
    /// The clock every decision about the token reads.
    pub clock: Arc<dyn Clock>,
}

impl Shared {
    pub fn new(
        credentials: Option<Credentials>,
        policy: TokenPolicy,
        clock: Arc<dyn Clock>,
    ) -> Shared {
        let state = State {
            credentials: credentials.map(Arc::new),
            ..State::default()
        };
        Shared {
            state: Arc::new(Mutex::new(state)),
            current: ArcSwapOption::empty(),
            policy,
            clock,
        }
    }

    /// The state, locked. Every critical section is a few loads and
    /// stores, so a panic while holding it leaves consistent data, and a
    /// poisoned lock is used as it is.
    pub fn lock(&self) -> MutexGuard<'_, State> {
        crate::auth::lock(&self.state)
    }

    /// The snapshot the hot path reads, without locking.
    pub fn current(&self) -> Option<Arc<Current>> {
        self.current.load_full()
    }

    /// The snapshot, as the hot path reads it: a guard, which writes no
    /// count shared between threads (see `AccessToken`).
    pub fn snapshot(&self) -> arc_swap::Guard<Option<Arc<Current>>> {
        self.current.load()
    }

    /// Makes `token` the current one: moves the generation on and publishes
    /// the snapshot under the lock (`st`), then releases it, logs the token
    /// and sets the gauge of its time left (outside the lock: a subscriber
    /// or a recorder may call back).
    fn place(&self, mut st: MutexGuard<'_, State>, token: TokenData, how: &str) -> Arc<Current> {
        st.generation += 1;
        let current = Arc::new(Current {
            points: token.points(&self.policy, fastrand::f64()),
            token: token.clone(),
            generation: st.generation,
        });
        st.token = Some(token);
        self.current.store(Some(Arc::clone(&current)));
        drop(st);
        let now = self.clock.now_micros();
        let left = current.points.expires_at.saturating_sub(now);
        crate::stats::token_expires_in(Some(left as f64 / 1e6));
        let (token, generation) = (&current.token, current.generation);
        tracing::debug!(fingerprint = %token.fingerprint(), expires_at = %token.expires_at, generation, how, "token in place");
        current
    }

    /// Empties the state, its token retired: moves the generation on and
    /// publishes that there is no token under the lock (`st`), then
    /// releases it and clears the gauge. Returns the new generation and the
    /// token dropped.
    fn empty(&self, mut st: MutexGuard<'_, State>) -> (u64, Option<TokenData>) {
        st.generation += 1;
        let old = self.retire(&mut st);
        self.current.store(None);
        let generation = st.generation;
        drop(st);
        crate::stats::token_expires_in(None);
        (generation, old)
    }

    /// Takes the token out of the state (`st`, locked) and remembers it as
    /// retired until it expires. Returns it.
    fn retire(&self, st: &mut State) -> Option<TokenData> {
        let now = self.clock.now_micros();
        let token = st.token.take()?;
        st.retired.retain(|(_, expires_at)| *expires_at > now);
        st.retired
            .push_back((token.digest(), token.expires_at.timestamp_micros()));
        while st.retired.len() > RETIRED_KEPT {
            st.retired.pop_front();
        }
        Some(token)
    }

    /// Takes `token` out of retirement (the server, or the user, vouched
    /// for it); `st` is the state, locked.
    fn unretire(st: &mut State, token: &TokenData) {
        let digest = token.digest();
        st.retired.retain(|(d, _)| *d != digest);
    }

    /// True when `token` is a retired token.
    pub fn is_retired(&self, token: &TokenData) -> bool {
        let digest = token.digest();
        self.lock().retired.iter().any(|(d, _)| *d == digest)
    }

    /// Installs a renewal's token if `generation` is still the current one;
    /// a `login`'s token also leaves retirement. A refresh that did not move
    /// the expiry forward leaves the state stalled: it is not repeated in a
    /// loop, the next renewal logs in. Returns the new snapshot.
    pub fn install(&self, token: TokenData, generation: u64, login: bool) -> Option<Arc<Current>> {
        let mut st = self.lock();
        if st.generation != generation {
            tracing::debug!(
                "the token changed while it was renewed; the renewal's token is dropped"
            );
            return None;
        }
        let old = st.token.as_ref();
        let stalled = !login && old.is_some_and(|old| token.expires_at <= old.expires_at);
        st.stalled = stalled;
        if login {
            Self::unretire(&mut st, &token);
            // The generation `place` gives it.
            st.login = st.generation + 1;
        }
        let current = self.place(st, token, if login { "obtained" } else { "refreshed" });
        if stalled {
            tracing::warn!("the refresh did not move the expiry forward; the next renewal logs in");
        }
        Some(current)
    }

    /// Installs a token given by `set_token()`, whatever the state (taking
    /// it out of retirement): a renewal in flight then installs nothing. The
    /// token it replaces is retired: a store that could not be written
    /// still holds it, and must not hand it back.
    pub fn set(&self, token: TokenData) -> Arc<Current> {
        let mut st = self.lock();
        self.retire(&mut st);
        Self::unretire(&mut st, &token);
        st.stalled = false;
        self.place(st, token, "set")
    }

    /// Takes a token read from the store if the policy says it is worth it
    /// (valid, not retired, newer than the current one) and `generation`,
    /// if given, is still current; `even_expired` takes an expired one into
    /// an empty state, for display. Returns the new generation.
    pub fn adopt(
        &self,
        stored: TokenData,
        generation: Option<u64>,
        even_expired: bool,
    ) -> Option<u64> {
        let now = self.clock.now_micros();
        let mut st = self.lock();
        if generation.is_some_and(|g| g != st.generation) {
            return None;
        }
        let digest = stored.digest();
        let retired = st.retired.iter().any(|(d, _)| *d == digest);
        let current = self.current.load();
        let current = current.as_deref().map(|c| &c.points);
        let take = policy::adopt(now, &stored.points(&self.policy, 0.0), retired, current)
            || (even_expired && st.token.is_none() && !retired);
        if !take {
            return None;
        }
        st.stalled = false;
        Some(self.place(st, stored, "store").generation)
    }

    /// Empties the state, retiring its token, and forgets what the last
    /// renewals left behind: nothing renewed before this is installed after
    /// it, and no cooldown applies. Returns the new generation.
    pub fn clear(&self) -> u64 {
        let mut st = self.lock();
        st.history = History::default();
        st.failure = None;
        self.empty(st).0
    }

    /// Drops the token of `generation`, if it is still the current one, and
    /// retires it: the server refused it. Returns the new generation, and
    /// the token (for the log and the store).
    pub fn invalidate(&self, generation: u64) -> Option<(u64, TokenData)> {
        let now = self.clock.now_micros();
        let mut st = self.lock();
        let token = st.token.as_ref().filter(|_| st.generation == generation)?;
        let login = (st.login == generation).then_some(token.obtained_at.timestamp_micros());
        policy::rejected(&mut st.history, now, login, &self.policy);
        let (generation, dropped) = self.empty(st);
        dropped.map(|token| (generation, token))
    }

    /// What callers are told while logins are held back because the server
    /// refused the tokens of fresh logins (`History::refused`). Made when
    /// asked, not kept in `State::failure`: a later, unrelated failure (a
    /// 503 of an explicit login) would overwrite it and be reported for the
    /// whole rejection cooldown in its place.
    pub fn refusal(&self) -> Error {
        Error::token_rejected(
            "token renewal",
            reqwest::StatusCode::UNAUTHORIZED,
            format!(
                "logins succeed but the server refuses their tokens; no login for {}",
                crate::error::human(self.policy.rejection_cooldown)
            ),
        )
    }

    /// The credentials, shared (no copy of the password is made).
    pub fn credentials(&self) -> Option<Arc<Credentials>> {
        self.lock().credentials.clone()
    }

    /// Scrubs `password` (a new one, being sent) from server text for as
    /// long as the caller holds the returned value.
    pub fn pending(&self, password: &SecretString) -> Arc<SecretString> {
        let held = Arc::new(password.clone());
        let mut st = self.lock();
        st.pending.retain(|p| p.strong_count() > 0);
        st.pending.push(Arc::downgrade(&held));
        held
    }

    /// `text` with every secret this client holds replaced by `[REDACTED]`:
    /// the password (and new ones being sent), the current token, and
    /// `also` (the secret the request that drew this text carried: its
    /// token, which may be the previous one, or its login's password); see
    /// `secrets::redact` for the forms each is found in.
    ///
    /// This is the one place server text is cleaned of secrets; it runs
    /// where an answer is turned into an error, before any log or error
    /// sees the text.
    pub fn scrub(&self, text: &str, also: Option<&str>) -> String {
        let (credentials, pending, token) = {
            let st = self.lock();
            let pending: Vec<_> = st.pending.iter().filter_map(Weak::upgrade).collect();
            (st.credentials.clone(), pending, st.token.clone())
        };
        let held = [
            credentials.as_deref().map(|c| c.password().expose_secret()),
            token.as_ref().map(|t| t.token().expose_secret()),
            also,
        ];
        let pending = pending.iter().map(|p| p.expose_secret());
        crate::auth::secrets::redact(text, held.into_iter().flatten().chain(pending))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // R1.1: the source of truth is the seed's type.
    #[test]
    fn the_token_lives_in_an_arc_mutex_option() {
        let clock = Arc::new(crate::auth::clock::SystemClock);
        let shared = Shared::new(None, TokenPolicy::default(), clock);
        let state: &Arc<Mutex<State>> = &shared.state;
        let _: &Option<TokenData> = &state.lock().unwrap().token;
    }
}
