//! Replacement orders cut to code (DOMAIN.md procedure 6): suppliers, orders of keys by lock
//! code and quantity, and receiving them, in full or in part, which makes the new key records
//! with fresh tag ids in the same event. An order placed from a lost-key case closes the case
//! when it is received in full.

use super::keys::MAX_KEYS_AT_ONCE;
use super::{Fit, Register};
use crate::command::Context;
use crate::conflict::ConflictKind;
use crate::error::CommandError;
use crate::event::{Change, Event, NewKey, ReceivedLine};
use crate::format::uk_date;
use crate::ids::{CaseId, KeyId, LockId, OrderId, SiteId, SupplierId};
use crate::model::{CaseClosed, KeyKind, LockKind, Order, OrderLine, Supplier};
use crate::normalise::tidy;
use crate::timeline::What;
use chrono::NaiveDate;
use std::collections::{BTreeMap, HashSet};

impl Register {
    pub(super) fn decide_add_supplier(
        &self,
        site: SiteId,
        name: String,
        contact: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let site = self.site(site).ok_or(CommandError::UnknownSite)?;
        let name = tidy(&name);
        if name.is_empty() {
            return Err(CommandError::SupplierNameEmpty);
        }
        if self
            .suppliers_of(site.id)
            .iter()
            .any(|s| s.name.eq_ignore_ascii_case(&name))
        {
            return Err(CommandError::SupplierNameTaken { name });
        }
        Ok(Change::SupplierAdded {
            supplier: SupplierId::generate(ctx.now, ctx.entropy),
            site: site.id,
            name,
            contact: tidy(&contact),
        })
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) fn decide_place_order(
        &self,
        supplier: SupplierId,
        lines: Vec<(LockId, KeyKind, u32)>,
        ordered: NaiveDate,
        expected: Option<NaiveDate>,
        case: Option<CaseId>,
        notes: String,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let supplier = self
            .supplier(supplier)
            .ok_or(CommandError::UnknownSupplier)?;
        if lines.is_empty() {
            return Err(CommandError::OrderEmpty);
        }
        let mut ordered_lines = Vec::new();
        for (lock, kind, quantity) in lines {
            let lock = self.lock(lock).ok_or(CommandError::UnknownLock)?;
            let locker = self
                .locker(lock.locker)
                .ok_or(CommandError::UnknownLocker)?;
            if locker.site != supplier.site {
                return Err(CommandError::UnknownLock);
            }
            if lock.kind != LockKind::Keyed {
                return Err(CommandError::LockHasNoKeys);
            }
            if lock.removed_at.is_some() {
                return Err(CommandError::LockRemoved {
                    number: locker.number.clone(),
                });
            }
            if kind == KeyKind::Master {
                return Err(CommandError::MasterKeyOwnProcedure {
                    tag: lock.code.clone(),
                });
            }
            if !(1..=MAX_KEYS_AT_ONCE).contains(&quantity) {
                return Err(CommandError::OrderQuantityOutOfRange {
                    max: MAX_KEYS_AT_ONCE,
                });
            }
            ordered_lines.push(OrderLine {
                lock: lock.id,
                code: lock.code.clone(),
                kind,
                quantity,
            });
        }
        if let Some(expected) = expected {
            if expected < ordered {
                return Err(CommandError::ExpectedBeforeOrdered {
                    ordered: uk_date(ordered),
                    expected: uk_date(expected),
                });
            }
        }
        if let Some(case) = case {
            self.open_case(case)?;
        }
        Ok(Change::OrderPlaced {
            order: OrderId::generate(ctx.now, ctx.entropy),
            site: supplier.site,
            supplier: supplier.id,
            lines: ordered_lines,
            ordered,
            expected,
            case,
            notes: notes.trim().to_string(),
        })
    }

    pub(super) fn decide_receive(
        &self,
        order: OrderId,
        quantities: Vec<u32>,
        ctx: &mut Context<'_>,
    ) -> Result<Change, CommandError> {
        let order = self.order(order).ok_or(CommandError::UnknownOrder)?;
        if order.is_complete() {
            return Err(CommandError::OrderAlreadyReceived);
        }
        if quantities.len() != order.lines.len() {
            return Err(CommandError::NothingReceived);
        }
        let mut next_copy: BTreeMap<LockId, u32> = BTreeMap::new();
        let mut fresh = HashSet::new();
        let mut lines = Vec::new();
        for (i, quantity) in quantities.into_iter().enumerate() {
            let outstanding = order.outstanding(i);
            if quantity > outstanding {
                return Err(CommandError::ReceivedTooMany {
                    line: i + 1,
                    outstanding,
                });
            }
            if quantity == 0 {
                continue;
            }
            let lock = order.lines[i].lock;
            let copy = next_copy
                .entry(lock)
                .or_insert_with(|| self.next_copy(lock));
            let keys = (0..quantity)
                .map(|_| {
                    *copy += 1;
                    NewKey {
                        id: KeyId::generate(ctx.now, ctx.entropy),
                        copy: *copy - 1,
                        tag: self.fresh_tag(ctx.entropy, &mut fresh),
                    }
                })
                .collect();
            lines.push(ReceivedLine {
                line: i as u32,
                keys,
            });
        }
        if lines.is_empty() {
            return Err(CommandError::NothingReceived);
        }
        Ok(Change::OrderReceived {
            order: order.id,
            lines,
        })
    }

    pub(super) fn assess_order_placed(
        &self,
        site: SiteId,
        supplier: SupplierId,
        lines: &[OrderLine],
    ) -> Fit {
        let known = self.supplier(supplier).is_some_and(|s| s.site == site)
            && lines.iter().all(|l| self.lock(l.lock).is_some());
        if known {
            Fit::Fits
        } else {
            Fit::Unknown("its supplier or a lock it orders for is not in the register")
        }
    }

    pub(super) fn assess_order_received(&self, order: OrderId, lines: &[ReceivedLine]) -> Fit {
        let Some(o) = self.order(order) else {
            return Fit::Unknown("its order is not in the register");
        };
        if lines.iter().any(|l| l.line as usize >= o.lines.len()) {
            return Fit::Unknown("it receives a line the order does not have");
        }
        if lines
            .iter()
            .any(|l| l.keys.len() > o.outstanding(l.line as usize) as usize)
        {
            return Fit::Conflicts(ConflictKind::OrderReceivedTwice { order });
        }
        Fit::Fits
    }

    pub(super) fn apply_supplier_added(
        &mut self,
        supplier: SupplierId,
        site: SiteId,
        name: &str,
        contact: &str,
    ) {
        self.suppliers.entry(supplier).or_insert_with(|| Supplier {
            id: supplier,
            site,
            name: name.to_string(),
            contact: contact.to_string(),
        });
    }

    pub(super) fn apply_order_placed(&mut self, event: &Event) {
        let Change::OrderPlaced {
            order,
            site,
            supplier,
            lines,
            ordered,
            expected,
            case,
            notes,
        } = &event.change
        else {
            return;
        };
        self.orders.insert(
            *order,
            Order {
                id: *order,
                site: *site,
                supplier: *supplier,
                received: vec![0; lines.len()],
                lines: lines.clone(),
                ordered: *ordered,
                expected: *expected,
                case: *case,
                notes: notes.clone(),
                by: event.actor.clone(),
                event: event.id,
                keys: Vec::new(),
            },
        );
        if let Some(c) = case.and_then(|c| self.cases.get_mut(&c)) {
            c.order.get_or_insert(*order);
        }
    }

    /// The keys go on their locks; received twice (more than ordered), the first receipt
    /// stands and this one is kept as a record only.
    pub(super) fn apply_order_received(
        &mut self,
        event: &Event,
        order: OrderId,
        lines: &[ReceivedLine],
        conflicted: bool,
    ) {
        if conflicted {
            return;
        }
        for received in lines {
            let i = received.line as usize;
            let Some(line) = self.orders.get(&order).map(|o| o.lines[i].clone()) else {
                return;
            };
            let Some((locker, added)) = self.add_keys(line.lock, line.kind, &None, &received.keys)
            else {
                continue;
            };
            if let Some(o) = self.orders.get_mut(&order) {
                o.received[i] += received.keys.len() as u32;
                o.keys.extend(&added);
            }
            self.log(locker, event, What::KeysReceived { order, keys: added });
        }
        let Some(o) = self.orders.get(&order) else {
            return;
        };
        if let (true, Some(case)) = (o.is_complete(), o.case) {
            if let Some(c) = self.cases.get_mut(&case) {
                if c.closed.is_none() {
                    c.closed = Some(CaseClosed::Replaced { order });
                }
            }
        }
    }

    pub fn supplier(&self, id: SupplierId) -> Option<&Supplier> {
        self.suppliers.get(&id)
    }
    /// A site's suppliers by name.
    pub fn suppliers_of(&self, site: SiteId) -> Vec<&Supplier> {
        let mut suppliers: Vec<&Supplier> =
            self.suppliers.values().filter(|s| s.site == site).collect();
        suppliers.sort_by_key(|s| s.name.to_lowercase());
        suppliers
    }
    pub fn order(&self, id: OrderId) -> Option<&Order> {
        self.orders.get(&id)
    }
    /// A site's orders, newest first.
    pub fn orders_of(&self, site: SiteId) -> Vec<&Order> {
        self.orders
            .values()
            .rev()
            .filter(|o| o.site == site)
            .collect()
    }
    /// Orders not yet received in full, oldest first.
    pub fn outstanding_orders(&self, site: SiteId) -> Vec<&Order> {
        self.orders
            .values()
            .filter(|o| o.site == site && !o.is_complete())
            .collect()
    }
    /// The order as a CSV for the supplier: one row per line, with the code to cut to.
    pub fn order_csv(&self, order: &Order) -> String {
        let supplier = self
            .supplier(order.supplier)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let site = self
            .site(order.site)
            .map(|s| s.name.clone())
            .unwrap_or_default();
        let mut csv = String::from("Site,Supplier,Ordered,Expected,Key code,Kind,Quantity\r\n");
        for line in &order.lines {
            let row = [
                site.clone(),
                supplier.clone(),
                uk_date(order.ordered),
                order.expected.map(uk_date).unwrap_or_default(),
                line.code.clone(),
                line.kind.label().to_string(),
                line.quantity.to_string(),
            ];
            let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
            csv.push_str(&row.join(","));
            csv.push_str("\r\n");
        }
        csv
    }
}

/// A CSV field, quoted when it needs to be; a leading = + - @ is neutralised so a
/// spreadsheet never runs it as a formula.
pub(crate) fn csv_field(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@']) {
        format!("'{text}")
    } else {
        text.to_string()
    };
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}
