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
