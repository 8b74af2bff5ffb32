//! Routing and the request pipeline: record → fault → route → auth → method → handler.
//!
//! The API is routed by hand rather than by axum's router, because faults must
//! be applied per route *pattern* before anything else (even before a 404 or a
//! 405), every route must answer with and without a trailing slash, and the
//! 401-before-405 order of DRF must hold.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::json;

use crate::auth;
use crate::data::{address_for, check_gaid, StoreError};
use crate::drf::{parse_object, string_or_field, Char, Fields, Handled, Reply};
use crate::faults::{normalize_route, torn_connection, Fault, Plan};
use crate::stats::RequestRecord;
use crate::Shared;

/// The largest request body read; AMP bodies are small.
const BODY_LIMIT: usize = 1 << 20;

/// What a handler sees of its request.
pub(crate) struct Ctx {
    pub(crate) shared: Arc<Shared>,
    /// The values of the pattern's `{...}` segments, in order.
    params: Vec<String>,
    pub(crate) body: Bytes,
    pub(crate) authorization_bytes: Option<Vec<u8>>,
    /// The token the request authenticated with, on protected routes.
    pub(crate) token: Option<String>,
}

impl Ctx {
    fn param(&self, index: usize) -> &str {
        self.params.get(index).map_or("", String::as_str)
    }
}

impl From<StoreError> for Reply {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound => Reply::not_found(),
            StoreError::Field(field, message) => Reply::field_error(field, message),
        }
    }
}

type Handler = fn(&mut Ctx) -> Handled;

/// One API route: the pattern (relative to `/api`), its methods, whether it needs
/// a token, and its handler.
struct Route {
    pattern: &'static str,
    methods: &'static [Method],
    public: bool,
    handler: Handler,
}

const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const PUT: &[Method] = &[Method::PUT];
const DELETE: &[Method] = &[Method::DELETE];
const GET_POST: &[Method] = &[Method::GET, Method::POST];

const fn route(pattern: &'static str, methods: &'static [Method], handler: Handler) -> Route {
    Route {
        pattern,
        methods,
        public: false,
        handler,
    }
}

/// Every API route. The first match wins, so a literal segment (`add`, `me`) is
/// listed before the parameter it would otherwise be taken for.
static ROUTES: &[Route] = &[
    Route {
        pattern: "/user/obtain_token",
        methods: POST,
        public: true,
        handler: auth::obtain_token,
    },
    route("/user/refresh-token", GET_POST, auth::refresh_token),
    Route {
        pattern: "/info",
        methods: GET,
        public: true,
        handler: info,
    },
    route("/changelog", GET, changelog),
    // assets
    route("/assets", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().assets()))
    }),
    route("/assets/{assetUuid}", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().asset_json(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/summary", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().asset_summary(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/lock", PUT, |ctx| {
        Ok(Reply::ok(
            ctx.shared.store().set_locked(ctx.param(0), true)?,
        ))
    }),
    route("/assets/{assetUuid}/unlock", PUT, |ctx| {
        Ok(Reply::ok(
            ctx.shared.store().set_locked(ctx.param(0), false)?,
        ))
    }),
    route("/assets/{assetUuid}/memo", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().memo(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/memo/set", POST, memo_set),
    route("/assets/{assetUuid}/ownerships", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().ownerships(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/balance", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().balance(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/lost-outputs", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().lost_outputs(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/activities", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().activities(ctx.param(0))?))
    }),
    route("/assets/{assetUuid}/assignments", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().assignments(ctx.param(0))?))
    }),
    route(
        "/assets/{assetUuid}/assignments/{assignmentId}",
        GET,
        |ctx| {
            Ok(Reply::ok(
                ctx.shared.store().assignment(ctx.param(0), ctx.param(1))?,
            ))
        },
    ),
    // registered users
    route("/registered_users", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().users()))
    }),
    route("/registered_users/add", POST, user_add),
    route("/registered_users/{registeredUserId}", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().user_json(ctx.param(0))?))
    }),
    route("/registered_users/{registeredUserId}/edit", PUT, user_edit),
    route(
        "/registered_users/{registeredUserId}/delete",
        DELETE,
        |ctx| {
            ctx.shared.store().delete_user(ctx.param(0))?;
            Ok(Reply::no_content())
        },
    ),
    route("/registered_users/{registeredUserId}/summary", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().user_summary(ctx.param(0))?))
    }),
    route("/registered_users/{registeredUserId}/gaids", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().user_gaids(ctx.param(0))?))
    }),
    route(
        "/registered_users/{registeredUserId}/gaids/add",
        POST,
        |ctx| {
            let gaid = string_or_field(&ctx.body, "GAID", false)?;
            Ok(Reply::ok(ctx.shared.store().add_gaid(ctx.param(0), gaid)?))
        },
    ),
    route(
        "/registered_users/{registeredUserId}/gaids/set-default",
        POST,
        |ctx| {
            let gaid = string_or_field(&ctx.body, "GAID", false)?;
            Ok(Reply::ok(
                ctx.shared.store().set_default_gaid(ctx.param(0), gaid)?,
            ))
        },
    ),
    // categories
    route("/categories", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().categories()))
    }),
    route("/categories/add", POST, category_add),
    route("/categories/{categoryId}", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().category_json(ctx.param(0))?))
    }),
    route("/categories/{categoryId}/edit", PUT, category_edit),
    route("/categories/{categoryId}/delete", DELETE, |ctx| {
        ctx.shared.store().delete_category(ctx.param(0))?;
        Ok(Reply::no_content())
    }),
    route(
        "/categories/{categoryId}/registered_users/{registeredUserId}/add",
        PUT,
        |ctx| {
            let store = &mut ctx.shared.store();
            Ok(Reply::ok(store.link_user(
                ctx.param(0),
                ctx.param(1),
                true,
            )?))
        },
    ),
    route(
        "/categories/{categoryId}/registered_users/{registeredUserId}/remove",
        PUT,
        |ctx| {
            let store = &mut ctx.shared.store();
            Ok(Reply::ok(store.link_user(
                ctx.param(0),
                ctx.param(1),
                false,
            )?))
        },
    ),
    route(
        "/categories/{categoryId}/assets/{assetUuid}/add",
        PUT,
        |ctx| {
            let store = &mut ctx.shared.store();
            Ok(Reply::ok(store.link_asset(
                ctx.param(0),
                ctx.param(1),
                true,
            )?))
        },
    ),
    route(
        "/categories/{categoryId}/assets/{assetUuid}/remove",
        PUT,
        |ctx| {
            let store = &mut ctx.shared.store();
            Ok(Reply::ok(store.link_asset(
                ctx.param(0),
                ctx.param(1),
                false,
            )?))
        },
    ),
    // gaids
    route("/gaids/{gaid}/validate", GET, |ctx| {
        Ok(Reply::ok(match check_gaid(ctx.param(0)) {
            Ok(()) => json!({ "is_valid": true }),
            Err(error) => json!({ "is_valid": false, "error": error }),
        }))
    }),
    route("/gaids/{gaid}/address", GET, |ctx| {
        let gaid = valid_gaid(ctx)?;
        Ok(Reply::ok(json!({ "address": address_for(gaid) })))
    }),
    route("/gaids/{gaid}/registered_user", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().gaid_user(ctx.param(0))?))
    }),
    route("/gaids/{gaid}/balance", GET, |ctx| {
        let gaid = valid_gaid(ctx)?;
        Ok(Reply::ok(ctx.shared.store().gaid_balance(gaid)))
    }),
    // managers
    route("/managers", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().managers()))
    }),
    route("/managers/me", GET, |_| {
        // The sandbox's one login is the issuer, and an issuer is not a manager.
        Err(Reply::detail(
            StatusCode::NOT_FOUND,
            "Not found: the authenticated user is an issuer, not a manager.",
        ))
    }),
    route("/managers/{managerId}", GET, |ctx| {
        Ok(Reply::ok(ctx.shared.store().manager_json(ctx.param(0))?))
    }),
];

/// The route a path (relative to `/api`, one trailing slash already removed)
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
                body,
                authorization_bytes,
                token: None,
            };
            run(route, &method, &mut ctx).unwrap_or_else(|reply| reply)
        }
    };
    guard.finish(Outcome::Answer(reply.into_response()))
}

/// Authentication first, then the method, as DRF's `APIView.dispatch` does.
fn run(route: &Route, method: &Method, ctx: &mut Ctx) -> Handled {
    if !route.public {
        ctx.token = Some(auth::authenticate(ctx)?);
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

// ---- handlers that need more than one line ----------------------------------

fn info(_: &mut Ctx) -> Handled {
    Ok(Reply::ok(
        json!({ "version": "0.1.13", "notes": "AMP sandbox" }),
    ))
}

fn changelog(_: &mut Ctx) -> Handled {
    // Paraphrased milestones (amp-api.md §2); keys are deliberately unordered strings.
    Ok(Reply::ok(json!({
        "0.1.0": "Add /changelog. Assignments: is_distributed replaces distribution_status; add vesting_timestamp.",
        "0.1.1": "Rename authorizer_endpoint to issuer_authorization_endpoint.",
        "0.1.2": "Add precision to assets.",
        "0.1.4": "Add is_locked, asset lock/unlock and /gaids/{gaid}/address.",
        "0.1.5": "Add lost outputs, /user/refresh-token to renew the authentication token, /user/change-password and the manager endpoints.",
        "0.1.6": "Add /gaids/{gaid}/investor and new category association endpoints.",
        "0.1.7": "Rename investor to registered_user; remove the old category association endpoints.",
        "0.1.8": "Add reissuance_token_id and assignment vesting_timestamp.",
        "0.1.10": "Add /txs.",
        "0.1.12": "Add /update-blinders.",
        "0.1.13": "Add GAID on assignments.",
    })))
}

fn memo_set(ctx: &mut Ctx) -> Handled {
    let memo = string_or_field(&ctx.body, "memo", true)?;
    Ok(Reply::ok(ctx.shared.store().set_memo(ctx.param(0), memo)?))
}

fn user_add(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::REQUIRED);
    let gaid = fields.char(&object, "GAID", Char::NULLABLE);
    let is_company = fields.boolean(&object, "is_company", true);
    fields.finish()?;
    let gaid = gaid.filter(|g| !g.is_empty());
    let user = ctx.shared.store().add_user(
        name.unwrap_or_default(),
        gaid,
        is_company.unwrap_or_default(),
    )?;
    Ok(Reply::created(user))
}

fn user_edit(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::REQUIRED);
    let is_company = fields.boolean(&object, "is_company", false);
    fields.finish()?;
    Ok(Reply::ok(ctx.shared.store().edit_user(
        ctx.param(0),
        name,
        is_company,
    )?))
}

fn category_add(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::REQUIRED);
    let description = fields.char(&object, "description", Char::NULLABLE);
    fields.finish()?;
    let category = ctx
        .shared
        .store()
        .add_category(name.unwrap_or_default(), description)?;
    Ok(Reply::created(category))
}

fn category_edit(ctx: &mut Ctx) -> Handled {
    let object = parse_object(&ctx.body)?;
    let mut fields = Fields::default();
    let name = fields.char(&object, "name", Char::OPTIONAL);
    let description = fields.char(&object, "description", Char::NULLABLE);
    fields.finish()?;
    // Absent leaves the description alone; null clears it.
    let description = object.contains_key("description").then_some(description);
    Ok(Reply::ok(ctx.shared.store().edit_category(
        ctx.param(0),
        name,
        description,
    )?))
}

fn valid_gaid(ctx: &Ctx) -> Result<&str, Reply> {
    let gaid = ctx.param(0);
    check_gaid(gaid)
        .map_err(|error| Reply::new(StatusCode::BAD_REQUEST, json!({ "error": error })))?;
    Ok(gaid)
}

// ---- the control endpoint -------------------------------------------------------

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
