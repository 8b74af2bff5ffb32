//! The client's counters, declared once: the atomics the transport and the
//! token manager bump, the [`Stats`] snapshot callers read, and (with the
//! `metrics` feature) the Prometheus-style metrics, are all made from the
//! one list below.
//!
//! The metrics and their names are listed in the crate docs (# Metrics).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::Error;

/// One counter: its value, and the metric it is reported as.
#[derive(Debug)]
pub(crate) struct Counter {
    value: AtomicU64,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    metric: &'static str,
    #[cfg_attr(not(feature = "metrics"), allow(dead_code))]
    label: Option<(&'static str, &'static str)>,
}

impl Counter {
    const fn new(metric: &'static str, label: Option<(&'static str, &'static str)>) -> Counter {
        Counter {
            value: AtomicU64::new(0),
            metric,
            label,
        }
    }

    /// Adds one, here and to the metric.
    pub fn bump(&self) {
        self.value.fetch_add(1, Ordering::Relaxed);
        #[cfg(feature = "metrics")]
        match self.label {
            Some((key, value)) => metrics::counter!(self.metric, key => value).increment(1),
            None => metrics::counter!(self.metric).increment(1),
        }
    }

    fn get(&self) -> u64 {
        self.value.load(Ordering::Relaxed)
    }
}

macro_rules! counters {
    ($( $(#[doc = $doc:literal])+ $name:ident => $metric:literal $(, $key:literal = $value:literal)?; )+) => {
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
        #[derive(Debug)]
        pub(crate) struct Counters {
            $( pub $name: Counter, )+
        }

        impl Default for Counters {
            fn default() -> Counters {
                Counters {
                    $( $name: Counter::new($metric, counters!(@label $($key, $value)?)), )+
                }
            }
        }

        impl Counters {
            /// The counters as they stand, with the current `generation`.
            pub fn read(&self, generation: u64) -> Stats {
                Stats {
                    $( $name: self.$name.get(), )+
                    generation,
                }
            }
        }
    };
    (@label $key:literal, $value:literal) => { Some(($key, $value)) };
    (@label) => { None };
}

counters! {
    /// HTTP requests sent, every attempt counted.
    requests => "amp_http_requests_total";
    /// Tokens obtained with the credentials.
    obtains => "amp_token_logins_total";
    /// Tokens refreshed with themselves.
    refreshes => "amp_token_refreshes_total";
    /// Refreshes that failed and fell back to obtaining.
    fallbacks => "amp_token_refresh_fallbacks_total";
    /// Tokens dropped after the server rejected them (401), to be obtained again.
    reauths => "amp_token_relogins_total";
    /// Tokens taken from the store, renewed by another client or process.
    store_adoptions => "amp_token_store_adoptions_total";
    /// Renewals that failed.
    failures => "amp_token_renewal_failures_total";
    /// … of which the credentials were refused.
    failures_refused => "amp_token_renewal_failures_by_cause_total", "cause" = "refused";
    /// … of which were rate limited.
    failures_rate_limited => "amp_token_renewal_failures_by_cause_total", "cause" = "rate_limited";
    /// … of which timed out.
    failures_timeout => "amp_token_renewal_failures_by_cause_total", "cause" = "timeout";
    /// … of which the network failed.
    failures_network => "amp_token_renewal_failures_by_cause_total", "cause" = "network";
    /// … of which the server failed (5xx).
    failures_server => "amp_token_renewal_failures_by_cause_total", "cause" = "server";
    /// … of which failed otherwise.
    failures_other => "amp_token_renewal_failures_by_cause_total", "cause" = "other";
    /// Attempts repeated after a failure, all requests counted.
    retries => "amp_http_retries_total";
    /// 429 answers received.
    rate_limited => "amp_http_rate_limited_total";
}

impl Counters {
    /// Counts a failed renewal under its cause.
    pub fn failure(&self, e: &Error) {
        self.failures.bump();
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
        by.bump();
    }
}

/// Sets the gauge of seconds left on the current token (`None`: no token).
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn token_expires_in(seconds: Option<f64>) {
    #[cfg(feature = "metrics")]
    metrics::gauge!("amp_token_expires_in_seconds").set(seconds.unwrap_or(0.0).max(0.0));
}

/// Records how long a renewal took, and how it ended.
#[cfg_attr(not(feature = "metrics"), allow(unused_variables))]
pub(crate) fn renewal_took(seconds: f64, outcome: &'static str) {
    #[cfg(feature = "metrics")]
    metrics::histogram!("amp_token_renewal_duration_seconds", "outcome" => outcome).record(seconds);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_reports_every_counter() {
        let c = Counters::default();
        c.obtains.bump();
        c.retries.bump();
        c.retries.bump();
        let s = c.read(7);
        assert_eq!((s.obtains, s.retries, s.generation), (1, 2, 7));
        assert_eq!(s.refreshes, 0);
    }
}
