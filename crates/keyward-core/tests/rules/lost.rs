//! The lost-key case: report, decision, charge, found keys and repeated losses.

use crate::common::Harness;
use keyward_core::*;

struct Setup {
    h: Harness,
    site: SiteId,
    locker: LockerId,
    keys: Vec<KeyId>,
    sam: PersonId,
}

fn setup(seed: u64) -> Setup {
    let mut h = Harness::new(seed);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "D1");
    let keys = h.lock_with_keys(locker, 3);
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    Setup {
        h,
        site,
        locker,
        keys,
        sam,
    }
}

#[test]
fn reporting_a_key_lost_ends_its_loan_and_opens_a_case() {
    let Setup {
        mut h,
        site,
        locker,
        keys,
        sam,
    } = setup(71);
    let case = h.report_lost(keys[0], Loss::default());
    let c = h.register.case(case).unwrap();
    assert_eq!(c.locker, locker);
    assert_eq!(c.holder, Some(Holder::Person(sam)));
    let loan = c.loan.unwrap();
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Lost);
    assert_eq!(h.register.loan(loan).unwrap().lost, Some(case));
    assert!(h.register.keys_held_by(sam).is_empty());
    assert!(h.register.holders_of(locker).is_empty());
    assert_eq!(h.register.open_cases(site).len(), 1);
    assert_eq!(h.register.case_of_key(keys[0]).unwrap().id, case);
    // Reported once only; a lost key cannot be issued or returned.
    let err = h
        .run(Command::ReportKeyLost {
            key: keys[0],
            loss: Loss::default(),
            notes: String::new(),
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "Key {} is already lost.",
            h.register.key(keys[0]).unwrap().tag
        )
    );
    assert!(h.run(h.ret(keys[0])).is_err());
    assert!(h
        .run(h.issue(keys[0], locker, Holder::Person(sam)))
        .is_err());
    // Sam can be given another key.
    h.ok(h.issue(keys[1], locker, Holder::Person(sam)));
}

#[test]
fn a_lock_change_is_recommended_with_its_reasons() {
    let Setup { mut h, keys, .. } = setup(72);
    let off_site = h.report_lost(keys[0], Loss::default());
    assert!(h
        .register
        .lock_change_reasons(h.register.case(off_site).unwrap())
        .is_empty());
    let stolen = h.report_lost(
        keys[1],
        Loss {
            stolen: true,
            labelled_with_number: true,
            with_access_card: true,
            sensitive_items: true,
        },
    );
    assert_eq!(h.register.key(keys[1]).unwrap().state, KeyState::Stolen);
    assert_eq!(
        h.register
            .lock_change_reasons(h.register.case(stolen).unwrap()),
        [
            "the key was stolen",
            "the key was labelled with the locker number",
            "the key was lost with an access card",
            "the locker guards sensitive items"
        ]
    );
    // An area whose policy forces a lock change for every lost key says so too.
    let area = h.register.areas_of(h.register.sites().next().unwrap().id)[0].id;
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            lost_key_forces_lock_change: Some(true),
            ..Default::default()
        },
        clear: vec![],
    });
    assert_eq!(
        h.register
            .lock_change_reasons(h.register.case(off_site).unwrap()),
        ["the area's policy requires a lock change for every lost key"]
    );
}

#[test]
fn a_case_is_decided_once_with_who_and_why_and_closes_when_its_replacement_arrives() {
    let Setup {
        mut h,
        site,
        locker,
        keys,
        ..
    } = setup(73);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let case = h.report_lost(keys[0], Loss::default());
    let decide = |reason: &str| Command::DecideLostCase {
        case,
        outcome: CaseOutcome::Replace,
        reason: reason.into(),
        opened_with: None,
    };
    assert_eq!(h.run(decide(" ")), Err(CommandError::CaseReasonMissing));
    h.ok(decide("Lost off site, not traceable to the locker"));
    let err = h.run(decide("again")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "This case was already decided by Pat Caretaker: replacement cut to code."
    );
    let d = h.register.case(case).unwrap().decision.clone().unwrap();
    assert_eq!(
        (d.outcome, d.by.as_str()),
        (CaseOutcome::Replace, "Pat Caretaker")
    );
    h.ok(Command::RecordCharge {
        case,
        status: ChargeStatus::Charged,
        amount: 500,
    });
    assert_eq!(
        h.run(Command::RecordCharge {
            case,
            status: ChargeStatus::Paid,
            amount: 0,
        }),
        Err(CommandError::ChargeMissing)
    );
    h.ok(Command::RecordCharge {
        case,
        status: ChargeStatus::Waived,
        amount: 0,
    });
    let charge = h.register.case(case).unwrap().charge.clone().unwrap();
    assert_eq!((charge.status, charge.amount), (ChargeStatus::Waived, 500));
    let supplier = h.supplier(site, "Timpson");
    let order = h.order(supplier, vec![(lock, KeyKind::User, 2)], Some(case));
    assert_eq!(h.register.case(case).unwrap().order, Some(order));
    h.ok(Command::ReceiveOrder {
        order,
        quantities: vec![1],
    });
    assert!(
        h.register.case(case).unwrap().closed.is_none(),
        "one of two came"
    );
    h.ok(Command::ReceiveOrder {
        order,
        quantities: vec![1],
    });
    assert_eq!(
        h.register.case(case).unwrap().closed,
        Some(CaseClosed::Replaced { order })
    );
    assert!(h.register.open_cases(site).is_empty());
    assert!(matches!(
        h.run(Command::DecideLostCase {
            case,
            outcome: CaseOutcome::ChangeLock,
            reason: "x".into(),
            opened_with: None
        }),
        Err(CommandError::CaseClosed)
    ));
}

#[test]
fn a_lock_change_closes_the_lockers_open_cases() {
    let Setup {
        mut h,
        site,
        locker,
        keys,
        ..
    } = setup(74);
    let case = h.report_lost(
        keys[0],
        Loss {
            stolen: true,
            ..Loss::default()
        },
    );
    h.ok(Command::DecideLostCase {
        case,
        outcome: CaseOutcome::ChangeLock,
        reason: "Stolen".into(),
        opened_with: None,
    });
    h.ok(Command::ChangeLock {
        locker,
        kind: LockKind::Keyed,
        code: "K 555".into(),
        suite: String::new(),
        reason: "Key stolen".into(),
    });
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    assert_eq!(
        h.register.case(case).unwrap().closed,
        Some(CaseClosed::LockChanged { lock })
    );
    assert!(h.register.open_cases(site).is_empty());
    // The stolen key, found later, stays retired: its lock is gone.
    h.ok(Command::RecordKeyFound {
        key: keys[0],
        notes: "Handed in at reception".into(),
    });
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Retired);
}

#[test]
fn a_found_key_goes_back_to_the_store_and_closes_its_case() {
    let Setup {
        mut h,
        locker,
        keys,
        ..
    } = setup(75);
    let err = h
        .run(Command::RecordKeyFound {
            key: keys[1],
            notes: String::new(),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyNotLost { .. }));
    let case = h.report_lost(keys[0], Loss::default());
    h.ok(Command::RecordKeyFound {
        key: keys[0],
        notes: String::new(),
    });
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::InStore);
    assert_eq!(
        h.register.case(case).unwrap().closed,
        Some(CaseClosed::Found)
    );
    let last = h.register.timeline(locker).last().unwrap();
    assert_eq!(
        h.register.describe(last),
        format!("Key {} found", h.register.key(keys[0]).unwrap().tag)
    );
}

#[test]
fn the_master_key_a_locker_was_opened_with_must_be_a_master_key() {
    let Setup { mut h, keys, .. } = setup(76);
    let case = h.report_lost(keys[0], Loss::default());
    let err = h
        .run(Command::DecideLostCase {
            case,
            outcome: CaseOutcome::Replace,
            reason: "Opened to check".into(),
            opened_with: Some(keys[1]),
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::OpenedWithNotMaster { .. }));
}

#[test]
fn repeated_losses_by_a_person_and_at_a_locker_are_listed() {
    let Setup {
        mut h,
        site,
        locker,
        keys,
        sam,
    } = setup(77);
    h.report_lost(keys[0], Loss::default());
    h.ok(h.issue(keys[1], locker, Holder::Person(sam)));
    h.report_lost(keys[1], Loss::default());
    assert_eq!(h.register.losses_of(sam).len(), 2);
    assert_eq!(h.register.losses_at(locker).len(), 2);
    let repeated = h.register.repeated_losses(site);
    assert_eq!(repeated.people, [(sam, 2)]);
    assert_eq!(repeated.lockers, [(locker, 2)]);
}
