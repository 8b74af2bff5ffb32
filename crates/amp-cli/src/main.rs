//! `amp`: the Blockstream AMP API from the shell, over the `amp_client`
//! library, and a local sandbox to try it on. `amp demo` shows the token's
//! whole life without credentials or network.
//!
//! This file only parses, runs and maps the outcome to an exit status:
//! 0 success, 2 usage or configuration error, 1 any other failure.

#![forbid(unsafe_code)]

// The agent serves a Unix socket (and the file modes guard it): Unix only;
// elsewhere `amp agent` says so (commands::run).
#[cfg(unix)]
mod agent;
mod body;
mod cli;
mod commands;
mod demo;
mod failure;
mod output;
mod password;
mod settings;

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;
use crate::failure::Failure;
use crate::settings::Overrides;

fn main() -> ExitCode {
    // clap prints usage errors itself and exits 2 (0 for --help and --version).
    let cli = Cli::parse();
    let overrides = Overrides::from_cli(&cli);
    // The agent is a daemon: its one line per request is its log (info);
    // a command logs only warnings unless asked.
    let is_agent = matches!(cli.command, cli::Command::Agent(_));
    let default_filter = if is_agent {
        "warn,amp::agent=info"
    } else {
        "warn"
    };
    // The agent's log lines must never block its workers (a stderr piped
    // and never read): they go through a queue, dropped when it is full.
    // The guard writes out the last ones at exit.
    let guard = init_logging(default_filter, is_agent);
    let outcome = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the async runtime: {e}")))
        .and_then(|runtime| {
            let outcome = runtime.block_on(commands::run(cli, overrides));
            // Work still running on the blocking pool (a store file on a
            // hung NFS mount, a name lookup) must not keep the process
            // alive once the command is done or the agent has stopped:
            // what it was for has been answered or given up.
            runtime.shutdown_timeout(std::time::Duration::from_secs(1));
            outcome
        });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.is_quiet() {
                let message = format!("error: {}", failure.for_terminal());
                match &guard {
                    // Behind the log lines, and no more blocking than they are.
                    Some(guard) => guard.write_line(&message),
                    // Nothing better to do if stderr itself is gone.
                    None => {
                        let _ = writeln!(std::io::stderr(), "{message}");
                    }
                }
            }
            failure.exit_code()
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `default_filter`), so
/// stdout carries only the answer; control characters in them are escaped
/// (see `output::log_writer`). With `lossy`, through
/// `output::lossy_log_writer`, whose guard is returned to be kept to the end.
fn init_logging(default_filter: &str, lossy: bool) -> Option<output::LogGuard> {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false);
    if lossy {
        let (writer, guard) = output::lossy_log_writer();
        subscriber.with_writer(move || writer.clone()).init();
        Some(guard)
    } else {
        subscriber.with_writer(output::log_writer).init();
        None
    }
}
