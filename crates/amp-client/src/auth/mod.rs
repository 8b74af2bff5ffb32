//! Authentication: the token, the pure rules about it, its manager, the two
//! auth calls, the stores, and the one home of the client's secrets.

mod endpoints;
pub(crate) mod manager;
pub(crate) mod policy;
pub(crate) mod secrets;
pub(crate) mod store;
pub(crate) mod token;
