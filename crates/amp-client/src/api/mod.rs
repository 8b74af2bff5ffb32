//! One handler per AMP resource, each method a few lines over
//! [`AmpClient::call`](crate::AmpClient::call).

mod assets;
mod categories;
mod gaids;
mod info;
mod managers;
mod registered_users;

pub use assets::Assets;
pub use categories::Categories;
pub use gaids::Gaids;
pub use managers::Managers;
pub use registered_users::RegisteredUsers;

use crate::error::{Error, Result};

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
        Err(Error::InvalidInput {
            what: "id".to_string(),
            reason: format!("{id:?} is not a single path segment"),
        })
    }
}
