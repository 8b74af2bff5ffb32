//! A distribution, from creation to confirmation.
//!
//! Assignments promise amounts of an asset to registered users; a
//! distribution sends them. It takes three steps:
//!
//! 1. `distributions(uuid).create()`: AMP gathers the assignments ready for
//!    distribution and answers what to send: an amount and an asset per
//!    receiving address;
//! 2. the issuer's wallet (the treasury) sends that transaction;
//! 3. `distributions(uuid).confirm(..)`: AMP is told the transaction, and
//!    the assignments become distributed.
//!
//! Step 2 is outside AMP and outside this library. Here a function stands in
//! for the wallet and builds the confirmation as a wallet would, from the
//! answer of step 1.
//!
//! Runs against an AMP sandbox started inside the process: no credentials,
//! no network, no wallet.
//!
//! ```sh
//! cargo run -p amp-client --example distribution
//! ```
//!
//! It checks its own outcome and exits non-zero if anything differs.

use amp_client::model::{
    DistributionResponse, IssueRequest, NewAssignment, NewRegisteredUser, TxConfirmation,
};
use amp_client::{AmpClient, Config};
use amp_sandbox::Sandbox;

/// The receivers: name, GAID, units assigned.
const RECEIVERS: [(&str, &str, i64); 2] = [
    ("Alice", "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz", 30_000),
    ("Example Corp", "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf", 20_000),
];

/// Base units per whole coin: the amounts AMP asks the wallet to send are
/// in whole coins, as the Elements `sendmany` call takes them.
const UNITS_PER_COIN: f64 = 100_000_000.0;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = start_sandbox().await?;
    // Against the real AMP this is `AmpClient::from_env()?` (AMP_USERNAME,
    // AMP_PASSWORD, AMP_API_BASE_URL).
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()?;
    let client = AmpClient::new(config)?;

    // Before: an asset, two registered users with GAIDs, and an assignment
    // for each that is ready for distribution (see `issue_and_assign`).
    let (asset_uuid, asset_id) = issue_asset(&client).await?;
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
    println!(
        "Before: {} units assigned, {} distributed.",
        before.assigned, before.distributed
    );
    let balances_before = receiver_balances(&client, &asset_uuid).await?;

    // 1. Create the distribution: AMP answers what the treasury must send.
    let distributions = client.distributions(&asset_uuid);
    let plan = distributions.create().await?;
    println!(
        "Created distribution {}; the treasury is to send (in whole coins):",
        plan.distribution_uuid
    );
    for (address, coins) in &plan.map_address_amount {
        println!("  {coins} to {address}");
    }

    // 2. The treasury sends it. A real issuer signs and broadcasts this
    //    transaction with their Liquid wallet here; `send_with_wallet`
    //    simulates that, and builds the confirmation from the plan as the
    //    wallet would.
    let total: i64 = RECEIVERS.iter().map(|(_, _, amount)| amount).sum();
    let confirmation = send_with_wallet(&sandbox, &plan, &asset_id, total)?;
    println!(
        "The wallet sent transaction {} (the sandbox's simulated node), confirmed twice.",
        confirmation.tx_data.txid
    );

    // 3. Confirm: AMP records the transaction.
    distributions
        .confirm(&plan.distribution_uuid, &confirmation)
        .await?;
    let confirmed = distributions.get(&plan.distribution_uuid).await?;
    let status = confirmed
        .distribution_status
        .as_deref()
        .unwrap_or("unknown");
    println!("Confirmed: the distribution is {status}.");

    // After: the assignments are distributed, and the units moved from the
    // treasury to the receivers.
    let after = client.assets().summary(&asset_uuid).await?;
    println!(
        "After: {} units assigned, {} distributed.",
        after.assigned, after.distributed
    );
    let listed = assignments.list().await?;
    for a in &listed {
        let user = a
            .registered_user
            .map_or("none".to_string(), |id| id.to_string());
        let state = if a.is_distributed {
            "distributed"
        } else {
            "not distributed"
        };
        println!(
            "  assignment {} of {} units to user {user}: {state}",
            a.id, a.amount
        );
    }
    let balances_after = receiver_balances(&client, &asset_uuid).await?;
    let changes = balances_before.iter().zip(&balances_after);
    for ((name, gaid, _), (was, now)) in RECEIVERS.iter().zip(changes) {
        println!("  {name} ({gaid}) held {was} units, now holds {now}.");
    }

    // The example checks its own outcome, so a change that breaks it fails CI.
    check(status == "CONFIRMED", "the distribution is confirmed")?;
    check(
        confirmed
            .transactions
            .first()
            .and_then(|t| t.txid.as_deref())
            == Some(confirmation.tx_data.txid.as_str()),
        "the distribution records the wallet's txid",
    )?;
    check(listed.len() == RECEIVERS.len(), "two assignments")?;
    check(
        listed.iter().all(|a| {
            a.is_distributed && a.distribution_uuid.as_deref() == Some(&plan.distribution_uuid)
        }),
        "every assignment distributed by this distribution",
    )?;
    check(before.distributed == 0, "nothing distributed before")?;
    check(
        after.distributed == total,
        "everything assigned distributed after",
    )?;
    check(
        balances_before.iter().all(|b| *b == 0),
        "the receivers held nothing before",
    )?;
    let expected: Vec<i64> = RECEIVERS.iter().map(|(_, _, amount)| *amount).collect();
    check(
        balances_after == expected,
        "each receiver holds what was assigned",
    )?;
    println!("Done: all checks passed.");
    Ok(())
}

/// What the issuer's wallet does between `create` and `confirm`, simulated.
///
/// A real issuer does this with their Liquid wallet, the one that holds the
/// treasury (an Elements node, as Blockstream's `blockstream-amp-confirm.py`
/// script drives it):
///
/// 1. check the plan: every address is to get this asset, and the total is
///    what was assigned;
/// 2. send it: `sendmany` with `map_address_amount` and `map_address_asset`,
///    which signs and broadcasts the transaction, and wait for it to confirm
///    on chain;
/// 3. describe it: `gettransaction <txid>` gives the `details`, and
///    `listunspent` gives the transaction's change outputs of the asset (the
///    `change_data`).
///
/// Here the sandbox's simulated Elements node does the three steps (and
/// mines the two blocks AMP waits for); AMP checks the transaction against
/// its chain.
fn send_with_wallet(
    sandbox: &Sandbox,
    plan: &DistributionResponse,
    asset_id: &str,
    expected_units: i64,
) -> Result<TxConfirmation, Box<dyn std::error::Error>> {
    // 1. Check the plan before paying anything.
    if let Some((address, other)) = plan.map_address_asset.iter().find(|(_, a)| *a != asset_id) {
        return Err(format!("the plan sends asset {other} to {address}, not {asset_id}").into());
    }
    let mut payments = Vec::new();
    for (address, coins) in &plan.map_address_amount {
        let coins = coins
            .as_f64()
            .ok_or_else(|| format!("the amount for {address} is not a number"))?;
        payments.push((address, coins));
    }
    let units: i64 = payments
        .iter()
        .map(|(_, coins)| (coins * UNITS_PER_COIN).round() as i64)
        .sum();
    if units != expected_units {
        return Err(format!("the plan sends {units} units, {expected_units} were assigned").into());
    }

    // 2. and 3. `sendmany`, two blocks, `gettransaction` and `listunspent`.
    let body = sandbox.wallet_distribute(&serde_json::to_value(plan)?)?;
    Ok(serde_json::from_value(body)?)
}

/// What each receiver's GAID holds of the asset, in the order of [`RECEIVERS`].
async fn receiver_balances(
    client: &AmpClient,
    asset_uuid: &str,
) -> Result<Vec<i64>, amp_client::Error> {
    let mut balances = Vec::new();
    for (_, gaid, _) in RECEIVERS {
        let held = client.gaids().asset_balance(gaid, asset_uuid).await?;
        balances.push(held.balance);
    }
    Ok(balances)
}

/// Issues the asset to distribute; answers its AMP uuid and Liquid asset id.
async fn issue_asset(client: &AmpClient) -> Result<(String, String), Box<dyn std::error::Error>> {
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
    let asset_id = issued.asset_id.ok_or("AMP answered no asset id")?;
    println!(
        "Issued {} units as asset {} (Liquid asset id {asset_id}).",
        issued.amount, issued.asset_uuid
    );
    Ok((issued.asset_uuid, asset_id))
}

/// An AMP sandbox without sample data, so the example starts from nothing.
/// Only for the example: a real issuer points the client at AMP instead.
async fn start_sandbox() -> std::io::Result<Sandbox> {
    Sandbox::builder().with_sample_data(false).start().await
}

/// `Ok` when `ok` holds, otherwise an error saying what was expected.
fn check(ok: bool, expected: &str) -> Result<(), String> {
    if ok {
        Ok(())
    } else {
        Err(format!("check failed: expected {expected}"))
    }
}
