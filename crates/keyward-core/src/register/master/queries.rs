//! Master keys: what the screens ask.

use super::{suite_key, AtRisk, Escalation, PresenceDue, Sighting, SignOut, Suite};
use crate::ids::{EscalationId, KeyId, LockId, PersonId, SignOutId, SiteId, SuiteId};
use crate::model::{Key, KeyKind, KeyState, Lock};
use crate::register::Register;
use chrono::{DateTime, Duration, Utc};

impl Register {
    /// Whether a sign-out of the suite's master keys needs a witness: the suite asks for one,
    /// or the policy of an area one of its locks is in does.
    pub fn witness_required(&self, suite: SuiteId) -> bool {
        self.suite(suite).is_some_and(|s| {
            s.witness_required
                || self
                    .suite_locks(suite)
                    .iter()
                    .any(|l| self.policy_for_locker(l.locker).master_needs_witness)
        })
    }
    pub fn suite(&self, id: SuiteId) -> Option<&Suite> {
        self.suites.get(&id)
    }
    /// The site's suites, by name.
    pub fn suites_of(&self, site: SiteId) -> Vec<&Suite> {
        self.suite_names
            .range((site, String::new())..)
            .take_while(|((s, _), _)| *s == site)
            .filter_map(|(_, id)| self.suites.get(id))
            .collect()
    }
    /// The site's suite with this name, whatever its case.
    pub fn suite_by_name(&self, site: SiteId, name: &str) -> Option<&Suite> {
        self.suite_names
            .get(&(site, suite_key(name)))
            .and_then(|id| self.suites.get(id))
    }
    /// The suite a lock belongs to: its site's suite named as the lock's `suite`.
    pub fn suite_of_lock(&self, lock: LockId) -> Option<&Suite> {
        let lock = self.lock(lock)?;
        let site = self.locker(lock.locker)?.site;
        self.suite_by_name(site, lock.suite.as_deref()?)
    }
    /// The suite a master key opens (that of the lock it was recorded on).
    pub fn suite_of_key(&self, key: KeyId) -> Option<&Suite> {
        let key = self.key(key).filter(|k| k.kind == KeyKind::Master)?;
        self.suite_of_lock(key.lock)
    }
    /// The suite's locks fitted to a locker now, by locker number.
    pub fn suite_locks(&self, suite: SuiteId) -> Vec<&Lock> {
        let Some(suite) = self.suite(suite) else {
            return Vec::new();
        };
        let name = suite_key(&suite.name);
        let mut locks: Vec<(&str, &Lock)> = self
            .locks
            .values()
            .filter(|l| l.suite.as_deref().map(suite_key).as_deref() == Some(name.as_str()))
            .filter_map(|l| {
                let locker = self.locker(l.locker)?;
                (locker.site == suite.site && locker.lock == Some(l.id))
                    .then_some((locker.number.as_str(), l))
            })
            .collect();
        locks.sort_by(|a, b| a.0.cmp(b.0));
        locks.into_iter().map(|(_, l)| l).collect()
    }
    /// The suite's master keys: master keys recorded on any of its locks (fitted now or not).
    pub fn master_keys_of(&self, suite: SuiteId) -> Vec<&Key> {
        self.keys
            .values()
            .filter(|k| self.suite_of_key(k.id).is_some_and(|s| s.id == suite))
            .collect()
    }
    pub fn is_authorised(&self, suite: SuiteId, person: PersonId) -> bool {
        self.suite(suite)
            .is_some_and(|s| s.holders.contains(&person))
    }
    pub fn sign_out(&self, id: SignOutId) -> Option<&SignOut> {
        self.sign_outs.get(&id)
    }
    /// The sign-out a master key is out on now.
    pub fn master_sign_out_of(&self, key: KeyId) -> Option<&SignOut> {
        self.master_out
            .get(&key)
            .and_then(|s| self.sign_outs.get(s))
    }
    /// Every sign-out of a master key, newest first.
    pub fn sign_outs_of_key(&self, key: KeyId) -> Vec<&SignOut> {
        let mut all: Vec<&SignOut> = self.sign_outs.values().filter(|s| s.key == key).collect();
        all.sort_by_key(|s| std::cmp::Reverse(s.event));
        all
    }
    pub(super) fn sign_outs_of_site(&self, site: SiteId) -> impl Iterator<Item = &SignOut> {
        self.sign_outs
            .values()
            .filter(move |s| self.suite(s.suite).is_some_and(|x| x.site == site))
    }
    /// The site's master keys out now, oldest first.
    pub fn master_keys_out(&self, site: SiteId) -> Vec<&SignOut> {
        let mut out: Vec<&SignOut> = self
            .master_out
            .values()
            .filter_map(|s| self.sign_outs.get(s))
            .filter(|s| self.suite(s.suite).is_some_and(|x| x.site == site))
            .collect();
        out.sort_by_key(|s| s.event);
        out
    }
    /// Master keys out after the time they were due back at `now`.
    pub fn overdue_master_keys(&self, site: SiteId, now: DateTime<Utc>) -> Vec<&SignOut> {
        self.master_keys_out(site)
            .into_iter()
            .filter(|s| s.is_overdue(now))
            .collect()
    }
    /// Uses waiting for an admin's review (emergency uses), oldest first.
    pub fn uses_to_review(&self, site: SiteId) -> Vec<&SignOut> {
        let mut flagged: Vec<&SignOut> = self
            .sign_outs_of_site(site)
            .filter(|s| s.needs_review())
            .collect();
        flagged.sort_by_key(|s| s.event);
        flagged
    }
    /// When the master key was last seen in its place.
    pub fn last_seen(&self, key: KeyId) -> Option<&Sighting> {
        self.master_seen.get(&key)
    }
    /// When each of the site's master keys (not lost) must next be seen, soonest first; `late`
    /// as at `now` (the caller's clock).
    pub fn presence_checks(&self, site: SiteId, now: DateTime<Utc>) -> Vec<PresenceDue> {
        let mut due: Vec<PresenceDue> = self
            .suites_of(site)
            .into_iter()
            .flat_map(|suite| {
                self.master_keys_of(suite.id)
                    .into_iter()
                    .filter(|k| k.state != KeyState::Lost)
                    .map(move |k| (suite, k))
            })
            .map(|(suite, k)| {
                let last_seen = self.last_seen(k.id).map(|s| s.at);
                let from = last_seen.unwrap_or(suite.defined_at);
                let due = from + Duration::days(i64::from(suite.check_every_days));
                PresenceDue {
                    key: k.id,
                    suite: suite.id,
                    last_seen,
                    due,
                    late: due < now,
                }
            })
            .collect();
        due.sort_by_key(|d| (d.due, d.key));
        due
    }
    /// The presence checks that are late at `now`.
    pub fn late_presence_checks(&self, site: SiteId, now: DateTime<Utc>) -> Vec<PresenceDue> {
        self.presence_checks(site, now)
            .into_iter()
            .filter(|d| d.late)
            .collect()
    }
    pub fn escalation(&self, id: EscalationId) -> Option<&Escalation> {
        self.escalations.get(&id)
    }
    /// The site's lost master keys not yet resolved, oldest first: the banner on every screen.
    pub fn open_escalations(&self, site: SiteId) -> Vec<&Escalation> {
        self.escalations
            .values()
            .filter(|e| e.site == site && e.end.is_none())
            .collect()
    }
    /// Every escalation of the site, newest first.
    pub fn escalations_of(&self, site: SiteId) -> Vec<&Escalation> {
        self.escalations
            .values()
            .rev()
            .filter(|e| e.site == site)
            .collect()
    }
    /// The locks (and their lockers) a lost master key opens: every lock of its suite.
    pub fn at_risk(&self, escalation: EscalationId) -> Vec<AtRisk> {
        let Some(e) = self.escalation(escalation) else {
            return Vec::new();
        };
        self.suite_locks(e.suite)
            .into_iter()
            .filter_map(|l| {
                let locker = self.locker(l.locker)?;
                Some(AtRisk {
                    lock: l.id,
                    locker: locker.id,
                    number: locker.number.clone(),
                })
            })
            .collect()
    }

    pub(super) fn person_name(&self, person: PersonId) -> String {
        self.person(person)
            .map(|p| p.details.name.clone())
            .unwrap_or_else(|| "an unknown person".into())
    }
}
