//! The file-system steps of the journal, each keeping it private and whole:
//! folders created 0700, files written 0600 to a temporary name, synced,
//! renamed over the old one, and the folder synced (amp-client's `FileStore`
//! technique, written again here: its helpers are private to it).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` and its missing ancestors, each 0700 on unix.
pub(super) fn create_private_dirs(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

/// Why the folder `dir` may not hold a journal, if it may not: it, or a
/// folder above it, is owned by a user other than this one or root, or
/// anyone may write in it (o+w without the sticky bit). Whoever can could
/// replace the journal (or a folder on its path) between two steps of a
/// job: change the outputs a distribution pays, or take the intent away so
/// that the job sends again. Group-writable folders pass: under the usual
/// umask 002 of per-user groups, every folder a user makes is.
#[cfg(unix)]
pub(super) fn distrust_folder(dir: &Path) -> io::Result<Option<String>> {
    let dir = std::path::absolute(dir)?;
    for folder in dir.ancestors() {
        if let Some(why) = distrust(&fs::metadata(folder)?) {
            return Ok(Some(format!("{}: {why}", folder.display())));
        }
    }
    Ok(None)
}

/// Why a journal file, its lock or a folder on its path (`meta`) may not be
/// trusted, if it may not: another user's (root's is trusted), or writable
/// by anyone (the journal is written 0600), unless it is a folder with the
/// sticky bit (then nobody may replace what is another's). Group-writable
/// passes, as for folders.
#[cfg(unix)]
pub(super) fn distrust(meta: &fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let (me, mode) = (rustix::process::geteuid().as_raw(), meta.mode() & 0o7777);
    let sticky = meta.is_dir() && mode & 0o1000 != 0;
    if meta.uid() != me && meta.uid() != 0 {
        Some(format!(
            "it is owned by uid {}, not by this user (uid {me})",
            meta.uid()
        ))
    } else if mode & 0o002 != 0 && !sticky {
        Some(format!(
            "its mode {mode:04o} lets anyone replace it or what it holds"
        ))
    } else {
        None
    }
}

/// Without unix owners and modes, nothing to check.
#[cfg(not(unix))]
pub(super) fn distrust_folder(_dir: &Path) -> io::Result<Option<String>> {
    Ok(None)
}

/// Without unix owners and modes, nothing to check.
#[cfg(not(unix))]
pub(super) fn distrust(_meta: &fs::Metadata) -> Option<String> {
    None
}

/// Opens (creating it 0600) a file for locking.
pub(super) fn open_private(path: &Path) -> io::Result<File> {
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Replaces `path` by `bytes` atomically: a reader (or a crash) sees the
/// old file or the new one, whole, never a mix.
pub(super) fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = parent(path);
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(
        ".{name}.tmp-{}-{:08x}",
        std::process::id(),
        fastrand::u32(..)
    ));
    let written = write_synced(&temp, bytes).and_then(|()| fs::rename(&temp, path));
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written?;
    sync_dir(&dir)
}

/// Renames `from` to `to` and syncs the folder.
pub(super) fn rename_synced(from: &Path, to: &Path) -> io::Result<()> {
    fs::rename(from, to)?;
    sync_dir(&parent(to))
}

/// The folder of `path` (`.` for a bare file name).
pub(super) fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
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

#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}
