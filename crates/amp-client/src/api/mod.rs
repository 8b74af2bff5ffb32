//! One handler per AMP resource, each method a few lines over
//! [`AmpClient`](crate::AmpClient)'s verbs (`get`, `post`, `put`, `delete`, …):
//!
//! | handler | resource |
//! |---|---|
//! | [`client.assets()`](crate::AmpClient::assets) | assets, their treasury, reissuance and burn |
//! | [`client.assignments(uuid)`](crate::AmpClient::assignments) | an asset's assignments |
//! | [`client.distributions(uuid)`](crate::AmpClient::distributions) | an asset's distributions |
//! | [`client.registered_users()`](crate::AmpClient::registered_users) | registered users and their GAIDs |
//! | [`client.categories()`](crate::AmpClient::categories) | categories and their members |
//! | [`client.gaids()`](crate::AmpClient::gaids) | questions about a GAID |
//! | [`client.managers()`](crate::AmpClient::managers) | manager accounts |
//! | [`client.user()`](crate::AmpClient::user) | the caller's own account |
//!
//! Answers whose body nothing documents and that callers do not need
//! (deletes, confirmations) are read and dropped, whatever they hold, so a
//! call that succeeded never fails on its answer.

mod assets;
mod assignments;
mod categories;
mod distributions;
mod gaids;
mod info;
mod managers;
mod registered_users;
mod treasury;
mod user;

pub use assets::Assets;
pub use assignments::Assignments;
pub use categories::Categories;
pub use distributions::Distributions;
pub use gaids::Gaids;
pub use managers::Managers;
pub use registered_users::RegisteredUsers;
pub use user::User;

use crate::error::{Error, Result};

/// `assets/{uuid}/{rest}` (or `assets/{uuid}` for an empty `rest`), the uuid
/// checked as one path segment; `rest` is ours, never the caller's.
pub(crate) fn asset_path(asset_uuid: &str, rest: &str) -> Result<String> {
    let uuid = segment(asset_uuid)?;
    Ok(if rest.is_empty() {
        format!("assets/{uuid}")
    } else {
        format!("assets/{uuid}/{rest}")
    })
}

/// A caller-given id as one path segment: refused if it could change the
/// path (slashes, `..`, query or fragment marks), so `get("../user")` cannot
/// reach another endpoint.
pub(crate) fn segment(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id != "."
        && id != ".."
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':' | b'~'));
    if ok {
        Ok(id)
    } else {
        Err(Error::invalid_input(
            "id",
            format!("{id:?} is not a single path segment"),
        ))
    }
}
