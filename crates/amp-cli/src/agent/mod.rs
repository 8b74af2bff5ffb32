//! `amp agent`: one client for one account, serving AMP's API to every
//! program on the host, in any language, with no credentials and no token
//! code in them (as Vault Agent does for Vault tokens).
//!
//! `METHOD /api/<path>` on the agent's Unix socket (or loopback TCP, with
//! the key) is sent to AMP by the library's client with the managed token
//! and the client's whole behaviour: retries within the budget, a 429
//! pausing every caller, a refused token replaced and the call replayed,
//! the timeouts. AMP's status and body come back as they came (but for a
//! redirect the client would not follow: 502, see `proxy`; and a token the
//! body echoes, which the client replaces by `[REDACTED]`). The token
//! is kept fresh in the background, and any token store works, so agents
//! on several hosts can share one login through Redis.
//!
//! * `listen`: the socket and TCP listeners, the key;
//! * `serve`: the connections, under a cap and a head timeout;
//! * `route`: where a path goes (AMP's API, the status, refused);
//! * `body`: a request's body read under its caps, or drained;
//! * `proxy`: one request, from the caller to AMP and back;
//! * `status`: `GET /agent/status`.

mod body;
mod listen;
mod proxy;
mod route;
mod serve;
mod status;

use std::sync::Arc;
use std::time::Duration;

use axum::serve::ListenerExt;
use axum::Router;

use crate::cli::AgentArgs;
use crate::commands::Ctx;
use crate::failure::{CliResult, Failure};
use crate::output;
use crate::settings::{self, Overrides};

use proxy::{Agent, Door, Limits};

/// The target of the agent's log lines (`RUST_LOG=amp::agent=info`, the
/// agent's default).
pub const LOG_TARGET: &str = "amp::agent";

/// Runs the agent until SIGTERM or Ctrl-C.
///
/// The listeners are bound first (a live agent on the socket stops this
/// one before it logs in), then the client is built with the token kept
/// fresh, and the first token is awaited: credentials AMP refuses stop the
/// agent at once, while AMP being unreachable only delays the token (the
/// agent serves, and callers wait for the token or get the failure).
/// When ready, it prints where it listens on stdout, as shell assignments
/// (a path quoted when a shell would read it otherwise):
///
/// ```text
/// AMP_AGENT_SOCKET=/run/user/1000/amp/agent.sock
/// AMP_AGENT_URL=http://127.0.0.1:8700
/// AMP_AGENT_KEY_FILE=/run/user/1000/amp/agent.key
/// ```
pub async fn run(args: AgentArgs, overrides: &Overrides, json: bool) -> CliResult {
    // Bounded above too: a timeout is added to an `Instant` (one beyond
    // its range panics in every connection's task), and tokio's semaphore
    // panics past `usize::MAX >> 3` permits.
    const DAY: u64 = 24 * 3600;
    for (flag, value, least, most) in [
        ("--max-in-flight", args.max_in_flight as u64, 1, 1_000_000),
        (
            "--max-connections",
            args.max_connections as u64,
            1,
            1_000_000,
        ),
        ("--head-timeout", args.head_timeout, 1, DAY),
        ("--body-timeout", args.body_timeout, 1, DAY),
        ("--shutdown-timeout", args.shutdown_timeout, 0, DAY),
        ("--max-body-bytes", args.max_body_bytes as u64, 0, 1 << 30),
    ] {
        if value < least {
            return Err(Failure::usage(format!("{flag}: must be at least {least}")));
        }
        if value > most {
            return Err(Failure::usage(format!("{flag}: must be at most {most}")));
        }
    }
    // Taken over first: a SIGTERM while the agent starts (logging in) is a
    // stop like any other, and the socket file is removed.
    let mut stop = Stop::install()?;
    let socket_path = match (&args.socket, &args.listen) {
        (Some(path), _) => Some((path.clone(), false)),
        (None, None) => Some((listen::default_socket()?, true)),
        (None, Some(_)) => None,
    };
    let tcp = match &args.listen {
        Some(addr) => Some(listen::bind_tcp(addr).await?),
        None => None,
    };
    let socket = match &socket_path {
        Some((path, default)) => Some(listen::bind_socket(path, *default)?),
        None => None,
    };
    let key = match &tcp {
        Some(_) => {
            let path = match &args.key_file {
                Some(path) => path.clone(),
                None => listen::default_key_file()?,
            };
            let key = listen::Key::generate()?;
            let placed = key.write(&path)?;
            Some((Arc::new(key), placed))
        }
        None => None,
    };

    let client = settings::service_client(overrides, &|name| std::env::var(name).ok())?;
    let ctx = Ctx {
        client,
        json,
        flags: overrides.flag_names(),
        jobs_dir: None,
    };
    // The store's first read and the first login both wait on the network
    // or a lock: a stop is heard during either.
    let starting = async {
        ctx.need_credentials(true).await?;
        first_token(&ctx).await
    };
    tokio::select! {
        started = starting => started?,
        () = stop.next() => {
            tracing::info!(target: LOG_TARGET, "stopped while starting");
            return Ok(());
        }
    }

    let mut listening = Vec::new();
    let mut ready = String::new();
    if let Some((_, placed)) = &socket {
        listening.push(format!("unix:{}", placed.path().display()));
        let path = shell_word(&placed.path().display().to_string());
        ready.push_str(&format!("AMP_AGENT_SOCKET={path}\n"));
    }
    let tcp_addr = match &tcp {
        Some(l) => Some(
            l.local_addr()
                .map_err(|e| Failure::runtime(format!("the TCP listener has no address: {e}")))?,
        ),
        None => None,
    };
    if let (Some(addr), Some((_, placed))) = (tcp_addr, &key) {
        listening.push(format!("tcp:{addr}"));
        let path = shell_word(&placed.path().display().to_string());
        ready.push_str(&format!(
            "AMP_AGENT_URL=http://{addr}\nAMP_AGENT_KEY_FILE={path}\n"
        ));
    }
    let limits = Limits {
        max_body_bytes: args.max_body_bytes,
        max_in_flight: args.max_in_flight,
        body_timeout: Duration::from_secs(args.body_timeout),
    };
    let agent = Arc::new(Agent::new(ctx.client.clone(), limits, listening));

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // A pool of connection slots per listener: any local user can connect
    // to the TCP port (the key is checked per request, once connected), and
    // must not be able to take the slots of the socket, which only this
    // user can reach.
    let connections = || serve::Connections {
        slots: Arc::new(tokio::sync::Semaphore::new(args.max_connections)),
        head_timeout: Duration::from_secs(args.head_timeout),
    };
    let mut servers = tokio::task::JoinSet::new();
    let (socket_listener, socket_placed) = match socket {
        Some((l, p)) => (Some(l), Some(p)),
        None => (None, None),
    };
    if let Some(listener) = socket_listener {
        let router = Router::new().fallback(proxy::handle).with_state(Door {
            agent: Arc::clone(&agent),
            key: None,
        });
        servers.spawn(serve::serve(
            listener,
            router,
            connections(),
            stop_rx.clone(),
        ));
    }
    if let (Some(listener), Some((key, _))) = (tcp, &key) {
        let router = Router::new().fallback(proxy::handle).with_state(Door {
            agent: Arc::clone(&agent),
            key: Some(Arc::clone(key)),
        });
        // Small requests and answers: Nagle's delay would only add latency.
        let listener = listener.tap_io(|stream| {
            let _ = stream.set_nodelay(true);
        });
        servers.spawn(serve::serve(
            listener,
            router,
            connections(),
            stop_rx.clone(),
        ));
    }
    drop(stop_rx);
    // Where to call, for a script that started the agent; a closed stdout
    // (a service manager's) is no reason to stop serving.
    if output::write_stdout(&ready).is_err() {
        tracing::debug!(target: LOG_TARGET, "stdout is closed; the listening lines were not printed");
    }
    tracing::info!(target: LOG_TARGET, listening = ?agent.listening, "serving");

    stop.next().await;
    let in_flight = agent.in_flight();
    tracing::info!(target: LOG_TARGET, in_flight, "stopping: no new connections; finishing what is in flight");
    let _ = stop_tx.send(true);
    // New callers find no socket at once (rather than a refused connection).
    if let Some(placed) = &socket_placed {
        placed.remove();
    }
    let grace = Duration::from_secs(args.shutdown_timeout);
    let drained = tokio::time::timeout(grace, async {
        while servers.join_next().await.is_some() {}
    });
    // A second SIGTERM or Ctrl-C means now: whoever sends it has decided
    // the calls in flight are not worth the wait.
    tokio::select! {
        finished = drained => match finished {
            Ok(()) => tracing::info!(target: LOG_TARGET, "stopped"),
            Err(_) => tracing::warn!(
                target: LOG_TARGET,
                in_flight = agent.in_flight(),
                "requests still in flight after --shutdown-timeout ({} s); exiting without them",
                args.shutdown_timeout
            ),
        },
        () = stop.next() => tracing::warn!(
            target: LOG_TARGET,
            in_flight = agent.in_flight(),
            "a second stop signal: exiting without the requests in flight"
        ),
    }
    drop(key);
    drop(socket_placed);
    Ok(())
}

/// Waits for the first token, so that refused credentials stop the agent
/// at once (with exit status 1 and the reason) instead of failing every
/// call. Any other failure (AMP unreachable, a 5xx) is only logged: a
/// daemon started before the network is up must not die of it, and the
/// client keeps trying for each call and in the background.
async fn first_token(ctx: &Ctx) -> CliResult {
    match ctx.client.token_manager().token().await {
        Ok(_) => Ok(()),
        Err(e) if e.is_credentials_refused() || e.is_config() => {
            Err(Failure::from_client(&e, &ctx.flags))
        }
        Err(e) => {
            tracing::warn!(target: LOG_TARGET, error = %e, "no token yet; serving anyway (calls obtain one when AMP answers)");
            Ok(())
        }
    }
}

/// SIGTERM (a service manager stopping the agent) or SIGINT (Ctrl-C),
/// heard from the moment the agent starts: the first asks it to stop, a
/// second one during the drain to stop at once.
struct Stop {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Stop {
    fn install() -> CliResult<Stop> {
        use tokio::signal::unix::{signal, SignalKind};
        let signal_error =
            |e: std::io::Error| Failure::runtime(format!("cannot wait for SIGTERM: {e}"));
        Ok(Stop {
            term: signal(SignalKind::terminate()).map_err(signal_error)?,
            int: signal(SignalKind::interrupt()).map_err(signal_error)?,
        })
    }

    /// The next signal of either kind.
    async fn next(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

/// `text` as one word of a shell command: as it is when it holds only
/// characters no shell reads specially, else single-quoted (a quote in it
/// written `'\''`). The ready lines are shell assignments, for a script to
/// source from wherever it sent the agent's stdout: a path with a space,
/// `$(…)` or a backtick must stay a path, not run.
fn shell_word(text: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-:@+,%".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_words_are_quoted_only_when_a_shell_would_read_them() {
        assert_eq!(
            shell_word("/run/user/1000/amp/agent.sock"),
            "/run/user/1000/amp/agent.sock"
        );
        assert_eq!(shell_word("/tmp/a b/agent.sock"), "'/tmp/a b/agent.sock'");
        assert_eq!(shell_word("/tmp/$(x)`y`"), "'/tmp/$(x)`y`'");
        assert_eq!(shell_word("/tmp/it's"), r"'/tmp/it'\''s'");
        assert_eq!(shell_word(""), "''");
    }
}
