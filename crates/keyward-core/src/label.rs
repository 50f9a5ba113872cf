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

/// Why a QR code could not be drawn: its text is beyond what a QR code holds. Every label
/// payload this app makes fits many times over; a crafted event (a huge tag or address that
/// slipped past the checks) must still never crash the label page, so drawing never panics.
pub const QR_TOO_LONG: &str = "This label's text is too long for a QR code. Print it without the code, or ask your site's admin to check the site's label address.";

/// A QR code of `data` as an SVG image with its quiet zone, black on white, scaling to fit;
/// [`QR_TOO_LONG`] when `data` does not fit in a QR code.
pub fn qr_svg(data: &str) -> Result<String, &'static str> {
    use qrcode::render::svg;
    use qrcode::{EcLevel, QrCode};
    // Medium error correction: labels get scratched and scanned at an angle.
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|_| QR_TOO_LONG)?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(1, 1)
        .quiet_zone(true)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// An A4 sheet of labels, in millimetres from the sheet's top-left corner.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Template {
    pub code: &'static str,
    pub description: &'static str,
    pub columns: u32,
    pub rows: u32,
    pub width: f64,
    pub height: f64,
    pub left: f64,
    pub top: f64,
    /// From one label's left edge to the next one's.
    pub pitch_x: f64,
    /// From one label's top edge to the next one's.
    pub pitch_y: f64,
}

impl Template {
    pub const A4_WIDTH: f64 = 210.0;
    pub const A4_HEIGHT: f64 = 297.0;

    /// Common Avery A4 sheets: two for locker labels, one small enough for key tags.
    pub const ALL: [Template; 3] = [
        Template {
            code: "L7160",
            description: "21 per sheet, 63.5 × 38.1 mm",
            columns: 3,
            rows: 7,
            width: 63.5,
            height: 38.1,
            left: 7.25,
            top: 15.15,
            pitch_x: 66.04,
            pitch_y: 38.1,
        },
        Template {
            code: "L7163",
            description: "14 per sheet, 99.1 × 38.1 mm",
            columns: 2,
            rows: 7,
            width: 99.1,
            height: 38.1,
            left: 4.65,
            top: 15.15,
            pitch_x: 101.6,
            pitch_y: 38.1,
        },
        Template {
            code: "L7651",
            description: "65 per sheet, 38.1 × 21.2 mm (key tags)",
            columns: 5,
            rows: 13,
            width: 38.1,
            height: 21.2,
            left: 4.75,
            top: 10.7,
            pitch_x: 40.64,
            pitch_y: 21.2,
        },
    ];

    pub fn by_code(code: &str) -> Option<Template> {
        Self::ALL.into_iter().find(|t| t.code == code)
    }

    pub fn per_sheet(&self) -> u32 {
        self.columns * self.rows
    }

    /// The top-left corner of label `index` (0-based, across then down) on its sheet.
    pub fn position(&self, index: u32) -> (f64, f64) {
        let i = index % self.per_sheet();
        (
            self.left + f64::from(i % self.columns) * self.pitch_x,
            self.top + f64::from(i / self.columns) * self.pitch_y,
        )
    }

    /// How `count` labels fall on sheets when the first sheet starts at label `start` (1-based,
    /// for a part-used sheet): for each label, its sheet and its position on that sheet.
    pub fn layout(&self, count: usize, start: u32) -> Vec<(usize, (f64, f64))> {
        let skip = start.clamp(1, self.per_sheet()) - 1;
        (0..count)
            .map(|n| {
                let slot = skip as usize + n;
                let per = self.per_sheet() as usize;
                (slot / per, self.position((slot % per) as u32))
            })
            .collect()
    }
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
    fn templates_fit_on_a4() {
        for t in Template::ALL {
            let (x, y) = t.position(t.per_sheet() - 1);
            assert!(x + t.width <= Template::A4_WIDTH, "{} too wide", t.code);
            assert!(y + t.height <= Template::A4_HEIGHT, "{} too tall", t.code);
            assert!(
                t.pitch_x >= t.width && t.pitch_y >= t.height,
                "{} overlaps",
                t.code
            );
        }
        let l7160 = Template::by_code("L7160").unwrap();
        assert_eq!(l7160.per_sheet(), 21);
        assert_eq!(l7160.position(0), (7.25, 15.15));
        assert_eq!(l7160.position(4), (7.25 + 66.04, 15.15 + 38.1));
        // Starting at label 20 of a part-used sheet: 2 on the first sheet, then a new sheet.
        let layout = l7160.layout(3, 20);
        assert_eq!(layout[0].0, 0);
        assert_eq!(layout[1], (0, l7160.position(20)));
        assert_eq!(layout[2], (1, l7160.position(0)));
    }

    #[test]
    fn qr_svg_is_an_svg() {
        let svg = qr_svg("https://keys.example.org/k/K7M2P9Q").unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    }

    #[test]
    fn qr_svg_of_text_beyond_a_qr_code_is_an_error_not_a_panic() {
        let tag = "k".repeat(5_000);
        assert!(qr_svg(&format!("https://keys.example.org/k/{tag}")) == Err(QR_TOO_LONG));
    }
}
