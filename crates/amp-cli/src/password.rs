//! New passwords (`user change-password`, `managers create`,
//! `managers change-password`): never a flag, since flags show in `ps` and
//! in shell history.
//!
//! In this order: the variable [`NEW_PASSWORD_VAR`] when it is set; else, when
//! stdin is a terminal, a prompt on the terminal that does not echo, typed
//! twice (rpassword); else the first line of stdin, its line ending
//! removed. The password goes straight into a [`SecretString`], and the
//! buffers it passed through are wiped.

use std::io::{BufRead, IsTerminal};

use amp_client::model::SecretString;
use secrecy::ExposeSecret;
use zeroize::Zeroize;

use crate::failure::{CliResult, Failure};

/// The variable a new password may come from.
pub const NEW_PASSWORD_VAR: &str = "AMP_NEW_PASSWORD";

/// The new password for `whom` (e.g. "manager fund-manager"), from the
/// first source that has one.
pub fn new_password(whom: &str) -> CliResult<SecretString> {
    match std::env::var(NEW_PASSWORD_VAR) {
        Ok(mut value) => {
            let secret = checked(&value, NEW_PASSWORD_VAR);
            value.zeroize();
            return secret;
        }
        Err(std::env::VarError::NotUnicode(_)) => {
            return Err(Failure::usage(format!(
                "{NEW_PASSWORD_VAR}: is not valid Unicode"
            )))
        }
        Err(std::env::VarError::NotPresent) => {}
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        prompt_twice(whom)
    } else {
        first_line(stdin.lock())
    }
}

/// The password typed twice at the terminal, without echo.
fn prompt_twice(whom: &str) -> CliResult<SecretString> {
    let read = |prompt: &str| -> CliResult<SecretString> {
        let mut typed = rpassword::prompt_password(prompt).map_err(|e| {
            Failure::runtime(format!(
                "cannot read the new password from the terminal: {e}"
            ))
        })?;
        let secret = checked(&typed, "the new password");
        typed.zeroize();
        secret
    };
    let first = read(&format!("New password for {whom}: "))?;
    let again = read("The same again: ")?;
    if first.expose_secret() != again.expose_secret() {
        return Err(Failure::usage(
            "the two passwords typed differ; nothing was changed",
        ));
    }
    Ok(first)
}

/// The first line of `input`, without its line ending.
fn first_line(mut input: impl BufRead) -> CliResult<SecretString> {
    // Sized up front so that a usual password is never copied by a regrowth
    // the wipe below could not reach.
    let mut line = String::with_capacity(1024);
    let read = input.read_line(&mut line);
    let trimmed_len = line.trim_end_matches(['\n', '\r']).len();
    let result = match read {
        Err(e) => Err(Failure::runtime(format!(
            "cannot read the new password from stdin: {e}"
        ))),
        Ok(0) => Err(Failure::usage(format!(
            "no new password on stdin (it is read from its first line; or set {NEW_PASSWORD_VAR})"
        ))),
        Ok(_) => checked(&line[..trimmed_len], "the new password on stdin"),
    };
    line.zeroize();
    result
}

/// `text` as a secret, unless it is empty.
fn checked(text: &str, what: &str) -> CliResult<SecretString> {
    if text.is_empty() {
        return Err(Failure::usage(format!("{what}: is empty")));
    }
    Ok(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn the_first_line_of_stdin_without_its_ending() {
        let p = first_line(Cursor::new("s3cret pass\r\nsecond line\n")).unwrap();
        assert_eq!(p.expose_secret(), "s3cret pass");
        let p = first_line(Cursor::new("no newline")).unwrap();
        assert_eq!(p.expose_secret(), "no newline");
    }

    #[test]
    fn nothing_or_an_empty_line_is_a_usage_error() {
        let none = first_line(Cursor::new("")).unwrap_err();
        assert_eq!(none.kind(), crate::failure::Kind::Usage);
        assert!(none.to_string().contains(NEW_PASSWORD_VAR), "{none}");
        let empty = first_line(Cursor::new("\nlater")).unwrap_err();
        assert!(empty.to_string().contains("is empty"), "{empty}");
    }

    #[test]
    fn errors_never_hold_the_password() {
        // The only error with input in hand is "empty": nothing to show.
        let e = checked("", NEW_PASSWORD_VAR).unwrap_err();
        assert_eq!(e.to_string(), "AMP_NEW_PASSWORD: is empty");
    }
}
