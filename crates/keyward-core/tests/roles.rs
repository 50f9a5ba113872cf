//! The role table: every command against every role, written out here by hand (not derived
//! from `Role::may`), checked against the table in the core and against the server's `judge`.

mod common;

use common::Harness;
use keyward_core::sync::judge;
use keyward_core::*;

/// Who may do what. Columns: Admin, Custodian, Staff, Auditor, Viewer.
const EXPECTED: [(&str, [bool; 5]); 46] = [
    ("CreateSite", [true, false, false, false, false]),
    ("AddArea", [true, false, false, false, false]),
    ("SetSiteLabels", [true, false, false, false, false]),
    ("AddLocker", [true, true, false, false, false]),
    ("AddLockerRange", [true, true, false, false, false]),
    ("SetLockerService", [true, true, true, false, false]),
    ("FitLock", [true, true, false, false, false]),
    ("AddKeys", [true, true, false, false, false]),
    ("IssueLockerLabels", [true, true, false, false, false]),
    ("MakeBlankTags", [true, true, false, false, false]),
    ("AttachTag", [true, true, false, false, false]),
    ("IssueKey", [true, true, true, false, false]),
    ("ReturnKey", [true, true, true, false, false]),
    ("AddPerson", [true, true, true, false, false]),
    ("EditPerson", [true, true, true, false, false]),
    // As the change it carries: here a person added on another device.
    ("RecordAgain", [true, true, true, false, false]),
    ("ResolveConflict", [true, true, false, false, false]),
    ("RecordFault", [true, true, true, false, false]),
    ("ChangeLock", [true, true, false, false, false]),
    ("RetireKey", [true, true, false, false, false]),
    ("ReportKeyLost", [true, true, true, false, false]),
    ("RecordKeyFound", [true, true, true, false, false]),
    ("DecideLostCase", [true, true, false, false, false]),
    ("RecordCharge", [true, true, false, false, false]),
    ("AddSupplier", [true, true, false, false, false]),
    ("PlaceOrder", [true, true, false, false, false]),
    ("ReceiveOrder", [true, true, false, false, false]),
    ("SetSitePolicy", [true, false, false, false, false]),
    ("SetAreaPolicy", [true, false, false, false, false]),
    ("HandOverKey", [true, true, true, false, false]),
    ("DefineSuite", [true, true, false, false, false]),
    ("SetMasterHolder", [true, true, false, false, false]),
    ("ReviewEmergencyUse", [true, true, false, false, false]),
    ("ResolveEscalation", [true, true, false, false, false]),
    ("SignOutMasterKey", [true, true, true, false, false]),
    ("ReturnMasterKey", [true, true, true, false, false]),
    ("CheckMasterKey", [true, true, true, false, false]),
    ("ReportMasterKeyLost", [true, true, true, false, false]),
    ("StartAudit", [true, true, false, true, false]),
    ("RecordFinding", [true, true, false, true, false]),
    ("UndoFinding", [true, true, false, true, false]),
    ("CheckAuditMaster", [true, true, false, true, false]),
    ("CompleteAudit", [true, true, false, true, false]),
    ("SetAuditRoute", [true, true, false, true, false]),
    ("SetTermDates", [true, false, false, false, false]),
    ("SetPersonLeft", [true, true, true, false, false]),
];

const ROLES: [Role; 5] = [
    Role::Admin,
    Role::Custodian,
    Role::Staff,
    Role::Auditor,
    Role::Viewer,
];

/// The variant's name. No wildcard: a new command fails to compile here until it is added to
/// the table.
fn name(command: &Command) -> &'static str {
    match command {
        Command::CreateSite { .. } => "CreateSite",
        Command::AddArea { .. } => "AddArea",
        Command::AddLocker { .. } => "AddLocker",
        Command::AddLockerRange { .. } => "AddLockerRange",
        Command::SetLockerService { .. } => "SetLockerService",
        Command::FitLock { .. } => "FitLock",
        Command::AddKeys { .. } => "AddKeys",
        Command::AddPerson { .. } => "AddPerson",
        Command::EditPerson { .. } => "EditPerson",
        Command::IssueKey { .. } => "IssueKey",
        Command::SetSiteLabels { .. } => "SetSiteLabels",
        Command::IssueLockerLabels { .. } => "IssueLockerLabels",
        Command::MakeBlankTags { .. } => "MakeBlankTags",
        Command::AttachTag { .. } => "AttachTag",
        Command::ReturnKey { .. } => "ReturnKey",
        Command::ResolveConflict { .. } => "ResolveConflict",
        Command::RecordAgain { .. } => "RecordAgain",
        Command::RecordFault { .. } => "RecordFault",
        Command::ChangeLock { .. } => "ChangeLock",
        Command::RetireKey { .. } => "RetireKey",
        Command::ReportKeyLost { .. } => "ReportKeyLost",
        Command::RecordKeyFound { .. } => "RecordKeyFound",
        Command::DecideLostCase { .. } => "DecideLostCase",
        Command::RecordCharge { .. } => "RecordCharge",
        Command::AddSupplier { .. } => "AddSupplier",
        Command::PlaceOrder { .. } => "PlaceOrder",
        Command::ReceiveOrder { .. } => "ReceiveOrder",
        Command::SetSitePolicy { .. } => "SetSitePolicy",
        Command::SetAreaPolicy { .. } => "SetAreaPolicy",
        Command::HandOverKey { .. } => "HandOverKey",
        Command::DefineSuite { .. } => "DefineSuite",
        Command::SetMasterHolder { .. } => "SetMasterHolder",
        Command::ReviewEmergencyUse { .. } => "ReviewEmergencyUse",
        Command::ResolveEscalation { .. } => "ResolveEscalation",
        Command::SignOutMasterKey { .. } => "SignOutMasterKey",
        Command::ReturnMasterKey { .. } => "ReturnMasterKey",
        Command::CheckMasterKey { .. } => "CheckMasterKey",
        Command::ReportMasterKeyLost { .. } => "ReportMasterKeyLost",
        Command::StartAudit { .. } => "StartAudit",
        Command::RecordFinding { .. } => "RecordFinding",
        Command::UndoFinding { .. } => "UndoFinding",
        Command::CheckAuditMaster { .. } => "CheckAuditMaster",
        Command::CompleteAudit { .. } => "CompleteAudit",
        Command::SetAuditRoute { .. } => "SetAuditRoute",
        Command::SetTermDates { .. } => "SetTermDates",
        Command::SetPersonLeft { .. } => "SetPersonLeft",
    }
}

fn expected(command: &Command) -> [bool; 5] {
    let name = name(command);
    EXPECTED
        .iter()
        .find(|(n, _)| *n == name)
        .unwrap_or_else(|| panic!("{name} is missing from the expected table"))
        .1
}

/// A register in which every command below is valid, and one command of each variant.
fn fixture() -> (Harness, SiteId, Vec<Command>) {
    let mut h = Harness::new(21);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "A1");
    let keys = h.lock_with_keys(locker, 3);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let empty = h.locker(site, area, "A2");
    let sam = h.person(site, "Sam Jones", "P1");
    let alex = h.person(site, "Alex Smith", "P2");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let tag = match h.ok(Command::MakeBlankTags { site, count: 1 }).change {
        Change::BlankTagsMade { tags, .. } => tags[0].clone(),
        c => panic!("{c:?}"),
    };
    // A conflict to decide: another device issued key 2 while this one did too.
    let mut other = h.offline(22, "Jo Office");
    let offline = other.ok(h.issue(keys[1], locker, Holder::Department("Maths".into())));
    h.ok(h.issue(keys[1], locker, Holder::Department("Science".into())));
    h.register.apply(&offline);
    h.log.push(offline.clone());
    assert!(h.register.conflict(offline.id).is_some());
    // Master keys: a suite over locker A3's lock, two master keys, one out on an emergency
    // use, the other lost (an open escalation).
    let m1 = h.locker(site, area, "M1");
    let suite_lock = match h
        .ok(Command::FitLock {
            locker: m1,
            kind: LockKind::Keyed,
            code: "M 1".into(),
            suite: "Corridor A".into(),
        })
        .change
    {
        Change::LockFitted { lock, .. } => lock,
        c => panic!("{c:?}"),
    };
    let masters = match h
        .ok(Command::AddKeys {
            lock: suite_lock,
            kind: KeyKind::Master,
            count: 3,
            storage: String::new(),
        })
        .change
    {
        Change::KeysAdded { keys, .. } => keys,
        c => panic!("{c:?}"),
    };
    let suite = match h
        .ok(Command::DefineSuite {
            site,
            name: "Corridor A".into(),
            check_every_days: 7,
            witness_required: false,
        })
        .change
    {
        Change::SuiteDefined { suite, .. } => suite,
        c => panic!("{c:?}"),
    };
    let emergency = match h
        .ok(Command::SignOutMasterKey {
            key: masters[0].id,
            person: alex,
            reason: "Locked out".into(),
            witness: None,
            due_back: None,
            emergency: true,
        })
        .change
    {
        Change::MasterSignedOut { sign_out, .. } => sign_out,
        c => panic!("{c:?}"),
    };
    let escalation = match h
        .ok(Command::ReportMasterKeyLost {
            key: masters[1].id,
            notes: String::new(),
        })
        .change
    {
        Change::MasterLostReported { escalation, .. } => escalation,
        c => panic!("{c:?}"),
    };
    // A second locker whose first key is lost (an open case), a supplier and an order.
    let a4 = h.locker(site, area, "A4");
    let k4 = h.lock_with_keys(a4, 3);
    let lock4 = h.register.locker(a4).unwrap().lock.unwrap();
    let case = h.report_lost(k4[0], Loss::default());
    let supplier = h.supplier(site, "Timpson");
    let order = h.order(supplier, vec![(lock4, KeyKind::User, 1)], Some(case));

    // An audit of the main corridor with one finding; another area to start one in.
    let block_b = match h
        .ok(Command::AddArea {
            site,
            name: "Block B".into(),
        })
        .change
    {
        Change::AreaAdded { area, .. } => area,
        c => panic!("{c:?}"),
    };
    h.locker(site, block_b, "C1");
    let audit = match h
        .ok(Command::StartAudit {
            site,
            scope: AuditScope::Area { area },
        })
        .change
    {
        Change::AuditStarted { audit, .. } => audit,
        c => panic!("{c:?}"),
    };
    let finding = match h
        .ok(Command::RecordFinding {
            audit,
            locker: empty,
            kind: FindingKind::LockerDamaged,
            notes: String::new(),
        })
        .change
    {
        Change::AuditFindingRecorded { finding, .. } => finding,
        c => panic!("{c:?}"),
    };
    let details = |name: &str| PersonDetails {
        name: name.into(),
        kind: PersonKind::Staff,
        reference: String::new(),
        department: String::new(),
    };
    // A person added on another device, saved in its file of unsynced changes.
    let saved = other
        .ok(Command::AddPerson {
            site,
            details: details("Ali Khan"),
        })
        .change;
    let commands = vec![
        Command::CreateSite {
            name: "Southgate Leisure".into(),
        },
        Command::AddArea {
            site,
            name: "Sports hall".into(),
        },
        Command::SetSiteLabels {
            site,
            host: "keys.northgate.sch.uk".into(),
            front_desk: "the school office".into(),
        },
        Command::AddLocker {
            site,
            area,
            number: "A3".into(),
            allow_similar: false,
        },
        Command::AddLockerRange {
            site,
            area,
            from: "B1".into(),
            to: "B4".into(),
            allow_similar: false,
        },
        Command::SetLockerService {
            locker,
            out_of_service: Some("Door hinge broken".into()),
        },
        Command::FitLock {
            locker: empty,
            kind: LockKind::Keyed,
            code: "K 202".into(),
            suite: String::new(),
        },
        Command::AddKeys {
            lock,
            kind: KeyKind::Spare,
            count: 1,
            storage: String::new(),
        },
        Command::IssueLockerLabels {
            lockers: vec![locker, empty],
        },
        Command::MakeBlankTags { site, count: 2 },
        Command::AttachTag { key: keys[0], tag },
        h.issue(keys[2], locker, Holder::Person(alex)),
        h.ret(keys[0]),
        Command::AddPerson {
            site,
            details: details("Kim Lee"),
        },
        Command::EditPerson {
            person: sam,
            details: details("Sam Jones-Smith"),
        },
        Command::RecordAgain { change: saved },
        Command::ResolveConflict {
            conflict: offline.id,
            choice: Resolution::KeepFirst,
            notes: String::new(),
        },
        Command::RecordFault {
            lock,
            kind: FaultKind::Jammed,
            notes: String::new(),
        },
        Command::ChangeLock {
            locker: a4,
            kind: LockKind::Keyed,
            code: "K 303".into(),
            suite: String::new(),
            reason: "Key stolen".into(),
        },
        Command::RetireKey {
            key: k4[1],
            reason: "Worn".into(),
        },
        Command::ReportKeyLost {
            key: k4[2],
            loss: Loss::default(),
            notes: String::new(),
        },
        Command::RecordKeyFound {
            key: k4[0],
            notes: String::new(),
        },
        Command::DecideLostCase {
            case,
            outcome: CaseOutcome::Replace,
            reason: "Lost off site".into(),
            opened_with: None,
        },
        Command::RecordCharge {
            case,
            status: ChargeStatus::Charged,
            amount: 500,
        },
        Command::AddSupplier {
            site,
            name: "Keys Direct".into(),
            contact: String::new(),
        },
        Command::PlaceOrder {
            supplier,
            lines: vec![(lock, KeyKind::Spare, 2)],
            ordered: h.today(),
            expected: None,
            case: None,
            notes: String::new(),
        },
        Command::ReceiveOrder {
            order,
            quantities: vec![1],
        },
        Command::SetSitePolicy {
            site,
            policy: Policy {
                risk: RiskLevel::High,
                ..Policy::default()
            },
        },
        Command::SetAreaPolicy {
            area,
            set: PolicyOverrides {
                max_loan_days: Some(3),
                ..Default::default()
            },
            clear: vec![PolicyField::Audit],
        },
        h.hand_over(keys[0], Holder::Person(alex)),
        Command::DefineSuite {
            site,
            name: "Corridor B".into(),
            check_every_days: 30,
            witness_required: true,
        },
        Command::SetMasterHolder {
            suite,
            person: sam,
            authorised: true,
        },
        Command::ReviewEmergencyUse {
            sign_out: emergency,
            notes: "Justified".into(),
        },
        Command::ResolveEscalation {
            escalation,
            found: true,
            notes: "Found in the office".into(),
        },
        Command::SignOutMasterKey {
            key: masters[2].id,
            person: alex,
            reason: "Cleaning".into(),
            witness: None,
            due_back: None,
            emergency: true,
        },
        Command::ReturnMasterKey {
            key: masters[0].id,
            received_by: "Pat Caretaker".into(),
            notes: String::new(),
        },
        Command::CheckMasterKey {
            tag: masters[2].tag.clone(),
            notes: String::new(),
        },
        Command::ReportMasterKeyLost {
            key: masters[2].id,
            notes: String::new(),
        },
        Command::StartAudit {
            site,
            scope: AuditScope::Area { area: block_b },
        },
        Command::RecordFinding {
            audit,
            locker,
            kind: FindingKind::AsExpected,
            notes: String::new(),
        },
        Command::UndoFinding { finding },
        Command::CheckAuditMaster {
            audit,
            key: masters[2].id,
            seen: true,
            notes: String::new(),
        },
        Command::CompleteAudit { audit },
        Command::SetAuditRoute {
            area,
            lockers: vec![empty, locker],
        },
        Command::SetTermDates {
            site,
            terms: vec![Term {
                name: "Autumn 2026".into(),
                start: h.today(),
                end: h.today() + chrono::Days::new(60),
            }],
        },
        Command::SetPersonLeft {
            person: sam,
            left: Some(h.today()),
        },
    ];
    (h, site, commands)
}

#[test]
fn the_expected_table_names_every_command_once() {
    let (_, _, commands) = fixture();
    let mut names: Vec<&str> = commands.iter().map(name).collect();
    names.sort();
    let mut table: Vec<&str> = EXPECTED.iter().map(|(n, _)| *n).collect();
    table.sort();
    assert_eq!(names, table, "one sample command per row of the table");
    table.dedup();
    assert_eq!(table.len(), EXPECTED.len());
}

#[test]
fn every_command_and_role_matches_the_table() {
    let (_, _, commands) = fixture();
    for command in &commands {
        let row = expected(command);
        for (role, allowed) in ROLES.into_iter().zip(row) {
            assert_eq!(
                role.may(command.action()),
                allowed,
                "{role:?} {} {}",
                if allowed { "may" } else { "may not" },
                name(command)
            );
            match role.check(command.action()) {
                Ok(()) => assert!(allowed),
                Err(message) => {
                    assert!(!allowed);
                    assert!(
                        message.contains(&format!("({})", role.label().to_lowercase())),
                        "{message}"
                    );
                    assert!(message.contains(command.action().phrase()), "{message}");
                }
            }
        }
    }
}

#[test]
fn the_server_rejects_a_change_by_a_role_that_may_not_make_it_naming_the_role() {
    let (mut h, site, commands) = fixture();
    for command in commands {
        let row = expected(&command);
        let event = h
            .register
            .execute(
                command.clone(),
                &mut Context {
                    actor: "Pat Caretaker".into(),
                    device: h.device,
                    now: h.now,
                    entropy: &mut h.entropy,
                },
            )
            .unwrap_or_else(|e| panic!("{} refused in the fixture: {e}", name(&command)));
        assert_eq!(
            event.change.action(),
            command.action(),
            "{}",
            name(&command)
        );
        // A new site is judged as the site being registered.
        let judged_site = match &event.change {
            Change::SiteCreated { site, .. } => *site,
            _ => site,
        };
        for (role, allowed) in ROLES.into_iter().zip(row) {
            let verdict = judge(&h.register, judged_site, h.device, role, &event);
            if allowed {
                assert_eq!(verdict, Ok(false), "{role:?} {}", name(&command));
            } else {
                let reason = verdict.expect_err(name(&command));
                assert!(
                    reason.contains(&format!(
                        "Your role ({}) cannot",
                        role.label().to_lowercase()
                    )),
                    "{role:?} {}: {reason}",
                    name(&command)
                );
            }
        }
        // Whatever the role, a change must come from the device that recorded it.
        let stranger = h.offline(99, "Jo Office").device;
        assert!(judge(&h.register, judged_site, stranger, Role::Admin, &event).is_err());
    }
}

/// The actions that are not commands (or not only), by hand. Columns as in `EXPECTED`.
const ACTIONS: [(Action, [bool; 5]); 14] = [
    (Action::SetUpSite, [true, false, false, false, false]),
    (Action::AddLockers, [true, true, false, false, false]),
    (Action::ChangeService, [true, true, true, false, false]),
    (Action::ManageKeys, [true, true, false, false, false]),
    (Action::IssueReturn, [true, true, true, false, false]),
    (Action::ManagePeople, [true, true, true, false, false]),
    (Action::ResolveConflicts, [true, true, false, false, false]),
    (Action::ExportData, [true, true, false, false, false]),
    (Action::ManageUsers, [true, false, false, false, false]),
    (Action::Audit, [true, true, false, true, false]),
    (Action::ChangeLocks, [true, true, false, false, false]),
    (Action::OrderKeys, [true, true, false, false, false]),
    (Action::MasterKeys, [true, true, false, false, false]),
    (Action::UseMasterKey, [true, true, true, false, false]),
];

#[test]
fn every_action_and_role_matches_the_table() {
    assert_eq!(
        ACTIONS.map(|(a, _)| a),
        Action::ALL,
        "one row per action, in order"
    );
    for (action, row) in ACTIONS {
        for (role, allowed) in ROLES.into_iter().zip(row) {
            assert_eq!(role.may(action), allowed, "{role:?} {action:?}");
        }
    }
}

#[test]
fn roles_read_and_write_their_stored_names() {
    for role in Role::ALL {
        assert_eq!(Role::parse(role.as_str()), Some(role));
    }
    assert_eq!(Role::ALL, ROLES);
    assert_eq!(Role::parse("owner"), None);
}
