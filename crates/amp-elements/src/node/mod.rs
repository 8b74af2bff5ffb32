//! The Elements node's JSON-RPC over HTTP: [`ElementsRpc`].

mod auth;
mod calls;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use url::Url;

use crate::error::{Error, Result, RpcErrorKind};
use auth::{is_loopback, read_cookie, scrub, split_url, Auth};

pub use auth::COOKIE_USER;
pub use calls::{
    units, BlockchainInfo, NetworkInfo, Reissued, SinceBlock, WalletTx, MIN_ELEMENTS_VERSION,
    NODE_NAME,
};

/// Largest answer read from the node.
const MAX_ANSWER_BYTES: usize = 64 * 1024 * 1024;

/// A client of an Elements node's JSON-RPC (the issuer's treasury wallet).
///
/// Built with [`ElementsRpc::builder`] from the node's URL; credentials come
/// from the URL (`http://USER:PASSWORD@HOST:PORT/`, the official script's
/// form) or from the node's `.cookie` file. They are [`SecretString`]s,
/// never shown by `Debug`, logs or errors, and scrubbed from the node's own
/// text. Plain `http://` is refused to a host other than loopback unless
/// [`NodeBuilder::allow_insecure_http`] says otherwise.
///
/// Every call has a timeout. A connection that cannot be made (refused, or a
/// node still warming up, `-28`) is tried again a bounded number of times
/// with a growing pause (by default 5 attempts, 1 s doubling to at most
/// 10 s): the call never reached the node, so repeating it is safe. Nothing
/// else is repeated: an RPC error is returned at once, named
/// ([`RpcErrorKind`]), and a call that may have reached the node without an
/// answer is [`Error::NoAnswer`].
///
/// ```no_run
/// # async fn demo() -> amp_elements::Result<()> {
/// use amp_elements::ElementsRpc;
/// let node = ElementsRpc::builder("http://user:pass@127.0.0.1:7041/")
///     .timeout(std::time::Duration::from_secs(30))
///     .build()?;
/// let info = node.network_info().await?;
/// println!("{} {}", info.subversion, info.version);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct ElementsRpc {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    url: Url,
    auth: Auth,
    /// The cookie's credentials once read.
    cookie: Mutex<Option<(String, SecretString)>>,
    timeout: Duration,
    connect_attempts: u32,
    connect_delay: Duration,
    max_connect_delay: Duration,
    next_id: AtomicU64,
}

impl std::fmt::Debug for ElementsRpc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ElementsRpc")
            .field("url", &self.inner.url.as_str())
            .field("auth", &self.inner.auth)
            .field("timeout", &self.inner.timeout)
            .finish_non_exhaustive()
    }
}

/// Settings of an [`ElementsRpc`], from [`ElementsRpc::builder`].
pub struct NodeBuilder {
    url: String,
    cookie: Option<std::path::PathBuf>,
    allow_insecure_http: bool,
    timeout: Duration,
    connect_attempts: u32,
    connect_delay: Duration,
    max_connect_delay: Duration,
}

impl std::fmt::Debug for NodeBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The URL may hold the password: only its credential-free form.
        let url = split_url(&self.url)
            .map_or_else(|_| "[unreadable]".to_string(), |(u, _)| u.to_string());
        f.debug_struct("NodeBuilder")
            .field("url", &url)
            .field("cookie", &self.cookie)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl NodeBuilder {
    /// Log in with the cookie file Elements Core writes in its data folder
    /// (`<datadir>/<chain>/.cookie`) instead of a `user:password` in the URL.
    pub fn cookie_file(mut self, path: impl Into<std::path::PathBuf>) -> Self {
        self.cookie = Some(path.into());
        self
    }

    /// Allow plain `http://` to a node that is not on this machine (the
    /// credentials then cross the network in clear). Off by default.
    pub fn allow_insecure_http(mut self, yes: bool) -> Self {
        self.allow_insecure_http = yes;
        self
    }

    /// The time one call may take, answer included (default 60 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How often to try to connect before giving up (default 5), and the
    /// first pause between tries (default 1 s, doubling, at most `max`,
    /// default 10 s).
    pub fn connect_retries(mut self, attempts: u32, first_delay: Duration, max: Duration) -> Self {
        self.connect_attempts = attempts.max(1);
        self.connect_delay = first_delay;
        self.max_connect_delay = max.max(first_delay);
        self
    }

    /// Checks the settings and builds the client (no call is made).
    ///
    /// # Errors
    ///
    /// [`Error::Config`]: the URL is not http(s), has no host, is plain
    /// http to another machine without [`allow_insecure_http`](Self::allow_insecure_http),
    /// holds credentials as well as a cookie file is given, or the timeout is zero.
    pub fn build(self) -> Result<ElementsRpc> {
        let (url, credentials) = split_url(&self.url)?;
        if url.scheme() == "http" && !is_loopback(&url) && !self.allow_insecure_http {
            return Err(Error::config(
                "node URL",
                format!(
                    "plain http to {} would send the node's credentials in clear; use https, \
                     a node on this machine, or allow insecure http explicitly",
                    url.host_str().unwrap_or("?")
                ),
            ));
        }
        if self.timeout.is_zero() {
            return Err(Error::config("node timeout", "must be more than 0"));
        }
        let auth = match (credentials, self.cookie) {
            (Some(_), Some(_)) => {
                return Err(Error::config(
                    "node URL",
                    "has a user:password and a cookie file is given too; use one",
                ))
            }
            (Some((user, password)), None) => Auth::Password { user, password },
            (None, Some(path)) => Auth::Cookie { path },
            (None, None) => Auth::None,
        };
        let http = reqwest::Client::builder()
            // Credentials go to this URL only: no redirect, no proxy.
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(self.timeout)
            .build()
            .map_err(|e| Error::config("node HTTP client", e.to_string()))?;
        Ok(ElementsRpc {
            inner: Arc::new(Inner {
                http,
                url,
                auth,
                cookie: Mutex::new(None),
                timeout: self.timeout,
                connect_attempts: self.connect_attempts,
                connect_delay: self.connect_delay,
                max_connect_delay: self.max_connect_delay,
                next_id: AtomicU64::new(1),
            }),
        })
    }
}

/// What one HTTP exchange gave.
enum Attempt {
    /// A decoded JSON-RPC answer (result or error).
    Answer(Value),
    /// The call never reached the node: may be tried again.
    NotSent(String),
    /// The credentials were refused.
    Refused(u16),
}

impl ElementsRpc {
    /// A builder for the node at `url` (`http://USER:PASSWORD@HOST:PORT/`,
    /// `/wallet/NAME` appended for a node with several wallets).
    pub fn builder(url: &str) -> NodeBuilder {
        NodeBuilder {
            url: url.to_string(),
            cookie: None,
            allow_insecure_http: false,
            timeout: Duration::from_secs(60),
            connect_attempts: 5,
            connect_delay: Duration::from_secs(1),
            max_connect_delay: Duration::from_secs(10),
        }
    }

    /// The node's URL, without credentials.
    pub fn url(&self) -> &str {
        self.inner.url.as_str()
    }

    /// Calls `method` with `params` (a JSON array) and decodes the result.
    ///
    /// ```no_run
    /// # async fn demo(node: amp_elements::ElementsRpc) -> amp_elements::Result<()> {
    /// let height: u64 = node.call("getblockcount", serde_json::json!([])).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::Unreachable`] (never reached the node, after the retries),
    /// [`Error::NoAnswer`] (may have been carried out), [`Error::Unauthorized`],
    /// [`Error::Rpc`] (named by [`RpcErrorKind`]), [`Error::BadAnswer`].
    pub async fn call<T: DeserializeOwned>(&self, method: &str, params: Value) -> Result<T> {
        let value = self.call_value(method, params).await?;
        serde_json::from_value(value).map_err(|e| Error::BadAnswer {
            method: method.to_string(),
            reason: format!("the result has another shape: {e}"),
        })
    }

    /// [`call`](Self::call), the result as the node wrote it.
    pub async fn call_value(&self, method: &str, params: Value) -> Result<Value> {
        let inner = &self.inner;
        let id = inner.next_id.fetch_add(1, Ordering::Relaxed);
        let body = json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params});
        let mut delay = inner.connect_delay;
        let mut cookie_reread = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = self.attempt(method, &body).await?;
            let reason = match outcome {
                Attempt::Answer(answer) => match self.decode(method, answer) {
                    Err(Error::Rpc {
                        kind: RpcErrorKind::Warmup,
                        message,
                        ..
                    }) => format!("the node is starting: {message}"),
                    other => return other,
                },
                Attempt::Refused(status) => {
                    if matches!(inner.auth, Auth::Cookie { .. }) && !cookie_reread {
                        // The node writes a new cookie when it restarts.
                        cookie_reread = true;
                        *crate::lock(&inner.cookie) = None;
                        attempt -= 1;
                        continue;
                    }
                    return Err(Error::Unauthorized {
                        method: method.to_string(),
                        status,
                    });
                }
                Attempt::NotSent(reason) => reason,
            };
            if attempt >= inner.connect_attempts {
                return Err(Error::Unreachable {
                    url: self.url().to_string(),
                    method: method.to_string(),
                    attempts: attempt,
                    reason,
                });
            }
            tracing::debug!(method, attempt, %reason, "Elements node not reached; trying again");
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(inner.max_connect_delay);
        }
    }

    /// One HTTP exchange.
    async fn attempt(&self, method: &str, body: &Value) -> Result<Attempt> {
        let inner = &self.inner;
        let mut request = inner
            .http
            .post(inner.url.clone())
            .timeout(inner.timeout)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body.to_string());
        if let Some((user, password)) = self.credentials()? {
            request = request.basic_auth(user, Some(password.expose_secret()));
        }
        let mut response = match request.send().await {
            Ok(response) => response,
            Err(e) if e.is_connect() => return Ok(Attempt::NotSent(self.describe(&e))),
            Err(e) => {
                return Err(Error::NoAnswer {
                    method: method.to_string(),
                    reason: self.describe(&e),
                })
            }
        };
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Ok(Attempt::Refused(status));
        }
        let mut bytes = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                        return Err(Error::BadAnswer {
                            method: method.to_string(),
                            reason: format!("the answer is larger than {MAX_ANSWER_BYTES} bytes"),
                        });
                    }
                    bytes.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) => {
                    return Err(Error::NoAnswer {
                        method: method.to_string(),
                        reason: self.describe(&e),
                    })
                }
            }
        }
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(answer @ Value::Object(_)) => Ok(Attempt::Answer(answer)),
            _ => {
                let text = String::from_utf8_lossy(&bytes);
                let text: String = text.chars().take(300).collect();
                Err(Error::BadAnswer {
                    method: method.to_string(),
                    reason: format!(
                        "HTTP {status}, not a JSON-RPC answer: {}",
                        self.scrub(text.trim())
                    ),
                })
            }
        }
    }

    /// The result of a JSON-RPC answer, or its error named.
    fn decode(&self, method: &str, mut answer: Value) -> Result<Value> {
        let error = answer.get_mut("error").map(Value::take);
        match error {
            None | Some(Value::Null) => {}
            Some(error) => {
                let code = error.get("code").and_then(Value::as_i64).unwrap_or(0);
                let message = error
                    .get("message")
                    .and_then(Value::as_str)
                    .map_or_else(|| error.to_string(), str::to_string);
                return Err(Error::Rpc {
                    method: method.to_string(),
                    code,
                    kind: RpcErrorKind::from_code(code),
                    message: self.scrub(&message),
                });
            }
        }
        match answer.get_mut("result") {
            Some(result) => Ok(result.take()),
            None => Err(Error::BadAnswer {
                method: method.to_string(),
                reason: "neither a result nor an error".to_string(),
            }),
        }
    }

    /// The user and password to send, reading the cookie file when needed.
    fn credentials(&self) -> Result<Option<(String, SecretString)>> {
        match &self.inner.auth {
            Auth::None => Ok(None),
            Auth::Password { user, password } => Ok(Some((user.clone(), password.clone()))),
            Auth::Cookie { path } => {
                let mut cached = crate::lock(&self.inner.cookie);
                if cached.is_none() {
                    *cached = Some(read_cookie(path)?);
                }
                Ok(cached.clone())
            }
        }
    }

    /// The secrets server text must not carry.
    fn secrets(&self) -> Vec<SecretString> {
        let mut secrets = Vec::new();
        if let Auth::Password { password, .. } = &self.inner.auth {
            secrets.push(password.clone());
        }
        if let Some((_, password)) = crate::lock(&self.inner.cookie).as_ref() {
            secrets.push(password.clone());
        }
        secrets
    }

    fn scrub(&self, text: &str) -> String {
        scrub(text, &self.secrets())
    }

    /// A reqwest error for people: what failed, without the URL's query or
    /// credentials (the URL has none) and scrubbed.
    fn describe(&self, e: &reqwest::Error) -> String {
        let what = if e.is_timeout() {
            format!("timed out after {} s", self.inner.timeout.as_secs_f64())
        } else if e.is_connect() {
            "connection failed".to_string()
        } else {
            "the connection broke".to_string()
        };
        // The innermost cause says why (refused, reset …).
        let mut source: Option<&dyn std::error::Error> = Some(e);
        let mut root = String::new();
        while let Some(s) = source {
            root = s.to_string();
            source = s.source();
        }
        self.scrub(&format!("{what}: {root}"))
    }
}
