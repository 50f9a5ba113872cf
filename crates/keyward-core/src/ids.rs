//! Identifiers. Every entity and event gets a UUIDv7: sortable by creation time, unique without
//! coordination between offline devices, and made from the caller's clock and entropy.

use crate::command::Entropy;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::{Builder, Uuid};

macro_rules! ulid_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh id for something created at `now`.
            pub fn generate(now: DateTime<Utc>, entropy: &mut dyn Entropy) -> Self {
                let mut random = [0u8; 10];
                random[..8].copy_from_slice(&entropy.next_u64().to_le_bytes());
                random[8..].copy_from_slice(&entropy.next_u64().to_le_bytes()[..2]);
                let millis = u64::try_from(now.timestamp_millis()).unwrap_or(0);
                Self(Builder::from_unix_timestamp_millis(millis, &random).into_uuid())
            }

            /// Reads an id back from its text form.
            pub fn parse(text: &str) -> Option<Self> {
                Uuid::try_parse(text.trim()).ok().map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    )*};
}

ulid_id!(
    /// One event in the log.
    EventId,
    /// A site: a school, hospital, leisure centre.
    SiteId,
    /// An area of a site: building, floor, corridor, ward.
    AreaId,
    /// A locker.
    LockerId,
    /// A lock; a locker may have several over its life.
    LockId,
    /// One physical key.
    KeyId,
    /// A person who can hold keys.
    PersonId,
    /// One issue of a key, from issue to return.
    LoanId,
    /// A device (phone, tablet, desk computer) that records events.
    DeviceId,
    /// A lost-key case, from report to replacement or lock change.
    CaseId,
    /// A supplier that cuts keys to code.
    SupplierId,
    /// A replacement order.
    OrderId,
    /// A master-key suite: a named set of locks one master key opens.
    SuiteId,
    /// One use of a master key, from sign-out to return.
    SignOutId,
    /// A lost master key's escalation, open until an admin resolves it.
    EscalationId,
    /// An audit of a site, an area or a range of lockers, from start to completion.
    AuditId,
    /// One finding of an audit at one locker.
    FindingId,
);

/// The short random id printed on a key's tag. It says nothing about the locker or the code.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TagId(pub String);

impl TagId {
    /// Characters that cannot be misread for each other: no 0/O, 1/I/L.
    pub const ALPHABET: &'static [u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    pub const LEN: usize = 7;

    pub fn generate(entropy: &mut dyn Entropy) -> Self {
        let n = Self::ALPHABET.len() as u64;
        let text = (0..Self::LEN)
            .map(|_| char::from(Self::ALPHABET[(entropy.next_u64() % n) as usize]))
            .collect();
        Self(text)
    }

    /// Normalises what a person typed ("k7m 2p9q" → "K7M2P9Q"); None if it cannot be a tag id.
    pub fn parse(text: &str) -> Option<Self> {
        let cleaned: String = text
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .map(|c| c.to_ascii_uppercase())
            .collect();
        let ok = (6..=8).contains(&cleaned.len())
            && cleaned.bytes().all(|b| Self::ALPHABET.contains(&b));
        ok.then_some(Self(cleaned))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TagId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
