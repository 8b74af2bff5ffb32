//! The agent bench, Unix only as the agent is; what it measures and how is
//! told in `agent.rs`.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::unix::net::{UnixListener, UnixStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::reqwest;
use amp_client::{AmpClient, Config, MemoryStore, Method};
use amp_sandbox::{Fault, Sandbox};
use criterion::{BenchmarkId, Criterion, SamplingMode, Throughput};
use tokio::runtime::Runtime;

const IN_FLIGHT: [usize; 2] = [1, 64];

/// One way of making the call.
#[derive(Clone)]
enum Caller {
    Direct(AmpClient),
    Agent {
        name: &'static str,
        http: reqwest::Client,
        url: String,
    },
}

impl Caller {
    fn name(&self) -> &'static str {
        match self {
            Caller::Direct(_) => "direct",
            Caller::Agent { name, .. } => name,
        }
    }

    /// One call; true for a 200 with its body read.
    async fn call(&self) -> bool {
        match self {
            Caller::Direct(client) => client
                .send(Method::GET, "assets/", None)
                .await
                .is_ok_and(|a| a.status().is_success() && !a.body().is_empty()),
            Caller::Agent { http, url, .. } => {
                let Ok(answer) = http.get(url).send().await else {
                    return false;
                };
                answer.status().is_success() && answer.bytes().await.is_ok_and(|b| !b.is_empty())
            }
        }
    }
}

/// `total` calls, `in_flight` at a time; the wall time and how many failed.
async fn drive(caller: &Caller, total: u64, in_flight: usize) -> (Duration, u64) {
    let remaining = Arc::new(AtomicI64::new(total as i64));
    let failed = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let workers: Vec<_> = (0..in_flight.min(total as usize).max(1))
        .map(|_| {
            let (caller, remaining, failed) = (caller.clone(), remaining.clone(), failed.clone());
            tokio::spawn(async move {
                while remaining.fetch_sub(1, Ordering::Relaxed) > 0 {
                    if !caller.call().await {
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

/// The median time of `n` single calls made one after the other.
async fn median_latency(caller: &Caller, n: usize) -> Duration {
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let start = Instant::now();
        assert!(caller.call().await, "{} failed", caller.name());
        times.push(start.elapsed());
    }
    times.sort();
    times[n / 2]
}

/// A child process (the agent, the relay): killed (SIGTERM) when dropped.
struct ChildProcess(Child);

impl Drop for ChildProcess {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

struct Setup {
    rt: Runtime,
    sandbox: Sandbox,
    callers: [Caller; 4],
    _agent: ChildProcess,
    _relay: ChildProcess,
    _dir: TempDir,
}

struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn setup() -> Setup {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    // No records: a long run must not grow the sandbox's memory.
    let sandbox = rt
        .block_on(Sandbox::builder().record_limit(0).start())
        .unwrap();
    let dir = TempDir(std::env::temp_dir().join(format!("amp-agent-bench-{}", std::process::id())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let socket = dir.0.join("agent.sock");
    let key_file = dir.0.join("agent.key");

    let mut cmd = Command::new(env!("CARGO_BIN_EXE_amp"));
    cmd.args(["agent", "--socket"])
        .arg(&socket)
        .args(["--listen", "127.0.0.1:0", "--key-file"])
        .arg(&key_file)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &dir.0)
        .env("AMP_API_BASE_URL", sandbox.base_url())
        .env("AMP_USERNAME", sandbox.username())
        .env("AMP_PASSWORD", sandbox.password())
        .env("AMP_TOKEN_STORE", "memory")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for passed_on in ["RUST_LOG", "TOKIO_WORKER_THREADS"] {
        if let Some(value) = std::env::var_os(passed_on) {
            cmd.env(passed_on, value);
        }
    }
    // The sandbox serves the agent's login on the runtime's workers while
    // this thread waits for the agent's lines.
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut url = None;
    for _ in 0..3 {
        let line = lines.next().unwrap().unwrap();
        if let Some(u) = line.strip_prefix("AMP_AGENT_URL=") {
            url = Some(u.to_string());
        }
    }
    let agent = ChildProcess(child);
    let key = std::fs::read_to_string(&key_file).unwrap();

    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap();
    let direct = AmpClient::builder(config)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap();
    let socket_caller = Caller::Agent {
        name: "agent_socket",
        http: reqwest::Client::builder()
            .unix_socket(socket.as_path())
            .build()
            .unwrap(),
        url: "http://amp/api/assets/".to_string(),
    };
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value = reqwest::header::HeaderValue::from_str(&key).unwrap();
    value.set_sensitive(true);
    headers.insert("x-amp-agent-key", value);
    let tcp_caller = Caller::Agent {
        name: "agent_tcp",
        http: reqwest::Client::builder()
            .default_headers(headers)
            .tcp_nodelay(true)
            .no_proxy()
            .build()
            .unwrap(),
        url: format!("{}/api/assets/", url.expect("the agent serves TCP")),
    };
    let relay_socket = dir.0.join("relay.sock");
    let relay = start_relay(&relay_socket, sandbox.addr());
    let mut headers = reqwest::header::HeaderMap::new();
    let mut value =
        reqwest::header::HeaderValue::from_str(&format!("token {}", sandbox.issue_token()))
            .unwrap();
    value.set_sensitive(true);
    headers.insert(reqwest::header::AUTHORIZATION, value);
    let relay_caller = Caller::Agent {
        name: "relay_socket",
        http: reqwest::Client::builder()
            .unix_socket(relay_socket.as_path())
            .default_headers(headers)
            .build()
            .unwrap(),
        url: "http://amp/api/assets/".to_string(),
    };
    let callers = [
        Caller::Direct(direct),
        socket_caller,
        tcp_caller,
        relay_caller,
    ];
    for c in &callers {
        assert!(
            rt.block_on(c.call()),
            "the first call of {} failed",
            c.name()
        );
    }
    Setup {
        rt,
        sandbox,
        callers,
        _agent: agent,
        _relay: relay,
        _dir: dir,
    }
}

fn check(failed: u64) {
    assert_eq!(failed, 0, "calls failed during the measurement");
}

fn criterion_figures(c: &mut Criterion, s: &Setup) {
    for in_flight in IN_FLIGHT {
        let mut g = c.benchmark_group(format!("agent/in_flight_{in_flight}"));
        g.throughput(Throughput::Elements(1));
        g.sampling_mode(SamplingMode::Flat);
        g.sample_size(20);
        g.measurement_time(Duration::from_secs(5));
        for caller in &s.callers {
            g.bench_function(BenchmarkId::from_parameter(caller.name()), |b| {
                b.iter_custom(|n| {
                    let (t, failed) = s.rt.block_on(drive(caller, n, in_flight));
                    check(failed);
                    t
                })
            });
        }
        g.finish();
    }
}

/// Median, minimum and maximum.
fn spread(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let median = if v.len() % 2 == 1 {
        v[v.len() / 2]
    } else {
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2.0
    };
    (median, v[0], v[v.len() - 1])
}

/// How long the sandbox holds every call before answering, and how much each
/// round measures: enough calls that a timed batch lasts a few tenths of a
/// second at that latency, and the whole bench stays within about 4 min.
struct Latency {
    amp: Duration,
    rounds: usize,
    /// Calls timed at 64 in flight per caller per round (a quarter as many
    /// again untimed first).
    per_round: u64,
    /// Single calls one after the other, per caller per round.
    latency_calls: usize,
}

const LATENCIES: [Latency; 4] = [
    // The sandbox on loopback, answering in tens of microseconds: the
    // agent's whole cost shows, the machine's cores the limit.
    Latency {
        amp: Duration::ZERO,
        rounds: 15,
        per_round: 4_000,
        latency_calls: 300,
    },
    Latency {
        amp: Duration::from_millis(1),
        rounds: 10,
        per_round: 4_000,
        latency_calls: 200,
    },
    Latency {
        amp: Duration::from_millis(5),
        rounds: 10,
        per_round: 2_560,
        latency_calls: 60,
    },
    // Nearer a remote AMP.
    Latency {
        amp: Duration::from_millis(20),
        rounds: 6,
        per_round: 1_280,
        latency_calls: 30,
    },
];

/// What one latency's rounds found: per caller (in `Setup::callers`'
/// order) the median throughput at 64 in flight; per other caller (the
/// agent's two, the relay) the ratio to direct and the added median
/// latency, each as median, minimum and maximum over the rounds.
struct Found {
    amp: Duration,
    rps: [f64; 4],
    ratio: [(f64, f64, f64); 3],
    added_us: [(f64, f64, f64); 3],
}

/// Rounds of the three callers, the order rotating: throughput at 64 in
/// flight and the median latency of single calls, each round's ratios.
fn rounds(s: &Setup, latency: &Latency) -> Found {
    let label = format!("amp_{}ms", latency.amp.as_millis());
    if latency.amp.is_zero() {
        s.sandbox.clear_faults();
    } else {
        s.sandbox
            .set_fault_rate("/assets", Fault::Delay(latency.amp), 1.0);
    }
    println!();
    let n = s.callers.len();
    let per_round = latency.per_round;
    let mut rps: Vec<Vec<f64>> = vec![Vec::new(); n];
    let mut times: Vec<Vec<f64>> = vec![Vec::new(); n];
    for round in 0..latency.rounds {
        for k in 0..n {
            let i = (round + k) % n;
            let caller = &s.callers[i];
            // Untimed first, so the caller before leaves nothing warm for this one.
            check(s.rt.block_on(drive(caller, per_round / 4, 64)).1);
            let (t, failed) = s.rt.block_on(drive(caller, per_round, 64));
            check(failed);
            rps[i].push(per_round as f64 / t.as_secs_f64());
            let median = s.rt.block_on(median_latency(caller, latency.latency_calls));
            times[i].push(median.as_secs_f64() * 1e6);
        }
    }
    s.sandbox.clear_faults();
    for i in 0..n {
        let (m, lo, hi) = spread(&rps[i]);
        let (lm, llo, lhi) = spread(&times[i]);
        println!(
            "RESULT {label} {}: {m:.0} calls/s at 64 in flight [{lo:.0} – {hi:.0}]; \
             median latency one at a time {lm:.1} µs [{llo:.1} – {lhi:.1}]",
            s.callers[i].name()
        );
    }
    let mut found = Found {
        amp: latency.amp,
        rps: [0.0; 4],
        ratio: [(0.0, 0.0, 0.0); 3],
        added_us: [(0.0, 0.0, 0.0); 3],
    };
    for (i, figures) in rps.iter().enumerate() {
        found.rps[i] = spread(figures).0;
    }
    for i in 1..n {
        let ratios: Vec<f64> = rps[i].iter().zip(&rps[0]).map(|(a, d)| a / d).collect();
        let added: Vec<f64> = times[i].iter().zip(&times[0]).map(|(a, d)| a - d).collect();
        let (m, lo, hi) = spread(&ratios);
        let (am, alo, ahi) = spread(&added);
        println!(
            "RESULT {label} {} / direct: throughput at 64 in flight {m:.3} [{lo:.3} – {hi:.3}]{}; \
             added median latency {am:.1} µs [{alo:.1} – {ahi:.1}]",
            s.callers[i].name(),
            if i < 3 { " (target ≥ 0.9)" } else { "" }
        );
        found.ratio[i - 1] = (m, lo, hi);
        found.added_us[i - 1] = (am, alo, ahi);
    }
    found
}

/// The summary of every latency, one row each, as a Markdown table (drop
/// the `RESULT ` in front of each line): throughput at 64 in flight
/// direct, through the socket and through TCP (medians over the rounds);
/// the ratio of each to direct and the added median latency, median
/// [min – max] over the rounds.
fn summary(found: &[Found]) {
    println!();
    println!(
        "RESULT | AMP answers after | direct, calls/s at 64 in flight | socket | TCP + key \
         | socket / direct | TCP / direct | added latency, socket | added latency, TCP \
         | added latency, byte relay |"
    );
    println!("RESULT |---|---|---|---|---|---|---|---|---|");
    let ratio = |(m, lo, hi): (f64, f64, f64)| format!("{m:.3} [{lo:.3}–{hi:.3}]");
    let added = |(m, lo, hi): (f64, f64, f64)| format!("{m:.0} µs [{lo:.0}–{hi:.0}]");
    for f in found {
        println!(
            "RESULT | {} ms | {:.0} | {:.0} | {:.0} | {} | {} | {} | {} | {} |",
            f.amp.as_millis(),
            f.rps[0],
            f.rps[1],
            f.rps[2],
            ratio(f.ratio[0]),
            ratio(f.ratio[1]),
            added(f.added_us[0]),
            added(f.added_us[1]),
            added(f.added_us[2]),
        );
    }
}

/// The hop alone: the median time of `GET /agent/status` over the socket
/// (the agent answers it itself, AMP is not called), and of the same call
/// made directly to the sandbox without a token (`GET /api/info`, answered
/// before any token check), one at a time.
fn hop_alone(s: &Setup) {
    let Caller::Agent { http, .. } = &s.callers[1] else {
        return;
    };
    let direct_http = reqwest::Client::builder().no_proxy().build().unwrap();
    let info = format!("{}/info", s.sandbox.base_url());
    let time = |http: &reqwest::Client, url: &str| {
        s.rt.block_on(async {
            let mut times = Vec::with_capacity(1000);
            for _ in 0..1000 {
                let start = Instant::now();
                let answer = http.get(url).send().await.unwrap();
                assert!(answer.status().is_success());
                answer.bytes().await.unwrap();
                times.push(start.elapsed());
            }
            times.sort();
            times[times.len() / 2].as_secs_f64() * 1e6
        })
    };
    let mut agent = Vec::new();
    let mut sandbox = Vec::new();
    for _ in 0..5 {
        agent.push(time(http, "http://amp/agent/status"));
        sandbox.push(time(&direct_http, &info));
    }
    let (am, alo, ahi) = spread(&agent);
    let (sm, slo, shi) = spread(&sandbox);
    println!(
        "RESULT hop alone: GET /agent/status over the socket {am:.1} µs [{alo:.1} – {ahi:.1}]; \
         GET /api/info from the sandbox in this process {sm:.1} µs [{slo:.1} – {shi:.1}] (medians of 1000, 5 runs)"
    );
}

/// The whole bench (see the crate's documentation in `agent.rs`).
pub fn run() {
    if let Some(args) = std::env::var_os(RELAY_ENV) {
        relay(args.to_str().expect("the relay's arguments"));
    }
    let bench_run = std::env::args().any(|a| a == "--bench");
    let s = setup();
    if !bench_run {
        // `cargo test --benches`: only prove it runs.
        for c in &s.callers {
            check(s.rt.block_on(drive(c, 64, 8)).1);
        }
        return;
    }
    // `AGENT_BENCH_ONLY=1,20`: those latencies' rounds only, without the
    // hop alone and criterion's figures (a minute instead of four).
    let only: Option<Vec<u128>> = std::env::var("AGENT_BENCH_ONLY").ok().map(|v| {
        v.split(',')
            .map(|ms| {
                ms.trim()
                    .parse()
                    .expect("AGENT_BENCH_ONLY: milliseconds, comma-separated")
            })
            .collect()
    });
    let mut c = Criterion::default().configure_from_args();
    if only.is_none() {
        hop_alone(&s);
        criterion_figures(&mut c, &s);
    }
    let found: Vec<Found> = LATENCIES
        .iter()
        .filter(|l| only.as_ref().is_none_or(|o| o.contains(&l.amp.as_millis())))
        .map(|l| rounds(&s, l))
        .collect();
    c.final_summary();
    summary(&found);
}

/// Set in the relay child (this same executable started again): the socket
/// it serves and the sandbox's address, separated by a space.
const RELAY_ENV: &str = "AMP_AGENT_BENCH_RELAY";

/// Starts the byte relay: this executable again, as a child process serving
/// `socket`, each connection copied to and from `upstream`.
fn start_relay(socket: &std::path::Path, upstream: SocketAddr) -> ChildProcess {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .env(RELAY_ENV, format!("{} {upstream}", socket.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    // One line once it listens.
    let mut ready = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut ready)
        .unwrap();
    assert_eq!(ready.trim(), "ready", "the relay did not start");
    ChildProcess(child)
}

/// The relay child: the least a second process in the path can do, to
/// tell the agent's own cost from what any hop through another process
/// costs on this machine. Bytes only (no HTTP parsing, no token: the caller
/// sends its own), blocking threads woken straight by the kernel, two per
/// connection. Never returns; ends when killed.
fn relay(args: &str) -> ! {
    let (socket, upstream) = args.split_once(' ').expect("socket and upstream");
    let upstream: SocketAddr = upstream.parse().expect("the upstream address");
    let listener = UnixListener::bind(socket).unwrap();
    let mut stdout = std::io::stdout();
    writeln!(stdout, "ready").unwrap();
    stdout.flush().unwrap();
    for caller in listener.incoming() {
        let Ok(caller) = caller else { continue };
        let Ok(amp) = TcpStream::connect(upstream) else {
            continue;
        };
        amp.set_nodelay(true).unwrap();
        let (caller2, amp2) = (caller.try_clone().unwrap(), amp.try_clone().unwrap());
        std::thread::spawn(move || copy_to_amp(caller, amp));
        std::thread::spawn(move || copy_to_caller(amp2, caller2));
    }
    std::process::exit(0)
}

fn copy_to_amp(mut from: UnixStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}

fn copy_to_caller(mut from: TcpStream, mut to: UnixStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Write);
}
