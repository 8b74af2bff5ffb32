//! [`StoreSpec`]: the `AMP_TOKEN_STORE` setting, parsed.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use reqwest::Url;

/// Where the token is kept between calls, runs, processes and machines.
#[derive(Clone, PartialEq, Eq)]
pub enum StoreSpec {
    /// In this process only (the library's default).
    Memory,
    /// A JSON file shared by the processes of one machine.
    File(PathBuf),
    /// A Redis server shared by machines: the `redis://` or `rediss://` URL.
    Redis(String),
}

impl fmt::Debug for StoreSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for StoreSpec {
    /// Never shows a password embedded in a Redis URL.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreSpec::Memory => f.write_str("memory"),
            StoreSpec::File(p) => write!(f, "file:{}", p.display()),
            StoreSpec::Redis(url) => f.write_str(&redact_url(url)),
        }
    }
}

/// `redis://user:pw@host/` → `redis://user:***@host/`; anything unparsable is
/// reduced to its scheme.
pub(crate) fn redact_url(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => format!("{}://…", url.split("://").next().unwrap_or("?")),
    }
}

impl FromStr for StoreSpec {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        if s == "memory" {
            Ok(StoreSpec::Memory)
        } else if let Some(path) = s.strip_prefix("file:") {
            if path.is_empty() {
                Err(
                    "file: needs a path in a folder only you can write (not a shared one \
                     such as /tmp), e.g. file:/home/me/.cache/amp/token.json"
                        .into(),
                )
            } else {
                Ok(StoreSpec::File(PathBuf::from(path)))
            }
        } else if s.starts_with("redis://") || s.starts_with("rediss://") {
            Url::parse(s)
                .map_err(|e| format!("not a valid Redis URL: {e}"))
                .map(|_| StoreSpec::Redis(s.to_string()))
        } else {
            Err("expected memory, file:<path> or redis://…".into())
        }
    }
}
