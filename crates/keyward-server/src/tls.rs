//! HTTPS: browsers give a page a service worker and the camera only over HTTPS (or on the
//! device's own localhost), so a phone on the site's network needs it for the offline app and
//! the scanner.
//!
//! - [`Certificates`] holds the certificate and key the server presents, read from two PEM
//!   files and read again when either file changes (checked at most once a second, as
//!   connections arrive); a broken new file keeps the old certificate and says why.
//! - [`server_config`] is rustls's configuration over them (ring, TLS 1.2 and 1.3, ALPN `h2`
//!   then `http/1.1`); the serving loop ([`crate::serve`]) does the handshake under the header
//!   timeout and speaks HTTP/2 or HTTP/1.1 as the handshake chose.
//! - [`redirect_router`] is the plain-HTTP listener's whole app: a 308 to the same path over
//!   HTTPS (and, in the local mode, the CA page, which a phone must reach before it trusts
//!   the CA).
//! - [`local`] makes a certificate authority of the server's own for a network with no domain,
//!   and [`page`] the `/ca` page that tells each phone how to install it.
//! - [`acme`] gets and renews certificates for a public domain over ACME.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::extract::Request;
use axum::http::header::{HeaderValue, HOST, LOCATION};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

pub mod acme;
pub mod local;
pub mod page;

/// How often, at most, the certificate files are looked at for a change.
pub const CHECK_EVERY: Duration = Duration::from_secs(1);

/// `Strict-Transport-Security` on every HTTPS answer: a year.
pub const HSTS: &str = "max-age=31536000";

/// The crypto provider: ring (builds with a C compiler alone). rustls marks it deprecated
/// for want of post-quantum key exchange; its classical key exchanges stay secure, and
/// aws-lc-rs (which has it) needs more to build.
#[allow(deprecated)]
pub fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Why a certificate and key could not be used.
#[derive(Debug)]
pub enum TlsError {
    /// A file could not be read or held no PEM block of the kind wanted.
    Read { path: PathBuf, what: String },
    /// The key does not fit the certificate, or rustls cannot use it.
    Unusable { cert: PathBuf, what: String },
    /// The local certificate authority could not be made or read.
    Local(String),
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TlsError::Read { path, what } => write!(f, "cannot read {}: {what}", path.display()),
            TlsError::Unusable { cert, what } => write!(
                f,
                "cannot use the certificate {} with its key: {what}",
                cert.display()
            ),
            TlsError::Local(what) => f.write_str(what),
        }
    }
}

impl std::error::Error for TlsError {}

/// A file's modification time and length: a change to either means read it again.
type Stamp = Option<(SystemTime, u64)>;

fn stamp(path: &Path) -> Stamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

/// The certificate and key the server presents, from PEM files, read again when they change.
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    state: Mutex<State>,
}

struct State {
    current: Arc<CertifiedKey>,
    /// The files' stamps when last read (whether that read worked or not: a broken file is
    /// reported once, not every second).
    stamps: (Stamp, Stamp),
    checked: Instant,
}

impl fmt::Debug for Certificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Certificates")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Certificates {
    /// Reads `cert` (the server's certificate first, then any intermediates) and `key` (PKCS #8,
    /// PKCS #1 or SEC1), and checks that they belong together.
    pub fn load(cert: &Path, key: &Path) -> Result<Arc<Certificates>, TlsError> {
        let stamps = (stamp(cert), stamp(key));
        let current = read_pair(cert, key)?;
        Ok(Arc::new(Certificates {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            state: Mutex::new(State {
                current: Arc::new(current),
                stamps,
                checked: Instant::now(),
            }),
        }))
    }

    /// Reads the files again if a second has passed since the last look and either changed.
    /// A pair that cannot be used keeps the old one, and the reason is logged.
    pub fn check(&self) {
        let mut state = self.lock();
        if state.checked.elapsed() < CHECK_EVERY {
            return;
        }
        state.checked = Instant::now();
        let stamps = (stamp(&self.cert), stamp(&self.key));
        if stamps == state.stamps {
            return;
        }
        state.stamps = stamps;
        match read_pair(&self.cert, &self.key) {
            Ok(pair) => {
                state.current = Arc::new(pair);
                tracing::info!(cert = %self.cert.display(), "serving the new certificate");
            }
            Err(e) => tracing::error!(
                error = %e,
                "still serving the certificate read before (fix the files and they are read again)"
            ),
        }
    }

    /// The certificate chain now presented (the server's own first).
    pub fn chain(&self) -> Vec<CertificateDer<'static>> {
        self.lock().current.cert.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.lock().current.clone())
    }
}

fn read_pair(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let unreadable = |path: &Path, what: String| TlsError::Read {
        path: path.to_path_buf(),
        what,
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| unreadable(cert, e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(cert, e.to_string()))?;
    if chain.is_empty() {
        return Err(unreadable(
            cert,
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into(),
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        unreadable(
            key,
            format!("it holds no PEM private key (PKCS #8, PKCS #1 or SEC1): {e}"),
        )
    })?;
    CertifiedKey::from_der(chain, private, &provider()).map_err(|e| TlsError::Unusable {
        cert: cert.to_path_buf(),
        what: e.to_string(),
    })
}

/// The ALPN name of HTTP/2, which the serving loop looks for after the handshake.
pub const H2: &[u8] = b"h2";

/// rustls's server configuration over `resolver` (the certificate files, or ACME's):
/// TLS 1.2 and 1.3; ALPN offers HTTP/2 first, then HTTP/1.1.
pub fn server_config(resolver: Arc<dyn ResolvesServerCert>) -> Arc<ServerConfig> {
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_cert_resolver(resolver);
    config.alpn_protocols = vec![H2.to_vec(), b"http/1.1".to_vec()];
    Arc::new(config)
}

/// What the serving loop needs for HTTPS: the configuration, and the certificate files to
/// check for a change as connections arrive (none with ACME, whose certificates change in
/// memory).
#[derive(Clone, Debug)]
pub struct Tls {
    pub certificates: Option<Arc<Certificates>>,
    pub config: Arc<ServerConfig>,
}

impl Tls {
    pub fn new(certificates: Arc<Certificates>) -> Tls {
        Tls {
            config: server_config(certificates.clone()),
            certificates: Some(certificates),
        }
    }

    /// From a certificate and key in PEM files.
    pub fn from_files(cert: &Path, key: &Path) -> Result<Tls, TlsError> {
        Ok(Tls::new(Certificates::load(cert, key)?))
    }
}

/// Marks a request that came over HTTPS (in its extensions), so that its answer gets
/// [`HSTS`].
#[derive(Clone, Copy, Debug)]
pub struct Secure;

/// The plain-HTTP listener's app: every request gets a 308 to the same host and path over
/// HTTPS on `https_port`; `ca`, when given, is served as it is (the local CA's page and file,
/// which a phone must fetch before it trusts the CA).
pub fn redirect_router(https_port: u16, ca: Option<Router>) -> Router {
    let redirect = move |req: Request| async move { redirect(&req, https_port) };
    match ca {
        Some(ca) => ca.fallback(redirect),
        None => Router::new().fallback(redirect),
    }
}

/// The sentence a plain-HTTP request with no usable `Host` gets.
pub const NO_HOST: &str = "This server answers over HTTPS only: open its address with https://.";

fn redirect(req: &Request, https_port: u16) -> Response {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .and_then(host_without_port);
    let Some(host) = host else {
        return (StatusCode::BAD_REQUEST, NO_HOST).into_response();
    };
    let path = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_string();
    let path = if path.starts_with('/') {
        path
    } else {
        format!("/{path}")
    };
    let location = if https_port == 443 {
        format!("https://{host}{path}")
    } else {
        format!("https://{host}:{https_port}{path}")
    };
    match HeaderValue::from_str(&location) {
        Ok(location) => (StatusCode::PERMANENT_REDIRECT, [(LOCATION, location)]).into_response(),
        Err(_) => (StatusCode::BAD_REQUEST, NO_HOST).into_response(),
    }
}

/// The host of a `Host` header without its port: `example.org`, `192.0.2.1`, `[2001:db8::1]`.
/// `None` for anything that is not a plain host name or address.
pub fn host_without_port(host: &str) -> Option<&str> {
    let host = host.trim();
    let name = if host.starts_with('[') {
        let end = host.find(']')?;
        let rest = &host[end + 1..];
        if !(rest.is_empty() || port_ok(rest)) {
            return None;
        }
        &host[..=end]
    } else {
        match host.rsplit_once(':') {
            Some((name, port)) if port_ok(&format!(":{port}")) => name,
            Some(_) => return None,
            None => host,
        }
    };
    let allowed =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '[' | ']');
    (!name.is_empty() && name.chars().all(allowed)).then_some(name)
}

fn port_ok(rest: &str) -> bool {
    rest.strip_prefix(':')
        .is_some_and(|p| !p.is_empty() && p.parse::<u16>().is_ok())
}

/// Writes `contents` to `path` through a file beside it and a rename, so a reader never sees
/// half a file; `private` files are readable by the owner alone (0600).
pub fn write_atomically(path: &Path, contents: &[u8], private: bool) -> io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{name}.new"));
    let _ = std::fs::remove_file(&temporary);
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = private;
    {
        use std::io::Write;
        let mut file = options.open(&temporary)?;
        file.write_all(contents)?;
        file.sync_all()?;
    }
    std::fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_their_ports() {
        assert_eq!(host_without_port("example.org"), Some("example.org"));
        assert_eq!(host_without_port("example.org:8080"), Some("example.org"));
        assert_eq!(host_without_port("192.0.2.1:80"), Some("192.0.2.1"));
        assert_eq!(
            host_without_port("[2001:db8::1]:8080"),
            Some("[2001:db8::1]")
        );
        assert_eq!(host_without_port("[::1]"), Some("[::1]"));
        assert_eq!(host_without_port("example.org:x"), None);
        assert_eq!(host_without_port("a/b"), None);
        assert_eq!(host_without_port("evil\r\nx"), None);
        assert_eq!(host_without_port(""), None);
    }
}
