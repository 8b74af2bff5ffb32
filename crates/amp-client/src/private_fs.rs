//! Files only this user can read or change: the steps the file token store
//! keeps its token with, for programs that keep secrets beside it (the
//! `amp` command's agent key and socket, and its on-chain journal, use
//! them). Folders are created 0700 and files 0600, written whole and
//! synced; a place on disk is trusted only when no other user (root
//! aside) can change it or rename it away.
//!
//! ```
//! # fn demo() -> std::io::Result<()> {
//! use amp_client::private_fs;
//! let dir = std::env::temp_dir().join(format!("amp-doc-{}", std::process::id()));
//! if let Some((folder, why)) = private_fs::distrust_folder(&dir)? {
//!     panic!("{} is not a place for a secret: {why}", folder.display());
//! }
//! private_fs::create_private_dirs(&dir)?;
//! private_fs::write_synced(&dir.join("secret"), b"only mine")?;
//! # std::fs::remove_dir_all(&dir)?;
//! # Ok(()) }
//! # demo().unwrap();
//! ```

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` and its missing ancestors, each with mode 0700 on unix. A
/// folder another process creates meanwhile is taken as made.
pub fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let missing: Vec<&Path> = dir.ancestors().take_while(|d| !d.exists()).collect();
    for d in missing.into_iter().rev() {
        if d.as_os_str().is_empty() {
            continue;
        }
        let mut builder = fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(d) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes `bytes` to the new file `path` (mode 0600; an existing file is an
/// error) and syncs it to disk.
pub fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // The umask may have taken bits away; never let it add any.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

/// Opens `path` to read without blocking: a named pipe (or a device) in
/// place of a file would hold `open` until a writer came, on a thread no
/// timeout takes back, and the process could never exit. Opened at once,
/// it is then told apart by its metadata.
pub(crate) fn open_to_read(path: &Path) -> io::Result<fs::File> {
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK);
    }
    options.open(path)
}

/// Syncs the folder `dir`, so that a rename in it survives a crash.
#[cfg(unix)]
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    fs::File::open(dir)?.sync_all()
}

/// Folders cannot be opened for syncing on every platform; a rename is
/// atomic there all the same.
#[cfg(not(unix))]
pub fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Why a file or folder (`meta`) cannot be trusted with a secret, if it
/// cannot: it is owned by another user than this process's effective one
/// and root, or anyone may write it, or a group this process is not in may
/// (a folder with the sticky bit, as `/tmp`, aside: there nobody may
/// rename what is another's). Group-write by a group of this process's own
/// (its effective group, or one of its supplementary groups) passes: under
/// the usual umask 002 of per-user groups every folder a user makes has
/// it, and a shared volume is given to a group its users are put in (a
/// Kubernetes `fsGroup`, a setgid team folder): whom the process shares a
/// group with is the administrator's choice. Always `None` where there are
/// no unix owners.
pub fn distrust(meta: &fs::Metadata) -> Option<String> {
    #[cfg(unix)]
    return judge(meta, &Me::now());
    #[cfg(not(unix))]
    {
        let _ = meta;
        None
    }
}

/// Who this process is to the file system: its effective user, and every
/// group it acts with (effective and supplementary). Read once per check
/// of a path, not once per folder.
#[cfg(unix)]
struct Me {
    uid: u32,
    groups: Vec<u32>,
}

#[cfg(unix)]
impl Me {
    fn now() -> Me {
        use rustix::process::{getegid, geteuid, getgroups};
        let mut groups: Vec<u32> = getgroups()
            .unwrap_or_default()
            .iter()
            .map(|g| g.as_raw())
            .collect();
        groups.push(getegid().as_raw());
        Me {
            uid: geteuid().as_raw(),
            groups,
        }
    }
}

/// [`distrust`] of `meta` for `me`.
#[cfg(unix)]
fn judge(meta: &fs::Metadata, me: &Me) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let (owner, group) = (meta.uid(), meta.gid());
    why_not(owner, group, meta.mode(), meta.is_dir(), me.uid, &me.groups)
}

/// The rule of [`distrust`], on its facts: a file or folder of `owner` and
/// `group` with `mode`, for the user `me` in the groups `mine`.
#[cfg(unix)]
fn why_not(
    owner: u32,
    group: u32,
    mode: u32,
    is_dir: bool,
    me: u32,
    mine: &[u32],
) -> Option<String> {
    let mode = mode & 0o7777;
    let sticky = is_dir && mode & 0o1000 != 0;
    let what = if is_dir {
        "rename and replace the files in it"
    } else {
        "write it"
    };
    if owner != me && owner != 0 {
        Some(format!(
            "it is owned by uid {owner}, not by this user (uid {me})"
        ))
    } else if mode & 0o002 != 0 && !sticky {
        Some(format!("its mode {mode:04o} lets anyone {what}"))
    } else if mode & 0o020 != 0 && !mine.contains(&group) && !sticky {
        Some(format!(
            "its mode {mode:04o} lets group {group}, which this user is not in, {what}"
        ))
    } else {
        None
    }
}

/// Why the folder `dir` cannot hold a secret, if it cannot: the folder
/// that fails [`distrust`] (`dir` or one above it) and why.
///
/// Whoever can write a folder on the path can rename the rest of the path
/// away and put a tree of their own in its place, between two steps of
/// ours or later (as OpenSSH's `StrictModes` reasons). So every folder the
/// path passes through is checked, where it really is: for each folder of
/// the path that exists, the folders above it once its links are resolved
/// (a link may lead elsewhere, and a link there further). Folders that do
/// not exist yet pass (create them with [`create_private_dirs`], then check
/// again: one made meanwhile by someone else is refused then), unless the
/// path goes up (`..`) out of one of them: where that leads was not
/// checked. Always `None` where there are no unix owners.
pub fn distrust_folder(dir: &Path) -> io::Result<Option<(PathBuf, String)>> {
    #[cfg(unix)]
    return walk(dir, &Me::now());
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(None)
    }
}

/// [`distrust_folder`] of `dir` for `me`.
#[cfg(unix)]
fn walk(dir: &Path, me: &Me) -> io::Result<Option<(PathBuf, String)>> {
    let given = std::path::absolute(dir)?;
    let mut checked: Vec<PathBuf> = Vec::new();
    let mut made_yet = false;
    for folder in given.ancestors() {
        let real = match fs::canonicalize(folder) {
            Ok(real) => real,
            Err(e) if e.kind() == io::ErrorKind::NotFound && !made_yet => {
                if folder.ends_with("..") {
                    let why = "it goes up (..) out of a folder that does not exist yet, \
                               somewhere that was not checked";
                    return Ok(Some((folder.to_path_buf(), why.to_string())));
                }
                continue;
            }
            Err(e) => return Err(e),
        };
        made_yet = true;
        for up in real.ancestors() {
            // Its own ancestors were checked with it.
            if checked.iter().any(|c| c == up) {
                break;
            }
            checked.push(up.to_path_buf());
            if let Some(why) = judge(&fs::metadata(up)?, me) {
                return Ok(Some((up.to_path_buf(), why)));
            }
        }
    }
    Ok(None)
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    struct Dir(PathBuf);

    impl Dir {
        fn new(name: &str) -> Dir {
            let dir = std::env::temp_dir().join(format!(
                "amp-private-fs-{name}-{}-{:08x}",
                std::process::id(),
                fastrand::u32(..)
            ));
            create_private_dirs(&dir).unwrap();
            Dir(dir)
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn set(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap()
    }

    // Any folder of the path that anyone may write (without the sticky bit)
    // is named, however far up, whether the folders below exist or not.
    #[test]
    fn a_folder_anyone_may_write_anywhere_on_the_path_is_named() {
        let dir = Dir::new("up");
        let open = dir.0.join("open");
        let deep = open.join("a/b");
        create_private_dirs(&deep).unwrap();
        assert_eq!(distrust_folder(&deep).unwrap(), None);
        set(&open, 0o777);
        for path in [deep.clone(), deep.join("not/yet"), open.join("a/../a/b")] {
            let (folder, why) = distrust_folder(&path).unwrap().expect("refused");
            assert!(folder.starts_with(&open), "{}", folder.display());
            assert!(why.contains("0777 lets anyone rename"), "{why}");
        }
        // The sticky bit (as /tmp) and group-write pass.
        for mode in [0o1777, 0o770] {
            set(&open, mode);
            assert_eq!(distrust_folder(&deep).unwrap(), None, "{mode:o}");
        }
    }

    // A link on the path leads to folders of its own: theirs are checked
    // too, and so are the given path's.
    #[test]
    fn the_folders_a_link_leads_to_are_checked() {
        let dir = Dir::new("link");
        let open = dir.0.join("open");
        create_private_dirs(&open.join("target")).unwrap();
        set(&open, 0o777);
        let mine = dir.0.join("mine");
        create_private_dirs(&mine).unwrap();
        std::os::unix::fs::symlink(open.join("target"), mine.join("link")).unwrap();
        let (folder, _) = distrust_folder(&mine.join("link/deeper"))
            .unwrap()
            .expect("refused");
        assert_eq!(folder, open);
        set(&open, 0o700);
        assert_eq!(distrust_folder(&mine.join("link/deeper")).unwrap(), None);
        set(&mine, 0o777);
        let (folder, _) = distrust_folder(&mine.join("link/deeper"))
            .unwrap()
            .expect("refused");
        assert_eq!(folder, mine);
    }

    // Group-write by a group other than the user's own: its members could
    // rename what is in the folder. (Root, as CI runs, can give the folder
    // to a group it is not in; its own groups pass, as above.)
    #[test]
    #[ignore = "needs root (gives a folder to another group): run as root with --ignored, as .ci/run does"]
    fn a_folder_another_group_may_write_is_named() {
        let dir = Dir::new("group");
        let theirs = dir.0.join("theirs");
        create_private_dirs(&theirs.join("mine")).unwrap();
        std::os::unix::fs::chown(&theirs, None, Some(65534)).expect("chown needs root");
        set(&theirs, 0o770);
        let (folder, why) = distrust_folder(&theirs.join("mine"))
            .unwrap()
            .expect("refused");
        assert_eq!(folder, theirs);
        assert!(why.contains("lets group 65534"), "{why}");
        // With the sticky bit, nobody may rename what is another's.
        set(&theirs, 0o1770);
        assert_eq!(distrust_folder(&theirs.join("mine")).unwrap(), None);
        set(&theirs, 0o750);
        assert_eq!(distrust_folder(&theirs.join("mine")).unwrap(), None);
    }

    // The rule on its facts, for users and groups no test could be.
    #[test]
    fn group_write_passes_for_the_users_groups_only() {
        let dir = true;
        // A Kubernetes volume: root:2000 2775, the process 1000 in 3000 and 2000.
        assert_eq!(why_not(0, 2000, 0o42775, dir, 1000, &[3000, 2000]), None);
        let why = why_not(0, 2000, 0o2775, dir, 1000, &[3000]).unwrap();
        assert!(
            why.contains("group 2000, which this user is not in"),
            "{why}"
        );
        assert_eq!(why_not(0, 2000, 0o3775, dir, 1000, &[3000]), None, "sticky");
        assert_eq!(why_not(1000, 2000, 0o755, dir, 1000, &[3000]), None);
        let why = why_not(1001, 3000, 0o700, dir, 1000, &[3000]).unwrap();
        assert!(why.contains("owned by uid 1001"), "{why}");
        let why = why_not(1000, 3000, 0o666, false, 1000, &[3000]).unwrap();
        assert!(why.contains("lets anyone write it"), "{why}");
        let why = why_not(1000, 2000, 0o660, false, 1000, &[3000]).unwrap();
        assert!(why.contains("write it"), "{why}");
    }

    // A link that leads to a folder with a link of its own: the folders
    // above each are checked, not only those above where the last leads.
    #[test]
    fn links_in_a_row_are_followed_each() {
        let dir = Dir::new("links");
        let (open, safe, mine) = (dir.0.join("open"), dir.0.join("safe"), dir.0.join("mine"));
        for d in [open.join("a"), safe.join("b"), mine.clone()] {
            create_private_dirs(&d).unwrap();
        }
        std::os::unix::fs::symlink(open.join("a"), mine.join("l1")).unwrap();
        std::os::unix::fs::symlink(safe.join("b"), open.join("a/l2")).unwrap();
        let path = mine.join("l1/l2/x");
        assert_eq!(distrust_folder(&path).unwrap(), None);
        set(&open, 0o777);
        let (folder, _) = distrust_folder(&path).unwrap().expect("refused");
        assert_eq!(folder, open);
    }

    // `..` out of a folder not made yet leads where nothing was checked
    // (here into a folder anyone may write): refused.
    #[test]
    fn going_up_out_of_a_folder_not_made_yet_is_refused() {
        let dir = Dir::new("up-new");
        let open = dir.0.join("open");
        create_private_dirs(&open).unwrap();
        set(&open, 0o777);
        let (folder, why) = distrust_folder(&dir.0.join("new/../open"))
            .unwrap()
            .expect("refused");
        assert_eq!(folder, dir.0.join("new/.."));
        assert!(why.contains("goes up"), "{why}");
        // Through folders that exist, `..` is resolved and checked.
        create_private_dirs(&dir.0.join("new")).unwrap();
        let (folder, _) = distrust_folder(&dir.0.join("new/../open"))
            .unwrap()
            .expect("refused");
        assert_eq!(folder, open);
    }

    #[test]
    fn a_file_anyone_may_write_is_distrusted_and_a_private_one_is_not() {
        let dir = Dir::new("file");
        let file = dir.0.join("secret");
        write_synced(&file, b"x").unwrap();
        let meta = fs::metadata(&file).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(distrust(&meta), None);
        // Written once: a second write to the same name is refused.
        assert!(write_synced(&file, b"y").is_err());
        set(&file, 0o666);
        let why = distrust(&fs::metadata(&file).unwrap()).unwrap();
        assert!(why.contains("lets anyone write it"), "{why}");
    }
}
