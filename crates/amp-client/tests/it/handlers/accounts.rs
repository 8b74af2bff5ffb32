//! Registered users, categories, GAIDs, managers and the caller's own account
//! against wiremock: the exact method, path, query and body of every call,
//! and the decoding of realistic answers (amp-api.md §1.1, §3.3–§3.6).

use crate::common::resources as support;

use amp_client::model::{
    CategoryEdit, Lenient, NewCategory, NewManager, NewRegisteredUser, SecretString,
};
use amp_client::Error;
use secrecy::ExposeSecret;
use serde_json::{json, Value};
use support::*;

fn user_json(id: i64, name: &str) -> Value {
    json!({"id": id, "GAID": GAID, "is_company": false, "name": name, "categories": [2], "creator": 3})
}

#[tokio::test]
async fn every_registered_user_call_sends_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = "/api/registered_users";
    answer(
        &server,
        "GET",
        &format!("{base}/"),
        200,
        json!([user_json(12, "Alice")]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/12"),
        200,
        user_json(12, "Alice"),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/add"),
        201,
        user_json(13, "Bob"),
    )
    .await;
    answer(
        &server,
        "PUT",
        &format!("{base}/12/edit"),
        200,
        user_json(12, "Alice B."),
    )
    .await;
    answer(
        &server,
        "DELETE",
        &format!("{base}/12/delete"),
        204,
        Value::Null,
    )
    .await;
    let summary = json!({"asset_uuid": UUID, "asset_id": "5ac9", "assignments": [],
                         "assignments_sum": 300, "distributions": [], "distributions_sum": 200,
                         "balance": 200});
    answer(&server, "GET", &format!("{base}/12/summary"), 200, summary).await;
    // A user with no holdings: an empty list is no summary, not one of zeros.
    answer(
        &server,
        "GET",
        &format!("{base}/13/summary"),
        200,
        json!([]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/12/gaids"),
        200,
        json!([GAID]),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/12/gaids/add"),
        200,
        Value::Null,
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/12/gaids/set-default"),
        200,
        user_json(12, "Alice"),
    )
    .await;
    let users = client.registered_users();

    let list = users.list().await?;
    assert_eq!(sent(&server).await?, req("GET", "/api/registered_users/"));
    assert_eq!((list[0].id, list[0].categories.as_slice()), (12, &[2][..]));
    assert_eq!(users.get(12).await?, list[0]);
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/12")));

    let bob = users
        .add(&NewRegisteredUser::new("Bob").gaid(GAID).company(true))
        .await?;
    let body = json!({"name": "Bob", "GAID": GAID, "is_company": true});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/add")).body(body)
    );
    assert_eq!(bob.id, 13);

    let edited = users.edit(12, "Alice B.").await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/12/edit")).body(json!({"name": "Alice B."}))
    );
    assert_eq!(edited.name, "Alice B.");

    let s = users.summary(12).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/12/summary"))
    );
    assert_eq!((s[0].assignments_sum, s[0].balance), (300, 200));
    assert_eq!(users.summary(13).await?, []);
    let gaids = users.gaids(12).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/12/gaids"))
    );
    assert_eq!(gaids[0].gaid, GAID);
    assert_eq!(users.add_gaid(12, GAID).await?, Lenient::Raw(Value::Null));
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/12/gaids/add")).body(json!({"GAID": GAID}))
    );
    let set = users.set_default_gaid(12, GAID).await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/12/gaids/set-default")).body(json!({"GAID": GAID}))
    );
    assert!(set.typed().is_some());

    users.delete(12).await?;
    assert_eq!(
        sent(&server).await?,
        req("DELETE", &format!("{base}/12/delete"))
    );
    Ok(())
}

#[tokio::test]
async fn every_category_call_sends_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = "/api/categories";
    let category = json!({"id": 2, "name": "EU", "description": "Resident in the EU",
                          "registered_users": [12], "assets": [UUID]});
    answer(&server, "GET", &format!("{base}/"), 200, json!([category])).await;
    answer(&server, "GET", &format!("{base}/2"), 200, category.clone()).await;
    answer(
        &server,
        "POST",
        &format!("{base}/add"),
        201,
        category.clone(),
    )
    .await;
    answer(
        &server,
        "PUT",
        &format!("{base}/2/edit"),
        200,
        category.clone(),
    )
    .await;
    answer(
        &server,
        "DELETE",
        &format!("{base}/2/delete"),
        204,
        Value::Null,
    )
    .await;
    for (what, id) in [("registered_users", "12"), ("assets", UUID)] {
        for verb in ["add", "remove"] {
            let url = format!("{base}/2/{what}/{id}/{verb}");
            answer(&server, "PUT", &url, 200, category.clone()).await;
        }
    }
    let categories = client.categories();

    let list = categories.list().await?;
    assert_eq!(sent(&server).await?, req("GET", "/api/categories/"));
    assert_eq!(
        (list[0].registered_users.as_slice(), list[0].assets.len()),
        (&[12][..], 1)
    );
    assert_eq!(categories.get(2).await?, list[0]);
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/2")));
    categories
        .add(&NewCategory::new("EU", "Resident in the EU"))
        .await?;
    let body = json!({"name": "EU", "description": "Resident in the EU"});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/add")).body(body)
    );
    let edit = CategoryEdit {
        name: Some("EU".into()),
        description: Some("Resident in the EU".into()),
    };
    categories.edit(2, &edit).await?;
    let body = json!({"name": "EU", "description": "Resident in the EU"});
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/2/edit")).body(body)
    );
    categories.delete(2).await?;
    assert_eq!(
        sent(&server).await?,
        req("DELETE", &format!("{base}/2/delete"))
    );

    let joined = categories.add_registered_user(2, 12).await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/2/registered_users/12/add"))
    );
    assert!(joined.typed().is_some_and(|c| c.registered_users == [12]));
    categories.remove_registered_user(2, 12).await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/2/registered_users/12/remove"))
    );
    categories.add_asset(2, UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/2/assets/{UUID}/add"))
    );
    categories.remove_asset(2, UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/2/assets/{UUID}/remove"))
    );
    Ok(())
}

#[tokio::test]
async fn every_gaid_call_sends_exactly_what_amp_api_says() -> TestResult {
    let (server, client) = mock().await?;
    let base = format!("/api/gaids/{GAID}");
    answer(
        &server,
        "GET",
        &format!("{base}/validate"),
        200,
        json!({"is_valid": true}),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/address"),
        200,
        json!({"address": "vjTvAlice"}),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/registered_user"),
        200,
        user_json(12, "Alice"),
    )
    .await;
    let entry = json!({"asset_uuid": UUID, "asset_id": "5ac9", "balance": 200});
    answer(
        &server,
        "GET",
        &format!("{base}/balance"),
        200,
        json!([entry]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/balance/{UUID}"),
        200,
        entry,
    )
    .await;
    // The single-asset form is UNCERTAIN: a list is read too.
    answer(
        &server,
        "GET",
        &format!("{base}/balance/other"),
        200,
        json!([{"asset_uuid": UUID, "balance": 1}, {"asset_uuid": "other", "balance": 7}]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/balance/none"),
        200,
        json!([]),
    )
    .await;
    let gaids = client.gaids();

    assert!(gaids.validate(GAID).await?.is_valid);
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/validate"))
    );
    assert_eq!(
        gaids.address(GAID).await?.address.as_deref(),
        Some("vjTvAlice")
    );
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/address")));
    assert_eq!(gaids.registered_user(GAID).await?.id, 12);
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/registered_user"))
    );
    assert_eq!(gaids.balance(GAID).await?[0].balance, 200);
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/balance")));

    let one = gaids.asset_balance(GAID, UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("GET", &format!("{base}/balance/{UUID}"))
    );
    assert_eq!((one.asset_uuid.as_deref(), one.balance), (Some(UUID), 200));
    assert_eq!(gaids.asset_balance(GAID, "other").await?.balance, 7);
    let none = gaids.asset_balance(GAID, "none").await?;
    assert_eq!(
        (none.asset_uuid.as_deref(), none.balance),
        (Some("none"), 0)
    );

    let err = gaids.asset_balance(GAID, "../x").await.err();
    assert!(err.as_ref().is_some_and(Error::is_invalid_input), "{err:?}");
    Ok(())
}

fn manager_json(locked: bool, assets: &[&str]) -> Value {
    json!({"id": 4, "username": "fund-manager", "is_locked": locked, "assets": assets})
}

#[tokio::test]
async fn every_manager_call_sends_exactly_what_the_clients_send() -> TestResult {
    let (server, client) = mock().await?;
    let base = "/api/managers";
    answer(
        &server,
        "GET",
        &format!("{base}/"),
        200,
        json!([manager_json(true, &[])]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/me"),
        200,
        manager_json(false, &[UUID]),
    )
    .await;
    answer(
        &server,
        "GET",
        &format!("{base}/4"),
        200,
        manager_json(true, &[]),
    )
    .await;
    answer(
        &server,
        "POST",
        &format!("{base}/create"),
        200,
        manager_json(true, &[]),
    )
    .await;
    answer(
        &server,
        "PUT",
        &format!("{base}/4/lock"),
        200,
        manager_json(true, &[]),
    )
    .await;
    // amp-rs's mock: an empty 200.
    answer(
        &server,
        "PUT",
        &format!("{base}/4/unlock"),
        200,
        Value::Null,
    )
    .await;
    let url = format!("{base}/4/assets/{UUID}/add");
    answer(&server, "PUT", &url, 200, manager_json(false, &[UUID])).await;
    let url = format!("{base}/4/assets/{UUID}/remove");
    answer(&server, "POST", &url, 200, manager_json(false, &[])).await;
    let changed = json!({"username": "fund-manager", "password": "new passphrase",
                         "token": "feedfacefeedfacefeedfacefeedfacefeedface"});
    answer(
        &server,
        "POST",
        &format!("{base}/4/change-password"),
        200,
        changed,
    )
    .await;
    let managers = client.managers();

    assert!(managers.list().await?[0].is_locked);
    assert_eq!(sent(&server).await?, req("GET", "/api/managers/"));
    assert_eq!(managers.me().await?.assets, [UUID]);
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/me")));
    assert_eq!(managers.get(4).await?.username, "fund-manager");
    assert_eq!(sent(&server).await?, req("GET", &format!("{base}/4")));

    let new = NewManager::new("fund-manager", "first passphrase");
    let m = managers.create(&new).await?;
    let body = json!({"username": "fund-manager", "password": "first passphrase"});
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/create")).body(body)
    );
    assert!(m.is_locked);
    assert!(managers.lock(4).await?.typed().is_some_and(|m| m.is_locked));
    assert_eq!(sent(&server).await?, req("PUT", &format!("{base}/4/lock")));
    assert_eq!(managers.unlock(4).await?, Lenient::Raw(Value::Null));
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/4/unlock"))
    );
    managers.add_asset(4, UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("PUT", &format!("{base}/4/assets/{UUID}/add"))
    );
    managers.remove_asset(4, UUID).await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/4/assets/{UUID}/remove"))
    );

    let answer = managers
        .change_password(4, SecretString::from("new passphrase"))
        .await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", &format!("{base}/4/change-password"))
            .body(json!({"password": "new passphrase"}))
    );
    assert_eq!(answer.username.as_deref(), Some("fund-manager"));
    let token = answer.token.as_ref().ok_or("no token")?;
    assert_eq!(
        token.expose_secret(),
        "feedfacefeedfacefeedfacefeedfacefeedface"
    );
    let shown = format!("{answer:?} {new:?}");
    assert!(
        !shown.contains("passphrase") && !shown.contains("feedface"),
        "{shown}"
    );
    Ok(())
}

#[tokio::test]
async fn user_change_password_posts_the_new_password_to_the_hyphenated_path() -> TestResult {
    let (server, client) = mock().await?;
    let changed = json!({"username": "user", "password": "n3w-Pw-very-long",
                         "token": "cafebabecafebabecafebabecafebabecafebabe"});
    answer(&server, "POST", "/api/user/change-password", 200, changed).await;
    client
        .user()
        .change_password(SecretString::from("n3w-Pw-very-long"))
        .await?;
    assert_eq!(
        sent(&server).await?,
        req("POST", "/api/user/change-password").body(json!({"password": "n3w-Pw-very-long"}))
    );
    // Not amp-rs's underscore path.
    let paths: Vec<String> = sent_all(&server)
        .await?
        .into_iter()
        .map(|s| s.path)
        .collect();
    assert_eq!(paths, ["/api/user/change-password"]);
    Ok(())
}

#[tokio::test]
async fn user_change_password_reads_any_success_answer() -> TestResult {
    let (server, client) = mock().await?;
    answer(
        &server,
        "POST",
        "/api/user/change-password",
        200,
        json!({"detail": "ok"}),
    )
    .await;
    client
        .user()
        .change_password(SecretString::from("n3w-Pw-very-long"))
        .await?;
    let (server2, client2) = mock().await?;
    answer(
        &server2,
        "POST",
        "/api/user/change-password",
        204,
        Value::Null,
    )
    .await;
    client2
        .user()
        .change_password(SecretString::from("n3w-Pw-very-long"))
        .await?;
    // A refusal keeps its status and message.
    let (server3, client3) = mock().await?;
    let refusal = json!({"password": ["This password is too short."]});
    answer(&server3, "POST", "/api/user/change-password", 400, refusal).await;
    let err = client3
        .user()
        .change_password(SecretString::from("tiny7"))
        .await
        .err()
        .ok_or("accepted")?;
    assert_eq!(err.status().map(|s| s.as_u16()), Some(400));
    assert!(err.to_string().contains("too short"), "{err}");
    drop((server, server2, server3));
    Ok(())
}
