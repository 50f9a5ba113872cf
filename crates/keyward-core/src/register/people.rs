//! People: adding and editing them, unique references, and finding them by what was typed.

use super::{Fit, Register};
use crate::command::Context;
use crate::error::CommandError;
use crate::event::Change;
use crate::ids::{PersonId, SiteId};
use crate::model::{Person, PersonDetails};
use crate::normalise::{fold, tidy};

/// Whether `text`, folded, contains `word` (already folded): without copying `text` when it
/// is plain ASCII, as most names are, since the people search runs on every keystroke.
fn contains_folded(text: &str, word: &str) -> bool {
    if text.is_ascii() && !text.contains('\'') {
        let (text, word) = (text.as_bytes(), word.as_bytes());
        word.is_empty()
            || text
                .windows(word.len())
                .any(|w| w.eq_ignore_ascii_case(word))
    } else {
        fold(text).contains(word)
    }
}

/// A reference as compared in a search: no spaces or hyphens ("p-100 " → "p100").
fn compact_reference(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect()
}

impl Register {
    pub(super) fn decide_add_person(
        &self,
        site: SiteId,
        details: PersonDetails,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let details = self.check_person(site.id, None, details)?;
        Ok(Change::PersonAdded {
            person: PersonId::generate(ctx.now, ctx.entropy),
            site: site.id,
            details,
        })
    }

    pub(super) fn decide_edit_person(
        &self,
        person: PersonId,
        details: PersonDetails,
    ) -> Result<Change, CommandError> {
        let person = self.person(person).ok_or(CommandError::UnknownPerson)?;
        let details = self.check_person(person.site, Some(person.id), details)?;
        Ok(Change::PersonEdited {
            person: person.id,
            details,
        })
    }

    fn check_person(
        &self,
        site: SiteId,
        editing: Option<PersonId>,
        details: PersonDetails,
    ) -> Result<PersonDetails, CommandError> {
        let details = PersonDetails {
            name: tidy(&details.name),
            kind: details.kind,
            reference: tidy(&details.reference).to_uppercase(),
            department: tidy(&details.department),
        };
        if details.name.is_empty() {
            return Err(CommandError::PersonNameEmpty);
        }
        if !details.reference.is_empty() {
            if let Some(other) = self.people.values().find(|p| {
                p.site == site && Some(p.id) != editing && p.details.reference == details.reference
            }) {
                return Err(CommandError::ReferenceTaken {
                    reference: details.reference,
                    name: other.details.name.clone(),
                });
            }
        }
        Ok(details)
    }

    pub(super) fn assess_person_edited(&self, person: PersonId) -> Fit {
        match self.person(person) {
            Some(_) => Fit::Fits,
            None => Fit::Unknown("that person is not in the register"),
        }
    }

    pub(super) fn apply_person_added(
        &mut self,
        person: PersonId,
        site: SiteId,
        details: &PersonDetails,
    ) {
        self.people.entry(person).or_insert_with(|| Person {
            id: person,
            site,
            details: details.clone(),
            left: None,
        });
    }

    pub(super) fn apply_person_edited(&mut self, person: PersonId, details: &PersonDetails) {
        if let Some(p) = self.people.get_mut(&person) {
            p.details = details.clone();
        }
    }

    pub fn people_of(&self, site: SiteId) -> Vec<&Person> {
        let mut people: Vec<&Person> = self.people.values().filter(|p| p.site == site).collect();
        people.sort_by_cached_key(|p| p.details.name.to_lowercase());
        people
    }
    /// People of a site whose name, reference or department contain every word typed, case
    /// and accents aside ("zoe" finds Zoë, "ni bhriain" Ní Bhriain), or whose reference
    /// contains what was typed, spaces and hyphens aside ("p 100" finds P100). Someone whose
    /// reference is exactly what was typed comes first; the rest by name.
    pub fn find_people(&self, site: SiteId, text: &str) -> Vec<&Person> {
        let folded = fold(text);
        let words: Vec<&str> = folded.split_whitespace().collect();
        if words.is_empty() {
            return self.people_of(site);
        }
        let compact = compact_reference(&folded);
        let mut found: Vec<&Person> = self
            .people
            .values()
            .filter(|p| p.site == site)
            .filter(|p| {
                let d = &p.details;
                words.iter().all(|w| {
                    contains_folded(&d.name, w)
                        || contains_folded(&d.reference, w)
                        || contains_folded(&d.department, w)
                }) || (!compact.is_empty()
                    && compact_reference(&d.reference.to_ascii_lowercase()).contains(&compact))
            })
            .collect();
        found.sort_by_cached_key(|p| p.details.name.to_lowercase());
        if !compact.is_empty() {
            if let Some(i) = found.iter().position(|p| {
                compact_reference(&p.details.reference.to_ascii_lowercase()) == compact
            }) {
                let exact = found.remove(i);
                found.insert(0, exact);
            }
        }
        found
    }
    pub fn person(&self, id: PersonId) -> Option<&Person> {
        self.people.get(&id)
    }

    /// The people of a site whose reference is the code read off their staff or pupil card:
    /// case, spaces and hyphens aside, and a number's leading zeros ("00104211" is 104211).
    /// Usually one; more when a reference was given twice; none for a card not in the register.
    pub fn people_by_card(&self, site: SiteId, code: &str) -> Vec<&Person> {
        let key = card_key(code);
        if key.is_empty() {
            return Vec::new();
        }
        let mut found: Vec<&Person> = self
            .people
            .values()
            .filter(|p| p.site == site && card_key(&p.details.reference) == key)
            .collect();
        found.sort_by_cached_key(|p| p.details.name.to_lowercase());
        found
    }
}

/// A reference as a card carries it: folded, no spaces or hyphens, a number without its
/// leading zeros.
fn card_key(text: &str) -> String {
    let compact = compact_reference(&fold(text));
    if compact.chars().all(|c| c.is_ascii_digit()) {
        let trimmed = compact.trim_start_matches('0');
        if trimmed.is_empty() && !compact.is_empty() {
            return "0".into();
        }
        return trimmed.into();
    }
    compact
}
