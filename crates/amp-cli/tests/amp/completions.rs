//! `amp completions SHELL`, run as a process: a script for each shell that
//! names every command, printed without any configuration.

use std::process::{Command, Output};

const AMP: &str = env!("CARGO_BIN_EXE_amp");

/// Runs `amp` with `args` in an empty environment (no AMP_* variable, no
/// credentials: completions need none).
fn amp(args: &[&str]) -> Output {
    Command::new(AMP)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .unwrap()
}

/// The commands `amp --help` lists (without `help`), so this test follows
/// the command line instead of a copy of it.
fn commands() -> Vec<String> {
    let out = amp(&["--help"]);
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let names: Vec<String> = help
        .lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_string)
        .collect();
    assert!(names.len() >= 10, "{help}");
    names
}

#[test]
fn each_shell_gets_a_script_naming_every_command() {
    let commands = commands();
    assert!(commands.iter().any(|c| c == "completions"), "{commands:?}");
    // A line of each shell's own syntax, so an empty or wrong script fails.
    for (shell, marker) in [
        ("bash", "complete -F _amp"),
        ("zsh", "#compdef amp"),
        ("fish", "complete -c amp"),
    ] {
        let out = amp(&["completions", shell]);
        let script = String::from_utf8(out.stdout).unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{shell}: {stderr}");
        assert!(stderr.is_empty(), "{shell}: {stderr}");
        assert!(
            script.contains(marker),
            "{shell}: no {marker:?} in\n{script}"
        );
        for command in &commands {
            assert!(
                script.contains(command.as_str()),
                "{shell}: {command} is not completed"
            );
        }
        // Subcommands of subcommands too.
        for nested in ["status", "login", "refresh", "clear", "list", "validate"] {
            assert!(
                script.contains(nested),
                "{shell}: {nested} is not completed"
            );
        }
    }
}

#[test]
fn an_unknown_shell_is_a_usage_error() {
    let out = amp(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("tcsh") && stderr.contains("bash"),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
}
