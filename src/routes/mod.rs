//! One module per screen, named as people call it. Each reads the register from context and
//! sends commands; none decides what is valid (keyward-core does).

mod account;
mod audits;
mod backup;
mod blank_tag;
mod card_scan;
mod conflicts;
mod handover;
mod issue;
mod key;
mod labels;
mod loan_form;
mod lock_change;
mod locker;
mod lost;
mod master;
mod not_found;
mod orders;
mod overdue;
mod people;
mod person;
mod policies;
mod register;
mod return_key;
mod safe_mode;
mod scan;
mod setup;
mod setup_lockers;

pub use account::{status_text, ResetPasswordPage, SyncPage};
pub use audits::{AuditPage, AuditReportPage, AuditsPage, DashboardPage};
pub use backup::BackupPage;
pub use blank_tag::BlankTagPage;
pub use conflicts::{open_conflicts, ConflictsPage};
pub use handover::HandOverPage;
pub use issue::IssuePage;
pub use key::KeyPage;
pub use labels::LabelsPage;
pub use lock_change::{ChangeLockPage, LocksToReplacePage, RepeatedLossesPage};
pub use locker::LockerPage;
pub use lost::{CasePage, CasesPage, ReportLostPage};
pub use master::{
    locker_list, open_escalation_lines, CheckPage, EscalationPage, MasterKeyPage, MasterPage,
    ReviewsPage,
};
pub use not_found::NotFound;
pub use orders::{NewOrderPage, OrderPage, OrdersPage};
pub use overdue::{OverduePage, SparesPage};
pub use people::{NewPersonPage, PeoplePage};
pub use person::{EditPersonPage, PersonPage};
pub use policies::PoliciesPage;
pub use register::RegisterPage;
pub use return_key::ReturnPage;
pub use safe_mode::{SafeMode, UntilRefetched};
pub use scan::{ScanLanding, ScanPage};
pub use setup::SetupPage;
pub use setup_lockers::AddLockersPage;
