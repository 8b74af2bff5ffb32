//! Never twice: a real `amp assets distribute | reissue | burn` process is
//! killed (SIGKILL) at each point of its job while the sandbox's node or AMP
//! holds back an answer (an injected delay), then the same command is run
//! again. It must finish the job with exactly one transaction at the node
//! and one confirm at AMP, and the figures right.
//!
//! The points: before the send (the wallet-lock check held), after the send
//! and before the txid is written (the send call's answer held after its
//! effect), while waiting for confirmations (`gettransaction` held), after
//! the confirmations and before AMP's confirm (the change listing held),
//! after AMP's confirm (AMP's read-back held). The test awaits the held call
//! (`Sandbox::node_called`, `Sandbox::faults_taken`), never sleeps for it.
//!
//! And two cases around a distribution being sent: a second process of the
//! same job started meanwhile (refused, sends nothing), and a run killed
//! there whose journal is then lost (the next run, given the distribution's
//! uuid, finds the payment in the wallet and stops); and a reissuance or burn
//! killed after its send whose journal is lost (the next run's checks refuse
//! AMP's new request: the outputs it names were spent).

use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::Duration;

use amp_client::model::{IssueRequest, NewAssignment, NewRegisteredUser};
use amp_client::{AmpClient, Config};
use amp_elements::journal::Record;
use amp_sandbox::{Fault, NodeFault, Sandbox};

use super::support::{gaid, Env, Run, TempDir};

/// How long a held answer is held: far longer than any test.
const HOLD: Duration = Duration::from_secs(120);

/// The job under test.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Job {
    Distribute,
    Reissue,
    Burn,
}

/// Where the first run is killed: while the node holds its answer to the
/// `skip + 1`-th call of a method, or AMP the `skip + 1`-th request of a route.
#[derive(Clone, Copy, Debug)]
enum Hold {
    Node(&'static str, usize),
    Amp(&'static str, usize),
}

impl Job {
    fn command(self) -> &'static str {
        match self {
            Job::Distribute => "distribute",
            Job::Reissue => "reissue",
            Job::Burn => "burn",
        }
    }

    /// The node call that sends the transaction.
    fn send_method(self) -> &'static str {
        match self {
            Job::Distribute => "sendmany",
            Job::Reissue => "reissueasset",
            Job::Burn => "destroyamount",
        }
    }

    /// AMP's confirm route.
    fn confirm_route(self) -> &'static str {
        match self {
            Job::Distribute => "/assets/{assetUuid}/distributions/{distributionUuid}/confirm",
            Job::Reissue => "/assets/{assetUuid}/reissue-confirm",
            Job::Burn => "/assets/{assetUuid}/burn-confirm",
        }
    }

    /// The five points of the job.
    fn points(self) -> [(&'static str, Hold); 5] {
        let (before_confirm, read_back) = match self {
            // `listunspent` is first called for the change; AMP's
            // distribution is read at the start, before the confirm and after.
            Job::Distribute => (
                Hold::Node("listunspent", 0),
                Hold::Amp("/assets/{assetUuid}/distributions/{distributionUuid}", 2),
            ),
            // `listissuances` is first called for the confirm body; the
            // reissuances are read before the confirm and after.
            Job::Reissue => (
                Hold::Node("listissuances", 0),
                Hold::Amp("/assets/{assetUuid}/reissuances", 1),
            ),
            // `listunspent` checks the outputs first, then gives the change.
            Job::Burn => (
                Hold::Node("listunspent", 1),
                Hold::Amp("/assets/{assetUuid}/txs", 1),
            ),
        };
        [
            (
                "before the send",
                Hold::Node("signmessage", self.checks_before()),
            ),
            (
                "after the send, before the txid is written",
                Hold::Node(self.send_method(), 0),
            ),
            (
                "while waiting for confirmations",
                Hold::Node("gettransaction", 0),
            ),
            (
                "after the confirmations, before AMP's confirm",
                before_confirm,
            ),
            ("after AMP's confirm", read_back),
        ]
    }

    /// Wallet-lock probes before the one just before the send: a new
    /// distribution checks the node once before creating it.
    fn checks_before(self) -> usize {
        usize::from(self == Job::Distribute)
    }
}

/// A sandbox whose node mines a block every 10 ms, an asset (reissuable)
/// with two ready assignments, and `amp`'s environment.
struct World {
    sandbox: Sandbox,
    client: AmpClient,
    asset: String,
    home: TempDir,
}

impl World {
    async fn new(name: &str) -> World {
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
                name: "Crash Bond".into(),
                amount: 1_000_000,
                destination_address: "treasury".into(),
                domain: "issuer.example".into(),
                ticker: "CRSH".into(),
                pubkey: "02".to_string() + &"cd".repeat(32),
                is_reissuable: Some(true),
                reissuance_amount: Some(1),
                ..IssueRequest::default()
            })
            .await
            .unwrap();
        for (n, amount) in [(1, 300), (2, 200)] {
            let user = client
                .registered_users()
                .add(&NewRegisteredUser::new(format!("User {n}")).gaid(gaid(n)))
                .await
                .unwrap();
            client
                .assignments(&issued.asset_uuid)
                .create(&NewAssignment::new(user.id, amount).ready_for_distribution(true))
                .await
                .unwrap();
        }
        World {
            sandbox,
            client,
            asset: issued.asset_uuid,
            home: TempDir::new(name),
        }
    }

    /// The node's URL, with its password, in the environment: never on a
    /// command line (`ps` shows it to everyone).
    fn env(&self) -> Env {
        Env::sandbox(&self.home, &self.sandbox)
            .set("AMP_NODE_URL", &self.sandbox.node_url_with_credentials())
    }

    fn journal(&self) -> std::path::PathBuf {
        self.home.path().join("jobs").join("job.json")
    }

    fn args(&self, job: Job) -> Vec<String> {
        let mut args = vec![
            "assets".to_string(),
            job.command().to_string(),
            self.asset.clone(),
        ];
        if job != Job::Distribute {
            args.extend(["--amount".to_string(), "700".to_string()]);
        }
        args.extend([
            "--journal".to_string(),
            self.journal().display().to_string(),
            "--poll-interval-ms".to_string(),
            "5".to_string(),
        ]);
        args
    }

    /// Queues the hold: `skip` answers pass, the next is held.
    fn hold(&self, hold: Hold) {
        match hold {
            Hold::Node(method, skip) => {
                for _ in 0..skip {
                    self.sandbox
                        .push_node_fault(method, NodeFault::DelayAfter(Duration::ZERO));
                }
                self.sandbox
                    .push_node_fault(method, NodeFault::DelayAfter(HOLD));
            }
            Hold::Amp(route, skip) => {
                for _ in 0..skip {
                    self.sandbox.push_fault(route, Fault::Delay(Duration::ZERO));
                }
                self.sandbox.push_fault(route, Fault::Delay(HOLD));
            }
        }
    }

    /// Awaits the moment the held call or request arrived.
    async fn held(&self, hold: Hold) {
        match hold {
            Hold::Node(method, skip) => self.sandbox.node_called(method, skip as u64 + 1).await,
            Hold::Amp(_, skip) => self.sandbox.faults_taken(skip as u64 + 1).await,
        }
    }
}

/// Runs `job`, kills it at `hold`, runs it again; checks that the job was
/// done once.
async fn crash_and_finish(job: Job, point: &str, hold: Hold) {
    let w = World::new(&format!("crash-{}", job.command())).await;
    w.hold(hold);
    let args = w.args(job);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = w
        .env()
        .command(&argv)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let held = tokio::time::timeout(Duration::from_secs(60), w.held(hold)).await;
    child.kill().unwrap();
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let first = Run::from(output.clone());
    assert!(
        held.is_ok(),
        "{job:?} {point}: the held call never came: {first:?}"
    );
    assert_eq!(
        output.status.signal(),
        Some(9),
        "{job:?} {point}: killed mid-job: {first:?}"
    );

    // The journal the killed run left says where it was.
    let record: Record = serde_json::from_slice(&std::fs::read(w.journal()).unwrap()).unwrap();
    let phase = match (&record.intent, &record.sent) {
        (None, None) => "planned",
        (Some(_), None) => "intent",
        (_, Some(_)) => "sent",
    };
    let expected_phase = match point_index(job, point) {
        0 => "planned",
        1 => "intent",
        _ => "sent",
    };
    assert_eq!(phase, expected_phase, "{job:?} {point}: {record:?}");

    let second = w.env().run(&argv).await;
    assert_eq!(second.code, 0, "{job:?} {point}: {second:?}");
    // … and the second run took it up from there.
    let said = match point_index(job, point) {
        0 => "intent written; sending the transaction",
        1 => "in the wallet (sent by an earlier run)",
        2 | 3 => "(it got as far as: sent)",
        _ => "confirmed already",
    };
    assert!(
        second.stderr.contains(said),
        "{job:?} {point}: {said:?}: {second:?}"
    );
    let sent = w.sandbox.node_count(job.send_method());
    assert_eq!(
        sent,
        1,
        "{job:?} {point}: one {}: {second:?}",
        job.send_method()
    );
    assert_eq!(
        w.sandbox.count("POST", job.confirm_route()),
        1,
        "{job:?} {point}: one confirm at AMP: {second:?}"
    );
    let summary = w.client.assets().summary(&w.asset).await.unwrap();
    match job {
        Job::Distribute => {
            assert_eq!(summary.distributed, 500, "{job:?} {point}");
            let all = w.client.assignments(&w.asset).list().await.unwrap();
            assert!(all.iter().all(|a| a.is_distributed), "{job:?} {point}");
        }
        Job::Reissue => assert_eq!(summary.reissued, 700, "{job:?} {point}"),
        Job::Burn => assert_eq!(summary.burned, 700, "{job:?} {point}"),
    }
    // The journal is closed; a done record is kept.
    let jobs = w.journal().parent().unwrap().to_path_buf();
    assert!(!w.journal().exists(), "{job:?} {point}");
    let kept: Vec<String> = std::fs::read_dir(&jobs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("job.done-"))
        .collect();
    assert_eq!(kept.len(), 1, "{job:?} {point}: {kept:?}");
}

/// The point's place in the job, 0 to 4.
fn point_index(job: Job, point: &str) -> usize {
    job.points()
        .iter()
        .position(|(p, _)| *p == point)
        .unwrap_or(usize::MAX)
}

async fn every_point(job: Job) {
    for (point, hold) in job.points() {
        crash_and_finish(job, point, hold).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distribution_killed_at_any_point_finishes_with_one_sendmany_and_one_confirm() {
    every_point(Job::Distribute).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reissue_killed_at_any_point_finishes_with_one_reissueasset_and_one_confirm() {
    every_point(Job::Reissue).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burn_killed_at_any_point_finishes_with_one_destroyamount_and_one_confirm() {
    every_point(Job::Burn).await;
}

/// Starts `argv` and awaits the moment `hold` is reached; the child is the
/// caller's to kill.
async fn started_and_held(w: &World, argv: &[&str], hold: Hold) -> std::process::Child {
    w.hold(hold);
    let child = w
        .env()
        .command(argv)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let held = tokio::time::timeout(Duration::from_secs(60), w.held(hold)).await;
    assert!(held.is_ok(), "the held call never came");
    child
}

/// Kills `child` and awaits its end.
async fn killed(mut child: std::process::Child) {
    child.kill().unwrap();
    let status = tokio::task::spawn_blocking(move || child.wait()).await;
    assert_eq!(status.unwrap().unwrap().signal(), Some(9));
}

// A second process of the same job, started while the first is sending: told
// that another process runs it, and sends nothing. Once the first is killed,
// the next run finishes the job with the first's transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_process_of_the_same_job_sends_nothing() {
    let w = World::new("crash-busy").await;
    let args = w.args(Job::Distribute);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = started_and_held(&w, &argv, Hold::Node("sendmany", 0)).await;
    let second = w.env().run(&argv).await;
    assert_ne!(second.code, 0, "{second:?}");
    assert!(
        second
            .stderr
            .contains("another process is running this job"),
        "{second:?}"
    );
    assert_eq!(w.sandbox.node_count("sendmany"), 1);
    killed(first).await;
    let third = w.env().run(&argv).await;
    assert_eq!(third.code, 0, "{third:?}");
    assert_eq!(w.sandbox.node_count("sendmany"), 1, "{third:?}");
    let confirm = Job::Distribute.confirm_route();
    assert_eq!(w.sandbox.count("POST", confirm), 1);
}

// The run dies after the node sent the distribution, and its journal is lost
// (deleted, or the next run given another folder). Run again with the
// distribution's uuid: the wallet already pays every output of it and AMP
// has no record of that payment, so the job stops, naming it, and sends
// nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_distribution_whose_journal_is_lost_after_the_send_is_not_paid_again() {
    let w = World::new("crash-lost-journal").await;
    let args = w.args(Job::Distribute);
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let first = started_and_held(&w, &argv, Hold::Node("sendmany", 0)).await;
    killed(first).await;
    let record: Record = serde_json::from_slice(&std::fs::read(w.journal()).unwrap()).unwrap();
    let d = record.distribution_uuid.unwrap();
    std::fs::remove_file(w.journal()).unwrap();

    let mut args = args.clone();
    args.insert(3, d.clone());
    let argv: Vec<&str> = args.iter().map(String::as_str).collect();
    let again = w.env().run(&argv).await;
    assert_ne!(again.code, 0, "{again:?}");
    assert!(
        again
            .stderr
            .contains(&format!("paying every output of distribution {d}")),
        "{again:?}"
    );
    assert_eq!(w.sandbox.node_count("sendmany"), 1, "paid once: {again:?}");
    let confirm = Job::Distribute.confirm_route();
    assert_eq!(w.sandbox.count("POST", confirm), 0);
}

// A reissuance or burn killed after its send, its journal then lost: the
// next run asks AMP afresh, and AMP's request names the outputs it knows of,
// which the sent transaction spent (or AMP reports them lost): the checks
// before the send refuse, and nothing is reissued or burned twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_supply_job_whose_journal_is_lost_after_the_send_is_not_sent_again() {
    for job in [Job::Reissue, Job::Burn] {
        let w = World::new(&format!("crash-lost-{}", job.command())).await;
        let args = w.args(job);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let first = started_and_held(&w, &argv, Hold::Node(job.send_method(), 0)).await;
        killed(first).await;
        std::fs::remove_file(w.journal()).unwrap();
        let again = w.env().run(&argv).await;
        assert_ne!(again.code, 0, "{job:?}: {again:?}");
        assert!(
            again.stderr.contains("nothing was sent"),
            "{job:?}: {again:?}"
        );
        assert_eq!(
            w.sandbox.node_count(job.send_method()),
            1,
            "{job:?}: sent once: {again:?}"
        );
    }
}
