//! Authentication: the token, its manager, the two auth calls and the stores.

pub mod endpoints;
pub mod manager;
pub mod store;
pub mod token;
