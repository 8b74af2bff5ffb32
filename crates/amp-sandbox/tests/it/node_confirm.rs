//! AMP's confirm endpoints against the node's chain: what the official
//! script sends is accepted once the transaction has two confirmations, and
//! a transaction or a report that does not match the request is a 400.

use crate::common;

use amp_sandbox::Sandbox;
use common::*;
use serde_json::{json, Value};

/// An empty sandbox with an asset of 10 000 units (precision 0), two users
/// with GAIDs assigned 300 and 200, and a distribution created; the plan.
async fn planned() -> (Sandbox, String, String, Value) {
    let (sb, token) = empty_sandbox().await;
    let uuid = issue(
        &sb,
        &token,
        10_000,
        json!({"precision": 0, "is_reissuable": true, "reissuance_amount": 2}),
    )
    .await;
    let alice = add_user(&sb, &token, "Alice", Some(&gaid(1))).await;
    let bob = add_user(&sb, &token, "Bob", Some(&gaid(2))).await;
    assign(&sb, &token, &uuid, alice, 300).await;
    assign(&sb, &token, &uuid, bob, 200).await;
    let plan = distribute(&sb, &token, &uuid).await;
    (sb, token, uuid, plan)
}

/// The official script's `sendmany` parameters with these maps.
fn sendmany(amounts: &Value, assets: &Value) -> Value {
    json!(["", amounts, 0, "", [], false, 1, "UNSET", assets])
}

async fn confirm_with(sb: &Sandbox, token: &str, uuid: &str, plan: &Value, body: &Value) -> Answer {
    let id = plan["distribution_uuid"].as_str().unwrap();
    post(
        sb,
        &format!("/assets/{uuid}/distributions/{id}/confirm"),
        Some(token),
        body,
    )
    .await
}

fn error_of(answer: &Answer) -> String {
    assert_eq!(answer.status, 400, "{}", answer.text);
    answer.json()["Error"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn sendmany_to_amp_addresses_then_confirm_with_what_the_script_sends() {
    let (sb, token, uuid, plan) = planned().await;
    let t = Some(token.as_str());
    let asset_id = plan["asset_id"].as_str().unwrap().to_owned();
    // The plan's addresses are the users' GAIDs', not the wallet's. The
    // node names an output by its unconfidential address, as Elements does.
    let mut named_as = std::collections::BTreeMap::new();
    for address in plan["map_address_amount"].as_object().unwrap().keys() {
        let info = rpc(&sb, "getaddressinfo", json!([address])).await;
        assert_eq!(info["ismine"], false, "{address}");
        let unconfidential = info["unconfidential"].as_str().unwrap().to_owned();
        assert_ne!(&unconfidential, address);
        named_as.insert(unconfidential, address.clone());
    }
    let txid = rpc(
        &sb,
        "sendmany",
        sendmany(&plan["map_address_amount"], &plan["map_address_asset"]),
    )
    .await;
    let txid = txid.as_str().unwrap().to_owned();

    // In the mempool: 0 confirmations, trusted, its sends in `details`.
    let tx = rpc(&sb, "gettransaction", json!([txid])).await;
    assert_eq!(
        (tx["confirmations"].clone(), tx["trusted"].clone()),
        (json!(0), json!(true))
    );
    let details = tx["details"].as_array().unwrap();
    assert_eq!(
        details.len(),
        2,
        "the two payments, not the change nor the fee: {tx}"
    );
    for d in details {
        assert_eq!(d["category"], "send");
        assert_eq!(d["asset"], asset_id.as_str());
        let address = &named_as[d["address"].as_str().unwrap()];
        assert_eq!(
            d["amount"].as_f64(),
            Some(-plan["map_address_amount"][address].as_f64().unwrap())
        );
        for key in ["vout", "assetblinder", "amountblinder", "fee", "abandoned"] {
            assert!(d.get(key).is_some(), "{key}: {d}");
        }
    }
    assert_eq!(tx["amount"][&asset_id].as_f64(), Some(-0.000_005));
    assert!(tx["fee"]["bitcoin"].as_f64().unwrap() < 0.0);
    // After a crash a client finds it by its outputs: listtransactions.
    let listed = rpc(&sb, "listtransactions", json!(["*", 10, 0])).await;
    let sends: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["txid"] == txid.as_str() && e["category"] == "send")
        .collect();
    assert_eq!(sends.len(), 2);
    assert!(sends
        .iter()
        .all(|e| e["confirmations"] == 0 && e["time"].is_i64()));
    let since = rpc(&sb, "listsinceblock", json!([])).await;
    assert!(since["transactions"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["txid"] == txid.as_str()));

    // AMP waits for two confirmations, as the script does.
    let body = confirm_body(&sb, &txid, &asset_id).await;
    let early = confirm_with(&sb, &token, &uuid, &plan, &body).await;
    assert!(error_of(&early).contains("0 confirmations"));
    sb.mine(1);
    let early = confirm_with(&sb, &token, &uuid, &plan, &body).await;
    assert!(error_of(&early).contains("1 confirmations"));
    sb.mine(1);
    assert_eq!(
        rpc(&sb, "gettransaction", json!([txid])).await["confirmations"],
        2
    );
    let body = confirm_body(&sb, &txid, &asset_id).await;
    let change = body["change_data"].as_array().unwrap();
    assert_eq!(change.len(), 1, "the treasury's change: {body}");
    assert_eq!(change[0]["amount"].as_f64(), Some(0.000_095));
    let confirmed = confirm_with(&sb, &token, &uuid, &plan, &body).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(confirmed.json()["distribution_status"], "CONFIRMED");
    assert_eq!(confirmed.json()["transactions"][0]["txid"], txid.as_str());
    let height = sb.node_height() - 1;
    assert_eq!(
        confirmed.json()["transactions"][0]["included_blockheight"],
        height
    );

    // Balances moved; a second confirm is refused.
    let held = get(&sb, &format!("/gaids/{}/balance/{uuid}", gaid(1)), t)
        .await
        .json();
    assert_eq!(held["balance"], 300);
    let summary = get(&sb, &format!("/assets/{uuid}/summary"), t).await.json();
    assert_eq!(summary["distributed"], 500);
    let again = confirm_with(&sb, &token, &uuid, &plan, &body).await;
    assert_eq!(error_of(&again), "The distribution is already confirmed.");
    assert_eq!(sb.node_count("sendmany"), 1);
}

#[tokio::test]
async fn a_transaction_that_does_not_pay_the_plan_is_refused() {
    let (sb, token, uuid, plan) = planned().await;
    let asset_id = plan["asset_id"].as_str().unwrap().to_owned();
    let amounts = plan["map_address_amount"].clone();
    let assets = plan["map_address_asset"].clone();
    let alice = get(&sb, &format!("/gaids/{}/address", gaid(1)), Some(&token))
        .await
        .json()["address"]
        .as_str()
        .unwrap()
        .to_owned();
    let elsewhere = rpc(&sb, "getnewaddress", json!([]))
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let mut cases: Vec<(&str, Value, Value, &str)> = Vec::new();
    // One unit more to Alice.
    let mut more = amounts.clone();
    more[&alice] = json!(0.000_003_01);
    cases.push(("wrong amount", more, assets.clone(), "pays 301 units"));
    // Alice's share to an address of the wallet instead.
    let mut moved = amounts.clone();
    let mut moved_assets = assets.clone();
    let share = moved.as_object_mut().unwrap().remove(&alice).unwrap();
    moved_assets.as_object_mut().unwrap().remove(&alice);
    moved[&elsewhere] = share;
    moved_assets[&elsewhere] = json!(asset_id);
    cases.push(("wrong address", moved, moved_assets, "pays 0 units"));
    // L-BTC instead of the asset.
    let lbtc: Value = assets
        .as_object()
        .unwrap()
        .keys()
        .map(|a| (a.clone(), json!("bitcoin")))
        .collect::<serde_json::Map<_, _>>()
        .into();
    cases.push(("wrong asset", amounts.clone(), lbtc, "pays 0 units"));
    for (what, amounts, assets, words) in cases {
        let txid = rpc(&sb, "sendmany", sendmany(&amounts, &assets)).await;
        let txid = txid.as_str().unwrap();
        sb.mine(2);
        let body = confirm_body(&sb, txid, &asset_id).await;
        let refused = confirm_with(&sb, &token, &uuid, &plan, &body).await;
        assert!(
            error_of(&refused).contains(words),
            "{what}: {}",
            refused.text
        );
    }
    // A txid the chain does not have.
    let body = json!({"tx_data": {"txid": txid('7'), "details": []}, "change_data": []});
    let refused = confirm_with(&sb, &token, &uuid, &plan, &body).await;
    assert!(error_of(&refused).contains("is not on the chain"));

    // The right transaction, with a report that lies, is refused too.
    let txid = send_plan(&sb, &plan).await;
    let body = confirm_body(&sb, &txid, &asset_id).await;
    let mut lying = body.clone();
    lying["tx_data"]["details"][0]["amount"] = json!(-0.000_009);
    assert!(
        error_of(&confirm_with(&sb, &token, &uuid, &plan, &lying).await)
            .contains("details of output")
    );
    let mut lying = body.clone();
    lying["tx_data"]["details"][0]["assetblinder"] = json!("ab".repeat(32));
    assert!(
        error_of(&confirm_with(&sb, &token, &uuid, &plan, &lying).await)
            .contains("details of output")
    );
    let mut lying = body.clone();
    lying["tx_data"]["details"] = json!([]);
    assert!(
        error_of(&confirm_with(&sb, &token, &uuid, &plan, &lying).await)
            .contains("no entry for output")
    );
    let mut lying = body.clone();
    lying["change_data"][0]["amount"] = json!(0.000_004);
    assert!(
        error_of(&confirm_with(&sb, &token, &uuid, &plan, &lying).await).contains("change data")
    );
    let mut lying = body.clone();
    lying["change_data"] = json!([]);
    assert!(error_of(&confirm_with(&sb, &token, &uuid, &plan, &lying).await).contains("neither"));
    let unreadable =
        json!({"tx_data": {"txid": txid, "details": [{"vout": "x"}]}, "change_data": []});
    let answer = confirm_with(&sb, &token, &uuid, &plan, &unreadable).await;
    assert_eq!(answer.status, 400);
    assert!(
        answer.json()["tx_data"]["details"].is_array(),
        "{}",
        answer.text
    );
    // Nothing of this moved AMP's books; the true report is taken.
    let summary = get(&sb, &format!("/assets/{uuid}/summary"), Some(&token))
        .await
        .json();
    assert_eq!(summary["distributed"], 0);
    assert_eq!(
        confirm_with(&sb, &token, &uuid, &plan, &body).await.status,
        200
    );
}

#[tokio::test]
async fn reissue_and_burn_are_checked_against_the_chain() {
    let (sb, token, uuid, _) = planned().await;
    let t = Some(token.as_str());
    let base = format!("/assets/{uuid}");
    let plan = post(
        &sb,
        &format!("{base}/reissue-request"),
        t,
        &json!({"amount_to_reissue": 100}),
    )
    .await
    .json();
    let asset_id = plan["asset_id"].as_str().unwrap().to_owned();
    // The request's token outputs are in the wallet, as the script checks.
    let unspent = rpc(&sb, "listunspent", json!([])).await;
    for utxo in plan["reissuance_utxos"].as_array().unwrap() {
        assert!(unspent
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["txid"] == utxo["txid"] && u["vout"] == utxo["vout"]));
    }
    // Reissuing another amount than requested is refused.
    let wrong = rpc(&sb, "reissueasset", json!([asset_id, 0.000_002])).await;
    sb.mine(2);
    let wrong_txid = wrong["txid"].as_str().unwrap();
    let details = rpc(&sb, "gettransaction", json!([wrong_txid])).await["details"].clone();
    let listed: Vec<Value> = rpc(&sb, "listissuances", json!([asset_id]))
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["txid"] == wrong_txid)
        .cloned()
        .collect();
    assert_eq!(listed[0]["isreissuance"], true);
    assert_eq!(listed[0]["assetamount"].as_f64(), Some(0.000_002));
    let body = json!({"details": details, "listissuances": listed, "reissuance_output": wrong});
    let refused = post(&sb, &format!("{base}/reissue-confirm"), t, &body).await;
    assert!(error_of(&refused).contains("reissues 200 units; 100 were requested"));
    // The right one, without its listissuances entry, then with it.
    let body = sb.wallet_reissue(&plan).unwrap();
    let mut bare = body.clone();
    bare["listissuances"] = json!([]);
    let refused = post(&sb, &format!("{base}/reissue-confirm"), t, &bare).await;
    assert!(error_of(&refused).contains("listissuances"));
    let done = post(&sb, &format!("{base}/reissue-confirm"), t, &body).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let reissuances = get(&sb, &format!("{base}/reissuances"), t).await.json();
    assert_eq!(reissuances[0]["txid"], body["reissuance_output"]["txid"]);
    assert_eq!(
        get(&sb, &format!("{base}/summary"), t).await.json()["reissued"],
        100
    );

    // Burn: the wrong amount destroyed is refused; the right one counted.
    let plan = post(
        &sb,
        &format!("{base}/burn-request"),
        t,
        &json!({"amount": 50}),
    )
    .await
    .json();
    assert_eq!(plan["amount"].as_f64(), Some(0.000_000_5));
    let wrong = rpc(&sb, "destroyamount", json!([asset_id, 0.000_000_4])).await;
    sb.mine(2);
    let body = confirm_body(&sb, wrong.as_str().unwrap(), &asset_id).await;
    let refused = post(
        &sb,
        &format!("{base}/burn-confirm"),
        t,
        &json!({"tx_data": {"txid": wrong}, "change_data": body["change_data"]}),
    )
    .await;
    assert!(error_of(&refused).contains("destroys 40 units"));
    let body = sb.wallet_burn(&plan).unwrap();
    let burnt = post(&sb, &format!("{base}/burn-confirm"), t, &body).await;
    assert_eq!((burnt.status, burnt.text.as_str()), (200, ""));
    let summary = get(&sb, &format!("{base}/summary"), t).await.json();
    assert_eq!(
        (summary["burned"].clone(), summary["reissued"].clone()),
        (json!(50), json!(100))
    );
    // The burn is a send without address in the wallet's details.
    let txid = body["tx_data"]["txid"].as_str().unwrap();
    let details = rpc(&sb, "gettransaction", json!([txid])).await["details"].clone();
    let burn = details
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["asset"] == asset_id.as_str())
        .unwrap()
        .clone();
    assert!(
        burn.get("address").is_none() && burn["amount"].as_f64() == Some(-0.000_000_5),
        "{burn}"
    );
}
