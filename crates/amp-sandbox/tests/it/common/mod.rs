//! Helpers shared by the integration tests: a thin reqwest wrapper that keeps
//! each test about the sandbox, not about HTTP plumbing.

use amp_sandbox::Sandbox;
use reqwest::header::HeaderMap;
use reqwest::Method;
use serde_json::Value;

/// One answer, read whole.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub text: String,
}

impl Answer {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Sends one request; `path` is relative to the API root (e.g. "/assets/").
pub async fn send(
    sandbox: &Sandbox,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> reqwest::Result<Answer> {
    send_raw(
        sandbox,
        method,
        path,
        token.map(|t| format!("token {t}")),
        body.map(Value::to_string),
    )
    .await
}

/// Sends one request with a verbatim Authorization header and raw body.
pub async fn send_raw(
    sandbox: &Sandbox,
    method: Method,
    path: &str,
    authorization: Option<String>,
    body: Option<String>,
) -> reqwest::Result<Answer> {
    let url = format!("{}{}", sandbox.base_url(), path);
    let mut request = http().request(method, url);
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    if let Some(body) = body {
        request = request
            .header("content-type", "application/json")
            .body(body);
    }
    let response = request.send().await?;
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let text = response.text().await?;
    Ok(Answer {
        status,
        headers,
        text,
    })
}

pub async fn get(sandbox: &Sandbox, path: &str, token: Option<&str>) -> Answer {
    send(sandbox, Method::GET, path, token, None).await.unwrap()
}

pub async fn post(sandbox: &Sandbox, path: &str, token: Option<&str>, body: &Value) -> Answer {
    send(sandbox, Method::POST, path, token, Some(body))
        .await
        .unwrap()
}

pub async fn put(
    sandbox: &Sandbox,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    send(sandbox, Method::PUT, path, token, body).await.unwrap()
}

pub async fn delete(sandbox: &Sandbox, path: &str, token: Option<&str>) -> Answer {
    send(sandbox, Method::DELETE, path, token, None)
        .await
        .unwrap()
}

/// Logs in with the sandbox's own credentials and returns the token.
pub async fn login(sandbox: &Sandbox) -> String {
    let body = serde_json::json!({"username": sandbox.username(), "password": sandbox.password()});
    let answer = post(sandbox, "/user/obtain_token", None, &body).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()["token"].as_str().unwrap().to_owned()
}

pub fn is_token(token: &str) -> bool {
    token.len() == 40
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

// ---- issuer flows ---------------------------------------------------------------

/// A valid GAID, different for each `n` below 33.
pub fn gaid(n: usize) -> String {
    let alphabet = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    format!("GA9Test{}abcdefghijkmnopqrs", char::from(alphabet[n % 33]))
}

/// A sandbox without sample data, and a token for it.
pub async fn empty_sandbox() -> (Sandbox, String) {
    let sandbox = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    let token = login(&sandbox).await;
    (sandbox, token)
}

/// An issue request; `extra` adds or overrides fields.
pub fn issue_body(amount: u64, extra: Value) -> Value {
    let mut body = serde_json::json!({
        "name": "Flow Token",
        "amount": amount,
        "destination_address": "vjTtreasuryaddressoftheissuer",
        "domain": "flow.example",
        "ticker": "FLOW",
        "pubkey": "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798",
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), extra) {
        body.extend(extra);
    }
    body
}

/// Issues an asset and returns its uuid.
pub async fn issue(sandbox: &Sandbox, token: &str, amount: u64, extra: Value) -> String {
    let answer = post(
        sandbox,
        "/assets/issue",
        Some(token),
        &issue_body(amount, extra),
    )
    .await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json()["asset_uuid"].as_str().unwrap().to_owned()
}

/// Adds a registered user and returns its id.
pub async fn add_user(sandbox: &Sandbox, token: &str, name: &str, gaid: Option<&str>) -> u64 {
    let body = serde_json::json!({"name": name, "GAID": gaid, "is_company": false});
    let answer = post(sandbox, "/registered_users/add", Some(token), &body).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json()["id"].as_u64().unwrap()
}

/// Sends one assignment create; the answer as it comes.
pub async fn try_assign(sandbox: &Sandbox, token: &str, uuid: &str, item: Value) -> Answer {
    let body = serde_json::json!({ "assignments": [item] });
    let path = format!("/assets/{uuid}/assignments/create");
    post(sandbox, &path, Some(token), &body).await
}

/// Assigns `amount` to `user`, ready for distribution; the assignment's id.
pub async fn assign(sandbox: &Sandbox, token: &str, uuid: &str, user: u64, amount: u64) -> u64 {
    let item = serde_json::json!({
        "registered_user": user,
        "amount": amount,
        "ready_for_distribution": true,
    });
    let answer = try_assign(sandbox, token, uuid, item).await;
    assert_eq!(answer.status, 201, "{}", answer.text);
    answer.json()[0]["id"].as_u64().unwrap()
}

/// Creates a distribution of the ready assignments; the whole answer.
pub async fn distribute(sandbox: &Sandbox, token: &str, uuid: &str) -> Value {
    let path = format!("/assets/{uuid}/distributions/create");
    let answer = get(sandbox, &path, Some(token)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    answer.json()
}

/// Confirms a distribution with `txid` and the body the official script
/// builds from the node (`gettransaction` details, `listunspent` change of
/// the asset); the answer as it comes. A txid the node does not know gets
/// empty details.
pub async fn confirm(sandbox: &Sandbox, token: &str, uuid: &str, id: &str, txid: &str) -> Answer {
    let asset_id = get(sandbox, &format!("/assets/{uuid}"), Some(token))
        .await
        .json()["asset_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = confirm_body(sandbox, txid, &asset_id).await;
    let path = format!("/assets/{uuid}/distributions/{id}/confirm");
    post(sandbox, &path, Some(token), &body).await
}

// ---- the node ---------------------------------------------------------------------

/// One JSON-RPC call to the sandbox's node with its rpcuser:rpcpassword;
/// the whole reply (status, body).
pub async fn rpc_raw(sandbox: &Sandbox, method: &str, params: Value) -> (u16, Value) {
    let body = serde_json::json!({"jsonrpc": "1.0", "id": "t", "method": method, "params": params});
    let response = http()
        .post(sandbox.node_url())
        .basic_auth(sandbox.node_user(), Some(sandbox.node_password()))
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// One JSON-RPC call that must succeed; its result.
pub async fn rpc(sandbox: &Sandbox, method: &str, params: Value) -> Value {
    let (status, reply) = rpc_raw(sandbox, method, params).await;
    assert_eq!(status, 200, "{method}: {reply}");
    assert!(reply["error"].is_null(), "{method}: {reply}");
    reply["result"].clone()
}

/// What the official script does with a `distributions/create` answer:
/// `sendmany "" amounts 0 "" [] false 1 "UNSET" assets`, then two blocks.
pub async fn send_plan(sandbox: &Sandbox, plan: &Value) -> String {
    let params = serde_json::json!([
        "",
        plan["map_address_amount"],
        0,
        "",
        [],
        false,
        1,
        "UNSET",
        plan["map_address_asset"]
    ]);
    let txid = rpc(sandbox, "sendmany", params).await;
    sandbox.mine(2);
    txid.as_str().unwrap().to_owned()
}

/// The distribution (and burn) confirm body the official script builds.
pub async fn confirm_body(sandbox: &Sandbox, txid: &str, asset_id: &str) -> Value {
    let (_, reply) = rpc_raw(sandbox, "gettransaction", serde_json::json!([txid])).await;
    let details = reply["result"]["details"].clone();
    let details = if details.is_null() {
        serde_json::json!([])
    } else {
        details
    };
    let unspent = rpc(sandbox, "listunspent", serde_json::json!([])).await;
    let change: Vec<Value> = unspent
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["asset"] == asset_id && u["txid"] == txid)
        .cloned()
        .collect();
    serde_json::json!({"tx_data": {"details": details, "txid": txid}, "change_data": change})
}

/// Creates a distribution of the ready assignments, sends it from the node
/// and mines two blocks; the plan and the txid.
pub async fn distribute_on_chain(sandbox: &Sandbox, token: &str, uuid: &str) -> (Value, String) {
    let plan = distribute(sandbox, token, uuid).await;
    let txid = send_plan(sandbox, &plan).await;
    (plan, txid)
}

/// A txid made of one repeated hex digit.
pub fn txid(digit: char) -> String {
    std::iter::repeat_n(digit, 64).collect()
}
