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

fn at(day: NaiveDate, h: u32, m: u32) -> NaiveDateTime {
    day.and_hms_opt(h, m, 0).unwrap()
}

#[test]
fn overdue_is_computed_from_the_given_time_and_the_due_time() {
    let mut h = Harness::new(401);
    let (site, area) = h.site("St Mary's Hospital");
    let locker = h.locker(site, area, "W1");
    let keys = h.lock_with_keys(locker, 2);
    let today = h.today();
    let evening = NaiveTime::from_hms_opt(19, 30, 0);
    h.ok(h.lend(
        keys[0],
        locker,
        Holder::Department("Ward 3".into()),
        today,
        evening,
    ));
    h.ok(h.lend(
        keys[1],
        locker,
        Holder::Department("Theatres".into()),
        today,
        None,
    ));
    let timed = h.register.current_loan(keys[0]).unwrap().clone();
    let dated = h.register.current_loan(keys[1]).unwrap().clone();
    assert_eq!(timed.due_time, evening);
    assert!(
        !timed.is_overdue(at(today, 19, 30)),
        "due at 19:30 is not late at 19:30"
    );
    assert!(timed.is_overdue(at(today, 19, 31)));
    assert_eq!(
        timed.lateness(at(today, 21, 30)),
        Some(chrono::Duration::hours(2))
    );
    assert!(
        !dated.is_overdue(at(today, 23, 59)),
        "no time: due by the end of the day"
    );
    assert!(dated.is_overdue(start(today + chrono::Days::new(1))));
    assert_eq!(due_words(&timed), "26/11/2026 19:30");
    let index = search::Index::build_at(&h.register, site, at(today, 20, 0));
    assert_eq!(index.overdue(), 1);
    assert_eq!(search::Index::build(&h.register, site, today).overdue(), 0);
    let lines: Vec<String> = h
        .register
        .timeline(locker)
        .iter()
        .map(|e| h.register.describe(e))
        .collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("due back 26/11/2026 19:30")),
        "{lines:?}"
    );
}

#[test]
fn the_overdue_list_is_by_area_oldest_first_with_holder_and_how_late() {
    let mut h = Harness::new(402);
    let (site, corridor) = h.site("Southgate Leisure");
    let pool = match h
        .ok(Command::AddArea {
            site,
            name: "Pool".into(),
        })
        .change
    {
        Change::AreaAdded { area, .. } => area,
        c => panic!("{c:?}"),
    };
    let c1 = h.locker(site, corridor, "C1");
    let p1 = h.locker(site, pool, "P1");
    let ck = h.lock_with_keys(c1, 2);
    let pk = h.lock_with_keys(p1, 1);
    let sam = h.person(site, "Sam Jones", "M1");
    let today = h.today();
    let late = |h: &mut Harness, key, locker, holder, days_ago: u64, time| {
        let mut c = h.lend(
            key,
            locker,
            holder,
            today - chrono::Days::new(days_ago),
            time,
        );
        if let Command::IssueKey { date, .. } = &mut c {
            *date = today - chrono::Days::new(days_ago + 1);
        }
        h.ok(c);
    };
    late(&mut h, ck[0], c1, Holder::Person(sam), 1, None);
    late(
        &mut h,
        ck[1],
        c1,
        Holder::Department("Swim club".into()),
        3,
        None,
    );
    late(
        &mut h,
        pk[0],
        p1,
        Holder::Department("Lifeguards".into()),
        0,
        NaiveTime::from_hms_opt(8, 0, 0),
    );
    let now = at(today, 10, 0);
    let list = h.register.overdue(site, None, now);
    let rows: Vec<(&str, &str, String)> = list
        .iter()
        .map(|o| (o.area_name.as_str(), o.holder.as_str(), o.late_words()))
        .collect();
    assert_eq!(
        rows,
        [
            ("Main corridor", "Swim club", "2 days late".to_string()),
            ("Main corridor", "Sam Jones", "10 hours late".to_string()),
            ("Pool", "Lifeguards", "2 hours late".to_string()),
        ]
    );
    assert_eq!(h.register.overdue(site, Some(pool), now).len(), 1);
    assert_eq!(h.register.overdue_count(site, now), 3);
    let sams = h.register.overdue_of(sam, now);
    assert_eq!(sams.len(), 1);
    assert_eq!(sams[0].key.id, ck[0]);
    assert_eq!(late_words(chrono::Duration::minutes(1)), "1 minute late");
    h.ok(h.ret(ck[1]));
    assert_eq!(
        h.register.overdue_count(site, now),
        2,
        "returned, no longer overdue"
    );
}

#[test]
fn a_loan_longer_than_the_policys_maximum_is_refused_saying_the_maximum() {
    let mut h = Harness::new(403);
    let (site, area) = h.site("Southgate Leisure");
    let locker = h.locker(site, area, "D1");
    let keys = h.lock_with_keys(locker, 1);
    let today = h.today();
    assert_eq!(
        h.register.default_return(locker, today),
        today + chrono::Days::new(1)
    );
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            default_loan_days: Some(2),
            max_loan_days: Some(3),
            ..Default::default()
        },
        clear: vec![],
    });
    assert_eq!(
        h.register.default_return(locker, today),
        today + chrono::Days::new(2)
    );
    assert_eq!(
        h.register.latest_return(locker, today),
        today + chrono::Days::new(3)
    );
    let before = h.register.clone();
    let err = h
        .run(h.lend(
            keys[0],
            locker,
            Holder::Department("Gym".into()),
            today + chrono::Days::new(4),
            None,
        ))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "A temporary loan here can last at most 3 days, so the key must be due back by 29/11/2026. Choose an earlier date, or ask an admin about the area's policy."
    );
    assert_eq!(h.register, before);
    // A time without a day is refused; a term issue has no maximum.
    let mut timed = h.issue(keys[0], locker, Holder::Department("Gym".into()));
    if let Command::IssueKey { due_time, .. } = &mut timed {
        *due_time = NaiveTime::from_hms_opt(17, 0, 0);
    }
    assert_eq!(h.run(timed), Err(CommandError::DueTimeWithoutDate));
    h.ok(h.lend(
        keys[0],
        locker,
        Holder::Department("Gym".into()),
        today + chrono::Days::new(3),
        None,
    ));
    assert_eq!(h.register.key(keys[0]).unwrap().state.label(), "On loan");
    assert_eq!(LockerStatus::OnLoan.label(), "On loan");
    assert_eq!(
        LockerStatus::from_slug("signed-out"),
        Some(LockerStatus::OnLoan)
    );
    assert_eq!(
        LockerStatus::from_slug("on-loan"),
        Some(LockerStatus::OnLoan)
    );
}

#[test]
fn a_handover_closes_one_loan_and_opens_the_next_in_one_event() {
    let mut h = Harness::new(404);
    let (site, area) = h.site("St Mary's Hospital");
    let locker = h.locker(site, area, "W2");
    let keys = h.lock_with_keys(locker, 1);
    let ana = h.person(site, "Ana Nurse", "S1");
    let ben = h.person(site, "Ben Nurse", "S2");
    let issued = h.ok(h.issue(keys[0], locker, Holder::Person(ana)));
    let first = match issued.change {
        Change::KeyIssued { loan, .. } => loan,
        c => panic!("{c:?}"),
    };
    let events = h.log.len();
    let handed = h.ok(h.hand_over(keys[0], Holder::Person(ben)));
    assert_eq!(h.log.len(), events + 1, "one event");
    let Change::KeyHandedOver { loan, new_loan, .. } = handed.change else {
        panic!("{:?}", handed.change)
    };
    assert_eq!(loan, first);
    let old = h.register.loan(first).unwrap();
    let back = old.returned.as_ref().expect("the old loan is closed");
    assert_eq!(
        (
            back.brought_by.as_str(),
            back.received_by.as_str(),
            back.handed_over_to
        ),
        ("Ana Nurse", "Ben Nurse", Some(new_loan))
    );
    let new = h.register.loan(new_loan).unwrap();
    assert_eq!(
        (new.holder.clone(), new.handed_over_from),
        (Holder::Person(ben), Some(first))
    );
    let key = h.register.key(keys[0]).unwrap();
    assert_eq!((key.state, key.loan), (KeyState::Issued, Some(new_loan)));
    assert_eq!(h.register.holders_of(locker), ["Ben Nurse"]);
    assert!(h.register.keys_held_by(ana).is_empty());
    let tag = key.tag.to_string();
    let last = h
        .register
        .describe(h.register.timeline(locker).last().unwrap());
    assert_eq!(
        last,
        format!("Key {tag} handed over from Ana Nurse to Ben Nurse on 26/11/2026 (name typed)")
    );
}

#[test]
fn a_handover_needs_a_key_that_is_out_and_a_new_holder() {
    let mut h = Harness::new(405);
    let (site, area) = h.site("St Mary's Hospital");
    let locker = h.locker(site, area, "W4");
    let keys = h.lock_with_keys(locker, 2);
    let ana = h.person(site, "Ana Nurse", "S1");
    let ben = h.person(site, "Ben Nurse", "S2");
    let err = h
        .run(h.hand_over(keys[0], Holder::Person(ben)))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("is in store, not out, so there is nothing to hand over"),
        "{err}"
    );
    h.ok(h.issue(keys[0], locker, Holder::Person(ana)));
    h.ok(h.issue(keys[1], locker, Holder::Person(ben)));
    assert_eq!(
        h.run(h.hand_over(keys[0], Holder::Person(ana))),
        Err(CommandError::HandOverToSameHolder {
            name: "Ana Nurse".into()
        })
    );
    let err = h
        .run(h.hand_over(keys[0], Holder::Person(ben)))
        .unwrap_err();
    assert!(matches!(err, CommandError::AlreadyHoldsKey { .. }), "{err}");
    // The new holder's loan keeps the policy's maximum too.
    let mut long = h.hand_over(keys[0], Holder::Department("Night team".into()));
    if let Command::HandOverKey {
        expected_return, ..
    } = &mut long
    {
        *expected_return = Some(h.today() + chrono::Days::new(8));
    }
    assert!(matches!(
        h.run(long),
        Err(CommandError::LoanTooLong { max_days: 7, .. })
    ));
}

#[test]
fn spare_keys_out_are_listed_with_who_took_them_and_where_they_go_back() {
    let mut h = Harness::new(406);
    let (site, area) = h.site("Southgate Leisure");
    let locker = h.locker(site, area, "S1");
    let user = h.lock_with_keys(locker, 1);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let spare = match h
        .ok(Command::AddKeys {
            lock,
            kind: KeyKind::Spare,
            count: 1,
            storage: "Office safe".into(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        c => panic!("{c:?}"),
    };
    h.ok(h.issue(user[0], locker, Holder::Department("Desk".into())));
    assert!(h.register.spares_out(site).is_empty());
    h.ok(h.issue(spare, locker, Holder::Department("Cleaners".into())));
    let out = h.register.spares_out(site);
    assert_eq!(out.len(), 1);
    let (key, loan) = out[0];
    assert_eq!(key.storage.as_deref(), Some("Office safe"));
    assert_eq!(h.register.holder_name(&loan.holder), "Cleaners");
    h.ok(h.ret(spare));
    assert!(h.register.spares_out(site).is_empty());
}

#[test]
fn the_server_refuses_crafted_due_times_and_handovers() {
    let mut h = Harness::new(407);
    let (site, area) = h.site("St Mary's Hospital");
    let locker = h.locker(site, area, "W5");
    let keys = h.lock_with_keys(locker, 1);
    let issued = h.ok(h.issue(keys[0], locker, Holder::Department("Ward".into())));
    let mut timeless = issued.clone();
    timeless.id = EventId::generate(h.now, &mut h.entropy);
    if let Change::KeyIssued { due_time, .. } = &mut timeless.change {
        *due_time = NaiveTime::from_hms_opt(17, 0, 0);
    }
    assert!(
        keyward_core::sync::judge(&h.register, site, h.device, Role::Admin, &timeless).is_err()
    );
    let handed = h
        .run(h.hand_over(keys[0], Holder::Department("Night".into())))
        .unwrap();
    let mut crafted = handed.clone();
    if let Change::KeyHandedOver {
        new_loan,
        loan,
        due_time,
        expected_return,
        ..
    } = &mut crafted.change
    {
        *new_loan = *loan;
        *expected_return = Some(h.today());
        *due_time = NaiveTime::from_hms_opt(17, 0, 30);
    }
    assert!(crafted.check().is_err());
    assert!(handed.check().is_ok());
}

/// Sets how the person taking a key confirms it in one area.
fn confirm_in(h: &mut Harness, area: AreaId, how: TakerConfirms) {
    h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            taker_confirms: Some(how),
            ..PolicyOverrides::default()
        },
        clear: Vec::new(),
    });
}

fn confirmed(mut c: Command, how: Confirmation) -> Command {
    if let Command::IssueKey { confirmation, .. } | Command::HandOverKey { confirmation, .. } =
        &mut c
    {
        *confirmation = how;
    }
    c
}

#[test]
fn a_tap_confirms_an_issue_only_where_the_policy_allows_it() {
    let mut h = Harness::new(41);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "T1");
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P1");
    let alex = h.person(site, "Alex Smith", "P2");
    let tap = |h: &Harness| {
        confirmed(
            h.issue(keys[0], locker, Holder::Person(sam)),
            Confirmation::Tapped,
        )
    };

    // By default the taker types their name or signs: a tap is refused and changes nothing.
    assert_eq!(
        Policy::default().taker_confirms,
        TakerConfirms::NameOrSignature
    );
    let before = h.register.clone();
    let err = h.run(tap(&h)).unwrap_err();
    assert_eq!(
        err,
        CommandError::ConfirmationNotAllowed {
            needs: TakerConfirms::NameOrSignature
        }
    );
    assert!(
        err.to_string().contains("a tap is not enough here"),
        "{err}"
    );
    assert_eq!(h.register, before);

    // Where only a typed name will do, a signature is refused too, and a name is taken.
    confirm_in(&mut h, area, TakerConfirms::TypedName);
    let signed = confirmed(
        h.issue(keys[0], locker, Holder::Person(sam)),
        Confirmation::Signature("M10 10 L20 20".into()),
    );
    assert_eq!(
        h.run(signed).unwrap_err(),
        CommandError::ConfirmationNotAllowed {
            needs: TakerConfirms::TypedName
        }
    );
    assert!(h.run(tap(&h)).is_err());
    // An empty name is refused in the words of what this area asks for.
    let empty = confirmed(
        h.issue(keys[0], locker, Holder::Person(sam)),
        Confirmation::TypedName("  ".into()),
    );
    let err = h.run(empty).unwrap_err();
    assert_eq!(
        err,
        CommandError::ConfirmationNotAllowed {
            needs: TakerConfirms::TypedName
        }
    );
    assert!(err.to_string().contains("type their own name"), "{err}");

    // Where only a signature will do, a typed name is refused.
    confirm_in(&mut h, area, TakerConfirms::Signature);
    let err = h
        .run(h.issue(keys[0], locker, Holder::Person(sam)))
        .unwrap_err();
    assert!(err.to_string().contains("sign on screen"), "{err}");

    // A low-risk area: the issuer's tap is enough, and the history says so.
    confirm_in(&mut h, area, TakerConfirms::IssuerTap);
    let event = h.ok(tap(&h));
    match &event.change {
        Change::KeyIssued { confirmation, .. } => assert_eq!(*confirmation, Confirmation::Tapped),
        c => panic!("{c:?}"),
    }
    let line = h
        .register
        .describe(h.register.timeline(locker).last().unwrap());
    assert!(line.ends_with("(confirmed by the issuer's tap)"), "{line}");
    // A name or a signature is still welcome there.
    h.ok(h.ret(keys[0]));
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));

    // A handover follows the same policy.
    confirm_in(&mut h, area, TakerConfirms::TypedName);
    let handed = confirmed(
        h.hand_over(keys[0], Holder::Person(alex)),
        Confirmation::Tapped,
    );
    assert!(matches!(
        h.run(handed.clone()).unwrap_err(),
        CommandError::ConfirmationNotAllowed { .. }
    ));
    confirm_in(&mut h, area, TakerConfirms::IssuerTap);
    h.ok(handed);
    assert_eq!(h.register.holders_of(locker), ["Alex Smith"]);
}

#[test]
fn the_likely_takers_are_the_lockers_earlier_holders_then_the_sites_latest() {
    let mut h = Harness::new(42);
    let (site, area) = h.site("Northgate School");
    let l1 = h.locker(site, area, "L1");
    let l2 = h.locker(site, area, "L2");
    let k1 = h.lock_with_keys(l1, 2);
    let k2 = h.lock_with_keys(l2, 1);
    let names = ["Ann", "Bea", "Cal", "Dev", "Eve", "Fin", "Gus", "Hal"];
    let people: Vec<PersonId> = names.iter().map(|n| h.person(site, n, "")).collect();
    let (other, other_area) = h.site("Southgate Leisure");
    let stranger_locker = h.locker(other, other_area, "S1");
    let stranger_key = h.lock_with_keys(stranger_locker, 1);
    let stranger = h.person(other, "Zed", "");
    let names_of = |h: &Harness, locker| -> Vec<String> {
        h.register
            .likely_takers(locker, LIKELY_TAKERS)
            .into_iter()
            .map(|p| p.details.name.clone())
            .collect()
    };
    assert!(names_of(&h, l1).is_empty());

    // Ann then Bea held L1's first key; Cal … Hal took L2's key one after another.
    for p in &people[..2] {
        h.ok(h.issue(k1[0], l1, Holder::Person(*p)));
        h.ok(h.ret(k1[0]));
    }
    for p in &people[2..] {
        h.ok(h.issue(k2[0], l2, Holder::Person(*p)));
        h.ok(h.ret(k2[0]));
    }
    // A department and another site's people are never offered.
    h.ok(h.issue(k1[1], l1, Holder::Department("PE".into())));
    h.ok(h.issue(stranger_key[0], stranger_locker, Holder::Person(stranger)));

    assert_eq!(names_of(&h, l1), ["Bea", "Ann", "Hal", "Gus", "Fin", "Eve"]);
    assert_eq!(names_of(&h, l2), ["Hal", "Gus", "Fin", "Eve", "Dev", "Cal"]);

    // Someone who holds a key of the locker now cannot take another: left out.
    h.ok(h.issue(k1[0], l1, Holder::Person(people[7])));
    assert_eq!(names_of(&h, l1), ["Bea", "Ann", "Gus", "Fin", "Eve", "Dev"]);
    assert_eq!(h.register.likely_takers(l1, 2).len(), 2);
}
