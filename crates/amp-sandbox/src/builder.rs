//! [`SandboxBuilder`]: what a sandbox starts with, and starting it.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::auth::Tokens;
use crate::data::Store;
use crate::faults::{Fault, FaultTable};
use crate::node::{self, NodeFault, NodeShared};
use crate::routes;
use crate::stats::Recorder;
use crate::{
    Sandbox, Settings, Shared, DEFAULT_NODE_PASSWORD, DEFAULT_NODE_USER, DEFAULT_PASSWORD,
    DEFAULT_RECORD_LIMIT, DEFAULT_TOKEN_LIFE, DEFAULT_USERNAME,
};

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
    node_port: u16,
    node_user: String,
    node_password: String,
    cookie_dir: Option<PathBuf>,
    block_interval: Option<Duration>,
    wallet_passphrase: Option<String>,
    node_jsonrpc_v2: bool,
    node_faults: Vec<(String, NodeFault)>,
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
            node_port: 0,
            node_user: DEFAULT_NODE_USER.to_owned(),
            node_password: DEFAULT_NODE_PASSWORD.to_owned(),
            cookie_dir: None,
            block_interval: None,
            wallet_passphrase: None,
            node_jsonrpc_v2: false,
            node_faults: Vec::new(),
        }
    }
}

impl SandboxBuilder {
    /// The port on 127.0.0.1; 0 (the default) takes any free port.
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The issuer's login, which `obtain_token` accepts beside the managers'
    /// (default `sandbox-user` / `sandbox-password`).
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

    /// Whether to start with sample data (default `true`): three assets (a
    /// reissuable, transfer-restricted bond and two others), three registered
    /// users (two with GAIDs), two categories, three assignments of which two
    /// are distributed, and one unlocked manager that can log in
    /// ([`SAMPLE_MANAGER_USERNAME`](crate::SAMPLE_MANAGER_USERNAME) /
    /// [`SAMPLE_MANAGER_PASSWORD`](crate::SAMPLE_MANAGER_PASSWORD)). It is
    /// made through the store's own operations, so it obeys the same rules.
    /// Without it the store starts empty.
    pub fn with_sample_data(mut self, yes: bool) -> Self {
        self.sample_data = yes;
        self
    }

    /// How many request records [`Stats::requests`](crate::Stats::requests) keeps, the most recent ones
    /// (default [`DEFAULT_RECORD_LIMIT`]). Counters stay exact regardless.
    pub fn record_limit(mut self, limit: usize) -> Self {
        self.record_limit = limit;
        self
    }

    /// The node's port on 127.0.0.1; 0 (the default) takes any free port.
    pub fn node_port(mut self, port: u16) -> Self {
        self.node_port = port;
        self
    }

    /// The node's `rpcuser` / `rpcpassword` (default
    /// [`DEFAULT_NODE_USER`](crate::DEFAULT_NODE_USER) /
    /// [`DEFAULT_NODE_PASSWORD`](crate::DEFAULT_NODE_PASSWORD)). The cookie
    /// is accepted beside them.
    pub fn node_credentials(mut self, user: &str, password: &str) -> Self {
        self.node_user = user.to_owned();
        self.node_password = password.to_owned();
        self
    }

    /// The folder the node writes its `.cookie` into (it must exist). By
    /// default a fresh folder under the system's temporary folder, removed
    /// with the sandbox.
    pub fn cookie_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cookie_dir = Some(dir.into());
        self
    }

    /// Mines a block every `interval` (on the tokio clock), as a chain does;
    /// by default blocks are mined only on request ([`Sandbox::mine`],
    /// `generatetoaddress`, the control endpoint).
    pub fn block_interval(mut self, interval: Duration) -> Self {
        self.block_interval = Some(interval).filter(|d| !d.is_zero());
        self
    }

    /// Encrypts the node's wallet with this passphrase; it starts locked
    /// (`walletpassphrase` unlocks it). By default the wallet is not
    /// encrypted.
    pub fn wallet_passphrase(mut self, passphrase: &str) -> Self {
        self.wallet_passphrase = Some(passphrase.to_owned()).filter(|p| !p.is_empty());
        self
    }

    /// Whether requests marked `"jsonrpc": "2.0"` get strict JSON-RPC 2.0
    /// replies, as Elements built on Bitcoin Core 28 or later gives (RPC
    /// errors with HTTP 200, no `null` member). Default `false`: every
    /// request is answered as Elements 23 answers (`{"result", "error",
    /// "id"}`, HTTP 500 on an RPC error).
    pub fn node_jsonrpc_v2(mut self, yes: bool) -> Self {
        self.node_jsonrpc_v2 = yes;
        self
    }

    /// Queues a one-shot node fault, as [`Sandbox::push_node_fault`].
    pub fn node_fault(mut self, method: &str, fault: NodeFault) -> Self {
        self.node_faults.push((method.to_owned(), fault));
        self
    }

    /// Binds 127.0.0.1 and spawns the server on the current tokio runtime.
    ///
    /// # Errors
    ///
    /// A port cannot be bound (for example, it is taken), or the cookie
    /// cannot be written.
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
        let node_listener = TcpListener::bind((Ipv4Addr::LOCALHOST, self.node_port)).await?;
        let node_addr = node_listener.local_addr()?;
        let (cookie_dir, cookie_dir_made) = match self.cookie_dir {
            Some(dir) => (dir, None),
            None => {
                let dir = node::make_cookie_dir()?;
                (dir.clone(), Some(dir))
            }
        };
        let cookie = node::new_cookie();
        let cookie_path = cookie_dir.join(".cookie");
        node::write_cookie(&cookie_path, &cookie)?;
        let mut store = Store::new(self.sample_data, self.seed.unwrap_or(0));
        store.chain.wallet.passphrase = self.wallet_passphrase;
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
            store: Mutex::new(store),
            closing,
            faults_taken: watch::channel(0).0,
            node: NodeShared::new(
                self.node_user,
                self.node_password,
                cookie,
                cookie_path,
                cookie_dir_made,
                self.node_jsonrpc_v2,
                node_addr,
                self.record_limit,
                self.block_interval,
            ),
        });
        for (method, fault) in self.node_faults {
            shared.node.faults().push(&method, fault);
        }
        crate::node::handle::serve_node(&shared, node_listener);
        let miner = tokio::spawn(crate::node::handle::mine_on_timer(Arc::downgrade(&shared)));
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
            miner: Some(miner),
        })
    }
}
