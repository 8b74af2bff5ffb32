//! A transfer-restricted asset, and a registered user allowed to hold it.
//!
//! A transfer-restricted asset names, in its `requirements`, the categories
//! of registered users it may go to. This example issues such an asset,
//! registers a user with their GAID (Green account id), puts the user in a
//! category and makes that category a requirement of the asset, then reads
//! all of it back from each side: the asset, the category, the user and the
//! GAID.
//!
//! Runs against an AMP sandbox started inside the process: no credentials,
//! no network.
//!
//! ```sh
//! cargo run -p amp-client --example restricted_asset
//! ```
//!
//! It checks its own outcome and exits non-zero if anything differs.

use amp_client::model::{IssueRequest, NewCategory, NewRegisteredUser};
use amp_client::text::escape_controls_line;
use amp_client::{AmpClient, Config};
use amp_sandbox::Sandbox;

/// The user's Green account id (GAID).
const ALICE_GAID: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";

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

    // 1. Issue the asset with `transfer_restricted`: only the users the
    //    issuer allows may receive it.
    let issued = client
        .assets()
        .issue(&IssueRequest {
            name: "Restricted Bond".into(),
            amount: 500_000,
            precision: Some(0),
            destination_address: "vjTreasuryAddressOfTheIssuersWallet".into(),
            domain: "issuer.example".into(),
            ticker: "RBND".into(),
            pubkey: "02b4ab7a5b1e0e3f2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e".into(),
            transfer_restricted: Some(true),
            ..IssueRequest::default()
        })
        .await?;
    let asset_uuid = issued.asset_uuid;
    println!("Issued the transfer-restricted asset {asset_uuid}.");

    // 2. Check the GAID before registering it: AMP says whether it is valid.
    let validation = client.gaids().validate(ALICE_GAID).await?;
    if !validation.is_valid {
        let reason = validation.error.unwrap_or_default();
        return Err(format!(
            "AMP refused the GAID {ALICE_GAID}: {}",
            escape_controls_line(&reason)
        )
        .into());
    }
    println!("AMP accepts the GAID {ALICE_GAID}.");

    // 3. Register the user with that GAID.
    let alice = client
        .registered_users()
        .add(&NewRegisteredUser::new("Alice").gaid(ALICE_GAID))
        .await?;
    println!("Registered user {} with it.", alice.id);

    // 4. A category of users, with Alice in it.
    let categories = client.categories();
    let accredited = categories
        .add(&NewCategory::new(
            "Accredited investors",
            "Investors whose accreditation the issuer checked",
        ))
        .await?;
    categories
        .add_registered_user(accredited.id, alice.id)
        .await?;
    println!(
        "Created the category {} (\"{}\") and put user {} in it.",
        accredited.id,
        escape_controls_line(&accredited.name),
        alice.id
    );

    // 5. Make the category a requirement of the asset.
    categories.add_asset(accredited.id, &asset_uuid).await?;
    println!(
        "Made category {} a requirement of asset {asset_uuid}.",
        accredited.id
    );

    // 6. Read it back from every side.
    let asset = client.assets().get(&asset_uuid).await?;
    println!(
        "The asset: transfer_restricted = {}, requirements = {:?}.",
        asset.transfer_restricted, asset.requirements
    );
    let category = categories.get(accredited.id).await?;
    println!(
        "The category: registered users {:?}, assets {:?}.",
        category.registered_users, category.assets
    );
    let user = client.registered_users().get(alice.id).await?;
    println!(
        "The user: GAID {}, categories {:?}.",
        escape_controls_line(user.gaid.as_deref().unwrap_or("none")),
        user.categories
    );
    let owner = client.gaids().registered_user(ALICE_GAID).await?;
    println!("The GAID {ALICE_GAID} belongs to user {}.", owner.id);

    // Is Alice in a category the asset requires?
    let allowed = asset
        .requirements
        .iter()
        .any(|required| user.categories.contains(required));
    println!(
        "User {} is {}in a category the asset requires.",
        user.id,
        if allowed { "" } else { "not " }
    );

    // The example checks its own outcome, so a change that breaks it fails CI.
    check(
        asset.transfer_restricted,
        "the asset is transfer-restricted",
    )?;
    check(
        asset.requirements == [accredited.id],
        "the asset requires the category",
    )?;
    check(
        category.registered_users == [alice.id],
        "the category holds Alice",
    )?;
    check(
        category.assets == [asset_uuid.clone()],
        "the category lists the asset",
    )?;
    check(
        user.gaid.as_deref() == Some(ALICE_GAID),
        "Alice has her GAID",
    )?;
    check(
        user.categories == [accredited.id],
        "Alice is in the category",
    )?;
    check(owner.id == alice.id, "the GAID leads back to Alice")?;
    check(allowed, "Alice is in a required category")?;
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
