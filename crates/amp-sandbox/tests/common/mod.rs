//! Helpers shared by the integration tests: a thin reqwest wrapper that keeps
//! each test about the sandbox, not about HTTP plumbing.
#![allow(dead_code)]

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

/// Confirms a distribution with `txid`; the answer as it comes.
pub async fn confirm(sandbox: &Sandbox, token: &str, uuid: &str, id: &str, txid: &str) -> Answer {
    let body = serde_json::json!({"tx_data": {"txid": txid, "details": []}, "change_data": []});
    let path = format!("/assets/{uuid}/distributions/{id}/confirm");
    post(sandbox, &path, Some(token), &body).await
}

/// A txid made of one repeated hex digit.
pub fn txid(digit: char) -> String {
    std::iter::repeat_n(digit, 64).collect()
}
