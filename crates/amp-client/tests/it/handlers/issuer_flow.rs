//! One whole issuer flow through the library against an empty sandbox:
//! issue → register users → category → assignments → distribution →
//! confirm → balance, each step read back through the other calls, on one
//! login.

use crate::common::resources as support;

use amp_client::model::{
    IssueRequest, NewAssignment, NewCategory, NewRegisteredUser, TxConfirmation,
};
use amp_client::{AmpClient, Config};
use amp_sandbox::Sandbox;
use support::*;

const ALICE: &str = "GA3aLiceXaLiceXaLiceXaLiceXa";
const CORP: &str = "GA3CorpXCorpXCorpXCorpXCorpX";
const BOB: &str = "GA3BobXBobXBobXBobXBobXBobXb";

#[tokio::test]
async fn issue_register_categorise_assign_distribute_confirm_and_read_the_balance() -> TestResult {
    let sb = Sandbox::builder().with_sample_data(false).start().await?;
    let config = Config::builder()
        .base_url(sb.base_url())
        .credentials(sb.username(), sb.password())
        .build()?;
    let client = AmpClient::new(config)?;
    assert!(client.assets().list().await?.is_empty());

    // 1. Issue a transfer-restricted asset, register it, say who authorizes.
    let issued = client
        .assets()
        .issue(&IssueRequest {
            name: "Flow Bond".into(),
            amount: 1_000_000,
            destination_address: "vjTreasuryFlow".into(),
            domain: "flow.example".into(),
            ticker: "FLOW".into(),
            pubkey: "02b4ab".into(),
            precision: Some(2),
            transfer_restricted: Some(true),
            ..IssueRequest::default()
        })
        .await?;
    let uuid = issued.asset_uuid;
    let assets = client.assets();
    assets.register(&uuid).await?;
    assets.register_authorized(&uuid).await?;
    assets.edit(&uuid, "https://flow.example/authorize").await?;
    let asset = assets.get(&uuid).await?;
    assert!(asset.is_registered && asset.is_authorized && asset.transfer_restricted);
    let asset_id = asset.asset_id.clone().ok_or("no asset id")?;

    // 2. Register the users; Bob's GAID comes later.
    let users = client.registered_users();
    let alice = users
        .add(&NewRegisteredUser::new("Alice").gaid(ALICE))
        .await?;
    let corp = users
        .add(&NewRegisteredUser::new("Corp Ltd").gaid(CORP).company(true))
        .await?;
    let bob = users.add(&NewRegisteredUser::new("Bob")).await?;
    assert_eq!(bob.gaid, None);
    users.add_gaid(bob.id, BOB).await?;
    assert_eq!(users.get(bob.id).await?.gaid.as_deref(), Some(BOB));
    assert_eq!(client.gaids().registered_user(BOB).await?.id, bob.id);
    assert_eq!(users.list().await?.len(), 3);

    // 3. A category the asset requires, holding Alice and Bob.
    let categories = client.categories();
    let accredited = categories
        .add(&NewCategory::new("Accredited", "May hold the bond"))
        .await?;
    categories
        .add_registered_user(accredited.id, alice.id)
        .await?;
    categories
        .add_registered_user(accredited.id, bob.id)
        .await?;
    categories.add_asset(accredited.id, &uuid).await?;
    let category = categories.get(accredited.id).await?;
    assert_eq!(category.registered_users, [alice.id, bob.id]);
    assert_eq!(category.assets, std::slice::from_ref(&uuid));
    assert_eq!(assets.get(&uuid).await?.requirements, [accredited.id]);
    assert_eq!(users.get(alice.id).await?.categories, [accredited.id]);

    // 4. Assignments: Alice and Bob ready, Corp not yet.
    let assignments = client.assignments(&uuid);
    for (user, amount, ready) in [
        (alice.id, 30_000, true),
        (bob.id, 20_000, true),
        (corp.id, 10_000, false),
    ] {
        let new = NewAssignment::new(user, amount).ready_for_distribution(ready);
        let made = assignments.create(&new).await?;
        assert_eq!((made.len(), made[0].amount), (1, amount));
    }
    assert_eq!(assets.summary(&uuid).await?.assigned, 60_000);

    // 5. A distribution of what is ready: one address per GAID, in coins.
    let distributions = client.distributions(&uuid);
    let plan = distributions.create().await?;
    assert_eq!(plan.asset_uuid.as_deref(), Some(uuid.as_str()));
    let alice_address = client
        .gaids()
        .address(ALICE)
        .await?
        .address
        .ok_or("no address")?;
    let bob_address = client
        .gaids()
        .address(BOB)
        .await?
        .address
        .ok_or("no address")?;
    let coins = |address: &str| {
        plan.map_address_amount
            .get(address)
            .and_then(|n| n.as_f64())
    };
    assert_eq!(plan.map_address_amount.len(), 2);
    assert_eq!(
        (coins(&alice_address), coins(&bob_address)),
        (Some(0.0003), Some(0.0002))
    );
    assert!(plan.map_address_asset.values().all(|a| *a == asset_id));
    let pending = distributions.get(&plan.distribution_uuid).await?;
    assert_eq!(pending.distribution_status.as_deref(), Some("UNCONFIRMED"));

    // 6. The treasury sent it (the sandbox's node, as the official script
    //    drives it; AMP checks the chain): confirm.
    let body = sb.wallet_distribute(&serde_json::to_value(&plan)?)?;
    let confirmation: TxConfirmation = serde_json::from_value(body)?;
    let txid = confirmation.tx_data.txid.clone();
    distributions
        .confirm(&plan.distribution_uuid, &confirmation)
        .await?;
    let done = distributions.get(&plan.distribution_uuid).await?;
    assert_eq!(done.distribution_status.as_deref(), Some("CONFIRMED"));
    assert_eq!(done.transactions[0].txid.as_deref(), Some(txid.as_str()));
    assert_eq!(distributions.list().await?, [done]);
    let after = assignments.list().await?;
    let distributed: Vec<(Option<i64>, bool)> = after
        .iter()
        .map(|a| (a.registered_user, a.is_distributed))
        .collect();
    assert_eq!(
        distributed,
        [
            (Some(alice.id), true),
            (Some(bob.id), true),
            (Some(corp.id), false)
        ]
    );
    assert!(assets
        .txs(&uuid, None)
        .await?
        .iter()
        .any(|t| t.txid == txid && t.is_distribution));

    // 7. The balance: who holds what, from every side.
    let balance = assets.balance(&uuid).await?;
    assert!(balance.lost_outputs.is_empty());
    let mut held: Vec<(Option<String>, i64)> = balance
        .confirmed_balance
        .iter()
        .map(|b| (b.gaid.clone(), b.amount))
        .filter(|(gaid, _)| gaid.is_some())
        .collect();
    held.sort();
    // Sorted by GAID: Bob's ("GA3B…") comes before Alice's ("GA3a…").
    assert_eq!(
        held,
        [(Some(BOB.into()), 20_000), (Some(ALICE.into()), 30_000)]
    );
    let summary = assets.summary(&uuid).await?;
    assert_eq!(
        (summary.issued, summary.assigned, summary.distributed),
        (1_000_000, 60_000, 50_000)
    );
    assert_eq!(summary.active_registered_users, 2);
    assert_eq!(
        client.gaids().asset_balance(ALICE, &uuid).await?.balance,
        30_000
    );
    let bobs = client.gaids().balance(BOB).await?;
    assert_eq!(bobs.iter().map(|b| b.balance).sum::<i64>(), 20_000);
    let alices = users.summary(alice.id).await?;
    let mine = alices
        .iter()
        .find(|s| s.asset_uuid.as_deref() == Some(uuid.as_str()))
        .ok_or("no summary for the bond")?;
    assert_eq!(
        (mine.assignments_sum, mine.distributions_sum, mine.balance),
        (30_000, 30_000, 30_000)
    );

    assert_eq!(sb.count("POST", "/user/obtain_token"), 1);
    Ok(())
}
