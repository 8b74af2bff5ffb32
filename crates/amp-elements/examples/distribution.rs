//! A distribution, from creation to confirmation, the real workflow.
//!
//! Assignments promise amounts of an asset to registered users; a
//! distribution sends them. It takes three steps:
//!
//! 1. AMP gathers the assignments ready for distribution and answers what
//!    to send: an amount and an asset per receiving address;
//! 2. the issuer's Elements node (the treasury wallet) sends that
//!    transaction (`sendmany`), and it gets its confirmations;
//! 3. AMP is told the transaction (`distributions/{d}/confirm`, with the
//!    node's `gettransaction` details and `listunspent` change), and the
//!    assignments become distributed.
//!
//! [`Treasury::distribute`] does all three, with the official
//! `blockstream-amp-confirm.py`'s checks first, and a journal that makes it
//! safe to run again after a crash: it never sends the transaction twice.
//!
//! Runs against an AMP sandbox started inside the process, and its simulated
//! Elements node (a block every 0.1 s here; about a minute on Liquid): no
//! credentials, no network.
//!
//! ```sh
//! cargo run -p amp-elements --example distribution
//! ```
//!
//! It checks its own outcome and exits non-zero if anything differs.

use std::sync::Arc;
use std::time::Duration;

use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
use amp_client::{AmpClient, Config};
use amp_elements::journal::JobKind;
use amp_elements::{journal_path, ElementsRpc, Event, JobOptions, Progress, Treasury};
use amp_sandbox::Sandbox;

/// The receivers: name, GAID, units assigned.
const RECEIVERS: [(&str, &str, i64); 2] = [
    ("Alice", "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz", 30_000),
    ("Example Corp", "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf", 20_000),
];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // An AMP sandbox without sample data, with its node mining a block every
    // 0.1 s. Only for the example: a real issuer points the client at AMP
    // and the node client at their own Elements node.
    let sandbox = Sandbox::builder().with_sample_data(false).start().await?;
    sandbox.set_block_interval(Some(Duration::from_millis(100)));
    // Against the real AMP this is `AmpClient::from_env()?` (AMP_USERNAME,
    // AMP_PASSWORD, AMP_API_BASE_URL).
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()?;
    let client = AmpClient::new(config)?;
    // The treasury's node: http://USER:PASSWORD@HOST:PORT/ (or its cookie file).
    let node = ElementsRpc::builder(&sandbox.node_url_with_credentials()).build()?;

    // Before: an asset (its issuance pays the node's wallet), two registered
    // users with GAIDs, and an assignment for each, ready for distribution
    // (see amp-client's `issue_and_assign` example).
    let asset_uuid = issue_asset(&client).await?;
    let assignments = client.assignments(&asset_uuid);
    for (name, gaid, amount) in RECEIVERS {
        let user = client
            .registered_users()
            .add(&NewRegisteredUser::new(name).gaid(gaid))
            .await?;
        assignments
            .create(&NewAssignment::new(user.id, amount).ready_for_distribution(true))
            .await?;
        println!(
            "Assigned {amount} units to {name} (user {}, GAID {gaid}).",
            user.id
        );
    }
    let before = client.assets().summary(&asset_uuid).await?;
    let balances_before = receiver_balances(&client, &asset_uuid).await?;

    // 1. to 3.: create, send, wait for two confirmations, confirm.
    let jobs = std::env::temp_dir().join(format!("amp-example-jobs-{}", std::process::id()));
    let journal = journal_path(&jobs, JobKind::Distribute, &asset_uuid);
    let treasury = Treasury::new(client.clone(), node)
        .options(JobOptions {
            poll_interval: Duration::from_millis(50),
            ..JobOptions::default()
        })
        .progress(Arc::new(Printer));
    let done = treasury.distribute(&asset_uuid, None, None, &journal).await;
    let _ = std::fs::remove_dir_all(&jobs);
    let done = done?;
    let d = done.distribution_uuid.clone().unwrap_or_default();
    println!("Distribution {d} confirmed in transaction {}.", done.txid);

    // After: AMP has the distribution confirmed with the node's transaction,
    // the assignments are distributed, and the units moved.
    let confirmed = client.distributions(&asset_uuid).get(&d).await?;
    let status = confirmed
        .distribution_status
        .as_deref()
        .unwrap_or("unknown");
    let after = client.assets().summary(&asset_uuid).await?;
    let listed = assignments.list().await?;
    let balances_after = receiver_balances(&client, &asset_uuid).await?;
    for ((name, gaid, _), (was, now)) in RECEIVERS
        .iter()
        .zip(balances_before.iter().zip(&balances_after))
    {
        println!("  {name} ({gaid}) held {was} units, now holds {now}.");
    }
    println!(
        "The node saw {} sendmany; AMP {} distributed of {} assigned.",
        sandbox.node_count("sendmany"),
        after.distributed,
        after.assigned
    );

    // The example checks its own outcome, so a change that breaks it fails CI.
    let total: i64 = RECEIVERS.iter().map(|(_, _, amount)| amount).sum();
    check(status == "CONFIRMED", "the distribution is confirmed")?;
    check(
        confirmed
            .transactions
            .first()
            .and_then(|t| t.txid.as_deref())
            == Some(done.txid.as_str()),
        "the distribution records the node's txid",
    )?;
    check(
        sandbox.confirmations(&done.txid) >= Some(2),
        "two confirmations on chain",
    )?;
    check(sandbox.node_count("sendmany") == 1, "one sendmany")?;
    check(
        listed.len() == RECEIVERS.len() && listed.iter().all(|a| a.is_distributed),
        "every assignment distributed",
    )?;
    check(
        before.distributed == 0 && after.distributed == total,
        "everything assigned distributed",
    )?;
    let expected: Vec<i64> = RECEIVERS.iter().map(|(_, _, amount)| *amount).collect();
    check(
        balances_after == expected,
        "each receiver holds what was assigned",
    )?;
    println!("Done: all checks passed.");
    Ok(())
}

/// Prints the job's progress, the confirmations as they arrive.
struct Printer;

impl Progress for Printer {
    fn event(&self, event: &Event) {
        match event {
            Event::Sending => println!("Checks passed; intent written to the journal; sendmany …"),
            Event::Sent { txid, .. } => println!("The node sent transaction {txid}."),
            Event::Confirmations { have, want, .. } => println!("  confirmations: {have}/{want}"),
            Event::AmpConfirmed { .. } => println!("AMP accepted the confirmation."),
            _ => {}
        }
    }
}

/// What each receiver's GAID holds of the asset, in the order of [`RECEIVERS`].
async fn receiver_balances(
    client: &AmpClient,
    asset_uuid: &str,
) -> Result<Vec<i64>, amp_client::Error> {
    let mut balances = Vec::new();
    for (_, gaid, _) in RECEIVERS {
        balances.push(
            client
                .gaids()
                .asset_balance(gaid, asset_uuid)
                .await?
                .balance,
        );
    }
    Ok(balances)
}

/// Issues the asset to distribute; answers its AMP uuid.
async fn issue_asset(client: &AmpClient) -> Result<String, Box<dyn std::error::Error>> {
    let issued = client
        .assets()
        .issue(&IssueRequest {
            name: "Distributed Bond".into(),
            amount: 1_000_000,
            precision: Some(0),
            destination_address: "vjTreasuryAddressOfTheIssuersWallet".into(),
            domain: "issuer.example".into(),
            ticker: "DBND".into(),
            pubkey: "02b4ab7a5b1e0e3f2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e".into(),
            ..IssueRequest::default()
        })
        .await?;
    println!(
        "Issued {} units as asset {}.",
        issued.amount, issued.asset_uuid
    );
    Ok(issued.asset_uuid)
}

/// `Ok` when `ok` holds, otherwise an error saying what was expected.
fn check(ok: bool, expected: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: expected {expected}"))
    }
}
