//! Helpers of the handler tests: a wiremock server
//! that hands out a token and records exactly what each call sent, and a
//! sandbox with a client logged in to it.

use amp_client::{AmpClient, Config};
use amp_sandbox::{RequestRecord, Sandbox};
use serde_json::{json, Value};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

pub type Boxed<T> = Result<T, Box<dyn std::error::Error>>;
pub type TestResult = Boxed<()>;

/// The token the wiremock server hands out.
pub const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";
pub const GAID: &str = "GA2MHBP9ZhPRZoYHDyFJAHsDCdC3Sz";
pub const UUID: &str = "4e6c5fca-4a3e-4b8c-9a3c-2f1d0e9b8a7c";

// ---- wiremock ------------------------------------------------------------------

/// A wiremock server that hands out [`TOKEN`], and a client for it.
pub async fn mock() -> Boxed<(MockServer, AmpClient)> {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/api/user/obtain_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({ "token": TOKEN })))
        .mount(&server)
        .await;
    let config = Config::builder()
        .base_url(format!("{}/api", server.uri()))
        .credentials("user", "pw-Mock-4242")
        .build()?;
    Ok((server, AmpClient::new(config)?))
}

/// Answers `verb url` with `status` and `body` (no body for `Value::Null`),
/// and expects to be called at least once.
pub async fn answer(server: &MockServer, verb: &str, url: &str, status: u16, body: Value) {
    let template = ResponseTemplate::new(status);
    let template = if body.is_null() {
        template
    } else {
        template.set_body_json(body)
    };
    Mock::given(method(verb))
        .and(path(url))
        .respond_with(template)
        .expect(1..)
        .mount(server)
        .await;
}

/// One request as the server saw it: method, path, query and JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub body: Option<Value>,
}

/// `verb path`, no query, no body: the expected side of [`sent`].
pub fn req(verb: &str, path: &str) -> Sent {
    Sent {
        method: verb.to_string(),
        path: path.to_string(),
        query: None,
        body: None,
    }
}

impl Sent {
    /// With this query string.
    pub fn query(mut self, query: &str) -> Sent {
        self.query = Some(query.to_string());
        self
    }

    /// With this JSON body.
    pub fn body(mut self, body: Value) -> Sent {
        self.body = Some(body);
        self
    }
}

/// Every request the client sent to `server` except the login, in order,
/// each checked to carry the token (and, with a body, the JSON content type).
pub async fn sent_all(server: &MockServer) -> Boxed<Vec<Sent>> {
    let requests = server.received_requests().await.ok_or("not recording")?;
    let mut out = Vec::new();
    for r in requests
        .iter()
        .filter(|r| r.url.path() != "/api/user/obtain_token")
    {
        let auth = r.headers.get("authorization").and_then(|v| v.to_str().ok());
        assert_eq!(auth, Some(format!("token {TOKEN}").as_str()), "{r:?}");
        let body = if r.body.is_empty() {
            None
        } else {
            let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok());
            assert_eq!(ct, Some("application/json"), "{r:?}");
            Some(serde_json::from_slice(&r.body)?)
        };
        out.push(Sent {
            method: r.method.to_string(),
            path: r.url.path().to_string(),
            query: r.url.query().map(str::to_owned),
            body,
        });
    }
    Ok(out)
}

/// The last request the client sent, besides the login.
pub async fn sent(server: &MockServer) -> Boxed<Sent> {
    Ok(sent_all(server).await?.pop().ok_or("nothing sent")?)
}

/// Nothing but (perhaps) the login reached the server.
pub async fn nothing_sent(server: &MockServer) -> TestResult {
    assert_eq!(sent_all(server).await?, []);
    Ok(())
}

// ---- the sandbox ---------------------------------------------------------------

/// A sandbox with its sample data, and a client logged in as its issuer.
pub async fn sandbox() -> Boxed<(Sandbox, AmpClient)> {
    let sandbox = Sandbox::start().await?;
    let config = Config::builder()
        .base_url(sandbox.base_url())
        .credentials(sandbox.username(), sandbox.password())
        .build()?;
    let client = AmpClient::new(config)?;
    Ok((sandbox, client))
}

/// The last request the sandbox saw.
pub fn last(sandbox: &Sandbox) -> Boxed<RequestRecord> {
    Ok(sandbox
        .stats()
        .requests
        .last()
        .cloned()
        .ok_or("no request recorded")?)
}

/// Asserts the last request: method, route pattern, exact path, and that it
/// carried the token.
pub fn check(sandbox: &Sandbox, verb: &str, route: &str, full_path: &str) -> TestResult {
    let r = last(sandbox)?;
    assert_eq!(
        (r.method.as_str(), r.route.as_str(), r.path.as_str()),
        (verb, route, full_path),
        "{r:?}"
    );
    assert!(
        r.authorization
            .as_deref()
            .is_some_and(|a| a.starts_with("token ")),
        "{r:?}"
    );
    Ok(())
}

/// Asserts the last request as [`check`] does, and its status.
pub fn check_status(
    sandbox: &Sandbox,
    verb: &str,
    route: &str,
    full_path: &str,
    status: u16,
) -> TestResult {
    check(sandbox, verb, route, full_path)?;
    assert_eq!(last(sandbox)?.status, status);
    Ok(())
}
