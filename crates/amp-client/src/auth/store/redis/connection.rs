//! The connection side of [`RedisStore`](super::RedisStore): the redis-rs
//! client (plain or TLS, and which certificates TLS trusts), one shared
//! connection opened again after it breaks, a time limit on every operation,
//! and the once-per-outage warnings. Nothing here knows about tokens.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, RedisError, RedisResult};
use zeroize::Zeroizing;

use crate::config::redact_url;

/// What the server was the last time an operation said so.
const HEALTH_UNKNOWN: u8 = 0;
const HEALTH_UP: u8 = 1;
const HEALTH_DOWN: u8 = 2;

/// How to reach one Redis server, and what we know of it.
pub(super) struct Connector {
    client: redis::Client,
    url: Zeroizing<String>,
    /// The URL with its password masked: the only form that is ever shown.
    pub(super) redacted: String,
    password: Option<Zeroizing<String>>,
    /// The longest one operation (connecting included) may take.
    pub(super) timeout: Duration,
    /// The shared connection and its number, so that a failure on an old
    /// connection never throws away a newer one.
    slot: Mutex<Option<(u64, MultiplexedConnection)>>,
    /// Held while connecting, so that callers arriving meanwhile wait for that
    /// connection instead of opening their own.
    connecting: tokio::sync::Mutex<()>,
    opened: AtomicU64,
    health: AtomicU8,
}

impl Connector {
    /// A connector for `url`, trusting for `rediss://` Mozilla's roots and
    /// the certificates of `ca_file`, if any. Connects to nothing. The error
    /// says what is wrong with the URL or the file, without the password.
    pub(super) fn new(
        url: &str,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<Connector, String> {
        let redacted = redact_url(url);
        let password = url::Url::parse(url)
            .ok()
            .and_then(|u| u.password().map(|p| Zeroizing::new(p.to_string())));
        let scrubbed = |e: &RedisError| {
            scrub(
                &e.to_string(),
                url,
                &redacted,
                password.as_deref().map(String::as_str),
            )
        };
        let tls = url.starts_with("rediss://");
        if tls && url::Url::parse(url).is_ok_and(|u| u.fragment() == Some("insecure")) {
            return Err(format!(
                "{redacted}: `#insecure` (no certificate checks) is not supported; \
                 to trust a private CA, name its PEM file (AMP_REDIS_CA_FILE)"
            ));
        }
        let client = match ca_file {
            None => redis::Client::open(url)
                .map_err(|e| format!("{redacted} is not a usable Redis URL: {}", scrubbed(&e)))?,
            Some(path) if !tls => {
                return Err(format!(
                    "a CA file ({}) is only used with rediss:// (TLS), and {redacted} is plain redis://",
                    path.display()
                ));
            }
            Some(path) => {
                let certificates = redis::TlsCertificates {
                    client_tls: None,
                    root_cert: Some(trust_bundle(path)?),
                };
                redis::Client::build_with_tls(url, certificates).map_err(|e| {
                    format!(
                        "{redacted} cannot be used with the CA file {}: {}",
                        path.display(),
                        scrubbed(&e)
                    )
                })?
            }
        };
        Ok(Connector {
            client,
            url: Zeroizing::new(url.to_string()),
            redacted,
            password,
            timeout,
            slot: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            opened: AtomicU64::new(0),
            health: AtomicU8::new(HEALTH_UNKNOWN),
        })
    }

    /// The same server trusting the certificates of `ca_file` too, with no
    /// connection yet.
    pub(super) fn with_ca_file(&self, ca_file: &Path) -> Result<Connector, String> {
        Connector::new(&self.url, Some(ca_file), self.timeout)
    }

    /// The same client with another time limit, with no connection yet.
    pub(super) fn with_timeout(&self, timeout: Duration) -> Connector {
        Connector {
            client: self.client.clone(),
            url: self.url.clone(),
            redacted: self.redacted.clone(),
            password: self.password.clone(),
            timeout,
            slot: Mutex::new(None),
            connecting: tokio::sync::Mutex::new(()),
            opened: AtomicU64::new(0),
            health: AtomicU8::new(HEALTH_UNKNOWN),
        }
    }

    /// Runs `op` on the shared connection (opened first if there is none),
    /// within the time limit. A failure is described without the password; a
    /// failure that means the server is out of reach (connecting failed, the
    /// connection broke, no answer in time) also drops the connection, so
    /// the next operation connects again, and is logged once per outage.
    pub(super) async fn run<T, F, Fut>(&self, what: &str, op: F) -> Result<T, String>
    where
        F: FnOnce(MultiplexedConnection) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let mut used = None;
        let attempt = async {
            let (number, conn) = self.connection().await.map_err(Failure::Connect)?;
            used = Some(number);
            op(conn).await.map_err(Failure::Command)
        };
        let failure = match tokio::time::timeout(self.timeout, attempt).await {
            Ok(Ok(value)) => {
                self.reachable();
                return Ok(value);
            }
            Ok(Err(failure)) => failure,
            Err(_) => Failure::Timeout,
        };
        let reason = match &failure {
            Failure::Connect(e) if e.is_timeout() => format!(
                "cannot connect to {} within {:?}: {}",
                self.redacted,
                self.timeout,
                self.scrub(e)
            ),
            Failure::Connect(e) => {
                format!("cannot connect to {}: {}", self.redacted, self.scrub(e))
            }
            Failure::Command(e) => format!("{what} on {} failed: {}", self.redacted, self.scrub(e)),
            Failure::Timeout => format!(
                "{what} on {} got no answer within {:?}",
                self.redacted, self.timeout
            ),
        };
        let out_of_reach = match &failure {
            Failure::Connect(_) | Failure::Timeout => true,
            Failure::Command(e) => is_out_of_reach(e),
        };
        if out_of_reach {
            if let Some(number) = used {
                self.forget(number);
            }
            self.unreachable(&reason);
        } else {
            // The server answered, if only with an error.
            self.reachable();
        }
        Err(reason)
    }

    /// The shared connection, opened if there is none.
    async fn connection(&self) -> RedisResult<(u64, MultiplexedConnection)> {
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let _connecting = self.connecting.lock().await;
        // Opened by another caller while this one waited?
        if let Some(current) = self.current() {
            return Ok(current);
        }
        let config = AsyncConnectionConfig::new()
            .set_connection_timeout(Some(self.timeout))
            .set_response_timeout(Some(self.timeout));
        let conn = self
            .client
            .get_multiplexed_async_connection_with_config(&config)
            .await?;
        let number = self.opened.fetch_add(1, Ordering::Relaxed) + 1;
        *self.slot() = Some((number, conn.clone()));
        tracing::debug!(store = %self.redacted, connection = number, "connected to Redis");
        Ok((number, conn))
    }

    fn current(&self) -> Option<(u64, MultiplexedConnection)> {
        self.slot().clone()
    }

    /// Drops connection `number` if it is still the shared one.
    fn forget(&self, number: u64) {
        let mut slot = self.slot();
        if slot.as_ref().is_some_and(|(n, _)| *n == number) {
            *slot = None;
        }
    }

    fn slot(&self) -> std::sync::MutexGuard<'_, Option<(u64, MultiplexedConnection)>> {
        // Only ever held to read or swap the slot: a panic cannot leave it half
        // written, so a poisoned lock is still sound to use.
        self.slot
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The first failure of an outage is a warning; the others are traced only.
    fn unreachable(&self, reason: &str) {
        match self.health.swap(HEALTH_DOWN, Ordering::AcqRel) {
            HEALTH_DOWN => {
                tracing::debug!(store = %self.redacted, error = reason, "Redis still out of reach")
            }
            HEALTH_UP => tracing::warn!(
                store = %self.redacted,
                error = reason,
                "lost the Redis token store; its operations fail until it is back"
            ),
            _ => tracing::warn!(
                store = %self.redacted,
                error = reason,
                "cannot reach the Redis token store; its operations fail until it is reachable"
            ),
        }
    }

    /// The first success after an outage says the server is back.
    fn reachable(&self) {
        if self.health.swap(HEALTH_UP, Ordering::AcqRel) == HEALTH_DOWN {
            tracing::info!(store = %self.redacted, "the Redis token store is back");
        }
    }

    /// A message from redis-rs without the URL's password.
    fn scrub(&self, e: &RedisError) -> String {
        scrub(
            &e.to_string(),
            &self.url,
            &self.redacted,
            self.password.as_deref().map(String::as_str),
        )
    }
}

/// Why an operation failed.
enum Failure {
    Connect(RedisError),
    Command(RedisError),
    Timeout,
}

/// Errors after which the connection cannot be trusted to work again.
fn is_out_of_reach(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_dropped()
        || e.is_connection_refusal()
        || e.is_timeout()
        || e.is_unrecoverable_error()
}

/// The certificates a `rediss://` connection with a CA file trusts, as one PEM
/// bundle for redis-rs: those of the file, then Mozilla's roots (which
/// redis-rs would otherwise use alone, and replaces by any bundle given).
fn trust_bundle(path: &Path) -> Result<Vec<u8>, String> {
    use base64::Engine as _;
    use rustls_pki_types::pem::PemObject as _;
    use rustls_pki_types::CertificateDer;

    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("cannot read the CA file {shown}: {e}"))?;
    let mine = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CA file {shown} is not valid PEM: {e}"))?;
    if mine.is_empty() {
        return Err(format!(
            "the CA file {shown} holds no certificate (expected PEM blocks \
             -----BEGIN CERTIFICATE-----)"
        ));
    }
    let mut bundle = String::new();
    for der in mine.iter().chain(webpki_root_certs::TLS_SERVER_ROOT_CERTS) {
        let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
        bundle.push_str("-----BEGIN CERTIFICATE-----\n");
        // Base64 is ASCII, so every 64-byte chunk is valid UTF-8.
        for line in b64.as_bytes().chunks(64) {
            bundle.push_str(&String::from_utf8_lossy(line));
            bundle.push('\n');
        }
        bundle.push_str("-----END CERTIFICATE-----\n");
    }
    Ok(bundle.into_bytes())
}

/// Removes the URL and the password from a message from redis-rs.
pub(super) fn scrub(message: &str, url: &str, redacted: &str, password: Option<&str>) -> String {
    let mut m = message.replace(url, redacted);
    if let Some(p) = password.filter(|p| !p.is_empty()) {
        m = m.replace(p, "***");
    }
    m
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_file(name: &str, contents: &[u8]) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "amp-redis-ca-{}-{name}-{:08x}.pem",
            std::process::id(),
            fastrand::u32(..)
        ));
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn scrub_masks_url_and_password() {
        let m = scrub(
            "failed redis://:pw1234@h/ with pw1234",
            "redis://:pw1234@h/",
            "redis://:***@h/",
            Some("pw1234"),
        );
        assert_eq!(m, "failed redis://:***@h/ with ***");
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused() {
        let url = "rediss://amp:pw-secret@127.0.0.1:1/";
        let missing = std::env::temp_dir().join("amp-no-such-ca-file.pem");
        let empty = temp_file("empty", b"");
        let key_only = temp_file(
            "key",
            b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIA==\n-----END PRIVATE KEY-----\n",
        );
        let torn = temp_file("torn", b"-----BEGIN CERTIFICATE-----\nMIIB\n");
        for (path, why) in [
            (&missing, "cannot read the CA file"),
            (&empty, "holds no certificate"),
            (&key_only, "holds no certificate"),
            (&torn, "not valid PEM"),
        ] {
            let e = Connector::new(url, Some(path), Duration::from_secs(1))
                .err()
                .unwrap_or_else(|| panic!("{} was accepted", path.display()));
            assert!(
                e.contains(why) && e.contains(&path.display().to_string()),
                "{e}"
            );
            assert!(!e.contains("pw-secret"), "{e}");
        }
        for p in [empty, key_only, torn] {
            let _ = std::fs::remove_file(p);
        }
    }

    #[test]
    fn a_ca_file_needs_a_tls_url_and_insecure_is_refused() {
        let ca = temp_file("plain", b"");
        let e = Connector::new(
            "redis://:pw-secret@127.0.0.1:1/",
            Some(&ca),
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        assert!(e.contains("only used with rediss://"), "{e}");
        assert!(!e.contains("pw-secret"), "{e}");
        let _ = std::fs::remove_file(ca);
        let e = Connector::new(
            "rediss://:pw-secret@127.0.0.1:1/#insecure",
            None,
            Duration::from_secs(1),
        )
        .err()
        .unwrap();
        assert!(e.contains("#insecure") && !e.contains("pw-secret"), "{e}");
    }

    #[test]
    fn a_bundle_holds_the_file_and_mozillas_roots() {
        use rustls_pki_types::pem::PemObject as _;
        use rustls_pki_types::CertificateDer;
        // Any well-formed certificate will do: the first of Mozilla's roots.
        let first = &webpki_root_certs::TLS_SERVER_ROOT_CERTS[0];
        let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
        {
            use base64::Engine as _;
            pem.push_str(&base64::engine::general_purpose::STANDARD.encode(first.as_ref()));
        }
        pem.push_str("\n-----END CERTIFICATE-----\n");
        let path = temp_file("one", pem.as_bytes());
        let bundle = trust_bundle(&path).unwrap();
        let certs: Vec<CertificateDer<'_>> = CertificateDer::pem_slice_iter(&bundle)
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(
            certs.len(),
            1 + webpki_root_certs::TLS_SERVER_ROOT_CERTS.len()
        );
        assert_eq!(&certs[0], first);
        assert_eq!(&certs[1..], webpki_root_certs::TLS_SERVER_ROOT_CERTS);
        // redis-rs accepts it.
        Connector::new("rediss://127.0.0.1:1/", Some(&path), Duration::from_secs(1)).unwrap();
        let _ = std::fs::remove_file(path);
    }
}
