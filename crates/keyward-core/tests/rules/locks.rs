//! Locks: faults, repeated faults, lock changes and retired keys.

use crate::common::Harness;
use chrono::Duration;
use keyward_core::*;

fn fault(h: &mut Harness, lock: LockId) {
    h.ok(Command::RecordFault {
        lock,
        kind: FaultKind::Jammed,
        notes: " sticks when wet ".into(),
    });
}

#[test]
fn a_lock_with_repeated_faults_is_flagged_and_listed_to_replace() {
    let mut h = Harness::new(61);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C1");
    h.lock_with_keys(locker, 1);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    fault(&mut h, lock);
    h.now += Duration::days(100);
    fault(&mut h, lock);
    fault(&mut h, lock);
    assert!(
        !h.register.lock_flagged(lock, h.now),
        "the first fault is older than the policy's 90 days"
    );
    fault(&mut h, lock);
    assert!(h.register.lock_flagged(lock, h.now));
    assert_eq!(h.register.locks_to_replace(site, h.now)[0].id, lock);
    // The area's policy sets the threshold: 5 faults in 30 days here.
    let area = h.register.locker(locker).unwrap().area;
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            fault_flag: Some(FaultFlag {
                faults: 5,
                days: 30,
            }),
            ..Default::default()
        },
        clear: vec![],
    });
    assert!(!h.register.lock_flagged(lock, h.now));
    let l = h.register.lock(lock).unwrap();
    assert_eq!(l.faults.len(), 4);
    assert_eq!(l.faults[0].notes, "sticks when wet");
    let history: Vec<String> = h
        .register
        .timeline(locker)
        .iter()
        .map(|e| h.register.describe(e))
        .collect();
    assert!(history.contains(&"Fault: Jammed. Notes: sticks when wet".to_string()));
}

#[test]
fn a_lock_change_retires_every_key_of_the_old_lock_and_lists_holders_to_tell() {
    let mut h = Harness::new(62);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C2");
    let keys = h.lock_with_keys(locker, 3);
    let old = h.register.locker(locker).unwrap().lock.unwrap();
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let refused = h.run(Command::ChangeLock {
        locker,
        kind: LockKind::Keyed,
        code: "K 900".into(),
        suite: String::new(),
        reason: "  ".into(),
    });
    assert_eq!(refused, Err(CommandError::LockChangeReasonMissing));
    h.ok(Command::ChangeLock {
        locker,
        kind: LockKind::Keyed,
        code: "k 900".into(),
        suite: String::new(),
        reason: "Key stolen".into(),
    });
    let new = h.register.locker(locker).unwrap().lock.unwrap();
    assert_ne!(new, old);
    assert_eq!(h.register.lock(new).unwrap().code, "K 900");
    assert!(h.register.lock(old).unwrap().removed_at.is_some());
    for key in &keys {
        assert_eq!(h.register.key(*key).unwrap().state, KeyState::Retired);
    }
    assert!(h.register.keys_of_locker(locker).is_empty());
    // Sam still has the old key: listed to be told, and it can still come back.
    let out = h.register.retired_while_out(site);
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].holder, Holder::Person(sam));
    assert_eq!(h.register.keys_held_by(sam).len(), 1);
    h.ok(h.ret(keys[0]));
    assert!(h.register.retired_while_out(site).is_empty());
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Retired);
    assert!(h.register.keys_held_by(sam).is_empty());
    // A retired key cannot be issued; the new lock's keys can.
    let err = h
        .run(h.issue(keys[1], locker, Holder::Person(sam)))
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyNotForLocker { .. }));
    let fresh = match h
        .ok(Command::AddKeys {
            lock: new,
            kind: KeyKind::User,
            count: 1,
            storage: String::new(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        c => panic!("{c:?}"),
    };
    assert_eq!(h.register.key(fresh).unwrap().copy, 1);
    h.ok(h.issue(fresh, locker, Holder::Person(sam)));
    let history: Vec<String> = h
        .register
        .timeline(locker)
        .iter()
        .map(|e| h.register.describe(e))
        .collect();
    assert!(history
        .iter()
        .any(|l| l.starts_with("Lock changed: new keyed lock, every key of the old lock retired")));
}

#[test]
fn a_locker_with_no_lock_has_no_lock_to_change() {
    let mut h = Harness::new(63);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C3");
    let err = h
        .run(Command::ChangeLock {
            locker,
            kind: LockKind::Keyed,
            code: "K1".into(),
            suite: String::new(),
            reason: "Worn".into(),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Locker C3 has no lock yet. Fit a lock first."
    );
}

#[test]
fn a_damaged_key_is_returned_retired_and_replaced() {
    let mut h = Harness::new(64);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C4");
    let keys = h.lock_with_keys(locker, 1);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let err = h
        .run(Command::RetireKey {
            key: keys[0],
            reason: "Bent".into(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyStillOut { .. }), "{err}");
    let mut ret = h.ret(keys[0]);
    if let Command::ReturnKey { condition, .. } = &mut ret {
        *condition = Condition::Damaged;
    }
    h.ok(ret);
    h.ok(Command::RetireKey {
        key: keys[0],
        reason: "Bent".into(),
    });
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Retired);
    let supplier = h.supplier(site, "Timpson");
    h.ok(Command::PlaceOrder {
        supplier,
        lines: vec![(lock, KeyKind::User, 1)],
        ordered: h.today(),
        expected: None,
        case: None,
        notes: String::new(),
    });
    assert_eq!(h.register.outstanding_orders(site).len(), 1);
}
