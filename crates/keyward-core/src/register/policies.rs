//! Area policies: how strictly a site treats its keys, set for the whole site and overridden
//! area by area. Risk level, audit interval, the default and longest temporary loan, whether a
//! lost key always forces a lock change, the lost-key charge, whether a master-key sign-out
//! needs a witness, how many faults flag a lock, and how the person taking a key confirms it.
//!
//! An area inherits every setting from its site until it overrides it; clearing an override
//! makes it inherit again. Other procedures (loans, lost keys, lock faults, master keys,
//! audits) read the effective policy through [`Register::policy_for_area`].
//!
//! Two devices changing policies offline do not conflict: settings are not facts about keys,
//! and the later change in the site's one order wins, field by field for an area.

use super::{Fit, Register};
use crate::error::CommandError;
use crate::event::Change;
use crate::ids::{AreaId, LockerId, SiteId};
use crate::model::Confirmation;
use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};

/// The longest temporary loan a policy can allow, in days.
pub const MAX_LOAN_DAYS: u16 = 365;
/// The longest audit interval in days.
pub const MAX_AUDIT_DAYS: u16 = 366;
/// The highest lost-key charge, in pence (£500).
pub const MAX_CHARGE_PENCE: u32 = 50_000;
/// The most faults a flag can wait for.
pub const MAX_FAULTS: u16 = 100;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RiskLevel {
    #[default]
    Standard,
    High,
}

impl RiskLevel {
    pub const ALL: [RiskLevel; 2] = [RiskLevel::Standard, RiskLevel::High];
    pub fn label(self) -> &'static str {
        match self {
            RiskLevel::Standard => "Standard",
            RiskLevel::High => "High",
        }
    }
}

/// How often an area is audited.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuditInterval {
    #[default]
    Termly,
    Monthly,
    Quarterly,
    /// Every this many days (1 to [`MAX_AUDIT_DAYS`]).
    EveryDays(u16),
}

impl AuditInterval {
    /// "Termly", "Every 14 days".
    pub fn label(self) -> String {
        match self {
            AuditInterval::Termly => "Termly".into(),
            AuditInterval::Monthly => "Monthly".into(),
            AuditInterval::Quarterly => "Quarterly".into(),
            AuditInterval::EveryDays(1) => "Every day".into(),
            AuditInterval::EveryDays(n) => format!("Every {n} days"),
        }
    }
}

/// How the person taking a key confirms an issue or a handover.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TakerConfirms {
    /// They type their own name or sign on screen (what every site asked before this setting).
    #[default]
    NameOrSignature,
    /// They type their own name.
    TypedName,
    /// They sign on screen.
    Signature,
    /// The issuer's tap on the confirm button is enough (low-risk areas); a name or a
    /// signature may still be given.
    IssuerTap,
}

impl TakerConfirms {
    pub const ALL: [TakerConfirms; 4] = [
        TakerConfirms::NameOrSignature,
        TakerConfirms::TypedName,
        TakerConfirms::Signature,
        TakerConfirms::IssuerTap,
    ];

    pub fn label(self) -> &'static str {
        match self {
            TakerConfirms::NameOrSignature => "Their typed name or their signature",
            TakerConfirms::TypedName => "Their typed name",
            TakerConfirms::Signature => "Their signature",
            TakerConfirms::IssuerTap => "A tap by the issuer is enough",
        }
    }

    /// Whether a confirmation of this kind is enough under this setting.
    pub fn allows(self, confirmation: &Confirmation) -> bool {
        matches!(
            (self, confirmation),
            (TakerConfirms::IssuerTap, _)
                | (
                    TakerConfirms::NameOrSignature,
                    Confirmation::TypedName(_) | Confirmation::Signature(_)
                )
                | (TakerConfirms::TypedName, Confirmation::TypedName(_))
                | (TakerConfirms::Signature, Confirmation::Signature(_))
        )
    }

    /// Why a confirmation this setting does not allow is refused, and what to do.
    pub fn refusal(self) -> &'static str {
        match self {
            TakerConfirms::NameOrSignature => "This area's policy asks the person taking the key to type their own name or sign on screen; a tap is not enough here. Ask them to type their name or sign, then confirm.",
            TakerConfirms::TypedName => "This area's policy asks the person taking the key to type their own name. Ask them to type it, then confirm.",
            TakerConfirms::Signature => "This area's policy asks the person taking the key to sign on screen. Ask them to sign in the box, then confirm.",
            TakerConfirms::IssuerTap => "Confirm the issue.",
        }
    }

    fn is_default(&self) -> bool {
        *self == TakerConfirms::default()
    }
}

/// A lock is flagged when it has `faults` faults within `days` days.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FaultFlag {
    pub faults: u16,
    pub days: u16,
}

/// The settings in force for an area. Stored whole for a site ([`Change::SitePolicySet`]);
/// a field added later needs `#[serde(default)]` and must be skipped when it holds its
/// default, so stored policies write back unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Policy {
    pub risk: RiskLevel,
    pub audit: AuditInterval,
    /// A temporary loan is due back after this many days unless the issuer chooses.
    pub default_loan_days: u16,
    /// No temporary loan may be longer than this many days.
    pub max_loan_days: u16,
    /// A lost key always means a lock change, whatever the circumstances.
    pub lost_key_forces_lock_change: bool,
    /// What a lost key costs the holder, in pence; 0 for no charge.
    pub lost_key_charge_pence: u32,
    /// A master-key sign-out needs a second person as witness.
    pub master_needs_witness: bool,
    pub fault_flag: FaultFlag,
    /// How the person taking a key confirms an issue or handover (added later: absent in
    /// policies stored before it, and left out while it holds its default).
    #[serde(default, skip_serializing_if = "TakerConfirms::is_default")]
    pub taker_confirms: TakerConfirms,
    /// A copy of a key is made only through a replacement order: a copy added without one is a
    /// mismatch in the audit report (added later, like `taker_confirms`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub copies_need_order: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Default for Policy {
    /// What a new site starts with: standard risk, termly audits, loans of a day and at most a
    /// week, no forced lock change, no charge, no witness, 3 faults in 90 days flag a lock, the
    /// taker types their name or signs.
    fn default() -> Self {
        Self {
            risk: RiskLevel::Standard,
            audit: AuditInterval::Termly,
            default_loan_days: 1,
            max_loan_days: 7,
            lost_key_forces_lock_change: false,
            lost_key_charge_pence: 0,
            master_needs_witness: false,
            fault_flag: FaultFlag {
                faults: 3,
                days: 90,
            },
            taker_confirms: TakerConfirms::NameOrSignature,
            copies_need_order: false,
        }
    }
}

/// An area's own settings; `None` inherits the site's.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PolicyOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<RiskLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audit: Option<AuditInterval>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_loan_days: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loan_days: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_key_forces_lock_change: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lost_key_charge_pence: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub master_needs_witness: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fault_flag: Option<FaultFlag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taker_confirms: Option<TakerConfirms>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copies_need_order: Option<bool>,
}

/// One setting of a policy, to clear an area's override of it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicyField {
    Risk,
    Audit,
    DefaultLoanDays,
    MaxLoanDays,
    LostKeyForcesLockChange,
    LostKeyChargePence,
    MasterNeedsWitness,
    FaultFlag,
    TakerConfirms,
    CopiesNeedOrder,
}

impl PolicyField {
    pub const ALL: [PolicyField; 10] = [
        PolicyField::Risk,
        PolicyField::Audit,
        PolicyField::DefaultLoanDays,
        PolicyField::MaxLoanDays,
        PolicyField::LostKeyForcesLockChange,
        PolicyField::LostKeyChargePence,
        PolicyField::MasterNeedsWitness,
        PolicyField::FaultFlag,
        PolicyField::TakerConfirms,
        PolicyField::CopiesNeedOrder,
    ];
    pub fn label(self) -> &'static str {
        match self {
            PolicyField::Risk => "Risk level",
            PolicyField::Audit => "Audit interval",
            PolicyField::DefaultLoanDays => "Default temporary loan",
            PolicyField::MaxLoanDays => "Longest temporary loan",
            PolicyField::LostKeyForcesLockChange => "A lost key forces a lock change",
            PolicyField::LostKeyChargePence => "Lost-key charge",
            PolicyField::MasterNeedsWitness => "Master-key sign-out needs a witness",
            PolicyField::FaultFlag => "Faults that flag a lock",
            PolicyField::TakerConfirms => "How the person taking a key confirms it",
            PolicyField::CopiesNeedOrder => "Copies of a key need a replacement order",
        }
    }
}

impl PolicyOverrides {
    /// The fields this sets.
    pub fn fields(&self) -> Vec<PolicyField> {
        let set = [
            self.risk.is_some(),
            self.audit.is_some(),
            self.default_loan_days.is_some(),
            self.max_loan_days.is_some(),
            self.lost_key_forces_lock_change.is_some(),
            self.lost_key_charge_pence.is_some(),
            self.master_needs_witness.is_some(),
            self.fault_flag.is_some(),
            self.taker_confirms.is_some(),
            self.copies_need_order.is_some(),
        ];
        PolicyField::ALL
            .into_iter()
            .zip(set)
            .filter_map(|(f, s)| s.then_some(f))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `self` with every field `other` sets taken from `other`.
    fn merged(mut self, other: &PolicyOverrides) -> Self {
        macro_rules! take {
            ($($f:ident),*) => {$( if other.$f.is_some() { self.$f = other.$f; } )*};
        }
        take!(
            risk,
            audit,
            default_loan_days,
            max_loan_days,
            lost_key_forces_lock_change,
            lost_key_charge_pence,
            master_needs_witness,
            fault_flag,
            taker_confirms,
            copies_need_order
        );
        self
    }

    fn clear(&mut self, field: PolicyField) {
        match field {
            PolicyField::Risk => self.risk = None,
            PolicyField::Audit => self.audit = None,
            PolicyField::DefaultLoanDays => self.default_loan_days = None,
            PolicyField::MaxLoanDays => self.max_loan_days = None,
            PolicyField::LostKeyForcesLockChange => self.lost_key_forces_lock_change = None,
            PolicyField::LostKeyChargePence => self.lost_key_charge_pence = None,
            PolicyField::MasterNeedsWitness => self.master_needs_witness = None,
            PolicyField::FaultFlag => self.fault_flag = None,
            PolicyField::TakerConfirms => self.taker_confirms = None,
            PolicyField::CopiesNeedOrder => self.copies_need_order = None,
        }
    }
}

impl Policy {
    /// This policy with an area's overrides on top. The default loan is never longer than the
    /// maximum (an area may lower the maximum below the site's default).
    pub fn with(self, o: &PolicyOverrides) -> Policy {
        let mut p = Policy {
            risk: o.risk.unwrap_or(self.risk),
            audit: o.audit.unwrap_or(self.audit),
            default_loan_days: o.default_loan_days.unwrap_or(self.default_loan_days),
            max_loan_days: o.max_loan_days.unwrap_or(self.max_loan_days),
            lost_key_forces_lock_change: o
                .lost_key_forces_lock_change
                .unwrap_or(self.lost_key_forces_lock_change),
            lost_key_charge_pence: o
                .lost_key_charge_pence
                .unwrap_or(self.lost_key_charge_pence),
            master_needs_witness: o.master_needs_witness.unwrap_or(self.master_needs_witness),
            fault_flag: o.fault_flag.unwrap_or(self.fault_flag),
            taker_confirms: o.taker_confirms.unwrap_or(self.taker_confirms),
            copies_need_order: o.copies_need_order.unwrap_or(self.copies_need_order),
        };
        p.default_loan_days = p.default_loan_days.min(p.max_loan_days);
        p
    }

    /// The content checks of a whole policy (ranges, and the default within the maximum).
    pub fn check(&self) -> Result<(), CommandError> {
        check_values(&PolicyOverrides {
            risk: Some(self.risk),
            audit: Some(self.audit),
            default_loan_days: Some(self.default_loan_days),
            max_loan_days: Some(self.max_loan_days),
            lost_key_forces_lock_change: Some(self.lost_key_forces_lock_change),
            lost_key_charge_pence: Some(self.lost_key_charge_pence),
            master_needs_witness: Some(self.master_needs_witness),
            fault_flag: Some(self.fault_flag),
            taker_confirms: Some(self.taker_confirms),
            copies_need_order: Some(self.copies_need_order),
        })?;
        consistent(self)
    }

    /// When a temporary loan that starts on `date` is due back by default.
    pub fn default_return(&self, date: NaiveDate) -> NaiveDate {
        date + Days::new(u64::from(self.default_loan_days))
    }

    /// The latest a temporary loan that starts on `date` may be due back.
    pub fn latest_return(&self, date: NaiveDate) -> NaiveDate {
        date + Days::new(u64::from(self.max_loan_days))
    }
}

fn range(what: &'static str, value: u32, min: u32, max: u32) -> Result<(), CommandError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(CommandError::PolicyOutOfRange { what, min, max })
    }
}

/// The ranges of every value an override sets.
pub(crate) fn check_values(o: &PolicyOverrides) -> Result<(), CommandError> {
    let days = u32::from(MAX_LOAN_DAYS);
    if let Some(d) = o.default_loan_days {
        range("The default temporary loan (days)", d.into(), 1, days)?;
    }
    if let Some(d) = o.max_loan_days {
        range("The longest temporary loan (days)", d.into(), 1, days)?;
    }
    if let Some(AuditInterval::EveryDays(d)) = o.audit {
        range(
            "The audit interval (days)",
            d.into(),
            1,
            MAX_AUDIT_DAYS.into(),
        )?;
    }
    if let Some(pence) = o.lost_key_charge_pence {
        range("The lost-key charge (pence)", pence, 0, MAX_CHARGE_PENCE)?;
    }
    if let Some(flag) = o.fault_flag {
        range(
            "The number of faults",
            flag.faults.into(),
            1,
            MAX_FAULTS.into(),
        )?;
        range("The days the faults fall within", flag.days.into(), 1, days)?;
    }
    Ok(())
}

fn consistent(p: &Policy) -> Result<(), CommandError> {
    if p.default_loan_days > p.max_loan_days {
        return Err(CommandError::DefaultLoanOverMax {
            default: p.default_loan_days,
            max: p.max_loan_days,
        });
    }
    Ok(())
}

/// The content checks of an area's change: values in range, a field set or cleared, never
/// both, and each cleared field named once.
pub(crate) fn check_area_change(
    set: &PolicyOverrides,
    clear: &[PolicyField],
) -> Result<(), CommandError> {
    check_values(set)?;
    if set.is_empty() && clear.is_empty() {
        return Err(CommandError::PolicyUnchanged);
    }
    if clear.windows(2).any(|w| w[0] >= w[1]) {
        return Err(CommandError::Malformed(
            "the cleared settings are not each named once, in order",
        ));
    }
    if set.fields().iter().any(|f| clear.contains(f)) {
        return Err(CommandError::Malformed("a setting is both set and cleared"));
    }
    Ok(())
}

impl Register {
    pub(super) fn decide_site_policy(
        &self,
        site: SiteId,
        policy: Policy,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        policy.check()?;
        Ok(Change::SitePolicySet {
            site: site.id,
            policy,
        })
    }

    pub(super) fn decide_area_policy(
        &self,
        area: AreaId,
        set: PolicyOverrides,
        mut clear: Vec<PolicyField>,
    ) -> Result<Change, CommandError> {
        let a = self.area(area).ok_or(CommandError::UnknownArea)?;
        clear.sort();
        clear.dedup();
        check_area_change(&set, &clear)?;
        let mut overrides = self.area_overrides(area).merged(&set);
        for field in &clear {
            overrides.clear(*field);
        }
        // A loan length the area sets must agree with the other, set or inherited (a site
        // that lowers its maximum later only caps the area's default).
        let site = self.site_policy(a.site);
        if overrides.default_loan_days.is_some() || overrides.max_loan_days.is_some() {
            consistent(&Policy {
                default_loan_days: overrides
                    .default_loan_days
                    .unwrap_or(site.default_loan_days),
                max_loan_days: overrides.max_loan_days.unwrap_or(site.max_loan_days),
                ..site
            })?;
        }
        Ok(Change::AreaPolicySet { area, set, clear })
    }

    pub(super) fn assess_area_known(&self, area: AreaId) -> Fit {
        if self.areas.contains_key(&area) {
            Fit::Fits
        } else {
            Fit::Unknown("its area is not in the register")
        }
    }

    pub(super) fn apply_site_policy(&mut self, site: SiteId, policy: &Policy) {
        if self.sites.contains_key(&site) {
            self.site_policies.insert(site, *policy);
        }
    }

    pub(super) fn apply_area_policy(
        &mut self,
        area: AreaId,
        set: &PolicyOverrides,
        clear: &[PolicyField],
    ) {
        if !self.areas.contains_key(&area) {
            return;
        }
        let mut overrides = self.area_overrides(area).merged(set);
        for field in clear {
            overrides.clear(*field);
        }
        if overrides.is_empty() {
            self.area_policies.remove(&area);
        } else {
            self.area_policies.insert(area, overrides);
        }
    }

    /// The site's policy: what it set, or the defaults.
    pub fn site_policy(&self, site: SiteId) -> Policy {
        self.site_policies.get(&site).copied().unwrap_or_default()
    }

    /// What an area overrides (all `None` when it inherits everything).
    pub fn area_overrides(&self, area: AreaId) -> PolicyOverrides {
        self.area_policies.get(&area).copied().unwrap_or_default()
    }

    /// The policy in force in an area: its site's, with the area's overrides on top. An area
    /// not in the register gets the defaults.
    pub fn policy_for_area(&self, area: AreaId) -> Policy {
        match self.area(area) {
            Some(a) => self.site_policy(a.site).with(&self.area_overrides(area)),
            None => Policy::default(),
        }
    }

    /// The policy in force where a locker is.
    pub fn policy_for_locker(&self, locker: LockerId) -> Policy {
        self.locker(locker)
            .map(|l| self.policy_for_area(l.area))
            .unwrap_or_default()
    }
}
