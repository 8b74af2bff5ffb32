//! `client.assets()` against the `amp-sandbox` server: every method once
//! with its method and route checked from the server's records, its effect
//! seen through the other calls, and an error it can meet (404 for an
//! unknown asset, 400 for a broken business rule).

use crate::common::resources as support;

use amp_client::model::{
    IssueRequest, Outpoint, ReissuanceOutput, ReissueConfirm, TxConfirmation, TxsQuery,
    UpdateBlinders,
};
use amp_client::{AmpClient, StatusCode};
use serde_json::json;
use support::*;

/// A new asset's request: 1,000,000 units, reissuable or not.
fn new_asset(ticker: &str, reissuable: bool) -> IssueRequest {
    IssueRequest {
        name: format!("Test {ticker}"),
        amount: 1_000_000,
        destination_address: format!("vjTreasury{ticker}"),
        domain: "test.example".into(),
        ticker: ticker.into(),
        pubkey: "02b4ab".into(),
        precision: Some(0),
        is_reissuable: Some(reissuable),
        ..IssueRequest::default()
    }
}

/// Issues `ticker` and answers its uuid.
async fn issue(client: &AmpClient, ticker: &str, reissuable: bool) -> Boxed<String> {
    Ok(client
        .assets()
        .issue(&new_asset(ticker, reissuable))
        .await?
        .asset_uuid)
}

/// The status of a call that should have failed.
fn status<T: std::fmt::Debug>(result: amp_client::Result<T>) -> Boxed<StatusCode> {
    let err = result.err().ok_or("the call succeeded")?;
    Ok(err.status().ok_or_else(|| format!("no status: {err}"))?)
}

/// A transaction id the sandbox has not seen.
fn txid(label: u8) -> String {
    format!("{label:02x}").repeat(32)
}

#[tokio::test]
async fn issue_edit_register_lock_and_delete_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let assets = client.assets();

    let issued = assets.issue(&new_asset("TIS", true)).await?;
    check_status(&sb, "POST", "/assets/issue", "/api/assets/issue", 201)?;
    let uuid = issued.asset_uuid.clone();
    let base = format!("/api/assets/{uuid}");
    assert!(issued.reissuance_token_id.is_some() && issued.txid.is_some());
    assert_eq!((issued.amount, issued.is_reissuable), (1_000_000, true));
    let asset = assets.get(&uuid).await?;
    assert_eq!(
        (asset.name.as_str(), asset.ticker.as_deref()),
        ("Test TIS", Some("TIS"))
    );
    assert_eq!(assets.summary(&uuid).await?.issued, 1_000_000);
    // Business rule: a reissuable asset needs a reissuance token.
    let no_token = IssueRequest {
        reissuance_amount: Some(0),
        ..new_asset("TNT", true)
    };
    let err = assets.issue(&no_token).await.err().ok_or("issued")?;
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert!(err.to_string().contains("reissuance token"), "{err}");

    let edited = assets.edit(&uuid, "https://issuer.test/authorize").await?;
    check(
        &sb,
        "PUT",
        "/assets/{assetUuid}/edit",
        &format!("{base}/edit"),
    )?;
    assert_eq!(
        edited.issuer_authorization_endpoint.as_deref(),
        Some("https://issuer.test/authorize")
    );
    let bad_url = assets.edit(&uuid, "ftp://issuer.test").await;
    assert_eq!(status(bad_url)?, StatusCode::BAD_REQUEST);

    let registered = assets.register(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/register",
        &format!("{base}/register"),
    )?;
    assert!(
        registered.typed().is_some_and(|a| a.is_registered),
        "{registered:?}"
    );
    let again = assets
        .register(&uuid)
        .await
        .err()
        .ok_or("registered twice")?;
    assert_eq!(again.status(), Some(StatusCode::BAD_REQUEST));
    assert!(again.to_string().contains("already registered"), "{again}");
    let authorized = assets.register_authorized(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/register-authorized",
        &format!("{base}/register-authorized"),
    )?;
    assert!(authorized.typed().is_some_and(|a| a.is_authorized));
    assert!(assets.get(&uuid).await?.is_authorized);

    // A locked asset refuses changes, deletion included.
    assets.lock(&uuid).await?;
    let locked = assets.delete(&uuid).await;
    assert_eq!(status(locked)?, StatusCode::BAD_REQUEST);
    assets.unlock(&uuid).await?;
    assets.delete(&uuid).await?;
    check_status(
        &sb,
        "DELETE",
        "/assets/{assetUuid}/delete",
        &format!("{base}/delete"),
        204,
    )?;
    assert_eq!(status(assets.get(&uuid).await)?, StatusCode::NOT_FOUND);
    assert!(!assets.list().await?.iter().any(|a| a.asset_uuid == uuid));
    Ok(())
}

#[tokio::test]
async fn utxos_and_treasury_addresses_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let assets = client.assets();
    let uuid = issue(&client, "TUT", false).await?;
    let base = format!("/api/assets/{uuid}");

    let utxos = assets.utxos(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/utxos",
        &format!("{base}/utxos"),
    )?;
    let treasury = utxos.first().ok_or("no output")?;
    assert_eq!((treasury.amount, treasury.blacklisted), (1_000_000, false));
    let outpoint = Outpoint::new(treasury.txid.clone(), treasury.vout);

    let black = assets
        .blacklist_utxos(&uuid, std::slice::from_ref(&outpoint))
        .await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/utxos/blacklist",
        &format!("{base}/utxos/blacklist"),
    )?;
    assert!(black.typed().is_some(), "{black:?}");
    assert!(assets.utxos(&uuid).await?[0].blacklisted);
    assert_eq!(assets.summary(&uuid).await?.blacklisted, 1_000_000);
    assets.whitelist_utxos(&uuid, &[outpoint]).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/utxos/whitelist",
        &format!("{base}/utxos/whitelist"),
    )?;
    assert!(!assets.utxos(&uuid).await?[0].blacklisted);
    let unknown = assets
        .blacklist_utxos(&uuid, &[Outpoint::new(txid(1), 9)])
        .await;
    assert_eq!(status(unknown)?, StatusCode::BAD_REQUEST);

    let before = assets.treasury_addresses(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/treasury-addresses",
        &format!("{base}/treasury-addresses"),
    )?;
    let new = vec!["vjTreasurySecond".to_string()];
    assets.add_treasury_addresses(&uuid, &new).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/treasury-addresses/add",
        &format!("{base}/treasury-addresses/add"),
    )?;
    let after = assets.treasury_addresses(&uuid).await?;
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.contains(&new[0]));
    assets.delete_treasury_addresses(&uuid, &new).await?;
    check(
        &sb,
        "DELETE",
        "/assets/{assetUuid}/treasury-addresses/delete",
        &format!("{base}/treasury-addresses/delete"),
    )?;
    assert_eq!(assets.treasury_addresses(&uuid).await?, before);
    let blank = assets.add_treasury_addresses(&uuid, &[" ".into()]).await;
    assert_eq!(status(blank)?, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn txs_and_blinders_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let assets = client.assets();
    let uuid = issue(&client, "TTX", false).await?;
    let base = format!("/api/assets/{uuid}");

    let txs = assets.txs(&uuid, None).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/txs",
        &format!("{base}/txs"),
    )?;
    let issuance = txs.iter().find(|t| t.is_issuance).ok_or("no issuance")?;
    let output = issuance.outputs.first().ok_or("no output")?;
    assert!(
        output.is_treasury && output.amount == 1_000_000,
        "{output:?}"
    );
    let one = TxsQuery {
        count: Some(1),
        ..TxsQuery::default()
    };
    assert_eq!(assets.txs(&uuid, Some(&one)).await?.len(), 1);
    let bad_sort = TxsQuery {
        sortcolumn: Some("no such column".into()),
        ..TxsQuery::default()
    };
    assert_eq!(
        status(assets.txs(&uuid, Some(&bad_sort)).await)?,
        StatusCode::BAD_REQUEST
    );

    let tx = assets.tx(&uuid, &issuance.txid).await?;
    let txid_path = format!("{base}/txs/{}", issuance.txid);
    check(&sb, "GET", "/assets/{assetUuid}/txs/{txid}", &txid_path)?;
    assert_eq!(&tx, issuance);
    assert_eq!(
        status(assets.tx(&uuid, &txid(2)).await)?,
        StatusCode::NOT_FOUND
    );

    // The blinders must be the chain's (the node's `gettransaction` details).
    let vout = output.vout.ok_or("no vout")?;
    let (asset_blinder, amount_blinder) = sb
        .output_blinders(&issuance.txid, vout)
        .ok_or("no such output on the chain")?;
    let blinders = UpdateBlinders {
        txid: issuance.txid.clone(),
        vout,
        asset_blinder: asset_blinder.clone(),
        amount_blinder,
    };
    assets.update_blinders(&uuid, &blinders).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/update-blinders",
        &format!("{base}/update-blinders"),
    )?;
    let mended = assets.tx(&uuid, &issuance.txid).await?;
    let blinder = mended.outputs[0].asset_blinder.clone();
    assert_eq!(blinder.as_deref(), Some(asset_blinder.as_str()));
    let short = UpdateBlinders {
        amount_blinder: "cd".into(),
        ..blinders
    };
    assert_eq!(
        status(assets.update_blinders(&uuid, &short).await)?,
        StatusCode::BAD_REQUEST
    );
    Ok(())
}

#[tokio::test]
async fn reissuance_and_burn_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let assets = client.assets();
    let uuid = issue(&client, "TRB", true).await?;
    let base = format!("/api/assets/{uuid}");
    // Confirming what was never requested breaks the order of the steps.
    let confirm = ReissueConfirm {
        details: json!([]),
        listissuances: vec![],
        reissuance_output: ReissuanceOutput {
            txid: txid(3),
            vin: 0,
        },
    };
    assert_eq!(
        status(assets.reissue_confirm(&uuid, &confirm).await)?,
        StatusCode::BAD_REQUEST
    );

    let plan = assets.reissue_request(&uuid, 500_000).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/reissue-request",
        &format!("{base}/reissue-request"),
    )?;
    assert_eq!(plan.asset_uuid.as_deref(), Some(uuid.as_str()));
    assert!(!plan.reissuance_utxos.is_empty());
    // In whole coins, for the node: 500,000 units are 0.005.
    assert_eq!(plan.amount.as_ref().and_then(|n| n.as_f64()), Some(0.005));
    // The sandbox's node reissues, as the official script drives it.
    let body = sb.wallet_reissue(&serde_json::to_value(&plan)?)?;
    let confirm: ReissueConfirm = serde_json::from_value(body)?;
    let done = assets.reissue_confirm(&uuid, &confirm).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/reissue-confirm",
        &format!("{base}/reissue-confirm"),
    )?;
    assert_eq!(done.typed().map(|r| r.reissuance_amount), Some(500_000));
    let reissuances = assets.reissuances(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/reissuances",
        &format!("{base}/reissuances"),
    )?;
    assert_eq!(reissuances.len(), 1);
    assert_eq!(
        (
            reissuances[0].txid.as_str(),
            reissuances[0].reissuance_amount
        ),
        (confirm.reissuance_output.txid.as_str(), 500_000)
    );
    assert_eq!(assets.summary(&uuid).await?.reissued, 500_000);
    // Business rule: an asset issued without reissuance tokens cannot reissue.
    let fixed = issue(&client, "TFX", false).await?;
    assert_eq!(
        status(assets.reissue_request(&fixed, 1).await)?,
        StatusCode::BAD_REQUEST
    );

    let burn = assets.burn_request(&uuid, 100_000).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/burn-request",
        &format!("{base}/burn-request"),
    )?;
    assert!(!burn.utxos.is_empty());
    assert_eq!(burn.amount.as_ref().and_then(|n| n.as_f64()), Some(0.001));
    let body = sb.wallet_burn(&serde_json::to_value(&burn)?)?;
    let burnt: TxConfirmation = serde_json::from_value(body)?;
    assets.burn_confirm(&uuid, &burnt).await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/burn-confirm",
        &format!("{base}/burn-confirm"),
    )?;
    assert_eq!(assets.summary(&uuid).await?.burned, 100_000);
    let twice = assets
        .burn_confirm(&uuid, &TxConfirmation::new(txid(5)))
        .await;
    assert_eq!(status(twice)?, StatusCode::BAD_REQUEST);
    let too_much = assets.burn_request(&uuid, 10_000_000).await;
    assert_eq!(status(too_much)?, StatusCode::BAD_REQUEST);
    Ok(())
}

/// Every call under `assets/{uuid}` answers 404 for an asset that does not
/// exist, the handlers of its assignments and distributions included.
#[tokio::test]
async fn every_asset_call_on_an_unknown_asset_is_a_404() -> TestResult {
    let (sb, client) = sandbox().await?;
    let missing = "00000000-0000-4000-8000-000000000000";
    let a = client.assets();
    let o = [Outpoint::new(txid(6), 0)];
    let addresses = ["vjTreasuryNone".to_string()];
    let blinders = UpdateBlinders {
        txid: txid(6),
        vout: 0,
        asset_blinder: "ab".repeat(32),
        amount_blinder: "cd".repeat(32),
    };
    let confirm = ReissueConfirm {
        details: json!([]),
        listissuances: vec![],
        reissuance_output: ReissuanceOutput {
            txid: txid(6),
            vin: 0,
        },
    };
    let tx_confirmation = TxConfirmation::new(txid(6));
    let assignments = client.assignments(missing);
    let distributions = client.distributions(missing);
    let new = amp_client::model::NewAssignment::new(1, 1);
    let statuses = [
        status(a.get(missing).await)?,
        status(a.edit(missing, "https://x.test").await)?,
        status(a.delete(missing).await)?,
        status(a.register(missing).await)?,
        status(a.register_authorized(missing).await)?,
        status(a.lock(missing).await)?,
        status(a.unlock(missing).await)?,
        status(a.memo(missing).await)?,
        status(a.set_memo(missing, "m").await)?,
        status(a.summary(missing).await)?,
        status(a.ownerships(missing).await)?,
        status(a.balance(missing).await)?,
        status(a.lost_outputs(missing).await)?,
        status(a.activities(missing, None).await)?,
        status(a.utxos(missing).await)?,
        status(a.blacklist_utxos(missing, &o).await)?,
        status(a.whitelist_utxos(missing, &o).await)?,
        status(a.treasury_addresses(missing).await)?,
        status(a.add_treasury_addresses(missing, &addresses).await)?,
        status(a.delete_treasury_addresses(missing, &addresses).await)?,
        status(a.txs(missing, None).await)?,
        status(a.tx(missing, &txid(6)).await)?,
        status(a.update_blinders(missing, &blinders).await)?,
        status(a.reissue_request(missing, 1).await)?,
        status(a.reissue_confirm(missing, &confirm).await)?,
        status(a.burn_request(missing, 1).await)?,
        status(a.burn_confirm(missing, &tx_confirmation).await)?,
        status(a.reissuances(missing).await)?,
        status(assignments.list().await)?,
        status(assignments.create(&new).await)?,
        status(assignments.get(1).await)?,
        status(assignments.lock(1).await)?,
        status(assignments.unlock(1).await)?,
        status(assignments.delete(1).await)?,
        status(distributions.list().await)?,
        status(distributions.get("d").await)?,
        status(distributions.create().await)?,
        status(distributions.confirm("d", &tx_confirmation).await)?,
        status(distributions.cancel("d").await)?,
    ];
    assert_eq!(statuses, [StatusCode::NOT_FOUND; 39]);
    // Each reached the server (none was refused by the client).
    let seen = sb
        .stats()
        .requests
        .iter()
        .filter(|r| r.path.contains(missing))
        .count();
    assert_eq!(seen, 39);
    Ok(())
}

#[tokio::test]
async fn the_sample_bond_reads_consistently_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let bond = find_asset(&client, "SBND").await?;
    let summary = client.assets().summary(&bond).await?;
    let ownerships = client.assets().ownerships(&bond).await?;
    // As of the issuance's block, no registered user held any; as of the
    // last block, the holders are today's.
    let txs = client.assets().txs(&bond, None).await?;
    let height_of = |issuance: bool| {
        txs.iter()
            .filter(|t| t.is_issuance == issuance)
            .filter_map(|t| t.blockheight)
            .max()
            .ok_or("no such transaction")
    };
    let height = u64::try_from(height_of(true)?)?;
    let then = client.assets().ownerships_at(&bond, height).await?;
    let path = format!("/api/assets/{bond}/ownerships/{height}");
    check(&sb, "GET", "/assets/{assetUuid}/ownerships/{height}", &path)?;
    assert_eq!(then, []);
    let latest = u64::try_from(height_of(false)?)?;
    assert_eq!(
        client.assets().ownerships_at(&bond, latest).await?,
        ownerships
    );
    let unknown = client.assets().ownerships_at("no-such-asset", height).await;
    assert_eq!(status(unknown)?, StatusCode::NOT_FOUND);
    let held: i64 = ownerships
        .iter()
        .filter(|o| o.owner.is_some())
        .map(|o| o.amount)
        .sum();
    assert_eq!(held, summary.distributed);
    let gaid = ownerships
        .iter()
        .find_map(|o| o.owner.as_ref().and(o.gaid.clone()))
        .ok_or("no holder")?;
    let one = client.gaids().asset_balance(&gaid, &bond).await?;
    check(
        &sb,
        "GET",
        "/gaids/{gaid}/balance/{assetUuid}",
        &format!("/api/gaids/{gaid}/balance/{bond}"),
    )?;
    assert_eq!(one.asset_uuid.as_deref(), Some(bond.as_str()));
    assert_eq!(one.balance, held);
    let unknown = client.gaids().asset_balance(&gaid, "no-such-asset").await;
    assert_eq!(status(unknown)?, StatusCode::NOT_FOUND);
    Ok(())
}

/// The uuid of the sample asset with this ticker.
async fn find_asset(client: &AmpClient, ticker: &str) -> Boxed<String> {
    Ok(client
        .assets()
        .list()
        .await?
        .into_iter()
        .find(|a| a.ticker.as_deref() == Some(ticker))
        .ok_or_else(|| format!("no sample asset {ticker}"))?
        .asset_uuid)
}
