//! What a job is told (its options) and what it tells (its progress
//! events and its outcome).

use std::path::PathBuf;
use std::time::Duration;

use crate::journal::JobKind;

/// How a job waits, and how careful it is before sending again.
#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Confirmations to wait for before AMP's confirm (default 2, as the
    /// official script: `confirmations > 1`).
    pub confirmations: u32,
    /// How often to ask the node (default 10 s).
    pub poll_interval: Duration,
    /// The longest wait for the confirmations (default 20 min); the job
    /// then fails, keeping the txid, and a new run goes on waiting.
    pub timeout: Duration,
    /// An intent without a txid, and no transaction of the job in the
    /// wallet: the job sends again only once the intent is this old
    /// (default 2 min), so that a send the node was still carrying out when
    /// the earlier run died has landed in the wallet before it is looked for.
    pub resend_grace: Duration,
}

impl Default for JobOptions {
    fn default() -> Self {
        JobOptions {
            confirmations: 2,
            poll_interval: Duration::from_secs(10),
            timeout: Duration::from_secs(20 * 60),
            resend_grace: Duration::from_secs(120),
        }
    }
}

/// What a job reports as it goes (for a progress line).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The job takes up where an earlier run stopped.
    Resumed {
        /// What the journal held: `planned`, `intent`, `sent`.
        phase: &'static str,
    },
    /// An earlier run wrote its intent but no txid, and the wallet holds
    /// no transaction of the job: the job looks again after this wait
    /// ([`JobOptions::resend_grace`]), before it sends anew.
    WaitingForLateSend {
        /// How long, from now.
        wait: std::time::Duration,
    },
    /// Every check passed and the intent was written; the transaction is
    /// being sent.
    Sending,
    /// The transaction is known: from the node's answer, or found in the
    /// wallet after a crash (`found` true).
    Sent {
        /// The transaction.
        txid: String,
        /// Found in the wallet rather than answered by the node.
        found: bool,
    },
    /// Confirmations so far (each change once).
    Confirmations {
        /// The transaction.
        txid: String,
        /// Confirmations it has.
        have: i64,
        /// Confirmations wanted.
        want: u32,
    },
    /// AMP accepted the confirmation.
    AmpConfirmed {
        /// The transaction.
        txid: String,
    },
    /// AMP had the confirmation already.
    AlreadyConfirmed {
        /// The transaction.
        txid: String,
    },
    /// One output's blinders given to AMP.
    BlindersUpdated {
        /// The issuance transaction.
        txid: String,
        /// The output.
        vout: u32,
    },
}

/// Receives a job's [`Event`]s.
pub trait Progress: Send + Sync {
    /// One event.
    fn event(&self, event: &Event);
}

/// No progress reporting.
#[derive(Debug, Clone, Copy, Default)]
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _: &Event) {}
}

/// How a job ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Which job.
    pub job: JobKind,
    /// The asset's AMP uuid.
    pub asset_uuid: String,
    /// The distribution, for a distribution.
    pub distribution_uuid: Option<String>,
    /// The transaction.
    pub txid: String,
    /// A reissuance's input.
    pub vin: Option<u32>,
    /// Whether this run sent it (false: found in the journal or the wallet,
    /// or confirmed at AMP before).
    pub sent_now: bool,
    /// Whether AMP had the confirmation before this run.
    pub already_confirmed: bool,
    /// The closed journal (`….done-<txid>.json`).
    pub journal: Option<PathBuf>,
}
