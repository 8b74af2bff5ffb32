//! Assignments, distributions, managers, registered users, categories and the
//! caller's own account against the `amp-sandbox` server: every method with
//! its route checked from the server's records, its effect seen through
//! other calls, and an error it can meet (404 for an unknown id, 400 for a
//! broken business rule).

use crate::common::resources as support;

use amp_client::model::{
    CategoryEdit, NewAssignment, NewCategory, NewManager, NewRegisteredUser, SecretString,
    TxConfirmation,
};
use amp_client::{AmpClient, Config, StatusCode};
use amp_sandbox::{Sandbox, SAMPLE_MANAGER_PASSWORD, SAMPLE_MANAGER_USERNAME};
use support::*;

/// The status of a call that should have failed.
fn status<T: std::fmt::Debug>(result: amp_client::Result<T>) -> Boxed<StatusCode> {
    let err = result.err().ok_or("the call succeeded")?;
    Ok(err.status().ok_or_else(|| format!("no status: {err}"))?)
}

/// The uuid of the sample asset with this ticker.
async fn find_asset(client: &AmpClient, ticker: &str) -> Boxed<String> {
    Ok(client
        .assets()
        .list()
        .await?
        .into_iter()
        .find(|a| a.ticker.as_deref() == Some(ticker))
        .ok_or_else(|| format!("no sample asset {ticker}"))?
        .asset_uuid)
}

/// The id of the sample registered user with this GAID.
async fn user_with(client: &AmpClient, gaid: &str) -> Boxed<i64> {
    Ok(client.gaids().registered_user(gaid).await?.id)
}

/// A client of `sandbox` logging in as `username`.
fn client_as(sandbox: &Sandbox, username: &str, password: &str) -> Boxed<AmpClient> {
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(username, password)
        .build()?;
    Ok(AmpClient::new(config)?)
}

const ALICE: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";

#[tokio::test]
async fn assignments_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let note = find_asset(&client, "SNTE").await?;
    let alice = user_with(&client, ALICE).await?;
    let assignments = client.assignments(&note);
    let base = format!("/api/assets/{note}/assignments");
    let route = "/assets/{assetUuid}/assignments";

    let created = assignments
        .create(&NewAssignment::new(alice, 700).vesting_timestamp(1_700_000_000))
        .await?;
    check_status(
        &sb,
        "POST",
        &format!("{route}/create"),
        &format!("{base}/create"),
        201,
    )?;
    let made = created.first().ok_or("nothing created")?;
    assert_eq!((made.registered_user, made.amount), (Some(alice), 700));
    assert_eq!(made.vesting_timestamp, Some(1_700_000_000));
    assert!(made.has_vested && !made.ready_for_distribution && !made.is_distributed);
    assert_eq!(made.gaid.as_deref(), Some(ALICE));
    let id = made.id;

    let list = assignments.list().await?;
    check(&sb, "GET", route, &base)?;
    assert!(list.contains(made));
    let one = assignments.get(id).await?;
    check(
        &sb,
        "GET",
        &format!("{route}/{{assignmentId}}"),
        &format!("{base}/{id}"),
    )?;
    assert_eq!(&one, made);

    // Locked, it cannot be deleted; unlocked, it can.
    let locked = assignments.lock(id).await?;
    check(
        &sb,
        "PUT",
        &format!("{route}/{{assignmentId}}/lock"),
        &format!("{base}/{id}/lock"),
    )?;
    assert_eq!(locked.id, id);
    assert_eq!(
        status(assignments.delete(id).await)?,
        StatusCode::BAD_REQUEST
    );
    assignments.unlock(id).await?;
    check(
        &sb,
        "PUT",
        &format!("{route}/{{assignmentId}}/unlock"),
        &format!("{base}/{id}/unlock"),
    )?;
    assignments.delete(id).await?;
    check_status(
        &sb,
        "DELETE",
        &format!("{route}/{{assignmentId}}/delete"),
        &format!("{base}/{id}/delete"),
        204,
    )?;
    assert_eq!(status(assignments.get(id).await)?, StatusCode::NOT_FOUND);

    // Business rules: a user that does not exist; a distributed assignment.
    let nobody = assignments.create(&NewAssignment::new(9_999, 1)).await;
    assert_eq!(status(nobody)?, StatusCode::BAD_REQUEST);
    let bond = find_asset(&client, "SBND").await?;
    let distributed = client
        .assignments(&bond)
        .list()
        .await?
        .into_iter()
        .find(|a| a.is_distributed)
        .ok_or("no distributed sample assignment")?;
    let refused = client.assignments(&bond).delete(distributed.id).await;
    assert_eq!(status(refused)?, StatusCode::BAD_REQUEST);
    assert_eq!(
        status(assignments.lock(9_999).await)?,
        StatusCode::NOT_FOUND
    );
    Ok(())
}

#[tokio::test]
async fn distributions_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let bond = find_asset(&client, "SBND").await?;
    let distributions = client.distributions(&bond);
    let base = format!("/api/assets/{bond}/distributions");
    let route = "/assets/{assetUuid}/distributions";

    let list = distributions.list().await?;
    check(&sb, "GET", route, &base)?;
    let done = list.first().ok_or("no sample distribution")?;
    assert_eq!(done.distribution_status.as_deref(), Some("CONFIRMED"));
    let id = done.distribution_uuid.clone().ok_or("no uuid")?;
    let one = distributions.get(&id).await?;
    check(
        &sb,
        "GET",
        &format!("{route}/{{distributionUuid}}"),
        &format!("{base}/{id}"),
    )?;
    assert_eq!(&one, done);
    // Business rules on a confirmed distribution.
    let again = distributions
        .confirm(&id, &TxConfirmation::new("ab".repeat(32)))
        .await;
    assert_eq!(status(again)?, StatusCode::BAD_REQUEST);
    assert_eq!(
        status(distributions.cancel(&id).await)?,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(distributions.get("no-such-distribution").await)?,
        StatusCode::NOT_FOUND
    );

    // Nothing is ready on the bond: its one waiting assignment is not.
    assert_eq!(
        status(distributions.create().await)?,
        StatusCode::BAD_REQUEST
    );
    let waiting = client
        .assignments(&bond)
        .list()
        .await?
        .into_iter()
        .find(|a| !a.is_distributed)
        .ok_or("no waiting assignment")?;
    let user = waiting.registered_user.ok_or("no user")?;
    client
        .assignments(&bond)
        .create(&NewAssignment::new(user, 50).ready_for_distribution(true))
        .await?;
    let plan = distributions.create().await?;
    check(
        &sb,
        "GET",
        &format!("{route}/create"),
        &format!("{base}/create/"),
    )?;
    assert_eq!(plan.command.as_deref(), Some("distribute"));
    assert_eq!(plan.map_address_amount.len(), 1);
    let coins = plan
        .map_address_amount
        .values()
        .next()
        .and_then(|n| n.as_f64());
    assert_eq!(coins, Some(0.000_000_5));
    assert!(plan
        .map_address_asset
        .values()
        .all(|a| Some(a) == plan.asset_id.as_ref()));

    // Cancelled, its assignment is free for the next one.
    distributions.cancel(&plan.distribution_uuid).await?;
    check_status(
        &sb,
        "DELETE",
        &format!("{route}/{{distributionUuid}}/cancel"),
        &format!("{base}/{}/cancel", plan.distribution_uuid),
        204,
    )?;
    assert_eq!(
        status(distributions.get(&plan.distribution_uuid).await)?,
        StatusCode::NOT_FOUND
    );
    let plan = distributions.create().await?;
    // The sandbox's node sends it, as the official script drives it.
    let body = sb.wallet_distribute(&serde_json::to_value(&plan)?)?;
    let confirmation: TxConfirmation = serde_json::from_value(body)?;
    let txid = confirmation.tx_data.txid.clone();
    distributions
        .confirm(&plan.distribution_uuid, &confirmation)
        .await?;
    check(
        &sb,
        "POST",
        &format!("{route}/{{distributionUuid}}/confirm"),
        &format!("{base}/{}/confirm", plan.distribution_uuid),
    )?;
    let confirmed = distributions.get(&plan.distribution_uuid).await?;
    assert_eq!(confirmed.distribution_status.as_deref(), Some("CONFIRMED"));
    assert_eq!(
        confirmed.transactions[0].txid.as_deref(),
        Some(txid.as_str())
    );
    assert_eq!(confirmed.transactions[0].assignments[0].amount, 50);
    Ok(())
}

#[tokio::test]
async fn managers_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let managers = client.managers();
    let bond = find_asset(&client, "SBND").await?;

    let made = managers
        .create(&NewManager::new(
            "second-manager",
            "second manager passphrase",
        ))
        .await?;
    check_status(&sb, "POST", "/managers/create", "/api/managers/create", 201)?;
    assert!(made.is_locked && made.assets.is_empty());
    let id = made.id;
    let duplicate = managers
        .create(&NewManager::new("second-manager", "another passphrase"))
        .await;
    assert_eq!(status(duplicate)?, StatusCode::BAD_REQUEST);

    // Locked, it cannot log in. (A client remembers a failed login for a
    // moment, so the manager's later logins use clients of their own.)
    let locked_out = client_as(&sb, "second-manager", "second manager passphrase")?;
    let refused = locked_out.managers().me().await;
    assert_eq!(status(refused)?, StatusCode::BAD_REQUEST);
    let unlocked = managers.unlock(id).await?;
    check(
        &sb,
        "PUT",
        "/managers/{managerId}/unlock",
        &format!("/api/managers/{id}/unlock"),
    )?;
    assert!(
        unlocked.typed().is_some_and(|m| !m.is_locked),
        "{unlocked:?}"
    );

    let granted = managers.add_asset(id, &bond).await?;
    let path = format!("/api/managers/{id}/assets/{bond}/add");
    check(
        &sb,
        "PUT",
        "/managers/{managerId}/assets/{assetUuid}/add",
        &path,
    )?;
    assert!(granted.typed().is_some_and(|m| m.assets == [bond.clone()]));
    let manager = client_as(&sb, "second-manager", "second manager passphrase")?;
    let me = manager.managers().me().await?;
    check(&sb, "GET", "/managers/me", "/api/managers/me")?;
    assert_eq!((me.id, me.assets.clone()), (id, vec![bond.clone()]));
    managers.remove_asset(id, &bond).await?;
    let path = format!("/api/managers/{id}/assets/{bond}/remove");
    check(
        &sb,
        "POST",
        "/managers/{managerId}/assets/{assetUuid}/remove",
        &path,
    )?;
    assert!(managers.get(id).await?.assets.is_empty());
    let unknown = managers.add_asset(id, "no-such-asset").await;
    assert_eq!(status(unknown)?, StatusCode::NOT_FOUND);

    let changed = managers
        .change_password(id, SecretString::from("third manager passphrase"))
        .await?;
    let path = format!("/api/managers/{id}/change-password");
    check(&sb, "POST", "/managers/{managerId}/change-password", &path)?;
    assert_eq!(changed.username.as_deref(), Some("second-manager"));
    assert!(changed.token.is_some());
    let renamed = client_as(&sb, "second-manager", "third manager passphrase")?;
    assert_eq!(renamed.managers().me().await?.id, id);
    let blank = managers.change_password(id, SecretString::from("")).await;
    assert_eq!(status(blank)?, StatusCode::BAD_REQUEST);

    let locked = managers.lock(id).await?;
    check(
        &sb,
        "PUT",
        "/managers/{managerId}/lock",
        &format!("/api/managers/{id}/lock"),
    )?;
    assert!(locked.typed().is_some_and(|m| m.is_locked));
    let again = client_as(&sb, "second-manager", "third manager passphrase")?;
    assert_eq!(
        status(again.managers().me().await)?,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(status(managers.lock(9_999).await)?, StatusCode::NOT_FOUND);
    assert_eq!(status(managers.get(9_999).await)?, StatusCode::NOT_FOUND);

    // The sample manager, logged in as itself.
    let sample = client_as(&sb, SAMPLE_MANAGER_USERNAME, SAMPLE_MANAGER_PASSWORD)?;
    assert_eq!(
        sample.managers().me().await?.username,
        SAMPLE_MANAGER_USERNAME
    );
    Ok(())
}

#[tokio::test]
async fn registered_user_and_category_errors_through_the_sandbox() -> TestResult {
    let (_sb, client) = sandbox().await?;
    let users = client.registered_users();
    let categories = client.categories();
    // 404s for an id that does not exist.
    let statuses = [
        status(users.get(9_999).await)?,
        status(users.edit(9_999, "x").await)?,
        status(users.delete(9_999).await)?,
        status(users.summary(9_999).await)?,
        status(users.gaids(9_999).await)?,
        status(users.add_gaid(9_999, "GA3bcdefghijkmnopqrstuvwxy").await)?,
        status(users.set_default_gaid(9_999, ALICE).await)?,
        status(categories.get(9_999).await)?,
        status(categories.edit(9_999, &CategoryEdit::default()).await)?,
        status(categories.delete(9_999).await)?,
        status(categories.add_registered_user(9_999, 1).await)?,
        status(categories.remove_registered_user(9_999, 1).await)?,
        status(categories.add_asset(9_999, "x").await)?,
        status(categories.remove_asset(9_999, "x").await)?,
    ];
    assert_eq!(statuses, [StatusCode::NOT_FOUND; 14]);
    // 400s for broken rules: a GAID already registered, an invalid one, a
    // GAID that is not the user's, an empty name.
    let taken = users.add(&NewRegisteredUser::new("Copy").gaid(ALICE)).await;
    assert_eq!(status(taken)?, StatusCode::BAD_REQUEST);
    let bob = users.add(&NewRegisteredUser::new("Bob Two")).await?;
    assert_eq!(
        status(users.add_gaid(bob.id, "not-a-gaid").await)?,
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        status(users.set_default_gaid(bob.id, ALICE).await)?,
        StatusCode::BAD_REQUEST
    );
    let nameless = categories.add(&NewCategory::new("", "no name")).await;
    assert_eq!(status(nameless)?, StatusCode::BAD_REQUEST);
    Ok(())
}

#[tokio::test]
async fn user_change_password_through_the_sandbox() -> TestResult {
    let (sb, client) = sandbox().await?;
    let old = sb.password().to_string();
    let blank = client.user().change_password(SecretString::from("")).await;
    assert_eq!(status(blank)?, StatusCode::BAD_REQUEST);
    assert_eq!(sb.current_password(), old);

    client
        .user()
        .change_password(SecretString::from("a brand new passphrase"))
        .await?;
    check(
        &sb,
        "POST",
        "/user/change-password",
        "/api/user/change-password",
    )?;
    assert_eq!(sb.current_password(), "a brand new passphrase");
    // The old password no longer logs in; the new one does.
    let stale = client_as(&sb, sb.username(), &old)?;
    assert_eq!(
        status(stale.assets().list().await)?,
        StatusCode::BAD_REQUEST
    );
    let fresh = client_as(&sb, sb.username(), "a brand new passphrase")?;
    assert!(!fresh.assets().list().await?.is_empty());
    Ok(())
}

/// After a password change the client logs in with the new password (and
/// first uses the token the change handed back).
#[tokio::test]
async fn after_a_password_change_the_client_logs_in_with_the_new_password() -> TestResult {
    let (sb, _) = sandbox().await?;
    // The client's store, kept to read it directly.
    let store = std::sync::Arc::new(amp_client::MemoryStore::new());
    let config = Config::builder()
        .base_url(sb.base_url())
        .credentials(sb.username(), sb.password())
        .build()?;
    let client = AmpClient::builder(config).store(store.clone()).build()?;
    let m = client.token_manager();
    let before = m.token().await?.generation();
    client
        .user()
        .change_password(SecretString::from("a brand new passphrase"))
        .await?;
    // The token the change handed back is in place, as a new generation,
    // and in the store; the next call uses it without logging in.
    let after = m.token().await?;
    assert!(after.generation() > before);
    let stored = amp_client::TokenStore::load(&*store)
        .await?
        .expect("the new token is stored");
    assert!(stored.same_token(after.data()));
    assert!(!client.assets().list().await?.is_empty());
    assert_eq!(sb.count("POST", "/user/obtain_token"), 1);
    // Every token dies: the client must obtain one, with the new password.
    sb.revoke_all_tokens();
    assert!(!client.assets().list().await?.is_empty());
    assert_eq!(sb.count("POST", "/user/obtain_token"), 2);
    Ok(())
}
