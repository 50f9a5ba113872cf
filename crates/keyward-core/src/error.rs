//! Why a command was refused, in words a caretaker can act on.

use thiserror::Error;

#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CommandError {
    #[error("Enter a name for the site, for example “Northgate School”.")]
    SiteNameEmpty,
    #[error("There is already a site called “{name}”. Choose another name.")]
    SiteNameTaken { name: String },
    #[error("That site is not in the register on this device.")]
    UnknownSite,
    #[error("Enter a name for the area, for example “Science block, ground floor”.")]
    AreaNameEmpty,
    #[error("{site} already has an area called “{name}”. Choose another name.")]
    AreaNameTaken { site: String, name: String },
    #[error("Choose an area of this site for the lockers.")]
    UnknownArea,
    #[error("Enter a locker number, for example A12.")]
    LockerNumberEmpty,
    #[error("Locker numbers can use letters, digits, spaces, “-”, “/” and “.” only. Remove the “{character}”.")]
    LockerNumberCharacter { character: char },
    #[error("Locker numbers can be at most {max} characters long.")]
    LockerNumberTooLong { max: usize },
    #[error("Locker {number} already exists at {site}. Choose another number, or open {number} to change it.")]
    LockerNumberTaken { site: String, number: String },
    #[error("Both ends of a range need a number at the end, for example A-001 to A-120.")]
    RangeNeedsNumbers,
    #[error("{from} and {to} start differently. Give both ends the same start, for example A-001 to A-120.")]
    RangePrefixesDiffer { from: String, to: String },
    #[error("The range runs backwards: {from} comes after {to}. Swap them.")]
    RangeBackwards { from: String, to: String },
    #[error("That range has {count} lockers; at most {max} can be added at once. Split it into smaller ranges.")]
    RangeTooLarge { count: u64, max: usize },
    #[error("Nothing was added: {} already {} at {site}: {}. Choose a range that avoids {}.",
        plural(*count, "locker", "lockers"), if *count == 1 { "exists" } else { "exist" },
        list(numbers, *count), if *count == 1 { "it" } else { "them" })]
    RangeCollides {
        site: String,
        numbers: Vec<String>,
        count: usize,
    },
    #[error("Did you mean {existing}? {number} differs from locker {existing} only in capitals, spaces, hyphens or leading zeros. Open {existing}, or add {number} anyway if it is a different locker.")]
    LockerNumberSimilar { number: String, existing: String },
    #[error("Did you mean {first}? {} of this range {} like lockers already here, differing only in capitals, spaces, hyphens or leading zeros: {}. Check the range, or add it anyway if they are different lockers.",
        plural(*count, "number", "numbers"), if *count == 1 { "looks" } else { "look" },
        list(similar, *count))]
    RangeSimilar {
        /// The existing locker the first similar number looks like.
        first: String,
        /// "A1 like A-001", the first few.
        similar: Vec<String>,
        count: usize,
    },
    #[error("That locker is not in the register on this device.")]
    UnknownLocker,
    #[error("Locker {number} already has a lock. Lock changes are a separate procedure.")]
    LockAlreadyFitted { number: String },
    #[error(
        "Enter the lock's code: the code its keys are cut to (it is stamped on the lock or a key)."
    )]
    LockCodeEmpty,
    #[error("That lock is not in the register on this device.")]
    UnknownLock,
    #[error("Choose how many keys to add: from 1 to {max}.")]
    KeyCountOutOfRange { max: u32 },
    #[error("A combination or electronic lock has no keys to add.")]
    LockHasNoKeys,
    #[error("That key is not in the register on this device.")]
    UnknownKey,
    #[error("Enter the person's name.")]
    PersonNameEmpty,
    #[error("Reference {reference} already belongs to {name}. Check the number, or open {name} instead.")]
    ReferenceTaken { reference: String, name: String },
    #[error("That person is not in the register on this device.")]
    UnknownPerson,
    #[error("Key {tag} is {state}, not in store, so it cannot be issued. Return it first, or choose another key.")]
    KeyNotInStore { tag: String, state: String },
    #[error("Key {tag} does not open locker {number}. Choose one of locker {number}'s keys.")]
    KeyNotForLocker { tag: String, number: String },
    #[error("Locker {number} is out of service. Put it back in service before issuing its keys.")]
    LockerOutOfService { number: String },
    #[error(
        "{name} already holds a key to locker {number} (key {tag}). One key per person per locker."
    )]
    AlreadyHoldsKey {
        name: String,
        number: String,
        tag: String,
    },
    #[error("Master keys are not issued like locker keys: they are signed out to an authorised holder with a reason.")]
    MasterKeyNotIssued,
    #[error("Choose who the key is issued to: a person, or enter a department.")]
    HolderMissing,
    #[error(
        "The expected return ({expected}) is before the issue date ({date}). Choose a later date."
    )]
    ReturnBeforeIssue { date: String, expected: String },
    #[error("Confirm the issue: the person taking the key types their name or signs on screen.")]
    ConfirmationMissing,
    #[error("{}", needs.refusal())]
    ConfirmationNotAllowed {
        needs: crate::register::TakerConfirms,
    },
    #[error("Key {tag} is {state}, not out, so there is nothing to return.")]
    KeyNotOut { tag: String, state: String },
    #[error("Enter who received the key back.")]
    ReceiverMissing,
    #[error("Enter the reason the locker is out of service, for example “door hinge broken”.")]
    ReasonMissing,
    #[error(
        "Enter the address people use for Keyward at this site, for example keys.northgate.sch.uk."
    )]
    LabelHostInvalid,
    #[error("Enter where a found key should be handed in, for example “the school office”.")]
    FrontDeskMissing,
    #[error("Choose how many blank tags to make: from 1 to {max}.")]
    BlankTagCountOutOfRange { max: u32 },
    #[error("Tag {tag} is already on a key. Use a new blank tag.")]
    TagInUse { tag: String },
    #[error("Tag {tag} is not one of this register's blank tags. Check the tag, or print new blank tags.")]
    NotABlankTag { tag: String },
    #[error("Every chosen locker already has its label reference.")]
    NothingToLabel,
    #[error("Locker {number} is already in service.")]
    AlreadyInService { number: String },
    #[error("That conflict is not in the register on this device. Sync, then try again.")]
    UnknownConflict,
    #[error("{by} already decided this conflict on {on}.")]
    ConflictDecided { by: String, on: String },
    #[error("That choice does not fit this conflict. Choose one of the options shown.")]
    ChoiceNotOffered,
    #[error("The key has been returned or issued again since. Keep the first issue, then issue the key afresh if needed.")]
    KeyMovedOn,
    #[error("{field} is missing. Fill it in, then try again.")]
    TextMissing { field: &'static str },
    #[error("{field} can be at most {max} characters long. Shorten it, then try again.")]
    TextTooLong { field: &'static str, max: usize },
    #[error("{field} needs at least one letter: type it in letters, not only symbols or emoji.")]
    NameNeedsLetter { field: &'static str },
    #[error("One change can hold from 1 to {max} {what}.")]
    CountOutOfRange { what: &'static str, max: usize },
    #[error("This change is not well formed ({0}), so it was not recorded.")]
    Malformed(&'static str),
    #[error("{0}")]
    NotAllowed(String),
    #[error("It is in the register already (recorded again before, or it reached the server after all).")]
    AlreadyRecorded,
    #[error("A site is created only once, on the device that set it up. Put the site on the server from that device, or set it up again here.")]
    SiteCreatedElsewhere,
    #[error("It no longer fits the register: {why}. Record by hand what still needs doing.")]
    NoLongerFits { why: String },
    #[error("Locker {number} has no lock yet. Fit a lock first.")]
    NoLockToChange { number: String },
    #[error("Enter why the lock is changed, for example “key stolen”.")]
    LockChangeReasonMissing,
    #[error("Key {tag} is out with {holder}. Return it first, or report it lost.")]
    KeyStillOut { tag: String, holder: String },
    #[error("Key {tag} is already {state}.")]
    KeyAlreadyGone { tag: String, state: String },
    #[error("Enter why the key is retired, for example “worn”.")]
    RetireReasonMissing,
    #[error("Key {tag} is not lost or stolen, so it cannot be found.")]
    KeyNotLost { tag: String },
    #[error("That lost-key case is not in the register on this device.")]
    UnknownCase,
    #[error("This case was already decided by {by}: {outcome}.")]
    CaseAlreadyDecided { by: String, outcome: String },
    #[error("This case is closed.")]
    CaseClosed,
    #[error("Enter why: who decided and on what grounds.")]
    CaseReasonMissing,
    #[error("Key {tag} is a master key: sign it out, check it or report it lost from its suite's master-key page.")]
    MasterKeyOwnProcedure { tag: String },
    #[error("Key {tag} is not a master key. Choose the master key the locker was opened with.")]
    OpenedWithNotMaster { tag: String },
    #[error("Enter the charge in pounds, for example 5.00.")]
    ChargeMissing,
    #[error("Enter the supplier's name.")]
    SupplierNameEmpty,
    #[error("There is already a supplier called “{name}”.")]
    SupplierNameTaken { name: String },
    #[error("That supplier is not in the register on this device.")]
    UnknownSupplier,
    #[error("Add at least one line to the order: a lock and how many keys.")]
    OrderEmpty,
    #[error("Order from 1 to {max} keys on each line.")]
    OrderQuantityOutOfRange { max: u32 },
    #[error(
        "The expected date ({expected}) is before the order date ({ordered}). Choose a later date."
    )]
    ExpectedBeforeOrdered { ordered: String, expected: String },
    #[error("That order is not in the register on this device.")]
    UnknownOrder,
    #[error("This order has been received in full already.")]
    OrderAlreadyReceived,
    #[error("Line {line} has only {outstanding} key(s) still to come. Check the delivery.")]
    ReceivedTooMany { line: usize, outstanding: u32 },
    #[error("Enter how many keys arrived on at least one line.")]
    NothingReceived,
    #[error("That lock is no longer on locker {number}: its lock was changed. Use the new lock.")]
    LockRemoved { number: String },
    #[error("{what} must be from {min} to {max}. Choose a number in that range.")]
    PolicyOutOfRange {
        what: &'static str,
        min: u32,
        max: u32,
    },
    #[error("The default temporary loan ({}) is longer than the longest allowed ({}). Shorten the default or allow longer loans.",
        plural(usize::from(*default), "day", "days"), plural(usize::from(*max), "day", "days"))]
    DefaultLoanOverMax { default: u16, max: u16 },
    #[error("Nothing to change: choose a setting to set for this area, or one to inherit from the site again.")]
    PolicyUnchanged,
    #[error("A temporary loan here can last at most {}, so the key must be due back by {latest}. Choose an earlier date, or ask an admin about the area's policy.",
        plural(usize::from(*max_days), "day", "days"))]
    LoanTooLong { max_days: u16, latest: String },
    #[error("Choose the day the key is due back as well as the time.")]
    DueTimeWithoutDate,
    #[error("Key {tag} is {state}, not out, so there is nothing to hand over. Issue it instead.")]
    NothingToHandOver { tag: String, state: String },
    #[error("{name} already has this key. Choose who it is handed over to.")]
    HandOverToSameHolder { name: String },
    #[error(
        "Enter a name for the suite, as written on its locks, for example “Ward 7 changing rooms”."
    )]
    SuiteNameEmpty,
    #[error(
        "{site} already has a suite called “{name}”. Choose another name, or open that suite."
    )]
    SuiteNameTaken { site: String, name: String },
    #[error("Choose how often the suite's master keys are checked: every 1 to {max} days.")]
    CheckIntervalOutOfRange { max: u32 },
    #[error("That suite is not in the register on this device. Sync, then try again.")]
    UnknownSuite,
    #[error("{name} is already {}an authorised holder of the {suite} suite's master keys.", if *authorised { "" } else { "not " })]
    HolderUnchanged {
        name: String,
        suite: String,
        authorised: bool,
    },
    #[error("Key {tag} is not a master key. Issue or return it from its locker instead.")]
    NotAMasterKey { tag: String },
    #[error("Master key {tag} belongs to no suite defined at this site. Define a suite named as on its lock{}, then try again.", suite_hint(suite))]
    MasterKeyWithoutSuite { tag: String, suite: String },
    #[error("{name} is not an authorised holder of master key {tag} ({suite}). Choose an authorised holder, or record an emergency use with its reason.")]
    NotAuthorisedHolder {
        name: String,
        tag: String,
        suite: String,
    },
    #[error(
        "Enter the reason for taking the master key, for example “pupil locked out of locker C12”."
    )]
    MasterReasonMissing,
    #[error("The {suite} suite needs a witness for every use of its master keys. Choose the person who witnessed it.")]
    WitnessRequired { suite: String },
    #[error(
        "The witness must be someone other than the person taking the key. Choose another witness."
    )]
    WitnessIsHolder,
    #[error("Master key {tag} is signed out to {name}. Record its return first.")]
    MasterKeyOut { tag: String, name: String },
    #[error("Master key {tag} is reported lost. An admin resolves its escalation (found, or not) before anything else is recorded on it.")]
    MasterKeyLost { tag: String },
    #[error("Master key {tag} is not signed out, so there is nothing to return.")]
    MasterKeyNotOut { tag: String },
    #[error("The time it is due back ({due}) is before it goes out. Choose a later time.")]
    DueBackBeforeOut { due: String },
    #[error("That sign-out is not in the register on this device. Sync, then try again.")]
    UnknownSignOut,
    #[error("That use of a master key is not flagged for review: only emergency uses (and uses by a holder no longer authorised) are.")]
    NotFlaggedForReview,
    #[error("{by} already reviewed this use of a master key on {on}.")]
    AlreadyReviewed { by: String, on: String },
    #[error("Enter what the review found, for example “use justified, pupil locked out”.")]
    ReviewNotesMissing,
    #[error("That escalation is not in the register on this device. Sync, then try again.")]
    UnknownEscalation,
    #[error("{by} already resolved this escalation on {on}.")]
    EscalationAlreadyResolved { by: String, on: String },
    #[error("Enter what was done about the lost master key, for example “found in the ward office” or “suite locks changed”.")]
    EscalationNotesMissing,
    #[error("No key has tag {tag} in this register. Check the tag and scan it again.")]
    UnknownTag { tag: String },
    #[error("That audit is not in the register on this device.")]
    UnknownAudit,
    #[error("This audit was completed on {on}. Start a new audit to record more.")]
    AuditComplete { on: String },
    #[error(
        "There are no lockers in that part of the site to audit. Choose another area or range."
    )]
    AuditScopeEmpty,
    #[error("Locker {number} is already in the open audit {by} started on {on}. Carry on with that audit, or complete it first.")]
    AuditOverlaps {
        number: String,
        by: String,
        on: String,
    },
    #[error(
        "Locker {number} is not in this audit. Open the audit it belongs to, or start one for it."
    )]
    LockerNotInAudit { number: String },
    #[error("Key {tag} belongs to locker {number}, so it is where it should be. Record the locker as expected, or the keys as duplicated.")]
    KeyBelongsHere { tag: String, number: String },
    #[error("Enter how many keys of this lock's code you found: from 2 to {max}.")]
    DuplicatesOutOfRange { max: u16 },
    #[error("Enter or scan the code you found.")]
    CodeMissing,
    #[error("Two auditors recorded different findings at locker {number}. Decide which is right in Conflicts (or undo one), then record it again if needed.")]
    LockerFindingsDiffer { number: String },
    #[error("That finding is not in the register on this device.")]
    UnknownFinding,
    #[error("That finding was already undone or replaced, so there is nothing to undo.")]
    FindingEnded,
    #[error("Key {tag} is not a master key of a suite this audit covers. Check the key.")]
    NotAuditMaster { tag: String },
    #[error("Two auditors recorded different findings at {}: decide {} in Conflicts, then complete the audit.",
        list(numbers, numbers.len()), if numbers.len() == 1 { "it" } else { "them" })]
    AuditConflictsOpen { numbers: Vec<String> },
    #[error("Locker {number} is not in this area. A route names only the area's own lockers.")]
    RouteLockerElsewhere { number: String },
    #[error("Locker {number} is in the route twice. Keep it once.")]
    RouteRepeats { number: String },
    #[error("Give each term a name, for example “Autumn 2026”.")]
    TermNameEmpty,
    #[error("{name} ends before it starts. Check its dates.")]
    TermBackwards { name: String },
    #[error("{first} and {second} overlap. Check their dates.")]
    TermsOverlap { first: String, second: String },
    #[error("{name} is already recorded so. Nothing was changed.")]
    PersonLeftUnchanged { name: String },
}

fn suite_hint(suite: &str) -> String {
    if suite.is_empty() {
        String::new()
    } else {
        format!(" (“{suite}”)")
    }
}

fn plural(count: usize, one: &str, many: &str) -> String {
    if count == 1 {
        format!("1 {one}")
    } else {
        format!("{count} {many}")
    }
}

/// "A1, A2, A3" or "A1, A2 … and 7 more".
fn list(shown: &[String], count: usize) -> String {
    let mut text = shown.join(", ");
    if count > shown.len() {
        text.push_str(&format!(" and {} more", count - shown.len()));
    }
    text
}
