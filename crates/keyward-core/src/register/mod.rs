//! The register: the state folded from the event log, the rules that turn commands into
//! events, and the queries the screens ask.
//!
//! This file keeps the state, the fold and one dispatch line per command and per change; the
//! rules live in one module per procedure, each with its `decide_*` (command → change),
//! `assess_*` (how a change fits), `apply_*` (the fold), its queries and the conflict
//! decisions it owns. The dispatches have no wildcard, so a new variant is a compile error
//! until its procedure handles it.

pub(crate) mod audits;
mod conflicts;
mod keys;
mod labels;
mod loans;
mod lockers;
mod locks;
mod lost;
mod master;
pub(crate) mod orders;
mod overdue;
mod people;
pub(crate) mod policies;
mod sites;

pub use audits::{
    AreaCount, Audit, AuditCompletion, AuditDue, AuditProgress, AuditReport, AuditScan, AuditScope,
    Completed, DueState, Expected, ExpectedKey, Finding, FindingEnd, FindingKind, LockerProgress,
    MasterCheck, MasterProgress, MonthCount, ReportChange, ReportChanges, ReportFinding, ReportKey,
    ReportLeaver, ReportMaster, ReportMismatch, ReportMissing, ReportOverdue, ReportProblem, Term,
    WeekCount, LEAVERS_WINDOW_DAYS, MANY_LEAVERS,
};
pub use keys::MAX_KEYS_AT_ONCE;
pub use labels::{Resolved, MAX_BLANK_TAGS};
pub use loans::LIKELY_TAKERS;
pub use lost::{RepeatedLosses, REPEATED_LOSSES};
pub use master::{
    AtRisk, Escalation, EscalationEnd, MasterReturn, PresenceDue, Review, Sighting, SignOut, Suite,
};
pub use overdue::{due_words, late_words, Overdue};
pub use policies::{
    AuditInterval, FaultFlag, Policy, PolicyField, PolicyOverrides, RiskLevel, TakerConfirms,
    MAX_AUDIT_DAYS, MAX_CHARGE_PENCE, MAX_FAULTS, MAX_LOAN_DAYS,
};

use crate::command::{Command, Context};
use crate::conflict::{Conflict, ConflictKind};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::ids::{
    AreaId, AuditId, CaseId, EscalationId, EventId, FindingId, KeyId, LoanId, LockId, LockerId,
    OrderId, PersonId, SignOutId, SiteId, SuiteId, SupplierId, TagId,
};
use crate::label::LabelRef;
use crate::model::{Area, Key, Loan, Lock, Locker, LostCase, Order, Person, Site, Supplier};
use crate::timeline::{Entry, What};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, BTreeSet};

/// How a change fits the register as it stands: the one judgement both the fold and the
/// server's check of a pushed change make.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fit {
    /// It applies cleanly.
    Fits,
    /// It breaks a rule because it was made against an older view: kept, with a conflict.
    Conflicts(ConflictKind),
    /// It refers to something this register does not hold: it cannot be applied at all.
    Unknown(&'static str),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Register {
    sites: BTreeMap<SiteId, Site>,
    areas: BTreeMap<AreaId, Area>,
    lockers: BTreeMap<LockerId, Locker>,
    locks: BTreeMap<LockId, Lock>,
    keys: BTreeMap<KeyId, Key>,
    people: BTreeMap<PersonId, Person>,
    loans: BTreeMap<LoanId, Loan>,
    /// (site, normalised number) → locker.
    numbers: BTreeMap<(SiteId, String), LockerId>,
    tags: BTreeMap<TagId, KeyId>,
    labels: BTreeMap<LabelRef, LockerId>,
    blank_tags: BTreeMap<TagId, SiteId>,
    timelines: BTreeMap<LockerId, Vec<Entry>>,
    /// Keyed by the later event that caused each one.
    conflicts: BTreeMap<EventId, Conflict>,
    applied: BTreeSet<EventId>,
    events: usize,
    cases: BTreeMap<CaseId, LostCase>,
    suppliers: BTreeMap<SupplierId, Supplier>,
    orders: BTreeMap<OrderId, Order>,
    /// Policies sites set; a site without one has the defaults.
    site_policies: BTreeMap<SiteId, Policy>,
    /// What each area overrides of its site's policy.
    area_policies: BTreeMap<AreaId, PolicyOverrides>,
    suites: BTreeMap<SuiteId, Suite>,
    /// (site, suite name in lower case) → suite.
    suite_names: BTreeMap<(SiteId, String), SuiteId>,
    sign_outs: BTreeMap<SignOutId, SignOut>,
    /// A master key → the sign-out it is out on now.
    master_out: BTreeMap<KeyId, SignOutId>,
    /// A master key → when it was last seen in its place.
    master_seen: BTreeMap<KeyId, Sighting>,
    escalations: BTreeMap<EscalationId, Escalation>,
    /// A lost master key → the escalation its loss raised.
    master_lost: BTreeMap<KeyId, EscalationId>,
    audits: BTreeMap<AuditId, Audit>,
    findings: BTreeMap<FindingId, Finding>,
    /// (audit, locker) → its findings, oldest first (undone ones too).
    findings_at: BTreeMap<(AuditId, LockerId), Vec<FindingId>>,
    /// An area's saved walking order.
    routes: BTreeMap<AreaId, Vec<LockerId>>,
    /// Each site's term dates, in order.
    terms: BTreeMap<SiteId, Vec<Term>>,
    /// Keys added as copies (to a lock that had keys already) other than by receiving a
    /// replacement order, and when: the audit report's copies without an order.
    unordered_copies: BTreeMap<KeyId, DateTime<Utc>>,
}

impl Register {
    pub fn new() -> Self {
        Self::default()
    }

    /// The state after `events`, in order.
    pub fn fold<'a>(events: impl IntoIterator<Item = &'a Event>) -> Self {
        let mut register = Self::new();
        for event in events {
            register.apply(event);
        }
        register
    }

    /// Checks a command against the current state. On success the returned event is what must
    /// be stored and then [applied](Self::apply); the register itself is not changed here.
    /// The change it makes always passes [`Change::check`], the server's check of content.
    pub fn execute(&self, command: Command, ctx: &mut Context<'_>) -> Result<Event, CommandError> {
        let change = self.decide(command, ctx)?;
        change.check()?;
        Ok(Event {
            id: EventId::generate(ctx.now, ctx.entropy),
            actor: ctx.actor.clone(),
            device: ctx.device,
            at: ctx.now,
            change,
        })
    }

    fn decide(&self, command: Command, ctx: &mut Context<'_>) -> Result<Change, CommandError> {
        match command {
            Command::CreateSite { name } => self.decide_create_site(name, ctx),
            Command::AddArea { site, name } => self.decide_add_area(site, name, ctx),
            Command::SetSiteLabels {
                site,
                host,
                front_desk,
            } => self.decide_site_labels(site, host, front_desk),
            Command::AddLocker {
                site,
                area,
                number,
                allow_similar,
            } => self.decide_add_locker(site, area, number, allow_similar, ctx),
            Command::AddLockerRange {
                site,
                area,
                from,
                to,
                allow_similar,
            } => self.decide_add_locker_range(site, area, (from, to), allow_similar, ctx),
            Command::SetLockerService {
                locker,
                out_of_service,
            } => self.decide_service(locker, out_of_service),
            Command::FitLock {
                locker,
                kind,
                code,
                suite,
            } => self.decide_fit_lock(locker, kind, code, suite, ctx),
            Command::AddKeys {
                lock,
                kind,
                count,
                storage,
            } => self.decide_add_keys(lock, kind, count, storage, ctx),
            Command::AddPerson { site, details } => self.decide_add_person(site, details, ctx),
            Command::EditPerson { person, details } => self.decide_edit_person(person, details),
            Command::IssueKey {
                key,
                locker,
                holder,
                date,
                expected_return,
                confirmation,
                notes,
                due_time,
            } => self.decide_issue(
                key,
                locker,
                holder,
                (date, expected_return, due_time),
                confirmation,
                notes,
                ctx,
            ),
            Command::ReturnKey {
                key,
                brought_by,
                received_by,
                condition,
                notes,
            } => self.decide_return(key, brought_by, received_by, condition, notes),
            Command::IssueLockerLabels { lockers } => self.decide_locker_labels(lockers, ctx),
            Command::MakeBlankTags { site, count } => self.decide_blank_tags(site, count, ctx),
            Command::AttachTag { key, tag } => self.decide_attach_tag(key, tag),
            Command::ResolveConflict {
                conflict,
                choice,
                notes,
            } => self.decide_resolve(conflict, choice, notes),
            Command::RecordAgain { change } => crate::unsynced::record_again(self, change),
            Command::RecordFault { lock, kind, notes } => self.decide_fault(lock, kind, notes),
            Command::ChangeLock {
                locker,
                kind,
                code,
                suite,
                reason,
            } => self.decide_change_lock(locker, kind, code, suite, reason, ctx),
            Command::RetireKey { key, reason } => self.decide_retire(key, reason),
            Command::ReportKeyLost { key, loss, notes } => {
                self.decide_report_lost(key, loss, notes, ctx)
            }
            Command::RecordKeyFound { key, notes } => self.decide_found(key, notes),
            Command::DecideLostCase {
                case,
                outcome,
                reason,
                opened_with,
            } => self.decide_case(case, outcome, reason, opened_with),
            Command::RecordCharge {
                case,
                status,
                amount,
            } => self.decide_charge(case, status, amount),
            Command::AddSupplier {
                site,
                name,
                contact,
            } => self.decide_add_supplier(site, name, contact, ctx),
            Command::PlaceOrder {
                supplier,
                lines,
                ordered,
                expected,
                case,
                notes,
            } => self.decide_place_order(supplier, lines, ordered, expected, case, notes, ctx),
            Command::ReceiveOrder { order, quantities } => {
                self.decide_receive(order, quantities, ctx)
            }
            Command::SetSitePolicy { site, policy } => self.decide_site_policy(site, policy),
            Command::SetAreaPolicy { area, set, clear } => {
                self.decide_area_policy(area, set, clear)
            }
            Command::HandOverKey {
                key,
                to,
                date,
                expected_return,
                due_time,
                confirmation,
                notes,
            } => self.decide_handover(
                key,
                to,
                (date, expected_return, due_time),
                confirmation,
                notes,
                ctx,
            ),
            Command::DefineSuite {
                site,
                name,
                check_every_days,
                witness_required,
            } => self.decide_define_suite(site, name, check_every_days, witness_required, ctx),
            Command::SetMasterHolder {
                suite,
                person,
                authorised,
            } => self.decide_master_holder(suite, person, authorised),
            Command::SignOutMasterKey {
                key,
                person,
                reason,
                witness,
                due_back,
                emergency,
            } => {
                self.decide_master_sign_out(key, person, reason, witness, due_back, emergency, ctx)
            }
            Command::ReturnMasterKey {
                key,
                received_by,
                notes,
            } => self.decide_master_return(key, received_by, notes),
            Command::CheckMasterKey { tag, notes } => self.decide_master_check(tag, notes),
            Command::ReportMasterKeyLost { key, notes } => self.decide_master_lost(key, notes, ctx),
            Command::ReviewEmergencyUse { sign_out, notes } => self.decide_review(sign_out, notes),
            Command::ResolveEscalation {
                escalation,
                found,
                notes,
            } => self.decide_resolve_escalation(escalation, found, notes),
            Command::StartAudit { site, scope } => self.decide_start_audit(site, scope, ctx),
            Command::RecordFinding {
                audit,
                locker,
                kind,
                notes,
            } => self.decide_finding(audit, locker, kind, notes, ctx),
            Command::UndoFinding { finding } => self.decide_undo_finding(finding),
            Command::CheckAuditMaster {
                audit,
                key,
                seen,
                notes,
            } => self.decide_audit_master(audit, key, seen, notes),
            Command::CompleteAudit { audit } => self.decide_complete_audit(audit),
            Command::SetAuditRoute { area, lockers } => self.decide_route(area, lockers),
            Command::SetTermDates { site, terms } => self.decide_term_dates(site, terms),
            Command::SetPersonLeft { person, left } => self.decide_person_left(person, left),
        }
    }

    /// Folds one event into the state. Total and idempotent: an event already applied, or one
    /// that refers to something this register does not hold, changes nothing.
    pub fn apply(&mut self, event: &Event) {
        if !self.applied.insert(event.id) {
            return;
        }
        self.events += 1;
        let conflict = match self.assess(&event.change) {
            Fit::Unknown(_) => return,
            Fit::Conflicts(kind) => {
                self.record_conflict(event, kind.clone());
                Some(kind)
            }
            Fit::Fits => None,
        };
        let conflicted = conflict.is_some();
        match &event.change {
            Change::SiteCreated { site, name } => self.apply_site_created(*site, name),
            Change::AreaAdded { area, site, name } => self.apply_area_added(*area, *site, name),
            Change::SiteLabelsSet { site, labels } => self.apply_site_labels(*site, labels),
            Change::LockersAdded {
                site,
                area,
                lockers,
            } => self.apply_lockers_added(event, *site, *area, lockers),
            Change::LockerServiceChanged {
                locker,
                out_of_service,
            } => self.apply_service(event, *locker, out_of_service),
            Change::LockFitted { .. } => self.apply_lock_fitted(event, conflicted),
            Change::KeysAdded {
                lock,
                kind,
                storage,
                keys,
            } => self.apply_keys_added(event, *lock, *kind, storage, keys),
            Change::PersonAdded {
                person,
                site,
                details,
            } => self.apply_person_added(*person, *site, details),
            Change::PersonEdited { person, details } => self.apply_person_edited(*person, details),
            Change::KeyIssued { .. } => self.apply_issue(event, conflict.as_ref()),
            Change::KeyReturned { .. } => self.apply_return(event, conflict.as_ref()),
            Change::LockerLabelsIssued { labels } => self.apply_locker_labels(labels),
            Change::BlankTagsMade { site, tags } => self.apply_blank_tags(*site, tags),
            Change::TagAttached { key, tag, previous } => {
                self.apply_tag_attached(event, *key, tag, previous)
            }
            Change::ConflictResolved {
                conflict: decided,
                choice,
                notes,
            } => {
                if !conflicted {
                    self.apply_resolved(event, *decided, *choice, notes)
                }
            }
            Change::FaultRecorded { lock, kind, notes } => {
                self.apply_fault(event, *lock, *kind, notes)
            }
            Change::LockChanged { .. } => self.apply_lock_changed(event, conflicted),
            Change::KeyRetired { key, reason } => self.apply_retired(event, *key, reason),
            Change::KeyReportedLost { .. } => self.apply_report_lost(event, conflict.as_ref()),
            Change::KeyFound { key, .. } => self.apply_found(event, *key),
            Change::LostCaseDecided { .. } => self.apply_case_decided(event, conflicted),
            Change::ChargeRecorded {
                case,
                status,
                amount,
            } => self.apply_charge(event, *case, *status, *amount),
            Change::SupplierAdded {
                supplier,
                site,
                name,
                contact,
            } => self.apply_supplier_added(*supplier, *site, name, contact),
            Change::OrderPlaced { .. } => self.apply_order_placed(event),
            Change::OrderReceived { order, lines } => {
                self.apply_order_received(event, *order, lines, conflicted)
            }
            Change::SitePolicySet { site, policy } => self.apply_site_policy(*site, policy),
            Change::AreaPolicySet { area, set, clear } => self.apply_area_policy(*area, set, clear),
            Change::KeyHandedOver { .. } => self.apply_handover(event, conflict.as_ref()),
            Change::SuiteDefined { .. } => self.apply_suite_defined(event, conflicted),
            Change::MasterHolderSet { .. } => self.apply_master_holder(event),
            Change::MasterSignedOut { .. } => self.apply_master_sign_out(event, conflict.as_ref()),
            Change::MasterReturned { .. } => self.apply_master_return(event, conflict.as_ref()),
            Change::MasterSeen { .. } => self.apply_master_seen(event),
            Change::MasterLostReported { .. } => self.apply_master_lost(event, conflict.as_ref()),
            Change::EmergencyUseReviewed { .. } => self.apply_review(event, conflicted),
            Change::EscalationResolved { .. } => self.apply_escalation_resolved(event, conflicted),
            Change::AuditStarted { .. } => self.apply_audit_started(event),
            Change::AuditFindingRecorded { .. } => self.apply_finding(event, conflicted),
            Change::AuditFindingUndone { finding } => self.apply_finding_undone(event, *finding),
            Change::AuditMasterChecked { .. } => self.apply_audit_master(event),
            Change::AuditCompleted { audit } => self.apply_audit_completed(event, *audit),
            Change::AuditRouteSet { area, lockers } => self.apply_route(*area, lockers),
            Change::TermDatesSet { site, terms } => self.apply_term_dates(*site, terms),
            Change::PersonLeft { person, left } => self.apply_person_left(*person, *left),
        }
    }

    /// How a change fits the register as it stands. The fold records a conflict for
    /// [`Fit::Conflicts`] and skips [`Fit::Unknown`]; the server answers a pushed change with
    /// the same judgement.
    pub fn assess(&self, change: &Change) -> Fit {
        match change {
            Change::SiteCreated { .. } => Fit::Fits,
            Change::AreaAdded { site, .. }
            | Change::PersonAdded { site, .. }
            | Change::SiteLabelsSet { site, .. }
            | Change::BlankTagsMade { site, .. }
            | Change::SupplierAdded { site, .. } => self.assess_site_known(*site),
            Change::LockersAdded {
                site,
                area,
                lockers,
            } => self.assess_lockers_added(*site, *area, lockers),
            Change::LockerServiceChanged { locker, .. } => self.assess_locker_known(*locker),
            Change::LockFitted { lock, locker, .. } => self.assess_lock_fitted(*lock, *locker),
            Change::KeysAdded { lock, .. } => self.assess_keys_added(*lock),
            Change::PersonEdited { person, .. } => self.assess_person_edited(*person),
            Change::KeyIssued {
                loan,
                key,
                locker,
                holder,
                ..
            } => self.assess_issue(*loan, *key, *locker, holder),
            Change::KeyReturned { loan, key, .. } => self.assess_return(*loan, *key),
            Change::LockerLabelsIssued { labels } => self.assess_locker_labels(labels),
            Change::TagAttached { key, tag, previous } => {
                self.assess_tag_attached(*key, tag, previous)
            }
            Change::ConflictResolved {
                conflict, choice, ..
            } => self.assess_resolved(*conflict, *choice),
            Change::FaultRecorded { lock, .. } => self.assess_lock_known(*lock),
            Change::LockChanged {
                locker, old, lock, ..
            } => self.assess_lock_changed(*locker, *old, *lock),
            Change::KeyRetired { key, .. } | Change::KeyFound { key, .. } => {
                self.assess_user_key(*key)
            }
            Change::KeyReportedLost {
                case, key, loan, ..
            } => self.assess_report_lost(*case, *key, *loan),
            Change::LostCaseDecided { case, .. } => self.assess_case_decided(*case),
            Change::ChargeRecorded { case, .. } => self.assess_case_known(*case),
            Change::OrderPlaced {
                site,
                supplier,
                lines,
                ..
            } => self.assess_order_placed(*site, *supplier, lines),
            Change::OrderReceived { order, lines } => self.assess_order_received(*order, lines),
            Change::SitePolicySet { site, .. } => self.assess_site_known(*site),
            Change::AreaPolicySet { area, .. } => self.assess_area_known(*area),
            Change::KeyHandedOver {
                loan,
                new_loan,
                key,
                locker,
                to,
                ..
            } => self.assess_handover(*loan, *new_loan, *key, *locker, to),
            Change::SuiteDefined {
                suite, site, name, ..
            } => self.assess_suite_defined(*suite, *site, name),
            Change::MasterHolderSet { suite, person, .. } => {
                self.assess_master_holder(*suite, *person)
            }
            Change::MasterSignedOut { .. } => self.assess_master_sign_out(change),
            Change::MasterReturned { sign_out, key, .. } => {
                self.assess_master_return(*sign_out, *key)
            }
            Change::MasterSeen { key, .. } => self.assess_master_seen(*key),
            Change::MasterLostReported {
                escalation,
                key,
                sign_out,
                ..
            } => self.assess_master_lost(*escalation, *key, *sign_out),
            Change::EmergencyUseReviewed { sign_out, .. } => self.assess_review(*sign_out),
            Change::EscalationResolved { escalation, .. } => {
                self.assess_escalation_resolved(*escalation)
            }
            Change::AuditStarted { site, scope, .. } => self.assess_audit_started(*site, scope),
            Change::AuditFindingRecorded {
                finding,
                audit,
                locker,
                kind,
                replaces,
                ..
            } => self.assess_finding(*finding, *audit, *locker, kind, *replaces),
            Change::AuditFindingUndone { finding } => self.assess_finding_undone(*finding),
            Change::AuditMasterChecked { audit, key, .. } => self.assess_audit_master(*audit, *key),
            Change::AuditCompleted { audit } => self.assess_audit_known(*audit),
            Change::AuditRouteSet { area, .. } => self.assess_area_known(*area),
            Change::TermDatesSet { site, .. } => self.assess_site_known(*site),
            Change::PersonLeft { person, .. } => self.assess_person_edited(*person),
        }
    }

    /// Adds a line to a locker's history.
    fn log(&mut self, locker: LockerId, event: &Event, what: What) {
        self.timelines.entry(locker).or_default().push(Entry {
            event: event.id,
            at: event.at,
            actor: event.actor.clone(),
            what,
        });
    }

    /// Whether the event was folded in already.
    pub fn has_event(&self, id: EventId) -> bool {
        self.applied.contains(&id)
    }

    /// How many distinct events have been folded in.
    pub fn event_count(&self) -> usize {
        self.events
    }
}
