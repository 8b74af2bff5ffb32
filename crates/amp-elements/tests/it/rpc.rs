//! The Elements RPC client against wiremock: what it sends, how it logs in,
//! which failures it repeats and which it names and returns at once, and
//! that no secret reaches an error or `Debug`.

use std::time::Duration;

use amp_elements::{ElementsRpc, Error, RpcErrorKind};
use serde_json::{json, Value};
use wiremock::matchers::{body_partial_json, header, method};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const PASSWORD: &str = "s3cret-rpc-pass";

fn ok(result: Value) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(json!({"result": result, "error": null, "id": 1}))
}

fn rpc_error(code: i64, message: &str) -> ResponseTemplate {
    ResponseTemplate::new(500).set_body_json(
        json!({"result": null, "error": {"code": code, "message": message}, "id": 1}),
    )
}

/// `http://user:PASSWORD@127.0.0.1:PORT/` of the mock, quick retries.
fn node(server: &MockServer) -> ElementsRpc {
    let url = server
        .uri()
        .replace("http://", &format!("http://rpcuser:{PASSWORD}@"));
    ElementsRpc::builder(&url)
        .connect_retries(3, Duration::from_millis(1), Duration::from_millis(2))
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

fn basic(user: &str, password: &str) -> String {
    // base64 of "user:password", written out so the test needs no crate.
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}");
    let bytes = input.as_bytes();
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

#[tokio::test]
async fn a_call_is_json_rpc_with_basic_auth_from_the_url_and_the_url_keeps_no_credentials() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(header("authorization", basic("rpcuser", PASSWORD).as_str()))
        .and(body_partial_json(
            json!({"method": "getblockcount", "params": [], "jsonrpc": "2.0"}),
        ))
        .respond_with(ok(json!(42)))
        .expect(1)
        .mount(&server)
        .await;
    let node = node(&server);
    let height: u64 = node.call("getblockcount", json!([])).await.unwrap();
    assert_eq!(height, 42);
    assert!(!node.url().contains(PASSWORD) && !node.url().contains("rpcuser"));
    let debug = format!("{node:?}");
    assert!(!debug.contains(PASSWORD), "{debug}");
    let builder = ElementsRpc::builder(&format!("http://u:{PASSWORD}@127.0.0.1:1/"));
    let debug = format!("{builder:?}");
    assert!(
        !debug.contains(PASSWORD) && debug.contains("127.0.0.1:1"),
        "{debug}"
    );
}

#[tokio::test]
async fn send_many_sends_the_official_scripts_parameters() {
    let server = MockServer::start().await;
    let amounts: std::collections::BTreeMap<String, serde_json::Number> = [(
        "addrA".to_string(),
        serde_json::Number::from_f64(0.25).unwrap(),
    )]
    .into();
    let assets: std::collections::BTreeMap<String, String> =
        [("addrA".to_string(), "ab".repeat(32))].into();
    Mock::given(body_partial_json(json!({
        "method": "sendmany",
        "params": ["", {"addrA": 0.25}, 0, "", [], false, 1, "UNSET", {"addrA": "ab".repeat(32)}]
    })))
    .respond_with(ok(json!("cd".repeat(32))))
    .expect(1)
    .mount(&server)
    .await;
    let txid = node(&server).send_many(&amounts, &assets).await.unwrap();
    assert_eq!(txid, "cd".repeat(32));
}

#[tokio::test]
async fn rpc_errors_are_named_and_never_repeated() {
    for (code, kind) in [
        (-6, RpcErrorKind::InsufficientFunds),
        (-13, RpcErrorKind::WalletLocked),
        (-8, RpcErrorKind::InvalidParameter),
        (-5, RpcErrorKind::InvalidAddressOrKey),
    ] {
        let server = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(rpc_error(code, "nope"))
            .expect(1)
            .mount(&server)
            .await;
        let asset = "ab".repeat(32);
        let amount = serde_json::Number::from(1);
        let e = node(&server)
            .destroy_amount(&asset, &amount)
            .await
            .unwrap_err();
        assert_eq!(e.rpc_kind(), Some(kind), "{e}");
        assert!(e.to_string().contains(&code.to_string()), "{e}");
        assert!(!e.may_have_reached_node());
    }
}

#[tokio::test]
async fn the_lock_probe_reads_minus_13_as_locked_and_other_errors_as_unlocked() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(rpc_error(-13, "Please enter the wallet passphrase"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(rpc_error(-5, "Invalid address"))
        .mount(&server)
        .await;
    let node = node(&server);
    assert!(node.wallet_locked().await.unwrap());
    assert!(!node.wallet_locked().await.unwrap());
}

#[tokio::test]
async fn a_refused_connection_is_tried_a_bounded_number_of_times() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let node = ElementsRpc::builder(&format!("http://u:{PASSWORD}@127.0.0.1:{port}/"))
        .connect_retries(3, Duration::from_millis(1), Duration::from_millis(2))
        .build()
        .unwrap();
    let e = node.blockchain_info().await.unwrap_err();
    match &e {
        Error::Unreachable { attempts, .. } => assert_eq!(*attempts, 3),
        other => panic!("{other}"),
    }
    assert!(!e.to_string().contains(PASSWORD), "{e}");
}

#[tokio::test]
async fn a_warming_up_node_is_asked_again() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(rpc_error(-28, "Loading wallet…"))
        .up_to_n_times(2)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(ok(json!(7)))
        .mount(&server)
        .await;
    let height: u64 = node(&server)
        .call("getblockcount", json!([]))
        .await
        .unwrap();
    assert_eq!(height, 7);
    assert_eq!(server.received_requests().await.unwrap().len(), 3);
}

#[tokio::test]
async fn a_call_without_an_answer_in_time_may_have_been_carried_out_and_is_not_repeated() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok(json!("ab".repeat(32))).set_delay(Duration::from_secs(3)))
        .mount(&server)
        .await;
    let url = server.uri().replace("http://", "http://u:p@");
    let node = ElementsRpc::builder(&url)
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let e = node
        .destroy_amount("ab", &serde_json::Number::from(1))
        .await
        .unwrap_err();
    assert!(e.may_have_reached_node(), "{e}");
    assert!(matches!(e, Error::NoAnswer { .. }), "{e}");
    assert_eq!(server.received_requests().await.unwrap().len(), 1);
}

#[tokio::test]
async fn server_text_is_scrubbed_of_the_password_and_escaped() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(rpc_error(-1, &format!("bad auth {PASSWORD}\u{1b}[2J")))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(500).set_body_string(format!("<html>oops {PASSWORD}</html>")),
        )
        .mount(&server)
        .await;
    let node = node(&server);
    for _ in 0..2 {
        let e = node.blockchain_info().await.unwrap_err();
        let text = format!("{e} {e:?}");
        assert!(!text.contains(PASSWORD), "{text}");
        assert!(text.contains("[hidden]"), "{text}");
        assert!(!text.contains('\u{1b}'), "{text}");
    }
}

#[tokio::test]
async fn the_cookie_is_read_from_its_file_and_read_again_when_the_node_refuses_it() {
    let server = MockServer::start().await;
    let dir = std::env::temp_dir().join(format!("amp-elements-rpc-cookie-{}", fastrand_id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cookie = dir.join(".cookie");
    std::fs::write(&cookie, "__cookie__:0ld0ld0ld0ld").unwrap();
    Mock::given(header(
        "authorization",
        basic("__cookie__", "n3wn3wn3wn3w").as_str(),
    ))
    .respond_with(ok(json!(1)))
    .mount(&server)
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(401))
        .mount(&server)
        .await;
    let node = ElementsRpc::builder(&server.uri())
        .cookie_file(&cookie)
        .build()
        .unwrap();
    // The node restarted and wrote a new cookie after the first was read.
    let e = node
        .call::<u64>("getblockcount", json!([]))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unauthorized { status: 401, .. }), "{e}");
    std::fs::write(&cookie, "__cookie__:n3wn3wn3wn3w").unwrap();
    let one: u64 = node.call("getblockcount", json!([])).await.unwrap();
    assert_eq!(one, 1);
    let debug = format!("{node:?}");
    assert!(
        !debug.contains("n3wn3w") && !debug.contains("0ld0ld"),
        "{debug}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test]
async fn plain_http_off_loopback_is_refused_unless_allowed() {
    let e = ElementsRpc::builder("http://u:pw-xyz@10.1.2.3:7041/")
        .build()
        .unwrap_err();
    assert!(e.is_usage() && e.to_string().contains("plain http"), "{e}");
    assert!(!e.to_string().contains("pw-xyz"));
    ElementsRpc::builder("http://u:p@10.1.2.3:7041/")
        .allow_insecure_http(true)
        .build()
        .unwrap();
    ElementsRpc::builder("https://u:p@node.example/")
        .build()
        .unwrap();
    let e = ElementsRpc::builder("http://u:p@127.0.0.1:1/")
        .cookie_file("/x/.cookie")
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("use one"), "{e}");
}

#[tokio::test]
async fn an_answer_of_another_shape_is_a_bad_answer() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(ok(json!({"unexpected": true})))
        .mount(&server)
        .await;
    let e = node(&server)
        .destroy_amount("ab", &1.into())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::BadAnswer { .. }), "{e}");
    let _: &Request = &server.received_requests().await.unwrap()[0];
}

fn fastrand_id() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        ^ u64::from(std::process::id())
}
