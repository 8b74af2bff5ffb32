//! `client.assignments(uuid)` and `client.distributions(uuid)` against
//! wiremock: the exact method, path, query and body of every call, and the
//! decoding of realistic answers (amp-api.md §3.2; distributions as amp-rs,
//! the Blockstream AMP CLI and `blockstream-amp-confirm.py` call them).

use crate::common::resources as support;

use amp_client::model::{NewAssignment, TxConfirmation};
use serde_json::{json, Value};
use support::*;

fn assignment_json(id: i64, locked: bool) -> Value {
    json!({
        "id": id, "registered_user": 12, "amount": 300, "receiving_address": null,
        "distribution_uuid": null, "ready_for_distribution": !locked, "vesting_datetime": null,
        "vesting_timestamp": null, "has_vested": true, "is_distributed": false, "creator": 3,
        "GAID": GAID, "investor": 12, "is_locked": locked,
    })
}

#[tokio::test]
async fn every_assignment_call_sends_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/assets/{UUID}/assignments");
    answer(
        &server,
        "GET",
        &base,
        200,
        json!([assignment_json(7, false)]),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/create"),
        200,
        json!([assignment_json(8, false)]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/7"),
        200,
        assignment_json(7, false),
    )
    .await;
    answer(
        &server,
        "PUT",
        &format!("{base}/7/lock"),
        200,
        assignment_json(7, true),
    )
    .await;
    answer(
        &server,
        "PUT",
        &format!("{base}/7/unlock"),
        200,
        assignment_json(7, false),
    )
    .await;
    answer(
        &server,
        "DELETE",
        &format!("{base}/7/delete"),
        204,
        Value::Null,
    )
    .await;
    let assignments = client.assignments(UUID);

    let list = assignments.list().await?;
    assert_eq!(sent(&server).await?, req("GET", &base));
    assert_eq!(
        (list[0].id, list[0].registered_user, list[0].amount),
        (7, Some(12), 300)
    );
    assert_eq!(list[0].gaid.as_deref(), Some(GAID));

    let new = NewAssignment::new(12, 300).ready_for_distribution(true);
    let created = assignments.create(&new).await?;
    let body = json!({"assignments": [{"registered_user": 12, "amount": 300, "ready_for_distribution": true}]});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/create")).body(body)
    );
    assert_eq!(created[0].id, 8);
    let vesting = NewAssignment::new(12, 5).vesting_timestamp(1_735_689_600);
    assignments.create(&vesting).await?;
    let body = json!({"assignments": [{"registered_user": 12, "amount": 5,
                                       "vesting_timestamp": 1_735_689_600, "ready_for_distribution": false}]});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/create")).body(body)
    );

    let one = assignments.get(7).await?;
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/7")));
    assert_eq!(one, list[0]);
    let locked = assignments.lock(7).await?;
    assert_eq!(sent(&server).await?, req("PUT", &format!("{base}/7/lock")));
    assert!(!locked.ready_for_distribution);
    assignments.unlock(7).await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/7/unlock"))
    );
    assignments.delete(7).await?;
    assert_eq!(
        sent(&server).await?,
        req("DELETE", &format!("{base}/7/delete"))
    );
    Ok(())
}

fn distribution_json(status: &str) -> Value {
    json!({
        "distribution_uuid": "9a3c0e2f", "distribution_status": status,
        "transactions": [{
            "txid": "7cea", "transaction_status": status, "included_blockheight": 2_146_947,
            "confirmed_datetime": "2025-10-22T20:45:13.879485Z",
            "assignments": [{"registered_user": 12, "amount": 300, "vout": 2}],
        }],
    })
}

#[tokio::test]
async fn every_distribution_call_sends_exactly_what_the_clients_send() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/assets/{UUID}/distributions");
    answer(
        &server,
        "GET",
        &base,
        200,
        json!([distribution_json("CONFIRMED")]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/9a3c0e2f"),
        200,
        distribution_json("UNCONFIRMED"),
    )
    .await;
    let plan = json!({
        "command": "distribute", "min_supported_client_script_version": 2,
        "base_url": "https://amp-test.blockstream.com/api/{}", "asset_uuid": UUID,
        "asset_id": "5ac9", "distribution_uuid": "9a3c0e2f",
        "map_address_amount": {"vjTvAlice": 0.000003, "vjTvBob": 12.5},
        "map_address_asset": {"vjTvAlice": "5ac9", "vjTvBob": "5ac9"},
    });
    answer(
        &server,
        "GET",
        &format!("{base}/create/"),
        200,
        plan.clone(),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/9a3c0e2f/confirm"),
        200,
        json!({"detail": "confirmed"}),
    )
    .await;
    answer(
        &server,
        "DELETE",
        &format!("{base}/9a3c0e2f/cancel"),
        200,
        json!({"distribution_uuid": "9a3c0e2f"}),
    )
    .await;
    let distributions = client.distributions(UUID);

    let list = distributions.list().await?;
    assert_eq!(sent(&server).await?, req("GET", &base));
    assert_eq!(list[0].distribution_status.as_deref(), Some("CONFIRMED"));
    let tx = &list[0].transactions[0];
    assert_eq!(
        (
            tx.included_blockheight,
            tx.assignments[0].amount,
            tx.assignments[0].vout
        ),
        (Some(2_146_947), 300, Some(2))
    );

    let one = distributions.get("9a3c0e2f").await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/9a3c0e2f"))
    );
    assert_eq!(one.distribution_uuid.as_deref(), Some("9a3c0e2f"));

    // GET on the slashed path, no body: the CLI's form.
    let created = distributions.create().await?;
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/create/")));
    assert_eq!(created.distribution_uuid, "9a3c0e2f");
    assert_eq!(created.command.as_deref(), Some("distribute"));
    let alice = created
        .map_address_amount
        .get("vjTvAlice")
        .ok_or("no Alice")?;
    assert_eq!(alice.to_string(), "3e-6");
    // The whole file the official script reads comes back out unchanged.
    assert_eq!(serde_json::to_value(&created)?, plan);

    let details =
        json!([{"address": "vjTvAlice", "category": "send", "amount": -0.000003, "vout": 2}]);
    let change = vec![json!({"txid": "7cea", "vout": 3, "amount": 9.9, "asset": "5ac9"})];
    let confirmation = TxConfirmation::new("7cea")
        .details(details.clone())
        .change(change.clone());
    distributions.confirm("9a3c0e2f", &confirmation).await?;
    let body = json!({"tx_data": {"txid": "7cea", "details": details}, "change_data": change});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/9a3c0e2f/confirm")).body(body)
    );

    distributions.cancel("9a3c0e2f").await?;
    assert_eq!(
        sent(&server).await?,
        req("DELETE", &format!("{base}/9a3c0e2f/cancel"))
    );
    Ok(())
}

#[tokio::test]
async fn asset_and_distribution_ids_are_checked_before_sending() -> TestResult {
    let (server, client) = mock().await?;
    for bad in ["../user", "a/b", "x?y", "", ".."] {
        let assignments = client.assignments(bad);
        assert!(assignments
            .list()
            .await
            .is_err_and(|e| e.is_invalid_input()));
        assert!(assignments
            .get(1)
            .await
            .is_err_and(|e| e.is_invalid_input()));
        let new = NewAssignment::new(1, 1);
        assert!(assignments
            .create(&new)
            .await
            .is_err_and(|e| e.is_invalid_input()));
        assert!(client
            .distributions(bad)
            .create()
            .await
            .is_err_and(|e| e.is_invalid_input()));
        let distributions = client.distributions(UUID);
        assert!(distributions
            .get(bad)
            .await
            .is_err_and(|e| e.is_invalid_input()));
        assert!(distributions
            .cancel(bad)
            .await
            .is_err_and(|e| e.is_invalid_input()));
        let c = TxConfirmation::new("7cea");
        assert!(distributions
            .confirm(bad, &c)
            .await
            .is_err_and(|e| e.is_invalid_input()));
    }
    // `create` is a route, not a distribution: reading it would make one.
    let distributions = client.distributions(UUID);
    assert!(distributions
        .get("create")
        .await
        .is_err_and(|e| e.is_invalid_input()));
    assert!(distributions
        .cancel("create")
        .await
        .is_err_and(|e| e.is_invalid_input()));
    nothing_sent(&server).await
}
