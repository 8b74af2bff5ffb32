//! Where the agent listens, and who may call it.
//!
//! By default a Unix socket: the file system decides who may call (the
//! socket is 0600 in a folder of its own, 0700), so a caller needs no
//! credential at all. Loopback TCP only when asked, and then every request
//! carries a key the agent made at start and wrote to a 0600 file: on TCP
//! any local user could connect, so the key stands in for the file mode.
//! Never an address off loopback: the agent would hand AMP to the network.

use std::io::Write;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use amp_client::private_fs::{create_private_dirs, distrust_folder};

use crate::failure::{CliResult, Failure};

/// The name of the header TCP callers put the key in.
pub const KEY_HEADER: &str = "x-amp-agent-key";

/// The agent's folder under `$XDG_RUNTIME_DIR`, for the default socket and key.
fn runtime_folder(what: &str) -> CliResult<PathBuf> {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => Ok(PathBuf::from(dir).join("amp")),
        None => Err(Failure::usage(format!(
            "XDG_RUNTIME_DIR is not set: give the {what} a path ({})",
            if what == "socket" {
                "--socket PATH"
            } else {
                "--key-file PATH"
            }
        ))),
    }
}

/// The socket's path: `--socket`, else `$XDG_RUNTIME_DIR/amp/agent.sock`.
pub fn default_socket() -> CliResult<PathBuf> {
    Ok(runtime_folder("socket")?.join("agent.sock"))
}

/// The key file's path: `--key-file`, else `$XDG_RUNTIME_DIR/amp/agent.key`.
pub fn default_key_file() -> CliResult<PathBuf> {
    Ok(runtime_folder("key file")?.join("agent.key"))
}

/// Makes `folder` ready to hold the socket or the key: created 0700 when
/// missing. An existing folder is left as its owner made it, except the
/// agent's own default folder, which is made 0700 (a file mode can only
/// protect what its folder lets through).
fn prepare_folder(folder: &Path, private: bool) -> CliResult {
    match std::fs::symlink_metadata(folder) {
        Ok(meta) if meta.is_dir() => {
            if private && meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(folder, std::fs::Permissions::from_mode(0o700)).map_err(
                    |e| {
                        Failure::runtime(format!(
                            "{} is open to other users and cannot be made private: {e}",
                            folder.display()
                        ))
                    },
                )?;
            }
            Ok(())
        }
        Ok(_) => Err(Failure::runtime(format!(
            "{} is not a folder",
            folder.display()
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => create_private_dirs(folder)
            .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", folder.display()))),
        Err(e) => Err(Failure::runtime(format!(
            "cannot read {}: {e}",
            folder.display()
        ))),
    }
}

/// Refuses a path with control characters: it is printed on the ready
/// lines, which scripts `eval`, and on terminals.
fn check_printable(path: &Path) -> CliResult {
    if path.to_string_lossy().chars().any(char::is_control) {
        return Err(Failure::usage(format!(
            "{}: a path with control characters is not used",
            path.display().to_string().escape_debug()
        )));
    }
    Ok(())
}

/// Refuses a folder that another user than this one or root owns, or that
/// anyone (or a group this user is not in) may write in without the
/// sticky bit, and one below such a folder ([`distrust_folder`]): whoever
/// can rename files there can swap the socket or the key file for their
/// own between two of the agent's steps, or later, and read what callers
/// send. Group-write by a group of the user's passes (umask 002 gives it to
/// every folder of a per-user group), as for the file token store.
fn check_trusted(folder: &Path) -> CliResult {
    let why = distrust_folder(folder)
        .map_err(|e| Failure::runtime(format!("cannot check {}: {e}", folder.display())))?;
    match why {
        None => Ok(()),
        Some((dir, why)) => Err(Failure::runtime(format!(
            "refusing to serve from {}: {why}; give a path in a folder only you (or root) can write",
            dir.display()
        ))),
    }
}

/// Holds `<path>.lock` (created 0600, in a folder [`check_trusted`] passed,
/// so nobody else can have put a link there) for as long as the file lives: a
/// second agent started on the same socket or key file, even at the same
/// moment, is refused instead of replacing the first one's file. The lock
/// file stays (removing it would race the next agent's lock); the kernel
/// lets go of the lock when the process ends, however it ends.
fn hold_lock(path: &Path) -> CliResult<std::fs::File> {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    let lock_path = PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(&lock_path)
        .map_err(|e| Failure::runtime(format!("cannot open {}: {e}", lock_path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(Failure::runtime(format!(
            "{} is in use: another agent holds {} (stop it, or give another path)",
            path.display(),
            lock_path.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(Failure::runtime(format!(
            "cannot lock {}: {e}",
            lock_path.display()
        ))),
    }
}

/// Whether something answers on the socket at `path`: connected (yes),
/// refused (no: a stale socket), or no answer within a second (yes: a
/// listener that is stopped or whose queue is full still owns the path).
/// The connect runs on a thread of its own, which a hung connect keeps.
fn answers(path: &Path) -> std::io::Result<bool> {
    let (tx, rx) = std::sync::mpsc::channel();
    let probe = path.to_path_buf();
    std::thread::spawn(move || {
        let _ = tx.send(std::os::unix::net::UnixStream::connect(&probe).map(drop));
    });
    match rx.recv_timeout(std::time::Duration::from_secs(1)) {
        Ok(Ok(())) | Err(_) => Ok(true),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::ConnectionRefused => Ok(false),
        Ok(Err(e)) => Err(e),
    }
}

/// A private scratch folder beside `path` (0700), where a file is made with
/// its final mode before it is renamed into place: nobody can open it in
/// between, whatever the mode of the folder around it.
struct Scratch(PathBuf);

impl Scratch {
    fn beside(path: &Path) -> CliResult<Scratch> {
        let parent = parent_of(path);
        let nonce = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        let dir = parent.join(format!(".amp-agent-{}-{nonce}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&dir)
            .map_err(|e| Failure::runtime(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Scratch(dir))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // What was made here has been renamed out, or is discarded.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn parent_of(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// The file a socket or key was put at, removed when dropped if it is still
/// the one the agent put there (another agent may have replaced it since).
#[derive(Debug)]
pub struct Placed {
    path: PathBuf,
    id: (u64, u64),
    /// `<path>.lock`, held while the file is the agent's.
    _lock: Option<std::fs::File>,
}

impl Placed {
    /// Where it is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn at(path: &Path, lock: std::fs::File) -> CliResult<Placed> {
        let meta = std::fs::symlink_metadata(path)
            .map_err(|e| Failure::runtime(format!("cannot read {}: {e}", path.display())))?;
        Ok(Placed {
            path: path.to_path_buf(),
            id: (meta.dev(), meta.ino()),
            _lock: Some(lock),
        })
    }

    /// What an agent killed with -9 leaves: the file, and no lock.
    #[cfg(test)]
    fn crash(mut self) {
        self._lock = None;
        std::mem::forget(self);
    }

    /// Removes the file now, if it is still ours.
    pub fn remove(&self) {
        if let Ok(meta) = std::fs::symlink_metadata(&self.path) {
            if (meta.dev(), meta.ino()) == self.id {
                let _ = std::fs::remove_file(&self.path);
            }
        }
    }
}

impl Drop for Placed {
    fn drop(&mut self) {
        self.remove();
    }
}

/// Binds the Unix socket at `path`, 0600, in a folder made 0700 when the
/// agent creates it (`default`: the agent's own folder, made private if it
/// is not).
///
/// A socket already there is probed first: if something answers, the
/// agent refuses to start (another agent serves it); if nothing does, it
/// is a stale socket left by an agent that died, and is replaced. Anything
/// else at the path (a file, a folder, a link) is refused, never removed.
/// The new socket is bound in a private scratch folder, given its mode,
/// and renamed over the path: at no moment can another user connect to it,
/// and callers see either the old path or the new socket.
///
/// Before any of that, the folder is checked, where it would be made and
/// once it is ready ([`check_trusted`]: another user's, one anyone or a
/// group this user is not in may write, or one below such a folder, is
/// refused), and `<path>.lock` is
/// taken for the agent's life, so two agents started at once on one path
/// cannot both go on (the probe alone could not tell them apart).
pub fn bind_socket(path: &Path, default: bool) -> CliResult<(tokio::net::UnixListener, Placed)> {
    check_printable(path)?;
    // Where the folder would be made, before anything is made there;
    // the folder itself once it is ready (the default one is made 0700).
    check_trusted(parent_of(parent_of(path)))?;
    prepare_folder(parent_of(path), default)?;
    check_trusted(parent_of(path))?;
    let scratch = Scratch::beside(path)?;
    let lock = hold_lock(path)?;
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => match answers(path) {
            Ok(true) => {
                return Err(Failure::runtime(format!(
                    "{} is in use: another agent answers on it (stop it, or give another --socket)",
                    path.display()
                )))
            }
            Ok(false) => {
                tracing::info!(target: "amp::agent", socket = %path.display(), "replacing a stale socket (nothing answers on it)");
            }
            Err(e) => {
                return Err(Failure::runtime(format!(
                    "{} exists and cannot be probed ({e}); not replacing it",
                    path.display()
                )))
            }
        },
        Ok(_) => {
            return Err(Failure::runtime(format!(
                "{} exists and is not a socket; not replacing it",
                path.display()
            )))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(Failure::runtime(format!(
                "cannot read {}: {e}",
                path.display()
            )))
        }
    }
    let temporary = scratch.0.join("s");
    let listener = tokio::net::UnixListener::bind(&temporary).map_err(|e| {
        Failure::runtime(format!(
            "cannot listen on {} (bound first as {}): {e}",
            path.display(),
            temporary.display()
        ))
    })?;
    std::fs::set_permissions(&temporary, std::fs::Permissions::from_mode(0o600))
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(|e| {
            Failure::runtime(format!("cannot put the socket at {}: {e}", path.display()))
        })?;
    drop(scratch);
    Ok((listener, Placed::at(path, lock)?))
}

/// Binds loopback TCP at `addr` (`127.0.0.1:PORT`, `[::1]:PORT`); any other
/// address is refused: the agent's callers use AMP with its token, and only
/// this host's programs may.
pub async fn bind_tcp(addr: &str) -> CliResult<tokio::net::TcpListener> {
    let parsed: SocketAddr = addr.parse().map_err(|_| {
        Failure::usage(format!(
            "--listen {addr:?}: not an address and port such as 127.0.0.1:8700"
        ))
    })?;
    if !parsed.ip().is_loopback() {
        return Err(Failure::usage(format!(
            "--listen {addr:?}: only a loopback address (127.0.0.1, ::1) is served; \
             the agent calls AMP with its token for whoever reaches it"
        )));
    }
    tokio::net::TcpListener::bind(parsed)
        .await
        .map_err(|e| Failure::runtime(format!("cannot listen on {parsed}: {e}")))
}

/// The key TCP callers must show: 32 random bytes, as 64 hex digits.
pub struct Key(Zeroizing<String>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key([REDACTED])")
    }
}

impl Key {
    /// A new key from the operating system's random source.
    pub fn generate() -> CliResult<Key> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        getrandom::getrandom(bytes.as_mut())
            .map_err(|e| Failure::runtime(format!("cannot make a key: {e}")))?;
        let mut hex = Zeroizing::new(String::with_capacity(64));
        for b in bytes.iter() {
            const DIGITS: &[u8; 16] = b"0123456789abcdef";
            hex.push(char::from(DIGITS[usize::from(b >> 4)]));
            hex.push(char::from(DIGITS[usize::from(b & 0xf)]));
        }
        Ok(Key(hex))
    }

    /// Whether `given` is the key, in time that does not depend on where
    /// they differ (a caller timing the answers learns nothing of it).
    pub fn matches(&self, given: &[u8]) -> bool {
        bool::from(self.0.as_bytes().ct_eq(given))
    }

    /// Writes the key to `path`, 0600, replacing what a previous agent left
    /// (made in a private scratch folder, then renamed into place), in a
    /// folder checked as the socket's is, holding `<path>.lock` for the
    /// agent's life (a second agent would otherwise replace the key the
    /// first one's callers read).
    pub fn write(&self, path: &Path) -> CliResult<Placed> {
        check_printable(path)?;
        // Where the folder would be made, before anything is made there;
        // the folder itself once it is ready (the default one is made 0700).
        check_trusted(parent_of(parent_of(path)))?;
        prepare_folder(parent_of(path), false)?;
        check_trusted(parent_of(path))?;
        let scratch = Scratch::beside(path)?;
        let lock = hold_lock(path)?;
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            if !meta.is_file() {
                return Err(Failure::runtime(format!(
                    "{} exists and is not a file; not replacing it",
                    path.display()
                )));
            }
        }
        let temporary = scratch.0.join("k");
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut f| f.write_all(self.0.as_bytes()).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&temporary, path));
        written.map_err(|e| {
            Failure::runtime(format!("cannot write the key to {}: {e}", path.display()))
        })?;
        drop(scratch);
        Placed::at(path, lock)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folder(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "amp-agent-unit-{}-{name}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn keys_are_64_hex_digits_each_new_and_compared_whole() {
        let a = Key::generate().unwrap();
        let b = Key::generate().unwrap();
        assert_eq!(a.0.len(), 64);
        assert!(a.0.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.0.as_str(), b.0.as_str());
        assert!(a.matches(a.0.as_bytes()));
        assert!(!a.matches(b.0.as_bytes()));
        assert!(!a.matches(&a.0.as_bytes()[..63]));
        assert!(!a.matches(b""));
        assert!(!format!("{a:?}").contains(a.0.as_str()));
    }

    #[test]
    fn the_key_file_is_0600_and_removed_only_while_it_is_ours() {
        let dir = folder("key");
        let path = dir.join("sub").join("agent.key");
        let key = Key::generate().unwrap();
        let placed = key.write(&path).unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        assert_eq!(
            std::fs::metadata(dir.join("sub"))
                .unwrap()
                .permissions()
                .mode()
                & 0o777,
            0o700
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), key.0.as_str());
        // A second agent on the same key file, while the first lives: refused,
        // the first one's key left as it was.
        let e = Key::generate().unwrap().write(&path).unwrap_err();
        assert!(e.to_string().contains("another agent"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), key.0.as_str());
        // The first one killed -9 (its file left, its lock gone): a new agent
        // writes its own; the old guard must not remove the new file.
        let stale = Placed {
            path: placed.path.clone(),
            id: placed.id,
            _lock: None,
        };
        placed.crash();
        let newer = Key::generate().unwrap().write(&path).unwrap();
        drop(stale);
        assert!(path.exists());
        drop(newer);
        assert!(!path.exists());
        // Nothing left of the scratch folders; the lock file stays.
        let left: Vec<_> = std::fs::read_dir(dir.join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, ["agent.key.lock"]);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn only_loopback_is_served() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        for addr in ["0.0.0.0:0", "192.0.2.1:0", "[::]:0", "localhost:0", "x"] {
            let e = rt.block_on(bind_tcp(addr)).unwrap_err();
            assert!(e.to_string().contains("--listen"), "{addr}: {e}");
        }
        let l = rt.block_on(bind_tcp("127.0.0.1:0")).unwrap();
        assert!(l.local_addr().unwrap().ip().is_loopback());
    }

    #[test]
    fn a_stale_socket_is_replaced_a_live_one_or_a_file_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let dir = folder("sock");
        let path = dir.join("agent.sock");
        let (live, placed) = bind_socket(&path, false).unwrap();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
        // Something answers: refused, and the live socket is left alone.
        let e = bind_socket(&path, false).unwrap_err();
        assert!(e.to_string().contains("another agent"), "{e}");
        assert!(path.exists());
        // Its listener gone but the file left (an agent killed -9): replaced.
        drop(live);
        placed.crash();
        let (_new, placed) = bind_socket(&path, false).unwrap();
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
        drop(placed);
        assert!(!path.exists(), "removed on exit");
        // A file at the path is never removed.
        std::fs::write(&path, "mine").unwrap();
        let e = bind_socket(&path, false).unwrap_err();
        assert!(e.to_string().contains("not a socket"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "mine");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn the_default_folder_is_made_private() {
        let dir = folder("private");
        let amp = dir.join("amp");
        std::fs::create_dir(&amp).unwrap();
        std::fs::set_permissions(&amp, std::fs::Permissions::from_mode(0o755)).unwrap();
        prepare_folder(&amp, true).unwrap();
        assert_eq!(
            std::fs::metadata(&amp).unwrap().permissions().mode() & 0o777,
            0o700
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
    #[test]
    fn a_folder_anyone_may_write_or_a_path_with_controls_is_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let dir = folder("open");
        let open = dir.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = bind_socket(&open.join("agent.sock"), false).unwrap_err();
        assert!(e.to_string().contains("lets anyone rename"), "{e}");
        let e = Key::generate()
            .unwrap()
            .write(&open.join("agent.key"))
            .unwrap_err();
        assert!(e.to_string().contains("lets anyone rename"), "{e}");
        assert_eq!(
            std::fs::read_dir(&open).unwrap().count(),
            0,
            "nothing made there"
        );
        // A private folder below the open one: the open one could rename
        // it away, socket and all. Refused, the open folder named.
        let below = open.join("mine");
        std::fs::create_dir(&below).unwrap();
        std::fs::set_permissions(&below, std::fs::Permissions::from_mode(0o700)).unwrap();
        let e = bind_socket(&below.join("agent.sock"), false).unwrap_err();
        let named = format!("refusing to serve from {}: its mode 0777", open.display());
        assert!(e.to_string().contains(&named), "{e}");
        assert_eq!(std::fs::read_dir(&below).unwrap().count(), 0);
        std::fs::remove_dir(&below).unwrap();
        // … and nothing is made there first: a folder that does not exist
        // yet under the open one is not created.
        let e = bind_socket(&open.join("new/agent.sock"), false).unwrap_err();
        assert!(e.to_string().contains(&named), "{e}");
        let e = Key::generate()
            .unwrap()
            .write(&open.join("new/agent.key"))
            .unwrap_err();
        assert!(e.to_string().contains(&named), "{e}");
        assert!(
            !open.join("new").exists(),
            "nothing made in the open folder"
        );
        // With the sticky bit (as /tmp), nobody may rename what is ours: served.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let (_listener, placed) = bind_socket(&open.join("agent.sock"), false).unwrap();
        drop(placed);
        // A newline in a path would add a line to what scripts `eval`.
        let e = bind_socket(&dir.join("a\nAMP_AGENT_URL=x"), false).unwrap_err();
        assert!(e.to_string().contains("control characters"), "{e}");
        let e = Key::generate()
            .unwrap()
            .write(&dir.join("k\u{1b}[2J"))
            .unwrap_err();
        assert!(e.to_string().contains("control characters"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    #[ignore = "needs root: gives a folder to another user (CI runs it as root)"]
    fn a_folder_of_another_user_is_refused() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let dir = folder("theirs");
        let theirs = dir.join("theirs");
        std::fs::create_dir(&theirs).unwrap();
        std::fs::set_permissions(&theirs, std::fs::Permissions::from_mode(0o700)).unwrap();
        // nobody
        std::os::unix::fs::chown(&theirs, Some(65534), Some(65534)).unwrap();
        let e = bind_socket(&theirs.join("agent.sock"), false).unwrap_err();
        assert!(e.to_string().contains("owned by uid 65534"), "{e}");
        let e = Key::generate()
            .unwrap()
            .write(&theirs.join("agent.key"))
            .unwrap_err();
        assert!(e.to_string().contains("owned by uid 65534"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_listener_that_does_not_answer_is_in_use_not_a_hang() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let _guard = rt.enter();
        let dir = folder("full");
        let path = dir.join("agent.sock");
        // Another program's listener (no lock of ours) that never accepts:
        // once its queue is full, a connect waits for ever.
        let _theirs = std::os::unix::net::UnixListener::bind(&path).unwrap();
        let mut queued = Vec::new();
        rt.block_on(async {
            for _ in 0..100_000 {
                let connect = tokio::net::UnixStream::connect(&path);
                match tokio::time::timeout(std::time::Duration::from_millis(200), connect).await {
                    Ok(Ok(stream)) => queued.push(stream),
                    _ => break,
                }
            }
        });
        assert!(!queued.is_empty());
        let e = bind_socket(&path, false).unwrap_err();
        assert!(e.to_string().contains("in use"), "{e}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
