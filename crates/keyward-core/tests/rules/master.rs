//! Master keys: suites, authorised holders, sign-out and return, emergency use, presence
//! checks and the escalation of a lost master key; and the conflicts between devices.

use crate::common::{Harness, Offline};
use chrono::Duration;
use keyward_core::*;

pub struct Ward {
    pub h: Harness,
    pub site: SiteId,
    /// Lockers C1 and C2, both with a lock of suite "Ward 7", and C3 outside it.
    pub lockers: Vec<LockerId>,
    pub locks: Vec<LockId>,
    /// The master key, recorded on C1's lock.
    pub master: KeyId,
    pub suite: SuiteId,
    /// An authorised holder, someone not authorised, and a witness.
    pub sam: PersonId,
    pub alex: PersonId,
    pub kim: PersonId,
}

pub fn fit(h: &mut Harness, locker: LockerId, suite: &str) -> LockId {
    match h
        .ok(Command::FitLock {
            locker,
            kind: LockKind::Keyed,
            code: "M 100".into(),
            suite: suite.into(),
        })
        .change
    {
        Change::LockFitted { lock, .. } => lock,
        c => panic!("{c:?}"),
    }
}

pub fn master_key(h: &mut Harness, lock: LockId) -> KeyId {
    match h
        .ok(Command::AddKeys {
            lock,
            kind: KeyKind::Master,
            count: 1,
            storage: "Key safe, hook 1".into(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys[0].id,
        c => panic!("{c:?}"),
    }
}

pub fn define(h: &mut Harness, site: SiteId, name: &str, witness_required: bool) -> SuiteId {
    match h
        .ok(Command::DefineSuite {
            site,
            name: name.into(),
            check_every_days: 7,
            witness_required,
        })
        .change
    {
        Change::SuiteDefined { suite, .. } => suite,
        c => panic!("{c:?}"),
    }
}

/// A ward whose master key was recorded on a lock before the suite was defined.
pub fn ward(seed: u64, witness_required: bool) -> Ward {
    let mut h = Harness::new(seed);
    let (site, area) = h.site("St Mary's Hospital");
    let lockers: Vec<LockerId> = ["C1", "C2", "C3"]
        .iter()
        .map(|n| h.locker(site, area, n))
        .collect();
    let locks = vec![
        fit(&mut h, lockers[0], "Ward 7"),
        fit(&mut h, lockers[1], "ward 7"),
        fit(&mut h, lockers[2], ""),
    ];
    let master = master_key(&mut h, locks[0]);
    let suite = define(&mut h, site, "Ward 7", witness_required);
    let sam = h.person(site, "Sam Jones", "S1");
    let alex = h.person(site, "Alex Smith", "S2");
    let kim = h.person(site, "Kim Lee", "S3");
    h.ok(Command::SetMasterHolder {
        suite,
        person: sam,
        authorised: true,
    });
    Ward {
        h,
        site,
        lockers,
        locks,
        master,
        suite,
        sam,
        alex,
        kim,
    }
}

pub fn sign_out(
    key: KeyId,
    person: PersonId,
    witness: Option<PersonId>,
    emergency: bool,
) -> Command {
    Command::SignOutMasterKey {
        key,
        person,
        reason: "Locked out of locker C2".into(),
        witness,
        due_back: None,
        emergency,
    }
}

pub fn ret(key: KeyId) -> Command {
    Command::ReturnMasterKey {
        key,
        received_by: "Pat Caretaker".into(),
        notes: String::new(),
    }
}

pub fn lost(key: KeyId) -> Command {
    Command::ReportMasterKeyLost {
        key,
        notes: "Not on its hook at handover".into(),
    }
}

fn sign_out_id(event: &Event) -> SignOutId {
    match &event.change {
        Change::MasterSignedOut { sign_out, .. } => *sign_out,
        c => panic!("{c:?}"),
    }
}

fn escalation_id(event: &Event) -> EscalationId {
    match &event.change {
        Change::MasterLostReported { escalation, .. } => *escalation,
        c => panic!("{c:?}"),
    }
}

#[test]
fn a_master_key_recorded_on_a_lock_becomes_its_suites_once_defined() {
    let mut h = Harness::new(301);
    let (site, area) = h.site("St Mary's Hospital");
    let c1 = h.locker(site, area, "C1");
    let lock = fit(&mut h, c1, "Ward 7");
    let master = master_key(&mut h, lock);
    let sam = h.person(site, "Sam Jones", "");
    // Before the suite is defined it is a master key of no suite, and cannot be used.
    let err = h.run(sign_out(master, sam, None, true)).unwrap_err();
    assert!(
        matches!(err, CommandError::MasterKeyWithoutSuite { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("(“Ward 7”)"), "{err}");
    let suite = define(&mut h, site, "WARD 7", false);
    assert_eq!(h.register.suite_of_key(master).unwrap().id, suite);
    assert_eq!(
        h.register
            .master_keys_of(suite)
            .iter()
            .map(|k| k.id)
            .collect::<Vec<_>>(),
        [master]
    );
    assert_eq!(h.register.suite_locks(suite).len(), 1);
    let err = h
        .run(Command::DefineSuite {
            site,
            name: " ward  7 ".into(),
            check_every_days: 7,
            witness_required: false,
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::SuiteNameTaken { .. }), "{err}");
}

#[test]
fn an_unauthorised_person_signs_out_only_by_the_recorded_emergency_route() {
    let mut w = ward(302, false);
    let before = w.h.register.clone();
    let err =
        w.h.run(sign_out(w.master, w.alex, None, false))
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Alex Smith is not an authorised holder of master key ".to_string()
            + w.h.register.key(w.master).unwrap().tag.as_str()
            + " (Ward 7). Choose an authorised holder, or record an emergency use with its reason."
    );
    assert_eq!(w.h.register, before);
    // An emergency needs its reason.
    let mut no_reason = sign_out(w.master, w.alex, None, true);
    if let Command::SignOutMasterKey { reason, .. } = &mut no_reason {
        *reason = "  ".into();
    }
    assert_eq!(
        w.h.run(no_reason).unwrap_err(),
        CommandError::MasterReasonMissing
    );
    let e = w.h.ok(sign_out(w.master, w.alex, None, true));
    let s = w.h.register.sign_out(sign_out_id(&e)).unwrap();
    assert!(s.emergency && s.needs_review());
    // The authorised holder's use is not an emergency.
    w.h.ok(ret(w.master));
    let e = w.h.ok(sign_out(w.master, w.sam, None, true));
    assert!(!w.h.register.sign_out(sign_out_id(&e)).unwrap().emergency);
}

#[test]
fn a_witness_is_required_where_the_suite_asks_for_one() {
    let mut w = ward(303, true);
    let err = w.h.run(sign_out(w.master, w.sam, None, false)).unwrap_err();
    assert_eq!(
        err,
        CommandError::WitnessRequired {
            suite: "Ward 7".into()
        }
    );
    let err =
        w.h.run(sign_out(w.master, w.sam, Some(w.sam), false))
            .unwrap_err();
    assert_eq!(err, CommandError::WitnessIsHolder);
    w.h.ok(sign_out(w.master, w.sam, Some(w.kim), false));
    assert_eq!(
        w.h.register.master_sign_out_of(w.master).unwrap().witness,
        Some(w.kim)
    );
}

#[test]
fn a_witness_is_required_where_an_areas_policy_asks_for_one() {
    let mut w = ward(304, false);
    w.h.ok(sign_out(w.master, w.sam, None, false));
    w.h.ok(Command::ReturnMasterKey {
        key: w.master,
        received_by: "Pat Caretaker".into(),
        notes: String::new(),
    });
    let area = w.h.register.locker(w.lockers[1]).unwrap().area;
    w.h.ok(Command::SetAreaPolicy {
        area,
        set: PolicyOverrides {
            master_needs_witness: Some(true),
            ..Default::default()
        },
        clear: vec![],
    });
    assert!(w.h.register.witness_required(w.suite));
    let err = w.h.run(sign_out(w.master, w.sam, None, false)).unwrap_err();
    assert!(matches!(err, CommandError::WitnessRequired { .. }), "{err}");
    w.h.ok(sign_out(w.master, w.sam, Some(w.kim), false));
}

#[test]
fn every_use_is_out_and_back_and_cannot_go_out_twice() {
    let mut w = ward(304, false);
    assert!(matches!(
        w.h.run(ret(w.master)).unwrap_err(),
        CommandError::MasterKeyNotOut { .. }
    ));
    let mut cmd = sign_out(w.master, w.sam, None, false);
    let due = w.h.now + Duration::hours(2);
    if let Command::SignOutMasterKey { due_back, .. } = &mut cmd {
        *due_back = Some(due);
    }
    w.h.ok(cmd);
    let err = w.h.run(sign_out(w.master, w.alex, None, true)).unwrap_err();
    assert!(matches!(err, CommandError::MasterKeyOut { .. }), "{err}");
    assert!(err.to_string().contains("signed out to Sam Jones"), "{err}");
    assert!(
        w.h.register
            .overdue_master_keys(w.site, due + Duration::minutes(1))
            .len()
            == 1
    );
    assert!(w.h.register.overdue_master_keys(w.site, due).is_empty());
    // The key's own state is unchanged: a sign-out is not a loan.
    assert_eq!(w.h.register.key(w.master).unwrap().state, KeyState::InStore);
    w.h.ok(ret(w.master));
    let s = &w.h.register.sign_outs_of_key(w.master)[0];
    assert!(!s.is_open() && s.returned.is_some());
    assert!(w.h.register.master_sign_out_of(w.master).is_none());
}

#[test]
fn only_a_master_key_of_a_suite_is_signed_out() {
    let mut w = ward(305, false);
    let c4 = {
        let area = w.h.register.areas_of(w.site)[0].id;
        w.h.locker(w.site, area, "C4")
    };
    let user = w.h.lock_with_keys(c4, 1)[0];
    let err = w.h.run(sign_out(user, w.sam, None, false)).unwrap_err();
    assert!(matches!(err, CommandError::NotAMasterKey { .. }), "{err}");
    // A master key on a lock that names no suite stays outside every suite.
    let loose = master_key(&mut w.h, w.locks[2]);
    let err = w.h.run(sign_out(loose, w.sam, None, false)).unwrap_err();
    assert!(
        matches!(err, CommandError::MasterKeyWithoutSuite { .. }),
        "{err}"
    );
}

#[test]
fn holders_are_set_and_withdrawn() {
    let mut w = ward(306, false);
    assert!(w.h.register.is_authorised(w.suite, w.sam));
    let err =
        w.h.run(Command::SetMasterHolder {
            suite: w.suite,
            person: w.sam,
            authorised: true,
        })
        .unwrap_err();
    assert!(matches!(err, CommandError::HolderUnchanged { .. }), "{err}");
    w.h.ok(Command::SetMasterHolder {
        suite: w.suite,
        person: w.sam,
        authorised: false,
    });
    assert!(!w.h.register.is_authorised(w.suite, w.sam));
    assert!(matches!(
        w.h.run(sign_out(w.master, w.sam, None, false)).unwrap_err(),
        CommandError::NotAuthorisedHolder { .. }
    ));
}

#[test]
fn an_emergency_use_stays_flagged_until_reviewed() {
    let mut w = ward(307, false);
    let e = w.h.ok(sign_out(w.master, w.alex, None, true));
    let id = sign_out_id(&e);
    w.h.ok(ret(w.master));
    assert_eq!(w.h.register.uses_to_review(w.site).len(), 1);
    let review = |notes: &str| Command::ReviewEmergencyUse {
        sign_out: id,
        notes: notes.into(),
    };
    assert_eq!(
        w.h.run(review(" ")).unwrap_err(),
        CommandError::ReviewNotesMissing
    );
    assert_eq!(w.h.register.uses_to_review(w.site).len(), 1);
    w.h.ok(review("Justified: patient's belongings"));
    assert!(w.h.register.uses_to_review(w.site).is_empty());
    assert!(matches!(
        w.h.run(review("again")).unwrap_err(),
        CommandError::AlreadyReviewed { .. }
    ));
    // An authorised use is not flagged.
    let e = w.h.ok(sign_out(w.master, w.sam, None, false));
    assert_eq!(
        w.h.run(Command::ReviewEmergencyUse {
            sign_out: sign_out_id(&e),
            notes: "x".into()
        })
        .unwrap_err(),
        CommandError::NotFlaggedForReview
    );
}

#[test]
fn a_presence_check_moves_the_due_date() {
    let mut w = ward(308, false);
    let defined = w.h.register.suite(w.suite).unwrap().defined_at;
    let due = &w.h.register.presence_checks(w.site, w.h.now)[0];
    assert_eq!(
        (due.key, due.due, due.late),
        (w.master, defined + Duration::days(7), false)
    );
    let later = defined + Duration::days(8);
    assert_eq!(w.h.register.late_presence_checks(w.site, later).len(), 1);
    let tag = w.h.register.key(w.master).unwrap().tag.clone();
    w.h.now = defined + Duration::days(5);
    w.h.ok(Command::CheckMasterKey {
        tag: tag.clone(),
        notes: String::new(),
    });
    let due = &w.h.register.presence_checks(w.site, later)[0];
    assert_eq!(due.last_seen, Some(w.h.now));
    assert_eq!(due.due, w.h.now + Duration::days(7));
    assert!(w.h.register.late_presence_checks(w.site, later).is_empty());
    // Not seen in its place while signed out, and an unknown tag says so.
    w.h.ok(sign_out(w.master, w.sam, None, false));
    assert!(matches!(
        w.h.run(Command::CheckMasterKey {
            tag,
            notes: String::new()
        })
        .unwrap_err(),
        CommandError::MasterKeyOut { .. }
    ));
    assert!(matches!(
        w.h.run(Command::CheckMasterKey {
            tag: TagId("2222222".into()),
            notes: String::new()
        })
        .unwrap_err(),
        CommandError::UnknownTag { .. }
    ));
}

#[test]
fn a_lost_master_key_escalates_listing_the_suites_locks_until_resolved() {
    let mut w = ward(309, false);
    w.h.ok(sign_out(w.master, w.sam, None, false));
    let e = w.h.ok(lost(w.master));
    let id = escalation_id(&e);
    let open = w.h.register.open_escalations(w.site);
    assert_eq!(open.len(), 1);
    assert_eq!(w.h.register.key(w.master).unwrap().state, KeyState::Lost);
    assert!(w.h.register.master_sign_out_of(w.master).is_none());
    let at_risk: Vec<String> =
        w.h.register
            .at_risk(id)
            .into_iter()
            .map(|a| a.number)
            .collect();
    assert_eq!(at_risk, ["C1", "C2"]);
    assert!(matches!(
        w.h.run(lost(w.master)).unwrap_err(),
        CommandError::MasterKeyLost { .. }
    ));
    assert!(matches!(
        w.h.run(sign_out(w.master, w.sam, None, false)).unwrap_err(),
        CommandError::MasterKeyLost { .. }
    ));
    assert!(w.h.register.presence_checks(w.site, w.h.now).is_empty());
    let resolve = |notes: &str| Command::ResolveEscalation {
        escalation: id,
        found: true,
        notes: notes.into(),
    };
    assert_eq!(
        w.h.run(resolve("")).unwrap_err(),
        CommandError::EscalationNotesMissing
    );
    w.h.ok(resolve("Found in the ward office"));
    assert!(w.h.register.open_escalations(w.site).is_empty());
    assert_eq!(w.h.register.key(w.master).unwrap().state, KeyState::InStore);
    let timeline: Vec<String> =
        w.h.register
            .timeline(w.lockers[0])
            .iter()
            .map(|e| w.h.register.describe(e))
            .collect();
    assert!(
        timeline
            .iter()
            .any(|l| l.ends_with("found: Found in the ward office")),
        "{timeline:?}"
    );
    // Not found: the key stays lost.
    let e = w.h.ok(lost(w.master));
    w.h.ok(Command::ResolveEscalation {
        escalation: escalation_id(&e),
        found: false,
        notes: "Suite locks changed".into(),
    });
    assert_eq!(w.h.register.key(w.master).unwrap().state, KeyState::Lost);
    assert!(w.h.register.open_escalations(w.site).is_empty());
}

// ----- conflicts between devices -----

fn two(w: &Ward) -> (Offline, Offline) {
    (
        w.h.offline(401, "Pat Caretaker"),
        w.h.offline(402, "Jo Ward"),
    )
}

/// The base log, then `first`, then `later`, folded.
fn merged(w: &Ward, first: &[Event], later: &[Event]) -> (Vec<Event>, Register) {
    let mut log = w.h.log.clone();
    log.extend(first.iter().chain(later).cloned());
    let r = Register::fold(&log);
    (log, r)
}

fn decide(log: &[Event], conflict: EventId, choice: Resolution) -> Register {
    let now = log.last().unwrap().at + Duration::minutes(5);
    let mut d = Offline::from_register(&Register::fold(log), now, 499, "Ash Admin");
    let e = d.ok(Command::ResolveConflict {
        conflict,
        choice,
        notes: "Checked".into(),
    });
    let mut all = log.to_vec();
    all.push(e);
    Register::fold(&all)
}

fn kind(r: &Register, event: &Event) -> ConflictKind {
    r.conflict(event.id).expect("a conflict").kind.clone()
}

fn signed_out_twice() -> (Ward, Vec<Event>, Register, Event, Event) {
    let w = ward(410, false);
    let (mut a, mut b) = two(&w);
    let first = a.ok(sign_out(w.master, w.sam, None, false));
    let later = b.ok(sign_out(w.master, w.alex, None, true));
    let (log, r) = merged(&w, &a.log, &b.log);
    (w, log, r, first, later)
}

#[test]
fn a_master_key_signed_out_on_two_devices_is_a_conflict() {
    let (w, _, r, first, later) = signed_out_twice();
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterOutTwice {
            key: w.master,
            sign_out: sign_out_id(&later),
            standing: sign_out_id(&first)
        }
    );
    assert_eq!(
        r.master_sign_out_of(w.master).unwrap().id,
        sign_out_id(&first)
    );
    let text = r.describe_conflict(r.conflict(later.id).unwrap());
    assert!(text.title.contains("signed out twice"), "{}", text.title);
    assert_eq!(
        text.choices[0].1,
        "Sam Jones has the key: close the sign-out to Alex Smith"
    );
    assert_eq!(r.open_conflicts(w.site).len(), 1);
}

#[test]
fn signed_out_twice_keep_first_closes_the_later() {
    let (w, log, _, first, later) = signed_out_twice();
    let r = decide(&log, later.id, Resolution::KeepFirst);
    assert_eq!(
        r.master_sign_out_of(w.master).unwrap().id,
        sign_out_id(&first)
    );
    assert!(!r.sign_out(sign_out_id(&later)).unwrap().is_open());
}

#[test]
fn signed_out_twice_keep_later_gives_the_key_to_the_later() {
    let (w, log, _, first, later) = signed_out_twice();
    let r = decide(&log, later.id, Resolution::KeepLater);
    assert_eq!(
        r.master_sign_out_of(w.master).unwrap().id,
        sign_out_id(&later)
    );
    assert!(!r.sign_out(sign_out_id(&first)).unwrap().is_open());
}

#[test]
fn a_master_key_signed_out_after_it_was_reported_lost_is_noted_and_closed() {
    let w = ward(411, false);
    let (mut a, mut b) = two(&w);
    let l = a.ok(lost(w.master));
    let later = b.ok(sign_out(w.master, w.sam, None, false));
    let (log, r) = merged(&w, &a.log, &b.log);
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterOutWhileLost {
            key: w.master,
            sign_out: sign_out_id(&later),
            escalation: escalation_id(&l)
        }
    );
    assert!(r.master_sign_out_of(w.master).is_none());
    let r = decide(&log, later.id, Resolution::Noted);
    assert!(!r.sign_out(sign_out_id(&later)).unwrap().is_open());
    assert_eq!(r.open_escalations(w.site).len(), 1);
}

#[test]
fn a_master_key_returned_on_two_devices_keeps_the_first_return() {
    let mut w = ward(412, false);
    let out = w.h.ok(sign_out(w.master, w.sam, None, false));
    let (mut a, mut b) = two(&w);
    a.ok(ret(w.master));
    let later = b.ok(Command::ReturnMasterKey {
        key: w.master,
        received_by: "Jo Ward".into(),
        notes: String::new(),
    });
    let (log, r) = merged(&w, &a.log, &b.log);
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterReturnedTwice {
            key: w.master,
            sign_out: sign_out_id(&out)
        }
    );
    let received = |r: &Register| {
        r.sign_out(sign_out_id(&out))
            .unwrap()
            .returned
            .as_ref()
            .unwrap()
            .received_by
            .clone()
    };
    assert_eq!(received(&r), "Pat Caretaker");
    let r = decide(&log, later.id, Resolution::Noted);
    assert_eq!(received(&r), "Pat Caretaker");
    assert!(r.open_conflicts(w.site).is_empty());
}

/// Pat reports the key lost while Sam has it out; Jo records its return.
fn returned_while_lost() -> (Ward, Vec<Event>, Register, Event, Event) {
    let mut w = ward(413, false);
    w.h.ok(sign_out(w.master, w.sam, None, false));
    let (mut a, mut b) = two(&w);
    let l = a.ok(lost(w.master));
    let later = b.ok(ret(w.master));
    let (log, r) = merged(&w, &a.log, &b.log);
    (w, log, r, l, later)
}

#[test]
fn a_master_key_returned_after_it_was_reported_lost_counts_as_lost_until_decided() {
    let (w, _, r, l, later) = returned_while_lost();
    assert!(matches!(
        kind(&r, &later),
        ConflictKind::MasterReturnedWhileLost { escalation, .. } if escalation == escalation_id(&l)
    ));
    assert_eq!(r.key(w.master).unwrap().state, KeyState::Lost);
    assert_eq!(r.open_escalations(w.site).len(), 1);
}

#[test]
fn returned_while_lost_keep_first_keeps_the_escalation() {
    let (w, log, _, _, later) = returned_while_lost();
    let r = decide(&log, later.id, Resolution::KeepFirst);
    assert_eq!(r.key(w.master).unwrap().state, KeyState::Lost);
    assert_eq!(r.open_escalations(w.site).len(), 1);
}

#[test]
fn returned_while_lost_keep_later_puts_the_key_back_and_closes_the_escalation() {
    let (w, log, _, l, later) = returned_while_lost();
    let r = decide(&log, later.id, Resolution::KeepLater);
    assert_eq!(r.key(w.master).unwrap().state, KeyState::InStore);
    assert!(r.open_escalations(w.site).is_empty());
    assert!(
        r.escalation(escalation_id(&l))
            .unwrap()
            .end
            .as_ref()
            .unwrap()
            .found
    );
}

/// Jo signs the key out to Sam; Pat, not having heard, reports it lost.
fn lost_meanwhile() -> (Ward, Vec<Event>, Register, Event, Event) {
    let w = ward(414, false);
    let (mut a, mut b) = two(&w);
    let out = b.ok(sign_out(w.master, w.sam, None, false));
    let later = a.ok(lost(w.master));
    let (log, r) = merged(&w, &b.log, &a.log);
    (w, log, r, out, later)
}

#[test]
fn a_master_key_reported_lost_after_it_moved_escalates_until_decided() {
    let (w, _, r, out, later) = lost_meanwhile();
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterLostMeanwhile {
            key: w.master,
            escalation: escalation_id(&later),
            standing: Some(sign_out_id(&out))
        }
    );
    assert_eq!(r.open_escalations(w.site).len(), 1);
    assert!(r.master_sign_out_of(w.master).is_none());
}

#[test]
fn lost_meanwhile_keep_first_gives_the_key_back_to_its_sign_out() {
    let (w, log, _, out, later) = lost_meanwhile();
    let r = decide(&log, later.id, Resolution::KeepFirst);
    assert!(r.open_escalations(w.site).is_empty());
    assert_eq!(
        r.master_sign_out_of(w.master).unwrap().id,
        sign_out_id(&out)
    );
    assert_eq!(r.key(w.master).unwrap().state, KeyState::InStore);
}

#[test]
fn lost_meanwhile_keep_later_keeps_it_lost() {
    let (w, log, _, _, later) = lost_meanwhile();
    let r = decide(&log, later.id, Resolution::KeepLater);
    assert_eq!(r.open_escalations(w.site).len(), 1);
    assert_eq!(r.key(w.master).unwrap().state, KeyState::Lost);
}

#[test]
fn a_master_key_reported_lost_on_two_devices_raises_one_escalation() {
    let w = ward(415, false);
    let (mut a, mut b) = two(&w);
    let first = a.ok(lost(w.master));
    let later = b.ok(lost(w.master));
    let (log, r) = merged(&w, &a.log, &b.log);
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterLostTwice {
            key: w.master,
            standing: escalation_id(&first)
        }
    );
    assert_eq!(r.open_escalations(w.site).len(), 1);
    let r = decide(&log, later.id, Resolution::Noted);
    assert_eq!(r.open_escalations(w.site).len(), 1);
}

#[test]
fn a_master_key_seen_while_out_elsewhere_is_noted_and_moves_the_due_date() {
    let w = ward(416, false);
    let (mut a, mut b) = two(&w);
    a.ok(sign_out(w.master, w.sam, None, false));
    let tag = w.h.register.key(w.master).unwrap().tag.clone();
    let later = b.ok(Command::CheckMasterKey {
        tag,
        notes: String::new(),
    });
    let (log, r) = merged(&w, &a.log, &b.log);
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterSeenMeanwhile { key: w.master }
    );
    assert_eq!(r.last_seen(w.master).unwrap().at, later.at);
    let r = decide(&log, later.id, Resolution::Noted);
    assert!(r.master_sign_out_of(w.master).is_some());
}

#[test]
fn a_sign_out_by_a_holder_withdrawn_elsewhere_is_flagged_for_review() {
    let w = ward(417, false);
    let (mut a, mut b) = two(&w);
    a.ok(Command::SetMasterHolder {
        suite: w.suite,
        person: w.sam,
        authorised: false,
    });
    let later = b.ok(sign_out(w.master, w.sam, None, false));
    let (log, r) = merged(&w, &a.log, &b.log);
    assert_eq!(
        kind(&r, &later),
        ConflictKind::MasterHolderWithdrawn {
            key: w.master,
            sign_out: sign_out_id(&later)
        }
    );
    assert_eq!(
        r.master_sign_out_of(w.master).unwrap().id,
        sign_out_id(&later)
    );
    assert_eq!(r.uses_to_review(w.site).len(), 1);
    let r = decide(&log, later.id, Resolution::Noted);
    assert_eq!(r.uses_to_review(w.site).len(), 1);
}

#[test]
fn an_emergency_use_reviewed_on_two_devices_keeps_the_first_review() {
    let mut w = ward(418, false);
    let e = w.h.ok(sign_out(w.master, w.alex, None, true));
    let review = |notes: &str| Command::ReviewEmergencyUse {
        sign_out: sign_out_id(&e),
        notes: notes.into(),
    };
    let (mut a, mut b) = two(&w);
    a.ok(review("Justified"));
    let later = b.ok(review("Not justified"));
    let (log, r) = merged(&w, &a.log, &b.log);
    assert!(matches!(
        kind(&r, &later),
        ConflictKind::MasterReviewedTwice { .. }
    ));
    let r = decide(&log, later.id, Resolution::Noted);
    assert_eq!(
        r.sign_out(sign_out_id(&e))
            .unwrap()
            .review
            .as_ref()
            .unwrap()
            .notes,
        "Justified"
    );
}

#[test]
fn an_escalation_resolved_on_two_devices_keeps_the_first() {
    let mut w = ward(419, false);
    let l = w.h.ok(lost(w.master));
    let resolve = |found: bool| Command::ResolveEscalation {
        escalation: escalation_id(&l),
        found,
        notes: "Checked the ward".into(),
    };
    let (mut a, mut b) = two(&w);
    a.ok(resolve(false));
    let later = b.ok(resolve(true));
    let (log, r) = merged(&w, &a.log, &b.log);
    assert!(matches!(
        kind(&r, &later),
        ConflictKind::EscalationResolvedTwice { .. }
    ));
    assert_eq!(r.key(w.master).unwrap().state, KeyState::Lost);
    let r = decide(&log, later.id, Resolution::Noted);
    assert!(
        !r.escalation(escalation_id(&l))
            .unwrap()
            .end
            .as_ref()
            .unwrap()
            .found
    );
}

#[test]
fn a_suite_defined_twice_keeps_the_first() {
    let w = ward(420, false);
    let (mut a, mut b) = two(&w);
    let first = a.ok(Command::DefineSuite {
        site: w.site,
        name: "Corridor B".into(),
        check_every_days: 30,
        witness_required: false,
    });
    let later = b.ok(Command::DefineSuite {
        site: w.site,
        name: "corridor b".into(),
        check_every_days: 7,
        witness_required: true,
    });
    let (log, r) = merged(&w, &a.log, &b.log);
    assert!(matches!(
        kind(&r, &later),
        ConflictKind::SuiteNameTaken { .. }
    ));
    assert_eq!(r.suites_of(w.site).len(), 2);
    assert_eq!(
        r.suite_by_name(w.site, "CORRIDOR B")
            .unwrap()
            .check_every_days,
        30
    );
    let _ = first;
    let r = decide(&log, later.id, Resolution::Noted);
    assert!(r.open_conflicts(w.site).is_empty());
}

#[test]
fn crafted_master_changes_are_refused_by_the_content_checks() {
    let w = ward(421, false);
    let bad = [
        Change::SuiteDefined {
            suite: w.suite,
            site: w.site,
            name: "Ward 9".into(),
            check_every_days: 0,
            witness_required: false,
        },
        Change::MasterSignedOut {
            sign_out: SignOutId::parse("0190a1b2-0000-7000-8000-000000000001").unwrap(),
            key: w.master,
            person: w.sam,
            reason: "x".repeat(checks::MAX_NAME + 1),
            witness: None,
            due_back: None,
            emergency: false,
        },
        Change::MasterSignedOut {
            sign_out: SignOutId::parse("0190a1b2-0000-7000-8000-000000000001").unwrap(),
            key: w.master,
            person: w.sam,
            reason: "Locked out".into(),
            witness: Some(w.sam),
            due_back: None,
            emergency: false,
        },
        Change::EscalationResolved {
            escalation: EscalationId::parse("0190a1b2-0000-7000-8000-000000000002").unwrap(),
            found: true,
            notes: String::new(),
        },
        Change::MasterReturned {
            sign_out: SignOutId::parse("0190a1b2-0000-7000-8000-000000000001").unwrap(),
            key: w.master,
            received_by: " Pat ".into(),
            notes: String::new(),
        },
    ];
    for change in bad {
        assert!(change.check().is_err(), "{change:?}");
    }
}
