//! Conflicts between offline devices: one test per kind and per decision. Two devices copy the
//! same register, each records a fact offline, and the site's one global order puts one of the
//! facts first: the later one gets the conflict, whichever it is.

mod common;

use common::{Harness, Offline};
use keyward_core::format::uk_date;
use keyward_core::*;

struct Base {
    h: Harness,
    site: SiteId,
    area: AreaId,
    /// Locker C3, a keyed lock and two user keys.
    locker: LockerId,
    keys: Vec<KeyId>,
    /// Locker E1, no lock yet.
    bare: LockerId,
    sam: PersonId,
    alex: PersonId,
}

fn base(seed: u64) -> Base {
    let mut h = Harness::new(seed);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C3");
    let keys = h.lock_with_keys(locker, 2);
    let bare = h.locker(site, area, "E1");
    let sam = h.person(site, "Sam Jones", "P100");
    let alex = h.person(site, "Alex Smith", "P101");
    Base {
        h,
        site,
        area,
        locker,
        keys,
        bare,
        sam,
        alex,
    }
}

impl Base {
    /// Pat's and Jo's devices, both offline with a copy of the base register.
    fn two_devices(&self) -> (Offline, Offline) {
        (
            self.h.offline(101, "Pat Caretaker"),
            self.h.offline(102, "Jo Office"),
        )
    }

    /// The global order: the base log, then `first`, then `later`.
    fn merged<'a>(
        &self,
        first: impl IntoIterator<Item = &'a Event>,
        later: impl IntoIterator<Item = &'a Event>,
    ) -> Vec<Event> {
        let mut log = self.h.log.clone();
        log.extend(first.into_iter().chain(later).cloned());
        log
    }

    fn tag(&self, key: KeyId) -> String {
        self.h.register.key(key).unwrap().tag.to_string()
    }
}

/// A device that has synced `log` and decides something.
fn device(log: &[Event], seed: u64, actor: &str) -> Offline {
    let now = log.last().unwrap().at + chrono::Duration::minutes(5);
    Offline::from_register(&Register::fold(log), now, seed, actor)
}

fn decide(conflict: EventId, choice: Resolution, notes: &str) -> Command {
    Command::ResolveConflict {
        conflict,
        choice,
        notes: notes.into(),
    }
}

fn loan_of(event: &Event) -> LoanId {
    match &event.change {
        Change::KeyIssued { loan, .. } => *loan,
        c => panic!("not an issue: {c:?}"),
    }
}

fn lock_of(event: &Event) -> LockId {
    match &event.change {
        Change::LockFitted { lock, .. } => *lock,
        c => panic!("not a lock: {c:?}"),
    }
}

fn timeline(r: &Register, locker: LockerId) -> Vec<String> {
    r.timeline(locker).iter().map(|e| r.describe(e)).collect()
}

fn closed_note(r: &Register, loan: LoanId) -> String {
    r.loan(loan)
        .unwrap()
        .returned
        .as_ref()
        .expect("the loan was closed")
        .notes
        .clone()
}

/// The site's conflicts waiting for a decision.
fn open(r: &Register, site: SiteId) -> Vec<EventId> {
    r.open_conflicts(site).iter().map(|c| c.event).collect()
}

// ----- a key issued twice -----

/// Pat issues key 1 to Sam and Jo issues it to Alex, both offline; Pat's reaches the server
/// first.
fn issued_twice() -> (Base, Vec<Event>, Event, Event) {
    let b = base(1);
    let (mut pat, mut jo) = b.two_devices();
    let first = pat.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let later = jo.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.alex)));
    let log = b.merged([&first], [&later]);
    (b, log, first, later)
}

#[test]
fn a_key_issued_on_two_devices_conflicts_on_the_later_issue_in_either_order() {
    let (b, _, pat, jo) = issued_twice();
    let key = b.keys[0];
    let tag = b.tag(key);
    for (first, later, holder, other) in [
        (&pat, &jo, "Sam Jones", "Alex Smith"),
        (&jo, &pat, "Alex Smith", "Sam Jones"),
    ] {
        let r = Register::fold(&b.merged([first], [later]));
        assert!(r.conflict(first.id).is_none(), "the first fact stands");
        let c = r.conflict(later.id).expect("the later issue conflicts");
        assert_eq!(
            c.kind,
            ConflictKind::KeyNotInStore {
                key,
                loan: loan_of(later),
                standing: Some(loan_of(first)),
            }
        );
        assert_eq!(
            (c.actor.as_str(), c.device),
            (later.actor.as_str(), later.device)
        );
        assert_eq!(c.decision, None);
        // The key stays with the first holder; the later loan is kept as a record.
        let k = r.key(key).unwrap();
        assert_eq!((k.state, k.loan), (KeyState::Issued, Some(loan_of(first))));
        assert!(r.loan(loan_of(later)).unwrap().returned.is_none());
        assert_eq!(r.holders_of(b.locker), [holder]);

        let text = r.describe_conflict(c);
        assert_eq!(text.title, format!("Key {tag} was issued twice"));
        assert!(
            text.detail.contains(holder) && text.detail.contains(other),
            "{}",
            text.detail
        );
        assert_eq!(
            text.choices,
            [
                (
                    Resolution::KeepFirst,
                    format!("{holder} has the key: cancel the issue to {other}")
                ),
                (
                    Resolution::KeepLater,
                    format!("{other} has the key: close the loan to {holder}")
                ),
            ]
        );
        assert_eq!(open(&r, b.site), [later.id]);
        assert!(timeline(&r, b.locker).contains(&format!("Conflict: Key {tag} was issued twice")));
    }
}

#[test]
fn keep_first_cancels_the_later_issue() {
    let (b, log, first, later) = issued_twice();
    let mut kim = device(&log, 21, "Kim Admin");
    let decision = kim.ok(decide(later.id, Resolution::KeepFirst, "Sam has it"));
    let r = &kim.register;
    let k = r.key(b.keys[0]).unwrap();
    assert_eq!((k.state, k.loan), (KeyState::Issued, Some(loan_of(&first))));
    assert!(r.loan(loan_of(&first)).unwrap().returned.is_none());
    let closed = r.loan(loan_of(&later)).unwrap().returned.clone().unwrap();
    assert_eq!(
        closed.notes,
        "Closed when Kim Admin decided a conflict: Sam has it"
    );
    assert_eq!(closed.received_by, "Kim Admin");
    assert_eq!(closed.condition, Condition::Fine);
    let d = r.conflict(later.id).unwrap().decision.clone().unwrap();
    assert_eq!(
        (d.choice, d.notes.as_str(), d.by.as_str(), d.event),
        (
            Resolution::KeepFirst,
            "Sam has it",
            "Kim Admin",
            decision.id
        )
    );
    assert!(open(r, b.site).is_empty());
    assert_eq!(r.holders_of(b.locker), ["Sam Jones"]);
    let tag = b.tag(b.keys[0]);
    let lines = timeline(r, b.locker);
    assert!(lines.contains(&format!("Conflict: Key {tag} was issued twice")));
    assert_eq!(
        lines.last().unwrap(),
        &format!(
            "Conflict decided (Key {tag} was issued twice): Sam Jones has the key: cancel the \
             issue to Alex Smith. Notes: Sam has it"
        )
    );

    // Deciding again is refused, naming who decided and when.
    let before = kim.register.clone();
    let err = kim
        .run(decide(later.id, Resolution::KeepLater, ""))
        .unwrap_err();
    assert_eq!(
        err,
        CommandError::ConflictDecided {
            by: "Kim Admin".into(),
            on: uk_date(decision.at.date_naive()),
        }
    );
    assert!(err
        .to_string()
        .starts_with("Kim Admin already decided this conflict on "));
    assert_eq!(kim.register, before);
}

#[test]
fn keep_later_gives_the_key_to_the_later_holder() {
    let (b, log, first, later) = issued_twice();
    let mut kim = device(&log, 21, "Kim Admin");
    kim.ok(decide(later.id, Resolution::KeepLater, ""));
    let r = &kim.register;
    let k = r.key(b.keys[0]).unwrap();
    assert_eq!((k.state, k.loan), (KeyState::Issued, Some(loan_of(&later))));
    assert!(r.loan(loan_of(&later)).unwrap().returned.is_none());
    assert_eq!(
        closed_note(r, loan_of(&first)),
        "Closed when Kim Admin decided a conflict"
    );
    assert_eq!(r.holders_of(b.locker), ["Alex Smith"]);
    assert_eq!(r.keys_held_by(b.alex).len(), 1);
    assert!(r.keys_held_by(b.sam).is_empty());
    let tag = b.tag(b.keys[0]);
    assert_eq!(
        timeline(r, b.locker).last().unwrap(),
        &format!(
            "Conflict decided (Key {tag} was issued twice): Alex Smith has the key: close the \
             loan to Sam Jones"
        )
    );
    assert!(matches!(
        kim.run(decide(later.id, Resolution::KeepFirst, "")),
        Err(CommandError::ConflictDecided { .. })
    ));
    // Only the choices the conflict offers.
    let mut lee = device(&log, 22, "Lee Custodian");
    assert_eq!(
        lee.run(decide(later.id, Resolution::Noted, "")),
        Err(CommandError::ChoiceNotOffered)
    );
}

#[test]
fn a_conflict_decided_on_two_devices_keeps_the_first_decision() {
    let (b, log, first, later) = issued_twice();
    let keep_first =
        device(&log, 21, "Kim Admin").ok(decide(later.id, Resolution::KeepFirst, "Sam"));
    let keep_later =
        device(&log, 22, "Lee Custodian").ok(decide(later.id, Resolution::KeepLater, "Alex"));
    for (d1, d2, loan) in [
        (&keep_first, &keep_later, loan_of(&first)),
        (&keep_later, &keep_first, loan_of(&later)),
    ] {
        let all = [log.as_slice(), &[d1.clone(), d2.clone()]].concat();
        let r = Register::fold(&all);
        let decided = r.conflict(later.id).unwrap().decision.clone().unwrap();
        assert_eq!(decided.event, d1.id, "the first decision stands");
        assert_eq!(r.key(b.keys[0]).unwrap().loan, Some(loan));
        let twice = r.conflict(d2.id).expect("the second decision conflicts");
        assert_eq!(
            twice.kind,
            ConflictKind::DecidedTwice { conflict: later.id }
        );
        assert_eq!(twice.actor, d2.actor);
        let text = r.describe_conflict(twice);
        assert_eq!(text.title, "A conflict was decided twice");
        assert!(text.detail.contains(&d2.actor), "{}", text.detail);
        assert_eq!(text.choices, [(Resolution::Noted, "Noted".to_string())]);
        // It waits in the site's list, on the locker's history, until noted.
        assert_eq!(open(&r, b.site), [d2.id]);
        assert!(
            timeline(&r, b.locker).contains(&"Conflict: A conflict was decided twice".to_string())
        );
        let mut kim = device(&all, 23, "Kim Admin");
        kim.ok(decide(d2.id, Resolution::Noted, ""));
        assert!(open(&kim.register, b.site).is_empty());
        assert_eq!(kim.register.key(b.keys[0]).unwrap().loan, Some(loan));
    }
}

#[test]
fn a_key_issued_after_it_was_damaged_elsewhere_has_no_standing_loan() {
    let b = base(2);
    let key = b.keys[1];
    let (mut pat, mut jo) = b.two_devices();
    let issue = pat.ok(b.h.issue(key, b.locker, Holder::Person(b.sam)));
    let mut damaged = b.h.ret(key);
    if let Command::ReturnKey { condition, .. } = &mut damaged {
        *condition = Condition::Damaged;
    }
    let back = pat.ok(damaged);
    let later = jo.ok(b.h.issue(key, b.locker, Holder::Person(b.alex)));
    let log = b.merged([&issue, &back], [&later]);
    let r = Register::fold(&log);
    let c = r.conflict(later.id).unwrap();
    assert_eq!(
        c.kind,
        ConflictKind::KeyNotInStore {
            key,
            loan: loan_of(&later),
            standing: None
        }
    );
    assert_eq!(r.key(key).unwrap().state, KeyState::Damaged);
    let text = r.describe_conflict(c);
    assert_eq!(
        text.title,
        format!("Key {} was issued when it was not in store", b.tag(key))
    );
    assert!(text.detail.contains("damaged"), "{}", text.detail);
    assert!(text.detail.contains("Alex Smith"), "{}", text.detail);

    let mut kim = device(&log, 21, "Kim Admin");
    kim.ok(decide(later.id, Resolution::KeepFirst, ""));
    assert_eq!(kim.register.key(key).unwrap().state, KeyState::Damaged);
    assert!(closed_note(&kim.register, loan_of(&later)).starts_with("Closed when Kim Admin"));

    let mut kim = device(&log, 21, "Kim Admin");
    kim.ok(decide(later.id, Resolution::KeepLater, ""));
    let k = kim.register.key(key).unwrap();
    assert_eq!((k.state, k.loan), (KeyState::Issued, Some(loan_of(&later))));

    // In the other order Jo's issue stands; Pat's issue conflicts and Pat's return closes only
    // Pat's loan.
    let r = Register::fold(&b.merged([&later], [&issue, &back]));
    assert_eq!(
        r.conflict(issue.id).unwrap().kind,
        ConflictKind::KeyNotInStore {
            key,
            loan: loan_of(&issue),
            standing: Some(loan_of(&later))
        }
    );
    let k = r.key(key).unwrap();
    assert_eq!((k.state, k.loan), (KeyState::Issued, Some(loan_of(&later))));
    assert!(r.loan(loan_of(&issue)).unwrap().returned.is_some());
    assert_eq!(r.conflicts().len(), 1);
}

// ----- one person, two keys to a locker -----

#[test]
fn one_person_given_two_keys_to_a_locker_offline() {
    let b = base(3);
    let (mut pat, mut jo) = b.two_devices();
    let a = pat.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let c = jo.ok(b.h.issue(b.keys[1], b.locker, Holder::Person(b.sam)));
    for (first, later) in [(&a, &c), (&c, &a)] {
        let log = b.merged([first], [later]);
        let r = Register::fold(&log);
        assert!(r.conflict(first.id).is_none());
        let conflict = r.conflict(later.id).unwrap();
        assert_eq!(
            conflict.kind,
            ConflictKind::HolderHasKey {
                locker: b.locker,
                loan: loan_of(later),
                standing: loan_of(first)
            }
        );
        let first_key = r.loan(loan_of(first)).unwrap().key;
        let later_key = r.loan(loan_of(later)).unwrap().key;
        // Both keys are out with Sam until someone decides.
        assert_eq!(r.keys_held_by(b.sam).len(), 2);
        let text = r.describe_conflict(conflict);
        assert_eq!(text.title, "Sam Jones was given two keys to locker C3");
        assert_eq!(
            text.choices,
            [
                (
                    Resolution::KeepFirst,
                    format!(
                        "Keep key {}: key {} goes back to the store",
                        b.tag(first_key),
                        b.tag(later_key)
                    )
                ),
                (
                    Resolution::KeepLater,
                    format!(
                        "Keep key {}: key {} goes back to the store",
                        b.tag(later_key),
                        b.tag(first_key)
                    )
                ),
            ]
        );
        assert!(timeline(&r, b.locker)
            .contains(&"Conflict: Sam Jones was given two keys to locker C3".to_string()));

        for (choice, kept, back, closed) in [
            (Resolution::KeepFirst, first_key, later_key, loan_of(later)),
            (Resolution::KeepLater, later_key, first_key, loan_of(first)),
        ] {
            let mut kim = device(&log, 21, "Kim Admin");
            kim.ok(decide(later.id, choice, "one each"));
            let r = &kim.register;
            assert_eq!(r.key(kept).unwrap().state, KeyState::Issued);
            let k = r.key(back).unwrap();
            assert_eq!((k.state, k.loan), (KeyState::InStore, None));
            assert_eq!(
                closed_note(r, closed),
                "Closed when Kim Admin decided a conflict: one each"
            );
            assert_eq!(r.keys_held_by(b.sam).len(), 1);
            assert!(timeline(r, b.locker)
                .last()
                .unwrap()
                .starts_with("Conflict decided (Sam Jones was given two keys to locker C3)"));
            assert!(matches!(
                kim.run(decide(later.id, choice, "")),
                Err(CommandError::ConflictDecided { .. })
            ));
        }
    }
}

// ----- lockers added twice -----

#[test]
fn lockers_added_on_two_devices_keep_the_first_numbers() {
    let b = base(4);
    let (mut pat, mut jo) = b.two_devices();
    let one = pat.ok(Command::AddLocker {
        site: b.site,
        area: b.area,
        number: "d2".into(),
        allow_similar: false,
    });
    let range = jo.ok(Command::AddLockerRange {
        site: b.site,
        area: b.area,
        from: "D1".into(),
        to: "D3".into(),
        allow_similar: false,
    });
    for (first, later) in [(&one, &range), (&range, &one)] {
        let log = b.merged([first], [later]);
        let r = Register::fold(&log);
        assert!(r.conflict(first.id).is_none());
        let c = r.conflict(later.id).unwrap();
        assert_eq!(
            c.kind,
            ConflictKind::LockerNumbersTaken {
                site: b.site,
                numbers: vec!["D2".into()]
            }
        );
        assert_eq!(r.locker_count(b.site), 2 + 3, "no locker appears twice");
        let d2 = r.locker_by_number(b.site, "D2").unwrap().id;
        let Change::LockersAdded { lockers, .. } = &first.change else {
            unreachable!()
        };
        assert!(lockers.iter().any(|l| l.id == d2), "the first D2 stands");
        let text = r.describe_conflict(c);
        assert_eq!(text.title, "Locker D2 was added twice");
        assert!(text.detail.contains(&later.actor) && text.detail.contains("D2"));
        assert_eq!(text.choices, [(Resolution::Noted, "Noted".to_string())]);
        // It names no one locker: the site's list shows it.
        assert_eq!(open(&r, b.site), [later.id]);

        let mut kim = device(&log, 21, "Kim Admin");
        assert_eq!(
            kim.run(decide(later.id, Resolution::KeepFirst, "")),
            Err(CommandError::ChoiceNotOffered)
        );
        kim.ok(decide(later.id, Resolution::Noted, "Relabelled"));
        assert!(open(&kim.register, b.site).is_empty());
        assert_eq!(kim.register.locker_count(b.site), 5);
        assert_eq!(
            kim.register
                .conflict(later.id)
                .unwrap()
                .decision
                .as_ref()
                .unwrap()
                .notes,
            "Relabelled"
        );
        assert!(matches!(
            kim.run(decide(later.id, Resolution::Noted, "")),
            Err(CommandError::ConflictDecided { .. })
        ));
    }

    // Two ranges overlapping in two numbers.
    let (mut pat, mut jo) = b.two_devices();
    let first = pat.ok(Command::AddLockerRange {
        site: b.site,
        area: b.area,
        from: "F1".into(),
        to: "F3".into(),
        allow_similar: false,
    });
    let later = jo.ok(Command::AddLockerRange {
        site: b.site,
        area: b.area,
        from: "F2".into(),
        to: "F5".into(),
        allow_similar: false,
    });
    let r = Register::fold(&b.merged([&first], [&later]));
    let c = r.conflict(later.id).unwrap();
    assert_eq!(
        c.kind,
        ConflictKind::LockerNumbersTaken {
            site: b.site,
            numbers: vec!["F2".into(), "F3".into()]
        }
    );
    assert_eq!(r.describe_conflict(c).title, "2 lockers were added twice");
    assert_eq!(r.locker_count(b.site), 2 + 5);
}

#[test]
fn a_lockers_conflict_decided_twice_waits_in_the_sites_list() {
    let b = base(5);
    let (mut pat, mut jo) = b.two_devices();
    let first = pat.ok(Command::AddLocker {
        site: b.site,
        area: b.area,
        number: "G1".into(),
        allow_similar: false,
    });
    let later = jo.ok(Command::AddLocker {
        site: b.site,
        area: b.area,
        number: "G1".into(),
        allow_similar: false,
    });
    let log = b.merged([&first], [&later]);
    let d1 = device(&log, 21, "Kim Admin").ok(decide(later.id, Resolution::Noted, ""));
    let d2 = device(&log, 22, "Lee Custodian").ok(decide(later.id, Resolution::Noted, ""));
    let all = [log.as_slice(), &[d1.clone(), d2.clone()]].concat();
    let r = Register::fold(&all);
    assert_eq!(
        r.conflict(later.id)
            .unwrap()
            .decision
            .as_ref()
            .unwrap()
            .event,
        d1.id
    );
    let twice = r.conflict(d2.id).unwrap();
    assert_eq!(
        twice.kind,
        ConflictKind::DecidedTwice { conflict: later.id }
    );
    assert_eq!(r.conflict_site(&twice.kind), Some(b.site));
    assert_eq!(open(&r, b.site), [d2.id]);
}

// ----- two locks on one locker -----

#[test]
fn two_locks_recorded_on_one_locker() {
    let b = base(6);
    let (mut pat, mut jo) = b.two_devices();
    let fit = |code: &str| Command::FitLock {
        locker: b.bare,
        kind: LockKind::Keyed,
        code: code.into(),
        suite: String::new(),
    };
    let a = pat.ok(fit("K 1"));
    let c = jo.ok(fit("K 2"));
    for (first, later, first_code, later_code) in [(&a, &c, "K 1", "K 2"), (&c, &a, "K 2", "K 1")] {
        let log = b.merged([first], [later]);
        let r = Register::fold(&log);
        assert!(r.conflict(first.id).is_none());
        let conflict = r.conflict(later.id).unwrap();
        assert_eq!(
            conflict.kind,
            ConflictKind::LockAlreadyFitted {
                locker: b.bare,
                lock: lock_of(later),
                standing: lock_of(first)
            }
        );
        assert_eq!(r.locker(b.bare).unwrap().lock, Some(lock_of(first)));
        assert!(
            r.lock(lock_of(later)).is_some(),
            "the later lock is kept as a record"
        );
        let text = r.describe_conflict(conflict);
        assert_eq!(text.title, "Two locks were recorded on locker E1");
        assert!(text.detail.contains(first_code) && text.detail.contains(later_code));
        assert_eq!(
            text.choices,
            [
                (
                    Resolution::KeepFirst,
                    format!("Lock code {first_code} is on the door")
                ),
                (
                    Resolution::KeepLater,
                    format!("Lock code {later_code} is on the door")
                ),
            ]
        );
        assert!(timeline(&r, b.bare)
            .contains(&"Conflict: Two locks were recorded on locker E1".to_string()));
        for (choice, on_door) in [
            (Resolution::KeepFirst, lock_of(first)),
            (Resolution::KeepLater, lock_of(later)),
        ] {
            let mut kim = device(&log, 21, "Kim Admin");
            kim.ok(decide(later.id, choice, ""));
            assert_eq!(kim.register.locker(b.bare).unwrap().lock, Some(on_door));
            assert!(timeline(&kim.register, b.bare)
                .last()
                .unwrap()
                .starts_with("Conflict decided (Two locks were recorded on locker E1)"));
        }
    }
}

// ----- a key returned twice -----

#[test]
fn a_key_returned_on_two_devices_keeps_the_first_return() {
    let mut b = base(7);
    let key = b.keys[0];
    let issued = b.h.ok(b.h.issue(key, b.locker, Holder::Person(b.sam)));
    let loan = loan_of(&issued);
    let (mut pat, mut jo) = b.two_devices();
    let fine = pat.ok(b.h.ret(key));
    let mut damaged = b.h.ret(key);
    if let Command::ReturnKey {
        condition,
        received_by,
        ..
    } = &mut damaged
    {
        *condition = Condition::Damaged;
        *received_by = "Jo Office".into();
    }
    let damaged = jo.ok(damaged);
    for (first, later, state, receiver) in [
        (&fine, &damaged, KeyState::InStore, "Pat Caretaker"),
        (&damaged, &fine, KeyState::Damaged, "Jo Office"),
    ] {
        let log = b.merged([first], [later]);
        let r = Register::fold(&log);
        let c = r.conflict(later.id).unwrap();
        assert_eq!(c.kind, ConflictKind::ReturnedTwice { loan });
        assert_eq!(r.key(key).unwrap().state, state);
        assert_eq!(
            r.loan(loan).unwrap().returned.as_ref().unwrap().received_by,
            receiver
        );
        let text = r.describe_conflict(c);
        assert_eq!(text.title, format!("Key {} was returned twice", b.tag(key)));
        assert!(text.detail.contains("The first return is kept"));
        assert!(timeline(&r, b.locker)
            .contains(&format!("Conflict: Key {} was returned twice", b.tag(key))));
        let mut kim = device(&log, 21, "Kim Admin");
        kim.ok(decide(later.id, Resolution::Noted, ""));
        assert_eq!(kim.register.key(key).unwrap().state, state);
        assert!(open(&kim.register, b.site).is_empty());
    }
}

// ----- a tag put on a key twice -----

#[test]
fn a_blank_tag_used_twice_or_a_key_retagged_twice() {
    let mut b = base(8);
    let tags = match b
        .h
        .ok(Command::MakeBlankTags {
            site: b.site,
            count: 2,
        })
        .change
    {
        Change::BlankTagsMade { tags, .. } => tags,
        c => panic!("{c:?}"),
    };
    let (old0, old1) = (b.tag(b.keys[0]), b.tag(b.keys[1]));
    let (mut pat, mut jo) = b.two_devices();
    let first = pat.ok(Command::AttachTag {
        key: b.keys[0],
        tag: tags[0].clone(),
    });
    // The same tag on another key.
    let same_tag = jo.ok(Command::AttachTag {
        key: b.keys[1],
        tag: tags[0].clone(),
    });
    let r = Register::fold(&b.merged([&first], [&same_tag]));
    let c = r.conflict(same_tag.id).unwrap();
    assert_eq!(
        c.kind,
        ConflictKind::TagNotAttached {
            key: b.keys[1],
            tag: tags[0].clone()
        }
    );
    assert_eq!(r.key_by_tag(&tags[0]).unwrap().id, b.keys[0]);
    assert_eq!(r.key(b.keys[1]).unwrap().tag.to_string(), old1);
    assert_eq!(
        r.describe_conflict(c).title,
        format!("Tag {} was not put on key {old1}", tags[0])
    );
    assert!(timeline(&r, b.locker).contains(&format!(
        "Conflict: Tag {} was not put on key {old1}",
        tags[0]
    )));

    // Another tag on the same key: the key's tag changed first.
    let (_, mut jo) = b.two_devices();
    let other_tag = jo.ok(Command::AttachTag {
        key: b.keys[0],
        tag: tags[1].clone(),
    });
    for (first, later, kept) in [
        (&first, &other_tag, &tags[0]),
        (&other_tag, &first, &tags[1]),
    ] {
        let log = b.merged([first], [later]);
        let r = Register::fold(&log);
        let (Change::TagAttached { tag, .. }, c) = (&later.change, r.conflict(later.id).unwrap())
        else {
            unreachable!()
        };
        assert_eq!(
            c.kind,
            ConflictKind::TagNotAttached {
                key: b.keys[0],
                tag: tag.clone()
            }
        );
        assert_eq!(&r.key(b.keys[0]).unwrap().tag, kept);
        assert!(
            r.key_by_tag(&TagId(old0.clone())).is_none(),
            "the old tag stops resolving"
        );
        let mut kim = device(&log, 21, "Kim Admin");
        kim.ok(decide(later.id, Resolution::Noted, ""));
        assert!(timeline(&kim.register, b.locker)
            .last()
            .unwrap()
            .starts_with(&format!(
                "Conflict decided (Tag {tag} was not put on key {kept})"
            )));
    }
}

// ----- the fold is the same everywhere -----

#[test]
fn the_same_events_in_the_same_order_give_the_same_register_conflicts_and_all() {
    let b = base(9);
    let (mut pat, mut jo) = b.two_devices();
    let mut pat_events = vec![
        pat.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam))),
        pat.ok(Command::AddLocker {
            site: b.site,
            area: b.area,
            number: "H1".into(),
            allow_similar: false,
        }),
    ];
    pat_events.push(pat.ok(Command::FitLock {
        locker: b.bare,
        kind: LockKind::Keyed,
        code: "K 9".into(),
        suite: String::new(),
    }));
    let jo_events = vec![
        jo.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.alex))),
        jo.ok(b.h.issue(b.keys[1], b.locker, Holder::Person(b.sam))),
        jo.ok(Command::AddLockerRange {
            site: b.site,
            area: b.area,
            from: "H1".into(),
            to: "H2".into(),
            allow_similar: false,
        }),
    ];
    let log = b.merged(&pat_events, &jo_events);
    let decision =
        device(&log, 21, "Kim Admin").ok(decide(jo_events[0].id, Resolution::KeepLater, ""));
    let log = [log.as_slice(), &[decision]].concat();

    let one = Register::fold(&log);
    let mut two = Register::new();
    for event in &log {
        two.apply(event);
    }
    assert_eq!(one, two);
    assert_eq!(one.conflicts().len(), 3, "{:?}", one.conflicts());
    // Applying again changes nothing; a device that had the first half folds the rest the same.
    for event in &log {
        two.apply(event);
    }
    assert_eq!(one, two);
    let mut half = Register::fold(&log[..log.len() / 2]);
    for event in &log[log.len() / 2..] {
        half.apply(event);
    }
    assert_eq!(one, half);
    // The other order gives other conflicts, but again the same on every device.
    let other = [b.h.log.as_slice(), &jo_events, &pat_events].concat();
    assert_eq!(Register::fold(&other), Register::fold(&other));
    assert_ne!(Register::fold(&other), one);
}

// ----- the lost-key case, lock changes and orders -----

fn case_of(event: &Event) -> CaseId {
    match &event.change {
        Change::KeyReportedLost { case, .. } => *case,
        c => panic!("{c:?}"),
    }
}

fn lost(key: KeyId) -> Command {
    Command::ReportKeyLost {
        key,
        loss: Loss::default(),
        notes: String::new(),
    }
}

#[test]
fn a_key_issued_after_its_lock_was_changed_elsewhere_is_cancelled() {
    let mut b = base(301);
    let (mut pat, mut jo) = b.two_devices();
    pat.ok(Command::ChangeLock {
        locker: b.locker,
        kind: LockKind::Keyed,
        code: "K 777".into(),
        suite: String::new(),
        reason: "Key stolen".into(),
    });
    let issue = jo.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let log = b.merged(&pat.log, &jo.log);
    let r = Register::fold(&log);
    let c = r.conflict(issue.id).expect("a conflict");
    assert_eq!(
        c.kind,
        ConflictKind::IssuedAfterRetired {
            key: b.keys[0],
            loan: loan_of(&issue)
        }
    );
    assert_eq!(c.kind.choices(), [Resolution::KeepFirst]);
    assert_eq!(r.key(b.keys[0]).unwrap().state, KeyState::Retired);
    let text = r.describe_conflict(c);
    assert_eq!(
        text.title,
        format!("Key {} was issued after it was retired", b.tag(b.keys[0]))
    );
    let mut office = device(&log, 303, "Jo Office");
    office.ok(decide(issue.id, Resolution::KeepFirst, "New key given"));
    let mut all = log.clone();
    all.extend(office.log.clone());
    let r = Register::fold(&all);
    assert!(r.loan(loan_of(&issue)).unwrap().returned.is_some());
    assert!(open(&r, b.site).is_empty());
    b.h.register = r;
}

#[test]
fn a_key_reported_lost_on_one_device_and_returned_on_another_in_either_order() {
    for lost_first in [true, false] {
        for choice in [Resolution::KeepFirst, Resolution::KeepLater] {
            let mut b = base(310);
            b.h.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
            let (mut pat, mut jo) = b.two_devices();
            let report = pat.ok(lost(b.keys[0]));
            let ret = jo.ok(b.h.ret(b.keys[0]));
            let log = if lost_first {
                b.merged(&pat.log, &jo.log)
            } else {
                b.merged(&jo.log, &pat.log)
            };
            let later = if lost_first { &ret } else { &report };
            let r = Register::fold(&log);
            let c = r.conflict(later.id).expect("a conflict");
            let ConflictKind::LostAndReturned { lost_first: lf, .. } = c.kind else {
                panic!("{:?}", c.kind)
            };
            assert_eq!(lf, lost_first);
            // Until decided, the first fact governs the key.
            let undecided = r.key(b.keys[0]).unwrap().state;
            assert_eq!(
                undecided,
                if lost_first {
                    KeyState::Lost
                } else {
                    KeyState::InStore
                }
            );
            assert_eq!(open(&r, b.site), [later.id]);
            let mut office = device(&log, 311, "Jo Office");
            office.ok(decide(later.id, choice, ""));
            let mut all = log.clone();
            all.extend(office.log.clone());
            let r = Register::fold(&all);
            let back = lost_first == (choice == Resolution::KeepLater);
            let case = r.case(case_of(&report)).unwrap();
            if back {
                assert_eq!(r.key(b.keys[0]).unwrap().state, KeyState::InStore);
                assert_eq!(case.closed, Some(CaseClosed::Found));
            } else {
                assert_eq!(r.key(b.keys[0]).unwrap().state, KeyState::Lost);
                assert!(case.closed.is_none());
            }
            assert!(open(&r, b.site).is_empty());
        }
    }
}

#[test]
fn a_key_reported_lost_on_two_devices_keeps_the_first_case() {
    let b = base(320);
    let (mut pat, mut jo) = b.two_devices();
    let first = pat.ok(lost(b.keys[1]));
    let second = jo.ok(lost(b.keys[1]));
    let log = b.merged(&pat.log, &jo.log);
    let r = Register::fold(&log);
    assert!(matches!(
        r.conflict(second.id).unwrap().kind,
        ConflictKind::LostTwice { .. }
    ));
    assert_eq!(r.open_cases(b.site).len(), 1);
    assert_eq!(r.open_cases(b.site)[0].id, case_of(&first));
    assert!(r.case(case_of(&second)).is_none());
}

#[test]
fn a_case_decided_on_two_devices_keeps_the_first_decision() {
    let mut b = base(330);
    let report = b.h.ok(lost(b.keys[1]));
    let case = case_of(&report);
    let (mut pat, mut jo) = b.two_devices();
    let decided = |outcome, reason: &str| Command::DecideLostCase {
        case,
        outcome,
        reason: reason.into(),
        opened_with: None,
    };
    pat.ok(decided(CaseOutcome::Replace, "Lost off site"));
    let second = jo.ok(decided(CaseOutcome::ChangeLock, "Labelled"));
    let r = Register::fold(&b.merged(&pat.log, &jo.log));
    assert!(matches!(
        r.conflict(second.id).unwrap().kind,
        ConflictKind::CaseDecidedTwice { .. }
    ));
    let d = r.case(case).unwrap().decision.clone().unwrap();
    assert_eq!(
        (d.outcome, d.by.as_str()),
        (CaseOutcome::Replace, "Pat Caretaker")
    );
    assert_eq!(
        r.conflict_site(&r.conflict(second.id).unwrap().kind),
        Some(b.site)
    );
}

#[test]
fn an_order_received_on_two_devices_keeps_the_first_receipt() {
    let mut b = base(340);
    let lock = b.h.register.locker(b.locker).unwrap().lock.unwrap();
    let supplier = b.h.supplier(b.site, "Timpson");
    let order = b.h.order(supplier, vec![(lock, KeyKind::User, 1)], None);
    let (mut pat, mut jo) = b.two_devices();
    let receive = Command::ReceiveOrder {
        order,
        quantities: vec![1],
    };
    pat.ok(receive.clone());
    let second = jo.ok(receive);
    let log = b.merged(&pat.log, &jo.log);
    let r = Register::fold(&log);
    let c = r.conflict(second.id).unwrap();
    assert_eq!(c.kind, ConflictKind::OrderReceivedTwice { order });
    assert_eq!(c.kind.choices(), [Resolution::Noted]);
    assert_eq!(
        r.keys_of_locker(b.locker).len(),
        3,
        "one key received, not two"
    );
    assert_eq!(open(&r, b.site), [second.id]);
}

#[test]
fn locks_changed_on_two_devices_conflict_like_two_locks_fitted() {
    let b = base(350);
    let (mut pat, mut jo) = b.two_devices();
    let change = |code: &str| Command::ChangeLock {
        locker: b.locker,
        kind: LockKind::Keyed,
        code: code.into(),
        suite: String::new(),
        reason: "Worn".into(),
    };
    let first = pat.ok(change("K 1"));
    let second = jo.ok(change("K 2"));
    let log = b.merged(&pat.log, &jo.log);
    let r = Register::fold(&log);
    let first_lock = match &first.change {
        Change::LockChanged { lock, .. } => *lock,
        c => panic!("{c:?}"),
    };
    assert!(matches!(
        r.conflict(second.id).unwrap().kind,
        ConflictKind::LockAlreadyFitted { standing, .. } if standing == first_lock
    ));
    assert_eq!(r.locker(b.locker).unwrap().lock, Some(first_lock));
    let mut office = device(&log, 351, "Jo Office");
    office.ok(decide(second.id, Resolution::KeepLater, ""));
    let mut all = log.clone();
    all.extend(office.log.clone());
    let r = Register::fold(&all);
    assert_eq!(
        r.lock(r.locker(b.locker).unwrap().lock.unwrap())
            .unwrap()
            .code,
        "K 2"
    );
}

// ----- a key handed over after it had moved on -----

fn handover_of(event: &Event) -> (LoanId, LoanId) {
    match &event.change {
        Change::KeyHandedOver { loan, new_loan, .. } => (*loan, *new_loan),
        c => panic!("not a handover: {c:?}"),
    }
}

/// Sam holds key 1. Offline, Pat records it returned and Jo records Sam handing it to Alex;
/// Pat's return reaches the server first.
fn handed_over_after_return() -> (Base, Vec<Event>, Event) {
    let mut b = base(31);
    b.h.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let (mut pat, mut jo) = b.two_devices();
    let returned = pat.ok(b.h.ret(b.keys[0]));
    let handed = jo.ok(b.h.hand_over(b.keys[0], Holder::Person(b.alex)));
    let log = b.merged([&returned], [&handed]);
    (b, log, handed)
}

#[test]
fn a_handover_of_a_loan_returned_elsewhere_first_conflicts() {
    let (b, log, handed) = handed_over_after_return();
    let r = Register::fold(&log);
    let (old, new) = handover_of(&handed);
    let c = r.conflict(handed.id).expect("the handover conflicts");
    assert_eq!(
        c.kind,
        ConflictKind::HandOverNotCurrent {
            key: b.keys[0],
            loan: old,
            new_loan: new,
            standing: None,
        }
    );
    // The key stays in store; the handover is kept as a record.
    let k = r.key(b.keys[0]).unwrap();
    assert_eq!((k.state, k.loan), (KeyState::InStore, None));
    assert!(r.loan(new).unwrap().returned.is_none());
    let tag = b.tag(b.keys[0]);
    let text = r.describe_conflict(c);
    assert_eq!(
        text.title,
        format!("Key {tag} was handed over after it had moved on")
    );
    assert_eq!(
        text.detail,
        "Jo Office recorded Sam Jones handing the key to Alex Smith, but another device had already recorded it as returned by Sam Jones. Only one of them can have the key."
    );
    assert_eq!(
        text.choices,
        [
            (
                Resolution::KeepFirst,
                "Alex Smith does not have it: cancel the handover".to_string()
            ),
            (
                Resolution::KeepLater,
                "Alex Smith has the key: record the handover".to_string()
            ),
        ]
    );
    assert_eq!(open(&r, b.site), [handed.id]);
    assert!(timeline(&r, b.locker).contains(&format!("Conflict: {}", text.title)));
}

#[test]
fn keep_first_cancels_the_handover_and_keep_later_gives_the_key_to_the_next_holder() {
    let (b, log, handed) = handed_over_after_return();
    let (_, new) = handover_of(&handed);
    let mut kim = device(&log, 21, "Kim Admin");
    kim.ok(decide(
        handed.id,
        Resolution::KeepFirst,
        "It is in the cabinet",
    ));
    let r = &kim.register;
    assert_eq!(r.key(b.keys[0]).unwrap().state, KeyState::InStore);
    assert_eq!(
        closed_note(r, new),
        "Closed when Kim Admin decided a conflict: It is in the cabinet"
    );
    assert!(open(r, b.site).is_empty());

    let mut lee = device(&log, 22, "Lee Custodian");
    lee.ok(decide(handed.id, Resolution::KeepLater, ""));
    let r = &lee.register;
    let k = r.key(b.keys[0]).unwrap();
    assert_eq!((k.state, k.loan), (KeyState::Issued, Some(new)));
    assert_eq!(r.holders_of(b.locker), ["Alex Smith"]);
    assert!(timeline(r, b.locker)
        .last()
        .unwrap()
        .ends_with("Alex Smith has the key: record the handover"));
}

#[test]
fn a_key_handed_over_on_two_devices_keeps_the_first_until_decided() {
    let mut b = base(32);
    b.h.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let (mut pat, mut jo) = b.two_devices();
    let to_dept = pat.ok(b
        .h
        .hand_over(b.keys[0], Holder::Department("Night team".into())));
    let to_alex = jo.ok(b.h.hand_over(b.keys[0], Holder::Person(b.alex)));
    let log = b.merged([&to_dept], [&to_alex]);
    let r = Register::fold(&log);
    let (old, dept_loan) = handover_of(&to_dept);
    let (_, alex_loan) = handover_of(&to_alex);
    let c = r.conflict(to_alex.id).unwrap();
    assert_eq!(
        c.kind,
        ConflictKind::HandOverNotCurrent {
            key: b.keys[0],
            loan: old,
            new_loan: alex_loan,
            standing: Some(dept_loan),
        }
    );
    assert_eq!(r.holders_of(b.locker), ["Night team"]);
    let text = r.describe_conflict(c);
    assert!(text
        .detail
        .contains("another device had already recorded Sam Jones handing it to Night team"));
    assert_eq!(
        text.choices[1].1,
        "Alex Smith has the key: record the handover and close the loan to Night team"
    );
    // Keeping the later one closes the first handover's loan.
    let mut kim = device(&log, 21, "Kim Admin");
    kim.ok(decide(to_alex.id, Resolution::KeepLater, ""));
    let r = &kim.register;
    assert_eq!(r.key(b.keys[0]).unwrap().loan, Some(alex_loan));
    assert!(r.loan(dept_loan).unwrap().returned.is_some());
    assert_eq!(r.holders_of(b.locker), ["Alex Smith"]);
    // Keeping the first leaves the department with it.
    let mut lee = device(&log, 22, "Lee Custodian");
    lee.ok(decide(to_alex.id, Resolution::KeepFirst, ""));
    assert_eq!(lee.register.holders_of(b.locker), ["Night team"]);
    assert!(lee.register.loan(alex_loan).unwrap().returned.is_some());
}

#[test]
fn a_return_recorded_after_a_handover_keeps_the_handover() {
    let mut b = base(33);
    b.h.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let (mut pat, mut jo) = b.two_devices();
    let handed = pat.ok(b.h.hand_over(b.keys[0], Holder::Person(b.alex)));
    let returned = jo.ok(b.h.ret(b.keys[0]));
    let log = b.merged([&handed], [&returned]);
    let r = Register::fold(&log);
    let c = r.conflict(returned.id).unwrap();
    assert!(matches!(c.kind, ConflictKind::ReturnedTwice { .. }));
    assert_eq!(r.holders_of(b.locker), ["Alex Smith"]);
    assert_eq!(
        r.describe_conflict(c).detail,
        "Jo Office recorded a return on another device after Sam Jones had handed the key over to Alex Smith. The handover is kept; return the key from Alex Smith if it is back in the store."
    );
}

#[test]
fn a_handover_to_someone_given_another_key_offline_is_a_holder_conflict() {
    let mut b = base(34);
    b.h.ok(b.h.issue(b.keys[0], b.locker, Holder::Person(b.sam)));
    let (mut pat, mut jo) = b.two_devices();
    let issued = pat.ok(b.h.issue(b.keys[1], b.locker, Holder::Person(b.alex)));
    let handed = jo.ok(b.h.hand_over(b.keys[0], Holder::Person(b.alex)));
    let r = Register::fold(&b.merged([&issued], [&handed]));
    let (_, new) = handover_of(&handed);
    assert_eq!(
        r.conflict(handed.id).unwrap().kind,
        ConflictKind::HolderHasKey {
            locker: b.locker,
            loan: new,
            standing: loan_of(&issued),
        }
    );
    assert_eq!(
        r.keys_held_by(b.alex).len(),
        2,
        "both facts kept until decided"
    );
}

// ----- two auditors, one locker -----

fn finding_of(event: &Event) -> FindingId {
    match &event.change {
        Change::AuditFindingRecorded { finding, .. } => *finding,
        c => panic!("not a finding: {c:?}"),
    }
}

#[test]
fn two_auditors_recording_one_locker_differently_conflict_in_either_order() {
    let mut b = base(140);
    let audit = match b
        .h
        .ok(Command::StartAudit {
            site: b.site,
            scope: AuditScope::Area { area: b.area },
        })
        .change
    {
        Change::AuditStarted { audit, .. } => audit,
        c => panic!("{c:?}"),
    };
    let finding = |d: &mut Offline, kind: FindingKind| {
        d.ok(Command::RecordFinding {
            audit,
            locker: b.locker,
            kind,
            notes: String::new(),
        })
    };
    let (mut pat, mut jo) = b.two_devices();
    let missing = finding(&mut pat, FindingKind::KeyMissing);
    let fine = finding(&mut jo, FindingKind::AsExpected);
    for (first, later) in [(&missing, &fine), (&fine, &missing)] {
        let log = b.merged([first], [later]);
        let r = Register::fold(&log);
        let c = r.conflict(later.id).expect("the later finding conflicts");
        assert_eq!(
            c.kind,
            ConflictKind::AuditFindingsDiffer {
                audit,
                locker: b.locker,
                finding: finding_of(later),
                standing: finding_of(first),
            }
        );
        assert_eq!(open(&r, b.site), [later.id]);
        assert_eq!(r.open_conflicts_of_locker(b.locker).len(), 1);
        assert_eq!(r.current_findings(audit, b.locker).len(), 2, "both stand");
        assert!(r.conflict(first.id).is_none());
        // Keep the first: the later finding is set aside, and the audit can be completed.
        let mut office = device(&log, 141, "Kim Office");
        office.ok(decide(
            later.id,
            Resolution::KeepFirst,
            "Went back and looked",
        ));
        let current = office.register.current_findings(audit, b.locker);
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].id, finding_of(first));
        assert!(matches!(
            office.register.finding(finding_of(later)).unwrap().ended,
            Some(FindingEnd::SetAside { .. })
        ));
        office.ok(Command::CompleteAudit { audit });
        // Keep the later instead: the first is set aside.
        let mut other = device(&log, 142, "Kim Office");
        other.ok(decide(later.id, Resolution::KeepLater, ""));
        let current = other.register.current_findings(audit, b.locker);
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].id, finding_of(later));
    }
    // Undoing one of them also settles the locker: completion is no longer held up.
    let log = b.merged([&missing], [&fine]);
    let mut undo = device(&log, 143, "Jo Office");
    undo.ok(Command::UndoFinding {
        finding: finding_of(&fine),
    });
    undo.ok(Command::CompleteAudit { audit });
}
