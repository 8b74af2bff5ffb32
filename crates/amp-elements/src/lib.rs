//! The on-chain half of Blockstream AMP: distribute, reissue and burn are
//! an AMP request, a Liquid transaction sent by the issuer's own Elements
//! node, and an AMP confirm. This crate does the node's part and the whole
//! job, and never sends a transaction twice.
//!
//! - [`ElementsRpc`]: the node's JSON-RPC (the calls Blockstream's
//!   `blockstream-amp-confirm.py` makes, and those waiting and resuming
//!   need), credentials from the URL or the `.cookie` file as secrets,
//!   errors named ([`RpcErrorKind`]).
//! - [`Treasury`]: the jobs, [`distribute`](Treasury::distribute),
//!   [`reissue`](Treasury::reissue), [`burn`](Treasury::burn) and
//!   [`update_blinders`](Treasury::update_blinders), over an
//!   [`amp_client::AmpClient`] (so AMP's token is managed as for any call)
//!   and the node. The official script's checks come first; nothing is sent
//!   if one fails.
//! - [`journal`]: what a job meant to send and what it sent, written before
//!   and after each step, so that a job run again after a crash at any point
//!   finishes without a second transaction.
//!
//! ```
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
//! use amp_elements::{journal::JobKind, journal_path, ElementsRpc, JobOptions, Treasury};
//!
//! // An AMP sandbox and its simulated Elements node, mining every 10 ms.
//! let sandbox = amp_sandbox::Sandbox::builder().with_sample_data(false).start().await?;
//! sandbox.set_block_interval(Some(std::time::Duration::from_millis(10)));
//! let config = amp_client::Config::builder()
//!     .base_url(sandbox.base_url())
//!     .credentials(sandbox.username(), sandbox.password())
//!     .build()?;
//! let client = amp_client::AmpClient::new(config)?;
//! let asset = client.assets().issue(&IssueRequest {
//!     name: "Bond".into(), amount: 1_000, destination_address: "treasury".into(),
//!     domain: "issuer.example".into(), ticker: "BND".into(), pubkey: "02ab".into(),
//!     ..IssueRequest::default()
//! }).await?.asset_uuid;
//! let user = client.registered_users()
//!     .add(&NewRegisteredUser::new("Alice").gaid("GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz")).await?;
//! client.assignments(&asset)
//!     .create(&NewAssignment::new(user.id, 250).ready_for_distribution(true)).await?;
//!
//! // The job: checks, intent, sendmany, two confirmations, AMP's confirm.
//! let node = ElementsRpc::builder(&sandbox.node_url_with_credentials()).build()?;
//! let treasury = Treasury::new(client.clone(), node).options(JobOptions {
//!     poll_interval: std::time::Duration::from_millis(5),
//!     ..JobOptions::default()
//! });
//! let dir = std::env::temp_dir().join(format!("amp-doc-{}", std::process::id()));
//! let journal = journal_path(&dir, JobKind::Distribute, &asset);
//! let done = treasury.distribute(&asset, None, None, &journal).await?;
//! assert!(done.sent_now);
//! assert_eq!(sandbox.node_count("sendmany"), 1);
//! assert_eq!(client.assets().summary(&asset).await?.distributed, 250);
//!
//! // Run again: AMP has it confirmed; nothing is sent.
//! let d = done.distribution_uuid.as_deref();
//! let again = treasury.distribute(&asset, d, None, &journal).await?;
//! assert!(again.already_confirmed && !again.sent_now);
//! assert_eq!(sandbox.node_count("sendmany"), 1);
//! # std::fs::remove_dir_all(&dir).ok();
//! # Ok(()) }
//! ```
//!
//! The crate depends on `amp-client` with its default features only; it
//! is not one of them, so `amp-client`'s own dependencies stay as they are.

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod error;
mod jobs;
pub mod journal;
mod node;

pub use error::{Error, Result, RpcErrorKind};
pub use jobs::{
    journal_path, BlindersOutcome, Event, JobOptions, Outcome, Progress, Silent, Treasury,
    SCRIPT_VERSION,
};
pub use node::{
    units, BlockchainInfo, ElementsRpc, NetworkInfo, NodeBuilder, Reissued, SinceBlock, WalletTx,
    COOKIE_USER, MIN_ELEMENTS_VERSION, NODE_NAME,
};

/// Locks a mutex, carrying on through poisoning (no critical section leaves
/// its data half-changed).
pub(crate) fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
