//! A token file shared between runs, as users live it: the real `amp` binary with a token
//! file shared between runs (`AMP_TOKEN_STORE=file:…`, as in a shell
//! profile), against sandboxes started here.
//!
//! * a token goes only to the account it was issued for: another API root,
//!   another user, or a version-1 file (no account) never gets it sent,
//!   each switch costs one login, and the warning names both accounts;
//! * a renewal lock held by another process never keeps `amp` past its
//!   timeouts;
//! * a token file open to others heals: set aside, one login, a private
//!   file; one of another user stays refused and untouched.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use amp_client::model::NewManager;
use amp_client::{AmpClient, Config, StoreSpec};
use amp_sandbox::Sandbox;
use serde_json::Value;

use crate::support::{Env, Run, TempDir};

const OBTAIN: &str = "/user/obtain_token";

/// The token the file at `path` holds.
fn stored_token(path: &Path) -> String {
    let form: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    form["token"].as_str().unwrap().to_string()
}

/// Every `Authorization` header `sandbox` received, oldest first.
fn authorizations(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .stats()
        .requests
        .into_iter()
        .filter_map(|r| r.authorization)
        .collect()
}

/// The lines of `run`'s stderr that hold `needle`.
fn lines_with<'a>(run: &'a Run, needle: &str) -> Vec<&'a str> {
    run.stderr.lines().filter(|l| l.contains(needle)).collect()
}

/// Asserts that neither output of `run` holds any of `secrets`.
#[track_caller]
fn no_secret(run: &Run, secrets: &[&str]) {
    for secret in secrets {
        assert!(
            !run.stdout.contains(secret) && !run.stderr.contains(secret),
            "a secret in the output: {run:?}"
        );
    }
}

/// Two local AMP servers, one token file, `amp api GET
/// assets/` against each in turn. The second server never receives the
/// first one's token (its request records show every header it got), each
/// switch costs one login, and the warning names both accounts, never a
/// secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_token_file_never_sends_a_servers_token_to_another() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start().await.unwrap();
    let home = TempDir::new("two-servers");
    let file = home.path().join("token.json");
    let spec = format!("file:{}", file.display());
    let env_a = Env::sandbox(&home, &a).set("AMP_TOKEN_STORE", &spec);
    let env_b = Env::sandbox(&home, &b).set("AMP_TOKEN_STORE", &spec);
    let account = |s: &Sandbox| amp_client::account_name(&s.base_url(), s.username());

    env_a.run(&["api", "GET", "assets/"]).await.ok();
    let token_a = stored_token(&file);
    assert_eq!(a.count("POST", OBTAIN), 1);

    let run = env_b.run(&["api", "GET", "assets/"]).await.ok();
    let token_b = stored_token(&file);
    assert_ne!(token_a, token_b);
    assert_eq!(b.count("POST", OBTAIN), 1, "one login for the switch");
    assert!(
        !authorizations(&b).iter().any(|h| h.contains(&token_a)),
        "the second server received the first one's token: {:?}",
        authorizations(&b)
    );
    let warning = lines_with(&run, "not this account's");
    assert_eq!(warning.len(), 1, "said once: {run:?}");
    assert!(
        warning[0].contains(&account(&a)) && warning[0].contains(&account(&b)),
        "the warning names both accounts: {run:?}"
    );
    no_secret(&run, &[&token_a, &token_b, a.password()]);

    // Back and forth: one login per switch, never the other's token.
    env_a.run(&["api", "GET", "assets/"]).await.ok();
    env_b.run(&["api", "GET", "assets/"]).await.ok();
    assert_eq!(a.count("POST", OBTAIN), 2);
    assert_eq!(b.count("POST", OBTAIN), 2);
    // A run with nothing switched reuses the file: no login.
    env_b.run(&["api", "GET", "assets/"]).await.ok();
    assert_eq!(b.count("POST", OBTAIN), 2);
    let b_tokens: Vec<String> = authorizations(&b);
    let a_tokens: Vec<String> = authorizations(&a);
    assert!(
        b_tokens.iter().all(|h| !a_tokens.contains(h)),
        "no header of one server reached the other: {a_tokens:?} {b_tokens:?}"
    );
}

/// The same with `AMP_USERNAME` switched on one server: the issuer's token
/// in the file is never sent for the manager, who logs in once and gets an
/// answer as itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_switched_username_never_gets_the_other_users_token() {
    let sandbox = Sandbox::start().await.unwrap();
    let issuer = AmpClient::new(
        Config::builder()
            .base_url(sandbox.base_url())
            .credentials(sandbox.username(), sandbox.password())
            .token_store(StoreSpec::Memory)
            .build()
            .unwrap(),
    )
    .unwrap();
    let manager = issuer
        .managers()
        .create(&NewManager::new(
            "fund-manager",
            "a long manager passphrase",
        ))
        .await
        .unwrap();
    issuer.managers().unlock(manager.id).await.unwrap();

    let home = TempDir::new("switched-user");
    let file = home.path().join("token.json");
    let env =
        Env::sandbox(&home, &sandbox).set("AMP_TOKEN_STORE", &format!("file:{}", file.display()));
    env.run(&["api", "GET", "assets/"]).await.ok();
    let issuer_token = stored_token(&file);
    let logins = sandbox.count("POST", OBTAIN);
    let before = sandbox.stats().requests.len();

    let as_manager = env
        .clone()
        .set("AMP_USERNAME", "fund-manager")
        .set("AMP_PASSWORD", "a long manager passphrase");
    let run = as_manager.json(&["api", "GET", "managers/me"]).await;
    assert_eq!(
        run["username"], "fund-manager",
        "answered as the manager: {run}"
    );
    assert_eq!(sandbox.count("POST", OBTAIN), logins + 1, "one login");
    let after: Vec<_> = sandbox.stats().requests[before..]
        .iter()
        .filter_map(|r| r.authorization.clone())
        .collect();
    assert!(!after.is_empty());
    assert!(
        after.iter().all(|h| !h.contains(&issuer_token)),
        "the issuer's token went out for the manager: {after:?}"
    );
    let run = as_manager.run(&["api", "GET", "managers/me"]).await.ok();
    assert_eq!(
        sandbox.count("POST", OBTAIN),
        logins + 1,
        "then the file serves the manager"
    );
    no_secret(&run, &[&issuer_token, sandbox.password()]);
    // The warning of the switch named both accounts.
    let back = env.run(&["api", "GET", "assets/"]).await.ok();
    let warning = lines_with(&back, "not this account's");
    assert_eq!(warning.len(), 1, "{back:?}");
    let root = sandbox.base_url();
    assert!(
        warning[0].contains(&format!("fund-manager at {root}"))
            && warning[0].contains(&format!("{} at {root}", sandbox.username())),
        "{back:?}"
    );
}

/// A version-1 file (written before tokens carried their account) could be
/// any account's: set aside, not sent, and replaced by a version-2 file
/// naming the account, at the cost of one login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_version_1_token_file_is_not_trusted() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("version-1");
    let file = home.path().join("token.json");
    // A token the sandbox would accept, in the old form.
    let old = sandbox.issue_token();
    let now = chrono::Utc::now();
    let form = format!(
        r#"{{"version":1,"token":"{old}","obtained_at":"{}","expires_at":"{}"}}"#,
        now.to_rfc3339(),
        (now + chrono::Duration::hours(20)).to_rfc3339()
    );
    write_private(&file, form.as_bytes());
    let env =
        Env::sandbox(&home, &sandbox).set("AMP_TOKEN_STORE", &format!("file:{}", file.display()));
    let run = env.run(&["api", "GET", "assets/"]).await.ok();
    assert_eq!(sandbox.count("POST", OBTAIN), 1);
    assert!(
        authorizations(&sandbox).iter().all(|h| !h.contains(&old)),
        "the version-1 token was sent"
    );
    assert!(run.stderr.contains("version 1"), "{run:?}");
    no_secret(&run, &[&old, sandbox.password()]);
    let form: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(form["version"], 2);
    assert_eq!(
        form["account"],
        amp_client::account_name(&sandbox.base_url(), sandbox.username())
    );
    let aside: Vec<PathBuf> = std::fs::read_dir(home.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("token.json.corrupt-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
}

/// Writes `bytes` to `path` with mode 0600, as the store would.
fn write_private(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// Another process holding `<path>.lock` (a stopped `amp`, say)
/// made `amp api GET assets/` print its answer at 1.6 s and exit at 24.7 s,
/// when the holder let go: the thread waiting in `flock` kept the runtime
/// from shutting down. With timeouts of about a second it now answers and
/// exits within them, the lock still held.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_renewal_lock_never_keeps_amp_past_its_timeouts() {
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("held-lock");
    let file = home.path().join("token.json");
    let mut lock_path = file.clone().into_os_string();
    lock_path.push(".lock");
    let holder = {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options.open(&lock_path).unwrap()
    };
    // This test process is the other process: it holds the lock.
    holder.lock().unwrap();
    let env = Env::sandbox(&home, &sandbox)
        .set("AMP_TOKEN_STORE", &format!("file:{}", file.display()))
        .set("API_REQUEST_TIMEOUT_SECONDS", "1")
        .set("API_RETRY_MAX_ATTEMPTS", "1")
        .set("API_RETRY_MAX_DELAY_MS", "100");
    let started = Instant::now();
    let mut cmd = env.command(&["api", "GET", "assets/"]);
    cmd.stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().unwrap();
    let pid = child.id();
    let waited = tokio::task::spawn_blocking(move || child.wait_with_output());
    // The holder lets go after 30 s at most, so that a regression fails
    // instead of hanging.
    let output = match tokio::time::timeout(Duration::from_secs(30), waited).await {
        Ok(output) => output.unwrap().unwrap(),
        Err(_) => {
            holder.unlock().unwrap();
            panic!("amp (pid {pid}) was still running after 30 s, the lock held");
        }
    };
    let took = started.elapsed();
    drop(holder);
    let run = Run::from(output).ok();
    assert!(
        run.stdout.starts_with('['),
        "the answer was printed: {run:?}"
    );
    // The renewal waits for the lock up to half its limit: (1 s + 0.1 s) × 2 / 2.
    assert!(
        took < Duration::from_secs(10),
        "exited after {took:?}: {run:?}"
    );
    assert!(run.stderr.contains("renewal lock"), "{run:?}");
    assert_eq!(sandbox.count("POST", OBTAIN), 1);
}

/// A token file of ours open to others (0644) was refused, and
/// every run logged in anew until someone ran `chmod`. Now the first run
/// that finds it sets it aside (0600), says so once, logs in and writes a
/// private file, which the next run uses without a login. `amp token clear`
/// removes the set-aside file and other leftovers with the token file.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_file_open_to_others_heals_and_clear_removes_leftovers() {
    use std::os::unix::fs::PermissionsExt;
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("heals");
    let file = home.path().join("tokens").join("amp.json");
    let dir = file.parent().unwrap().to_path_buf();
    let env =
        Env::sandbox(&home, &sandbox).set("AMP_TOKEN_STORE", &format!("file:{}", file.display()));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    env.run(&["token", "login"]).await.ok();
    let exposed = stored_token(&file);
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
    let exposed_bytes = std::fs::read(&file).unwrap();

    let run = env.run(&["assets", "list"]).await.ok();
    assert_eq!(
        lines_with(&run, "open to others").len(),
        1,
        "said once: {run:?}"
    );
    assert!(run.stderr.contains("0644"), "{run:?}");
    assert_eq!(sandbox.count("POST", OBTAIN), 2, "one login");
    assert!(
        !authorizations(&sandbox).last().unwrap().contains(&exposed),
        "the exposed token is never used"
    );
    assert_eq!(mode(&file), 0o600);
    assert_ne!(stored_token(&file), exposed);
    let aside: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains("amp.json.exposed-"))
        .collect();
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(std::fs::read(&aside[0]).unwrap(), exposed_bytes);
    assert_eq!(mode(&aside[0]), 0o600);
    no_secret(&run, &[&exposed, sandbox.password()]);

    // Healed: the next run is quiet and logs in no more.
    let run = env.run(&["assets", "list"]).await.ok();
    assert!(lines_with(&run, "open to others").is_empty(), "{run:?}");
    assert_eq!(sandbox.count("POST", OBTAIN), 2);

    // Leftovers next to the file: set aside, a dead writer's temp file.
    let leftovers = [
        dir.join("amp.json.corrupt-1700000000000"),
        dir.join(".amp.json.tmp-4242-00ff00ff00ff00ff"),
    ];
    for p in &leftovers {
        write_private(p, &exposed_bytes);
    }
    env.run(&["token", "clear"]).await.ok();
    assert!(!file.exists());
    for p in leftovers.iter().chain(&aside) {
        assert!(!p.exists(), "{} removed by token clear", p.display());
    }
}

/// A token file of another user (here uid 65534, as root may make it) is
/// refused and left as it is, open to others or not: `amp` works from
/// memory (one login per run, with a warning naming the owner) and never
/// reads, moves or replaces it.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs root (chowns a file to another user): run as root with --ignored, as .ci/run does"]
async fn a_token_file_of_another_user_stays_refused_and_untouched() {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let sandbox = Sandbox::start().await.unwrap();
    let home = TempDir::new("foreign");
    let file = home.path().join("amp.json");
    let env =
        Env::sandbox(&home, &sandbox).set("AMP_TOKEN_STORE", &format!("file:{}", file.display()));
    let theirs = sandbox.issue_token();
    let now = chrono::Utc::now();
    let form = format!(
        r#"{{"version":2,"token":"{theirs}","obtained_at":"{}","expires_at":"{}","account":"{}"}}"#,
        now.to_rfc3339(),
        (now + chrono::Duration::hours(20)).to_rfc3339(),
        amp_client::account_name(&sandbox.base_url(), sandbox.username())
    );
    for (i, mode) in [0o600, 0o644].into_iter().enumerate() {
        write_private(&file, form.as_bytes());
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        std::os::unix::fs::chown(&file, Some(65534), Some(65534)).expect("chown needs root");
        let run = env.run(&["assets", "list"]).await.ok();
        assert!(
            run.stderr.contains("refusing the token file") && run.stderr.contains("uid 65534"),
            "{mode:o}: {run:?}"
        );
        assert_eq!(
            sandbox.count("POST", OBTAIN),
            i as u64 + 1,
            "{mode:o}: a login of its own"
        );
        assert!(
            authorizations(&sandbox)
                .iter()
                .all(|h| !h.contains(&theirs)),
            "{mode:o}: the planted token was sent"
        );
        let meta = std::fs::metadata(&file).unwrap();
        assert_eq!(
            std::fs::read(&file).unwrap(),
            form.as_bytes(),
            "{mode:o}: untouched"
        );
        assert_eq!((meta.uid(), meta.mode() & 0o777), (65534, mode), "{mode:o}");
        let others: Vec<_> = std::fs::read_dir(home.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("amp.json.") && !n.ends_with(".lock"))
            .collect();
        assert!(others.is_empty(), "{mode:o}: nothing set aside: {others:?}");
        no_secret(&run, &[&theirs, sandbox.password()]);
        std::fs::remove_file(&file).unwrap();
    }
}
