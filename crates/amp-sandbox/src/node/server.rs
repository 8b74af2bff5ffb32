//! The node's HTTP side, as Elements Core's `httprpc.cpp` serves JSON-RPC:
//! POST only (405 otherwise), HTTP basic auth with `rpcuser:rpcpassword` or
//! the cookie (401 with `WWW-Authenticate: Basic realm="jsonrpc"`
//! otherwise), paths `/` and `/wallet/<name>` (404 otherwise), and replies
//! `{"result", "error", "id"}`: 200 on success, 500 on an RPC error (404 for
//! an unknown method, 400 for an invalid request), as Elements 23 does for
//! every request. With [`crate::SandboxBuilder::node_jsonrpc_v2`], a request
//! marked `"jsonrpc": "2.0"` gets the strict 2.0 reply of newer Elements
//! (errors with HTTP 200, no `null` member, `"jsonrpc": "2.0"` echoed).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::amount::write_json;
use super::faults::NodeFault;
use super::rpc::{self, RpcError};
use super::NodeRequestRecord;
use crate::faults::torn_connection;
use crate::Shared;

/// The largest request body read.
const BODY_LIMIT: usize = 4 << 20;

/// The wallet name the node answers under `/wallet/<name>`; `/` works too,
/// as with one wallet loaded.
pub(crate) const WALLET_NAME: &str = "sandbox";

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let text = text.trim_end_matches('=');
    let mut out = Vec::new();
    let mut buffer = 0u32;
    let mut bits = 0;
    for byte in text.bytes() {
        let value = ALPHABET.iter().position(|b| *b == byte)?;
        buffer = (buffer << 6) | u32::try_from(value).ok()?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

/// The user of a valid `Authorization: Basic …` header, or `None`.
fn authorized(shared: &Shared, header_value: Option<&HeaderValue>) -> Option<String> {
    let value = header_value?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(base64_decode(encoded.trim())?).ok()?;
    let (user, password) = decoded.split_once(':')?;
    let node = &shared.node;
    let by_password = user == node.user && constant_eq(password, &node.password);
    let by_cookie = user == super::COOKIE_USER && constant_eq(password, &node.cookie);
    (by_password || by_cookie).then(|| user.to_owned())
}

/// Compares without stopping at the first difference.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn unauthorized() -> Response {
    let mut response = StatusCode::UNAUTHORIZED.into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Basic realm=\"jsonrpc\""),
    );
    response
}

fn json_reply(status: StatusCode, body: &Value) -> Response {
    let mut response = (status, format!("{}\n", write_json(body))).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// The JSON-RPC versions of a reply.
#[derive(Clone, Copy, PartialEq)]
enum Version {
    Legacy,
    V2,
}

/// One reply object.
fn reply(version: Version, result: Result<Value, RpcError>, id: &Value) -> Value {
    match (version, result) {
        (Version::Legacy, Ok(result)) => json!({"result": result, "error": null, "id": id}),
        (Version::Legacy, Err(e)) => json!({"result": null, "error": e.json(), "id": id}),
        (Version::V2, Ok(result)) => json!({"jsonrpc": "2.0", "result": result, "id": id}),
        (Version::V2, Err(e)) => json!({"jsonrpc": "2.0", "error": e.json(), "id": id}),
    }
}

/// The HTTP status of a legacy error reply.
fn error_status(error: &RpcError) -> StatusCode {
    match error.code {
        -32600 => StatusCode::BAD_REQUEST,
        -32601 => StatusCode::NOT_FOUND,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// Sleeps; `false` when the sandbox shut down meanwhile.
async fn hold(shared: &Shared, duration: std::time::Duration) -> bool {
    let mut closing = shared.closing.subscribe();
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        _ = closing.wait_for(|closing| *closing) => false,
    }
}

/// One request object, read: `(version, id, method, params)`.
type Parsed = (Version, Value, String, Option<Value>);
/// A request object refused: `(version, id, error)`.
type Refused = (Version, Value, RpcError);

/// One parsed request object.
fn parse_request(object: &Value, strict_v2: bool) -> Result<Parsed, Refused> {
    let id = object.get("id").cloned().unwrap_or(Value::Null);
    let Value::Object(map) = object else {
        return Err((
            Version::Legacy,
            Value::Null,
            RpcError::invalid_request("Invalid Request object"),
        ));
    };
    let version = match map.get("jsonrpc") {
        None | Some(Value::Null) => Version::Legacy,
        Some(Value::String(v)) if v == "1.0" => Version::Legacy,
        Some(Value::String(v)) if v == "2.0" => {
            if strict_v2 {
                Version::V2
            } else {
                Version::Legacy
            }
        }
        Some(Value::String(_)) if strict_v2 => {
            return Err((
                Version::Legacy,
                id,
                RpcError::invalid_request("JSON-RPC version not supported"),
            ))
        }
        Some(Value::String(_)) => Version::Legacy,
        Some(_) if strict_v2 => {
            return Err((
                Version::Legacy,
                id,
                RpcError::invalid_request("jsonrpc field must be a string"),
            ))
        }
        Some(_) => Version::Legacy,
    };
    let method = match map.get("method") {
        None | Some(Value::Null) => {
            return Err((version, id, RpcError::invalid_request("Missing method")))
        }
        Some(Value::String(m)) => m.clone(),
        Some(_) => {
            return Err((
                version,
                id,
                RpcError::invalid_request("Method must be a string"),
            ))
        }
    };
    let params = map.get("params").cloned();
    if let Some(p) = &params {
        if !(p.is_array() || p.is_object() || p.is_null()) {
            return Err((
                version,
                id,
                RpcError::invalid_request("Params must be an array or object"),
            ));
        }
    }
    Ok((version, id, method, params))
}

/// Runs one call: counts it, applies its fault, and answers.
enum Outcome {
    Reply(Result<Value, RpcError>),
    Drop,
}

async fn run_call(
    shared: &Arc<Shared>,
    method: &str,
    params: Option<&Value>,
    record: &mut NodeRequestRecord,
    batch: bool,
) -> Outcome {
    let fault = shared.node.faults().next(method);
    record.fault.clone_from(&fault);
    tracing::debug!(%method, fault = ?fault, "sandbox node call");
    let effect = |shared: &Arc<Shared>| {
        let mut store = shared.store();
        rpc::call(&mut store.chain, method, params)
    };
    match fault {
        None => Outcome::Reply(effect(shared)),
        Some(NodeFault::RpcError(e)) => Outcome::Reply(Err(e)),
        // Inside a batch, only RPC errors apply: the others act on the
        // whole HTTP answer.
        Some(_) if batch => Outcome::Reply(effect(shared)),
        Some(NodeFault::DropConnection) => Outcome::Drop,
        Some(NodeFault::DropAndHold) => {
            crate::lock(&shared.node.held).push((method.to_owned(), params.cloned()));
            Outcome::Drop
        }
        Some(NodeFault::DropAfterEffect) => {
            let _ = effect(shared);
            Outcome::Drop
        }
        Some(NodeFault::DelayBefore(d)) => {
            if hold(shared, d).await {
                Outcome::Reply(effect(shared))
            } else {
                Outcome::Drop
            }
        }
        Some(NodeFault::DelayAfter(d)) => {
            let result = effect(shared);
            if hold(shared, d).await {
                Outcome::Reply(result)
            } else {
                Outcome::Drop
            }
        }
    }
}

/// Records a request when it is answered, or with status 0 when it never
/// is (torn, or abandoned by a client that went away during a held answer).
struct RecordOnDrop {
    shared: Arc<Shared>,
    record: NodeRequestRecord,
}

impl Drop for RecordOnDrop {
    fn drop(&mut self) {
        let record = std::mem::replace(
            &mut self.record,
            NodeRequestRecord {
                method: String::new(),
                path: String::new(),
                user: None,
                status: 0,
                error_code: None,
                fault: None,
            },
        );
        self.shared.node.record(record);
    }
}

/// Every request to the node's port.
pub(crate) async fn entry(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let path = request.uri().path().to_owned();
    let mut guard = RecordOnDrop {
        shared: shared.clone(),
        record: NodeRequestRecord {
            method: String::new(),
            path: path.clone(),
            user: None,
            status: 0,
            error_code: None,
            fault: None,
        },
    };
    let response = handle(&shared, request, &path, &mut guard.record).await;
    let (status, response) = match response {
        Some(response) => (response.status().as_u16(), response),
        None => (0, torn_connection()),
    };
    guard.record.status = status;
    response
}

async fn handle(
    shared: &Arc<Shared>,
    request: Request,
    path: &str,
    record: &mut NodeRequestRecord,
) -> Option<Response> {
    let wallet_path = path.strip_prefix("/wallet/");
    if path != "/" && wallet_path.is_none() {
        return Some(StatusCode::NOT_FOUND.into_response());
    }
    if request.method() != Method::POST {
        return Some(
            (
                StatusCode::METHOD_NOT_ALLOWED,
                "JSONRPC server handles only POST requests",
            )
                .into_response(),
        );
    }
    let Some(user) = authorized(shared, request.headers().get(header::AUTHORIZATION)) else {
        return Some(unauthorized());
    };
    record.user = Some(user);
    let strict_v2 = shared.node.jsonrpc_v2;
    let Ok(body) = axum::body::to_bytes(request.into_body(), BODY_LIMIT).await else {
        return Some(json_reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            &reply(
                Version::Legacy,
                Err(RpcError::new(-32700, "Parse error")),
                &Value::Null,
            ),
        ));
    };
    let parsed: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(_) => {
            let error = RpcError::new(-32700, "Parse error");
            record.error_code = Some(error.code);
            return Some(json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                &reply(Version::Legacy, Err(error), &Value::Null),
            ));
        }
    };
    let wallet_error = wallet_path
        .filter(|name| !name.is_empty() && *name != WALLET_NAME)
        .map(|_| RpcError::new(-18, "Requested wallet does not exist or is not loaded"));
    match parsed {
        Value::Array(items) => {
            let mut replies = Vec::new();
            for item in &items {
                let answer = match parse_request(item, strict_v2) {
                    Err((version, id, error)) => reply(version, Err(error), &id),
                    Ok((version, id, method, params)) => {
                        shared.node.count(&method);
                        let result = match &wallet_error {
                            Some(e) => Err(e.clone()),
                            None => match run_call(shared, &method, params.as_ref(), record, true)
                                .await
                            {
                                Outcome::Reply(result) => result,
                                Outcome::Drop => return None,
                            },
                        };
                        reply(version, result, &id)
                    }
                };
                replies.push(answer);
            }
            record.method = "(batch)".to_owned();
            Some(json_reply(StatusCode::OK, &Value::Array(replies)))
        }
        Value::Object(_) => {
            let (version, id, method, params) = match parse_request(&parsed, strict_v2) {
                Ok(parts) => parts,
                Err((version, id, error)) => {
                    record.error_code = Some(error.code);
                    let status = if version == Version::V2 {
                        StatusCode::OK
                    } else {
                        error_status(&error)
                    };
                    return Some(json_reply(status, &reply(version, Err(error), &id)));
                }
            };
            record.method.clone_from(&method);
            shared.node.count(&method);
            let result = match wallet_error {
                Some(e) => Err(e),
                None => match run_call(shared, &method, params.as_ref(), record, false).await {
                    Outcome::Reply(result) => result,
                    Outcome::Drop => return None,
                },
            };
            let status = match (&result, version) {
                (Err(e), Version::Legacy) => error_status(e),
                _ => StatusCode::OK,
            };
            record.error_code = result.as_ref().err().map(|e| e.code);
            Some(json_reply(status, &reply(version, result, &id)))
        }
        _ => {
            let error = RpcError::new(-32700, "Top-level object parse error");
            record.error_code = Some(error.code);
            Some(json_reply(
                StatusCode::INTERNAL_SERVER_ERROR,
                &reply(Version::Legacy, Err(error), &Value::Null),
            ))
        }
    }
}

/// The node's router: every request goes to [`entry`].
pub(crate) fn router(shared: Arc<Shared>) -> axum::Router {
    axum::Router::new().fallback(entry).with_state(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes() {
        assert_eq!(base64_decode("dXNlcjpwYXNz").unwrap(), b"user:pass");
        assert_eq!(base64_decode("YQ==").unwrap(), b"a");
        assert!(base64_decode("***").is_none());
        assert!(constant_eq("abc", "abc") && !constant_eq("abc", "abd") && !constant_eq("a", "ab"));
    }
}
