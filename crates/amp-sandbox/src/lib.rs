//! A local fake of the Blockstream AMP REST API, for tests, benchmarks and demos.
//!
//! [`Sandbox`] is a real HTTP server on `127.0.0.1` (axum), spawned on the
//! caller's tokio runtime, so a test's paused clock governs token expiry and
//! injected delays. It behaves as `amp-api.md` describes the real service:
//! 40-hex tokens sent as `Authorization: token …`, DRF-style error bodies, and
//! every route with and without a trailing slash. On top of that it can inject
//! faults ([`Fault`]) per route and counts every request ([`Stats`]).
//!
//! It is an independent implementation of the server side: it shares no code
//! with the client, so a mistake made in both cannot hide.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use amp_sandbox::{Fault, Sandbox};
//!
//! let sandbox = Sandbox::builder()
//!     .fault("/user/obtain_token", Fault::RateLimitSeconds(1))
//!     .start()
//!     .await?;
//! // point the client at sandbox.base_url() with sandbox.username() / password() …
//! assert_eq!(sandbox.count("POST", "/user/obtain_token"), 0);
//! # Ok(()) }
//! ```
//!
//! # Control endpoint
//!
//! Outside `/api`, JSON, without authentication and not counted:
//!
//! | request | effect |
//! |---|---|
//! | `GET /_sandbox/stats` | `{"total", "by_route", "requests"}` (see [`Stats`]) |
//! | `POST /_sandbox/faults` `{"route", "fault", "probability"?, "count"?}` | without `probability`: queue `count` (default 1) one-shot faults; with it: set that fault's rate (0 removes it). The `fault` shape is documented on [`Fault`]. |
//! | `DELETE /_sandbox/faults` | clear every fault |
//! | `POST /_sandbox/revoke` | revoke every token |
//! | `POST /_sandbox/reset` (or `DELETE /_sandbox/stats`) | reset the counters |
//! | `POST /_sandbox/token-life` `{"seconds": n}` | life of tokens issued from now on |
//! | `POST /_sandbox/refresh-revokes-old` `{"enabled": bool}` | see [`Sandbox::set_refresh_revokes_old`] |
//!
//! # Decisions where the real API is unknown
//!
//! - `GET /managers/me` answers 404 with a `detail`: the sandbox's login is an issuer.
//! - `/changelog` needs a token; `/info` and `/user/obtain_token` do not.
//! - A token's expiry is fixed when it is issued; [`Sandbox::set_token_life`]
//!   affects tokens issued afterwards.
//! - Authentication is checked before the method (DRF order): a wrong method
//!   without a token is a 401, with a token a 405.
//! - An unknown path under `/api` is a JSON 404 `{"detail": "Not found."}`.
//! - The sandbox never logs tokens or passwords (tests capture all tracing
//!   output to prove the client does not either).

#![warn(missing_docs)]

mod auth;
mod data;
mod drf;
mod faults;
mod routes;
mod stats;

use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use faults::Fault;
pub use stats::{RequestRecord, Stats};

use auth::Tokens;
use data::Store;
use faults::FaultTable;
use stats::Recorder;

/// Default login of a sandbox.
pub const DEFAULT_USERNAME: &str = "sandbox-user";
/// Default password of a sandbox.
pub const DEFAULT_PASSWORD: &str = "sandbox-password";
/// The login of the sample data's manager (unlocked, granted the sample bond).
pub const SAMPLE_MANAGER_USERNAME: &str = "sandbox-manager";
/// The password of the sample data's manager.
pub const SAMPLE_MANAGER_PASSWORD: &str = "sandbox-manager-password";
/// Default token life, 24 h.
pub const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(24 * 60 * 60);
/// Default number of request records kept (counters are always exact).
pub const DEFAULT_RECORD_LIMIT: usize = 100_000;

/// Locks a mutex, carrying on through poisoning: every critical section leaves
/// the data consistent, so a panic elsewhere must not take the server down.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Settings that can change while the sandbox runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) token_life: Duration,
    pub(crate) refresh_revokes_old: bool,
}

/// The state shared by the handle and the server. Each part has its own lock,
/// and no lock is held across an `.await` or while taking another.
pub(crate) struct Shared {
    pub(crate) username: String,
    /// The password the sandbox started with.
    pub(crate) password: String,
    /// The password `obtain_token` accepts now (`/user/change-password` changes it).
    login_password: Mutex<String>,
    /// The API root, `http://127.0.0.1:PORT/api`, for answers that name it.
    pub(crate) base_url: String,
    settings: Mutex<Settings>,
    tokens: Mutex<Tokens>,
    faults: Mutex<FaultTable>,
    recorder: Mutex<Recorder>,
    store: Mutex<Store>,
    /// Set to `true` on shutdown, so injected delays end at once.
    pub(crate) closing: watch::Sender<bool>,
}

impl Shared {
    pub(crate) fn settings(&self) -> Settings {
        *lock(&self.settings)
    }

    pub(crate) fn login_password(&self) -> String {
        lock(&self.login_password).clone()
    }

    pub(crate) fn set_login_password(&self, password: String) {
        *lock(&self.login_password) = password;
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultTable> {
        lock(&self.faults)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn next_fault(&self, route: &str, path: &str) -> Option<Fault> {
        self.faults().next(route, path)
    }

    pub(crate) fn record(&self, record: RequestRecord) {
        lock(&self.recorder).record(record);
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.recorder).snapshot()
    }

    pub(crate) fn reset_stats(&self) {
        lock(&self.recorder).reset();
    }

    pub(crate) fn set_token_life(&self, life: Duration) {
        lock(&self.settings).token_life = life;
    }

    pub(crate) fn set_refresh_revokes_old(&self, yes: bool) {
        lock(&self.settings).refresh_revokes_old = yes;
    }
}

/// A running sandbox server. Dropping it shuts the server down.
///
/// All methods that change behaviour take effect for the next request.
pub struct Sandbox {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // No credentials here: the password must not reach logs.
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// A builder with the defaults: any free port, `sandbox-user` /
    /// `sandbox-password`, 24 h tokens, sample data, no faults.
    pub fn builder() -> SandboxBuilder {
        SandboxBuilder::default()
    }

    /// Starts a sandbox with the defaults; the same as `Sandbox::builder().start()`.
    pub async fn start() -> std::io::Result<Sandbox> {
        Sandbox::builder().start().await
    }

    /// The API root, `http://127.0.0.1:PORT/api` (no trailing slash).
    pub fn base_url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The control root, `http://127.0.0.1:PORT/_sandbox`.
    pub fn control_url(&self) -> String {
        format!("http://{}/_sandbox", self.addr)
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The username `obtain_token` accepts.
    pub fn username(&self) -> &str {
        &self.shared.username
    }

    /// The password the sandbox started with, which `obtain_token` accepts
    /// until a client changes it with `POST /user/change-password` (see
    /// [`Sandbox::current_password`]).
    pub fn password(&self) -> &str {
        &self.shared.password
    }

    /// The password `obtain_token` accepts now: [`Sandbox::password`], or the
    /// last one set through `POST /user/change-password`.
    pub fn current_password(&self) -> String {
        self.shared.login_password()
    }

    /// A snapshot of the counters and the recent request records.
    pub fn stats(&self) -> Stats {
        self.shared.stats()
    }

    /// How many requests with this method reached this route, e.g.
    /// `count("POST", "/user/obtain_token")`. The route may be written with or
    /// without `/api` and a trailing slash.
    pub fn count(&self, method: &str, route: &str) -> u64 {
        lock(&self.shared.recorder).count(method, route)
    }

    /// Queues a one-shot fault for the next request to `route` (any method).
    /// Faults of one route are used in the order queued. `route` is a pattern
    /// such as `/assets/{assetUuid}`, a concrete path such as `/assets/abc`, or
    /// `*` for every route; a route's own queue is used before the `*` queue.
    pub fn push_fault(&self, route: &str, fault: Fault) {
        self.shared.faults().push(route, fault);
    }

    /// Injects `fault` into each request to `route` with this probability
    /// (clamped to 0..=1; 0 removes the rate). Setting the same fault on the same
    /// route again replaces its probability. Rates are drawn after the queues
    /// are empty, from a generator seeded by [`SandboxBuilder::seed`].
    pub fn set_fault_rate(&self, route: &str, fault: Fault, probability: f64) {
        self.shared.faults().set_rate(route, fault, probability);
    }

    /// Removes every queued fault and every fault rate.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Revokes every token issued so far: the next request with one gets a 401.
    pub fn revoke_all_tokens(&self) {
        self.shared.tokens().revoke_all();
    }

    /// Issues a valid token directly, without a request (not counted). Useful to
    /// seed a client's token store.
    pub fn issue_token(&self) -> String {
        let life = self.shared.settings().token_life;
        self.shared.tokens().issue(life)
    }

    /// Whether the sandbox would accept this token now.
    pub fn is_token_valid(&self, token: &str) -> bool {
        self.shared.tokens().is_valid(token)
    }

    /// The life of tokens issued from now on, measured on the tokio clock.
    /// Tokens already issued keep their expiry.
    pub fn set_token_life(&self, life: Duration) {
        self.shared.set_token_life(life);
    }

    /// Whether `/user/refresh-token` revokes the token it was called with.
    pub fn set_refresh_revokes_old(&self, yes: bool) {
        self.shared.set_refresh_revokes_old(yes);
    }

    /// Sets every counter to zero and forgets the request records.
    pub fn reset_stats(&self) {
        self.shared.reset_stats();
    }

    /// Stops the server and waits until it no longer accepts connections.
    /// Open connections are closed as soon as their current request is answered;
    /// requests held by a [`Fault::Delay`] end at once, without an answer.
    pub async fn shutdown(mut self) {
        self.shared.closing.send_replace(true);
        if let Some(task) = self.task.take() {
            task.abort();
            // The task is ours and was just aborted: its only outcome is a
            // cancellation, which is what we wanted.
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.shared.closing.send_replace(true);
        if let Some(task) = self.task.take() {
            // Aborting the accept loop also drops axum's shutdown watch, which tells
            // every connection task to close gracefully.
            task.abort();
        }
    }
}

/// Configures and starts a [`Sandbox`].
#[derive(Debug, Clone)]
pub struct SandboxBuilder {
    port: u16,
    username: String,
    password: String,
    token_life: Duration,
    refresh_revokes_old: bool,
    faults: Vec<(String, Fault)>,
    rates: Vec<(String, Fault, f64)>,
    seed: Option<u64>,
    sample_data: bool,
    record_limit: usize,
}

impl Default for SandboxBuilder {
    fn default() -> Self {
        SandboxBuilder {
            port: 0,
            username: DEFAULT_USERNAME.to_owned(),
            password: DEFAULT_PASSWORD.to_owned(),
            token_life: DEFAULT_TOKEN_LIFE,
            refresh_revokes_old: false,
            faults: Vec::new(),
            rates: Vec::new(),
            seed: None,
            sample_data: true,
            record_limit: DEFAULT_RECORD_LIMIT,
        }
    }
}

impl SandboxBuilder {
    /// The port on 127.0.0.1; 0 (the default) takes any free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The only login `obtain_token` accepts (default `sandbox-user` / `sandbox-password`).
    pub fn credentials(mut self, username: &str, password: &str) -> Self {
        self.username = username.to_owned();
        self.password = password.to_owned();
        self
    }

    /// The life of issued tokens, on the tokio clock (default 24 h).
    pub fn token_life(mut self, life: Duration) -> Self {
        self.token_life = life;
        self
    }

    /// Whether a refresh revokes the token it was called with (default `false`:
    /// the old token stays valid until it expires).
    pub fn refresh_revokes_old(mut self, yes: bool) -> Self {
        self.refresh_revokes_old = yes;
        self
    }

    /// Queues a one-shot fault, as [`Sandbox::push_fault`].
    pub fn fault(mut self, route: &str, fault: Fault) -> Self {
        self.faults.push((route.to_owned(), fault));
        self
    }

    /// Sets a fault rate, as [`Sandbox::set_fault_rate`].
    pub fn fault_rate(mut self, route: &str, fault: Fault, probability: f64) -> Self {
        self.rates.push((route.to_owned(), fault, probability));
        self
    }

    /// Seeds the generator behind fault rates, so a run repeats exactly when the
    /// requests do. Without a seed the generator is seeded at random. Tokens are
    /// always random.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Whether to start with sample data (default `true`): three assets, three
    /// registered users, two categories, one manager, a few assignments.
    /// Without it the store starts empty.
    pub fn with_sample_data(mut self, yes: bool) -> Self {
        self.sample_data = yes;
        self
    }

    /// How many request records [`Stats::requests`] keeps, the most recent ones
    /// (default [`DEFAULT_RECORD_LIMIT`]). Counters stay exact regardless.
    pub fn record_limit(mut self, limit: usize) -> Self {
        self.record_limit = limit;
        self
    }

    /// Binds 127.0.0.1 and spawns the server on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// The port cannot be bound (for example, it is taken).
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (as `tokio::spawn` does).
    pub async fn start(self) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.port)).await?;
        let addr = listener.local_addr()?;
        let mut faults = FaultTable::new(self.seed);
        for (route, fault) in self.faults {
            faults.push(&route, fault);
        }
        for (route, fault, probability) in self.rates {
            faults.set_rate(&route, fault, probability);
        }
        let (closing, _) = watch::channel(false);
        let shared = Arc::new(Shared {
            username: self.username,
            login_password: Mutex::new(self.password.clone()),
            password: self.password,
            base_url: format!("http://{addr}/api"),
            settings: Mutex::new(Settings {
                token_life: self.token_life,
                refresh_revokes_old: self.refresh_revokes_old,
            }),
            tokens: Mutex::new(Tokens::new()),
            faults: Mutex::new(faults),
            recorder: Mutex::new(Recorder::new(self.record_limit)),
            store: Mutex::new(Store::new(self.sample_data)),
            closing,
        });
        let app = routes::control()
            .fallback(routes::entry)
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            if let Err(err) = axum::serve(listener, app).await {
                tracing::warn!(%err, "amp sandbox server stopped");
            }
        });
        tracing::debug!(%addr, "amp sandbox listening");
        Ok(Sandbox {
            addr,
            shared,
            task: Some(task),
        })
    }
}
