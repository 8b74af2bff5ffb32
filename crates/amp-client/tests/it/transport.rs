//! Hardening (issue 5): transport safety, secret hygiene, and the regression
//! tests of what fuzzing and property testing found. See TESTING.md.
//!
//! Real local servers throughout: wiremock for exact stubs, a few lines of raw
//! TCP where wiremock cannot say it (a chunked body without a length).

use crate::common;

use std::time::Duration;

use amp_client::{
    AmpClient, Config, Credentials, Error, ManualClock, Method, StoreSpec, TokenData, TokenPolicy,
};
use common::*;
use secrecy::ExposeSecret;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::matchers::{header, method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// Everything an error shows: `Display`, `Debug`, and every source in its chain.
fn shown(e: &Error) -> String {
    let mut text = format!("{e} | {e:?} | {e:#?}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(&format!(" | {s} | {s:?}"));
        source = s.source();
    }
    text
}

fn assert_hidden(text: &str, secret: &str, what: &str) {
    if let Some(i) = text.find(secret) {
        let mut from = i.saturating_sub(120);
        while !text.is_char_boundary(from) {
            from -= 1;
        }
        panic!(
            "{what} leaked: …{}…",
            &text[from..(i + secret.len()).min(text.len())]
        );
    }
}

// ---------------------------------------------------------------------------
// Transport safety: plain http only to loopback unless explicitly allowed.
// ---------------------------------------------------------------------------

/// An address of this machine that is not loopback, for a server that must be
/// reached "from outside". The UDP connect sends nothing; it only makes the
/// kernel pick the outgoing interface. Without a route, 0.0.0.0 (which Linux
/// connects to the local host, and which is not a loopback address) stands in.
fn non_loopback_ip() -> std::net::IpAddr {
    let socket = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .connect("192.0.2.1:9")
        .ok()
        .and_then(|()| socket.local_addr().ok())
        .map(|a| a.ip())
        .filter(|ip| !ip.is_loopback() && !ip.is_unspecified())
        .unwrap_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
}

fn env(pairs: Vec<(&'static str, String)>) -> impl Fn(&str) -> Option<String> {
    move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.clone())
}

#[test]
fn plain_http_to_another_host_is_refused_naming_the_switch() {
    for url in [
        "http://amp.example.com/api",
        "http://10.1.2.3:8080/api",
        "http://[2001:db8::1]/api",
        "http://localhost.example.com/api",
        "http://127.0.0.1.example.com/api",
    ] {
        for e in [
            Config::builder()
                .base_url(url)
                .credentials(USER, PASSWORD)
                .build()
                .unwrap_err(),
            Config::from_lookup(&env(vec![
                ("AMP_API_BASE_URL", url.to_string()),
                ("AMP_USERNAME", USER.to_string()),
                ("AMP_PASSWORD", PASSWORD.to_string()),
            ]))
            .unwrap_err(),
        ] {
            assert!(
                e.is_config() && e.to_string().starts_with("refusing to send credentials"),
                "{url}: {e}"
            );
            assert!(e.is_config(), "{url}");
            let text = shown(&e);
            assert!(text.contains("AMP_ALLOW_INSECURE_HTTP=1"), "{text}");
            assert_hidden(&text, PASSWORD, "the password");
        }
    }
    // Explicitly off is still off.
    let e = Config::from_lookup(&env(vec![
        ("AMP_API_BASE_URL", "http://amp.example.com/api".into()),
        ("AMP_ALLOW_INSECURE_HTTP", "0".into()),
    ]))
    .unwrap_err();
    assert!(
        e.is_config() && e.to_string().starts_with("refusing to send credentials"),
        "{e}"
    );
}

#[test]
fn https_and_loopback_need_no_switch() {
    for url in [
        "https://amp.example.com/api",
        "http://127.0.0.1:9/api",
        "http://127.8.9.10:9/api",
        "http://localhost:9/api",
        "http://LOCALHOST:9/api",
        "http://[::1]:9/api",
        // The url crate reads this as 127.0.0.1.
        "http://0x7f.1:9/api",
    ] {
        let c = Config::builder()
            .base_url(url)
            .credentials(USER, PASSWORD)
            .build();
        assert!(c.is_ok(), "{url}: {}", c.unwrap_err());
    }
}

/// With the switch on, credentials do go over plain http to a host that is
/// not loopback (a server on this machine, reached by its non-loopback
/// address); with it off, nothing at all reaches that server.
#[tokio::test]
async fn the_insecure_switch_works_both_ways() {
    let listener = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = MockServer::builder().listener(listener).start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let ip = non_loopback_ip();
    let url = format!("http://{ip}:{port}/api");
    let vars = |allow: Option<&str>| {
        let mut v = vec![
            ("AMP_API_BASE_URL", url.clone()),
            ("AMP_USERNAME", USER.to_string()),
            ("AMP_PASSWORD", PASSWORD.to_string()),
        ];
        if let Some(a) = allow {
            v.push(("AMP_ALLOW_INSECURE_HTTP", a.to_string()));
        }
        v
    };

    let e = Config::from_lookup(&env(vars(None))).unwrap_err();
    assert!(
        e.is_config()
            && e.to_string().starts_with(&format!(
                "refusing to send credentials over plain http to {ip};"
            )),
        "{e}"
    );
    assert!(e.to_string().contains("AMP_ALLOW_INSECURE_HTTP=1"), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 0);

    let config = Config::from_lookup(&env(vars(Some("1")))).unwrap();
    assert!(config.allow_insecure_http());
    let client = AmpClient::new(config).unwrap();
    client.assets().list().await.unwrap();
    let received = server.received_requests().await.unwrap();
    let login = received
        .iter()
        .find(|r| r.url.path() == "/api/user/obtain_token")
        .expect("the login went over plain http");
    assert!(String::from_utf8_lossy(&login.body).contains(PASSWORD));
}

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

// ---------------------------------------------------------------------------
// Response bodies are capped.
// ---------------------------------------------------------------------------

/// A one-route HTTP/1.1 server answering every request with `answer(path)`,
/// then closing the connection. Enough for bodies wiremock cannot send
/// (chunked, without a length).
async fn raw_server(
    answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static,
) -> std::net::SocketAddr {
    raw_server_holding(answer, |_| false).await
}

/// [`raw_server`], except that after answering a path for which `hold` is
/// true it keeps the connection open and silent.
async fn raw_server_holding(
    answer: impl Fn(&str) -> Vec<u8> + Send + Sync + 'static,
    hold: impl Fn(&str) -> bool + Send + Sync + 'static,
) -> std::net::SocketAddr {
    let hold = std::sync::Arc::new(hold);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let answer = std::sync::Arc::new(answer);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let (answer, hold) = (answer.clone(), hold.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    match stream.read(&mut byte).await {
                        Ok(1) => head.push(byte[0]),
                        _ => return,
                    }
                }
                let head = String::from_utf8_lossy(&head).to_string();
                let length = head
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                let mut body = vec![0u8; length];
                if stream.read_exact(&mut body).await.is_err() {
                    return;
                }
                let path = head.split(' ').nth(1).unwrap_or("").to_string();
                let _ = stream.write_all(&answer(&path)).await;
                if hold(&path) {
                    let _ = stream.flush().await;
                    std::future::pending::<()>().await;
                }
                let _ = stream.shutdown().await;
            });
        }
    });
    addr
}

/// A chunked 200 answer (no Content-Length) whose body is the JSON string
/// `"aaa…"`, `len` bytes in all, sent in 64 KiB chunks.
fn chunked_json_string(len: usize) -> Vec<u8> {
    let mut body = Vec::with_capacity(len);
    body.push(b'"');
    body.resize(len - 1, b'a');
    body.push(b'"');
    let mut out = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n".to_vec();
    for chunk in body.chunks(64 * 1024) {
        out.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        out.extend_from_slice(chunk);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

fn token_answer() -> Vec<u8> {
    let body = format!(r#"{{"token":"{T1}"}}"#);
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

const MIB: usize = 1024 * 1024;

// The per-attempt timeout covers the whole answer, not only its head: a
// server that sends the status and headers and then stalls in the body times
// out, and the attempt is retried.
#[tokio::test]
async fn a_body_that_stalls_times_out() {
    let heads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let sent = heads.clone();
    let addr = raw_server_holding(
        move |path| {
            if path.contains("obtain_token") {
                token_answer()
            } else {
                sent.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n[{".to_vec()
            }
        },
        |path| !path.contains("obtain_token"),
    )
    .await;
    let config = Config::builder()
        .base_url(format!("http://{addr}/api"))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let e = tokio::time::timeout(
        Duration::from_secs(20),
        client.get::<serde_json::Value>("assets/"),
    )
    .await
    .expect("the stalled body was waited for without limit")
    .unwrap_err();
    assert!(e.is_timeout(), "{e}");
    assert_eq!(e.attempts(), Some(2));
    assert_eq!(
        heads.load(std::sync::atomic::Ordering::SeqCst),
        2,
        "both heads were sent"
    );
}

#[tokio::test]
async fn the_default_cap_is_16_mib_and_holds_without_a_length() {
    let config = Config::from_lookup(&env(vec![])).unwrap();
    assert_eq!(config.max_body_bytes(), 16 * MIB);
    let addr = raw_server(|path| {
        if path.contains("obtain_token") {
            token_answer()
        } else {
            chunked_json_string(16 * MIB + 1)
        }
    })
    .await;
    let config = Config::builder()
        .base_url(format!("http://{addr}/api"))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(3))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let e = client
        .get::<serde_json::Value>("assets/")
        .await
        .unwrap_err();
    assert!(
        e.is_body_too_large()
            && e.to_string()
                .contains(&format!("limit of {} bytes", 16 * MIB)),
        "{e}"
    );
    assert!(e.is_decode());
    assert_eq!(
        e.attempts(),
        Some(1),
        "the same answer would come again: not retried"
    );
    assert!(
        e.to_string()
            .contains("answer larger than the limit of 16777216 bytes"),
        "{e}"
    );
}

#[tokio::test]
async fn the_cap_is_configurable_and_exact() {
    let addr = raw_server(|path| {
        if path.contains("obtain_token") {
            token_answer()
        } else if path.contains("exact") {
            chunked_json_string(4096)
        } else {
            chunked_json_string(4097)
        }
    })
    .await;
    let config = Config::from_lookup(&env(vec![
        ("AMP_API_BASE_URL", format!("http://{addr}/api")),
        ("AMP_USERNAME", USER.into()),
        ("AMP_PASSWORD", PASSWORD.into()),
        ("AMP_MAX_BODY_BYTES", "4096".into()),
    ]))
    .unwrap();
    assert_eq!(config.max_body_bytes(), 4096);
    let client = AmpClient::new(config).unwrap();
    let ok = client.get::<serde_json::Value>("exact/").await.unwrap();
    assert_eq!(ok.as_str().map(str::len), Some(4094));
    let e = client.get::<serde_json::Value>("over/").await.unwrap_err();
    assert!(
        e.is_body_too_large() && e.to_string().contains("limit of 4096 bytes"),
        "{e}"
    );
}

/// A login answer over the cap is refused like any other.
#[tokio::test]
async fn an_oversized_login_answer_is_refused() {
    let addr = raw_server(|_| chunked_json_string(2048)).await;
    let config = Config::builder()
        .base_url(format!("http://{addr}/api"))
        .credentials(USER, PASSWORD)
        .max_body_bytes(1024)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let e = client.token_manager().token().await.unwrap_err();
    assert!(e.is_auth(), "{e}");
    assert!(
        e.is_body_too_large() && e.to_string().contains("limit of 1024 bytes"),
        "{e}"
    );
}

// ---------------------------------------------------------------------------
// TLS by rustls only.
// ---------------------------------------------------------------------------

/// reqwest is built with `default-features = false, features = ["rustls-tls"]`
/// (root Cargo.toml); nothing in the workspace may bring OpenSSL or the
/// platform's TLS back in through another crate's features.
#[test]
fn tls_is_rustls_only() {
    let lock_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock");
    let lock = std::fs::read_to_string(lock_path).unwrap();
    let names: Vec<&str> = lock
        .lines()
        .filter_map(|l| l.strip_prefix("name = \""))
        .filter_map(|l| l.strip_suffix('"'))
        .collect();
    assert!(names.contains(&"rustls"), "rustls is in the tree");
    for banned in [
        "native-tls",
        "openssl",
        "openssl-sys",
        "hyper-tls",
        "tokio-native-tls",
        "schannel",
        "security-framework",
    ] {
        assert!(!names.contains(&banned), "{banned} is in Cargo.lock");
    }
    let root =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.toml")).unwrap();
    let reqwest = root
        .lines()
        .find(|l| l.starts_with("reqwest"))
        .expect("reqwest is a workspace dependency");
    assert!(reqwest.contains("default-features = false"), "{reqwest}");
    assert!(reqwest.contains("rustls-tls"), "{reqwest}");
}

// ---------------------------------------------------------------------------
// Secrets: Debug redacts, errors do not quote.
// ---------------------------------------------------------------------------

const REDIS_PW: &str = "redis-pw-Qq77-secret";

fn a_token() -> TokenData {
    let now = chrono::Utc::now();
    TokenData::new(T1, now, now + chrono::Duration::hours(24))
}

fn debug_all<T: std::fmt::Debug>(v: &T) -> String {
    format!("{v:?} {v:#?}")
}

#[test]
fn credentials_debug_redacts_the_password() {
    let c = Credentials::new(USER, PASSWORD);
    assert_hidden(&debug_all(&c), PASSWORD, "the password");
    assert!(debug_all(&c).contains(USER));
}

#[test]
fn token_data_debug_redacts_the_token() {
    let t = a_token();
    let d = debug_all(&t);
    assert_hidden(&d, T1, "the token");
    assert!(d.contains(&t.fingerprint()));
    let info =
        amp_client::__private::token_info_at(&t, chrono::Utc::now(), &TokenPolicy::default());
    assert_hidden(&debug_all(&info), T1, "the token");
    assert_hidden(&serde_json::to_string(&info).unwrap(), T1, "the token");
}

#[tokio::test]
async fn access_token_debug_redacts_the_token() {
    let server = MockServer::start().await;
    let (client, _clock) = client(&server, 1);
    let access = client.token_manager().set_token(a_token()).await.unwrap();
    assert_eq!(access.secret().expose_secret(), T1);
    assert_hidden(&debug_all(&access), T1, "the token");
    assert_hidden(&debug_all(access.data()), T1, "the token");
}

#[test]
fn config_and_its_builder_redact_credentials_and_store_passwords() {
    let spec: StoreSpec = format!("redis://amp:{REDIS_PW}@redis.internal:6379/0")
        .parse()
        .unwrap();
    let builder = Config::builder()
        .base_url("https://amp.example.com/api")
        .credentials(USER, PASSWORD)
        .token_store(spec);
    let d = debug_all(&builder);
    assert_hidden(&d, PASSWORD, "the password");
    assert_hidden(&d, REDIS_PW, "the Redis password");
    let config = builder.build().unwrap();
    let d = debug_all(&config);
    assert_hidden(&d, PASSWORD, "the password");
    assert_hidden(&d, REDIS_PW, "the Redis password");
    assert!(d.contains("redis.internal"));
}

#[test]
fn store_spec_debug_and_display_redact_the_redis_password() {
    for url in [
        format!("redis://amp:{REDIS_PW}@redis.internal:6379/0"),
        format!("redis://:{REDIS_PW}@redis.internal/0"),
        format!("rediss://amp:{REDIS_PW}@redis.internal:6380"),
    ] {
        let spec: StoreSpec = url.parse().unwrap();
        assert_hidden(&debug_all(&spec), REDIS_PW, "the Redis password");
        assert_hidden(&spec.to_string(), REDIS_PW, "the Redis password");
    }
    // A URL that does not parse is refused without being quoted.
    let bad = format!("redis://amp:{REDIS_PW}@redis.internal:notaport/0");
    let e = bad.parse::<StoreSpec>().unwrap_err();
    assert_hidden(&e, REDIS_PW, "the Redis password");
    let e = Config::from_lookup(&env(vec![("AMP_TOKEN_STORE", bad)])).unwrap_err();
    assert!(e.to_string().contains("AMP_TOKEN_STORE"), "{e}");
    assert_hidden(&shown(&e), REDIS_PW, "the Redis password");
}

#[tokio::test]
async fn token_manager_and_client_debug_redact_everything() {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let (client, _clock) = client(&server, 1);
    client.assets().list().await.unwrap();
    for d in [
        debug_all(&client),
        debug_all(client.token_manager()),
        debug_all(&client.token_manager().stats()),
        debug_all(&client.token_manager().info()),
        debug_all(&client.token_manager().snapshot()),
        debug_all(&client.token_manager().describe_store()),
        debug_all(&AmpClient::builder(client.config().clone())),
    ] {
        assert_hidden(&d, T1, "the token");
        assert_hidden(&d, PASSWORD, "the password");
    }
}

#[tokio::test]
async fn file_store_debug_shows_the_path_only() {
    let dir = std::env::temp_dir().join(format!(
        "amp-hardening-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let store = amp_client::FileStore::new(dir.join("token.json"));
    use amp_client::TokenStore;
    store.save(&a_token()).await.unwrap();
    let d = debug_all(&store);
    assert_hidden(&d, T1, "the token");
    assert!(d.contains("token.json"));
    assert_hidden(&store.describe(), T1, "the token");
    let _ = std::fs::remove_dir_all(&dir);
}

#[cfg(feature = "redis")]
#[test]
fn redis_store_debug_redacts_the_password() {
    let store = amp_client::RedisStore::new(
        &format!("redis://amp:{REDIS_PW}@redis.internal:6379/0"),
        "amp:token:test",
    )
    .unwrap();
    use amp_client::TokenStore;
    assert_hidden(&debug_all(&store), REDIS_PW, "the Redis password");
    assert_hidden(&store.describe(), REDIS_PW, "the Redis password");
}

/// Base URLs carrying credentials are refused without repeating them.
#[test]
fn a_base_url_with_credentials_is_refused_unquoted() {
    for url in [
        format!("https://{USER}:{PASSWORD}@amp.example.com/api"),
        format!("https://{USER}:{PASSWORD}@amp.example.com:notaport/api"),
        format!("ftp://{USER}:{PASSWORD}@amp.example.com/api"),
    ] {
        let e = Config::builder().base_url(url.clone()).build().unwrap_err();
        assert!(e.is_config(), "{e}");
        assert_hidden(&shown(&e), PASSWORD, "the password");
        let e = Config::from_lookup(&env(vec![("AMP_API_BASE_URL", url)])).unwrap_err();
        assert_hidden(&shown(&e), PASSWORD, "the password");
    }
}

/// A request body never appears in an error, whatever the failure: refused,
/// torn, timed out, a 5xx or a 4xx with an empty body.
#[tokio::test]
async fn errors_never_quote_the_request_body() {
    const MARK: &str = "body-marker-5ab1e";
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/e500"))
        .respond_with(ResponseTemplate::new(500))
        .mount(&server)
        .await;
    Mock::given(path("/api/e422"))
        .respond_with(ResponseTemplate::new(422))
        .mount(&server)
        .await;
    Mock::given(path("/api/slow"))
        .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(2)))
        .mount(&server)
        .await;
    let config = Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .request_timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let body = serde_json::json!({"name": MARK, "nested": {"secret": MARK}});
    for (m, p) in [
        (Method::POST, "e500"),
        (Method::PUT, "e500"),
        (Method::POST, "e422"),
        (Method::PUT, "slow"),
    ] {
        let sent = if m == Method::POST {
            client.post::<serde_json::Value>(p, &body).await
        } else {
            client.put::<serde_json::Value>(p, &body).await
        };
        let e = sent.unwrap_err();
        assert_hidden(&shown(&e), MARK, "the request body");
        assert_hidden(&shown(&e), T1, "the token");
    }
    // Nothing listening: connection refused.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let config = Config::builder()
        .base_url(format!("http://{closed}/api"))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    client.token_manager().set_token(a_token()).await.unwrap();
    let e = client
        .put::<serde_json::Value>("assets/x", &body)
        .await
        .unwrap_err();
    assert!(e.is_transport(), "{e}");
    assert_hidden(&shown(&e), MARK, "the request body");
    assert_hidden(&shown(&e), T1, "the token");
}

// ---------------------------------------------------------------------------
// A failed login never shows the password, whatever the server echoes.
// ---------------------------------------------------------------------------

async fn login_error(respond: ResponseTemplate, attempts: u32) -> (Error, MockServer) {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(respond)
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, attempts);
    let e = client.assets().list().await.unwrap_err();
    (e, server)
}

#[tokio::test]
async fn a_password_echoed_in_500s_through_every_retry_is_scrubbed() {
    let body = serde_json::json!({
        "detail": format!("internal error handling {{\"username\": \"{USER}\", \"password\": \"{PASSWORD}\"}}"),
    });
    let (e, server) = login_error(ResponseTemplate::new(500).set_body_json(body), 3).await;
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.attempts(), Some(3), "{e}");
    assert_eq!(count(&server, "POST", "/api/user/obtain_token").await, 3);
    let text = shown(&e);
    assert!(
        text.contains("[REDACTED]"),
        "the message was kept, scrubbed: {text}"
    );
    assert_hidden(&text, PASSWORD, "the password");
}

#[tokio::test]
async fn a_password_echoed_in_a_plain_text_502_is_scrubbed() {
    let (e, _server) = login_error(
        ResponseTemplate::new(502).set_body_string(format!(
            "upstream said: password={PASSWORD}&username={USER}"
        )),
        2,
    )
    .await;
    assert_eq!(e.status().map(|s| s.as_u16()), Some(502), "{e}");
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

#[tokio::test]
async fn a_password_echoed_by_a_401_from_obtain_is_scrubbed() {
    let (e, server) = login_error(
        ResponseTemplate::new(401).set_body_json(
            serde_json::json!({"detail": format!("no user {USER} with password {PASSWORD}")}),
        ),
        3,
    )
    .await;
    assert!(e.is_auth(), "{e}");
    assert_eq!(e.status().map(|s| s.as_u16()), Some(401), "{e}");
    assert_eq!(
        count(&server, "POST", "/api/user/obtain_token").await,
        1,
        "a 401 is not retried"
    );
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

#[tokio::test]
async fn a_password_echoed_in_field_errors_of_a_400_is_scrubbed() {
    let (e, _server) = login_error(
        ResponseTemplate::new(400).set_body_json(serde_json::json!({
            "password": [format!("'{PASSWORD}' is not the password")],
            "non_field_errors": [PASSWORD],
        })),
        3,
    )
    .await;
    assert!(e.is_credentials_refused(), "{e}");
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

/// An echo that a 429 interrupts, then 500s to the end.
#[tokio::test]
async fn a_password_echoed_after_a_rate_limit_is_scrubbed() {
    let server = MockServer::start().await;
    Mock::given(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(503).set_body_string(PASSWORD))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, 3);
    let e = client.token_manager().login().await.unwrap_err();
    assert_eq!(e.attempts(), Some(3), "{e}");
    assert_hidden(&shown(&e), PASSWORD, "the password");
}

/// The error message keeps 300 bytes of a JSON message, 200 characters of
/// plain text. When the echo straddles that cut, the half that is left must
/// go too (found while writing these tests; see TESTING.md).
#[tokio::test]
async fn a_password_echoed_across_the_message_cut_is_scrubbed() {
    let plain = format!("{}{PASSWORD}", "x".repeat(190));
    let json = serde_json::json!({ "detail": format!("{}{PASSWORD}", "x".repeat(290)) });
    for body in [plain, json.to_string()] {
        let (e, _server) = login_error(ResponseTemplate::new(500).set_body_string(body), 2).await;
        let text = shown(&e);
        // Scrubbed before the message is cut (it may then fit whole).
        assert!(text.contains("x[REDACTED]"), "cut inside the echo: {text}");
        assert_hidden(&text, &PASSWORD[..8], "a prefix of the password");
    }
}

/// A server that echoes the raw request body (JSON) in a non-JSON error page
/// echoes the password JSON-escaped; a password with `"` or `\` is then not
/// found by a plain search (found while writing these tests; see TESTING.md).
#[tokio::test]
async fn a_json_escaped_echo_is_scrubbed() {
    const PW: &str = r#"pa"ss\word-Zx81"#;
    let server = MockServer::start().await;
    let escaped = serde_json::to_string(PW).unwrap();
    Mock::given(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(500).set_body_string(format!(
            "<html>Server Error. Request body: {{\"username\": \"u\", \"password\": {escaped}}}</html>"
        )))
        .mount(&server)
        .await;
    let config = Config::builder()
        .base_url(api(&server))
        .credentials(USER, PW)
        .retry(fast_retry(2))
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let e = client.token_manager().login().await.unwrap_err();
    let text = shown(&e);
    assert_hidden(&text, PW, "the password");
    assert_hidden(
        &text,
        &escaped[1..escaped.len() - 1],
        "the escaped password",
    );
}

// ---------------------------------------------------------------------------
// Security edges (issue 13): server text a person reads.
// ---------------------------------------------------------------------------

const NGINX_502: &str = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n\
    <center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.24.0</center>\r\n</body>\r\n</html>\r\n";

/// Django's `ERROR_PAGE_TEMPLATE` (its 404 and 500 pages with DEBUG off).
fn django_page(title: &str, details: &str) -> String {
    format!(
        "\n<!doctype html>\n<html lang=\"en\">\n<head>\n  <title>{title}</title>\n</head>\n<body>\n  \
         <h1>{title}</h1><p>{details}</p>\n</body>\n</html>\n"
    )
}

/// An error page answers `GET /api/assets/`; the error the caller gets.
async fn error_for(status: u16, body: String) -> Error {
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    Mock::given(path("/api/assets/"))
        .respond_with(ResponseTemplate::new(status).set_body_string(body))
        .mount(&server)
        .await;
    let (client, _clock) = client(&server, 2);
    client.assets().list().await.unwrap_err()
}

#[tokio::test]
async fn html_error_pages_read_as_their_title_never_as_markup() {
    let not_found = django_page(
        "Not Found",
        "The requested resource was not found on this server.",
    );
    for (status, body, want) in [
        (
            502,
            NGINX_502.to_string(),
            "HTTP 502 Bad Gateway: 502 Bad Gateway",
        ),
        (404, not_found, "HTTP 404 Not Found: Not Found"),
        (
            500,
            django_page("Server Error (500)", ""),
            "HTTP 500 Internal Server Error: Server Error (500)",
        ),
    ] {
        let e = error_for(status, body).await;
        let text = e.to_string();
        assert!(text.contains(want), "{status}: {text}");
        assert!(
            !text.contains('<') && !text.contains('\n'),
            "{status}: {text}"
        );
    }
}

/// A server's text can hold terminal escape sequences (clear the screen,
/// retitle the window, a fake second line of output). The error shows them
/// escaped: printed to a terminal or logged, it does nothing.
#[tokio::test]
async fn escape_sequences_from_the_server_are_escaped_in_errors() {
    let bodies = [
        serde_json::json!({ "detail": "\u{1b}[2J\u{1b}]0;owned\u{7}gone\nerror: fake line" })
            .to_string(),
        "\u{1b}[31mplain text\u{9b}1m\u{7f}".to_string(),
        "<html><title>\u{1b}[5mblink</title></html>".to_string(),
    ];
    for body in bodies {
        let e = error_for(400, body.clone()).await;
        let text = e.to_string();
        assert!(!text.chars().any(char::is_control), "{body:?}: {text:?}");
        assert!(text.contains("\\u{1b}"), "{body:?}: {text:?}");
    }
}

// ---------------------------------------------------------------------------
// Regressions from fuzzing and property testing (TESTING.md lists each).
// ---------------------------------------------------------------------------

/// Any lifetime a `TokenPolicy` accepts, at any clock reading: a token answer
/// must not overflow the date arithmetic (`now + lifetime` panicked for
/// lifetimes beyond ~292 000 years, e.g. `Duration::MAX` meaning "forever").
#[test]
fn a_huge_token_lifetime_does_not_panic() {
    let now = chrono::Utc::now();
    for lifetime in [
        Duration::MAX,
        Duration::from_secs(u64::MAX / 2),
        Duration::from_secs(400_000 * 365 * 86_400),
    ] {
        let t = amp_client::__private::parse_token_answer(br#"{"token":"abc"}"#, now, lifetime)
            .unwrap();
        assert!(t.expires_at > now);
    }
    let end = chrono::DateTime::<chrono::Utc>::MAX_UTC - chrono::Duration::seconds(1);
    let t = amp_client::__private::parse_token_answer(
        br#"{"token":"abc"}"#,
        end,
        Duration::from_secs(3600),
    )
    .unwrap();
    assert!(t.expires_at > end);
}

/// A `TokenPolicy` whose spans overflow date arithmetic (`expires_at -
/// refresh_before`, `Instant + failure_cooldown`) panicked at the first
/// login; now it is a configuration error, and a century still works.
#[tokio::test]
async fn extreme_token_policies_are_refused_or_work() {
    let huge = TokenPolicy {
        lifetime: Duration::MAX,
        refresh_before: Duration::MAX / 2,
        hard_before: Duration::MAX / 4,
        refresh_jitter: Duration::MAX,
        failure_cooldown: Duration::MAX,
        background_cooldown: Duration::MAX,
        rejection_cooldown: Duration::MAX,
    };
    let e = Config::builder()
        .base_url("http://127.0.0.1:9/api")
        .token_policy(huge)
        .build()
        .unwrap_err();
    assert!(
        e.is_config() && e.to_string().contains("token_policy"),
        "{e}"
    );

    let century = Duration::from_secs(100 * 365 * 24 * 3600);
    let server = MockServer::start().await;
    mount_obtain(&server, T1).await;
    mount_assets_for(&server, T1).await;
    let config = Config::builder()
        .base_url(api(&server))
        .credentials(USER, PASSWORD)
        .retry(fast_retry(2))
        .token_policy(TokenPolicy {
            lifetime: century,
            refresh_before: century - Duration::from_secs(1),
            hard_before: century / 2,
            refresh_jitter: century,
            failure_cooldown: century,
            background_cooldown: century,
            rejection_cooldown: century,
        })
        .build()
        .unwrap();
    let clock = ManualClock::new(chrono::Utc::now());
    let client = AmpClient::builder(config)
        .clock(std::sync::Arc::new(clock.clone()))
        .build()
        .unwrap();
    client.assets().list().await.unwrap();
    clock.advance(century);
    let _ = client.token_manager().info();
    let _ = client.assets().list().await;
}

/// The two crashes cargo-fuzz found on the code before the fixes, replayed
/// through the same harness logic as `fuzz/fuzz_targets/*.rs`.
#[test]
fn fuzz_crash_token_answer_lifetime_overflow() {
    // token_answer/crash-236dad52…: 8 bytes of now, 8 of lifetime ("expires_"
    // read as ~8.4e18 s), then the body. Panicked: `DateTime + TimeDelta` overflowed.
    let data: &[u8] = b"\x00\xb9\x55\x69expires_at\x00\x00{\"token\":\"66b9c0ffee0123456789abcdef0189af51\",\"expires_in\":3601.5}";
    let word = |at: usize| u64::from_le_bytes(data[at..at + 8].try_into().unwrap());
    let now = chrono::DateTime::from_timestamp((word(0) % 253_402_300_799) as i64, 0).unwrap();
    let lifetime = Duration::from_secs(word(8));
    let t = amp_client::__private::parse_token_answer(&data[16..], now, lifetime).unwrap();
    assert_eq!(
        t.expires_at,
        now + chrono::Duration::milliseconds(3_601_500)
    );
}

/// Settings that parse must build a client, or be refused naming the
/// variable: a per-attempt timeout of u64::MAX seconds (or attempts × delay
/// beyond Duration's range) panicked while computing how long a caller waits
/// for a login. Such values are now beyond the bounds (issue 13) and refused;
/// the largest values within them build a client.
#[tokio::test]
async fn extreme_settings_are_refused_and_the_largest_allowed_build_a_client() {
    for (timeout, attempts, max_delay, refused) in [
        (
            "18446744073709551615",
            "3",
            "30000",
            "API_REQUEST_TIMEOUT_SECONDS",
        ),
        ("10", "4294967295", "30000", "API_RETRY_MAX_ATTEMPTS"),
        ("10", "3", "18446744073709551615", "API_RETRY_MAX_DELAY_MS"),
    ] {
        let e = Config::from_lookup(&env(vec![
            ("AMP_API_BASE_URL", "http://127.0.0.1:9/api".into()),
            ("API_REQUEST_TIMEOUT_SECONDS", timeout.into()),
            ("API_RETRY_MAX_ATTEMPTS", attempts.into()),
            ("API_RETRY_MAX_DELAY_MS", max_delay.into()),
        ]))
        .unwrap_err();
        assert!(e.is_config(), "{e}");
        assert!(e.to_string().contains(refused), "{e}");
    }
    let config = Config::from_lookup(&env(vec![
        ("AMP_API_BASE_URL", "http://127.0.0.1:9/api".into()),
        ("API_REQUEST_TIMEOUT_SECONDS", "600".into()),
        ("API_RETRY_MAX_ATTEMPTS", "20".into()),
        ("API_RETRY_BASE_DELAY_MS", "3600000".into()),
        ("API_RETRY_MAX_DELAY_MS", "3600000".into()),
    ]))
    .unwrap();
    // (10 min + 1 h) × 20 attempts × 2 logins.
    assert_eq!(config.token_wait_timeout(), Duration::from_secs(4200 * 40));
    AmpClient::builder(config)
        .clock(std::sync::Arc::new(ManualClock::new(chrono::Utc::now())))
        .build()
        .unwrap();
}
