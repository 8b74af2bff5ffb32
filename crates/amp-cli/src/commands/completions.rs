//! `amp completions SHELL`: the shell completion script, generated from the
//! command line's own description (clap_complete), so it never falls behind
//! a new command or flag. Needs no configuration.

use clap::CommandFactory;
use clap_complete::Shell;

use crate::cli::Cli;
use crate::failure::CliResult;
use crate::output::write_stdout;

/// Prints the completion script for `shell`.
pub fn run(shell: Shell) -> CliResult {
    write_stdout(&script(shell))
}

/// The completion script of `amp` for `shell`.
fn script(shell: Shell) -> String {
    let mut command = Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "amp", &mut out);
    // The scripts are made of our command's names and help, all UTF-8.
    String::from_utf8_lossy(&out).into_owned()
}
