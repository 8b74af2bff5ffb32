//! From the command line and the environment to an [`AmpClient`].
//!
//! The library reads the variables of DESIGN §5 (`Config::from_lookup`); the
//! command lays its flags over the environment in that lookup, so a flag and
//! its variable are one setting, and a bad value is reported under the name
//! the user typed. Nothing here touches the network.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use amp_client::config::vars;
use amp_client::{AmpClient, Config, StoreSpec, TokenStore};

use crate::cli::Cli;
use crate::failure::{CliResult, Failure, FlagNames};

/// The settings given on the command line that the library also reads from the
/// environment.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--base-url`, when typed on the command line.
    pub base_url: Option<String>,
    /// `--store`, when typed on the command line.
    pub store: Option<String>,
}

impl Overrides {
    /// The flags of `cli` that stand for library variables.
    pub fn from_cli(cli: &Cli) -> Overrides {
        Overrides {
            base_url: cli.base_url.clone(),
            store: cli.store.clone(),
        }
    }

    /// Which variables these flags stand for, to name the flag in errors.
    pub fn flag_names(&self) -> FlagNames {
        let mut names = FlagNames::default();
        if self.base_url.is_some() {
            names.add(vars::BASE_URL, "--base-url");
        }
        if self.store.is_some() {
            names.add(vars::TOKEN_STORE, "--store");
        }
        names
    }
}

/// The flags whose value may be a URL with a password, and where that
/// password belongs instead.
const SECRET_URL_FLAGS: [(&str, &str); 2] = [
    ("--store", "give the store in AMP_TOKEN_STORE"),
    (
        "--node",
        "give the node's URL in AMP_NODE_URL, or log in with --node-cookie",
    ),
];

/// Refuses a password in a URL on the command line (`--store
/// redis://:PASSWORD@…`, `--node http://USER:PASSWORD@…`): every user of
/// the machine reads a process's arguments (`ps`, `/proc/PID/cmdline`) for
/// as long as it runs, an agent for days. The error names the flag and the
/// variable to use, never the password. `args` are the program's
/// arguments, without its name; `--` ends the flags.
pub fn refuse_passwords_in_args(args: &[std::ffi::OsString]) -> CliResult {
    let mut args = args.iter().map(|a| a.to_string_lossy());
    while let Some(arg) = args.next() {
        if arg == "--" {
            break;
        }
        for (flag, instead) in SECRET_URL_FLAGS {
            let value = match arg.strip_prefix(flag) {
                Some("") => args.next(),
                Some(rest) => rest.strip_prefix('=').map(|v| v.to_string().into()),
                None => None,
            };
            let has_password = value
                .and_then(|v| amp_client::reqwest::Url::parse(&v).ok())
                .is_some_and(|url| url.password().is_some());
            if has_password {
                return Err(Failure::usage(format!(
                    "{flag}: a password on the command line is visible to every user of this \
                     machine (ps, /proc) while the command runs; {instead}"
                )));
            }
        }
    }
    Ok(())
}

/// Every variable the command reads, for [`check_env_encoding`].
const VARIABLES: &[&str] = &[
    amp_client::USERNAME_VAR,
    amp_client::PASSWORD_VAR,
    vars::BASE_URL,
    vars::MAX_ATTEMPTS,
    vars::BASE_DELAY_MS,
    vars::MAX_DELAY_MS,
    vars::REQUEST_TIMEOUT_SECONDS,
    vars::ENV,
    vars::TOKEN_STORE,
    vars::ALLOW_INSECURE_HTTP,
    vars::MAX_BODY_BYTES,
    vars::REDIS_CA_FILE,
    vars::KEEP_FRESH,
];

/// Refuses a variable that is set but not valid Unicode, naming it (the
/// library's lookup would otherwise take it for unset). The value is not
/// shown: it may be the password.
pub fn check_env_encoding() -> CliResult {
    for name in VARIABLES {
        if let Err(std::env::VarError::NotUnicode(_)) = std::env::var(name) {
            return Err(Failure::usage(format!(
                "configuration error: {name}: is not valid Unicode"
            )));
        }
    }
    Ok(())
}

/// Reads the configuration and builds the client: every configuration error
/// surfaces here, before any request.
pub fn client(overrides: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> CliResult<AmpClient> {
    // A command runs once and ends: keeping the token fresh in the
    // background (AMP_TOKEN_KEEP_FRESH, for services) would only log in
    // behind `amp token status` or `amp token clear`.
    build_client(overrides, env, false)
}

/// The client of a long-running service (`amp agent`): as [`client`], with
/// the token kept fresh in the background whatever AMP_TOKEN_KEEP_FRESH
/// says, so that no caller ever waits for a renewal that could have been
/// done before it came. Must be called inside the runtime (the task starts
/// at once, and logs in).
#[cfg(unix)]
pub fn service_client(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
) -> CliResult<AmpClient> {
    build_client(overrides, env, true)
}

fn build_client(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    keep_fresh: bool,
) -> CliResult<AmpClient> {
    let flags = overrides.flag_names();
    let lookup = |name: &str| overlay(overrides, env, name);
    let config = Config::from_lookup(&lookup).map_err(|e| Failure::from_client(&e, &flags))?;
    let explicit_store = lookup(vars::TOKEN_STORE).is_some_and(|v| !v.trim().is_empty());
    let builder = AmpClient::builder(config.clone()).keep_fresh(keep_fresh);
    let builder = if explicit_store {
        builder
    } else {
        builder.store(default_store(&config))
    };
    builder
        .build()
        .map_err(|e| Failure::from_client(&e, &flags))
}

/// The value of `name`: the flag when it was typed, else the environment.
fn overlay(
    overrides: &Overrides,
    env: &dyn Fn(&str) -> Option<String>,
    name: &str,
) -> Option<String> {
    let flag = match name {
        vars::BASE_URL => overrides.base_url.clone(),
        vars::TOKEN_STORE => overrides.store.clone(),
        _ => None,
    };
    flag.or_else(|| env(name))
}

/// The command's own default store (the library's is memory): a file in the
/// user's cache folder, one per base URL and user, so consecutive runs share
/// one login. The folder is created (private) when the token is first saved.
/// Memory when there is no cache folder or the store cannot be opened: the
/// command still works, it only logs in on every run.
fn default_store(config: &Config) -> Arc<dyn TokenStore> {
    let memory = || -> Arc<dyn TokenStore> { Arc::new(amp_client::MemoryStore::new()) };
    let Some(cache) = dirs::cache_dir() else {
        tracing::debug!("no cache folder; keeping the token in memory for this run");
        return memory();
    };
    let username = config.credentials().map_or("", |c| c.username());
    let path = default_store_path(&cache, config.base_url().as_str(), username);
    let spec = StoreSpec::File(path);
    match amp_client::open_store(&spec, config) {
        Ok(store) => {
            tracing::debug!(store = %spec, "default token store");
            store
        }
        Err(e) => {
            tracing::warn!(store = %spec, error = %e, "default token store unavailable; keeping the token in memory for this run");
            memory()
        }
    }
}

/// Where the on-chain jobs keep their journals: a `jobs` folder beside a
/// `file:` token store, else `<cache>/amp/jobs` (beside the command's
/// default token file); `None` without a cache folder.
pub fn jobs_dir(overrides: &Overrides, env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    let store = overlay(overrides, env, vars::TOKEN_STORE);
    if let Some(path) = store
        .as_deref()
        .and_then(|s| s.trim().strip_prefix("file:"))
    {
        let parent = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty());
        return Some(parent.unwrap_or(Path::new(".")).join("jobs"));
    }
    dirs::cache_dir().map(|cache| cache.join("amp").join("jobs"))
}

/// `<cache>/amp/token-<16 hex>.json`, the hex naming the base URL and the
/// user ([`amp_client::account_id`], also the Redis key).
pub fn default_store_path(cache: &Path, base_url: &str, username: &str) -> PathBuf {
    cache.join("amp").join(format!(
        "token-{}.json",
        amp_client::account_id(base_url, username)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_in_url_flags_are_refused_and_never_repeated() {
        let args = |a: &[&str]| {
            a.iter()
                .map(Into::into)
                .collect::<Vec<std::ffi::OsString>>()
        };
        for refused in [
            &["--store", "redis://:pw-1@h:6379/0", "info"][..],
            &["info", "--store=rediss://u:pw-1@h/0"],
            &[
                "assets",
                "burn",
                "x",
                "--node",
                "http://u:pw-1@127.0.0.1:1/",
            ],
            &["assets", "burn", "x", "--node=http://u:pw-1@127.0.0.1:1/"],
        ] {
            let e = refuse_passwords_in_args(&args(refused))
                .unwrap_err()
                .to_string();
            assert!(e.contains("visible to every user"), "{e}");
            assert!(!e.contains("pw-1"), "{e}");
        }
        for allowed in [
            &["--store", "file:/tmp/t.json", "info"][..],
            &["--store", "redis://u@h:6379/0", "info"],
            &["assets", "burn", "x", "--node", "http://127.0.0.1:1/"],
            &["--store", "memory", "info"],
            // After `--`, or a flag that only begins like ours: not ours.
            // (As the value of another flag, clap refuses `--store` itself.)
            &["x", "--", "--store", "redis://:pw-1@h/0"],
            &["--data", "--store-x=redis://:pw-1@h/0"],
        ] {
            assert!(
                refuse_passwords_in_args(&args(allowed)).is_ok(),
                "{allowed:?}"
            );
        }
    }
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn flags_win_over_the_environment() {
        let o = Overrides {
            base_url: Some("http://127.0.0.1:9/api".into()),
            store: None,
        };
        let e = env(&[
            ("AMP_API_BASE_URL", "http://127.0.0.1:1/api"),
            ("AMP_TOKEN_STORE", "memory"),
        ]);
        let client = client(&o, &e).unwrap();
        assert_eq!(
            client.config().base_url().as_str(),
            "http://127.0.0.1:9/api/"
        );
    }

    #[test]
    fn bad_values_name_the_variable_or_the_flag() {
        let e = env(&[("API_RETRY_MAX_ATTEMPTS", "abc")]);
        let f = client(&Overrides::default(), &e).unwrap_err();
        assert!(f.to_string().contains("API_RETRY_MAX_ATTEMPTS"), "{f}");
        let o = Overrides {
            base_url: None,
            store: Some("sqlite:x".into()),
        };
        let f = client(&o, &env(&[])).unwrap_err();
        assert!(f.to_string().contains("--store"), "{f}");
        let f = client(
            &Overrides::default(),
            &env(&[("AMP_TOKEN_STORE", "sqlite:x")]),
        )
        .unwrap_err();
        assert!(f.to_string().contains("AMP_TOKEN_STORE"), "{f}");
    }

    #[test]
    fn journals_go_beside_a_file_store() {
        let o = Overrides {
            base_url: None,
            store: Some("file:/secure/amp/token.json".into()),
        };
        assert_eq!(
            jobs_dir(&o, &env(&[])),
            Some(PathBuf::from("/secure/amp/jobs"))
        );
        let from_env = jobs_dir(
            &Overrides::default(),
            &env(&[("AMP_TOKEN_STORE", "file:/x/t.json")]),
        );
        assert_eq!(from_env, Some(PathBuf::from("/x/jobs")));
    }

    #[test]
    fn default_store_path_is_one_file_per_url_and_user() {
        let cache = Path::new("/cache");
        let a = default_store_path(cache, "https://amp.example/api/", "alice");
        let b = default_store_path(cache, "https://amp.example/api/", "bob");
        let c = default_store_path(cache, "https://other.example/api/", "alice");
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            a,
            default_store_path(cache, "https://amp.example/api/", "alice")
        );
        let name = a.file_name().unwrap().to_str().unwrap();
        assert!(a.starts_with("/cache/amp"));
        assert_eq!(name.len(), "token-".len() + 16 + ".json".len(), "{name}");
        let hex = &name["token-".len()..name.len() - ".json".len()];
        assert!(hex.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
    }
}
