//! A local fake of the Blockstream AMP REST API, for tests, benchmarks and demos.
//!
//! [`Sandbox`] is a real HTTP server on `127.0.0.1` (axum), spawned on the
//! caller's tokio runtime, so a test's paused clock governs token expiry and
//! injected delays. It behaves as `amp-api.md` describes the real service:
//! 40-hex tokens sent as `Authorization: token …`, DRF-style error bodies, and
//! every route with and without a trailing slash. On top of that it can inject
//! faults ([`Fault`]) per route and counts every request ([`Stats`]).
//!
//! It is an independent implementation of the server side: it shares no code
//! with the client, so a mistake made in both cannot hide.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use amp_sandbox::{Fault, Sandbox};
//!
//! let sandbox = Sandbox::builder()
//!     .fault("/user/obtain_token", Fault::RateLimitSeconds(1))
//!     .start()
//!     .await?;
//! // point the client at sandbox.base_url() with sandbox.username() / password() …
//! assert_eq!(sandbox.count("POST", "/user/obtain_token"), 0);
//! # Ok(()) }
//! ```
//!
//! # Control endpoint
//!
//! Outside `/api`, JSON, without authentication and not counted:
//!
//! | request | effect |
//! |---|---|
//! | `GET /_sandbox/stats` | `{"total", "by_route", "requests"}` (see [`Stats`]) |
//! | `POST /_sandbox/faults` `{"route", "fault", "probability"?, "count"?}` | without `probability`: queue `count` (default 1) one-shot faults; with it: set that fault's rate (0 removes it). The `fault` shape is documented on [`Fault`]. |
//! | `DELETE /_sandbox/faults` | clear every fault |
//! | `POST /_sandbox/revoke` | revoke every token |
//! | `POST /_sandbox/reset` (or `DELETE /_sandbox/stats`) | reset the counters |
//! | `POST /_sandbox/token-life` `{"seconds": n}` | life of tokens issued from now on |
//! | `POST /_sandbox/refresh-revokes-old` `{"enabled": bool}` | see [`Sandbox::set_refresh_revokes_old`] |
//! | `GET /_sandbox/node` | `{"url", "user", "cookie_path", "height"}` of the node (never its password) |
//! | `POST /_sandbox/node/mine` `{"blocks"?: n}` | mines `n` (default 1) blocks; `{"hashes", "height"}` |
//! | `GET /_sandbox/node/stats` (`DELETE` resets) | the node's [`NodeStats`] |
//! | `POST /_sandbox/node/faults` `{"method", "fault", "count"?}` | queues `count` node faults (shape on [`NodeFault`]); `DELETE` clears them |
//! | `POST /_sandbox/node/down` `{"down": bool}` | see [`Sandbox::set_node_down`] |
//! | `POST /_sandbox/node/wallet-lock` `{"locked": bool}` | see [`Sandbox::set_wallet_locked`] |
//! | `POST /_sandbox/node/block-interval` `{"seconds": s \| null}` | see [`Sandbox::set_block_interval`] |
//!
//! # State
//!
//! Every route of amp-api.md §1.1 and §3 is implemented, over one in-memory
//! store. Each asset keeps a simulated chain: outputs (UTXOs) of the asset and
//! of its reissuance token, and the transactions that made and spent them
//! (issuance, distribution, reissuance, burn). The summary, balance,
//! ownerships, UTXOs, activities and txs are all read from those outputs, so
//! they agree with each other and follow every change. The sample data (see
//! [`SandboxBuilder::with_sample_data`]) is made through the same operations,
//! its distributions sent by the node and confirmed as any client's.
//!
//! # The node
//!
//! Beside AMP, the sandbox runs the issuer's Elements node, simulated: a
//! JSON-RPC server on a loopback port of its own ([`Sandbox::node_url`]),
//! with `rpcuser:rpcpassword` ([`Sandbox::node_user`],
//! [`Sandbox::node_password`]) and a `.cookie` ([`Sandbox::node_cookie_path`])
//! as Elements Core has them. AMP and the node share one chain: every asset
//! AMP issues pays the node's wallet, and AMP's confirm endpoints check what
//! they are told against that chain (below). Blocks come on request
//! ([`Sandbox::mine`], `generatetoaddress`, the control endpoint) or on a
//! timer ([`SandboxBuilder::block_interval`]). The RPCs, their sources, the
//! amount rule and the faults are described in [`node`].
//!
//! Answers follow amp-api.md; where it gives no shape (distributions, reissue,
//! burn, txs, update-blinders, reissuances, treasury addresses, UTXOs) they
//! follow amp-rs's `src/model.rs` and `src/client.rs`, and the official
//! `blockstream-amp-confirm.py` where that disagrees with amp-rs.
//! Errors: unknown ids are 404 `{"detail": "Not found."}`; bad bodies are 400
//! `{field: [message]}` with DRF's messages (nested the way DRF nests them);
//! business rules are 400 `{"Error": message}`; a wrong method is 405.
//!
//! # Decisions where the real API is unknown
//!
//! General and accounts:
//! - `/changelog` needs a token; `/info` and `/user/obtain_token` do not.
//! - A token's expiry is fixed when it is issued; [`Sandbox::set_token_life`]
//!   affects tokens issued afterwards.
//! - Authentication is checked before the method (DRF order): a wrong method
//!   without a token is a 401, with a token a 405.
//! - An unknown path under `/api` is a JSON 404 `{"detail": "Not found."}`.
//! - A token belongs to an account: the issuer (the sandbox's login) or a
//!   manager. `GET /managers/me` answers the manager with a manager's token,
//!   404 with a `detail` with the issuer's. A manager's token is accepted on
//!   every route (no permission checks); once the manager is locked, its
//!   tokens get 401 `{"detail": "User inactive or deleted."}`.
//! - `POST /user/change-password` `{"password"}` changes the caller's own
//!   password (the old one stops working for `obtain_token`) and answers
//!   `{"username", "token"}` with a newly issued token. The password is never
//!   echoed back (amp-rs's model has a `password` field; no client should
//!   need it). Tokens issued before stay valid, as DRF's do when a Django
//!   password changes. [`Sandbox::password`] keeps the starting password;
//!   [`Sandbox::current_password`] tells the current one.
//! - `POST /managers/{id}/change-password` likewise, with a new token of the
//!   manager.
//! - A password must not be blank; no other strength rule is applied.
//!
//! Assets:
//! - `POST /assets/issue` answers 201 with amp-rs's IssuanceResponse. Uuids are
//!   uuid-4-shaped, asset ids, txids and blinders 64 hex, all derived
//!   deterministically (the same run gives the same ids). Defaults: precision
//!   8, not confidential, not reissuable, not transfer-restricted, not
//!   registered. A reissuable asset without `reissuance_amount` gets 1 token;
//!   0 tokens is refused; tokens of an asset that is not reissuable are
//!   ignored. `reissuance_address` is echoed as `""` when absent (amp-rs reads
//!   a string). Addresses, domain and pubkey are only checked to be non-blank.
//! - A **locked asset refuses every change** under `/assets/{uuid}/` but
//!   unlock: edit, delete, memo set, register, register-authorized,
//!   assignments create/lock/unlock/delete, distributions create/confirm/
//!   cancel, reissue and burn request/confirm, treasury addresses, UTXO
//!   blacklist/whitelist, update-blinders, with 400
//!   `{"Error": "The asset is locked."}`. Reading is allowed, and so are
//!   category and manager links (they change the category or manager).
//! - `edit` takes `issuer_authorization_endpoint` (required; null clears it;
//!   otherwise an `http(s)` URL). `delete` is 204 and takes the asset out of
//!   its categories and managers.
//! - `register` sets `is_registered`; a second time is 400
//!   `{"Error": "The asset is already registered."}` (amp-rs's mock).
//!   `register-authorized` sets `is_authorized` and may be repeated.
//! - Summary: `issued`, `reissued`, `burned` count those operations;
//!   `assigned` sums every assignment, `distributed` the distributed ones;
//!   `blacklisted` sums the frozen outputs; `registered_users` counts users
//!   with assignments, `active_registered_users` and
//!   `active_green_subaccounts` the users and GAIDs holding some now;
//!   `reissuance_tokens` sums the unspent token outputs.
//! - Ownerships and the `confirmed_balance` of `balance` list what registered
//!   users hold (the treasury is not listed), one entry per user and GAID,
//!   `owner` being the user's name. `/ownerships/{height}` is the same as of
//!   that block. `lost_outputs` are always empty: the sandbox loses nothing.
//! - `utxos` lists the unspent outputs of the asset and its token
//!   (amp-rs's `Utxo`, key `gaid` in lower case). Blacklist and whitelist take
//!   `[{"txid", "vout"}]`, change all or none, and answer the UTXO list.
//!   AMP refuses a distribution or a burn whose transaction spends a
//!   blacklisted output (the node, which knows nothing of AMP's blacklist,
//!   may still send it).
//! - Treasury addresses start empty; `add` and `delete` (DELETE as amp-rs
//!   sends it, or POST) take a list of address strings, each added once, and
//!   answer the list.
//! - `txs` are amp-rs's `AssetTransaction`, oldest first; issuance outputs
//!   start with all-zero blinders (what the official script looks for), which
//!   `update-blinders` (one output per request, 200 with an empty body, 64-hex
//!   blinders, which must be the chain's: the node's `gettransaction`
//!   details; others are a 400) replaces. `activities` derive from the txs:
//!   one per output that issued, reissued, distributed or burned units.
//! - `activities` and `txs` read `start`, `count`, `sortcolumn`, `sortorder`
//!   (`asc`, `desc`), `height_start` and `height_stop` from the query string
//!   (amp-rs sends them as a JSON body on its GET, which is not read). Sort
//!   columns: activities `datetime`, `blockheight`, `amount`, `type`, `txid`,
//!   `vout`; txs `datetime`, `blockheight`, `txid`. Without a sort column the
//!   chain order (ascending) is kept. A bad value is a 400 naming it.
//! - The chain starts at height 1 200 000 (2024-03-01T10:00:00Z), its blocks
//!   a minute apart in time whenever they are mined; an issuance is mined at
//!   once in a block of its own, other transactions when blocks come. AMP's
//!   txs, activities and ownerships carry the heights of the blocks that
//!   mined the transactions. Vesting is judged against the wall clock.
//!
//! Assignments and distributions:
//! - Create takes `{"assignments": [one element]}` and answers 201 with a
//!   list of the one assignment; more than one element, none, or a body that
//!   is not a list is a 400 on `assignments`. Element errors are nested as DRF
//!   nests them (`{"assignments": [{"amount": […]}]}`); an unknown user is
//!   DRF's `Invalid pk "N" - object does not exist.` there. Amounts are
//!   integers of at least 1 (an integral float or a string of digits is taken,
//!   as DRF's `IntegerField` does). An amount over what circulates and is not
//!   assigned yet is 400 `{"Error": …}`. The asset's `requirements`
//!   (categories) are not checked.
//! - An assignment takes its user's default GAID (and its address) when it is
//!   made, or when it is distributed if the user had none then. Assignments
//!   also show `is_locked` and the legacy `investor` (= `registered_user`).
//! - A locked assignment is not taken into a distribution and cannot be
//!   deleted; a distributed one, or one waiting in a distribution, cannot be
//!   deleted either (400 `{"Error": …}`). Delete is 204.
//! - `distributions/create` (GET as amp-rs calls it, or POST; a body is not
//!   read) gathers every assignment that is ready, vested, unlocked and not
//!   distributed or waiting. None: 400; a user without GAID: 400. The answer
//!   is the file the official confirm script reads: `command` `"distribute"`,
//!   `min_supported_client_script_version` 2, `base_url` (`…/api/{}`),
//!   `asset_uuid`, `asset_id`, `distribution_uuid`, `map_address_amount`
//!   (coins of 10^8 units, as `sendmany` takes them) and `map_address_asset`.
//! - `confirm` takes the official script's body `{"tx_data": {"txid",
//!   "details"}, "change_data": […]}` and checks it against the chain (each
//!   failure a 400 `{"Error": …}`): the txid is on the chain with at least
//!   [`REQUIRED_CONFIRMATIONS`] (2, what the script waits for); it pays each
//!   receiving address exactly the units assigned to it, in the asset; every
//!   other output of the asset is reported in `change_data`; each `details`
//!   entry and each `change_data` entry matches the output it names (asset,
//!   amount, address, blinders), and there is a `details` entry for every
//!   receiving output; no input is a blacklisted output. Then the treasury
//!   outputs it spent are spent, the receivers hold their outputs, the change
//!   is the treasury's, the assignments are distributed and the distribution
//!   is `CONFIRMED`; the answer (200) is it. Confirming twice, or a txid
//!   already recorded, is a 400.
//! - `cancel` (DELETE as amp-rs calls it, or POST) is 204, for an unconfirmed
//!   distribution only; its assignments are free again and it is gone (404).
//!
//! Reissue and burn:
//! - `reissue-request` `{"amount_to_reissue"}` needs a reissuable asset and
//!   answers `command` `"reissue"`, `amount` in coins and the token outputs as
//!   `reissuance_utxos`. `reissue-confirm` `{"details", "reissuance_output":
//!   {"txid", "vin"}, "listissuances"}` needs a pending request and a
//!   transaction on the chain with two confirmations that reissues the asset
//!   at input `vin`, exactly the amount requested; `listissuances` must hold
//!   that reissuance, the `details` must match the chain and describe the new
//!   units' outputs. The new units and the token are the treasury's; it
//!   answers `{"txid", "vin", "reissuance_amount"}` and the reissuance is
//!   listed in `reissuances` (its block hash, its first output).
//! - `burn-request` `{"amount"}` allows at most what circulates and is not
//!   assigned (and the treasury can spend); it answers `command` `"burn"` (the
//!   official script's, not amp-rs's mock `"destroyamount"`) and the treasury
//!   outputs as `utxos`. `burn-confirm` `{"tx_data": {"txid"}, "change_data"}`
//!   needs a pending request, checks the amount again, and a transaction on
//!   the chain with two confirmations that destroys exactly that amount of
//!   the asset (`OP_RETURN` outputs, as `destroyamount` makes them), every
//!   other output of the asset being reported change that matches the chain;
//!   it answers 200 with an empty body, as amp-rs says the API does.
//!
//! Users, categories, GAIDs, managers:
//! - A registered user with assignments cannot be deleted (400), so every
//!   assignment names a user that exists.
//! - `GET /gaids/{gaid}/balance/{assetUuid}` is one `{asset_uuid, asset_id,
//!   balance}` entry (0 when nothing is held), as amp-rs reads it.
//! - Managers are created locked (201), with a username no one else has (the
//!   issuer's included); more than one manager is allowed. Lock, unlock and
//!   the asset grants (`add` by PUT; `remove` by PUT or POST) answer the
//!   manager.
//!
//! The sandbox never logs tokens or passwords (tests capture all tracing
//! output to prove the client does not either).

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod auth;
mod builder;
mod data;
mod drf;
mod faults;
pub mod node;
mod routes;
mod sandbox;
mod shared;
mod stats;

use std::time::Duration;

pub use builder::SandboxBuilder;
pub use faults::Fault;
pub use node::{NodeFault, NodeRequestRecord, NodeStats, RpcError};
pub use sandbox::Sandbox;
pub use stats::{RequestRecord, Stats};

pub(crate) use shared::{lock, Settings, Shared};

/// Default login of a sandbox.
pub const DEFAULT_USERNAME: &str = "sandbox-user";
/// Default password of a sandbox.
pub const DEFAULT_PASSWORD: &str = "sandbox-password";
/// The login of the sample data's manager (unlocked, granted the sample bond).
pub const SAMPLE_MANAGER_USERNAME: &str = "sandbox-manager";
/// The password of the sample data's manager.
pub const SAMPLE_MANAGER_PASSWORD: &str = "sandbox-manager-password";
/// Default `rpcuser` of the node.
pub const DEFAULT_NODE_USER: &str = "sandbox-rpc";
/// Default `rpcpassword` of the node.
pub const DEFAULT_NODE_PASSWORD: &str = "sandbox-rpc-password";
/// The passphrase [`Sandbox::set_wallet_locked`] encrypts an unencrypted
/// wallet with.
pub const DEFAULT_WALLET_PASSPHRASE: &str = "sandbox-wallet-passphrase";
/// Confirmations AMP's confirm endpoints require, as the official script
/// waits for (`confirmations > 1`).
pub const REQUIRED_CONFIRMATIONS: u64 = 2;
/// Default token life, 24 h.
pub const DEFAULT_TOKEN_LIFE: Duration = Duration::from_secs(24 * 60 * 60);
/// Default number of request records kept (counters are always exact).
pub const DEFAULT_RECORD_LIMIT: usize = 100_000;
