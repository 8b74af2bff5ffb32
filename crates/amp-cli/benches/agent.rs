//! What `amp agent` costs: the same call, `GET /api/assets/`, made directly
//! through `AmpClient::send` and through the agent (its Unix socket, and
//! loopback TCP with the key), in one run, against one in-process sandbox.
//!
//! * The agent is the real `amp` binary (built with the bench), started as
//!   a child process with its default logging (one line per request, sent
//!   to /dev/null here: formatted and written all the same). `RUST_LOG` is
//!   passed on when set, to measure it without its log lines.
//! * The bench process holds the sandbox, the direct client and the
//!   callers of the agent (reqwest, keep-alive pools), on one multi-thread
//!   runtime with 2 workers; the agent has its own runtime. All of it
//!   shares the machine's cores: through the agent, each call costs a second
//!   HTTP exchange (parse, route, answer) and a process switch on loopback.
//! * criterion times each path at 1 and at 64 in flight (time per call;
//!   throughput = 1 / time).
//! * Then rounds, the order of the three rotating from round to round so
//!   drift of the machine falls on all alike: throughput at 64 in flight
//!   (ratio agent / direct per round), and the median latency of single
//!   calls one after the other (added latency = agent − direct per round).
//! * The rounds are run four times: with the sandbox answering at once (on
//!   loopback, in tens of microseconds: the agent's whole cost shows), then
//!   after 1 ms, 5 ms and 20 ms (the sandbox's delay fault on every call;
//!   tokio's timer rounds a delay up to its next millisecond tick, alike
//!   for every caller: the sandbox holds a call as long whichever way it
//!   came, measured), nearer a remote API; fewer rounds for the longer
//!   delays, so the whole bench stays within about 4 minutes once built.
//!   `AGENT_BENCH_ONLY=1,20` runs those latencies' rounds alone.
//! * A fourth caller is the control: a byte relay, this executable started
//!   again as a child process, copying each connection on a Unix socket to
//!   the sandbox and back with blocking threads (the caller sends its own
//!   token). It is the least a second process in the path can cost. Its
//!   added latency stays near 50–100 µs at every delay, while the agent's
//!   grows with the delay: while the sandbox holds a call the machine's
//!   CPUs sit idle, and on a virtual machine the work done after a long
//!   idle runs slower (lost caches, a halted virtual CPU to resume), the
//!   more so the more work there is after AMP's answer (parse it, answer
//!   the caller, log the line) and the longer the idle. With the CPUs kept
//!   busy (`chrt -i 0 yes > /dev/null`, one per core, which yields to any
//!   other task at once) the agent's added latency stays about 100–250 µs
//!   at 0, 1 and 20 ms.
//!
//! Lines starting with `RESULT` are the summary (BENCHMARKS.md, "The agent");
//! the last ones a Markdown table, one row per latency: throughput at 64 in
//! flight direct, through the socket and TCP, the ratio of each to direct
//! and the added median latency of the agent and of the byte relay (median
//! [min – max] over the rounds).

// The agent serves a Unix socket: Unix only, and so is its bench.
// In a folder of its own, so cargo does not take it for a bench.
#[cfg(unix)]
#[path = "agent/unix.rs"]
mod unix;

fn main() {
    #[cfg(unix)]
    unix::run();
    #[cfg(not(unix))]
    eprintln!("the agent bench is skipped: amp agent runs on Unix only");
}
