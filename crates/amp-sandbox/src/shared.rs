//! The state the sandbox's handle and its server share, each part under a
//! lock of its own.

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use tokio::sync::watch;

use crate::auth::Tokens;
use crate::data::Store;
use crate::faults::{Fault, FaultTable};
use crate::node::NodeShared;
use crate::stats::{Recorder, RequestRecord, Stats};

/// Locks a mutex, carrying on through poisoning: every critical section leaves
/// the data consistent, so a panic elsewhere must not take the server down.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Settings that can change while the sandbox runs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Settings {
    pub(crate) token_life: Duration,
    pub(crate) refresh_revokes_old: bool,
}

/// The state shared by the handle and the server. Each part has its own lock,
/// and no lock is held across an `.await` or while taking another.
pub(crate) struct Shared {
    pub(crate) username: String,
    /// The password the sandbox started with.
    pub(crate) password: String,
    /// The password `obtain_token` accepts now (`/user/change-password` changes it).
    pub(crate) login_password: Mutex<String>,
    /// The API root, `http://127.0.0.1:PORT/api`, for answers that name it.
    pub(crate) base_url: String,
    pub(crate) settings: Mutex<Settings>,
    pub(crate) tokens: Mutex<Tokens>,
    pub(crate) faults: Mutex<FaultTable>,
    pub(crate) recorder: Mutex<Recorder>,
    pub(crate) store: Mutex<Store>,
    /// Set to `true` on shutdown, so injected delays end at once.
    pub(crate) closing: watch::Sender<bool>,
    /// Faults taken by requests so far, for [`Sandbox::faults_taken`].
    pub(crate) faults_taken: watch::Sender<u64>,
    /// The simulated Elements node (its chain and wallet are in the store).
    pub(crate) node: NodeShared,
}

impl Shared {
    pub(crate) fn settings(&self) -> Settings {
        *lock(&self.settings)
    }

    pub(crate) fn login_password(&self) -> String {
        lock(&self.login_password).clone()
    }

    pub(crate) fn set_login_password(&self, password: String) {
        *lock(&self.login_password) = password;
    }

    pub(crate) fn tokens(&self) -> MutexGuard<'_, Tokens> {
        lock(&self.tokens)
    }

    pub(crate) fn faults(&self) -> MutexGuard<'_, FaultTable> {
        lock(&self.faults)
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        lock(&self.store)
    }

    pub(crate) fn next_fault(&self, route: &str, path: &str) -> Option<Fault> {
        let fault = self.faults().next(route, path);
        if fault.is_some() {
            self.faults_taken.send_modify(|n| *n += 1);
        }
        fault
    }

    pub(crate) fn record(&self, record: RequestRecord) {
        lock(&self.recorder).record(record);
    }

    pub(crate) fn count(&self, method: &str, route: &str) -> u64 {
        lock(&self.recorder).count(method, route)
    }

    pub(crate) fn stats(&self) -> Stats {
        lock(&self.recorder).snapshot()
    }

    pub(crate) fn reset_stats(&self) {
        lock(&self.recorder).reset();
    }

    pub(crate) fn set_token_life(&self, life: Duration) {
        lock(&self.settings).token_life = life;
    }

    pub(crate) fn set_refresh_revokes_old(&self, yes: bool) {
        lock(&self.settings).refresh_revokes_old = yes;
    }
}
