//! The command line: every command, flag and environment twin, as clap derives.
//!
//! This module only describes; `commands` acts. Global flags may be written
//! before or after the command (`amp --json token status` and
//! `amp token status --json` are the same).
//!
//! One naming scheme: the resource first, then a kebab-case verb, which is
//! the library method's name (`amp assets reissue-request` is
//! `client.assets().reissue_request`). Body fields are flags named after the
//! field (`--destination-address` for `destination_address`), and each
//! flag's help names its field; ids are positional, the asset's first.

mod assets;
mod onchain;
mod resources;

pub use assets::*;
pub use onchain::*;
pub use resources::*;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

/// The help heading of the flags every command takes, so that a command's
/// own flags come first.
const GLOBAL: &str = "Global options";

/// `amp`: the Blockstream AMP API from the shell, with a token that manages
/// itself (obtained on first use, kept in a file, refreshed before it expires).
#[derive(Debug, Parser)]
#[command(
    name = "amp",
    version,
    about = "Blockstream AMP API calls with self-managing authentication, and a local sandbox",
    after_help = "Credentials come from AMP_USERNAME and AMP_PASSWORD. Other settings: \
API_RETRY_MAX_ATTEMPTS, API_RETRY_BASE_DELAY_MS, API_RETRY_MAX_DELAY_MS, \
API_REQUEST_TIMEOUT_SECONDS, AMP_ENV=test, AMP_ALLOW_INSECURE_HTTP, AMP_MAX_BODY_BYTES, \
AMP_REDIS_CA_FILE (a CA for rediss:// stores), \
AMP_NEW_PASSWORD (for the commands that set a password). \
Logs go to stderr; set RUST_LOG (default warn).\n\nTry `amp demo` first: it needs no credentials and no network."
)]
pub struct Cli {
    // The twins of --base-url and --store are read by the library with the
    // other variables (so their errors name them); clap only documents them.
    /// `--base-url`: the API root.
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        value_name = "URL",
        help = "The API root [env: AMP_API_BASE_URL] [default: https://amp-test.blockstream.com/api]"
    )]
    pub base_url: Option<String>,

    /// Where the token is kept: memory, file:PATH, redis://… or rediss://… (TLS; a password in
    /// the URL only through AMP_TOKEN_STORE) [env: AMP_TOKEN_STORE] [default: a file in the
    /// user's cache folder, one per base URL and user]
    #[arg(long, global = true, help_heading = GLOBAL, value_name = "SPEC")]
    pub store: Option<String>,

    /// Print JSON for machines instead of text for people
    #[arg(
        long,
        global = true,
        help_heading = GLOBAL,
        env = "AMP_JSON",
        value_parser = BoolishValueParser::new()
    )]
    pub json: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands of `amp`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Authenticated call to any endpoint; prints the JSON answer
    Api(ApiArgs),

    /// Inspect or steer the token
    #[command(subcommand)]
    Token(TokenCommand),

    /// The API version (GET /info; needs no credentials)
    Info,

    /// The API's changelog: version, what changed (GET /changelog)
    Changelog,

    /// The issuer's assets, their treasury, reissuance and burn
    #[command(subcommand)]
    Assets(AssetsCommand),

    /// An asset's assignments: amounts promised to registered users
    #[command(subcommand)]
    Assignments(AssignmentsCommand),

    /// An asset's distributions: the transactions that send assigned amounts
    #[command(subcommand)]
    Distributions(DistributionsCommand),

    /// Registered users (investors) and their GAIDs
    #[command(subcommand)]
    RegisteredUsers(RegisteredUsersCommand),

    /// Categories of registered users, which assets may require
    #[command(subcommand)]
    Categories(CategoriesCommand),

    /// Issuer managers
    #[command(subcommand)]
    Managers(ManagersCommand),

    /// The account `amp` logs in as
    #[command(subcommand)]
    User(UserCommand),

    /// GAIDs (Green Account IDs)
    #[command(subcommand)]
    Gaids(GaidCommand),

    /// Run a local AMP sandbox until Ctrl-C
    Sandbox(SandboxArgs),

    /// Serve AMP's API locally with the managed token, for programs in any language
    Agent(AgentArgs),

    /// A narrated token lifecycle against an embedded sandbox (no credentials, no network)
    Demo {
        /// `onchain`: issue, assign, distribute on the sandbox's simulated chain and confirm
        #[command(subcommand)]
        which: Option<DemoCommand>,
    },

    /// Print the shell completion script of `amp` (bash, zsh, fish, …)
    Completions(CompletionsArgs),
}

/// `amp demo …`: the demos besides the token lifecycle.
#[derive(Debug, Subcommand)]
pub enum DemoCommand {
    /// Issue, assign, distribute on the sandbox's simulated chain and confirm, blocks arriving on a short timer
    Onchain,
}

/// `amp completions SHELL`.
#[derive(Debug, Args)]
#[command(after_help = "Install, for example:
  bash: amp completions bash > ~/.local/share/bash-completion/completions/amp
  zsh:  amp completions zsh > ~/.zfunc/_amp   (with fpath+=(~/.zfunc) before compinit in ~/.zshrc)
  fish: amp completions fish > ~/.config/fish/completions/amp.fish")]
pub struct CompletionsArgs {
    /// The shell to complete for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `amp api METHOD PATH [--data JSON]`.
#[derive(Debug, Args)]
pub struct ApiArgs {
    /// The HTTP method: GET, POST, PUT, PATCH, DELETE …
    pub method: String,

    /// The path under the API root, e.g. assets/ or registered_users/12
    pub path: String,

    /// A JSON request body: the JSON itself, @FILE to read it from a file, or - for stdin
    #[arg(long, value_name = "JSON|@FILE|-")]
    pub data: Option<String>,
}

/// `amp token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// State, times and fingerprint of the stored token (never the token itself)
    Status,
    /// Obtain a token now with the credentials
    Login,
    /// Refresh the token now (obtains one if it cannot be refreshed)
    Refresh,
    /// Forget the token, here and in the store
    Clear,
    /// Print the raw token to stdout (renewed first if due), for tools that must hold one
    #[command(
        after_help = "For example: curl -H \"Authorization: token $(amp token print)\" \"$AMP_API_BASE_URL/assets/\"\n\
The token is printed only here, only to stdout, and never logged. Programs that can \
call a local socket are better served by `amp agent`, which never hands the token out."
    )]
    Print,
}

/// `amp agent [--socket PATH] [--listen 127.0.0.1:PORT] …`.
#[derive(Debug, Args)]
#[command(
    after_help = "Programs call METHOD /api/<path> on the socket (or the loopback \
address) exactly as they would call AMP, with no credentials: the agent sends it with \
its token, retries, waits out a 429 for every caller, heals a revoked token, and \
returns AMP's status and body. GET /agent/status shows the token's state and the \
counters. SIGTERM (or Ctrl-C) stops it: in-flight calls finish first, within \
--shutdown-timeout.\n\n\
Example: curl --unix-socket \"$XDG_RUNTIME_DIR/amp/agent.sock\" http://amp/api/assets/"
)]
pub struct AgentArgs {
    /// The Unix socket to serve [default: $XDG_RUNTIME_DIR/amp/agent.sock,
    /// unless --listen is given]. Made 0600; a stale socket left by an agent
    /// that died is replaced, a live one is refused.
    #[arg(long, value_name = "PATH", env = "AMP_AGENT_SOCKET")]
    pub socket: Option<std::path::PathBuf>,

    /// Also (or, without --socket, only) serve loopback TCP on this address,
    /// e.g. 127.0.0.1:8700 (port 0 takes any free port). Every request must
    /// then carry the key from --key-file in the X-AMP-Agent-Key header.
    /// Only loopback addresses are accepted.
    #[arg(long, value_name = "ADDR:PORT", env = "AMP_AGENT_LISTEN")]
    pub listen: Option<String>,

    /// Where the key for TCP callers is written (0600), new at every start
    /// [default: $XDG_RUNTIME_DIR/amp/agent.key]
    #[arg(long, value_name = "PATH", env = "AMP_AGENT_KEY_FILE")]
    pub key_file: Option<std::path::PathBuf>,

    /// The largest request body accepted; larger ones are answered 413
    #[arg(
        long,
        value_name = "BYTES",
        default_value_t = 1024 * 1024,
        env = "AMP_AGENT_MAX_BODY_BYTES"
    )]
    pub max_body_bytes: usize,

    /// How many requests may be in flight at once; more are answered 503 at once
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        env = "AMP_AGENT_MAX_IN_FLIGHT"
    )]
    pub max_in_flight: usize,

    /// How many connections each listener (the socket, the TCP port) may
    /// have open at once (kept-alive ones count); beyond, new ones wait in
    /// the kernel's queue until one closes
    #[arg(
        long,
        value_name = "N",
        default_value_t = 256,
        env = "AMP_AGENT_MAX_CONNECTIONS"
    )]
    pub max_connections: usize,

    /// How long a connection may take to send a request's head (its first,
    /// or its next when kept alive) before it is closed
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 10,
        env = "AMP_AGENT_HEAD_TIMEOUT"
    )]
    pub head_timeout: u64,

    /// How long a request's body may take to arrive; slower ones are answered 408
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30,
        env = "AMP_AGENT_BODY_TIMEOUT"
    )]
    pub body_timeout: u64,

    /// On SIGTERM, how long in-flight requests may take to finish before the agent exits anyway
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 30,
        env = "AMP_AGENT_SHUTDOWN_TIMEOUT"
    )]
    pub shutdown_timeout: u64,
}

/// `amp sandbox [--port N] …`.
#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// The port on 127.0.0.1 (0 takes any free port)
    #[arg(long, value_name = "N", default_value_t = 0, env = "AMP_SANDBOX_PORT")]
    pub port: u16,

    /// The life of issued tokens, in seconds [default: 86400]
    #[arg(long, value_name = "SECONDS", env = "AMP_SANDBOX_TOKEN_LIFE")]
    pub token_life: Option<u64>,

    /// Make a refresh revoke the token it was called with
    #[arg(long)]
    pub refresh_revokes_old: bool,

    /// Queue a one-shot fault: ROUTE=FAULT, e.g. /assets=status:503 or
    /// /user/obtain_token=rate-limit:5 (repeatable). FAULT is one of status:CODE,
    /// rate-limit:SECONDS, rate-limit-date:SECONDS, delay:MS, drop, malformed
    #[arg(long, value_name = "ROUTE=FAULT")]
    pub fault: Vec<String>,

    /// Inject a fault at a rate: ROUTE=FAULT@P, e.g. /assets=status:500@0.1 (repeatable)
    #[arg(long, value_name = "ROUTE=FAULT@P")]
    pub fault_rate: Vec<String>,

    /// Seed of the fault-rate generator, for runs that repeat exactly
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,

    /// The simulated Elements node's port on 127.0.0.1 (0 takes any free port)
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        env = "AMP_SANDBOX_NODE_PORT"
    )]
    pub node_port: u16,

    /// Mine a block every SECONDS on the simulated chain [default: only on
    /// request: generatetoaddress, or POST /_sandbox/node/mine]
    #[arg(long, value_name = "SECONDS", env = "AMP_SANDBOX_BLOCK_INTERVAL")]
    pub block_interval: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn completions_take_a_known_shell() {
        let c = Cli::try_parse_from(["amp", "completions", "zsh"]).unwrap();
        assert!(matches!(
            c.command,
            Command::Completions(CompletionsArgs {
                shell: clap_complete::Shell::Zsh
            })
        ));
        let e = Cli::try_parse_from(["amp", "completions", "tcsh"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::InvalidValue);
    }

    #[test]
    fn global_flags_go_anywhere() {
        let a = Cli::try_parse_from(["amp", "--json", "token", "status"]).unwrap();
        let b = Cli::try_parse_from(["amp", "token", "status", "--json"]).unwrap();
        assert!(a.json && b.json);
        let c =
            Cli::try_parse_from(["amp", "assets", "list", "--base-url", "http://x/api"]).unwrap();
        assert_eq!(c.base_url.as_deref(), Some("http://x/api"));
    }
}
