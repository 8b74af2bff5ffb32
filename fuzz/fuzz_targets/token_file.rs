//! The token file: `FileStore::load` on a file holding the fuzzed bytes, and
//! the serde form of `TokenData` on the same bytes.
//!
//! The file parser itself (`auth/store/file.rs` `decode`) is private, so it is
//! reached the way a user reaches it: through `load` on a real file (in
//! /dev/shm when there is one, to keep the file system out of the way).
//! Never panics, never errors for a bad file (it is set aside and read as "no
//! token"); what it accepts can be shown, aged and written back.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use amp_client::{FileStore, TokenData, TokenPolicy, TokenStore};
use libfuzzer_sys::fuzz_target;

mod common;
use common::redacted;

struct Env {
    rt: tokio::runtime::Runtime,
    dir: PathBuf,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("amp-fuzz-token-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        Env { rt, dir }
    })
}

fn exercise(t: &TokenData) {
    let policy = TokenPolicy::default();
    let now = chrono::Utc::now();
    let _ = amp_client::__private::token_info_at(&t, now, &policy);
    let _ = amp_client::__private::token_info_at(&t, now, &policy).state;
    let _ = amp_client::__private::token_info_at(&t, t.expires_at, &policy);
    let _ = amp_client::__private::token_info_at(&t, t.obtained_at, &policy);
    redacted(t);
}

fuzz_target!(|data: &[u8]| {
    let env = env();
    let path = env.dir.join("token.json");
    std::fs::write(&path, data).unwrap();
    // The store refuses files open to others (as it should); the input is
    // the content, not the mode.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let store = FileStore::new(&path);
    let loaded = env.rt.block_on(store.load());
    match loaded {
        Ok(Some(t)) => exercise(&t),
        Ok(None) => {
            // A bad file is set aside, never left in place to fail again.
            assert!(!path.exists(), "an unusable file was left in place");
        }
        Err(e) => panic!("loading a bad file must not fail: {e}"),
    }
    for entry in std::fs::read_dir(&env.dir).unwrap().flatten() {
        let _ = std::fs::remove_file(entry.path());
    }
    // The serde form of TokenData, on the same bytes.
    if let Ok(t) = serde_json::from_slice::<TokenData>(data) {
        exercise(&t);
        let again = serde_json::to_vec(&t).unwrap();
        let back: TokenData = serde_json::from_slice(&again).unwrap();
        assert_eq!(back, t, "serialize → parse changed the token");
    }
});
