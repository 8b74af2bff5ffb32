//! The resource routes, and the control endpoint.

use crate::common;

use amp_sandbox::{Fault, Sandbox, Stats};
use common::*;
use serde_json::{json, Value};

async fn sandbox_and_token() -> (Sandbox, String) {
    let sandbox = Sandbox::start().await.unwrap();
    let token = login(&sandbox).await;
    (sandbox, token)
}

fn ids(list: &Value, key: &str) -> Vec<Value> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|x| x[key].clone())
        .collect()
}

const NEW_GAID: &str = "GA3YRyQ2ewSjXyuFkvrUn6AYcUE9pp";
const OTHER_GAID: &str = "GA5uPZv8Ebq7HnkoAX3gKqpKY4W1rw";

#[tokio::test]
async fn registered_user_round_trip() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    let before = get(&sb, "/registered_users/", t).await.json();
    assert_eq!(before.as_array().unwrap().len(), 3);

    let added = post(
        &sb,
        "/registered_users/add",
        t,
        &json!({"name": "Carol", "GAID": NEW_GAID, "is_company": false}),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let user = added.json();
    let id = user["id"].as_u64().unwrap();
    assert_eq!(user["name"], "Carol");
    assert_eq!(user["GAID"], NEW_GAID);
    assert_eq!(user["is_company"], false);
    assert_eq!(user["categories"], json!([]));
    assert!(user["creator"].is_u64());

    let list = get(&sb, "/registered_users", t).await.json();
    assert!(ids(&list, "id").contains(&json!(id)));

    let edited = put(
        &sb,
        &format!("/registered_users/{id}/edit"),
        t,
        Some(&json!({"name": "Carol Renamed"})),
    )
    .await;
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["name"], "Carol Renamed");
    let fetched = get(&sb, &format!("/registered_users/{id}"), t).await.json();
    assert_eq!(fetched["name"], "Carol Renamed");
    assert_eq!(fetched["GAID"], NEW_GAID);

    let deleted = delete(&sb, &format!("/registered_users/{id}/delete"), t).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.text.is_empty());
    let gone = get(&sb, &format!("/registered_users/{id}"), t).await;
    assert_eq!(gone.status, 404);
    assert_eq!(gone.json(), json!({"detail": "Not found."}));
    assert_eq!(
        delete(&sb, &format!("/registered_users/{id}/delete"), t)
            .await
            .status,
        404
    );
    assert_eq!(get(&sb, "/registered_users", t).await.json(), before);
    assert_eq!(get(&sb, "/registered_users/abc", t).await.status, 404);
}

#[tokio::test]
async fn registered_user_validation() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    let empty = post(&sb, "/registered_users/add", t, &json!({})).await;
    assert_eq!(empty.status, 400);
    assert_eq!(
        empty.json(),
        json!({"name": ["This field is required."], "is_company": ["This field is required."]})
    );
    let bad = post(
        &sb,
        "/registered_users/add",
        t,
        &json!({"name": "X", "GAID": "nope", "is_company": "maybe"}),
    )
    .await;
    assert_eq!(
        bad.json(),
        json!({"is_company": ["Must be a valid boolean."]})
    );
    let bad_gaid = post(
        &sb,
        "/registered_users/add",
        t,
        &json!({"name": "X", "GAID": "nope", "is_company": true}),
    )
    .await;
    assert_eq!(bad_gaid.status, 400);
    assert_eq!(bad_gaid.json(), json!({"GAID": ["Invalid GAID."]}));
    let alice_gaid = get(&sb, "/registered_users/1", t).await.json()["GAID"].clone();
    let taken = post(
        &sb,
        "/registered_users/add",
        t,
        &json!({"name": "X", "GAID": alice_gaid, "is_company": true}),
    )
    .await;
    assert_eq!(taken.status, 400);
    assert!(taken.json()["GAID"][0]
        .as_str()
        .unwrap()
        .contains("already"));
    let no_gaid = post(
        &sb,
        "/registered_users/add",
        t,
        &json!({"name": "Y", "GAID": null, "is_company": true}),
    )
    .await;
    assert_eq!(no_gaid.status, 201);
    assert_eq!(no_gaid.json()["GAID"], Value::Null);
    let edit_blank = put(
        &sb,
        "/registered_users/1/edit",
        t,
        Some(&json!({"name": ""})),
    )
    .await;
    assert_eq!(
        edit_blank.json(),
        json!({"name": ["This field may not be blank."]})
    );
    assert_eq!(
        put(
            &sb,
            "/registered_users/99/edit",
            t,
            Some(&json!({"name": "Z"}))
        )
        .await
        .status,
        404
    );
}

#[tokio::test]
async fn registered_user_gaids_and_summary() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    // User 3 starts without a GAID.
    assert_eq!(
        get(&sb, "/registered_users/3/gaids", t).await.json(),
        json!([])
    );
    let added = post(
        &sb,
        "/registered_users/3/gaids/add",
        t,
        &json!({"GAID": NEW_GAID}),
    )
    .await;
    assert_eq!(added.status, 200, "{}", added.text);
    assert_eq!(
        added.json()["GAID"],
        NEW_GAID,
        "the first GAID becomes the default"
    );
    // The bare-string body form works too.
    let bare = post(&sb, "/registered_users/3/gaids/add", t, &json!(OTHER_GAID)).await;
    assert_eq!(bare.status, 200);
    assert_eq!(
        get(&sb, "/registered_users/3/gaids/", t).await.json(),
        json!([NEW_GAID, OTHER_GAID])
    );
    let default = post(
        &sb,
        "/registered_users/3/gaids/set-default",
        t,
        &json!(OTHER_GAID),
    )
    .await;
    assert_eq!(default.status, 200);
    assert_eq!(
        get(&sb, "/registered_users/3", t).await.json()["GAID"],
        OTHER_GAID
    );
    let object_default = post(
        &sb,
        "/registered_users/3/gaids/set-default",
        t,
        &json!({"GAID": NEW_GAID}),
    )
    .await;
    assert_eq!(object_default.json()["GAID"], NEW_GAID);

    let foreign = get(&sb, "/registered_users/1/gaids", t).await.json()[0].clone();
    let not_mine = post(&sb, "/registered_users/3/gaids/set-default", t, &foreign).await;
    assert_eq!(not_mine.status, 400);
    let invalid = post(&sb, "/registered_users/3/gaids/add", t, &json!("GAnope")).await;
    assert_eq!(invalid.json(), json!({"GAID": ["Invalid GAID."]}));
    let missing = post(&sb, "/registered_users/3/gaids/add", t, &json!({})).await;
    assert_eq!(missing.json(), json!({"GAID": ["This field is required."]}));
    assert_eq!(
        post(&sb, "/registered_users/42/gaids/add", t, &json!(OTHER_GAID))
            .await
            .status,
        404
    );

    let summary = get(&sb, "/registered_users/1/summary", t).await;
    assert_eq!(summary.status, 200);
    let summary = summary.json();
    for key in [
        "asset_uuid",
        "asset_id",
        "assignments",
        "assignments_sum",
        "distributions",
        "distributions_sum",
        "balance",
    ] {
        assert!(summary.get(key).is_some(), "{key}");
    }
    assert_eq!(summary["balance"], 1000);
}

#[tokio::test]
async fn category_round_trip_and_relations() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    let added = post(
        &sb,
        "/categories/add",
        t,
        &json!({"name": "Qualified", "description": "Qualified purchasers"}),
    )
    .await;
    assert_eq!(added.status, 201, "{}", added.text);
    let category = added.json();
    let id = category["id"].as_u64().unwrap();
    assert_eq!(category["registered_users"], json!([]));
    assert_eq!(category["assets"], json!([]));
    assert!(ids(&get(&sb, "/categories/", t).await.json(), "id").contains(&json!(id)));

    let edited = put(
        &sb,
        &format!("/categories/{id}/edit"),
        t,
        Some(&json!({"name": "Qualified 2"})),
    )
    .await;
    assert_eq!(edited.status, 200);
    assert_eq!(edited.json()["description"], "Qualified purchasers");
    let cleared = put(
        &sb,
        &format!("/categories/{id}/edit"),
        t,
        Some(&json!({"description": null})),
    )
    .await;
    assert_eq!(cleared.json()["description"], Value::Null);
    let fetched = get(&sb, &format!("/categories/{id}"), t).await.json();
    assert_eq!(fetched["name"], "Qualified 2");

    // Users: both sides move together.
    let with_user = put(
        &sb,
        &format!("/categories/{id}/registered_users/3/add"),
        t,
        None,
    )
    .await;
    assert_eq!(with_user.status, 200, "{}", with_user.text);
    assert_eq!(with_user.json()["registered_users"], json!([3]));
    assert_eq!(
        get(&sb, "/registered_users/3", t).await.json()["categories"],
        json!([id])
    );
    // Adding twice is harmless.
    put(
        &sb,
        &format!("/categories/{id}/registered_users/3/add"),
        t,
        None,
    )
    .await;
    assert_eq!(
        get(&sb, &format!("/categories/{id}"), t).await.json()["registered_users"],
        json!([3])
    );

    // Assets likewise, as the asset's requirements.
    let uuid = get(&sb, "/assets", t).await.json()[2]["asset_uuid"].clone();
    let uuid = uuid.as_str().unwrap();
    let with_asset = put(&sb, &format!("/categories/{id}/assets/{uuid}/add"), t, None).await;
    assert_eq!(with_asset.status, 200);
    assert_eq!(with_asset.json()["assets"], json!([uuid]));
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}"), t).await.json()["requirements"],
        json!([id])
    );

    let without_asset = put(
        &sb,
        &format!("/categories/{id}/assets/{uuid}/remove"),
        t,
        None,
    )
    .await;
    assert_eq!(without_asset.json()["assets"], json!([]));
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}"), t).await.json()["requirements"],
        json!([])
    );
    let without_user = put(
        &sb,
        &format!("/categories/{id}/registered_users/3/remove"),
        t,
        None,
    )
    .await;
    assert_eq!(without_user.json()["registered_users"], json!([]));
    assert_eq!(
        get(&sb, "/registered_users/3", t).await.json()["categories"],
        json!([])
    );

    // Unknown ends are 404s.
    assert_eq!(
        put(
            &sb,
            &format!("/categories/{id}/registered_users/99/add"),
            t,
            None
        )
        .await
        .status,
        404
    );
    assert_eq!(
        put(&sb, &format!("/categories/{id}/assets/nope/add"), t, None)
            .await
            .status,
        404
    );
    assert_eq!(
        put(&sb, "/categories/99/registered_users/1/add", t, None)
            .await
            .status,
        404
    );

    // Deleting a category takes it off its users.
    put(
        &sb,
        &format!("/categories/{id}/registered_users/1/add"),
        t,
        None,
    )
    .await;
    let deleted = delete(&sb, &format!("/categories/{id}/delete"), t).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.text.is_empty());
    assert_eq!(get(&sb, &format!("/categories/{id}"), t).await.status, 404);
    let alice = get(&sb, "/registered_users/1", t).await.json();
    assert!(!alice["categories"].as_array().unwrap().contains(&json!(id)));

    let bad = post(&sb, "/categories/add", t, &json!({"description": 5})).await;
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json(), json!({"name": ["This field is required."]}));
}

#[tokio::test]
async fn asset_routes() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    let assets = get(&sb, "/assets/", t).await.json();
    let assets = assets.as_array().unwrap();
    assert_eq!(assets.len(), 3);
    let asset = &assets[0];
    for key in [
        "name",
        "asset_uuid",
        "issuer",
        "asset_id",
        "reissuance_token_id",
        "requirements",
        "ticker",
        "precision",
        "domain",
        "pubkey",
        "is_registered",
        "is_authorized",
        "is_locked",
        "issuer_authorization_endpoint",
        "transfer_restricted",
    ] {
        assert!(asset.get(key).is_some(), "{key}");
    }
    assert_eq!(asset["asset_id"].as_str().unwrap().len(), 64);
    let uuid = asset["asset_uuid"].as_str().unwrap();
    assert_eq!(&get(&sb, &format!("/assets/{uuid}"), t).await.json(), asset);

    let locked = put(&sb, &format!("/assets/{uuid}/lock"), t, None).await;
    assert_eq!(locked.status, 200);
    assert_eq!(locked.json()["is_locked"], true);
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}"), t).await.json()["is_locked"],
        true
    );
    assert_eq!(
        put(&sb, &format!("/assets/{uuid}/unlock/"), t, None)
            .await
            .json()["is_locked"],
        false
    );

    assert_eq!(
        get(&sb, &format!("/assets/{uuid}/memo"), t).await.json(),
        json!("")
    );
    assert_eq!(
        post(&sb, &format!("/assets/{uuid}/memo/set"), t, &json!("hello"))
            .await
            .status,
        200
    );
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}/memo"), t).await.json(),
        json!("hello")
    );
    post(
        &sb,
        &format!("/assets/{uuid}/memo/set"),
        t,
        &json!({"memo": "object form"}),
    )
    .await;
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}/memo"), t).await.json(),
        json!("object form")
    );

    let summary = get(&sb, &format!("/assets/{uuid}/summary"), t).await.json();
    assert_eq!(summary["issued"], 1_000_000);
    assert_eq!(summary["assigned"], 1_250);
    assert_eq!(summary["distributed"], 1_000);

    let ownerships = get(&sb, &format!("/assets/{uuid}/ownerships"), t)
        .await
        .json();
    assert_eq!(ownerships[0]["amount"], 1_000);
    assert!(ownerships[0]["GAID"].is_string());

    let balance = get(&sb, &format!("/assets/{uuid}/balance"), t).await.json();
    assert!(balance["confirmed_balance"].is_array());
    assert_eq!(balance["lost_outputs"], json!([]));
    assert_eq!(balance["reissuance_lost_outputs"], json!([]));

    let activities = get(
        &sb,
        &format!("/assets/{uuid}/activities?start=0&count=10"),
        t,
    )
    .await
    .json();
    assert_eq!(activities[0]["type"], "issuance");
    assert!(activities[0].get("registered user").is_some());

    let assignments = get(&sb, &format!("/assets/{uuid}/assignments"), t)
        .await
        .json();
    let first = &assignments[0];
    for key in [
        "id",
        "registered_user",
        "amount",
        "ready_for_distribution",
        "is_distributed",
        "GAID",
        "has_vested",
    ] {
        assert!(first.get(key).is_some(), "{key}");
    }
    let id = first["id"].as_u64().unwrap();
    assert_eq!(
        &get(&sb, &format!("/assets/{uuid}/assignments/{id}"), t)
            .await
            .json(),
        first
    );
    assert_eq!(
        get(&sb, &format!("/assets/{uuid}/assignments/999"), t)
            .await
            .status,
        404
    );

    for suffix in [
        "",
        "/summary",
        "/memo",
        "/ownerships",
        "/balance",
        "/activities",
        "/assignments",
    ] {
        let answer = get(&sb, &format!("/assets/no-such-uuid{suffix}"), t).await;
        assert_eq!(answer.status, 404, "{suffix}");
        assert_eq!(answer.json(), json!({"detail": "Not found."}));
    }
}

#[tokio::test]
async fn gaid_routes() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    let alice = get(&sb, "/registered_users/1", t).await.json();
    let gaid = alice["GAID"].as_str().unwrap();

    let valid = get(&sb, &format!("/gaids/{gaid}/validate"), t).await;
    assert_eq!(valid.json(), json!({"is_valid": true}));
    for bad in [
        "GBxxxxxxxxxxxxxxxxxxxxxxxx",
        "GA0OIl0OIl0OIl0OIl0OIl0OIl",
        "GAshort",
    ] {
        let invalid = get(&sb, &format!("/gaids/{bad}/validate"), t).await;
        assert_eq!(invalid.status, 200);
        let invalid = invalid.json();
        assert_eq!(invalid["is_valid"], false, "{bad}");
        assert!(invalid["error"].is_string(), "{bad}");
    }

    let address = get(&sb, &format!("/gaids/{gaid}/address"), t).await.json();
    let address = address["address"].as_str().unwrap().to_owned();
    assert!(!address.is_empty());
    assert_eq!(
        get(&sb, &format!("/gaids/{gaid}/address/"), t).await.json()["address"],
        address
    );
    let bad_address = get(&sb, "/gaids/nope/address", t).await;
    assert_eq!(bad_address.status, 400);
    assert!(bad_address.json()["error"].is_string());

    let owner = get(&sb, &format!("/gaids/{gaid}/registered_user"), t).await;
    assert_eq!(owner.status, 200);
    assert_eq!(owner.json(), alice);
    assert_eq!(
        get(&sb, &format!("/gaids/{NEW_GAID}/registered_user"), t)
            .await
            .status,
        404
    );

    let balance = get(&sb, &format!("/gaids/{gaid}/balance"), t).await.json();
    assert_eq!(balance[0]["balance"], 1_000);
}

#[tokio::test]
async fn manager_routes() {
    let (sb, t) = sandbox_and_token().await;
    let t = Some(t.as_str());
    let managers = get(&sb, "/managers/", t).await.json();
    let manager = &managers[0];
    for key in ["id", "username", "is_locked", "assets"] {
        assert!(manager.get(key).is_some(), "{key}");
    }
    let id = manager["id"].as_u64().unwrap();
    assert_eq!(
        &get(&sb, &format!("/managers/{id}"), t).await.json(),
        manager
    );
    assert_eq!(get(&sb, "/managers/99", t).await.status, 404);
    let me = get(&sb, "/managers/me", t).await;
    assert_eq!(me.status, 404);
    assert!(me.json()["detail"].is_string());
}

#[tokio::test]
async fn without_sample_data_the_store_is_empty() {
    let sb = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    let t = login(&sb).await;
    let t = Some(t.as_str());
    for path in ["/assets", "/registered_users", "/categories", "/managers"] {
        assert_eq!(get(&sb, path, t).await.json(), json!([]), "{path}");
    }
    let first = post(
        &sb,
        "/registered_users/add",
        t,
        &json!({"name": "First", "is_company": false}),
    )
    .await;
    assert_eq!(first.json()["id"], 1);
}

// ---- control endpoint ---------------------------------------------------------

async fn control(sb: &Sandbox, method: reqwest::Method, path: &str, body: Option<Value>) -> Answer {
    let mut request = http().request(method, format!("{}{}", sb.control_url(), path));
    if let Some(body) = body {
        request = request.body(body.to_string());
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        headers: response.headers().clone(),
        text: response.text().await.unwrap(),
    }
}

#[tokio::test]
async fn control_endpoint() {
    use reqwest::Method;
    let sb = Sandbox::start().await.unwrap();
    assert!(sb.control_url().ends_with("/_sandbox"));
    assert_eq!(
        sb.base_url(),
        format!("http://127.0.0.1:{}/api", sb.addr().port())
    );
    let token = login(&sb).await;

    // Stats: counts by route and the records; control calls are not counted.
    let stats = control(&sb, Method::GET, "/stats", None).await;
    assert_eq!(stats.status, 200);
    let json = stats.json();
    assert_eq!(json["total"], 1);
    assert_eq!(json["by_route"], json!({"POST /user/obtain_token": 1}));
    assert_eq!(json["requests"][0]["route"], "/user/obtain_token");
    assert_eq!(json["requests"][0]["status"], 200);
    let parsed: Stats = serde_json::from_str(&stats.text).unwrap();
    assert_eq!(parsed, sb.stats());

    // A queued fault, several at once, and a rate.
    let queued = control(
        &sb,
        Method::POST,
        "/faults",
        Some(
            json!({"route": "/api/info/", "fault": {"kind": "status", "status": 503}, "count": 2}),
        ),
    )
    .await;
    assert_eq!(queued.status, 200, "{}", queued.text);
    assert_eq!(queued.json()["route"], "/info");
    assert_eq!(get(&sb, "/info", None).await.status, 503);
    assert_eq!(get(&sb, "/info", None).await.status, 503);
    assert_eq!(get(&sb, "/info", None).await.status, 200);
    control(
        &sb,
        Method::POST,
        "/faults",
        Some(json!({"route": "/info", "fault": {"kind": "rate_limit_seconds", "seconds": 3}, "probability": 1.0})),
    )
    .await;
    let limited = get(&sb, "/info", None).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.header("retry-after").as_deref(), Some("3"));
    let records = sb.stats().requests;
    assert_eq!(
        records.last().unwrap().fault,
        Some(Fault::RateLimitSeconds(3))
    );
    assert_eq!(
        control(&sb, Method::DELETE, "/faults", None).await.status,
        204
    );
    assert_eq!(get(&sb, "/info", None).await.status, 200);

    // Bad fault requests are refused with a reason.
    for body in [
        json!({"route": "/info", "fault": {"kind": "nope"}}),
        json!({"route": "/info", "fault": {"kind": "delay"}}),
        json!({"fault": {"kind": "drop_connection"}}),
        json!({"route": "/info", "fault": {"kind": "malformed_body"}, "probability": 2.0}),
    ] {
        let refused = control(&sb, Method::POST, "/faults", Some(body.clone())).await;
        assert_eq!(refused.status, 400, "{body}");
        assert!(refused.json()["detail"].is_string());
    }

    // Revoke.
    assert_eq!(get(&sb, "/assets", Some(&token)).await.status, 200);
    assert_eq!(
        control(&sb, Method::POST, "/revoke", None).await.status,
        204
    );
    assert_eq!(get(&sb, "/assets", Some(&token)).await.status, 401);

    // Token life.
    let life = control(
        &sb,
        Method::POST,
        "/token-life",
        Some(json!({"seconds": 0})),
    )
    .await;
    assert_eq!(life.status, 200);
    let short = login(&sb).await;
    assert!(!sb.is_token_valid(&short));
    assert_eq!(
        control(
            &sb,
            Method::POST,
            "/token-life",
            Some(json!({"seconds": -1}))
        )
        .await
        .status,
        400
    );
    control(
        &sb,
        Method::POST,
        "/token-life/",
        Some(json!({"seconds": 60})),
    )
    .await;
    let token = login(&sb).await;
    assert!(sb.is_token_valid(&token));

    // Refresh revokes old.
    let on = control(
        &sb,
        Method::POST,
        "/refresh-revokes-old",
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(on.status, 200);
    get(&sb, "/user/refresh-token", Some(&token)).await;
    assert!(!sb.is_token_valid(&token));

    // Reset.
    assert!(sb.stats().total() > 0);
    assert_eq!(control(&sb, Method::POST, "/reset", None).await.status, 204);
    assert_eq!(sb.stats().total(), 0);
    let stats = control(&sb, Method::GET, "/stats/", None).await.json();
    assert_eq!(stats, json!({"total": 0, "by_route": {}, "requests": []}));
}
