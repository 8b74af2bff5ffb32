//! The control endpoint: the routes under `/_sandbox` (JSON, no
//! authentication, not recorded), documented in the crate root.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use crate::drf::Reply;
use crate::faults::{normalize_route, Fault};
use crate::node::NodeFault;
use crate::Shared;

/// The routes under `/_sandbox` (JSON, no authentication, not recorded).
pub(crate) fn control() -> Router<Arc<Shared>> {
    let mut router = Router::new();
    let routes = [
        ("/_sandbox/stats", get(stats_get).delete(reset)),
        ("/_sandbox/faults", post(faults_post).delete(faults_delete)),
        ("/_sandbox/revoke", post(revoke)),
        ("/_sandbox/reset", post(reset)),
        ("/_sandbox/token-life", post(token_life)),
        ("/_sandbox/refresh-revokes-old", post(refresh_revokes_old)),
        ("/_sandbox/node", get(node_info)),
        ("/_sandbox/node/mine", post(node_mine)),
        ("/_sandbox/node/stats", get(node_stats).delete(node_reset)),
        (
            "/_sandbox/node/faults",
            post(node_faults_post).delete(node_faults_delete),
        ),
        ("/_sandbox/node/down", post(node_down)),
        ("/_sandbox/node/wallet-lock", post(node_wallet_lock)),
        ("/_sandbox/node/block-interval", post(node_block_interval)),
    ];
    for (path, method_router) in routes {
        router = router
            .route(&format!("{path}/"), method_router.clone())
            .route(path, method_router);
    }
    router
}

fn control_error(message: String) -> Response {
    Reply::detail(StatusCode::BAD_REQUEST, message).into_response()
}

/// Parses a control body with serde; the error is the reason, for a 400.
fn control_body<T: for<'de> Deserialize<'de>>(body: &Bytes) -> Result<T, String> {
    serde_json::from_slice(body).map_err(|err| format!("Invalid body: {err}"))
}

async fn stats_get(State(shared): State<Arc<Shared>>) -> Response {
    let stats = shared.stats();
    Reply::ok(json!({
        "total": stats.total(),
        "by_route": stats.counts,
        "requests": stats.requests,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct FaultRequest {
    route: String,
    fault: Fault,
    #[serde(default)]
    probability: Option<f64>,
    #[serde(default)]
    count: Option<u32>,
}

async fn faults_post(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: FaultRequest = match control_body(&body) {
        Ok(request) => request,
        Err(reason) => return control_error(reason),
    };
    let route = normalize_route(&request.route);
    let mut faults = shared.faults();
    let answer = match request.probability {
        Some(p) if !(0.0..=1.0).contains(&p) => {
            return control_error("probability must be between 0 and 1".to_owned())
        }
        Some(p) => {
            faults.set_rate(&route, request.fault.clone(), p);
            json!({ "route": route, "fault": request.fault, "probability": p })
        }
        None => {
            let count = request.count.unwrap_or(1);
            for _ in 0..count {
                faults.push(&route, request.fault.clone());
            }
            json!({ "route": route, "fault": request.fault, "queued": count })
        }
    };
    Reply::ok(answer).into_response()
}

async fn faults_delete(State(shared): State<Arc<Shared>>) -> Response {
    shared.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn revoke(State(shared): State<Arc<Shared>>) -> Response {
    shared.tokens().revoke_all();
    StatusCode::NO_CONTENT.into_response()
}

async fn reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct TokenLife {
    seconds: f64,
}

async fn token_life(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: TokenLife = match control_body(&body) {
        Ok(request) => request,
        Err(reason) => return control_error(reason),
    };
    match Duration::try_from_secs_f64(request.seconds) {
        Ok(life) => {
            shared.set_token_life(life);
            Reply::ok(json!({ "seconds": life.as_secs_f64() })).into_response()
        }
        Err(err) => control_error(format!("Invalid seconds: {err}")),
    }
}

#[derive(Deserialize)]
struct Enabled {
    enabled: bool,
}

async fn refresh_revokes_old(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match control_body::<Enabled>(&body) {
        Ok(request) => {
            shared.set_refresh_revokes_old(request.enabled);
            Reply::ok(json!({ "enabled": request.enabled })).into_response()
        }
        Err(reason) => control_error(reason),
    }
}

/// `GET /_sandbox/node`: how to reach the node (never its password or cookie).
async fn node_info(State(shared): State<Arc<Shared>>) -> Response {
    let node = &shared.node;
    let height = shared.store().chain.height();
    Reply::ok(json!({
        "url": format!("http://{}/", node.addr),
        "user": node.user,
        "cookie_path": node.cookie_path,
        "height": height,
    }))
    .into_response()
}

#[derive(Deserialize)]
struct Mine {
    #[serde(default = "one")]
    blocks: u64,
}

fn one() -> u64 {
    1
}

async fn node_mine(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Mine = if body.is_empty() {
        Mine { blocks: 1 }
    } else {
        match control_body(&body) {
            Ok(request) => request,
            Err(reason) => return control_error(reason),
        }
    };
    if request.blocks > 1_000 {
        return control_error("blocks must be at most 1000".to_owned());
    }
    let mut store = shared.store();
    let hashes = store.chain.mine(request.blocks);
    let height = store.chain.height();
    Reply::ok(json!({ "hashes": hashes, "height": height })).into_response()
}

async fn node_stats(State(shared): State<Arc<Shared>>) -> Response {
    Reply::ok(json!(shared.node.stats())).into_response()
}

async fn node_reset(State(shared): State<Arc<Shared>>) -> Response {
    shared.node.reset_stats();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct NodeFaultRequest {
    method: String,
    fault: NodeFault,
    #[serde(default)]
    count: Option<u32>,
}

async fn node_faults_post(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: NodeFaultRequest = match control_body(&body) {
        Ok(request) => request,
        Err(reason) => return control_error(reason),
    };
    let count = request.count.unwrap_or(1);
    let mut faults = shared.node.faults();
    for _ in 0..count {
        faults.push(&request.method, request.fault.clone());
    }
    Reply::ok(json!({ "method": request.method, "fault": request.fault, "queued": count }))
        .into_response()
}

async fn node_faults_delete(State(shared): State<Arc<Shared>>) -> Response {
    shared.node.faults().clear();
    StatusCode::NO_CONTENT.into_response()
}

#[derive(Deserialize)]
struct Down {
    down: bool,
}

async fn node_down(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Down = match control_body(&body) {
        Ok(request) => request,
        Err(reason) => return control_error(reason),
    };
    match crate::node::handle::set_node_down(&shared, request.down).await {
        Ok(()) => Reply::ok(json!({ "down": request.down })).into_response(),
        Err(err) => control_error(format!("cannot serve the node again: {err}")),
    }
}

#[derive(Deserialize)]
struct Locked {
    locked: bool,
}

async fn node_wallet_lock(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    match control_body::<Locked>(&body) {
        Ok(request) => {
            crate::node::handle::set_wallet_locked(&shared, request.locked);
            Reply::ok(json!({ "locked": request.locked })).into_response()
        }
        Err(reason) => control_error(reason),
    }
}

#[derive(Deserialize)]
struct Interval {
    seconds: Option<f64>,
}

async fn node_block_interval(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let request: Interval = match control_body(&body) {
        Ok(request) => request,
        Err(reason) => return control_error(reason),
    };
    let interval = match request.seconds {
        None => None,
        Some(seconds) => match Duration::try_from_secs_f64(seconds) {
            Ok(d) => Some(d).filter(|d| !d.is_zero()),
            Err(err) => return control_error(format!("Invalid seconds: {err}")),
        },
    };
    shared.node.block_interval.send_replace(interval);
    Reply::ok(json!({ "seconds": interval.map(|d| d.as_secs_f64()) })).into_response()
}
