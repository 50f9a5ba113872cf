//! The register list's search.

use crate::common::Harness;
use keyward_core::*;

#[test]
fn search_finds_by_number_area_holder_and_tag() {
    let mut h = Harness::new(14);
    let (site, area) = h.site("Northgate School");
    h.ok(Command::AddLockerRange {
        site,
        area,
        from: "A-001".into(),
        to: "A-030".into(),
        allow_similar: false,
    });
    let locker = h.register.locker_by_number(site, "A-012").unwrap().id;
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P77");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let tag = h.register.key(keys[0]).unwrap().tag.clone();
    let index = search::Index::build(&h.register, site, h.today());
    let find = |text: &str| -> Vec<String> {
        index
            .search(
                &search::Query {
                    text: text.into(),
                    ..Default::default()
                },
                100,
            )
            .rows
            .iter()
            .map(|r| r.number.clone())
            .collect()
    };
    assert_eq!(find("a-012"), ["A-012"]);
    assert_eq!(find("a012"), ["A-012"]);
    assert_eq!(find("sam"), ["A-012"]);
    assert_eq!(find("p77"), ["A-012"]);
    assert_eq!(find(&tag.to_string().to_lowercase()), ["A-012"]);
    assert_eq!(find("main corridor").len(), 30);
    // "A-01" is A-001 with a leading zero dropped, so A-001 comes first, then A-010 … A-019.
    assert_eq!(find("a-01").len(), 11);
    assert_eq!(find("A-01")[..2], ["A-001", "A-010"]);
    let hits = index.search(
        &search::Query {
            status: Some(LockerStatus::InUse),
            ..Default::default()
        },
        100,
    );
    assert_eq!(hits.total, 1);
    assert_eq!(index.counts()[&LockerStatus::NoLock], 29);
}
