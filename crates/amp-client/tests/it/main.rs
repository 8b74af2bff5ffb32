//! amp-client's integration tests, one module per subject, in one test binary.

mod account_warning;
mod accounts;
mod common;
mod handlers;
mod healing;
mod http_client;
mod keep_fresh;
mod login_count;
mod metrics;
mod properties;
mod redirects_and_proxies;
mod renewal;
mod retries;
mod secrets;
mod send;
mod soak;
mod store_faults;
mod store_file;
mod store_file_hostile;
mod store_file_lock;
mod store_redis;
mod token_life;
mod transport;
mod wiped_answers;
