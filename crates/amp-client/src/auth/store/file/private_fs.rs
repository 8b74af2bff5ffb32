//! The file-system steps of [`FileStore`](super::FileStore), each keeping
//! the token private: folders created 0700, files written 0600 and synced,
//! files set aside made 0600, and the check that a file found in place
//! belongs to this user and to nobody else.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::Duration;

/// Temporary files older than this were left by a writer that died mid-write.
const STALE_TEMP_AGE: Duration = Duration::from_secs(10 * 60);

/// Why a file found in place cannot be trusted.
#[derive(Debug)]
pub(super) enum Distrust {
    /// Not owned by the effective user: another user may have put it there.
    /// Never touched: neither read, set aside nor replaced.
    NotOurs(String),
    /// Ours, but a regular file whose mode gives group or others access:
    /// what it holds may have been read (or written) by others.
    OpenToOthers(String),
}

/// Why `path` (whose metadata is `meta`) cannot be trusted, if it cannot:
/// it is not owned by the effective user, or it is a regular file whose mode
/// gives group or others any access. `what` names it, e.g. "token file". The
/// reason names the path and the owner or mode, never the contents.
#[cfg(unix)]
pub(super) fn check_trusted(
    what: &str,
    path: &Path,
    meta: &fs::Metadata,
) -> std::result::Result<(), Distrust> {
    use std::os::unix::fs::MetadataExt;
    let me = effective_uid().map_err(|e| {
        Distrust::NotOurs(format!(
            "cannot tell which user this process runs as, to check {}: {e}",
            path.display()
        ))
    })?;
    if meta.uid() != me {
        return Err(Distrust::NotOurs(format!(
            "refusing the {what} {}: it is owned by uid {}, not by this user (uid {me}), \
             so another user may have put it there; remove it, and keep the token in a \
             folder only you can write",
            path.display(),
            meta.uid()
        )));
    }
    let mode = meta.mode() & 0o7777;
    if meta.is_file() && mode & 0o077 != 0 {
        return Err(Distrust::OpenToOthers(format!(
            "the {what} {} has mode {mode:04o}, which gives group or others access to it",
            path.display()
        )));
    }
    Ok(())
}

/// Without unix owners and modes, nothing to check.
#[cfg(not(unix))]
pub(super) fn check_trusted(
    _what: &str,
    _path: &Path,
    _meta: &fs::Metadata,
) -> std::result::Result<(), Distrust> {
    Ok(())
}

/// Why the folder `dir` may not hold the token, if it may not: a user other
/// than this one or root owns it, or anyone may write in it (o+w without
/// the sticky bit). Either can rename our token, lock and temporary files
/// away and put others in their place between two of our steps: a planted
/// token file or lock file of theirs is refused by [`check_trusted`], but
/// one of ours moved back and forth is not, and two processes could lock
/// two different lock files. A folder that does not exist yet passes (it
/// is created 0700). Group-writable folders pass: under the usual umask
/// 002 of per-user groups, that is every folder a user makes.
#[cfg(unix)]
pub(super) fn check_folder(dir: &Path) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let meta = match fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("checking the folder {}: {e}", dir.display())),
    };
    let me = effective_uid().map_err(|e| {
        format!(
            "cannot tell which user this process runs as, to check {}: {e}",
            dir.display()
        )
    })?;
    let mode = meta.mode() & 0o7777;
    let why = if meta.uid() != me && meta.uid() != 0 {
        format!(
            "it is owned by uid {}, not by this user (uid {me})",
            meta.uid()
        )
    } else if mode & 0o002 != 0 && mode & 0o1000 == 0 {
        format!("its mode {mode:04o} lets anyone rename and replace the files in it")
    } else {
        return Ok(());
    };
    Err(format!(
        "refusing to keep the token in the folder {}: {why}; keep it in a folder only \
         you (or root) can write, such as ~/.cache/amp",
        dir.display()
    ))
}

/// Without unix owners and modes, nothing to check.
#[cfg(not(unix))]
pub(super) fn check_folder(_dir: &Path) -> std::result::Result<(), String> {
    Ok(())
}

/// The effective user id of this process, whom a trusted file belongs to.
/// std has no `geteuid`, and libc's needs `unsafe`; Linux tells it in
/// `/proc/self/status` (the second field of `Uid:`: real, effective, saved, fs).
#[cfg(target_os = "linux")]
fn effective_uid() -> io::Result<u32> {
    let status = fs::read_to_string("/proc/self/status")?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        .and_then(|euid| euid.parse().ok())
        .ok_or_else(|| io::Error::other("/proc/self/status has no effective uid"))
}

/// The effective user id of this process, whom a trusted file belongs to:
/// without /proc, the owner of a file this process creates.
#[cfg(all(unix, not(target_os = "linux")))]
fn effective_uid() -> io::Result<u32> {
    use std::os::unix::fs::MetadataExt;
    let probe = std::env::temp_dir().join(format!(
        ".amp-uid-{}-{:016x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    let uid = OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .and_then(|file| file.metadata())
        .map(|meta| meta.uid());
    let _ = fs::remove_file(&probe);
    uid
}

/// Gives a regular file mode 0600 (best effort; symlinks and folders are left alone).
pub(super) fn restrict_to_owner(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if fs::symlink_metadata(path).is_ok_and(|m| m.is_file()) {
            let _ = fs::set_permissions(path, fs::Permissions::from_mode(0o600));
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

/// Removes the temporary files of writers killed mid-write (best effort).
pub(super) fn remove_stale_temps(dir: &Path, name: &str) {
    let prefix = format!(".{name}.tmp-");
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !entry.file_name().to_string_lossy().starts_with(&prefix) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|age| age > STALE_TEMP_AGE);
        if stale {
            let _ = fs::remove_file(entry.path());
        }
    }
}

pub(super) fn same_file(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        a.dev() == b.dev() && a.ino() == b.ino()
    }
    #[cfg(not(unix))]
    {
        a.len() == b.len() && a.modified().ok() == b.modified().ok()
    }
}

/// Creates `dir` and its missing ancestors, each with mode 0700 on unix.
pub(super) fn create_private_dirs(dir: &Path) -> io::Result<()> {
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
            // Created by another process meanwhile.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && d.is_dir() => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Writes `bytes` to the new file `path` (mode 0600) and syncs it to disk.
pub(super) fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
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
pub(super) fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
pub(super) fn sync_dir(_dir: &Path) -> io::Result<()> {
    // Folders cannot be opened for syncing on every platform; the rename is
    // atomic there all the same.
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_effective_uid_owns_the_files_this_process_creates() {
        use std::os::unix::fs::MetadataExt;
        let path = std::env::temp_dir().join(format!(
            "amp-euid-{}-{:08x}",
            std::process::id(),
            fastrand::u32(..)
        ));
        write_synced(&path, b"x").unwrap();
        let owner = fs::metadata(&path).unwrap().uid();
        fs::remove_file(&path).unwrap();
        assert_eq!(effective_uid().unwrap(), owner);
    }
}
