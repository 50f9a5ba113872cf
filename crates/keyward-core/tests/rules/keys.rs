//! Keys: tags and copy numbers.

use crate::common::Harness;
use keyward_core::*;

#[test]
fn keys_get_unique_unambiguous_tags_and_copy_numbers() {
    let mut h = Harness::new(5);
    let (site, area) = h.site("Northgate School");
    let locker = h.locker(site, area, "B1");
    let keys = h.lock_with_keys(locker, 3);
    let lock = h.register.locker(locker).unwrap().lock.unwrap();
    h.ok(Command::AddKeys {
        lock,
        kind: KeyKind::Spare,
        count: 2,
        storage: String::new(),
    });
    let all = h.register.keys_of_locker(locker);
    assert_eq!(all.len(), 5);
    let copies: Vec<u32> = all.iter().map(|k| k.copy).collect();
    assert_eq!(copies, [1, 2, 3, 4, 5]);
    for key in &all {
        assert_eq!(key.tag.as_str().len(), TagId::LEN);
        assert!(key
            .tag
            .as_str()
            .bytes()
            .all(|b| TagId::ALPHABET.contains(&b)));
        assert!(!key.tag.as_str().contains("B1"));
        assert_eq!(h.register.key_by_tag(&key.tag).unwrap().id, key.id);
    }
    assert_eq!(h.register.key(keys[0]).unwrap().state, KeyState::InStore);
    assert_eq!(h.register.lock(lock).unwrap().code, "K 101");
}
