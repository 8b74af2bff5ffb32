//! The resource handlers (`client.assets()`, `registered_users()`,
//! `categories()`, `gaids()`, `managers()`, `assignments(..)`,
//! `distributions(..)`, `user()`, `info()`, `changelog()`).
//!
//! One table of (call, method, path, body, answer) rows, a row for every
//! handler method, run against two servers by
//! [`every_call_against_wiremock_and_the_sandbox`]:
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

use amp_client::model::{
    ActivitiesQuery, CategoryEdit, IssueRequest, NewAssignment, NewCategory, NewManager,
    NewRegisteredUser, Outpoint, ReissuanceOutput, ReissueConfirm, TxConfirmation, TxsQuery,
    UpdateBlinders,
};
use amp_client::AmpClient;
use secrecy::SecretString;
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
    txid: String,
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
    /// Sent without the token (`info`).
    anonymous: bool,
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
        anonymous: false,
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
    fn anonymous(mut self) -> Row {
        self.anonymous = true;
        self
    }
    /// The body with `{txid}` filled in.
    fn body_for(&self, ids: &Ids) -> Option<Value> {
        let text = serde_json::to_string(self.body.as_ref()?).ok()?;
        serde_json::from_str(&text.replace("{txid}", &ids.txid)).ok()
    }
    /// The path under `/api` with the ids filled in, and the query if any.
    fn path_and_query(&self, ids: &Ids) -> (String, Option<String>) {
        let full = self.path(ids);
        match full.split_once('?') {
            Some((path, query)) => (path.to_string(), Some(query.to_string())),
            None => (full, None),
        }
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
            .replace("{distribution}", &ids.distribution)
            .replace("{txid}", &ids.txid);
        format!("/api/{path}")
    }
}

const ASSET_ID: &str = "f34892782cd9515bf0bef32939c095ae8939ddbe85ddfe6d9fbb1e528d873eaf";
const DISTRIBUTION: &str = "9752983c-3244-45a1-a5a5-7af3b811e9ff";
const TXID: &str = "24155ef2e6c96d68361b47c2872af0676cea272cb2957be19c1caf3e85427d28";

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

const ADDRESS: &str =
    "vjTgFAztHKsvHgDksiFaYPfqMtMxBGzcZbdZz8VWt6Ui2kJa5tBLN6ENeGj983x2qemATZGyzwsYs9bY";
const BLINDER_A: &str = "3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f3f";
const BLINDER_B: &str = "9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c9c";
const PUBKEY: &str = "022fa4efaac1f8a10dad21d97fd8c30a149a2a2b3c4e61c5572cc78cc48a200921";

fn issue_request() -> IssueRequest {
    IssueRequest {
        name: "Table Bond".into(),
        amount: 1000,
        destination_address: ADDRESS.into(),
        domain: "table.example".into(),
        ticker: "TBL".into(),
        pubkey: PUBKEY.into(),
        precision: None,
        is_confidential: None,
        is_reissuable: None,
        reissuance_amount: None,
        reissuance_address: None,
        transfer_restricted: None,
    }
}

fn tx() -> Value {
    json!({"txid": TXID, "datetime": "2024-03-01T10:00:00Z", "blockheight": 12,
           "is_issuance": true, "is_reissuance": false, "is_distribution": false,
           "inputs": [], "outputs": []})
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
        row("assets().activities(uuid, query)",
            call!(|c, i| c.assets().activities(&i.asset, Some(&ActivitiesQuery { count: Some(5), ..ActivitiesQuery::default() }))),
            "GET", "assets/{asset}/activities?count=5")
            .answer(json!([])),
        row("assets().txs(uuid, query)",
            call!(|c, i| c.assets().txs(&i.asset, Some(&TxsQuery { height_start: Some(10), height_stop: Some(20), ..TxsQuery::default() }))),
            "GET", "assets/{asset}/txs?height_start=10&height_stop=20")
            .answer(json!([])),
        row("assets().tx(uuid, txid)", call!(|c, i| c.assets().tx(&i.asset, &i.txid)), "GET", "assets/{asset}/txs/{txid}")
            .answer(tx()),
        row("assets().register_authorized(uuid)", call!(|c, i| c.assets().register_authorized(&i.asset)),
            "GET", "assets/{asset}/register-authorized")
            .answer(asset()),
        row("assets().blacklist_utxos(uuid, outpoints)",
            call!(|c, i| c.assets().blacklist_utxos(&i.asset, &[Outpoint::new(i.txid.as_str(), 0)])),
            "POST", "assets/{asset}/utxos/blacklist")
            .body(json!([{"txid": "{txid}", "vout": 0}]))
            .answer(json!([]))
        // The issuance output is spent already.
        .sandbox(400),
        row("assets().whitelist_utxos(uuid, outpoints)",
            call!(|c, i| c.assets().whitelist_utxos(&i.asset, &[Outpoint::new(i.txid.as_str(), 0)])),
            "POST", "assets/{asset}/utxos/whitelist")
            .body(json!([{"txid": "{txid}", "vout": 0}]))
            .answer(json!([]))
        // The issuance output is spent already.
        .sandbox(400),
        row("assets().add_treasury_addresses(uuid, addresses)",
            call!(|c, i| c.assets().add_treasury_addresses(&i.asset, &[ADDRESS.to_string()])),
            "POST", "assets/{asset}/treasury-addresses/add")
            .body(json!([ADDRESS]))
            .answer(Value::Null),
        row("assets().delete_treasury_addresses(uuid, addresses)",
            call!(|c, i| c.assets().delete_treasury_addresses(&i.asset, &[ADDRESS.to_string()])),
            "DELETE", "assets/{asset}/treasury-addresses/delete")
            .body(json!([ADDRESS]))
            .answer(Value::Null),
        row("assets().update_blinders(uuid, blinders)",
            call!(|c, i| c.assets().update_blinders(&i.asset, &UpdateBlinders { txid: i.txid.clone(), vout: 0, asset_blinder: BLINDER_A.into(), amount_blinder: BLINDER_B.into() })),
            "POST", "assets/{asset}/update-blinders")
            .body(json!({"txid": "{txid}", "vout": 0, "asset_blinder": BLINDER_A, "amount_blinder": BLINDER_B}))
            .answer(Value::Null)
        // The sample output's blinders are others: the sandbox checks them.
        .sandbox(400),
        row("assets().reissue_request(uuid, amount)", call!(|c, i| c.assets().reissue_request(&i.asset, 500_000)),
            "POST", "assets/{asset}/reissue-request")
            .body(json!({"amount_to_reissue": 500_000}))
            .answer(json!({"command": "reissue", "min_supported_client_script_version": 2,
                           "base_url": "https://amp-test.blockstream.com/api/{}", "asset_uuid": UUID,
                           "asset_id": "5ac9", "amount": 0.005,
                           "reissuance_utxos": [{"txid": "7f1e", "vout": 1}]})),
        row("assets().reissue_confirm(uuid, confirmation)",
            call!(|c, i| c.assets().reissue_confirm(&i.asset, &ReissueConfirm {
                details: json!([{"category": "reissuance"}]),
                listissuances: vec![json!({"txid": "e5f6", "vin": 0, "isreissuance": true})],
                reissuance_output: ReissuanceOutput { txid: "e5f6".into(), vin: 0 },
            })),
            "POST", "assets/{asset}/reissue-confirm")
            .body(json!({"details": [{"category": "reissuance"}],
                         "listissuances": [{"txid": "e5f6", "vin": 0, "isreissuance": true}],
                         "reissuance_output": {"txid": "e5f6", "vin": 0}}))
            .answer(json!({"txid": "e5f6", "vin": 0, "reissuance_amount": 500_000}))
        // No such reissuance on the sandbox's chain.
        .sandbox(400),
        row("assets().burn_request(uuid, amount)", call!(|c, i| c.assets().burn_request(&i.asset, 1_000)),
            "POST", "assets/{asset}/burn-request")
            .body(json!({"amount": 1_000}))
            .answer(json!({"command": "destroyamount", "min_supported_client_script_version": 1,
                           "base_url": "https://amp-test.blockstream.com/api/{}", "asset_uuid": UUID,
                           "asset_id": "5ac9", "amount": 10.0, "utxos": [{"txid": "c1d2", "vout": 0}]})),
        row("assets().burn_confirm(uuid, confirmation)",
            call!(|c, i| c.assets().burn_confirm(&i.asset, &TxConfirmation::new("f7a8"))),
            "POST", "assets/{asset}/burn-confirm")
            .body(json!({"tx_data": {"txid": "f7a8"}, "change_data": []}))
            .answer(Value::Null)
        // No such burn on the sandbox's chain.
        .sandbox(400),
        row("assets().issue(request)", call!(|c, i| c.assets().issue(&issue_request())), "POST", "assets/issue")
            .body(json!({"name": "Table Bond", "amount": 1000, "destination_address": ADDRESS,
                         "domain": "table.example", "ticker": "TBL", "pubkey": PUBKEY}))
            .answer(json!({"name": "Table Bond", "amount": 1000, "destination_address": ADDRESS,
                           "domain": "table.example", "ticker": "TBL", "pubkey": PUBKEY,
                           "asset_id": "5ac9", "reissuance_token_id": null, "asset_uuid": UUID,
                           "txid": "c1d2", "vin": 0, "asset_vout": 0}))
        .sandbox(201),
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
        row("distributions(uuid).create()", call!(|c, i| c.distributions(&i.asset).create()),
            "GET", "assets/{asset}/distributions/create/")
            .answer(json!({"command": "distribute", "min_supported_client_script_version": 2,
                           "base_url": "https://amp-test.blockstream.com/api/{}", "asset_uuid": UUID,
                           "asset_id": "5ac9", "distribution_uuid": DISTRIBUTION,
                           "map_address_amount": {"vjTvAlice": 0.000003},
                           "map_address_asset": {"vjTvAlice": "5ac9"}}))
        // No assignment of the sample asset is ready.
        .sandbox(400),
        row("distributions(uuid).confirm(uuid, confirmation)",
            call!(|c, i| c.distributions(&i.asset).confirm(&i.distribution, &TxConfirmation::new(i.txid.as_str()))),
            "POST", "assets/{asset}/distributions/{distribution}/confirm")
            .body(json!({"tx_data": {"txid": "{txid}"}, "change_data": []}))
            .answer(json!({"detail": "confirmed"}))
        // The sample distribution is confirmed already.
        .sandbox(400),
        row("distributions(uuid).cancel(uuid)", call!(|c, i| c.distributions(&i.asset).cancel(&i.distribution)),
            "DELETE", "assets/{asset}/distributions/{distribution}/cancel")
            .answer(json!({"distribution_uuid": DISTRIBUTION}))
        // A confirmed distribution cannot be cancelled.
        .sandbox(400),
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
        row("assignments(uuid).create(assignment)",
            call!(|c, i| c.assignments(&i.asset).create(&NewAssignment::new(i.user, 10))),
            "POST", "assets/{asset}/assignments/create")
            .body(json!({"assignments": [{"registered_user": 1, "amount": 10, "ready_for_distribution": false}]}))
            .answer(json!([assignment()]))
        .sandbox(201),
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
        row("registered_users().add(user)",
            call!(|c, i| c.registered_users().add(&NewRegisteredUser::new("Table User"))),
            "POST", "registered_users/add")
            .body(json!({"name": "Table User", "GAID": null, "is_company": false}))
            .answer(user())
        .sandbox(201),
        row("registered_users().edit(id, name)", call!(|c, i| c.registered_users().edit(i.user, "Alice Example")),
            "PUT", "registered_users/{user}/edit")
            .body(json!({"name": "Alice Example"}))
            .answer(user()),
        row("registered_users().summary(id)", call!(|c, i| c.registered_users().summary(i.user)),
            "GET", "registered_users/{user}/summary")
            .answer(json!([{"asset_uuid": UUID, "asset_id": "5ac9", "assignments": [],
                            "assignments_sum": 300, "distributions": [], "distributions_sum": 200,
                            "balance": 200}])),
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
        row("categories().add(category)",
            call!(|c, i| c.categories().add(&NewCategory::new("Table", "Made by the table"))),
            "POST", "categories/add")
            .body(json!({"name": "Table", "description": "Made by the table"}))
            .answer(category())
        .sandbox(201),
        row("categories().edit(id, edit)",
            call!(|c, i| c.categories().edit(i.category, &CategoryEdit { name: None, description: Some("May hold transfer-restricted assets".into()) })),
            "PUT", "categories/{category}/edit")
            .body(json!({"description": "May hold transfer-restricted assets"}))
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
        row("managers().create(manager)",
            call!(|c, i| c.managers().create(&NewManager::new("table-manager", "Table-Manager-Pw-1"))),
            "POST", "managers/create")
            .body(json!({"username": "table-manager", "password": "Table-Manager-Pw-1"}))
            .answer(manager())
        .sandbox(201),
        row("managers().change_password(id, password)",
            call!(|c, i| c.managers().change_password(i.manager, SecretString::from("Table-Manager-Pw-2"))),
            "POST", "managers/{manager}/change-password")
            .body(json!({"password": "Table-Manager-Pw-2"}))
            .answer(json!({"username": "sandbox-manager", "password": "Table-Manager-Pw-2",
                           "token": "feedfacefeedfacefeedfacefeedfacefeedface"})),
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
        row("info()", call!(|c, i| c.info()), "GET", "info")
            .answer(json!({"version": "0.1.13", "notes": "AMP sandbox"}))
            .anonymous(),
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
        // Last: it changes the issuer's own password.
        row("user().change_password(password)",
            call!(|c, i| c.user().change_password(SecretString::from("Table-Issuer-Pw-2"))),
            "POST", "user/change-password")
            .body(json!({"password": "Table-Issuer-Pw-2"}))
            .answer(json!({"username": "user", "password": "Table-Issuer-Pw-2",
                           "token": "feedfacefeedfacefeedfacefeedfacefeedface"})),
    ]
}

/// Each row against wiremock (exactly what it sends, its answer read) and
/// against the sandbox (the route it reaches, the status it gets). Every
/// row is tried; the failures are reported together.
#[tokio::test]
async fn every_call_against_wiremock_and_the_sandbox() -> TestResult {
    let rows = table();
    let mut failures = Vec::new();

    let ids = Ids {
        asset: UUID.into(),
        user: 1,
        gaid: GAID.into(),
        category: 1,
        manager: 1,
        assignment: 1,
        distribution: DISTRIBUTION.into(),
        txid: TXID.into(),
    };
    for row in &rows {
        let (server, client) = mock().await?;
        let (path, query) = row.path_and_query(&ids);
        let status = if row.answer.is_null() { 204 } else { 200 };
        answer(&server, row.method, &path, status, row.answer.clone()).await;
        if let Err(e) = (row.run)(&client, &ids).await {
            failures.push(format!("wiremock, {}: {e}", row.call));
            continue;
        }
        let expected = Sent {
            method: row.method.to_string(),
            path,
            query,
            body: row.body_for(&ids),
        };
        let seen = if row.anonymous {
            anonymous_requests(&server).await?
        } else {
            sent_all(&server).await?
        };
        if seen != [expected.clone()] {
            failures.push(format!(
                "wiremock, {}: sent {seen:?}, not {expected:?}",
                row.call
            ));
        }
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
        txid: client.assets().txs(&asset, None).await?[0].txid.clone(),
        asset,
        user: user.id,
        gaid: user.gaid.clone().ok_or("no GAID")?,
        category: client.categories().list().await?[0].id,
        manager: client.managers().list().await?[0].id,
    };
    for row in &rows {
        let outcome = (row.run)(&client, &ids).await;
        let seen = last(&sb)?;
        // The sandbox records the path without the query.
        let (path, _) = row.path_and_query(&ids);
        let got = (seen.method.as_str(), seen.path.as_str(), seen.status);
        if got != (row.method, path.as_str(), row.sandbox) || outcome.is_ok() != (row.sandbox < 300)
        {
            failures.push(format!(
                "sandbox, {}: {got:?}, {outcome:?}; expected status {}",
                row.call, row.sandbox
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(
        sb.count("POST", "/user/obtain_token"),
        1,
        "one login for the table"
    );
    Ok(())
}

/// What reached `server` without a token, as [`sent_all`] reads the rest.
async fn anonymous_requests(server: &wiremock::MockServer) -> Boxed<Vec<Sent>> {
    let requests = server.received_requests().await.ok_or("not recording")?;
    Ok(requests
        .iter()
        .filter(|r| r.headers.get("authorization").is_none())
        .map(|r| Sent {
            method: r.method.to_string(),
            path: r.url.path().to_string(),
            query: r.url.query().map(str::to_owned),
            body: None,
        })
        .collect())
}
