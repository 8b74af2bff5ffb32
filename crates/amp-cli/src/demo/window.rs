//! What the sandbox recorded during one step of the demo, and the routes
//! the demo looks at.

use std::collections::BTreeSet;

use amp_sandbox::RequestRecord;

/// The login route, as the sandbox records it.
pub(super) const LOGIN: &str = "/user/obtain_token";
/// The refresh route.
pub(super) const REFRESH: &str = "/user/refresh-token";
/// The route every demo call uses.
pub(super) const ASSETS: &str = "/assets";

/// The requests the sandbox recorded during one step.
pub(super) struct Window(pub(super) Vec<RequestRecord>);

impl Window {
    /// Requests to `route` whose status passes `status`.
    pub(super) fn count(&self, route: &str, status: impl Fn(u16) -> bool) -> usize {
        self.0
            .iter()
            .filter(|r| r.route == route && status(r.status))
            .count()
    }

    /// Successful logins.
    pub(super) fn logins(&self) -> usize {
        self.count(LOGIN, |s| s == 200)
    }

    /// Requests to the refresh endpoint, successful or not.
    pub(super) fn refresh_requests(&self) -> usize {
        self.count(REFRESH, |_| true)
    }

    /// Answers with this status, on any route.
    pub(super) fn with_status(&self, status: u16) -> usize {
        self.0.iter().filter(|r| r.status == status).count()
    }

    /// The distinct `Authorization` headers seen on `route` (compared, never printed).
    pub(super) fn tokens_on(&self, route: &str) -> BTreeSet<&str> {
        self.0
            .iter()
            .filter(|r| r.route == route)
            .filter_map(|r| r.authorization.as_deref())
            .collect()
    }
}
