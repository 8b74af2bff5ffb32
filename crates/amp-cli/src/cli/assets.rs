//! `amp assets …`: an asset, its treasury, its history, reissuance and burn.
//!
//! Commands whose body is big or nested also take the whole body as
//! `--data JSON|@FILE|-`. `--data` and the body's flags exclude each other
//! (clap refuses both, exit 2): a body is either typed whole or built from
//! flags, never merged, so what is sent is always what one of them says.

use amp_client::model::Outpoint;
use clap::{ArgGroup, Args, Subcommand};

/// The help of every `--data` flag.
pub const DATA_HELP: &str = "The whole body as JSON: the JSON itself, @FILE to read it \
from a file, or - for stdin. Read into the library's typed request (an unknown or \
mistyped field is refused, exit 2). Not with the body's flags";

/// `amp assets …`.
#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// Every asset, as a table (GET /assets/)
    List,
    /// One asset (GET /assets/{uuid})
    Get(AssetArg),
    /// Issue a new asset (POST /assets/issue)
    Issue(IssueArgs),
    /// Set where transfers are authorized (PUT /assets/{uuid}/edit)
    Edit {
        /// The asset's UUID
        asset_uuid: String,
        /// The issuer's authorization URL [field: issuer_authorization_endpoint]
        #[arg(long, value_name = "URL")]
        issuer_authorization_endpoint: String,
    },
    /// Delete the asset (DELETE /assets/{uuid}/delete)
    Delete(AssetArg),
    /// Register the asset in the Liquid asset registry (GET /assets/{uuid}/register)
    Register(AssetArg),
    /// Register the asset as authorized (GET /assets/{uuid}/register-authorized)
    RegisterAuthorized(AssetArg),
    /// Amounts and holder counts (GET /assets/{uuid}/summary)
    Summary(AssetArg),
    /// Lock the asset against changes (PUT /assets/{uuid}/lock)
    Lock(AssetArg),
    /// Unlock the asset (PUT /assets/{uuid}/unlock)
    Unlock(AssetArg),
    /// The asset's memo, or set it with --set (GET /assets/{uuid}/memo, POST …/memo/set)
    Memo {
        /// The asset's UUID
        asset_uuid: String,
        /// Set the memo to this text (sent as a bare JSON string)
        #[arg(long, value_name = "TEXT")]
        set: Option<String>,
    },
    /// Who holds the asset (GET /assets/{uuid}/ownerships[/{height}])
    Ownerships {
        /// The asset's UUID
        asset_uuid: String,
        /// As of this block height
        #[arg(long, value_name = "N")]
        height: Option<u64>,
    },
    /// Holdings and lost outputs (GET /assets/{uuid}/balance)
    Balance(AssetArg),
    /// Outputs AMP lost track of (GET /assets/{uuid}/lost-outputs)
    LostOutputs(AssetArg),
    /// The asset's history (GET /assets/{uuid}/activities)
    Activities {
        /// The asset's UUID
        asset_uuid: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// The asset's transactions (GET /assets/{uuid}/txs)
    Txs {
        /// The asset's UUID
        asset_uuid: String,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One transaction of the asset (GET /assets/{uuid}/txs/{txid})
    Tx {
        /// The asset's UUID
        asset_uuid: String,
        /// The transaction id (hex)
        txid: String,
    },
    // The treasury side, in its own enum (and module) but listed with the rest.
    #[command(flatten)]
    Treasury(TreasuryCommand),
}

/// The treasury side of `amp assets …`: UTXOs, treasury addresses,
/// blinders, reissuance and burn.
#[derive(Debug, Subcommand)]
pub enum TreasuryCommand {
    /// The asset's unspent outputs (GET /assets/{uuid}/utxos)
    Utxos(AssetArg),
    /// Blacklist outputs (POST /assets/{uuid}/utxos/blacklist)
    BlacklistUtxos(UtxosArgs),
    /// Take outputs off the blacklist (POST /assets/{uuid}/utxos/whitelist)
    WhitelistUtxos(UtxosArgs),
    /// The treasury's addresses (GET /assets/{uuid}/treasury-addresses)
    TreasuryAddresses(AssetArg),
    /// Add treasury addresses (POST /assets/{uuid}/treasury-addresses/add)
    AddTreasuryAddresses(AddressesArgs),
    /// Remove treasury addresses (DELETE /assets/{uuid}/treasury-addresses/delete)
    DeleteTreasuryAddresses(AddressesArgs),
    /// Give AMP the blinders of the issuance outputs, from the node or as given (POST /assets/{uuid}/update-blinders)
    UpdateBlinders(BlindersArgs),
    /// Ask to reissue (POST /assets/{uuid}/reissue-request)
    ReissueRequest {
        /// The asset's UUID
        asset_uuid: String,
        /// Amount to reissue, in base units [field: amount_to_reissue]
        #[arg(long, value_name = "N")]
        amount: i64,
    },
    /// Confirm a reissuance the node made (POST /assets/{uuid}/reissue-confirm)
    ReissueConfirm(ReissueConfirmArgs),
    /// Ask to burn (POST /assets/{uuid}/burn-request)
    BurnRequest {
        /// The asset's UUID
        asset_uuid: String,
        /// Amount to burn, in base units [field: amount]
        #[arg(long, value_name = "N")]
        amount: i64,
    },
    /// Confirm a burn the node made (POST /assets/{uuid}/burn-confirm)
    BurnConfirm(BurnConfirmArgs),
    /// Past reissuances (GET /assets/{uuid}/reissuances)
    Reissuances(AssetArg),
    /// Carry out a distribution with the node and confirm it, never sending twice
    Distribute(super::DistributeArgs),
    /// Reissue with the node and confirm it, never sending twice
    Reissue(super::SupplyArgs),
    /// Burn with the node and confirm it, never sending twice
    Burn(super::SupplyArgs),
}

/// One asset, by UUID.
#[derive(Debug, Args)]
pub struct AssetArg {
    /// The asset's UUID
    pub asset_uuid: String,
}

/// `amp assets issue`: the flags of `IssueRequest`, or `--data`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("fields").multiple(true)))]
pub struct IssueArgs {
    /// The asset's name [field: name]
    #[arg(long, group = "fields", required_unless_present = "data")]
    pub name: Option<String>,
    /// Amount to issue, in base units [field: amount]
    #[arg(
        long,
        value_name = "N",
        group = "fields",
        required_unless_present = "data"
    )]
    pub amount: Option<i64>,
    /// The treasury address that receives the issuance [field: destination_address]
    #[arg(
        long,
        value_name = "ADDRESS",
        group = "fields",
        required_unless_present = "data"
    )]
    pub destination_address: Option<String>,
    /// The issuer's domain, for the asset registry [field: domain]
    #[arg(long, group = "fields", required_unless_present = "data")]
    pub domain: Option<String>,
    /// The ticker [field: ticker]
    #[arg(long, group = "fields", required_unless_present = "data")]
    pub ticker: Option<String>,
    /// The issuer's public key, hex [field: pubkey]
    #[arg(
        long,
        value_name = "HEX",
        group = "fields",
        required_unless_present = "data"
    )]
    pub pubkey: Option<String>,
    /// Decimal places, 0 to 8 [field: precision]
    #[arg(long, value_name = "N", group = "fields")]
    pub precision: Option<u8>,
    /// Confidential issuance [field: is_confidential]
    #[arg(long, group = "fields")]
    pub confidential: bool,
    /// May be reissued [field: is_reissuable]
    #[arg(long, group = "fields")]
    pub reissuable: bool,
    /// Reissuance tokens to create, in base units [field: reissuance_amount]
    #[arg(long, value_name = "N", group = "fields")]
    pub reissuance_amount: Option<i64>,
    /// The treasury address that receives the reissuance tokens [field: reissuance_address]
    #[arg(long, value_name = "ADDRESS", group = "fields")]
    pub reissuance_address: Option<String>,
    /// Transfers need the issuer's authorization [field: transfer_restricted]
    #[arg(long, group = "fields")]
    pub transfer_restricted: bool,
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "fields", help = DATA_HELP)]
    pub data: Option<String>,
}

/// Paging and filters of `activities` and `txs`, sent as a query string.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// Index of the first entry [query: start]
    #[arg(long, value_name = "N")]
    pub start: Option<u64>,
    /// How many entries at most [query: count]
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// The field to sort by, e.g. datetime or blockheight [query: sortcolumn]
    #[arg(long, value_name = "FIELD")]
    pub sort_column: Option<String>,
    /// asc or desc [query: sortorder]
    #[arg(long, value_name = "ORDER", value_parser = ["asc", "desc"])]
    pub sort_order: Option<String>,
    /// Lowest block height [query: height_start]
    #[arg(long, value_name = "N")]
    pub height_start: Option<u64>,
    /// Highest block height [query: height_stop]
    #[arg(long, value_name = "N")]
    pub height_stop: Option<u64>,
}

/// `blacklist-utxos` and `whitelist-utxos`: outputs as `--utxo TXID:VOUT`, or `--data`.
#[derive(Debug, Args)]
pub struct UtxosArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// An output, TXID:VOUT (repeatable) [fields: txid, vout]
    #[arg(
        long = "utxo",
        value_name = "TXID:VOUT",
        value_parser = parse_outpoint,
        required_unless_present = "data"
    )]
    pub utxos: Vec<Outpoint>,
    /// The whole body, a JSON list of {"txid", "vout"}: the JSON itself, @FILE or - for stdin. Not with --utxo
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "utxos")]
    pub data: Option<String>,
}

/// `add-treasury-addresses` and `delete-treasury-addresses`.
#[derive(Debug, Args)]
pub struct AddressesArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// A treasury address (repeatable) [the body is the list of them]
    #[arg(
        long = "address",
        value_name = "ADDRESS",
        required_unless_present = "data"
    )]
    pub addresses: Vec<String>,
    /// The whole body, a JSON list of address strings: the JSON itself, @FILE or - for stdin. Not with --address
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "addresses")]
    pub data: Option<String>,
}

/// `update-blinders`: from the node (the official script's job), or the
/// flags of `UpdateBlinders`, or `--data`.
#[derive(Debug, Args)]
#[command(
    group(ArgGroup::new("fields").multiple(true).requires_all(["txid", "vout", "asset_blinder", "amount_blinder"])),
    after_help = "Without --txid … or --data: reads the issuance outputs AMP has no blinders \
for (GET /assets/{uuid}/txs) and takes their blinders from the node's wallet \
(gettransaction), one call each, as blockstream-amp-confirm.py update-blinders does."
)]
pub struct BlindersArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// Transaction id, hex [field: txid]
    #[arg(long, group = "fields")]
    pub txid: Option<String>,
    /// Output index [field: vout]
    #[arg(long, value_name = "N", group = "fields")]
    pub vout: Option<u32>,
    /// The asset blinder, hex [field: asset_blinder]
    #[arg(long, value_name = "HEX", group = "fields")]
    pub asset_blinder: Option<String>,
    /// The amount blinder, hex [field: amount_blinder]
    #[arg(long, value_name = "HEX", group = "fields")]
    pub amount_blinder: Option<String>,
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "fields", help = DATA_HELP)]
    pub data: Option<String>,
    #[command(flatten)]
    pub node: super::NodeArgs,
}

/// `reissue-confirm`: the flags of `ReissueConfirm`, or `--data`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("fields").multiple(true)))]
pub struct ReissueConfirmArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// The reissuance transaction, hex [field: reissuance_output.txid]
    #[arg(long, group = "fields", required_unless_present = "data")]
    pub txid: Option<String>,
    /// Its reissuance input [field: reissuance_output.vin]
    #[arg(
        long,
        value_name = "N",
        group = "fields",
        required_unless_present = "data"
    )]
    pub vin: Option<u32>,
    /// The node's gettransaction details: JSON, @FILE or - [field: details] [default: []]
    #[arg(long, value_name = "JSON|@FILE|-", group = "fields")]
    pub details: Option<String>,
    /// The node's listissuances entries: a JSON list, @FILE or - [field: listissuances] [default: []]
    #[arg(long, value_name = "JSON|@FILE|-", group = "fields")]
    pub listissuances: Option<String>,
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "fields", help = DATA_HELP)]
    pub data: Option<String>,
}

/// `burn-confirm`: the flags of `TxConfirmation`, or `--data`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("fields").multiple(true)))]
pub struct BurnConfirmArgs {
    /// The asset's UUID
    pub asset_uuid: String,
    /// The burn transaction, hex [field: tx_data.txid]
    #[arg(long, group = "fields", required_unless_present = "data")]
    pub txid: Option<String>,
    /// The node's listunspent entries of the change: a JSON list, @FILE or - [field: change_data] [default: []]
    #[arg(long, value_name = "JSON|@FILE|-", group = "fields")]
    pub change_data: Option<String>,
    #[arg(long, value_name = "JSON|@FILE|-", conflicts_with = "fields", help = DATA_HELP)]
    pub data: Option<String>,
}

/// `TXID:VOUT` as an outpoint; the message names what is wrong.
pub fn parse_outpoint(raw: &str) -> Result<Outpoint, String> {
    let (txid, vout) = raw
        .rsplit_once(':')
        .ok_or_else(|| format!("{raw:?} is not TXID:VOUT"))?;
    if txid.is_empty() {
        return Err(format!("{raw:?}: the txid is empty"));
    }
    let vout = vout
        .parse::<u32>()
        .map_err(|e| format!("{raw:?}: the vout {vout:?} is not an output index: {e}"))?;
    Ok(Outpoint::new(txid, vout))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outpoints_read_as_txid_colon_vout() {
        assert_eq!(parse_outpoint("ab:3").unwrap(), Outpoint::new("ab", 3));
        assert!(parse_outpoint("ab").unwrap_err().contains("TXID:VOUT"));
        assert!(parse_outpoint(":1").unwrap_err().contains("txid is empty"));
        assert!(parse_outpoint("ab:-1").unwrap_err().contains("vout"));
    }
}
