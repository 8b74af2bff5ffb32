//! `amp assignments | distributions | registered-users | categories |
//! managers | user | gaids …`.

use clap::{ArgGroup, Args, Subcommand};

use super::DATA_HELP;

/// Where a new password comes from, said in the help of every command that takes one.
pub const PASSWORD_HELP: &str = "The new password is never a flag (flags show in `ps` and \
in shell history). It is read from AMP_NEW_PASSWORD when set; else, at a terminal, from a \
prompt that does not echo (typed twice); else from the first line of stdin. It is never printed.";

/// `amp assignments …`.
#[derive(Debug, Subcommand)]
pub enum AssignmentsCommand {
    /// Every assignment of the asset (GET /assets/{uuid}/assignments)
    List {
        /// The asset's UUID
        asset_uuid: String,
    },
    /// One assignment (GET /assets/{uuid}/assignments/{id})
    Get(AssignmentArg),
    /// Create an assignment (POST /assets/{uuid}/assignments/create)
    Create {
        /// The asset's UUID
        asset_uuid: String,
        /// The registered user's id [field: registered_user]
        #[arg(long, value_name = "ID")]
        user: i64,
        /// Amount, in base units [field: amount]
        #[arg(long, value_name = "N")]
        amount: i64,
        /// When it vests, in seconds since the epoch [field: vesting_timestamp]
        #[arg(long, value_name = "T")]
        vesting_timestamp: Option<i64>,
        /// Ready to be distributed [field: ready_for_distribution]
        #[arg(long)]
        ready: bool,
    },
    /// Lock an assignment so it is not distributed (PUT …/assignments/{id}/lock)
    Lock(AssignmentArg),
    /// Unlock an assignment (PUT …/assignments/{id}/unlock)
    Unlock(AssignmentArg),
    /// Delete an assignment not yet distributed (DELETE …/assignments/{id}/delete)
    Delete(AssignmentArg),
}

/// One assignment of an asset.
#[derive(Debug, Args)]
pub struct AssignmentArg {
    /// The asset's UUID
    pub asset_uuid: String,
    /// The assignment's id
    pub id: i64,
}

/// `amp distributions …`.
#[derive(Debug, Subcommand)]
pub enum DistributionsCommand {
    /// Every distribution of the asset (GET /assets/{uuid}/distributions)
    List {
        /// The asset's UUID
        asset_uuid: String,
    },
    /// One distribution (GET /assets/{uuid}/distributions/{distributionUuid})
    Get(DistributionArg),
    /// Create a distribution of the ready assignments (GET …/distributions/create/);
    /// prints what the treasury must send (with --json: the confirm script's file)
    Create {
        /// The asset's UUID
        asset_uuid: String,
    },
    /// Confirm a distribution the node sent (POST …/distributions/{distributionUuid}/confirm)
    Confirm(ConfirmArgs),
    /// Cancel a distribution not yet confirmed (DELETE …/distributions/{distributionUuid}/cancel)
    Cancel(DistributionArg),
}

/// One distribution of an asset.
#[derive(Debug, Args)]
pub struct DistributionArg {
    /// The asset's UUID
    pub asset_uuid: String,
    /// The distribution's UUID
    pub distribution_uuid: String,
}

/// `amp distributions confirm`: the flags of `TxConfirmation`, or `--data`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("fields").multiple(true)))]
pub struct ConfirmArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// The distribution's UUID
    pub distribution_uuid: String,
    /// The distribution transaction, hex [field: tx_data.txid]
    #[arg(long, group = "fields", required_unless_present = "data")]
    pub txid: Option<String>,
    /// The node's gettransaction details: JSON, @FILE or - [field: tx_data.details]
    #[arg(long, value_name = "JSON|@FILE|-", group = "fields")]
    pub details: Option<String>,
    /// The node's listunspent entries of the change: a JSON list, @FILE or - [field: change_data] [default: []]
    #[arg(long, value_name = "JSON|@FILE|-", group = "fields")]
    pub change_data: Option<String>,
    // The help says the rest.
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "fields", help = DATA_HELP)]
    pub data: Option<String>,
}

/// `amp registered-users …`.
#[derive(Debug, Subcommand)]
pub enum RegisteredUsersCommand {
    /// Every registered user (GET /registered_users/)
    List,
    /// One registered user (GET /registered_users/{id})
    Get(IdArg),
    /// Register a user (POST /registered_users/add)
    Add {
        /// The name [field: name]
        #[arg(long)]
        name: String,
        /// The user's GAID [field: GAID]
        #[arg(long)]
        gaid: Option<String>,
        /// A company rather than a person [field: is_company]
        #[arg(long)]
        company: bool,
    },
    /// Rename a user (PUT /registered_users/{id}/edit)
    Edit {
        /// The user's id
        id: i64,
        /// The new name [field: name]
        #[arg(long)]
        name: String,
    },
    /// Delete a user (DELETE /registered_users/{id}/delete)
    Delete(IdArg),
    /// What the user was assigned, was sent and holds (GET /registered_users/{id}/summary)
    Summary(IdArg),
    /// The user's GAIDs (GET /registered_users/{id}/gaids)
    Gaids(IdArg),
    /// Add a GAID to the user (POST /registered_users/{id}/gaids/add)
    AddGaid(UserGaidArgs),
    /// Make one of the user's GAIDs the default (POST /registered_users/{id}/gaids/set-default)
    SetDefaultGaid(UserGaidArgs),
}

/// One resource with a numeric id.
#[derive(Debug, Args)]
pub struct IdArg {
    /// The id
    pub id: i64,
}

/// A registered user and a GAID.
#[derive(Debug, Args)]
pub struct UserGaidArgs {
    /// The user's id
    pub id: i64,
    /// The GAID [field: GAID]
    pub gaid: String,
}

/// `amp categories …`.
#[derive(Debug, Subcommand)]
pub enum CategoriesCommand {
    /// Every category (GET /categories/)
    List,
    /// One category (GET /categories/{id})
    Get(IdArg),
    /// Create a category (POST /categories/add)
    Add {
        /// The name [field: name]
        #[arg(long)]
        name: String,
        /// Free text [field: description]
        #[arg(long, default_value = "")]
        description: String,
    },
    /// Change a category's name or description (PUT /categories/{id}/edit)
    #[command(group(ArgGroup::new("changes").required(true).multiple(true)))]
    Edit {
        /// The category's id
        id: i64,
        /// A new name [field: name]
        #[arg(long, group = "changes")]
        name: Option<String>,
        /// A new description [field: description]
        #[arg(long, group = "changes")]
        description: Option<String>,
    },
    /// Delete a category (DELETE /categories/{id}/delete)
    Delete(IdArg),
    /// Put a registered user into the category (PUT /categories/{id}/registered_users/{userId}/add)
    #[command(visible_alias = "add-registered-user")]
    AddUser(CategoryUserArgs),
    /// Take a registered user out of the category (PUT …/registered_users/{userId}/remove)
    #[command(visible_alias = "remove-registered-user")]
    RemoveUser(CategoryUserArgs),
    /// Make the category a requirement of an asset (PUT /categories/{id}/assets/{assetUuid}/add)
    AddAsset(CategoryAssetArgs),
    /// Remove the category from an asset's requirements (PUT …/assets/{assetUuid}/remove)
    RemoveAsset(CategoryAssetArgs),
}

/// A category and a registered user.
#[derive(Debug, Args)]
pub struct CategoryUserArgs {
    /// The category's id
    pub id: i64,
    /// The registered user's id
    pub user_id: i64,
}

/// A category and an asset.
#[derive(Debug, Args)]
pub struct CategoryAssetArgs {
    /// The category's id
    pub id: i64,
    /// The asset's UUID
    pub asset_uuid: String,
}

/// `amp managers …`.
#[derive(Debug, Subcommand)]
pub enum ManagersCommand {
    /// Every manager (GET /managers/)
    List,
    /// One manager (GET /managers/{id})
    Get(IdArg),
    /// The manager `amp` is logged in as (GET /managers/me; a manager's login only)
    Me,
    /// Create a manager, locked (POST /managers/create); the password as for change-password
    #[command(after_help = PASSWORD_HELP)]
    Create {
        /// The login name [field: username]
        #[arg(long)]
        username: String,
    },
    /// Lock a manager out (PUT /managers/{id}/lock)
    Lock(IdArg),
    /// Let a manager log in again (PUT /managers/{id}/unlock)
    Unlock(IdArg),
    /// Let a manager act on an asset (PUT /managers/{id}/assets/{assetUuid}/add)
    AddAsset(ManagerAssetArgs),
    /// Stop a manager acting on an asset (POST /managers/{id}/assets/{assetUuid}/remove)
    RemoveAsset(ManagerAssetArgs),
    /// Set a manager's password (POST /managers/{id}/change-password)
    #[command(after_help = PASSWORD_HELP)]
    ChangePassword(IdArg),
}

/// A manager and an asset.
#[derive(Debug, Args)]
pub struct ManagerAssetArgs {
    /// The manager's id
    pub id: i64,
    /// The asset's UUID
    pub asset_uuid: String,
}

/// `amp user …`.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Change the password `amp` logs in with (POST /user/change-password)
    #[command(after_help = PASSWORD_HELP)]
    ChangePassword,
}

/// `amp gaids …`: questions about one GAID.
#[derive(Debug, Subcommand)]
pub enum GaidCommand {
    /// Whether AMP accepts the GAID (GET /gaids/{gaid}/validate)
    Validate {
        /// The GAID
        gaid: String,
    },
    /// An address of the GAID's account (GET /gaids/{gaid}/address)
    Address {
        /// The GAID
        gaid: String,
    },
    /// The GAID's balance per asset, or of one asset with --asset (GET /gaids/{gaid}/balance[/{assetUuid}])
    Balance {
        /// The GAID
        gaid: String,
        /// Only this asset
        #[arg(long, value_name = "UUID")]
        asset: Option<String>,
    },
    /// The registered user the GAID belongs to (GET /gaids/{gaid}/registered_user)
    RegisteredUser {
        /// The GAID
        gaid: String,
    },
}
