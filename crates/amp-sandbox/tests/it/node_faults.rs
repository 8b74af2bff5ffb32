//! The node's faults, as for the AMP side: a node down, torn connections
//! before and after the effect, answers held before or after the effect, a
//! wallet without funds or locked, and blocks that come on a timer or not at
//! all. Time is the paused tokio clock: nothing here waits for real.

use crate::common;

use std::time::Duration;

use amp_sandbox::{NodeFault, RpcError, Sandbox};
use common::*;
use serde_json::{json, Value};

/// A sandbox with an asset of 1 000 units, one user assigned 100, and the
/// plan of a distribution.
async fn planned(sb: &Sandbox) -> Value {
    let token = login(sb).await;
    let uuid = issue(sb, &token, 1_000, json!({})).await;
    let user = add_user(sb, &token, "Faulty", Some(&gaid(4))).await;
    assign(sb, &token, &uuid, user, 100).await;
    distribute(sb, &token, &uuid).await
}

fn sendmany(plan: &Value) -> Value {
    json!([
        "",
        plan["map_address_amount"],
        0,
        "",
        [],
        false,
        1,
        "UNSET",
        plan["map_address_asset"]
    ])
}

/// The wallet's sends so far (listtransactions).
async fn sends(sb: &Sandbox) -> usize {
    let list = rpc(sb, "listtransactions", json!(["*", 1000])).await;
    list.as_array()
        .unwrap()
        .iter()
        .filter(|e| e["category"] == "send")
        .count()
}

/// A sendmany as a client that gives up after `patience` would send it.
async fn impatient(
    sb: &Sandbox,
    plan: &Value,
    patience: Duration,
) -> Result<(u16, Value), &'static str> {
    match tokio::time::timeout(patience, rpc_try(sb, "sendmany", sendmany(plan))).await {
        Err(_) => Err("timed out"),
        Ok(Err(_)) => Err("torn"),
        Ok(Ok(reply)) => Ok(reply),
    }
}

/// One call that may fail at the HTTP level.
async fn rpc_try(sb: &Sandbox, method: &str, params: Value) -> reqwest::Result<(u16, Value)> {
    let body = json!({"jsonrpc": "1.0", "id": 1, "method": method, "params": params});
    let response = http()
        .post(sb.node_url())
        .basic_auth(sb.node_user(), Some(sb.node_password()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await?;
    let status = response.status().as_u16();
    let text = response.text().await?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

#[tokio::test]
async fn rpc_error_faults_answer_without_effect() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    let plan = planned(&sb).await;
    sb.push_node_fault("sendmany", NodeFault::insufficient_funds());
    let (status, reply) = rpc_raw(&sb, "sendmany", sendmany(&plan)).await;
    assert_eq!(
        (status, reply["error"].clone()),
        (500, json!({"code": -6, "message": "Insufficient funds"}))
    );
    assert_eq!(sends(&sb).await, 0, "nothing was sent");
    // Through the control endpoint, as JSON.
    let control = http()
        .post(format!("{}/node/faults", sb.control_url()))
        .body(json!({"method": "sendmany", "fault": {"kind": "wallet_locked"}}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(control.status(), 200);
    let (_, reply) = rpc_raw(&sb, "sendmany", sendmany(&plan)).await;
    assert_eq!(reply["error"]["code"], -13);
    // Real insufficient funds: more than the treasury holds.
    let mut greedy = plan.clone();
    let address = plan["map_address_amount"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    greedy["map_address_amount"][&address] = json!(0.000_010_01);
    let (_, reply) = rpc_raw(&sb, "sendmany", sendmany(&greedy)).await;
    assert_eq!(
        reply["error"],
        json!({"code": -6, "message": "Insufficient funds"})
    );
    assert_eq!(sends(&sb).await, 0);
    let (_, ok) = rpc_raw(&sb, "sendmany", sendmany(&plan)).await;
    assert!(ok["result"].is_string(), "{ok}");
    assert_eq!(sb.node_count("sendmany"), 4);
    let faults: Vec<Option<NodeFault>> = sb
        .node_stats()
        .requests
        .iter()
        .filter(|r| r.method == "sendmany")
        .map(|r| r.fault.clone())
        .collect();
    assert_eq!(faults[0], Some(NodeFault::insufficient_funds()));
    assert_eq!(
        faults[1],
        Some(NodeFault::RpcError(RpcError::wallet_locked()))
    );
    let codes: Vec<Option<i64>> = sb
        .node_stats()
        .requests
        .iter()
        .filter(|r| r.method == "sendmany")
        .map(|r| r.error_code)
        .collect();
    assert_eq!(codes, [Some(-6), Some(-13), Some(-6), None]);
}

#[tokio::test]
async fn a_locked_wallet_answers_13_until_unlocked() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .wallet_passphrase("open sesame")
        .start()
        .await
        .unwrap();
    let plan = planned(&sb).await;
    // What the official script calls to detect a locked wallet.
    let (_, reply) = rpc_raw(&sb, "signmessage", json!(["invalidaddress", "message"])).await;
    assert_eq!(reply["error"]["code"], -13);
    let (_, reply) = rpc_raw(&sb, "sendmany", sendmany(&plan)).await;
    assert_eq!(reply["error"]["code"], -13);
    assert_eq!(
        rpc(&sb, "getwalletinfo", json!([])).await["unlocked_until"],
        0
    );
    let (_, wrong) = rpc_raw(&sb, "walletpassphrase", json!(["guess", 60])).await;
    assert_eq!(wrong["error"]["code"], -14);
    assert_eq!(
        rpc(&sb, "walletpassphrase", json!(["open sesame", 60])).await,
        Value::Null
    );
    let (_, unlocked) = rpc_raw(&sb, "signmessage", json!(["invalidaddress", "message"])).await;
    assert_eq!(unlocked["error"]["code"], -5);
    rpc(&sb, "walletlock", json!([])).await;
    let (_, reply) = rpc_raw(&sb, "sendmany", sendmany(&plan)).await;
    assert_eq!(reply["error"]["code"], -13);
    // From the sandbox's side too.
    sb.set_wallet_locked(false);
    assert!(rpc(&sb, "sendmany", sendmany(&plan)).await.is_string());
    sb.set_wallet_locked(true);
    let (_, reply) = rpc_raw(
        &sb,
        "destroyamount",
        json!([plan["asset_id"], 0.000_000_01]),
    )
    .await;
    assert_eq!(reply["error"]["code"], -13);
    assert_eq!(sends(&sb).await, 1);
}

#[tokio::test(start_paused = true)]
async fn the_unlock_lasts_its_timeout() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .wallet_passphrase("p")
        .start()
        .await
        .unwrap();
    rpc(&sb, "walletpassphrase", json!(["p", 30])).await;
    let (_, reply) = rpc_raw(&sb, "signmessage", json!(["invalidaddress", "m"])).await;
    assert_eq!(reply["error"]["code"], -5);
    tokio::time::advance(Duration::from_secs(31)).await;
    let (_, reply) = rpc_raw(&sb, "signmessage", json!(["invalidaddress", "m"])).await;
    assert_eq!(reply["error"]["code"], -13);
}

#[tokio::test]
async fn torn_before_or_after_the_effect() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    let plan = planned(&sb).await;
    sb.push_node_fault("sendmany", NodeFault::DropConnection);
    assert!(rpc_try(&sb, "sendmany", sendmany(&plan)).await.is_err());
    assert_eq!(sends(&sb).await, 0, "torn before: nothing sent");
    sb.push_node_fault("sendmany", NodeFault::DropAfterEffect);
    assert!(rpc_try(&sb, "sendmany", sendmany(&plan)).await.is_err());
    assert_eq!(
        sends(&sb).await,
        1,
        "torn after: sent, and the client never heard the txid"
    );
    let statuses: Vec<u16> = sb
        .node_stats()
        .requests
        .iter()
        .filter(|r| r.method == "sendmany")
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [0, 0]);
}

#[tokio::test(start_paused = true)]
async fn answers_held_before_or_after_the_effect() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    let plan = planned(&sb).await;
    // Held after the effect: a client that gives up has still sent it.
    sb.push_node_fault("sendmany", NodeFault::DelayAfter(Duration::from_secs(600)));
    assert_eq!(
        impatient(&sb, &plan, Duration::from_secs(30)).await,
        Err("timed out")
    );
    assert_eq!(sends(&sb).await, 1);
    // Held before: a client that gives up has sent nothing.
    sb.push_node_fault("sendmany", NodeFault::DelayBefore(Duration::from_secs(600)));
    assert_eq!(
        impatient(&sb, &plan, Duration::from_secs(30)).await,
        Err("timed out")
    );
    assert_eq!(sends(&sb).await, 1);
    // A patient client gets the answer, after the effect.
    sb.push_node_fault(
        "getblockcount",
        NodeFault::DelayAfter(Duration::from_secs(5)),
    );
    let started = tokio::time::Instant::now();
    let (status, reply) = rpc_try(&sb, "getblockcount", json!([])).await.unwrap();
    assert_eq!(
        (status, reply["result"].as_u64()),
        (200, Some(sb.node_height()))
    );
    assert!(started.elapsed() >= Duration::from_secs(5));
}

#[tokio::test]
async fn a_node_down_refuses_connections_until_it_is_up() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    sb.set_node_down(true).await.unwrap();
    let refused = rpc_try(&sb, "getblockcount", json!([])).await.unwrap_err();
    assert!(refused.is_connect(), "{refused:?}");
    // The AMP side is not the node: it still answers.
    assert_eq!(get(&sb, "/info", None).await.status, 200);
    sb.set_node_down(false).await.unwrap();
    assert!(rpc(&sb, "getblockcount", json!([])).await.is_u64());
    // The control endpoint does the same.
    let down = http()
        .post(format!("{}/node/down", sb.control_url()))
        .body(r#"{"down": true}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(down.status(), 200);
    assert!(rpc_try(&sb, "getblockcount", json!([]))
        .await
        .unwrap_err()
        .is_connect());
    let up = http()
        .post(format!("{}/node/down", sb.control_url()))
        .body(r#"{"down": false}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(up.status(), 200);
    assert!(rpc(&sb, "getblockcount", json!([])).await.is_u64());
}

#[tokio::test(start_paused = true)]
async fn blocks_on_a_timer_or_only_on_request() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .block_interval(Duration::from_secs(60))
        .start()
        .await
        .unwrap();
    let start = sb.node_height();
    tokio::time::sleep(Duration::from_secs(181)).await;
    assert_eq!(sb.node_height(), start + 3);
    // Slow blocks: none for an hour.
    sb.set_block_interval(Some(Duration::from_secs(3_600)));
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(sb.node_height(), start + 3);
    sb.set_block_interval(None);
    tokio::time::sleep(Duration::from_secs(7_200)).await;
    assert_eq!(sb.node_height(), start + 3, "only on request now");
    let mined = http()
        .post(format!("{}/node/mine", sb.control_url()))
        .body(r#"{"blocks": 2}"#)
        .send()
        .await
        .unwrap();
    let mined: Value = serde_json::from_str(&mined.text().await.unwrap()).unwrap();
    assert_eq!(mined["height"].as_u64(), Some(start + 5));
    assert_eq!(mined["hashes"].as_array().unwrap().len(), 2);
}
