//! The `metrics` feature: every counter, the expiry gauge and
//! the renewal histogram reach a real recorder (metrics-util's debugging
//! recorder), under the names the table in the crate docs gives.
#![cfg(feature = "metrics")]

use std::sync::Arc;

use amp_client::{AmpClient, Config, RetryConfig, TokioClock};
use amp_sandbox::{Fault, Sandbox};
use metrics_util::debugging::{DebugValue, DebuggingRecorder};

type Seen = Vec<(String, Vec<(String, String)>, DebugValue)>;

fn seen(recorder: &DebuggingRecorder) -> Seen {
    recorder
        .snapshotter()
        .snapshot()
        .into_vec()
        .into_iter()
        .map(|(key, _, _, value)| {
            let key = key.key();
            let labels = key
                .labels()
                .map(|l| (l.key().to_string(), l.value().to_string()))
                .collect();
            (key.name().to_string(), labels, value)
        })
        .collect()
}

fn counter(seen: &Seen, name: &str, label: Option<(&str, &str)>) -> u64 {
    seen.iter()
        .filter(|(n, labels, _)| {
            n == name && label.is_none_or(|(k, v)| labels.iter().any(|(lk, lv)| lk == k && lv == v))
        })
        .map(|(_, _, v)| match v {
            DebugValue::Counter(c) => *c,
            _ => 0,
        })
        .sum()
}

#[tokio::test(start_paused = true)]
async fn every_metric_reaches_the_recorder() {
    let recorder = DebuggingRecorder::new();
    let _local = metrics::set_default_local_recorder(&recorder);
    let sandbox = Sandbox::start().await.unwrap();
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .retry(RetryConfig::for_tests())
        .build()
        .unwrap();
    let client = AmpClient::builder(config)
        .clock(Arc::new(TokioClock::new()))
        .build()
        .unwrap();
    let m = client.token_manager();

    // A minute between renewals, so each moves the expiry forward (one
    // that did not would make the next a login, by rule).
    let minute = std::time::Duration::from_secs(60);
    client.assets().list().await.unwrap(); // a login
    tokio::time::advance(minute).await;
    m.force_refresh().await.unwrap(); // a refresh
    tokio::time::advance(minute).await;
    sandbox.push_fault("/user/refresh-token", Fault::Status(500));
    sandbox.push_fault("/user/refresh-token", Fault::Status(500));
    m.force_refresh().await.unwrap(); // a refresh that falls back to a login
    sandbox.revoke_all_tokens();
    client.assets().list().await.unwrap(); // a 401, a re-login
    sandbox.push_fault("/assets", Fault::RateLimitSeconds(1));
    client.assets().list().await.unwrap(); // a 429 and a retry
    for _ in 0..2 {
        sandbox.push_fault("/user/obtain_token", Fault::Status(503));
    }
    assert!(m.login().await.is_err()); // a failed renewal, by the server
    tokio::time::advance(std::time::Duration::from_secs(2)).await;

    let seen = seen(&recorder);
    let stats = m.stats();
    let expect = [
        ("amp_http_requests_total", None, stats.requests),
        ("amp_http_retries_total", None, stats.retries),
        ("amp_http_rate_limited_total", None, 1),
        ("amp_token_logins_total", None, 3),
        ("amp_token_refreshes_total", None, 1),
        ("amp_token_refresh_fallbacks_total", None, 1),
        ("amp_token_relogins_total", None, 1),
        ("amp_token_renewal_failures_total", None, 1),
        (
            "amp_token_renewal_failures_by_cause_total",
            Some(("cause", "server")),
            1,
        ),
    ];
    for (name, label, want) in expect {
        assert_eq!(counter(&seen, name, label), want, "{name}");
    }
    assert!(stats.retries >= 3, "the 429, and the 503 and 500s retried");
    let gauge = seen
        .iter()
        .find_map(|(n, _, v)| match v {
            DebugValue::Gauge(g) if n == "amp_token_expires_in_seconds" => Some(g.into_inner()),
            _ => None,
        })
        .expect("the expiry gauge");
    assert!(gauge > 23.0 * 3600.0 && gauge <= 24.0 * 3600.0, "{gauge}");
    let renewals: Vec<(Vec<(String, String)>, usize)> = seen
        .iter()
        .filter_map(|(n, labels, v)| match v {
            DebugValue::Histogram(h) if n == "amp_token_renewal_duration_seconds" => {
                Some((labels.clone(), h.len()))
            }
            _ => None,
        })
        .collect();
    let outcome = |o: &str| {
        renewals
            .iter()
            .filter(|(l, _)| l.iter().any(|(k, v)| k == "outcome" && v == o))
            .map(|(_, n)| n)
            .sum::<usize>()
    };
    assert_eq!(outcome("renewed"), 4, "{renewals:?}");
    assert_eq!(outcome("failed"), 1, "{renewals:?}");
}
