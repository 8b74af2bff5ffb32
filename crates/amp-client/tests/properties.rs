//! Property tests (proptest) for issue 5: retry delays, the token state
//! machine against real local servers, the persisted form, and parsers that
//! take anything without panicking. Case counts are kept modest so the file
//! runs in seconds (TESTING.md lists them); raise them with PROPTEST_CASES.

mod common;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use amp_client::__private::{parse_error_body, parse_token_answer};
use amp_client::retry::{backoff, decide, parse_retry_after, Decision, Failure, Idempotency, Stop};
use amp_client::{
    AccessToken, AmpClient, Clock, Config, Error, FileStore, ManualClock, RetryConfig, StatusCode,
    TokenData, TokenPolicy, TokenStore, TokioClock,
};
use amp_sandbox::{Fault, Sandbox};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use secrecy::ExposeSecret;

fn cases(n: u32) -> ProptestConfig {
    // PROPTEST_CASES, when set, overrides the default of each block.
    let n = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(n);
    ProptestConfig {
        cases: n,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the years RFC 3339 can write.
const FIRST_SECS: i64 = -62_135_596_800;
const LAST_SECS: i64 = 253_402_300_799;

fn datetime() -> impl Strategy<Value = DateTime<Utc>> {
    (FIRST_SECS..=LAST_SECS, 0u32..1_000_000_000)
        .prop_map(|(s, n)| DateTime::from_timestamp(s, n).unwrap())
}

fn retry_config() -> impl Strategy<Value = RetryConfig> {
    (
        1u32..20,
        1u64..120_000,
        prop_oneof![0u64..200_000, Just(u64::MAX / 2)],
    )
        .prop_map(|(max_attempts, base, extra)| RetryConfig {
            max_attempts,
            base_delay: Duration::from_millis(base),
            max_delay: Duration::from_millis(base.saturating_add(extra)),
        })
}

/// Any f64 at all: NaN, infinities, negatives, beyond 1.
fn any_jitter() -> impl Strategy<Value = f64> {
    prop_oneof![
        4 => 0.0f64..1.0,
        1 => any::<f64>(),
        1 => Just(1.0),
        1 => Just(f64::NAN),
    ]
}

fn status() -> impl Strategy<Value = StatusCode> {
    prop_oneof![
        Just(429u16),
        Just(503),
        Just(500),
        Just(502),
        Just(504),
        Just(408),
        400u16..600
    ]
    .prop_map(|c| StatusCode::from_u16(c).unwrap())
}

fn failure() -> impl Strategy<Value = Failure> {
    prop_oneof![
        Just(Failure::NotSent),
        any::<bool>().prop_map(|timeout| Failure::MaybeSent { timeout }),
        (status(), proptest::option::of(0u64..200_000)).prop_map(|(status, ra)| {
            Failure::Status {
                status,
                retry_after: ra.map(Duration::from_millis),
            }
        }),
    ]
}

// ---------------------------------------------------------------------------
// Retry delays.
// ---------------------------------------------------------------------------

proptest! {
    #![proptest_config(cases(2000))]

    /// Every backoff delay lies in [0, min(max delay, base · 2^(n−1))], for any jitter.
    #[test]
    fn backoff_stays_in_its_bounds(c in retry_config(), retry in 0u32..200, jitter in any_jitter()) {
        let d = backoff(&c, retry, jitter);
        let exp = retry.saturating_sub(1).min(31);
        let ceiling = c.base_delay.checked_mul(1 << exp).unwrap_or(c.max_delay).min(c.max_delay);
        prop_assert!(d <= ceiling, "{d:?} > {ceiling:?}");
        prop_assert!(d <= c.max_delay);
    }

    /// A retry waits no longer than the maximum delay and never less than the
    /// server's Retry-After; a Retry-After beyond the maximum stops at once;
    /// the attempts are never exceeded; unsafe requests are repeated only when
    /// they surely did not run (or were turned away with a 429).
    #[test]
    fn decisions_respect_every_bound(
        c in retry_config(),
        attempt in 1u32..30,
        failure in failure(),
        safe in any::<bool>(),
        jitter in any_jitter(),
    ) {
        let idem = if safe { Idempotency::Safe } else { Idempotency::Unsafe };
        let retry_after = match failure { Failure::Status { retry_after, .. } => retry_after, _ => None };
        match decide(&c, attempt, idem, failure, jitter) {
            Decision::Retry(d) => {
                prop_assert!(d <= c.max_delay, "{d:?} beyond the cap");
                if let Some(ra) = retry_after {
                    prop_assert!(d >= ra, "{d:?} earlier than Retry-After {ra:?}");
                }
                prop_assert!(attempt < c.max_attempts);
                if !safe {
                    let surely_not_run = matches!(failure, Failure::NotSent)
                        || matches!(failure, Failure::Status { status, .. } if status == StatusCode::TOO_MANY_REQUESTS);
                    prop_assert!(surely_not_run, "an unsafe request repeated after {failure:?}");
                }
            }
            Decision::Stop(Stop::RetryAfterTooLong(w)) => {
                prop_assert!(w > c.max_delay);
                prop_assert_eq!(Some(w), retry_after);
            }
            Decision::Stop(Stop::Exhausted) => prop_assert!(attempt >= c.max_attempts),
            Decision::Stop(Stop::NotRetryable) => {}
        }
    }

    /// The same through the header: a Retry-After in either form, parsed, is
    /// never undercut by the delay decided.
    #[test]
    fn a_retry_after_header_is_never_undercut(
        c in retry_config(),
        wait in 0u64..100_000,
        as_date in any::<bool>(),
        now_secs in 0u64..4_000_000_000,
        jitter in any_jitter(),
    ) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(now_secs);
        let header = if as_date {
            httpdate::fmt_http_date(now + Duration::from_secs(wait))
        } else {
            wait.to_string()
        };
        let parsed = parse_retry_after(&header, now);
        prop_assert_eq!(parsed, Some(Duration::from_secs(wait)));
        let f = Failure::Status { status: StatusCode::TOO_MANY_REQUESTS, retry_after: parsed };
        if let Decision::Retry(d) = decide(&c, 1, Idempotency::Unsafe, f, jitter) {
            prop_assert!(d >= Duration::from_secs(wait));
        }
    }
}

// ---------------------------------------------------------------------------
// The token state machine, against the sandbox in paused time.
// ---------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    /// Let this many seconds pass (background work runs meanwhile).
    Advance(u64),
    /// `token()`.
    Token,
    /// `token()` from this many tasks at once.
    Burst(u8),
    /// An API call.
    Call,
    ForceRefresh,
    Login,
    Clear,
    /// The server forgets every token.
    Revoke,
    /// The next n refreshes are answered 503.
    FailRefreshes(u8),
    /// The next n logins are answered 500.
    FailLogins(u8),
    /// The next login is rate limited for this many seconds.
    RateLimitLogin(u64),
}

fn op() -> impl Strategy<Value = Op> {
    const DAY: u64 = 24 * 3600;
    prop_oneof![
        6 => prop_oneof![
            0u64..120,
            0u64..3600,
            0u64..30 * 3600,
            // Into the refresh window, past the hard point, past expiry.
            Just(DAY - 290),
            Just(DAY - 25),
            Just(DAY + 1),
            (DAY - 400..DAY + 10),
        ].prop_map(Op::Advance),
        5 => Just(Op::Token),
        2 => (2u8..40).prop_map(Op::Burst),
        3 => Just(Op::Call),
        1 => Just(Op::ForceRefresh),
        1 => Just(Op::Login),
        1 => Just(Op::Clear),
        1 => Just(Op::Revoke),
        1 => (1u8..4).prop_map(Op::FailRefreshes),
        1 => (1u8..4).prop_map(Op::FailLogins),
        1 => (1u64..40).prop_map(Op::RateLimitLogin),
    ]
}

/// Whatever went wrong, it is one of the kinds an `Error` admits to.
fn classified(e: &Error) -> bool {
    e.is_timeout()
        || e.is_rate_limited()
        || e.is_transport()
        || e.is_auth()
        || e.is_decode()
        || e.is_config()
        || e.status().is_some()
}

/// Checks a token handed out at `now`: not expired, generation not going back.
fn check_handed_out(
    t: &AccessToken,
    now: DateTime<Utc>,
    last_generation: &mut u64,
) -> Result<(), TestCaseError> {
    prop_assert!(
        t.data().expires_at > now,
        "handed out a token that expired at {} at {now}",
        t.data().expires_at
    );
    prop_assert!(
        t.generation() >= *last_generation,
        "generation went back from {} to {}",
        last_generation,
        t.generation()
    );
    *last_generation = t.generation();
    Ok(())
}

fn paused_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .start_paused(true)
        .build()
        .unwrap()
}

async fn run_against_sandbox(ops: Vec<Op>, seed: u64) -> Result<(), TestCaseError> {
    let sandbox = Sandbox::builder()
        .seed(seed)
        .record_limit(100)
        .start()
        .await
        .unwrap();
    let clock = TokioClock::new();
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(RetryConfig::for_tests())
        .build()
        .unwrap();
    let client = AmpClient::builder(config)
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let m = client.token_manager().clone();
    let mut last_generation = 0u64;
    let mut last_stats_generation = 0u64;
    for op in ops {
        match op {
            Op::Advance(s) => tokio::time::advance(Duration::from_secs(s)).await,
            Op::Token | Op::ForceRefresh | Op::Login => {
                let r = match op {
                    Op::Token => m.token().await,
                    Op::ForceRefresh => m.force_refresh().await.map(|r| r.0),
                    _ => m.login().await.map(|r| r.0),
                };
                match r {
                    Ok(t) => check_handed_out(&t, clock.now(), &mut last_generation)?,
                    Err(e) => prop_assert!(classified(&e), "unclassified: {e:?}"),
                }
            }
            Op::Burst(n) => {
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..n {
                    let m = m.clone();
                    let clock = clock.clone();
                    tasks.spawn(async move { m.token().await.map(|t| (t, clock.now())) });
                }
                let floor = last_generation;
                while let Some(r) = tasks.join_next().await {
                    match r.unwrap() {
                        Ok((t, at)) => {
                            let mut g = floor;
                            check_handed_out(&t, at, &mut g)?;
                            last_generation = last_generation.max(t.generation());
                        }
                        Err(e) => prop_assert!(classified(&e), "unclassified: {e:?}"),
                    }
                }
            }
            Op::Call => {
                if let Err(e) = client.assets().list().await {
                    prop_assert!(classified(&e), "unclassified: {e:?}");
                }
            }
            Op::Clear => m.clear().await.unwrap(),
            Op::Revoke => sandbox.revoke_all_tokens(),
            Op::FailRefreshes(n) => {
                for _ in 0..n {
                    sandbox.push_fault("/user/refresh-token", Fault::Status(503));
                }
            }
            Op::FailLogins(n) => {
                for _ in 0..n {
                    sandbox.push_fault("/user/obtain_token", Fault::Status(500));
                }
            }
            Op::RateLimitLogin(s) => {
                sandbox.push_fault("/user/obtain_token", Fault::RateLimitSeconds(s))
            }
        }
        let g = m.stats().generation;
        prop_assert!(g >= last_stats_generation, "the generation went back");
        last_stats_generation = g;
        if let Some(t) = m.snapshot() {
            // What the cell holds may be old (it is renewed on demand), but
            // the info of it is consistent.
            let info = m.info();
            prop_assert_eq!(info.expires_at, Some(t.expires_at));
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(48))]

    /// Random days of clock jumps, calls, bursts, revocations and failing
    /// renewals: no caller ever gets an expired token, and the generation
    /// only grows.
    #[test]
    fn the_manager_never_hands_out_an_expired_token(
        ops in proptest::collection::vec(op(), 1..24),
        seed in any::<u64>(),
    ) {
        paused_runtime().block_on(run_against_sandbox(ops, seed))?;
    }
}

// ---------------------------------------------------------------------------
// The same with lifetimes the server chooses (wiremock, a manual clock):
// tokens that live for seconds, inside the refresh window from the start,
// or under the hard point.
// ---------------------------------------------------------------------------

/// Answers obtain and refresh with a fresh token whose `expires_in` is the
/// next of `lives` (then 24 h).
struct Issuer {
    lives: Mutex<VecDeque<f64>>,
    issued: std::sync::atomic::AtomicU64,
}

impl wiremock::Respond for Issuer {
    fn respond(&self, _: &wiremock::Request) -> wiremock::ResponseTemplate {
        let n = self
            .issued
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let life = self.lives.lock().unwrap().pop_front().unwrap_or(86_400.0);
        wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({
            "token": format!("{n:040x}"),
            "expires_in": life,
        }))
    }
}

#[derive(Debug, Clone)]
enum ManualOp {
    Advance(u64),
    Token,
    ForceRefresh,
}

fn manual_op() -> impl Strategy<Value = ManualOp> {
    prop_oneof![
        3 => prop_oneof![0u64..40, 0u64..400, 0u64..90_000].prop_map(ManualOp::Advance),
        4 => Just(ManualOp::Token),
        1 => Just(ManualOp::ForceRefresh),
    ]
}

fn server_lifetime() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.001f64..5.0,
        1.0f64..40.0,
        30.0f64..400.0,
        Just(86_400.0),
        0.0f64..200_000.0,
    ]
}

async fn run_with_server_lifetimes(
    lives: Vec<f64>,
    ops: Vec<ManualOp>,
) -> Result<(), TestCaseError> {
    use wiremock::matchers::path_regex;
    let server = wiremock::MockServer::start().await;
    wiremock::Mock::given(path_regex("^/api/user/(obtain_token|refresh-token)$"))
        .respond_with(Issuer {
            lives: Mutex::new(lives.into()),
            issued: Default::default(),
        })
        .mount(&server)
        .await;
    let clock = ManualClock::new(Utc::now());
    let client = AmpClient::builder(common::config_for(&common::api(&server), 2))
        .clock(Arc::new(clock.clone()))
        .build()
        .unwrap();
    let m = client.token_manager();
    let mut last_generation = 0;
    for op in ops {
        let r = match op {
            ManualOp::Advance(s) => {
                clock.advance(Duration::from_secs(s));
                continue;
            }
            ManualOp::Token => m.token().await,
            ManualOp::ForceRefresh => m.force_refresh().await.map(|r| r.0),
        };
        match r {
            Ok(t) => check_handed_out(&t, clock.now(), &mut last_generation)?,
            Err(e) => prop_assert!(classified(&e), "unclassified: {e:?}"),
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(cases(32))]

    #[test]
    fn short_server_lifetimes_never_yield_an_expired_token(
        lives in proptest::collection::vec(server_lifetime(), 0..12),
        ops in proptest::collection::vec(manual_op(), 1..20),
    ) {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
            .block_on(run_with_server_lifetimes(lives, ops))?;
    }
}

// ---------------------------------------------------------------------------
// The persisted form.
// ---------------------------------------------------------------------------

fn any_token() -> impl Strategy<Value = String> {
    "\\PC{1,80}".prop_filter("not blank", |s| !s.trim().is_empty())
}

fn header_token() -> impl Strategy<Value = String> {
    "[!-~]{1,80}"
}

proptest! {
    #![proptest_config(cases(1000))]

    /// `TokenData` survives serialize → parse unchanged, to the nanosecond.
    #[test]
    fn token_data_survives_serde(token in any_token(), a in datetime(), b in datetime()) {
        let t = TokenData::new(token.clone(), a, b);
        let json = serde_json::to_vec(&t).unwrap();
        let back: TokenData = serde_json::from_slice(&json).unwrap();
        prop_assert_eq!(back.token().expose_secret(), token.as_str());
        prop_assert_eq!(back.obtained_at, a);
        prop_assert_eq!(back.expires_at, b);
        prop_assert_eq!(&back, &t);
        let again = serde_json::to_vec(&back).unwrap();
        prop_assert_eq!(again, json);
    }
}

proptest! {
    #![proptest_config(cases(96))]

    /// And through the token file: save → load gives the same token back,
    /// unless its dates make no sense (it expires before it was obtained,
    /// was obtained more than a day from now, or lives more than a
    /// century, `policy::implausible`): such a file is set aside and reads
    /// as no token.
    #[test]
    fn token_data_survives_the_file_store(token in header_token(), a in datetime(), b in datetime()) {
        let dir = std::env::temp_dir().join(format!(
            "amp-prop-file-{}-{:016x}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let store = FileStore::new(dir.join("token.json"));
        let t = TokenData::new(token, a, b);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let back = rt.block_on(async {
            store.save(&t).await.unwrap();
            store.load().await.unwrap()
        });
        let _ = std::fs::remove_dir_all(&dir);
        let absurd = b < a
            || a > chrono::Utc::now() + chrono::Duration::days(1)
            || b - a > chrono::Duration::days(36525);
        prop_assert_eq!(back, (!absurd).then_some(t));
    }
}

// ---------------------------------------------------------------------------
// Parsers never panic, whatever they are given.
// ---------------------------------------------------------------------------

/// JSON-shaped bodies: objects with the fields the parsers look at, holding
/// values of every type, plus raw JSON scalars and arrays.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    use serde_json::{json, Value};
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "\\PC{0,40}".prop_map(Value::String),
        datetime().prop_map(|d| Value::String(d.to_rfc3339())),
        Just(json!("9999-12-31T23:59:59+23:59")),
        Just(json!("0000-01-01T00:00:00-23:59")),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec(
                (
                    prop_oneof![
                        Just("token".to_string()),
                        Just("expires_in".to_string()),
                        Just("expires_at".to_string()),
                        Just("expiry".to_string()),
                        Just("detail".to_string()),
                        Just("non_field_errors".to_string()),
                        Just("obtained_at".to_string()),
                        Just("version".to_string()),
                        "[a-z_]{1,8}",
                    ],
                    inner
                ),
                0..5
            )
            .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..600),
        json_value().prop_map(|v| serde_json::to_vec(&v).unwrap()),
        "\\PC{0,400}".prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(cases(3000))]

    #[test]
    fn the_error_body_parser_takes_anything(b in body()) {
        let m = parse_error_body(&b);
        prop_assert!(m.len() <= 303, "{} bytes", m.len());
    }

    #[test]
    fn the_token_answer_parser_takes_anything(
        b in body(),
        now in (0i64..LAST_SECS - 100_000 * 86_400).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap()),
        lifetime in prop_oneof![Just(86_400u64), any::<u64>()],
    ) {
        if let Ok(t) = parse_token_answer(&b, now, Duration::from_secs(lifetime)) {
            let token = t.token().expose_secret();
            prop_assert!(!token.is_empty() && token.bytes().all(|c| c.is_ascii_graphic()));
            prop_assert!(t.expires_at > now);
            let life = chrono::Duration::from_std(Duration::from_secs(lifetime)).unwrap_or(chrono::Duration::MAX);
            let latest = now.checked_add_signed(life).unwrap_or(DateTime::<Utc>::MAX_UTC);
            prop_assert!(t.expires_at <= latest, "lives longer than the configured lifetime");
            prop_assert_eq!(t.obtained_at, now);
            let _ = t.info_at(now, &TokenPolicy::default());
        }
    }

    #[test]
    fn the_retry_after_parser_takes_anything(v in "\\PC{0,40}", now in any::<u64>()) {
        let now = SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(now)).unwrap_or(SystemTime::UNIX_EPOCH);
        let _ = parse_retry_after(&v, now);
    }

    #[test]
    fn the_token_data_parser_takes_anything(b in body()) {
        if let Ok(t) = serde_json::from_slice::<TokenData>(&b) {
            let _ = t.info_at(Utc::now(), &TokenPolicy::default());
            let _ = format!("{t:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// Settings: whatever the environment says, an error or a working client.
// ---------------------------------------------------------------------------

fn setting() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<u32>().prop_map(|n| n.to_string()),
        (0u64..100).prop_map(|n| n.to_string()),
        Just("18446744073709551615".to_string()),
        Just("99999999999999999999999".to_string()),
        "\\PC{0,12}",
        Just("test".to_string()),
        Just("1".to_string()),
        Just("http://127.0.0.1:9/api".to_string()),
        Just("http://amp.example.com/api".to_string()),
        Just("file:/nonexistent/amp/token.json".to_string()),
        Just("memory".to_string()),
    ])
}

proptest! {
    #![proptest_config(cases(500))]

    #[test]
    fn any_environment_gives_an_error_or_a_client(
        mut values in proptest::collection::vec(setting(), 10),
        password in proptest::option::of(Just(common::PASSWORD.to_string())),
    ) {
        values.push(password);
        const NAMES: [&str; 11] = [
            "AMP_API_BASE_URL", "API_RETRY_MAX_ATTEMPTS", "API_RETRY_BASE_DELAY_MS",
            "API_RETRY_MAX_DELAY_MS", "API_REQUEST_TIMEOUT_SECONDS", "AMP_ENV",
            "AMP_TOKEN_STORE", "AMP_ALLOW_INSECURE_HTTP", "AMP_MAX_BODY_BYTES",
            "AMP_USERNAME", "AMP_PASSWORD",
        ];
        let lookup = |k: &str| NAMES.iter().position(|n| *n == k).and_then(|i| values[i].clone());
        match Config::from_lookup(&lookup) {
            Ok(config) => {
                let _ = config.token_wait_timeout();
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                let _guard = rt.enter();
                // A Redis store without the feature is a configuration error; anything else builds.
                match AmpClient::new(config) {
                    Ok(client) => { let _ = format!("{client:?}"); }
                    Err(e) => prop_assert!(e.is_config(), "{e}"),
                }
            }
            Err(e) => {
                prop_assert!(e.is_config(), "{e}");
                let text = format!("{e} {e:?}");
                prop_assert!(!text.contains(common::PASSWORD), "the password is quoted: {text}");
            }
        }
    }
}
