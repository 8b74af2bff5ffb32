//! Files and folders this user does not own, or that others may read or
//! write: refused or set aside, never used.

use super::*;

#[cfg(unix)]
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o7777
}

#[cfg(unix)]
fn set_mode(p: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(mode)).unwrap();
}

/// The uid of nobody on most systems: a user that is not us.
#[cfg(unix)]
const OTHER_UID: u32 = 65534;

/// Gives `p` to [`OTHER_UID`]. Only root may do that: the tests that call
/// it are ignored unless asked for (CI runs them as root).
#[cfg(unix)]
fn give_away(p: &Path) {
    std::os::unix::fs::chown(p, Some(OTHER_UID), Some(OTHER_UID)).expect("chown needs root");
}

fn exposed_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().contains(".exposed-"))
        .collect();
    v.sort();
    v
}

/// Issue 19: a token file of ours that group or others may read was
/// refused, and every process logged in anew until someone ran `chmod`.
/// Its token may have been read: it is set aside (0600), never returned,
/// and the next save writes a private file.
#[cfg(unix)]
#[test]
fn files_open_to_group_or_others_are_set_aside_never_used() {
    let dir = temp_dir("loose");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    for mode in [0o644, 0o640, 0o604, 0o660, 0o606, 0o610, 0o601] {
        let path = dir.join(format!("token-{mode:o}.json"));
        write_private(&path, &good_form());
        set_mode(&path, mode);
        let store = FileStore::new(&path);
        assert_eq!(rt.block_on(store.load()).unwrap(), None, "{mode:o}");
        assert!(!path.exists(), "{mode:o}: set aside");
        let aside: Vec<_> = exposed_files(&dir)
            .into_iter()
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with(&format!("token-{mode:o}.json.exposed-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{mode:o}: {aside:?}");
        assert_eq!(fs::read(&aside[0]).unwrap(), good_form(), "{mode:o}");
        assert_eq!(mode_of(&aside[0]), 0o600, "{mode:o}: the copy is private");
        // The next save writes a private file, which is then used.
        let fresh = token(24);
        rt.block_on(store.save(&fresh)).unwrap();
        assert_eq!(mode_of(&path), 0o600);
        assert_eq!(rt.block_on(store.load()).unwrap(), Some(fresh));
    }
    // Saving over such a file (without loading it first) replaces it with
    // a private one: its token is gone with it.
    let path = dir.join("saved-over.json");
    write_private(&path, &good_form());
    set_mode(&path, 0o644);
    let fresh = TokenData::new(
        "fresh-token",
        Utc::now(),
        Utc::now() + chrono::Duration::hours(1),
    );
    let store = FileStore::new(&path);
    rt.block_on(store.save(&fresh)).unwrap();
    assert_eq!(mode_of(&path), 0o600);
    assert_eq!(rt.block_on(store.load()).unwrap(), Some(fresh));
    assert!(aside_files(&dir).is_empty(), "nothing read as corrupt");
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn a_lock_file_open_to_others_is_refused_at_once() {
    let dir = temp_dir("loose-lock");
    fs::create_dir_all(&dir).unwrap();
    let store = FileStore::new(dir.join("token.json"));
    fs::write(store.lock_path(), b"").unwrap();
    set_mode(store.lock_path(), 0o666);
    // Someone holds it (here: another open file of this process), which
    // stalled every renewal for the lock timeout (60 s by default).
    let holder = File::open(store.lock_path()).unwrap();
    holder.lock().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let e = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), store.lock()).await })
        .expect("refused at once, not after the lock timeout")
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("token.json.lock") && msg.contains("0666"),
        "{msg}"
    );
    drop(holder);
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
#[ignore = "needs root (chowns a file to another user): run as root with --ignored, as .ci/run does"]
fn files_of_another_user_are_refused() {
    let dir = temp_dir("foreign");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    // Open to others or not, another user's file is refused and untouched:
    // neither read, nor set aside, nor replaced, nor discarded.
    for mode in [0o600, 0o644] {
        let path = dir.join(format!("token-{mode:o}.json"));
        write_private(&path, &good_form());
        set_mode(&path, mode);
        give_away(&path);
        let store = FileStore::new(&path);
        let rejected = TokenData::new(T, Utc::now(), Utc::now() + chrono::Duration::hours(1));
        for (what, result) in [
            ("load", rt.block_on(store.load()).map(|_| ())),
            ("save", rt.block_on(store.save(&token(24)))),
            ("discard", rt.block_on(store.discard(&rejected))),
        ] {
            let msg = result.expect_err(what).to_string();
            assert!(msg.contains(&path.display().to_string()), "{what}: {msg}");
            assert!(msg.contains(&format!("uid {OTHER_UID}")), "{what}: {msg}");
            assert!(!msg.contains(T), "{msg}");
        }
        assert_eq!(fs::read(&path).unwrap(), good_form());
        assert_eq!(mode_of(&path), mode);
    }
    assert!(aside_files(&dir).is_empty());
    assert!(exposed_files(&dir).is_empty());

    // The same for the renewal lock, even with mode 0600.
    let lock_store = FileStore::new(dir.join("other.json"));
    write_private(lock_store.lock_path(), b"");
    give_away(lock_store.lock_path());
    let msg = rt.block_on(lock_store.lock()).unwrap_err().to_string();
    assert!(
        msg.contains("other.json.lock") && msg.contains(&format!("uid {OTHER_UID}")),
        "{msg}"
    );
    fs::remove_dir_all(&dir).unwrap();
}

#[cfg(unix)]
#[test]
fn set_aside_and_temporary_files_are_0600() {
    let dir = temp_dir("aside-mode");
    fs::create_dir_all(&dir).unwrap();
    let rt = rt();
    // Owner-only modes pass the check; whatever they were, the file set
    // aside (it may hold a live token) ends 0600.
    for mode in [0o700, 0o400, 0o200] {
        let path = dir.join(format!("token-{mode:o}.json"));
        write_private(&path, b"{\"version\":2,\"token\":\"cut");
        set_mode(&path, mode);
        assert!(matches!(
            rt.block_on(FileStore::new(&path).load()),
            Ok(None)
        ));
        let aside = aside_files(&dir);
        let aside: Vec<_> = aside
            .iter()
            .filter(|p| {
                p.to_string_lossy()
                    .contains(&format!("token-{mode:o}.json.corrupt-"))
            })
            .collect();
        assert_eq!(aside.len(), 1, "{mode:o}");
        assert_eq!(mode_of(aside[0]), 0o600, "{mode:o}");
    }
    // The temporary file a save writes (and a killed writer leaves).
    let tmp = dir.join(".token.json.tmp-1-00");
    write_synced(&tmp, b"{}").unwrap();
    assert_eq!(mode_of(&tmp), 0o600);
    fs::remove_dir_all(&dir).unwrap();
}
