//! The asset routes added for whole flows: each one's success and its errors.

use crate::common;

use common::*;
use serde_json::{json, Value};

#[tokio::test]
async fn issue_validates_its_body() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let empty = post(&sb, "/assets/issue", t, &json!({})).await;
    assert_eq!(empty.status, 400);
    let required = json!(["This field is required."]);
    let expected: Value = [
        "name",
        "amount",
        "destination_address",
        "domain",
        "ticker",
        "pubkey",
    ]
    .iter()
    .map(|f| (f.to_string(), required.clone()))
    .collect::<serde_json::Map<_, _>>()
    .into();
    assert_eq!(empty.json(), expected);
    let cases = [
        (
            json!({"amount": 0}),
            json!({"amount": ["Ensure this value is greater than or equal to 1."]}),
        ),
        (
            json!({"amount": 2.5}),
            json!({"amount": ["A valid integer is required."]}),
        ),
        (
            json!({"amount": 2_100_000_000_000_001_u64}),
            json!({"amount": ["Ensure this value is less than or equal to 2100000000000000."]}),
        ),
        (
            json!({"precision": 9}),
            json!({"precision": ["Ensure this value is less than or equal to 8."]}),
        ),
        (
            json!({"is_reissuable": true, "reissuance_amount": 0}),
            json!({"reissuance_amount": ["A reissuable asset needs at least 1 reissuance token."]}),
        ),
        (
            json!({"is_confidential": "sometimes"}),
            json!({"is_confidential": ["Must be a valid boolean."]}),
        ),
    ];
    for (extra, errors) in cases {
        let mut body = issue_body(10, json!({}));
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let answer = post(&sb, "/assets/issue", t, &body).await;
        assert_eq!((answer.status, answer.json()), (400, errors), "{extra}");
    }
    assert_eq!(get(&sb, "/assets", t).await.json(), json!([]));

    // Defaults: not reissuable, precision 8, not registered, unrestricted.
    let plain = post(&sb, "/assets/issue", t, &issue_body(10, json!({})))
        .await
        .json();
    for (key, value) in [
        ("is_reissuable", json!(false)),
        ("reissuance_token_id", Value::Null),
        ("reissuance_vout", Value::Null),
        ("issuance_tokenblinder", Value::Null),
        ("reissuance_address", json!("")),
        ("precision", json!(8)),
        ("transfer_restricted", json!(false)),
        ("vin", json!(0)),
        ("asset_vout", json!(0)),
    ] {
        assert_eq!(plain[key], value, "{key}");
    }
    let asset = get(
        &sb,
        &format!("/assets/{}", plain["asset_uuid"].as_str().unwrap()),
        t,
    )
    .await
    .json();
    assert_eq!(
        (asset["is_registered"].clone(), asset["precision"].clone()),
        (json!(false), json!(8))
    );
    let other = post(&sb, "/assets/issue/", t, &issue_body(10, json!({})))
        .await
        .json();
    assert_ne!(other["asset_uuid"], plain["asset_uuid"]);
    assert_ne!(other["asset_id"], plain["asset_id"]);
    assert_eq!(sb.count("POST", "/assets/issue"), 2 + 7);
}

#[tokio::test]
async fn edit_register_and_register_authorized() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 10, json!({})).await;
    let base = format!("/assets/{uuid}");

    let edited = put(
        &sb,
        &format!("{base}/edit"),
        t,
        Some(&json!({"issuer_authorization_endpoint": "https://auth.example/x"})),
    )
    .await;
    assert_eq!(edited.status, 200);
    assert_eq!(
        edited.json()["issuer_authorization_endpoint"],
        "https://auth.example/x"
    );
    let bad = put(
        &sb,
        &format!("{base}/edit"),
        t,
        Some(&json!({"issuer_authorization_endpoint": "ftp:nope"})),
    )
    .await;
    assert_eq!(
        (bad.status, bad.json()),
        (
            400,
            json!({"issuer_authorization_endpoint": ["Enter a valid URL."]})
        )
    );
    let missing = put(&sb, &format!("{base}/edit"), t, Some(&json!({}))).await;
    assert_eq!(
        missing.json(),
        json!({"issuer_authorization_endpoint": ["This field is required."]})
    );
    let cleared = put(
        &sb,
        &format!("{base}/edit"),
        t,
        Some(&json!({"issuer_authorization_endpoint": null})),
    )
    .await;
    assert_eq!(cleared.json()["issuer_authorization_endpoint"], Value::Null);
    let body = json!({"issuer_authorization_endpoint": null});
    assert_eq!(
        put(&sb, "/assets/nope/edit", t, Some(&body)).await.status,
        404
    );

    let registered = get(&sb, &format!("{base}/register"), t).await;
    assert_eq!(registered.status, 200);
    assert_eq!(registered.json()["is_registered"], true);
    let again = get(&sb, &format!("{base}/register/"), t).await;
    assert_eq!(
        (again.status, again.json()),
        (400, json!({"Error": "The asset is already registered."}))
    );
    let authorized = get(&sb, &format!("{base}/register-authorized"), t).await;
    assert_eq!(authorized.json()["is_authorized"], true);
    assert_eq!(
        get(&sb, "/assets/nope/register-authorized", t).await.status,
        404
    );
    assert_eq!(get(&sb, &base, t).await.json()["is_authorized"], true);
}

#[tokio::test]
async fn treasury_addresses_utxos_and_blinders() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(
        &sb,
        &token,
        10,
        json!({"is_reissuable": true, "reissuance_amount": 3}),
    )
    .await;
    let base = format!("/assets/{uuid}");

    // Treasury addresses: add (once each), delete by DELETE or POST.
    assert_eq!(
        get(&sb, &format!("{base}/treasury-addresses"), t)
            .await
            .json(),
        json!([])
    );
    let added = post(
        &sb,
        &format!("{base}/treasury-addresses/add"),
        t,
        &json!(["vjTa", "vjTb", "vjTa"]),
    )
    .await;
    assert_eq!((added.status, added.json()), (200, json!(["vjTa", "vjTb"])));
    let removed = send(
        &sb,
        reqwest::Method::DELETE,
        &format!("{base}/treasury-addresses/delete"),
        t,
        Some(&json!(["vjTa"])),
    )
    .await
    .unwrap();
    assert_eq!(removed.json(), json!(["vjTb"]));
    let removed = post(
        &sb,
        &format!("{base}/treasury-addresses/delete"),
        t,
        &json!(["vjTb"]),
    )
    .await;
    assert_eq!(removed.json(), json!([]));
    let not_list = post(
        &sb,
        &format!("{base}/treasury-addresses/add"),
        t,
        &json!({"address": "x"}),
    )
    .await;
    assert_eq!(
        (not_list.status, not_list.json()),
        (
            400,
            json!({"non_field_errors": ["Expected a list of items but got type \"dict\"."]})
        )
    );
    let not_string = post(
        &sb,
        &format!("{base}/treasury-addresses/add"),
        t,
        &json!(["ok", 5]),
    )
    .await;
    assert_eq!(not_string.json(), json!({"1": ["Not a valid address."]}));

    // UTXOs: the issuance output and the token output.
    let utxos = get(&sb, &format!("{base}/utxos"), t).await.json();
    let asset = get(&sb, &base, t).await.json();
    assert_eq!(utxos.as_array().unwrap().len(), 2);
    assert_eq!(utxos[0]["asset"], asset["asset_id"]);
    assert_eq!(utxos[1]["asset"], asset["reissuance_token_id"]);
    assert_eq!(
        (utxos[0]["amount"].clone(), utxos[1]["amount"].clone()),
        (json!(10), json!(3))
    );
    for key in ["txid", "vout", "registered_user", "gaid", "blacklisted"] {
        assert!(utxos[0].get(key).is_some(), "{key}");
    }
    let issuance = utxos[0]["txid"].as_str().unwrap().to_owned();
    let unknown = post(
        &sb,
        &format!("{base}/utxos/blacklist"),
        t,
        &json!([{"txid": issuance, "vout": 5}]),
    )
    .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.json()["Error"].as_str().unwrap().contains(":5"));
    let malformed = post(
        &sb,
        &format!("{base}/utxos/blacklist"),
        t,
        &json!([{"txid": issuance, "vout": 0}, {"vout": -1}]),
    )
    .await;
    assert_eq!(
        malformed.json(),
        json!([{}, {
            "txid": ["This field is required."],
            "vout": ["Ensure this value is greater than or equal to 0."],
        }])
    );
    assert_eq!(
        post(&sb, &format!("{base}/utxos/whitelist"), t, &json!([]))
            .await
            .json(),
        json!({"non_field_errors": ["This list may not be empty."]})
    );

    // Txs: the issuance, whose blinders the platform does not know yet.
    let txs = get(&sb, &format!("{base}/txs"), t).await.json();
    let output = &txs[0]["outputs"][0];
    assert_eq!(output["asset_blinder"], "0".repeat(64));
    assert_eq!(
        (txs[0]["is_issuance"].clone(), txs[0]["inputs"].clone()),
        (json!(true), json!([]))
    );
    assert_eq!(
        get(&sb, &format!("{base}/txs/{}", txid('0')), t)
            .await
            .status,
        404
    );
    // Blinders other than the chain's are refused; the node's are taken.
    let wrong = json!({"txid": issuance, "vout": 0, "asset_blinder": txid('a'), "amount_blinder": txid('b')});
    let wrong = post(&sb, &format!("{base}/update-blinders"), t, &wrong).await;
    assert_eq!(wrong.status, 400, "{}", wrong.text);
    assert!(wrong.json()["Error"]
        .as_str()
        .unwrap()
        .contains("do not match"));
    let issued = rpc(&sb, "gettransaction", json!([issuance])).await;
    let entry = issued["details"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["vout"] == 0)
        .unwrap()
        .clone();
    let (asset_blinder, amount_blinder) = (
        entry["assetblinder"].clone(),
        entry["amountblinder"].clone(),
    );
    let blinders = json!({"txid": issuance, "vout": 0, "asset_blinder": asset_blinder, "amount_blinder": amount_blinder});
    let updated = post(&sb, &format!("{base}/update-blinders"), t, &blinders).await;
    assert_eq!((updated.status, updated.text.as_str()), (200, ""));
    let tx = get(&sb, &format!("{base}/txs/{issuance}"), t).await.json();
    assert_eq!(
        (
            &tx["outputs"][0]["asset_blinder"],
            &tx["outputs"][0]["amount_blinder"]
        ),
        (&asset_blinder, &amount_blinder)
    );
    let short =
        json!({"txid": issuance, "vout": 0, "asset_blinder": "ab", "amount_blinder": txid('b')});
    let short = post(&sb, &format!("{base}/update-blinders"), t, &short).await;
    assert_eq!(
        short.json(),
        json!({"asset_blinder": ["Ensure this field has 64 hexadecimal characters."]})
    );
    let nowhere = json!({"txid": issuance, "vout": 7, "asset_blinder": txid('a'), "amount_blinder": txid('b')});
    let nowhere = post(&sb, &format!("{base}/update-blinders"), t, &nowhere).await;
    assert_eq!(nowhere.status, 400);
    assert!(nowhere.json()["Error"].is_string());

    // Lost outputs: the sandbox loses none.
    let lost = get(&sb, &format!("{base}/lost-outputs"), t).await.json();
    assert_eq!(
        lost,
        json!({"lost_outputs": [], "reissuance_lost_outputs": []})
    );
    assert_eq!(get(&sb, "/assets/nope/lost-outputs", t).await.status, 404);
}

#[tokio::test]
async fn activities_and_txs_take_their_query() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let uuid = issue(&sb, &token, 1_000, json!({})).await;
    let base = format!("/assets/{uuid}");
    let users = [
        add_user(&sb, &token, "A", Some(&gaid(11))).await,
        add_user(&sb, &token, "B", Some(&gaid(12))).await,
    ];
    let mut sent_txids = Vec::new();
    for (i, amount) in [30, 20].into_iter().enumerate() {
        assign(&sb, &token, &uuid, users[i], amount).await;
        let (plan, sent) = distribute_on_chain(&sb, &token, &uuid).await;
        let id = plan["distribution_uuid"].as_str().unwrap();
        let confirmed = confirm(&sb, &token, &uuid, id, &sent).await;
        assert_eq!(confirmed.status, 200, "{}", confirmed.text);
        sent_txids.push(sent);
    }
    let all = get(&sb, &format!("{base}/activities"), t).await.json();
    let heights: Vec<u64> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["blockheight"].as_u64().unwrap())
        .collect();
    assert_eq!(heights.len(), 3);
    assert!(
        heights.windows(2).all(|w| w[0] < w[1]),
        "chain order: {heights:?}"
    );
    let amounts = |v: &Value| -> Vec<u64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|a| a["amount"].as_u64().unwrap())
            .collect()
    };
    let sorted = get(
        &sb,
        &format!("{base}/activities?sortcolumn=amount&sortorder=desc"),
        t,
    )
    .await
    .json();
    assert_eq!(amounts(&sorted), [1_000, 30, 20]);
    let page = get(
        &sb,
        &format!("{base}/activities?sortcolumn=amount&sortorder=asc&start=1&count=1"),
        t,
    )
    .await
    .json();
    assert_eq!(amounts(&page), [30]);
    let window = format!(
        "{base}/activities?height_start={}&height_stop={}",
        heights[1], heights[2]
    );
    assert_eq!(amounts(&get(&sb, &window, t).await.json()), [30, 20]);
    let bad = get(
        &sb,
        &format!("{base}/activities?start=x&sortcolumn=colour&sortorder=up"),
        t,
    )
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.json(),
        json!({
            "start": ["A valid integer is required."],
            "sortcolumn": ["\"colour\" is not a valid choice."],
            "sortorder": ["\"up\" is not a valid choice."],
        })
    );

    let txs = get(&sb, &format!("{base}/txs?sortorder=desc&count=2"), t)
        .await
        .json();
    let txids: Vec<&str> = txs
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["txid"].as_str().unwrap())
        .collect();
    assert_eq!(txids, [sent_txids[1].as_str(), sent_txids[0].as_str()]);
    let bad = get(&sb, &format!("{base}/txs?sortcolumn=amount"), t).await;
    assert_eq!(
        bad.json(),
        json!({"sortcolumn": ["\"amount\" is not a valid choice."]})
    );
    // The query is not part of the counted route.
    assert_eq!(sb.count("GET", "/assets/{assetUuid}/activities"), 5);

    // Ownerships at a height: before and after the second distribution.
    let before = get(&sb, &format!("{base}/ownerships/{}", heights[1]), t)
        .await
        .json();
    assert_eq!(amounts(&before), [30]);
    let after = get(&sb, &format!("{base}/ownerships/{}/", heights[2]), t)
        .await
        .json();
    assert_eq!(amounts(&after), [30, 20]);
    assert_eq!(
        get(&sb, &format!("{base}/ownerships/{}", heights[0]), t)
            .await
            .json(),
        json!([])
    );
    assert_eq!(
        get(&sb, &format!("{base}/ownerships/tall"), t).await.status,
        404
    );
}

#[tokio::test]
async fn reissue_and_burn_refuse_what_does_not_fit() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    let fixed = issue(&sb, &token, 100, json!({})).await;
    let not_reissuable = post(
        &sb,
        &format!("/assets/{fixed}/reissue-request"),
        t,
        &json!({"amount_to_reissue": 5}),
    )
    .await;
    assert_eq!(
        (not_reissuable.status, not_reissuable.json()),
        (400, json!({"Error": "The asset is not reissuable."}))
    );
    let uuid = issue(&sb, &token, 100, json!({"is_reissuable": true})).await;
    let base = format!("/assets/{uuid}");

    let missing = post(&sb, &format!("{base}/reissue-request"), t, &json!({})).await;
    assert_eq!(
        missing.json(),
        json!({"amount_to_reissue": ["This field is required."]})
    );
    let huge = post(
        &sb,
        &format!("{base}/reissue-request"),
        t,
        &json!({"amount_to_reissue": 2_100_000_000_000_000_u64}),
    )
    .await;
    assert_eq!(huge.status, 400);
    assert!(huge.json()["Error"].is_string());
    let nothing = post(
        &sb,
        &format!("{base}/reissue-confirm"),
        t,
        &json!({"reissuance_output": {"txid": txid('1')}}),
    )
    .await;
    assert_eq!(
        nothing.json(),
        json!({"Error": "There is no reissuance request to confirm."})
    );
    let no_output = post(
        &sb,
        &format!("{base}/reissue-confirm"),
        t,
        &json!({"details": []}),
    )
    .await;
    assert_eq!(
        no_output.json(),
        json!({"reissuance_output": ["This field is required."]})
    );
    let no_txid = post(
        &sb,
        &format!("{base}/reissue-confirm"),
        t,
        &json!({"reissuance_output": {"vin": 0}}),
    )
    .await;
    assert_eq!(
        no_txid.json(),
        json!({"reissuance_output": {"txid": ["This field is required."]}})
    );
    let not_object = post(
        &sb,
        &format!("{base}/reissue-confirm"),
        t,
        &json!({"reissuance_output": "x"}),
    )
    .await;
    assert_eq!(
        not_object.json(),
        json!({"reissuance_output": ["Invalid data. Expected a dictionary, but got str."]})
    );

    // A txid already on the chain cannot be confirmed again.
    post(
        &sb,
        &format!("{base}/reissue-request"),
        t,
        &json!({"amount_to_reissue": 5}),
    )
    .await;
    let issuance = get(&sb, &format!("{base}/txs"), t).await.json()[0]["txid"].clone();
    let replay = post(
        &sb,
        &format!("{base}/reissue-confirm"),
        t,
        &json!({"reissuance_output": {"txid": issuance}}),
    )
    .await;
    assert_eq!(replay.status, 400);
    assert!(replay.json()["Error"]
        .as_str()
        .unwrap()
        .contains("already recorded"));
    assert_eq!(
        get(&sb, &format!("{base}/reissuances"), t).await.json(),
        json!([])
    );
    assert_eq!(get(&sb, "/assets/nope/reissuances", t).await.status, 404);

    let burn_nothing = post(
        &sb,
        &format!("{base}/burn-confirm"),
        t,
        &json!({"tx_data": {"txid": txid('2')}}),
    )
    .await;
    assert_eq!(
        burn_nothing.json(),
        json!({"Error": "There is no burn request to confirm."})
    );
    let no_tx = post(
        &sb,
        &format!("{base}/burn-confirm"),
        t,
        &json!({"change_data": []}),
    )
    .await;
    assert_eq!(
        no_tx.json(),
        json!({"tx_data": ["This field is required."]})
    );
    let burn_zero = post(
        &sb,
        &format!("{base}/burn-request"),
        t,
        &json!({"amount": 0}),
    )
    .await;
    assert_eq!(
        burn_zero.json(),
        json!({"amount": ["Ensure this value is greater than or equal to 1."]})
    );
    // An assignment made after the request takes the room it needed.
    let request = post(
        &sb,
        &format!("{base}/burn-request"),
        t,
        &json!({"amount": 100}),
    )
    .await;
    assert_eq!(request.status, 200, "{}", request.text);
    assert_eq!(request.json()["utxos"].as_array().unwrap().len(), 1);
    let user = add_user(&sb, &token, "Judy", None).await;
    assign(&sb, &token, &uuid, user, 1).await;
    let late = post(
        &sb,
        &format!("{base}/burn-confirm"),
        t,
        &json!({"tx_data": {"txid": txid('3')}}),
    )
    .await;
    assert_eq!(
        late.json(),
        json!({"Error": "The amount 100 is more than the treasury may burn (99)."})
    );
    assert_eq!(
        get(&sb, &format!("{base}/summary"), t).await.json()["burned"],
        0
    );
}

#[tokio::test]
async fn unknown_assets_and_gaids_are_refused_on_every_new_route() {
    let (sb, token) = empty_sandbox().await;
    let t = Some(token.as_str());
    for suffix in [
        "/utxos",
        "/treasury-addresses",
        "/txs",
        "/reissuances",
        "/distributions",
        "/distributions/x",
        "/lost-outputs",
        "/ownerships/5",
        "/register",
    ] {
        let answer = get(&sb, &format!("/assets/nope{suffix}"), t).await;
        assert_eq!(
            (answer.status, answer.json()),
            (404, json!({"detail": "Not found."})),
            "{suffix}"
        );
    }
    let uuid = issue(&sb, &token, 10, json!({})).await;
    let nothing = get(&sb, &format!("/gaids/{}/balance/{uuid}", gaid(13)), t).await;
    assert_eq!(nothing.json()["balance"], 0);
    assert_eq!(
        get(&sb, &format!("/gaids/{}/balance/nope", gaid(13)), t)
            .await
            .status,
        404
    );
    let invalid = get(&sb, &format!("/gaids/GAnope/balance/{uuid}"), t).await;
    assert_eq!(invalid.status, 400);
    assert!(invalid.json()["error"].is_string());
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}/distributions"), t)
            .await
            .json(),
        json!([])
    );
}
