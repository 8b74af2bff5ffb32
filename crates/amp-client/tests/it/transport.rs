//! Transport rules and limits: plain http only to loopback unless switched
//! on, TLS by rustls only, answers capped and timed as a whole, extreme
//! settings refused (the largest allowed still build a client), and the odd
//! values that once panicked (a huge token lifetime) replayed; the retry
//! delays' own odd values are unit tests of `retry`.
//!
//! Real local servers throughout: wiremock for exact stubs, a few lines of raw
//! TCP where wiremock cannot say it (a chunked body without a length).

use crate::common;

use std::time::Duration;

use amp_client::{AmpClient, Config, ManualClock, TokenPolicy};
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::MockServer;

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
// Inputs that once panicked, replayed (the fuzz targets are in fuzz/).
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

/// An input that made a fuzz target panic, replayed through the same
/// harness logic as `fuzz/fuzz_targets/*.rs`.
#[test]
fn a_token_lifetime_beyond_any_date_does_not_overflow() {
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
/// for a login. Such values are now beyond the bounds and refused;
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
