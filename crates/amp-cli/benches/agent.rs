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
//!   for every caller), nearer a remote API; fewer rounds for the longer
//!   delays, so the whole bench stays within about 4 minutes once built.
//!
//! Lines starting with `RESULT` are the summary (BENCHMARKS.md, "The agent");
//! the last ones a Markdown table, one row per latency: throughput at 64 in
//! flight direct, through the socket and TCP, the ratio of each to direct
//! and the added median latency (median [min – max] over the rounds).

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
