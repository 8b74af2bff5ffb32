//! One error type for the node client, the journal and the jobs, with
//! predicates for what a caller decides on (as amp-client's `Error`).
//!
//! No variant holds a secret: node URLs are kept without their
//! `user:password`, and server text is scrubbed of the node's password and
//! cookie before it gets here.

use std::path::PathBuf;
use std::time::Duration;

/// The result of this crate's calls.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What can go wrong talking to the node, keeping the journal, or running a job.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A setting cannot be used (a bad node URL, plain http off loopback,
    /// an unreadable cookie file …). Nothing was sent.
    #[error("configuration error: {what}: {reason}")]
    Config {
        /// The setting, e.g. `node URL`.
        what: String,
        /// Why.
        reason: String,
    },

    /// The node could not be reached: every attempt to connect failed (or it
    /// kept answering that it is warming up). The call never reached it.
    #[error("cannot reach the Elements node at {url} ({method}): {reason} (after {attempts} attempt{s})", s = if *attempts == 1 { "" } else { "s" })]
    Unreachable {
        /// The node's URL, without credentials.
        url: String,
        /// The RPC method.
        method: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        reason: String,
    },

    /// The call may have reached the node but no answer came (timed out, or
    /// the connection broke after the request was sent): it may have been
    /// carried out. Never retried for a call that sends money.
    #[error(
        "no answer from the Elements node to {method}: {reason}; it may have been carried out"
    )]
    NoAnswer {
        /// The RPC method.
        method: String,
        /// What happened (e.g. `timed out after 30 s`).
        reason: String,
    },

    /// The node refused the credentials (HTTP 401 or 403).
    #[error("the Elements node refused the credentials for {method} (HTTP {status}): check rpcuser/rpcpassword or the cookie file")]
    Unauthorized {
        /// The RPC method.
        method: String,
        /// The HTTP status.
        status: u16,
    },

    /// The node answered the call with an RPC error.
    #[error("{method}: Elements RPC error {code} ({kind}): {message}")]
    Rpc {
        /// The RPC method.
        method: String,
        /// The node's error code.
        code: i64,
        /// The code, named.
        kind: RpcErrorKind,
        /// The node's message (scrubbed, escaped).
        message: String,
    },

    /// The node's answer was not what the call expects (not JSON-RPC, an
    /// HTTP error without a JSON-RPC body, a result of another shape).
    #[error("{method}: unexpected answer from the Elements node: {reason}")]
    BadAnswer {
        /// The RPC method.
        method: String,
        /// What was wrong (scrubbed, escaped).
        reason: String,
    },

    /// An AMP call failed.
    #[error("AMP: {0}")]
    Amp(#[from] amp_client::Error),

    /// A check before sending failed: nothing was sent.
    #[error("check failed, nothing was sent: {check}: {reason}")]
    Check {
        /// Which check (e.g. `node synchronised`).
        check: &'static str,
        /// Why it failed, and what to do.
        reason: String,
    },

    /// The journal cannot be read, written or trusted.
    #[error("journal {}: {reason}", path.display())]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// Why, and what to do.
        reason: String,
    },

    /// Another process is running the same job (it holds the journal's lock).
    #[error("another process is running this job (journal {} is locked); wait for it to end", path.display())]
    Busy {
        /// The journal file.
        path: PathBuf,
    },

    /// What the journal, the wallet and AMP say does not let the job decide
    /// safely whether its transaction was sent; nothing more is sent until a
    /// person has looked.
    #[error("stopped, sending nothing more: {reason}")]
    Ambiguous {
        /// What was found and what to check.
        reason: String,
    },

    /// The transaction was sent but did not get enough confirmations in time.
    /// The journal keeps its txid: running the job again goes on waiting.
    #[error("transaction {txid} has {confirmations} of {wanted} confirmations after {}s; it was sent: run the job again to go on waiting (it will not send again)", waited.as_secs())]
    NotConfirmed {
        /// The transaction.
        txid: String,
        /// Confirmations it has.
        confirmations: i64,
        /// Confirmations wanted.
        wanted: u32,
        /// How long the job waited.
        waited: Duration,
    },

    /// The transaction is in conflict with another (double-spent, replaced
    /// or abandoned): it will not confirm.
    #[error("transaction {txid} conflicts with another (confirmations {confirmations}); it will not confirm, and pays nothing: check the wallet. If another transaction paid the job, confirm that one to AMP; if none did, move the journal away and run the job again (a distribution with its uuid): a conflicted transaction is not taken for the job's")]
    Conflicted {
        /// The transaction.
        txid: String,
        /// The node's (negative) confirmations.
        confirmations: i64,
    },

    /// The job's input is not what it needs (a request of another command,
    /// an amount that is not a positive number …). Nothing was sent.
    #[error("invalid input: {0}")]
    Input(String),
}

impl Error {
    /// The named kind of an RPC error, if this is one.
    pub fn rpc_kind(&self) -> Option<RpcErrorKind> {
        match self {
            Error::Rpc { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Whether a call that failed with this error may nonetheless have been
    /// carried out by the node (so a send must be looked for, not repeated).
    pub fn may_have_reached_node(&self) -> bool {
        matches!(self, Error::NoAnswer { .. } | Error::BadAnswer { .. })
    }

    /// Whether nothing was sent because a check failed, or a setting or input
    /// was wrong.
    pub fn is_check(&self) -> bool {
        matches!(
            self,
            Error::Check { .. } | Error::Config { .. } | Error::Input(_)
        )
    }

    /// Whether this is a configuration or input error (the caller typed
    /// something wrong).
    pub fn is_usage(&self) -> bool {
        match self {
            Error::Config { .. } | Error::Input(_) => true,
            Error::Amp(e) => e.is_config(),
            _ => false,
        }
    }

    pub(crate) fn config(what: &str, reason: impl Into<String>) -> Error {
        Error::Config {
            what: what.to_string(),
            reason: reason.into(),
        }
    }

    pub(crate) fn check(check: &'static str, reason: impl Into<String>) -> Error {
        Error::Check {
            check,
            reason: reason.into(),
        }
    }
}

/// The node's RPC error codes that a job decides on, named (Elements Core's
/// `rpc/protocol.h`, the same as Bitcoin Core's).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RpcErrorKind {
    /// -6: the wallet has not enough of the asset (or of L-BTC for the fee).
    InsufficientFunds,
    /// -13: the wallet is encrypted and locked; `walletpassphrase` first.
    WalletLocked,
    /// -14: the passphrase given was wrong.
    PassphraseIncorrect,
    /// -5: an unknown transaction id, or an address or key that is not valid.
    InvalidAddressOrKey,
    /// -8: an invalid parameter, e.g. an asset the node does not know.
    InvalidParameter,
    /// -4: the wallet could not do it (e.g. no reissuance token in it).
    WalletError,
    /// -18: the wallet named in the URL is not loaded.
    WalletNotFound,
    /// -19: several wallets are loaded and the URL names none (`/wallet/NAME`).
    WalletNotSpecified,
    /// -28: the node is starting (loading blocks, the wallet …).
    Warmup,
    /// -32601: the node has no such method (not an Elements node?).
    MethodNotFound,
    /// -3: a parameter of the wrong type.
    TypeError,
    /// -25, -26, -27: the transaction was refused, or is already in the chain.
    Rejected,
    /// Any other code.
    Other,
}

impl RpcErrorKind {
    /// The kind of an RPC error code.
    ///
    /// ```
    /// use amp_elements::RpcErrorKind;
    /// assert_eq!(RpcErrorKind::from_code(-6), RpcErrorKind::InsufficientFunds);
    /// assert_eq!(RpcErrorKind::from_code(-13), RpcErrorKind::WalletLocked);
    /// assert_eq!(RpcErrorKind::from_code(-99), RpcErrorKind::Other);
    /// ```
    pub fn from_code(code: i64) -> RpcErrorKind {
        match code {
            -6 => RpcErrorKind::InsufficientFunds,
            -13 => RpcErrorKind::WalletLocked,
            -14 => RpcErrorKind::PassphraseIncorrect,
            -5 => RpcErrorKind::InvalidAddressOrKey,
            -8 => RpcErrorKind::InvalidParameter,
            -4 => RpcErrorKind::WalletError,
            -18 => RpcErrorKind::WalletNotFound,
            -19 => RpcErrorKind::WalletNotSpecified,
            -28 => RpcErrorKind::Warmup,
            -32601 => RpcErrorKind::MethodNotFound,
            -3 => RpcErrorKind::TypeError,
            -27..=-25 => RpcErrorKind::Rejected,
            _ => RpcErrorKind::Other,
        }
    }

    /// Whether the same call may succeed if repeated unchanged: only while
    /// the node warms up (it carries out nothing then).
    pub fn is_transient(self) -> bool {
        self == RpcErrorKind::Warmup
    }
}

impl std::fmt::Display for RpcErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RpcErrorKind::InsufficientFunds => "insufficient funds",
            RpcErrorKind::WalletLocked => "wallet locked: unlock it with walletpassphrase",
            RpcErrorKind::PassphraseIncorrect => "wrong wallet passphrase",
            RpcErrorKind::InvalidAddressOrKey => "unknown transaction, address or key",
            RpcErrorKind::InvalidParameter => "invalid parameter (an unknown asset?)",
            RpcErrorKind::WalletError => "wallet error",
            RpcErrorKind::WalletNotFound => "wallet not loaded",
            RpcErrorKind::WalletNotSpecified => {
                "several wallets loaded: name one in the URL (/wallet/NAME)"
            }
            RpcErrorKind::Warmup => "node starting",
            RpcErrorKind::MethodNotFound => "no such method (is this an Elements node?)",
            RpcErrorKind::TypeError => "parameter of the wrong type",
            RpcErrorKind::Rejected => "transaction rejected",
            RpcErrorKind::Other => "error",
        })
    }
}
