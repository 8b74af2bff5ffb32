//! The resource handlers (`client.assets()`, `registered_users()`,
//! `categories()`, `gaids()`, `managers()`, `assignments(..)`,
//! `distributions(..)`, `changelog()`).
//!
//! One table of (call, method, path, body, answer) rows, run against two
//! servers by [`every_call_against_wiremock_and_the_sandbox`]:
//!
//! - wiremock, answering each row with its `answer`: the call sends exactly
//!   the row's method, path and JSON body, with the token, and reads the
//!   answer;
//! - the `amp-sandbox` server (its sample data), in the table's order: the
//!   server records the row's method and path, answers with the row's
//!   `sandbox` status, and the call succeeds exactly when that status does.
//!
//! What one row cannot say lives in the modules below: the decoding of
//! realistic and odd answers and ids refused before sending (`answers`,
//! `assets`, `accounts`, `assignments`, against wiremock), effects seen
//! through other calls and the errors the sandbox's rules give
//! (`sandbox_assets`, `sandbox_accounts`), and one whole issuer flow
//! (`issuer_flow`).

mod accounts;
mod answers;
mod assets;
mod assignments;
mod issuer_flow;
mod sandbox_accounts;
mod sandbox_assets;

use std::future::Future;
use std::pin::Pin;

use amp_client::AmpClient;
use serde_json::{json, Value};

use crate::common::resources::*;

/// The ids a row's call and path use.
struct Ids {
    asset: String,
    user: i64,
    gaid: String,
    category: i64,
    manager: i64,
    assignment: i64,
    distribution: String,
}

type Outcome<'a> = Pin<Box<dyn Future<Output = Result<(), String>> + Send + 'a>>;
type Call = for<'a> fn(&'a AmpClient, &'a Ids) -> Outcome<'a>;

/// One handler call and what it must send and can be answered.
struct Row {
    /// The call, as a reader finds it in the crate's docs.
    call: &'static str,
    run: Call,
    method: &'static str,
    /// Under the API root; `{asset}`, `{user}`, `{gaid}`, `{category}`,
    /// `{manager}`, `{assignment}` and `{distribution}` stand for the ids.
    path: &'static str,
    body: Option<Value>,
    /// What wiremock answers (200, or 204 without a body for `Value::Null`).
    answer: Value,
    /// The status the sandbox answers, with its sample data, in this order.
    sandbox: u16,
}

/// `call!(|client, ids| client.assets().get(&ids.asset))`: the row's call,
/// its answer read and dropped.
macro_rules! call {
    (|$c:ident, $i:ident| $e:expr) => {{
        #[allow(unused_variables)]
        fn run<'a>($c: &'a AmpClient, $i: &'a Ids) -> Outcome<'a> {
            Box::pin(async move { $e.await.map(drop).map_err(|e| e.to_string()) })
        }
        run as Call
    }};
}

fn row(call: &'static str, run: Call, method: &'static str, path: &'static str) -> Row {
    Row {
        call,
        run,
        method,
        path,
        body: None,
        answer: json!({}),
        sandbox: 200,
    }
}

impl Row {
    fn answer(mut self, answer: Value) -> Row {
        self.answer = answer;
        self
    }
    fn body(mut self, body: Value) -> Row {
        self.body = Some(body);
        self
    }
    fn sandbox(mut self, status: u16) -> Row {
        self.sandbox = status;
        self
    }
    /// The path under `/api` with the ids filled in.
    fn path(&self, ids: &Ids) -> String {
        let path = self
            .path
            .replace("{asset}", &ids.asset)
            .replace("{user}", &ids.user.to_string())
            .replace("{gaid}", &ids.gaid)
            .replace("{category}", &ids.category.to_string())
            .replace("{manager}", &ids.manager.to_string())
            .replace("{assignment}", &ids.assignment.to_string())
            .replace("{distribution}", &ids.distribution);
        format!("/api/{path}")
    }
}

const ASSET_ID: &str = "f34892782cd9515bf0bef32939c095ae8939ddbe85ddfe6d9fbb1e528d873eaf";
const DISTRIBUTION: &str = "9752983c-3244-45a1-a5a5-7af3b811e9ff";

fn asset() -> Value {
    json!({
        "asset_id": ASSET_ID, "asset_uuid": UUID, "domain": "sbnd.sandbox.example",
        "is_authorized": true, "is_locked": false, "is_registered": true, "issuer": 1,
        "issuer_authorization_endpoint": "https://issuer.sandbox.example/authorize",
        "name": "Sandbox Bond", "precision": 0, "pubkey": "022fa4ef", "reissuance_token_id": null,
        "requirements": [1], "ticker": "SBND", "transfer_restricted": true,
    })
}

fn user() -> Value {
    json!({"GAID": GAID, "categories": [1, 2], "creator": 1, "id": 1, "is_company": false,
           "name": "Alice Example"})
}

fn assignment() -> Value {
    json!({"GAID": GAID, "amount": 1000, "creator": 1, "distribution_uuid": DISTRIBUTION,
           "has_vested": true, "id": 1, "investor": 1, "is_distributed": true,
           "is_locked": false, "ready_for_distribution": true, "receiving_address": "vjTgFAzt",
           "registered_user": 1, "vesting_datetime": null, "vesting_timestamp": null})
}

fn distribution() -> Value {
    json!({"distribution_status": "CONFIRMED", "distribution_uuid": DISTRIBUTION,
           "transactions": [{"assignments": [{"amount": 1000, "registered_user": 1, "vout": 2}],
             "confirmed_datetime": "2024-03-01T10:04:00Z", "included_blockheight": 1200004,
             "transaction_status": "CONFIRMED", "txid": "3ad5ac30"}]})
}

fn category() -> Value {
    json!({"assets": [UUID], "description": "May hold transfer-restricted assets", "id": 1,
           "name": "Accredited investors", "registered_users": [1]})
}

fn manager() -> Value {
    json!({"assets": [UUID], "id": 1, "is_locked": false, "username": "sandbox-manager"})
}

fn gaid_balance() -> Value {
    json!({"asset_id": ASSET_ID, "asset_uuid": UUID, "balance": 1000})
}

/// Every row, in the order the sandbox takes them (each change undone by
/// the row after it, so later rows see the sample data).
fn table() -> Vec<Row> {
    let ownership = json!({"GAID": GAID, "amount": 1000, "owner": "Alice Example"});
    vec![
        // Assets.
        row(
            "assets().list()",
            call!(|c, i| c.assets().list()),
            "GET",
            "assets/",
        )
        .answer(json!([asset()])),
        row(
            "assets().get(uuid)",
            call!(|c, i| c.assets().get(&i.asset)),
            "GET",
            "assets/{asset}",
        )
        .answer(asset()),
        row(
            "assets().summary(uuid)",
            call!(|c, i| c.assets().summary(&i.asset)),
            "GET",
            "assets/{asset}/summary",
        )
        .answer(
            json!({"active_green_subaccounts": 1, "active_registered_users": 1,
                           "asset_id": ASSET_ID, "assigned": 1250, "blacklisted": 0, "burned": 0,
                           "distributed": 1000, "issued": 1000000, "registered_users": 2,
                           "reissuance_token_id": null, "reissuance_tokens": 1, "reissued": 0}),
        ),
        row(
            "assets().lock(uuid)",
            call!(|c, i| c.assets().lock(&i.asset)),
            "PUT",
            "assets/{asset}/lock",
        )
        .answer(asset()),
        row(
            "assets().unlock(uuid)",
            call!(|c, i| c.assets().unlock(&i.asset)),
            "PUT",
            "assets/{asset}/unlock",
        )
        .answer(asset()),
        row(
            "assets().edit(uuid, endpoint)",
            call!(|c, i| c
                .assets()
                .edit(&i.asset, "https://issuer.sandbox.example/authorize")),
            "PUT",
            "assets/{asset}/edit",
        )
        .body(json!({"issuer_authorization_endpoint": "https://issuer.sandbox.example/authorize"}))
        .answer(asset()),
        row(
            "assets().set_memo(uuid, memo)",
            call!(|c, i| c.assets().set_memo(&i.asset, "Series A")),
            "POST",
            "assets/{asset}/memo/set",
        )
        .body(json!("Series A"))
        .answer(json!("Series A")),
        row(
            "assets().memo(uuid)",
            call!(|c, i| c.assets().memo(&i.asset)),
            "GET",
            "assets/{asset}/memo",
        )
        .answer(json!("Series A")),
        row(
            "assets().ownerships(uuid)",
            call!(|c, i| c.assets().ownerships(&i.asset)),
            "GET",
            "assets/{asset}/ownerships",
        )
        .answer(json!([ownership])),
        row(
            "assets().ownerships_at(uuid, height)",
            call!(|c, i| c.assets().ownerships_at(&i.asset, 1)),
            "GET",
            "assets/{asset}/ownerships/1",
        )
        .answer(json!([])),
        row(
            "assets().balance(uuid)",
            call!(|c, i| c.assets().balance(&i.asset)),
            "GET",
            "assets/{asset}/balance",
        )
        .answer(json!({"confirmed_balance": [ownership], "lost_outputs": [],
                           "reissuance_lost_outputs": []})),
        row(
            "assets().lost_outputs(uuid)",
            call!(|c, i| c.assets().lost_outputs(&i.asset)),
            "GET",
            "assets/{asset}/lost-outputs",
        )
        .answer(json!({"lost_outputs": [], "reissuance_lost_outputs": []})),
        row(
            "assets().activities(uuid, None)",
            call!(|c, i| c.assets().activities(&i.asset, None)),
            "GET",
            "assets/{asset}/activities",
        )
        .answer(json!([])),
        row(
            "assets().utxos(uuid)",
            call!(|c, i| c.assets().utxos(&i.asset)),
            "GET",
            "assets/{asset}/utxos",
        )
        .answer(json!([])),
        row(
            "assets().treasury_addresses(uuid)",
            call!(|c, i| c.assets().treasury_addresses(&i.asset)),
            "GET",
            "assets/{asset}/treasury-addresses",
        )
        .answer(json!([])),
        row(
            "assets().txs(uuid, None)",
            call!(|c, i| c.assets().txs(&i.asset, None)),
            "GET",
            "assets/{asset}/txs",
        )
        .answer(json!([])),
        row(
            "assets().reissuances(uuid)",
            call!(|c, i| c.assets().reissuances(&i.asset)),
            "GET",
            "assets/{asset}/reissuances",
        )
        .answer(json!([])),
        // Assignments and distributions.
        row(
            "assignments(uuid).list()",
            call!(|c, i| c.assignments(&i.asset).list()),
            "GET",
            "assets/{asset}/assignments",
        )
        .answer(json!([assignment()])),
        row(
            "assignments(uuid).get(id)",
            call!(|c, i| c.assignments(&i.asset).get(i.assignment)),
            "GET",
            "assets/{asset}/assignments/{assignment}",
        )
        .answer(assignment()),
        row(
            "distributions(uuid).list()",
            call!(|c, i| c.distributions(&i.asset).list()),
            "GET",
            "assets/{asset}/distributions",
        )
        .answer(json!([distribution()])),
        row(
            "distributions(uuid).get(uuid)",
            call!(|c, i| c.distributions(&i.asset).get(&i.distribution)),
            "GET",
            "assets/{asset}/distributions/{distribution}",
        )
        .answer(distribution()),
        row(
            "assignments(uuid).lock(id)",
            call!(|c, i| c.assignments(&i.asset).lock(i.assignment)),
            "PUT",
            "assets/{asset}/assignments/{assignment}/lock",
        )
        .answer(assignment()),
        row(
            "assignments(uuid).unlock(id)",
            call!(|c, i| c.assignments(&i.asset).unlock(i.assignment)),
            "PUT",
            "assets/{asset}/assignments/{assignment}/unlock",
        )
        .answer(assignment()),
        // Registered users and GAIDs.
        row(
            "registered_users().list()",
            call!(|c, i| c.registered_users().list()),
            "GET",
            "registered_users/",
        )
        .answer(json!([user()])),
        row(
            "registered_users().get(id)",
            call!(|c, i| c.registered_users().get(i.user)),
            "GET",
            "registered_users/{user}",
        )
        .answer(user()),
        row(
            "registered_users().gaids(id)",
            call!(|c, i| c.registered_users().gaids(i.user)),
            "GET",
            "registered_users/{user}/gaids",
        )
        .answer(json!([GAID])),
        row(
            "registered_users().set_default_gaid(id, gaid)",
            call!(|c, i| c.registered_users().set_default_gaid(i.user, &i.gaid)),
            "POST",
            "registered_users/{user}/gaids/set-default",
        )
        .body(json!({"GAID": GAID}))
        .answer(user()),
        row(
            "gaids().validate(gaid)",
            call!(|c, i| c.gaids().validate(&i.gaid)),
            "GET",
            "gaids/{gaid}/validate",
        )
        .answer(json!({"is_valid": true})),
        row(
            "gaids().address(gaid)",
            call!(|c, i| c.gaids().address(&i.gaid)),
            "GET",
            "gaids/{gaid}/address",
        )
        .answer(json!({"address": "vjTgFAzt"})),
        row(
            "gaids().registered_user(gaid)",
            call!(|c, i| c.gaids().registered_user(&i.gaid)),
            "GET",
            "gaids/{gaid}/registered_user",
        )
        .answer(user()),
        row(
            "gaids().balance(gaid)",
            call!(|c, i| c.gaids().balance(&i.gaid)),
            "GET",
            "gaids/{gaid}/balance",
        )
        .answer(json!([gaid_balance()])),
        row(
            "gaids().asset_balance(gaid, uuid)",
            call!(|c, i| c.gaids().asset_balance(&i.gaid, &i.asset)),
            "GET",
            "gaids/{gaid}/balance/{asset}",
        )
        .answer(gaid_balance()),
        // Categories.
        row(
            "categories().list()",
            call!(|c, i| c.categories().list()),
            "GET",
            "categories/",
        )
        .answer(json!([category()])),
        row(
            "categories().get(id)",
            call!(|c, i| c.categories().get(i.category)),
            "GET",
            "categories/{category}",
        )
        .answer(category()),
        row(
            "categories().remove_registered_user(id, user)",
            call!(|c, i| c.categories().remove_registered_user(i.category, i.user)),
            "PUT",
            "categories/{category}/registered_users/{user}/remove",
        )
        .answer(category()),
        row(
            "categories().add_registered_user(id, user)",
            call!(|c, i| c.categories().add_registered_user(i.category, i.user)),
            "PUT",
            "categories/{category}/registered_users/{user}/add",
        )
        .answer(category()),
        row(
            "categories().remove_asset(id, uuid)",
            call!(|c, i| c.categories().remove_asset(i.category, &i.asset)),
            "PUT",
            "categories/{category}/assets/{asset}/remove",
        )
        .answer(category()),
        row(
            "categories().add_asset(id, uuid)",
            call!(|c, i| c.categories().add_asset(i.category, &i.asset)),
            "PUT",
            "categories/{category}/assets/{asset}/add",
        )
        .answer(category()),
        // Managers.
        row(
            "managers().list()",
            call!(|c, i| c.managers().list()),
            "GET",
            "managers/",
        )
        .answer(json!([manager()])),
        row(
            "managers().get(id)",
            call!(|c, i| c.managers().get(i.manager)),
            "GET",
            "managers/{manager}",
        )
        .answer(manager()),
        // The sandbox's client is the issuer, not a manager.
        row(
            "managers().me()",
            call!(|c, i| c.managers().me()),
            "GET",
            "managers/me",
        )
        .answer(manager())
        .sandbox(404),
        row(
            "managers().lock(id)",
            call!(|c, i| c.managers().lock(i.manager)),
            "PUT",
            "managers/{manager}/lock",
        )
        .answer(manager()),
        row(
            "managers().unlock(id)",
            call!(|c, i| c.managers().unlock(i.manager)),
            "PUT",
            "managers/{manager}/unlock",
        )
        .answer(manager()),
        row(
            "managers().remove_asset(id, uuid)",
            call!(|c, i| c.managers().remove_asset(i.manager, &i.asset)),
            "POST",
            "managers/{manager}/assets/{asset}/remove",
        )
        .answer(manager()),
        row(
            "managers().add_asset(id, uuid)",
            call!(|c, i| c.managers().add_asset(i.manager, &i.asset)),
            "PUT",
            "managers/{manager}/assets/{asset}/add",
        )
        .answer(manager()),
        row(
            "assets().register(uuid)",
            call!(|c, i| c.assets().register(&i.asset)),
            "GET",
            "assets/{asset}/register",
        )
        .answer(asset())
        // The sample asset is registered already.
        .sandbox(400),
        row(
            "registered_users().add_gaid(id, gaid)",
            call!(|c, i| c.registered_users().add_gaid(i.user, &i.gaid)),
            "POST",
            "registered_users/{user}/gaids/add",
        )
        .body(json!({"GAID": GAID}))
        .answer(user())
        // The GAID is the user's already.
        .sandbox(400),
        // The version history.
        row(
            "changelog()",
            call!(|c, i| c.changelog()),
            "GET",
            "changelog",
        )
        .answer(json!({"0.1.0": "Add /changelog."})),
        // Deletions last.
        row(
            "assignments(uuid).delete(id)",
            call!(|c, i| c.assignments(&i.asset).delete(i.assignment)),
            "DELETE",
            "assets/{asset}/assignments/{assignment}/delete",
        )
        .answer(Value::Null)
        // The sample assignment is distributed.
        .sandbox(400),
        row(
            "categories().delete(id)",
            call!(|c, i| c.categories().delete(i.category)),
            "DELETE",
            "categories/{category}/delete",
        )
        .answer(Value::Null)
        .sandbox(204),
        row(
            "registered_users().delete(id)",
            call!(|c, i| c.registered_users().delete(i.user)),
            "DELETE",
            "registered_users/{user}/delete",
        )
        .answer(Value::Null)
        // The sample user has assignments.
        .sandbox(400),
        row(
            "assets().delete(uuid)",
            call!(|c, i| c.assets().delete(&i.asset)),
            "DELETE",
            "assets/{asset}/delete",
        )
        .answer(Value::Null)
        .sandbox(204),
    ]
}

/// Each row against wiremock (exactly what it sends, its answer read) and
/// against the sandbox (the route it reaches, the status it gets).
#[tokio::test]
async fn every_call_against_wiremock_and_the_sandbox() -> TestResult {
    let rows = table();

    let ids = Ids {
        asset: UUID.into(),
        user: 1,
        gaid: GAID.into(),
        category: 1,
        manager: 1,
        assignment: 1,
        distribution: DISTRIBUTION.into(),
    };
    for row in &rows {
        let (server, client) = mock().await?;
        let path = row.path(&ids);
        let status = if row.answer.is_null() { 204 } else { 200 };
        answer(&server, row.method, &path, status, row.answer.clone()).await;
        (row.run)(&client, &ids)
            .await
            .map_err(|e| format!("{}: {e}", row.call))?;
        let mut expected = req(row.method, &path);
        expected.body.clone_from(&row.body);
        assert_eq!(sent_all(&server).await?, [expected], "{}", row.call);
    }

    let (sb, client) = sandbox().await?;
    let mut asset = None;
    for a in client.assets().list().await? {
        if !client.assignments(&a.asset_uuid).list().await?.is_empty() {
            asset = Some(a.asset_uuid);
            break;
        }
    }
    let asset = asset.ok_or("no sample asset with assignments")?;
    let distribution = client.distributions(&asset).list().await?;
    let users = client.registered_users().list().await?;
    let user = users
        .iter()
        .find(|u| u.gaid.is_some())
        .ok_or("no user with a GAID")?;
    let ids = Ids {
        assignment: client.assignments(&asset).list().await?[0].id,
        distribution: distribution[0]
            .distribution_uuid
            .clone()
            .ok_or("no distribution uuid")?,
        asset,
        user: user.id,
        gaid: user.gaid.clone().ok_or("no GAID")?,
        category: client.categories().list().await?[0].id,
        manager: client.managers().list().await?[0].id,
    };
    for row in &rows {
        let outcome = (row.run)(&client, &ids).await;
        let seen = last(&sb)?;
        assert_eq!(
            (seen.method.as_str(), seen.path.as_str(), seen.status),
            (row.method, row.path(&ids).as_str(), row.sandbox),
            "{}: {outcome:?}",
            row.call
        );
        assert_eq!(
            outcome.is_ok(),
            row.sandbox < 300,
            "{}: {outcome:?}",
            row.call
        );
    }
    assert_eq!(
        sb.count("POST", "/user/obtain_token"),
        1,
        "one login for the table"
    );
    Ok(())
}
