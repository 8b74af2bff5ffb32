//! amp-elements' integration tests, one module per subject, in one test binary.

mod common;
mod jobs;
mod rpc;
