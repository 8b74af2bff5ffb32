//! Issue an asset and assign part of it to a registered user.
//!
//! The steps an issuer takes first: issue the asset into the treasury,
//! register the user who is to receive it, and assign them an amount. The
//! assignment is a promise; a distribution (see the `distribution` example)
//! sends it.
//!
//! Runs against an AMP sandbox started inside the process: no credentials,
//! no network.
//!
//! ```sh
//! cargo run -p amp-client --example issue_and_assign
//! ```
//!
//! It checks its own outcome and exits non-zero if anything differs.

use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
use amp_client::text::escape_controls_line;
use amp_client::{AmpClient, Config};
use amp_sandbox::Sandbox;

/// The user's Green account id (GAID), where their assets are to be sent.
const ALICE_GAID: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sandbox = start_sandbox().await?;
    // Against the real AMP this is `AmpClient::from_env()?`, which reads
    // AMP_USERNAME, AMP_PASSWORD and AMP_API_BASE_URL. Either way the client
    // logs in by itself on the first call and keeps its token fresh.
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()?;
    let client = AmpClient::new(config)?;

    // 1. Issue the asset. Amounts are in base units: with precision 2,
    //    1_000_000 units are 10 000.00 EXB.
    let issued = client
        .assets()
        .issue(&IssueRequest {
            name: "Example Bond".into(),
            amount: 1_000_000,
            precision: Some(2),
            destination_address: "vjTreasuryAddressOfTheIssuersWallet".into(),
            domain: "issuer.example".into(),
            ticker: "EXB".into(),
            pubkey: "02b4ab7a5b1e0e3f2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e".into(),
            is_confidential: Some(true),
            ..IssueRequest::default()
        })
        .await?;
    let asset_uuid = issued.asset_uuid;
    let asset = client.assets().get(&asset_uuid).await?;
    // Text from a server goes through `escape_controls_line` before it is
    // printed, so a name cannot drive the terminal.
    println!(
        "Issued {} units of \"{}\" as asset {asset_uuid}.",
        issued.amount,
        escape_controls_line(&asset.name)
    );

    // 2. Register the user who is to receive some of it, with their GAID.
    let alice = client
        .registered_users()
        .add(&NewRegisteredUser::new("Alice").gaid(ALICE_GAID))
        .await?;
    println!(
        "Registered user {} ({}) with GAID {ALICE_GAID}.",
        alice.id,
        escape_controls_line(&alice.name)
    );

    // 3. Assign her 25 000 units (250.00 EXB). `ready_for_distribution`
    //    lets the next distribution send it; leave it false to hold it back.
    let assignments = client.assignments(&asset_uuid);
    let created = assignments
        .create(&NewAssignment::new(alice.id, 25_000).ready_for_distribution(true))
        .await?;
    let assignment = created.first().ok_or("AMP answered no assignment")?;
    println!(
        "Assigned {} units to user {} (assignment {}), ready for distribution.",
        assignment.amount, alice.id, assignment.id
    );

    // 4. Read it back: the asset's assignments and its summary.
    let all = assignments.list().await?;
    let summary = client.assets().summary(&asset_uuid).await?;
    println!(
        "The asset has {} assignment(s); {} of {} units are assigned, {} distributed.",
        all.len(),
        summary.assigned,
        summary.issued,
        summary.distributed
    );

    // The example checks its own outcome, so a change that breaks it fails CI.
    let [listed] = all.as_slice() else {
        return Err(format!("expected one assignment, found {}", all.len()).into());
    };
    check(
        listed.registered_user == Some(alice.id),
        "assigned to Alice",
    )?;
    check(listed.amount == 25_000, "25 000 units assigned")?;
    check(listed.ready_for_distribution, "ready for distribution")?;
    check(!listed.is_distributed, "not distributed yet")?;
    check(summary.issued == 1_000_000, "1 000 000 units issued")?;
    check(
        summary.assigned == 25_000,
        "the summary counts the assignment",
    )?;
    check(summary.distributed == 0, "nothing distributed yet")?;
    check(
        sandbox.count("POST", "/user/obtain_token") == 1,
        "one login for every call",
    )?;
    println!("Done: all checks passed.");
    Ok(())
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
