//! Logins: the issuer's password change, and manager accounts.

use crate::common;

use amp_sandbox::{Sandbox, SAMPLE_MANAGER_PASSWORD, SAMPLE_MANAGER_USERNAME};
use common::*;
use serde_json::json;

async fn obtain(sandbox: &Sandbox, username: &str, password: &str) -> Answer {
    let body = json!({"username": username, "password": password});
    post(sandbox, "/user/obtain_token", None, &body).await
}

#[tokio::test]
async fn change_password_moves_the_login_and_answers_a_new_token() {
    let sb = Sandbox::start().await.unwrap();
    let old = login(&sb).await;
    let changed = post(
        &sb,
        "/user/change-password",
        Some(&old),
        &json!({"password": "a new secret"}),
    )
    .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let answer = changed.json();
    assert_eq!(answer["username"], sb.username());
    assert!(
        answer.get("password").is_none(),
        "the password is not echoed"
    );
    assert!(!changed.text.contains("a new secret"));
    let token = answer["token"].as_str().unwrap();
    assert!(is_token(token) && token != old);
    assert!(sb.is_token_valid(token));
    assert!(sb.is_token_valid(&old), "tokens issued before stay valid");

    // The old password no longer logs in; the new one does.
    let refused = obtain(&sb, sb.username(), sb.password()).await;
    assert_eq!(refused.status, 400);
    assert_eq!(
        refused.json(),
        json!({"non_field_errors": ["Unable to log in with provided credentials."]})
    );
    assert_eq!(sb.current_password(), "a new secret");
    let fresh = obtain(&sb, sb.username(), "a new secret").await;
    assert_eq!(fresh.status, 200);
    assert!(sb.is_token_valid(fresh.json()["token"].as_str().unwrap()));

    // Bad bodies, and no token.
    let blank = post(
        &sb,
        "/user/change-password",
        Some(token),
        &json!({"password": ""}),
    )
    .await;
    assert_eq!(
        (blank.status, blank.json()),
        (400, json!({"password": ["This field may not be blank."]}))
    );
    let missing = post(&sb, "/user/change-password/", Some(token), &json!({})).await;
    assert_eq!(
        missing.json(),
        json!({"password": ["This field is required."]})
    );
    let anonymous = post(
        &sb,
        "/user/change-password",
        None,
        &json!({"password": "x"}),
    )
    .await;
    assert_eq!(anonymous.status, 401);
    assert_eq!(sb.current_password(), "a new secret");
    assert_eq!(sb.count("POST", "/user/change-password"), 4);
    // A wrong method is a 405.
    assert_eq!(
        get(&sb, "/user/change-password", Some(token)).await.status,
        405
    );
}

#[tokio::test]
async fn managers_are_created_locked_and_log_in_once_unlocked() {
    let sb = Sandbox::start().await.unwrap();
    let issuer = login(&sb).await;
    let t = Some(issuer.as_str());

    let created = post(
        &sb,
        "/managers/create",
        t,
        &json!({"username": "mia", "password": "mia-pass"}),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let manager = created.json();
    let id = manager["id"].as_u64().unwrap();
    assert_eq!(
        manager,
        json!({"id": id, "username": "mia", "is_locked": true, "assets": []})
    );
    assert!(!created.text.contains("mia-pass"));
    assert_eq!(
        get(&sb, &format!("/managers/{id}"), t).await.json(),
        manager
    );
    assert_eq!(
        get(&sb, "/managers", t)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let taken = post(
        &sb,
        "/managers/create",
        t,
        &json!({"username": "mia", "password": "x"}),
    )
    .await;
    assert_eq!(
        (taken.status, taken.json()),
        (
            400,
            json!({"username": ["A user with that username already exists."]})
        )
    );
    let issuer_name = post(
        &sb,
        "/managers/create",
        t,
        &json!({"username": sb.username(), "password": "x"}),
    )
    .await;
    assert_eq!(issuer_name.status, 400);
    let empty = post(&sb, "/managers/create", t, &json!({})).await;
    assert_eq!(
        empty.json(),
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );

    // Locked, it cannot log in; unlocked, it can, and /managers/me is it.
    assert_eq!(obtain(&sb, "mia", "mia-pass").await.status, 400);
    let unlocked = put(&sb, &format!("/managers/{id}/unlock"), t, None).await;
    assert_eq!(unlocked.json()["is_locked"], false);
    let mine = obtain(&sb, "mia", "mia-pass").await.json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let me = get(&sb, "/managers/me", Some(&mine)).await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["username"], "mia");
    assert_eq!(
        get(&sb, "/managers/me", t).await.status,
        404,
        "the issuer is no manager"
    );
    let refreshed = get(&sb, "/user/refresh-token", Some(&mine)).await.json()["token"].clone();
    assert_eq!(
        get(&sb, "/managers/me", Some(refreshed.as_str().unwrap()))
            .await
            .json()["id"],
        id
    );

    // Locked again, its tokens stop working.
    assert_eq!(
        put(&sb, &format!("/managers/{id}/lock/"), t, None)
            .await
            .json()["is_locked"],
        true
    );
    let shut = get(&sb, "/managers/me", Some(&mine)).await;
    assert_eq!(
        (shut.status, shut.json()),
        (401, json!({"detail": "User inactive or deleted."}))
    );
    put(&sb, &format!("/managers/{id}/unlock"), t, None).await;

    // Assets: granted by PUT, taken back by PUT or POST.
    let uuid = get(&sb, "/assets", t).await.json()[1]["asset_uuid"].clone();
    let uuid = uuid.as_str().unwrap();
    let granted = put(&sb, &format!("/managers/{id}/assets/{uuid}/add"), t, None).await;
    assert_eq!(granted.json()["assets"], json!([uuid]));
    let revoked = post(
        &sb,
        &format!("/managers/{id}/assets/{uuid}/remove"),
        t,
        &json!({}),
    )
    .await;
    assert_eq!(revoked.json()["assets"], json!([]));
    put(&sb, &format!("/managers/{id}/assets/{uuid}/add"), t, None).await;
    let revoked = put(
        &sb,
        &format!("/managers/{id}/assets/{uuid}/remove"),
        t,
        None,
    )
    .await;
    assert_eq!(revoked.json()["assets"], json!([]));
    assert_eq!(
        put(&sb, &format!("/managers/{id}/assets/nope/add"), t, None)
            .await
            .status,
        404
    );
    assert_eq!(
        put(&sb, &format!("/managers/99/assets/{uuid}/add"), t, None)
            .await
            .status,
        404
    );
    assert_eq!(put(&sb, "/managers/99/lock", t, None).await.status, 404);

    // The issuer resets the manager's password: a new token of the manager.
    let reset = post(
        &sb,
        &format!("/managers/{id}/change-password"),
        t,
        &json!({"password": "mia-2"}),
    )
    .await;
    assert_eq!(reset.status, 200, "{}", reset.text);
    let reset = reset.json();
    assert_eq!(reset["username"], "mia");
    assert!(reset.get("password").is_none());
    let theirs = reset["token"].as_str().unwrap();
    assert_eq!(
        get(&sb, "/managers/me", Some(theirs)).await.json()["id"],
        id
    );
    assert_eq!(obtain(&sb, "mia", "mia-pass").await.status, 400);
    assert_eq!(obtain(&sb, "mia", "mia-2").await.status, 200);
    let unknown = post(
        &sb,
        "/managers/99/change-password",
        t,
        &json!({"password": "x"}),
    )
    .await;
    assert_eq!(unknown.status, 404);

    // A manager changes its own password through /user/change-password.
    let own = post(
        &sb,
        "/user/change-password",
        Some(theirs),
        &json!({"password": "mia-3"}),
    )
    .await;
    assert_eq!(own.json()["username"], "mia");
    assert_eq!(obtain(&sb, "mia", "mia-3").await.status, 200);
    assert_eq!(
        obtain(&sb, sb.username(), sb.password()).await.status,
        200,
        "the issuer's login is untouched"
    );
}

#[tokio::test]
async fn the_sample_manager_can_log_in() {
    let sb = Sandbox::start().await.unwrap();
    let answer = obtain(&sb, SAMPLE_MANAGER_USERNAME, SAMPLE_MANAGER_PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    let token = answer.json()["token"].as_str().unwrap().to_owned();
    let me = get(&sb, "/managers/me", Some(&token)).await.json();
    assert_eq!(me["username"], SAMPLE_MANAGER_USERNAME);
    assert_eq!(me["assets"].as_array().unwrap().len(), 1);
}
