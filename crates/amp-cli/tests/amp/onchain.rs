//! `amp assets distribute | reissue | burn | update-blinders` as a user runs
//! them: the outcome, the checks that stop them, a corrupt journal, and the
//! node's flags.

use std::time::Duration;

use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
use amp_client::{AmpClient, Config};
use amp_sandbox::Sandbox;

use super::support::{gaid, Env, TempDir};

/// A sandbox mining every 10 ms, an asset with one ready assignment.
async fn world() -> (Sandbox, String) {
    let sandbox = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .unwrap();
    sandbox.set_block_interval(Some(Duration::from_millis(10)));
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap();
    let client = AmpClient::new(config).unwrap();
    let issued = client
        .assets()
        .issue(&IssueRequest {
            name: "Cli Bond".into(),
            amount: 10_000,
            destination_address: "treasury".into(),
            domain: "issuer.example".into(),
            ticker: "CLIB".into(),
            pubkey: "02".to_string() + &"ef".repeat(32),
            ..IssueRequest::default()
        })
        .await
        .unwrap();
    let user = client
        .registered_users()
        .add(&NewRegisteredUser::new("Alice").gaid(gaid(3)))
        .await
        .unwrap();
    client
        .assignments(&issued.asset_uuid)
        .create(&NewAssignment::new(user.id, 400).ready_for_distribution(true))
        .await
        .unwrap();
    (sandbox, issued.asset_uuid)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn distribute_prints_the_outcome_and_progress_and_a_second_run_sends_nothing() {
    let (sandbox, asset) = world().await;
    let home = TempDir::new("distribute");
    // The node from the environment; the journal in the default jobs folder
    // beside a file token store.
    let store = home.path().join("amp").join("token.json");
    let env = Env::sandbox(&home, &sandbox)
        .set("AMP_NODE_URL", &sandbox.node_url_with_credentials())
        .set("AMP_POLL_INTERVAL_MS", "5")
        // Every log line too: the node's password must be in none.
        .set("RUST_LOG", "trace")
        .set("AMP_TOKEN_STORE", &format!("file:{}", store.display()));
    let run = env.run(&["assets", "distribute", &asset]).await.ok();
    assert!(run.stdout.contains("confirmed: transaction "), "{run:?}");
    for line in [
        "sent: transaction",
        "waiting for 2 confirmations",
        // The last line says the wait is over (the sandbox may mine more
        // than one block between two polls: "2" or "3" confirmations).
        " confirmations (2 wanted)",
        "AMP accepted",
    ] {
        assert!(run.stderr.contains(line), "{line:?}: {run:?}");
    }
    // The node's password is nowhere, at any log level.
    assert!(run.stderr.contains("TRACE"), "logs at trace level");
    assert!(!format!("{run:?}").contains(sandbox.node_password()));
    let jobs: Vec<String> = std::fs::read_dir(home.path().join("amp").join("jobs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        // The lock file stays (removing it would race another process).
        .filter(|n| !n.ends_with(".lock"))
        .collect();
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    assert!(
        jobs[0].starts_with(&format!("distribute-{asset}.done-")),
        "{jobs:?}"
    );

    // The same distribution again: AMP has it, nothing is sent.
    let d = run
        .stdout
        .strip_prefix("distribution ")
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap();
    let again = env.json(&["assets", "distribute", &asset, d]).await;
    assert_eq!(again["already_confirmed"], true, "{again}");
    assert_eq!(again["sent_now"], false, "{again}");
    assert_eq!(again["distribution_uuid"], d, "{again}");
    assert_eq!(sandbox.node_count("sendmany"), 1, "{again}");
    // And no new distribution without one: AMP has none ready.
    env.run(&["assets", "distribute", &asset])
        .await
        .fails(1, &["no assignments"]);
    assert_eq!(sandbox.node_count("sendmany"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_check_sends_nothing_and_names_the_check() {
    let (sandbox, asset) = world().await;
    let home = TempDir::new("check");
    let node = sandbox.node_url_with_credentials();
    let env = Env::sandbox(&home, &sandbox).set("AMP_NODE_URL", &node);
    let journal = home.path().join("j.json");
    let journal = journal.display().to_string();
    sandbox.set_wallet_locked(true);
    let args = ["assets", "distribute", &asset, "--journal", &journal];
    env.run(&args).await.fails(
        1,
        &[
            "check failed, nothing was sent",
            "wallet unlocked",
            "walletpassphrase",
        ],
    );
    assert_eq!(sandbox.node_count("sendmany"), 0);
    // Without a node: a usage error naming the flag and its variable.
    let no_node = env.clone().unset("AMP_NODE_URL");
    no_node
        .run(&["assets", "burn", &asset, "--amount", "5"])
        .await
        .fails(2, &["--node", "AMP_NODE_URL"]);
    // Plain http to another machine: refused before anything is sent.
    no_node
        .clone()
        .set("AMP_NODE_URL", "http://u:pw@10.9.8.7:1/")
        .run(&["assets", "burn", &asset, "--amount", "5"])
        .await
        .fails(2, &["plain http"]);
    // A password on the command line, where `ps` shows it to every user of
    // the machine: refused, pointing at the variable, the password not
    // repeated.
    let run = no_node
        .run(&["assets", "burn", &asset, "--amount", "5", "--node", &node])
        .await;
    let run = run.fails(2, &["--node", "AMP_NODE_URL", "--node-cookie"]);
    assert!(!run.stderr.contains(sandbox.node_password()), "{run:?}");
    assert_eq!(sandbox.count("POST", "/assets/{assetUuid}/burn-request"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupt_journal_is_set_aside_and_nothing_is_sent_until_it_is_removed() {
    let (sandbox, asset) = world().await;
    let home = TempDir::new("corrupt");
    let env = Env::sandbox(&home, &sandbox);
    let journal = home.path().join("j.json");
    std::fs::write(
        &journal,
        b"{\"version\": 1, \"job\": \"distribute\", \"txid",
    )
    .unwrap();
    let path = journal.display().to_string();
    let env = env.set("AMP_NODE_URL", &sandbox.node_url_with_credentials());
    let args = ["assets", "distribute", &asset, "--journal", &path];
    env.run(&args)
        .await
        .fails(1, &["is corrupt", "may have been sent", "j.json.corrupt"]);
    env.run(&args).await.fails(1, &["set aside", "delete"]);
    assert_eq!(sandbox.node_count("sendmany"), 0);
    std::fs::remove_file(home.path().join("j.json.corrupt")).unwrap();
    let args: Vec<&str> = args
        .into_iter()
        .chain(["--poll-interval-ms", "5"])
        .collect();
    env.run(&args).await.ok();
    assert_eq!(sandbox.node_count("sendmany"), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_blinders_from_the_node_and_with_the_cookie() {
    let (sandbox, asset) = world().await;
    let home = TempDir::new("blinders");
    let env = Env::sandbox(&home, &sandbox);
    let cookie = sandbox.node_cookie_path().display().to_string();
    let run = env
        .json(&[
            "assets",
            "update-blinders",
            &asset,
            "--node",
            &sandbox.node_url(),
            "--node-cookie",
            &cookie,
        ])
        .await;
    assert_eq!(run["updated"], serde_json::json!([0]), "{run}");
    let again = env
        .text(&[
            "assets",
            "update-blinders",
            &asset,
            "--node",
            &sandbox.node_url(),
            "--node-cookie",
            &cookie,
        ])
        .await;
    assert!(again.contains("nothing sent"), "{again}");
    assert_eq!(
        sandbox.count("POST", "/assets/{assetUuid}/update-blinders"),
        1
    );
}
