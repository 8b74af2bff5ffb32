//! What each command does. [`run`] dispatches; one module per group of commands.

mod api;
mod assets;
mod assignments;
mod categories;
mod completions;
mod distributions;
mod gaids;
mod info;
mod managers;
mod onchain;
mod registered_users;
mod sandbox;
mod token;
mod treasury;

use amp_client::{AmpClient, TokenState, PASSWORD_VAR, USERNAME_VAR};

use crate::cli::{Cli, Command};
use crate::failure::{CliResult, Failure, FlagNames};
use crate::settings::{self, Overrides};

/// What the commands that talk to the API share.
#[derive(Debug)]
pub struct Ctx {
    /// The configured client (nothing sent yet when a command starts).
    pub client: AmpClient,
    /// `--json`: print JSON for machines.
    pub json: bool,
    /// Flags that stand for variables, to name them in errors.
    pub flags: FlagNames,
    /// Where the on-chain jobs keep their journals by default.
    pub jobs_dir: Option<std::path::PathBuf>,
}

impl Ctx {
    /// Turns a library result into a command result with the right exit status.
    pub fn check<T>(&self, result: amp_client::Result<T>) -> CliResult<T> {
        result.map_err(|e| Failure::from_client(&e, &self.flags))
    }

    /// Fails, naming the variables, when this command may have to log in and
    /// there are no credentials to do it with — before anything is sent.
    /// `stored_token_will_do`: a valid token from the store is enough.
    pub async fn need_credentials(&self, stored_token_will_do: bool) -> CliResult {
        if self.client.token_manager().has_credentials() {
            return Ok(());
        }
        if stored_token_will_do {
            let info = self.check(self.client.token_manager().load_from_store().await)?;
            if matches!(info.state, TokenState::Valid | TokenState::Expiring) {
                return Ok(());
            }
        }
        Err(Failure::usage(format!(
            "configuration error: {USERNAME_VAR}: is not set \
             ({USERNAME_VAR} and {PASSWORD_VAR} are needed to obtain a token)"
        )))
    }
}

/// The status of the token as `amp token status --json` shows it (also in
/// `amp agent`'s `GET /agent/status`).
#[cfg(unix)]
pub use token::Status as TokenStatus;

/// Runs the command `cli` names. `overrides` are the flags that were typed,
/// laid over the environment.
pub async fn run(cli: Cli, overrides: Overrides) -> CliResult {
    let args: Vec<_> = std::env::args_os().skip(1).collect();
    settings::refuse_passwords_in_args(&args)?;
    let json = cli.json;
    // Configuration is read, and every error in it reported, before anything is sent.
    let ctx = || -> CliResult<Ctx> {
        settings::check_env_encoding()?;
        Ok(Ctx {
            client: settings::client(&overrides, &|name| std::env::var(name).ok())?,
            json,
            flags: overrides.flag_names(),
            jobs_dir: settings::jobs_dir(&overrides, &|name| std::env::var(name).ok()),
        })
    };
    // The commands that call the API with a token check first that they
    // can get one, so a missing credential is named before anything is sent
    // (or a password prompted for).
    let authed = || async {
        let ctx = ctx()?;
        ctx.need_credentials(true).await?;
        Ok::<Ctx, crate::failure::Failure>(ctx)
    };
    match cli.command {
        Command::Api(args) => api::run(&ctx()?, args).await,
        Command::Token(command) => token::run(&ctx()?, command).await,
        Command::Info => info::info(&ctx()?).await,
        Command::Changelog => info::changelog(&authed().await?).await,
        Command::Assets(command) => assets::run(&authed().await?, command).await,
        Command::Assignments(command) => assignments::run(&authed().await?, command).await,
        Command::Distributions(command) => distributions::run(&authed().await?, command).await,
        Command::RegisteredUsers(command) => registered_users::run(&authed().await?, command).await,
        Command::Categories(command) => categories::run(&authed().await?, command).await,
        Command::Managers(command) => managers::run(&authed().await?, command).await,
        Command::User(command) => managers::user(&authed().await?, command).await,
        Command::Gaids(command) => gaids::run(&authed().await?, command).await,
        Command::Sandbox(args) => sandbox::run(args).await,
        #[cfg(unix)]
        Command::Agent(args) => {
            settings::check_env_encoding()?;
            crate::agent::run(args, &overrides, json).await
        }
        // The command stays in the help everywhere (the same documentation
        // on every platform), and says why it cannot run rather than clap
        // calling it unknown.
        #[cfg(not(unix))]
        Command::Agent(_) => Err(Failure::runtime(
            "amp agent is not supported on this platform: it serves a Unix socket \
             (Linux, macOS, the BSDs). Programs here can call AMP through the \
             library, or with `amp token print` for the token",
        )),
        Command::Demo { which: None } => crate::demo::run().await,
        Command::Demo {
            which: Some(crate::cli::DemoCommand::Onchain),
        } => crate::demo::onchain::run().await,
        Command::Completions(args) => completions::run(args.shell),
    }
}
