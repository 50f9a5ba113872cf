//! The client's address behind a reverse proxy (Caddy, deploy/Caddyfile).
//!
//! Behind a proxy every connection comes from the proxy's address, so the per-address limit
//! on failed sign-ins would count all clients as one. A proxy adds the address it got the
//! request from to `X-Forwarded-For`; but anyone can send that header, so it is believed only
//! on a connection from an address the operator named (`--trusted-proxy`). Then the client is
//! the rightmost address in the header that is not itself a trusted proxy: what a trusted
//! proxy appended is true, what it passed on from further left may have been made up by the
//! client. From any other peer the header is ignored. `X-Forwarded-Proto: https` from a trusted
//! proxy marks the request as having come over HTTPS (for `Strict-Transport-Security`).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;

/// The header a proxy names the client in.
pub const FORWARDED_FOR: &str = "x-forwarded-for";
/// The header a proxy names the client's scheme in.
pub const FORWARDED_PROTO: &str = "x-forwarded-proto";

/// The most addresses read from `X-Forwarded-For` (from the right): a chain of proxies is
/// short, and the header is the client's to make long.
const MOST_HOPS: usize = 16;

/// Who sent a request, as far as the connection and trusted proxies tell.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Client {
    /// The client's address (port 0 when a proxy named it: the port is not forwarded).
    pub addr: SocketAddr,
    /// A trusted proxy said the client used HTTPS.
    pub https: bool,
}

/// The client of a request that arrived from `peer` with `headers`, believing the forwarding
/// headers only from the `trusted` proxies.
pub fn client(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> Client {
    let direct = Client {
        addr: peer,
        https: false,
    };
    if trusted.is_empty() || !is_trusted(peer.ip(), trusted) {
        return direct;
    }
    let https = headers
        .get_all(FORWARDED_PROTO)
        .iter()
        .next_back()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.rsplit(',').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"));
    // Several header lines are one list, in order.
    let hops: Vec<&str> = headers
        .get_all(FORWARDED_FOR)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .collect();
    let mut nearest = peer.ip();
    for hop in hops.iter().rev().take(MOST_HOPS) {
        let Some(ip) = parse_hop(hop) else {
            // Nothing left of an unreadable entry can be believed: the client is unknown
            // beyond the last proxy that was.
            break;
        };
        nearest = ip;
        if !is_trusted(ip, trusted) {
            break;
        }
    }
    Client {
        addr: SocketAddr::new(nearest, if nearest == peer.ip() { peer.port() } else { 0 }),
        https,
    }
}

fn is_trusted(ip: IpAddr, trusted: &[IpAddr]) -> bool {
    let ip = canonical(ip);
    trusted.iter().any(|t| canonical(*t) == ip)
}

/// An IPv4 address mapped into IPv6 (`::ffff:192.0.2.1`) as the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// One entry of `X-Forwarded-For`: an address, perhaps with a port (`192.0.2.1:4711`,
/// `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    hop.parse::<SocketAddr>().ok().map(|a| canonical(a.ip()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(lines: &[(&str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in lines {
            let name = axum::http::HeaderName::from_bytes(name.as_bytes()).unwrap();
            map.append(name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_is_believed_from_trusted_proxies_only() {
        let proxy: SocketAddr = "10.0.0.2:40000".parse().unwrap();
        let trusted = [ip("10.0.0.2"), ip("10.0.0.3")];
        let forwarded = headers(&[(FORWARDED_FOR, "198.51.100.7, 203.0.113.9")]);

        // From a trusted proxy: the rightmost address.
        let seen = client(proxy, &forwarded, &trusted);
        assert_eq!(seen.addr, "203.0.113.9:0".parse().unwrap());
        assert!(!seen.https);

        // From anyone else, or with no proxy trusted: the peer, whatever the header says.
        let stranger: SocketAddr = "192.0.2.50:5000".parse().unwrap();
        assert_eq!(client(stranger, &forwarded, &trusted).addr, stranger);
        assert_eq!(client(proxy, &forwarded, &[]).addr, proxy);

        // A chain of trusted proxies is walked past; a made-up address left of the client's
        // real one is not reached.
        let chain = headers(&[
            (FORWARDED_FOR, "1.2.3.4, 203.0.113.9"),
            (FORWARDED_FOR, "10.0.0.3"),
        ]);
        assert_eq!(client(proxy, &chain, &trusted).addr.ip(), ip("203.0.113.9"));

        // No header: the proxy itself. All trusted: the leftmost.
        assert_eq!(client(proxy, &HeaderMap::new(), &trusted).addr, proxy);
        let all = headers(&[(FORWARDED_FOR, "10.0.0.3")]);
        assert_eq!(client(proxy, &all, &trusted).addr.ip(), ip("10.0.0.3"));

        // Garbage stops the walk at the last proxy believed.
        let junk = headers(&[(FORWARDED_FOR, "203.0.113.9, not-an-address")]);
        assert_eq!(client(proxy, &junk, &trusted).addr, proxy);

        // Ports and IPv6 forms are read; an IPv4-mapped peer matches its IPv4 entry.
        let ported = headers(&[(FORWARDED_FOR, "[2001:db8::1]:4711")]);
        assert_eq!(
            client(proxy, &ported, &trusted).addr.ip(),
            ip("2001:db8::1")
        );
        let mapped: SocketAddr = "[::ffff:10.0.0.2]:1".parse().unwrap();
        assert_eq!(
            client(mapped, &forwarded, &trusted).addr.ip(),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn https_is_believed_from_trusted_proxies_only() {
        let proxy: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let trusted = [ip("127.0.0.1")];
        let secure = headers(&[(FORWARDED_PROTO, "https"), (FORWARDED_FOR, "192.0.2.1")]);
        assert!(client(proxy, &secure, &trusted).https);
        assert!(!client(proxy, &secure, &[]).https);
        let plain = headers(&[(FORWARDED_PROTO, "http")]);
        assert!(!client(proxy, &plain, &trusted).https);
    }
}
