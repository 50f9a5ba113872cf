//! Conflicts between devices: recording one when the fold meets a change made against an
//! older view, a person's decision on it, and where each shows. What a decision does to the
//! state belongs to the procedure that owns the conflict's kind (`apply_*_decision`).

use super::{Fit, Register};
use crate::conflict::{Conflict, ConflictKind, Decision, Resolution};
use crate::error::CommandError;
use crate::event::{Change, Event};
use crate::format::uk_date;
use crate::ids::{EventId, LockerId, SiteId};
use crate::timeline::What;

impl Register {
    pub(super) fn decide_resolve(
        &self,
        conflict: EventId,
        choice: Resolution,
        notes: String,
    ) -> Result<Change, CommandError> {
        let c = self
            .conflicts
            .get(&conflict)
            .ok_or(CommandError::UnknownConflict)?;
        if let Some(d) = &c.decision {
            return Err(CommandError::ConflictDecided {
                by: d.by.clone(),
                on: uk_date(d.at.date_naive()),
            });
        }
        if !c.kind.choices().contains(&choice) {
            return Err(CommandError::ChoiceNotOffered);
        }
        self.check_loan_decision(&c.kind, choice)?;
        Ok(Change::ConflictResolved {
            conflict,
            choice,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn assess_resolved(&self, conflict: EventId, choice: Resolution) -> Fit {
        match self.conflicts.get(&conflict) {
            None => Fit::Unknown("that conflict is not in the register"),
            Some(c) if !c.kind.choices().contains(&choice) => {
                Fit::Unknown("that choice does not fit the conflict")
            }
            Some(c) if c.decision.is_some() => {
                Fit::Conflicts(ConflictKind::DecidedTwice { conflict })
            }
            Some(_) => Fit::Fits,
        }
    }

    /// A decision that fits (one decided twice was recorded as a conflict, and changes nothing).
    pub(super) fn apply_resolved(
        &mut self,
        event: &Event,
        decided: EventId,
        choice: Resolution,
        notes: &str,
    ) {
        let Some(c) = self.conflicts.get_mut(&decided) else {
            return;
        };
        c.decision = Some(Decision {
            choice,
            notes: notes.to_string(),
            by: event.actor.clone(),
            at: event.at,
            event: event.id,
        });
        let kind = c.kind.clone();
        let mut note = format!("Closed when {} decided a conflict", event.actor);
        if !notes.is_empty() {
            note.push_str(&format!(": {notes}"));
        }
        self.apply_loan_decision(event, &kind, choice, &note);
        self.apply_lock_decision(&kind, choice);
        self.apply_lost_decision(&kind, choice);
        self.apply_master_decision(event, &kind, choice, &note);
        self.apply_audit_decision(event, &kind, choice);
        if let Some(locker) = self.conflict_locker(&kind) {
            self.log(locker, event, What::Decided { conflict: decided });
        }
    }

    pub(super) fn record_conflict(&mut self, event: &Event, kind: ConflictKind) {
        if let Some(locker) = self.conflict_locker(&kind) {
            self.log(locker, event, What::Conflict { event: event.id });
        }
        self.conflicts.insert(
            event.id,
            Conflict {
                event: event.id,
                actor: event.actor.clone(),
                device: event.device,
                at: event.at,
                kind,
                decision: None,
            },
        );
    }

    /// The locker whose history shows a conflict.
    fn conflict_locker(&self, kind: &ConflictKind) -> Option<LockerId> {
        match kind {
            ConflictKind::KeyNotInStore { key, .. }
            | ConflictKind::TagNotAttached { key, .. }
            | ConflictKind::IssuedAfterRetired { key, .. }
            | ConflictKind::LostAndReturned { key, .. }
            | ConflictKind::LostTwice { key, .. } => self.locker_of_key(*key).map(|l| l.id),
            ConflictKind::CaseDecidedTwice { case } => self.case(*case).map(|c| c.locker),
            ConflictKind::HandOverNotCurrent { key, .. } => self.locker_of_key(*key).map(|l| l.id),
            ConflictKind::HolderHasKey { locker, .. }
            | ConflictKind::LockAlreadyFitted { locker, .. }
            | ConflictKind::AuditFindingsDiffer { locker, .. } => Some(*locker),
            ConflictKind::ReturnedTwice { loan } => self.loan(*loan).map(|l| l.locker),
            ConflictKind::DecidedTwice { conflict } => self
                .conflicts
                .get(conflict)
                .and_then(|c| self.conflict_locker(&c.kind)),
            ConflictKind::LockerNumbersTaken { .. }
            | ConflictKind::OrderReceivedTwice { .. }
            | ConflictKind::SuiteNameTaken { .. } => None,
            ConflictKind::MasterOutTwice { key, .. }
            | ConflictKind::MasterOutWhileLost { key, .. }
            | ConflictKind::MasterReturnedTwice { key, .. }
            | ConflictKind::MasterReturnedWhileLost { key, .. }
            | ConflictKind::MasterLostMeanwhile { key, .. }
            | ConflictKind::MasterLostTwice { key, .. }
            | ConflictKind::MasterSeenMeanwhile { key }
            | ConflictKind::MasterHolderWithdrawn { key, .. }
            | ConflictKind::MasterReviewedTwice { key, .. }
            | ConflictKind::EscalationResolvedTwice { key, .. } => {
                self.locker_of_key(*key).map(|l| l.id)
            }
        }
    }

    /// Every conflict, newest first.
    pub fn conflicts(&self) -> Vec<&Conflict> {
        self.conflicts.values().rev().collect()
    }
    pub fn conflict(&self, event: EventId) -> Option<&Conflict> {
        self.conflicts.get(&event)
    }
    /// Conflicts of a site nobody has decided yet, newest first.
    pub fn open_conflicts(&self, site: SiteId) -> Vec<&Conflict> {
        self.conflicts
            .values()
            .rev()
            .filter(|c| c.decision.is_none() && self.conflict_site(&c.kind) == Some(site))
            .collect()
    }
    /// Undecided conflicts shown in a locker's history.
    pub fn open_conflicts_of_locker(&self, locker: LockerId) -> Vec<&Conflict> {
        self.conflicts
            .values()
            .filter(|c| c.decision.is_none() && self.conflict_locker(&c.kind) == Some(locker))
            .collect()
    }
    pub fn conflict_site(&self, kind: &ConflictKind) -> Option<SiteId> {
        match kind {
            ConflictKind::LockerNumbersTaken { site, .. }
            | ConflictKind::SuiteNameTaken { site, .. } => Some(*site),
            ConflictKind::OrderReceivedTwice { order } => self.order(*order).map(|o| o.site),
            // Its site is the decided conflict's (which may name no locker).
            ConflictKind::DecidedTwice { conflict } => self
                .conflicts
                .get(conflict)
                .and_then(|c| self.conflict_site(&c.kind)),
            kind => self
                .conflict_locker(kind)
                .and_then(|l| self.locker(l))
                .map(|l| l.site),
        }
    }
}
