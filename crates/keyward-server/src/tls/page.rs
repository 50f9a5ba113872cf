//! `/ca`: the page that tells a person, phone by phone, how to install the local CA (served
//! without sign-in, over HTTPS and over the plain-HTTP listener, since a phone reaches it
//! before it trusts the CA); `/ca.pem` the CA itself, `/ca.css` the page's style (a file, so
//! the content security policy's `style-src 'self'` allows it).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{HeaderValue, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, HOST};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::host_without_port;
use super::local::LocalCa;

/// The CA's file type: iPhones offer to install it as a profile, Android saves it.
pub const CA_TYPE: &str = "application/x-x509-ca-cert";

/// What the page shows.
#[derive(Debug)]
pub struct CaPage {
    pem: String,
    fingerprint: String,
    ca_name: String,
    https_port: u16,
}

impl CaPage {
    pub fn new(ca: &LocalCa, https_port: u16) -> Arc<CaPage> {
        Arc::new(CaPage {
            pem: ca.ca_pem.clone(),
            fingerprint: ca.fingerprint.clone(),
            ca_name: ca.ca_name.clone(),
            https_port,
        })
    }
}

/// The routes: `/ca`, `/ca.css`, `/ca.pem`.
pub fn routes(page: Arc<CaPage>) -> Router {
    Router::new()
        .route("/ca", get(show))
        .route("/ca.css", get(style))
        .route("/ca.pem", get(file))
        .with_state(page)
}

async fn file(State(page): State<Arc<CaPage>>) -> Response {
    (
        [
            (CONTENT_TYPE, HeaderValue::from_static(CA_TYPE)),
            (
                CONTENT_DISPOSITION,
                HeaderValue::from_static("inline; filename=\"keyward-ca.pem\""),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        page.pem.clone(),
    )
        .into_response()
}

async fn style() -> Response {
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/css; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        STYLE,
    )
        .into_response()
}

async fn show(State(page): State<Arc<CaPage>>, req: Request) -> Response {
    let host = req
        .headers()
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(host_without_port)
        .unwrap_or("localhost");
    let app = if page.https_port == 443 {
        format!("https://{host}/")
    } else {
        format!("https://{host}:{}/", page.https_port)
    };
    (
        [
            (
                CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        render(&page, &app),
    )
        .into_response()
}

/// The page's HTML, `app` the address to open once the CA is installed.
pub fn render(page: &CaPage, app: &str) -> String {
    let app = escape(app);
    let name = escape(&page.ca_name);
    // Lines break between pairs only.
    let fingerprint = escape(&page.fingerprint).replace(':', ":<wbr>");
    format!(
        r#"<!doctype html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Trust this Keyward server – Keyward</title>
<link rel="stylesheet" href="/ca.css">
</head>
<body>
<main>
<h1>Trust this Keyward server</h1>
<p>This Keyward server makes its own security certificate, so that phones on this network
can use it over HTTPS: that is what lets Keyward work offline and use the camera to scan
labels. Each phone must trust the server's certificate authority once. It takes about a
minute.</p>

<p>Before you install it, check that its fingerprint matches the one the server printed
when it started (ask whoever runs the server):</p>
<p class="fingerprint"><span class="label">SHA-256 fingerprint of “{name}”:</span>
<code>{fingerprint}</code></p>

<h2 id="android">Android</h2>
<ol>
<li><a class="button" href="/ca.pem" download="keyward-ca.pem">Download the certificate for
Android</a><br>If the phone says it cannot install it from here, that is expected: the file is
saved to Downloads.</li>
<li>Open <strong>Settings → Security → Encryption &amp; credentials → Install a certificate →
CA certificate</strong>. On some phones it is under <strong>Security &amp; privacy → More
security settings</strong>; searching Settings for “CA certificate” finds it.</li>
<li>Tap <strong>Install anyway</strong>, confirm with your screen lock, and choose
<strong>keyward-ca.pem</strong> from Downloads.</li>
<li>Open <a href="{app}">{app}</a> in Chrome.</li>
</ol>

<h2 id="iphone">iPhone and iPad</h2>
<ol>
<li>With this page open in <strong>Safari</strong>:<br><a class="button" href="/ca.pem">Download
the profile for iPhone and iPad</a><br>then tap <strong>Allow</strong>.</li>
<li>Open <strong>Settings → Profile Downloaded → Install</strong>, enter your passcode and
tap <strong>Install</strong> again.</li>
<li>Open <strong>Settings → General → About → Certificate Trust Settings</strong> and turn
on full trust for “{name}”.</li>
<li>Open <a href="{app}">{app}</a> in Safari.</li>
</ol>

<h2 id="computer">A computer</h2>
<p>Install the <a href="/ca.pem" download="keyward-ca.pem">same file</a> as a trusted root certificate authority (on Windows, open it and
choose <strong>Install Certificate → Local Machine → Trusted Root Certification
Authorities</strong>; on a Mac, open it in Keychain Access and set it to
<strong>Always Trust</strong>), then open <a href="{app}">{app}</a>.</p>

<h2 id="why">Is this safe?</h2>
<p>The certificate authority lives only on this server. Anyone who holds its key could
pretend to be other websites to a phone that trusts it, so whoever runs the server keeps it
private. When a phone no longer needs Keyward, remove the certificate in the same settings.</p>
</main>
</body>
</html>
"#
    )
}

/// Text for HTML: `&`, `<`, `>` and quotes escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "\
body { margin: 0; font: 1.0625rem/1.5 system-ui, -apple-system, \"Segoe UI\", Roboto, sans-serif;
  color: #1b1b1b; background: #fff; }
main { max-width: 40rem; margin: 0 auto; padding: 1rem 1.25rem 3rem; }
h1 { font-size: 1.6rem; line-height: 1.2; }
h2 { font-size: 1.25rem; margin-top: 2rem; border-top: 1px solid #ccc; padding-top: 1rem; }
a { color: #0b4f9e; }
a:focus, .button:focus { outline: 3px solid #f5a623; outline-offset: 2px; }
.button { display: inline-block; margin: 0.25rem 0; padding: 0.75rem 1.25rem; background: #0b4f9e; color: #fff;
  border-radius: 0.4rem; text-decoration: none; font-weight: 600; }
.fingerprint code { display: block; font-size: 0.95rem;
  background: #f3f3f3; padding: 0.5rem; border-radius: 0.25rem; }
li { margin-bottom: 0.5rem; }
@media (prefers-color-scheme: dark) {
  body { color: #eee; background: #161616; }
  a { color: #8cb8ff; }
  .fingerprint code { background: #2a2a2a; }
}
";
