//! A public domain over ACME, against Pebble (Debian's `pebble`, installed by `cargo xtask
//! setup`): `keyward-server --acme-domain keyward.test` gets a certificate from Pebble, proving
//! the name with the TLS-ALPN-01 challenge on its own HTTPS port (Pebble's validation really
//! connects there: `pebble-challtestsrv` is its DNS, answering 127.0.0.1 for every name);
//! a client that trusts Pebble's root alone is then served the app. A restart serves the kept
//! certificate without ordering; a kept certificate due for renewal is renewed while serving.
//!
//! Without pebble installed these tests say so and pass, but on CI (`CI=true`), where
//! `cargo xtask setup` has installed it, they fail.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use keyward_server::tls::local::names_of;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use reqwest::StatusCode;
use tempfile::TempDir;

const INDEX: &str =
    "<!doctype html><html><head><title>Keyward</title></head><body></body></html>\n";
const NAME: &str = "keyward.test";

/// The installed tools, or `None` (and why) when these tests cannot run here.
fn pebble() -> Option<(PathBuf, PathBuf)> {
    let pebble = PathBuf::from("/usr/bin/pebble");
    let dns = PathBuf::from("/usr/bin/pebble-challtestsrv");
    if pebble.exists() && dns.exists() {
        return Some((pebble, dns));
    }
    let message = "pebble and pebble-challtestsrv (Debian's pebble) are not installed: \
                   run `cargo xtask setup`";
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{message}");
    }
    eprintln!("skipped: {message}");
    None
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A UDP and TCP port both free (the mock DNS listens on both).
fn free_dns_port() -> u16 {
    loop {
        let port = free_port();
        if std::net::UdpSocket::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

fn wait_for_port(port: u16, what: &str) {
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{what} did not start listening on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A CA, and a certificate it signed for `names`: (CA PEM, certificate PEM, key PEM).
fn make_ca_and_cert(
    names: &[&str],
    not_after_days: i64,
    age_days: i64,
) -> (String, String, String) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::default();
    ca.distinguished_name
        .push(DnType::CommonName, "Keyward test CA");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_pem = ca.self_signed(&ca_key).unwrap().pem();
    let issuer = Issuer::from_params(&ca, &ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    params.not_before = now - time::Duration::days(age_days);
    params.not_after = now + time::Duration::days(not_after_days);
    let cert = params.signed_by(&key, &issuer).unwrap().pem();
    (ca_pem, cert, key.serialize_pem())
}

/// Pebble and its mock DNS, validating on `tls_port` of 127.0.0.1.
struct Pebble {
    dir: TempDir,
    directory: String,
    /// The root Pebble's HTTPS listener (the directory) is trusted by.
    listener_ca: PathBuf,
    /// The root of the certificates Pebble issues.
    issuing_root: String,
    _dns: Running,
    _pebble: Running,
}

impl Pebble {
    fn start(tls_port: u16) -> Option<Pebble> {
        let (pebble, challtestsrv) = pebble()?;
        let dir = TempDir::new().unwrap();
        let (ca, cert, key) = make_ca_and_cert(&["localhost", "127.0.0.1"], 30, 0);
        let listener_ca = dir.path().join("pebble-ca.pem");
        std::fs::write(&listener_ca, ca).unwrap();
        std::fs::write(dir.path().join("cert.pem"), cert).unwrap();
        std::fs::write(dir.path().join("key.pem"), key).unwrap();
        let (acme, management, dns, dns_management) =
            (free_port(), free_port(), free_dns_port(), free_port());
        let config = serde_json::json!({
            "pebble": {
                "listenAddress": format!("127.0.0.1:{acme}"),
                "managementListenAddress": format!("127.0.0.1:{management}"),
                "certificate": dir.path().join("cert.pem"),
                "privateKey": dir.path().join("key.pem"),
                // HTTP-01 is not used: a port nothing listens on.
                "httpPort": free_port(),
                "tlsPort": tls_port,
                "ocspResponderURL": "",
                "externalAccountBindingRequired": false
            }
        });
        let config_path = dir.path().join("pebble-config.json");
        std::fs::write(&config_path, config.to_string()).unwrap();

        // Every name is 127.0.0.1 (and has no IPv6 address): Pebble validates there.
        let dns_child = Command::new(challtestsrv)
            .args(["-dns01", &format!("127.0.0.1:{dns}")])
            .args(["-management", &format!("127.0.0.1:{dns_management}")])
            .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
            .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble-challtestsrv starts");
        let dns_child = Running(dns_child);
        wait_for_port(dns_management, "pebble-challtestsrv");
        let pebble_child = Command::new(pebble)
            .args(["-config", config_path.to_str().unwrap()])
            .args(["-dnsserver", &format!("127.0.0.1:{dns}")])
            // No random waits before validating; no nonces refused for practice.
            .env("PEBBLE_VA_NOSLEEP", "1")
            .env("PEBBLE_WFE_NONCEREJECT", "0")
            .stdout(std::fs::File::create(dir.path().join("pebble.log")).unwrap())
            .stderr(std::fs::File::create(dir.path().join("pebble-errors.log")).unwrap())
            .spawn()
            .expect("pebble starts");
        let pebble_child = Running(pebble_child);
        wait_for_port(acme, "pebble");
        wait_for_port(management, "pebble's management interface");
        let issuing_root = blocking_get(
            &format!("https://127.0.0.1:{management}/roots/0"),
            &listener_ca,
        );
        assert!(issuing_root.contains("BEGIN CERTIFICATE"), "{issuing_root}");
        Some(Pebble {
            directory: format!("https://127.0.0.1:{acme}/dir"),
            listener_ca,
            issuing_root,
            dir,
            _dns: dns_child,
            _pebble: pebble_child,
        })
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("pebble.log")).unwrap_or_default()
    }
}

/// GET `url` trusting `ca` alone (from a thread of its own: these helpers run outside the
/// test's runtime).
fn blocking_get(url: &str, ca: &Path) -> String {
    let url = url.to_string();
    let ca = std::fs::read(ca).unwrap();
    std::thread::spawn(move || {
        tokio::runtime::Runtime::new()
            .unwrap()
            .block_on(async move {
                reqwest::Client::builder()
                    .use_rustls_tls()
                    .tls_built_in_root_certs(false)
                    .add_root_certificate(reqwest::Certificate::from_pem(&ca).unwrap())
                    .build()
                    .unwrap()
                    .get(url)
                    .send()
                    .await
                    .unwrap()
                    .text()
                    .await
                    .unwrap()
            })
    })
    .join()
    .unwrap()
}

/// `keyward-server` with `--acme-domain` against `directory`, on `port`; its log lines
/// collected as they come.
struct Server {
    _child: Running,
    log: Arc<Mutex<Vec<String>>>,
}

impl Server {
    fn start(home: &Path, port: u16, directory: &str, ca: &Path) -> Server {
        std::fs::create_dir_all(home.join("dist")).unwrap();
        std::fs::write(home.join("dist/index.html"), INDEX).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_keyward-server"))
            .args(["--dist", "dist", "--data", "data"])
            .args(["--addr", &format!("127.0.0.1:{port}")])
            .args([
                "--acme-domain",
                NAME,
                "--acme-email",
                "estates@keyward.test",
            ])
            .args(["--acme-directory", directory])
            .args(["--acme-ca", ca.to_str().unwrap()])
            .args(["--setup-code", "ABCD-EFGH-JKLM"])
            .env_remove("DATABASE_URL")
            .current_dir(home)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                lines.lock().unwrap().push(line);
            }
        });
        Server {
            _child: Running(child),
            log,
        }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }

    /// Waits until a log line contains `text`.
    async fn wait_for_log(&self, text: &str, within: Duration) {
        let started = Instant::now();
        while !self.log().contains(text) {
            assert!(
                started.elapsed() < within,
                "no {text:?} in the log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A client trusting `roots` alone, with `keyward.test` at `addr`, a new connection each time.
fn client(roots: &[&str], addr: SocketAddr) -> reqwest::Client {
    let mut builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .resolve(NAME, addr)
        .pool_max_idle_per_host(0)
        .tls_info(true)
        .timeout(Duration::from_secs(10));
    for root in roots {
        builder =
            builder.add_root_certificate(reqwest::Certificate::from_pem(root.as_bytes()).unwrap());
    }
    builder.build().unwrap()
}

/// The certificate served for the next request that succeeds within `within`, and the answer;
/// each attempt a new client trusting `roots`, so no TLS session is resumed (a resumed session
/// reports the certificate of the session it resumed).
async fn served(
    roots: &[&str],
    addr: SocketAddr,
    within: Duration,
    why: impl Fn() -> String,
) -> (Vec<u8>, reqwest::Response) {
    let started = Instant::now();
    let port = addr.port();
    loop {
        let client = client(roots, addr);
        match client.get(format!("https://{NAME}:{port}/")).send().await {
            Ok(res) => {
                let cert = res
                    .extensions()
                    .get::<reqwest::tls::TlsInfo>()
                    .and_then(|i| i.peer_certificate())
                    .expect("a TLS answer")
                    .to_vec();
                return (cert, res);
            }
            Err(e) => assert!(
                started.elapsed() < within,
                "no certificate served in {within:?} ({e}):\n{}",
                why()
            ),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn kept_certificates(home: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(home.join("data/acme")) else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            name.starts_with("cert-") && name.ends_with(".pem")
        })
        .collect()
}

#[tokio::test]
async fn a_certificate_from_pebble_is_served_kept_and_renewed() {
    let port = free_port();
    let Some(pebble) = Pebble::start(port) else {
        return;
    };
    let home = TempDir::new().unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let pebble_only: &[&str] = &[&pebble.issuing_root];

    // First start: ordered, validated over TLS-ALPN-01 on the server's port, served.
    let started = Instant::now();
    let server = Server::start(home.path(), port, &pebble.directory, &pebble.listener_ca);
    let why = || {
        format!(
            "keyward-server:\n{}\npebble:\n{}",
            server.log(),
            pebble.log()
        )
    };
    let (first, res) = served(pebble_only, addr, Duration::from_secs(60), &why).await;
    eprintln!("first certificate served after {:?}", started.elapsed());
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    assert!(res.headers().contains_key("strict-transport-security"));
    assert_eq!(res.text().await.unwrap(), INDEX);
    assert!(names_of(&first).unwrap().contains(NAME));
    server
        .wait_for_log(
            "got a new certificate for keyward.test",
            Duration::from_secs(5),
        )
        .await;
    // Really validated (PEBBLE_VA_ALWAYS_VALID is not set): Pebble connected to the server's
    // port, the only challenge the server answers being TLS-ALPN-01.
    assert!(
        pebble.log().contains("set VALID by completed challenge"),
        "Pebble did not validate:\n{}",
        pebble.log()
    );
    // Kept, with its key, by the server's user alone.
    let waited = Instant::now();
    while kept_certificates(home.path()).is_empty() && waited.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let kept = kept_certificates(home.path());
    assert_eq!(kept.len(), 1, "{kept:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&kept[0]), 0o600);
        assert_eq!(mode(&home.path().join("data/acme")), 0o700);
    }
    drop(server);

    // Restarted: the kept certificate, nothing ordered.
    let server = Server::start(home.path(), port, &pebble.directory, &pebble.listener_ca);
    let why = || format!("keyward-server:\n{}", server.log());
    let (again, _) = served(pebble_only, addr, Duration::from_secs(20), &why).await;
    assert_eq!(again, first, "a restart served another certificate");
    server
        .wait_for_log(
            "serving the certificate for keyward.test kept in",
            Duration::from_secs(5),
        )
        .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(
        !server.log().contains("got a new certificate"),
        "{}",
        server.log()
    );
    drop(server);

    // A kept certificate two thirds through its life (issued 60 days ago, a day left): served
    // at start, and renewed from Pebble while serving; the next connections get the new one.
    let (stale_ca, stale_cert, stale_key) = make_ca_and_cert(&[NAME], 1, 60);
    std::fs::write(&kept[0], format!("{stale_key}{stale_cert}")).unwrap();
    let server = Server::start(home.path(), port, &pebble.directory, &pebble.listener_ca);
    server
        .wait_for_log(
            "serving the certificate for keyward.test kept in",
            Duration::from_secs(20),
        )
        .await;
    let either: &[&str] = &[&pebble.issuing_root, &stale_ca];
    let why = || format!("keyward-server:\n{}", server.log());
    let started = Instant::now();
    let renewed = loop {
        let (cert, _) = served(either, addr, Duration::from_secs(20), &why).await;
        if cert != first && cert != rustls_der(&stale_cert) {
            break cert;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "not renewed:\n{}",
            why()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    eprintln!("renewed after {:?}", started.elapsed());
    assert!(server
        .log()
        .contains("got a new certificate for keyward.test"));
    // Issued by Pebble: a client trusting Pebble's root alone accepts it.
    let (now, _) = served(pebble_only, addr, Duration::from_secs(5), &why).await;
    assert_eq!(now, renewed);
    assert_ne!(
        std::fs::read_to_string(&kept[0]).unwrap(),
        format!("{stale_key}{stale_cert}")
    );
}

fn rustls_der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

/// An ACME directory that cannot be reached: the reason is logged, and the order is tried
/// again after a wait that grows. Needs no Pebble.
#[tokio::test]
async fn an_unreachable_directory_is_logged_and_tried_again() {
    let home = TempDir::new().unwrap();
    let (ca, _, _) = make_ca_and_cert(&["localhost"], 30, 0);
    let ca_path = home.path().join("ca.pem");
    std::fs::write(&ca_path, ca).unwrap();
    let nothing_there = format!("https://127.0.0.1:{}/dir", free_port());
    let server = Server::start(home.path(), free_port(), &nothing_there, &ca_path);
    server
        .wait_for_log("trying again in 1 second", Duration::from_secs(20))
        .await;
    server
        .wait_for_log("trying again in 2 seconds", Duration::from_secs(10))
        .await;
    let log = server.log();
    assert!(
        log.contains("could not get a certificate for keyward.test from https://127.0.0.1:"),
        "{log}"
    );
    assert!(
        log.contains("Check that each name's DNS points at this server"),
        "{log}"
    );
    assert!(kept_certificates(home.path()).is_empty());
}

/// `--acme-domain` with another way of getting a certificate is refused, saying why.
#[test]
fn acme_and_another_certificate_are_refused_together() {
    let output = Command::new(env!("CARGO_BIN_EXE_keyward-server"))
        .args(["--acme-domain", NAME, "--tls-local"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(
        said.contains("'--acme-domain <NAME>' cannot be used with '--tls-local'"),
        "{said}"
    );
}
