//! The impact of a licensing decision across a register, through the scenario engine: value no
//! longer authorised (from ceilings or the licence's own unit values), scheduled shipments it
//! refuses, the flows it cuts, the consumers it reaches and the incidence across destinations.
//! Unknown stays unknown.

use chipwatch_controls::licence::*;
use chipwatch_controls::licence_impact::{decision_impact, Fx, Proposal};
use chipwatch_controls::{default_engine, Date};
use std::collections::BTreeMap;

const FIXTURE: &str = include_str!("fixtures/licences/register.toml");

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn register() -> Vec<LicenceRecord> {
    parse_register(FIXTURE, "register.toml").unwrap()
}

/// The decision `event` on the fixture's licence `number`, over `recs`.
fn assess(
    recs: &[LicenceRecord],
    number: &str,
    event: LicenceEvent,
) -> Result<chipwatch_controls::licence_impact::DecisionImpact, chipwatch_controls::ControlsError> {
    let e = default_engine().unwrap();
    let vc = chipwatch_data::default_model();
    decision_impact(
        recs,
        &[Proposal {
            licence: number.into(),
            event,
        }],
        e.catalogue(),
        &vc,
        &Fx::default(),
    )
}

fn revoke_line(lines: &[&str], date: &str) -> LicenceEvent {
    LicenceEvent {
        date: d(date),
        kind: EventKind::PartialRevocation {
            items: lines.iter().map(|s| s.to_string()).collect(),
            consignees: vec![],
            end_users: vec![],
            destinations: vec![],
            quantities: BTreeMap::new(),
        },
        reason: "test".into(),
        instrument: None,
    }
}

#[test]
fn fx_reads_currency_with_scale_and_refuses_unknown() {
    let fx = Fx::default();
    assert_eq!(fx.usd_per_unit("USD"), Some(1.0));
    assert!((fx.usd_per_unit("EUR million").unwrap() - 1.0824e6).abs() < 1e-6);
    assert_eq!(fx.usd_per_unit("usd thousand"), Some(1e3));
    assert_eq!(fx.usd_per_unit("JPY"), None);
    assert_eq!(fx.usd_per_unit("EUR lots"), None);
    assert_eq!(fx.usd_per_unit(""), None);
}

#[test]
fn recorded_partial_revocation_values_lines_from_own_shipments_and_reaches_china() {
    let recs = register();
    // The recorded January 2024 event of the fixture: line 2 (4 granted, 1 shipped at 90) and
    // Beta Foundry withdrawn.
    let recorded = recs[0].events[0].clone();
    let r = assess(&recs, "NL-TEST-2023-0001", recorded).unwrap();
    let l = &r.licences[0];
    // 3 units left x 90 (EUR million) per unit from shipment S-2.
    assert_eq!(l.value, Some(270.0));
    assert!((l.value_usd.unwrap() - 270.0 * 1.0824e6).abs() < 1.0);
    assert_eq!(l.destinations, vec![("CHN".to_string(), 1.0)]);
    assert_eq!(r.consignees, vec!["Beta Foundry Co., Ltd.".to_string()]);
    // One destination bears everything: concentrated incidence.
    assert_eq!(r.value_by_destination.len(), 1);
    assert_eq!(r.incidence.top_destination.as_deref(), Some("CHN"));
    assert!((r.incidence.hhi - 10_000.0).abs() < 1e-6);
    // The flow: NXT:2100i is an ArF immersion tool (N22), exported by NLD to CHN.
    let f = r
        .flows
        .iter()
        .find(|f| f.item_id == "N22" && f.destination == "CHN")
        .expect("a cut of the ArF immersion flow to China");
    assert_eq!(f.exporter, "NLD");
    let frac = f
        .fraction
        .expect("NLD's share of N22 is known in the model");
    assert!(frac > 0.0 && frac <= 1.0, "{frac}");
    // China is affected; its estimate lies between the upper bound and the baseline.
    let chn = r
        .affected_consumers
        .iter()
        .find(|c| c.country == "CHN")
        .expect("China affected");
    assert!(chn.destination);
    let it = chn.items.iter().find(|i| i.item_id == "N22").unwrap();
    let est = it.estimate_min.unwrap();
    assert!(
        it.upper_bound_min <= est && est <= it.baseline_min,
        "{it:?}"
    );
    assert!(it.upper_bound_min < it.baseline_min);
}

#[test]
fn proposed_revocation_refuses_scheduled_shipments() {
    let recs = register();
    // Revoking line 1 from 2024-02-01 refuses shipment S-3 (2024-02-05, line 1).
    let r = assess(
        &recs,
        "nl-test-2023-0001",
        revoke_line(&["1"], "2024-02-01"),
    )
    .unwrap();
    assert_eq!(
        r.scheduled_shipments.len(),
        1,
        "{:?}",
        r.scheduled_shipments
    );
    assert_eq!(r.scheduled_shipments[0].reference, "S-3");
    assert!(r.scheduled_shipments[0].refusal.contains("revoked"));
    // Line 1: 6 granted, 2 shipped before the date (S-1 at 75 per unit) -> 4 x 75.
    assert_eq!(r.licences[0].value, Some(300.0));
}

#[test]
fn unknown_value_and_currency_stay_unknown() {
    let mut recs = register();
    recs[0].licence.currency = Some("XYZ".into());
    let r = assess(
        &recs,
        "NL-TEST-2023-0001",
        revoke_line(&["1"], "2024-02-01"),
    )
    .unwrap();
    assert_eq!(r.licences[0].value_usd, None);
    assert_eq!(
        r.value_unknown_licences,
        vec!["NL-TEST-2023-0001".to_string()]
    );
    assert!(r.licences[0]
        .unknown_because
        .iter()
        .any(|m| m.contains("XYZ")));
    // The flow's fraction is unknown: no estimate, only the upper bound.
    let f = r.flows.iter().find(|f| f.item_id == "N22").unwrap();
    assert_eq!(f.fraction, None);
    let chn = r
        .affected_consumers
        .iter()
        .find(|c| c.country == "CHN")
        .unwrap();
    assert_eq!(chn.final_output_estimate, None);
    assert!(r.notes.iter().any(|n| n.contains("lower bounds")));

    // No shipments of a line and no value ceiling: the value is unknown, not zero.
    let mut recs = register();
    recs[0].shipments.clear();
    let r = assess(
        &recs,
        "NL-TEST-2023-0001",
        revoke_line(&["1"], "2024-02-01"),
    )
    .unwrap();
    assert_eq!(r.licences[0].value, None);
    assert!(r.licences[0].unknown_because[0].contains("unit value"));
}

#[test]
fn unknown_licence_and_empty_decision_are_errors() {
    let recs = register();
    let e = default_engine().unwrap();
    let vc = chipwatch_data::default_model();
    let err = assess(&recs, "NL-NOPE", revoke_line(&["1"], "2024-02-01")).unwrap_err();
    assert!(err.to_string().contains("NL-NOPE"));
    assert!(decision_impact(&recs, &[], e.catalogue(), &vc, &Fx::default()).is_err());
    // A revocation of a line that does not exist is refused, not an empty impact.
    assert!(assess(
        &recs,
        "NL-TEST-2023-0001",
        revoke_line(&["9"], "2024-02-01")
    )
    .is_err());
}
