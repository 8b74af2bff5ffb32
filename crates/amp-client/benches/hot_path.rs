//! Figure 1 of issue 7: `TokenManager::token()` with a valid token.
//!
//! * one task: N calls timed inside one `block_on` of a current-thread runtime
//!   (the valid-token path never awaits, so this is the cost a caller pays);
//! * two OS threads calling the same manager at once, each timing its own N
//!   calls (and calling on, untimed, until the other is done too, so every
//!   timed call ran under contention); the figure is the mean of the two;
//! * the same for the "common design": a `tokio::sync::Mutex<Option<…>>`
//!   locked on every call, the expiry checked against `Utc::now()`, the
//!   `String` cloned;
//! * allocations per call, counted by a `#[global_allocator]` wrapper around
//!   `System` that counts only on a thread that asked it to (a thread-local
//!   flag, so the criterion harness and other threads are not counted).

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::Future;
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Clock, Config, ManualClock, MemoryStore, SystemClock, TokenData};
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion};
use tokio::runtime::Runtime;

// ---------------------------------------------------------------- allocations

struct CountingAlloc;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn note_allocation() {
    // `try_with`: never panic inside the allocator, even during thread teardown.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
        }
    });
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

/// Allocations made by this thread while `f` runs.
fn allocations_during<R>(f: impl FnOnce() -> R) -> (R, u64) {
    ALLOCATIONS.with(|n| n.set(0));
    COUNTING.with(|on| on.set(true));
    let r = f();
    COUNTING.with(|on| on.set(false));
    (r, ALLOCATIONS.with(|n| n.get()))
}

// ---------------------------------------------------------------- the two designs

const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";

/// Something that hands out a valid token; the bench calls it in a loop.
trait TokenSource: Sync {
    fn call(&self) -> impl Future<Output = ()>;
}

/// Ours: the client's own token manager.
struct Ours(AmpClient);

impl TokenSource for Ours {
    async fn call(&self) {
        black_box(self.0.token_manager().token().await.unwrap());
    }
}

/// The common design the issue compares against.
struct CommonDesign {
    cell: tokio::sync::Mutex<Option<CommonToken>>,
}

struct CommonToken {
    token: String,
    expires_at: DateTime<Utc>,
}

impl CommonDesign {
    fn new() -> CommonDesign {
        CommonDesign {
            cell: tokio::sync::Mutex::new(Some(CommonToken {
                token: TOKEN.to_string(),
                expires_at: Utc::now() + chrono::Duration::hours(24),
            })),
        }
    }

    async fn token(&self) -> Option<String> {
        let guard = self.cell.lock().await;
        let t = guard.as_ref()?;
        // `None` would mean "refresh now"; never taken here.
        (Utc::now() + chrono::Duration::minutes(5) < t.expires_at).then(|| t.token.clone())
    }
}

impl TokenSource for CommonDesign {
    async fn call(&self) {
        black_box(self.token().await.unwrap());
    }
}

fn current_thread() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A client holding a token valid for 24 h on `clock`, pointed at a port
/// nobody listens on: the hot path never sends anything.
fn ours(clock: Arc<dyn Clock>) -> Ours {
    let config = Config::builder()
        .base_url("http://127.0.0.1:9/api")
        .credentials("bench-user", "bench-password")
        .build()
        .unwrap();
    let now = clock.now();
    let client = AmpClient::builder(config)
        .clock(clock)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    current_thread()
        .block_on(client.token_manager().set_token(TokenData::new(
            TOKEN,
            now,
            now + chrono::Duration::hours(24),
        )))
        .unwrap();
    Ours(client)
}

// ---------------------------------------------------------------- loops

/// `iters` calls on this thread, timed.
fn one_task(rt: &Runtime, source: &impl TokenSource, iters: u64) -> Duration {
    rt.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            source.call().await;
        }
        start.elapsed()
    })
}

/// Two threads, each timing `iters` calls and then calling on, untimed, until
/// the other has finished its timed calls. Returns each thread's (time, allocations).
fn two_threads(source: &impl TokenSource, iters: u64) -> [(Duration, u64); 2] {
    let start = Barrier::new(2);
    let finished = AtomicUsize::new(0);
    std::thread::scope(|s| {
        let run = || {
            let rt = current_thread();
            start.wait();
            let (elapsed, allocations) = allocations_during(|| {
                rt.block_on(async {
                    let t0 = Instant::now();
                    for _ in 0..iters {
                        source.call().await;
                    }
                    t0.elapsed()
                })
            });
            finished.fetch_add(1, Ordering::AcqRel);
            rt.block_on(async {
                while finished.load(Ordering::Acquire) < 2 {
                    for _ in 0..64 {
                        source.call().await;
                    }
                }
            });
            (elapsed, allocations)
        };
        let a = s.spawn(run);
        let b = s.spawn(run);
        [a.join().unwrap(), b.join().unwrap()]
    })
}

fn mean_time(pair: [(Duration, u64); 2]) -> Duration {
    (pair[0].0 + pair[1].0) / 2
}

// ---------------------------------------------------------------- benches

const COUNT_CALLS: u64 = 100_000;

fn report_allocations(name: &str, allocations: u64, calls: u64) {
    println!(
        "RESULT allocations {name}: {allocations} in {calls} calls = {:.3} per call",
        allocations as f64 / calls as f64
    );
}

fn allocations(_c: &mut Criterion) {
    let rt = current_thread();
    let system = ours(Arc::new(SystemClock));
    let common = CommonDesign::new();
    // Warm up once (lazy statics, the runtime's first poll) before counting.
    one_task(&rt, &system, 1000);
    one_task(&rt, &common, 1000);
    let (_, n) = allocations_during(|| one_task(&rt, &system, COUNT_CALLS));
    report_allocations("ours, one task", n, COUNT_CALLS);
    let (_, n) = allocations_during(|| one_task(&rt, &common, COUNT_CALLS));
    report_allocations("common design, one task", n, COUNT_CALLS);
    let [a, b] = two_threads(&system, COUNT_CALLS);
    report_allocations("ours, two threads", a.1 + b.1, 2 * COUNT_CALLS);
    let [a, b] = two_threads(&common, COUNT_CALLS);
    report_allocations("common design, two threads", a.1 + b.1, 2 * COUNT_CALLS);
}

fn single(c: &mut Criterion) {
    let rt = current_thread();
    let system = ours(Arc::new(SystemClock));
    let manual = ours(Arc::new(ManualClock::new(Utc::now())));
    let common = CommonDesign::new();
    let mut g = c.benchmark_group("hot_path/one_task");
    g.bench_function("ours", |b| b.iter_custom(|n| one_task(&rt, &system, n)));
    g.bench_function("ours_manual_clock", |b| {
        b.iter_custom(|n| one_task(&rt, &manual, n))
    });
    g.bench_function("common_design", |b| {
        b.iter_custom(|n| one_task(&rt, &common, n))
    });
    g.finish();
}

fn contended(c: &mut Criterion) {
    let system = ours(Arc::new(SystemClock));
    let common = CommonDesign::new();
    let mut g = c.benchmark_group("hot_path/two_threads_per_thread");
    g.bench_function("ours", |b| {
        b.iter_custom(|n| mean_time(two_threads(&system, n)))
    });
    g.bench_function("common_design", |b| {
        b.iter_custom(|n| mean_time(two_threads(&common, n)))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .sample_size(40)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    targets = allocations, single, contended
}
criterion_main!(benches);
