//! The file-system steps of the journal, each keeping it private and whole:
//! folders created 0700, files written 0600 to a temporary name, synced,
//! renamed over the old one, and the folder synced; a folder or file another
//! user could change is refused. The steps are amp-client's, those its file
//! token store keeps the token with ([`amp_client::private_fs`]).

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

pub(super) use amp_client::private_fs::{create_private_dirs, distrust, distrust_folder};
use amp_client::private_fs::{sync_dir, write_synced};

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
