//! What labels carry. A label is read by anyone who passes, so it reveals nothing: a locker
//! label's QR holds a random reference (not derived from the number), a key tag's QR holds only
//! the tag id. Both are URLs on the site's Keyward address (its scheme, host and port), so a
//! phone's own camera opens Keyward; Keyward resolves them from its own register, so the host
//! does not matter to it. The URL is in capitals (`HTTPS://KEYS.NORTHGATE.SCH.UK/L/ABCDEFGHJK`):
//! scheme and host are the same in any case, the app answers `/L/…` and `/K/…`, and a QR code
//! holds capitals, digits and `:/.-` in its compact alphanumeric mode, with fewer, larger modules.
//!
//! Also here: the Avery A4 templates in millimetres and where a label's text and QR code go on
//! each, with the text sized so that any text the register can print fits whole.

use crate::command::Entropy;
use crate::error::CommandError;
use crate::ids::TagId;
use crate::model::SiteLabels;
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
    /// The URL printed in the QR, in capitals: `HTTPS://<HOST>/L/<REF>` or
    /// `HTTP://<HOST:PORT>/K/<TAG>`. `address` is the site's address (`https://keys.example`,
    /// see [`SiteLabels::address`]); without a scheme it is https.
    pub fn url(&self, address: &str) -> String {
        let address = address.trim().trim_end_matches('/');
        let address = if address.contains("://") {
            address.to_string()
        } else {
            format!("https://{address}")
        };
        let url = match self {
            Scanned::Locker(r) => format!("{address}/L/{r}"),
            Scanned::Key(t) => format!("{address}/K/{t}"),
        };
        url.to_ascii_uppercase()
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
            // "https://host//k/…", as pasted from an address joined to a path, is the same.
            .trim_start_matches('/')
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

/// How a site's address is reached. Labels printed before the scheme was kept say https.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    #[default]
    Https,
    /// Plain HTTP: a site network before HTTPS is set up. A phone's camera opens it, but the
    /// offline app (its service worker) needs HTTPS, except on the device itself.
    Http,
}

impl Scheme {
    pub fn is_https(&self) -> bool {
        *self == Scheme::Https
    }
    pub fn as_str(&self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

impl SiteLabels {
    /// The site's address as a phone opens it: `https://keys.northgate.sch.uk`,
    /// `http://192.168.1.20:8080`.
    pub fn address(&self) -> String {
        format!("{}://{}", self.scheme.as_str(), self.host)
    }

    /// Whether the address is plain HTTP on another machine than the one showing it: a phone's
    /// camera opens it, but the app cannot work offline there (browsers keep service workers
    /// to HTTPS and the device itself).
    pub fn insecure(&self) -> bool {
        self.scheme == Scheme::Http && !is_local_host(&self.host)
    }
}

/// Whether `host` (with or without a port) names the device itself.
pub fn is_local_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name == "localhost" || name.ends_with(".localhost") || name.starts_with("127.") || name == "::1"
}

/// "https://Keys.Northgate.sch.uk/app/" → "keys.northgate.sch.uk" (any scheme is dropped; see
/// [`normalise_address`] to keep it).
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

/// A typed site address: "http://192.168.1.20:8080/" → (Http, "192.168.1.20:8080");
/// "Keys.Northgate.sch.uk" → (Https, "keys.northgate.sch.uk"). A scheme's own port (443, 80) is
/// dropped, so the QR code stays short; a scheme other than http or https is refused.
pub fn normalise_address(text: &str) -> Result<(Scheme, String), CommandError> {
    let text = text.trim();
    let scheme = match text.split_once("://") {
        None => Scheme::Https,
        Some((s, _)) if s.eq_ignore_ascii_case("https") => Scheme::Https,
        Some((s, _)) if s.eq_ignore_ascii_case("http") => Scheme::Http,
        Some(_) => return Err(CommandError::LabelHostInvalid),
    };
    let host = normalise_host(text)?;
    let default_port = match scheme {
        Scheme::Https => ":443",
        Scheme::Http => ":80",
    };
    let host = host.strip_suffix(default_port).unwrap_or(&host).to_string();
    Ok((scheme, host))
}

/// Why a QR code could not be drawn: its text is beyond what a QR code holds. Every label
/// payload this app makes fits many times over; a crafted event (a huge tag or address that
/// slipped past the checks) must still never crash the label page, so drawing never panics.
pub const QR_TOO_LONG: &str = "This label's text is too long for a QR code. Print it without the code, or ask your site's admin to check the site's label address.";

/// The QR code of `data` at medium error correction (labels get scratched and scanned at an
/// angle), in the smallest version that holds it; the encoder picks the most compact modes, so
/// a URL in capitals is one alphanumeric segment. [`QR_TOO_LONG`] when it does not fit.
pub fn qr_code(data: &str) -> Result<qrcode::QrCode, &'static str> {
    qrcode::QrCode::with_error_correction_level(data.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| QR_TOO_LONG)
}

/// A QR code of `data` as an SVG image with its quiet zone, black on white, scaling to fit;
/// [`QR_TOO_LONG`] when `data` does not fit in a QR code.
pub fn qr_svg(data: &str) -> Result<String, &'static str> {
    use qrcode::render::svg;
    Ok(qr_code(data)?
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

    /// Where the text and the QR code go on one of this template's labels, and how big the text
    /// is: the QR code as tall as the label allows (at most half its width) on the right, the
    /// text in the rest, as large as fits whatever its letters. Text that would be smaller than
    /// [`LabelLayout::MIN_ONE_LINE`] on one line (a long locker number on a small label) is
    /// wrapped onto as many lines as make it largest, as evenly as that size allows.
    pub fn label_layout(&self, text: &str) -> LabelLayout {
        let small = self.height < 25.0;
        let (pad_x, pad_y, gap) = if small {
            (2.0, 1.5, 2.0)
        } else {
            (3.0, 2.0, 2.0)
        };
        let qr = (self.height - 2.0 * pad_y).min(self.width / 2.0);
        let (width, height) = (
            self.width - 2.0 * pad_x - gap - qr,
            self.height - 2.0 * pad_y,
        );
        let cap = self.height * LabelLayout::MAX_SHARE;
        let size = |lines: &[String]| {
            let longest = lines
                .iter()
                .map(|l| l.chars().count())
                .max()
                .unwrap_or(0)
                .max(1);
            (width / (longest as f64 * LabelLayout::CHAR_EM))
                .min(height / (lines.len().max(1) as f64 * LabelLayout::LINE_EM))
                .min(cap)
        };
        let text = text.trim();
        let n = text.chars().count();
        let mut lines = vec![text.to_string()];
        let mut font = size(&lines);
        if font < LabelLayout::MIN_ONE_LINE {
            // The largest text wins; of wraps as large (the height or the cap decides), the
            // most even, so no letter is left alone on the last line.
            let longest = |lines: &[String]| lines.iter().map(|l| l.chars().count()).max();
            for w in (1..n).rev() {
                let wrapped = wrap(text, w);
                let f = size(&wrapped);
                let as_large = (f - font).abs() < 1e-9;
                if f > font + 1e-9
                    || (as_large
                        && wrapped.len() <= lines.len()
                        && longest(&wrapped) < longest(&lines))
                {
                    (lines, font) = (wrapped, f);
                }
            }
        }
        LabelLayout {
            text: (pad_x, pad_y, width, height),
            font,
            lines,
            qr: (self.width - pad_x - qr, (self.height - qr) / 2.0, qr),
        }
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

/// Where a label's text and QR code go on one label, in millimetres from the label's top-left
/// corner, and the text's size and lines. See [`Template::label_layout`].
#[derive(Clone, Debug, PartialEq)]
pub struct LabelLayout {
    /// The text's box: left, top, width, height. The text is centred in it from top to bottom.
    pub text: (f64, f64, f64, f64),
    /// The font size (the em), in millimetres.
    pub font: f64,
    /// The text's lines, top to bottom: one, unless that would be too small to read.
    pub lines: Vec<String>,
    /// The QR code with its quiet zone: left, top, side.
    pub qr: (f64, f64, f64),
}

impl LabelLayout {
    /// The widest character's advance in the label font stack, in em: the text is monospace
    /// (ui-monospace, DejaVu Sans Mono, SF Mono, Menlo, Consolas, monospace), where every
    /// character, W and M too, is 0.6 em wide (DejaVu Sans Mono and Menlo: 0.602 em; Consolas
    /// 0.55 em), bold or not.
    pub const ADVANCE_EM: f64 = 0.602;
    /// The letter spacing after each character, in em (the label CSS's `letter-spacing`).
    pub const SPACING_EM: f64 = 0.02;
    /// The width budgeted for each character, in em: the widest advance plus spacing, and some
    /// room for a fallback font a little wider and for the printer's rounding.
    pub const CHAR_EM: f64 = 0.66;
    /// From one line's top to the next one's, in em (the label CSS's `line-height`).
    pub const LINE_EM: f64 = 1.15;
    /// Text that would be smaller than this on one line (in mm; about 7 pt) is wrapped.
    pub const MIN_ONE_LINE: f64 = 2.5;
    /// The text is never taller than this share of the label's height.
    pub const MAX_SHARE: f64 = 0.4;

    /// Whether every line fits the text box at the font size, with [`Self::CHAR_EM`] per
    /// character and [`Self::LINE_EM`] per line.
    pub fn fits(&self) -> bool {
        let (_, _, width, height) = self.text;
        let longest = self
            .lines
            .iter()
            .map(|l| l.chars().count())
            .max()
            .unwrap_or(0);
        longest as f64 * Self::CHAR_EM * self.font <= width + 1e-9
            && self.lines.len() as f64 * Self::LINE_EM * self.font <= height + 1e-9
    }
}

/// `text` in lines of at most `width` characters, broken after a space, '-', '/' or '.' where
/// it can be, and inside a run of other characters only where one is longer than a line.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut pieces: Vec<String> = Vec::new();
    let mut piece = String::new();
    for c in text.chars() {
        piece.push(c);
        if matches!(c, ' ' | '-' | '/' | '.') {
            pieces.push(std::mem::take(&mut piece));
        }
    }
    if !piece.is_empty() {
        pieces.push(piece);
    }
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for piece in pieces {
        let joined = format!("{line}{piece}");
        if joined.trim_end().chars().count() <= width {
            line = joined;
            continue;
        }
        if !line.trim_end().is_empty() {
            lines.push(line.trim_end().to_string());
        }
        let chars: Vec<char> = piece.chars().collect();
        let mut rest = &chars[..];
        while rest.iter().collect::<String>().trim_end().chars().count() > width {
            lines.push(rest[..width].iter().collect());
            rest = &rest[width..];
        }
        line = rest.iter().collect();
    }
    if !line.trim().is_empty() {
        lines.push(line.trim_end().to_string());
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_round_trip_from_any_host() {
        let locker = Scanned::Locker(LabelRef("ABCDEFGHJK".into()));
        let key = Scanned::Key(TagId("K7M2P9Q".into()));
        for address in [
            "https://keys.northgate.sch.uk",
            "http://127.0.0.1:8080",
            "keys.example.org",
        ] {
            assert_eq!(Scanned::parse(&locker.url(address)), Some(locker.clone()));
            assert_eq!(Scanned::parse(&key.url(address)), Some(key.clone()));
        }
        assert_eq!(
            locker.url("https://keys.example.org"),
            "HTTPS://KEYS.EXAMPLE.ORG/L/ABCDEFGHJK"
        );
        assert_eq!(
            key.url("http://192.168.1.20:8080/"),
            "HTTP://192.168.1.20:8080/K/K7M2P9Q"
        );
        assert_eq!(
            key.url("keys.example.org"),
            "HTTPS://KEYS.EXAMPLE.ORG/K/K7M2P9Q",
            "no scheme is https"
        );
        assert_eq!(
            Scanned::parse("http://old-host.example/l/abcdefghjk/?from=camera"),
            Some(locker.clone())
        );
        assert_eq!(Scanned::parse("/L/ABCDEFGHJK"), Some(locker));
        assert_eq!(Scanned::parse("/K/K7M2P9Q"), Some(key.clone()));
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
    fn addresses_keep_their_scheme_and_port() {
        let address = |text| normalise_address(text).unwrap();
        assert_eq!(
            address(" HTTP://192.168.1.20:8080/labels "),
            (Scheme::Http, "192.168.1.20:8080".into())
        );
        assert_eq!(
            address("https://Keys.Northgate.sch.uk/"),
            (Scheme::Https, "keys.northgate.sch.uk".into())
        );
        assert_eq!(
            address("keys.northgate.sch.uk"),
            (Scheme::Https, "keys.northgate.sch.uk".into()),
            "no scheme is https"
        );
        assert_eq!(
            address("https://keys.example:443"),
            (Scheme::Https, "keys.example".into())
        );
        assert_eq!(
            address("http://keys.example:80"),
            (Scheme::Http, "keys.example".into())
        );
        assert_eq!(
            address("http://keys.example:443"),
            (Scheme::Http, "keys.example:443".into())
        );
        assert!(normalise_address("ftp://keys.example").is_err());
        assert!(normalise_address("http://").is_err());

        let labels = |scheme, host: &str| SiteLabels {
            host: host.into(),
            scheme,
            front_desk: "the office".into(),
        };
        assert_eq!(
            labels(Scheme::Http, "192.168.1.20:8080").address(),
            "http://192.168.1.20:8080"
        );
        assert_eq!(
            labels(Scheme::Https, "keys.example").address(),
            "https://keys.example"
        );
        assert!(labels(Scheme::Http, "192.168.1.20:8080").insecure());
        assert!(labels(Scheme::Http, "keys.example").insecure());
        assert!(!labels(Scheme::Http, "127.0.0.1:8080").insecure());
        assert!(!labels(Scheme::Http, "localhost:8080").insecure());
        assert!(!labels(Scheme::Http, "[::1]:8080").insecure());
        assert!(!labels(Scheme::Https, "192.168.1.20").insecure());
    }

    #[test]
    fn long_text_wraps_at_separators_first() {
        assert_eq!(wrap("A-012", 5), ["A-012"]);
        assert_eq!(
            wrap("BLOCK C FLOOR 2 114", 5),
            ["BLOCK", "C", "FLOOR", "2 114"]
        );
        assert_eq!(wrap("SCIENCE-LAB/12", 8), ["SCIENCE-", "LAB/12"]);
        assert_eq!(wrap("WWWWWWWWWWWW", 5), ["WWWWW", "WWWWW", "WW"]);
        assert_eq!(wrap("AB WWWWWWWWW", 4), ["AB", "WWWW", "WWWW", "W"]);
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
        let svg = qr_svg("HTTPS://KEYS.EXAMPLE.ORG/K/K7M2P9Q").unwrap();
        assert!(svg.contains("<svg") && svg.contains("</svg>"), "{svg}");
    }

    #[test]
    fn qr_svg_of_text_beyond_a_qr_code_is_an_error_not_a_panic() {
        let tag = "k".repeat(5_000);
        assert!(qr_svg(&format!("https://keys.example.org/k/{tag}")) == Err(QR_TOO_LONG));
    }
}
