//! The on-chain half of Blockstream AMP.
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
