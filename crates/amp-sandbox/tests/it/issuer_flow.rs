//! Whole issuer flows: issue → users → category → assignments → distribution
//! → confirm, then reissue and burn, each step seen in every view of the state.

use crate::common;

use common::*;
use serde_json::{json, Value};

fn amounts_by_owner(ownerships: &Value) -> Vec<(String, u64)> {
    let mut list: Vec<(String, u64)> = ownerships
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["owner"].as_str().unwrap().to_owned(),
                o["amount"].as_u64().unwrap(),
            )
        })
        .collect();
    list.sort();
    list
}

#[tokio::test]
async fn issue_assign_distribute_confirm_reissue_burn() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());

    // Issue: 201, a fresh uuid, a 64-hex asset id and a reissuance token.
    let issued = post(
        &sb,
        "/assets/issue",
        t,
        &issue_body(
            1_000,
            json!({"is_reissuable": true, "reissuance_amount": 5}),
        ),
    )
    .await;
    assert_eq!(issued.status, 201, "{}", issued.text);
    let issued = issued.json();
    let uuid = issued["asset_uuid"].as_str().unwrap().to_owned();
    assert_eq!(uuid.len(), 36);
    let asset_id = issued["asset_id"].as_str().unwrap().to_owned();
    assert!(asset_id.len() == 64 && asset_id.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!(issued["reissuance_token_id"].as_str().unwrap().len(), 64);
    assert_eq!(issued["reissuance_vout"], 1);
    assert_eq!(
        (issued["amount"].clone(), issued["ticker"].clone()),
        (json!(1_000), json!("FLOW"))
    );
    assert_eq!(sb.count("POST", "/assets/issue"), 1);
    let asset = get(&sb, &format!("/assets/{uuid}"), t).await.json();
    assert_eq!(asset["asset_id"], asset_id.as_str());
    assert_eq!(asset["is_locked"], false);
    let base = format!("/assets/{uuid}");

    // Users and a category that holds them and the asset.
    let alice = add_user(&sb, &token, "Alice", Some(&gaid(1))).await;
    let bob = add_user(&sb, &token, "Bob", Some(&gaid(2))).await;
    let category = post(&sb, "/categories/add", t, &json!({"name": "Investors"})).await;
    let category = category.json()["id"].as_u64().unwrap();
    for user in [alice, bob] {
        let path = format!("/categories/{category}/registered_users/{user}/add");
        assert_eq!(put(&sb, &path, t, None).await.status, 200);
    }
    let linked = put(
        &sb,
        &format!("/categories/{category}/assets/{uuid}/add"),
        t,
        None,
    )
    .await;
    assert_eq!(linked.json()["assets"], json!([uuid]));

    // Assignments.
    let a1 = assign(&sb, &token, &uuid, alice, 300).await;
    let a2 = assign(&sb, &token, &uuid, bob, 200).await;
    let summary = get(&sb, &format!("{base}/summary"), t).await.json();
    assert_eq!(
        (summary["assigned"].clone(), summary["distributed"].clone()),
        (json!(500), json!(0))
    );
    assert_eq!(summary["registered_users"], 2);
    assert_eq!(
        get(&sb, &format!("{base}/ownerships"), t).await.json(),
        json!([])
    );

    // Distribution create: what the confirm script needs.
    let created = distribute(&sb, &token, &uuid).await;
    assert_eq!(created["command"], "distribute");
    assert_eq!(created["asset_id"], asset_id.as_str());
    assert_eq!(created["base_url"], format!("{}/{{}}", sb.base_url()));
    let id = created["distribution_uuid"].as_str().unwrap().to_owned();
    let alice_address = get(&sb, &format!("/gaids/{}/address", gaid(1)), t)
        .await
        .json()["address"]
        .clone();
    let alice_address = alice_address.as_str().unwrap();
    assert_eq!(created["map_address_amount"][alice_address], 0.000_003);
    assert_eq!(
        created["map_address_asset"][alice_address],
        asset_id.as_str()
    );
    assert_eq!(created["map_address_amount"].as_object().unwrap().len(), 2);
    let pending = get(&sb, &format!("{base}/distributions/{id}"), t)
        .await
        .json();
    assert_eq!(
        pending,
        json!({"distribution_uuid": id, "distribution_status": "UNCONFIRMED", "transactions": []})
    );
    let assignments = get(&sb, &format!("{base}/assignments"), t).await.json();
    assert!(assignments
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["distribution_uuid"] == id.as_str() && a["is_distributed"] == false));

    // The node sends it; AMP refuses it until it has two confirmations.
    let sent = rpc(
        &sb,
        "sendmany",
        json!([
            "",
            created["map_address_amount"],
            0,
            "",
            [],
            false,
            1,
            "UNSET",
            created["map_address_asset"]
        ]),
    )
    .await;
    let sent = sent.as_str().unwrap().to_owned();
    sb.mine(1);
    let early = confirm(&sb, &token, &uuid, &id, &sent).await;
    assert_eq!(early.status, 400, "{}", early.text);
    assert!(early.json()["Error"]
        .as_str()
        .unwrap()
        .contains("1 confirmations"));
    sb.mine(1);

    // Confirm: the assignments are distributed and every view follows.
    let confirmed = confirm(&sb, &token, &uuid, &id, &sent).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let confirmed = confirmed.json();
    assert_eq!(confirmed["distribution_status"], "CONFIRMED");
    let transaction = &confirmed["transactions"][0];
    assert_eq!(transaction["txid"], sent.as_str());
    assert_eq!(transaction["transaction_status"], "CONFIRMED");
    // The node shuffles its outputs, as Elements does: the vouts are the chain's.
    let bob_address = get(&sb, &format!("/gaids/{}/address", gaid(2)), t)
        .await
        .json()["address"]
        .as_str()
        .unwrap()
        .to_owned();
    // (The node names an output by its unconfidential address, as Elements.)
    let details = rpc(&sb, "gettransaction", json!([sent])).await["details"].clone();
    let mut unconfidential = std::collections::BTreeMap::new();
    for address in [alice_address.to_owned(), bob_address.clone()] {
        let info = rpc(&sb, "getaddressinfo", json!([address])).await;
        unconfidential.insert(address, info["unconfidential"].clone());
    }
    let vout_to = |address: &str| -> u64 {
        details
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["address"] == unconfidential[address])
            .unwrap()["vout"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(
        transaction["assignments"],
        json!([
            {"registered_user": alice, "amount": 300, "vout": vout_to(alice_address)},
            {"registered_user": bob, "amount": 200, "vout": vout_to(&bob_address)},
        ])
    );
    assert_eq!(
        get(&sb, &format!("{base}/distributions"), t).await.json(),
        json!([confirmed])
    );
    for id in [a1, a2] {
        let a = get(&sb, &format!("{base}/assignments/{id}"), t)
            .await
            .json();
        assert_eq!(a["is_distributed"], true, "{a}");
    }
    let summary = get(&sb, &format!("{base}/summary"), t).await.json();
    assert_eq!(summary["distributed"], 500);
    assert_eq!(summary["active_registered_users"], 2);
    assert_eq!(summary["active_green_subaccounts"], 2);
    let ownerships = get(&sb, &format!("{base}/ownerships"), t).await.json();
    assert_eq!(
        amounts_by_owner(&ownerships),
        [("Alice".into(), 300), ("Bob".into(), 200)]
    );
    let balance = get(&sb, &format!("{base}/balance"), t).await.json();
    assert_eq!(balance["confirmed_balance"], ownerships);
    assert_eq!(balance["lost_outputs"], json!([]));
    let held = get(&sb, &format!("/gaids/{}/balance", gaid(1)), t)
        .await
        .json();
    assert_eq!(
        held,
        json!([{"asset_uuid": uuid, "asset_id": asset_id, "balance": 300}])
    );
    let one = get(&sb, &format!("/gaids/{}/balance/{uuid}", gaid(2)), t)
        .await
        .json();
    assert_eq!(one["balance"], 200);
    let user_summary = get(&sb, &format!("/registered_users/{alice}/summary"), t)
        .await
        .json();
    assert_eq!(
        (
            user_summary["balance"].clone(),
            user_summary["distributions_sum"].clone()
        ),
        (json!(300), json!(300))
    );
    assert_eq!(
        user_summary["distributions"][0]["distribution_uuid"],
        id.as_str()
    );

    // The chain: the issuance and the distribution, with their outputs.
    let txs = get(&sb, &format!("{base}/txs"), t).await.json();
    let txs = txs.as_array().unwrap();
    assert_eq!(txs.len(), 2);
    assert_eq!(
        (
            txs[0]["is_issuance"].clone(),
            txs[1]["is_distribution"].clone()
        ),
        (json!(true), json!(true))
    );
    assert_eq!(
        txs[0]["outputs"][0]["is_spent"], true,
        "the treasury paid the distribution"
    );
    let tx = get(&sb, &format!("{base}/txs/{sent}"), t).await.json();
    assert_eq!(&tx, &txs[1]);
    let outputs = tx["outputs"].as_array().unwrap();
    assert_eq!(outputs.len(), 3, "two receivers and the change: {tx}");
    let change: Vec<&Value> = outputs
        .iter()
        .filter(|o| o["is_treasury"] == true)
        .collect();
    assert_eq!(change.len(), 1);
    assert_eq!(change[0]["amount"], 500);
    let utxos = get(&sb, &format!("{base}/utxos"), t).await.json();
    let mut held: Vec<(Option<u64>, u64)> = utxos
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["asset"] == asset_id.as_str())
        .map(|u| (u["registered_user"].as_u64(), u["amount"].as_u64().unwrap()))
        .collect();
    held.sort();
    assert_eq!(held, [(None, 500), (Some(alice), 300), (Some(bob), 200)]);
    let activities = get(&sb, &format!("{base}/activities"), t).await.json();
    let kinds: Vec<&str> = activities
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["issuance", "distribution", "distribution"]);
    assert_eq!(activities[1]["registered user"], alice);

    // Reissue 100: request, then confirm; the summary counts it.
    let request = post(
        &sb,
        &format!("{base}/reissue-request"),
        t,
        &json!({"amount_to_reissue": 100}),
    )
    .await;
    assert_eq!(request.status, 200, "{}", request.text);
    let request = request.json();
    assert_eq!(request["command"], "reissue");
    assert_eq!(request["amount"], 0.000_001);
    assert_eq!(request["min_supported_client_script_version"], 2);
    assert_eq!(
        request["reissuance_utxos"],
        json!([{"txid": issued["txid"], "vout": 1}])
    );
    // The node reissues (`reissueasset asset_id amount`), as the script does.
    let output = rpc(&sb, "reissueasset", json!([asset_id, request["amount"]])).await;
    let reissue_txid = output["txid"].as_str().unwrap().to_owned();
    sb.mine(2);
    let details = rpc(&sb, "gettransaction", json!([reissue_txid])).await["details"].clone();
    let issuances: Vec<Value> = rpc(&sb, "listissuances", json!([]))
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["txid"] == reissue_txid.as_str())
        .cloned()
        .collect();
    assert_eq!(issuances.len(), 1);
    let body = json!({"details": details, "listissuances": issuances, "reissuance_output": output});
    let reissued = post(&sb, &format!("{base}/reissue-confirm"), t, &body).await;
    assert_eq!(reissued.status, 200, "{}", reissued.text);
    assert_eq!(
        reissued.json(),
        json!({"txid": reissue_txid, "vin": 0, "reissuance_amount": 100})
    );
    let reissuances = get(&sb, &format!("{base}/reissuances"), t).await.json();
    assert_eq!(reissuances[0]["reissuance_amount"], 100);
    assert_eq!(reissuances[0]["txid"], reissue_txid.as_str());
    let destination = reissuances[0]["destination_address"].clone();
    let info = rpc(&sb, "getaddressinfo", json!([destination])).await;
    assert_eq!(
        info["ismine"], true,
        "the new units are the wallet's: {info}"
    );

    // Burn 50: request, then confirm (200, empty body).
    let request = post(
        &sb,
        &format!("{base}/burn-request"),
        t,
        &json!({"amount": 50}),
    )
    .await;
    assert_eq!(request.status, 200, "{}", request.text);
    let request = request.json();
    assert_eq!(request["command"], "burn");
    let burn_txid = rpc(&sb, "destroyamount", json!([asset_id, request["amount"]])).await;
    let burn_txid = burn_txid.as_str().unwrap().to_owned();
    sb.mine(2);
    let body = confirm_body(&sb, &burn_txid, &asset_id).await;
    let burned = post(
        &sb,
        &format!("{base}/burn-confirm"),
        t,
        &json!({"tx_data": {"txid": burn_txid}, "change_data": body["change_data"]}),
    )
    .await;
    assert_eq!((burned.status, burned.text.as_str()), (200, ""));
    let summary = get(&sb, &format!("{base}/summary"), t).await.json();
    assert_eq!(
        (
            summary["issued"].clone(),
            summary["reissued"].clone(),
            summary["burned"].clone(),
            summary["reissuance_tokens"].clone()
        ),
        (json!(1_000), json!(100), json!(50), json!(5))
    );
    let kinds: Vec<String> = get(&sb, &format!("{base}/activities"), t)
        .await
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        kinds,
        [
            "issuance",
            "distribution",
            "distribution",
            "reissuance",
            "burn"
        ]
    );

    // What is left to burn or assign: 1050 circulating, 500 assigned.
    let too_much = post(
        &sb,
        &format!("{base}/burn-request"),
        t,
        &json!({"amount": 551}),
    )
    .await;
    assert_eq!(too_much.status, 400);
    assert!(too_much.json()["Error"].is_string());
    let over = try_assign(
        &sb,
        &token,
        &uuid,
        json!({"registered_user": alice, "amount": 551}),
    )
    .await;
    assert_eq!(over.status, 400, "{}", over.text);
    assign(&sb, &token, &uuid, alice, 550).await;

    // Every step was counted on its route.
    assert_eq!(
        sb.count("POST", "/assets/{assetUuid}/assignments/create"),
        4
    );
    assert_eq!(
        sb.count("GET", "/assets/{assetUuid}/distributions/create"),
        1
    );
    assert_eq!(
        sb.count(
            "POST",
            "/assets/{assetUuid}/distributions/{distributionUuid}/confirm"
        ),
        2,
        "the early one (one confirmation) and the accepted one"
    );
    assert_eq!(sb.count("POST", "/user/obtain_token"), 1);
    // And on the node, each transaction was sent once.
    for method in ["sendmany", "reissueasset", "destroyamount"] {
        assert_eq!(sb.node_count(method), 1, "{method}");
    }
}

#[tokio::test]
async fn a_cancelled_distribution_frees_its_assignments() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 1_000, json!({})).await;
    let user = add_user(&sb, &token, "Carol", Some(&gaid(3))).await;
    let id = assign(&sb, &token, &uuid, user, 10).await;
    let base = format!("/assets/{uuid}");

    let first = distribute(&sb, &token, &uuid).await["distribution_uuid"].clone();
    let first = first.as_str().unwrap();
    // Nothing else is ready while the assignment waits in the first one.
    let again = post(&sb, &format!("{base}/distributions/create"), t, &json!({})).await;
    assert_eq!(again.status, 400);
    assert_eq!(
        again.json(),
        json!({"Error": "There are no assignments ready for distribution."})
    );

    let cancelled = delete(&sb, &format!("{base}/distributions/{first}/cancel"), t).await;
    assert_eq!((cancelled.status, cancelled.text.as_str()), (204, ""));
    assert_eq!(
        get(&sb, &format!("{base}/distributions/{first}"), t)
            .await
            .status,
        404
    );
    let freed = get(&sb, &format!("{base}/assignments/{id}"), t)
        .await
        .json();
    assert_eq!(freed["distribution_uuid"], Value::Null);
    assert_eq!(
        get(&sb, &format!("{base}/summary"), t).await.json()["distributed"],
        0
    );

    // Free again: a second distribution takes it (POST works as GET does).
    let second = post(&sb, &format!("{base}/distributions/create/"), t, &json!({})).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let second_plan = second.json();
    let second = second_plan["distribution_uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_ne!(second, first);
    let plan = get(&sb, &format!("{base}/distributions/{second}"), t).await;
    assert_eq!(plan.status, 200);
    let unknown = confirm(&sb, &token, &uuid, &second, &txid('a')).await;
    assert_eq!(
        unknown.status, 400,
        "a txid the chain lacks: {}",
        unknown.text
    );
    let sent = send_plan(&sb, &second_plan).await;
    let first_confirm = confirm(&sb, &token, &uuid, &second, &sent).await;
    assert_eq!(first_confirm.status, 200, "{}", first_confirm.text);
    let twice = confirm(&sb, &token, &uuid, &second, &sent).await;
    assert_eq!(twice.status, 400);
    assert_eq!(
        twice.json(),
        json!({"Error": "The distribution is already confirmed."})
    );
    let late = post(
        &sb,
        &format!("{base}/distributions/{second}/cancel"),
        t,
        &json!({}),
    )
    .await;
    assert_eq!(late.status, 400);
    assert!(late.json()["Error"].as_str().unwrap().contains("confirmed"));
    assert_eq!(
        delete(&sb, &format!("{base}/distributions/nope/cancel"), t)
            .await
            .status,
        404
    );
    assert_eq!(
        confirm(&sb, &token, &uuid, "nope", &txid('c')).await.status,
        404
    );
}

#[tokio::test]
async fn only_ready_vested_assignments_are_distributed() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 1_000, json!({})).await;
    let user = add_user(&sb, &token, "Dan", Some(&gaid(4))).await;
    let base = format!("/assets/{uuid}");
    let not_ready = try_assign(
        &sb,
        &token,
        &uuid,
        json!({"registered_user": user, "amount": 1}),
    )
    .await;
    let not_ready = not_ready.json()[0].clone();
    assert_eq!(not_ready["ready_for_distribution"], false);
    // Vesting in 2100: not vested, so not distributed.
    let far = 4_102_444_800_i64;
    let vesting = json!({"registered_user": user, "amount": 2, "ready_for_distribution": true, "vesting_timestamp": far});
    let vesting = try_assign(&sb, &token, &uuid, vesting).await.json()[0].clone();
    assert_eq!(
        (
            vesting["has_vested"].clone(),
            vesting["vesting_datetime"].clone()
        ),
        (json!(false), json!("2100-01-01T00:00:00Z"))
    );
    let past = json!({"registered_user": user, "amount": 4, "ready_for_distribution": true, "vesting_timestamp": 1});
    let vested = try_assign(&sb, &token, &uuid, past).await.json()[0].clone();
    assert_eq!(vested["has_vested"], true);

    let created = distribute(&sb, &token, &uuid).await;
    let id = created["distribution_uuid"].as_str().unwrap();
    assert_eq!(
        created["map_address_amount"]
            .as_object()
            .unwrap()
            .values()
            .cloned()
            .collect::<Vec<_>>(),
        [json!(0.000_000_04)]
    );
    let list = get(&sb, &format!("{base}/assignments"), t).await.json();
    let waiting: Vec<u64> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["distribution_uuid"] == id)
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(waiting, [vested["id"].as_u64().unwrap()]);
}

#[tokio::test]
async fn a_user_without_gaid_cannot_be_distributed_to() {
    let (sb, token) = empty_sandbox().await;
    let uuid = issue(&sb, &token, 100, json!({})).await;
    let user = add_user(&sb, &token, "No Gaid", None).await;
    let made = try_assign(
        &sb,
        &token,
        &uuid,
        json!({"registered_user": user, "amount": 5, "ready_for_distribution": true}),
    )
    .await;
    assert_eq!(made.json()[0]["receiving_address"], Value::Null);
    let refused = get(
        &sb,
        &format!("/assets/{uuid}/distributions/create"),
        Some(&token),
    )
    .await;
    assert_eq!(refused.status, 400);
    assert!(refused.json()["Error"]
        .as_str()
        .unwrap()
        .contains("no GAID"));
    // Once the user has one, the distribution goes to it.
    post(
        &sb,
        &format!("/registered_users/{user}/gaids/add"),
        Some(&token),
        &json!(gaid(5)),
    )
    .await;
    let created = distribute(&sb, &token, &uuid).await;
    let address = get(&sb, &format!("/gaids/{}/address", gaid(5)), Some(&token))
        .await
        .json()["address"]
        .clone();
    assert!(created["map_address_amount"]
        .get(address.as_str().unwrap())
        .is_some());
}
