//! `ClientBuilder::http_client`: the caller's reqwest settings are used, and
//! the client's own rules stay on top of them.

use crate::common;
use crate::common::capture;

use std::time::Duration;

use amp_client::reqwest;
use amp_client::{AmpClient, Config};
use common::*;
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn config(server: &MockServer) -> Config {
    Config::builder()
        .base_url(api(server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(1))
        .request_timeout(Duration::from_secs(1))
        .max_body_bytes(1024)
        .build()
        .unwrap()
}

// The caller's settings (here a default header) are used, with the
// client's own headers and token.
#[tokio::test]
async fn the_callers_settings_are_used() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .and(header("x-team", "treasury"))
        .and(header("accept", "application/json"))
        .and(header("authorization", format!("token {T1}").as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(serde_json::json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        "x-team",
        reqwest::header::HeaderValue::from_static("treasury"),
    );
    let http = reqwest::Client::builder().default_headers(headers);
    let client = AmpClient::builder(config(&server))
        .http_client(http)
        .build()
        .unwrap();
    client.assets().list().await.unwrap();
}

// A caller's looser settings do not loosen the client's rules: redirects
// stay within the origin, the per-attempt timeout and the body cap hold.
#[tokio::test]
async fn the_clients_rules_stay_on_top() {
    let server = MockServer::start().await;
    let elsewhere = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(method("GET"))
        .and(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(307).insert_header(
            "location",
            format!("{}/api/assets/", elsewhere.uri()).as_str(),
        ))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/categories/"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/api/managers/"))
        .respond_with(
            ResponseTemplate::new(200).set_body_string(format!("[\"{}\"]", "x".repeat(4096))),
        )
        .mount(&server)
        .await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::limited(10))
        .timeout(Duration::from_secs(60));
    let client = AmpClient::builder(config(&server))
        .http_client(http)
        .build()
        .unwrap();
    let e = client.assets().list().await.unwrap_err();
    assert_eq!(e.status().map(|s| s.as_u16()), Some(307), "{e}");
    assert!(elsewhere.received_requests().await.unwrap().is_empty());
    let e = client.categories().list().await.unwrap_err();
    assert!(e.is_timeout(), "{e}");
    let e = client.managers().list().await.unwrap_err();
    assert!(e.is_body_too_large(), "{e}");
}

// For a plain-http API root, a proxy the caller set is dropped: the login
// (the password) goes directly to the server on loopback, never to a proxy.
#[tokio::test]
async fn plain_http_drops_the_callers_proxy() {
    let server = MockServer::start().await;
    let proxy = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let http = reqwest::Client::builder().proxy(reqwest::Proxy::all(proxy.uri()).unwrap());
    let client = AmpClient::builder(config(&server))
        .http_client(http)
        .build()
        .unwrap();
    client.assets().list().await.unwrap();
    assert!(proxy.received_requests().await.unwrap().is_empty());
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 1);
}

/// A TCP listener that counts the connections it gets and keeps the first
/// byte of each (0x16: a TLS handshake), then hangs up.
async fn first_bytes_listener() -> (
    std::net::SocketAddr,
    std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
) {
    use tokio::io::AsyncReadExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let all = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut byte = [0u8; 1];
            if let Ok(Ok(1)) =
                tokio::time::timeout(Duration::from_secs(5), socket.read(&mut byte)).await
            {
                all.lock().unwrap().push(byte[0]);
            }
        }
    });
    (addr, seen)
}

// An https root on loopback too is reached directly, even with a
// proxy set on the caller's builder (as for the standard variables: see
// the `amp` tests): no proxy can reach this machine's loopback.
#[tokio::test]
async fn an_https_root_on_loopback_drops_the_callers_proxy() {
    let (server, server_seen) = first_bytes_listener().await;
    let (proxy, proxy_seen) = first_bytes_listener().await;
    let config = Config::builder()
        .base_url(format!("https://127.0.0.1:{}/api", server.port()))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(1))
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{}", proxy.port())).unwrap());
    let client = AmpClient::builder(config)
        .http_client(http)
        .build()
        .unwrap();
    // The stand-in server speaks no TLS: the login fails, after its
    // handshake reached the server directly.
    let e = client.token_manager().login().await.unwrap_err();
    assert!(!e.to_string().contains(PASSWORD), "{e}");
    assert_eq!(
        *server_seen.lock().unwrap(),
        [0x16],
        "a TLS handshake, directly"
    );
    assert!(
        proxy_seen.lock().unwrap().is_empty(),
        "nothing through the proxy"
    );
    // The same root elsewhere than on loopback would take the caller's
    // proxy: the rule is about loopback, not about this builder.
    let config = Config::builder()
        .base_url("https://amp.invalid/api")
        .credentials(USER, PASSWORD)
        .retry(fast_retry(1))
        .request_timeout(Duration::from_secs(2))
        .build()
        .unwrap();
    let http = reqwest::Client::builder()
        .proxy(reqwest::Proxy::all(format!("http://127.0.0.1:{}", proxy.port())).unwrap());
    let client = AmpClient::builder(config)
        .http_client(http)
        .build()
        .unwrap();
    client.token_manager().login().await.unwrap_err();
    assert_eq!(
        *proxy_seen.lock().unwrap(),
        [b'C'],
        "CONNECT amp.invalid:443 …"
    );
}

// reqwest's verbose mode would log the bytes on the wire (the login body,
// the token header) at TRACE: the client turns it off, whatever the
// caller's builder says.
#[tokio::test]
async fn a_verbose_connection_logs_no_secret() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let http = reqwest::Client::builder().connection_verbose(true);
    let client = AmpClient::builder(config(&server))
        .http_client(http)
        .build()
        .unwrap();
    let capture = capture::Capture::default();
    let guard = capture.start("trace");
    client.assets().list().await.unwrap();
    drop(guard);
    let text = capture.text();
    assert!(text.contains("amp.call"), "the capture ran");
    assert!(!text.contains(PASSWORD), "the password was logged");
    assert!(!text.contains(T1), "the token was logged");
}
