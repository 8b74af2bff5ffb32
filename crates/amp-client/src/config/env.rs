//! [`Config`] from the environment: each variable of the module docs read,
//! trimmed, checked and named in the error when it is wrong.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use super::{vars, Config, RetryConfig, StoreSpec, MAX_ATTEMPTS_LIMIT};
use crate::credentials::{Credentials, PASSWORD_VAR, USERNAME_VAR};
use crate::error::{Error, Result};

impl Config {
    /// Reads the variables listed in the [module docs](crate::config) from the process
    /// environment. Credentials are optional here (calls that need no token still
    /// work); a login without them fails naming the missing variable.
    pub fn from_env() -> Result<Config> {
        Config::from_lookup(&|name| std::env::var(name).ok())
    }

    /// Like [`Config::from_env`], with variables looked up by `lookup`.
    ///
    /// ```
    /// use amp_client::Config;
    /// let env = |k: &str| match k {
    ///     "API_RETRY_MAX_ATTEMPTS" => Some("five".to_string()),
    ///     _ => None,
    /// };
    /// let err = Config::from_lookup(&env).unwrap_err();
    /// assert!(err.to_string().contains("API_RETRY_MAX_ATTEMPTS"));
    /// ```
    pub fn from_lookup(lookup: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
        let get = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
        let mut b = Config::builder();
        let test_profile = match get(vars::ENV) {
            None => false,
            Some(v) if v.trim().eq_ignore_ascii_case("test") => true,
            // A profile name we do not know is a typo, or a setting meant for
            // another program: either way silently using the defaults is wrong.
            Some(v) => {
                return Err(Error::config(
                    vars::ENV,
                    format!(
                        "{:?} is not a profile: the only one is \"test\" (leave it unset for the defaults)",
                        v.trim()
                    ),
                ))
            }
        };
        let mut retry = if test_profile {
            RetryConfig::for_tests()
        } else {
            RetryConfig::default()
        };
        if let Some(v) = get(vars::BASE_URL) {
            b = b.base_url(v.trim());
        }
        if let Some(n) = parse_num::<u64>(&get, vars::MAX_ATTEMPTS)? {
            // Beyond u32 is beyond the limit too: say so, not "too large to fit".
            retry.max_attempts = u32::try_from(n).map_err(|_| {
                Error::config(
                    vars::MAX_ATTEMPTS,
                    format!("{n} is more than the limit: at most {MAX_ATTEMPTS_LIMIT}"),
                )
            })?;
        }
        if let Some(n) = parse_num::<u64>(&get, vars::BASE_DELAY_MS)? {
            retry.base_delay = Duration::from_millis(n);
        }
        if let Some(n) = parse_num::<u64>(&get, vars::MAX_DELAY_MS)? {
            retry.max_delay = Duration::from_millis(n);
        }
        b = b.retry(retry);
        if let Some(n) = parse_num::<u64>(&get, vars::REQUEST_TIMEOUT_SECONDS)? {
            if n == 0 {
                return Err(Error::config(
                    vars::REQUEST_TIMEOUT_SECONDS,
                    "must be more than 0",
                ));
            }
            b = b.request_timeout(Duration::from_secs(n));
        }
        if let Some(v) = get(vars::TOKEN_STORE) {
            let spec = v
                .trim()
                .parse::<StoreSpec>()
                .map_err(|reason| Error::config(vars::TOKEN_STORE, reason))?;
            b = b.token_store(spec);
        }
        if let Some(v) = get(vars::ALLOW_INSECURE_HTTP) {
            b = b.allow_insecure_http(parse_bool(vars::ALLOW_INSECURE_HTTP, &v)?);
        }
        if let Some(v) = get(vars::KEEP_FRESH) {
            b = b.keep_fresh(parse_bool(vars::KEEP_FRESH, &v)?);
        }
        if let Some(n) = parse_num::<usize>(&get, vars::MAX_BODY_BYTES)? {
            b = b.max_body_bytes(n);
        }
        if let Some(v) = get(vars::REDIS_CA_FILE) {
            b = b.redis_ca_file(v.trim());
        }
        match (lookup(USERNAME_VAR), lookup(PASSWORD_VAR)) {
            (None, None) => {}
            _ => b.credentials = Some(Credentials::from_lookup(lookup)?),
        }
        b.build()
    }
}

fn parse_num<T: FromStr>(get: &dyn Fn(&str) -> Option<String>, name: &str) -> Result<Option<T>>
where
    T::Err: fmt::Display,
{
    match get(name) {
        None => Ok(None),
        Some(v) => {
            v.trim().parse::<T>().map(Some).map_err(|e| {
                Error::config(name, format!("{:?} is not a whole number: {e}", v.trim()))
            })
        }
    }
}

fn parse_bool(name: &str, v: &str) -> Result<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(Error::config(name, format!("{other:?} is not 1 or 0"))),
    }
}
