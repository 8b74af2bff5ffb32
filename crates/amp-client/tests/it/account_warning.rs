//! The warning about a stored token of another account names both
//! accounts and never a secret. (The account a token is bound to:
//! `accounts`.)

use crate::common::capture;

use std::sync::Arc;

use amp_client::{account_name, AmpClient, Config, MemoryStore, StoreSpec};
use amp_sandbox::Sandbox;
use capture::Capture;
use secrecy::ExposeSecret;

fn issuer(sandbox: &Sandbox, store: &MemoryStore) -> AmpClient {
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .token_store(StoreSpec::Memory)
        .build()
        .unwrap();
    AmpClient::builder(config)
        .store(Arc::new(store.clone()))
        .build()
        .unwrap()
}

/// Two API roots sharing one store (clones of a `MemoryStore` share their
/// token, and keep no account apart): each switch is one warning, naming
/// the account the token was stored for and the client's, and no token or
/// password is in the log.
#[tokio::test]
async fn the_warning_names_both_accounts_and_no_secret() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start().await.unwrap();
    let store = MemoryStore::new();
    let capture = Capture::default();
    let _guard = capture.start("amp_client=warn");

    let on_a = issuer(&a, &store);
    on_a.assets().list().await.unwrap();
    let on_b = issuer(&b, &store);
    on_b.assets().list().await.unwrap();
    issuer(&a, &store).assets().list().await.unwrap();

    let logs = capture.text();
    let warnings: Vec<&str> = logs
        .lines()
        .filter(|l| l.contains("not this account's"))
        .collect();
    assert_eq!(warnings.len(), 2, "one per switch: {logs}");
    let account = |s: &Sandbox| account_name(&s.base_url(), s.username());
    for w in &warnings {
        assert!(
            w.contains(&account(&a)) && w.contains(&account(&b)),
            "{logs}"
        );
    }
    let tokens = [
        on_a.token_manager().snapshot().unwrap(),
        on_b.token_manager().snapshot().unwrap(),
    ];
    for secret in [
        tokens[0].token().expose_secret(),
        tokens[1].token().expose_secret(),
        a.password(),
    ] {
        assert!(!logs.contains(secret), "a secret in the logs: {logs}");
    }
}
