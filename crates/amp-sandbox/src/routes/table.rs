//! Every API route, one line each: pattern (relative to `/api`), methods,
//! handler. The first match wins, so a literal segment (`add`, `create`,
//! `me`, `issue`) is listed before the parameter it would otherwise be taken for.

use axum::http::Method;

use super::{assets, assignments, categories, holdings, managers, supply, users, Handler, Route};
use crate::auth;

const GET: &[Method] = &[Method::GET];
const POST: &[Method] = &[Method::POST];
const PUT: &[Method] = &[Method::PUT];
const DELETE: &[Method] = &[Method::DELETE];
const GET_POST: &[Method] = &[Method::GET, Method::POST];
const PUT_POST: &[Method] = &[Method::PUT, Method::POST];
const DELETE_POST: &[Method] = &[Method::DELETE, Method::POST];

/// A route that needs a token.
const fn route(pattern: &'static str, methods: &'static [Method], handler: Handler) -> Route {
    Route {
        pattern,
        methods,
        public: false,
        handler,
    }
}

/// A route that needs no token.
const fn public(pattern: &'static str, methods: &'static [Method], handler: Handler) -> Route {
    Route {
        pattern,
        methods,
        public: true,
        handler,
    }
}

#[rustfmt::skip]
pub(super) static ROUTES: &[Route] = &[
    // general and the user's own account
    public("/user/obtain_token", POST, auth::obtain_token),
    route("/user/refresh-token", GET_POST, auth::refresh_token),
    route("/user/change-password", POST, auth::change_password),
    public("/info", GET, assets::info),
    route("/changelog", GET, assets::changelog),
    // assets
    route("/assets", GET, assets::list),
    route("/assets/issue", POST, assets::issue),
    route("/assets/{assetUuid}", GET, assets::get),
    route("/assets/{assetUuid}/edit", PUT, assets::edit),
    route("/assets/{assetUuid}/delete", DELETE, assets::delete),
    route("/assets/{assetUuid}/register", GET, assets::register),
    route("/assets/{assetUuid}/register-authorized", GET, assets::register_authorized),
    route("/assets/{assetUuid}/lock", PUT, assets::lock),
    route("/assets/{assetUuid}/unlock", PUT, assets::unlock),
    route("/assets/{assetUuid}/memo", GET, assets::memo),
    route("/assets/{assetUuid}/memo/set", POST, assets::memo_set),
    route("/assets/{assetUuid}/summary", GET, holdings::summary),
    route("/assets/{assetUuid}/ownerships", GET, holdings::ownerships),
    route("/assets/{assetUuid}/ownerships/{height}", GET, holdings::ownerships_at),
    route("/assets/{assetUuid}/balance", GET, holdings::balance),
    route("/assets/{assetUuid}/lost-outputs", GET, holdings::lost_outputs),
    route("/assets/{assetUuid}/activities", GET, holdings::activities),
    route("/assets/{assetUuid}/utxos", GET, holdings::utxos),
    route("/assets/{assetUuid}/utxos/blacklist", POST, holdings::blacklist),
    route("/assets/{assetUuid}/utxos/whitelist", POST, holdings::whitelist),
    route("/assets/{assetUuid}/treasury-addresses", GET, holdings::treasury_addresses),
    route("/assets/{assetUuid}/treasury-addresses/add", POST, holdings::treasury_add),
    route("/assets/{assetUuid}/treasury-addresses/delete", DELETE_POST, holdings::treasury_delete),
    route("/assets/{assetUuid}/txs", GET, holdings::txs),
    route("/assets/{assetUuid}/txs/{txid}", GET, holdings::tx),
    route("/assets/{assetUuid}/update-blinders", POST, holdings::update_blinders),
    route("/assets/{assetUuid}/reissue-request", POST, supply::reissue_request),
    route("/assets/{assetUuid}/reissue-confirm", POST, supply::reissue_confirm),
    route("/assets/{assetUuid}/reissuances", GET, supply::reissuances),
    route("/assets/{assetUuid}/burn-request", POST, supply::burn_request),
    route("/assets/{assetUuid}/burn-confirm", POST, supply::burn_confirm),
    // assignments and distributions
    route("/assets/{assetUuid}/assignments", GET, assignments::list),
    route("/assets/{assetUuid}/assignments/create", POST, assignments::create),
    route("/assets/{assetUuid}/assignments/{assignmentId}", GET, assignments::get),
    route("/assets/{assetUuid}/assignments/{assignmentId}/lock", PUT, assignments::lock),
    route("/assets/{assetUuid}/assignments/{assignmentId}/unlock", PUT, assignments::unlock),
    route("/assets/{assetUuid}/assignments/{assignmentId}/delete", DELETE, assignments::delete),
    route("/assets/{assetUuid}/distributions", GET, assignments::distributions),
    route("/assets/{assetUuid}/distributions/create", GET_POST, assignments::distribution_create),
    route("/assets/{assetUuid}/distributions/{distributionUuid}", GET, assignments::distribution),
    route("/assets/{assetUuid}/distributions/{distributionUuid}/confirm", POST, assignments::distribution_confirm),
    route("/assets/{assetUuid}/distributions/{distributionUuid}/cancel", DELETE_POST, assignments::distribution_cancel),
    // registered users
    route("/registered_users", GET, users::list),
    route("/registered_users/add", POST, users::add),
    route("/registered_users/{registeredUserId}", GET, users::get),
    route("/registered_users/{registeredUserId}/edit", PUT, users::edit),
    route("/registered_users/{registeredUserId}/delete", DELETE, users::delete),
    route("/registered_users/{registeredUserId}/summary", GET, users::summary),
    route("/registered_users/{registeredUserId}/gaids", GET, users::gaids),
    route("/registered_users/{registeredUserId}/gaids/add", POST, users::gaid_add),
    route("/registered_users/{registeredUserId}/gaids/set-default", POST, users::gaid_set_default),
    // categories
    route("/categories", GET, categories::list),
    route("/categories/add", POST, categories::add),
    route("/categories/{categoryId}", GET, categories::get),
    route("/categories/{categoryId}/edit", PUT, categories::edit),
    route("/categories/{categoryId}/delete", DELETE, categories::delete),
    route("/categories/{categoryId}/registered_users/{registeredUserId}/add", PUT, categories::user_add),
    route("/categories/{categoryId}/registered_users/{registeredUserId}/remove", PUT, categories::user_remove),
    route("/categories/{categoryId}/assets/{assetUuid}/add", PUT, categories::asset_add),
    route("/categories/{categoryId}/assets/{assetUuid}/remove", PUT, categories::asset_remove),
    // gaids
    route("/gaids/{gaid}/validate", GET, users::gaid_validate),
    route("/gaids/{gaid}/address", GET, users::gaid_address),
    route("/gaids/{gaid}/registered_user", GET, users::gaid_user),
    route("/gaids/{gaid}/balance", GET, users::gaid_balance),
    route("/gaids/{gaid}/balance/{assetUuid}", GET, users::gaid_asset_balance),
    // managers
    route("/managers", GET, managers::list),
    route("/managers/create", POST, managers::create),
    route("/managers/me", GET, managers::me),
    route("/managers/{managerId}", GET, managers::get),
    route("/managers/{managerId}/lock", PUT, managers::lock),
    route("/managers/{managerId}/unlock", PUT, managers::unlock),
    route("/managers/{managerId}/assets/{assetUuid}/add", PUT, managers::asset_add),
    route("/managers/{managerId}/assets/{assetUuid}/remove", PUT_POST, managers::asset_remove),
    route("/managers/{managerId}/change-password", POST, managers::change_password),
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Sandbox;

    /// A concrete path for a pattern, with ids the sample data has.
    fn concrete(pattern: &str) -> String {
        pattern
            .replace("{assetUuid}", "4f5bd6a2-8c1e-4b1a-9d3e-7a2c5e9f1b01")
            .replace("{gaid}", "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz")
            .split('/')
            .map(|s| if s.starts_with('{') { "1" } else { s })
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A method the route does not answer.
    fn wrong_method(route: &Route) -> Method {
        [Method::GET, Method::POST, Method::PUT, Method::DELETE]
            .into_iter()
            .find(|m| !route.methods.contains(m))
            .unwrap_or(Method::PATCH)
    }

    #[tokio::test]
    async fn every_route_needs_a_token_has_its_methods_takes_both_slashes_and_is_counted() {
        let sandbox = Sandbox::start().await.unwrap();
        let http = reqwest::Client::new();
        let token = sandbox.issue_token();
        for route in ROUTES {
            let path = concrete(route.pattern);
            let wrong = wrong_method(route);
            for slash in ["", "/"] {
                let url = format!("{}{path}{slash}", sandbox.base_url());
                if !route.public {
                    let anonymous = http.request(wrong.clone(), &url).send().await.unwrap();
                    assert_eq!(anonymous.status(), 401, "{wrong} {url}");
                }
                let refused = http
                    .request(wrong.clone(), &url)
                    .header("authorization", format!("token {token}"))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(refused.status(), 405, "{wrong} {url}");
                let allow = refused.headers()["allow"].to_str().unwrap().to_owned();
                for method in route.methods {
                    assert!(allow.contains(method.as_str()), "{url}: {allow}");
                }
            }
            let expected = if route.public { 2 } else { 4 };
            assert_eq!(
                sandbox.count(wrong.as_str(), route.pattern),
                expected,
                "{wrong} {}",
                route.pattern
            );
        }
    }

    #[test]
    fn patterns_are_unique() {
        let mut patterns: Vec<&str> = ROUTES.iter().map(|r| r.pattern).collect();
        patterns.sort_unstable();
        let before = patterns.len();
        patterns.dedup();
        assert_eq!(patterns.len(), before);
    }
}
