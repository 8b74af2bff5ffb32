//! The simulated Elements node, spoken to over HTTP as a real client would:
//! authentication, the HTTP rules of Elements' JSON-RPC server, and the
//! shape of every call.

use crate::common;

use amp_sandbox::Sandbox;
use common::*;
use serde_json::{json, Value};

/// A raw POST to the node with this `Authorization` (or none) and body.
async fn post_raw(
    sb: &Sandbox,
    path: &str,
    auth: Option<String>,
    body: &str,
) -> (u16, Option<String>, String) {
    let mut request = http()
        .post(format!("{}{}", sb.node_url().trim_end_matches('/'), path))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let www = response
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, www, response.text().await.unwrap())
}

fn basic(user: &str, password: &str) -> String {
    // base64 of "user:password", written out by hand to stay dependency-free.
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let raw = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in raw.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    format!("Basic {out}")
}

const CALL: &str = r#"{"jsonrpc": "1.0", "id": 7, "method": "getblockcount", "params": []}"#;

#[tokio::test]
async fn password_and_cookie_are_accepted_and_nothing_else() {
    let sb = Sandbox::start().await.unwrap();
    let by_password = basic(sb.node_user(), sb.node_password());
    let (status, _, text) = post_raw(&sb, "/", Some(by_password.clone()), CALL).await;
    assert_eq!(status, 200, "{text}");
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(reply["id"], 7);
    assert!(
        reply["error"].is_null() && reply.get("error").is_some(),
        "1.0 replies carry a null error"
    );
    assert_eq!(reply["result"].as_u64(), Some(sb.node_height()));

    // The cookie, as Elements Core writes it: owner-only, `__cookie__:<64 hex>`.
    let cookie = std::fs::read_to_string(sb.node_cookie_path()).unwrap();
    let (user, secret) = cookie.split_once(':').unwrap();
    assert_eq!(user, "__cookie__");
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(sb.node_cookie_path())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let (status, _, _) = post_raw(&sb, "/", Some(basic(user, secret)), CALL).await;
    assert_eq!(status, 200);
    let (status, _, _) = post_raw(&sb, "/wallet/sandbox", Some(basic(user, secret)), CALL).await;
    assert_eq!(status, 200);

    // No credentials, wrong ones, a token: 401 with bitcoind's challenge.
    for auth in [
        None,
        Some(basic(sb.node_user(), "wrong")),
        Some(basic("__cookie__", &"0".repeat(64))),
        Some(basic("someone", sb.node_password())),
        Some("Bearer x".to_owned()),
    ] {
        let (status, www, text) = post_raw(&sb, "/", auth, CALL).await;
        assert_eq!(
            (status, www.as_deref(), text.as_str()),
            (401, Some("Basic realm=\"jsonrpc\""), "")
        );
    }
    // Only POST, only `/` and `/wallet/<name>`.
    let got = http().get(sb.node_url()).send().await.unwrap();
    assert_eq!(got.status(), 405);
    assert_eq!(
        got.text().await.unwrap(),
        "JSONRPC server handles only POST requests"
    );
    let (status, _, _) =
        post_raw(&sb, "/rest/chaininfo.json", Some(by_password.clone()), CALL).await;
    assert_eq!(status, 404);
    let (status, _, text) = post_raw(&sb, "/wallet/other", Some(by_password.clone()), CALL).await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!((status, &reply["error"]["code"]), (500, &json!(-18)));

    // The records name the user, never the password, the cookie or the header.
    let stats = serde_json::to_string(&sb.node_stats()).unwrap();
    assert!(!stats.contains(sb.node_password()) && !stats.contains(secret));
    assert!(!stats.contains(&by_password[6..]));
    let users: Vec<Option<String>> = sb
        .node_stats()
        .requests
        .iter()
        .map(|r| r.user.clone())
        .collect();
    assert_eq!(users[0].as_deref(), Some("sandbox-rpc"));
    assert_eq!(users[1].as_deref(), Some("__cookie__"));
    assert!(users[3..8].iter().all(Option::is_none));
    assert_eq!(sb.node_count("getblockcount"), 4);
}

#[tokio::test]
async fn json_rpc_errors_are_elements_errors() {
    let sb = Sandbox::start().await.unwrap();
    let auth = Some(basic(sb.node_user(), sb.node_password()));
    let reply = |text: &str| serde_json::from_str::<Value>(text).unwrap();
    let (status, _, text) = post_raw(&sb, "/", auth.clone(), "{nope").await;
    assert_eq!(
        (status, reply(&text)["error"]["code"].clone()),
        (500, json!(-32700))
    );
    let (status, _, text) = post_raw(
        &sb,
        "/",
        auth.clone(),
        r#"{"id": 1, "method": "nosuchcall"}"#,
    )
    .await;
    assert_eq!(
        (status, reply(&text)),
        (
            404,
            json!({"result": null, "error": {"code": -32601, "message": "Method not found"}, "id": 1})
        )
    );
    let (status, _, text) = post_raw(&sb, "/", auth.clone(), r#"{"id": 1, "method": 5}"#).await;
    assert_eq!(
        (status, reply(&text)["error"]["code"].clone()),
        (400, json!(-32600))
    );
    // Bad parameters are RPC errors (-1, -3, -5, -8), never a crash.
    for (method, params, code) in [
        ("gettransaction", json!([]), -1),
        ("gettransaction", json!(["abc"]), -8),
        ("gettransaction", json!(["zz".repeat(32)]), -8),
        ("gettransaction", json!(["ab".repeat(32)]), -5),
        ("gettransaction", json!([5]), -3),
        ("getbalance", json!(["x"]), -32),
        ("listunspent", json!(["one"]), -3),
        ("listtransactions", json!(["*", -1]), -8),
        ("sendmany", json!(["", {"!": 1}]), -5),
        (
            "sendmany",
            json!(["", {"tlq1qqxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": "lots"}]),
            -3,
        ),
        (
            "sendmany",
            json!(["", {"tlq1qqxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": 0.000000001}]),
            -3,
        ),
        (
            "sendmany",
            json!(["", {"tlq1qqxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": -1}]),
            -3,
        ),
        ("sendmany", json!(["x", {}]), -8),
        (
            "sendmany",
            json!(["", {"tlq1qqxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": 1}, 0, "", [], false, 1, "UNSET", {"tlq1qqxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx": "nolabel"}]),
            -4,
        ),
        ("reissueasset", json!(["ab".repeat(32), 1]), -4),
        ("destroyamount", json!(["bitcoin", 0]), -3),
        ("getblockcount", json!([1]), -1),
        ("getblockcount", json!({"nope": 1}), -8),
        ("walletpassphrase", json!(["p", 10]), -15),
    ] {
        let (status, reply) = rpc_raw(&sb, method, params.clone()).await;
        assert_eq!(
            (status, reply["error"]["code"].as_i64()),
            (500, Some(code)),
            "{method} {params}: {reply}"
        );
        assert!(reply["result"].is_null() && reply["error"]["message"].is_string());
    }
    // Named parameters work as positional ones.
    let named = rpc(&sb, "getbalance", json!({"minconf": 1})).await;
    assert_eq!(named, rpc(&sb, "getbalance", json!(["*", 1])).await);
}

#[tokio::test]
async fn strict_json_rpc_2_replies_when_asked() {
    let sb = Sandbox::builder()
        .node_jsonrpc_v2(true)
        .start()
        .await
        .unwrap();
    let auth = Some(basic(sb.node_user(), sb.node_password()));
    let (status, _, text) = post_raw(
        &sb,
        "/",
        auth.clone(),
        r#"{"jsonrpc": "2.0", "id": 3, "method": "nosuchcall"}"#,
    )
    .await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status, 200);
    assert_eq!(
        reply,
        json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": 3})
    );
    let (status, _, text) = post_raw(
        &sb,
        "/",
        auth.clone(),
        r#"{"jsonrpc": "2.0", "id": 4, "method": "getblockcount"}"#,
    )
    .await;
    let reply: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status, 200);
    assert!(reply.get("error").is_none() && reply["jsonrpc"] == "2.0" && reply["result"].is_u64());
    // A 1.0 request keeps the legacy reply.
    let (status, _, _) = post_raw(
        &sb,
        "/",
        auth,
        r#"{"jsonrpc": "1.0", "id": 5, "method": "nosuchcall"}"#,
    )
    .await;
    assert_eq!(status, 404);
}

/// The text of the first amount after `key` in a raw reply.
fn raw_amount<'a>(text: &'a str, key: &str) -> &'a str {
    let at = text.find(key).unwrap() + key.len();
    let rest = &text[at..];
    let end = rest.find([',', '}', ']']).unwrap();
    &rest[..end]
}

#[tokio::test]
async fn node_calls_answer_elements_shapes() {
    let sb = Sandbox::start().await.unwrap();
    // What the official script checks first.
    let info = rpc(&sb, "getnetworkinfo", json!([])).await;
    assert!(info["subversion"]
        .as_str()
        .unwrap()
        .contains("Elements Core"));
    assert!(info["version"].as_u64().unwrap() >= 170_001);
    let chain = rpc(&sb, "getblockchaininfo", json!([])).await;
    assert!(chain["verificationprogress"].as_f64().unwrap() >= 0.999);
    assert_eq!(chain["blocks"].as_u64(), Some(sb.node_height()));
    let (status, unlocked) =
        rpc_raw(&sb, "signmessage", json!(["invalidaddress", "message"])).await;
    assert_eq!(
        (status, unlocked["error"]["code"].as_i64()),
        (500, Some(-5)),
        "unlocked: not -13"
    );

    // Balances per asset, amounts with 8 decimals as Elements writes them.
    let body = json!({"id": 1, "method": "getbalance", "params": ["*", 0, false]}).to_string();
    let (_, _, text) = post_raw(
        &sb,
        "/",
        Some(basic(sb.node_user(), sb.node_password())),
        &body,
    )
    .await;
    let lbtc = raw_amount(&text, "\"bitcoin\":");
    assert_eq!(lbtc.split_once('.').unwrap().1.len(), 8, "{text}");
    let balance: Value = serde_json::from_str(&text).unwrap();
    let token = get(&sb, "/assets/", Some(&login(&sb).await)).await.json();
    let bond = token
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["ticker"] == "SBND")
        .unwrap()
        .clone();
    let bond_id = bond["asset_id"].as_str().unwrap();
    // 1 000 000 issued, 1 000 distributed from the treasury; units of 10^-8.
    assert_eq!(balance["result"][bond_id].as_f64(), Some(0.00999));
    assert_eq!(
        rpc(&sb, "getbalance", json!(["*", 0, false, false, bond_id]))
            .await
            .as_f64(),
        Some(0.00999)
    );

    // Unspent outputs carry what the confirm bodies need.
    let unspent = rpc(&sb, "listunspent", json!([])).await;
    let bond_utxo = unspent
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["asset"] == bond_id)
        .unwrap()
        .clone();
    for key in [
        "txid",
        "vout",
        "address",
        "amount",
        "asset",
        "assetblinder",
        "amountblinder",
        "confirmations",
        "spendable",
        "safe",
        "scriptPubKey",
    ] {
        assert!(bond_utxo.get(key).is_some(), "{key}: {bond_utxo}");
    }
    let only_bond = rpc(
        &sb,
        "listunspent",
        json!([1, 9_999_999, [], true, {"asset": bond_id}]),
    )
    .await;
    assert!(only_bond
        .as_array()
        .unwrap()
        .iter()
        .all(|u| u["asset"] == bond_id));

    // Issuances the wallet knows: the three sample assets, the bond with a token.
    let issuances = rpc(&sb, "listissuances", json!([])).await;
    assert_eq!(issuances.as_array().unwrap().len(), 3);
    let of_bond = rpc(&sb, "listissuances", json!([bond_id])).await;
    assert_eq!(of_bond[0]["isreissuance"], false);
    assert_eq!(of_bond[0]["token"], bond["reissuance_token_id"]);
    assert_eq!(of_bond[0]["assetamount"].as_f64(), Some(0.01));
    assert_eq!(of_bond[0]["vin"], 0);

    // Addresses, and blocks on request.
    let address = rpc(&sb, "getnewaddress", json!([])).await;
    let info = rpc(&sb, "getaddressinfo", json!([address])).await;
    assert_eq!(
        (info["ismine"].clone(), info["ischange"].clone()),
        (json!(true), json!(false))
    );
    let height = rpc(&sb, "getblockcount", json!([])).await.as_u64().unwrap();
    let hashes = rpc(&sb, "generatetoaddress", json!([3, address])).await;
    assert_eq!(hashes.as_array().unwrap().len(), 3);
    assert_eq!(
        rpc(&sb, "getblockcount", json!([])).await.as_u64(),
        Some(height + 3)
    );
    assert_eq!(
        rpc(&sb, "getblockhash", json!([height + 3])).await,
        hashes[2]
    );
    assert_eq!(rpc(&sb, "getbestblockhash", json!([])).await, hashes[2]);
    assert_eq!(sb.mine(2).len(), 2);
    assert_eq!(sb.node_height(), height + 5);

    // A batch answers each call.
    let batch = r#"[{"id": 1, "method": "getblockcount"}, {"id": 2, "method": "nosuchcall"}]"#;
    let (status, _, text) = post_raw(
        &sb,
        "/",
        Some(basic(sb.node_user(), sb.node_password())),
        batch,
    )
    .await;
    let replies: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(status, 200);
    assert_eq!(replies[0]["result"].as_u64(), Some(height + 5));
    assert_eq!(replies[1]["error"]["code"], -32601);
}
