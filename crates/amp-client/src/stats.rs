//! The client's counters, declared once: the atomics the transport and the
//! token manager bump, and the [`Stats`] snapshot callers read, are both
//! made from the one list below.

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::Error;

macro_rules! counters {
    ($( $(#[doc = $doc:literal])+ $name:ident, )+) => {
        /// Counters for monitoring, read with
        /// [`TokenManager::stats`](crate::TokenManager::stats).
        ///
        /// ```
        /// let stats = amp_client::Stats::default();
        /// assert_eq!(stats.obtains, 0);
        /// ```
        #[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
        #[non_exhaustive]
        pub struct Stats {
            $( $(#[doc = $doc])+ pub $name: u64, )+
            /// The generation of the current token (0: none yet). Every new
            /// token, clear and revocation moves it on.
            pub generation: u64,
        }

        /// The live counters behind [`Stats`].
        #[derive(Debug, Default)]
        pub(crate) struct Counters {
            $( pub $name: AtomicU64, )+
        }

        impl Counters {
            /// The counters as they stand, with the current `generation`.
            pub fn read(&self, generation: u64) -> Stats {
                Stats {
                    $( $name: self.$name.load(Ordering::Relaxed), )+
                    generation,
                }
            }
        }
    };
}

counters! {
    /// HTTP requests sent, every attempt counted.
    requests,
    /// Tokens obtained with the credentials.
    obtains,
    /// Tokens refreshed with themselves.
    refreshes,
    /// Refreshes that failed and fell back to obtaining.
    fallbacks,
    /// Tokens dropped after the server rejected them (401), to be obtained again.
    reauths,
    /// Tokens taken from the store, renewed by another client or process.
    store_adoptions,
    /// Renewals that failed.
    failures,
    /// … of which the credentials were refused.
    failures_refused,
    /// … of which were rate limited.
    failures_rate_limited,
    /// … of which timed out.
    failures_timeout,
    /// … of which the network failed.
    failures_network,
    /// … of which the server failed (5xx).
    failures_server,
    /// … of which failed otherwise.
    failures_other,
    /// Attempts repeated after a failure, all requests counted.
    retries,
    /// 429 answers received.
    rate_limited,
}

impl Counters {
    /// Adds one to `counter`.
    pub fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a failed renewal under its cause.
    pub fn failure(&self, e: &Error) {
        Counters::bump(&self.failures);
        let by = if e.is_credentials_refused() {
            &self.failures_refused
        } else if e.is_rate_limited() {
            &self.failures_rate_limited
        } else if e.is_timeout() {
            &self.failures_timeout
        } else if e.is_transport() {
            &self.failures_network
        } else if e.status().is_some_and(|s| s.is_server_error()) {
            &self.failures_server
        } else {
            &self.failures_other
        };
        Counters::bump(by);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_reports_every_counter() {
        let c = Counters::default();
        Counters::bump(&c.obtains);
        Counters::bump(&c.retries);
        Counters::bump(&c.retries);
        let s = c.read(7);
        assert_eq!((s.obtains, s.retries, s.generation), (1, 2, 7));
        assert_eq!(s.refreshes, 0);
    }
}
