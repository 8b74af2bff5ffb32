//! The file-system steps of [`FileStore`](super::FileStore) that are its
//! own: files set aside made 0600, writers' leftovers removed, and the
//! check that a file found in place belongs to this user and to nobody
//! else. The steps it shares with other programs (folders created 0700,
//! files written 0600 and synced, the trust of a folder and of every
//! folder above it) are in [`crate::private_fs`].

use std::fs;
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
    let me = rustix::process::geteuid().as_raw();
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
