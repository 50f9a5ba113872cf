//! The fold: events round-trip and fold to the same state.

use crate::common::Harness;
use keyward_core::*;

#[test]
fn events_round_trip_through_json_and_fold_to_the_same_state() {
    let mut h = Harness::new(13);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "H8");
    let keys = h.lock_with_keys(locker, 1);
    let sam = h.person(site, "Sam Jones", "P1");
    h.ok(h.issue(keys[0], locker, Holder::Person(sam)));
    let json = serde_json::to_string(&h.log).unwrap();
    let back: Vec<Event> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h.log);
    assert_eq!(Register::fold(&back), h.register);
    assert!(back.iter().all(|e| h.register.has_event(e.id)));
    // Applying an event again changes nothing.
    let mut again = h.register.clone();
    for e in &back {
        again.apply(e);
    }
    assert_eq!(again, h.register);
}
