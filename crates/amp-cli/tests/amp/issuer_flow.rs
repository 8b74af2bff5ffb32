//! A whole issuer flow through the binary: issue → registered users with
//! GAIDs → a category holding them and the asset → assignments →
//! distribution create → confirm (the body built from create's answer, as the
//! treasury's node would report it) → every view shows the asset distributed.
//! Each step is checked in the text for people and in `--json`.

use serde_json::{json, Value};

use crate::support::{empty_sandbox, field, gaid, rows, txid, Env, TempDir};

const PUBKEY: &str = "0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798";

/// `(owner, amount)` of each holding, sorted.
fn holdings(list: &Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["owner"].as_str().unwrap().to_string(),
                h["amount"].as_i64().unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue_register_categorize_assign_distribute_confirm() {
    let sandbox = empty_sandbox().await;
    let home = TempDir::new("flow");
    let env = Env::sandbox(&home, &sandbox);

    // Issue, from flags: the answer as `key  value` lines.
    let issued = env
        .text(&[
            "assets",
            "issue",
            "--name",
            "Flow Bond",
            "--amount",
            "1000",
            "--destination-address",
            "vjTtreasuryaddressoftheissuer",
            "--domain",
            "flow.example",
            "--ticker",
            "FLOW",
            "--pubkey",
            PUBKEY,
            "--precision",
            "0",
            "--reissuable",
            "--reissuance-amount",
            "5",
        ])
        .await;
    let uuid = field(&issued, "asset_uuid").expect(&issued);
    assert_eq!(
        field(&issued, "ticker").as_deref(),
        Some("FLOW"),
        "{issued}"
    );
    assert_eq!(
        field(&issued, "amount").as_deref(),
        Some("1000"),
        "{issued}"
    );
    assert_eq!(field(&issued, "is_reissuable").as_deref(), Some("yes"));
    assert_eq!(sandbox.count("POST", "/assets/issue"), 1);
    let asset = env.json(&["assets", "get", &uuid]).await;
    assert_eq!(
        (&asset["name"], &asset["precision"], &asset["asset_uuid"]),
        (&json!("Flow Bond"), &json!(0), &json!(uuid))
    );
    let asset_id = asset["asset_id"].as_str().unwrap().to_string();

    // Registered users with GAIDs: one as JSON, one as text.
    let alice = env
        .json(&[
            "registered-users",
            "add",
            "--name",
            "Alice",
            "--gaid",
            &gaid(1),
        ])
        .await;
    assert_eq!(alice["GAID"], gaid(1).as_str());
    assert_eq!(alice["is_company"], false);
    let alice_id = alice["id"].to_string();
    let bob = env
        .text(&[
            "registered-users",
            "add",
            "--name",
            "Bob Corp",
            "--gaid",
            &gaid(2),
            "--company",
        ])
        .await;
    assert_eq!(field(&bob, "is_company").as_deref(), Some("yes"), "{bob}");
    assert_eq!(field(&bob, "GAID"), Some(gaid(2)), "{bob}");
    let bob_id = field(&bob, "id").unwrap();

    // A category with both users and the asset.
    let category = env
        .json(&[
            "categories",
            "add",
            "--name",
            "Investors",
            "--description",
            "Alice and Bob",
        ])
        .await;
    let category_id = category["id"].to_string();
    env.json(&["categories", "add-user", &category_id, &alice_id])
        .await;
    let both = env
        .json(&["categories", "add-user", &category_id, &bob_id])
        .await;
    assert_eq!(
        both["registered_users"],
        json!([alice["id"], bob_id.parse::<i64>().unwrap()])
    );
    let linked = env
        .text(&["categories", "add-asset", &category_id, &uuid])
        .await;
    assert_eq!(field(&linked, "assets"), Some(uuid.clone()), "{linked}");
    let table = env.text(&["categories", "list"]).await;
    let row = &rows(&table)[1];
    assert_eq!(row[0], category_id, "{table}");
    assert!(
        table.contains(&format!("{alice_id},{bob_id}")) && table.contains(&uuid),
        "{table}"
    );

    // Assignments, ready for distribution.
    let first = env
        .json(&[
            "assignments",
            "create",
            &uuid,
            "--user",
            &alice_id,
            "--amount",
            "300",
            "--ready",
        ])
        .await;
    assert_eq!(first[0]["amount"], 300);
    assert_eq!(first[0]["ready_for_distribution"], true);
    assert_eq!(
        first[0]["GAID"],
        gaid(1).as_str(),
        "the user's default GAID"
    );
    let second = env
        .text(&[
            "assignments",
            "create",
            &uuid,
            "--user",
            &bob_id,
            "--amount",
            "200",
            "--ready",
        ])
        .await;
    let second = rows(&second);
    assert_eq!(second[0][..3], ["ID", "USER", "AMOUNT"], "{second:?}");
    assert_eq!(second[1][1..3], [bob_id.clone(), "200".to_string()]);
    let listed = rows(&env.text(&["assignments", "list", &uuid]).await);
    assert_eq!(listed.len(), 3, "{listed:?}");
    let summary = env.json(&["assets", "summary", &uuid]).await;
    assert_eq!(
        (&summary["assigned"], &summary["distributed"]),
        (&json!(500), &json!(0))
    );

    // Distribution create: what the treasury must send.
    let plan = env.json(&["distributions", "create", &uuid]).await;
    assert_eq!(plan["command"], "distribute");
    assert_eq!(plan["asset_uuid"], uuid.as_str());
    let distribution = plan["distribution_uuid"].as_str().unwrap().to_string();
    let payments = plan["map_address_amount"].as_object().unwrap();
    assert_eq!(payments.len(), 2, "{plan}");
    for asset in plan["map_address_asset"].as_object().unwrap().values() {
        assert_eq!(asset, asset_id.as_str());
    }
    let pending = env
        .text(&["distributions", "get", &uuid, &distribution])
        .await;
    assert_eq!(
        field(&pending, "distribution_status").as_deref(),
        Some("UNCONFIRMED")
    );

    // Confirm: the sandbox's node sends the plan as the official script
    // drives it, and the body it builds (the node's `gettransaction`
    // details, its `listunspent` change) is given to --data as a file.
    let body = sandbox.wallet_distribute(&plan).unwrap();
    let file = home.path().join("confirm.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&body).unwrap()).unwrap();
    let confirmed = env
        .run(&[
            "distributions",
            "confirm",
            &uuid,
            &distribution,
            "--data",
            &format!("@{}", file.display()),
        ])
        .await
        .ok();
    assert_eq!(
        confirmed.stdout,
        format!("distribution {distribution} confirmed\n")
    );
    let route = "/assets/{assetUuid}/distributions/{distributionUuid}/confirm";
    assert_eq!(sandbox.count("POST", route), 1);

    // Every view shows the asset distributed.
    let summary = env.json(&["assets", "summary", &uuid]).await;
    assert_eq!(summary["distributed"], 500, "{summary}");
    assert_eq!(summary["active_registered_users"], 2, "{summary}");
    let text = env.text(&["assets", "summary", &uuid]).await;
    assert_eq!(
        field(&text, "distributed").as_deref(),
        Some("500"),
        "{text}"
    );
    assert_eq!(field(&text, "assigned").as_deref(), Some("500"), "{text}");

    let balance = env.json(&["assets", "balance", &uuid]).await;
    assert_eq!(
        holdings(&balance["confirmed_balance"]),
        [("Alice".to_string(), 300), ("Bob Corp".to_string(), 200)]
    );
    let text = env.text(&["assets", "balance", &uuid]).await;
    assert!(text.starts_with("OWNER"), "{text}");
    let alice_row = text.lines().find(|l| l.starts_with("Alice ")).expect(&text);
    assert!(
        alice_row.contains(&gaid(1)) && alice_row.ends_with("300"),
        "{text}"
    );
    assert_eq!(field(&text, "lost_outputs").as_deref(), Some("-"), "{text}");

    let ownerships = env.json(&["assets", "ownerships", &uuid]).await;
    assert_eq!(
        holdings(&ownerships),
        holdings(&balance["confirmed_balance"])
    );

    let distributions = env.json(&["distributions", "list", &uuid]).await;
    assert_eq!(distributions[0]["distribution_status"], "CONFIRMED");
    assert_eq!(
        distributions[0]["transactions"][0]["txid"],
        body["tx_data"]["txid"].as_str().unwrap()
    );
    let table = env.text(&["distributions", "list", &uuid]).await;
    let table = rows(&table);
    assert_eq!(table[0], ["UUID", "STATUS", "TXIDS", "HEIGHTS"]);
    assert_eq!(
        table[1][..3],
        [
            distribution.clone(),
            "CONFIRMED".into(),
            body["tx_data"]["txid"].as_str().unwrap().to_owned()
        ]
    );

    let assignments = env.json(&["assignments", "list", &uuid]).await;
    for a in assignments.as_array().unwrap() {
        assert_eq!(a["is_distributed"], true, "{a}");
        assert_eq!(a["distribution_uuid"], distribution.as_str(), "{a}");
    }

    let mine = env.json(&["registered-users", "summary", &alice_id]).await;
    assert_eq!(mine[0]["balance"], 300, "{mine}");
    let held = env.json(&["gaids", "balance", &gaid(2)]).await;
    assert_eq!(
        held,
        json!([{"asset_uuid": uuid, "asset_id": asset_id, "balance": 200}])
    );

    // Confirming again is the server's error: exit 1, its message.
    env.run(&[
        "distributions",
        "confirm",
        &uuid,
        &distribution,
        "--txid",
        &txid('e'),
    ])
    .await
    .fails(1, &["400", "already confirmed"]);
}
