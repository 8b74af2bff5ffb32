//! Configuration: [`Config`] and [`RetryConfig`], from the environment or a builder.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `AMP_USERNAME`, `AMP_PASSWORD` | — | credentials (needed to obtain a token) |
//! | `AMP_API_BASE_URL` | `https://amp-test.blockstream.com/api` | API root |
//! | `API_RETRY_MAX_ATTEMPTS` | 3 (test profile 2) | attempts, the first included (1–20) |
//! | `API_RETRY_BASE_DELAY_MS` | 1000 (test profile 500) | backoff base (at most 1 h) |
//! | `API_RETRY_MAX_DELAY_MS` | 30000 | backoff cap (at most 1 h) |
//! | `API_REQUEST_TIMEOUT_SECONDS` | 10 | per-attempt timeout (1 s – 10 min) |
//! | `AMP_ENV` | — | `test` selects the test profile; any other value is an error |
//! | `AMP_TOKEN_STORE` | `memory` | `memory`, `file:<path>`, `redis://…`, `rediss://…` (TLS) |
//! | `AMP_REDIS_CA_FILE` | — | a PEM bundle of CA certificates trusted for `rediss://`, besides Mozilla's roots (a regular file of at most 1 MiB) |
//! | `AMP_ALLOW_INSECURE_HTTP` | `0` | `1` allows credentials over plain http, and the token over plain `redis://`, to hosts other than loopback |
//! | `AMP_TOKEN_KEEP_FRESH` | `0` | `1` renews the token in the background at its soft point even when no call comes |
//! | `AMP_MAX_BODY_BYTES` | 16777216 | the largest answer body accepted (1 – 1073741824) |
//! | `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY` | — | proxies, read when the client is built: https may use one; plain http only one on loopback |
//!
//! Values outside the bounds are errors naming the variable, from the
//! environment and from [`ConfigBuilder::build`] alike: a retry loop of a
//! thousand attempts or a timeout of a day is a typo, not a setting.

use std::path::PathBuf;
use std::time::Duration;

use reqwest::Url;

use crate::credentials::Credentials;
use crate::error::{Error, Result};

mod base_url;
mod env;
mod retry;
mod store_spec;
mod token_policy;

pub(crate) use base_url::is_loopback;
use base_url::parse_base_url;
pub use retry::RetryConfig;
pub(crate) use store_spec::redact_url;
pub use store_spec::StoreSpec;
pub use token_policy::TokenPolicy;

/// The API root used when `AMP_API_BASE_URL` is not set: AMP's test instance.
pub const DEFAULT_BASE_URL: &str = "https://amp-test.blockstream.com/api";

/// The most attempts per request [`RetryConfig::validate`] accepts.
pub const MAX_ATTEMPTS_LIMIT: u32 = 20;

/// The longest backoff base or cap [`RetryConfig::validate`] accepts: 1 h.
pub const MAX_DELAY_LIMIT: Duration = Duration::from_secs(3600);

/// The longest per-attempt timeout [`ConfigBuilder::build`] accepts: 10 min.
pub const REQUEST_TIMEOUT_LIMIT: Duration = Duration::from_secs(600);

/// The largest answer body limit [`ConfigBuilder::build`] accepts: 1 GiB.
pub const MAX_BODY_BYTES_LIMIT: usize = 1 << 30;

/// Names of the environment variables read by [`Config::from_env`].
pub mod vars {
    /// API root.
    pub const BASE_URL: &str = "AMP_API_BASE_URL";
    /// Attempts per request, the first included.
    pub const MAX_ATTEMPTS: &str = "API_RETRY_MAX_ATTEMPTS";
    /// Backoff base in milliseconds.
    pub const BASE_DELAY_MS: &str = "API_RETRY_BASE_DELAY_MS";
    /// Backoff cap in milliseconds.
    pub const MAX_DELAY_MS: &str = "API_RETRY_MAX_DELAY_MS";
    /// Per-attempt timeout in seconds.
    pub const REQUEST_TIMEOUT_SECONDS: &str = "API_REQUEST_TIMEOUT_SECONDS";
    /// `test` selects the test retry profile.
    pub const ENV: &str = "AMP_ENV";
    /// Where tokens are kept: `memory`, `file:<path>` (in a folder only you
    /// can write), `redis://…` or `rediss://…`.
    pub const TOKEN_STORE: &str = "AMP_TOKEN_STORE";
    /// A PEM bundle of CA certificates trusted for a `rediss://` token store.
    pub const REDIS_CA_FILE: &str = "AMP_REDIS_CA_FILE";
    /// `1` allows credentials over plain http, and the token over plain
    /// `redis://`, to hosts other than loopback.
    pub const ALLOW_INSECURE_HTTP: &str = "AMP_ALLOW_INSECURE_HTTP";
    /// `1` keeps the token fresh in the background (see
    /// [`ConfigBuilder::keep_fresh`](super::ConfigBuilder::keep_fresh)).
    pub const KEEP_FRESH: &str = "AMP_TOKEN_KEEP_FRESH";
    /// The largest answer body accepted, in bytes.
    pub const MAX_BODY_BYTES: &str = "AMP_MAX_BODY_BYTES";
}

/// Everything an [`AmpClient`](crate::AmpClient) needs.
///
/// ```
/// use amp_client::Config;
/// use std::time::Duration;
/// let config = Config::builder()
///     .base_url("http://127.0.0.1:8080/api")
///     .credentials("issuer", "secret")
///     .request_timeout(Duration::from_secs(5))
///     .build()?;
/// assert_eq!(config.base_url().as_str(), "http://127.0.0.1:8080/api/");
/// # Ok::<(), amp_client::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct Config {
    base_url: Url,
    credentials: Option<Credentials>,
    retry: RetryConfig,
    request_timeout: Duration,
    allow_insecure_http: bool,
    keep_fresh: bool,
    max_body_bytes: usize,
    token_store: StoreSpec,
    token: TokenPolicy,
    redis_ca_file: Option<PathBuf>,
}

impl Config {
    /// A builder with every default and no credentials.
    pub fn builder() -> ConfigBuilder {
        ConfigBuilder::default()
    }

    /// The API root, always ending in `/`.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The credentials, if any were given. An [`AmpClient`](crate::AmpClient)
    /// takes them out of its copy of the config (see [`AmpClient::config`](crate::AmpClient::config)).
    pub fn credentials(&self) -> Option<&Credentials> {
        self.credentials.as_ref()
    }

    /// Moves the credentials out, leaving none.
    pub(crate) fn take_credentials(&mut self) -> Option<Credentials> {
        self.credentials.take()
    }

    /// The retry settings.
    pub fn retry(&self) -> &RetryConfig {
        &self.retry
    }

    /// The per-attempt timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// Whether credentials may go over plain http, and the token over plain
    /// `redis://`, to hosts that are not loopback.
    pub fn allow_insecure_http(&self) -> bool {
        self.allow_insecure_http
    }

    /// Whether the token is kept fresh in the background.
    pub fn keep_fresh(&self) -> bool {
        self.keep_fresh
    }

    /// The largest answer body accepted.
    pub fn max_body_bytes(&self) -> usize {
        self.max_body_bytes
    }

    /// Where tokens are kept.
    pub fn token_store(&self) -> &StoreSpec {
        &self.token_store
    }

    /// Token lifetime and refresh points.
    pub fn token_policy(&self) -> &TokenPolicy {
        &self.token
    }

    /// The PEM bundle of CA certificates trusted for a `rediss://` store
    /// (`AMP_REDIS_CA_FILE`), if one was named. It is read when the store is
    /// opened.
    pub fn redis_ca_file(&self) -> Option<&std::path::Path> {
        self.redis_ca_file.as_deref()
    }

    /// How long one caller waits for a token being obtained: long enough for
    /// every attempt of a login and its backoff.
    pub fn token_wait_timeout(&self) -> Duration {
        let attempts = self.retry.max_attempts.max(1);
        // Two logins can run back to back (a failed refresh, then its fallback).
        // Saturating: settings near the limits of `Duration` must not panic.
        self.request_timeout
            .saturating_add(self.retry.max_delay)
            .saturating_mul(attempts)
            .saturating_mul(2)
    }
}

/// Builds a [`Config`]; see [`Config::builder`].
#[derive(Debug, Clone)]
pub struct ConfigBuilder {
    base_url: String,
    credentials: Option<Credentials>,
    retry: RetryConfig,
    request_timeout: Duration,
    allow_insecure_http: bool,
    keep_fresh: bool,
    max_body_bytes: usize,
    token_store: StoreSpec,
    token: TokenPolicy,
    redis_ca_file: Option<PathBuf>,
}

impl Default for ConfigBuilder {
    fn default() -> Self {
        ConfigBuilder {
            base_url: DEFAULT_BASE_URL.to_string(),
            credentials: None,
            retry: RetryConfig::default(),
            request_timeout: Duration::from_secs(10),
            allow_insecure_http: false,
            keep_fresh: false,
            max_body_bytes: 16 * 1024 * 1024,
            token_store: StoreSpec::Memory,
            token: TokenPolicy::default(),
            redis_ca_file: None,
        }
    }
}

impl ConfigBuilder {
    /// The API root, e.g. `https://amp.blockstream.com/api`.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The username and password used to obtain tokens.
    pub fn credentials(mut self, username: impl Into<String>, password: impl Into<String>) -> Self {
        self.credentials = Some(Credentials::new(username, password));
        self
    }

    /// Credentials built elsewhere, e.g. by [`Credentials::from_env`].
    pub fn with_credentials(mut self, credentials: Credentials) -> Self {
        self.credentials = Some(credentials);
        self
    }

    /// Retry settings (checked by [`build`](Self::build): see [`RetryConfig::validate`]).
    pub fn retry(mut self, retry: RetryConfig) -> Self {
        self.retry = retry;
        self
    }

    /// The per-attempt timeout: more than 0, at most [`REQUEST_TIMEOUT_LIMIT`].
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Allow credentials over plain http, and the token over plain
    /// `redis://` (a [`StoreSpec::Redis`] store), to hosts that are not
    /// loopback. Without it [`build`](Self::build) refuses both.
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// Keep the token fresh in the background: a task renews it at its soft
    /// point even when no call comes, so a service that calls once an hour
    /// never pays a login or a refresh on its critical path. Off by default
    /// (`AMP_TOKEN_KEEP_FRESH`). The client must then be built inside a
    /// tokio runtime; the task stops when the last client handle is dropped.
    pub fn keep_fresh(mut self, yes: bool) -> Self {
        self.keep_fresh = yes;
        self
    }

    /// The largest answer body accepted: more than 0, at most
    /// [`MAX_BODY_BYTES_LIMIT`].
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Where tokens are kept.
    pub fn token_store(mut self, spec: StoreSpec) -> Self {
        self.token_store = spec;
        self
    }

    /// Token lifetime and refresh points.
    pub fn token_policy(mut self, policy: TokenPolicy) -> Self {
        self.token = policy;
        self
    }

    /// A PEM bundle of CA certificates to trust for a `rediss://` store,
    /// besides Mozilla's roots (for a private CA).
    pub fn redis_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.redis_ca_file = Some(path.into());
        self
    }

    /// Checks everything and builds the [`Config`].
    pub fn build(self) -> Result<Config> {
        self.retry.validate()?;
        if self.request_timeout.is_zero() {
            return Err(Error::config(
                vars::REQUEST_TIMEOUT_SECONDS,
                "must be more than 0",
            ));
        }
        if self.request_timeout > REQUEST_TIMEOUT_LIMIT {
            return Err(Error::config(
                vars::REQUEST_TIMEOUT_SECONDS,
                format!(
                    "{} s is more than the limit: at most 10 min ({} s)",
                    self.request_timeout.as_secs(),
                    REQUEST_TIMEOUT_LIMIT.as_secs()
                ),
            ));
        }
        if self.max_body_bytes == 0 {
            return Err(Error::config(vars::MAX_BODY_BYTES, "must be more than 0"));
        }
        // An answer is held whole in memory: a cap beyond a gigabyte is no
        // cap (AMP's largest lists are megabytes).
        if self.max_body_bytes > MAX_BODY_BYTES_LIMIT {
            return Err(Error::config(
                vars::MAX_BODY_BYTES,
                format!("must be at most {MAX_BODY_BYTES_LIMIT} (1 GiB)"),
            ));
        }
        let t = &self.token;
        // Beyond this, date arithmetic on the token's expiry would overflow.
        const CENTURY: Duration = Duration::from_secs(100 * 365 * 24 * 3600);
        let spans = [
            t.lifetime,
            t.refresh_before,
            t.hard_before,
            t.refresh_jitter,
            t.failure_cooldown,
            t.background_cooldown,
            t.rejection_cooldown,
        ];
        if spans.iter().any(|d| *d > CENTURY) {
            return Err(Error::config(
                "token_policy",
                "every duration must be at most 100 years",
            ));
        }
        if t.lifetime <= t.refresh_before || t.refresh_before < t.hard_before {
            return Err(Error::config(
                "token_policy",
                "need lifetime > refresh_before >= hard_before",
            ));
        }
        let base_url = parse_base_url(&self.base_url)?;
        // The one check for plain http: a Config cannot change after this,
        // so every request, login included, goes where it allows.
        if base_url.scheme() == "http" && !self.allow_insecure_http && !is_loopback(&base_url) {
            return Err(Error::insecure_transport(base_url.host_str().unwrap_or("")));
        }
        // The same for the token store: plain `redis://` off this machine
        // carries the token, and Redis's password, in clear.
        if let StoreSpec::Redis(url) = &self.token_store {
            let plain = Url::parse(url).ok().filter(|u| u.scheme() == "redis");
            if let Some(url) = plain.filter(|u| !self.allow_insecure_http && !is_loopback(u)) {
                return Err(Error::config(
                    vars::TOKEN_STORE,
                    format!(
                        "refusing to send the token over plain redis:// to {}; use rediss:// \
                         (TLS), or set {}=1",
                        url.host_str().unwrap_or(""),
                        vars::ALLOW_INSECURE_HTTP
                    ),
                ));
            }
        }
        Ok(Config {
            base_url,
            credentials: self.credentials,
            retry: self.retry,
            request_timeout: self.request_timeout,
            allow_insecure_http: self.allow_insecure_http,
            keep_fresh: self.keep_fresh,
            max_body_bytes: self.max_body_bytes,
            token_store: self.token_store,
            token: self.token,
            redis_ca_file: self.redis_ca_file,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn defaults_without_any_variable() {
        let c = Config::from_lookup(&env(&[])).unwrap();
        assert_eq!(c.retry(), &RetryConfig::default());
        assert_eq!(c.retry().max_attempts, 3);
        assert_eq!(c.retry().base_delay, Duration::from_millis(1000));
        assert_eq!(c.retry().max_delay, Duration::from_millis(30000));
        assert_eq!(c.request_timeout(), Duration::from_secs(10));
        assert_eq!(
            c.base_url().as_str(),
            "https://amp-test.blockstream.com/api/"
        );
        assert_eq!(c.token_store(), &StoreSpec::Memory);
        assert!(c.credentials().is_none());
        assert_eq!(c.max_body_bytes(), 16 * 1024 * 1024);
    }

    #[test]
    fn test_profile_from_amp_env() {
        let c = Config::from_lookup(&env(&[("AMP_ENV", "test")])).unwrap();
        assert_eq!(c.retry().max_attempts, 2);
        assert_eq!(c.retry().base_delay, Duration::from_millis(500));
        // Explicit values still win over the profile.
        let c = Config::from_lookup(&env(&[
            ("AMP_ENV", "test"),
            ("API_RETRY_MAX_ATTEMPTS", "7"),
        ]))
        .unwrap();
        assert_eq!(c.retry().max_attempts, 7);
    }

    #[test]
    fn every_variable_is_read() {
        let c = Config::from_lookup(&env(&[
            ("AMP_API_BASE_URL", "http://127.0.0.1:9/api"),
            ("API_RETRY_MAX_ATTEMPTS", "5"),
            ("API_RETRY_BASE_DELAY_MS", "20"),
            ("API_RETRY_MAX_DELAY_MS", "40"),
            ("API_REQUEST_TIMEOUT_SECONDS", "3"),
            ("AMP_TOKEN_STORE", "file:/home/me/.cache/amp/x.json"),
            ("AMP_MAX_BODY_BYTES", "1000"),
            ("AMP_USERNAME", "u"),
            ("AMP_PASSWORD", "p"),
        ]))
        .unwrap();
        assert_eq!(c.base_url().as_str(), "http://127.0.0.1:9/api/");
        assert_eq!(
            c.retry(),
            &RetryConfig {
                max_attempts: 5,
                base_delay: Duration::from_millis(20),
                max_delay: Duration::from_millis(40)
            }
        );
        assert_eq!(c.request_timeout(), Duration::from_secs(3));
        assert_eq!(
            c.token_store(),
            &StoreSpec::File("/home/me/.cache/amp/x.json".into())
        );
        assert_eq!(c.max_body_bytes(), 1000);
        assert_eq!(c.credentials().unwrap().username(), "u");
    }

    #[test]
    fn bad_values_name_the_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("API_RETRY_MAX_ATTEMPTS", "three", "whole number"),
            ("API_RETRY_MAX_ATTEMPTS", "0", "at least 1"),
            ("API_RETRY_MAX_ATTEMPTS", "-1", "whole number"),
            ("API_RETRY_BASE_DELAY_MS", "0", "more than 0"),
            ("API_RETRY_BASE_DELAY_MS", "1.5", "whole number"),
            ("API_REQUEST_TIMEOUT_SECONDS", "0", "more than 0"),
            ("AMP_API_BASE_URL", "not a url", "not a URL"),
            ("AMP_API_BASE_URL", "ftp://x/api", "scheme"),
            ("AMP_API_BASE_URL", "https://u:p@x/api", "credentials"),
            ("AMP_TOKEN_STORE", "sqlite:x", "expected memory"),
            (
                "AMP_TOKEN_STORE",
                "file:",
                "needs a path in a folder only you can write",
            ),
            ("AMP_ALLOW_INSECURE_HTTP", "maybe", "1 or 0"),
            ("AMP_MAX_BODY_BYTES", "0", "more than 0"),
            ("AMP_MAX_BODY_BYTES", "1073741825", "at most 1073741824"),
        ];
        for (name, value, why) in cases {
            let e = Config::from_lookup(&env(&[(name, value)])).unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains(name), "{name}={value}: {msg}");
            assert!(msg.contains(why), "{name}={value}: {msg}");
            assert!(e.is_config());
        }
    }

    #[test]
    fn amp_env_other_than_test_is_an_error_naming_it() {
        for value in ["production", "tests", "1", "dev"] {
            let e = Config::from_lookup(&env(&[("AMP_ENV", value)])).unwrap_err();
            let msg = e.to_string();
            assert!(e.is_config(), "{value}: {msg}");
            assert!(msg.contains("AMP_ENV"), "{value}: {msg}");
            assert!(msg.contains(value), "{value}: {msg}");
        }
        // Empty (or blank) is the same as unset; `test` in any case is the profile.
        for value in ["", "  ", "test", "TEST", " Test "] {
            let c = Config::from_lookup(&env(&[("AMP_ENV", value)])).unwrap();
            let want = if value.trim().is_empty() { 3 } else { 2 };
            assert_eq!(c.retry().max_attempts, want, "{value:?}");
        }
    }

    #[test]
    fn values_beyond_the_bounds_name_the_variable() {
        let cases: &[(&str, &str, &str)] = &[
            ("API_RETRY_MAX_ATTEMPTS", "21", "at most 20"),
            ("API_RETRY_MAX_ATTEMPTS", "4294967296", "at most 20"),
            ("API_RETRY_BASE_DELAY_MS", "3600001", "at most 1 h"),
            ("API_RETRY_MAX_DELAY_MS", "3600001", "at most 1 h"),
            (
                "API_RETRY_MAX_DELAY_MS",
                "18446744073709551615",
                "at most 1 h",
            ),
            ("API_REQUEST_TIMEOUT_SECONDS", "601", "at most 10 min"),
            (
                "API_REQUEST_TIMEOUT_SECONDS",
                "18446744073709551615",
                "at most 10 min",
            ),
        ];
        for (name, value, why) in cases {
            let e = Config::from_lookup(&env(&[(name, value)])).unwrap_err();
            let msg = e.to_string();
            assert!(e.is_config(), "{name}={value}: {msg}");
            assert!(msg.contains(name), "{name}={value}: {msg}");
            assert!(msg.contains(why), "{name}={value}: {msg}");
        }
        // The bounds themselves are accepted.
        let c = Config::from_lookup(&env(&[
            ("API_RETRY_MAX_ATTEMPTS", "20"),
            ("API_RETRY_BASE_DELAY_MS", "3600000"),
            ("API_RETRY_MAX_DELAY_MS", "3600000"),
            ("API_REQUEST_TIMEOUT_SECONDS", "600"),
        ]))
        .unwrap();
        assert_eq!(c.retry().max_attempts, 20);
        assert_eq!(c.request_timeout(), Duration::from_secs(600));
    }

    #[test]
    fn the_builder_checks_the_same_bounds() {
        let hour = Duration::from_secs(3600);
        let retry = |max_attempts, base_delay, max_delay| RetryConfig {
            max_attempts,
            base_delay,
            max_delay,
        };
        let second = Duration::from_secs(1);
        let cases = [
            (
                retry(21, second, second),
                Duration::from_secs(10),
                vars::MAX_ATTEMPTS,
            ),
            (
                retry(u32::MAX, second, second),
                Duration::from_secs(10),
                vars::MAX_ATTEMPTS,
            ),
            (
                retry(3, hour + second, hour + second),
                Duration::from_secs(10),
                vars::BASE_DELAY_MS,
            ),
            (
                retry(3, second, hour + Duration::from_millis(1)),
                Duration::from_secs(10),
                vars::MAX_DELAY_MS,
            ),
            (
                retry(3, second, Duration::MAX),
                Duration::from_secs(10),
                vars::MAX_DELAY_MS,
            ),
            (
                retry(3, second, second),
                Duration::from_secs(601),
                vars::REQUEST_TIMEOUT_SECONDS,
            ),
            (
                retry(3, second, second),
                Duration::MAX,
                vars::REQUEST_TIMEOUT_SECONDS,
            ),
        ];
        for (retry, timeout, name) in cases {
            let e = Config::builder()
                .retry(retry)
                .request_timeout(timeout)
                .build()
                .unwrap_err();
            assert!(e.is_config(), "{retry:?} {timeout:?}: {e}");
            assert!(e.to_string().contains(name), "{retry:?} {timeout:?}: {e}");
        }
        let c = Config::builder()
            .retry(retry(20, hour, hour))
            .request_timeout(Duration::from_secs(600))
            .build()
            .unwrap();
        assert_eq!(c.retry().max_delay, hour);
    }

    #[test]
    fn the_redis_ca_file_is_read() {
        let c = Config::from_lookup(&env(&[])).unwrap();
        assert_eq!(c.redis_ca_file(), None);
        let c = Config::from_lookup(&env(&[("AMP_REDIS_CA_FILE", " /etc/amp/ca.pem ")])).unwrap();
        assert_eq!(
            c.redis_ca_file(),
            Some(std::path::Path::new("/etc/amp/ca.pem"))
        );
    }

    #[test]
    fn max_below_base_is_contradictory() {
        let e = Config::from_lookup(&env(&[
            ("API_RETRY_BASE_DELAY_MS", "2000"),
            ("API_RETRY_MAX_DELAY_MS", "1000"),
        ]))
        .unwrap_err();
        assert!(e.to_string().contains("API_RETRY_MAX_DELAY_MS"), "{e}");
        assert!(e.to_string().contains("less than"), "{e}");
    }

    #[test]
    fn half_the_credentials_is_an_error_naming_the_other() {
        let e = Config::from_lookup(&env(&[("AMP_USERNAME", "u")])).unwrap_err();
        assert!(e.to_string().contains("AMP_PASSWORD"), "{e}");
    }

    #[test]
    fn a_bad_password_is_never_echoed() {
        // Nothing in config parsing quotes a secret, even when refusing it.
        let e = Config::from_lookup(&env(&[
            ("AMP_USERNAME", "u"),
            ("AMP_PASSWORD", "pw-123"),
            ("API_RETRY_MAX_ATTEMPTS", "x"),
        ]))
        .unwrap_err();
        assert!(!format!("{e} {e:?}").contains("pw-123"));
    }

    #[test]
    fn plain_http_only_to_loopback_unless_allowed() {
        for ok in [
            "http://127.0.0.1:1/api",
            "http://localhost/api",
            "http://[::1]:8/api",
            "https://example.com/api",
        ] {
            assert!(Config::builder().base_url(ok).build().is_ok(), "{ok}");
        }
        let e = Config::builder()
            .base_url("http://amp.example.com/api")
            .build()
            .unwrap_err();
        assert!(
            e.is_config() && e.to_string().starts_with("refusing to send credentials"),
            "{e}"
        );
        assert!(e.to_string().contains("AMP_ALLOW_INSECURE_HTTP"));
        let c = Config::from_lookup(&env(&[
            ("AMP_API_BASE_URL", "http://amp.example.com/api"),
            ("AMP_ALLOW_INSECURE_HTTP", "1"),
        ]))
        .unwrap();
        assert!(c.allow_insecure_http());
    }

    #[test]
    fn plain_redis_off_loopback_is_refused_unless_allowed() {
        let lookup = |store: &str, allow: &str| {
            Config::from_lookup(&env(&[
                ("AMP_TOKEN_STORE", store),
                ("AMP_ALLOW_INSECURE_HTTP", allow),
            ]))
        };
        let e = lookup("redis://amp:hunter2@10.0.0.5:6379/0", "0").unwrap_err();
        let shown = e.to_string();
        assert_eq!(e.setting(), Some("AMP_TOKEN_STORE"), "{shown}");
        assert!(shown.contains("plain redis:// to 10.0.0.5"), "{shown}");
        assert!(shown.contains("rediss://"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
        for (store, allow) in [
            ("redis://amp:hunter2@10.0.0.5:6379/0", "1"),
            ("rediss://amp:hunter2@10.0.0.5:6380/0", "0"),
            ("redis://127.0.0.1:6379/0", "0"),
            ("redis://localhost/0", "0"),
            ("redis://[::1]:6379", "0"),
        ] {
            assert!(lookup(store, allow).is_ok(), "{store} {allow}");
        }
    }

    #[test]
    fn store_spec_display_hides_redis_password() {
        let s: StoreSpec = "redis://user:hunter2@redis.local:6379/0".parse().unwrap();
        assert!(!s.to_string().contains("hunter2"));
        assert!(!format!("{s:?}").contains("hunter2"));
        assert!(s.to_string().contains("redis.local"));
    }
}
