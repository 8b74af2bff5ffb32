//! Request counters and records.

use std::collections::{BTreeMap, VecDeque};

use serde::{Deserialize, Serialize};

use crate::faults::{normalize_route, Fault};

/// One request that reached the API (`/api/...`), faulted or not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestRecord {
    /// The HTTP method as sent, e.g. `"POST"`.
    pub method: String,
    /// The route pattern, without `/api` and without trailing slash, e.g.
    /// `"/assets/{assetUuid}"`. A path that matches no route is recorded as
    /// itself in that form, e.g. `"/no/such/thing"`.
    pub route: String,
    /// The request path as received, with `/api` and any trailing slash, without the query.
    pub path: String,
    /// The `Authorization` header the request carried, verbatim.
    pub authorization: Option<String>,
    /// The `Cookie` header the request carried, verbatim (AMP's clients
    /// send none: a test can check that a proxy in front forwards none).
    #[serde(default)]
    pub cookie: Option<String>,
    /// The status answered; 0 when no answer was sent (dropped connection, or the
    /// client went away first).
    pub status: u16,
    /// The fault injected into this request, if any.
    #[serde(default)]
    pub fault: Option<Fault>,
}

/// A snapshot of the sandbox's counters.
///
/// `counts` is exact for the whole life of the sandbox (or since the last reset);
/// `requests` keeps the most recent records only, up to the record limit
/// ([`crate::SandboxBuilder::record_limit`]), so a long benchmark cannot exhaust memory.
///
/// As JSON (`GET /_sandbox/stats`): `{"total": n, "by_route": {"POST /user/obtain_token": 1, ...},
/// "requests": [{"method": ..., "route": ..., "path": ..., "authorization": ..., "cookie": ..., "status": ...,
/// "fault": ...}, ...]}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// The most recent requests, in the order they were answered.
    pub requests: Vec<RequestRecord>,
    /// Requests per `"METHOD /route"`, e.g. `"POST /user/obtain_token"`.
    #[serde(rename = "by_route")]
    pub counts: BTreeMap<String, u64>,
}

impl Stats {
    /// Every request counted, over all routes and methods.
    pub fn total(&self) -> u64 {
        self.counts.values().sum()
    }

    /// Requests per `"METHOD /route"` key, e.g. `"GET /assets"`.
    pub fn by_route(&self) -> BTreeMap<String, u64> {
        self.counts.clone()
    }

    /// Requests with this method on this route (any accepted spelling of the
    /// route, e.g. with `/api` or a trailing slash).
    pub fn count(&self, method: &str, route: &str) -> u64 {
        self.counts
            .get(&route_key(method, route))
            .copied()
            .unwrap_or(0)
    }

    /// The records of one route (any method), oldest first.
    pub fn records_for(&self, route: &str) -> Vec<&RequestRecord> {
        let route = normalize_route(route);
        self.requests.iter().filter(|r| r.route == route).collect()
    }
}

/// The key of [`Stats::counts`].
pub(crate) fn route_key(method: &str, route: &str) -> String {
    format!("{} {}", method.to_ascii_uppercase(), normalize_route(route))
}

/// The live counters behind [`Stats`].
pub(crate) struct Recorder {
    counts: BTreeMap<String, u64>,
    records: VecDeque<RequestRecord>,
    limit: usize,
}

impl Recorder {
    pub(crate) fn new(limit: usize) -> Self {
        Recorder {
            counts: BTreeMap::new(),
            records: VecDeque::new(),
            limit,
        }
    }

    pub(crate) fn record(&mut self, record: RequestRecord) {
        *self
            .counts
            .entry(format!("{} {}", record.method, record.route))
            .or_insert(0) += 1;
        if self.limit == 0 {
            return;
        }
        if self.records.len() >= self.limit {
            self.records.pop_front();
        }
        self.records.push_back(record);
    }

    pub(crate) fn count(&self, method: &str, route: &str) -> u64 {
        self.counts
            .get(&route_key(method, route))
            .copied()
            .unwrap_or(0)
    }

    pub(crate) fn snapshot(&self) -> Stats {
        Stats {
            requests: self.records.iter().cloned().collect(),
            counts: self.counts.clone(),
        }
    }

    pub(crate) fn reset(&mut self) {
        self.counts.clear();
        self.records.clear();
    }
}
