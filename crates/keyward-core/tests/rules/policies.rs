//! Area policies: a site's policy, an area's overrides field by field, and what is in force.

use crate::common::Harness;
use keyward_core::sync::judge;
use keyward_core::*;

fn ward(h: &mut Harness, site: SiteId) -> AreaId {
    match h
        .ok(Command::AddArea {
            site,
            name: "Ward 3".into(),
        })
        .change
    {
        Change::AreaAdded { area, .. } => area,
        c => panic!("{c:?}"),
    }
}

fn set_area(area: AreaId, set: PolicyOverrides, clear: Vec<PolicyField>) -> Command {
    Command::SetAreaPolicy { area, set, clear }
}

#[test]
fn a_site_has_sensible_defaults_until_its_policy_is_set() {
    let mut h = Harness::new(301);
    let (site, area) = h.site("Northgate School");
    let defaults = Policy::default();
    assert_eq!(defaults.risk, RiskLevel::Standard);
    assert_eq!(defaults.audit, AuditInterval::Termly);
    assert_eq!((defaults.default_loan_days, defaults.max_loan_days), (1, 7));
    assert_eq!(defaults.lost_key_charge_pence, 0);
    assert_eq!(
        defaults.fault_flag,
        FaultFlag {
            faults: 3,
            days: 90
        }
    );
    assert_eq!(h.register.site_policy(site), defaults);
    assert_eq!(h.register.policy_for_area(area), defaults);

    let school = Policy {
        lost_key_charge_pence: 500,
        audit: AuditInterval::Quarterly,
        ..Policy::default()
    };
    h.ok(Command::SetSitePolicy {
        site,
        policy: school,
    });
    assert_eq!(h.register.site_policy(site), school);
    assert_eq!(h.register.policy_for_area(area), school);
    assert_eq!(AuditInterval::EveryDays(14).label(), "Every 14 days");
}

#[test]
fn an_area_inherits_the_site_until_it_overrides_a_field_and_again_once_cleared() {
    let mut h = Harness::new(302);
    let (site, corridor) = h.site("St Mary's Hospital");
    let ward = ward(&mut h, site);
    h.ok(set_area(
        ward,
        PolicyOverrides {
            risk: Some(RiskLevel::High),
            master_needs_witness: Some(true),
            ..Default::default()
        },
        vec![],
    ));
    let p = h.register.policy_for_area(ward);
    assert_eq!((p.risk, p.master_needs_witness), (RiskLevel::High, true));
    assert_eq!(p.audit, AuditInterval::Termly, "the rest is the site's");
    assert_eq!(h.register.policy_for_area(corridor), Policy::default());

    // The site changes: the ward follows in what it does not override.
    h.ok(Command::SetSitePolicy {
        site,
        policy: Policy {
            audit: AuditInterval::Monthly,
            risk: RiskLevel::Standard,
            ..Policy::default()
        },
    });
    let p = h.register.policy_for_area(ward);
    assert_eq!((p.risk, p.audit), (RiskLevel::High, AuditInterval::Monthly));

    // Field by field: clearing the risk leaves the witness override in place.
    h.ok(set_area(
        ward,
        PolicyOverrides::default(),
        vec![PolicyField::Risk],
    ));
    let p = h.register.policy_for_area(ward);
    assert_eq!(
        (p.risk, p.master_needs_witness),
        (RiskLevel::Standard, true)
    );
    assert_eq!(
        h.register.area_overrides(ward).fields(),
        [PolicyField::MasterNeedsWitness]
    );
    h.ok(set_area(
        ward,
        PolicyOverrides::default(),
        vec![PolicyField::MasterNeedsWitness],
    ));
    assert!(h.register.area_overrides(ward).is_empty());
    assert_eq!(
        h.register.policy_for_area(ward),
        h.register.site_policy(site)
    );
}

#[test]
fn a_policy_out_of_range_or_a_default_past_the_maximum_is_refused() {
    let mut h = Harness::new(303);
    let (site, area) = h.site("Northgate School");
    let before = h.register.clone();
    let err = h
        .run(Command::SetSitePolicy {
            site,
            policy: Policy {
                max_loan_days: 400,
                ..Policy::default()
            },
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The longest temporary loan (days) must be from 1 to 365. Choose a number in that range."
    );
    let err = h
        .run(Command::SetSitePolicy {
            site,
            policy: Policy {
                default_loan_days: 10,
                max_loan_days: 7,
                ..Policy::default()
            },
        })
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "The default temporary loan (10 days) is longer than the longest allowed (7 days). Shorten the default or allow longer loans."
    );
    let err = h
        .run(set_area(
            area,
            PolicyOverrides {
                audit: Some(AuditInterval::EveryDays(0)),
                ..Default::default()
            },
            vec![],
        ))
        .unwrap_err();
    assert!(
        matches!(err, CommandError::PolicyOutOfRange { .. }),
        "{err}"
    );
    let err = h
        .run(set_area(
            area,
            PolicyOverrides {
                lost_key_charge_pence: Some(MAX_CHARGE_PENCE + 1),
                ..Default::default()
            },
            vec![],
        ))
        .unwrap_err();
    assert!(err.to_string().contains("from 0 to 50000"), "{err}");
    // An area's maximum below the site's default loan.
    let err = h
        .run(set_area(
            area,
            PolicyOverrides {
                default_loan_days: Some(5),
                max_loan_days: Some(2),
                ..Default::default()
            },
            vec![],
        ))
        .unwrap_err();
    assert!(matches!(
        err,
        CommandError::DefaultLoanOverMax { default: 5, max: 2 }
    ));
    assert_eq!(
        h.run(set_area(area, PolicyOverrides::default(), vec![])),
        Err(CommandError::PolicyUnchanged)
    );
    assert_eq!(h.register, before);
}

#[test]
fn the_server_refuses_crafted_policy_changes() {
    let mut h = Harness::new(304);
    let (site, area) = h.site("Northgate School");
    let crafted = |h: &mut Harness, change: Change| Event {
        id: EventId::generate(h.now, &mut h.entropy),
        actor: "Pat Caretaker".into(),
        device: h.device,
        at: h.now,
        change,
    };
    let refused = [
        Change::SitePolicySet {
            site,
            policy: Policy {
                fault_flag: FaultFlag {
                    faults: 0,
                    days: 30,
                },
                ..Policy::default()
            },
        },
        Change::AreaPolicySet {
            area,
            set: PolicyOverrides {
                risk: Some(RiskLevel::High),
                ..Default::default()
            },
            clear: vec![PolicyField::Risk],
        },
        Change::AreaPolicySet {
            area,
            set: PolicyOverrides::default(),
            clear: vec![PolicyField::Audit, PolicyField::Audit],
        },
    ];
    for change in refused {
        let event = crafted(&mut h, change);
        assert!(
            judge(&h.register, site, h.device, Role::Admin, &event).is_err(),
            "{:?}",
            event.change
        );
    }
    let fine = crafted(
        &mut h,
        Change::AreaPolicySet {
            area,
            set: PolicyOverrides::default(),
            clear: vec![PolicyField::Risk, PolicyField::Audit],
        },
    );
    assert_eq!(
        judge(&h.register, site, h.device, Role::Admin, &fine),
        Ok(false)
    );
    assert!(judge(&h.register, site, h.device, Role::Custodian, &fine).is_err());
}
