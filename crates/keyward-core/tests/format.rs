//! The stored format, frozen. Events live on phones, on the server and in backups for years:
//! every line of each `fixtures/*.jsonl` log was written by a released format and must still
//! parse, write back byte for byte, and fold to the register in its `*.expected.txt`. A change
//! that breaks this needs a format version and an upgrade path, not a new fixture. A new
//! `Change` variant gets its name in `variant` and its events in a new log (made once by the
//! code that introduced it, never edited after), listed in `FIXTURES`; a new optional field on
//! an old variant is `#[serde(default, skip_serializing_if = ...)]` so old events still write
//! back unchanged. `KEYWARD_BLESS=1` rewrites only the expected registers, after a person has
//! read the difference.

use keyward_core::*;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Each log with the name of its expected register, oldest first.
const FIXTURES: &[(&str, &str)] = &[
    (
        include_str!("fixtures/events-v1.jsonl"),
        "events-v1.expected.txt",
    ),
    (
        include_str!("fixtures/events-v1-keys.jsonl"),
        "events-v1-keys.expected.txt",
    ),
    (
        include_str!("fixtures/events-v1-policies.jsonl"),
        "events-v1-policies.expected.txt",
    ),
    (
        include_str!("fixtures/events-v1-master.jsonl"),
        "events-v1-master.expected.txt",
    ),
    (
        include_str!("fixtures/events-v1-label-address.jsonl"),
        "events-v1-label-address.expected.txt",
    ),
    // How the taker confirms (`Policy::taker_confirms`, `PolicyField::TakerConfirms`) and an
    // issue and a handover confirmed by the issuer's tap (`Confirmation::Tapped`).
    (
        include_str!("fixtures/events-v1-confirm.jsonl"),
        "events-v1-confirm.expected.txt",
    ),
    // Audits: scopes, findings of every kind (a scan of the wrong key, an unknown code,
    // duplicated keys), an undo, a master key seen, two auditors disagreeing and decided, the
    // reports made on completion; an area's route, the site's term dates, a person who left.
    (
        include_str!("fixtures/events-v1-audit.jsonl"),
        "events-v1-audit.expected.txt",
    ),
    // Copies of a key need a replacement order (`Policy::copies_need_order`,
    // `PolicyField::CopiesNeedOrder`): set for the site, overridden and cleared for an area.
    (
        include_str!("fixtures/events-v1-copies.jsonl"),
        "events-v1-copies.expected.txt",
    ),
];

/// Every `Change` variant by name. No wildcard: a new variant stops the build here until it is
/// named, and then `every_variant_is_in_the_fixture` asks for an event of it in the log.
fn variant(change: &Change) -> &'static str {
    match change {
        Change::SiteCreated { .. } => "SiteCreated",
        Change::AreaAdded { .. } => "AreaAdded",
        Change::LockersAdded { .. } => "LockersAdded",
        Change::LockerServiceChanged { .. } => "LockerServiceChanged",
        Change::LockFitted { .. } => "LockFitted",
        Change::KeysAdded { .. } => "KeysAdded",
        Change::PersonAdded { .. } => "PersonAdded",
        Change::PersonEdited { .. } => "PersonEdited",
        Change::KeyIssued { .. } => "KeyIssued",
        Change::SiteLabelsSet { .. } => "SiteLabelsSet",
        Change::LockerLabelsIssued { .. } => "LockerLabelsIssued",
        Change::BlankTagsMade { .. } => "BlankTagsMade",
        Change::TagAttached { .. } => "TagAttached",
        Change::KeyReturned { .. } => "KeyReturned",
        Change::ConflictResolved { .. } => "ConflictResolved",
        Change::FaultRecorded { .. } => "FaultRecorded",
        Change::LockChanged { .. } => "LockChanged",
        Change::KeyRetired { .. } => "KeyRetired",
        Change::KeyReportedLost { .. } => "KeyReportedLost",
        Change::KeyFound { .. } => "KeyFound",
        Change::LostCaseDecided { .. } => "LostCaseDecided",
        Change::ChargeRecorded { .. } => "ChargeRecorded",
        Change::SupplierAdded { .. } => "SupplierAdded",
        Change::OrderPlaced { .. } => "OrderPlaced",
        Change::OrderReceived { .. } => "OrderReceived",
        Change::SitePolicySet { .. } => "SitePolicySet",
        Change::AreaPolicySet { .. } => "AreaPolicySet",
        Change::KeyHandedOver { .. } => "KeyHandedOver",
        Change::SuiteDefined { .. } => "SuiteDefined",
        Change::MasterHolderSet { .. } => "MasterHolderSet",
        Change::MasterSignedOut { .. } => "MasterSignedOut",
        Change::MasterReturned { .. } => "MasterReturned",
        Change::MasterSeen { .. } => "MasterSeen",
        Change::MasterLostReported { .. } => "MasterLostReported",
        Change::EmergencyUseReviewed { .. } => "EmergencyUseReviewed",
        Change::EscalationResolved { .. } => "EscalationResolved",
        Change::AuditStarted { .. } => "AuditStarted",
        Change::AuditFindingRecorded { .. } => "AuditFindingRecorded",
        Change::AuditFindingUndone { .. } => "AuditFindingUndone",
        Change::AuditMasterChecked { .. } => "AuditMasterChecked",
        Change::AuditCompleted { .. } => "AuditCompleted",
        Change::AuditRouteSet { .. } => "AuditRouteSet",
        Change::TermDatesSet { .. } => "TermDatesSet",
        Change::PersonLeft { .. } => "PersonLeft",
    }
}
/// How many arms `variant` has.
const VARIANTS: usize = 44;

fn events(log: &str) -> Vec<Event> {
    log.lines()
        .enumerate()
        .map(|(i, line)| {
            serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("line {} of a fixture no longer parses: {e}", i + 1))
        })
        .collect()
}

fn all_events() -> Vec<Event> {
    FIXTURES.iter().flat_map(|(log, _)| events(log)).collect()
}

#[test]
fn every_stored_event_still_parses_and_writes_back_unchanged() {
    for (log, _) in FIXTURES {
        for (line, event) in log.lines().zip(events(log)) {
            assert_eq!(serde_json::to_string(&event).unwrap(), *line);
        }
    }
}

#[test]
fn every_stored_event_passes_todays_content_checks() {
    for event in all_events() {
        event
            .check()
            .unwrap_or_else(|e| panic!("{e}: {:?}", event.change));
    }
}

#[test]
fn every_variant_is_in_the_fixture() {
    let seen: BTreeSet<&str> = all_events().iter().map(|e| variant(&e.change)).collect();
    assert_eq!(seen.len(), VARIANTS, "variants in the fixture: {seen:?}");
}

#[test]
fn each_fixture_folds_to_the_same_register() {
    for (log, expected) in FIXTURES {
        let register = Register::fold(&events(log));
        let summary = summary(&register);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(expected);
        if std::env::var_os("KEYWARD_BLESS").is_some() {
            std::fs::write(&path, &summary).unwrap();
        }
        let expected = std::fs::read_to_string(&path).unwrap();
        assert!(
            summary == expected,
            "{path:?}: the fixture folds differently now:\n{summary}"
        );
    }
}

/// A loan as `{:?}` shows it, without the fields added later while they are unset, so logs
/// from before them read as they did.
fn loan_line(loan: &Loan) -> String {
    format!("{loan:?}")
        .replace(", handed_over_to: None", "")
        .replace(", lost: None", "")
        .replace(", due_time: None", "")
        .replace(", handed_over_from: None", "")
}

/// A policy as `{:?}` shows it, without the settings added later while they hold their
/// default, so logs from before them read as they did.
fn policy_line(policy: Policy) -> String {
    format!("{policy:?}")
        .replace(", taker_confirms: NameOrSignature", "")
        .replace(", copies_need_order: false", "")
}

/// The register as its queries show it, in a stable order.
fn summary(r: &Register) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "events: {}", r.event_count());
    for site in r.sites() {
        // The label address's scheme prints only when not https, so logs from before it read
        // as they did.
        let labels = format!("{:?}", site.labels).replace(", scheme: Https", "");
        let _ = writeln!(out, "site {} {labels}", site.name);
        // Policies print only once set, so logs from before them read as they did.
        if r.site_policy(site.id) != Policy::default() {
            let _ = writeln!(out, "  policy {}", policy_line(r.site_policy(site.id)));
        }
        for area in r.areas_of(site.id) {
            let _ = writeln!(out, "  area {}", area.name);
            let overrides = r.area_overrides(area.id);
            if !overrides.is_empty() {
                let overrides = format!("{overrides:?}")
                    .replace(", taker_confirms: None", "")
                    .replace(", copies_need_order: None", "");
                let _ = writeln!(out, "    overrides {overrides}");
                let _ = writeln!(
                    out,
                    "    policy {}",
                    policy_line(r.policy_for_area(area.id))
                );
            }
        }
        if !r.term_dates(site.id).is_empty() {
            let _ = writeln!(out, "  terms {:?}", r.term_dates(site.id));
        }
        for area in r.areas_of(site.id) {
            let route = r.audit_route(area.id);
            if !route.is_empty() {
                let numbers: Vec<&str> = route
                    .iter()
                    .filter_map(|l| r.locker(*l))
                    .map(|l| l.number.as_str())
                    .collect();
                let _ = writeln!(out, "  route {} {numbers:?}", area.name);
            }
        }
        for a in r.audits_of(site.id) {
            let _ = writeln!(
                out,
                "  audit {} by {} complete {}",
                r.scope_words(&a.scope),
                a.started_by,
                a.completed.is_some()
            );
            for f in a.findings.iter().filter_map(|f| r.finding(*f)) {
                let _ = writeln!(
                    out,
                    "    finding {} {:?} by {} expected {:?} ended {:?} notes {:?}",
                    f.expected.number, f.kind, f.by, f.expected.keys, f.ended, f.notes
                );
            }
            for (key, m) in &a.masters {
                let tag = r.key(*key).map(|k| k.tag.to_string()).unwrap_or_default();
                let _ = writeln!(out, "    master {tag} {m:?}");
            }
            if let Some(done) = &a.completed {
                let _ = writeln!(out, "    report {:?}", done.report);
            }
        }
        for p in r.people_of(site.id) {
            let _ = writeln!(out, "  person {:?}", p.details);
            if let Some(left) = p.left {
                let _ = writeln!(out, "    left {left}");
            }
            for loan in r.loans_of(p.id) {
                let _ = writeln!(out, "    loan {}", loan_line(loan));
            }
        }
        for c in r.conflicts() {
            let _ = writeln!(out, "  conflict {:?}", c);
        }
        // Master keys (nothing is written for a site without suites or escalations).
        for suite in r.suites_of(site.id) {
            let _ = writeln!(out, "  suite {:?}", suite);
            for lock in r.suite_locks(suite.id) {
                let _ = writeln!(out, "    lock {} {:?}", lock.code, lock.suite);
            }
            for key in r.master_keys_of(suite.id) {
                let _ = writeln!(
                    out,
                    "    master {} {:?} seen {:?}",
                    key.tag,
                    key.state,
                    r.last_seen(key.id)
                );
                for s in r.sign_outs_of_key(key.id) {
                    let _ = writeln!(out, "      sign-out {:?}", s);
                }
            }
        }
        for e in r.escalations_of(site.id) {
            let _ = writeln!(out, "  escalation {:?} at risk {:?}", e, r.at_risk(e.id));
        }
        for c in r.cases_of(site.id) {
            let tag = r.key(c.key).map(|k| k.tag.to_string()).unwrap_or_default();
            let _ = writeln!(
                out,
                "  case key {tag} holder {:?} loss {:?} notes {:?} by {} closed {:?}",
                c.holder, c.loss, c.notes, c.reported_by, c.closed
            );
            if let Some(d) = &c.decision {
                let _ = writeln!(
                    out,
                    "    decided {:?} {:?} by {}",
                    d.outcome, d.reason, d.by
                );
            }
            if let Some(ch) = &c.charge {
                let _ = writeln!(out, "    charge {:?} {}", ch.status, ch.amount);
            }
        }
        for sup in r.suppliers_of(site.id) {
            let _ = writeln!(out, "  supplier {} {}", sup.name, sup.contact);
        }
        for o in r.orders_of(site.id) {
            let _ = writeln!(
                out,
                "  order {:?} received {:?} keys {} case {} ordered {} expected {:?} notes {:?}",
                o.lines,
                o.received,
                o.keys.len(),
                o.case.is_some(),
                o.ordered,
                o.expected,
                o.notes
            );
        }
    }
    for locker in r.lockers() {
        let _ = writeln!(
            out,
            "locker {} {:?} label={} service={:?}",
            locker.number,
            r.status(locker),
            locker.label.is_some(),
            locker.out_of_service
        );
        if let Some(lock) = locker.lock.and_then(|l| r.lock(l)) {
            let _ = writeln!(out, "  lock {:?} {} {:?}", lock.kind, lock.code, lock.suite);
            for f in &lock.faults {
                let _ = writeln!(out, "    fault {:?} {:?} by {}", f.kind, f.notes, f.by);
            }
        }
        for key in r.keys_of_locker(locker.id) {
            let _ = writeln!(
                out,
                "  key {} copy {} {:?} {:?} {:?}",
                key.tag, key.copy, key.kind, key.state, key.storage
            );
        }
        let _ = writeln!(out, "  holders {:?}", r.holders_of(locker.id));
        for entry in r.timeline(locker.id) {
            let _ = writeln!(out, "  {} {}: {:?}", entry.at, entry.actor, entry.what);
        }
    }
    out
}
