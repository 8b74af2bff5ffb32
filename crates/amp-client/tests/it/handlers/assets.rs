//! `client.assets()` against wiremock: for every method, the exact method,
//! path, query and body it sends, and the decoding of a realistic answer
//! (amp-api.md §3.1; the shapes amp-api.md leaves open are amp-rs's).

use crate::common::resources as support;

use amp_client::model::{
    ActivitiesQuery, IssueRequest, Lenient, Memo, Outpoint, ReissuanceOutput, ReissueConfirm,
    TxConfirmation, TxsQuery, UpdateBlinders,
};
use amp_client::{Error, StatusCode};
use serde_json::{json, Value};
use support::*;

fn asset_json() -> Value {
    json!({
        "name": "Example Bond", "asset_uuid": UUID, "issuer": 3,
        "asset_id": "5ac9f65c0efcc4775e0baec4ec03abdde22473cd3cf33c0419ca290e0751b225",
        "reissuance_token_id": null, "requirements": [2], "ticker": "EXB", "precision": 2,
        "domain": "example.com", "pubkey": "02b4ab", "is_registered": false,
        "is_authorized": false, "is_locked": false,
        "issuer_authorization_endpoint": "https://issuer.example/authorize",
        "transfer_restricted": true, "added_in_a_later_version": {"x": 1},
    })
}

fn issue_request() -> IssueRequest {
    IssueRequest {
        name: "Example Bond".into(),
        amount: 1_000_000,
        destination_address: "vjTvpDMkYB6DQmHJbAzy8Q1Rk1xQsuH3FTUQ".into(),
        domain: "example.com".into(),
        ticker: "EXB".into(),
        pubkey: "02b4ab".into(),
        precision: Some(2),
        is_confidential: Some(true),
        is_reissuable: Some(true),
        reissuance_amount: Some(1),
        reissuance_address: Some("vjU2i2EMreissuance".into()),
        transfer_restricted: Some(true),
    }
}

#[tokio::test]
async fn list_get_issue_edit_and_delete_send_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/assets/{UUID}");
    answer(&server, "GET", "/api/assets/", 200, json!([asset_json()])).await;
    answer(&server, "GET", &base, 200, asset_json()).await;
    let issued = json!({
        "name": "Example Bond", "amount": 1_000_000, "destination_address": "vjTv",
        "domain": "example.com", "ticker": "EXB", "pubkey": "02b4ab", "is_confidential": true,
        "is_reissuable": true, "reissuance_amount": 1, "reissuance_address": "vjU2",
        "asset_id": "5ac9", "reissuance_token_id": "7f1e", "asset_uuid": UUID,
        "txid": "c1d2", "vin": 0, "asset_vout": 0, "reissuance_vout": 1,
        "issuer_authorization_endpoint": null, "transfer_restricted": true,
        "issuance_assetblinder": "aa", "issuance_tokenblinder": null,
    });
    answer(&server, "POST", "/api/assets/issue", 201, issued).await;
    answer(&server, "PUT", &format!("{base}/edit"), 200, asset_json()).await;
    answer(
        &server,
        "DELETE",
        &format!("{base}/delete"),
        204,
        Value::Null,
    )
    .await;
    let assets = client.assets();

    let list = assets.list().await?;
    assert_eq!(sent(&server).await?, req("GET", "/api/assets/"));
    assert_eq!(list[0].requirements, [2]);
    assert_eq!(list[0].precision, Some(2));

    let one = assets.get(UUID).await?;
    assert_eq!(sent(&server).await?, req("GET", &base));
    assert_eq!(one, list[0]);

    let answer = assets.issue(&issue_request()).await?;
    let body = json!({
        "name": "Example Bond", "amount": 1_000_000,
        "destination_address": "vjTvpDMkYB6DQmHJbAzy8Q1Rk1xQsuH3FTUQ", "domain": "example.com",
        "ticker": "EXB", "pubkey": "02b4ab", "precision": 2, "is_confidential": true,
        "is_reissuable": true, "reissuance_amount": 1, "reissuance_address": "vjU2i2EMreissuance",
        "transfer_restricted": true,
    });
    assert_eq!(
        sent(&server).await?,
        req("POST", "/api/assets/issue").body(body)
    );
    assert_eq!(answer.asset_uuid, UUID);
    assert_eq!(
        (answer.txid.as_deref(), answer.vin, answer.reissuance_vout),
        (Some("c1d2"), Some(0), Some(1))
    );
    assert_eq!(
        (answer.amount, answer.issuance_tokenblinder),
        (1_000_000, None)
    );

    // The optional fields are left out, not sent as null.
    let minimal = IssueRequest {
        precision: None,
        is_confidential: None,
        is_reissuable: None,
        reissuance_amount: None,
        reissuance_address: None,
        transfer_restricted: None,
        ..issue_request()
    };
    assets.issue(&minimal).await?;
    let body = sent(&server).await?.body.ok_or("no body")?;
    let mut keys: Vec<&str> = body
        .as_object()
        .ok_or("not an object")?
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(
        keys,
        [
            "amount",
            "destination_address",
            "domain",
            "name",
            "pubkey",
            "ticker"
        ]
    );

    let edited = assets
        .edit(UUID, "https://issuer.example/authorize")
        .await?;
    let body = json!({"issuer_authorization_endpoint": "https://issuer.example/authorize"});
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/edit")).body(body)
    );
    assert_eq!(
        edited.issuer_authorization_endpoint.as_deref(),
        Some("https://issuer.example/authorize")
    );

    assets.delete(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("DELETE", &format!("{base}/delete"))
    );
    Ok(())
}

#[tokio::test]
async fn a_bad_issue_request_is_refused_before_sending_naming_the_field() -> TestResult {
    let (server, client) = mock().await?;
    let cases = [
        (
            IssueRequest {
                ticker: " ".into(),
                ..issue_request()
            },
            "ticker",
        ),
        (
            IssueRequest {
                amount: 0,
                ..issue_request()
            },
            "amount",
        ),
        (
            IssueRequest {
                precision: Some(9),
                ..issue_request()
            },
            "precision",
        ),
        (IssueRequest::default(), "name"),
    ];
    for (request, field) in cases {
        let err = client.assets().issue(&request).await.err().ok_or(field)?;
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains(field), "{field}: {err}");
    }
    let err = client.assets().reissue_request(UUID, 0).await.err();
    assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    let err = client.assets().burn_request(UUID, -5).await.err();
    assert!(err.is_some_and(|e| e.to_string().contains("amount")));
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
    Ok(())
}

#[tokio::test]
async fn register_lock_memo_and_reads_send_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/assets/{UUID}");
    let registered = json!({"name": "Example Bond", "asset_uuid": UUID, "is_registered": true});
    answer(&server, "GET", &format!("{base}/register"), 200, registered).await;
    answer(
        &server,
        "GET",
        &format!("{base}/register-authorized"),
        200,
        json!({"name": "Example Bond", "asset_uuid": UUID, "is_authorized": true}),
    )
    .await;
    let mut locked = asset_json();
    locked["is_locked"] = json!(true);
    answer(&server, "PUT", &format!("{base}/lock"), 200, locked).await;
    answer(&server, "PUT", &format!("{base}/unlock"), 200, asset_json()).await;
    answer(
        &server,
        "GET",
        &format!("{base}/memo"),
        200,
        json!("Series A"),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/memo/set"),
        200,
        Value::Null,
    )
    .await;
    let summary = json!({
        "asset_id": "5ac9", "reissuance_token_id": null, "issued": 1_000_000, "reissued": 0,
        "assigned": 300, "distributed": 200, "burned": 0, "blacklisted": 0,
        "registered_users": 2, "active_registered_users": 1, "active_green_subaccounts": 1,
        "reissuance_tokens": 0,
    });
    answer(&server, "GET", &format!("{base}/summary"), 200, summary).await;
    answer(
        &server,
        "GET",
        &format!("{base}/ownerships"),
        200,
        json!([{"owner": "Alice", "amount": 200, "GAID": GAID}, {"owner": null, "amount": 999_800, "GAID": null}]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/ownerships/12"),
        200,
        json!([{"owner": null, "amount": 1_000_000, "GAID": null}]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/balance"),
        200,
        json!({"confirmed_balance": [{"owner": "Alice", "amount": 200, "GAID": GAID}],
               "lost_outputs": [], "reissuance_lost_outputs": []}),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/lost-outputs"),
        200,
        json!({"lost_outputs": [{"txid": "ab", "vout": 2}], "reissuance_lost_outputs": []}),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/activities"),
        200,
        json!([{"type": "issuance", "datetime": "2024-03-01T10:00:00Z", "description": "Issued",
                "txid": "c1d2", "vout": 0, "blockheight": 12, "asset_blinder": "aa",
                "amount_blinder": "bb", "registered user": null, "amount": 1_000_000}]),
    )
    .await;
    let assets = client.assets();

    let r = assets.register(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/register"))
    );
    assert!(r.typed().is_some_and(|a| a.is_registered));
    let r = assets.register_authorized(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/register-authorized"))
    );
    assert!(r.typed().is_some_and(|a| a.is_authorized));

    let l = assets.lock(UUID).await?;
    assert_eq!(sent(&server).await?, req("PUT", &format!("{base}/lock")));
    assert!(l.typed().is_some_and(|a| a.is_locked));
    let u = assets.unlock(UUID).await?;
    assert_eq!(sent(&server).await?, req("PUT", &format!("{base}/unlock")));
    assert!(u.typed().is_some_and(|a| !a.is_locked));

    assert_eq!(assets.memo(UUID).await?, Memo("Series A".into()));
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/memo")));
    let set = assets.set_memo(UUID, "Series B").await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/memo/set")).body(json!("Series B"))
    );
    // An empty answer reads as the empty memo (a memo never set is `null`).
    assert_eq!(set, Lenient::Typed(Memo::default()));

    let s = assets.summary(UUID).await?;
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/summary")));
    assert_eq!((s.issued, s.assigned, s.distributed), (1_000_000, 300, 200));
    let o = assets.ownerships(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/ownerships"))
    );
    assert_eq!((o[1].owner.as_deref(), o[1].amount), (None, 999_800));
    let then = assets.ownerships_at(UUID, 12).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/ownerships/12"))
    );
    assert_eq!(then[0].amount, 1_000_000);
    let b = assets.balance(UUID).await?;
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/balance")));
    assert_eq!(b.confirmed_balance[0].gaid.as_deref(), Some(GAID));
    let lost = assets.lost_outputs(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/lost-outputs"))
    );
    assert_eq!(lost.lost_outputs, [Outpoint::new("ab", 2)]);

    let query = ActivitiesQuery {
        start: Some(0),
        count: Some(10),
        sortorder: Some("desc".into()),
        ..ActivitiesQuery::default()
    };
    let a = assets.activities(UUID, Some(&query)).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/activities")).query("start=0&count=10&sortorder=desc")
    );
    assert_eq!(
        (a[0].kind.as_str(), a[0].blockheight),
        ("issuance", Some(12))
    );
    Ok(())
}

#[tokio::test]
async fn register_of_a_registered_asset_is_the_400_amp_sends() -> TestResult {
    let (server, client) = mock().await?;
    answer(
        &server,
        "GET",
        &format!("/api/assets/{UUID}/register"),
        400,
        json!({"Error": "The asset is already registered."}),
    )
    .await;
    let err = client.assets().register(UUID).await.err().ok_or("ok")?;
    assert_eq!(err.status(), Some(StatusCode::BAD_REQUEST));
    assert!(err.to_string().contains("already registered"), "{err}");
    Ok(())
}

#[tokio::test]
async fn utxos_and_treasury_addresses_send_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/assets/{UUID}");
    let utxo = json!({"txid": "c1d2", "vout": 1, "asset": "5ac9", "amount": 500,
                      "registered_user": null, "gaid": null, "blacklisted": false});
    let mut blacklisted = utxo.clone();
    blacklisted["blacklisted"] = json!(true);
    answer(&server, "GET", &format!("{base}/utxos"), 200, json!([utxo])).await;
    answer(
        &server,
        "POST",
        &format!("{base}/utxos/blacklist"),
        200,
        json!([blacklisted]),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/utxos/whitelist"),
        200,
        json!({"detail": "ok"}),
    )
    .await;
    let addresses = json!(["vjU2first", "vjU2second"]);
    answer(
        &server,
        "GET",
        &format!("{base}/treasury-addresses"),
        200,
        addresses,
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/treasury-addresses/add"),
        200,
        Value::Null,
    )
    .await;
    answer(
        &server,
        "DELETE",
        &format!("{base}/treasury-addresses/delete"),
        200,
        json!({}),
    )
    .await;
    let assets = client.assets();
    let outpoints = [Outpoint::new("c1d2", 1)];

    let u = assets.utxos(UUID).await?;
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/utxos")));
    assert_eq!((u[0].amount, u[0].blacklisted), (500, false));
    let b = assets.blacklist_utxos(UUID, &outpoints).await?;
    let body = json!([{"txid": "c1d2", "vout": 1}]);
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/utxos/blacklist")).body(body.clone())
    );
    assert!(b.typed().is_some_and(|list| list[0].blacklisted));
    let w = assets.whitelist_utxos(UUID, &outpoints).await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/utxos/whitelist")).body(body)
    );
    assert_eq!(w.raw(), Some(&json!({"detail": "ok"})));

    let list = assets.treasury_addresses(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/treasury-addresses"))
    );
    assert_eq!(list, ["vjU2first", "vjU2second"]);
    let new = vec!["vjU2third".to_string()];
    assets.add_treasury_addresses(UUID, &new).await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/treasury-addresses/add")).body(json!(["vjU2third"]))
    );
    assets.delete_treasury_addresses(UUID, &new).await?;
    assert_eq!(
        sent(&server).await?,
        req("DELETE", &format!("{base}/treasury-addresses/delete")).body(json!(["vjU2third"]))
    );
    Ok(())
}

fn tx_json() -> Value {
    json!({
        "txid": "c1d2", "datetime": "2024-03-01T10:00:00Z", "blockheight": 12,
        "is_issuance": true, "is_reissuance": false, "is_distribution": false,
        "inputs": [],
        "outputs": [{"asset_id": "5ac9", "vout": 0, "amount": 1_000_000, "asset_blinder": "",
                     "amount_blinder": "", "registered_user": null, "GAID": null,
                     "is_treasury": true, "is_spent": false, "is_burnt": false}],
        "unblinded_url": "https://blockstream.info/liquid/tx/c1d2#blinded=…",
    })
}

#[tokio::test]
async fn txs_blinders_reissuance_and_burn_send_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/assets/{UUID}");
    answer(
        &server,
        "GET",
        &format!("{base}/txs"),
        200,
        json!([tx_json()]),
    )
    .await;
    answer(&server, "GET", &format!("{base}/txs/c1d2"), 200, tx_json()).await;
    answer(
        &server,
        "POST",
        &format!("{base}/update-blinders"),
        200,
        Value::Null,
    )
    .await;
    let reissue_plan = json!({
        "command": "reissue", "min_supported_client_script_version": 2,
        "base_url": "https://amp-test.blockstream.com/api/{}", "asset_uuid": UUID,
        "asset_id": "5ac9", "amount": 0.005, "reissuance_utxos": [{"txid": "7f1e", "vout": 1}],
    });
    answer(
        &server,
        "POST",
        &format!("{base}/reissue-request"),
        200,
        reissue_plan.clone(),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/reissue-confirm"),
        200,
        json!({"txid": "e5f6", "vin": 0, "reissuance_amount": 500_000}),
    )
    .await;
    let burn_plan = json!({
        "command": "destroyamount", "min_supported_client_script_version": 1,
        "base_url": "https://amp-test.blockstream.com/api/{}", "asset_uuid": UUID,
        "asset_id": "5ac9", "amount": 10.0, "utxos": [{"txid": "c1d2", "vout": 0}],
    });
    answer(
        &server,
        "POST",
        &format!("{base}/burn-request"),
        200,
        burn_plan.clone(),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/burn-confirm"),
        200,
        Value::Null,
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/reissuances"),
        200,
        json!([{"txid": "e5f6", "vout": 0, "destination_address": "vjU2", "reissuance_amount": 500_000,
                "confirmed_in_block": "0f3a", "created": "2024-04-01T09:00:00Z"}]),
    )
    .await;
    let assets = client.assets();

    let txs = assets.txs(UUID, None).await?;
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/txs")));
    assert!(txs[0].is_issuance && txs[0].outputs[0].is_treasury);
    let query = TxsQuery {
        height_start: Some(10),
        height_stop: Some(20),
        ..TxsQuery::default()
    };
    assets.txs(UUID, Some(&query)).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/txs")).query("height_start=10&height_stop=20")
    );
    let tx = assets.tx(UUID, "c1d2").await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/txs/c1d2"))
    );
    assert_eq!(tx.outputs[0].amount, 1_000_000);

    let blinders = UpdateBlinders {
        txid: "c1d2".into(),
        vout: 0,
        asset_blinder: "3f".into(),
        amount_blinder: "9c".into(),
    };
    assets.update_blinders(UUID, &blinders).await?;
    let body = json!({"txid": "c1d2", "vout": 0, "asset_blinder": "3f", "amount_blinder": "9c"});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/update-blinders")).body(body)
    );

    let plan = assets.reissue_request(UUID, 500_000).await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/reissue-request")).body(json!({"amount_to_reissue": 500_000}))
    );
    assert_eq!(plan.reissuance_utxos, [Outpoint::new("7f1e", 1)]);
    assert_eq!(plan.amount.as_ref().and_then(|n| n.as_f64()), Some(0.005));
    // The whole file the official script reads comes back out unchanged.
    assert_eq!(serde_json::to_value(&plan)?, reissue_plan);

    let confirm = ReissueConfirm {
        details: json!([{"category": "reissuance"}]),
        listissuances: vec![json!({"txid": "e5f6", "vin": 0, "isreissuance": true})],
        reissuance_output: ReissuanceOutput {
            txid: "e5f6".into(),
            vin: 0,
        },
    };
    let done = assets.reissue_confirm(UUID, &confirm).await?;
    let body = json!({
        "details": [{"category": "reissuance"}],
        "listissuances": [{"txid": "e5f6", "vin": 0, "isreissuance": true}],
        "reissuance_output": {"txid": "e5f6", "vin": 0},
    });
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/reissue-confirm")).body(body)
    );
    assert_eq!(done.typed().map(|r| r.reissuance_amount), Some(500_000));

    let burn = assets.burn_request(UUID, 1_000).await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/burn-request")).body(json!({"amount": 1_000}))
    );
    assert_eq!(burn.utxos, [Outpoint::new("c1d2", 0)]);
    assert_eq!(serde_json::to_value(&burn)?, burn_plan);

    let change = vec![json!({"txid": "f7a8", "vout": 1, "amount": 0.0001, "asset": "5ac9"})];
    let confirmation = TxConfirmation::new("f7a8").change(change);
    assets.burn_confirm(UUID, &confirmation).await?;
    let body = json!({"tx_data": {"txid": "f7a8"},
                      "change_data": [{"txid": "f7a8", "vout": 1, "amount": 0.0001, "asset": "5ac9"}]});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/burn-confirm")).body(body)
    );

    let r = assets.reissuances(UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/reissuances"))
    );
    assert_eq!((r[0].reissuance_amount, r[0].vout), (500_000, Some(0)));
    Ok(())
}

#[tokio::test]
async fn asset_ids_and_txids_that_are_not_one_segment_are_refused() -> TestResult {
    let (server, client) = mock().await?;
    let assets = client.assets();
    for bad in ["../user", "a/b", "x?y", "", ".."] {
        let refused = [
            assets
                .tx(UUID, bad)
                .await
                .is_err_and(|e| e.is_invalid_input()),
            assets.utxos(bad).await.is_err_and(|e| e.is_invalid_input()),
            assets
                .delete(bad)
                .await
                .is_err_and(|e| e.is_invalid_input()),
            assets
                .delete_treasury_addresses(bad, &[])
                .await
                .is_err_and(|e| e.is_invalid_input()),
            assets
                .reissue_request(bad, 1)
                .await
                .is_err_and(|e| e.is_invalid_input()),
        ];
        assert_eq!(refused, [true; 5], "{bad}");
    }
    nothing_sent(&server).await
}
