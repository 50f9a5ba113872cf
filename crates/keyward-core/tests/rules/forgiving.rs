//! Search that forgives: locker numbers as people type them, people whatever their accents,
//! pasted label URLs and tag ids, lock codes for those who may see them, and near-duplicate
//! locker numbers that need a confirmation. Each rule is a table of what is typed and what
//! must be found.

use crate::common::Harness;
use keyward_core::search::{Index, Query};
use keyward_core::*;

fn range(h: &mut Harness, site: SiteId, area: AreaId, from: &str, to: &str) {
    h.ok(Command::AddLockerRange {
        site,
        area,
        from: from.into(),
        to: to.into(),
        allow_similar: false,
    });
}

fn add(
    h: &mut Harness,
    site: SiteId,
    area: AreaId,
    number: &str,
    allow_similar: bool,
) -> Result<Event, CommandError> {
    h.run(Command::AddLocker {
        site,
        area,
        number: number.into(),
        allow_similar,
    })
}

fn found(index: &Index, text: &str, codes: bool) -> Vec<String> {
    index
        .search(
            &Query {
                text: text.into(),
                codes,
                ..Default::default()
            },
            500,
        )
        .rows
        .iter()
        .map(|r| r.number.clone())
        .collect()
}

/// A site numbered three ways: S004 (padded), A-001 … A-120 (a range), B2-10 … (mixed).
fn numbered_site() -> (Harness, SiteId, AreaId) {
    let mut h = Harness::new(40);
    let (site, area) = h.site("Northgate School");
    range(&mut h, site, area, "S001", "S012");
    range(&mut h, site, area, "A-001", "A-120");
    range(&mut h, site, area, "B2-1", "B2-12");
    range(&mut h, site, area, "B21-0", "B21-1");
    h.locker(site, area, "C7");
    (h, site, area)
}

#[test]
fn locker_numbers_are_found_the_way_people_type_them() {
    let (h, site, _) = numbered_site();
    let index = Index::build(&h.register, site, h.today());
    // (typed, what comes first, how many match in all or 0 for "don't care")
    let table: &[(&str, &str, usize)] = &[
        ("S004", "S004", 1),
        ("s004", "S004", 1),
        ("S4", "S004", 1),
        (" s4 ", "S004", 1),
        ("s 4", "S004", 1),
        ("S-004", "S004", 1),
        ("S-4", "S004", 1),
        ("s0004", "S004", 1),
        ("a12", "A-012", 0),
        ("A-12", "A-012", 0),
        ("A012", "A-012", 0),
        ("a 12", "A-012", 0),
        ("A-012", "A-012", 0),
        ("a1", "A-001", 0),
        ("A120", "A-120", 1),
        ("a-120", "A-120", 1),
        ("B2-10", "B2-10", 0),
        ("b2 10", "B2-10", 0),
        ("B2-010", "B2-10", 0),
        ("b21-0", "B21-0", 0),
        ("c-007", "C7", 1),
        ("c 07", "C7", 0),
    ];
    for (typed, first, total) in table {
        let rows = found(&index, typed, false);
        assert_eq!(
            rows.first().map(String::as_str),
            Some(*first),
            "{typed:?} → {rows:?}"
        );
        if *total > 0 {
            assert_eq!(rows.len(), *total, "{typed:?} → {rows:?}");
        }
        assert_eq!(
            h.register
                .locker_by_number(site, typed)
                .map(|l| l.number.as_str()),
            Some(*first),
            "locker_by_number({typed:?})"
        );
    }
    // "A1" finds A-001 first, then the numbers it starts (A-010 … … A-120).
    let a1 = found(&index, "a1", false);
    assert_eq!(a1.len(), 1 + 10 + 21, "{a1:?}");
    assert_eq!(&a1[..3], ["A-001", "A-010", "A-011"]);
    // Partly typed numbers still find by their start, as before.
    assert_eq!(found(&index, "s-00", false).len(), 9);
    assert_eq!(found(&index, "A-01", false).len(), 11);
    // "B2-10" is not "B210" nor "B21-0".
    assert!(!found(&index, "b2-10", false).contains(&"B21-0".to_string()));
    // Numbers not there are not found.
    for typed in ["S13", "A121", "B2-13", "Z4", "S40"] {
        assert!(found(&index, typed, false).is_empty(), "{typed}");
        assert!(
            h.register.locker_by_number(site, typed).is_none(),
            "{typed}"
        );
    }
}

#[test]
fn an_exact_number_comes_before_one_alike() {
    let mut h = Harness::new(41);
    let (site, area) = h.site("Northgate School");
    h.locker(site, area, "S004");
    h.ok(Command::AddLocker {
        site,
        area,
        number: "S4".into(),
        allow_similar: true,
    });
    let index = Index::build(&h.register, site, h.today());
    assert_eq!(found(&index, "s4", false), ["S4", "S004"]);
    assert_eq!(found(&index, "S004", false), ["S004", "S4"]);
    assert_eq!(
        h.register.locker_by_number(site, "s4").unwrap().number,
        "S4"
    );
    assert!(h.register.locker_by_number(site, "s-04").is_some());
    assert_eq!(
        h.register.locker_by_number(site, "S004").unwrap().number,
        "S004"
    );
}

#[test]
fn people_are_found_whatever_their_accents_case_and_reference_spacing() {
    let mut h = Harness::new(42);
    let (site, area) = h.site("Northgate School");
    let zoe = h.person(site, "Zoë Ní Bhriain", "P 4471");
    h.person(site, "Seán O'Brien", "S-200");
    h.person(site, "Zoe Adams", "P100");
    h.person(site, "Bjørn Łukasz", "");
    let names = |h: &Harness, text: &str| -> Vec<String> {
        h.register
            .find_people(site, text)
            .iter()
            .map(|p| p.details.name.clone())
            .collect()
    };
    let table: &[(&str, &[&str])] = &[
        ("zoe", &["Zoe Adams", "Zoë Ní Bhriain"]),
        ("ZOË", &["Zoe Adams", "Zoë Ní Bhriain"]),
        ("ni bhriain", &["Zoë Ní Bhriain"]),
        ("NÍ BHRIAIN", &["Zoë Ní Bhriain"]),
        ("bhriain zoe", &["Zoë Ní Bhriain"]),
        ("sean", &["Seán O'Brien"]),
        ("obrien", &["Seán O'Brien"]),
        ("o'brien", &["Seán O'Brien"]),
        ("o’brien", &["Seán O'Brien"]),
        ("bjorn lukasz", &["Bjørn Łukasz"]),
        ("p4471", &["Zoë Ní Bhriain"]),
        ("p 4471", &["Zoë Ní Bhriain"]),
        ("P-4471", &["Zoë Ní Bhriain"]),
        ("s200", &["Seán O'Brien"]),
        ("s 200", &["Seán O'Brien"]),
        ("p100", &["Zoe Adams"]),
        ("nobody", &[]),
    ];
    for (typed, expected) in table {
        assert_eq!(names(&h, typed), *expected, "{typed:?}");
    }
    // A reference typed whole comes first, before names that merely contain it.
    h.person(site, "P1000 Fan", "");
    assert_eq!(names(&h, "p100"), ["Zoe Adams", "P1000 Fan"]);
    // The register finds a locker by its holder the same way.
    let locker = h.locker(site, area, "A1");
    let keys = h.lock_with_keys(locker, 1);
    h.ok(h.issue(keys[0], locker, Holder::Person(zoe)));
    let index = Index::build(&h.register, site, h.today());
    for typed in ["zoe", "ni bhriain", "Zoë", "p4471", "p 4471"] {
        assert_eq!(found(&index, typed, false), ["A1"], "{typed:?}");
    }
}

#[test]
fn a_card_scanned_finds_the_person_whose_reference_it_carries() {
    let mut h = Harness::new(43);
    let (site, _) = h.site("Northgate School");
    let (other, _) = h.site("St Anne's");
    let zoe = h.person(site, "Zoë Ní Bhriain", "P 4471");
    let sam = h.person(site, "Sam Jones", "104211");
    h.person(site, "Ann Lee", "P44710");
    h.person(other, "Zoe Elsewhere", "P4471");
    let ids = |h: &Harness, code: &str| -> Vec<PersonId> {
        h.register
            .people_by_card(site, code)
            .iter()
            .map(|p| p.id)
            .collect()
    };
    let table: &[(&str, &[PersonId])] = &[
        ("P4471", &[zoe]),
        ("p-4471", &[zoe]),
        (" P 4471 ", &[zoe]),
        ("104211", &[sam]),
        ("00104211", &[sam]),
        // Only the whole reference: a card is not a search.
        ("P447", &[]),
        ("4471", &[]),
        ("1042", &[]),
        ("", &[]),
        ("  ", &[]),
        ("HTTPS://EXAMPLE/L/ABC", &[]),
    ];
    for (code, expected) in table {
        assert_eq!(ids(&h, code), *expected, "{code:?}");
    }
    // A reference given to two people finds both, for the screen to ask which.
    let twin = h.person(site, "Sam Jones (2)", "104-211");
    assert_eq!(ids(&h, "104211"), [sam, twin]);
}

#[test]
fn a_pasted_label_url_or_tag_id_finds_what_it_names_first() {
    let mut h = Harness::new(43);
    let (site, area) = h.site("Northgate School");
    range(&mut h, site, area, "A1", "A30");
    let a7 = h.register.locker_by_number(site, "A7").unwrap().id;
    let a9 = h.register.locker_by_number(site, "A9").unwrap().id;
    h.ok(Command::IssueLockerLabels { lockers: vec![a7] });
    let keys = h.lock_with_keys(a9, 1);
    let label = h.register.locker(a7).unwrap().label.clone().unwrap();
    let tag = h.register.key(keys[0]).unwrap().tag.clone();
    let index = Index::build(&h.register, site, h.today());
    let table = [
        (format!("https://keys.northgate.sch.uk/l/{label}"), "A7"),
        (format!("  HTTPS://KEYS.NORTHGATE.SCH.UK/L/{label}  "), "A7"),
        (
            format!("http://192.168.1.5:8080/l/{}?x=1", label.0.to_lowercase()),
            "A7",
        ),
        (format!("https://keys.northgate.sch.uk/k/{tag}"), "A9"),
        (tag.to_string(), "A9"),
        (tag.to_string().to_lowercase(), "A9"),
    ];
    for (typed, first) in &table {
        let rows = found(&index, typed, false);
        assert_eq!(
            rows.first().map(String::as_str),
            Some(*first),
            "{typed:?} → {rows:?}"
        );
        assert_eq!(
            h.register.resolve(&Scanned::parse(typed).unwrap()),
            match *first {
                "A7" => Resolved::Locker(site, a7),
                _ => Resolved::Key(site, keys[0]),
            }
        );
    }
    // A label URL is found even when the filters would hide its locker.
    let hits = index.search(
        &Query {
            text: table[0].0.clone(),
            status: Some(LockerStatus::InUse),
            ..Default::default()
        },
        10,
    );
    assert_eq!(hits.rows[0].number, "A7");
    // A URL naming nothing here finds nothing.
    assert!(found(&index, "https://keys.northgate.sch.uk/l/ABCDEFGH", false).is_empty());
}

#[test]
fn a_lock_code_finds_its_locker_only_for_those_who_may_see_codes() {
    let mut h = Harness::new(44);
    let (site, area) = h.site("Northgate School");
    range(&mut h, site, area, "A1", "A30");
    let a5 = h.register.locker_by_number(site, "A5").unwrap().id;
    h.ok(Command::FitLock {
        locker: a5,
        kind: LockKind::Keyed,
        code: "KA-4471".into(),
        suite: String::new(),
    });
    let index = Index::build(&h.register, site, h.today());
    for typed in ["KA-4471", "ka4471", "ka 4471", "4471"] {
        assert_eq!(found(&index, typed, true), ["A5"], "{typed:?}");
        assert!(
            found(&index, typed, false).is_empty(),
            "{typed:?} without codes"
        );
    }
    assert!(Role::Admin.may(Action::OrderKeys));
}

#[test]
fn near_duplicate_numbers_need_a_confirmation() {
    let (mut h, site, area) = numbered_site();
    // (typed, flagged as like …, or None when it is simply added)
    let table: &[(&str, Option<&str>)] = &[
        ("S4", Some("S004")),
        ("s-4", Some("S004")),
        ("S 04", Some("S004")),
        ("A12", Some("A-012")),
        ("a 12", Some("A-012")),
        ("A0012", Some("A-012")),
        ("B2-010", Some("B2-10")),
        ("B2 10", None), // tidied to B2-10: exactly taken, refused as taken instead
        ("C07", Some("C7")),
        ("c-7", Some("C7")),
        ("A121", None),
        ("S13", None),
        ("B210", None),
        ("S40", None),
        ("C70", None),
        ("D4", None),
    ];
    for (typed, like) in table {
        let before = h.register.clone();
        let result = add(&mut h, site, area, typed, false);
        match like {
            Some(existing) => {
                let err = result.unwrap_err();
                let number = normalise_locker_number(typed).unwrap();
                assert_eq!(
                    err,
                    CommandError::LockerNumberSimilar {
                        number: number.clone(),
                        existing: existing.to_string()
                    },
                    "{typed:?}"
                );
                assert!(
                    err.to_string()
                        .starts_with(&format!("Did you mean {existing}?")),
                    "{err}"
                );
                assert_eq!(h.register, before, "a refused command changes nothing");
                assert_eq!(
                    h.register.similar_lockers(&Command::AddLocker {
                        site,
                        area,
                        number: typed.to_string(),
                        allow_similar: false
                    }),
                    [(number, existing.to_string())]
                );
            }
            None if *typed == "B2 10" => {
                assert!(matches!(
                    result,
                    Err(CommandError::LockerNumberTaken { .. })
                ));
            }
            None => {
                result.unwrap_or_else(|e| panic!("{typed:?} refused: {e}"));
            }
        }
    }
    // Confirmed, the near-duplicate is added (tidied), and stored as typed in its normal form.
    let event = add(&mut h, site, area, " s 4 ", true).unwrap();
    match event.change {
        Change::LockersAdded { lockers, .. } => assert_eq!(lockers[0].number, "S4"),
        c => panic!("{c:?}"),
    }
    // A number with inner spaces is tidied before storing: " a 12 " is A12, not "A 12".
    let mut h2 = Harness::new(45);
    let (s2, a2) = h2.site("Southgate Leisure");
    let a12 = h2.locker(s2, a2, " a 12 ");
    assert_eq!(h2.register.locker(a12).unwrap().number, "A12");
    assert!(matches!(
        add(&mut h2, s2, a2, "A 12", false),
        Err(CommandError::LockerNumberTaken { .. })
    ));
    assert!(matches!(
        add(&mut h2, s2, a2, "A-12", false),
        Err(CommandError::LockerNumberSimilar { .. })
    ));
    add(&mut h2, s2, a2, "A120", false).expect("A120 is not like A12");
}

#[test]
fn a_range_with_near_duplicates_is_refused_whole_until_confirmed() {
    let mut h = Harness::new(46);
    let (site, area) = h.site("Northgate School");
    range(&mut h, site, area, "A-001", "A-120");
    let before = h.register.clone();
    let command = |allow_similar| Command::AddLockerRange {
        site,
        area,
        from: "A1".into(),
        to: "A130".into(),
        allow_similar,
    };
    let err = h.run(command(false)).unwrap_err();
    assert!(
        matches!(err, CommandError::RangeSimilar { count: 120, .. }),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(
        text.starts_with("Did you mean A-001? 120 numbers of this range look like"),
        "{text}"
    );
    assert!(text.contains("A1 like A-001, A2 like A-002"), "{text}");
    assert!(text.contains("and 110 more"), "{text}");
    assert_eq!(h.register, before);
    assert_eq!(h.register.similar_lockers(&command(false)).len(), 120);
    // Numbers alike at another site are not near-duplicates here.
    let (other, other_area) = h.site("Southgate Leisure");
    range(&mut h, other, other_area, "A1", "A130");
    // A range clear of the existing numbers is added as before.
    range(&mut h, site, area, "A-121", "A-130");
    // Confirmed, a range with numbers alike is added.
    let mut h3 = Harness::new(47);
    let (s3, a3) = h3.site("Northgate School");
    range(&mut h3, s3, a3, "S001", "S010");
    let err = h3
        .run(Command::AddLockerRange {
            site: s3,
            area: a3,
            from: "S1".into(),
            to: "S20".into(),
            allow_similar: false,
        })
        .unwrap_err();
    assert!(
        matches!(err, CommandError::RangeSimilar { count: 10, .. }),
        "{err:?}"
    );
    h3.ok(Command::AddLockerRange {
        site: s3,
        area: a3,
        from: "S1".into(),
        to: "S20".into(),
        allow_similar: true,
    });
    assert_eq!(h3.register.locker_count(s3), 30);
}

#[test]
fn old_numbers_with_inner_spaces_still_read_and_are_found() {
    // Events stored before numbers were tidied hold "B 7"; they still pass the content check
    // and are found by what people type.
    let mut h = Harness::new(48);
    let (site, area) = h.site("Northgate School");
    let event = h.ok(Command::AddLocker {
        site,
        area,
        number: "B7".into(),
        allow_similar: false,
    });
    let mut old = event.clone();
    if let Change::LockersAdded { lockers, .. } = &mut old.change {
        lockers[0].number = "B 8".into();
        lockers[0].id = LockerId::generate(h.now, &mut SplitMix(99));
    }
    old.id = EventId::generate(h.now, &mut SplitMix(98));
    assert_eq!(old.change.check(), Ok(()));
    h.register.apply(&old);
    assert_eq!(
        h.register.locker_by_number(site, "b8").unwrap().number,
        "B 8"
    );
    assert_eq!(
        h.register.locker_by_number(site, "B 8").unwrap().number,
        "B 8"
    );
    let index = Index::build(&h.register, site, h.today());
    assert_eq!(found(&index, "b8", false), ["B 8"]);
    assert_eq!(found(&index, "b 8", false), ["B 8"]);
}
