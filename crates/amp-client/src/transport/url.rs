//! Where a request goes and how its failure is named: the URL of a path
//! under the API root, the redirect rule, and the errors of the HTTP layer.

use std::time::Duration;

use reqwest::{StatusCode, Url};

use super::Transport;
use crate::error::{Error, Result};
use crate::retry::Failure;

impl Transport {
    /// The URL of `path` under the API root. A path that would leave the
    /// root (`https://elsewhere/…`, `../…`) is refused: the token must only go
    /// to the configured API.
    pub(super) fn url(&self, path: &str) -> Result<Url> {
        let base = self.config.base_url();
        let plain = !path.starts_with('/')
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~/?&=%+,".contains(&b));
        let parsed = if plain {
            // The root ends in `/` and has no query or fragment (Config sees
            // to it), so a path of these characters joins as plain text.
            // Parsing the whole string once sizes its buffer up front, where
            // `join` grows one step by step: a handful of reallocations per
            // request.
            parse_joined(base.as_str(), path)
        } else {
            // Anything else (a scheme such as `https://elsewhere/…`, spaces,
            // backslashes, a fragment) is read as `join` reads it; the check
            // below then refuses what leaves the root.
            base.join(path)
        };
        let url = parsed
            .map_err(|e| Error::config("path", format!("{path:?} does not make a URL: {e}")))?;
        if !url.as_str().starts_with(base.as_str()) {
            return Err(Error::invalid_input(
                "path",
                format!("{path:?} leads outside the API root {base}"),
            ));
        }
        Ok(url)
    }
}

/// Root and path up to this length are joined on the stack.
const JOIN_BUFFER: usize = 256;

/// `Url::parse` of `base` followed by `path`, joined on the stack when they
/// fit: the joined text is only read once, so a heap copy of it would be one
/// allocation per request for nothing.
fn parse_joined(base: &str, path: &str) -> std::result::Result<Url, url::ParseError> {
    let mut buf = [0u8; JOIN_BUFFER];
    if let Some(joined) = buf.get_mut(..base.len() + path.len()) {
        let (head, tail) = joined.split_at_mut(base.len());
        head.copy_from_slice(base.as_bytes());
        tail.copy_from_slice(path.as_bytes());
        // Two `str`s joined are UTF-8; the check cannot fail.
        if let Ok(joined) = std::str::from_utf8(joined) {
            return Url::parse(joined);
        }
    }
    Url::parse(&[base, path].concat())
}

/// Follows at most 5 redirects, and none that leaves the API root `root`
/// (its scheme, host, port and path): the 3xx is then the answer, an error
/// for the caller. reqwest alone drops `Authorization` when the host or port
/// changes, but not when only the scheme does (https → http) or only the path
/// does (another service behind the same host, an open redirect on it), and
/// it re-sends the body of a 307/308 (the login's password) wherever the
/// server names. Every request starts under the root (`Transport::url`), so
/// checking each hop keeps the whole chain under it.
pub(super) fn redirects_within(
    root: &Url,
) -> impl Fn(reqwest::redirect::Attempt) -> reqwest::redirect::Action + Send + Sync + 'static {
    let root = root.as_str().to_owned();
    move |attempt| {
        if !attempt.url().as_str().starts_with(&root) {
            attempt.stop()
        } else if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else {
            attempt.follow()
        }
    }
}

pub(super) fn too_large(operation: &str, limit: usize) -> (Failure, Error) {
    (
        // Not retried: the same answer would come again.
        Failure::Status {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            retry_after: None,
        },
        Error::body_too_large(operation, limit),
    )
}

pub(super) fn classify(
    e: reqwest::Error,
    operation: &str,
    timeout: Duration,
    reading: bool,
) -> (Failure, Error) {
    if e.is_timeout() {
        return (
            Failure::MaybeSent { timeout: true },
            Error::timeout(operation, timeout),
        );
    }
    let failure = if e.is_connect() && !reading {
        Failure::NotSent
    } else {
        Failure::MaybeSent { timeout: false }
    };
    let what = match (reading, e.is_connect()) {
        (true, _) => "reading the answer failed",
        (false, true) => "connection failed",
        (false, false) => "sending the request failed",
    };
    (failure, Error::transport(operation, what, e.without_url()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::state::Shared;
    use crate::Config;
    use proptest::prelude::*;
    use std::sync::Arc;

    fn transport(base: &str) -> Transport {
        let config = Config::builder().base_url(base).build().unwrap();
        Transport::new(
            config,
            Default::default(),
            Arc::new(Shared::new(
                None,
                crate::TokenPolicy::default(),
                Arc::new(crate::SystemClock),
            )),
            None,
        )
        .unwrap()
    }

    // The plain-text join of a path without a scheme must give exactly what
    // `Url::join` gives, and refuse exactly what leaves the root.
    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        #[test]
        fn paths_join_as_url_join_does(
            base in prop::sample::select(vec!["http://127.0.0.1:8080/api", "https://amp.example/api/v1/", "http://localhost/"]),
            // Half of the paths only of the plain characters, half of any.
            path in prop_oneof!["[a-zA-Z0-9./?&=%_~+,-]{0,24}", "[a-z0-9./?&=#%_~+,: \\\\-]{0,24}"],
        ) {
            let t = transport(base);
            let root = t.config.base_url().clone();
            let expected = root.join(&path).ok().filter(|u| u.as_str().starts_with(root.as_str()));
            prop_assert_eq!(t.url(&path).ok(), expected);
        }
    }

    // The joined text is built on the stack up to `JOIN_BUFFER` bytes, on
    // the heap beyond: both give the same URL, either side of the boundary.
    #[test]
    fn long_paths_join_as_short_ones_do() {
        let t = transport("http://127.0.0.1:8080/api");
        let root = t.config.base_url().as_str().to_string();
        let fills = JOIN_BUFFER - root.len();
        for n in [1, fills - 1, fills, fills + 1, 20 * JOIN_BUFFER] {
            let path = "a".repeat(n);
            assert_eq!(t.url(&path).unwrap().as_str(), format!("{root}{path}"));
        }
        let leaving = format!("{}/../../x", "a".repeat(fills + 10));
        assert!(t.url(&leaving).is_err());
    }

    #[test]
    fn paths_that_leave_the_root_are_refused() {
        let t = transport("http://127.0.0.1:8080/api");
        assert_eq!(
            t.url("assets/?a=b").unwrap().as_str(),
            "http://127.0.0.1:8080/api/assets/?a=b"
        );
        for path in [
            "..",
            "../user",
            "a/../../x",
            "http://elsewhere/api/",
            "//elsewhere/x",
            "\\\\elsewhere",
        ] {
            assert!(t.url(path).is_err_and(|e| e.is_invalid_input()), "{path}");
        }
    }
}
