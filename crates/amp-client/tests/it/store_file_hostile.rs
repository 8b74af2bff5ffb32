//! A token file or lock someone else planted: a FIFO in place of the token
//! file or of its lock never blocks a load, the lock or the process's exit;
//! a symlink to another user's file is refused and only the link replaced.

use crate::common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use amp_client::{FileStore, TokenData, TokenStore};
use chrono::Utc;
use common::*;
use wiremock::MockServer;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "amp-review-edges-{name}-{}-{:08x}",
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

#[cfg(unix)]
fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg("-m")
        .arg("600")
        .arg(path)
        .status()
        .expect("mkfifo runs");
    assert!(status.success(), "mkfifo {}", path.display());
}

// ---------------------------------------------------------------------------
// A named pipe (FIFO) in place of the token file.
// ---------------------------------------------------------------------------

/// A FIFO at the token path (put there by mistake, or by anyone who can
/// write the folder): opening it for reading blocks until a writer comes,
/// on a blocking thread no timeout can take back. The store operation's
/// timeout lets the call go on, but the thread stays in `open(2)` and the
/// runtime waits for it at shutdown: the process never exits (the stuck
/// lock thread of `store_file_lock`, by another door). The file must be read without
/// blocking, and a token path that is not a regular file set aside.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_in_place_of_the_token_file_never_blocks_a_load() {
    let dir = temp_dir("fifo");
    let file = dir.join("token.json");
    mkfifo(&file);
    let store = FileStore::new(&file);
    let loaded = tokio::time::timeout(Duration::from_secs(10), store.load()).await;
    if loaded.is_err() {
        // Let the stuck thread go (a writer opening the pipe ends its
        // `open`, closing it ends its read), so the test's runtime can end.
        let _ = fs::OpenOptions::new().write(true).open(&file);
    }
    let loaded = loaded.expect("loading a token file that is a FIFO blocked");
    assert_eq!(loaded.unwrap(), None, "a FIFO holds no token");
    // Set aside: the next save writes a regular file in its place.
    store.save(&token(T1)).await.unwrap();
    assert!(fs::symlink_metadata(&file).unwrap().is_file());
    assert_eq!(
        FileStore::new(&file)
            .load()
            .await
            .unwrap()
            .map(|t| t.fingerprint()),
        Some(token(T1).fingerprint())
    );
    let _ = fs::remove_dir_all(&dir);
}

/// The same FIFO under a whole client: the call is answered, and the
/// client's runtime ends (a runtime that cannot end is the process that
/// never exits).
#[cfg(unix)]
#[test]
fn a_client_whose_token_file_is_a_fifo_answers_and_its_runtime_ends() {
    let dir = temp_dir("fifo-client");
    let file = dir.join("token.json");
    mkfifo(&file);
    let (ended_tx, ended_rx) = std::sync::mpsc::channel();
    let file_for_thread = file.clone();
    let runner = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let answered = rt.block_on(async {
            let server = MockServer::start().await;
            mount_obtain(&server, T1).await;
            mount_assets_for(&server, T1).await;
            let config = amp_client::Config::builder()
                .base_url(api(&server))
                .credentials(USER, PASSWORD)
                .retry(fast_retry(1))
                .request_timeout(Duration::from_secs(2))
                .token_store(amp_client::StoreSpec::File(file_for_thread))
                .build()
                .unwrap();
            let client = amp_client::AmpClient::new(config).unwrap();
            client.assets().list().await.map(|a| a.len())
        });
        drop(rt);
        let _ = ended_tx.send(answered.map_err(|e| e.to_string()));
    });
    let ended = ended_rx.recv_timeout(Duration::from_secs(30));
    if ended.is_err() {
        // Free the stuck thread(s) so that the test process can end.
        for _ in 0..4 {
            let _ = fs::OpenOptions::new().write(true).open(&file);
        }
    }
    let _ = runner.join();
    let answered = ended.expect("the client's runtime never ended: a thread is stuck on the FIFO");
    assert_eq!(answered, Ok(0));
    let _ = fs::remove_dir_all(&dir);
}

/// The renewal lock file as a FIFO: opened read-write, which never blocks,
/// and locked or refused at once.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fifo_in_place_of_the_lock_file_never_blocks_the_lock() {
    let dir = temp_dir("fifo-lock");
    let file = dir.join("token.json");
    let store = FileStore::new(&file).lock_timeout(Duration::from_millis(200));
    mkfifo(store.lock_path());
    let locked = tokio::time::timeout(Duration::from_secs(10), store.lock()).await;
    assert!(locked.is_ok(), "taking the lock on a FIFO blocked");
    let _ = fs::remove_dir_all(&dir);
}

/// A token file that is a symlink to another user's file (planted in a
/// folder others can write): refused on the file it leads to, never read;
/// the next save replaces the link, not the other user's file.
#[cfg(unix)]
#[tokio::test]
#[ignore = "needs root (chowns a file to another user): run as root with --ignored, as .ci/run does"]
async fn a_symlink_to_another_users_token_file_is_refused() {
    use std::os::unix::fs::{chown, symlink};
    let dir = temp_dir("symlink-foreign");
    let theirs = dir.join("theirs.json");
    let planted = FileStore::new(&theirs);
    planted
        .save(&token(T3).for_account("victim at http://127.0.0.1:1/api"))
        .await
        .unwrap();
    chown(&theirs, Some(65534), Some(65534)).expect("chown needs root");
    let before = fs::read(&theirs).unwrap();
    let file = dir.join("token.json");
    symlink(&theirs, &file).unwrap();
    let store = FileStore::new(&file);
    let e = store.load().await.unwrap_err().to_string();
    assert!(e.contains("uid 65534"), "{e}");
    assert!(!e.contains(T3), "{e}");
    store.save(&token(T1)).await.unwrap();
    assert!(
        fs::symlink_metadata(&file).unwrap().is_file(),
        "the link is replaced"
    );
    assert_eq!(
        fs::read(&theirs).unwrap(),
        before,
        "their file is untouched"
    );
    let _ = fs::remove_dir_all(&dir);
}
