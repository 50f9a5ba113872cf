//! The security headers sent with every answer, the content security policy first; over
//! HTTPS, `Strict-Transport-Security` too.
//!
//! The policy allows only this origin's files: the app's wasm, JS, CSS, worker, manifest and
//! icons. Trunk loads the app with an inline `<script type="module">` in `index.html`, which
//! such a policy blocks, so each inline script (and style) of the served `index.html` is
//! allowed by its SHA-256 hash: computed at start, and again whenever `index.html` changes
//! on disk (a new build served without a restart), checked when an HTML page is sent.
//!
//! No `style` attribute is allowed: the app sets inline positions (the label sheet) through
//! the CSSOM with Leptos's `style:left=…`, which a policy does not govern.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::extract::{Request, State};
use axum::http::header::{
    HeaderName, HeaderValue, CONTENT_SECURITY_POLICY, CONTENT_TYPE, REFERRER_POLICY,
    STRICT_TRANSPORT_SECURITY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::middleware::Next;
use axum::response::Response;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::app_files::AppFiles;

/// `Permissions-Policy`: the camera for the scanner, nothing else.
pub const PERMISSIONS_POLICY: &str = "camera=(self), microphone=(), geolocation=(), payment=()";

const PERMISSIONS_POLICY_HEADER: HeaderName = HeaderName::from_static("permissions-policy");
const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

/// The content security policy for a page whose inline scripts and styles hash to
/// `scripts` and `styles` (`'sha256-…'` sources).
pub fn content_security_policy(scripts: &[String], styles: &[String]) -> String {
    let with = |base: &str, hashes: &[String]| {
        let mut sources = base.to_string();
        for hash in hashes {
            sources.push(' ');
            sources.push_str(hash);
        }
        sources
    };
    [
        "default-src 'self'".to_string(),
        with("script-src 'self' 'wasm-unsafe-eval'", scripts),
        with("style-src 'self'", styles),
        "img-src 'self' data: blob:".to_string(),
        "connect-src 'self'".to_string(),
        "worker-src 'self' blob:".to_string(),
        "media-src 'self' blob:".to_string(),
        "manifest-src 'self'".to_string(),
        "base-uri 'none'".to_string(),
        "form-action 'self'".to_string(),
        "frame-ancestors 'none'".to_string(),
        "object-src 'none'".to_string(),
    ]
    .join("; ")
}

/// The policy for the page `html`: its inline scripts and styles allowed by hash.
pub fn policy_for_page(html: &str) -> String {
    content_security_policy(
        &inline_hashes(html, "script"),
        &inline_hashes(html, "style"),
    )
}

/// `'sha256-…'` of the text of each inline `<tag>` element of `html` (`script` ones with a
/// `src` attribute are not inline), as a browser computes it: over the UTF-8 text between
/// the tags, line breaks normalised to `\n` as the HTML parser does.
pub fn inline_hashes(html: &str, tag: &str) -> Vec<String> {
    let lower = html.to_ascii_lowercase();
    let open = format!("<{tag}");
    let close = format!("</{tag}");
    let mut hashes = Vec::new();
    let mut at = 0;
    while let Some(found) = lower[at..].find(&open) {
        let start = at + found + open.len();
        at = start;
        // `<scripts>` or `<script-x>` are other elements.
        if !lower[start..].starts_with(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/') {
            continue;
        }
        let Some(tag_len) = tag_end(&lower[start..]) else {
            break;
        };
        let attributes = &lower[start..start + tag_len];
        let body_start = start + tag_len + 1;
        let Some(body_len) = lower[body_start..].find(&close) else {
            break;
        };
        at = body_start + body_len;
        if tag == "script" && has_attribute(attributes, "src") {
            continue;
        }
        let text = html[body_start..body_start + body_len]
            .replace("\r\n", "\n")
            .replace('\r', "\n");
        let hash = format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(text.as_bytes()))
        );
        if !hashes.contains(&hash) {
            hashes.push(hash);
        }
    }
    hashes
}

/// The length of a start tag's attributes: up to the `>` outside quotes.
fn tag_end(rest: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in rest.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), _) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// Whether a start tag's (lowercased) attributes include `name`.
fn has_attribute(attributes: &str, name: &str) -> bool {
    let mut rest = attributes;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return false;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        if &rest[..end] == name {
            return true;
        }
        rest = rest[end..].trim_start();
        if let Some(value) = rest.strip_prefix('=') {
            let value = value.trim_start();
            rest = match value.chars().next() {
                Some(q @ ('"' | '\'')) => match value[1..].find(q) {
                    Some(close) => &value[close + 2..],
                    None => "",
                },
                _ => {
                    let end = value
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(value.len());
                    &value[end..]
                }
            };
        }
    }
}

/// The security headers for the app's files, the policy following its `index.html`.
#[derive(Debug)]
pub struct SecurityHeaders {
    /// The page to follow when it is a file (files in memory never change).
    index: Option<PathBuf>,
    current: Mutex<Current>,
}

#[derive(Debug)]
struct Current {
    /// `index.html`'s modification time and length when the policy was made.
    stamp: Option<(SystemTime, u64)>,
    policy: HeaderValue,
}

impl SecurityHeaders {
    /// Reads `index.html` now. A missing or unreadable page gives the policy without
    /// hashes (the server refuses to start without one anyway: [`crate::Config::prepare`]).
    pub fn new(app: &AppFiles) -> Arc<Self> {
        let (index, stamp, policy) = match app {
            AppFiles::Folder(dist) => {
                let index = dist.join("index.html");
                let (stamp, policy) = read_policy(&index);
                (Some(index), stamp, policy)
            }
            AppFiles::Memory(_) => (None, None, policy_value(&app.index_html())),
        };
        Arc::new(SecurityHeaders {
            index,
            current: Mutex::new(Current { stamp, policy }),
        })
    }

    /// The policy now sent.
    pub fn policy(&self) -> HeaderValue {
        self.lock().policy.clone()
    }

    /// Makes the policy again if `index.html` changed since it was made.
    pub async fn refresh(&self) {
        let Some(index) = &self.index else {
            return;
        };
        let stamp = stamp_of(index).await;
        if stamp.is_some() && stamp == self.lock().stamp {
            return;
        }
        let index = index.clone();
        let Ok((stamp, policy)) = tokio::task::spawn_blocking(move || read_policy(&index)).await
        else {
            return;
        };
        let mut current = self.lock();
        current.stamp = stamp;
        current.policy = policy;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        self.current.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn stamp_of(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = tokio::fs::metadata(path).await.ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn read_policy(index: &Path) -> (Option<(SystemTime, u64)>, HeaderValue) {
    let stamp = std::fs::metadata(index)
        .ok()
        .and_then(|m| Some((m.modified().ok()?, m.len())));
    let html = std::fs::read_to_string(index).unwrap_or_default();
    (stamp, policy_value(&html))
}

fn policy_value(html: &str) -> HeaderValue {
    HeaderValue::from_str(&policy_for_page(html)).expect("a policy is ASCII: directives and base64")
}

/// Middleware: sets the security headers on every answer (after the app made it, so errors,
/// timeouts and files get them too). An HTML page first checks that the policy still
/// matches `index.html`.
pub async fn set(
    State(headers): State<Arc<SecurityHeaders>>,
    req: Request,
    next: Next,
) -> Response {
    let secure = req.extensions().get::<crate::tls::Secure>().is_some() && !is_localhost(&req);
    let mut res = next.run(req).await;
    let is_page = res
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if is_page {
        headers.refresh().await;
    }
    let out = res.headers_mut();
    out.insert(CONTENT_SECURITY_POLICY, headers.policy());
    out.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Label URLs carry references: never tell another site which page linked to it.
    out.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    out.insert(
        PERMISSIONS_POLICY_HEADER,
        HeaderValue::from_static(PERMISSIONS_POLICY),
    );
    out.insert(
        CROSS_ORIGIN_OPENER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    // Stops browsers from guessing a type other than the one sent (e.g. running an
    // uploaded-looking file as script).
    out.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    // Only over HTTPS, and not for `localhost`: a browser that noted it for `localhost`
    // would refuse plain HTTP on every port of `localhost` for a year, and the server (and
    // any other tool) runs there over plain HTTP. Browsers never note it for an address.
    if secure {
        out.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(crate::tls::HSTS),
        );
    }
    res
}

/// Whether the request was made to `localhost` (or a name under it).
fn is_localhost(req: &Request) -> bool {
    let host = req
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .or_else(|| req.uri().host())
        .and_then(crate::tls::host_without_port)
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase();
    host == "localhost" || host.ends_with(".localhost")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What trunk 0.21 writes into `index.html` for the app (its default initializer).
    const TRUNK_PAGE: &str = "<!DOCTYPE html><html><head>\
<link rel=\"modulepreload\" href=\"/keyward-0123456789abcdef.js\" crossorigin=\"anonymous\" integrity=\"sha384-x\">\
<script src=\"/other.js\"></script>\
</head><body>\n<script type=\"module\">\nimport init, * as bindings from '/keyward-0123456789abcdef.js';\n\
const wasm = await init({ module_or_path: '/keyward-0123456789abcdef_bg.wasm' });\n\n\n\
window.wasmBindings = bindings;\n\n\n\
dispatchEvent(new CustomEvent(\"TrunkApplicationStarted\", {detail: {wasm}}));\n\n</script></body></html>";

    fn sha256(text: &str) -> String {
        format!(
            "'sha256-{}'",
            STANDARD.encode(Sha256::digest(text.as_bytes()))
        )
    }

    #[test]
    fn hashes_the_inline_module_script_only() {
        let body = TRUNK_PAGE
            .split_once("<script type=\"module\">")
            .unwrap()
            .1
            .split_once("</script>")
            .unwrap()
            .0;
        assert_eq!(inline_hashes(TRUNK_PAGE, "script"), vec![sha256(body)]);
        assert!(inline_hashes(TRUNK_PAGE, "style").is_empty());
    }

    #[test]
    fn known_hash() {
        // `echo -n "alert('Hello, world.');" | openssl sha256 -binary | base64`, the example
        // in the CSP specification.
        assert_eq!(
            inline_hashes("<script>alert('Hello, world.');</script>", "script"),
            vec!["'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='".to_string()]
        );
    }

    #[test]
    fn line_breaks_are_normalised_as_the_parser_does() {
        let crlf = inline_hashes("<script>a();\r\nb();\r</script>", "script");
        assert_eq!(crlf, vec![sha256("a();\nb();\n")]);
    }

    #[test]
    fn other_elements_and_attributes() {
        let page = "<scripts>x</scripts><SCRIPT data-x=\"a>b\" TYPE=module>one()</SCRIPT>\
                    <script data-src=\"y\">two()</script><script src=x.js></script>\
                    <style>p{}</style><style media=print>q{}</style>";
        assert_eq!(
            inline_hashes(page, "script"),
            vec![sha256("one()"), sha256("two()")]
        );
        assert_eq!(
            inline_hashes(page, "style"),
            vec![sha256("p{}"), sha256("q{}")]
        );
        assert!(inline_hashes("<script>never closed", "script").is_empty());
    }

    #[test]
    fn policy_lists_the_hashes() {
        let policy = policy_for_page(TRUNK_PAGE);
        let hash = &inline_hashes(TRUNK_PAGE, "script")[0];
        assert!(
            policy.contains(&format!("script-src 'self' 'wasm-unsafe-eval' {hash};")),
            "{policy}"
        );
        assert!(policy.contains("; style-src 'self'; "), "{policy}");
        let script = policy
            .split("; ")
            .find(|d| d.starts_with("script-src "))
            .unwrap();
        for source in script.split(' ').skip(1) {
            assert!(
                matches!(source, "'self'" | "'wasm-unsafe-eval'") || source.starts_with("'sha256-"),
                "{source} in {policy}"
            );
        }
    }
}
