//! Authentication: the token, the pure rules about it, its manager, the two
//! auth calls, the stores, and the one home of the client's secrets.

pub(crate) mod clock;
pub(crate) mod manager;
pub(crate) mod policy;
pub(crate) mod secrets;
pub(crate) mod state;
pub(crate) mod store;
pub(crate) mod token;

/// Locks a synchronous mutex of the token machinery. Every critical section
/// under these locks is a few loads and stores, so a panic while holding one
/// leaves consistent data behind, and a poisoned lock is used as it is.
pub(crate) fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}
