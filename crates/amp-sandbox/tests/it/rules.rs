//! The rules the state keeps: assignments need a user and room, amounts are
//! integers, locks refuse changes, deletions keep references whole.

use crate::common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn assignment_create_validates_its_one_element() {
    let (sb, token) = empty_sandbox().await;
    let uuid = issue(&sb, &token, 100, json!({})).await;
    let user = add_user(&sb, &token, "Eve", Some(&gaid(6))).await;
    let path = format!("/assets/{uuid}/assignments/create");
    let t = Some(token.as_str());

    let cases = [
        (
            json!({}),
            json!({"assignments": ["This field is required."]}),
        ),
        (
            json!({"assignments": []}),
            json!({"assignments": ["This list may not be empty."]}),
        ),
        (
            json!({"assignments": {"registered_user": user, "amount": 1}}),
            json!({"assignments": ["Expected a list of items but got type \"dict\"."]}),
        ),
        (
            json!({"assignments": [{"registered_user": user, "amount": 1}, {"registered_user": user, "amount": 1}]}),
            json!({"assignments": ["Ensure this field has no more than 1 elements."]}),
        ),
        (
            json!({"assignments": [7]}),
            json!({"assignments": [{"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}]}),
        ),
        (
            json!({"assignments": [{"registered_user": user, "amount": 1.5}]}),
            json!({"assignments": [{"amount": ["A valid integer is required."]}]}),
        ),
        (
            json!({"assignments": [{"registered_user": user, "amount": "ten"}]}),
            json!({"assignments": [{"amount": ["A valid integer is required."]}]}),
        ),
        (
            json!({"assignments": [{"registered_user": user, "amount": 0}]}),
            json!({"assignments": [{"amount": ["Ensure this value is greater than or equal to 1."]}]}),
        ),
        (
            json!({"assignments": [{"amount": 1, "ready_for_distribution": "perhaps"}]}),
            json!({"assignments": [{
                "registered_user": ["This field is required."],
                "ready_for_distribution": ["Must be a valid boolean."],
            }]}),
        ),
        (
            json!({"assignments": [{"registered_user": 99, "amount": 1}]}),
            json!({"assignments": [{"registered_user": ["Invalid pk \"99\" - object does not exist."]}]}),
        ),
        (
            json!({"assignments": [{"registered_user": user, "amount": 101}]}),
            json!({"Error": "The amount 101 is more than what is left to assign (100)."}),
        ),
    ];
    for (body, expected) in cases {
        let answer = post(&sb, &path, t, &body).await;
        assert_eq!(answer.status, 400, "{body}");
        assert_eq!(answer.json(), expected, "{body}");
    }
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}/assignments"), t)
            .await
            .json(),
        json!([])
    );

    // An integral float and a string of digits are integers, as DRF reads them.
    let made = try_assign(
        &sb,
        &token,
        &uuid,
        json!({"registered_user": user, "amount": 60.0}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let made = made.json();
    assert_eq!(made.as_array().unwrap().len(), 1);
    let made = &made[0];
    assert_eq!(
        (made["amount"].clone(), made["registered_user"].clone()),
        (json!(60), json!(user))
    );
    assert_eq!(made["GAID"], gaid(6).as_str());
    assert_eq!(made["investor"], user);
    assert_eq!(
        (
            made["is_locked"].clone(),
            made["ready_for_distribution"].clone()
        ),
        (json!(false), json!(false))
    );
    let rest = try_assign(
        &sb,
        &token,
        &uuid,
        json!({"registered_user": user, "amount": "40"}),
    )
    .await;
    assert_eq!(rest.status, 201, "{}", rest.text);
    let full = try_assign(
        &sb,
        &token,
        &uuid,
        json!({"registered_user": user, "amount": 1}),
    )
    .await;
    assert_eq!(
        full.json(),
        json!({"Error": "The amount 1 is more than what is left to assign (0)."})
    );
    assert_eq!(
        try_assign(
            &sb,
            &token,
            "no-such-asset",
            json!({"registered_user": user, "amount": 1})
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn a_locked_asset_refuses_every_change_until_unlocked() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 1_000, json!({"is_reissuable": true})).await;
    let user = add_user(&sb, &token, "Frank", Some(&gaid(7))).await;
    let waiting = assign(&sb, &token, &uuid, user, 10).await;
    let base = format!("/assets/{uuid}");
    let plan = distribute(&sb, &token, &uuid).await;
    let pending = plan["distribution_uuid"].as_str().unwrap().to_owned();

    let locked = put(&sb, &format!("{base}/lock"), t, None).await;
    assert_eq!(locked.json()["is_locked"], true);
    let tx = json!({"tx_data": {"txid": txid('1')}, "change_data": []});
    let changes: Vec<(reqwest::Method, String, Option<Value>)> = vec![
        (
            reqwest::Method::PUT,
            format!("{base}/edit"),
            Some(json!({"issuer_authorization_endpoint": "https://x.example"})),
        ),
        (reqwest::Method::DELETE, format!("{base}/delete"), None),
        (
            reqwest::Method::POST,
            format!("{base}/memo/set"),
            Some(json!("memo")),
        ),
        (reqwest::Method::GET, format!("{base}/register"), None),
        (
            reqwest::Method::POST,
            format!("{base}/assignments/create"),
            Some(json!({"assignments": [{"registered_user": user, "amount": 1}]})),
        ),
        (
            reqwest::Method::PUT,
            format!("{base}/assignments/{waiting}/lock"),
            None,
        ),
        (
            reqwest::Method::DELETE,
            format!("{base}/assignments/{waiting}/delete"),
            None,
        ),
        (
            reqwest::Method::GET,
            format!("{base}/distributions/create"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/distributions/{pending}/confirm"),
            Some(tx.clone()),
        ),
        (
            reqwest::Method::DELETE,
            format!("{base}/distributions/{pending}/cancel"),
            None,
        ),
        (
            reqwest::Method::POST,
            format!("{base}/reissue-request"),
            Some(json!({"amount_to_reissue": 1})),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/reissue-confirm"),
            Some(json!({"reissuance_output": {"txid": txid('2')}})),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/burn-request"),
            Some(json!({"amount": 1})),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/burn-confirm"),
            Some(tx),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/treasury-addresses/add"),
            Some(json!(["vjTaddress"])),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/utxos/blacklist"),
            Some(json!([{"txid": txid('3'), "vout": 0}])),
        ),
        (
            reqwest::Method::POST,
            format!("{base}/update-blinders"),
            Some(json!({
                "txid": txid('3'), "vout": 0, "asset_blinder": txid('4'), "amount_blinder": txid('5'),
            })),
        ),
    ];
    for (method, path, body) in &changes {
        let answer = send(&sb, method.clone(), path, t, body.as_ref())
            .await
            .unwrap();
        assert_eq!(answer.status, 400, "{method} {path}: {}", answer.text);
        assert_eq!(
            answer.json(),
            json!({"Error": "The asset is locked."}),
            "{method} {path}"
        );
    }
    // Reading is fine, and so is linking the asset to a category.
    assert_eq!(get(&sb, &format!("{base}/summary"), t).await.status, 200);
    let category = post(&sb, "/categories/add", t, &json!({"name": "C"}))
        .await
        .json()["id"]
        .clone();
    assert_eq!(
        put(
            &sb,
            &format!("/categories/{category}/assets/{uuid}/add"),
            t,
            None
        )
        .await
        .status,
        200
    );

    // Unlocked, the same changes go through again.
    assert_eq!(
        put(&sb, &format!("{base}/unlock"), t, None).await.json()["is_locked"],
        false
    );
    let sent = send_plan(&sb, &plan).await;
    let confirmed = confirm(&sb, &token, &uuid, &pending, &sent).await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    let edited = put(
        &sb,
        &format!("{base}/edit"),
        t,
        Some(&json!({"issuer_authorization_endpoint": "https://x.example"})),
    )
    .await;
    assert_eq!(
        edited.json()["issuer_authorization_endpoint"],
        "https://x.example"
    );
    assert_eq!(
        try_assign(
            &sb,
            &token,
            &uuid,
            json!({"registered_user": user, "amount": 1})
        )
        .await
        .status,
        201
    );
    assert_eq!(
        post(
            &sb,
            &format!("{base}/reissue-request"),
            t,
            &json!({"amount_to_reissue": 1})
        )
        .await
        .status,
        200
    );
}

#[tokio::test]
async fn a_locked_assignment_is_neither_deleted_nor_distributed() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 100, json!({})).await;
    let user = add_user(&sb, &token, "Grace", Some(&gaid(8))).await;
    let id = assign(&sb, &token, &uuid, user, 10).await;
    let base = format!("/assets/{uuid}/assignments/{id}");

    let locked = put(&sb, &format!("{base}/lock"), t, None).await;
    assert_eq!(locked.status, 200);
    assert_eq!(locked.json()["is_locked"], true);
    let refused = delete(&sb, &format!("{base}/delete"), t).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"Error": "The assignment is locked."})
    );
    let none = get(&sb, &format!("/assets/{uuid}/distributions/create"), t).await;
    assert_eq!(none.status, 400);
    assert_eq!(
        none.json(),
        json!({"Error": "There are no assignments ready for distribution."})
    );

    assert_eq!(
        put(&sb, &format!("{base}/unlock/"), t, None).await.json()["is_locked"],
        false
    );
    let deleted = delete(&sb, &format!("{base}/delete"), t).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    assert_eq!(get(&sb, &base, t).await.status, 404);
    assert_eq!(delete(&sb, &format!("{base}/delete"), t).await.status, 404);
    for suffix in ["", "/lock", "/unlock"] {
        let method = if suffix.is_empty() {
            reqwest::Method::GET
        } else {
            reqwest::Method::PUT
        };
        let answer = send(
            &sb,
            method,
            &format!("/assets/{uuid}/assignments/abc{suffix}"),
            t,
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            (answer.status, answer.json()),
            (404, json!({"detail": "Not found."})),
            "{suffix}"
        );
    }
}

#[tokio::test]
async fn distributed_or_waiting_assignments_and_their_users_stay() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 100, json!({})).await;
    let user = add_user(&sb, &token, "Heidi", Some(&gaid(9))).await;
    let id = assign(&sb, &token, &uuid, user, 10).await;
    let path = format!("/assets/{uuid}/assignments/{id}/delete");

    let plan = distribute(&sb, &token, &uuid).await;
    let pending = plan["distribution_uuid"].as_str().unwrap();
    let waiting = delete(&sb, &path, t).await;
    assert_eq!(waiting.status, 400);
    assert!(waiting.json()["Error"].as_str().unwrap().contains(pending));
    let sent = send_plan(&sb, &plan).await;
    assert_eq!(
        confirm(&sb, &token, &uuid, pending, &sent).await.status,
        200
    );
    let distributed = delete(&sb, &path, t).await;
    assert_eq!(
        distributed.json(),
        json!({"Error": "The assignment is distributed and cannot be deleted."})
    );

    let user_path = format!("/registered_users/{user}/delete");
    let kept = delete(&sb, &user_path, t).await;
    assert_eq!(kept.status, 400);
    assert_eq!(
        kept.json(),
        json!({"Error": "The registered user has assignments and cannot be deleted."})
    );
    assert_eq!(
        get(&sb, &format!("/registered_users/{user}"), t)
            .await
            .status,
        200
    );

    // Deleting the asset frees the user, and takes the asset out of its
    // categories and managers.
    let category = post(&sb, "/categories/add", t, &json!({"name": "C"}))
        .await
        .json()["id"]
        .clone();
    put(
        &sb,
        &format!("/categories/{category}/assets/{uuid}/add"),
        t,
        None,
    )
    .await;
    let manager = post(
        &sb,
        "/managers/create",
        t,
        &json!({"username": "m", "password": "p"}),
    )
    .await
    .json()["id"]
        .clone();
    put(
        &sb,
        &format!("/managers/{manager}/assets/{uuid}/add"),
        t,
        None,
    )
    .await;
    assert_eq!(
        delete(&sb, &format!("/assets/{uuid}/delete"), t)
            .await
            .status,
        204
    );
    assert_eq!(get(&sb, &format!("/assets/{uuid}"), t).await.status, 404);
    assert_eq!(
        get(&sb, &format!("/categories/{category}"), t).await.json()["assets"],
        json!([])
    );
    assert_eq!(
        get(&sb, &format!("/managers/{manager}"), t).await.json()["assets"],
        json!([])
    );
    assert_eq!(delete(&sb, &user_path, t).await.status, 204);
}

#[tokio::test]
async fn the_treasury_pays_only_what_it_can_spend() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 100, json!({})).await;
    let base = format!("/assets/{uuid}");
    let user = add_user(&sb, &token, "Ivan", Some(&gaid(10))).await;
    assign(&sb, &token, &uuid, user, 30).await;
    let plan = distribute(&sb, &token, &uuid).await;
    let pending = plan["distribution_uuid"].clone();

    // The issuance output is frozen: AMP takes no payment made with it.
    let utxo = get(&sb, &format!("{base}/utxos"), t).await.json()[0].clone();
    let outpoint = json!([{"txid": utxo["txid"], "vout": utxo["vout"]}]);
    let frozen = post(&sb, &format!("{base}/utxos/blacklist"), t, &outpoint).await;
    assert_eq!(frozen.status, 200, "{}", frozen.text);
    assert_eq!(frozen.json()[0]["blacklisted"], true);
    assert_eq!(
        get(&sb, &format!("{base}/summary"), t).await.json()["blacklisted"],
        100
    );
    // The node knows nothing of AMP's blacklist and sends it anyway.
    let sent = send_plan(&sb, &plan).await;
    let refused = confirm(&sb, &token, &uuid, pending.as_str().unwrap(), &sent).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"Error": format!(
            "Transaction {sent} spends the blacklisted output {}:{}.",
            utxo["txid"].as_str().unwrap(),
            utxo["vout"]
        )})
    );
    let burn = post(
        &sb,
        &format!("{base}/burn-request"),
        t,
        &json!({"amount": 1}),
    )
    .await;
    assert_eq!(burn.status, 400);

    let thawed = post(&sb, &format!("{base}/utxos/whitelist"), t, &outpoint).await;
    assert_eq!(thawed.json()[0]["blacklisted"], false);
    assert_eq!(
        confirm(&sb, &token, &uuid, pending.as_str().unwrap(), &sent)
            .await
            .status,
        200
    );
}
