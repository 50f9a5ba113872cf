//! Replacement orders cut to code: suppliers, orders, receiving in full or in part.

use crate::common::Harness;
use keyward_core::*;

fn supplier(h: &mut Harness, site: SiteId, name: &str) -> SupplierId {
    match h
        .ok(Command::AddSupplier {
            site,
            name: name.into(),
            contact: "orders@example.test".into(),
        })
        .change
    {
        Change::SupplierAdded { supplier, .. } => supplier,
        c => panic!("{c:?}"),
    }
}

#[test]
fn receiving_makes_the_key_records_with_new_tags_in_the_same_event() {
    let mut h = Harness::new(81);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "E1");
    let keys = h.lock_with_keys(locker, 2);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let s = supplier(&mut h, site, "Timpson");
    let order = match h
        .ok(Command::PlaceOrder {
            supplier: s,
            lines: vec![(lock, KeyKind::User, 2), (lock, KeyKind::Spare, 1)],
            ordered: h.today(),
            expected: Some(h.today() + chrono::Days::new(7)),
            case: None,
            notes: String::new(),
        })
        .change
    {
        Change::OrderPlaced { order, lines, .. } => {
            assert_eq!(lines[0].code, "K 101", "the code is on the order");
            order
        }
        c => panic!("{c:?}"),
    };
    let event = h.ok(Command::ReceiveOrder {
        order,
        quantities: vec![2, 0],
    });
    let Change::OrderReceived { lines, .. } = &event.change else {
        panic!()
    };
    assert_eq!(lines.len(), 1);
    let new: Vec<KeyId> = lines[0].keys.iter().map(|k| k.id).collect();
    let copies: Vec<u32> = new
        .iter()
        .map(|k| h.register.key(*k).unwrap().copy)
        .collect();
    assert_eq!(copies, [3, 4]);
    assert_eq!(h.register.keys_of_locker(locker).len(), 4);
    let tags: std::collections::HashSet<TagId> = h
        .register
        .keys_of_locker(locker)
        .iter()
        .map(|k| k.tag.clone())
        .collect();
    assert_eq!(tags.len(), 4, "fresh tags");
    assert!(keys.iter().all(|k| !new.contains(k)));
    assert_eq!(
        h.register.outstanding_orders(site).len(),
        1,
        "the spare is still to come"
    );
    let err = h
        .run(Command::ReceiveOrder {
            order,
            quantities: vec![1, 1],
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Line 1 has only 0 key(s) still to come. Check the delivery."
    );
    h.ok(Command::ReceiveOrder {
        order,
        quantities: vec![0, 1],
    });
    assert!(h.register.outstanding_orders(site).is_empty());
    // Receiving an order twice is refused.
    assert_eq!(
        h.run(Command::ReceiveOrder {
            order,
            quantities: vec![0, 1],
        }),
        Err(CommandError::OrderAlreadyReceived)
    );
    assert_eq!(h.register.order(order).unwrap().keys.len(), 3);
}

#[test]
fn an_order_needs_a_supplier_lines_and_sane_dates() {
    let mut h = Harness::new(82);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "E2");
    h.lock_with_keys(locker, 1);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let s = supplier(&mut h, site, "Timpson");
    assert_eq!(
        h.run(Command::AddSupplier {
            site,
            name: " timpson ".into(),
            contact: String::new()
        }),
        Err(CommandError::SupplierNameTaken {
            name: "timpson".into()
        })
    );
    let today = h.today();
    let order = |lines, expected| Command::PlaceOrder {
        supplier: s,
        lines,
        ordered: today,
        expected,
        case: None,
        notes: String::new(),
    };
    assert_eq!(h.run(order(vec![], None)), Err(CommandError::OrderEmpty));
    assert!(matches!(
        h.run(order(vec![(lock, KeyKind::User, 0)], None)),
        Err(CommandError::OrderQuantityOutOfRange { .. })
    ));
    assert!(matches!(
        h.run(order(
            vec![(lock, KeyKind::User, 1)],
            Some(today - chrono::Days::new(1))
        )),
        Err(CommandError::ExpectedBeforeOrdered { .. })
    ));
}

#[test]
fn the_order_csv_names_the_code_and_quantity_and_is_safe_in_a_spreadsheet() {
    let mut h = Harness::new(83);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "E3");
    h.ok(Command::FitLock {
        locker,
        kind: LockKind::Keyed,
        code: "=cmd, 1".into(),
        suite: String::new(),
    });
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    let s = supplier(&mut h, site, "Keys \"R\" Us");
    h.ok(Command::PlaceOrder {
        supplier: s,
        lines: vec![(lock, KeyKind::User, 3)],
        ordered: h.today(),
        expected: None,
        case: None,
        notes: String::new(),
    });
    let order = h.register.orders_of(site)[0];
    assert_eq!(
        h.register.order_csv(order),
        "Site,Supplier,Ordered,Expected,Key code,Kind,Quantity\r\n\
         Northgate School,\"Keys \"\"R\"\" Us\",26/11/2026,,\"'=CMD, 1\",User key,3\r\n"
    );
}
