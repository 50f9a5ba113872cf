//! Who may do what: one table, used by the server on every pushed change and by the app to
//! hide or disable what a person's role cannot do.

use crate::command::Command;
use crate::event::Change;
use serde::{Deserialize, Serialize};

/// A person's role at a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including the site's set-up and its users.
    Admin,
    /// Runs the key store: lockers, locks, keys, labels, issue and return, conflicts, audits
    /// and exports; everything but the site's set-up and its users.
    Custodian,
    /// Issues and returns keys, records people, reports a locker out of service.
    Staff,
    /// Reads the register and carries out audits.
    Auditor,
    /// Reads the register only.
    Viewer,
}

/// What a command or change does, in the terms the role table uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Create the site, add areas, set the site's label address and its area policies.
    SetUpSite,
    /// Add lockers.
    AddLockers,
    /// Take a locker out of service or put it back.
    ChangeService,
    /// Fit locks, add keys, print labels and tags, put a tag on a key.
    ManageKeys,
    /// Issue and return keys, hand them over from one holder to the next.
    IssueReturn,
    /// Add and edit people.
    ManagePeople,
    /// Decide a conflict between devices.
    ResolveConflicts,
    /// Take a backup (a full copy of the register's data) off the device.
    ExportData,
    /// Add users and set their roles.
    ManageUsers,
    /// Carry out an audit.
    Audit,
    /// Change locks and retire keys.
    ChangeLocks,
    /// See key codes, order keys cut to code, decide lost-key cases and charges.
    OrderKeys,
    /// Define master-key suites and their authorised holders, review emergency uses, resolve
    /// a lost master key's escalation.
    MasterKeys,
    /// Sign master keys out and back, check they are in their place, report one lost.
    UseMasterKey,
}

impl Action {
    pub const ALL: [Action; 14] = [
        Action::SetUpSite,
        Action::AddLockers,
        Action::ChangeService,
        Action::ManageKeys,
        Action::IssueReturn,
        Action::ManagePeople,
        Action::ResolveConflicts,
        Action::ExportData,
        Action::ManageUsers,
        Action::Audit,
        Action::ChangeLocks,
        Action::OrderKeys,
        Action::MasterKeys,
        Action::UseMasterKey,
    ];

    /// As in "Your role cannot … ".
    pub fn phrase(self) -> &'static str {
        match self {
            Action::SetUpSite => "change the site's set-up",
            Action::AddLockers => "add lockers",
            Action::ChangeService => "take lockers out of service",
            Action::ManageKeys => "fit locks, add keys or print labels",
            Action::IssueReturn => "issue or return keys",
            Action::ManagePeople => "add or edit people",
            Action::ResolveConflicts => "resolve conflicts",
            Action::ExportData => "export the register's data",
            Action::ManageUsers => "manage users",
            Action::Audit => "carry out audits",
            Action::ChangeLocks => "change locks or retire keys",
            Action::OrderKeys => "see key codes, order keys or decide lost-key cases",
            Action::MasterKeys => "manage master keys",
            Action::UseMasterKey => "sign out or check master keys",
        }
    }
}

impl Role {
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Custodian,
        Role::Staff,
        Role::Auditor,
        Role::Viewer,
    ];

    /// The role table: whether this role may take this action.
    pub fn may(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Custodian => !matches!(action, SetUpSite | ManageUsers),
            Role::Staff => matches!(
                action,
                ChangeService | IssueReturn | ManagePeople | UseMasterKey
            ),
            Role::Auditor => matches!(action, Audit),
            Role::Viewer => false,
        }
    }

    /// `Ok` when allowed, else the message the person sees.
    pub fn check(self, action: Action) -> Result<(), String> {
        if self.may(action) {
            Ok(())
        } else {
            Err(format!(
                "Your role ({}) cannot {}. Ask your site's admin if you need to.",
                self.label().to_lowercase(),
                action.phrase()
            ))
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Admin => "Admin",
            Role::Custodian => "Key custodian",
            Role::Staff => "Staff",
            Role::Auditor => "Auditor",
            Role::Viewer => "Viewer",
        }
    }

    /// The stored name ("admin", "custodian", …).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Custodian => "custodian",
            Role::Staff => "staff",
            Role::Auditor => "auditor",
            Role::Viewer => "viewer",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl Command {
    pub fn action(&self) -> Action {
        match self {
            Command::CreateSite { .. }
            | Command::AddArea { .. }
            | Command::SetSiteLabels { .. } => Action::SetUpSite,
            Command::AddLocker { .. } | Command::AddLockerRange { .. } => Action::AddLockers,
            Command::SetLockerService { .. } => Action::ChangeService,
            Command::FitLock { .. }
            | Command::AddKeys { .. }
            | Command::IssueLockerLabels { .. }
            | Command::MakeBlankTags { .. }
            | Command::AttachTag { .. } => Action::ManageKeys,
            Command::IssueKey { .. } | Command::ReturnKey { .. } => Action::IssueReturn,
            Command::AddPerson { .. } | Command::EditPerson { .. } => Action::ManagePeople,
            Command::ResolveConflict { .. } => Action::ResolveConflicts,
            Command::RecordAgain { change } => change.action(),
            Command::RecordFault { .. } => Action::ChangeService,
            Command::ChangeLock { .. } | Command::RetireKey { .. } => Action::ChangeLocks,
            Command::ReportKeyLost { .. } | Command::RecordKeyFound { .. } => Action::IssueReturn,
            Command::DecideLostCase { .. }
            | Command::RecordCharge { .. }
            | Command::AddSupplier { .. }
            | Command::PlaceOrder { .. }
            | Command::ReceiveOrder { .. } => Action::OrderKeys,
            Command::SetSitePolicy { .. } | Command::SetAreaPolicy { .. } => Action::SetUpSite,
            Command::HandOverKey { .. } => Action::IssueReturn,
            Command::DefineSuite { .. }
            | Command::SetMasterHolder { .. }
            | Command::ReviewEmergencyUse { .. }
            | Command::ResolveEscalation { .. } => Action::MasterKeys,
            Command::SignOutMasterKey { .. }
            | Command::ReturnMasterKey { .. }
            | Command::CheckMasterKey { .. }
            | Command::ReportMasterKeyLost { .. } => Action::UseMasterKey,
            Command::StartAudit { .. }
            | Command::RecordFinding { .. }
            | Command::UndoFinding { .. }
            | Command::CheckAuditMaster { .. }
            | Command::CompleteAudit { .. }
            | Command::SetAuditRoute { .. } => Action::Audit,
            Command::SetTermDates { .. } => Action::SetUpSite,
            Command::SetPersonLeft { .. } => Action::ManagePeople,
        }
    }
}

impl Change {
    pub fn action(&self) -> Action {
        match self {
            Change::SiteCreated { .. }
            | Change::AreaAdded { .. }
            | Change::SiteLabelsSet { .. } => Action::SetUpSite,
            Change::LockersAdded { .. } => Action::AddLockers,
            Change::LockerServiceChanged { .. } => Action::ChangeService,
            Change::LockFitted { .. }
            | Change::KeysAdded { .. }
            | Change::LockerLabelsIssued { .. }
            | Change::BlankTagsMade { .. }
            | Change::TagAttached { .. } => Action::ManageKeys,
            Change::KeyIssued { .. } | Change::KeyReturned { .. } => Action::IssueReturn,
            Change::PersonAdded { .. } | Change::PersonEdited { .. } => Action::ManagePeople,
            Change::ConflictResolved { .. } => Action::ResolveConflicts,
            Change::FaultRecorded { .. } => Action::ChangeService,
            Change::LockChanged { .. } | Change::KeyRetired { .. } => Action::ChangeLocks,
            Change::KeyReportedLost { .. } | Change::KeyFound { .. } => Action::IssueReturn,
            Change::LostCaseDecided { .. }
            | Change::ChargeRecorded { .. }
            | Change::SupplierAdded { .. }
            | Change::OrderPlaced { .. }
            | Change::OrderReceived { .. } => Action::OrderKeys,
            Change::SitePolicySet { .. } | Change::AreaPolicySet { .. } => Action::SetUpSite,
            Change::KeyHandedOver { .. } => Action::IssueReturn,
            Change::SuiteDefined { .. }
            | Change::MasterHolderSet { .. }
            | Change::EmergencyUseReviewed { .. }
            | Change::EscalationResolved { .. } => Action::MasterKeys,
            Change::MasterSignedOut { .. }
            | Change::MasterReturned { .. }
            | Change::MasterSeen { .. }
            | Change::MasterLostReported { .. } => Action::UseMasterKey,
            Change::AuditStarted { .. }
            | Change::AuditFindingRecorded { .. }
            | Change::AuditFindingUndone { .. }
            | Change::AuditMasterChecked { .. }
            | Change::AuditCompleted { .. }
            | Change::AuditRouteSet { .. } => Action::Audit,
            Change::TermDatesSet { .. } => Action::SetUpSite,
            Change::PersonLeft { .. } => Action::ManagePeople,
        }
    }
}
