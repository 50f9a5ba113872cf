//! Audits: scope and walking order, findings and undo, the report (every question answered,
//! nothing else), schedules from policies and term dates, the dashboard's series, and the
//! checks that refuse crafted audit events.

use crate::common::{Harness, Offline};
use chrono::{Duration, NaiveDate, TimeZone, Utc};
use keyward_core::sync::judge;
use keyward_core::*;

pub fn start(h: &mut Harness, site: SiteId, scope: AuditScope) -> AuditId {
    match h.ok(Command::StartAudit { site, scope }).change {
        Change::AuditStarted { audit, .. } => audit,
        c => panic!("{c:?}"),
    }
}

pub fn find(h: &mut Harness, audit: AuditId, locker: LockerId, kind: FindingKind) -> FindingId {
    match h
        .ok(Command::RecordFinding {
            audit,
            locker,
            kind,
            notes: String::new(),
        })
        .change
    {
        Change::AuditFindingRecorded { finding, .. } => finding,
        c => panic!("{c:?}"),
    }
}

fn find_offline(d: &mut Offline, audit: AuditId, locker: LockerId, kind: FindingKind) -> Event {
    d.ok(Command::RecordFinding {
        audit,
        locker,
        kind,
        notes: String::new(),
    })
}

fn lockers(h: &mut Harness, site: SiteId, area: AreaId, numbers: &[&str]) -> Vec<LockerId> {
    numbers.iter().map(|n| h.locker(site, area, n)).collect()
}

fn numbers(r: &Register, audit: &Audit) -> Vec<String> {
    r.audit_lockers(audit)
        .iter()
        .map(|l| l.number.clone())
        .collect()
}

fn area(h: &mut Harness, site: SiteId, name: &str) -> AreaId {
    match h
        .ok(Command::AddArea {
            site,
            name: name.into(),
        })
        .change
    {
        Change::AreaAdded { area, .. } => area,
        c => panic!("{c:?}"),
    }
}

#[test]
fn an_audit_walks_its_lockers_in_number_order_or_the_saved_route() {
    let mut h = Harness::new(301);
    let (site, main) = h.site("Northgate School");
    let ids = lockers(&mut h, site, main, &["A10", "A2", "A1", "B1"]);
    let science = area(&mut h, site, "Science block");
    h.locker(site, science, "S1");

    let whole = start(&mut h, site, AuditScope::Site);
    let a = h.register.audit(whole).unwrap().clone();
    assert_eq!(numbers(&h.register, &a), ["A1", "A2", "A10", "B1", "S1"]);
    // Two auditors share it by area: each sees their area's part.
    let mine = h.register.audit_progress_in(&a, science);
    assert_eq!((mine.done, mine.to_do), (0, 1));
    assert_eq!(mine.lockers[0].locker.number, "S1");
    assert_eq!(h.register.audit_progress(&a).to_do, 5);
    h.ok(Command::CompleteAudit { audit: whole });

    let range = start(
        &mut h,
        site,
        AuditScope::Range {
            area: main,
            from: "a2".into(),
            to: "A 10".into(),
        },
    );
    let a = h.register.audit(range).unwrap().clone();
    assert_eq!(
        a.scope,
        AuditScope::Range {
            area: main,
            from: "A2".into(),
            to: "A10".into()
        }
    );
    assert_eq!(numbers(&h.register, &a), ["A2", "A10"]);
    assert_eq!(
        h.register.scope_words(&a.scope),
        "Main corridor, lockers A2 to A10"
    );
    // A locker outside the range is refused, and it belongs to no open audit.
    let err = h
        .run(Command::RecordFinding {
            audit: range,
            locker: ids[3],
            kind: FindingKind::AsExpected,
            notes: String::new(),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Locker B1 is not in this audit. Open the audit it belongs to, or start one for it."
    );
    assert_eq!(h.register.open_audit_of_locker(ids[3]), None);
    assert_eq!(h.register.open_audit_of_locker(ids[0]).unwrap().id, range);
    // An overlapping audit is refused while this one is open.
    let err = h
        .run(Command::StartAudit {
            site,
            scope: AuditScope::Area { area: main },
        })
        .unwrap_err();
    assert!(
        err.to_string().starts_with(
            "Locker A2 is already in the open audit Pat Caretaker started on 26/11/2026."
        ),
        "{err}"
    );
    // A saved route goes first; the rest follow in number order.
    h.ok(Command::SetAuditRoute {
        area: main,
        lockers: vec![ids[3], ids[0]],
    });
    let a = h.register.audit(range).unwrap().clone();
    assert_eq!(numbers(&h.register, &a), ["A10", "A2"]);
    assert_eq!(h.register.audit_route(main), [ids[3], ids[0]]);
    let err = h
        .run(Command::SetAuditRoute {
            area: main,
            lockers: vec![ids[1], ids[1]],
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Locker A2 is in the route twice. Keep it once."
    );
    // An empty range is refused.
    let err = h
        .run(Command::StartAudit {
            site,
            scope: AuditScope::Range {
                area: science,
                from: "X1".into(),
                to: "X9".into(),
            },
        })
        .unwrap_err();
    assert_eq!(err, CommandError::AuditScopeEmpty);
}

#[test]
fn a_finding_records_what_the_register_expected_and_progress_counts_it() {
    let mut h = Harness::new(302);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    let keys = h.lock_with_keys(a1, 2);
    let a2 = h.locker(site, main, "A2");
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], a1, Holder::Person(sam)));
    let audit = start(&mut h, site, AuditScope::Area { area: main });
    let f = find(&mut h, audit, a1, FindingKind::KeyMissing);
    let finding = h.register.finding(f).unwrap();
    assert_eq!(finding.expected.number, "A1");
    assert_eq!(finding.expected.keys.len(), 2);
    assert_eq!(finding.expected.keys[0].state, KeyState::Issued);
    assert_eq!(finding.expected.keys[0].holder, Some(Holder::Person(sam)));
    assert_eq!(finding.expected.keys[0].holder_name, "Sam Jones");
    assert_eq!(finding.expected.keys[1].state, KeyState::InStore);
    assert_eq!(finding.expected.keys[1].holder_name, "");
    let a = h.register.audit(audit).unwrap();
    let p = h.register.audit_progress(a);
    assert_eq!((p.done, p.to_do, p.issues, p.conflicts), (1, 1, 1, 0));
    assert_eq!(p.lockers[0].current().unwrap().id, f);
    assert_eq!(h.register.next_to_do(a, a1), Some(a2));
    // Re-recording on the same device replaces it: still one finding, no conflict.
    let g = find(&mut h, audit, a1, FindingKind::AsExpected);
    let a = h.register.audit(audit).unwrap();
    let p = h.register.audit_progress(a);
    assert_eq!((p.done, p.to_do, p.issues, p.conflicts), (1, 1, 0, 0));
    assert_eq!(p.lockers[0].current().unwrap().id, g);
    assert_eq!(
        h.register.finding(f).unwrap().ended,
        Some(FindingEnd::Replaced { by: g })
    );
    assert!(h.register.open_conflicts(site).is_empty());
}

#[test]
fn undo_is_a_further_event_and_the_locker_is_to_do_again() {
    let mut h = Harness::new(303);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    let audit = start(&mut h, site, AuditScope::Site);
    let f = find(&mut h, audit, a1, FindingKind::LockerDamaged);
    let events = h.log.len();
    h.ok(Command::UndoFinding { finding: f });
    assert_eq!(h.log.len(), events + 1, "undo is one more event");
    let history: Vec<String> = h
        .register
        .timeline(a1)
        .iter()
        .map(|e| h.register.describe(e))
        .collect();
    assert_eq!(
        history[history.len() - 2..],
        [
            "Audit: Locker damaged",
            "Audit finding taken back: Locker damaged"
        ]
    );
    assert!(matches!(
        h.register.finding(f).unwrap().ended,
        Some(FindingEnd::Undone { .. })
    ));
    let a = h.register.audit(audit).unwrap();
    let p = h.register.audit_progress(a);
    assert_eq!((p.done, p.to_do, p.issues), (0, 1, 0));
    assert_eq!(
        h.run(Command::UndoFinding { finding: f }).unwrap_err(),
        CommandError::FindingEnded
    );
    h.ok(Command::CompleteAudit { audit });
    let report = &h
        .register
        .audit(audit)
        .unwrap()
        .completed
        .as_ref()
        .unwrap()
        .report;
    assert!(
        report.findings.is_empty(),
        "an undone finding is not reported"
    );
    assert_eq!(report.not_checked, ["A1"]);
    // A completed audit takes no more.
    let err = h
        .run(Command::RecordFinding {
            audit,
            locker: a1,
            kind: FindingKind::AsExpected,
            notes: String::new(),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "This audit was completed on 26/11/2026. Start a new audit to record more."
    );
}

#[test]
fn findings_fold_the_same_on_every_device_and_twice() {
    let mut h = Harness::new(304);
    let (site, main) = h.site("Northgate School");
    let ids = lockers(&mut h, site, main, &["A1", "A2", "A3"]);
    h.lock_with_keys(ids[0], 1);
    let audit = start(&mut h, site, AuditScope::Area { area: main });
    let mut kim = h.offline(305, "Kim Auditor");
    let mut lee = h.offline(306, "Lee Auditor");
    find_offline(&mut kim, audit, ids[0], FindingKind::KeyMissing);
    find_offline(&mut lee, audit, ids[1], FindingKind::AsExpected);
    find_offline(&mut lee, audit, ids[2], FindingKind::LabelMissing);
    let mut log = h.log.clone();
    log.extend(kim.log.iter().cloned());
    log.extend(lee.log.iter().cloned());
    log.push(
        h.register
            .execute(
                Command::CompleteAudit { audit },
                &mut Context {
                    actor: "Pat Caretaker".into(),
                    device: h.device,
                    now: h.now + Duration::minutes(5),
                    entropy: &mut SplitMix(7),
                },
            )
            .unwrap(),
    );
    let once = Register::fold(&log);
    let mut twice = once.clone();
    for e in &log {
        twice.apply(e);
    }
    assert_eq!(once, twice, "applying the log again changes nothing");
    // Another tab or device folding the same order gets the same register, report and all.
    let other = Register::fold(&log);
    assert_eq!(once, other);
    let a = once.audit(audit).unwrap();
    let report = &a.completed.as_ref().unwrap().report;
    assert_eq!(report.auditors, ["Kim Auditor", "Lee Auditor"]);
    assert_eq!(report.checked, 3);
    assert_eq!(
        report
            .findings
            .iter()
            .map(|f| (f.number.as_str(), f.words.as_str()))
            .collect::<Vec<_>>(),
        [("A1", "Key missing"), ("A3", "Label missing or unreadable")]
    );
}

#[test]
fn two_auditors_recording_a_locker_differently_is_a_conflict_for_a_person() {
    let mut h = Harness::new(307);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    let audit = start(&mut h, site, AuditScope::Area { area: main });
    let mut kim = h.offline(308, "Kim Auditor");
    let mut lee = h.offline(309, "Lee Auditor");
    let first = find_offline(&mut kim, audit, a1, FindingKind::KeyMissing);
    let later = find_offline(&mut lee, audit, a1, FindingKind::AsExpected);
    h.register.apply(&first);
    h.register.apply(&later);
    h.log.extend([first.clone(), later.clone()]);
    let c = h.register.conflict(later.id).expect("a conflict").clone();
    let (
        Change::AuditFindingRecorded { finding: f1, .. },
        Change::AuditFindingRecorded { finding: f2, .. },
    ) = (&first.change, &later.change)
    else {
        panic!()
    };
    assert_eq!(
        c.kind,
        ConflictKind::AuditFindingsDiffer {
            audit,
            locker: a1,
            finding: *f2,
            standing: *f1
        }
    );
    let text = h.register.describe_conflict(&c);
    assert_eq!(
        text.title,
        "Locker A1 was recorded differently by two auditors"
    );
    assert_eq!(
        text.choices,
        vec![
            (
                Resolution::KeepFirst,
                "“Key missing” (Kim Auditor) is right".to_string()
            ),
            (
                Resolution::KeepLater,
                "“As expected” (Lee Auditor) is right".to_string()
            ),
        ]
    );
    assert_eq!(h.register.open_conflicts_of_locker(a1).len(), 1);
    let a = h.register.audit(audit).unwrap();
    let p = h.register.audit_progress(a);
    assert_eq!((p.done, p.issues, p.conflicts), (1, 1, 1));
    let err = h.run(Command::CompleteAudit { audit }).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Two auditors recorded different findings at A1: decide it in Conflicts, then complete the audit."
    );
    let err = h
        .run(Command::RecordFinding {
            audit,
            locker: a1,
            kind: FindingKind::LockFault,
            notes: String::new(),
        })
        .unwrap_err();
    assert_eq!(
        err,
        CommandError::LockerFindingsDiffer {
            number: "A1".into()
        }
    );
    h.ok(Command::ResolveConflict {
        conflict: later.id,
        choice: Resolution::KeepLater,
        notes: String::new(),
    });
    assert!(matches!(
        h.register.finding(*f1).unwrap().ended,
        Some(FindingEnd::SetAside { .. })
    ));
    let a = h.register.audit(audit).unwrap();
    let p = h.register.audit_progress(a);
    assert_eq!((p.done, p.issues, p.conflicts), (1, 0, 0));
    assert_eq!(p.lockers[0].current().unwrap().id, *f2);
    h.ok(Command::CompleteAudit { audit });
    let report = &h
        .register
        .audit(audit)
        .unwrap()
        .completed
        .as_ref()
        .unwrap()
        .report;
    assert!(report.findings.is_empty());
}

#[test]
fn the_same_finding_from_two_auditors_is_no_conflict() {
    let mut h = Harness::new(310);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    let audit = start(&mut h, site, AuditScope::Area { area: main });
    let mut kim = h.offline(311, "Kim Auditor");
    let mut lee = h.offline(312, "Lee Auditor");
    let first = find_offline(&mut kim, audit, a1, FindingKind::LockFault);
    let later = find_offline(&mut lee, audit, a1, FindingKind::LockFault);
    h.register.apply(&first);
    h.register.apply(&later);
    assert!(h.register.conflicts().is_empty());
    let a = h.register.audit(audit).unwrap();
    assert_eq!(h.register.current_findings(a.id, a1).len(), 1);
}

#[test]
fn a_scan_at_a_locker_says_what_it_means() {
    let mut h = Harness::new(313);
    let (site, main) = h.site("Northgate School");
    let ids = lockers(&mut h, site, main, &["A1", "A2"]);
    let k1 = h.lock_with_keys(ids[0], 1);
    let k2 = h.lock_with_keys(ids[1], 1);
    h.ok(Command::IssueLockerLabels {
        lockers: ids.clone(),
    });
    let audit = start(&mut h, site, AuditScope::Site);
    let a = h.register.audit(audit).unwrap().clone();
    let tag2 = h.register.key(k2[0]).unwrap().tag.clone();
    let tag1 = h.register.key(k1[0]).unwrap().tag.clone();
    // A2's key found at A1: where it belongs.
    let scan = h
        .register
        .audit_scan(&a, ids[0], &format!("https://keys.example/K/{tag2}"));
    let AuditScan::Finding(kind) = scan else {
        panic!("{scan:?}")
    };
    assert_eq!(
        kind.words(),
        format!("Key {tag2} found here; it belongs to locker A2")
    );
    find(&mut h, audit, ids[0], kind);
    // A1's own key at A1 is fine; recording it as at the wrong locker is refused.
    assert_eq!(
        h.register.audit_scan(&a, ids[0], tag1.as_str()),
        AuditScan::OwnKey(k1[0])
    );
    let err = h
        .run(Command::RecordFinding {
            audit,
            locker: ids[0],
            kind: FindingKind::WrongLocker {
                key: k1[0],
                tag: tag1.clone(),
                belongs: ids[1],
                number: "A2".into(),
            },
            notes: String::new(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyBelongsHere { .. }));
    // Another locker's label moves on; an unknown code is recorded as such.
    let label = h.register.locker(ids[1]).unwrap().label.clone().unwrap();
    assert_eq!(
        h.register
            .audit_scan(&a, ids[0], &format!("https://keys.example/L/{label}")),
        AuditScan::Locker(ids[1])
    );
    assert_eq!(
        h.register.audit_scan(&a, ids[1], "SOMETHING ELSE"),
        AuditScan::Finding(FindingKind::UnknownCode {
            code: "SOMETHING ELSE".into()
        })
    );
    // Duplicated keys need a count of two or more.
    let err = h
        .run(Command::RecordFinding {
            audit,
            locker: ids[1],
            kind: FindingKind::DuplicateKeys { found: 1 },
            notes: String::new(),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Enter how many keys of this lock's code you found: from 2 to 99."
    );
}

/// A hand-built register with every kind of discrepancy, and the audit of its main corridor.
struct Built {
    h: Harness,
    site: SiteId,
    main: AreaId,
    audit: AuditId,
    previous: AuditId,
    tags: std::collections::BTreeMap<&'static str, String>,
}

fn fit(h: &mut Harness, locker: LockerId, code: &str, suite: &str) -> LockId {
    match h
        .ok(Command::FitLock {
            locker,
            kind: LockKind::Keyed,
            code: code.into(),
            suite: suite.into(),
        })
        .change
    {
        Change::LockFitted { lock, .. } => lock,
        c => panic!("{c:?}"),
    }
}

fn keys(h: &mut Harness, lock: LockId, kind: KeyKind, count: u32) -> Vec<NewKey> {
    match h
        .ok(Command::AddKeys {
            lock,
            kind,
            count,
            storage: String::new(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys,
        c => panic!("{c:?}"),
    }
}

fn built() -> Built {
    let mut h = Harness::new(320);
    let mut tags = std::collections::BTreeMap::new();
    let (site, main) = h.site("Northgate School");
    let science = area(&mut h, site, "Science block");
    let ids = lockers(
        &mut h,
        site,
        main,
        &[
            "A1", "A2", "A3", "A4", "A5", "A6", "A7", "A8", "A9", "A10", "M1",
        ],
    );
    let [a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, m1] = ids[..] else {
        panic!()
    };
    let s1 = h.locker(site, science, "S1");
    let sam = h.person(site, "Sam Jones", "P1");
    let kim = h.person(site, "Kim Lee", "P2");
    let ola = h.person(site, "Ola Ade", "P3");
    // A1: a key issued to Sam for the term.
    let l1 = fit(&mut h, a1, "K 1", "");
    let k1 = keys(&mut h, l1, KeyKind::User, 2);
    h.ok(h.issue(k1[0].id, a1, Holder::Person(sam)));
    tags.insert("a1", k1[0].tag.to_string());
    tags.insert("a1 spare", k1[1].tag.to_string());
    // A2: nobody's; both keys in store.
    let l2 = fit(&mut h, a2, "K 2", "");
    let k2 = keys(&mut h, l2, KeyKind::User, 2);
    tags.insert("a2", format!("{} {}", k2[0].tag, k2[1].tag));
    // A3: lent to Kim until 10:00 today; Kim has left. Ola held a key here and gave it back.
    let l3 = fit(&mut h, a3, "K 3", "");
    let k3 = keys(&mut h, l3, KeyKind::User, 2);
    h.ok(h.issue(k3[1].id, a3, Holder::Person(ola)));
    h.ok(h.ret(k3[1].id));
    let today = h.today();
    h.ok(h.lend(
        k3[0].id,
        a3,
        Holder::Person(kim),
        today,
        Some(chrono::NaiveTime::from_hms_opt(10, 0, 0).unwrap()),
    ));
    tags.insert("a3", k3[0].tag.to_string());
    h.ok(Command::SetPersonLeft {
        person: kim,
        left: Some(today),
    });
    h.ok(Command::SetPersonLeft {
        person: ola,
        left: Some(today),
    });
    // A4: three faults (the default flag: 3 in 90 days); issued to a department.
    let l4 = fit(&mut h, a4, "K 4", "");
    let k4 = keys(&mut h, l4, KeyKind::User, 1);
    h.ok(h.issue(k4[0].id, a4, Holder::Department("Maths".into())));
    tags.insert("a4", k4[0].tag.to_string());
    for _ in 0..3 {
        h.ok(Command::RecordFault {
            lock: l4,
            kind: FaultKind::Jammed,
            notes: String::new(),
        });
    }
    // A5: two keys lost (repeated losses), the third issued to Sam.
    let l5 = fit(&mut h, a5, "K 5", "");
    let k5 = keys(&mut h, l5, KeyKind::User, 3);
    h.report_lost(k5[0].id, Loss::default());
    h.report_lost(k5[1].id, Loss::default());
    h.ok(h.issue(k5[2].id, a5, Holder::Person(sam)));
    tags.insert("a5", k5[2].tag.to_string());
    // A6: an order placed, the lock changed, then the order received: keys cut to a code no
    // lock has. Issued to Sam on its new lock.
    let l6 = fit(&mut h, a6, "K 6", "");
    keys(&mut h, l6, KeyKind::User, 1);
    let supplier = h.supplier(site, "Timpson");
    let order6 = h.order(supplier, vec![(l6, KeyKind::User, 1)], None);
    let new6 = match h
        .ok(Command::ChangeLock {
            locker: a6,
            kind: LockKind::Keyed,
            code: "K 66".into(),
            suite: String::new(),
            reason: "Worn".into(),
        })
        .change
    {
        Change::LockChanged { lock, .. } => lock,
        c => panic!("{c:?}"),
    };
    h.ok(Command::ReceiveOrder {
        order: order6,
        quantities: vec![1],
    });
    let k6 = keys(&mut h, new6, KeyKind::User, 1);
    h.ok(h.issue(k6[0].id, a6, Holder::Person(sam)));
    tags.insert("a6", k6[0].tag.to_string());
    // A1 again: an order received that counted a key it did not record (a crafted receipt
    // whose key reuses a tag already in the register).
    let order1 = h.order(supplier, vec![(l1, KeyKind::Spare, 1)], None);
    let crafted = Event {
        id: EventId::generate(h.now, &mut SplitMix(321)),
        actor: "Pat Caretaker".into(),
        device: h.device,
        at: h.now,
        change: Change::OrderReceived {
            order: order1,
            lines: vec![ReceivedLine {
                line: 0,
                keys: vec![NewKey {
                    id: KeyId::generate(h.now, &mut SplitMix(322)),
                    copy: 3,
                    tag: k1[1].tag.clone(),
                }],
            }],
        },
    };
    h.register.apply(&crafted);
    h.log.push(crafted);
    // M1: the suite's lock and its two master keys; the second checked in its place earlier.
    let lm = fit(&mut h, m1, "M 1", "Corridor A");
    let masters = keys(&mut h, lm, KeyKind::Master, 2);
    h.ok(Command::DefineSuite {
        site,
        name: "Corridor A".into(),
        check_every_days: 30,
        witness_required: false,
    });
    h.ok(Command::CheckMasterKey {
        tag: masters[1].tag.clone(),
        notes: String::new(),
    });
    tags.insert("m1", masters[0].tag.to_string());
    tags.insert("m2", masters[1].tag.to_string());
    // S1, outside the audit: an overdue loan, a leaver's key, faults; none of it reported.
    let ls = fit(&mut h, s1, "S 1", "");
    let ks = keys(&mut h, ls, KeyKind::User, 1);
    h.ok(h.lend(ks[0].id, s1, Holder::Person(kim), today, None));
    for _ in 0..3 {
        h.ok(Command::RecordFault {
            lock: ls,
            kind: FaultKind::Broken,
            notes: String::new(),
        });
    }

    // The previous audit of the corridor found A2's key missing and A9's label gone.
    let previous = start(&mut h, site, AuditScope::Area { area: main });
    find(&mut h, previous, a2, FindingKind::KeyMissing);
    find(&mut h, previous, a9, FindingKind::LabelMissing);
    h.ok(Command::CompleteAudit { audit: previous });

    // This audit: a finding of every kind, A10 left unchecked, the master keys.
    h.now += Duration::hours(3);
    let audit = start(&mut h, site, AuditScope::Area { area: main });
    find(&mut h, audit, a1, FindingKind::AsExpected);
    find(&mut h, audit, a2, FindingKind::KeyMissing);
    find(&mut h, audit, a3, FindingKind::DuplicateKeys { found: 2 });
    find(&mut h, audit, a4, FindingKind::LockFault);
    let a = h.register.audit(audit).unwrap().clone();
    let AuditScan::Finding(wrong) = h.register.audit_scan(&a, a5, &tags["a1 spare"]) else {
        panic!()
    };
    find(&mut h, audit, a5, wrong);
    find(
        &mut h,
        audit,
        a6,
        FindingKind::UnknownCode {
            code: "=HYPERLINK(1)".into(),
        },
    );
    find(&mut h, audit, a7, FindingKind::UnexpectedKey);
    find(&mut h, audit, a8, FindingKind::LockerDamaged);
    find(&mut h, audit, a9, FindingKind::LabelMissing);
    find(&mut h, audit, m1, FindingKind::AsExpected);
    let _ = a10;
    h.ok(Command::CheckAuditMaster {
        audit,
        key: masters[0].id,
        seen: true,
        notes: String::new(),
    });
    h.ok(Command::CheckAuditMaster {
        audit,
        key: masters[1].id,
        seen: false,
        notes: "Hook empty".into(),
    });
    h.ok(Command::CompleteAudit { audit });
    Built {
        h,
        site,
        main,
        audit,
        previous,
        tags,
    }
}

#[test]
fn the_report_answers_every_question_and_nothing_else() {
    let b = built();
    let r = &b.h.register;
    let a = r.audit(b.audit).unwrap();
    let done = a.completed.as_ref().unwrap();
    let report = &done.report;
    let t = |k: &str| b.tags[k].clone();
    assert_eq!(report.site_name, "Northgate School");
    assert_eq!(report.scope, "Main corridor");
    assert_eq!(report.auditors, ["Pat Caretaker"]);
    assert_eq!((report.lockers, report.checked), (11, 10));
    assert_eq!(report.not_checked, ["A10"]);
    let findings: Vec<(&str, String)> = report
        .findings
        .iter()
        .map(|f| (f.number.as_str(), f.words.clone()))
        .collect();
    assert_eq!(
        findings,
        [
            ("A2", "Key missing".to_string()),
            ("A3", "2 keys of this lock's code found".to_string()),
            ("A4", "Lock fault".to_string()),
            (
                "A5",
                format!("Key {} found here; it belongs to locker A1", t("a1 spare"))
            ),
            ("A6", "Unknown code scanned: =HYPERLINK(1)".to_string()),
            ("A7", "Unexpected key or tag".to_string()),
            ("A8", "Locker damaged".to_string()),
            ("A9", "Label missing or unreadable".to_string()),
        ]
    );
    // Keys issued: every key out at a locker in scope, with its holder.
    let issued: Vec<(&str, &str, &str, &str)> = report
        .keys_issued
        .iter()
        .map(|k| {
            (
                k.number.as_str(),
                k.tag.as_str(),
                k.holder.as_str(),
                k.due.as_str(),
            )
        })
        .collect();
    assert_eq!(
        issued,
        [
            ("A1", t("a1").as_str(), "Sam Jones", ""),
            ("A3", t("a3").as_str(), "Kim Lee", "26/11/2026 10:00"),
            ("A4", t("a4").as_str(), "Maths", ""),
            ("A5", t("a5").as_str(), "Sam Jones", ""),
            ("A6", t("a6").as_str(), "Sam Jones", ""),
        ]
    );
    // Keys missing: A2, with the two keys the register had in store there.
    assert_eq!(report.keys_missing.len(), 1);
    assert_eq!(report.keys_missing[0].number, "A2");
    assert_eq!(report.keys_missing[0].tags.join(" "), t("a2"));
    // Lockers with a lock, in service, nobody's: A2 and the master-key locker M1 (A7 to A10
    // have no lock).
    assert_eq!(report.unassigned, ["A2", "M1"]);
    // Every master key: the first seen now, the second not seen (last seen at its check).
    let masters: Vec<(&str, Option<bool>, bool)> = report
        .master_keys
        .iter()
        .map(|m| (m.tag.as_str(), m.seen_in_audit, m.last_seen.is_some()))
        .collect();
    let mut expected = [(t("m1"), Some(true), true), (t("m2"), Some(false), true)];
    expected.sort();
    assert_eq!(
        masters,
        expected
            .iter()
            .map(|(t, s, l)| (t.as_str(), *s, *l))
            .collect::<Vec<_>>()
    );
    let m2 = report
        .master_keys
        .iter()
        .find(|m| m.tag == t("m2"))
        .unwrap();
    let m1 = report
        .master_keys
        .iter()
        .find(|m| m.tag == t("m1"))
        .unwrap();
    assert!(
        m2.last_seen < m1.last_seen,
        "m2 was last seen at its presence check"
    );
    assert!(report.master_keys.iter().all(|m| m.suite == "Corridor A"));
    // Repeated problems: A4's faults, A5's losses; nothing of S1.
    let problems: Vec<(&str, usize, usize)> = report
        .repeated_problems
        .iter()
        .map(|p| (p.number.as_str(), p.recent_faults, p.losses))
        .collect();
    assert_eq!(problems, [("A4", 3, 0), ("A5", 0, 2)]);
    // Replacement keys that do not match: A1's receipt without its key, A6's keys cut to the
    // old code.
    let mismatches: Vec<(&str, String)> = report
        .mismatches
        .iter()
        .map(|m| (m.number.as_str(), m.words.clone()))
        .collect();
    assert_eq!(
        mismatches,
        [
            (
                "A6",
                "Order of 26/11/2026: 1 keys cut to a code no lock has now (the lock was changed)"
                    .to_string()
            ),
            (
                "A1",
                "Order of 26/11/2026: 1 keys received but 0 recorded in the register".to_string()
            ),
        ]
    );
    // Leavers still holding keys here: Kim (Ola gave hers back; Kim's S1 key is out of scope).
    assert_eq!(report.leavers.len(), 1);
    assert_eq!(report.leavers[0].name, "Kim Lee");
    assert_eq!(report.leavers[0].keys, [format!("{} (A3)", t("a3"))]);
    // Overdue: A3's loan, due at 10:00 (S1's is out of scope).
    assert_eq!(report.overdue.len(), 1);
    assert_eq!(report.overdue[0].number, "A3");
    assert_eq!(report.overdue[0].due, "26/11/2026 10:00");
    // What changed since the previous audit of the corridor.
    let changes = report.changes.as_ref().unwrap();
    assert_eq!(changes.previous, b.previous);
    let words = |l: &[ReportChange]| -> Vec<(String, String)> {
        l.iter()
            .map(|c| (c.number.clone(), c.words.clone()))
            .collect()
    };
    assert_eq!(
        words(&changes.still),
        [
            ("A2".to_string(), "Key missing".to_string()),
            ("A9".to_string(), "Label missing or unreadable".to_string())
        ]
    );
    assert!(changes.gone.is_empty());
    assert_eq!(
        words(&changes.new)
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>(),
        ["A3", "A4", "A5", "A6", "A7", "A8"]
    );
    // The previous audit's report had no earlier one to compare with.
    let prev = &r
        .audit(b.previous)
        .unwrap()
        .completed
        .as_ref()
        .unwrap()
        .report;
    assert_eq!(prev.changes, None);
    let _ = (b.site, b.main);
}

#[test]
fn the_report_reads_the_same_later() {
    let mut b = built();
    let report =
        b.h.register
            .audit(b.audit)
            .unwrap()
            .completed
            .clone()
            .unwrap()
            .report;
    // Later: Sam renamed, the A1 key returned, the A3 loan returned.
    let sam = b.h.register.find_people(b.site, "Sam Jones")[0].id;
    b.h.ok(Command::EditPerson {
        person: sam,
        details: PersonDetails {
            name: "Sam Jones-Smith".into(),
            kind: PersonKind::Pupil,
            reference: "P1".into(),
            department: String::new(),
        },
    });
    let a1 = b.h.register.locker_by_number(b.site, "A1").unwrap().id;
    let key = b.h.register.keys_of_locker(a1)[0].id;
    b.h.ok(b.h.ret(key));
    let again =
        &b.h.register
            .audit(b.audit)
            .unwrap()
            .completed
            .as_ref()
            .unwrap()
            .report;
    assert_eq!(*again, report);
    assert_eq!(Register::fold(&b.h.log), b.h.register);
}

#[test]
fn the_report_as_csv_has_uk_dates_and_no_formulas() {
    let b = built();
    let report =
        &b.h.register
            .audit(b.audit)
            .unwrap()
            .completed
            .as_ref()
            .unwrap()
            .report;
    let csv = report.csv();
    let lines: Vec<&str> = csv.split("\r\n").collect();
    assert_eq!(lines[0], "Section,Locker,Key,Person,Date,Detail");
    assert_eq!(lines[1], "Site,,,,,Northgate School");
    assert_eq!(lines[2], "Scope,,,,,Main corridor");
    assert!(
        lines[3].starts_with("Started,,,,,26/11/2026 "),
        "{}",
        lines[3]
    );
    assert!(csv.contains("Not checked,A10,,,,\r\n"));
    assert!(csv.contains("Finding,A6,,Pat Caretaker,"));
    assert!(csv.contains(",Unknown code scanned: =HYPERLINK(1)\r\n"));
    assert!(!csv.contains(",=HYPERLINK"), "no cell starts with =");
    assert!(csv.contains(&format!(
        "Key issued,A3,{},Kim Lee,26/11/2026,Due back 26/11/2026 10:00",
        b.tags["a3"]
    )));
    assert!(csv.contains("No assigned user,A2,,,,\r\n"));
    assert!(csv.contains(&format!(
        "Left but holds keys,,{} (A3),Kim Lee,26/11/2026,",
        b.tags["a3"]
    )));
    assert!(csv.contains("Repeated problems,A4,,,,3 recent faults; 0 lost keys"));
    assert!(csv.contains("Still found,A2,"));
    assert_eq!(lines.last(), Some(&""), "ends with a line break");
}

fn completed_on(h: &mut Harness, site: SiteId, scope: AuditScope, day: NaiveDate) -> AuditId {
    h.now = Utc.from_utc_datetime(&day.and_hms_opt(9, 0, 0).unwrap());
    let audit = start(h, site, scope);
    h.ok(Command::CompleteAudit { audit });
    audit
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn set_interval(h: &mut Harness, area: AreaId, interval: AuditInterval) {
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            audit: Some(interval),
            ..Default::default()
        },
        clear: vec![],
    });
}

#[test]
fn audits_fall_due_by_each_areas_policy() {
    let mut h = Harness::new(330);
    let (site, main) = h.site("Northgate School");
    h.locker(site, main, "A1");
    let monthly = area(&mut h, site, "Monthly block");
    h.locker(site, monthly, "B1");
    let quarterly = area(&mut h, site, "Quarterly block");
    h.locker(site, quarterly, "C1");
    let fortnight = area(&mut h, site, "Fortnightly block");
    h.locker(site, fortnight, "D1");
    let never = area(&mut h, site, "New block");
    h.locker(site, never, "E1");
    set_interval(&mut h, monthly, AuditInterval::Monthly);
    set_interval(&mut h, quarterly, AuditInterval::Quarterly);
    set_interval(&mut h, fortnight, AuditInterval::EveryDays(14));
    set_interval(&mut h, main, AuditInterval::Monthly);
    for a in [monthly, quarterly, fortnight] {
        completed_on(&mut h, site, AuditScope::Area { area: a }, day(2026, 10, 1));
    }
    // A range does not count as auditing the area.
    completed_on(
        &mut h,
        site,
        AuditScope::Range {
            area: main,
            from: "A1".into(),
            to: "A1".into(),
        },
        day(2026, 10, 1),
    );
    let due = h.register.audits_due(site, day(2026, 10, 25));
    let state = |name: &str| due.iter().find(|d| d.name == name).unwrap().state.clone();
    assert_eq!(
        state("Monthly block"),
        DueState::Due {
            by: day(2026, 11, 1)
        }
    );
    assert_eq!(
        state("Quarterly block"),
        DueState::NotDue {
            next: Some(day(2027, 1, 1))
        }
    );
    assert_eq!(
        state("Fortnightly block"),
        DueState::Late {
            since: day(2026, 10, 15)
        }
    );
    assert_eq!(state("New block"), DueState::Never);
    assert_eq!(state("Main corridor"), DueState::Never);
    assert_eq!(state("Fortnightly block").words(), "Late since 15/10/2026");
    // A whole-site audit covers every area.
    completed_on(&mut h, site, AuditScope::Site, day(2026, 10, 26));
    let due = h.register.audits_due(site, day(2026, 10, 27));
    let states: Vec<(&str, DueState)> = due
        .iter()
        .map(|d| (d.name.as_str(), d.state.clone()))
        .collect();
    assert_eq!(
        states,
        [
            (
                "Fortnightly block",
                DueState::Due {
                    by: day(2026, 11, 9)
                }
            ),
            (
                "Main corridor",
                DueState::NotDue {
                    next: Some(day(2026, 11, 26))
                }
            ),
            (
                "Monthly block",
                DueState::NotDue {
                    next: Some(day(2026, 11, 26))
                }
            ),
            // Termly by default, and the site has set no term dates.
            ("New block", DueState::NoTermDates),
            (
                "Quarterly block",
                DueState::NotDue {
                    next: Some(day(2027, 1, 26))
                }
            ),
        ]
    );
    let needed: Vec<String> = h
        .register
        .audits_needed(site, day(2026, 10, 27))
        .into_iter()
        .map(|d| d.name)
        .collect();
    assert_eq!(needed, ["Fortnightly block", "New block"]);
}

#[test]
fn termly_audits_follow_the_sites_term_dates_and_say_when_there_are_none() {
    let mut h = Harness::new(331);
    let (site, main) = h.site("Northgate School");
    h.locker(site, main, "A1");
    completed_on(&mut h, site, AuditScope::Site, day(2026, 9, 10));
    let state = |h: &Harness, today| h.register.audits_due(site, today)[0].state.clone();
    assert_eq!(state(&h, day(2026, 11, 1)), DueState::NoTermDates);
    assert_eq!(
        state(&h, day(2026, 11, 1)).words(),
        "Termly audits need the site's term dates: set them in Set-up"
    );
    let term = |name: &str, start, end| Term {
        name: name.into(),
        start,
        end,
    };
    h.ok(Command::SetTermDates {
        site,
        terms: vec![
            term("Spring 2027", day(2027, 1, 5), day(2027, 3, 26)),
            term("Autumn 2026", day(2026, 9, 3), day(2026, 12, 18)),
        ],
    });
    assert_eq!(
        h.register.term_dates(site)[0].name,
        "Autumn 2026",
        "kept in date order"
    );
    // Audited this term: next due by the end of the next.
    assert_eq!(
        state(&h, day(2026, 11, 1)),
        DueState::NotDue {
            next: Some(day(2027, 3, 26))
        }
    );
    // In the spring term with no audit since it began: due by its end.
    assert_eq!(
        state(&h, day(2027, 2, 1)),
        DueState::Due {
            by: day(2027, 3, 26)
        }
    );
    // After the spring term ended without an audit: late.
    assert_eq!(
        state(&h, day(2027, 4, 2)),
        DueState::Late {
            since: day(2027, 3, 26)
        }
    );
    // Overlapping terms are refused.
    let err = h
        .run(Command::SetTermDates {
            site,
            terms: vec![
                term("Autumn 2026", day(2026, 9, 3), day(2026, 12, 18)),
                term("Winter", day(2026, 12, 1), day(2027, 1, 10)),
            ],
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Autumn 2026 and Winter overlap. Check their dates."
    );
}

#[test]
fn an_audit_is_suggested_when_three_people_with_keys_in_an_area_leave_within_30_days() {
    let mut h = Harness::new(332);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    let keys = h.lock_with_keys(a1, 4);
    let people: Vec<PersonId> = ["Ann", "Ben", "Cat", "Dan"]
        .iter()
        .enumerate()
        .map(|(i, n)| h.person(site, n, &format!("S{i}")))
        .collect();
    for (k, p) in keys.iter().zip(&people) {
        h.ok(h.issue(*k, a1, Holder::Person(*p)));
    }
    let today = h.today();
    for p in &people[..2] {
        h.ok(Command::SetPersonLeft {
            person: *p,
            left: Some(today),
        });
    }
    // Dan left long ago: not counted.
    h.ok(Command::SetPersonLeft {
        person: people[3],
        left: Some(today - chrono::Days::new(60)),
    });
    let due = &h.register.audits_due(site, today)[0];
    assert_eq!((due.leavers.len(), due.suggested), (2, false));
    h.ok(Command::SetPersonLeft {
        person: people[2],
        left: Some(today),
    });
    let due = &h.register.audits_due(site, today)[0];
    assert_eq!((due.leavers.len(), due.suggested), (3, true));
    assert_eq!(h.register.audits_needed(site, today).len(), 1);
    // Thirty-one days on, they no longer count.
    let later = h.register.audits_due(site, today + chrono::Days::new(31));
    assert!(!later[0].suggested);
    let err = h
        .run(Command::SetPersonLeft {
            person: people[2],
            left: Some(today),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Cat is already recorded so. Nothing was changed."
    );
}

#[test]
fn the_dashboard_series_come_from_the_register() {
    let mut h = Harness::new(333);
    let (site, main) = h.site("Northgate School");
    let science = area(&mut h, site, "Science block");
    let a1 = h.locker(site, main, "A1");
    let s1 = h.locker(site, science, "S1");
    let ka = h.lock_with_keys(a1, 3);
    let ks = h.lock_with_keys(s1, 1);
    let sam = h.person(site, "Sam Jones", "P1");
    // Lost keys: one in September, two in November.
    h.now = Utc.with_ymd_and_hms(2026, 9, 15, 9, 0, 0).unwrap();
    h.report_lost(ka[0], Loss::default());
    h.now = Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap();
    h.report_lost(ka[1], Loss::default());
    h.report_lost(ks[0], Loss::default());
    let months = h.register.lost_keys_per_month(site, day(2026, 11, 26));
    assert_eq!(months.len(), 12);
    assert_eq!(months[0].label, "Dec 2025");
    assert_eq!(months[11].label, "Nov 2026");
    let counts: Vec<usize> = months.iter().map(|m| m.count).collect();
    assert_eq!(counts, [0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]);
    // Faults per area, every area.
    let lock = h.register.locker(a1).unwrap().lock.unwrap();
    h.ok(Command::RecordFault {
        lock,
        kind: FaultKind::Jammed,
        notes: String::new(),
    });
    let faults = h
        .register
        .faults_per_area(site, Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap());
    let faults: Vec<(&str, usize)> = faults.iter().map(|a| (a.name.as_str(), a.count)).collect();
    assert_eq!(faults, [("Main corridor", 1), ("Science block", 0)]);
    // Overdue loans over time: lent on Friday 20/11 due Monday 23/11, returned Thursday 3/12.
    h.ok(h.lend(ka[2], a1, Holder::Person(sam), day(2026, 11, 23), None));
    h.now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
    h.ok(h.ret(ka[2]));
    let weeks = h.register.overdue_over_time(site, day(2026, 12, 9), 4);
    let weeks: Vec<(String, usize)> = weeks.iter().map(|w| (w.label.clone(), w.count)).collect();
    assert_eq!(
        weeks,
        [
            ("w/e 22/11/2026".to_string(), 0),
            ("w/e 29/11/2026".to_string(), 1),
            ("w/e 06/12/2026".to_string(), 0),
            ("w/e 13/12/2026".to_string(), 0),
        ]
    );
    // Audit completion per area.
    completed_on(
        &mut h,
        site,
        AuditScope::Area { area: main },
        day(2026, 12, 4),
    );
    let completion = h.register.audit_completion(site, day(2026, 12, 5));
    assert_eq!(completion[0].name, "Main corridor");
    assert!(completion[0].last.is_some());
    assert_eq!(completion[1].state, DueState::Never);
    assert!(!completion[1].on_time);
}

#[test]
fn auditors_audit_but_a_viewer_may_not() {
    let mut h = Harness::new(334);
    let (site, main) = h.site("Northgate School");
    h.locker(site, main, "A1");
    let event = h
        .register
        .execute(
            Command::StartAudit {
                site,
                scope: AuditScope::Site,
            },
            &mut Context {
                actor: "Ada Auditor".into(),
                device: h.device,
                now: h.now,
                entropy: &mut SplitMix(3),
            },
        )
        .unwrap();
    assert_eq!(
        judge(&h.register, site, h.device, Role::Auditor, &event),
        Ok(false)
    );
    assert!(judge(&h.register, site, h.device, Role::Viewer, &event).is_err());
    assert!(judge(&h.register, site, h.device, Role::Staff, &event).is_err());
}

#[test]
fn crafted_audit_events_are_refused_by_the_content_checks() {
    let mut h = Harness::new(335);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    h.lock_with_keys(a1, 1);
    let audit = start(&mut h, site, AuditScope::Site);
    let good = match h
        .ok(Command::RecordFinding {
            audit,
            locker: a1,
            kind: FindingKind::AsExpected,
            notes: String::new(),
        })
        .change
    {
        c @ Change::AuditFindingRecorded { .. } => c,
        c => panic!("{c:?}"),
    };
    let bent = |f: &dyn Fn(&mut Change)| {
        let mut c = good.clone();
        f(&mut c);
        let event = Event {
            id: EventId::generate(h.now, &mut SplitMix(9)),
            actor: "Pat Caretaker".into(),
            device: h.device,
            at: h.now,
            change: c,
        };
        assert!(event.check().is_err(), "{:?}", event.change);
        judge(&h.register, site, h.device, Role::Admin, &event).unwrap_err()
    };
    bent(&|c| {
        if let Change::AuditFindingRecorded {
            finding, replaces, ..
        } = c
        {
            *replaces = Some(*finding);
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { kind, .. } = c {
            *kind = FindingKind::DuplicateKeys { found: 1 };
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { kind, .. } = c {
            *kind = FindingKind::UnknownCode {
                code: String::new(),
            };
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { kind, .. } = c {
            *kind = FindingKind::UnknownCode {
                code: "x".repeat(10_000),
            };
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { expected, .. } = c {
            expected.number = "<b>a1</b>".into();
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { expected, .. } = c {
            expected.keys[0].tag = TagId("bad tag".into());
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { expected, .. } = c {
            expected.keys[0].holder_name = "Somebody".into();
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { expected, .. } = c {
            let k = expected.keys[0].clone();
            expected.keys = vec![k; 501];
        }
    });
    bent(&|c| {
        if let Change::AuditFindingRecorded { notes, .. } = c {
            *notes = "n".repeat(checks::MAX_NOTES + 1);
        }
    });
    let crafted = |change: Change| {
        let event = Event {
            id: EventId::generate(h.now, &mut SplitMix(10)),
            actor: "Pat Caretaker".into(),
            device: h.device,
            at: h.now,
            change,
        };
        judge(&h.register, site, h.device, Role::Admin, &event).unwrap_err()
    };
    crafted(Change::AuditStarted {
        audit: AuditId::generate(h.now, &mut SplitMix(11)),
        site,
        scope: AuditScope::Range {
            area: main,
            from: "A9".into(),
            to: "A1".into(),
        },
    });
    crafted(Change::AuditStarted {
        audit: AuditId::generate(h.now, &mut SplitMix(12)),
        site,
        scope: AuditScope::Range {
            area: main,
            from: "a1".into(),
            to: "A9".into(),
        },
    });
    crafted(Change::AuditRouteSet {
        area: main,
        lockers: vec![a1, a1],
    });
    crafted(Change::AuditRouteSet {
        area: main,
        lockers: vec![],
    });
    crafted(Change::AuditMasterChecked {
        audit,
        key: KeyId::generate(h.now, &mut SplitMix(13)),
        seen: true,
        notes: " padded ".into(),
    });
    let term = |name: &str, start, end| Term {
        name: name.into(),
        start,
        end,
    };
    crafted(Change::TermDatesSet {
        site,
        terms: vec![term("Autumn", day(2026, 12, 1), day(2026, 9, 1))],
    });
    crafted(Change::TermDatesSet {
        site,
        terms: vec![
            term("Spring", day(2027, 1, 5), day(2027, 3, 1)),
            term("Autumn", day(2026, 9, 1), day(2026, 12, 1)),
        ],
    });
    crafted(Change::TermDatesSet {
        site,
        terms: vec![term("", day(2026, 9, 1), day(2026, 12, 1))],
    });
    // Every event the audit made passes.
    for e in &h.log {
        e.check().unwrap();
    }
}

#[test]
fn an_audit_or_finding_in_a_file_of_unsynced_changes_is_not_recorded_twice() {
    let mut h = Harness::new(336);
    let (site, main) = h.site("Northgate School");
    let a1 = h.locker(site, main, "A1");
    let started = h.ok(Command::StartAudit {
        site,
        scope: AuditScope::Site,
    });
    let audit = match &started.change {
        Change::AuditStarted { audit, .. } => *audit,
        c => panic!("{c:?}"),
    };
    let found = h.ok(Command::RecordFinding {
        audit,
        locker: a1,
        kind: FindingKind::KeyMissing,
        notes: String::new(),
    });
    for saved in [started, found] {
        assert_eq!(
            h.run(Command::RecordAgain {
                change: saved.change
            })
            .unwrap_err(),
            CommandError::AlreadyRecorded
        );
    }
}

/// The report of a whole-site audit made now.
fn report_now(h: &mut Harness, site: SiteId) -> AuditReport {
    let audit = start(h, site, AuditScope::Site);
    h.ok(Command::CompleteAudit { audit });
    h.register
        .audit(audit)
        .unwrap()
        .completed
        .clone()
        .unwrap()
        .report
}

#[test]
fn copies_added_without_an_order_are_a_mismatch_where_the_policy_asks_for_orders() {
    let mut h = Harness::new(77);
    let (site, area) = h.site("Northgate School");
    let (copied, ordered) = (h.locker(site, area, "A1"), h.locker(site, area, "A2"));
    let first = h.lock_with_keys(copied, 1);
    let lock = h.register.key(first[0]).unwrap().lock;
    // A second key added by hand is a copy; the first keys of a lock are not.
    let copy = keys(&mut h, lock, KeyKind::User, 1);
    let copy_tag = copy[0].tag.to_string();
    assert!(h.register.unordered_copy(first[0]).is_none());
    assert!(h.register.unordered_copy(copy[0].id).is_some());
    // Copies that came by a replacement order are not.
    let other = h.lock_with_keys(ordered, 1);
    let other_lock = h.register.key(other[0]).unwrap().lock;
    let supplier = h.supplier(site, "Keys R Us");
    let order = h.order(supplier, vec![(other_lock, KeyKind::User, 1)], None);
    h.ok(Command::ReceiveOrder {
        order,
        quantities: vec![1],
    });
    let mismatches = |r: &AuditReport| -> Vec<String> {
        r.mismatches
            .iter()
            .map(|m| format!("{}: {}", m.number, m.words))
            .collect()
    };

    // No such policy: nothing to report.
    assert_eq!(mismatches(&report_now(&mut h, site)), Vec::<String>::new());

    // The area asks for orders: the copy added by hand is reported, once.
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            copies_need_order: Some(true),
            ..Default::default()
        },
        clear: vec![],
    });
    assert!(h.register.policy_for_locker(copied).copies_need_order);
    let today = keyward_core::format::uk_date(h.today());
    assert_eq!(
        mismatches(&report_now(&mut h, site)),
        [format!(
            "A1: Key {copy_tag} added as a copy on {today} with no replacement order; this area's policy asks for one"
        )]
    );
    // The policy set aside again: not reported.
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides::default(),
        clear: vec![PolicyField::CopiesNeedOrder],
    });
    assert!(mismatches(&report_now(&mut h, site)).is_empty());
}
