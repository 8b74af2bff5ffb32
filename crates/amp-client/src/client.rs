//! [`AmpClient`]: the entry point. Every typed API call goes through
//! [`AmpClient::call`] (token, header, send with retries, one re-login after
//! a 401, decode), and the raw one through [`AmpClient::send`] (the same,
//! without the decoding and whatever the status).

use std::sync::Arc;

use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::auth::clock::Clock;
use crate::auth::manager::{AccessToken, TokenManager};
use crate::auth::state::Shared;
use crate::auth::store::TokenStore;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::response::Response;
use crate::stats::Counters;
use crate::transport::{Answer, Auth, Op, Request, Transport};

mod verbs;

/// A client of the AMP API that manages its own authentication.
///
/// Cheap to clone: clones share the connection pool and the token.
///
/// ```no_run
/// # async fn demo() -> amp_client::Result<()> {
/// // Reads AMP_USERNAME, AMP_PASSWORD, AMP_API_BASE_URL, API_RETRY_* …
/// let client = amp_client::AmpClient::from_env()?;
/// for asset in client.assets().list().await? {
///     println!("{} {}", asset.asset_uuid, asset.name);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct AmpClient {
    inner: Arc<ClientInner>,
}

#[derive(Debug)]
struct ClientInner {
    transport: Arc<Transport>,
    manager: TokenManager,
}

/// Builds an [`AmpClient`] with a custom clock or token store.
///
/// ```
/// use amp_client::{AmpClient, Config, ManualClock, MemoryStore};
/// use std::sync::Arc;
/// let config = Config::builder().base_url("http://127.0.0.1:1/api").build()?;
/// let client = AmpClient::builder(config)
///     .clock(Arc::new(ManualClock::new(chrono::Utc::now())))
///     .store(Arc::new(MemoryStore::new()))
///     .build()?;
/// # Ok::<(), amp_client::Error>(())
/// ```
#[derive(Debug)]
pub struct ClientBuilder {
    config: Config,
    clock: Option<Arc<dyn Clock>>,
    store: Option<Arc<dyn TokenStore>>,
    http: Option<reqwest::ClientBuilder>,
    keep_fresh: Option<bool>,
}

impl ClientBuilder {
    /// The clock the token manager reads (the system clock by default).
    pub fn clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = Some(clock);
        self
    }

    /// The token store (by default the one `Config::token_store` names).
    pub fn store(mut self, store: Arc<dyn TokenStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Your own HTTP client settings: proxies, root and client certificates,
    /// pool sizes, local address … The client's own rules still apply on
    /// top of them: redirects are followed only within the API's origin,
    /// every attempt has the request timeout (connecting included) and the
    /// body cap, credentials never go over plain http to a host that is not
    /// loopback (unless allowed), an API root on loopback is reached
    /// directly (any proxy set here is dropped), and for a plain-http root
    /// elsewhere only a proxy on loopback is used (any other set here is
    /// dropped). For an https root off loopback, the proxies set here (or
    /// reqwest's default: the standard variables) are used as they are.
    ///
    /// ```
    /// use amp_client::{AmpClient, Config};
    /// let config = Config::builder().base_url("https://amp.example/api").build()?;
    /// let http = amp_client::reqwest::Client::builder()
    ///     .pool_max_idle_per_host(4)
    ///     .tcp_keepalive(std::time::Duration::from_secs(30));
    /// let client = AmpClient::builder(config).http_client(http).build()?;
    /// # let _ = client;
    /// # Ok::<(), amp_client::Error>(())
    /// ```
    pub fn http_client(mut self, http: reqwest::ClientBuilder) -> Self {
        self.http = Some(http);
        self
    }

    /// Keep the token fresh in the background, whatever the config says
    /// (see [`ConfigBuilder::keep_fresh`](crate::ConfigBuilder::keep_fresh)):
    /// a task renews it at its soft point even when no call comes. The
    /// client must then be built inside a tokio runtime.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let sandbox = amp_sandbox::Sandbox::start().await?;
    /// let config = amp_client::Config::builder()
    ///     .base_url(sandbox.base_url())
    ///     .credentials(sandbox.username(), sandbox.password())
    ///     .build()?;
    /// let client = amp_client::AmpClient::builder(config).keep_fresh(true).build()?;
    /// // The task logs in at once; the first call finds that login (or its
    /// // token) waiting, and nothing else logs in.
    /// client.assets().list().await?;
    /// assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    /// # Ok(()) }
    /// ```
    pub fn keep_fresh(mut self, yes: bool) -> Self {
        self.keep_fresh = Some(yes);
        self
    }

    /// Builds the client.
    pub fn build(self) -> Result<AmpClient> {
        let mut config = self.config;
        let store = match self.store {
            Some(s) => s,
            None => crate::auth::store::open(config.token_store(), &config)?,
        };
        // The credentials move to the client's one home for secrets: the
        // config the client keeps holds none (a password change replaces
        // them there, and nowhere else holds an old copy).
        let clock = self.clock.unwrap_or_else(|| Arc::new(crate::SystemClock));
        let shared = Arc::new(Shared::new(
            config.take_credentials(),
            *config.token_policy(),
            clock,
        ));
        let counters = Arc::new(Counters::default());
        let transport = Arc::new(Transport::new(
            config.clone(),
            Arc::clone(&counters),
            Arc::clone(&shared),
            self.http,
        )?);
        let keep_fresh = self.keep_fresh.unwrap_or(config.keep_fresh());
        let manager = TokenManager::new(
            &config,
            shared,
            Arc::clone(&transport),
            counters,
            store,
            keep_fresh,
        )?;
        Ok(AmpClient {
            inner: Arc::new(ClientInner { transport, manager }),
        })
    }
}

impl AmpClient {
    /// A client for `config`, with the system clock and the store the config names.
    pub fn new(config: Config) -> Result<AmpClient> {
        AmpClient::builder(config).build()
    }

    /// A builder, for a custom clock or store.
    pub fn builder(config: Config) -> ClientBuilder {
        ClientBuilder {
            config,
            clock: None,
            store: None,
            http: None,
            keep_fresh: None,
        }
    }

    /// A client configured from the environment (see [`Config::from_env`]).
    pub fn from_env() -> Result<AmpClient> {
        AmpClient::new(Config::from_env()?)
    }

    /// The configuration. Its credentials are not kept here: the client
    /// holds them with its token, so [`Config::credentials`] is `None`.
    pub fn config(&self) -> &Config {
        self.inner.transport.config()
    }

    /// The token manager: token state, counters, clear, forced renewal.
    pub fn token_manager(&self) -> &TokenManager {
        &self.inner.manager
    }

    /// [`call`](Self::call) of a request already built, in its span.
    async fn call_request<T: DeserializeOwned>(&self, mut req: Request<'_>) -> Result<T> {
        req.span = call_span(&req);
        if req.span.is_disabled() {
            return self.call_with_token(&req).await;
        }
        traced(req.span.clone(), self.call_with_token(&req)).await
    }

    async fn call_with_token<T: DeserializeOwned>(&self, req: &Request<'_>) -> Result<T> {
        let (answer, token) = self.send_with_token(req).await?;
        self.decode(req, answer, Auth::Token(token.data()))
    }

    /// Sends `req` with a valid token. When the server refuses the token
    /// (a 401, or a 403 with one of DRF's authentication messages), drops
    /// it if it is still current, obtains another and replays the call
    /// once. Returns the answer and the token it was sent with (whose
    /// secret is scrubbed from a decoding error).
    async fn send_with_token(&self, req: &Request<'_>) -> Result<(Answer, AccessToken)> {
        let manager = &self.inner.manager;
        // Held across the request: a reference of its own, not the hot
        // path's guard (arc-swap's guards are meant to be short-lived).
        let mut token = manager.token().await?.clone();
        #[cfg(feature = "metrics")]
        crate::stats::token_expires_in(Some(manager.expires_in_seconds(&token)));
        let first = self
            .inner
            .transport
            .send(req, Auth::Token(token.data()))
            .await;
        // An error for the typed calls, an answer for `send`.
        let refused = match &first {
            Err(e) => e.is_token_rejected().then(|| e.status()).flatten(),
            Ok(answer) => answer.refused_token.then_some(answer.status),
        };
        let answer = match refused {
            Some(status) => {
                // The replay's answer counts the first send's attempts too.
                let before = first
                    .as_ref()
                    .map_or_else(|e| e.attempts().unwrap_or(1), |a| a.attempts);
                manager.invalidate(token.generation()).await;
                tracing::debug!(operation = %Op::new(req), ?status, "token rejected; logging in again and replaying once");
                req.span.record("replayed", true);
                token = manager.token().await?.clone();
                let mut answer = self
                    .inner
                    .transport
                    .send(req, Auth::Token(token.data()))
                    .await?;
                answer.attempts = answer.attempts.saturating_add(before);
                answer
            }
            None => first?,
        };
        req.span.record("status", answer.status.as_u16());
        Ok((answer, token))
    }

    /// Sends any request with the managed token and returns the final
    /// answer **whatever its status**: the one raw entry point, for
    /// programs that forward AMP's answers as they are (a proxy, a
    /// command line).
    ///
    /// Everything else is as for the typed calls: a valid token is taken
    /// (renewed if due), failures are retried with backoff within the
    /// retry budget, a 429 pauses every request of this client, and a
    /// refused token is replaced and the call replayed once. Where the
    /// retries end on an answer (a 404, a 400, a last 503, a 401 after the
    /// replay), that answer is returned; an error means there was none to
    /// return (a timeout, a refused connection, no token could be
    /// obtained, a pause longer than the maximum delay).
    ///
    /// `path` is relative to the API root and may carry a query string
    /// (`"assets/?limit=10"`); `body`, if any, is sent as JSON. Answers are
    /// read into plain memory: the calls whose answers hold a secret (the
    /// password changes) have typed methods that wipe them.
    ///
    /// The body is AMP's, with one exception: a body holding the token the
    /// request carried (a server that echoes the request) comes back with
    /// it replaced by `[REDACTED]`, even when the token changed while the
    /// request was in flight; so does one holding the current token, and a
    /// header value holding either is replaced whole. The
    /// token is the manager's to give: [`token_manager`](Self::token_manager).
    /// A body without a token (every answer AMP gives) is returned as it
    /// came, not copied.
    ///
    /// ```no_run
    /// # async fn demo(client: amp_client::AmpClient) -> amp_client::Result<()> {
    /// use amp_client::Method;
    /// let body = amp_client::Bytes::from_static(br#"{"name": "Alice", "is_company": false}"#);
    /// let answer = client.send(Method::POST, "registered_users/add", Some(body)).await?;
    /// println!("{} {}", answer.status(), String::from_utf8_lossy(answer.body()));
    /// # Ok(()) }
    /// ```
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<bytes::Bytes>,
    ) -> Result<Response> {
        let mut req = Request::new(method, path);
        if let Some(body) = body {
            req = req.json_body(body);
        }
        req.any_status = true;
        req.span = call_span(&req);
        let send = async {
            let (mut answer, token) = self.send_with_token(&req).await?;
            // The token this answer's request carried, whatever the current
            // one is by now, and the current one: neither leaves in a body.
            answer.body = self.inner.transport.scrub_answer(
                answer.body,
                &mut answer.headers,
                Auth::Token(token.data()),
            );
            Ok(answer)
        };
        if req.span.is_disabled() {
            return send.await;
        }
        traced(req.span.clone(), send).await
    }

    /// A call that needs no token (`info`).
    pub(crate) async fn call_anonymous<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
    ) -> Result<T> {
        let mut req = build::<()>(method, path, None)?;
        req.span = call_span(&req);
        let span = req.span.clone();
        let call = async {
            let answer = self.inner.transport.send(&req, Auth::None).await?;
            req.span.record("status", answer.status.as_u16());
            self.decode(&req, answer, Auth::None)
        };
        if span.is_disabled() {
            return call.await;
        }
        traced(span, call).await
    }

    /// The answer as `T`. The request is named only for an error: formatting
    /// its name for every successful call was a measurable share of the
    /// client's own cost per request. serde's explanation may quote the
    /// answer, so it is cleaned like any server text.
    fn decode<T: DeserializeOwned>(
        &self,
        req: &Request<'_>,
        answer: Answer,
        auth: Auth<'_>,
    ) -> Result<T> {
        let empty = answer.body.iter().all(u8::is_ascii_whitespace);
        let parsed = if answer.status == StatusCode::NO_CONTENT || empty {
            serde_json::from_value(serde_json::Value::Null)
        } else {
            serde_json::from_slice(&answer.body)
        };
        parsed.map_err(|e| {
            let reason = self
                .inner
                .transport
                .clean(&format!("unexpected JSON: {e}"), auth);
            Error::decode(req.operation(), reason)
        })
    }
}

/// The span of one API call, `amp.call`: the method and path (never a body
/// or a header), the attempts of the last send, whether a rejected token
/// made it replay, the final status and the time taken. Retries are events
/// inside it, so an OpenTelemetry subscriber shows one span per call.
fn call_span(req: &Request<'_>) -> tracing::Span {
    use tracing::field::Empty;
    tracing::info_span!(
        "amp.call",
        method = %req.method,
        path = req.named_path(),
        attempts = Empty,
        replayed = false,
        status = Empty,
        error = Empty,
        elapsed_ms = Empty,
    )
}

/// Runs `call` in `span`, recording how it ended and the time it took.
/// Only for an enabled span: with nobody listening, callers await the call
/// itself, so the request's future is not moved into this one and no clock
/// is read for a time nobody will see.
async fn traced<T>(
    span: tracing::Span,
    call: impl std::future::Future<Output = Result<T>>,
) -> Result<T> {
    use tracing::Instrument;
    let started = tokio::time::Instant::now();
    let result = call.instrument(span.clone()).await;
    if let Err(e) = &result {
        if let Some(status) = e.status() {
            span.record("status", status.as_u16());
        }
        span.record("error", tracing::field::display(e));
    }
    span.record("elapsed_ms", started.elapsed().as_millis() as u64);
    result
}

/// The request for `method path` with `body`, if any, as JSON (in a
/// buffer wiped when dropped).
fn build<'a, B: Serialize + ?Sized>(
    method: Method,
    path: &'a str,
    body: Option<&B>,
) -> Result<Request<'a>> {
    let mut req = Request::new(method, path);
    if let Some(body) = body {
        let bytes = crate::transport::wiped_json(body).map_err(|e| {
            Error::json(
                req.operation(),
                format!("the request body cannot be serialized: {e}"),
            )
        })?;
        req = req.json_body(bytes);
    }
    Ok(req)
}
