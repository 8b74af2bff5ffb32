//! What removes a token: `clear` (with what was set aside) and the
//! discard of a rejected token (compare-and-delete).

use super::*;

#[test]
fn clear_removes_set_aside_and_temporary_files() {
    let dir = temp_dir("clear-leftovers");
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rt = rt();
    rt.block_on(store.save(&token(24))).unwrap();
    let ours = [
        dir.join("token.json.corrupt-1700000000000"),
        dir.join("token.json.corrupt-1700000000001"),
        dir.join("token.json.exposed-1700000000002"),
        dir.join(".token.json.tmp-42-0123456789abcdef"),
        dir.join(".token.json.discard-42-0123456789abcdef"),
    ];
    let theirs = [
        dir.join("other.json.corrupt-1"),
        dir.join("other.json.exposed-1"),
        dir.join(".other.json.tmp-1-00"),
        dir.join("token.json.bak"),
    ];
    for p in ours.iter().chain(&theirs) {
        write_private(p, &good_form());
    }
    drop(rt.block_on(store.lock()).unwrap());
    rt.block_on(store.clear()).unwrap();
    assert!(!path.exists());
    for p in &ours {
        assert!(!p.exists(), "{} holds a token: removed", p.display());
    }
    for p in &theirs {
        assert!(p.exists(), "{} is not ours: kept", p.display());
    }
    assert!(store.lock_path().exists(), "the lock file stays");
    // Clearing again, or where nothing is, is fine.
    rt.block_on(store.clear()).unwrap();
    rt.block_on(FileStore::new(dir.join("none/token.json")).clear())
        .unwrap();
    fs::remove_dir_all(&dir).unwrap();
}

// -----------------------------------------------------------------------
// Discarding a rejected token in one step (issue 19).
// -----------------------------------------------------------------------

fn leftovers(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".discard-"))
        .collect()
}

#[test]
fn a_discard_removes_the_rejected_token_and_nothing_else() {
    let dir = temp_dir("discard");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rt = rt();
    let rejected = token(24);
    let newer = TokenData::new("newer", rejected.obtained_at, rejected.expires_at);
    rt.block_on(async {
        // Nothing stored: nothing to do.
        store.discard(&rejected).await.unwrap();
        store.save(&newer).await.unwrap();
        store.discard(&rejected).await.unwrap();
        assert_eq!(
            store.load().await.unwrap(),
            Some(newer.clone()),
            "another token stays"
        );
        store.save(&rejected).await.unwrap();
        store.discard(&rejected).await.unwrap();
        assert_eq!(
            store.load().await.unwrap(),
            None,
            "the rejected token is gone"
        );
    });
    assert!(leftovers(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

/// The delete takes the file away by a rename and checks that it took the
/// file that was read: one written meanwhile (by a writer that did not
/// take the lock) is put back, and one newer still is left in place.
#[test]
fn a_file_replaced_between_the_read_and_the_delete_is_put_back() {
    let dir = temp_dir("discard-race");
    let path = dir.join("token.json");
    let store = FileStore::new(&path);
    let rt = rt();
    let rejected = token(24);
    let newer = TokenData::new("newer", rejected.obtained_at, rejected.expires_at);
    rt.block_on(store.save(&rejected)).unwrap();
    let read = fs::metadata(&path).unwrap();
    rt.block_on(store.save(&newer)).unwrap();
    assert!(!store.remove_if_same(&read).unwrap(), "not the file read");
    assert_eq!(rt.block_on(store.load()).unwrap(), Some(newer.clone()));
    assert!(leftovers(&dir).is_empty());
    // The file read is removed.
    let read = fs::metadata(&path).unwrap();
    assert!(store.remove_if_same(&read).unwrap());
    assert!(!path.exists());
    assert!(leftovers(&dir).is_empty());
    fs::remove_dir_all(&dir).unwrap();
}

fn multi_thread_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// The token manager discards while its own renewal may hold the lock (and
/// that renewal may be waiting for the discard): a discard never waits for
/// a lock its own store holds.
#[test]
fn a_discard_does_not_wait_for_a_lock_its_store_holds() {
    let dir = temp_dir("discard-own-lock");
    let path = dir.join("token.json");
    let store = FileStore::new(&path).lock_timeout(Duration::from_secs(60));
    let rejected = token(24);
    multi_thread_rt().block_on(async {
        store.save(&rejected).await.unwrap();
        let guard = store.clone().lock().await.unwrap();
        tokio::time::timeout(Duration::from_secs(10), store.discard(&rejected))
            .await
            .expect("done at once, not after the lock timeout")
            .unwrap();
        assert_eq!(store.load().await.unwrap(), None);
        guard.release().await;
    });
    fs::remove_dir_all(&dir).unwrap();
}

/// Another holder (here another open file of this process, as another
/// process would be) is waited for while it holds the lock, and at most
/// the lock timeout: the discard then runs without it.
#[test]
fn a_discard_waits_for_another_holder_but_not_for_ever() {
    let dir = temp_dir("discard-other-lock");
    let path = dir.join("token.json");
    let rejected = token(24);
    let wait = Duration::from_millis(300);
    let store = FileStore::new(&path).lock_timeout(wait);
    multi_thread_rt().block_on(async {
        store.save(&rejected).await.unwrap();
        let holder = FileStore::new(&path).lock().await.unwrap();
        let started = tokio::time::Instant::now();
        store.discard(&rejected).await.unwrap();
        assert!(started.elapsed() >= wait, "waited for the holder");
        assert_eq!(store.load().await.unwrap(), None);
        holder.release().await;
    });
    fs::remove_dir_all(&dir).unwrap();
}
