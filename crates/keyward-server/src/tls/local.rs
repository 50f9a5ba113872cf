//! HTTPS on a network with no domain: a certificate authority of the server's own, and a
//! server certificate it signs for the machine's names and addresses.
//!
//! Kept in `<data>/tls/`: `ca.pem` and `ca-key.pem` (made once, kept: every phone that
//! installed the CA trusts it), `server.pem` and `server-key.pem` (made again when the names
//! or addresses change, or when fewer than [`RENEW_BEFORE`] days are left). Keys are
//! readable by the owner alone (0600), the folder too (0700).

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

use super::{write_atomically, TlsError};

/// The folder in the data folder.
pub const FOLDER: &str = "tls";
pub const CA_FILE: &str = "ca.pem";
pub const CA_KEY_FILE: &str = "ca-key.pem";
pub const SERVER_FILE: &str = "server.pem";
pub const SERVER_KEY_FILE: &str = "server-key.pem";

/// How long the CA is valid: ten years.
const CA_DAYS: i64 = 3650;
/// How long a server certificate is valid: under Apple's limit of 398 days for a TLS
/// server certificate.
const SERVER_DAYS: i64 = 397;
/// A server certificate with fewer days than this left is made again.
pub const RENEW_BEFORE: i64 = 30;

/// The local CA and the server certificate it signed, as files in the data folder.
#[derive(Debug, Clone)]
pub struct LocalCa {
    /// `<data>/tls`.
    pub dir: PathBuf,
    /// The CA certificate (PEM), for phones to install.
    pub ca_pem: String,
    /// The CA certificate's SHA-256 fingerprint, as phones show it: `AB:CD:…`.
    pub fingerprint: String,
    /// The CA's name, as phones list it.
    pub ca_name: String,
    /// The names and addresses the server certificate holds.
    pub names: Vec<String>,
    /// Whether this call made the CA (first run) and the server certificate.
    pub made_ca: bool,
    pub made_server: bool,
}

impl LocalCa {
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join(SERVER_FILE)
    }

    pub fn server_key(&self) -> PathBuf {
        self.dir.join(SERVER_KEY_FILE)
    }
}

/// The names a local server certificate should hold: `localhost`, the host name and
/// `<host name>.local`, 127.0.0.1 and ::1, every address of the machine's interfaces (not
/// loopback), then `extra` (the operator's `--tls-name`s); each once, in that order.
pub fn machine_names(extra: &[String]) -> Vec<String> {
    let mut names = vec!["localhost".to_string()];
    if let Some(host) = host_name() {
        if !host.ends_with(".local") {
            names.push(format!("{host}.local"));
        }
        names.insert(1, host);
    }
    names.push("127.0.0.1".into());
    names.push("::1".into());
    names.extend(interface_addresses().iter().map(IpAddr::to_string));
    names.extend(extra.iter().map(|n| n.trim().to_ascii_lowercase()));
    let mut seen = BTreeSet::new();
    names.retain(|n| !n.is_empty() && seen.insert(n.clone()));
    names
}

/// The machine's host name in lower case, if it has a usable one (letters, digits, hyphens
/// and dots).
pub fn host_name() -> Option<String> {
    let name = gethostname::gethostname()
        .to_string_lossy()
        .to_ascii_lowercase();
    let name = name.trim().trim_end_matches('.').to_string();
    let usable = !name.is_empty()
        && name != "localhost"
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    usable.then_some(name)
}

/// The addresses of the machine's interfaces other than loopback (IPv4 first), as a phone
/// on the same network may reach them. Link-local IPv6 addresses are left out (they need an
/// interface in the URL).
pub fn interface_addresses() -> Vec<IpAddr> {
    let mut addresses: Vec<IpAddr> = if_addrs::get_if_addrs()
        .unwrap_or_default()
        .into_iter()
        .filter(|i| !i.is_loopback())
        .map(|i| i.ip())
        .filter(|ip| match ip {
            IpAddr::V4(v4) => !v4.is_link_local(),
            IpAddr::V6(v6) => (v6.segments()[0] & 0xffc0) != 0xfe80,
        })
        .collect();
    addresses.sort_by_key(|ip| ip.is_ipv6());
    addresses.dedup();
    addresses
}

/// Makes the CA if there is none in `<data>/tls`, and the server certificate for `names`
/// unless the one there already holds exactly those names, was signed by this CA and has
/// more than [`RENEW_BEFORE`] days left.
///
/// A CA file that is there but cannot be read is an error, never replaced: phones trust it.
pub fn ensure(data: &Path, names: &[String]) -> Result<LocalCa, TlsError> {
    let dir = data.join(FOLDER);
    std::fs::create_dir_all(&dir)
        .map_err(|e| local(format!("cannot create the folder {}: {e}", dir.display())))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| local(format!("cannot restrict the folder {}: {e}", dir.display())))?;
    }
    let now = OffsetDateTime::now_utc();
    let (ca_pem, ca_key, made_ca) = ca(&dir, now)?;
    let ca_der = CertificateDer::from_pem_slice(ca_pem.as_bytes())
        .map_err(|e| local(format!("cannot read {}: {e}", dir.join(CA_FILE).display())))?;
    let issuer = Issuer::from_ca_cert_der(&ca_der, &ca_key)
        .map_err(|e| local(format!("cannot use {}: {e}", dir.join(CA_FILE).display())))?;
    let ca_name = subject_name(&ca_der).unwrap_or_else(|| "Keyward local CA".into());

    let wanted: BTreeSet<String> = names.iter().map(|n| normal_name(n)).collect();
    let current = std::fs::read(dir.join(SERVER_FILE)).ok();
    let reusable = dir.join(SERVER_KEY_FILE).is_file()
        && current.as_deref().is_some_and(|pem| {
            server_fits(pem, &ca_der, &wanted, now + Duration::days(RENEW_BEFORE))
        });
    if !reusable {
        make_server(&dir, names, &issuer, now)?;
    }
    Ok(LocalCa {
        fingerprint: fingerprint(&ca_der),
        ca_pem,
        ca_name,
        names: names.to_vec(),
        dir,
        made_ca,
        made_server: !reusable,
    })
}

fn local(what: String) -> TlsError {
    TlsError::Local(what)
}

/// Reads the CA, or makes one when neither of its files is there.
fn ca(dir: &Path, now: OffsetDateTime) -> Result<(String, KeyPair, bool), TlsError> {
    let (cert, key) = (dir.join(CA_FILE), dir.join(CA_KEY_FILE));
    match (cert.exists(), key.exists()) {
        (true, true) => {
            let read = |path: &Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| local(format!("cannot read {}: {e}", path.display())))
            };
            let pem = read(&cert)?;
            let pair = KeyPair::from_pem(&read(&key)?).map_err(|e| {
                local(format!(
                    "cannot read the CA's key {}: {e}; move the folder {} away to make a new \
                     CA (every phone must then install the new one)",
                    key.display(),
                    dir.display()
                ))
            })?;
            Ok((pem, pair, false))
        }
        (false, false) => {
            let pair = KeyPair::generate().map_err(|e| local(format!("cannot make a key: {e}")))?;
            let mut params = CertificateParams::default();
            let mut name = DistinguishedName::new();
            let host = host_name().unwrap_or_else(|| "this server".into());
            let made = now.date();
            name.push(
                DnType::CommonName,
                format!(
                    "Keyward local CA ({host}, {:02}/{:02}/{})",
                    made.day(),
                    u8::from(made.month()),
                    made.year()
                ),
            );
            name.push(DnType::OrganizationName, "Keyward");
            params.distinguished_name = name;
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            params.not_before = now - Duration::days(1);
            params.not_after = now + Duration::days(CA_DAYS);
            let certificate = params
                .self_signed(&pair)
                .map_err(|e| local(format!("cannot make the CA: {e}")))?;
            let written = write_atomically(&key, pair.serialize_pem().as_bytes(), true)
                .and_then(|()| write_atomically(&cert, certificate.pem().as_bytes(), false));
            written.map_err(|e| local(format!("cannot write the CA to {}: {e}", dir.display())))?;
            Ok((certificate.pem(), pair, true))
        }
        _ => Err(local(format!(
            "{} holds only one of {CA_FILE} and {CA_KEY_FILE}: put the other back, or move \
             both away to make a new CA (every phone must then install the new one)",
            dir.display()
        ))),
    }
}

/// Makes and writes a server certificate for `names`, signed by `issuer`.
fn make_server(
    dir: &Path,
    names: &[String],
    issuer: &Issuer<'_, &KeyPair>,
    now: OffsetDateTime,
) -> Result<(), TlsError> {
    let pair = KeyPair::generate().map_err(|e| local(format!("cannot make a key: {e}")))?;
    let mut params = CertificateParams::new(names.to_vec())
        .map_err(|e| local(format!("a name for the certificate is not usable: {e}")))?;
    let mut name = DistinguishedName::new();
    name.push(
        DnType::CommonName,
        names.first().cloned().unwrap_or_else(|| "localhost".into()),
    );
    name.push(DnType::OrganizationName, "Keyward");
    params.distinguished_name = name;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(SERVER_DAYS);
    let certificate = params
        .signed_by(&pair, issuer)
        .map_err(|e| local(format!("cannot sign the server certificate: {e}")))?;
    // The key first: a reader that sees the new certificate with the old key keeps the old
    // pair and tries again when the second file lands.
    write_atomically(
        &dir.join(SERVER_KEY_FILE),
        pair.serialize_pem().as_bytes(),
        true,
    )
    .and_then(|()| write_atomically(&dir.join(SERVER_FILE), certificate.pem().as_bytes(), false))
    .map_err(|e| {
        local(format!(
            "cannot write the server certificate to {}: {e}",
            dir.display()
        ))
    })
}

/// Whether the server certificate `pem` holds exactly `wanted`, was signed by `ca`, and is
/// still valid at `until`.
fn server_fits(
    pem: &[u8],
    ca: &CertificateDer<'_>,
    wanted: &BTreeSet<String>,
    until: OffsetDateTime,
) -> bool {
    let Ok(der) = CertificateDer::from_pem_slice(pem) else {
        return false;
    };
    let (Ok((_, cert)), Ok((_, ca))) = (
        x509_parser::parse_x509_certificate(&der),
        x509_parser::parse_x509_certificate(ca),
    ) else {
        return false;
    };
    let signed = cert.issuer().as_raw() == ca.subject().as_raw()
        && cert.verify_signature(Some(ca.public_key())).is_ok();
    signed
        && cert.validity().not_after.timestamp() > until.unix_timestamp()
        && certificate_names(&cert) == *wanted
}

/// The DNS names and IP addresses of a certificate's subject alternative names, in the
/// form [`normal_name`] gives.
pub fn names_of(der: &[u8]) -> Option<BTreeSet<String>> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    Some(certificate_names(&cert))
}

fn certificate_names(cert: &x509_parser::certificate::X509Certificate<'_>) -> BTreeSet<String> {
    use x509_parser::extensions::GeneralName;
    let Ok(Some(sans)) = cert.subject_alternative_name() else {
        return BTreeSet::new();
    };
    sans.value
        .general_names
        .iter()
        .filter_map(|name| match name {
            GeneralName::DNSName(dns) => Some(normal_name(dns)),
            GeneralName::IPAddress(bytes) => match bytes.len() {
                4 => Some(IpAddr::from(<[u8; 4]>::try_from(*bytes).ok()?).to_string()),
                16 => Some(IpAddr::from(<[u8; 16]>::try_from(*bytes).ok()?).to_string()),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

/// A name as certificates compare it: lower case; an address in its usual form.
fn normal_name(name: &str) -> String {
    match name.trim().parse::<IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => name.trim().to_ascii_lowercase(),
    }
}

/// The common name of a certificate's subject.
fn subject_name(der: &[u8]) -> Option<String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let name = cert.subject().iter_common_name().next()?.as_str().ok()?;
    Some(name.to_string())
}

/// SHA-256 of a certificate, as phones show it: upper-case hex pairs joined by colons.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// A QR code of `text` in Unicode half blocks, two modules a character, its light modules
/// drawn (for a terminal with a dark background; phone cameras read it either way round).
pub fn terminal_qr(text: &str) -> Option<String> {
    use qrcode::render::unicode::Dense1x2;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<Dense1x2>()
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark)
            .quiet_zone(true)
            .build(),
    )
}
