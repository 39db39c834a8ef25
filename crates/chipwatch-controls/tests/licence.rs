//! Licences as data: state on any date from the grant and the events, draw-down arithmetic and
//! refusals at every boundary, a partial revocation of the January 2024 kind, append-only
//! events, and malformed register files.

use chipwatch_controls::licence::*;
use chipwatch_controls::Date;

const FIXTURE: &str = include_str!("fixtures/licences/register.toml");

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

fn register() -> LicenceRecord {
    parse_register(FIXTURE, "register.toml").unwrap().remove(0)
}

fn draw(item: &str, date: &str, q: f64, v: f64, consignee: &str) -> ShipmentDraw {
    ShipmentDraw {
        reference: format!("T-{item}-{date}"),
        date: d(date),
        item: item.into(),
        quantity: q,
        value: v,
        destination: "CHN".into(),
        consignee: consignee.into(),
        end_user: None,
    }
}

#[test]
fn state_is_reconstructed_on_any_date() {
    let r = register();
    let st = r.state_on(d("2023-08-31"));
    assert!(matches!(st.status, Status::NotYetValid { .. }));
    let st = r.state_on(d("2023-12-31"));
    assert_eq!(st.status, Status::Active);
    assert_eq!(st.items[0].shipped_quantity, 2.0);
    assert_eq!(st.items[0].remaining_quantity, Some(4.0));
    assert_eq!(st.items[1].remaining_quantity, Some(3.0));
    assert!(!st.items[1].revoked);
    assert_eq!(st.remaining_value, Some(600.0 - 240.0));
    // After the partial revocation: line 2 and the second customer are gone, line 1 stays.
    let st = r.state_on(d("2024-01-01"));
    assert_eq!(st.status, Status::Active);
    assert!(st.items[1].revoked);
    assert!(!st.consignees.contains(&party_key("Beta Foundry Co., Ltd.")));
    assert!(st.consignees.contains(&party_key("Alpha Wafer Co., Ltd.")));
    assert_eq!(st.history.len(), 1);
    assert_eq!(r.state_on(d("2024-12-31")).status, Status::Active);
    assert_eq!(
        r.state_on(d("2025-01-01")).status,
        Status::Expired {
            on: d("2024-12-31")
        }
    );
}

#[test]
fn the_partial_revocation_refuses_what_it_withdrew_and_nothing_else() {
    let r = register();
    // The revoked line, and the revoked customer, refused from the revocation date on.
    let e = r
        .check_shipment(&draw("2", "2024-01-02", 1.0, 1.0, "Alpha Wafer Co., Ltd."))
        .unwrap_err();
    assert!(matches!(e, Refusal::ItemRevoked { .. }), "{e}");
    let e = r
        .check_shipment(&draw("1", "2024-01-02", 1.0, 1.0, "Beta Foundry Co., Ltd."))
        .unwrap_err();
    assert!(matches!(e, Refusal::Consignee { .. }), "{e}");
    // The day before, both were authorised.
    assert!(r
        .check_shipment(&draw("2", "2023-12-31", 1.0, 1.0, "Beta Foundry Co., Ltd."))
        .is_ok());
    // Line 1 to the remaining customer still goes, spelling variants included.
    assert!(r
        .check_shipment(&draw("1", "2024-03-01", 3.0, 1.0, "alpha wafer co. ltd"))
        .is_ok());
}

#[test]
fn draw_down_boundaries() {
    let r = register();
    // Line 1: 6 granted, 3 shipped by 2024-02-05: exactly 3 left.
    let at = "2024-03-01";
    let c = "Alpha Wafer Co., Ltd.";
    assert!(r.check_shipment(&draw("1", at, 3.0, 10.0, c)).is_ok());
    let e = r.check_shipment(&draw("1", at, 3.5, 10.0, c)).unwrap_err();
    assert!(
        matches!(e, Refusal::Quantity { remaining, .. } if remaining == 3.0),
        "{e}"
    );
    // Value: 600 - (150 + 90 + 75) = 285 left.
    assert!(r.check_shipment(&draw("1", at, 1.0, 285.0, c)).is_ok());
    let e = r.check_shipment(&draw("1", at, 1.0, 285.5, c)).unwrap_err();
    assert!(matches!(e, Refusal::Value { .. }), "{e}");
    // Validity: the last day goes, the day after does not.
    assert!(r
        .check_shipment(&draw("1", "2024-12-31", 1.0, 1.0, c))
        .is_ok());
    let e = r
        .check_shipment(&draw("1", "2025-01-01", 1.0, 1.0, c))
        .unwrap_err();
    assert!(matches!(e, Refusal::Expired { .. }), "{e}");
    let e = r
        .check_shipment(&draw("1", "2023-08-31", 1.0, 1.0, c))
        .unwrap_err();
    assert!(matches!(e, Refusal::NotYetValid { .. }), "{e}");
    // Destination, item, amounts.
    let mut s = draw("1", at, 1.0, 1.0, c);
    s.destination = "RUS".into();
    assert!(matches!(
        r.check_shipment(&s),
        Err(Refusal::Destination { .. })
    ));
    assert!(matches!(
        r.check_shipment(&draw("9", at, 1.0, 1.0, c)),
        Err(Refusal::UnknownItem { .. })
    ));
    assert!(matches!(
        r.check_shipment(&draw("1", at, -1.0, 1.0, c)),
        Err(Refusal::Amount { .. })
    ));
    assert!(matches!(
        r.check_shipment(&draw("1", at, f64::NAN, 1.0, c)),
        Err(Refusal::Amount { .. })
    ));
}

#[test]
fn suspension_reinstatement_amendment_and_full_revocation() {
    let mut r = register();
    let c = "Alpha Wafer Co., Ltd.";
    let ev = |date: &str, kind: EventKind| LicenceEvent {
        date: d(date),
        kind,
        reason: "test".into(),
        instrument: None,
    };
    r.add_event(ev("2024-03-01", EventKind::Suspension { until: None }))
        .unwrap();
    assert!(matches!(
        r.check_shipment(&draw("1", "2024-03-02", 1.0, 1.0, c)),
        Err(Refusal::Suspended { .. })
    ));
    r.add_event(ev("2024-04-01", EventKind::Reinstatement))
        .unwrap();
    assert!(r
        .check_shipment(&draw("1", "2024-04-01", 1.0, 1.0, c))
        .is_ok());
    r.add_event(ev(
        "2024-05-01",
        EventKind::Amendment {
            valid_until: Some(d("2025-06-30")),
            quantities: [("1".to_string(), 10.0)].into(),
            add_destinations: vec![],
            add_consignees: vec![],
        },
    ))
    .unwrap();
    let st = r.state_on(d("2025-01-15"));
    assert_eq!(st.status, Status::Active);
    assert_eq!(st.items[0].remaining_quantity, Some(7.0));
    // Events are append-only and in date order.
    assert!(r
        .add_event(ev("2024-04-30", EventKind::Reinstatement))
        .is_err());
    r.add_event(ev("2025-02-01", EventKind::FullRevocation))
        .unwrap();
    assert!(matches!(
        r.check_shipment(&draw("1", "2025-02-01", 1.0, 1.0, c)),
        Err(Refusal::Revoked { .. })
    ));
    // The history before the revocation is unchanged.
    assert_eq!(r.state_on(d("2025-01-31")).status, Status::Active);
    assert!(r
        .add_event(ev("2025-03-01", EventKind::Reinstatement))
        .is_err());
    // Shipping appends; a refused shipment changes nothing.
    let before = r.shipments.len();
    assert!(r.ship(draw("1", "2025-02-02", 1.0, 1.0, c)).is_err());
    assert_eq!(r.shipments.len(), before);
}

#[test]
fn a_quantity_cut_applies_to_what_was_left_on_its_date() {
    let mut r = register();
    r.add_event(LicenceEvent {
        date: d("2024-06-01"),
        kind: EventKind::PartialRevocation {
            items: vec![],
            consignees: vec![],
            end_users: vec![],
            destinations: vec![],
            quantities: [("1".to_string(), 2.0)].into(),
        },
        reason: "two units withdrawn".into(),
        instrument: None,
    })
    .unwrap();
    // 6 granted, 3 shipped before the cut: 3 left, 2 withdrawn, 1 left.
    let st = r.state_on(d("2024-06-01"));
    assert_eq!(st.items[0].remaining_quantity, Some(1.0));
    assert_eq!(
        r.state_on(d("2024-05-31")).items[0].remaining_quantity,
        Some(3.0)
    );
}

#[test]
fn register_round_trips() {
    let recs = parse_register(FIXTURE, "register.toml").unwrap();
    let text = register_to_toml(&recs).unwrap();
    assert_eq!(parse_register(&text, "again.toml").unwrap(), recs);
}

#[test]
fn malformed_registers_name_file_and_field() {
    let cases: Vec<(String, &str)> = vec![
        (
            FIXTURE.replacen("destinations = [\"CHN\"]", "destinations = [\"CNH\"]", 1),
            "licence[0].destinations[0]",
        ),
        (
            FIXTURE.replacen("jurisdiction = \"NLD\"", "jurisdiction = \"NDL\"", 1),
            "licence[0].jurisdiction",
        ),
        (
            FIXTURE.replacen("kind = \"global\"", "kind = \"lifetime\"", 1),
            "lifetime",
        ),
        (
            FIXTURE.replacen("quantity = 6", "quantity = -6", 1),
            "licence[0].items[0].quantity",
        ),
        (
            FIXTURE.replacen(
                "valid_until = \"2024-12-31\"",
                "valid_until = \"2023-01-01\"",
                1,
            ),
            "licence[0].valid_until",
        ),
        (
            FIXTURE.replacen("date = \"2023-11-20\"", "date = \"2023-09-20\"", 1),
            "licence[0].shipment[1]",
        ),
        // A shipment of the revoked line after the revocation cannot have happened.
        (
            FIXTURE.replacen(
                "item = \"1\"\nquantity = 1\nvalue = 75.0",
                "item = \"2\"\nquantity = 1\nvalue = 75.0",
                1,
            ),
            "licence[0].shipment[2]",
        ),
        (
            FIXTURE.replacen(
                "reason = \"partial revocation",
                "reasn = \"partial revocation",
                1,
            ),
            "reasn",
        ),
        (
            format!("{FIXTURE}\n[[licence]]\nnumber = \"x\"\n"),
            "register.toml",
        ),
        ("[[licence]\n".to_string(), "register.toml"),
    ];
    for (text, want) in cases {
        let e = parse_register(&text, "register.toml")
            .unwrap_err()
            .to_string();
        assert!(e.contains("register.toml"), "{e}");
        assert!(e.contains(want), "{want} not in: {e}");
    }
}

#[test]
fn licences_cover_determinations_with_grandfathering_applied() {
    let engine = chipwatch_controls::default_engine().unwrap();
    let reg = parse_register(FIXTURE, "register.toml").unwrap();
    let det = |date: &str, end_user: &str| {
        engine
            .determine(&chipwatch_controls::Shipment {
                product: Some("NXT:2050i".into()),
                params: Default::default(),
                from: "NLD".into(),
                to: "CHN".into(),
                origin: None,
                end_user: Some(end_user.into()),
                end_use: None,
                date: d(date),
                parties: Vec::new(),
            })
            .unwrap()
    };
    let nl = |c: Vec<Cover>| {
        c.into_iter()
            .find(|c| c.jurisdiction == "NLD")
            .expect("the Dutch requirement is matched against the licence")
    };
    // Under the version it was granted under.
    let c = nl(covers(
        &engine,
        &det("2024-02-01", "Alpha Wafer Co., Ltd."),
        &reg,
    ));
    assert!(c.covers, "{}", c.reason);
    // After the 2024 amendment: granted before it, and the amendment keeps earlier licences.
    let c = nl(covers(
        &engine,
        &det("2024-10-01", "Alpha Wafer Co., Ltd."),
        &reg,
    ));
    assert!(c.covers, "{}", c.reason);
    assert!(
        c.reason.contains("2024 amendment") && c.reason.contains("stay valid"),
        "{}",
        c.reason
    );
    // The revoked customer, and after expiry: not covered, with the reason.
    let c = nl(covers(
        &engine,
        &det("2024-02-01", "Beta Foundry Co., Ltd."),
        &reg,
    ));
    assert!(
        !c.covers && c.reason.contains("not authorised"),
        "{}",
        c.reason
    );
    let c = nl(covers(
        &engine,
        &det("2025-01-02", "Alpha Wafer Co., Ltd."),
        &reg,
    ));
    assert!(!c.covers && c.reason.contains("expired"), "{}", c.reason);
    // A licence granted under a version the measure does not have covers nothing.
    let mut bad = reg.clone();
    bad[0].licence.legal_basis.version = "1999".into();
    let c = nl(covers(
        &engine,
        &det("2024-02-01", "Alpha Wafer Co., Ltd."),
        &bad,
    ));
    assert!(!c.covers, "{}", c.reason);
    // Granted after the version in force entered into force, but under the older one: refused.
    let mut late = reg.clone();
    late[0].licence.granted_on = d("2024-09-10");
    let c = nl(covers(
        &engine,
        &det("2024-10-01", "Alpha Wafer Co., Ltd."),
        &late,
    ));
    assert!(
        !c.covers && c.reason.contains("keeps only licences granted before it"),
        "{}",
        c.reason
    );
}

#[test]
fn impact_of_a_partial_and_a_full_revocation() {
    let r = register();
    // The recorded January 2024 revocation: line 2 (3 of 4 left) and one customer.
    let e = r.events[0].clone();
    let i = r.impact_of(&e).unwrap();
    assert_eq!(i.items.len(), 1);
    assert_eq!(i.items[0].id, "2");
    assert_eq!(i.items[0].quantity, Some(3.0));
    assert_eq!(i.consignees_removed, vec!["Beta Foundry Co., Ltd."]);
    assert!(!i.stops_everything);
    // A proposed full revocation on 2024-03-01: everything left on line 1 (3 units) and the
    // value left (600 - 315) is no longer authorised; the record itself is unchanged.
    let full = LicenceEvent {
        date: d("2024-03-01"),
        kind: EventKind::FullRevocation,
        reason: "proposed".into(),
        instrument: None,
    };
    let before = r.clone();
    let i = r.impact_of(&full).unwrap();
    assert_eq!(r, before);
    assert!(i.stops_everything);
    assert_eq!(
        i.items.len(),
        1,
        "line 2 was already revoked: {:?}",
        i.items
    );
    assert_eq!(i.items[0].quantity, Some(3.0));
    assert_eq!(i.value_no_longer_authorised, Some(285.0));
    // An event that cannot be appended (dated before the last one) is an error.
    let early = LicenceEvent {
        date: d("2023-12-01"),
        ..full
    };
    assert!(r.impact_of(&early).is_err());
}

#[test]
fn partial_revocation_of_what_the_licence_does_not_authorise_is_refused() {
    let ev = |items: &[&str], consignees: &[&str], destinations: &[&str]| LicenceEvent {
        date: d("2024-03-01"),
        kind: EventKind::PartialRevocation {
            items: items.iter().map(|s| s.to_string()).collect(),
            consignees: consignees.iter().map(|s| s.to_string()).collect(),
            end_users: vec![],
            destinations: destinations.iter().map(|s| s.to_string()).collect(),
            quantities: Default::default(),
        },
        reason: "test".into(),
        instrument: None,
    };
    for (e, needle) in [
        (ev(&["9"], &[], &[]), "no item line `9`"),
        (ev(&[], &["Gamma Fab"], &[]), "consignee `Gamma Fab`"),
        // Beta Foundry was already withdrawn on 2024-01-01.
        (ev(&[], &["Beta Foundry Co Ltd"], &[]), "not authorised"),
        (ev(&[], &[], &["RUS"]), "destination RUS"),
        (ev(&[], &[], &[]), "names no item line"),
    ] {
        let mut r = register();
        let err = r.add_event(e).unwrap_err().to_string();
        assert!(err.contains(needle), "{err}");
        assert_eq!(r.events.len(), 1, "nothing appended");
    }
    // A spelling variant of an authorised consignee is the same party.
    let mut r = register();
    r.add_event(ev(&[], &["ALPHA WAFER CO LTD"], &[])).unwrap();
    assert!(r.state_on(d("2024-03-02")).consignees.is_empty());
}

#[test]
fn events_round_trip_through_json_and_unknown_fields_are_refused() {
    let r = register();
    for e in &r.events {
        assert_eq!(&LicenceEvent::from_json(e.to_json()).unwrap(), e);
    }
    let e = LicenceEvent::from_json(serde_json::json!({"date": "2024-01-01",
        "kind": "partial_revocation", "quantities": {"1": 2}, "reason": "cut",
        "instrument": null}))
    .unwrap();
    assert!(
        matches!(e.kind, EventKind::PartialRevocation { ref quantities, .. }
        if quantities["1"] == 2.0)
    );
    let err = LicenceEvent::from_json(serde_json::json!({"date": "2024-01-01",
        "kind": "suspension", "consignees": ["x"], "reason": "r"}))
    .unwrap_err();
    assert!(err.contains("unknown field `consignees`"), "{err}");
    assert!(LicenceEvent::from_json(serde_json::json!([1])).is_err());
    let l = r.licence.clone();
    assert_eq!(check_licence(&l), Ok(()));
    let mut bad = l.clone();
    bad.destinations.push("XXX".into());
    assert_eq!(check_licence(&bad).unwrap_err().0, "destinations[1]");
}
