//! `amp demo onchain`: an asset issued, assigned, distributed on the
//! sandbox's simulated chain and confirmed to AMP, narrated, with the
//! confirmations shown as the blocks arrive (one every 0.7 s). Then the same
//! job run again, to show that it sends nothing twice. No credentials, no
//! network, a few seconds.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
use amp_client::{AmpClient, Config, MemoryStore};
use amp_elements::journal::JobKind;
use amp_elements::{ElementsRpc, Event, JobOptions, Progress, Treasury};
use amp_sandbox::Sandbox;

use crate::failure::{CliResult, Failure};
use crate::output;

/// How often the sandbox's node mines a block during the demo.
const BLOCK_EVERY: Duration = Duration::from_millis(700);

/// The receivers: name, GAID, units assigned.
const RECEIVERS: [(&str, &str, i64); 2] = [
    ("Alice", "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz", 30_000),
    ("Example Corp", "GA4Bdf2hPtMajjT1uJUHdHXQx2Ecxf", 20_000),
];

fn say(text: &str) -> CliResult {
    output::write_stdout(&format!("{text}\n"))
}

fn runtime(what: &str) -> impl Fn(String) -> Failure + '_ {
    move |e| Failure::runtime(format!("{what}: {e}"))
}

/// Runs the demo; fails (exit 1) if anything did not happen as narrated.
pub async fn run() -> CliResult {
    let started = Instant::now();
    let sandbox = Sandbox::builder()
        .with_sample_data(false)
        .start()
        .await
        .map_err(|e| runtime("cannot start the embedded sandbox")(e.to_string()))?;
    let sandbox = Arc::new(sandbox);
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .map_err(|e| runtime("demo configuration")(e.to_string()))?;
    let client = AmpClient::builder(config)
        .store(Arc::new(MemoryStore::new()))
        .build()
        .map_err(|e| runtime("demo client")(e.to_string()))?;
    let node = ElementsRpc::builder(&sandbox.node_url_with_credentials())
        .build()
        .map_err(|e| runtime("demo node")(e.to_string()))?;
    let jobs = std::env::temp_dir().join(format!("amp-demo-onchain-{}", std::process::id()));
    let outcome = demo(&sandbox, client, node, &jobs).await;
    let _ = std::fs::remove_dir_all(&jobs);
    let surprises = outcome?;
    say(&format!(
        "\nDone in {:.1} s.",
        started.elapsed().as_secs_f64()
    ))?;
    if surprises > 0 {
        return Err(Failure::runtime(format!(
            "the demo saw {surprises} unexpected result(s)"
        )));
    }
    Ok(())
}

/// The four steps; answers how many checks did not hold.
async fn demo(
    sandbox: &Arc<Sandbox>,
    client: AmpClient,
    node: ElementsRpc,
    jobs: &std::path::Path,
) -> CliResult<u64> {
    let mut surprises = 0;
    let mut check = |ok: bool, expected: &str| -> CliResult {
        if !ok {
            surprises += 1;
            say(&format!("      UNEXPECTED: expected {expected}"))?;
        }
        Ok(())
    };
    let fail = |e: amp_client::Error| Failure::runtime(e.to_string());
    say(&format!(
        "amp demo onchain: a distribution from AMP through an Elements node and back, against an AMP \
         sandbox\nat {} and its simulated Elements node at {} (a block every {:.1} s).\n",
        sandbox.base_url(),
        sandbox.node_url(),
        BLOCK_EVERY.as_secs_f64()
    ))?;

    say("[1/4] The issuer issues an asset; the issuance pays the node's wallet (the treasury)")?;
    let issued = client
        .assets()
        .issue(&IssueRequest {
            name: "Demo Bond".into(),
            amount: 1_000_000,
            precision: Some(0),
            destination_address: "treasury".into(),
            domain: "issuer.example".into(),
            ticker: "DEMO".into(),
            pubkey: "02b4ab7a5b1e0e3f2c1d9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e".into(),
            ..IssueRequest::default()
        })
        .await
        .map_err(fail)?;
    let asset = issued.asset_uuid.clone();
    say(&format!(
        "      asset {asset}: {} units in the wallet",
        issued.amount
    ))?;

    say("[2/4] Two registered users are assigned part of it")?;
    for (name, gaid, amount) in RECEIVERS {
        let user = client
            .registered_users()
            .add(&NewRegisteredUser::new(name).gaid(gaid))
            .await
            .map_err(fail)?;
        client
            .assignments(&asset)
            .create(&NewAssignment::new(user.id, amount).ready_for_distribution(true))
            .await
            .map_err(fail)?;
        say(&format!("      {amount} units to {name} ({gaid})"))?;
    }

    say("[3/4] amp assets distribute: checks, intent in the journal, sendmany, confirmations, AMP's confirm")?;
    sandbox.set_block_interval(Some(BLOCK_EVERY));
    let options = JobOptions {
        poll_interval: Duration::from_millis(100),
        timeout: Duration::from_secs(60),
        ..JobOptions::default()
    };
    let narrator = Arc::new(Narrator::default());
    let treasury = Treasury::new(client.clone(), node)
        .options(options)
        .progress(narrator.clone());
    let journal = amp_elements::journal_path(jobs, JobKind::Distribute, &asset);
    let done = treasury
        .distribute(&asset, None, None, &journal)
        .await
        .map_err(|e| Failure::runtime(e.to_string()))?;
    let d = done.distribution_uuid.clone().unwrap_or_default();
    say(&format!(
        "      distribution {d} confirmed in transaction {}; the journal is closed as {}",
        done.txid,
        done.journal
            .as_ref()
            .and_then(|p| p.file_name())
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    ))?;
    check(done.sent_now, "the transaction sent by this run")?;
    check(
        narrator.confirmations.load(Ordering::Relaxed) >= 2,
        "the confirmations shown as they arrived",
    )?;

    say("[4/4] The same job again: AMP has it confirmed, so nothing is sent")?;
    let again = treasury
        .distribute(&asset, Some(&d), None, &journal)
        .await
        .map_err(|e| Failure::runtime(e.to_string()))?;
    sandbox.set_block_interval(None);
    let summary = client.assets().summary(&asset).await.map_err(fail)?;
    let assignments = client.assignments(&asset).list().await.map_err(fail)?;
    let sendmany = sandbox.node_count("sendmany");
    let confirms = sandbox.count(
        "POST",
        "/assets/{assetUuid}/distributions/{distributionUuid}/confirm",
    );
    say(&format!(
        "      the node saw {sendmany} sendmany, AMP {confirms} confirm; {} of {} units distributed; \
         {} of {} assignments distributed",
        summary.distributed,
        summary.assigned,
        assignments.iter().filter(|a| a.is_distributed).count(),
        assignments.len()
    ))?;
    check(
        again.already_confirmed && !again.sent_now && again.txid == done.txid,
        "the second run to find the job done",
    )?;
    check(
        sendmany == 1 && confirms == 1,
        "one sendmany and one confirm",
    )?;
    check(
        summary.distributed == 50_000 && assignments.iter().all(|a| a.is_distributed),
        "every assignment distributed",
    )?;
    Ok(surprises)
}

/// Narrates the job's events as indented lines.
#[derive(Default)]
struct Narrator {
    confirmations: AtomicU64,
}

impl Progress for Narrator {
    fn event(&self, event: &Event) {
        let line = match event {
            Event::Sending => {
                "checks passed (Elements node, synchronised, wallet unlocked, no lost \
                               outputs, assignments ready); intent written; sendmany"
                    .to_string()
            }
            Event::Sent { txid, .. } => format!("txid {txid} written to the journal"),
            Event::Confirmations { have, want, .. } => {
                self.confirmations.fetch_add(1, Ordering::Relaxed);
                format!("confirmations: {have}/{want}")
            }
            Event::AmpConfirmed { .. } => "AMP accepted the confirmation".to_string(),
            Event::AlreadyConfirmed { txid } => format!("AMP has {txid} confirmed already"),
            _ => return,
        };
        let _ = say(&format!("      {line}"));
    }
}
