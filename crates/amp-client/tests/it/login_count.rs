//! How many logins and refreshes the client makes. These are
//! counts, taken at the sandbox and from the client's own counters; nothing
//! here asserts a time.

use std::sync::Arc;
use std::time::Duration;

use amp_client::{AmpClient, Config, MemoryStore, TokioClock};
use amp_sandbox::Sandbox;

fn client(sandbox: &Sandbox) -> AmpClient {
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()
        .unwrap();
    AmpClient::builder(config)
        .clock(Arc::new(TokioClock::new()))
        .store(Arc::new(MemoryStore::new()))
        .build()
        .unwrap()
}

fn logins(s: &Sandbox) -> u64 {
    s.count("POST", "/user/obtain_token")
}

fn refreshes(s: &Sandbox) -> u64 {
    s.count("GET", "/user/refresh-token") + s.count("POST", "/user/refresh-token")
}

// A cold start: 10,000 tasks ask for a token at once on a client that has
// none. They all wait for the one login and all get its token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cold_start_with_10_000_callers_logs_in_once() {
    let sandbox = Sandbox::builder().record_limit(100).start().await.unwrap();
    let client = client(&sandbox);
    let tasks: Vec<_> = (0..10_000)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.token_manager().token().await.map(|t| t.generation()) })
        })
        .collect();
    let mut generations = std::collections::BTreeSet::new();
    for t in tasks {
        generations.insert(t.await.unwrap().unwrap());
    }
    assert_eq!(logins(&sandbox), 1);
    assert_eq!(generations.len(), 1, "every caller got the same token");
    let s = client.token_manager().stats();
    assert_eq!((s.obtains, s.refreshes, s.failures), (1, 0, 0));
    // The token works for the API.
    client.get::<serde_json::Value>("assets/").await.unwrap();
    assert_eq!(logins(&sandbox), 1);
}

// 72 simulated hours, a call every simulated second, in paused time with the
// sandbox on the same runtime: one login, a refresh before each of the three
// expiries, and no call fails.
//
// Every second asks the token manager for the token (what every API call
// does first); every minute the call is a real `GET /assets/` through the
// client. A real request every second as well (259,200 of them) takes about
// 165 s in a debug build on 2 cores, too long for a test; the release-build
// bench `refresh_under_load` prints the same counts.
#[tokio::test(start_paused = true)]
async fn three_days_with_a_call_every_second_one_login_three_refreshes() {
    let sandbox = Sandbox::builder().record_limit(100).start().await.unwrap();
    let client = client(&sandbox);
    let mut failed = 0u32;
    let seconds = 72 * 3600u64;
    for second in 0..seconds {
        let ok = if second % 60 == 0 {
            client.get::<serde_json::Value>("assets/").await.is_ok()
        } else {
            client.token_manager().token().await.is_ok()
        };
        failed += u32::from(!ok);
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    assert_eq!(failed, 0);
    assert_eq!(sandbox.count("GET", "/assets"), seconds / 60);
    assert_eq!(logins(&sandbox), 1);
    assert_eq!(refreshes(&sandbox), 3);
    let s = client.token_manager().stats();
    assert_eq!(
        (s.obtains, s.refreshes, s.failures, s.fallbacks, s.reauths),
        (1, 3, 0, 0, 0)
    );
}
