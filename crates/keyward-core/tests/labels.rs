//! Labels: the site's label settings, locker label references, what a scan resolves to, that a
//! label carries nothing but its reference or tag id, in a QR that really decodes, in the QR's
//! compact alphanumeric mode, and that every text a label can carry fits it whole.

mod common;

use common::Harness;
use keyward_core::label::{
    qr_code, qr_svg, LabelLayout, LabelRef, Scanned, Scheme, Template, QR_TOO_LONG,
};
use keyward_core::*;
use proptest::prelude::*;

fn labels_of(event: &Event) -> Vec<NewLabel> {
    match &event.change {
        Change::LockerLabelsIssued { labels } => labels.clone(),
        c => panic!("{c:?}"),
    }
}

#[test]
fn the_site_address_and_front_desk_are_checked() {
    let mut h = Harness::new(21);
    let (site, _) = h.site("Northgate School");
    let err = h
        .run(Command::SetSiteLabels {
            site,
            host: "keys northgate".into(),
            front_desk: "the office".into(),
        })
        .unwrap_err();
    assert_eq!(err, CommandError::LabelHostInvalid);
    let err = h
        .run(Command::SetSiteLabels {
            site,
            host: "keys.northgate.sch.uk".into(),
            front_desk: " ".into(),
        })
        .unwrap_err();
    assert_eq!(err, CommandError::FrontDeskMissing);
    h.ok(Command::SetSiteLabels {
        site,
        host: "https://Keys.Northgate.sch.uk/".into(),
        front_desk: "the school  office".into(),
    });
    assert_eq!(
        h.register.site(site).unwrap().labels,
        Some(SiteLabels {
            host: "keys.northgate.sch.uk".into(),
            scheme: Scheme::Https,
            front_desk: "the school office".into()
        })
    );
    // A site network before HTTPS: the scheme and port are kept, and the labels say so.
    h.ok(Command::SetSiteLabels {
        site,
        host: " HTTP://192.168.1.20:8080/labels".into(),
        front_desk: "the school office".into(),
    });
    let labels = h.register.site(site).unwrap().labels.clone().unwrap();
    assert_eq!(
        (labels.scheme, labels.host.as_str()),
        (Scheme::Http, "192.168.1.20:8080")
    );
    assert_eq!(labels.address(), "http://192.168.1.20:8080");
    assert!(labels.insecure());
    assert_eq!(
        Scanned::Key(TagId("K7M2P9Q".into())).url(&labels.address()),
        "HTTP://192.168.1.20:8080/K/K7M2P9Q"
    );
    let err = h
        .run(Command::SetSiteLabels {
            site,
            host: "ftp://keys.northgate.sch.uk".into(),
            front_desk: "the school office".into(),
        })
        .unwrap_err();
    assert_eq!(err, CommandError::LabelHostInvalid);
}

#[test]
fn a_label_address_without_a_scheme_reads_as_https_and_writes_back_unchanged() {
    let old = r#"{"host":"keys.northgate.sch.uk","front_desk":"the school office"}"#;
    let labels: SiteLabels = serde_json::from_str(old).unwrap();
    assert_eq!(labels.scheme, Scheme::Https);
    assert_eq!(labels.address(), "https://keys.northgate.sch.uk");
    assert_eq!(serde_json::to_string(&labels).unwrap(), old);
    let http = SiteLabels {
        scheme: Scheme::Http,
        ..labels
    };
    let json = serde_json::to_string(&http).unwrap();
    assert_eq!(
        json,
        r#"{"host":"keys.northgate.sch.uk","scheme":"http","front_desk":"the school office"}"#
    );
    assert_eq!(serde_json::from_str::<SiteLabels>(&json).unwrap(), http);
}

#[test]
fn lockers_get_one_random_label_reference_each() {
    let mut h = Harness::new(22);
    let (site, area) = h.site("Northgate School");
    let a = h.locker(site, area, "A1");
    let b = h.locker(site, area, "A2");
    let first = labels_of(&h.ok(Command::IssueLockerLabels {
        lockers: vec![a, a],
    }));
    assert_eq!(first.len(), 1, "a locker named twice gets one reference");
    let second = labels_of(&h.ok(Command::IssueLockerLabels {
        lockers: vec![a, b],
    }));
    assert_eq!(second.len(), 1, "a labelled locker keeps its reference");
    assert_eq!(second[0].locker, b);
    assert_ne!(first[0].label, second[0].label);
    assert_eq!(
        h.run(Command::IssueLockerLabels {
            lockers: vec![a, b]
        })
        .unwrap_err(),
        CommandError::NothingToLabel
    );
    let label = h.register.locker(a).unwrap().label.clone().unwrap();
    assert_eq!(label.0.len(), LabelRef::LEN);
    assert_eq!(h.register.locker_by_label(&label).unwrap().id, a);
}

#[test]
fn scans_resolve_to_lockers_and_keys_of_their_site() {
    let mut h = Harness::new(23);
    let (north, area) = h.site("Northgate School");
    let (south, south_area) = h.site("Southgate Leisure");
    let locker = h.locker(north, area, "A1");
    let keys = h.lock_with_keys(locker, 1);
    let pool = h.locker(south, south_area, "P1");
    h.ok(Command::IssueLockerLabels {
        lockers: vec![locker, pool],
    });
    let label = |id| h.register.locker(id).unwrap().label.clone().unwrap();
    let tag = h.register.key(keys[0]).unwrap().tag.clone();
    let scan = |text: String| Scanned::parse(&text).map(|s| h.register.resolve(&s));
    assert_eq!(
        scan(Scanned::Locker(label(locker)).url("https://keys.north.example")),
        Some(Resolved::Locker(north, locker))
    );
    assert_eq!(
        scan(Scanned::Locker(label(pool)).url("http://moved.example:8080")),
        Some(Resolved::Locker(south, pool))
    );
    assert_eq!(
        scan(tag.to_string().to_lowercase()),
        Some(Resolved::Key(north, keys[0]))
    );
    assert_eq!(
        scan("https://x.example/k/ZZZZZZZ".into()),
        Some(Resolved::Unknown)
    );
    // An address and a path joined with one slash too many, as pasted.
    assert_eq!(
        scan(format!("http://127.0.0.1:8080//k/{tag}")),
        Some(Resolved::Key(north, keys[0]))
    );
    assert_eq!(scan("hello".into()), None);
}

/// Renders the SVG as a label printer would, and reads it back as a phone camera would.
fn decode(svg: &str) -> String {
    use resvg::{tiny_skia, usvg};
    let tree = usvg::Tree::from_str(svg, &usvg::Options::default()).expect("valid SVG");
    let scale = 6.0;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale) as u32,
        (size.height() * scale) as u32,
    );
    let mut pixmap = tiny_skia::Pixmap::new(w, h).unwrap();
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w as usize, h as usize, |x, y| {
        pixmap.pixel(x as u32, y as u32).map_or(255, |p| p.red())
    });
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the label");
    grids[0].decode().expect("the QR decodes").1
}

#[test]
fn a_label_qr_decodes_to_its_payload() {
    for payload in [
        Scanned::Locker(LabelRef("ABCDEFGHJK".into())).url("https://keys.northgate.sch.uk"),
        Scanned::Key(TagId("K7M2P9Q".into())).url("http://127.0.0.1:8080"),
        Scanned::Locker(LabelRef("ZZZZZZZZZZ".into())).url(LONGEST_ADDRESS),
    ] {
        assert_eq!(decode(&qr_svg(&payload).unwrap()), payload);
    }
}

/// About the longest address a site would give Keyward: a long school name under a county's
/// `sch.uk` domain (73 characters with the path).
const LONGEST_ADDRESS: &str = "https://keys.st-bartholomews-cofe-primary-school.lancashire.sch.uk";

/// The QR version of `data` and whether it is all one alphanumeric segment.
fn version_and_mode(data: &str) -> (i16, bool) {
    use qrcode::optimize::{Parser, Segment};
    use qrcode::types::Mode;
    let code = qr_code(data).unwrap();
    let qrcode::Version::Normal(version) = code.version() else {
        panic!("a micro QR code")
    };
    let segments: Vec<Segment> = Parser::new(data.as_bytes())
        .optimize(code.version())
        .collect();
    let alphanumeric = segments.len() == 1 && segments[0].mode == Mode::Alphanumeric;
    (version, alphanumeric)
}

#[test]
fn label_urls_use_the_qr_codes_alphanumeric_mode_and_a_small_version() {
    let smallest = Template::ALL
        .iter()
        .map(|t| t.label_layout("K7M2P9Q").qr.2)
        .fold(f64::INFINITY, f64::min);
    for (address, version) in [
        ("http://192.168.1.20:8080", 2),
        ("http://127.0.0.1:8080", 2),
        ("https://keys.northgate.sch.uk", 3),
        (LONGEST_ADDRESS, 4),
    ] {
        for scanned in [
            Scanned::Locker(LabelRef("ZZZZZZZZZZ".into())),
            Scanned::Key(TagId("ZZZZZZZ".into())),
        ] {
            let url = scanned.url(address);
            assert_eq!(url, url.to_uppercase());
            assert_eq!(
                version_and_mode(&url),
                (version, true),
                "{url}: one alphanumeric segment, version {version}"
            );
            // The same URL in small letters is bytes: never a smaller code, often a bigger one.
            let (lower, alphanumeric) = version_and_mode(&url.to_lowercase());
            assert!(!alphanumeric && lower >= version, "{url}: {lower}");
            // On the smallest label, a module of the biggest code is still 0.4 mm or more.
            let modules = f64::from(4 * version + 17 + 8);
            assert!(smallest / modules >= 0.4, "{url}: {}", smallest / modules);
        }
    }
    let (lower, _) = version_and_mode(
        &Scanned::Locker(LabelRef("ZZZZZZZZZZ".into()))
            .url(LONGEST_ADDRESS)
            .to_lowercase(),
    );
    assert_eq!(lower, 5, "in small letters the longest needs version 5");
    assert_eq!(qr_code(&"K".repeat(5_000)).err(), Some(QR_TOO_LONG));
}

/// The longest locker number the register accepts, found by asking it.
fn longest_locker_number() -> usize {
    let longest = (1..100)
        .take_while(|n| normalise_locker_number(&"W".repeat(*n)).is_ok())
        .last()
        .unwrap();
    assert!((10..99).contains(&longest), "{longest}");
    longest
}

/// Every text a label can carry: tag ids of the widest letters, and locker numbers of every
/// length the register accepts, of wide letters, with and without separators.
fn texts() -> Vec<String> {
    let mut texts = vec![
        "W".repeat(TagId::LEN),
        "M".repeat(TagId::LEN),
        "WMWMWMW".into(),
    ];
    for n in 1..=longest_locker_number() {
        let wide = "W".repeat(n);
        let mixed: String = (0..n)
            .map(|i| ['W', 'M', '-', 'W', ' ', '0', '/', 'M'][i % 8])
            .collect();
        for text in [wide, "M".repeat(n), mixed] {
            if let Ok(number) = normalise_locker_number(&text) {
                texts.push(number);
            }
        }
    }
    texts
}

#[test]
fn every_text_fits_its_label_on_every_template_at_a_readable_size() {
    const {
        assert!(
            LabelLayout::CHAR_EM >= LabelLayout::ADVANCE_EM + LabelLayout::SPACING_EM,
            "the budget per character covers the widest letter and its spacing"
        )
    };
    let texts = texts();
    assert!(texts.len() > 50, "{}", texts.len());
    for t in Template::ALL {
        for text in &texts {
            let l = t.label_layout(text);
            let what = format!("{text:?} on {}: {l:?}", t.code);
            assert!(l.fits(), "fits its box: {what}");
            // Whole: the lines are the text, broken only where a space was or between letters.
            assert_eq!(
                l.lines.concat().replace(' ', ""),
                text.replace(' ', ""),
                "{what}"
            );
            assert!(l.lines.iter().all(|line| line == line.trim()), "{what}");
            // Wrapped evenly: no letter alone on a line of a longer number.
            if l.lines.len() > 1 {
                assert!(
                    l.lines.iter().all(|line| line.chars().count() > 1),
                    "a lone letter: {what}"
                );
            }
            // Readable: 2.5 mm (about 7 pt) or more, and a tag id is on one line.
            assert!(l.font >= LabelLayout::MIN_ONE_LINE, "readable: {what}");
            if text.chars().count() <= TagId::LEN {
                assert_eq!(l.lines.len(), 1, "{what}");
            }
            // The text box and the QR code are inside the label, side by side.
            let (x, y, w, h) = l.text;
            let (qx, qy, q) = l.qr;
            assert!(
                x >= 0.0 && y >= 0.0 && x + w <= t.width && y + h <= t.height,
                "{what}"
            );
            assert!(
                qx >= 0.0 && qy >= 0.0 && qx + q <= t.width && qy + q <= t.height,
                "{what}"
            );
            assert!(x + w < qx, "the text stops before the QR code: {what}");
        }
        // A tag id is as large on the key tag sheet as the rule allows: 3 mm or more.
        let tag = t.label_layout("WWWWWWW");
        assert!(tag.font >= 3.0, "{}: {tag:?}", t.code);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Whatever the register holds, a locker label's payload is its reference on the site's
    /// address, and a key tag's is its tag id: never a holder, a code, or (for keys) a number.
    #[test]
    fn labels_reveal_nothing(seed in any::<u64>(), lockers in 1usize..8, issued in any::<u8>()) {
        let mut h = Harness::new(seed);
        let (site, area) = h.site("Northgate School");
        let host = "https://keys.northgate.sch.uk";
        let mut secrets = Vec::new();
        for n in 0..lockers {
            let number = format!("Z-{n}");
            let locker = h.locker(site, area, &number);
            let lock = match h.ok(Command::FitLock { locker, kind: LockKind::Keyed, code: format!("CODE-{n}"), suite: String::new() }).change {
                Change::LockFitted { lock, .. } => lock,
                _ => unreachable!(),
            };
            h.ok(Command::AddKeys { lock, kind: KeyKind::User, count: 2, storage: String::new() });
            let person = h.person(site, &format!("Holder Number{n}"), &format!("REF-{n}"));
            if issued & (1 << n) != 0 {
                let key = h.register.keys_of_locker(locker)[0].id;
                h.ok(h.issue(key, locker, Holder::Person(person)));
            }
            secrets.push((locker, number, format!("CODE-{n}"), format!("Holder Number{n}"), format!("REF-{n}")));
        }
        let ids: Vec<LockerId> = secrets.iter().map(|s| s.0).collect();
        h.ok(Command::IssueLockerLabels { lockers: ids });
        for (locker, number, code, name, reference) in &secrets {
            let label = h.register.locker(*locker).unwrap().label.clone().unwrap();
            let url = Scanned::Locker(label.clone()).url(host);
            prop_assert_eq!(&url, &format!("HTTPS://KEYS.NORTHGATE.SCH.UK/L/{label}"));
            for secret in [code, name, reference, number] {
                prop_assert!(!url.contains(&secret.to_uppercase()), "{} in {}", secret, url);
            }
            for key in h.register.keys_of_locker(*locker) {
                let url = Scanned::Key(key.tag.clone()).url(host);
                prop_assert_eq!(&url, &format!("HTTPS://KEYS.NORTHGATE.SCH.UK/K/{}", key.tag));
                for secret in [code, name, reference, number] {
                    prop_assert!(!url.contains(&secret.to_uppercase()), "{} in {}", secret, url);
                }
            }
        }
    }
}

#[test]
fn a_blank_tag_replaces_a_keys_tag() {
    let mut h = Harness::new(24);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "A1");
    let keys = h.lock_with_keys(locker, 1);
    let old = h.register.key(keys[0]).unwrap().tag.clone();
    assert_eq!(
        h.run(Command::MakeBlankTags { site, count: 0 })
            .unwrap_err(),
        CommandError::BlankTagCountOutOfRange { max: 650 }
    );
    let tags = match h.ok(Command::MakeBlankTags { site, count: 65 }).change {
        Change::BlankTagsMade { tags, .. } => tags,
        c => panic!("{c:?}"),
    };
    assert_eq!(tags.len(), 65);
    assert_eq!(
        tags.iter().collect::<std::collections::HashSet<_>>().len(),
        65
    );
    assert!(!tags.contains(&old));
    let blank = tags[0].clone();
    assert_eq!(
        h.register.resolve(&Scanned::Key(blank.clone())),
        Resolved::BlankTag(site, blank.clone())
    );

    // A tag already on a key, or one that was never printed, is refused.
    let before = h.register.clone();
    let err = h
        .run(Command::AttachTag {
            key: keys[0],
            tag: old.clone(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::TagInUse { .. }));
    let err = h
        .run(Command::AttachTag {
            key: keys[0],
            tag: TagId("ZZZZZZZ".into()),
        })
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("not one of this register's blank tags"),
        "{err}"
    );
    assert_eq!(h.register, before);

    h.ok(Command::AttachTag {
        key: keys[0],
        tag: blank.clone(),
    });
    assert_eq!(h.register.key(keys[0]).unwrap().tag, blank);
    assert_eq!(
        h.register.resolve(&Scanned::Key(blank.clone())),
        Resolved::Key(site, keys[0])
    );
    assert_eq!(
        h.register.resolve(&Scanned::Key(old.clone())),
        Resolved::Unknown
    );
    assert!(!h.register.is_blank_tag(site, &blank));
    let last = h.register.timeline(locker).last().unwrap();
    assert_eq!(
        h.register.describe(last),
        format!("Key copy 1 tagged {blank}; its old tag {old} no longer works")
    );
    // The same blank tag cannot go on a second key.
    let err = h
        .run(Command::AttachTag {
            key: keys[0],
            tag: blank,
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::TagInUse { .. }));
}
