//! Login, refresh, token checks, expiry and revocation.

use crate::common;

use std::time::Duration;

use amp_sandbox::Sandbox;
use common::*;
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn login_returns_a_40_hex_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let token = login(&sandbox).await;
    assert!(is_token(&token), "{token}");
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    assert!(sandbox.is_token_valid(&token));
    // Two logins give two different tokens.
    assert_ne!(login(&sandbox).await, token);
}

#[tokio::test]
async fn custom_credentials_and_wrong_credentials() {
    let sandbox = Sandbox::builder()
        .credentials("alice", "s3cret")
        .start()
        .await
        .unwrap();
    assert_eq!(
        (sandbox.username(), sandbox.password()),
        ("alice", "s3cret")
    );
    login(&sandbox).await;
    let wrong = post(
        &sandbox,
        "/user/obtain_token",
        None,
        &json!({"username": "alice", "password": "nope"}),
    )
    .await;
    assert_eq!(wrong.status, 400);
    assert_eq!(
        wrong.json(),
        json!({"non_field_errors": ["Unable to log in with provided credentials."]})
    );
    // The password is compared untrimmed, as DRF does.
    let padded = post(
        &sandbox,
        "/user/obtain_token",
        None,
        &json!({"username": "alice", "password": " s3cret"}),
    )
    .await;
    assert_eq!(padded.status, 400);
}

#[tokio::test]
async fn bad_login_bodies_get_field_errors() {
    let sandbox = Sandbox::start().await.unwrap();
    let missing = post(
        &sandbox,
        "/user/obtain_token",
        None,
        &json!({"username": "x"}),
    )
    .await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json(),
        json!({"password": ["This field is required."]})
    );

    let empty = send_raw(&sandbox, Method::POST, "/user/obtain_token", None, None)
        .await
        .unwrap();
    assert_eq!(empty.status, 400);
    assert_eq!(
        empty.json(),
        json!({"username": ["This field is required."], "password": ["This field is required."]})
    );

    let blank = post(
        &sandbox,
        "/user/obtain_token",
        None,
        &json!({"username": "", "password": null}),
    )
    .await;
    assert_eq!(
        blank.json(),
        json!({"username": ["This field may not be blank."], "password": ["This field may not be null."]})
    );

    let broken = send_raw(
        &sandbox,
        Method::POST,
        "/user/obtain_token",
        None,
        Some("{not json".into()),
    )
    .await
    .unwrap();
    assert_eq!(broken.status, 400);
    assert!(broken.json()["detail"]
        .as_str()
        .unwrap()
        .starts_with("JSON parse error"));

    let list = post(&sandbox, "/user/obtain_token", None, &json!([1])).await;
    assert_eq!(
        list.json(),
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
}

#[tokio::test]
async fn refresh_by_get_and_post_keeps_the_old_token_by_default() {
    let sandbox = Sandbox::start().await.unwrap();
    let first = login(&sandbox).await;
    for method in [Method::GET, Method::POST] {
        let answer = send(
            &sandbox,
            method.clone(),
            "/user/refresh-token",
            Some(&first),
            None,
        )
        .await
        .unwrap();
        assert_eq!(answer.status, 200, "{method}: {}", answer.text);
        let fresh = answer.json()["token"].as_str().unwrap().to_owned();
        assert!(is_token(&fresh));
        assert_ne!(fresh, first);
        assert_eq!(get(&sandbox, "/assets", Some(&fresh)).await.status, 200);
        assert_eq!(get(&sandbox, "/assets", Some(&first)).await.status, 200);
    }
    assert_eq!(sandbox.count("GET", "/user/refresh-token"), 1);
    assert_eq!(sandbox.count("POST", "/user/refresh-token"), 1);
    // The underscore spelling amp-rs uses is not an alias.
    let underscore = send(
        &sandbox,
        Method::POST,
        "/user/refresh_token",
        Some(&first),
        None,
    )
    .await
    .unwrap();
    assert_eq!(underscore.status, 404);
}

#[tokio::test]
async fn refresh_needs_a_valid_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let missing = get(&sandbox, "/user/refresh-token", None).await;
    assert_eq!(missing.status, 401);
    let invalid = get(&sandbox, "/user/refresh-token", Some(&"0".repeat(40))).await;
    assert_eq!(invalid.status, 401);
    assert_eq!(invalid.json(), json!({"detail": "Invalid token."}));
}

#[tokio::test]
async fn refresh_revokes_old_when_asked() {
    let sandbox = Sandbox::builder()
        .refresh_revokes_old(true)
        .start()
        .await
        .unwrap();
    let old = login(&sandbox).await;
    let fresh = post(&sandbox, "/user/refresh-token", Some(&old), &json!({}))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(get(&sandbox, "/assets", Some(&old)).await.status, 401);
    assert_eq!(get(&sandbox, "/assets", Some(&fresh)).await.status, 200);

    sandbox.set_refresh_revokes_old(false);
    let newer = get(&sandbox, "/user/refresh-token", Some(&fresh))
        .await
        .json()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(sandbox.is_token_valid(&fresh));
    assert!(sandbox.is_token_valid(&newer));
}

#[tokio::test]
async fn missing_and_invalid_tokens_are_told_apart() {
    let sandbox = Sandbox::start().await.unwrap();
    let missing = get(&sandbox, "/assets", None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(
        missing.json(),
        json!({"detail": "Authentication credentials were not provided."})
    );
    assert_eq!(missing.header("www-authenticate").as_deref(), Some("Token"));

    let invalid = get(&sandbox, "/assets", Some("deadbeef")).await;
    assert_eq!(invalid.status, 401);
    assert_eq!(invalid.json(), json!({"detail": "Invalid token."}));
    assert_eq!(invalid.header("www-authenticate").as_deref(), Some("Token"));

    let token = login(&sandbox).await;
    let cases = [
        (format!("Token {token}"), 200, None),
        (format!("TOKEN   {token}"), 200, None),
        (
            format!("Bearer {token}"),
            401,
            Some("Authentication credentials were not provided."),
        ),
        (
            "token".to_owned(),
            401,
            Some("Invalid token header. No credentials provided."),
        ),
        (
            format!("token {token} extra"),
            401,
            Some("Invalid token header. Token string should not contain spaces."),
        ),
    ];
    for (header, status, detail) in cases {
        let answer = send_raw(&sandbox, Method::GET, "/assets", Some(header.clone()), None)
            .await
            .unwrap();
        assert_eq!(answer.status, status, "{header}");
        if let Some(detail) = detail {
            assert_eq!(answer.json()["detail"], detail, "{header}");
        }
    }
}

#[tokio::test]
async fn every_route_answers_with_and_without_trailing_slash() {
    let sandbox = Sandbox::start().await.unwrap();
    let body = json!({"username": sandbox.username(), "password": sandbox.password()});
    let slash = post(&sandbox, "/user/obtain_token/", None, &body).await;
    assert_eq!(slash.status, 200);
    let token = slash.json()["token"].as_str().unwrap().to_owned();
    for path in [
        "/assets",
        "/assets/",
        "/info",
        "/info/",
        "/registered_users/1",
        "/registered_users/1/",
    ] {
        let answer = get(&sandbox, path, Some(&token)).await;
        assert_eq!(answer.status, 200, "{path}");
    }
    assert_eq!(
        get(&sandbox, "/user/refresh-token/", Some(&token))
            .await
            .status,
        200
    );
    // Both spellings count as one route.
    assert_eq!(sandbox.count("GET", "/assets"), 2);
    assert_eq!(sandbox.count("POST", "/user/obtain_token"), 1);
    let records = sandbox.stats();
    let paths: Vec<&str> = records
        .records_for("/assets")
        .iter()
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(paths, ["/api/assets", "/api/assets/"]);
}

#[tokio::test]
async fn public_routes_wrong_methods_and_unknown_paths() {
    let sandbox = Sandbox::start().await.unwrap();
    let info = get(&sandbox, "/info", None).await;
    assert_eq!(info.status, 200);
    assert_eq!(
        info.json(),
        json!({"version": "0.1.13", "notes": "AMP sandbox"})
    );

    assert_eq!(get(&sandbox, "/changelog", None).await.status, 401);
    let token = login(&sandbox).await;
    let changelog = get(&sandbox, "/changelog", Some(&token)).await.json();
    assert!(changelog["0.1.5"]
        .as_str()
        .unwrap()
        .contains("refresh-token"));

    // DRF authenticates before it looks at the method.
    assert_eq!(delete(&sandbox, "/assets", None).await.status, 401);
    let wrong = delete(&sandbox, "/assets/", Some(&token)).await;
    assert_eq!(wrong.status, 405);
    assert_eq!(
        wrong.json(),
        json!({"detail": "Method \"DELETE\" not allowed."})
    );
    assert_eq!(wrong.header("allow").as_deref(), Some("GET, HEAD, OPTIONS"));
    let get_login = get(&sandbox, "/user/obtain_token", None).await;
    assert_eq!(get_login.status, 405);
    assert_eq!(
        get_login.json(),
        json!({"detail": "Method \"GET\" not allowed."})
    );

    for path in ["/nope", "/assets/x/nope", "", "/", "/assets//summary"] {
        let answer = get(&sandbox, path, Some(&token)).await;
        assert_eq!(answer.status, 404, "{path}");
        assert_eq!(answer.json(), json!({"detail": "Not found."}));
    }
    let outside = http()
        .get(format!("http://{}/elsewhere", sandbox.addr()))
        .send()
        .await
        .unwrap();
    assert_eq!(outside.status(), 404);
    assert_eq!(sandbox.count("GET", "/nope"), 1);
    // Requests outside /api are not counted.
    assert!(sandbox
        .stats()
        .by_route()
        .keys()
        .all(|k| !k.contains("elsewhere")));

    let options = send(
        &sandbox,
        Method::OPTIONS,
        "/user/refresh-token",
        Some(&token),
        None,
    )
    .await
    .unwrap();
    assert_eq!(options.status, 200);
    assert_eq!(
        options.header("allow").as_deref(),
        Some("GET, POST, HEAD, OPTIONS")
    );

    let head = http()
        .head(format!("{}/assets", sandbox.base_url()))
        .header("authorization", format!("token {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), 200);
}

#[tokio::test]
async fn revoking_all_tokens() {
    let sandbox = Sandbox::start().await.unwrap();
    let a = login(&sandbox).await;
    let b = sandbox.issue_token();
    assert_eq!(get(&sandbox, "/assets", Some(&b)).await.status, 200);
    sandbox.revoke_all_tokens();
    for token in [&a, &b] {
        let answer = get(&sandbox, "/assets", Some(token)).await;
        assert_eq!(answer.status, 401);
        assert_eq!(answer.json(), json!({"detail": "Invalid token."}));
    }
    let c = login(&sandbox).await;
    assert_eq!(get(&sandbox, "/assets", Some(&c)).await.status, 200);
}

/// Token expiry runs on the tokio clock: paused test time decides it, and real
/// sockets work alongside the paused clock.
#[tokio::test(start_paused = true)]
async fn tokens_expire_on_the_paused_tokio_clock() {
    let sandbox = Sandbox::builder()
        .token_life(Duration::from_secs(3600))
        .start()
        .await
        .unwrap();
    let token = login(&sandbox).await;
    tokio::time::advance(Duration::from_secs(3599)).await;
    assert_eq!(get(&sandbox, "/assets", Some(&token)).await.status, 200);
    tokio::time::advance(Duration::from_secs(2)).await;
    let expired = get(&sandbox, "/assets", Some(&token)).await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.json(), json!({"detail": "Invalid token."}));
    // Refresh does not revive it either.
    assert_eq!(
        get(&sandbox, "/user/refresh-token", Some(&token))
            .await
            .status,
        401
    );

    // The default life is 24 h.
    let default = Sandbox::start().await.unwrap();
    let token = login(&default).await;
    tokio::time::advance(Duration::from_secs(24 * 3600 - 1)).await;
    assert!(default.is_token_valid(&token));
    tokio::time::advance(Duration::from_secs(1)).await;
    assert!(!default.is_token_valid(&token));
}

#[tokio::test(start_paused = true)]
async fn token_life_changes_apply_to_new_tokens() {
    let sandbox = Sandbox::start().await.unwrap();
    let long = login(&sandbox).await;
    sandbox.set_token_life(Duration::from_secs(10));
    let short = login(&sandbox).await;
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(get(&sandbox, "/assets", Some(&long)).await.status, 200);
    assert_eq!(get(&sandbox, "/assets", Some(&short)).await.status, 401);
}
