//! What can end a command, and the exit status each case maps to.
//!
//! 0 success; 2 usage or configuration (the message names the flag or
//! variable, and nothing was sent); 1 anything else, with the cause and the
//! number of attempts.

use std::fmt;
use std::process::ExitCode;

/// A command's failure, ready to print as `error: <message>`.
#[derive(Debug)]
pub struct Failure {
    /// Which exit status.
    kind: Kind,
    /// What to print after `error: `.
    message: String,
}

/// Which exit status a failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A bad argument or configuration value: exit 2.
    Usage,
    /// Network, authentication, API or local I/O: exit 1.
    Runtime,
    /// Whoever read stdout has gone (`amp … | head`): stop, say nothing, exit 0.
    Quiet,
}

/// The result of a command.
pub type CliResult<T = ()> = Result<T, Failure>;

impl Failure {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::Usage,
            message: message.into(),
        }
    }

    /// Any other failure (exit 1).
    pub fn runtime(message: impl Into<String>) -> Failure {
        Failure {
            kind: Kind::Runtime,
            message: message.into(),
        }
    }

    /// Stop without a message: the reader of stdout has gone.
    pub fn quiet() -> Failure {
        Failure {
            kind: Kind::Quiet,
            message: String::new(),
        }
    }

    /// Whether to print nothing.
    pub fn is_quiet(&self) -> bool {
        self.kind == Kind::Quiet
    }

    /// The message as printed after `error: `: one line, control characters
    /// and escape sequences escaped (`\u{1b}`). Errors carry server text
    /// (the library escapes what it parses, but a message may quote an
    /// answer it could not parse), and a terminal must never act on it.
    pub fn for_terminal(&self) -> String {
        amp_client::text::escape_controls_line(&self.message).into_owned()
    }

    /// Which exit status this maps to.
    #[cfg(test)]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The process exit status.
    pub fn exit_code(&self) -> ExitCode {
        match self.kind {
            Kind::Usage => ExitCode::from(2),
            Kind::Runtime => ExitCode::from(1),
            Kind::Quiet => ExitCode::SUCCESS,
        }
    }

    /// A library error, with the flag named instead of its variable when the
    /// value came from that flag (see [`FlagNames`]).
    pub fn from_client(error: &amp_client::Error, flags: &FlagNames) -> Failure {
        if error.is_config() {
            let message = error.root().to_string();
            // "configuration error: VARIABLE: reason", with the flag named
            // instead when the value came from it.
            let message = match error.setting() {
                Some(name) => {
                    let named = format!("configuration error: {name}: ");
                    match message.strip_prefix(&named) {
                        Some(reason) => {
                            format!("configuration error: {}: {reason}", flags.display(name))
                        }
                        None => message,
                    }
                }
                None => message,
            };
            return Failure::usage(message);
        }
        if error.is_invalid_input() {
            // An argument the library cannot use (an id with a slash …): usage.
            return Failure::usage(error.to_string());
        }
        let mut message = error.to_string();
        // Retried failures already say "failed after N attempts"; say it for
        // the ones that stopped at the first attempt too, so scripts and people
        // always learn how hard we tried.
        if let Some(n) = error.attempts() {
            if !message.contains(" attempt") {
                let s = if n == 1 { "" } else { "s" };
                message = format!("{message} (failed after {n} attempt{s})");
            }
        }
        Failure::runtime(message)
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Which environment variables were given by a flag on this command line, so
/// that an error names what the user actually typed.
#[derive(Debug, Clone, Default)]
pub struct FlagNames {
    /// (variable, flag) pairs.
    pairs: Vec<(&'static str, &'static str)>,
}

impl FlagNames {
    /// Records that `variable` was set by `flag`.
    pub fn add(&mut self, variable: &'static str, flag: &'static str) {
        self.pairs.push((variable, flag));
    }

    /// `--base-url` for `AMP_API_BASE_URL` when it came from the flag, else the name itself.
    pub fn display<'a>(&self, name: &'a str) -> &'a str {
        self.pairs
            .iter()
            .find(|(variable, _)| *variable == name)
            .map_or(name, |(_, flag)| flag)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_exit_2_and_name_the_flag_when_it_was_used() {
        let e = amp_client::Config::builder()
            .base_url("not a url")
            .build()
            .unwrap_err();
        let plain = Failure::from_client(&e, &FlagNames::default());
        assert_eq!(plain.kind(), Kind::Usage);
        assert!(plain.to_string().contains("AMP_API_BASE_URL"), "{plain}");
        let mut flags = FlagNames::default();
        flags.add("AMP_API_BASE_URL", "--base-url");
        let named = Failure::from_client(&e, &flags);
        assert!(named.to_string().contains("--base-url"), "{named}");
        assert!(!named.to_string().contains("AMP_API_BASE_URL"), "{named}");
    }

    #[test]
    fn messages_for_the_terminal_are_one_line_without_escape_sequences() {
        let f = Failure::runtime("GET /x: \u{1b}]0;owned\u{7}\nerror: fake\u{9b}2J");
        assert_eq!(
            f.for_terminal(),
            r"GET /x: \u{1b}]0;owned\u{7}\nerror: fake\u{9b}2J"
        );
        assert_eq!(Failure::usage("plain").for_terminal(), "plain");
    }

    /// A malformed answer at the first attempt, and a 503 three times over.
    async fn errors_from_a_server() -> (amp_client::Error, amp_client::Error) {
        use amp_sandbox::{Fault, Sandbox};
        let sandbox = Sandbox::start().await.unwrap();
        let config = amp_client::Config::builder()
            .base_url(sandbox.base_url())
            .credentials(sandbox.username(), sandbox.password())
            .retry(amp_client::RetryConfig {
                max_attempts: 3,
                base_delay: std::time::Duration::from_millis(1),
                max_delay: std::time::Duration::from_millis(1),
            })
            .build()
            .unwrap();
        let client = amp_client::AmpClient::new(config).unwrap();
        sandbox.push_fault("/assets/", Fault::MalformedBody);
        let once = client.assets().list().await.unwrap_err();
        for _ in 0..3 {
            sandbox.push_fault("/assets/", Fault::Status(503));
        }
        let thrice = client.assets().list().await.unwrap_err();
        (once, thrice)
    }

    #[test]
    fn other_errors_exit_1_and_say_the_attempts() {
        // Real errors from a real server: the library's constructors are its own.
        let (once, thrice) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(errors_from_a_server());
        let f = Failure::from_client(&once, &FlagNames::default());
        assert_eq!(f.kind(), Kind::Runtime);
        assert!(
            f.to_string()
                .starts_with("GET /assets/: malformed answer: unexpected JSON: "),
            "{f}"
        );
        assert!(f.to_string().ends_with(" (failed after 1 attempt)"), "{f}");
        let f = Failure::from_client(&thrice, &FlagNames::default());
        assert!(f
            .to_string()
            .starts_with("GET /assets/ failed after 3 attempts: "));
        assert!(!f.to_string().ends_with("attempts)"), "{f}");
    }
}
