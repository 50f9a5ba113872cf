//! What labels carry. A label is read by anyone who passes, so it reveals nothing: a locker
//! label's QR holds a random reference (not derived from the number), a key tag's QR holds only
//! the tag id. Both are URLs on the site's Keyward address, so a phone's own camera opens
//! Keyward; Keyward resolves them from its own register, so the host does not matter to it.

use crate::command::Entropy;
use crate::error::CommandError;
use crate::ids::TagId;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The opaque reference in a locker label's QR.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LabelRef(pub String);

impl LabelRef {
    pub const LEN: usize = 10;

    pub fn generate(entropy: &mut dyn Entropy) -> Self {
        let n = TagId::ALPHABET.len() as u64;
        Self(
            (0..Self::LEN)
                .map(|_| char::from(TagId::ALPHABET[(entropy.next_u64() % n) as usize]))
                .collect(),
        )
    }

    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim().to_ascii_uppercase();
        (text.len() == Self::LEN && text.bytes().all(|b| TagId::ALPHABET.contains(&b)))
            .then_some(Self(text))
    }
}

impl fmt::Display for LabelRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a scanned (or typed) code points at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scanned {
    Locker(LabelRef),
    Key(TagId),
}

impl Scanned {
    /// The URL printed in the QR: `https://<host>/l/<ref>` or `https://<host>/k/<tag>`.
    pub fn url(&self, host: &str) -> String {
        match self {
            Scanned::Locker(r) => format!("https://{host}/l/{r}"),
            Scanned::Key(t) => format!("https://{host}/k/{t}"),
        }
    }

    /// Reads a label's URL (any host: the site may have moved Keyward), or a bare tag id or
    /// locker reference as typed. A locker number is not a code; the caller looks those up.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let path = match text.split_once("://") {
            Some((_, rest)) => rest.split_once('/').map(|(_, p)| p).unwrap_or(""),
            None => text.trim_start_matches('/'),
        };
        let path = path
            .split(['?', '#'])
            .next()
            .unwrap_or("")
            .trim_end_matches('/');
        match path.split_once('/') {
            Some(("l" | "L", code)) => LabelRef::parse(code).map(Scanned::Locker),
            Some(("k" | "K", code)) => TagId::parse(code).map(Scanned::Key),
            Some(_) => None,
            None => TagId::parse(path)
                .map(Scanned::Key)
                .or_else(|| LabelRef::parse(path).map(Scanned::Locker)),
        }
    }
}

/// "https://Keys.Northgate.sch.uk/app/" → "keys.northgate.sch.uk".
pub fn normalise_host(text: &str) -> Result<String, CommandError> {
    let text = text.trim();
    let rest = text.split_once("://").map(|(_, r)| r).unwrap_or(text);
    let host = rest.split('/').next().unwrap_or("").to_ascii_lowercase();
    let ok = !host.is_empty()
        && host.len() <= 100
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'))
        && !host.starts_with(['.', '-', ':']);
    ok.then_some(host).ok_or(CommandError::LabelHostInvalid)
}

/// A QR code of `data` as an SVG image with its quiet zone, black on white, scaling to fit.
pub fn qr_svg(data: &str) -> String {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};
    // Medium error correction: labels get scratched and scanned at an angle.
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .expect("a label payload is far below the QR capacity");
    code.render::<svg::Color<'_>>()
        .min_dimensions(1, 1)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip_from_any_host() {
        let locker = Scanned::Locker(LabelRef("ABCDEFGHJK".into()));
        let key = Scanned::Key(TagId("K7M2P9Q".into()));
        for host in ["keys.northgate.sch.uk", "127.0.0.1:8080"] {
            assert_eq!(Scanned::parse(&locker.url(host)), Some(locker.clone()));
            assert_eq!(Scanned::parse(&key.url(host)), Some(key.clone()));
        }
        assert_eq!(
            locker.url("keys.example.org"),
            "https://keys.example.org/l/ABCDEFGHJK"
        );
        assert_eq!(
            Scanned::parse("http://old-host.example/l/abcdefghjk/?from=camera"),
            Some(locker)
        );
        assert_eq!(Scanned::parse(" k7m 2p9q "), Some(key));
        assert_eq!(Scanned::parse("https://x.example/people/1"), None);
        assert_eq!(
            Scanned::parse("A-012"),
            None,
            "a locker number is looked up, not parsed"
        );
        assert_eq!(Scanned::parse(""), None);
    }

    #[test]
    fn hosts_are_normalised_or_refused() {
        assert_eq!(
            normalise_host(" https://Keys.Northgate.sch.uk/app/ ").unwrap(),
            "keys.northgate.sch.uk"
        );
        assert_eq!(
            normalise_host("192.168.1.20:8080").unwrap(),
            "192.168.1.20:8080"
        );
        assert!(normalise_host("").is_err());
        assert!(normalise_host("keys northgate").is_err());
        assert!(normalise_host("https://").is_err());
    }

    #[test]
    fn qr_svg_is_an_svg() {
        let svg = qr_svg("https://keys.example.org/k/K7M2P9Q");
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    }
}
