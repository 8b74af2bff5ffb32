use super::*;

/// A private folder for one test, removed at the end.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let path = std::env::temp_dir().join(format!(
            "amp-journal-{name}-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        Dir(path)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn record() -> Record {
    let mut r = Record::new(
        JobKind::Distribute,
        "uuid-1",
        "ab".repeat(32).as_str(),
        serde_json::json!({"command": "distribute"}),
    );
    r.distribution_uuid = Some("d-1".into());
    r.outputs = vec![PlannedOutput {
        address: "addr".into(),
        amount: Number::from_f64(0.5).unwrap(),
        asset: "ab".repeat(32),
    }];
    r
}

#[test]
fn a_record_written_is_read_back_by_the_next_open_and_the_file_is_private() {
    let dir = Dir::new("roundtrip");
    let path = dir.0.join("sub/job.json");
    let mut journal = Journal::open(&path).unwrap();
    assert!(journal.record().is_none());
    let mut r = record();
    r.intent = Some(Intent {
        at: Utc::now(),
        tip_height: 7,
        tip_hash: "00ff".into(),
    });
    journal.write(r.clone()).unwrap();
    drop(journal);
    let journal = Journal::open(&path).unwrap();
    assert_eq!(journal.record(), Some(&r));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
    }
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".tmp-")), "{names:?}");
}

#[test]
fn a_second_open_of_the_same_job_is_busy_until_the_first_is_dropped() {
    let dir = Dir::new("busy");
    let path = dir.0.join("job.json");
    let first = Journal::open(&path).unwrap();
    let e = Journal::open(&path).unwrap_err();
    assert!(matches!(e, Error::Busy { .. }), "{e}");
    drop(first);
    Journal::open(&path).unwrap();
}

#[test]
fn a_corrupt_journal_is_set_aside_and_blocks_the_job_until_removed() {
    let dir = Dir::new("corrupt");
    let path = dir.0.join("job.json");
    std::fs::create_dir_all(&dir.0).unwrap();
    for bad in [
        &b"{\"version\": 1, \"job\": \"distribute\", trunc"[..],
        &b"{\"version\": 9}"[..],
        &b""[..],
    ] {
        std::fs::write(&path, bad).unwrap();
        let e = Journal::open(&path).unwrap_err().to_string();
        assert!(
            e.contains("corrupt") && e.contains("may have been sent"),
            "{e}"
        );
        assert!(!path.exists());
        let corrupt = dir.0.join("job.json.corrupt");
        assert!(corrupt.exists());
        // Never "nothing was sent": every later open refuses while it is there.
        for _ in 0..2 {
            let e = Journal::open(&path).unwrap_err().to_string();
            assert!(e.contains("set aside") && e.contains("delete"), "{e}");
        }
        std::fs::remove_file(&corrupt).unwrap();
        assert!(Journal::open(&path).unwrap().record().is_none());
    }
}

#[test]
fn finish_keeps_the_record_under_a_done_name() {
    let dir = Dir::new("finish");
    let path = dir.0.join("distribute-x.json");
    let mut journal = Journal::open(&path).unwrap();
    let mut r = record();
    r.sent = Some(Sent {
        txid: "cafe".into(),
        vin: None,
        at: Utc::now(),
        from: "node".into(),
    });
    journal.write(r.clone()).unwrap();
    let done = journal.finish().unwrap().unwrap();
    assert_eq!(done, dir.0.join("distribute-x.done-cafe.json"));
    assert!(!path.exists());
    let kept: Record = serde_json::from_slice(&std::fs::read(&done).unwrap()).unwrap();
    assert_eq!(kept, r);
    assert!(Journal::open(&path).unwrap().record().is_none());
}

// A pipe where the journal should be would hold `read` for ever: it is
// refused at once, and a folder or a link alike. (The FIFO is made with a
// system call, not the `mkfifo` command: a child process forked while
// another test holds a journal's lock would hold that lock too until it
// runs its command, and that test would find its own journal busy.)
#[cfg(target_os = "linux")]
#[test]
fn what_is_not_a_regular_file_is_refused_without_reading() {
    let dir = Dir::new("fifo");
    std::fs::create_dir_all(&dir.0).unwrap();
    let fifo = dir.0.join("pipe.json");
    rustix::fs::mkfifoat(rustix::fs::CWD, &fifo, rustix::fs::Mode::RUSR).unwrap();
    let folder = dir.0.join("folder.json");
    std::fs::create_dir(&folder).unwrap();
    let link = dir.0.join("link.json");
    std::os::unix::fs::symlink(dir.0.join("elsewhere.json"), &link).unwrap();
    for path in [fifo, folder, link] {
        let e = Journal::open(&path).unwrap_err().to_string();
        assert!(e.contains("is not a regular file"), "{e}");
    }
}

// Whoever may write the journal's folder or file could change the outputs a
// distribution pays, or take the intent away so that the job sends again:
// a folder anyone may write in (without the sticky bit), and a journal or
// lock file others may write, are refused before anything is read. The
// same folder with the sticky bit (as /tmp) is served.
#[cfg(unix)]
#[test]
fn a_journal_others_may_write_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let set = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    let dir = Dir::new("open");
    let folder = dir.0.join("jobs");
    let path = folder.join("job.json");
    let written = record();
    Journal::open(&path)
        .unwrap()
        .write(written.clone())
        .unwrap();

    set(&folder, 0o777);
    let e = Journal::open(&path).unwrap_err().to_string();
    assert!(
        e.contains("refusing the folder") && e.contains("0777"),
        "{e}"
    );
    set(&folder, 0o1777);
    assert_eq!(Journal::open(&path).unwrap().record(), Some(&written));
    set(&folder, 0o700);

    set(&path, 0o606);
    let e = Journal::open(&path).unwrap_err().to_string();
    assert!(
        e.contains("refusing the journal") && e.contains("0606"),
        "{e}"
    );
    // Group-writable passes, as for folders (per-user groups).
    set(&path, 0o660);
    assert_eq!(Journal::open(&path).unwrap().record(), Some(&written));
    set(&path, 0o600);
    let lock = sidecar(&path, "lock");
    set(&lock, 0o666);
    let e = Journal::open(&path).unwrap_err().to_string();
    assert!(
        e.contains("refusing the lock file") && e.contains("0666"),
        "{e}"
    );
    set(&lock, 0o600);
    assert_eq!(Journal::open(&path).unwrap().record(), Some(&written));
    // A folder above it that anyone may write: refused too (it could be
    // renamed away, the journal with it), even before the job's folder
    // exists, and nothing is made in it.
    set(&dir.0, 0o777);
    let e = Journal::open(&dir.0.join("new/job.json"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains(&format!(
            "refusing the folder {}: its mode 0777",
            dir.0.display()
        )),
        "{e}"
    );
    assert!(
        !dir.0.join("new").exists(),
        "nothing made in the open folder"
    );
    set(&dir.0, 0o700);
    assert_eq!(Journal::open(&path).unwrap().record(), Some(&written));
}

// Another user's journal, or a folder of theirs, is theirs to change: refused.
#[cfg(unix)]
#[test]
#[ignore = "needs root (chowns a file and a folder to another user): run as root with --ignored, as .ci/run does"]
fn a_journal_of_another_user_is_refused() {
    let dir = Dir::new("theirs");
    let folder = dir.0.join("jobs");
    let path = folder.join("job.json");
    Journal::open(&path).unwrap().write(record()).unwrap();
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).expect("chown needs root");
    let e = Journal::open(&path).unwrap_err().to_string();
    assert!(
        e.contains("refusing the journal") && e.contains("uid 65534"),
        "{e}"
    );
    std::os::unix::fs::chown(&path, Some(0), Some(0)).unwrap();
    std::os::unix::fs::chown(&folder, Some(65534), Some(65534)).unwrap();
    let e = Journal::open(&path).unwrap_err().to_string();
    assert!(
        e.contains("refusing the folder") && e.contains("uid 65534"),
        "{e}"
    );
}
