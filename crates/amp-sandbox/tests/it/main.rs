//! amp-sandbox's integration tests, one module per subject, in one test binary.

mod accounts;
mod assets;
mod auth;
mod common;
mod faults;
mod issuer_flow;
mod node;
mod node_confirm;
mod node_faults;
mod resources;
mod rules;
mod waiters;
