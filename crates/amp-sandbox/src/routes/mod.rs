//! Routing and the request pipeline: record → fault → route → auth → method → handler.
//!
//! The API is routed by hand rather than by axum's router, because faults must
//! be applied per route *pattern* before anything else (even before a 404 or a
//! 405), every route must answer with and without a trailing slash, and the
//! 401-before-405 order of DRF must hold. The routes themselves are listed in
//! [`table`], one line each; their handlers live in one module per resource.

mod assets;
mod assignments;
mod categories;
mod control;
mod holdings;
mod managers;
mod supply;
mod table;
mod users;

use std::collections::BTreeMap;
use std::sync::{Arc, MutexGuard};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

pub(crate) use control::control;

use crate::auth::{self, Account};
use crate::data::{parse_change, parse_details, Report, Store, StoreError, MAX_UNITS};
use crate::drf::{not_a_dict, Char, Fields, Handled, Reply};
use crate::faults::{normalize_route, torn_connection, Plan};
use crate::stats::RequestRecord;
use crate::Shared;
use table::ROUTES;

/// The largest request body read; AMP bodies are small.
const BODY_LIMIT: usize = 1 << 20;

/// What a handler sees of its request.
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    /// The values of the pattern's `{...}` segments, in order.
    params: Vec<String>,
    /// The query string's parameters, as JSON strings (for `drf::Fields`).
    query: Map<String, Value>,
    pub(crate) body: Bytes,
    pub(crate) authorization_bytes: Option<Vec<u8>>,
    /// The token the request authenticated with, on protected routes.
    pub(crate) token: Option<String>,
    /// Whose token it is, on protected routes.
    pub(crate) account: Option<Account>,
}

impl Ctx {
    fn param(&self, index: usize) -> &str {
        self.params.get(index).map_or("", String::as_str)
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store()
    }
}

impl From<StoreError> for Reply {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Reply::not_found(),
            StoreError::Field(field, message) => Reply::field_error(field, message),
            StoreError::Rule(message) => {
                Reply::new(StatusCode::BAD_REQUEST, json!({ "Error": message }))
            }
            StoreError::Body(body) => Reply::new(StatusCode::BAD_REQUEST, body),
        }
    }
}

/// 200 with the store's answer.
fn ok(answer: Result<Value, StoreError>) -> Handled {
    Ok(Reply::ok(answer?))
}

/// 204 once the store has done it.
fn no_content(done: Result<(), StoreError>) -> Handled {
    done?;
    Ok(Reply::no_content())
}

/// 200 with an empty body, as amp-rs says some confirmations answer.
fn empty_ok(done: Result<(), StoreError>) -> Handled {
    done?;
    Ok(Reply::empty(StatusCode::OK))
}

/// A required object field of a body, for nested validation.
fn nested<'a>(object: &'a Map<String, Value>, name: &str) -> Result<&'a Map<String, Value>, Reply> {
    match object.get(name) {
        None | Some(Value::Null) => Err(Reply::field_error(name, "This field is required.")),
        Some(Value::Object(inner)) => Ok(inner),
        Some(other) => {
            let body = not_a_dict(other).body.unwrap_or_default();
            Err(Reply::new(
                StatusCode::BAD_REQUEST,
                json!({ name: body["non_field_errors"] }),
            ))
        }
    }
}

/// The `txid` of a nested object (`tx_data`, `reissuance_output`), with the
/// error nested under the object's name as DRF does.
fn nested_txid(inner: &Map<String, Value>, name: &str) -> Result<String, Reply> {
    let mut fields = Fields::default();
    let txid = fields.char(inner, "txid", Char::REQUIRED);
    if let Some(errors) = fields.into_errors() {
        return Err(Reply::new(StatusCode::BAD_REQUEST, json!({ name: errors })));
    }
    Ok(txid.unwrap_or_default())
}

/// `{"tx_data": {"txid", "details"?}, "change_data"?: […]}`: what the node
/// reported of its transaction, field errors nested as DRF nests them.
fn tx_report(body: &Bytes) -> Result<Report, Reply> {
    let object = crate::drf::parse_object(body)?;
    let tx_data = nested(&object, "tx_data")?;
    let txid = nested_txid(tx_data, "tx_data")?;
    let details = parse_details(tx_data.get("details")).map_err(|e| {
        Reply::new(
            StatusCode::BAD_REQUEST,
            json!({ "tx_data": { "details": [e] } }),
        )
    })?;
    let change = parse_change(object.get("change_data"))
        .map_err(|e| Reply::field_error("change_data", e))?;
    Ok(Report {
        txid,
        details,
        change,
    })
}

/// Liquid's cap on an amount, as the validators take it.
const MAX_AMOUNT: i64 = MAX_UNITS as i64;

type Handler = fn(&mut Ctx) -> Handled;

/// One API route: the pattern (relative to `/api`), its methods, whether it needs
/// a token, and its handler.
struct Route {
    pattern: &'static str,
    methods: &'static [Method],
    public: bool,
    handler: Handler,
}

/// matches, with its parameter values.
fn find_route(path: &str) -> Option<(&'static Route, Vec<String>)> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return None;
    }
    ROUTES.iter().find_map(|route| {
        let pattern: Vec<&str> = route.pattern[1..].split('/').collect();
        if pattern.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (want, got) in pattern.iter().zip(&segments) {
            if want.starts_with('{') {
                params.push((*got).to_owned());
            } else if want != got {
                return None;
            }
        }
        Some((route, params))
    })
}

/// The methods a route answers, as listed in `Allow`.
fn allow_header(route: &Route) -> HeaderValue {
    let mut names: Vec<&str> = route.methods.iter().map(Method::as_str).collect();
    if route.methods.contains(&Method::GET) {
        names.push("HEAD");
    }
    names.push("OPTIONS");
    HeaderValue::from_str(&names.join(", ")).unwrap_or_else(|_| HeaderValue::from_static("GET"))
}

/// How the pipeline ended.
enum Outcome {
    Answer(Response),
    Drop,
}

/// Records the request once it is answered, or with status 0 if it never is
/// (the connection is torn, or the request is abandoned before its answer).
struct RecordGuard {
    shared: Arc<Shared>,
    record: Option<RequestRecord>,
}

impl RecordGuard {
    fn finish(mut self, outcome: Outcome) -> Response {
        let (status, response) = match outcome {
            Outcome::Answer(response) => (response.status().as_u16(), response),
            Outcome::Drop => (0, torn_connection()),
        };
        if let Some(mut record) = self.record.take() {
            record.status = status;
            self.shared.record(record);
        }
        response
    }
}

impl Drop for RecordGuard {
    fn drop(&mut self) {
        if let Some(record) = self.record.take() {
            self.shared.record(record);
        }
    }
}

/// Sleeps for a `Delay` fault; `false` when the sandbox shut down meanwhile.
async fn delay(shared: &Shared, duration: Duration) -> bool {
    let mut closing = shared.closing.subscribe();
    tokio::select! {
        () = tokio::time::sleep(duration) => true,
        _ = closing.wait_for(|closing| *closing) => false,
    }
}

/// The entry point for every path outside the control routes.
pub(crate) async fn entry(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let full_path = request.uri().path().to_owned();
    let rest = match full_path.strip_prefix("/api") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => rest,
        _ => return Reply::not_found().into_response(),
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let matched = find_route(rest);
    let route_name = matched.as_ref().map_or_else(
        || normalize_route(rest),
        |(route, _)| route.pattern.to_owned(),
    );
    let method = request.method().clone();
    // A query that does not parse is taken as none: the routes that read one
    // then see their defaults.
    let query = Query::<BTreeMap<String, String>>::try_from_uri(request.uri())
        .map(|Query(q)| q.into_iter().map(|(k, v)| (k, Value::String(v))).collect())
        .unwrap_or_default();
    let authorization_bytes = request
        .headers()
        .get(header::AUTHORIZATION)
        .map(|value| value.as_bytes().to_vec());
    let mut guard = RecordGuard {
        shared: shared.clone(),
        record: Some(RequestRecord {
            method: method.as_str().to_owned(),
            route: route_name.clone(),
            path: full_path.clone(),
            authorization: authorization_bytes
                .as_deref()
                .map(|raw| String::from_utf8_lossy(raw).into_owned()),
            cookie: request
                .headers()
                .get(header::COOKIE)
                .map(|raw| String::from_utf8_lossy(raw.as_bytes()).into_owned()),
            status: 0,
            fault: None,
        }),
    };

    let body = match axum::body::to_bytes(request.into_body(), BODY_LIMIT).await {
        Ok(body) => body,
        Err(_) => {
            let reply = Reply::detail(
                StatusCode::BAD_REQUEST,
                "The request body could not be read.",
            );
            return guard.finish(Outcome::Answer(reply.into_response()));
        }
    };

    // Taken only once the request is complete, so a request that never arrives
    // whole does not use up a one-shot fault.
    let fault = shared.next_fault(&route_name, &normalize_route(rest));
    tracing::debug!(%method, route = %route_name, fault = ?fault, "sandbox request");
    if let Some(record) = guard.record.as_mut() {
        record.fault.clone_from(&fault);
    }
    if let Some(fault) = &fault {
        match fault.plan() {
            Plan::Delay(duration) => {
                if !delay(&shared, duration).await {
                    return guard.finish(Outcome::Drop);
                }
            }
            Plan::Drop => return guard.finish(Outcome::Drop),
            Plan::Answer(response) => return guard.finish(Outcome::Answer(response)),
        }
    }

    let reply = match matched {
        None => Reply::not_found(),
        Some((route, params)) => {
            let mut ctx = Ctx {
                shared,
                params,
                query,
                body,
                authorization_bytes,
                token: None,
                account: None,
            };
            run(route, &method, &mut ctx).unwrap_or_else(|reply| reply)
        }
    };
    guard.finish(Outcome::Answer(reply.into_response()))
}

/// Authentication first, then the method, as DRF's `APIView.dispatch` does.
fn run(route: &Route, method: &Method, ctx: &mut Ctx) -> Handled {
    if !route.public {
        let (token, account) = auth::authenticate(ctx)?;
        ctx.token = Some(token);
        ctx.account = Some(account);
    }
    if method == Method::OPTIONS {
        return Ok(Reply::ok(json!({
            "name": route.pattern,
            "renders": ["application/json"],
            "parses": ["application/json"],
        }))
        .with_header(header::ALLOW, allow_header(route)));
    }
    // hyper leaves the body out of an answer to HEAD by itself.
    let effective = if method == Method::HEAD {
        &Method::GET
    } else {
        method
    };
    if !route.methods.contains(effective) {
        return Err(Reply::detail(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method \"{method}\" not allowed."),
        )
        .with_header(header::ALLOW, allow_header(route)));
    }
    (route.handler)(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_segments_win_and_params_are_captured() {
        let (route, params) = find_route("/registered_users/add").unwrap();
        assert_eq!(route.pattern, "/registered_users/add");
        assert!(params.is_empty());
        let (route, params) = find_route("/managers/me").unwrap();
        assert_eq!(route.pattern, "/managers/me");
        assert!(params.is_empty());
        let (route, params) = find_route("/categories/3/assets/abc/remove").unwrap();
        assert_eq!(
            route.pattern,
            "/categories/{categoryId}/assets/{assetUuid}/remove"
        );
        assert_eq!(params, ["3", "abc"]);
        assert!(find_route("/assets//summary").is_none());
        assert!(find_route("").is_none());
        assert!(find_route("/nope").is_none());
    }

    #[test]
    fn every_pattern_is_reachable() {
        for route in ROUTES {
            let path = route.pattern.replace("{", "x").replace("}", "");
            let path = path.replace("xregisteredUserId", "7");
            let (found, _) = find_route(&path).unwrap();
            assert_eq!(found.pattern, route.pattern, "{path}");
        }
    }
}
