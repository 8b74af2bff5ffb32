//! Every decision about the token, as pure functions: no clock is read, no
//! lock taken, nothing sent or awaited. The token manager gathers the facts
//! (the time, the current token's points, whether a renewal is in flight,
//! what the last ones left behind), asks here what to do, and does it.
//!
//! All times are microseconds since the Unix epoch, read from the manager's
//! injected [`Clock`](crate::Clock), so tests drive both the token's life and
//! the cooldowns with one clock.
//!
//! The rules, in the order [`decide`] applies them:
//!
//! 1. before the soft point → [`Action::Serve`];
//! 2. between the soft and the hard point → serve the current token, and
//!    start one background renewal unless one is in flight or one ended
//!    within the background cooldown ([`Action::ServeAndRenew`]);
//! 3. past the hard point, not yet expired → wait for a renewal
//!    ([`Action::Wait`]), except when a renewal succeeded within the
//!    background cooldown (the server gives lives shorter than the refresh
//!    window: the token it just gave is all it gives, so serve it), or when
//!    waiting is over (the renewal failed lately, or this caller's wait
//!    ended in a failure): a token still valid beats an error;
//! 4. expired, or no token → wait for a renewal;
//!
//! and in 3 and 4, with no renewal in flight and one that failed within the
//! failure cooldown (or tokens of fresh logins refused, see [`rejected`]),
//! fail at once with that failure ([`Action::Fail`]).
//!
//! Which renewal ([`renewal`]): a token still valid is refreshed with itself,
//! one that expired (or none) is obtained with the credentials, and a refresh
//! that failed, or one that did not move the expiry forward, leads to a login.

use std::time::Duration;

use crate::config::TokenPolicy;

/// Microseconds in a `Duration`, saturating (a century fits many times over).
pub(crate) fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

/// The moments of one token's life, fixed when it is installed.
///
/// Always `obtained_at <= soft_at <= hard_at <= expires_at`, whatever the
/// inputs (see [`Points::new`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Points {
    /// From here on a background renewal is due.
    pub soft_at: i64,
    /// From here on the token is no longer handed out: callers wait.
    pub hard_at: i64,
    /// When the token stops being valid.
    pub expires_at: i64,
}

impl Points {
    /// The points of a token living from `obtained_at` to `expires_at`.
    ///
    /// The soft point is `refresh_before` before the expiry, moved earlier by
    /// `jitter` (in `[0, 1)`) times `refresh_jitter` so that many clients do
    /// not renew in step; the hard point is `hard_before` before the expiry.
    /// Both are clamped to the token's life: the soft point never comes
    /// before half of it, the hard point never before three quarters. A
    /// token whose life is shorter than the refresh window (a server that
    /// says so) is therefore not born due for renewal, and is renewed at
    /// most about once per half life, not on every call.
    pub fn new(obtained_at: i64, expires_at: i64, policy: &TokenPolicy, jitter: f64) -> Points {
        let expires_at = expires_at.max(obtained_at);
        let life = expires_at.saturating_sub(obtained_at);
        // `jitter` is clamped so any f64 (NaN included) gives a point in range:
        // a NaN stays NaN, and its product's cast to i64 is 0.
        let jitter = jitter.clamp(0.0, 1.0);
        // Within i64: the product is at most `refresh_jitter` in micros.
        let spread = (micros(policy.refresh_jitter) as f64 * jitter) as i64;
        let soft_lead = micros(policy.refresh_before)
            .saturating_add(spread)
            .min(life / 2);
        let hard_lead = micros(policy.hard_before).min(life / 4).min(soft_lead);
        Points {
            soft_at: expires_at - soft_lead,
            hard_at: expires_at - hard_lead,
            expires_at,
        }
    }

    /// Before the soft point: nothing to do.
    pub fn fresh(&self, now: i64) -> bool {
        now < self.soft_at
    }
}

/// The state shown to people ([`TokenState`](crate::TokenState)), from the
/// same points the manager acts on (the soft point includes its jitter).
pub(crate) fn state(now: i64, token: Option<&Points>) -> crate::TokenState {
    use crate::TokenState;
    match token {
        None => TokenState::None,
        Some(p) if now >= p.expires_at => TokenState::Expired,
        Some(p) if now >= p.soft_at => TokenState::Expiring,
        Some(_) => TokenState::Valid,
    }
}

/// What the last renewals (and rejections) left behind, for [`decide`].
/// Times in clock microseconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct History {
    /// When the last renewal ended.
    pub end: Option<i64>,
    /// When the last renewal failed, if the last one did.
    pub failure: Option<i64>,
    /// When the last renewal installed a token, if the last one did.
    pub success: Option<i64>,
    /// When the server last refused the token of a fresh login.
    pub strike: Option<i64>,
    /// When it did so a second time within the rejection cooldown: logins
    /// succeed, but their tokens are refused.
    pub refused: Option<i64>,
}

/// What a caller of `token()` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Use the current token.
    Serve,
    /// Use the current token, and start a renewal in the background.
    ServeAndRenew,
    /// Join the renewal in flight, or start one, and wait for its result.
    Wait,
    /// Answer with a failure at once: the caller's own (its wait ended in
    /// one) or the one remembered (a thousand waiters must not retry one
    /// by one after a renewal that failed moments ago).
    Fail,
}

/// True while `since` is less than `cooldown` ago. A clock that stepped
/// back (now before `since`) ends the cooldown rather than stretching it.
pub(crate) fn within(now: i64, since: Option<i64>, cooldown: Duration) -> bool {
    since.is_some_and(|t| t <= now && now.saturating_sub(t) < micros(cooldown))
}

/// True when the remembered failure still answers callers that must wait:
/// a renewal failed within the failure cooldown, or fresh logins' tokens
/// were refused within the rejection cooldown.
pub(crate) fn failed_lately(now: i64, history: &History, policy: &TokenPolicy) -> bool {
    within(now, history.failure, policy.failure_cooldown)
        || within(now, history.refused, policy.rejection_cooldown)
}

/// What a caller does at `now` with `token` (the rules in the module docs).
/// `gave_up`: this caller already waited, and its wait ended in a failure.
pub(crate) fn decide(
    now: i64,
    token: Option<&Points>,
    renewing: bool,
    history: &History,
    gave_up: bool,
    policy: &TokenPolicy,
) -> Action {
    let failed = gave_up || (!renewing && failed_lately(now, history, policy));
    let just_renewed = !renewing && within(now, history.success, policy.background_cooldown);
    // A renewal in flight, or one that ended within the background cooldown.
    let busy = renewing || within(now, history.end, policy.background_cooldown);
    match token {
        Some(p) if p.fresh(now) || (now < p.hard_at && busy) => Action::Serve,
        Some(p) if now < p.hard_at => Action::ServeAndRenew,
        Some(p) if now < p.expires_at && (failed || just_renewed) => Action::Serve,
        _ if failed => Action::Fail,
        _ => Action::Wait,
    }
}

/// `history` after the server refused a token at `now`: a token a login
/// installed within the rejection cooldown (`login`: when that login was,
/// if one installed it) is a strike, and
/// a second strike within the cooldown means logins succeed but their
/// tokens are refused (a misrouting proxy, a disabled account): callers then
/// fail at once for the cooldown instead of logging in on every call.
pub(crate) fn rejected(history: &mut History, now: i64, login: Option<i64>, policy: &TokenPolicy) {
    // A failure remembered from before must not block the new login.
    history.failure = None;
    if within(now, login, policy.rejection_cooldown) {
        if within(now, history.strike, policy.rejection_cooldown) {
            history.refused = Some(now);
        }
        history.strike = Some(now);
    }
}

/// The longest a keep-fresh task sleeps at a time: it looks again at least
/// this often, so a wall clock that jumps (or a machine that slept) does not
/// make it miss the soft point by much.
pub(crate) const KEEPER_MAX_SLEEP: Duration = Duration::from_secs(60);

/// When a keep-fresh task next renews: `None` at once (the token is due,
/// or there is none), else after the returned time: until the soft point,
/// or, for a token already due, until the background cooldown since the
/// last renewal has passed (the rule callers follow too: a server giving
/// short lives is not asked on every soft point); at most
/// [`KEEPER_MAX_SLEEP`] either way (it looks again then).
pub(crate) fn keeper_wait(
    now: i64,
    token: Option<&Points>,
    renewing: bool,
    history: &History,
    policy: &TokenPolicy,
) -> Option<Duration> {
    let until = |t: i64| {
        Duration::from_micros(u64::try_from(t.saturating_sub(now)).unwrap_or(0))
            .min(KEEPER_MAX_SLEEP)
    };
    match (token, history.end) {
        (Some(p), _) if p.fresh(now) => Some(until(p.soft_at)),
        (_, Some(end)) if !renewing && within(now, Some(end), policy.background_cooldown) => Some(
            until(end.saturating_add(micros(policy.background_cooldown))),
        ),
        _ => None,
    }
}

/// How long a keep-fresh task waits after `failures` renewals in a row
/// failed: the background cooldown, doubled with each failure, at most ten
/// minutes (callers that need a token meanwhile renew for themselves).
pub(crate) fn keeper_backoff(failures: u32, policy: &TokenPolicy) -> Duration {
    let doubled = 2u32.saturating_pow(failures.saturating_sub(1));
    policy
        .background_cooldown
        .max(Duration::from_secs(1))
        .saturating_mul(doubled)
        .min(Duration::from_secs(600))
}

/// What a renewal was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Want {
    /// Whatever the token needs (a caller of `token()`, or the background).
    Auto,
    /// A refresh now, whatever the token's age (`force_refresh()`).
    Refresh,
    /// A login now (`login()`).
    Login,
}

impl Want {
    /// True when a renewal in flight asked for `running` also answers a
    /// caller asking for `self`: any renewal answers `Auto` and `Refresh`
    /// (an automatic one only runs when the token is due, so it renews it
    /// too; one that finds nothing to do answers nobody, see `Outcome`);
    /// only a login answers `Login`, which must log in.
    pub fn served_by(self, running: Want) -> bool {
        self != Want::Login || running == Want::Login
    }
}

/// How a token was renewed, as [`TokenManager::login`](crate::TokenManager::login) and
/// [`TokenManager::force_refresh`](crate::TokenManager::force_refresh) report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Renewal {
    /// Refreshed with itself (`user/refresh-token`).
    Refreshed,
    /// Obtained with the credentials (`user/obtain_token`).
    Obtained,
    /// The refresh failed, so a new token was obtained with the credentials.
    ObtainedAfterFailedRefresh,
    /// Taken from the store: another client or process had just renewed it.
    FromStore,
}

impl std::fmt::Display for Renewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Renewal::Refreshed => "refreshed",
            Renewal::Obtained => "obtained with the credentials",
            Renewal::ObtainedAfterFailedRefresh => {
                "obtained with the credentials (the refresh failed)"
            }
            Renewal::FromStore => "taken from the store (renewed elsewhere)",
        })
    }
}

/// Which call a renewal for `want` makes at `now`, on the current token:
/// [`Renewal::Refreshed`] (`user/refresh-token` with the token),
/// [`Renewal::Obtained`] (`user/obtain_token` with the credentials), or
/// none (`None`: the token, perhaps just taken from the store, is fresh).
///
/// Never refreshes an expired token (the server would refuse it), nor after
/// a refresh that did not move the expiry forward (`stalled`: the next
/// refresh would not either). An automatic renewal whose token turned out
/// fresh (another process renewed it) makes no call at all.
pub(crate) fn renewal(
    now: i64,
    want: Want,
    token: Option<&Points>,
    stalled: bool,
) -> Option<Renewal> {
    let valid = token.is_some_and(|p| now < p.expires_at);
    match want {
        Want::Login => Some(Renewal::Obtained),
        Want::Auto if token.is_some_and(|p| p.fresh(now)) => None,
        _ if valid && !stalled => Some(Renewal::Refreshed),
        _ => Some(Renewal::Obtained),
    }
}

/// True when a token found in the store should replace the current one:
/// it is still valid, it is not a retired token, and it expires later than
/// the current one (the same key with a later expiry counts: a DRF server
/// hands the same key back, amp-api.md §1.2).
pub(crate) fn adopt(now: i64, stored: &Points, retired: bool, current: Option<&Points>) -> bool {
    now < stored.expires_at && !retired && current.is_none_or(|c| stored.expires_at > c.expires_at)
}

/// Why a token's dates make it unusable, if they do: obtained after it
/// expires, obtained more than a day in the future (a clock that far off is
/// not ours to trust), or living longer than a century (the longest life
/// the configuration allows). Such a token is set aside like a corrupt
/// file, not installed to fail every call.
pub(crate) fn implausible(now: i64, obtained_at: i64, expires_at: i64) -> Option<&'static str> {
    const DAY: i64 = 24 * 3600 * 1_000_000;
    if expires_at < obtained_at {
        Some("it expires before it was obtained")
    } else if obtained_at > now.saturating_add(DAY) {
        Some("it was obtained more than a day in the future")
    } else if expires_at.saturating_sub(obtained_at) > 36525 * DAY {
        Some("it lives longer than a century")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TokenState;
    use proptest::prelude::*;

    const S: i64 = 1_000_000;
    const MIN: i64 = 60 * S;
    const HOUR: i64 = 60 * MIN;

    fn policy() -> TokenPolicy {
        TokenPolicy::default()
    }

    fn day_token(at: i64) -> Points {
        Points::new(at, at + 24 * HOUR, &policy(), 0.0)
    }

    /// Where `now` falls in a token's life, for the tests.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Stage {
        Fresh,
        Window,
        Late,
        Gone,
    }

    fn stage(now: i64, token: Option<&Points>) -> Stage {
        match token {
            Some(p) if p.fresh(now) => Stage::Fresh,
            Some(p) if now < p.hard_at => Stage::Window,
            Some(p) if now < p.expires_at => Stage::Late,
            _ => Stage::Gone,
        }
    }

    /// A day token such that `now` falls in `stage` (none for `Gone`).
    fn at(stage: Stage, now: i64) -> Option<Points> {
        let p = day_token(0);
        let offset = match stage {
            Stage::Fresh => 0,
            Stage::Window => p.soft_at,
            Stage::Late => p.hard_at,
            Stage::Gone => return None,
        };
        Some(day_token(now - offset))
    }

    fn decide_at(now: i64, st: Stage, renewing: bool, h: &History) -> Action {
        decide(now, at(st, now).as_ref(), renewing, h, false, &policy())
    }

    #[test]
    fn a_day_token_has_the_documented_points() {
        let p = day_token(0);
        assert_eq!(p.soft_at, 24 * HOUR - 5 * MIN);
        assert_eq!(p.hard_at, 24 * HOUR - 30 * S);
        let jittered = Points::new(0, 24 * HOUR, &policy(), 0.5);
        assert_eq!(jittered.soft_at, 24 * HOUR - 5 * MIN - 15 * S);
        assert_eq!(jittered.hard_at, p.hard_at);
    }

    #[test]
    fn stages_and_states_follow_the_points() {
        let p = day_token(0);
        assert_eq!(stage(0, Some(&p)), Stage::Fresh);
        assert_eq!(stage(p.soft_at, Some(&p)), Stage::Window);
        assert_eq!(stage(p.hard_at, Some(&p)), Stage::Late);
        assert_eq!(stage(p.expires_at, Some(&p)), Stage::Gone);
        assert_eq!(state(0, Some(&p)), TokenState::Valid);
        assert_eq!(state(p.hard_at, Some(&p)), TokenState::Expiring);
        assert_eq!(state(p.expires_at, Some(&p)), TokenState::Expired);
        assert_eq!(state(0, None), TokenState::None);
        for st in [Stage::Fresh, Stage::Window, Stage::Late, Stage::Gone] {
            assert_eq!(stage(7 * HOUR, at(st, 7 * HOUR).as_ref()), st);
        }
    }

    #[test]
    fn a_short_life_is_not_born_due() {
        // The server says two minutes: soft at one, hard at one and a half.
        let p = Points::new(0, 2 * MIN, &policy(), 0.9);
        assert_eq!(p.soft_at, MIN);
        assert_eq!(p.hard_at, 2 * MIN - 30 * S);
        assert!(p.fresh(0));
    }

    // Any jitter gives points in range: NaN counts as none, infinity as all.
    #[test]
    fn an_odd_jitter_is_clamped() {
        let (pol, day) = (policy(), 24 * HOUR);
        let points = |jitter| Points::new(0, day, &pol, jitter);
        assert_eq!(points(f64::NAN), points(0.0));
        assert_eq!(points(f64::INFINITY), points(1.0));
        assert_eq!(points(f64::NEG_INFINITY), points(0.0));
        assert_ne!(points(1.0), points(0.0));
    }

    #[test]
    fn decisions() {
        let idle = History::default();
        assert_eq!(decide_at(0, Stage::Fresh, true, &idle), Action::Serve);
        assert_eq!(
            decide_at(0, Stage::Window, false, &idle),
            Action::ServeAndRenew
        );
        assert_eq!(decide_at(0, Stage::Window, true, &idle), Action::Serve);
        for late in [Stage::Late, Stage::Gone] {
            assert_eq!(decide_at(0, late, false, &idle), Action::Wait);
            assert_eq!(decide_at(0, late, true, &idle), Action::Wait);
        }
        let failed = History {
            end: Some(0),
            failure: Some(0),
            ..idle
        };
        // A failure remembered answers at once; a token still valid is
        // served rather than the failure.
        assert_eq!(decide_at(S / 2, Stage::Gone, false, &failed), Action::Fail);
        assert_eq!(decide_at(S / 2, Stage::Late, false, &failed), Action::Serve);
        assert_eq!(decide_at(S / 2, Stage::Gone, true, &failed), Action::Wait);
        assert_eq!(decide_at(S, Stage::Gone, false, &failed), Action::Wait);
        assert_eq!(
            decide_at(4 * S, Stage::Window, false, &failed),
            Action::Serve
        );
        assert_eq!(
            decide_at(5 * S, Stage::Window, false, &failed),
            Action::ServeAndRenew
        );
        // A caller whose wait ended in a failure: the token if still
        // valid, else the failure; never another wait.
        let pol = policy();
        let late = at(Stage::Late, HOUR);
        assert_eq!(
            decide(HOUR, late.as_ref(), true, &idle, true, &pol),
            Action::Serve
        );
        assert_eq!(decide(HOUR, None, true, &idle, true, &pol), Action::Fail);
        // A clock stepped back ends the cooldown instead of stretching it,
        // and no distance between the two overflows.
        assert_eq!(decide_at(-HOUR, Stage::Gone, false, &failed), Action::Wait);
        assert!(!within(i64::MAX, Some(i64::MIN), pol.failure_cooldown));
        assert!(!within(i64::MIN, Some(i64::MAX), pol.failure_cooldown));
        // A token a renewal just installed past its hard point (a very
        // short life) is served until it expires, not renewed on every call.
        let renewed = History {
            end: Some(0),
            success: Some(0),
            ..idle
        };
        assert_eq!(decide_at(S, Stage::Late, false, &renewed), Action::Serve);
        assert_eq!(decide_at(S, Stage::Gone, false, &renewed), Action::Wait);
        assert_eq!(decide_at(5 * S, Stage::Late, false, &renewed), Action::Wait);
    }

    // Tokens of fresh logins refused twice within the rejection cooldown:
    // callers fail at once for the cooldown; once is a strike only.
    #[test]
    fn refused_fresh_logins_stop_logins_for_a_while() {
        let pol = policy();
        let mut h = History {
            failure: Some(0),
            ..History::default()
        };
        rejected(&mut h, 0, None, &pol);
        assert_eq!(
            h,
            History::default(),
            "not a fresh login's: no strike; the failure forgotten"
        );
        rejected(&mut h, 61 * S, Some(0), &pol);
        assert_eq!(
            h,
            History::default(),
            "a login older than the cooldown's: no strike"
        );
        rejected(&mut h, 0, Some(0), &pol);
        assert_eq!((h.strike, h.refused), (Some(0), None));
        assert_eq!(decide_at(S, Stage::Gone, false, &h), Action::Wait);
        rejected(&mut h, 10 * S, Some(10 * S), &pol);
        assert_eq!(h.refused, Some(10 * S));
        assert_eq!(decide_at(11 * S, Stage::Gone, false, &h), Action::Fail);
        assert_eq!(decide_at(69 * S, Stage::Gone, false, &h), Action::Fail);
        assert_eq!(decide_at(70 * S, Stage::Gone, false, &h), Action::Wait);
        // Strikes further apart than the cooldown are two flukes.
        let mut h = History::default();
        rejected(&mut h, 0, Some(0), &pol);
        rejected(&mut h, 61 * S, Some(61 * S), &pol);
        assert_eq!(h.refused, None);
    }

    #[test]
    fn renewals() {
        let p = day_token(0);
        let window = p.soft_at;
        assert_eq!(renewal(0, Want::Auto, Some(&p), false), None);
        assert_eq!(
            renewal(window, Want::Auto, Some(&p), false),
            Some(Renewal::Refreshed)
        );
        assert_eq!(
            renewal(window, Want::Auto, Some(&p), true),
            Some(Renewal::Obtained)
        );
        assert_eq!(
            renewal(0, Want::Refresh, Some(&p), false),
            Some(Renewal::Refreshed)
        );
        assert_eq!(
            renewal(0, Want::Login, Some(&p), false),
            Some(Renewal::Obtained)
        );
        assert_eq!(
            renewal(p.expires_at, Want::Refresh, Some(&p), false),
            Some(Renewal::Obtained)
        );
        assert_eq!(renewal(0, Want::Auto, None, false), Some(Renewal::Obtained));
        assert!(Want::Auto.served_by(Want::Auto));
        assert!(Want::Auto.served_by(Want::Login));
        assert!(Want::Refresh.served_by(Want::Login));
        assert!(Want::Refresh.served_by(Want::Refresh));
        assert!(Want::Refresh.served_by(Want::Auto));
        assert!(!Want::Login.served_by(Want::Refresh));
        assert!(!Want::Login.served_by(Want::Auto));
    }

    #[test]
    fn keep_fresh_wakes_at_the_soft_point_and_backs_off() {
        let p = day_token(0);
        let pol = policy();
        let idle = History::default();
        let wait =
            |now, token: Option<&Points>, h: &History| keeper_wait(now, token, false, h, &pol);
        assert_eq!(wait(0, Some(&p), &idle), Some(KEEPER_MAX_SLEEP));
        assert_eq!(
            wait(p.soft_at - S, Some(&p), &idle),
            Some(Duration::from_secs(1))
        );
        assert_eq!(wait(p.soft_at, Some(&p), &idle), None);
        assert_eq!(wait(0, None, &idle), None);
        // Due, but a renewal ended 2 s ago: wait out the 5 s cooldown.
        let ended = History {
            end: Some(p.soft_at - 2 * S),
            ..idle
        };
        assert_eq!(
            wait(p.soft_at, Some(&p), &ended),
            Some(Duration::from_secs(3))
        );
        assert_eq!(keeper_backoff(1, &pol), Duration::from_secs(5));
        assert_eq!(keeper_backoff(2, &pol), Duration::from_secs(10));
        assert_eq!(keeper_backoff(40, &pol), Duration::from_secs(600));
    }

    #[test]
    fn adoption_and_plausibility() {
        let old = day_token(0);
        let newer = day_token(HOUR);
        assert!(adopt(HOUR, &newer, false, Some(&old)));
        assert!(adopt(HOUR, &newer, false, None));
        assert!(!adopt(HOUR, &old, false, Some(&newer)), "older");
        assert!(!adopt(HOUR, &newer, true, Some(&old)), "retired");
        assert!(!adopt(30 * HOUR, &newer, false, None), "expired");
        assert_eq!(implausible(0, 0, 24 * HOUR), None);
        assert!(implausible(0, HOUR, 0).is_some());
        assert!(implausible(0, 2 * 24 * HOUR, 3 * 24 * HOUR).is_some());
        assert!(implausible(0, 0, i64::MAX).is_some());
        assert!(implausible(i64::MAX, i64::MIN, i64::MAX).is_some());
    }

    fn any_policy() -> impl Strategy<Value = TokenPolicy> {
        (0u64..3_600, 0u64..600, 0u64..600, 0u64..10, 0u64..10).prop_map(
            |(refresh, hard, jitter, fail, background)| TokenPolicy {
                refresh_before: Duration::from_secs(refresh.max(hard)),
                hard_before: Duration::from_secs(hard),
                refresh_jitter: Duration::from_secs(jitter),
                failure_cooldown: Duration::from_secs(fail),
                background_cooldown: Duration::from_secs(background),
                ..TokenPolicy::default()
            },
        )
    }

    fn any_history() -> impl Strategy<Value = (bool, History)> {
        (
            any::<bool>(),
            proptest::option::of(-HOUR..HOUR),
            any::<bool>(),
            proptest::option::of(-HOUR..HOUR),
        )
            .prop_map(|(renewing, end, failed, refused)| {
                let h = History {
                    end,
                    failure: end.filter(|_| failed),
                    success: end.filter(|_| !failed),
                    strike: refused,
                    refused,
                };
                (renewing, h)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        // The points are ordered and inside the life, for any inputs.
        #[test]
        fn points_are_ordered(
            obtained in any::<i64>(),
            expires in any::<i64>(),
            pol in any_policy(),
            jitter in any::<f64>(),
        ) {
            let p = Points::new(obtained, expires, &pol, jitter);
            prop_assert!(obtained <= p.soft_at);
            prop_assert!(p.soft_at <= p.hard_at);
            prop_assert!(p.hard_at <= p.expires_at);
        }

        // Never serves an expired token; never waits before the hard
        // point; past it, serves only a token a renewal installed within the
        // background cooldown, or one still valid when waiting is over.
        #[test]
        fn serves_exactly_what_the_rules_allow(
            obtained in -48 * HOUR..48 * HOUR,
            life in 0..48 * HOUR,
            now in -96 * HOUR..96 * HOUR,
            pol in any_policy(),
            jitter in 0.0f64..1.0,
            (renewing, h) in any_history(),
            has_token in any::<bool>(),
            gave_up in any::<bool>(),
        ) {
            let p = Points::new(obtained, obtained + life, &pol, jitter);
            let token = has_token.then_some(&p);
            let action = decide(now, token, renewing, &h, gave_up, &pol);
            let serves = matches!(action, Action::Serve | Action::ServeAndRenew);
            let before_hard = token.is_some_and(|p| now < p.hard_at);
            let just_renewed = !renewing && within(now, h.success, pol.background_cooldown);
            let over = gave_up || (!renewing && failed_lately(now, &h, &pol));
            if before_hard {
                prop_assert!(serves);
            }
            if serves {
                prop_assert!(token.is_some_and(|p| now < p.expires_at));
                prop_assert!(before_hard || just_renewed || over);
            }
            if action == Action::Wait {
                prop_assert!(!over);
            }
        }

        // Never refreshes an expired token.
        #[test]
        fn never_refreshes_an_expired_token(
            obtained in -48 * HOUR..48 * HOUR,
            life in 0..48 * HOUR,
            now in -96 * HOUR..96 * HOUR,
            pol in any_policy(),
            stalled in any::<bool>(),
            want in prop_oneof![Just(Want::Auto), Just(Want::Refresh), Just(Want::Login)],
        ) {
            let p = Points::new(obtained, obtained + life, &pol, 0.0);
            if renewal(now, want, Some(&p), stalled) == Some(Renewal::Refreshed) {
                prop_assert!(now < p.expires_at);
                prop_assert!(!stalled);
            }
        }

        // No new attempt inside a cooldown: after a failure, no background
        // renewal within the background cooldown and no new wait within the
        // failure cooldown.
        #[test]
        fn no_attempt_inside_a_cooldown(
            failed_at in -HOUR..HOUR,
            after in 0..20 * S,
            pol in any_policy(),
            st in prop_oneof![Just(Stage::Window), Just(Stage::Late), Just(Stage::Gone)],
        ) {
            let h = History {
                end: Some(failed_at),
                failure: Some(failed_at),
                ..History::default()
            };
            let now = failed_at + after;
            let action = decide(now, at(st, now).as_ref(), false, &h, false, &pol);
            if after < micros(pol.background_cooldown) {
                prop_assert_ne!(action, Action::ServeAndRenew);
            }
            if after < micros(pol.failure_cooldown) {
                prop_assert_ne!(action, Action::Wait);
            }
        }

        // A token whose life is shorter than the refresh window, called on
        // at random moments, is renewed at most once per background
        // cooldown, or once per life if that is shorter: never on every
        // call. Renewals started by waiters count too.
        #[test]
        fn a_short_life_renews_at_most_once_per_cooldown(
            life in S..5 * MIN,
            mut calls in proptest::collection::vec(0..10 * MIN, 1..300),
            renewal_takes in 0..2 * S,
        ) {
            let pol = TokenPolicy::default();
            calls.sort_unstable();
            let mut token = Points::new(0, life, &pol, 0.0);
            let mut h = History::default();
            let mut renewing = false;
            let mut running_until: Option<i64> = None;
            let mut started: Vec<i64> = Vec::new();
            for now in calls {
                if let Some(end) = running_until.filter(|end| *end <= now) {
                    // The renewal ended: a new token of the same short life.
                    token = Points::new(end, end + life, &pol, 0.0);
                    h = History {
                        end: Some(end),
                        success: Some(end),
                        ..History::default()
                    };
                    renewing = false;
                    running_until = None;
                }
                let action = decide(now, Some(&token), renewing, &h, false, &pol);
                let starts = action == Action::ServeAndRenew
                    || (action == Action::Wait && !renewing);
                if starts {
                    started.push(now);
                    renewing = true;
                    running_until = Some(now + renewal_takes);
                }
            }
            let gap = micros(pol.background_cooldown).min(life);
            for pair in started.windows(2) {
                prop_assert!(pair[1] - pair[0] >= gap, "{:?}", started);
            }
        }
    }
}
