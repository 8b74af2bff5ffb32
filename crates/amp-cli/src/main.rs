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
    let default_filter = match cli.command {
        cli::Command::Agent(_) => "warn,amp::agent=info",
        _ => "warn",
    };
    init_logging(default_filter);
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
                // Nothing better to do if stderr itself is gone.
                let _ = writeln!(std::io::stderr(), "error: {}", failure.for_terminal());
            }
            failure.exit_code()
        }
    }
}

/// Logs go to stderr, filtered by `RUST_LOG` (default `default_filter`), so
/// stdout carries only the answer; control characters in them are escaped
/// (see `output::log_writer`).
fn init_logging(default_filter: &str) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(output::log_writer)
        .with_ansi(false)
        .init();
}
