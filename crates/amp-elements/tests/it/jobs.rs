//! The jobs against the sandbox's AMP and its simulated Elements node, over
//! HTTP: what each sends, the checks that stop it, and a run after a
//! failure that finishes without a second transaction.

use crate::common;

use std::time::Duration;

use amp_elements::journal::{JobKind, Journal};
use amp_elements::{journal_path, Error, Event, RpcErrorKind};
use amp_sandbox::NodeFault;
use common::{files, World};

const CONFIRM: &str = "/assets/{assetUuid}/distributions/{distributionUuid}/confirm";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distribution_is_sent_once_confirmed_twice_on_chain_and_confirmed_to_amp() {
    let w = World::new("distribute").await;
    let (treasury, miner) = w.treasury();
    let journal = journal_path(&w.dir.0, JobKind::Distribute, &w.asset_uuid);
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert!(done.sent_now && !done.already_confirmed);
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
    assert_eq!(w.sandbox.confirmations(&done.txid), Some(2));
    // The confirmations as they arrived.
    assert_eq!(miner.confirmations(), vec![0, 1, 2]);
    assert!(miner.events().contains(&Event::AmpConfirmed {
        txid: done.txid.clone()
    }));
    let d = done.distribution_uuid.clone().unwrap();
    let distribution = w.client.distributions(&w.asset_uuid).get(&d).await.unwrap();
    assert_eq!(
        distribution.distribution_status.as_deref(),
        Some("CONFIRMED")
    );
    let assignments = w.client.assignments(&w.asset_uuid).list().await.unwrap();
    assert!(assignments.iter().all(|a| a.is_distributed));
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.distributed, 500);
    // The journal is closed under its done name.
    let done_name = format!("distribute-{}.done-{}.json", w.asset_uuid, done.txid);
    assert_eq!(done.journal, Some(w.dir.0.join(&done_name)));
    assert!(files(&w.dir.0).contains(&done_name));
    assert!(!journal.exists());

    // Again, for the same distribution: AMP has it; nothing is sent.
    let again = treasury
        .distribute(&w.asset_uuid, Some(&d), None, &journal)
        .await
        .unwrap();
    assert!(again.already_confirmed && !again.sent_now);
    assert_eq!(again.txid, done.txid);
    assert_eq!(again.journal, None);
    assert!(!journal.exists());
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_whose_answer_was_lost_is_found_in_the_wallet_and_not_sent_again() {
    let w = World::new("lost-answer").await;
    // The node broadcasts, then tears the connection down: no txid.
    w.sandbox
        .push_node_fault("sendmany", NodeFault::DropAfterEffect);
    let (treasury, miner) = w.treasury();
    let journal = w.journal("d.json");
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
    assert!(miner.events().contains(&Event::Sent {
        txid: done.txid.clone(),
        found: true
    }));
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.distributed, 500);
    // As a real node, the wallet names each output by its unconfidential
    // address, not by the confidential one AMP gave: the search matched it
    // all the same.
    let journal = done.journal.unwrap();
    let record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&journal).unwrap()).unwrap();
    let planned: Vec<&str> = record["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["address"].as_str().unwrap())
        .collect();
    let details = w.node().transaction(&done.txid).await.unwrap().details;
    let named: Vec<&str> = details
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["address"].as_str())
        .collect();
    assert_eq!(planned.len(), 2);
    assert!(
        named.iter().all(|a| !planned.contains(a)),
        "{named:?} {planned:?}"
    );
}

/// Records when the job said it was sending (its intent written).
#[derive(Default)]
struct SendingAt(std::sync::Mutex<Option<chrono::DateTime<chrono::Utc>>>);

impl amp_elements::Progress for SendingAt {
    fn event(&self, event: &Event) {
        if *event == Event::Sending {
            *self.0.lock().unwrap() = Some(chrono::Utc::now());
        }
    }
}

// The node takes longer than the call's timeout: the job gives up on the
// answer with the send perhaps still under way. The grace before a resend
// runs from then, not from the intent, or a node slower than the timeout
// would find it used up; so even when the wallet search that follows fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_before_a_resend_runs_from_the_lost_answer() {
    let w = World::new("slow-node").await;
    let timeout = Duration::from_millis(300);
    w.sandbox
        .push_node_fault("sendmany", NodeFault::DelayBefore(Duration::from_secs(30)));
    let busy = amp_sandbox::RpcError::new(-1, "busy");
    w.sandbox
        .push_node_fault("listsinceblock", NodeFault::RpcError(busy));
    let node = amp_elements::ElementsRpc::builder(&w.sandbox.node_url_with_credentials())
        .connect_retries(1, Duration::from_millis(1), Duration::from_millis(1))
        .timeout(timeout)
        .build()
        .unwrap();
    let sending = std::sync::Arc::new(SendingAt::default());
    let treasury = amp_elements::Treasury::new(w.client.clone(), node)
        .options(common::quick())
        .progress(sending.clone());
    let journal = w.journal("d.json");
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Rpc { .. }), "the search failed: {e}");
    let sent_at = sending.0.lock().unwrap().expect("no Sending event");
    let kept = Journal::open(&journal).unwrap();
    let intent = kept.record().unwrap().intent.clone().unwrap();
    assert!(
        intent.at >= sent_at + chrono::Duration::from_std(timeout).unwrap(),
        "the grace runs from {}, the send began at {sent_at}",
        intent.at
    );
}

/// Puts a folder where the journal is the moment the job sends, so that
/// writing the txid fails.
struct BreaksJournal(std::path::PathBuf);

impl amp_elements::Progress for BreaksJournal {
    fn event(&self, event: &Event) {
        if *event == Event::Sending {
            std::fs::remove_file(&self.0).unwrap();
            std::fs::create_dir(&self.0).unwrap();
        }
    }
}

// The node sent the transaction and the journal cannot take its txid: the
// error names the txid, so it is not lost with the run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_txid_the_journal_cannot_take_is_in_the_error() {
    let w = World::new("full-disk").await;
    let journal = w.journal("d.json");
    let treasury = amp_elements::Treasury::new(w.client.clone(), w.node())
        .options(common::quick())
        .progress(std::sync::Arc::new(BreaksJournal(journal.clone())));
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Journal { .. }), "{e}");
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    let txid = e
        .to_string()
        .split(|c: char| !c.is_ascii_hexdigit())
        .find(|word| word.len() == 64)
        .map(str::to_string)
        .unwrap_or_else(|| panic!("no txid in: {e}"));
    w.node().transaction(&txid).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_never_reached_the_wallet_stops_keeping_the_intent_and_the_next_run_sends() {
    let w = World::new("torn").await;
    // The connection is torn before the node does anything.
    w.sandbox
        .push_node_fault("sendmany", NodeFault::DropConnection);
    let (treasury, _) = w.treasury();
    let journal = w.journal("d.json");
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Ambiguous { .. }), "{e}");
    assert!(e.to_string().contains("run the job again"), "{e}");
    let kept = Journal::open(&journal).unwrap();
    let record = kept.record().unwrap().clone();
    assert!(record.intent.is_some() && record.sent.is_none());
    drop(kept);
    // The next run searches the wallet since the intent, finds nothing, sends.
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert!(done.sent_now);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
    assert_eq!(w.sandbox.confirmations(&done.txid), Some(2));
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.distributed, 500);
}

/// Lands the node's held calls when the job says it waits for a late send,
/// and mines as the job waits for confirmations.
struct LandsLate {
    sandbox: std::sync::Arc<amp_sandbox::Sandbox>,
    miner: std::sync::Arc<common::Miner>,
    released: std::sync::atomic::AtomicUsize,
}

impl amp_elements::Progress for LandsLate {
    fn event(&self, event: &Event) {
        if let Event::WaitingForLateSend { .. } = event {
            let n = self.sandbox.release_held_node_calls();
            self.released
                .fetch_add(n, std::sync::atomic::Ordering::SeqCst);
        }
        self.miner.event(event);
    }
}

// The node is still working on the send when its client gives up: the
// transaction shows in the wallet only after the next run has first looked
// and found nothing. The next run waits out the grace, looks again, finds
// it, and sends nothing; without the grace it would send a second time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_that_lands_late_is_found_after_the_grace_and_not_sent_again() {
    let w = World::new("late").await;
    w.sandbox
        .push_node_fault("sendmany", NodeFault::DropAndHold);
    let (treasury, miner) = w.treasury();
    let journal = w.journal("d.json");
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Ambiguous { .. }), "{e}");
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    let lands = std::sync::Arc::new(LandsLate {
        sandbox: w.sandbox.clone(),
        miner: miner.clone(),
        released: std::sync::atomic::AtomicUsize::new(0),
    });
    let options = amp_elements::JobOptions {
        resend_grace: Duration::from_millis(200),
        ..common::quick()
    };
    let treasury = treasury.options(options).progress(lands.clone());
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert_eq!(lands.released.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(!done.sent_now);
    assert!(miner.events().contains(&Event::Sent {
        txid: done.txid.clone(),
        found: true
    }));
    assert_eq!(
        w.sandbox.node_count("sendmany"),
        1,
        "sent once, never again"
    );
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.distributed, 500);
}

// Two transactions in the wallet fit the job's intent (here: two runs
// without a grace each sent, and both landed late): the job cannot tell
// which is its own, so it stops, names both, sends nothing and confirms
// nothing, and the journal keeps the intent for the issuer to settle.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_transactions_that_fit_stop_the_job_and_are_named() {
    let w = World::new("ambiguous").await;
    let (treasury, _) = w.treasury();
    let journal = w.journal("d.json");
    for _ in 0..2 {
        w.sandbox
            .push_node_fault("sendmany", NodeFault::DropAndHold);
        let e = treasury
            .distribute(&w.asset_uuid, None, None, &journal)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Ambiguous { .. }), "{e}");
    }
    assert_eq!(w.sandbox.release_held_node_calls(), 2);
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Ambiguous { .. }), "{e}");
    assert!(e.to_string().contains("has 2 transactions that fit"), "{e}");
    // Both are named, and both are the wallet's.
    let message = e.to_string();
    let named: std::collections::BTreeSet<&str> = message
        .split(|c: char| !c.is_ascii_hexdigit())
        .filter(|word| word.len() == 64)
        .collect();
    assert_eq!(named.len(), 2, "{e}");
    for txid in named {
        w.node().transaction(txid).await.unwrap();
    }
    assert_eq!(w.sandbox.node_count("sendmany"), 2, "nothing more sent");
    assert_eq!(w.sandbox.count("POST", CONFIRM), 0, "nothing confirmed");
    let kept = Journal::open(&journal).unwrap();
    let record = kept.record().unwrap();
    assert!(record.intent.is_some() && record.sent.is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_checks_send_nothing_and_say_which() {
    let w = World::new("checks").await;
    let (treasury, _) = w.treasury();
    let journal = w.journal("d.json");

    w.sandbox.set_wallet_locked(true);
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(
        matches!(
            e,
            Error::Check {
                check: "wallet unlocked",
                ..
            }
        ),
        "{e}"
    );
    w.sandbox.set_wallet_locked(false);

    assert!(w
        .client
        .distributions(&w.asset_uuid)
        .list()
        .await
        .unwrap()
        .is_empty());

    // Insufficient funds: the node refuses; nothing sent, the intent goes,
    // the plan stays.
    w.sandbox
        .push_node_fault("sendmany", NodeFault::insufficient_funds());
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert_eq!(e.rpc_kind(), Some(RpcErrorKind::InsufficientFunds), "{e}");
    let record = Journal::open(&journal).unwrap().record().cloned().unwrap();
    assert!(record.intent.is_none() && record.sent.is_none());
    let d = record.distribution_uuid.unwrap();

    // The node down: never reached.
    w.sandbox.set_node_down(true).await.unwrap();
    let e = treasury
        .distribute(&w.asset_uuid, Some(&d), None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Unreachable { .. }), "{e}");
    w.sandbox.set_node_down(false).await.unwrap();

    // Another distribution than the journal's is refused.
    let e = treasury
        .distribute(&w.asset_uuid, Some("other"), None, &journal)
        .await
        .unwrap_err();
    assert!(e.is_usage() && e.to_string().contains(&d), "{e}");

    // No transaction was made by any of these; the journal's one goes through.
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert_eq!(done.distribution_uuid.as_deref(), Some(d.as_str()));
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.distributed, 500);
}

// A distribution planned, never sent, then cancelled at AMP: the job
// forgets it (its journal would otherwise hold it, and refuse every other
// distribution, for ever), and the next run carries out a new one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_distribution_is_forgotten() {
    let w = World::new("cancelled").await;
    let (treasury, _) = w.treasury();
    let journal = w.journal("d.json");
    w.sandbox
        .push_node_fault("sendmany", NodeFault::insufficient_funds());
    treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    let kept = Journal::open(&journal).unwrap();
    let d = kept.record().unwrap().distribution_uuid.clone().unwrap();
    drop(kept);
    // A 404 of a distribution that AMP still lists is the read failing,
    // not a cancel: said, and the plan kept.
    w.sandbox.push_fault(
        "/assets/{assetUuid}/distributions/{distributionUuid}",
        amp_sandbox::Fault::Status(404),
    );
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Amp(_)), "{e}");
    assert!(journal.exists());
    w.client
        .distributions(&w.asset_uuid)
        .cancel(&d)
        .await
        .unwrap();
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Check { .. }), "{e}");
    assert!(e.to_string().contains("cancelled"), "{e}");
    assert!(!journal.exists(), "the cancelled plan is still kept");
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert_ne!(done.distribution_uuid.as_deref(), Some(d.as_str()));
    assert!(done.sent_now);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_waiting_distribution_is_named_instead_of_creating_another() {
    let w = World::new("waiting").await;
    let plan = w
        .client
        .distributions(&w.asset_uuid)
        .create()
        .await
        .unwrap();
    let (treasury, _) = w.treasury();
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &w.journal("d.json"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains(&plan.distribution_uuid), "{e}");
    assert_eq!(w.sandbox.node_count("sendmany"), 0);
    // Given its uuid, its outputs are read from AMP's assignments.
    let done = treasury
        .distribute(
            &w.asset_uuid,
            Some(&plan.distribution_uuid),
            None,
            &w.journal("d.json"),
        )
        .await
        .unwrap();
    assert_eq!(done.distribution_uuid, Some(plan.distribution_uuid));
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
}

// A distribution the journal did not create, already paid by the wallet and
// not confirmed (the official script died before its confirm, or a run's
// journal is gone): named with its transaction, and not paid twice, whether
// it is given by its uuid or by its request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distribution_paid_elsewhere_is_not_paid_again() {
    let w = World::new("elsewhere").await;
    let (treasury, _) = w.treasury();
    let plan = w
        .client
        .distributions(&w.asset_uuid)
        .create()
        .await
        .unwrap();
    let d = plan.distribution_uuid.clone();
    let paid = w
        .node()
        .send_many(&plan.map_address_amount, &plan.map_address_asset)
        .await
        .unwrap();
    for (uuid, request) in [(Some(d.as_str()), None), (None, Some(plan.clone()))] {
        let e = treasury
            .distribute(&w.asset_uuid, uuid, request, &w.journal("d.json"))
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Ambiguous { .. }), "{e}");
        assert!(e.to_string().contains(&paid), "{e}");
        assert!(!w.journal("d.json").exists());
    }
    assert_eq!(w.sandbox.node_count("sendmany"), 1, "paid once");
    assert_eq!(w.sandbox.count("POST", CONFIRM), 0);
}

// An earlier distribution of the same amounts to the same addresses, which
// AMP recorded, is not taken for the next one: that one is paid.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_distribution_of_the_same_outputs_does_not_stop_the_next() {
    let w = World::new("same-again").await;
    let (treasury, _) = w.treasury();
    let first = treasury
        .distribute(&w.asset_uuid, None, None, &w.journal("d.json"))
        .await
        .unwrap();
    let users = w.client.registered_users().list().await.unwrap();
    assert_eq!(users.len(), 2);
    for (user, amount) in users.iter().zip([300, 200]) {
        let assignment =
            amp_client::model::NewAssignment::new(user.id, amount).ready_for_distribution(true);
        let assignments = w.client.assignments(&w.asset_uuid);
        assignments.create(&assignment).await.unwrap();
    }
    let again = w
        .client
        .distributions(&w.asset_uuid)
        .create()
        .await
        .unwrap();
    let second = treasury
        .distribute(
            &w.asset_uuid,
            Some(&again.distribution_uuid),
            None,
            &w.journal("d.json"),
        )
        .await
        .unwrap();
    assert!(second.sent_now);
    assert_ne!(second.txid, first.txid);
    assert_eq!(w.sandbox.node_count("sendmany"), 2);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn not_confirmed_in_time_keeps_the_txid_and_the_next_run_goes_on_waiting() {
    let w = World::new("timeout").await;
    let journal = w.journal("d.json");
    let (slow, _) = w.treasury_without_blocks(Duration::from_millis(30));
    let e = slow
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    let Error::NotConfirmed {
        txid,
        confirmations,
        ..
    } = &e
    else {
        panic!("{e}")
    };
    assert_eq!(*confirmations, 0);
    assert!(e.to_string().contains("will not send again"), "{e}");
    let (treasury, miner) = w.treasury();
    let done = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap();
    assert_eq!(&done.txid, txid);
    assert!(!done.sent_now);
    assert!(miner.events().contains(&Event::Resumed { phase: "sent" }));
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
}

// AMP accepts a confirm, but its read-back lags (the reissuance is not
// listed yet): the run stops, and the next one, still not seeing it, does
// not post the confirm a second time. Once AMP lists it, the job closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_amp_accepted_is_never_posted_twice() {
    const LIST: &str = "/assets/{assetUuid}/reissuances";
    const POSTED: &str = "/assets/{assetUuid}/reissue-confirm";
    let w = World::new("lagging").await;
    let (treasury, _) = w.treasury();
    let journal = journal_path(&w.dir.0, JobKind::Reissue, &w.asset_uuid);
    // The read before the confirm passes; the next three list nothing.
    w.sandbox
        .push_fault(LIST, amp_sandbox::Fault::Delay(Duration::ZERO));
    for _ in 0..3 {
        w.sandbox
            .push_fault(LIST, amp_sandbox::Fault::Body(200, "[]".into()));
    }
    for run in ["the first", "the second"] {
        let e = treasury
            .reissue(&w.asset_uuid, 5_000, &journal)
            .await
            .unwrap_err();
        assert!(matches!(e, Error::Ambiguous { .. }), "{run}: {e}");
        assert!(e.to_string().contains("not posted again"), "{run}: {e}");
        assert_eq!(w.sandbox.count("POST", POSTED), 1, "{run}");
    }
    let done = treasury
        .reissue(&w.asset_uuid, 5_000, &journal)
        .await
        .unwrap();
    assert!(done.already_confirmed);
    assert_eq!(w.sandbox.count("POST", POSTED), 1);
    assert_eq!(w.sandbox.node_count("reissueasset"), 1);
}

// AMP has the distribution confirmed with one transaction, and the journal
// holds another (two tools paid it, say): the job stops, names both, and
// confirms and sends nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distribution_confirmed_with_another_transaction_stops_the_job() {
    let w = World::new("two-payments").await;
    let (treasury, _) = w.treasury();
    let node = w.node();
    let plan = w
        .client
        .distributions(&w.asset_uuid)
        .create()
        .await
        .unwrap();
    let d = plan.distribution_uuid.clone();
    let (amounts, assets) = (&plan.map_address_amount, &plan.map_address_asset);
    let theirs = node.send_many(amounts, assets).await.unwrap();
    w.sandbox.mine(2);
    let details = node.transaction(&theirs).await.unwrap().details;
    let asset_id = plan.asset_id.clone().unwrap();
    let change: Vec<serde_json::Value> = node
        .list_unspent()
        .await
        .unwrap()
        .into_iter()
        .filter(|u| u["txid"] == theirs.as_str() && u["asset"] == asset_id.as_str())
        .collect();
    let confirmation = amp_client::model::TxConfirmation::new(&theirs)
        .details(details)
        .change(change);
    let distributions = w.client.distributions(&w.asset_uuid);
    distributions.confirm(&d, &confirmation).await.unwrap();
    let ours = node.send_many(amounts, assets).await.unwrap();

    let journal = w.journal("d.json");
    let mut record = amp_elements::journal::Record::new(
        JobKind::Distribute,
        &w.asset_uuid,
        &asset_id,
        serde_json::to_value(&plan).unwrap(),
    );
    record.distribution_uuid = Some(d.clone());
    record.sent = Some(amp_elements::journal::Sent {
        txid: ours.clone(),
        vin: None,
        at: chrono::Utc::now(),
        from: "node".to_string(),
    });
    Journal::open(&journal).unwrap().write(record).unwrap();
    let e = treasury
        .distribute(&w.asset_uuid, None, None, &journal)
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Ambiguous { .. }), "{e}");
    let said = e.to_string();
    assert!(said.contains(&theirs) && said.contains(&ours), "{e}");
    assert_eq!(w.sandbox.node_count("sendmany"), 2);
    assert_eq!(w.sandbox.count("POST", CONFIRM), 1);
    assert!(journal.exists(), "the journal is kept for a person");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reissuance_and_a_burn_each_send_once_and_move_the_supply() {
    let w = World::new("supply").await;
    let (treasury, _) = w.treasury();
    let reissue = journal_path(&w.dir.0, JobKind::Reissue, &w.asset_uuid);
    let done = treasury
        .reissue(&w.asset_uuid, 5_000, &reissue)
        .await
        .unwrap();
    assert!(done.vin.is_some());
    assert_eq!(w.sandbox.node_count("reissueasset"), 1);
    assert_eq!(
        w.sandbox
            .count("POST", "/assets/{assetUuid}/reissue-confirm"),
        1
    );
    let listed = w.client.assets().reissuances(&w.asset_uuid).await.unwrap();
    assert!(listed.iter().any(|r| r.txid == done.txid));
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.reissued, 5_000);

    let burn = journal_path(&w.dir.0, JobKind::Burn, &w.asset_uuid);
    let burned = treasury.burn(&w.asset_uuid, 700, &burn).await.unwrap();
    assert_eq!(w.sandbox.node_count("destroyamount"), 1);
    assert_eq!(
        w.sandbox.count("POST", "/assets/{assetUuid}/burn-confirm"),
        1
    );
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.burned, 700);
    assert_ne!(burned.txid, done.txid);
    assert!(!reissue.exists() && !burn.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burn_whose_answer_was_lost_is_found_by_its_destroyed_amount() {
    let w = World::new("burn-lost").await;
    w.sandbox
        .push_node_fault("destroyamount", NodeFault::DropAfterEffect);
    let (treasury, miner) = w.treasury();
    let done = treasury
        .burn(&w.asset_uuid, 700, &w.journal("b.json"))
        .await
        .unwrap();
    assert!(miner.events().contains(&Event::Sent {
        txid: done.txid.clone(),
        found: true
    }));
    assert_eq!(w.sandbox.node_count("destroyamount"), 1);
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.burned, 700);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reissuance_whose_answer_was_lost_is_found_by_listissuances() {
    let w = World::new("reissue-lost").await;
    w.sandbox
        .push_node_fault("reissueasset", NodeFault::DropAfterEffect);
    let (treasury, _) = w.treasury();
    let done = treasury
        .reissue(&w.asset_uuid, 5_000, &w.journal("r.json"))
        .await
        .unwrap();
    assert!(done.vin.is_some());
    assert_eq!(w.sandbox.node_count("reissueasset"), 1);
    let summary = w.client.assets().summary(&w.asset_uuid).await.unwrap();
    assert_eq!(summary.reissued, 5_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burn_over_the_balance_is_refused_and_forgotten() {
    let w = World::new("burn-check").await;
    let (treasury, _) = w.treasury();
    let journal = w.journal("b.json");
    w.sandbox.set_wallet_locked(true);
    let e = treasury
        .burn(&w.asset_uuid, 700, &journal)
        .await
        .unwrap_err();
    assert!(e.is_check(), "{e}");
    assert!(
        !journal.exists(),
        "a reissue or burn that sent nothing starts afresh"
    );
    w.sandbox.set_wallet_locked(false);
    let e = treasury
        .reissue(&w.asset_uuid, 0, &journal)
        .await
        .unwrap_err();
    assert!(e.is_usage(), "{e}");
    assert_eq!(w.sandbox.node_count("destroyamount"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_blinders_gives_amp_the_issuance_blinders_once() {
    let w = World::new("blinders").await;
    let (treasury, miner) = w.treasury();
    let done = treasury.update_blinders(&w.asset_uuid).await.unwrap();
    assert_eq!(done.updated, vec![0, 1]);
    assert_eq!(
        w.sandbox
            .count("POST", "/assets/{assetUuid}/update-blinders"),
        2
    );
    assert!(miner
        .events()
        .iter()
        .any(|e| matches!(e, Event::BlindersUpdated { vout: 1, .. })));
    let again = treasury.update_blinders(&w.asset_uuid).await.unwrap();
    assert!(again.updated.is_empty());
    assert_eq!(
        w.sandbox
            .count("POST", "/assets/{assetUuid}/update-blinders"),
        2
    );
}
