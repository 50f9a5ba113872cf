//! Loans: issue, return, temporary loans and overdue.

use crate::common::Harness;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use keyward_core::*;

/// The first moment of a day.
fn start(day: NaiveDate) -> NaiveDateTime {
    day.and_time(NaiveTime::MIN)
}

#[test]
fn a_key_is_issued_once_and_only_from_store() {
    let mut h = Harness::new(6);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "C3");
    let keys = h.lock_with_keys(locker, 2);
    let sam = h.person(site, "Sam Jones", "P100");
    let alex = h.person(site, "Alex Smith", "P101");

    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::Issued);
    assert_eq!(
        h.register.status(h.register.locker(locker).unwrap()),
        LockerStatus::InUse
    );
    assert_eq!(h.register.holders_of(locker), ["Sam Jones"]);

    let before = h.register.clone();
    let err = h
        .run(h.issue(keys[0], locker, Holder::Person(alex)))
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyNotInStore { .. }));
    assert!(err.to_string().contains("is issued, not in store"), "{err}");
    assert_eq!(h.register, before);

    // Sam may not hold two keys to the same locker.
    let err = h
        .run(h.issue(keys[1], locker, Holder::Person(sam)))
        .unwrap_err();
    assert!(matches!(err, CommandError::AlreadyHoldsKey { .. }), "{err}");
    assert_eq!(h.register, before);

    // The spare copy can go to somebody else.
    h.ok(h.issue(keys[1], locker, Holder::Person(alex)));
    assert_eq!(h.register.keys_held_by(alex).len(), 1);
}

#[test]
fn a_key_for_another_locker_or_a_master_key_is_refused() {
    let mut h = Harness::new(7);
    let (site, area) = h.site("Northgate School");
    let c1 = h.locker(site, area, "C1");
    let c2 = h.locker(site, area, "C2");
    let keys = h.lock_with_keys(c1, 1);
    let sam = h.person(site, "Sam Jones", "");
    let err = h
        .run(h.issue(keys[0], c2, Holder::Person(sam)))
        .unwrap_err();
    assert!(matches!(err, CommandError::KeyNotForLocker { .. }));

    let lock = h.register.locker(c1).unwrap().lock.unwrap();
    let master = match h
        .ok(Command::AddKeys {
            lock,
            kind: KeyKind::Master,
            count: 1,
            storage: String::new(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        _ => unreachable!(),
    };
    let err = h.run(h.issue(master, c1, Holder::Person(sam))).unwrap_err();
    assert_eq!(err, CommandError::MasterKeyNotIssued);
}

#[test]
fn issuing_needs_a_holder_a_confirmation_and_sane_dates() {
    let mut h = Harness::new(8);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "D4");
    let keys = h.lock_with_keys(locker, 1);
    let blank_department = h.issue(keys[0], locker, Holder::Department("  ".into()));
    assert_eq!(
        h.run(blank_department).unwrap_err(),
        CommandError::HolderMissing
    );

    let mut unconfirmed = h.issue(keys[0], locker, Holder::Department("PE".into()));
    if let Command::IssueKey { confirmation, .. } = &mut unconfirmed {
        *confirmation = Confirmation::TypedName(" ".into());
    }
    assert_eq!(
        h.run(unconfirmed).unwrap_err(),
        CommandError::ConfirmationMissing
    );

    let mut backwards = h.issue(keys[0], locker, Holder::Department("PE".into()));
    if let Command::IssueKey {
        expected_return, ..
    } = &mut backwards
    {
        *expected_return = Some(h.today().pred_opt().unwrap());
    }
    let err = h.run(backwards).unwrap_err();
    assert_eq!(
        err.to_string(),
        "The expected return (25/11/2026) is before the issue date (26/11/2026). Choose a later date."
    );

    // A temporary sign-out to a department, signed on screen.
    let mut loan = h.issue(keys[0], locker, Holder::Department(" PE  staff ".into()));
    if let Command::IssueKey {
        expected_return,
        confirmation,
        ..
    } = &mut loan
    {
        *expected_return = Some(h.today().succ_opt().unwrap());
        *confirmation = Confirmation::Signature("M10 10 L20 20".into());
    }
    h.ok(loan);
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::SignedOut);
    assert_eq!(
        h.register.status(h.register.locker(locker).unwrap()),
        LockerStatus::OnLoan
    );
    assert_eq!(h.register.holders_of(locker), ["PE staff"]);
}

#[test]
fn returning_puts_the_key_back_or_marks_it_damaged() {
    let mut h = Harness::new(9);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "E5");
    let keys = h.lock_with_keys(locker, 2);
    let sam = h.person(site, "Sam Jones", "P1");

    let err = h.run(h.ret(keys[0])).unwrap_err();
    assert!(err.to_string().contains("is in store, not out"), "{err}");

    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let mut missing_receiver = h.ret(keys[0]);
    if let Command::ReturnKey { received_by, .. } = &mut missing_receiver {
        *received_by = " ".into();
    }
    assert_eq!(
        h.run(missing_receiver).unwrap_err(),
        CommandError::ReceiverMissing
    );

    h.ok(h.ret(keys[0]));
    let key = h.register.key(keys[0]).unwrap();
    assert_eq!(key.state, KeyState::InStore);
    assert_eq!(key.loan, None);
    let loans = h.register.loans_of(sam);
    assert_eq!(loans.len(), 1);
    let returned = loans[0].returned.as_ref().unwrap();
    assert_eq!(
        returned.brought_by, "Sam Jones",
        "the holder brought it by default"
    );
    assert_eq!(
        h.register.status(h.register.locker(locker).unwrap()),
        LockerStatus::Free
    );

    // Returning twice is refused.
    assert!(matches!(
        h.run(h.ret(keys[0])).unwrap_err(),
        CommandError::KeyNotOut { .. }
    ));

    h.ok(h.issue(keys[1], locker, Holder::Person(sam)));
    let mut damaged = h.ret(keys[1]);
    if let Command::ReturnKey { condition, .. } = &mut damaged {
        *condition = Condition::Damaged;
    }
    h.ok(damaged);
    assert_eq!(h.register.key(keys[1]).unwrap().state, KeyState::Damaged);
    // A damaged key is not in store and cannot be issued.
    let err = h
        .run(h.issue(keys[1], locker, Holder::Person(sam)))
        .unwrap_err();
    assert!(err.to_string().contains("is damaged"), "{err}");
}

#[test]
fn a_temporary_loan_past_its_return_date_is_overdue() {
    let mut h = Harness::new(15);
    let (site, area) = h.site("Southgate Leisure");
    let locker = h.locker(site, area, "D1");
    let keys = h.lock_with_keys(locker, 2);
    let today = h.today();
    let mut late = h.issue(keys[0], locker, Holder::Department("Swim club".into()));
    if let Command::IssueKey {
        date,
        expected_return,
        ..
    } = &mut late
    {
        *date = today - chrono::Days::new(3);
        *expected_return = Some(today - chrono::Days::new(1));
    }
    h.ok(late);
    let mut due_today = h.issue(keys[1], locker, Holder::Department("Gym".into()));
    if let Command::IssueKey {
        expected_return, ..
    } = &mut due_today
    {
        *expected_return = Some(today);
    }
    h.ok(due_today);
    let loan = |k| h.register.current_loan(k).unwrap().clone();
    assert!(loan(keys[0]).is_overdue(start(today)));
    assert!(
        !loan(keys[1]).is_overdue(start(today) + chrono::Duration::hours(23)),
        "due today is not overdue yet"
    );
    assert!(loan(keys[1]).is_overdue(start(today + chrono::Days::new(1))));
    let index = search::Index::build(&h.register, site, today);
    assert_eq!(index.overdue(), 1);
    let overdue_only = search::Query {
        overdue: true,
        ..Default::default()
    };
    assert_eq!(index.search(&overdue_only, 10).total, 1);
    h.ok(h.ret(keys[0]));
    let index = search::Index::build(&h.register, site, today);
    assert_eq!(index.overdue(), 0, "returned, no longer overdue");
}
