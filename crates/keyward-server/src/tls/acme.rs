//! HTTPS for a public domain: certificates from an ACME certificate authority (Let's Encrypt
//! by default), got and renewed while the server runs.
//!
//! `rustls-acme` does the protocol: it orders a certificate for the `--acme-domain` names,
//! proves control of each name with the TLS-ALPN-01 challenge, and renews a third of the
//! certificate's lifetime before it expires (30 days before, for Let's Encrypt's 90). The
//! challenge is answered by the HTTPS listener itself: the validating server connects to port
//! 443 offering only the ALPN protocol `acme-tls/1`, the resolver presents the challenge
//! certificate, and the serving loop ([`crate::serve`]) closes such a connection after the
//! handshake. So nothing but the HTTPS port needs to be reachable, and the handshake runs under
//! the same header timeout and connection cap as every other.
//!
//! The account key and the certificates (with their keys) are kept in `<data>/acme/`
//! ([`FOLDER`]), written through a file beside them and a rename, readable by the server's
//! user alone: a restart serves the kept certificate and orders nothing until renewal is due.
//! A certificate got while serving goes to the next connections, without a restart. A failed
//! order is logged with its reason and tried again after a wait that doubles each time, from
//! a second up to about 18 hours (restart the server to try again at once).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::StreamExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};
use rustls_acme::acme::ACME_TLS_ALPN_NAME;
use rustls_acme::{AccountCache, AcmeConfig, CertCache, EventError, EventOk};
use sha2::{Digest, Sha256};

use super::{provider, server_config, write_atomically, Tls, TlsError};

/// The folder in the data folder.
pub const FOLDER: &str = "acme";

/// The directory `--acme-directory` defaults to: Let's Encrypt's production service.
pub const LETS_ENCRYPT: &str = rustls_acme::acme::LETS_ENCRYPT_PRODUCTION_DIRECTORY;

/// The longest wait between two failed orders (rustls-acme's cap): 2^16 seconds.
const LONGEST_WAIT_SECS: u64 = 1 << 16;

/// What `--acme-…` asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcmeSettings {
    /// The names the certificate holds (each must resolve to this server).
    pub domains: Vec<String>,
    /// The contact the certificate authority writes to about expiring certificates.
    pub email: Option<String>,
    /// The ACME directory's URL.
    pub directory: String,
    /// A root certificate (PEM) to trust for the directory instead of the usual public roots:
    /// a private ACME server's.
    pub ca: Option<PathBuf>,
}

/// Starts getting (or reading back) the certificate for `settings.domains` in the
/// background, kept in `<data>/acme`, and returns the HTTPS configuration that serves it.
/// Until the first certificate arrives, handshakes fail (but ACME's own challenge).
///
/// Must be called inside the Tokio runtime: the task that orders and renews is spawned on it.
pub fn start(settings: &AcmeSettings, data: &Path) -> Result<Tls, TlsError> {
    let domains = checked_domains(&settings.domains)?;
    let dir = data.join(FOLDER);
    make_private_dir(&dir)?;
    let config = match &settings.ca {
        Some(ca) => {
            AcmeConfig::new_with_client_config(domains.clone(), Arc::new(client_config(ca)?))
        }
        None => AcmeConfig::new_with_provider(domains.clone(), provider()),
    };
    let mut config = config
        .directory(&settings.directory)
        .cache(Kept { dir: dir.clone() });
    if let Some(email) = &settings.email {
        config = config.contact_push(format!("mailto:{}", email.trim()));
    }
    let mut state = config.state();
    let resolver = state.resolver();
    let mut served = (*server_config(resolver)).clone();
    served.alpn_protocols.push(ACME_TLS_ALPN_NAME.to_vec());

    let names = domains.join(", ");
    let directory = settings.directory.clone();
    tokio::spawn(async move {
        let mut failures: u32 = 0;
        while let Some(event) = state.next().await {
            match event {
                Ok(EventOk::DeployedCachedCert) => tracing::info!(
                    domains = %names,
                    cache = %dir.display(),
                    "serving the certificate for {names} kept in {}",
                    dir.display()
                ),
                Ok(EventOk::DeployedNewCert) => {
                    failures = 0;
                    tracing::info!(
                        domains = %names,
                        directory = %directory,
                        "got a new certificate for {names} from {directory}; \
                         serving it to new connections"
                    );
                }
                Ok(EventOk::CertCacheStore | EventOk::AccountCacheStore) => {}
                Err(EventError::Order(e)) => {
                    failures += 1;
                    let wait = 1u64
                        .checked_shl(failures - 1)
                        .unwrap_or(LONGEST_WAIT_SECS)
                        .min(LONGEST_WAIT_SECS);
                    tracing::error!(
                        domains = %names,
                        directory = %directory,
                        retry_secs = wait,
                        "could not get a certificate for {names} from \
                         {directory}: {e}. Check that each name's DNS points at this server \
                         and that port 443 reaches it from the internet; trying again in {}",
                        plain_duration(wait)
                    );
                }
                Err(e) => tracing::error!(
                    domains = %names,
                    cache = %dir.display(),
                    "the ACME certificate for {names}: {e} (in {})",
                    dir.display()
                ),
            }
        }
    });
    Ok(Tls {
        certificates: None,
        config: Arc::new(served),
    })
}

/// The names, trimmed and lower case; refused when empty or not a host name (an address
/// cannot be in an ACME certificate here, nor a wildcard, which needs the DNS challenge).
fn checked_domains(domains: &[String]) -> Result<Vec<String>, TlsError> {
    let mut out: Vec<String> = Vec::new();
    for name in domains {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let host = name.len() <= 253
            && name.contains('.')
            && name.split('.').all(label_ok)
            && name.parse::<std::net::IpAddr>().is_err()
            && !name
                .rsplit('.')
                .next()
                .unwrap_or("")
                .chars()
                .all(|c| c.is_ascii_digit());
        if !host {
            return Err(TlsError::Local(format!(
                "--acme-domain {name:?} is not a public host name such as keyward.example.org \
                 (addresses and wildcards cannot be used)"
            )));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    if out.is_empty() {
        return Err(TlsError::Local(
            "--acme-domain needs at least one name".into(),
        ));
    }
    Ok(out)
}

/// rustls's client configuration for talking to a directory whose certificate `ca` (PEM)
/// issued; without `--acme-ca` rustls-acme trusts the usual public roots (Mozilla's).
fn client_config(ca: &Path) -> Result<ClientConfig, TlsError> {
    let unreadable = |what: String| TlsError::Read {
        path: ca.to_path_buf(),
        what,
    };
    let certs = CertificateDer::pem_file_iter(ca)
        .map_err(|e| unreadable(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unreadable(e.to_string()))?;
    if certs.is_empty() {
        return Err(unreadable(
            "it holds no PEM certificate (-----BEGIN CERTIFICATE-----) for --acme-ca".into(),
        ));
    }
    let mut roots = RootCertStore::empty();
    for cert in certs {
        roots
            .add(cert)
            .map_err(|e| unreadable(format!("--acme-ca cannot be trusted: {e}")))?;
    }
    Ok(ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Creates `dir` readable by the server's user alone (0700): it holds private keys.
fn make_private_dir(dir: &Path) -> Result<(), TlsError> {
    let failed = |e: std::io::Error| {
        TlsError::Local(format!("cannot create the folder {}: {e}", dir.display()))
    };
    std::fs::create_dir_all(dir).map_err(failed)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(failed)?;
    }
    Ok(())
}

/// "1 second", "2 minutes", "18 hours".
fn plain_duration(secs: u64) -> String {
    let (n, unit) = match secs {
        s if s < 120 => (s, "second"),
        s if s < 2 * 3600 => (s / 60, "minute"),
        s => (s / 3600, "hour"),
    };
    let mut out = format!("{n} {unit}");
    if n != 1 {
        out.push('s');
    }
    out
}

/// The cache in `<data>/acme`: `account-<hash>.key` per contact and directory, `cert-<hash>.pem`
/// (the key, then the chain) per set of names and directory, so that a change of either orders
/// anew. Written atomically, owner-only.
struct Kept {
    dir: PathBuf,
}

/// `prefix-<first 16 bytes of SHA-256 over the parts and the directory, in hex><suffix>`.
fn file_name(prefix: &str, parts: &[String], directory: &str, suffix: &str) -> String {
    let mut hash = Sha256::new();
    for part in parts {
        hash.update(part.as_bytes());
        hash.update([0]);
    }
    hash.update(directory.as_bytes());
    let mut name = format!("{prefix}-");
    for byte in &hash.finalize()[..16] {
        let _ = write!(name, "{byte:02x}");
    }
    name.push_str(suffix);
    name
}

impl Kept {
    async fn read(&self, name: String) -> Result<Option<Vec<u8>>, std::io::Error> {
        let path = self.dir.join(name);
        let read = tokio::task::spawn_blocking(move || std::fs::read(path))
            .await
            .map_err(std::io::Error::other)?;
        match read {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn write(&self, name: String, contents: &[u8]) -> Result<(), std::io::Error> {
        let path = self.dir.join(name);
        let contents = contents.to_vec();
        tokio::task::spawn_blocking(move || write_atomically(&path, &contents, true))
            .await
            .map_err(std::io::Error::other)?
    }
}

#[async_trait::async_trait]
impl CertCache for Kept {
    type EC = std::io::Error;

    async fn load_cert(
        &self,
        domains: &[String],
        directory_url: &str,
    ) -> Result<Option<Vec<u8>>, Self::EC> {
        self.read(file_name("cert", domains, directory_url, ".pem"))
            .await
    }

    async fn store_cert(
        &self,
        domains: &[String],
        directory_url: &str,
        cert: &[u8],
    ) -> Result<(), Self::EC> {
        self.write(file_name("cert", domains, directory_url, ".pem"), cert)
            .await
    }
}

#[async_trait::async_trait]
impl AccountCache for Kept {
    type EA = std::io::Error;

    async fn load_account(
        &self,
        contact: &[String],
        directory_url: &str,
    ) -> Result<Option<Vec<u8>>, Self::EA> {
        self.read(file_name("account", contact, directory_url, ".key"))
            .await
    }

    async fn store_account(
        &self,
        contact: &[String],
        directory_url: &str,
        account: &[u8],
    ) -> Result<(), Self::EA> {
        self.write(
            file_name("account", contact, directory_url, ".key"),
            account,
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn domains_are_host_names() {
        let ok = checked_domains(&["Keyward.Example.org.".into(), "keyward.example.org".into()])
            .unwrap();
        assert_eq!(ok, vec!["keyward.example.org".to_string()]);
        for bad in [
            "",
            "localhost",
            "192.0.2.1",
            "*.example.org",
            "a b.org",
            "-a.org",
            "x.123",
        ] {
            assert!(checked_domains(&[bad.to_string()]).is_err(), "{bad}");
        }
        assert!(checked_domains(&[]).is_err());
    }

    #[test]
    fn waits_read_plainly() {
        assert_eq!(plain_duration(1), "1 second");
        assert_eq!(plain_duration(64), "64 seconds");
        assert_eq!(plain_duration(1024), "17 minutes");
        assert_eq!(plain_duration(LONGEST_WAIT_SECS), "18 hours");
    }

    #[test]
    fn the_cache_names_change_with_the_names_and_the_directory() {
        let a = file_name("cert", &["a.example.org".into()], "https://one/dir", ".pem");
        let b = file_name("cert", &["b.example.org".into()], "https://one/dir", ".pem");
        let c = file_name("cert", &["a.example.org".into()], "https://two/dir", ".pem");
        assert!(a.starts_with("cert-") && a.ends_with(".pem") && a.len() == 5 + 32 + 4);
        assert!(a != b && a != c && b != c);
    }
}
