//! Redirects and proxies: a redirect is followed only within the API root,
//! and carries the token or the password nowhere else; no cookie the server
//! sets is ever sent back. (The caller's proxy is dropped for a root on
//! loopback: `http_client`.)

use crate::common::*;

use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

// ---------------------------------------------------------------------------
// Redirects: credentials never follow one to another origin.
// ---------------------------------------------------------------------------

fn redirect_to(location: &str, status: u16) -> ResponseTemplate {
    ResponseTemplate::new(status).insert_header("location", location)
}

async fn authorized_requests(server: &MockServer) -> Vec<String> {
    server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.headers.contains_key("authorization"))
        .map(|r| format!("{} {}", r.method, r.url.path()))
        .collect()
}

/// Server A redirects an API call to server B (another port of 127.0.0.1:
/// another origin). B must never see the token. The client does not follow
/// such a redirect at all (a 401 from B would only make it drop a good token
/// and log in again); the caller gets the 3xx as an error.
#[tokio::test]
async fn a_redirect_to_another_port_carries_no_token() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    mount_obtain(&a, T1).await;
    for status in [301, 302, 303, 307, 308] {
        Mock::given(method("GET"))
            .and(path(format!("/api/r{status}/")))
            .respond_with(redirect_to(&format!("{}/api/landing/", b.uri()), status))
            .mount(&a)
            .await;
    }
    Mock::given(path("/api/landing/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&b)
        .await;
    let (client, _clock) = client(&a, 2);
    for status in [301, 302, 303, 307, 308] {
        let e = client
            .get::<serde_json::Value>(&format!("r{status}/"))
            .await
            .unwrap_err();
        assert_eq!(e.status().map(|s| s.as_u16()), Some(status), "{e}");
        assert_hidden(&shown(&e), T1, "the token");
    }
    assert_eq!(authorized_requests(&b).await, Vec::<String>::new());
    assert_eq!(b.received_requests().await.unwrap().len(), 0);
    // The token stayed good: no second login.
    assert_eq!(count(&a, "POST", "/api/user/obtain_token").await, 1);
}

/// 127.0.0.1 and localhost are different origins even on the same port.
#[tokio::test]
async fn a_redirect_to_another_host_name_carries_no_token() {
    let a = MockServer::start().await;
    mount_obtain(&a, T1).await;
    let port = a.address().port();
    Mock::given(path("/api/assets/"))
        .respond_with(redirect_to(
            &format!("http://localhost:{port}/api/landing/"),
            302,
        ))
        .mount(&a)
        .await;
    Mock::given(path("/api/landing/"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&a)
        .await;
    let (client, _clock) = client(&a, 2);
    let e = client.assets().list().await.unwrap_err();
    assert_eq!(e.status(), Some(amp_client::StatusCode::FOUND), "{e}");
    assert!(authorized_requests(&a)
        .await
        .iter()
        .all(|r| !r.contains("/landing")));
}

/// A 307/308 keeps the method and the body: reqwest would re-send the login
/// (the password) to any origin the server names, http included. Not here.
#[tokio::test]
async fn a_redirected_login_never_sends_the_password_elsewhere() {
    let a = MockServer::start().await;
    let b = MockServer::start().await;
    mount_obtain(&b, T2).await;
    for status in [307, 308] {
        Mock::given(method("POST"))
            .and(path("/api/user/obtain_token"))
            .respond_with(redirect_to(
                &format!("{}/api/user/obtain_token", b.uri()),
                status,
            ))
            .up_to_n_times(1)
            .mount(&a)
            .await;
        let (client, _clock) = client(&a, 2);
        let e = client.assets().list().await.unwrap_err();
        assert!(e.is_auth(), "{e}");
        assert_eq!(e.status().map(|s| s.as_u16()), Some(status), "{e}");
        assert_hidden(&shown(&e), PASSWORD, "the password");
    }
    for r in b.received_requests().await.unwrap() {
        assert_hidden(&String::from_utf8_lossy(&r.body), PASSWORD, "the password");
    }
    assert_eq!(b.received_requests().await.unwrap().len(), 0);
}

/// The control: a redirect within the origin (DRF's trailing slash, say) is
/// followed, token and all.
#[tokio::test]
async fn a_redirect_within_the_origin_is_followed_with_the_token() {
    let a = MockServer::start().await;
    mount_obtain(&a, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(redirect_to("/api/assets-moved/", 301))
        .mount(&a)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/assets-moved/"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&a)
        .await;
    let (client, _clock) = client(&a, 2);
    assert!(client.assets().list().await.unwrap().is_empty());
}

/// The client refuses a path that leaves the API root ("the token must
/// only go to the configured API"), and the account a token is bound to
/// names the root with its path (`user at https://host/api`): two roots on
/// one origin are two accounts. A redirect from under the root to another
/// path of the same origin is followed with the token, and a 307/308 login
/// with the password: an open redirect on the API's host, or a gateway
/// hosting several services by path, receives them.
#[tokio::test]
async fn a_redirect_out_of_the_api_root_carries_no_token() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(redirect_to("/elsewhere/collect", 302))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere/collect"))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .mount(&server)
        .await;
    let (api_client, _clock) = client(&server, 1);
    let _ = api_client.get::<serde_json::Value>("assets/").await;
    let leaked: Vec<String> = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path().starts_with("/elsewhere") && r.headers.contains_key("authorization")
        })
        .map(|r| r.url.to_string())
        .collect();
    assert_eq!(leaked, Vec::<String>::new(), "the token left the API root");
}

/// The login, redirected with its body (307) out of the root.
#[tokio::test]
async fn a_login_redirected_out_of_the_api_root_keeps_its_password() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(redirect_to("/elsewhere/login", 307))
        .mount(&server)
        .await;
    Mock::given(path("/elsewhere/login"))
        .respond_with(token_json(T2))
        .mount(&server)
        .await;
    let (login_client, _clock) = client(&server, 1);
    let _ = login_client.assets().list().await;
    let with_password = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| {
            r.url.path().starts_with("/elsewhere")
                && String::from_utf8_lossy(&r.body).contains(PASSWORD)
        })
        .count();
    assert_eq!(with_password, 0, "the password left the API root");
}

/// A `Set-Cookie` on the login (a session, a tracker, or a cookie meant to
/// ride along to another path): the client keeps no cookie jar, so no
/// later request carries it.
#[tokio::test]
async fn a_cookie_the_server_sets_is_never_sent_back() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(
            token_json(T1)
                .insert_header("set-cookie", "sessionid=planted; Path=/")
                .insert_header("set-cookie", "csrftoken=planted2; Path=/api"),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(
            ResponseTemplate::new(200)
                .insert_header("set-cookie", "more=planted3")
                .set_body_json(serde_json::json!([])),
        )
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, 1);
    for _ in 0..2 {
        assert!(client.assets().list().await.unwrap().is_empty());
    }
    let with_cookie = server
        .received_requests()
        .await
        .unwrap()
        .iter()
        .filter(|r| r.headers.contains_key("cookie"))
        .count();
    assert_eq!(with_cookie, 0);
}
