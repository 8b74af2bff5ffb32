//! Figure 3 of issue 7: what the client costs per request.
//!
//! Authenticated `GET /api/assets/` through [`AmpClient`] (token check,
//! header, per-attempt timeout, retry bookkeeping, JSON decode into a
//! `serde_json::Value`) against raw reqwest with a fixed `Authorization`
//! header (status check, the same JSON decode), against one amp-sandbox on
//! loopback, with 1 and with 64 requests in flight. The sandbox and the
//! callers share one multi-thread tokio runtime (2 workers).
//!
//! * criterion measures the time per request of the two (throughput = 1 / time);
//! * then they are measured again in rounds together with a third client:
//!   raw reqwest set up as `AmpClient` sets up its own (static user agent
//!   and `Accept` headers, a same-origin redirect policy, the default
//!   timeout as connect timeout and as a tokio timeout around each request),
//!   which splits the gap into what the client's settings cost and what its
//!   own code costs. The order rotates from round to round, so drift of the
//!   machine (other builds on it) falls on all alike; each client takes an
//!   untimed quarter round first; the throughput ratios of each round are
//!   reported as median [min – max];
//! * peak resident memory for 10,000 requests in flight: each client runs in
//!   a child process of its own (this binary again, told so by an environment
//!   variable), so neither the sandbox, which stays in this process and holds
//!   every answer back 3 s, nor the other client counts; the child reads
//!   `VmRSS` before and `VmHWM` after from `/proc/self/status`;
//! * allocations per request of each of the three, counted by a
//!   `#[global_allocator]` wrapper in the whole process (the sandbox's share
//!   is the same for all).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::Future;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Config, MemoryStore};
use amp_sandbox::{Fault, Sandbox};
use common::{proc_status_kb, spread};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, USER_AGENT};
use secrecy::ExposeSecret;
use tokio::runtime::Runtime;

const PATH: &str = "assets/";
const IN_FLIGHT: [usize; 2] = [1, 64];
const MEMORY_REQUESTS: usize = 10_000;
const MEMORY_HOLD: Duration = Duration::from_secs(3);
const CHILD_VAR: &str = "AMP_BENCH_MEMORY_CHILD";

/// Counts every allocation of the process (client and sandbox alike) while
/// `COUNTING` is set; otherwise one relaxed load per allocation.
struct CountingAlloc;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

fn note_allocation() {
    if COUNTING.load(Ordering::Relaxed) {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    }
}

// SAFETY: every call is forwarded unchanged to `System`.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_allocation();
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_allocation();
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

/// The ways of making the same authenticated GET.
#[derive(Clone)]
enum Getter {
    Ours(AmpClient),
    /// Raw reqwest; with a timeout around each request when it is set up
    /// like `AmpClient`'s own.
    Raw {
        http: reqwest::Client,
        url: String,
        timeout: Option<Duration>,
    },
}

impl Getter {
    fn name(&self) -> &'static str {
        match self {
            Getter::Ours(_) => "amp_client",
            Getter::Raw { timeout: None, .. } => "raw_reqwest",
            Getter::Raw { .. } => "raw_reqwest_set_up_like_amp_client",
        }
    }

    async fn get(&self) -> bool {
        match self {
            Getter::Ours(client) => client.get::<serde_json::Value>(PATH).await.is_ok(),
            Getter::Raw { http, url, timeout } => {
                let exchange = async {
                    let answer = http.get(url).send().await.ok()?;
                    if !answer.status().is_success() {
                        return None;
                    }
                    answer.bytes().await.ok()
                };
                let body = match timeout {
                    Some(t) => tokio::time::timeout(*t, exchange).await.ok().flatten(),
                    None => exchange.await,
                };
                body.is_some_and(|b| serde_json::from_slice::<serde_json::Value>(&b).is_ok())
            }
        }
    }
}

fn ours(base_url: &str, username: &str, password: &str) -> AmpClient {
    let config = Config::builder()
        .base_url(base_url)
        .credentials(username, password)
        .build()
        .unwrap();
    AmpClient::builder(config)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap()
}

fn raw(base_url: &str, token: &str) -> Getter {
    Getter::Raw {
        http: reqwest::Client::builder()
            .default_headers(token_header(token))
            .build()
            .unwrap(),
        url: format!("{base_url}/{PATH}"),
        timeout: None,
    }
}

/// Raw reqwest with the settings `AmpClient` gives its own reqwest client
/// (see `Transport::new` and `redirects_within`: a same-origin check here, as
/// the bench's redirects never happen), and its default
/// per-attempt timeout.
fn raw_set_up_like_ours(base_url: &str, token: &str) -> Getter {
    let timeout = Config::builder()
        .base_url(base_url)
        .build()
        .expect("a configuration of the sandbox's URL")
        .request_timeout();
    let mut headers = token_header(token);
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("amp-client/", env!("CARGO_PKG_VERSION"))),
    );
    let same_origin = |a: reqwest::redirect::Attempt| {
        let origin = a.url().origin();
        if a.previous().iter().any(|u| u.origin() != origin) {
            a.stop()
        } else if a.previous().len() > 5 {
            a.error("too many redirects")
        } else {
            a.follow()
        }
    };
    Getter::Raw {
        http: reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::custom(same_origin))
            .connect_timeout(timeout)
            .build()
            .unwrap(),
        url: format!("{base_url}/{PATH}"),
        timeout: Some(timeout),
    }
}

fn token_header(token: &str) -> HeaderMap {
    let mut value = HeaderValue::try_from(format!("token {token}")).unwrap();
    value.set_sensitive(true);
    HeaderMap::from_iter([(AUTHORIZATION, value)])
}

/// `total` requests, `in_flight` at a time; the wall time, and how many failed.
async fn drive(getter: &Getter, total: u64, in_flight: usize) -> (Duration, u64) {
    let remaining = Arc::new(AtomicI64::new(total as i64));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight.min(total as usize).max(1))
        .map(|_| {
            let (getter, remaining, failed) = (getter.clone(), remaining.clone(), failed.clone());
            tokio::spawn(async move {
                while remaining.fetch_sub(1, Ordering::Relaxed) > 0 {
                    if !getter.get().await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    for w in workers {
        w.await.unwrap();
    }
    (start.elapsed(), failed.load(Ordering::Relaxed))
}

struct Setup {
    rt: Runtime,
    sandbox: Sandbox,
    ours: Getter,
    raw: Getter,
    raw_like_ours: Getter,
    token: String,
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let sandbox = rt
        .block_on(Sandbox::builder().record_limit(100).start())
        .unwrap();
    let client = ours(&sandbox.base_url(), sandbox.username(), sandbox.password());
    let ours = Getter::Ours(client.clone());
    assert!(rt.block_on(ours.get()), "the first call failed");
    let token = client
        .token_manager()
        .snapshot()
        .unwrap()
        .token()
        .expose_secret()
        .to_string();
    let raw = raw(&sandbox.base_url(), &token);
    assert!(rt.block_on(raw.get()), "the raw call failed");
    let raw_like_ours = raw_set_up_like_ours(&sandbox.base_url(), &token);
    assert!(rt.block_on(raw_like_ours.get()), "the raw call failed");
    Setup {
        rt,
        sandbox,
        ours,
        raw,
        raw_like_ours,
        token,
    }
}

/// Allocations per request, 1 in flight, counted in the whole process: the
/// in-process sandbox's share is the same for all, so the differences are
/// the clients'.
fn allocations(s: &Setup) {
    println!();
    const N: u64 = 2_000;
    for getter in [&s.ours, &s.raw, &s.raw_like_ours] {
        check(s.rt.block_on(drive(getter, N, 1)).1);
        ALLOCATIONS.store(0, Ordering::Relaxed);
        COUNTING.store(true, Ordering::Relaxed);
        let (_, failed) = s.rt.block_on(drive(getter, N, 1));
        COUNTING.store(false, Ordering::Relaxed);
        check(failed);
        println!(
            "RESULT allocations per request {}: {:.1} (client and in-process sandbox together)",
            getter.name(),
            ALLOCATIONS.load(Ordering::Relaxed) as f64 / N as f64
        );
    }
}

fn check(failed: u64) {
    assert_eq!(failed, 0, "requests failed during the measurement");
}

fn throughput(c: &mut Criterion, s: &Setup) {
    for in_flight in IN_FLIGHT {
        let mut g = c.benchmark_group(format!("overhead/in_flight_{in_flight}"));
        g.throughput(Throughput::Elements(1));
        g.sampling_mode(SamplingMode::Flat);
        for getter in [&s.ours, &s.raw] {
            g.bench_function(BenchmarkId::from_parameter(getter.name()), |b| {
                b.iter_custom(|n| {
                    let (t, failed) = s.rt.block_on(drive(getter, n, in_flight));
                    check(failed);
                    t
                })
            });
        }
        g.finish();
    }
}

/// Rounds of ours, raw reqwest and raw reqwest set up like ours, the order
/// rotating from round to round; the throughput ratios of each round.
fn interleaved(s: &Setup, rounds: usize) {
    println!();
    let getters = [&s.ours, &s.raw, &s.raw_like_ours];
    for in_flight in IN_FLIGHT {
        let per_round: u64 = if in_flight == 1 { 3_000 } else { 8_000 };
        let mut rps: [Vec<f64>; 3] = Default::default();
        for round in 0..rounds {
            for k in 0..getters.len() {
                let i = (round + k) % getters.len();
                // Untimed first: the client that ran before leaves the
                // machine set for itself (its connections' buffers and tasks
                // hot), which cost the next one about 2 % of its round.
                check(s.rt.block_on(drive(getters[i], per_round / 4, in_flight)).1);
                let (t, failed) = s.rt.block_on(drive(getters[i], per_round, in_flight));
                check(failed);
                rps[i].push(per_round as f64 / t.as_secs_f64());
            }
        }
        let [ours, raw, like] = &rps;
        let ratios =
            |a: &[f64], b: &[f64]| -> Vec<f64> { a.iter().zip(b).map(|(a, b)| a / b).collect() };
        let show = |v: &[f64]| {
            let (m, lo, hi) = spread(v);
            if m > 100.0 {
                format!("{m:.0} req/s [{lo:.0} – {hi:.0}]")
            } else {
                format!("{m:.3} [{lo:.3} – {hi:.3}]")
            }
        };
        println!(
            "RESULT overhead {in_flight} in flight, {rounds} rounds of {per_round} each: \
             amp_client {}, raw reqwest {}, raw reqwest set up like amp_client {}",
            show(ours),
            show(raw),
            show(like)
        );
        println!(
            "RESULT overhead {in_flight} in flight: throughput ratio amp_client/raw {}; \
             the settings: raw set up like amp_client/raw {}; the code: amp_client/raw set up like it {}",
            show(&ratios(ours, raw)),
            show(&ratios(like, raw)),
            show(&ratios(ours, like))
        );
    }
}

// ---------------------------------------------------------------- memory

/// Runs in the child: `MEMORY_REQUESTS` GETs at once, held by the sandbox.
fn memory_child(mode: &str) {
    let var = |name: &str| std::env::var(name).unwrap();
    let base_url = var("AMP_BENCH_BASE_URL");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let getter = match mode {
            "amp_client" => {
                let client = ours(&base_url, &var("AMP_BENCH_USERNAME"), &var("AMP_BENCH_PASSWORD"));
                // Log in and warm the code paths on a route that is not held back.
                client
                    .get::<serde_json::Value>("changelog")
                    .await
                    .unwrap();
                Getter::Ours(client)
            }
            _ => {
                let getter = raw(&base_url, &var("AMP_BENCH_TOKEN"));
                if let Getter::Raw { http, .. } = &getter {
                    let answer = http
                        .get(format!("{base_url}/changelog"))
                        .send()
                        .await
                        .unwrap();
                    assert!(answer.status().is_success());
                }
                getter
            }
        };
        let rss_before = proc_status_kb("VmRSS").unwrap_or(0);
        let in_flight = Arc::new(AtomicI64::new(0));
        let peak_in_flight = Arc::new(AtomicI64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let start = Instant::now();
        let tasks: Vec<_> = (0..MEMORY_REQUESTS)
            .map(|_| {
                let (getter, in_flight, peak, failed) = (
                    getter.clone(),
                    in_flight.clone(),
                    peak_in_flight.clone(),
                    failed.clone(),
                );
                tokio::spawn(async move {
                    let n = in_flight.fetch_add(1, Ordering::AcqRel) + 1;
                    peak.fetch_max(n, Ordering::AcqRel);
                    let request = getter.get();
                    if !in_time(request).await {
                        failed.fetch_add(1, Ordering::Relaxed);
                    }
                    in_flight.fetch_sub(1, Ordering::AcqRel);
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let hwm_after = proc_status_kb("VmHWM").unwrap_or(0);
        println!(
            "MEMORY {mode} rss_before_kb={rss_before} hwm_after_kb={hwm_after} peak_in_flight={} failed={} elapsed_ms={}",
            peak_in_flight.load(Ordering::Acquire),
            failed.load(Ordering::Relaxed),
            start.elapsed().as_millis()
        );
    });
}

async fn in_time(request: impl Future<Output = bool>) -> bool {
    tokio::time::timeout(Duration::from_secs(60), request)
        .await
        .unwrap_or(false)
}

fn memory(s: &Setup) {
    s.sandbox
        .set_fault_rate("/assets", Fault::Delay(MEMORY_HOLD), 1.0);
    println!();
    for mode in ["amp_client", "raw_reqwest"] {
        let out = Command::new(std::env::current_exe().unwrap())
            .env(CHILD_VAR, mode)
            .env("AMP_BENCH_BASE_URL", s.sandbox.base_url())
            .env("AMP_BENCH_USERNAME", s.sandbox.username())
            .env("AMP_BENCH_PASSWORD", s.sandbox.password())
            .env("AMP_BENCH_TOKEN", &s.token)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let Some(line) = stdout.lines().find(|l| l.starts_with("MEMORY ")) else {
            println!(
                "RESULT memory {mode}: the child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            continue;
        };
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        let (before, after) = (field("rss_before_kb"), field("hwm_after_kb"));
        let growth = after.saturating_sub(before);
        println!(
            "RESULT memory {mode}: {MEMORY_REQUESTS} requests, peak in flight {}, failed {}: \
             RSS before {:.1} MiB, peak (VmHWM) {:.1} MiB, growth {:.1} MiB = {:.1} KiB per request in flight ({} ms)",
            field("peak_in_flight"),
            field("failed"),
            before as f64 / 1024.0,
            after as f64 / 1024.0,
            growth as f64 / 1024.0,
            growth as f64 / MEMORY_REQUESTS as f64,
            field("elapsed_ms"),
        );
    }
    s.sandbox.clear_faults();
}

fn main() {
    if let Ok(mode) = std::env::var(CHILD_VAR) {
        memory_child(&mode);
        return;
    }
    let s = setup();
    let mut c = Criterion::default()
        .sample_size(10)
        .warm_up_time(Duration::from_secs(2))
        .measurement_time(Duration::from_secs(8))
        .configure_from_args();
    throughput(&mut c, &s);
    c.final_summary();
    allocations(&s);
    if common::is_bench_run() {
        interleaved(&s, 30);
        memory(&s);
    }
    println!(
        "sandbox: {} requests served in all",
        s.sandbox.stats().total()
    );
}
