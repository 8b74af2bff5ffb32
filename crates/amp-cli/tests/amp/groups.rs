//! Each group of typed commands, run as the binary against a sandbox: every
//! subcommand succeeds once (text or `--json`), and errors exit as they
//! should — an unknown id is the server's 404 (exit 1, a readable message),
//! a bad `--data` or flag a usage error (exit 2, naming what was wrong,
//! nothing sent). New passwords come from stdin or AMP_NEW_PASSWORD and
//! never show in any output.

use serde_json::{json, Value};

use amp_sandbox::Sandbox;

use crate::support::{empty_sandbox, field, gaid, rows, txid, Env, Run, TempDir};

/// The sample bond (reissuable, distributed to Alice).
const BOND: &str = "4f5bd6a2-8c1e-4b1a-9d3e-7a2c5e9f1b01";
/// The sample user Alice's GAID.
const ALICE_GAID: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";
/// An asset uuid no sandbox has.
const NO_ASSET: &str = "00000000-0000-4000-8000-000000000000";

/// A whole issue request for `--data`.
fn issue_body(name: &str) -> String {
    json!({
        "name": name,
        "amount": 10_000,
        "destination_address": "vjTtreasuryaddressoftheissuer",
        "domain": "groups.example",
        "ticker": "GRP",
        "pubkey": "02b4ab",
        "is_reissuable": true,
    })
    .to_string()
}

/// Issues an asset from `--data -` and returns its uuid.
async fn issue(env: &Env, name: &str) -> String {
    let run = env
        .run_with_stdin(
            &["--json", "assets", "issue", "--data", "-"],
            &issue_body(name),
        )
        .await
        .ok();
    run.json()["asset_uuid"].as_str().unwrap().to_string()
}

/// Asserts that the requests the sandbox counted did not change across `f`.
async fn sends_nothing<F: std::future::Future<Output = Run>>(sandbox: &Sandbox, f: F) -> Run {
    let before = sandbox.stats().total();
    let run = f.await;
    assert_eq!(sandbox.stats().total(), before, "sent something: {run:?}");
    run
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assets_commands() {
    let sandbox = empty_sandbox().await;
    let home = TempDir::new("assets");
    let env = Env::sandbox(&home, &sandbox);
    let uuid = issue(&env, "Group Token").await;
    let a = |rest: &[&str]| {
        let mut args = vec!["assets", rest[0], uuid.as_str()];
        args.extend_from_slice(&rest[1..]);
        args.into_iter()
            .map(str::to_string)
            .collect::<Vec<String>>()
    };
    let run = |args: Vec<String>| {
        let env = env.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.run(&args).await
        }
    };
    let json = |args: Vec<String>| {
        let env = env.clone();
        async move {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            env.json(&args).await
        }
    };

    // The asset, its registry state, its memo, locking.
    let listed = rows(&env.text(&["assets", "list"]).await);
    assert_eq!(listed[1][0], uuid, "{listed:?}");
    let edited = json(a(&[
        "edit",
        "--issuer-authorization-endpoint",
        "https://issuer.example/ok",
    ]))
    .await;
    assert_eq!(
        edited["issuer_authorization_endpoint"],
        "https://issuer.example/ok"
    );
    assert_eq!(json(a(&["register"])).await["is_registered"], true);
    run(a(&["register"]))
        .await
        .fails(1, &["400", "already registered"]);
    assert_eq!(
        json(a(&["register-authorized"])).await["is_authorized"],
        true
    );
    let set = run(a(&["memo", "--set", "Series A"])).await.ok();
    assert!(set.stdout.contains("Series A"), "{set:?}");
    assert_eq!(run(a(&["memo"])).await.ok().stdout, "Series A\n");
    assert_eq!(json(a(&["memo"])).await, "Series A");
    assert_eq!(json(a(&["lock"])).await["is_locked"], true);
    run(a(&["memo", "--set", "later"]))
        .await
        .fails(1, &["locked"]);
    let unlocked = run(a(&["unlock"])).await.ok().stdout;
    assert_eq!(
        field(&unlocked, "is_locked").as_deref(),
        Some("no"),
        "{unlocked}"
    );

    // Holders and history.
    let summary = json(a(&["summary"])).await;
    assert_eq!(summary["issued"], 10_000);
    assert_eq!(
        run(a(&["ownerships"])).await.ok().stdout,
        "OWNER  GAID  AMOUNT\n"
    );
    assert_eq!(
        json(a(&["ownerships", "--height", "1200001"])).await,
        json!([])
    );
    let lost = json(a(&["lost-outputs"])).await;
    assert_eq!(
        lost,
        json!({"lost_outputs": [], "reissuance_lost_outputs": []})
    );
    let activities = json(a(&["activities", "--count", "1", "--sort-order", "desc"])).await;
    assert_eq!(activities.as_array().unwrap().len(), 1, "{activities}");
    assert_eq!(activities[0]["type"], "issuance");
    run(a(&["activities", "--sort-order", "sideways"]))
        .await
        .fails(2, &["--sort-order"]);
    let txs = json(a(&["txs"])).await;
    let issuance = txs[0]["txid"].as_str().unwrap().to_string();
    let tx = run(a(&["tx", &issuance])).await.ok().stdout;
    assert_eq!(field(&tx, "is_issuance").as_deref(), Some("yes"), "{tx}");
    assert_eq!(field(&tx, "txid"), Some(issuance.clone()), "{tx}");

    // UTXOs and the blacklist: from --utxo, and whole from --data.
    let utxos = json(a(&["utxos"])).await;
    assert_eq!(utxos[0]["txid"], issuance.as_str());
    let outpoint = format!("{issuance}:0");
    let black = run(a(&["blacklist-utxos", "--utxo", &outpoint]))
        .await
        .ok()
        .stdout;
    let row = rows(&black)
        .into_iter()
        .find(|r| r[1] == "0")
        .expect(&black);
    assert_eq!(row.last().map(String::as_str), Some("yes"), "{black}");
    let body = json!([{"txid": issuance, "vout": 0}]).to_string();
    let white = json(a(&["whitelist-utxos", "--data", &body])).await;
    assert!(
        white
            .as_array()
            .unwrap()
            .iter()
            .all(|u| u["blacklisted"] == false),
        "{white}"
    );
    for bad in [
        a(&["blacklist-utxos", "--utxo", "no-colon"]),
        a(&["blacklist-utxos"]),
        a(&["blacklist-utxos", "--utxo", &outpoint, "--data", &body]),
        a(&["blacklist-utxos", "--data", r#"[{"txid": "ab"}]"#]),
    ] {
        let r = sends_nothing(&sandbox, run(bad.clone())).await;
        assert_eq!(r.code, 2, "{bad:?}: {r:?}");
    }
    run(a(&[
        "whitelist-utxos",
        "--data",
        r#"[{"txid": "ab", "vout": 0, "vot": 1}]"#,
    ]))
    .await
    .fails(2, &["--data", "unknown field `[0].vot`"]);

    // Treasury addresses: add from flags, delete from --data.
    let added = run(a(&[
        "add-treasury-addresses",
        "--address",
        "vjTone",
        "--address",
        "vjTtwo",
    ]))
    .await
    .ok();
    assert_eq!(added.stdout, "2 treasury addresses added\n");
    let addresses = run(a(&["treasury-addresses"])).await.ok().stdout;
    assert_eq!(addresses, "ADDRESS\nvjTone\nvjTtwo\n");
    let deleted = run(a(&[
        "delete-treasury-addresses",
        "--json",
        "--data",
        r#"["vjTone"]"#,
    ]))
    .await
    .ok();
    assert_eq!(deleted.stdout, "null\n", "no answer: null with --json");
    assert_eq!(json(a(&["treasury-addresses"])).await, json!(["vjTtwo"]));
    run(a(&[
        "add-treasury-addresses",
        "--data",
        r#"{"address": "x"}"#,
    ]))
    .await
    .fails(2, &["--data", "not a valid list of addresses"]);

    // Blinders of the issuance output (the chain's), from flags; a --data
    // short of a field.
    let (blinder, amount_blinder) = sandbox.output_blinders(&issuance, 0).unwrap();
    let updated = run(a(&[
        "update-blinders",
        "--txid",
        &issuance,
        "--vout",
        "0",
        "--asset-blinder",
        &blinder,
        "--amount-blinder",
        &amount_blinder,
    ]))
    .await
    .ok();
    assert_eq!(updated.stdout, "blinders updated\n");
    let tx = json(a(&["tx", &issuance])).await;
    assert_eq!(tx["outputs"][0]["asset_blinder"], blinder.as_str(), "{tx}");
    let short = json!({"txid": issuance, "vout": 0, "asset_blinder": blinder}).to_string();
    run(a(&["update-blinders", "--data", &short]))
        .await
        .fails(2, &["--data", "missing field `amount_blinder`"]);

    // Reissue 100, burn 50.
    let plan = json(a(&["reissue-request", "--amount", "100"])).await;
    assert_eq!(plan["command"], "reissue", "{plan}");
    // The sandbox's node reissues, as the official script drives it.
    let reissue = sandbox.wallet_reissue(&plan).unwrap();
    let reissue_txid = reissue["reissuance_output"]["txid"]
        .as_str()
        .unwrap()
        .to_owned();
    let vin = "0";
    let details = reissue["details"].to_string();
    let listissuances = reissue["listissuances"].to_string();
    let confirmed = run(a(&[
        "reissue-confirm",
        "--txid",
        &reissue_txid,
        "--vin",
        vin,
        "--details",
        &details,
        "--listissuances",
        &listissuances,
    ]))
    .await
    .ok()
    .stdout;
    assert_eq!(
        field(&confirmed, "reissuance_amount").as_deref(),
        Some("100"),
        "{confirmed}"
    );
    let reissuances = rows(&run(a(&["reissuances"])).await.ok().stdout);
    assert_eq!(
        reissuances[1][..3],
        [reissue_txid.clone(), "0".into(), "100".into()],
        "{reissuances:?}"
    );
    run(a(&["reissue-request", "--amount", "0"]))
        .await
        .fails(2, &["amount_to_reissue", "positive"]);
    let burn = json(a(&["burn-request", "--amount", "50"])).await;
    assert_eq!(burn["command"], "burn", "{burn}");
    let body = sandbox.wallet_burn(&burn).unwrap().to_string();
    let burned = run(a(&["burn-confirm", "--data", &body])).await.ok();
    assert_eq!(burned.stdout, "burn confirmed\n");
    let summary = json(a(&["summary"])).await;
    assert_eq!(
        (&summary["reissued"], &summary["burned"]),
        (&json!(100), &json!(50))
    );
    run(a(&["burn-confirm", "--txid", &txid('c'), "--data", &body]))
        .await
        .fails(2, &["--data"]);

    // Errors: an unknown asset is AMP's 404; a bad issue body names its field.
    for sub in ["get", "summary", "utxos", "memo"] {
        env.run(&["assets", sub, NO_ASSET])
            .await
            .fails(1, &["404", "Not found", "1 attempt"]);
    }
    let bad = sends_nothing(
        &sandbox,
        env.run(&[
            "assets",
            "issue",
            "--data",
            r#"{"name": "x", "amount": "lots"}"#,
        ]),
    )
    .await;
    bad.fails(2, &["--data: not a valid issue request", "amount"]);
    let typo = issue_body("T").replace("\"is_reissuable\"", "\"is_reisuable\"");
    env.run(&["assets", "issue", "--data", &typo])
        .await
        .fails(2, &["unknown field `is_reisuable`"]);
    env.run(&["assets", "issue", "--name", "x", "--data", &issue_body("x")])
        .await
        .fails(2, &["cannot be used with"]);
    env.run(&["assets", "issue", "--data", "@/no/such/body.json"])
        .await
        .fails(2, &["/no/such/body.json"]);

    // Delete: a confirmation, or null with --json; then it is gone.
    let other = issue(&env, "Short-lived").await;
    assert_eq!(
        env.text(&["assets", "delete", &uuid]).await,
        format!("asset {uuid} deleted\n")
    );
    assert_eq!(env.json(&["assets", "delete", &other]).await, Value::Null);
    env.run(&["assets", "get", &uuid]).await.fails(1, &["404"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn assignments_and_distributions_commands() {
    let sandbox = empty_sandbox().await;
    let home = TempDir::new("assignments");
    let env = Env::sandbox(&home, &sandbox);
    let uuid = issue(&env, "Assigned Token").await;
    let user = env
        .json(&[
            "registered-users",
            "add",
            "--name",
            "Carol",
            "--gaid",
            &gaid(3),
        ])
        .await["id"]
        .to_string();

    // An assignment not ready, vesting later: get, lock, unlock, delete.
    let created = env
        .json(&[
            "assignments",
            "create",
            &uuid,
            "--user",
            &user,
            "--amount",
            "40",
            "--vesting-timestamp",
            "4102444800",
        ])
        .await;
    let id = created[0]["id"].to_string();
    assert_eq!(created[0]["vesting_timestamp"], 4_102_444_800_i64);
    assert_eq!(created[0]["ready_for_distribution"], false);
    let one = env.text(&["assignments", "get", &uuid, &id]).await;
    assert_eq!(field(&one, "amount").as_deref(), Some("40"), "{one}");
    assert_eq!(
        env.json(&["assignments", "lock", &uuid, &id]).await["id"],
        created[0]["id"]
    );
    env.run(&["assignments", "delete", &uuid, &id])
        .await
        .fails(1, &["400"]);
    env.json(&["assignments", "unlock", &uuid, &id]).await;
    assert_eq!(
        env.text(&["assignments", "delete", &uuid, &id]).await,
        format!("assignment {id} deleted\n")
    );
    env.run(&["assignments", "get", &uuid, &id])
        .await
        .fails(1, &["404", "Not found"]);
    env.run(&["assignments", "list", NO_ASSET])
        .await
        .fails(1, &["404"]);
    env.run(&["assignments", "create", &uuid, "--user", &user])
        .await
        .fails(2, &["--amount"]);
    env.run(&[
        "assignments",
        "create",
        &uuid,
        "--user",
        "999",
        "--amount",
        "5",
    ])
    .await
    .fails(1, &["400", "999"]);

    // A distribution created and cancelled, then one confirmed from flags.
    env.json(&[
        "assignments",
        "create",
        &uuid,
        "--user",
        &user,
        "--amount",
        "25",
        "--ready",
    ])
    .await;
    let plan = env.json(&["distributions", "create", &uuid]).await;
    let first = plan["distribution_uuid"].as_str().unwrap().to_string();
    assert_eq!(
        env.text(&["distributions", "cancel", &uuid, &first]).await,
        format!("distribution {first} cancelled\n")
    );
    env.run(&["distributions", "get", &uuid, &first])
        .await
        .fails(1, &["404"]);
    let plan = env.json(&["distributions", "create", &uuid]).await;
    let second = plan["distribution_uuid"].as_str().unwrap().to_string();
    // The sandbox's node sends it, as the official script drives it.
    let sent = sandbox.wallet_distribute(&plan).unwrap();
    let sent_txid = sent["tx_data"]["txid"].as_str().unwrap().to_owned();
    let sent_details = sent["tx_data"]["details"].to_string();
    let sent_change = sent["change_data"].to_string();
    for (bad, words) in [
        (
            r#"{"tx_data": {"txid": "ab", "detail": []}}"#,
            "unknown field `tx_data.detail`",
        ),
        (r#"{"tx_data": {}}"#, "tx_data: missing field `txid`"),
        (r#"{"tx_data": "#, "not valid JSON"),
    ] {
        let args = ["distributions", "confirm", &uuid, &second, "--data", bad];
        sends_nothing(&sandbox, env.run(&args))
            .await
            .fails(2, &["--data", words]);
    }
    env.run(&[
        "distributions",
        "confirm",
        &uuid,
        &second,
        "--txid",
        "ab",
        "--details",
        "[1,",
    ])
    .await
    .fails(2, &["--details: not valid JSON"]);
    env.run(&[
        "distributions",
        "confirm",
        &uuid,
        &second,
        "--txid",
        "ab",
        "--data",
        "{}",
    ])
    .await
    .fails(2, &["cannot be used with"]);
    let confirmed = env
        .json(&[
            "distributions",
            "confirm",
            &uuid,
            &second,
            "--txid",
            &sent_txid,
            "--details",
            &sent_details,
            "--change-data",
            &sent_change,
        ])
        .await;
    assert_eq!(confirmed, Value::Null);
    let got = env.json(&["distributions", "get", &uuid, &second]).await;
    assert_eq!(got["distribution_status"], "CONFIRMED");
    assert_eq!(got["transactions"][0]["txid"], sent_txid.as_str());
    env.run(&["distributions", "list", NO_ASSET])
        .await
        .fails(1, &["404"]);
    env.run(&["distributions", "get", &uuid, "create"])
        .await
        .fails(2, &["create"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_users_categories_and_gaids_commands() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("users");
    let env = Env::sandbox(&home, &sandbox);

    // A user without a GAID, renamed, given two, then deleted.
    let carol = env
        .json(&["registered-users", "add", "--name", "Carol"])
        .await;
    assert!(carol["GAID"].is_null(), "{carol}");
    let id = carol["id"].to_string();
    let renamed = env
        .text(&["registered-users", "edit", &id, "--name", "Carol Example"])
        .await;
    assert_eq!(
        field(&renamed, "name").as_deref(),
        Some("Carol Example"),
        "{renamed}"
    );
    env.json(&["registered-users", "add-gaid", &id, &gaid(4)])
        .await;
    env.json(&["registered-users", "add-gaid", &id, &gaid(5)])
        .await;
    let gaids = env.text(&["registered-users", "gaids", &id]).await;
    assert!(
        gaids.starts_with("GAID\n") && gaids.contains(&gaid(5)),
        "{gaids}"
    );
    env.json(&["registered-users", "set-default-gaid", &id, &gaid(5)])
        .await;
    let user = env.json(&["registered-users", "get", &id]).await;
    assert_eq!(user["GAID"], gaid(5).as_str());
    env.run(&["registered-users", "add-gaid", &id, "not-a-gaid"])
        .await
        .fails(1, &["400", "GAID"]);
    let summary = env.text(&["registered-users", "summary", "1"]).await;
    let summary = rows(&summary);
    assert_eq!(
        summary[0],
        ["ASSET_UUID", "ASSIGNED", "DISTRIBUTED", "BALANCE"]
    );
    assert_eq!(summary[1], [BOND, "1000", "1000", "1000"], "{summary:?}");
    assert_eq!(
        env.text(&["registered-users", "delete", &id]).await,
        format!("registered user {id} deleted\n")
    );
    for sub in ["get", "summary", "gaids", "delete"] {
        env.run(&["registered-users", sub, &id])
            .await
            .fails(1, &["404"]);
    }

    // A category: edited, users and an asset in and out, deleted.
    let category = env.json(&["categories", "add", "--name", "Temp"]).await;
    let cid = category["id"].to_string();
    assert_eq!(category["description"], "");
    let edited = env
        .json(&["categories", "edit", &cid, "--description", "For a while"])
        .await;
    assert_eq!(
        (&edited["name"], &edited["description"]),
        (&json!("Temp"), &json!("For a while"))
    );
    sends_nothing(&sandbox, env.run(&["categories", "edit", &cid]))
        .await
        .fails(2, &["--name"]);
    let with = env
        .json(&["categories", "add-registered-user", &cid, "2"])
        .await;
    assert_eq!(with["registered_users"], json!([2]));
    let without = env.json(&["categories", "remove-user", &cid, "2"]).await;
    assert_eq!(without["registered_users"], json!([]));
    assert_eq!(
        env.json(&["categories", "add-asset", &cid, BOND]).await["assets"],
        json!([BOND])
    );
    let removed = env.text(&["categories", "remove-asset", &cid, BOND]).await;
    assert_eq!(field(&removed, "assets").as_deref(), Some("-"), "{removed}");
    env.run(&["categories", "add-user", &cid, "999"])
        .await
        .fails(1, &["404"]);
    assert_eq!(
        env.text(&["categories", "delete", &cid]).await,
        format!("category {cid} deleted\n")
    );
    env.run(&["categories", "get", &cid])
        .await
        .fails(1, &["404", "Not found"]);

    // GAIDs.
    assert_eq!(
        env.json(&["gaids", "validate", ALICE_GAID]).await["is_valid"],
        true
    );
    let address = env.text(&["gaids", "address", ALICE_GAID]).await;
    assert!(field(&address, "address").is_some(), "{address}");
    let one = env
        .json(&["gaids", "balance", ALICE_GAID, "--asset", BOND])
        .await;
    assert_eq!(
        (&one["asset_uuid"], &one["balance"]),
        (&json!(BOND), &json!(1000))
    );
    let owner = env.text(&["gaids", "registered-user", ALICE_GAID]).await;
    assert_eq!(
        field(&owner, "name").as_deref(),
        Some("Alice Example"),
        "{owner}"
    );
    env.run(&["gaids", "registered-user", &gaid(9)])
        .await
        .fails(1, &["404"]);
    sends_nothing(&sandbox, env.run(&["gaids", "validate", "GA/../user"]))
        .await
        .fails(2, &["single path segment"]);

    // The changelog: `version  text` lines, a JSON object.
    let changelog = env.json(&["changelog"]).await;
    let text = env.text(&["changelog"]).await;
    let (version, what) = changelog.as_object().unwrap().iter().next().unwrap();
    assert!(text.starts_with(&format!("{version} ")), "{text}");
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(what.as_str().unwrap()),
        "{text}"
    );
}

/// 40 lowercase hex characters in a row: what a token looks like.
fn has_token_like(text: &str) -> bool {
    text.as_bytes()
        .windows(40)
        .any(|w| w.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn managers_user_and_new_passwords() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("managers");
    let env = Env::sandbox(&home, &sandbox).set("RUST_LOG", "trace");
    let mut outputs: Vec<Run> = Vec::new();
    let created_pw = "created-pw-8e1d";
    let changed_pw = "changed-pw-44c0";
    let user_pw = "user-pw-b71f";

    // Create: the password from stdin's first line.
    let created = env
        .run_with_stdin(
            &["--json", "managers", "create", "--username", "fund-manager"],
            &format!("{created_pw}\n"),
        )
        .await
        .ok();
    let manager = created.json();
    assert_eq!(
        (&manager["username"], &manager["is_locked"]),
        (&json!("fund-manager"), &json!(true))
    );
    let id = manager["id"].to_string();
    outputs.push(created);
    let unlocked = env.run(&["managers", "unlock", &id]).await.ok();
    assert_eq!(field(&unlocked.stdout, "is_locked").as_deref(), Some("no"));
    outputs.push(unlocked);

    // The manager logs in with it.
    let as_manager = Env::sandbox(&home, &sandbox)
        .set("AMP_USERNAME", "fund-manager")
        .set("AMP_PASSWORD", created_pw);
    let me = as_manager.json(&["managers", "me"]).await;
    assert_eq!(me["username"], "fund-manager");

    // Assets granted and taken back, locked.
    let granted = env.json(&["managers", "add-asset", &id, BOND]).await;
    assert_eq!(granted["assets"], json!([BOND]));
    let taken = env.json(&["managers", "remove-asset", &id, BOND]).await;
    assert_eq!(taken["assets"], json!([]));
    assert_eq!(
        env.json(&["managers", "lock", &id]).await["is_locked"],
        true
    );
    assert_eq!(env.json(&["managers", "get", &id]).await["is_locked"], true);
    env.run(&["managers", "unlock", &id]).await.ok();

    // Its password changed, from AMP_NEW_PASSWORD: the answer's token is not printed.
    let changed = env
        .clone()
        .set("AMP_NEW_PASSWORD", changed_pw)
        .run(&["managers", "change-password", &id])
        .await
        .ok();
    assert_eq!(changed.stdout, "password of manager fund-manager changed\n");
    let changed_json = env
        .clone()
        .set("AMP_NEW_PASSWORD", changed_pw)
        .run(&["--json", "managers", "change-password", &id])
        .await
        .ok();
    assert_eq!(changed_json.json(), json!({"username": "fund-manager"}));
    for run in [&changed, &changed_json] {
        assert!(!has_token_like(&run.stdout), "{run:?}");
    }
    outputs.extend([changed, changed_json]);
    as_manager
        .clone()
        .set("AMP_PASSWORD", changed_pw)
        .run(&["managers", "me"])
        .await
        .ok();

    // Errors: unknown ids, no password, an issuer's `me`, a password flag.
    env.run(&["managers", "get", "999"])
        .await
        .fails(1, &["404"]);
    env.run(&["managers", "me"])
        .await
        .fails(1, &["404", "issuer"]);
    let none = sends_nothing(&sandbox, env.run(&["managers", "change-password", &id])).await;
    outputs.push(none.fails(2, &["no new password on stdin", "AMP_NEW_PASSWORD"]));
    let empty = env
        .run_with_stdin(&["managers", "create", "--username", "x"], "\n")
        .await;
    outputs.push(empty.fails(2, &["empty"]));
    env.run(&["user", "change-password", "--password", user_pw])
        .await
        .fails(2, &["--password"]);

    // The caller's own password, from stdin; this run's token keeps working,
    // later logins need the new password.
    let before = sandbox.count("POST", "/user/change-password");
    let mine = env
        .run_with_stdin(&["user", "change-password"], &format!("{user_pw}\r\n"))
        .await
        .ok();
    assert!(mine.stdout.starts_with("password changed"), "{mine:?}");
    assert!(mine.stdout.contains("AMP_PASSWORD"), "{mine:?}");
    assert_eq!(sandbox.count("POST", "/user/change-password"), before + 1);
    assert_eq!(sandbox.current_password(), user_pw);
    outputs.push(mine);
    let old = env.run(&["assets", "list"]).await;
    outputs.push(old.fails(1, &["refused the credentials"]));
    let new = env.clone().set("AMP_PASSWORD", user_pw);
    outputs.push(new.run(&["assets", "list"]).await.ok());
    let again = new
        .run_with_stdin(
            &["--json", "user", "change-password"],
            &format!("{changed_pw}\n"),
        )
        .await
        .ok();
    assert_eq!(again.stdout, "null\n");
    outputs.push(again);

    // No password in any output, at trace level.
    let all: String = outputs
        .iter()
        .map(|r| format!("{}\n{}\n", r.stdout, r.stderr))
        .collect();
    assert!(
        all.contains("TRACE") || all.contains("DEBUG"),
        "trace logging is on"
    );
    for pw in [created_pw, changed_pw, user_pw, sandbox.password()] {
        assert!(!all.contains(pw), "{pw} leaked");
    }
}
