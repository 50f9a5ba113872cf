//! HTTPS over real sockets on 127.0.0.1: a certificate from files (made here with rcgen,
//! trusted by the client as its only root), read again when it changes; HSTS; the
//! plain-HTTP listener that only redirects; a handshake never finished is dropped; the local
//! certificate authority made once, its server certificate for this machine's names, and
//! the `/ca` page and file.

mod common;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{username, Backend, Device, TestDb, PASSWORD};
use keyward_core::sync::Session;
use keyward_server::api::accounts::issue_setup_code;
use keyward_server::tls::local::{self, LocalCa};
use keyward_server::tls::page::{CaPage, CA_TYPE};
use keyward_server::tls::{Tls, HSTS};
use keyward_server::{serve, serve_https, Config, Https, Limits};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
use reqwest::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, STRICT_TRANSPORT_SECURITY};
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use serde_json::json;
use tempfile::TempDir;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

const INDEX: &str = "<!doctype html><html><head><title>Keyward</title></head><body>\
<script type=\"module\">import init from '/keyward-0123456789abcdef.js'; await init();</script>\
</body></html>\n";

/// A test CA and a server certificate it signed for `names`: (CA PEM, cert PEM, key PEM).
struct Made {
    ca: String,
    cert: String,
    key: String,
}

fn test_ca() -> (CertificateParams, KeyPair, String) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "Keyward test CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let pem = params.self_signed(&key).unwrap().pem();
    (params, key, pem)
}

fn make_cert(names: &[&str], label: &str) -> Made {
    let (ca_params, ca_key, ca) = test_ca();
    let issuer = Issuer::from_params(&ca_params, &ca_key);
    let key = KeyPair::generate().unwrap();
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    params.distinguished_name.push(DnType::CommonName, label);
    let cert = params.signed_by(&key, &issuer).unwrap().pem();
    Made {
        ca,
        cert,
        key: key.serialize_pem(),
    }
}

/// A build folder, a data folder and a SQLite database for one server.
struct Site {
    db: TestDb,
    limits: Limits,
}

impl Site {
    async fn new() -> Site {
        let db = TestDb::new(Backend::Sqlite).await;
        let dist = db.dir.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        std::fs::write(dist.join("index.html"), INDEX).unwrap();
        Site {
            db,
            limits: Limits {
                header_timeout: Duration::from_millis(400),
                ..Limits::default()
            },
        }
    }

    fn dir(&self) -> &Path {
        self.db.dir.path()
    }

    fn config(&self) -> Config {
        Config {
            limits: self.limits.clone(),
            ..self.db.config()
        }
    }

    /// Writes `made`'s certificate and key to files in the site's folder.
    fn write(&self, made: &Made) -> (PathBuf, PathBuf) {
        let (cert, key) = (self.dir().join("cert.pem"), self.dir().join("key.pem"));
        std::fs::write(&cert, &made.cert).unwrap();
        std::fs::write(&key, &made.key).unwrap();
        (cert, key)
    }
}

/// A running server: its HTTPS address, its plain-HTTP one, the switch that stops it.
struct Running {
    addr: SocketAddr,
    plain: Option<SocketAddr>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Running {
    async fn shut_down(mut self) {
        let _ = self.stop.take().unwrap().send(());
        tokio::time::timeout(Duration::from_secs(10), self.task)
            .await
            .expect("the server stops in time")
            .unwrap()
            .unwrap();
    }

    fn url(&self, host: &str, path: &str) -> String {
        format!("https://{host}:{}{path}", self.addr.port())
    }
}

async fn start(site: &Site, https: Option<Https>, redirect: bool) -> Running {
    let config = site.config();
    config.prepare().unwrap();
    let store = config.open_store().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plain_listener = if redirect {
        Some(TcpListener::bind("127.0.0.1:0").await.unwrap())
    } else {
        None
    };
    let plain = plain_listener.as_ref().map(|l| l.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let stopped = async {
        let _ = stopped.await;
    };
    let task = tokio::spawn(async move {
        match https {
            Some(https) => {
                serve_https(listener, plain_listener, https, &config, store, stopped).await
            }
            None => serve(listener, &config, store, stopped).await,
        }
    });
    Running {
        addr,
        plain,
        stop: Some(stop),
        task,
    }
}

/// A client that trusts `ca` alone, on a new connection for every request, that follows
/// no redirect and reports the server's certificate.
fn trusting(ca: &str) -> reqwest::Client {
    builder(ca).build().unwrap()
}

/// As [`trusting`], with `keyward.test` found at `addr`.
fn trusting_at(ca: &str, addr: SocketAddr) -> reqwest::Client {
    builder(ca).resolve("keyward.test", addr).build().unwrap()
}

fn builder(ca: &str) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .redirect(Policy::none())
        .tls_info(true)
        .timeout(Duration::from_secs(20))
}

/// The DER of the certificate the server presented for `res`.
fn peer_certificate(res: &reqwest::Response) -> Vec<u8> {
    res.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("a TLS answer")
        .to_vec()
}

fn der(pem: &str) -> Vec<u8> {
    use rustls::pki_types::pem::PemObject;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .to_vec()
}

#[tokio::test]
async fn https_serves_the_app_and_the_api_with_hsts() {
    let site = Site::new().await;
    let made = make_cert(&["keyward.test", "localhost", "127.0.0.1"], "one");
    let (cert, key) = site.write(&made);
    let https = Https {
        tls: Tls::from_files(&cert, &key).unwrap(),
        ca_page: None,
    };
    let server = start(&site, Some(https), false).await;
    let client = trusting_at(&made.ca, server.addr);

    for host in ["keyward.test", "127.0.0.1", "localhost"] {
        let res = client.get(server.url(host, "/")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // Never for localhost: a browser would refuse plain HTTP on all its ports for a year.
        let hsts = res.headers().get(STRICT_TRANSPORT_SECURITY);
        match host {
            "localhost" => assert_eq!(hsts, None),
            _ => assert_eq!(hsts.unwrap(), HSTS, "{host}"),
        }
        assert_eq!(peer_certificate(&res), der(&made.cert));
        assert_eq!(res.text().await.unwrap(), INDEX);
    }

    // The API: a site put on the server, then the session's own account.
    let store = site.config().open_store().await.unwrap();
    let code = issue_setup_code(&store, None).await.unwrap();
    let mut device = Device::new(7);
    let site_id = device.create_site("Over HTTPS");
    let res = client
        .post(server.url("keyward.test", "/api/sites"))
        .json(&json!({
            "site": site_id,
            "site_name": "Over HTTPS",
            "username": username("admin"),
            "name": "Pat Caretaker",
            "password": PASSWORD,
            "device": device.id,
            "setup_code": code,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.headers()[STRICT_TRANSPORT_SECURITY], HSTS);
    let session: Session = res.json().await.unwrap();
    let res = client
        .get(server.url("keyward.test", "/api/me"))
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[STRICT_TRANSPORT_SECURITY], HSTS);
    // An unknown API path is the API's JSON 404, over HTTPS too.
    let res = client
        .get(server.url("keyward.test", "/api/nothing"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(res.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    store.close().await;

    // A client that does not trust the CA gets no answer.
    let stranger = trusting(&make_cert(&["localhost"], "other").ca);
    assert!(stranger
        .get(server.url("localhost", "/"))
        .send()
        .await
        .is_err());
    server.shut_down().await;
}

#[tokio::test]
async fn plain_http_gets_no_hsts() {
    let site = Site::new().await;
    let server = start(&site, None, false).await;
    let res = reqwest::get(format!("http://{}/", server.addr))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers().contains_key(CONTENT_SECURITY_POLICY));
    assert!(!res.headers().contains_key(STRICT_TRANSPORT_SECURITY));
    server.shut_down().await;
}

#[tokio::test]
async fn the_plain_listener_redirects_to_https() {
    let site = Site::new().await;
    let made = make_cert(&["localhost"], "one");
    let (cert, key) = site.write(&made);
    let https = Https {
        tls: Tls::from_files(&cert, &key).unwrap(),
        ca_page: None,
    };
    let server = start(&site, Some(https), true).await;
    let plain = server.plain.unwrap();
    let port = server.addr.port();
    let client = trusting(&made.ca);

    for (host, path, location) in [
        (
            format!("localhost:{}", plain.port()),
            "/people?find=ann",
            format!("https://localhost:{port}/people?find=ann"),
        ),
        (
            "keyward.test".to_string(),
            "/",
            format!("https://keyward.test:{port}/"),
        ),
        (
            format!("[::1]:{}", plain.port()),
            "/api/me",
            format!("https://[::1]:{port}/api/me"),
        ),
    ] {
        for method in [reqwest::Method::GET, reqwest::Method::POST] {
            let res = client
                .request(method.clone(), format!("http://{plain}{path}"))
                .header(reqwest::header::HOST, &host)
                .send()
                .await
                .unwrap();
            assert_eq!(
                res.status(),
                StatusCode::PERMANENT_REDIRECT,
                "{method} {host}"
            );
            assert_eq!(res.headers()[LOCATION], location.as_str());
            assert!(!res.headers().contains_key(STRICT_TRANSPORT_SECURITY));
        }
    }
    // Without the CA's page, /ca is redirected like anything else.
    let res = client
        .get(format!("http://{plain}/ca"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);

    // A request with no usable host cannot be redirected.
    let mut stream = TcpStream::connect(plain).await.unwrap();
    stream.write_all(b"GET / HTTP/1.0\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.0 400 "), "{answer}");

    // Followed, the redirect reaches the app.
    let res = client
        .get(format!("http://localhost:{}/", plain.port()))
        .send()
        .await
        .unwrap();
    let next = res.headers()[LOCATION].to_str().unwrap().to_string();
    let res = client.get(next).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.text().await.unwrap(), INDEX);
    server.shut_down().await;
}

#[tokio::test]
async fn a_replaced_certificate_is_served_to_the_next_connection() {
    let site = Site::new().await;
    let first = make_cert(&["localhost"], "first");
    let (cert, key) = site.write(&first);
    let https = Https {
        tls: Tls::from_files(&cert, &key).unwrap(),
        ca_page: None,
    };
    let server = start(&site, Some(https), false).await;
    let url = server.url("localhost", "/");
    let res = trusting(&first.ca).get(&url).send().await.unwrap();
    assert_eq!(peer_certificate(&res), der(&first.cert));

    // New files (another CA's): the next connection after the once-a-second check gets them.
    let second = make_cert(&["localhost"], "second");
    site.write(&second);
    let second_client = trusting(&second.ca);
    let started = Instant::now();
    let res = loop {
        if let Ok(res) = second_client.get(&url).send().await {
            break res;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the new certificate was not served"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(peer_certificate(&res), der(&second.cert));

    // A broken certificate file, or a key that does not fit: the last good pair stays.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(&cert, "not a certificate").unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = second_client.get(&url).send().await.unwrap();
    assert_eq!(peer_certificate(&res), der(&second.cert));
    let third = make_cert(&["localhost"], "third");
    std::fs::write(&cert, &third.cert).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = second_client.get(&url).send().await.unwrap();
    assert_eq!(peer_certificate(&res), der(&second.cert));
    // Its key lands too: now it is served.
    std::fs::write(&key, &third.key).unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let res = trusting(&third.ca).get(&url).send().await.unwrap();
    assert_eq!(peer_certificate(&res), der(&third.cert));
    server.shut_down().await;
}

/// Reads until the server closes the connection; how long that took.
async fn closed_after(stream: &mut TcpStream) -> Duration {
    let started = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), stream.read(&mut chunk))
            .await
            .expect("the server closes the connection");
        if matches!(read, Ok(0) | Err(_)) {
            return started.elapsed();
        }
    }
}

#[tokio::test]
async fn a_handshake_never_finished_is_dropped_after_the_header_timeout() {
    let site = Site::new().await;
    let made = make_cert(&["localhost"], "one");
    let (cert, key) = site.write(&made);
    let https = Https {
        tls: Tls::from_files(&cert, &key).unwrap(),
        ca_page: None,
    };
    let server = start(&site, Some(https), false).await;

    // Connected, then silent.
    let mut silent = TcpStream::connect(server.addr).await.unwrap();
    let took = closed_after(&mut silent).await;
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // The start of a ClientHello (a TLS record header promising 512 bytes), then nothing.
    let mut half = TcpStream::connect(server.addr).await.unwrap();
    half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00])
        .await
        .unwrap();
    let took = closed_after(&mut half).await;
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");

    // The server still answers whoever completes the handshake.
    let res = trusting(&made.ca)
        .get(server.url("localhost", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    server.shut_down().await;
}

fn file_bytes(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

#[test]
fn the_local_ca_is_made_once_and_kept() {
    let data = TempDir::new().unwrap();
    let names = local::machine_names(&["keyward.school.example".to_string()]);
    for name in ["localhost", "127.0.0.1", "keyward.school.example"] {
        assert!(names.iter().any(|n| n == name), "{name} in {names:?}");
    }
    let first = local::ensure(data.path(), &names).unwrap();
    assert!(first.made_ca && first.made_server);
    let dir = data.path().join("tls");
    let ca = file_bytes(&dir, "ca.pem");
    let ca_key = file_bytes(&dir, "ca-key.pem");
    let server = file_bytes(&dir, "server.pem");
    assert_eq!(first.ca_pem.as_bytes(), ca);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for name in ["ca-key.pem", "server-key.pem"] {
            let mode = std::fs::metadata(dir.join(name))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{name}");
        }
        let mode = std::fs::metadata(&dir).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
    let held = local::names_of(&der(std::str::from_utf8(&server).unwrap())).unwrap();
    assert!(
        held.contains("localhost") && held.contains("127.0.0.1"),
        "{held:?}"
    );

    // The second start changes nothing.
    let second = local::ensure(data.path(), &names).unwrap();
    assert!(!second.made_ca && !second.made_server);
    assert_eq!(second.fingerprint, first.fingerprint);
    assert_eq!(file_bytes(&dir, "server.pem"), server);

    // Another name: a new server certificate, the same CA.
    let mut more = names.clone();
    more.push("10.9.8.7".into());
    let third = local::ensure(data.path(), &more).unwrap();
    assert!(!third.made_ca && third.made_server);
    assert_eq!(file_bytes(&dir, "ca.pem"), ca);
    assert_eq!(file_bytes(&dir, "ca-key.pem"), ca_key);
    let held = local::names_of(&der(
        &std::fs::read_to_string(dir.join("server.pem")).unwrap()
    ));
    assert!(held.unwrap().contains("10.9.8.7"));

    // A server certificate from elsewhere (not this CA's) is made again.
    let stranger = make_cert(&names.iter().map(String::as_str).collect::<Vec<_>>(), "x");
    std::fs::write(dir.join("server.pem"), &stranger.cert).unwrap();
    std::fs::write(dir.join("server-key.pem"), &stranger.key).unwrap();
    assert!(local::ensure(data.path(), &names).unwrap().made_server);

    // Half a CA is refused, never replaced.
    std::fs::remove_file(dir.join("ca-key.pem")).unwrap();
    let refused = local::ensure(data.path(), &names).unwrap_err().to_string();
    assert!(refused.contains("only one of"), "{refused}");
    assert_eq!(file_bytes(&dir, "ca.pem"), ca);
}

/// The local mode as `keyward-server --tls-local --http-redirect …` runs it.
async fn start_local(site: &Site) -> (Running, LocalCa) {
    let names = local::machine_names(&[]);
    let ca = local::ensure(&site.dir().join("data"), &names).unwrap();
    let tls = Tls::from_files(&ca.server_cert(), &ca.server_key()).unwrap();
    // The HTTPS port is needed for the page's link: bind first, as main does.
    let config = site.config();
    config.prepare().unwrap();
    let store = config.open_store().await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let plain_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let plain = plain_listener.local_addr().unwrap();
    let https = Https {
        tls,
        ca_page: Some(CaPage::new(&ca, addr.port())),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        serve_https(
            listener,
            Some(plain_listener),
            https,
            &config,
            store,
            async {
                let _ = stopped.await;
            },
        )
        .await
    });
    let running = Running {
        addr,
        plain: Some(plain),
        stop: Some(stop),
        task,
    };
    (running, ca)
}

#[tokio::test]
async fn the_local_certificate_verifies_for_localhost_and_127_0_0_1() {
    let site = Site::new().await;
    let (server, ca) = start_local(&site).await;
    let client = trusting(&ca.ca_pem);
    for host in ["localhost", "127.0.0.1"] {
        let res = client.get(server.url(host, "/")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{host}");
    }
    // Restarted: the same CA still verifies the server.
    server.shut_down().await;
    let (server, again) = start_local(&site).await;
    assert!(!again.made_ca && !again.made_server);
    let res = client
        .get(server.url("localhost", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    server.shut_down().await;
}

#[tokio::test]
async fn the_ca_page_and_file_are_served_without_sign_in() {
    let site = Site::new().await;
    let (server, ca) = start_local(&site).await;
    let plain = server.plain.unwrap();
    let client = trusting(&ca.ca_pem);
    for base in [
        server.url("localhost", ""),
        format!("http://localhost:{}", plain.port()),
    ] {
        let res = client.get(format!("{base}/ca")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{base}");
        assert!(res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html"));
        let policy = res.headers()[CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .to_string();
        assert!(policy.contains("style-src 'self'"), "{policy}");
        let page = res.text().await.unwrap();
        assert!(
            page.replace("<wbr>", "").contains(&ca.fingerprint),
            "{page}"
        );
        assert!(page.contains("lang=\"en-GB\""));
        assert!(page.contains("Android") && page.contains("iPhone"));
        assert!(page.contains("Encryption &amp; credentials"));
        assert!(page.contains("Certificate Trust Settings"));
        assert!(page.contains(&format!("https://localhost:{}/", server.addr.port())));
        // Nothing inline that the policy would block: the style is a file of this origin.
        assert!(keyward_server::headers::inline_hashes(&page, "script").is_empty());
        assert!(keyward_server::headers::inline_hashes(&page, "style").is_empty());
        assert!(!page.contains(" style="));
        assert!(page.contains("href=\"/ca.css\""));

        let res = client.get(format!("{base}/ca.css")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/css"));

        let res = client.get(format!("{base}/ca.pem")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()[CONTENT_TYPE], CA_TYPE);
        let pem = res.text().await.unwrap();
        assert_eq!(pem, ca.ca_pem);
        assert_eq!(local::fingerprint(&der(&pem)), ca.fingerprint);
    }
    // Anything else over plain HTTP is sent to HTTPS.
    let res = client
        .get(format!("http://localhost:{}/people", plain.port()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::PERMANENT_REDIRECT);
    server.shut_down().await;
}

/// `keyward-server --tls-local` listening beyond localhost, as `cargo xtask run --addr
/// 0.0.0.0:PORT` starts it: the lines it prints before serving.
#[test]
fn the_binary_prints_the_phone_addresses_and_a_qr_code() {
    use std::io::BufRead;
    use std::process::{Command, Stdio};
    let dir = TempDir::new().unwrap();
    std::fs::create_dir_all(dir.path().join("dist")).unwrap();
    std::fs::write(dir.path().join("dist/index.html"), INDEX).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_keyward-server"))
        .args(["--dist", "dist", "--data", "data", "--addr", "0.0.0.0:0"])
        .args(["--tls-local", "--http-redirect", "127.0.0.1:0", "--qr"])
        .args(["--setup-code", "ABCD-EFGH-JKLM"])
        .env_remove("DATABASE_URL")
        .current_dir(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = Vec::new();
    for line in std::io::BufReader::new(stdout).lines() {
        let line = line.unwrap();
        let done = line.starts_with("Scan to open");
        lines.push(line);
        if done || lines.len() > 60 {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let text = lines.join("\n");
    assert!(
        text.contains("Keyward is running at https://0.0.0.0:"),
        "{text}"
    );
    assert!(text.contains("Plain HTTP at http://127.0.0.1:"), "{text}");
    let fingerprint = local::fingerprint(&der(&std::fs::read_to_string(
        dir.path().join("data/tls/ca.pem"),
    )
    .unwrap()));
    assert!(text.contains(&fingerprint), "{text}");
    let page = text
        .split_whitespace()
        .find(|w| w.starts_with("http://") && w.ends_with("/ca"))
        .unwrap_or_else(|| panic!("no /ca address in {text}"));
    let opened = text
        .split_whitespace()
        .find(|w| w.starts_with("https://") && !w.contains("0.0.0.0"))
        .unwrap_or_else(|| panic!("no phone address in {text}"));
    assert!(
        page.starts_with(&format!(
            "http://{}",
            opened
                .trim_start_matches("https://")
                .rsplit_once(':')
                .unwrap()
                .0
        )),
        "{page} {opened}"
    );
    assert!(
        text.contains(&format!("Scan to open {opened}:")),
        "the QR code is of the first address: {text}"
    );
}

/// The QR code printed for a phone reads back as the address, drawn as a terminal shows it
/// (a full block light, a space dark, half blocks one of each).
#[test]
fn the_terminal_qr_code_reads_as_the_address() {
    let url = "https://192.168.10.20:8080/";
    let text = local::terminal_qr(url).unwrap();
    let rows: Vec<Vec<char>> = text.lines().map(|l| l.chars().collect()).collect();
    let scale = 4;
    let width = rows.iter().map(Vec::len).max().unwrap() * scale;
    let height = rows.len() * 2 * scale;
    let light = |x: usize, y: usize| -> bool {
        let (column, module_row) = (x / scale, y / scale);
        let c = rows[module_row / 2].get(column).copied().unwrap_or(' ');
        let top = module_row % 2 == 0;
        match c {
            '█' => true,
            '▀' => top,
            '▄' => !top,
            _ => false,
        }
    };
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| {
        if light(x, y) {
            255
        } else {
            0
        }
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "{text}");
    let (_, content) = grids[0].decode().unwrap();
    assert_eq!(content, url);
}

/// A client that trusts `ca` and speaks HTTP/1.1 only.
fn http1_trusting(ca: &str) -> reqwest::Client {
    builder(ca).http1_only().build().unwrap()
}

#[tokio::test]
async fn https_speaks_http2_and_http1_and_plain_http_stays_http1() {
    let site = Site::new().await;
    let made = make_cert(&["keyward.test", "localhost"], "one");
    let (cert, key) = site.write(&made);
    let https = Https {
        tls: Tls::from_files(&cert, &key).unwrap(),
        ca_page: None,
    };
    let server = start(&site, Some(https), false).await;
    // ALPN offers h2 and the server takes it; HSTS goes by the request's authority (HTTP/2
    // has no Host header).
    let res = trusting_at(&made.ca, server.addr)
        .get(server.url("keyward.test", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    assert_eq!(res.headers()[STRICT_TRANSPORT_SECURITY], HSTS);
    assert_eq!(res.text().await.unwrap(), INDEX);
    // A client that offers HTTP/1.1 alone still gets it.
    let res = http1_trusting(&made.ca)
        .get(server.url("localhost", "/"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.version(), reqwest::Version::HTTP_11);
    server.shut_down().await;

    // Plain HTTP is HTTP/1.1 only: HTTP/2 "with prior knowledge" gets nowhere.
    let server = start(&site, None, false).await;
    let res = reqwest::get(format!("http://{}/", server.addr))
        .await
        .unwrap();
    assert_eq!(res.version(), reqwest::Version::HTTP_11);
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    assert!(h2c
        .get(format!("http://{}/", server.addr))
        .send()
        .await
        .is_err());
    server.shut_down().await;
}

#[tokio::test]
async fn the_event_stream_flows_over_http2_and_quiet_http2_connections_close() {
    let site = Site::new().await;
    let made = make_cert(&["localhost"], "one");
    let (cert, key) = site.write(&made);
    let https = Https {
        tls: Tls::from_files(&cert, &key).unwrap(),
        ca_page: None,
    };
    let server = start(&site, Some(https), false).await;
    // Kept-alive connections this time: the stream and the API share one HTTP/2 connection.
    let client = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false)
        .add_root_certificate(reqwest::Certificate::from_pem(made.ca.as_bytes()).unwrap())
        .build()
        .unwrap();
    let store = site.config().open_store().await.unwrap();
    let code = issue_setup_code(&store, None).await.unwrap();
    store.close().await;
    let mut device = Device::new(9);
    let site_id = device.create_site("Over HTTP/2");
    let res = client
        .post(server.url("localhost", "/api/sites"))
        .json(&json!({
            "site": site_id,
            "site_name": "Over HTTP/2",
            "username": username("admin"),
            "name": "Pat Caretaker",
            "password": PASSWORD,
            "device": device.id,
            "setup_code": code,
        }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(res.version(), reqwest::Version::HTTP_2);
    let session: Session = res.json().await.unwrap();

    let mut stream = client
        .get(server.url("localhost", "/api/stream"))
        .bearer_auth(&session.token)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert_eq!(stream.version(), reqwest::Version::HTTP_2);
    let first = tokio::time::timeout(Duration::from_secs(3), stream.chunk())
        .await
        .expect("the first event at once")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).contains("event: head"),
        "{first:?}"
    );
    // An open stream keeps its connection past the header timeout (400 ms here): the
    // connection is not idle.
    let more = tokio::time::timeout(Duration::from_millis(1500), stream.chunk()).await;
    assert!(more.is_err(), "the stream ended: {more:?}");
    // And a push's new head arrives on it.
    device.area(site_id, "Block A");
    let push = keyward_core::sync::PushRequest {
        device: device.id,
        changes: device.take(),
    };
    let res = client
        .post(server.url("localhost", "/api/push"))
        .bearer_auth(&session.token)
        .json(&push)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let next = tokio::time::timeout(Duration::from_secs(3), stream.chunk())
        .await
        .expect("the new head at once")
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&next).contains("event: head"),
        "{next:?}"
    );
    drop(stream);

    // An HTTP/2 connection with nothing open is closed after about the header timeout.
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(der(&made.ca)))
        .unwrap();
    let mut config = rustls::ClientConfig::builder_with_provider(keyward_server::tls::provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let tcp = TcpStream::connect(server.addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = connector.connect(name, tcp).await.unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"h2"[..]));
    // The client's preface and empty settings, then nothing.
    tls.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        .await
        .unwrap();
    let started = Instant::now();
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(Duration::from_secs(5), tls.read(&mut chunk))
            .await
            .expect("the server closes a quiet HTTP/2 connection");
        if matches!(read, Ok(0) | Err(_)) {
            break;
        }
    }
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(300), "{took:?}");
    assert!(took < Duration::from_secs(3), "{took:?}");
    server.shut_down().await;
}
