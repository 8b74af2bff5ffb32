//! The username and password used to obtain a token.

use secrecy::SecretString;

use crate::error::{Error, Result};

/// The environment variable holding the AMP username.
pub const USERNAME_VAR: &str = "AMP_USERNAME";
/// The environment variable holding the AMP password.
pub const PASSWORD_VAR: &str = "AMP_PASSWORD";

/// An AMP username and password.
///
/// The password is a [`SecretString`]: it is zeroized when dropped and
/// `Debug` prints a redaction. The username is not secret, but is kept out of
/// error messages anyway.
///
/// ```
/// use amp_client::Credentials;
/// let creds = Credentials::new("issuer", "hunter2");
/// assert!(!format!("{creds:?}").contains("hunter2"));
/// ```
// `Debug` shows `SecretString`'s own redaction for the password.
#[derive(Clone, Debug)]
pub struct Credentials {
    username: String,
    password: SecretString,
}

impl Credentials {
    /// Credentials from a username and a password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: SecretString::from(password.into()),
        }
    }

    /// Reads `AMP_USERNAME` and `AMP_PASSWORD` from the environment.
    ///
    /// A variable that is missing, empty or not UTF-8 is an error naming it.
    pub fn from_env() -> Result<Credentials> {
        Credentials::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], with variables looked up by `lookup`
    /// (tests use a map instead of the process environment).
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Credentials> {
        let get = |name: &str| match lookup(name) {
            None => Err(Error::config(name, "is not set")),
            Some(v) if v.is_empty() => Err(Error::config(name, "is empty")),
            Some(v) => Ok(v),
        };
        Ok(Credentials::new(get(USERNAME_VAR)?, get(PASSWORD_VAR)?))
    }

    /// The same username with another password.
    pub(crate) fn with_password(&self, password: SecretString) -> Credentials {
        Credentials {
            username: self.username.clone(),
            password,
        }
    }

    /// The username.
    pub fn username(&self) -> &str {
        &self.username
    }

    /// The password, kept secret.
    pub fn password(&self) -> &SecretString {
        &self.password
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use std::collections::HashMap;

    fn lookup(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn reads_both_variables() {
        let c = Credentials::from_lookup(&lookup(&[("AMP_USERNAME", "u"), ("AMP_PASSWORD", "p")]))
            .unwrap();
        assert_eq!(c.username(), "u");
        assert_eq!(c.password().expose_secret(), "p");
    }

    #[test]
    fn missing_or_empty_variable_is_named() {
        let e = Credentials::from_lookup(&lookup(&[("AMP_PASSWORD", "p")])).unwrap_err();
        assert!(e.to_string().contains("AMP_USERNAME"), "{e}");
        assert!(e.is_config());
        let e = Credentials::from_lookup(&lookup(&[("AMP_USERNAME", "u"), ("AMP_PASSWORD", "")]))
            .unwrap_err();
        assert!(e.to_string().contains("AMP_PASSWORD"), "{e}");
        assert!(e.to_string().contains("empty"), "{e}");
    }

    #[test]
    fn debug_never_shows_the_password() {
        let c = Credentials::new("someone", "s3cr3t-pw");
        let d = format!("{c:?} {c:#?}");
        assert!(!d.contains("s3cr3t-pw"));
        assert!(d.contains("REDACTED"));
    }
}
