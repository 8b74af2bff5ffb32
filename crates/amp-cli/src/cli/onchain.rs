//! The on-chain jobs' flags: where the node is, how long to wait, where the
//! journal is. Each flag has an environment twin.

use std::path::PathBuf;

use clap::builder::BoolishValueParser;
use clap::Args;

/// The help heading of the node's flags.
const NODE: &str = "Elements node";
/// The help heading of the job's flags.
const JOB: &str = "Job";

/// Where the issuer's Elements node is and how to log in to it.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// The node's JSON-RPC URL, http://HOST:PORT/ (append /wallet/NAME for a
    /// node with several wallets); a USER:PASSWORD in it only through
    /// AMP_NODE_URL (the command line is visible to every user)
    #[arg(long, value_name = "URL", env = "AMP_NODE_URL", hide_env_values = true, help_heading = NODE)]
    pub node: Option<String>,

    /// Log in with the node's cookie file (DATADIR/CHAIN/.cookie) instead of a user:password in the URL
    #[arg(long, value_name = "PATH", env = "AMP_NODE_COOKIE", help_heading = NODE)]
    pub node_cookie: Option<PathBuf>,

    /// The longest one node call may take, in seconds
    #[arg(long, value_name = "SECONDS", env = "AMP_NODE_TIMEOUT", default_value_t = 60, help_heading = NODE)]
    pub node_timeout: u64,

    /// Allow plain http to a node that is not on this machine (its credentials cross the network in clear)
    #[arg(
        long,
        env = "AMP_NODE_ALLOW_INSECURE_HTTP",
        value_parser = BoolishValueParser::new(),
        help_heading = NODE
    )]
    pub node_allow_insecure_http: bool,
}

/// How a job waits for its transaction, and where it keeps its journal.
#[derive(Debug, Clone, Args)]
pub struct JobArgs {
    /// Confirmations to wait for before confirming to AMP
    #[arg(long, value_name = "N", env = "AMP_CONFIRMATIONS", default_value_t = 2, help_heading = JOB)]
    pub confirmations: u32,

    /// The longest wait for them, in seconds (the transaction stays sent:
    /// running the command again goes on waiting)
    #[arg(long, value_name = "SECONDS", env = "AMP_CONFIRM_TIMEOUT", default_value_t = 1200, help_heading = JOB)]
    pub timeout: u64,

    /// How often to ask the node, in milliseconds
    #[arg(long, value_name = "MS", env = "AMP_POLL_INTERVAL_MS", default_value_t = 10_000, help_heading = JOB)]
    pub poll_interval_ms: u64,

    /// After a crash between the intent and the txid, with no transaction of
    /// the job in the wallet: send again only once the intent is this many
    /// seconds old
    #[arg(long, value_name = "SECONDS", env = "AMP_RESEND_GRACE", default_value_t = 120, help_heading = JOB)]
    pub resend_grace: u64,

    /// The job's journal file [default: CACHE/amp/jobs/JOB-ASSET.json,
    /// or a jobs folder beside a file token store]
    #[arg(long, value_name = "PATH", env = "AMP_JOURNAL", help_heading = JOB)]
    pub journal: Option<PathBuf>,
}

/// `amp assets distribute ASSET [DISTRIBUTION]`.
#[derive(Debug, Args)]
#[command(
    after_help = "Sends the distribution's transaction from the node (sendmany), waits \
for its confirmations and confirms it to AMP, as Blockstream's blockstream-amp-confirm.py does, \
with its checks first. Without DISTRIBUTION, a new distribution of the ready assignments is \
created. The journal makes it safe to run again after any failure: it never sends twice."
)]
pub struct DistributeArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// The distribution's UUID [default: the journal's unfinished one, else a new one]
    pub distribution_uuid: Option<String>,
    /// The answer of `distributions create` (the file the official script reads): JSON, @FILE or -
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub request: Option<String>,
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub job: JobArgs,
}

/// `amp assets reissue ASSET --amount N` and `amp assets burn ASSET --amount N`.
#[derive(Debug, Args)]
#[command(
    after_help = "Asks AMP (reissue-request or burn-request), sends the transaction \
from the node (reissueasset or destroyamount), waits for its confirmations and confirms it to \
AMP, with the official script's checks first. The journal makes it safe to run again after any \
failure: it never sends twice."
)]
pub struct SupplyArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// Amount, in base units
    #[arg(long, value_name = "N")]
    pub amount: i64,
    #[command(flatten)]
    pub node: NodeArgs,
    #[command(flatten)]
    pub job: JobArgs,
}
