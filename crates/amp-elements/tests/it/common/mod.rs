//! What the job tests share: a sandbox (AMP and its node) with an asset
//! whose assignments are ready, a client, and a progress that mines a block
//! whenever the job reports it is waiting for one.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
use amp_client::{AmpClient, Config};
use amp_elements::{ElementsRpc, Event, JobOptions, Progress, Treasury};
use amp_sandbox::Sandbox;

/// A private folder, removed when dropped.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(name: &str) -> TempDir {
        let path = std::env::temp_dir().join(format!(
            "amp-elements-{name}-{}-{:08x}",
            std::process::id(),
            fastrand_u32()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn fastrand_u32() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos()
}

/// A GAID the sandbox accepts, different for each `n` below 33.
pub fn gaid(n: usize) -> String {
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    format!("GA9Test{}abcdefghijkmnopqrs", char::from(alphabet[n % 33]))
}

/// A sandbox, a client, an asset (reissuable, precision 8) and two users
/// with ready assignments of 300 and 200 units.
pub struct World {
    pub sandbox: Arc<Sandbox>,
    pub client: AmpClient,
    pub asset_uuid: String,
    pub dir: TempDir,
}

impl World {
    pub async fn new(name: &str) -> World {
        let sandbox = Sandbox::builder()
            .with_sample_data(false)
            .start()
            .await
            .unwrap();
        let config = Config::builder()
            .base_url(sandbox.base_url())
            .credentials(sandbox.username(), sandbox.password())
            .build()
            .unwrap();
        let client = AmpClient::new(config).unwrap();
        let issued = client
            .assets()
            .issue(&IssueRequest {
                name: "Job Bond".into(),
                amount: 1_000_000,
                destination_address: "treasury".into(),
                domain: "issuer.example".into(),
                ticker: "JOB".into(),
                pubkey: "02".to_string() + &"ab".repeat(32),
                is_reissuable: Some(true),
                reissuance_amount: Some(1),
                ..IssueRequest::default()
            })
            .await
            .unwrap();
        let world = World {
            sandbox: Arc::new(sandbox),
            client,
            asset_uuid: issued.asset_uuid,
            dir: TempDir::new(name),
        };
        world.assign(1, 300).await;
        world.assign(2, 200).await;
        world
    }

    /// A registered user with GAID `n` and a ready assignment of `amount`.
    pub async fn assign(&self, n: usize, amount: i64) {
        let user = self
            .client
            .registered_users()
            .add(&NewRegisteredUser::new(format!("User {n}")).gaid(gaid(n)))
            .await
            .unwrap();
        self.client
            .assignments(&self.asset_uuid)
            .create(&NewAssignment::new(user.id, amount).ready_for_distribution(true))
            .await
            .unwrap();
    }

    pub fn node(&self) -> ElementsRpc {
        ElementsRpc::builder(&self.sandbox.node_url_with_credentials())
            .connect_retries(2, Duration::from_millis(1), Duration::from_millis(1))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap()
    }

    /// A treasury whose progress mines a block each time the job waits.
    pub fn treasury(&self) -> (Treasury, Arc<Miner>) {
        let miner = Arc::new(Miner {
            sandbox: Some(self.sandbox.clone()),
            events: Mutex::new(Vec::new()),
        });
        let treasury = Treasury::new(self.client.clone(), self.node())
            .options(quick())
            .progress(miner.clone());
        (treasury, miner)
    }

    /// A treasury that never mines.
    pub fn treasury_without_blocks(&self, timeout: Duration) -> (Treasury, Arc<Miner>) {
        let miner = Arc::new(Miner {
            sandbox: None,
            events: Mutex::new(Vec::new()),
        });
        let options = JobOptions { timeout, ..quick() };
        let treasury = Treasury::new(self.client.clone(), self.node())
            .options(options)
            .progress(miner.clone());
        (treasury, miner)
    }

    pub fn journal(&self, name: &str) -> PathBuf {
        self.dir.0.join(name)
    }
}

/// Short waits: the tests mine on request.
pub fn quick() -> JobOptions {
    JobOptions {
        confirmations: 2,
        poll_interval: Duration::from_millis(2),
        timeout: Duration::from_secs(20),
        resend_grace: Duration::ZERO,
    }
}

/// Records every event; mines a block when the job waits for one.
pub struct Miner {
    sandbox: Option<Arc<Sandbox>>,
    pub events: Mutex<Vec<Event>>,
}

impl Miner {
    pub fn events(&self) -> Vec<Event> {
        self.events.lock().unwrap().clone()
    }

    /// The confirmations reported, in order.
    pub fn confirmations(&self) -> Vec<i64> {
        self.events()
            .iter()
            .filter_map(|e| match e {
                Event::Confirmations { have, .. } => Some(*have),
                _ => None,
            })
            .collect()
    }
}

impl Progress for Miner {
    fn event(&self, event: &Event) {
        if let (Some(sandbox), Event::Confirmations { have, want, .. }) = (&self.sandbox, event) {
            if *have < i64::from(*want) {
                sandbox.mine(1);
            }
        }
        self.events.lock().unwrap().push(event.clone());
    }
}

/// The files of a folder, sorted.
pub fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}
