//! The connection side of [`RedisStore`](super::RedisStore): how to reach
//! the server (plain TCP by redis-rs, or TLS by rustls and which certificates
//! it trusts), one shared connection opened again after it breaks, a time
//! limit on every operation, and the once-per-outage warnings. Nothing here
//! knows about tokens.
//!
//! TLS is done here rather than by redis-rs's own TLS features because those
//! always bring `rustls-native-certs` (and with it the platform's TLS crates,
//! schannel and security-framework, which this workspace keeps out) and
//! replace the default roots by any CA bundle given, where we add to them.

use std::future::Future;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, IntoConnectionInfo, RedisError, RedisResult};
use rustls::pki_types::ServerName;
use zeroize::Zeroizing;

use crate::config::redact_url;

/// What the server was the last time an operation said so.
const HEALTH_UNKNOWN: u8 = 0;
const HEALTH_UP: u8 = 1;
const HEALTH_DOWN: u8 = 2;

/// The port of a Redis URL without one.
const DEFAULT_PORT: u16 = 6379;

/// How a connection is opened.
#[derive(Clone)]
enum Dialer {
    /// `redis://`: redis-rs connects.
    Plain(redis::Client),
    /// `rediss://`: we connect TCP and TLS, and hand the stream to redis-rs
    /// for the Redis handshake (AUTH, SELECT).
    Tls(Arc<TlsDialer>),
}

struct TlsDialer {
    host: url::Host<String>,
    port: u16,
    server_name: ServerName<'static>,
    tls: Arc<rustls::ClientConfig>,
    /// Username, password, database, protocol: what redis-rs sends once connected.
    redis: redis::RedisConnectionInfo,
}

/// How to reach one Redis server, and what we know of it.
pub(super) struct Connector {
    dialer: Dialer,
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
        let parsed = url::Url::parse(url).ok();
        let password = parsed
            .as_ref()
            .and_then(|u| u.password().map(|p| Zeroizing::new(p.to_string())));
        let scrubbed = |e: &RedisError| {
            scrub(
                &e.to_string(),
                url,
                &redacted,
                password.as_deref().map(String::as_str),
            )
        };
        let unusable =
            |e: &RedisError| format!("{redacted} is not a usable Redis URL: {}", scrubbed(e));
        let dialer = match parsed {
            Some(parsed) if parsed.scheme() == "rediss" => {
                Dialer::Tls(Arc::new(tls_dialer(parsed, ca_file, &redacted, &unusable)?))
            }
            _ => {
                if let Some(path) = ca_file {
                    return Err(format!(
                        "a CA file ({}) is only used with rediss:// (TLS), and {redacted} is not a rediss:// URL",
                        path.display()
                    ));
                }
                Dialer::Plain(redis::Client::open(url).map_err(|e| unusable(&e))?)
            }
        };
        Ok(Connector {
            dialer,
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
            dialer: self.dialer.clone(),
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
        let conn = match &self.dialer {
            Dialer::Plain(client) => {
                client
                    .get_multiplexed_async_connection_with_config(&config)
                    .await?
            }
            Dialer::Tls(tls) => tls.dial(config).await?,
        };
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

impl TlsDialer {
    /// TCP, then TLS checking the server's certificate for the URL's host,
    /// then redis-rs's handshake on that stream. The caller bounds the time.
    async fn dial(&self, config: AsyncConnectionConfig) -> RedisResult<MultiplexedConnection> {
        let tcp = match &self.host {
            url::Host::Domain(name) => {
                tokio::net::TcpStream::connect((name.as_str(), self.port)).await?
            }
            url::Host::Ipv4(ip) => tokio::net::TcpStream::connect((*ip, self.port)).await?,
            url::Host::Ipv6(ip) => tokio::net::TcpStream::connect((*ip, self.port)).await?,
        };
        tcp.set_nodelay(true)?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
            .connect(self.server_name.clone(), tcp)
            .await?;
        let (conn, driver) =
            MultiplexedConnection::new_with_config(&self.redis, stream, config).await?;
        // Reads answers and ends with the connection.
        tokio::spawn(driver);
        Ok(conn)
    }
}

/// Everything a `rediss://` URL needs before its first connection: where,
/// whom to trust, and the Redis settings (parsed by redis-rs from the same
/// URL as `redis://`).
fn tls_dialer(
    mut url: url::Url,
    ca_file: Option<&Path>,
    redacted: &str,
    unusable: &dyn Fn(&RedisError) -> String,
) -> Result<TlsDialer, String> {
    if url.fragment() == Some("insecure") {
        return Err(format!(
            "{redacted}: `#insecure` (no certificate checks) is not supported; \
             to trust a private CA, name its PEM file (AMP_REDIS_CA_FILE)"
        ));
    }
    let host = url
        .host()
        .map(|h| h.to_owned())
        .ok_or_else(|| format!("{redacted} has no host"))?;
    let port = url.port().unwrap_or(DEFAULT_PORT);
    let server_name = match &host {
        url::Host::Domain(name) => ServerName::try_from(name.clone())
            .map_err(|e| format!("{redacted}: {name:?} is not a host name TLS can check: {e}"))?,
        url::Host::Ipv4(ip) => ServerName::IpAddress(std::net::IpAddr::V4(*ip).into()),
        url::Host::Ipv6(ip) => ServerName::IpAddress(std::net::IpAddr::V6(*ip).into()),
    };
    // The same URL as plain redis:// gives redis-rs's reading of the rest.
    url.set_fragment(None);
    url.set_scheme("redis")
        .map_err(|()| format!("{redacted} is not a usable Redis URL"))?;
    let redis = url
        .as_str()
        .into_connection_info()
        .map_err(|e| unusable(&e))?
        .redis_settings()
        .clone();
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = ca_file {
        add_ca_file(&mut roots, path)?;
    }
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| format!("TLS cannot be set up: {e}"))?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(TlsDialer {
        host,
        port,
        server_name,
        tls: Arc::new(tls),
        redis,
    })
}

/// Adds the CA certificates of the PEM file at `path` to `roots`.
fn add_ca_file(roots: &mut rustls::RootCertStore, path: &Path) -> Result<(), String> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::CertificateDer;

    let shown = path.display();
    let pem = read_ca_file(path).map_err(|e| format!("cannot read the CA file {shown}: {e}"))?;
    let certificates = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("the CA file {shown} is not valid PEM: {e}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "the CA file {shown} holds no certificate (expected PEM blocks \
             -----BEGIN CERTIFICATE-----)"
        ));
    }
    for (n, certificate) in certificates.into_iter().enumerate() {
        roots.add(certificate).map_err(|e| {
            format!(
                "certificate {} of the CA file {shown} cannot be trusted: {e}",
                n + 1
            )
        })?;
    }
    Ok(())
}

/// The largest CA file read: a bundle of every public root is about 200 KiB.
const CA_FILE_MAX: u64 = 1024 * 1024;

/// The bytes of the CA file at `path`: a regular file of at most 1 MiB. It
/// is read while the client is built, where no timeout runs: opened
/// without blocking, so a FIFO (or a device) in its place is refused at
/// once instead of holding the process in `open` or `read` for ever.
fn read_ca_file(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let file = crate::private_fs::open_to_read(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut pem = Vec::new();
    file.take(CA_FILE_MAX + 1).read_to_end(&mut pem)?;
    if pem.len() as u64 > CA_FILE_MAX {
        return Err(std::io::Error::other("larger than 1 MiB"));
    }
    Ok(pem)
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

    /// A self-signed P-256 CA certificate (CN=amp unit test CA; its key was
    /// thrown away), to load as a trust anchor.
    const UNIT_TEST_CA: &str = "-----BEGIN CERTIFICATE-----\n\
MIIBjDCCATOgAwIBAgIUOdfpwRbB9QIZ4tN1QhFQEBVZOycwCgYIKoZIzj0EAwIw\n\
GzEZMBcGA1UEAwwQYW1wIHVuaXQgdGVzdCBDQTAgFw0yNjEyMDExOTUzMDJaGA8y\n\
MTI2MTEwNzE5NTMwMlowGzEZMBcGA1UEAwwQYW1wIHVuaXQgdGVzdCBDQTBZMBMG\n\
ByqGSM49AgEGCCqGSM49AwEHA0IABDHo0Jj7DdwD0xfT9WE54pCv7urQoMNXx54s\n\
gf0KtzOTtF4HtmABgZoJNhMG82MeEgV1ssxLZjPBahI1rDvS+D+jUzBRMB0GA1Ud\n\
DgQWBBRG40gtKP60roPPcIQ8+Ulu7x671zAfBgNVHSMEGDAWgBRG40gtKP60roPP\n\
cIQ8+Ulu7x671zAPBgNVHRMBAf8EBTADAQH/MAoGCCqGSM49BAMCA0cAMEQCIGwD\n\
7vBHaf9DnHB5BKxE5Z9NGBMOzr9Dyys3Sd5sLO3iAiA2yobDSL7825nBRDkW49gN\n\
OTYy+D0tioa1vdlw/lwVbQ==\n\
-----END CERTIFICATE-----\n\
";

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
    fn the_ca_file_adds_to_mozillas_roots() {
        use rustls::pki_types::pem::PemObject as _;
        use rustls::pki_types::CertificateDer;
        let path = temp_file("one", UNIT_TEST_CA.as_bytes());
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        add_ca_file(&mut roots, &path).unwrap();
        assert_eq!(roots.len(), webpki_roots::TLS_SERVER_ROOTS.len() + 1);
        assert!(CertificateDer::from_pem_slice(UNIT_TEST_CA.as_bytes()).is_ok());
        let c =
            Connector::new("rediss://127.0.0.1:1/", Some(&path), Duration::from_secs(1)).unwrap();
        assert!(matches!(c.dialer, Dialer::Tls(_)));
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn tls_urls_keep_their_host_port_and_redis_settings() {
        let c = Connector::new("rediss://amp:pw@[::1]/3", None, Duration::from_secs(1)).unwrap();
        let Dialer::Tls(tls) = &c.dialer else {
            panic!("not TLS")
        };
        assert_eq!(tls.port, DEFAULT_PORT);
        assert_eq!(
            tls.host,
            url::Host::<String>::Ipv6(std::net::Ipv6Addr::LOCALHOST)
        );
        assert_eq!(tls.redis.db(), 3);
        assert_eq!(tls.redis.username(), Some("amp"));
        assert_eq!(tls.redis.password(), Some("pw"));
        let c = Connector::new(
            "rediss://cache.example.com:6380",
            None,
            Duration::from_secs(1),
        )
        .unwrap();
        let Dialer::Tls(tls) = &c.dialer else {
            panic!("not TLS")
        };
        assert_eq!(tls.port, 6380);
        assert_eq!(
            tls.server_name,
            ServerName::try_from("cache.example.com").unwrap()
        );
        assert!(matches!(
            Connector::new("redis://127.0.0.1/", None, Duration::from_secs(1))
                .unwrap()
                .dialer,
            Dialer::Plain(_)
        ));
    }
}
