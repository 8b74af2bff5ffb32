//! A token goes only to the account it was issued for, whatever
//! the store: here a `TokenStore` written the way a user might, one slot
//! shared by every client that ignores accounts altogether. The token
//! manager checks the account of what it is handed, so another API root or
//! another user never gets the token sent. (The warning that names both
//! accounts: `account_warning`.)

use std::sync::{Arc, Mutex};

use amp_client::{account_name, AmpClient, BoxFuture, Config, Result, TokenData, TokenStore};
use amp_sandbox::Sandbox;
use secrecy::ExposeSecret;

const OBTAIN: &str = "/user/obtain_token";

/// One token for everybody: no key per account, no lock, the trait's
/// default discard. What it hands out is whatever was saved last, with the
/// account field as saved, or stripped (`strip`), as a store that keeps
/// only the token and its dates would.
#[derive(Debug, Default, Clone)]
struct OneSlot {
    slot: Arc<Mutex<Option<TokenData>>>,
    strip: bool,
}

impl TokenStore for OneSlot {
    fn describe(&self) -> String {
        "one slot for every account".to_string()
    }

    fn load(&self) -> BoxFuture<'_, Result<Option<TokenData>>> {
        let mut token = self.slot.lock().unwrap().clone();
        if self.strip {
            token = token
                .map(|t| TokenData::new(t.token().expose_secret(), t.obtained_at, t.expires_at));
        }
        Box::pin(async move { Ok(token) })
    }

    fn save<'a>(&'a self, token: &'a TokenData) -> BoxFuture<'a, Result<()>> {
        *self.slot.lock().unwrap() = Some(token.clone());
        Box::pin(async { Ok(()) })
    }

    fn clear(&self) -> BoxFuture<'_, Result<()>> {
        *self.slot.lock().unwrap() = None;
        Box::pin(async { Ok(()) })
    }
}

fn client(sandbox: &Sandbox, username: &str, password: &str, store: &OneSlot) -> AmpClient {
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(username, password)
        .build()
        .unwrap();
    AmpClient::builder(config)
        .store(Arc::new(store.clone()))
        .build()
        .unwrap()
}

fn issuer(sandbox: &Sandbox, store: &OneSlot) -> AmpClient {
    client(sandbox, sandbox.username(), sandbox.password(), store)
}

/// Every `Authorization` header `sandbox` received.
fn authorizations(sandbox: &Sandbox) -> Vec<String> {
    sandbox
        .stats()
        .requests
        .into_iter()
        .filter_map(|r| r.authorization)
        .collect()
}

fn account(sandbox: &Sandbox) -> String {
    account_name(&sandbox.base_url(), sandbox.username())
}

/// Two API roots, one store that ignores accounts: the second root never
/// gets the first one's token sent, and each client logs in once.
#[tokio::test]
async fn a_store_that_ignores_accounts_never_gets_a_token_sent_to_another_root() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start().await.unwrap();
    let store = OneSlot::default();
    issuer(&a, &store).assets().list().await.unwrap();
    let token_a = store.slot.lock().unwrap().clone().unwrap();
    assert_eq!(
        token_a.account.as_deref(),
        Some(account(&a).as_str()),
        "stamped"
    );

    let on_b = issuer(&b, &store);
    on_b.assets().list().await.unwrap();
    assert_eq!(b.count("POST", OBTAIN), 1, "a login of its own");
    let header_a = format!("token {}", token_a.token().expose_secret());
    assert!(
        !authorizations(&b).contains(&header_a),
        "{:?}",
        authorizations(&b)
    );
    let token_b = on_b.token_manager().snapshot().unwrap();
    assert!(!token_b.same_token(&token_a));

    // And back: a new client of the first root does not take the second's.
    issuer(&a, &store).assets().list().await.unwrap();
    assert_eq!(a.count("POST", OBTAIN), 2);
    let header_b = format!("token {}", token_b.token().expose_secret());
    assert!(!authorizations(&a).contains(&header_b));
}

/// The same root, another user: a manager's client never sends the
/// issuer's token it finds in the store.
#[tokio::test]
async fn a_store_that_ignores_accounts_never_gets_a_token_sent_for_another_user() {
    let sandbox = Sandbox::start().await.unwrap();
    let store = OneSlot::default();
    let boss = issuer(&sandbox, &store);
    let m = boss
        .managers()
        .create(&amp_client::model::NewManager::new(
            "fund-manager",
            "manager passphrase",
        ))
        .await
        .unwrap();
    boss.managers().unlock(m.id).await.unwrap();
    let token_issuer = store.slot.lock().unwrap().clone().unwrap();
    let logins = sandbox.count("POST", OBTAIN);

    let manager = client(&sandbox, "fund-manager", "manager passphrase", &store);
    let me = manager.managers().me().await.unwrap();
    assert_eq!(me.username, "fund-manager");
    assert_eq!(sandbox.count("POST", OBTAIN), logins + 1);
    let used = manager.token_manager().snapshot().unwrap();
    assert!(!used.same_token(&token_issuer));
    assert_eq!(
        used.account.as_deref(),
        Some(account_name(&sandbox.base_url(), "fund-manager").as_str())
    );
}

/// A store that loses the account (keeps only the token and its dates)
/// hands back tokens that could be anyone's: never used, even by the
/// client that stored it; it logs in instead. A client without
/// credentials takes no token of another API root either.
#[tokio::test]
async fn tokens_without_an_account_or_of_another_root_are_never_used() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start().await.unwrap();
    let store = OneSlot {
        strip: true,
        ..OneSlot::default()
    };
    issuer(&a, &store).assets().list().await.unwrap();
    let first = store.slot.lock().unwrap().clone().unwrap();
    issuer(&a, &store).assets().list().await.unwrap();
    assert_eq!(
        a.count("POST", OBTAIN),
        2,
        "the stripped token was not taken"
    );
    let header = format!("token {}", first.token().expose_secret());
    assert_eq!(
        authorizations(&a).iter().filter(|h| **h == header).count(),
        1,
        "only by the client that obtained it"
    );

    // Without credentials: a token of another root is not taken.
    let store = OneSlot::default();
    issuer(&a, &store).assets().list().await.unwrap();
    let on_a = store.slot.lock().unwrap().clone().unwrap();
    let no_credentials =
        AmpClient::builder(Config::builder().base_url(b.base_url()).build().unwrap())
            .store(Arc::new(store.clone()))
            .build()
            .unwrap();
    let e = no_credentials.assets().list().await.unwrap_err();
    assert!(e.setting().is_some(), "no credentials to log in with: {e}");
    assert_eq!(b.stats().total(), 0, "nothing went to the other root");
    assert!(!e.to_string().contains(on_a.token().expose_secret()));
}

/// `set_token` with another account's token is refused, naming both
/// accounts and never the token; nothing is sent.
#[tokio::test]
async fn set_token_refuses_another_accounts_token() {
    let a = Sandbox::start().await.unwrap();
    let b = Sandbox::start().await.unwrap();
    let store = OneSlot::default();
    issuer(&a, &store).assets().list().await.unwrap();
    let token_a = store.slot.lock().unwrap().clone().unwrap();
    let on_b = issuer(&b, &store);
    let e = on_b
        .token_manager()
        .set_token(token_a.clone())
        .await
        .unwrap_err();
    let msg = format!("{e} {e:?}");
    assert!(e.is_invalid_input(), "{msg}");
    assert!(
        msg.contains(&account(&a)) && msg.contains(&account(&b)),
        "{msg}"
    );
    assert!(!msg.contains(token_a.token().expose_secret()), "{msg}");
    assert_eq!(b.stats().total(), 0);
}
