//! The resource handlers (`assets`, `registered_users`, `categories`, `gaids`,
//! `managers`, `info`, `changelog`):
//!
//! - against `wiremock`, for exact request bodies and for tolerant reading of
//!   answers (unknown fields, nulls, empty 204s, the alternative shapes that
//!   amp-api.md marks UNCERTAIN);
//! - against the `amp-sandbox` server, for whole flows: every endpoint called
//!   once with its method and path checked from the server's records, and the
//!   add → list → edit → get → delete round trips.

use crate::common::resources as support;

use amp_client::model::{
    ActivitiesQuery, CategoryEdit, Lenient, Memo, NewCategory, NewRegisteredUser,
};
use amp_client::StatusCode;
use serde_json::{json, Value};
use support::*;
use wiremock::matchers::{body_json, method, path};
use wiremock::{Mock, ResponseTemplate};

// ---- wiremock -------------------------------------------------------------------

fn user_json(id: i64, name: &str, gaid: Option<&str>) -> Value {
    json!({
        "id": id, "GAID": gaid, "is_company": false, "name": name,
        "categories": [], "creator": 1, "some_new_field": {"x": 1},
    })
}

#[tokio::test]
async fn registered_user_add_sends_name_upper_case_gaid_and_is_company() -> TestResult {
    let (server, client) = mock().await?;
    Mock::given(method("POST"))
        .and(path("/api/registered_users/add"))
        .and(body_json(
            json!({"name": "Alice", "GAID": null, "is_company": false}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(user_json(7, "Alice", None)))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/registered_users/add"))
        .and(body_json(
            json!({"name": "Corp", "GAID": GAID, "is_company": true}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(user_json(8, "Corp", Some(GAID))))
        .expect(1)
        .mount(&server)
        .await;

    let users = client.registered_users();
    let alice = users.add(&NewRegisteredUser::new("Alice")).await?;
    assert_eq!((alice.id, alice.gaid.as_deref()), (7, None));
    let corp = NewRegisteredUser::new("Corp").gaid(GAID).company(true);
    let corp = users.add(&corp).await?;
    assert_eq!((corp.id, corp.gaid.as_deref()), (8, Some(GAID)));
    Ok(())
}

#[tokio::test]
async fn registered_user_edit_and_gaid_bodies() -> TestResult {
    let (server, client) = mock().await?;
    Mock::given(method("PUT"))
        .and(path("/api/registered_users/7/edit"))
        .and(body_json(json!({"name": "Alice Example"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json(7, "Alice Example", None)))
        .expect(1)
        .mount(&server)
        .await;
    // The CLI's documented form: {"GAID": str}, not a bare string.
    Mock::given(method("POST"))
        .and(path("/api/registered_users/7/gaids/add"))
        .and(body_json(json!({ "GAID": GAID })))
        .respond_with(ResponseTemplate::new(200))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .and(path("/api/registered_users/7/gaids/set-default"))
        .and(body_json(json!({ "GAID": GAID })))
        .respond_with(ResponseTemplate::new(200).set_body_json(user_json(7, "A", Some(GAID))))
        .expect(1)
        .mount(&server)
        .await;

    let users = client.registered_users();
    assert_eq!(users.edit(7, "Alice Example").await?.name, "Alice Example");
    // An empty 200: still a success, with nothing typed in it.
    assert_eq!(users.add_gaid(7, GAID).await?, Lenient::Raw(Value::Null));
    let set = users.set_default_gaid(7, GAID).await?;
    assert_eq!(set.typed().and_then(|u| u.gaid.as_deref()), Some(GAID));
    Ok(())
}

#[tokio::test]
async fn memo_is_set_as_a_bare_string_and_read_in_either_form() -> TestResult {
    let (server, client) = mock().await?;
    Mock::given(method("POST"))
        .and(path("/api/assets/abc/memo/set"))
        .and(body_json(json!("Series A & B, \"2024\"")))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!("Series A & B, \"2024\"")))
        .expect(1)
        .mount(&server)
        .await;
    answer(&server, "GET", "/api/assets/abc/memo", 200, json!("plain")).await;
    answer(
        &server,
        "GET",
        "/api/assets/obj/memo",
        200,
        json!({"memo": "in an object"}),
    )
    .await;
    answer(&server, "GET", "/api/assets/none/memo", 200, Value::Null).await;

    let assets = client.assets();
    let set = assets.set_memo("abc", "Series A & B, \"2024\"").await?;
    assert_eq!(set, Lenient::Typed(Memo("Series A & B, \"2024\"".into())));
    assert_eq!(assets.memo("abc").await?.as_str(), "plain");
    assert_eq!(assets.memo("obj").await?.as_str(), "in an object");
    assert_eq!(assets.memo("none").await?.as_str(), "");
    Ok(())
}

#[tokio::test]
async fn category_add_and_edit_bodies() -> TestResult {
    let (server, client) = mock().await?;
    let category = json!({"id": 3, "name": "EU", "description": null, "registered_users": [], "assets": [], "extra": true});
    Mock::given(method("POST"))
        .and(path("/api/categories/add"))
        .and(body_json(
            json!({"name": "EU", "description": "Resident in the EU"}),
        ))
        .respond_with(ResponseTemplate::new(201).set_body_json(&category))
        .expect(1)
        .mount(&server)
        .await;
    // Only the fields that are Some: the name is not sent at all.
    Mock::given(method("PUT"))
        .and(path("/api/categories/3/edit"))
        .and(body_json(json!({"description": "Resident in the EU"})))
        .respond_with(ResponseTemplate::new(200).set_body_json(&category))
        .expect(1)
        .mount(&server)
        .await;

    let categories = client.categories();
    let c = categories
        .add(&NewCategory::new("EU", "Resident in the EU"))
        .await?;
    assert_eq!((c.id, c.description), (3, None));
    let edit = CategoryEdit {
        description: Some("Resident in the EU".into()),
        ..CategoryEdit::default()
    };
    assert_eq!(categories.edit(3, &edit).await?.id, 3);
    Ok(())
}

#[tokio::test]
async fn deletes_read_204_and_empty_200_as_unit() -> TestResult {
    let (server, client) = mock().await?;
    answer(
        &server,
        "DELETE",
        "/api/registered_users/7/delete",
        204,
        Value::Null,
    )
    .await;
    answer(
        &server,
        "DELETE",
        "/api/categories/3/delete",
        200,
        Value::Null,
    )
    .await;
    client.registered_users().delete(7).await?;
    client.categories().delete(3).await?;
    Ok(())
}

#[tokio::test]
async fn answers_with_unknown_fields_and_nulls_parse() -> TestResult {
    let (server, client) = mock().await?;
    answer(
        &server,
        "GET",
        "/api/assets/",
        200,
        json!([{
            "name": "Bond", "asset_uuid": "abc", "issuer": null, "asset_id": null,
            "reissuance_token_id": null, "ticker": null, "precision": null, "domain": null,
            "pubkey": null, "issuer_authorization_endpoint": null, "brand_new": [1, 2],
        }]),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/registered_users/",
        200,
        json!([{"id": 1, "GAID": null, "name": "Bob"}]),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/assets/abc/activities",
        200,
        json!([
            {"type": "issuance", "datetime": "2024-03-01T10:00:00Z", "description": "Issued",
             "txid": "aa", "vout": 0, "blockheight": 5, "asset_blinder": "b", "amount_blinder": "c",
             "registered user": null, "amount": 10, "unknown": "x"},
            {"type": "distribution", "registered user": 4, "amount": 3},
        ]),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/assets/abc/assignments/9",
        200,
        json!({"id": 9, "registered_user": 4, "amount": 5, "receiving_address": null,
               "distribution_uuid": null, "vesting_datetime": null, "vesting_timestamp": null,
               "GAID": null, "investor": 4, "later": {}}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/managers/",
        200,
        json!([{"id": 2, "username": "m", "is_locked": true, "assets": ["abc"], "email": "x"}]),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/gaids/GA3x/address",
        200,
        json!({"error": "unknown GAID"}),
    )
    .await;

    let assets = client.assets().list().await?;
    assert_eq!(
        (assets[0].name.as_str(), assets[0].precision),
        ("Bond", None)
    );
    let users = client.registered_users().list().await?;
    assert_eq!(
        (users[0].gaid.clone(), users[0].categories.len()),
        (None, 0)
    );
    let activities = client.assets().activities("abc", None).await?;
    assert_eq!(activities[0].kind, "issuance");
    assert_eq!(activities[0].registered_user, None);
    assert_eq!(activities[1].registered_user, Some(4));
    let a = client.assignments("abc").get(9).await?;
    assert_eq!(
        (a.registered_user, a.investor, a.gaid),
        (Some(4), Some(4), None)
    );
    assert!(client.managers().list().await?[0].is_locked);
    let address = client.gaids().address("GA3x").await?;
    assert_eq!(
        (address.address, address.error.as_deref()),
        (None, Some("unknown GAID"))
    );
    Ok(())
}

#[tokio::test]
async fn uncertain_shapes_are_read_in_every_form() -> TestResult {
    let (server, client) = mock().await?;
    // Registered-user summary: one object (amp-rs) or one per asset.
    answer(
        &server,
        "GET",
        "/api/registered_users/1/summary",
        200,
        json!({"asset_uuid": "abc", "balance": 5}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/registered_users/2/summary",
        200,
        json!([{"asset_uuid": "abc", "balance": 5}, {"asset_uuid": "def", "balance": 6}]),
    )
    .await;
    // GAID list: bare strings (amp-rs) or objects.
    answer(
        &server,
        "GET",
        "/api/registered_users/1/gaids",
        200,
        json!([GAID, {"GAID": "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf", "is_default": true}, {"gaid": "GA5y"}]),
    )
    .await;
    // Balance: an object with lost_outputs (the official script) or a list (amp-rs).
    answer(
        &server,
        "GET",
        "/api/assets/abc/balance",
        200,
        json!({"confirmed_balance": [{"owner": "Alice", "amount": 5, "GAID": GAID, "subaccount": 1}],
               "lost_outputs": [{"txid": "aa", "vout": 1}], "unconfirmed_balance": []}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/assets/def/balance",
        200,
        json!([{"GAID": GAID, "amount": 5}]),
    )
    .await;
    // Lock: the asset (amp-rs), anything else, or nothing.
    answer(
        &server,
        "PUT",
        "/api/assets/abc/lock",
        200,
        json!({"name": "Bond", "asset_uuid": "abc", "is_locked": true}),
    )
    .await;
    answer(
        &server,
        "PUT",
        "/api/assets/abc/unlock",
        200,
        json!({"detail": "unlocked"}),
    )
    .await;
    answer(&server, "PUT", "/api/assets/def/lock", 204, Value::Null).await;
    // Category add-asset: the category (amp-rs) or the asset's requirements (CLI).
    answer(
        &server,
        "PUT",
        "/api/categories/3/assets/abc/add",
        200,
        json!({"requirements": [3]}),
    )
    .await;
    answer(
        &server,
        "PUT",
        "/api/categories/3/registered_users/1/add",
        200,
        json!({"id": 3, "name": "EU", "registered_users": [1]}),
    )
    .await;

    let users = client.registered_users();
    assert_eq!(users.summary(1).await?.len(), 1);
    let per_asset = users.summary(2).await?;
    assert_eq!(per_asset[1].asset_uuid.as_deref(), Some("def"));
    let gaids = users.gaids(1).await?;
    let names: Vec<&str> = gaids.iter().map(|g| g.gaid.as_str()).collect();
    assert_eq!(names, [GAID, "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf", "GA5y"]);
    assert_eq!(gaids[1].extra["is_default"], true);

    let object = client.assets().balance("abc").await?;
    assert_eq!(object.lost_outputs[0].vout, 1);
    assert_eq!(object.confirmed_balance[0].extra["subaccount"], 1);
    assert!(object.extra.contains_key("unconfirmed_balance"));
    let list = client.assets().balance("def").await?;
    assert_eq!(list.confirmed_balance[0].amount, 5);
    assert!(list.lost_outputs.is_empty());

    let locked = client.assets().lock("abc").await?;
    assert!(locked.typed().is_some_and(|a| a.is_locked));
    let unlocked = client.assets().unlock("abc").await?;
    assert_eq!(unlocked.raw(), Some(&json!({"detail": "unlocked"})));
    assert_eq!(
        client.assets().lock("def").await?,
        Lenient::Raw(Value::Null)
    );

    let added = client.categories().add_asset(3, "abc").await?;
    assert_eq!(added.raw(), Some(&json!({"requirements": [3]})));
    let joined = client.categories().add_registered_user(3, 1).await?;
    assert_eq!(
        joined.typed().map(|c| c.registered_users.clone()),
        Some(vec![1])
    );
    Ok(())
}

#[tokio::test]
async fn activities_query_is_percent_encoded() -> TestResult {
    let (server, client) = mock().await?;
    answer(&server, "GET", "/api/assets/abc/activities", 200, json!([])).await;
    let query = ActivitiesQuery {
        start: Some(10),
        count: Some(20),
        sortcolumn: Some("block height&x=1".into()),
        sortorder: Some("desc".into()),
        height_start: Some(100),
        height_stop: Some(200),
    };
    client.assets().activities("abc", Some(&query)).await?;
    client
        .assets()
        .activities("abc", Some(&ActivitiesQuery::default()))
        .await?;
    client.assets().activities("abc", None).await?;

    let requests = server.received_requests().await.unwrap_or_default();
    let queries: Vec<Option<String>> = requests
        .iter()
        .filter(|r| r.url.path() == "/api/assets/abc/activities")
        .map(|r| r.url.query().map(str::to_owned))
        .collect();
    assert_eq!(
        queries,
        [
            Some(
                "start=10&count=20&height_start=100&height_stop=200\
                 &sortcolumn=block+height%26x%3D1&sortorder=desc"
                    .to_owned()
            ),
            None,
            None,
        ]
    );
    let first = &requests
        .iter()
        .find(|r| r.url.query().is_some())
        .ok_or("no query")?
        .url;
    let pairs: Vec<(String, String)> = first.query_pairs().into_owned().collect();
    assert!(pairs.contains(&("sortcolumn".into(), "block height&x=1".into())));
    Ok(())
}

#[tokio::test]
async fn ids_that_are_not_one_path_segment_are_refused_before_sending() -> TestResult {
    let (server, client) = mock().await?;
    for bad in ["../user", "a/b", "x?y", "", ".."] {
        let err = client.assets().get(bad).await.err().ok_or("accepted")?;
        assert!(err.is_invalid_input(), "{bad}: {err}");
        let err = client.gaids().validate(bad).await.err().ok_or("accepted")?;
        assert!(err.is_invalid_input(), "{bad}: {err}");
        let err = client
            .categories()
            .add_asset(1, bad)
            .await
            .err()
            .ok_or("accepted")?;
        assert!(err.is_invalid_input(), "{bad}: {err}");
    }
    assert!(server
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty());
    Ok(())
}

#[tokio::test]
async fn changelog_is_a_map_and_errors_keep_their_status() -> TestResult {
    let (server, client) = mock().await?;
    answer(
        &server,
        "GET",
        "/api/changelog",
        200,
        json!({"0.1.2": "precision", "0.1.10": "txs"}),
    )
    .await;
    answer(
        &server,
        "GET",
        "/api/registered_users/99",
        404,
        json!({"detail": "Not found."}),
    )
    .await;
    let changelog = client.changelog().await?;
    assert_eq!(changelog.get("0.1.10").map(String::as_str), Some("txs"));
    let err = client
        .registered_users()
        .get(99)
        .await
        .err()
        .ok_or("found")?;
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    Ok(())
}

// ---- the sandbox -------------------------------------------------------------------

#[tokio::test]
async fn every_asset_endpoint_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let assets = client.assets();

    let list = assets.list().await?;
    check(&sb, "GET", "/assets", "/api/assets/")?;
    assert!(!list.is_empty());
    // The sample asset that has assignments and a distribution.
    let mut uuid = String::new();
    for a in &list {
        if !client.assignments(&a.asset_uuid).list().await?.is_empty() {
            uuid.clone_from(&a.asset_uuid);
            break;
        }
    }
    assert!(!uuid.is_empty(), "no sample asset with assignments");
    let base = format!("/api/assets/{uuid}");

    let asset = assets.get(&uuid).await?;
    check(&sb, "GET", "/assets/{assetUuid}", &base)?;
    assert_eq!(asset.asset_uuid, uuid);

    let summary = assets.summary(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/summary",
        &format!("{base}/summary"),
    )?;
    assert!(summary.issued > 0);
    assert_eq!(summary.asset_id, asset.asset_id);

    let locked = assets.lock(&uuid).await?;
    check(
        &sb,
        "PUT",
        "/assets/{assetUuid}/lock",
        &format!("{base}/lock"),
    )?;
    assert!(locked.typed().is_some_and(|a| a.is_locked), "{locked:?}");
    assert!(assets.get(&uuid).await?.is_locked);
    let unlocked = assets.unlock(&uuid).await?;
    check(
        &sb,
        "PUT",
        "/assets/{assetUuid}/unlock",
        &format!("{base}/unlock"),
    )?;
    assert!(
        unlocked.typed().is_some_and(|a| !a.is_locked),
        "{unlocked:?}"
    );

    assets.set_memo(&uuid, "Series A, 2024").await?;
    check(
        &sb,
        "POST",
        "/assets/{assetUuid}/memo/set",
        &format!("{base}/memo/set"),
    )?;
    let memo = assets.memo(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/memo",
        &format!("{base}/memo"),
    )?;
    assert_eq!(memo.as_str(), "Series A, 2024");

    let ownerships = assets.ownerships(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/ownerships",
        &format!("{base}/ownerships"),
    )?;
    assert!(ownerships.iter().all(|o| o.amount > 0));

    let balance = assets.balance(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/balance",
        &format!("{base}/balance"),
    )?;
    assert!(balance.lost_outputs.is_empty());
    let held: i64 = balance.confirmed_balance.iter().map(|b| b.amount).sum();
    assert_eq!(held, ownerships.iter().map(|o| o.amount).sum::<i64>());

    let lost = assets.lost_outputs(&uuid).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/lost-outputs",
        &format!("{base}/lost-outputs"),
    )?;
    assert!(lost.lost_outputs.is_empty());

    let activities = assets.activities(&uuid, None).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/activities",
        &format!("{base}/activities"),
    )?;
    assert!(activities.iter().any(|a| a.kind == "issuance"));
    assert!(activities.iter().any(|a| a.registered_user.is_some()));
    let query = ActivitiesQuery {
        count: Some(5),
        ..ActivitiesQuery::default()
    };
    assets.activities(&uuid, Some(&query)).await?;
    // The query is not part of the recorded path.
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/activities",
        &format!("{base}/activities"),
    )?;

    let assignments = client.assignments(&uuid).list().await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/assignments",
        &format!("{base}/assignments"),
    )?;
    let first = assignments.first().ok_or("no assignment")?;
    let one = client.assignments(&uuid).get(first.id).await?;
    check(
        &sb,
        "GET",
        "/assets/{assetUuid}/assignments/{assignmentId}",
        &format!("{base}/assignments/{}", first.id),
    )?;
    assert_eq!(&one, first);

    let err = assets.get("no-such-asset").await.err().ok_or("found")?;
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert_eq!(sb.count("POST", "/user/obtain_token"), 1);
    Ok(())
}

#[tokio::test]
async fn registered_users_round_trip_and_every_endpoint() -> TestResult {
    let (sb, client) = sandbox().await?;
    let users = client.registered_users();

    // add → list
    let added = users.add(&NewRegisteredUser::new("Round Trip")).await?;
    check(
        &sb,
        "POST",
        "/registered_users/add",
        "/api/registered_users/add",
    )?;
    assert_eq!(last(&sb)?.status, 201);
    assert_eq!(
        (added.name.as_str(), added.gaid.as_deref()),
        ("Round Trip", None)
    );
    let id = added.id;
    let listed = users.list().await?;
    check(&sb, "GET", "/registered_users", "/api/registered_users/")?;
    assert!(listed.contains(&added));

    // edit → get
    let edited = users.edit(id, "Round Trip Renamed").await?;
    check(
        &sb,
        "PUT",
        "/registered_users/{registeredUserId}/edit",
        &format!("/api/registered_users/{id}/edit"),
    )?;
    assert_eq!(edited.name, "Round Trip Renamed");
    let got = users.get(id).await?;
    check(
        &sb,
        "GET",
        "/registered_users/{registeredUserId}",
        &format!("/api/registered_users/{id}"),
    )?;
    assert_eq!(got, edited);

    // GAIDs: add (the first becomes the default), list, set default.
    let gaid_a = "GA3abcdefghijkmnopqrstuvwx";
    let gaid_b = "GA3bcdefghijkmnopqrstuvwxy";
    let after_add = users.add_gaid(id, gaid_a).await?;
    check(
        &sb,
        "POST",
        "/registered_users/{registeredUserId}/gaids/add",
        &format!("/api/registered_users/{id}/gaids/add"),
    )?;
    assert_eq!(
        after_add.typed().and_then(|u| u.gaid.as_deref()),
        Some(gaid_a)
    );
    users.add_gaid(id, gaid_b).await?;
    let gaids = users.gaids(id).await?;
    check(
        &sb,
        "GET",
        "/registered_users/{registeredUserId}/gaids",
        &format!("/api/registered_users/{id}/gaids"),
    )?;
    let gaids: Vec<&str> = gaids.iter().map(|g| g.gaid.as_str()).collect();
    assert_eq!(gaids, [gaid_a, gaid_b]);
    users.set_default_gaid(id, gaid_b).await?;
    check(
        &sb,
        "POST",
        "/registered_users/{registeredUserId}/gaids/set-default",
        &format!("/api/registered_users/{id}/gaids/set-default"),
    )?;
    assert_eq!(users.get(id).await?.gaid.as_deref(), Some(gaid_b));

    let summary = users.summary(id).await?;
    check(
        &sb,
        "GET",
        "/registered_users/{registeredUserId}/summary",
        &format!("/api/registered_users/{id}/summary"),
    )?;
    assert_eq!(summary.len(), 1);
    assert!(summary[0].assignments.is_empty());

    // A sample user with assignments has a non-empty summary.
    let holder = listed
        .iter()
        .find(|u| u.gaid.is_some() && u.id != id)
        .ok_or("no sample user")?;
    let theirs = users.summary(holder.id).await?;
    assert!(!theirs[0].assignments.is_empty(), "{theirs:?}");

    // delete → get is 404
    users.delete(id).await?;
    check(
        &sb,
        "DELETE",
        "/registered_users/{registeredUserId}/delete",
        &format!("/api/registered_users/{id}/delete"),
    )?;
    assert_eq!(last(&sb)?.status, 204);
    let err = users.get(id).await.err().ok_or("still there")?;
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(!users.list().await?.iter().any(|u| u.id == id));
    Ok(())
}

#[tokio::test]
async fn categories_round_trip_and_every_endpoint() -> TestResult {
    let (sb, client) = sandbox().await?;
    let categories = client.categories();

    // add → list
    let added = categories
        .add(&NewCategory::new("Round trip", "Created by a test"))
        .await?;
    check(&sb, "POST", "/categories/add", "/api/categories/add")?;
    assert_eq!(last(&sb)?.status, 201);
    assert_eq!(added.description.as_deref(), Some("Created by a test"));
    let id = added.id;
    let listed = categories.list().await?;
    check(&sb, "GET", "/categories", "/api/categories/")?;
    assert!(listed.contains(&added));

    // edit (the name only: the description stays) → get
    let edit = CategoryEdit {
        name: Some("Round trip renamed".into()),
        ..CategoryEdit::default()
    };
    let edited = categories.edit(id, &edit).await?;
    check(
        &sb,
        "PUT",
        "/categories/{categoryId}/edit",
        &format!("/api/categories/{id}/edit"),
    )?;
    assert_eq!(edited.name, "Round trip renamed");
    assert_eq!(edited.description.as_deref(), Some("Created by a test"));
    let got = categories.get(id).await?;
    check(
        &sb,
        "GET",
        "/categories/{categoryId}",
        &format!("/api/categories/{id}"),
    )?;
    assert_eq!(got, edited);

    // memberships, seen from both sides
    let user = client
        .registered_users()
        .list()
        .await?
        .into_iter()
        .next()
        .ok_or("no sample user")?;
    let uid = user.id;
    let joined = categories.add_registered_user(id, uid).await?;
    check(
        &sb,
        "PUT",
        "/categories/{categoryId}/registered_users/{registeredUserId}/add",
        &format!("/api/categories/{id}/registered_users/{uid}/add"),
    )?;
    assert!(joined
        .typed()
        .is_some_and(|c| c.registered_users.contains(&uid)));
    assert!(client
        .registered_users()
        .get(uid)
        .await?
        .categories
        .contains(&id));
    let left = categories.remove_registered_user(id, uid).await?;
    check(
        &sb,
        "PUT",
        "/categories/{categoryId}/registered_users/{registeredUserId}/remove",
        &format!("/api/categories/{id}/registered_users/{uid}/remove"),
    )?;
    assert!(left.typed().is_some_and(|c| c.registered_users.is_empty()));

    let uuid = client.assets().list().await?[0].asset_uuid.clone();
    let required = categories.add_asset(id, &uuid).await?;
    check(
        &sb,
        "PUT",
        "/categories/{categoryId}/assets/{assetUuid}/add",
        &format!("/api/categories/{id}/assets/{uuid}/add"),
    )?;
    assert!(required.typed().is_some_and(|c| c.assets.contains(&uuid)));
    assert!(client.assets().get(&uuid).await?.requirements.contains(&id));
    categories.remove_asset(id, &uuid).await?;
    check(
        &sb,
        "PUT",
        "/categories/{categoryId}/assets/{assetUuid}/remove",
        &format!("/api/categories/{id}/assets/{uuid}/remove"),
    )?;
    assert!(!client.assets().get(&uuid).await?.requirements.contains(&id));

    // delete → get is 404
    categories.delete(id).await?;
    check(
        &sb,
        "DELETE",
        "/categories/{categoryId}/delete",
        &format!("/api/categories/{id}/delete"),
    )?;
    assert_eq!(last(&sb)?.status, 204);
    let err = categories.get(id).await.err().ok_or("still there")?;
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));
    assert!(!categories.list().await?.iter().any(|c| c.id == id));
    Ok(())
}

#[tokio::test]
async fn gaids_managers_info_and_changelog_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let owner = client
        .registered_users()
        .list()
        .await?
        .into_iter()
        .find(|u| u.gaid.is_some())
        .ok_or("no sample user with a GAID")?;
    let gaid = owner.gaid.clone().ok_or("no GAID")?;
    let gaids = client.gaids();

    let valid = gaids.validate(&gaid).await?;
    check(
        &sb,
        "GET",
        "/gaids/{gaid}/validate",
        &format!("/api/gaids/{gaid}/validate"),
    )?;
    assert_eq!((valid.is_valid, valid.error), (true, None));
    let invalid = gaids.validate("GB-not-a-gaid").await?;
    assert!(!invalid.is_valid && invalid.error.is_some());

    let address = gaids.address(&gaid).await?;
    check(
        &sb,
        "GET",
        "/gaids/{gaid}/address",
        &format!("/api/gaids/{gaid}/address"),
    )?;
    assert!(address.address.is_some_and(|a| !a.is_empty()));

    let user = gaids.registered_user(&gaid).await?;
    check(
        &sb,
        "GET",
        "/gaids/{gaid}/registered_user",
        &format!("/api/gaids/{gaid}/registered_user"),
    )?;
    assert_eq!(user, owner);

    let balance = gaids.balance(&gaid).await?;
    check(
        &sb,
        "GET",
        "/gaids/{gaid}/balance",
        &format!("/api/gaids/{gaid}/balance"),
    )?;
    assert!(balance.iter().all(|b| b.balance > 0));

    let managers = client.managers();
    let list = managers.list().await?;
    check(&sb, "GET", "/managers", "/api/managers/")?;
    let first = list.first().ok_or("no sample manager")?;
    let one = managers.get(first.id).await?;
    check(
        &sb,
        "GET",
        "/managers/{managerId}",
        &format!("/api/managers/{}", first.id),
    )?;
    assert_eq!(&one, first);
    // The sandbox logs in as an issuer, which is no manager.
    let err = managers
        .me()
        .await
        .err()
        .ok_or("an issuer is not a manager")?;
    check(&sb, "GET", "/managers/me", "/api/managers/me")?;
    assert_eq!(err.status(), Some(StatusCode::NOT_FOUND));

    let changelog = client.changelog().await?;
    check(&sb, "GET", "/changelog", "/api/changelog")?;
    assert!(changelog.contains_key("0.1.13"));

    let info = client.info().await?;
    let r = last(&sb)?;
    assert_eq!((r.method.as_str(), r.path.as_str()), ("GET", "/api/info"));
    assert_eq!(r.authorization, None);
    assert!(!info.version.is_empty());

    assert_eq!(sb.count("POST", "/user/obtain_token"), 1);
    Ok(())
}
