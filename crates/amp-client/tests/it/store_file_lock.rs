//! The file store's renewal lock and discard against other real processes:
//! a wait for a held lock that gives up leaves nothing behind
//! (no thread stuck in `flock`, no runtime that cannot shut down), and the
//! discard of a rejected token never deletes a newer token another process
//! stored.
//!
//! Child processes are this test binary run again with `child_entry` as the
//! only test and `AMP_STORE_TEST_CHILD` naming what to do; without that
//! variable `child_entry` returns at once, and it is ignored unless asked for
//! by name.
#![cfg(unix)]

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use amp_client::{AmpClient, Config, FileStore, TokenData, TokenStore};
use amp_sandbox::Sandbox;
use chrono::Utc;
use secrecy::ExposeSecret;

const CHILD_VAR: &str = "AMP_STORE_TEST_CHILD";
const PATH_VAR: &str = "AMP_STORE_TEST_PATH";
const TOKEN_VAR: &str = "AMP_STORE_TEST_TOKEN";
const OBTAIN: &str = "/user/obtain_token";

/// How many renewals give up on the held lock in the thread count test.
const RENEWALS: usize = 50;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amp-store-file-lock-{name}-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn token(raw: &str) -> TokenData {
    let now = Utc::now();
    TokenData::new(raw, now, now + chrono::Duration::hours(24))
}

/// Starts this test binary again as a child doing `role`, its stdin and
/// stdout piped to the test.
fn spawn_child(role: &str, envs: &[(&str, String)]) -> Child {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args([
        "--exact",
        "store_file_lock::child_entry",
        "--ignored",
        "--nocapture",
        "--test-threads=1",
    ])
    .env(CHILD_VAR, role)
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.spawn().unwrap()
}

/// Reads the child's stdout up to a line holding `prefix`, and
/// returns that line. Blocking: called off the runtime's threads.
fn read_until(stdout: &mut BufReader<std::process::ChildStdout>, prefix: &str) -> String {
    let mut line = String::new();
    loop {
        line.clear();
        let n = stdout.read_line(&mut line).unwrap();
        assert!(n > 0, "the child ended before printing {prefix}");
        if line.contains(prefix) {
            return line.trim_end().to_string();
        }
    }
}

/// A child that holds the renewal lock of the token file at `path` until
/// told to go on (a line on its stdin), then does `then` (see
/// `child_entry`) and lets go.
struct Holder {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
}

impl Holder {
    /// Starts the child and waits until it holds the lock.
    async fn start(path: &Path, envs: &[(&str, String)]) -> Holder {
        let mut all = vec![(PATH_VAR, path.display().to_string())];
        all.extend(envs.iter().cloned());
        let mut child = spawn_child("hold-lock", &all);
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let stdout = tokio::task::spawn_blocking(move || {
            read_until(&mut stdout, "LOCKED");
            stdout
        })
        .await
        .unwrap();
        Holder { child, stdout }
    }

    /// Tells the child to go on, and waits until it let go of the lock.
    async fn release(mut self) {
        let mut stdin = self.child.stdin.take().unwrap();
        stdin.write_all(b"go\n").unwrap();
        drop(stdin);
        let mut stdout = self.stdout;
        tokio::task::spawn_blocking(move || {
            read_until(&mut stdout, "RELEASED");
            // The rest too: a child whose stdout is closed fails on its
            // next line.
            std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
        })
        .await
        .unwrap();
        let out = tokio::task::spawn_blocking(move || self.child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The number of threads of this process (Linux).
#[cfg(target_os = "linux")]
fn threads() -> usize {
    fs::read_dir("/proc/self/task").unwrap().count()
}

/// The entry point of child processes; a no-op in a normal test run.
#[test]
#[ignore = "not a test: the entry point of the child processes this module's tests start"]
fn child_entry() {
    let Ok(role) = std::env::var(CHILD_VAR) else {
        return;
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let path = std::env::var(PATH_VAR).unwrap();
        match role.as_str() {
            // Take the renewal lock, say so, wait for a line on stdin, store
            // AMP_STORE_TEST_TOKEN if set (a renewal's result), let go.
            "hold-lock" => {
                let store = FileStore::new(&path);
                let guard = store.lock().await.unwrap();
                println!("LOCKED");
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).unwrap();
                if let Ok(raw) = std::env::var(TOKEN_VAR) {
                    store.save(&token(&raw)).await.unwrap();
                }
                guard.release().await;
                println!("RELEASED");
            }
            // Feed the FIFO at the token path with the stored form of
            // AMP_STORE_TEST_TOKEN, then, before the reader sees its end,
            // store a newer token in its place (a rename over the FIFO).
            "fifo-writer" => {
                let raw = std::env::var(TOKEN_VAR).unwrap();
                let form = format!(
                    r#"{{"version":2,"token":"{raw}","obtained_at":"{}","expires_at":"{}"}}"#,
                    Utc::now().to_rfc3339(),
                    (Utc::now() + chrono::Duration::hours(24)).to_rfc3339()
                );
                // Blocks until the reader has opened the FIFO.
                let mut fifo = fs::OpenOptions::new().write(true).open(&path).unwrap();
                fifo.write_all(form.as_bytes()).unwrap();
                FileStore::new(&path)
                    .save(&token("newer-token-stored-meanwhile"))
                    .await
                    .unwrap();
                // Only now does the reader reach the end of what it reads.
                drop(fifo);
                println!("STORED");
            }
            // Renew RENEWALS times while the test holds the renewal lock,
            // and print the thread counts before and after.
            #[cfg(target_os = "linux")]
            "renew-on-held-lock" => {
                let store = FileStore::new(&path).lock_timeout(Duration::from_millis(20));
                let client = AmpClient::builder(Config::from_env().unwrap())
                    .store(std::sync::Arc::new(store))
                    .build()
                    .unwrap();
                let manager = client.token_manager();
                // Warm up: the renewals, and four blocking threads at once,
                // so that the pool has idle threads to spare. One after
                // another, the file operations may still find the thread that
                // ran the last one not back in the pool yet, and start one
                // more (a pool of 5 threads became 6 now and then).
                for _ in 0..5 {
                    manager.login().await.unwrap();
                }
                let naps: Vec<_> = (0..4)
                    .map(|_| {
                        tokio::task::spawn_blocking(|| {
                            std::thread::sleep(Duration::from_millis(50))
                        })
                    })
                    .collect();
                for nap in naps {
                    nap.await.unwrap();
                }
                let before = threads();
                for _ in 0..RENEWALS {
                    manager.login().await.unwrap();
                }
                let after = threads();
                println!("THREADS {before} {after}");
            }
            other => panic!("unknown child role {other}"),
        }
    });
}

/// A lock wait that gave up left its thread blocked in `flock`
/// until the holder let go. A service whose renewals give up on a held
/// lock 50 times now has no more threads than before (counted in a child
/// process of its own, where no other test runs; the test holds the lock).
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn renewals_that_give_up_on_a_held_lock_leave_no_thread() {
    let sandbox = Sandbox::start().await.unwrap();
    let dir = temp_dir("threads");
    let path = dir.join("token.json");
    let held = FileStore::new(&path).lock().await.unwrap();
    let envs = [
        (PATH_VAR, path.display().to_string()),
        ("AMP_API_BASE_URL", sandbox.base_url()),
        ("AMP_USERNAME", sandbox.username().to_string()),
        ("AMP_PASSWORD", sandbox.password().to_string()),
    ];
    let mut child = spawn_child("renew-on-held-lock", &envs);
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    // The counts are read while the lock is still held: a thread stuck in
    // `flock` would keep the child from ending until it is let go.
    let line = tokio::task::spawn_blocking(move || {
        let line = read_until(&mut stdout, "THREADS ");
        (line, stdout)
    });
    let (line, mut stdout) = tokio::time::timeout(Duration::from_secs(120), line)
        .await
        .expect("the child printed its thread counts")
        .unwrap();
    held.release().await;
    let out = tokio::task::spawn_blocking(move || {
        // The rest of its output, so that it can end.
        std::io::copy(&mut stdout, &mut std::io::sink()).unwrap();
        child.wait_with_output()
    })
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Vec<usize> = line
        .split("THREADS ")
        .nth(1)
        .unwrap()
        .split(' ')
        .map(|n| n.parse().unwrap())
        .collect();
    let (before, after) = (counts[0], counts[1]);
    assert!(
        after <= before,
        "{RENEWALS} renewals that gave up on the lock: {before} threads before, {after} after"
    );
    // Each renewal did wait for the lock, give up, and log in without it.
    assert_eq!(sandbox.count("POST", OBTAIN), 5 + RENEWALS as u64);
    fs::remove_dir_all(&dir).unwrap();
}

/// Giving up on a lock another process holds leaves nothing for the
/// runtime to wait for: it shuts down at once, not when the holder lets go
/// (`amp` printed its answer at 1.6 s and exited at 24.7 s).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runtime_that_gave_up_on_a_held_lock_shuts_down_at_once() {
    let dir = temp_dir("shutdown");
    let path = dir.join("token.json");
    let holder = Holder::start(&path, &[]).await;
    let store = FileStore::new(&path).lock_timeout(Duration::from_millis(200));
    let waited = tokio::task::spawn_blocking(move || {
        let started = Instant::now();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let e = rt.block_on(store.lock()).unwrap_err();
        let gave_up = started.elapsed();
        // Shutting down waits for every blocking thread of the runtime.
        drop(rt);
        (e.to_string(), gave_up, started.elapsed())
    });
    // The holder lets go when the test says so, or after 20 s at most (so
    // that a regression fails instead of hanging).
    let waited = match tokio::time::timeout(Duration::from_secs(20), waited).await {
        Ok(waited) => waited.unwrap(),
        Err(_) => {
            holder.release().await;
            panic!("the runtime shut down only once the holder let go of the lock");
        }
    };
    holder.release().await;
    let (e, gave_up, shut_down) = waited;
    assert!(
        e.contains("still held") && e.contains("token.json.lock"),
        "{e}"
    );
    assert!(gave_up >= Duration::from_millis(200), "{gave_up:?}");
    assert!(
        shut_down < Duration::from_secs(5),
        "shut down {shut_down:?} after the start, the lock still held"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// The token manager discards a token the server rejected. If another
/// process is renewing (it holds the renewal lock) the discard waits for it
/// to end, reads again, and finds the newer token that process stored:
/// kept. (The trait's default read at once, and deleted whatever was stored
/// between its read and its delete.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discard_waits_for_a_renewal_in_another_process() {
    let dir = temp_dir("discard-waits");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rejected = token("rejected-token-of-the-last-login");
    store.save(&rejected).await.unwrap();
    let newer = "newer-token-of-the-renewal-elsewhere";
    let holder = Holder::start(&path, &[(TOKEN_VAR, newer.to_string())]).await;
    let discarding = {
        let store = store.clone();
        let rejected = rejected.clone();
        tokio::spawn(async move { store.discard(&rejected).await })
    };
    let mut discarding = std::pin::pin!(discarding);
    // While the other process holds the lock, the discard does not finish
    // (it waits for the lock up to 500 ms).
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut discarding)
            .await
            .is_err(),
        "the discard went ahead while another process was renewing"
    );
    holder.release().await;
    discarding.await.unwrap().unwrap();
    let kept = store
        .load()
        .await
        .unwrap()
        .expect("the newer token is kept");
    assert_eq!(kept.token().expose_secret(), newer);
    fs::remove_dir_all(&dir).unwrap();
}

/// A token stored by another process at the worst moment — after the
/// discard has read the rejected token, before it deletes — is kept: the
/// delete takes away only the file that was read. The moment is made
/// exact with a FIFO in place of the token file: its writer (another
/// process) stores the newer token before the reader sees the end of the
/// rejected one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a FIFO at the token path is now set aside unread (store_file_hostile.rs: a blocking open of one held the process); the moment is pinned by file::tests::removal::a_file_replaced_between_the_read_and_the_delete_is_put_back"]
async fn a_token_stored_between_the_read_and_the_delete_is_kept() {
    let dir = temp_dir("discard-race");
    let path = dir.join("token.json");
    match Command::new("mkfifo").arg(&path).status() {
        Ok(status) if status.success() => {}
        other => {
            println!("skipped: mkfifo is not available ({other:?})");
            fs::remove_dir_all(&dir).unwrap();
            return;
        }
    }
    let raw = "rejected-token-read-from-the-fifo";
    let child = spawn_child(
        "fifo-writer",
        &[
            (PATH_VAR, path.display().to_string()),
            (TOKEN_VAR, raw.to_string()),
        ],
    );
    let store = FileStore::new(&path);
    tokio::time::timeout(Duration::from_secs(20), store.discard(&token(raw)))
        .await
        .expect("the discard ended")
        .unwrap();
    let out = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("STORED"));
    let kept = store
        .load()
        .await
        .unwrap()
        .expect("the newer token is kept");
    assert_eq!(kept.token().expose_secret(), "newer-token-stored-meanwhile");
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".discard-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    fs::remove_dir_all(&dir).unwrap();
}
