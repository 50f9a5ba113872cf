//! Random command sequences keep the register's invariants, and the fold is deterministic.

mod common;

use common::Harness;
use keyward_core::*;
use proptest::prelude::*;
use std::collections::{HashMap, HashSet};

#[derive(Clone, Debug)]
enum Op {
    AddLocker(u8),
    AddRange(u8, u8),
    FitLock(u8),
    AddKeys(u8, u8),
    AddPerson(u8),
    Issue {
        key: u8,
        person: u8,
        temporary: bool,
    },
    Return {
        key: u8,
        damaged: bool,
    },
    Service(u8, bool),
    Fault(u8),
    ChangeLock(u8),
    Retire(u8),
    Lose {
        key: u8,
        stolen: bool,
    },
    Found(u8),
    Decide(u8, bool),
    Order(u8, u8),
    Receive(u8, u8),
    HandOver {
        key: u8,
        person: u8,
        temporary: bool,
    },
    /// The area's longest loan (0 clears the override).
    AreaMaxLoan(u8),
    /// A master-key command: which one, and two picks.
    Master(u8, u8, u8),
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        any::<u8>().prop_map(Op::AddLocker),
        (any::<u8>(), 0u8..12).prop_map(|(a, b)| Op::AddRange(a, b)),
        any::<u8>().prop_map(Op::FitLock),
        (any::<u8>(), 0u8..4).prop_map(|(a, b)| Op::AddKeys(a, b)),
        any::<u8>().prop_map(Op::AddPerson),
        (any::<u8>(), any::<u8>(), any::<bool>()).prop_map(|(key, person, temporary)| Op::Issue {
            key,
            person,
            temporary
        }),
        (any::<u8>(), any::<bool>()).prop_map(|(key, damaged)| Op::Return { key, damaged }),
        (any::<u8>(), any::<bool>()).prop_map(|(a, b)| Op::Service(a, b)),
        any::<u8>().prop_map(Op::Fault),
        any::<u8>().prop_map(Op::ChangeLock),
        any::<u8>().prop_map(Op::Retire),
        (any::<u8>(), any::<bool>()).prop_map(|(key, stolen)| Op::Lose { key, stolen }),
        any::<u8>().prop_map(Op::Found),
        (any::<u8>(), any::<bool>()).prop_map(|(a, b)| Op::Decide(a, b)),
        (any::<u8>(), 0u8..4).prop_map(|(a, b)| Op::Order(a, b)),
        (any::<u8>(), 0u8..4).prop_map(|(a, b)| Op::Receive(a, b)),
        (any::<u8>(), any::<u8>(), any::<bool>()).prop_map(|(key, person, temporary)| {
            Op::HandOver {
                key,
                person,
                temporary,
            }
        }),
        (0u8..10).prop_map(Op::AreaMaxLoan),
        (0u8..8, any::<u8>(), any::<u8>()).prop_map(|(c, a, b)| Op::Master(c, a, b)),
    ]
}

fn pick<T: Copy>(items: &[T], i: u8) -> Option<T> {
    (!items.is_empty()).then(|| items[usize::from(i) % items.len()])
}

fn check_invariants(r: &Register) {
    let mut open_loans_per_key: HashMap<KeyId, usize> = HashMap::new();
    let mut held: HashSet<(PersonId, LockerId)> = HashSet::new();
    for key in r.keys() {
        if let (KeyState::Retired, Some(loan)) = (key.state, key.loan) {
            let loan = r.loan(loan).expect("loan exists");
            assert!(loan.is_open(), "a key retired while out is on an open loan");
        } else if key.state.is_out() {
            let loan = r
                .loan(key.loan.expect("an out key has a loan"))
                .expect("loan exists");
            assert_eq!(loan.key, key.id);
            assert!(loan.is_open(), "an out key's loan is open");
            *open_loans_per_key.entry(key.id).or_default() += 1;
            if let Holder::Person(p) = loan.holder {
                assert!(
                    held.insert((p, loan.locker)),
                    "one key per person per locker"
                );
            }
        } else {
            assert!(key.loan.is_none(), "a key not out has no loan");
        }
    }
    assert!(
        open_loans_per_key.values().all(|n| *n == 1),
        "a key has at most one holder"
    );
    for key in r.keys() {
        if let Some(s) = r.master_sign_out_of(key.id) {
            assert_eq!(key.kind, KeyKind::Master);
            assert!(
                s.is_open() && s.key == key.id,
                "a master key is on an open sign-out"
            );
            assert_eq!(
                key.state,
                KeyState::InStore,
                "a signed-out master key is not lost"
            );
        }
    }
    for site in r.sites() {
        for case in r.open_cases(site.id) {
            let key = r.key(case.key).expect("a case's key");
            let lock = r.lock(key.lock).expect("its lock");
            assert!(
                matches!(key.state, KeyState::Lost | KeyState::Stolen),
                "an open case's key is missing"
            );
            assert!(
                lock.removed_at.is_none(),
                "a lock change closes the locker's cases"
            );
        }
        for order in r.orders_of(site.id) {
            for (i, line) in order.lines.iter().enumerate() {
                assert!(
                    order.received[i] <= line.quantity,
                    "never more received than ordered"
                );
            }
        }
    }
    let mut numbers = HashSet::new();
    for l in r.lockers() {
        assert!(
            numbers.insert((l.site, l.number.clone())),
            "locker numbers unique per site"
        );
        assert_eq!(
            normalise_locker_number(&l.number).as_deref(),
            Ok(l.number.as_str())
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_commands_keep_the_invariants(seed in any::<u64>(), ops in prop::collection::vec(op(), 1..80)) {
        let mut h = Harness::new(seed);
        let (site, area) = h.site("Northgate School");
        for op in ops {
            let lockers: Vec<LockerId> = h.register.lockers().map(|l| l.id).collect();
            let keys: Vec<KeyId> = h.register.keys().map(|k| k.id).collect();
            let people: Vec<PersonId> = h.register.people_of(site).iter().map(|p| p.id).collect();
            let command = match op {
                Op::AddLocker(n) => Command::AddLocker { site, area, number: format!(" a{n} "), allow_similar: false },
                Op::AddRange(start, len) => Command::AddLockerRange {
                    site, area, from: format!("A{start}"), to: format!("A{}", u16::from(start) + u16::from(len)),
                    allow_similar: false,
                },
                Op::FitLock(i) => match pick(&lockers, i) {
                    Some(locker) => Command::FitLock { locker, kind: LockKind::Keyed, code: format!("C{i}"), suite: String::new() },
                    None => continue,
                },
                Op::AddKeys(i, count) => match pick(&lockers, i).and_then(|l| h.register.locker(l).unwrap().lock) {
                    Some(lock) => Command::AddKeys { lock, kind: KeyKind::User, count: u32::from(count), storage: String::new() },
                    None => continue,
                },
                Op::AddPerson(n) => Command::AddPerson { site, details: PersonDetails {
                    name: format!("Person {n}"), kind: PersonKind::Pupil, reference: format!("R{}", n % 16), department: String::new(),
                }},
                Op::Issue { key: k, person, temporary } => match (pick(&keys, k), pick(&people, person)) {
                    (Some(key), Some(person)) => {
                        let locker = h.register.locker_of_key(key).unwrap().id;
                        let mut c = h.issue(key, locker, Holder::Person(person));
                        if let Command::IssueKey { expected_return, due_time, .. } = &mut c {
                            *expected_return = temporary.then(|| h.today() + chrono::Days::new(u64::from(k % 9)));
                            *due_time = (temporary && k % 2 == 0).then(|| chrono::NaiveTime::from_hms_opt(17, 0, 0).unwrap());
                        }
                        c
                    }
                    _ => continue,
                },
                Op::Return { key, damaged } => match pick(&keys, key) {
                    Some(key) => {
                        let mut c = h.ret(key);
                        if let Command::ReturnKey { condition, .. } = &mut c {
                            *condition = if damaged { Condition::Damaged } else { Condition::Fine };
                        }
                        c
                    }
                    None => continue,
                },
                Op::HandOver { key, person, temporary } => match (pick(&keys, key), pick(&people, person)) {
                    (Some(key), Some(person)) => {
                        let mut c = h.hand_over(key, Holder::Person(person));
                        if let Command::HandOverKey { expected_return, .. } = &mut c {
                            *expected_return = temporary.then(|| h.today() + chrono::Days::new(1));
                        }
                        c
                    }
                    _ => continue,
                },
                Op::AreaMaxLoan(0) => Command::SetAreaPolicy { area, set: PolicyOverrides::default(), clear: vec![PolicyField::MaxLoanDays] },
                Op::AreaMaxLoan(days) => Command::SetAreaPolicy {
                    area,
                    set: PolicyOverrides { max_loan_days: Some(u16::from(days)), ..Default::default() },
                    clear: vec![],
                },
                Op::Master(c, a, b) => {
                    let suites: Vec<SuiteId> = h.register.suites_of(site).iter().map(|s| s.id).collect();
                    let masters: Vec<KeyId> = h.register.keys().filter(|k| k.kind == KeyKind::Master).map(|k| k.id).collect();
                    match c {
                        0 => Command::DefineSuite { site, name: format!("Suite {}", a % 3), check_every_days: u32::from(b % 10), witness_required: b % 2 == 0 },
                        1 => match (pick(&lockers, a), pick(&suites, b)) {
                            (Some(locker), Some(suite)) => match h.register.locker(locker).unwrap().lock {
                                Some(lock) => Command::AddKeys { lock, kind: KeyKind::Master, count: 1, storage: String::new() },
                                None => Command::FitLock { locker, kind: LockKind::Keyed, code: format!("M{a}"), suite: h.register.suite(suite).unwrap().name.clone() },
                            },
                            _ => continue,
                        },
                        2 => match (pick(&suites, a), pick(&people, b)) {
                            (Some(suite), Some(person)) => Command::SetMasterHolder { suite, person, authorised: !h.register.is_authorised(suite, person) },
                            _ => continue,
                        },
                        3 => match (pick(&masters, a), pick(&people, b)) {
                            (Some(key), Some(person)) => Command::SignOutMasterKey {
                                key, person, reason: "Locked out".into(), witness: pick(&people, b.wrapping_add(1)), due_back: None, emergency: a % 2 == 0,
                            },
                            _ => continue,
                        },
                        4 => match pick(&masters, a) {
                            Some(key) => Command::ReturnMasterKey { key, received_by: "Pat".into(), notes: String::new() },
                            None => continue,
                        },
                        5 => match pick(&masters, a) {
                            Some(key) => Command::ReportMasterKeyLost { key, notes: String::new() },
                            None => continue,
                        },
                        6 => match pick(&masters, a) {
                            Some(key) => Command::CheckMasterKey { tag: h.register.key(key).unwrap().tag.clone(), notes: String::new() },
                            None => continue,
                        },
                        _ => {
                            let open: Vec<EscalationId> = h.register.open_escalations(site).iter().map(|e| e.id).collect();
                            let flagged: Vec<SignOutId> = h.register.uses_to_review(site).iter().map(|s| s.id).collect();
                            match (pick(&open, a), pick(&flagged, a)) {
                                (Some(escalation), _) if b % 2 == 0 => Command::ResolveEscalation { escalation, found: b % 4 == 0, notes: "Searched".into() },
                                (_, Some(sign_out)) => Command::ReviewEmergencyUse { sign_out, notes: "Reviewed".into() },
                                _ => continue,
                            }
                        }
                    }
                }
                Op::Service(i, out) => match pick(&lockers, i) {
                    Some(locker) => Command::SetLockerService { locker, out_of_service: out.then(|| "Broken".to_string()) },
                    None => continue,
                },
                Op::Fault(i) => match pick(&lockers, i).and_then(|l| h.register.locker(l).unwrap().lock) {
                    Some(lock) => Command::RecordFault { lock, kind: FaultKind::Broken, notes: String::new() },
                    None => continue,
                },
                Op::ChangeLock(i) => match pick(&lockers, i) {
                    Some(locker) => Command::ChangeLock { locker, kind: LockKind::Keyed, code: format!("N{i}"), suite: String::new(), reason: "Worn".into() },
                    None => continue,
                },
                Op::Retire(i) => match pick(&keys, i) {
                    Some(key) => Command::RetireKey { key, reason: "Worn".into() },
                    None => continue,
                },
                Op::Lose { key, stolen } => match pick(&keys, key) {
                    Some(key) => Command::ReportKeyLost { key, loss: Loss { stolen, ..Loss::default() }, notes: String::new() },
                    None => continue,
                },
                Op::Found(i) => match pick(&keys, i) {
                    Some(key) => Command::RecordKeyFound { key, notes: String::new() },
                    None => continue,
                },
                Op::Decide(i, change) => {
                    let cases: Vec<CaseId> = h.register.cases_of(site).iter().map(|c| c.id).collect();
                    match pick(&cases, i) {
                        Some(case) => Command::DecideLostCase {
                            case,
                            outcome: if change { CaseOutcome::ChangeLock } else { CaseOutcome::Replace },
                            reason: "Checked".into(),
                            opened_with: None,
                        },
                        None => continue,
                    }
                }
                Op::Order(i, n) => {
                    let supplier = match h.register.suppliers_of(site).first() {
                        Some(s) => s.id,
                        None => {
                            h.ok(Command::AddSupplier { site, name: "Timpson".into(), contact: String::new() });
                            continue;
                        }
                    };
                    let case = h.register.open_cases(site).first().map(|c| c.id);
                    match pick(&lockers, i).and_then(|l| h.register.locker(l).unwrap().lock) {
                        Some(lock) => Command::PlaceOrder {
                            supplier, lines: vec![(lock, KeyKind::User, u32::from(n))], ordered: h.today(),
                            expected: None, case, notes: String::new(),
                        },
                        None => continue,
                    }
                }
                Op::Receive(i, n) => {
                    let orders: Vec<OrderId> = h.register.orders_of(site).iter().map(|o| o.id).collect();
                    match pick(&orders, i) {
                        Some(order) => Command::ReceiveOrder { order, quantities: vec![u32::from(n)] },
                        None => continue,
                    }
                }
            };
            let before = h.register.clone();
            if let Err(e) = h.run(command) {
                prop_assert_eq!(&h.register, &before, "refused ({}) but changed", e);
                prop_assert!(!e.to_string().is_empty());
            }
            check_invariants(&h.register);
        }
        let folded = Register::fold(&h.log);
        prop_assert_eq!(&folded, &h.register);
        prop_assert_eq!(&Register::fold(&h.log), &folded);
        let json = serde_json::to_string(&h.log).unwrap();
        let back: Vec<Event> = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(&Register::fold(&back), &h.register);
    }
}
