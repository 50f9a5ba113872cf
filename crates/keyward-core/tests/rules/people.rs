//! People: references and edits.

use crate::common::Harness;
use keyward_core::*;

#[test]
fn people_references_are_unique_per_site_and_editable() {
    let mut h = Harness::new(11);
    let (site, _) = h.site("Northgate School");
    let sam = h.person(site, "Sam Jones", "p100");
    assert_eq!(h.register.person(sam).unwrap().details.reference, "P100");
    let err = h
        .run(Command::AddPerson {
            site,
            details: PersonDetails {
                name: "Other".into(),
                kind: PersonKind::Staff,
                reference: " P100 ".into(),
                department: String::new(),
            },
        })
        .unwrap_err();
    assert!(
        err.to_string().contains("already belongs to Sam Jones"),
        "{err}"
    );
    h.ok(Command::EditPerson {
        person: sam,
        details: PersonDetails {
            name: "Sam  Jones-Smith".into(),
            kind: PersonKind::Pupil,
            reference: "P100".into(),
            department: "Year 10".into(),
        },
    });
    assert_eq!(
        h.register.person(sam).unwrap().details.name,
        "Sam Jones-Smith"
    );
    h.person(site, "Alex Smith", "S200");
    let names = |text: &str| -> Vec<String> {
        h.register
            .find_people(site, text)
            .iter()
            .map(|p| p.details.name.clone())
            .collect()
    };
    assert_eq!(names("smith"), ["Alex Smith", "Sam Jones-Smith"]);
    assert_eq!(names("SAM  smith"), ["Sam Jones-Smith"]);
    assert_eq!(names("p100"), ["Sam Jones-Smith"]);
    assert_eq!(names("year 10"), ["Sam Jones-Smith"]);
    assert!(names("nobody").is_empty());
    assert_eq!(
        h.run(Command::AddPerson {
            site,
            details: PersonDetails {
                name: " ".into(),
                kind: PersonKind::Staff,
                reference: String::new(),
                department: String::new(),
            },
        })
        .unwrap_err(),
        CommandError::PersonNameEmpty
    );
}
