//! The licence register in the database, on SQLite always and PostgreSQL when
//! `CHIPWATCH_TEST_PG_URL` is set: draw-down arithmetic and refusals at the boundaries, state
//! reconstructed on a date from the stored rows, a partial revocation of the January 2024 kind
//! (the Dutch authority withdrawing part of an NXT:2000i/NXT:1980Di licence for some Chinese
//! consignees), events that would rewrite history refused, append-only tables, filters, other
//! organisations, audit entries.

use chipwatch_controls::licence::{
    EventKind, Licence, LicenceEvent, Refusal, ShipmentDraw, Status,
};
use chipwatch_controls::Date;
use chipwatch_store::licences::LicenceFilter;
use chipwatch_store::partner::*;
use chipwatch_store::sqlx;
use chipwatch_store::{audit, test_stores, Store, StoreError};

const GAMMA: &str = "Gamma Semiconductor Co., Ltd.";
const DELTA: &str = "Delta Integrated Circuit Co., Ltd.";

async fn principal(store: &Store, org: &str, role: Role) -> Principal {
    let o = store.create_org(org, OrgKind::Local, "cli").await.unwrap();
    let u = store.create_user(o.id, "alice", role, "cli").await.unwrap();
    let secret = format!("cw_{}_{:0>40}", org, u.id);
    store
        .create_token(u.id, &secret, "test", None, "cli")
        .await
        .unwrap();
    store.principal_for_secret(&secret).await.unwrap().unwrap()
}

fn d(s: &str) -> Date {
    Date::parse(s).unwrap()
}

/// A fictitious global licence of the kind the Dutch authority partly revoked in January 2024.
fn licence(number: &str) -> Licence {
    serde_json::from_value(serde_json::json!({
        "number": number,
        "authority": "Ministerie van Buitenlandse Zaken, CDIU (fictitious example)",
        "jurisdiction": "NLD", "kind": "global", "holder": "Example Lithography B.V.",
        "consignees": [GAMMA, DELTA], "end_users": [GAMMA, DELTA],
        "items": [
            {"id": "1", "description": "ArF immersion scanner", "product": "NXT:2000i",
             "control_entry": "3B001.f.1", "quantity": 5.0, "value": 400.0},
            {"id": "2", "description": "ArF immersion scanner", "product": "NXT:1980Di",
             "quantity": 8.0, "value": 300.0}
        ],
        "destinations": ["CHN"], "value_ceiling": 800.0, "currency": "EUR million",
        "granted_on": "2023-06-20", "valid_from": "2023-07-01", "valid_until": "2024-12-31",
        "legal_basis": {"measure_id": "NL-semiconductor-equipment",
                        "version": "2023 (Stcrt. 2023, 18212)"}
    }))
    .unwrap()
}

fn draw(reference: &str, date: &str, item: &str, q: f64, v: f64, consignee: &str) -> ShipmentDraw {
    ShipmentDraw {
        reference: reference.into(),
        date: d(date),
        item: item.into(),
        quantity: q,
        value: v,
        destination: "CHN".into(),
        consignee: consignee.into(),
        end_user: None,
    }
}

fn event(date: &str, kind: EventKind, reason: &str) -> LicenceEvent {
    LicenceEvent {
        date: d(date),
        kind,
        reason: reason.into(),
        instrument: Some("decision of the minister (fictitious)".into()),
    }
}

#[tokio::test]
async fn register_draw_down_revoke_and_reconstruct() {
    let dir = tempfile::tempdir().unwrap();
    for (b, store) in test_stores(dir.path()).await {
        let nl = principal(&store, "MinBZ", Role::Analyst).await;
        let other = principal(&store, "MOTIE", Role::Admin).await;
        let l = store
            .register_licence(&nl, licence("NL-2023-EX-0042"))
            .await
            .unwrap();
        let id = l.id;
        // Duplicate number: a conflict in the same organisation, fine in another.
        let dup = store
            .register_licence(&nl, licence("NL-2023-EX-0042"))
            .await;
        assert!(
            matches!(dup, Err(StoreError::Conflict(ref m)) if m.starts_with("number")),
            "{b}: {dup:?}"
        );
        store
            .register_licence(&other, licence("NL-2023-EX-0042"))
            .await
            .unwrap();
        // The controls crate's rules, naming the field.
        let mut bad = licence("NL-BAD");
        bad.destinations = vec!["CHN".into(), "XXX".into()];
        let e = store.register_licence(&nl, bad).await.unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref m) if m.starts_with("destinations[1]")),
            "{b}: {e}"
        );

        // Draw-down arithmetic.
        let ship = |s: ShipmentDraw| {
            let store = store.clone();
            let nl = nl.clone();
            async move { store.draw_shipment(&nl, id, s).await.unwrap() }
        };
        let r = ship(draw("S-0", "2023-06-30", "1", 1.0, 1.0, GAMMA)).await;
        assert!(matches!(r, Err(Refusal::NotYetValid { .. })), "{b}: {r:?}");
        let st = ship(draw("S-1", "2023-09-01", "1", 2.0, 160.0, GAMMA))
            .await
            .unwrap();
        assert_eq!(st.state.items[0].remaining_quantity, Some(3.0));
        assert_eq!(st.state.items[0].remaining_value, Some(240.0));
        assert_eq!(st.state.remaining_value, Some(640.0));
        ship(draw("S-2", "2023-10-15", "2", 3.0, 105.0, DELTA))
            .await
            .unwrap();
        // A suspension dated before S-1 would have refused it: history is not rewritten.
        let e = store
            .add_licence_event(
                &nl,
                id,
                event("2023-08-01", EventKind::Suspension { until: None }, "late"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref m) if m.contains("S-1")),
            "{b}: {e}"
        );
        // Quantity boundary: 3 left on line 1; 3.5 refused, nothing stored; exactly 3 passes.
        let r = ship(draw("S-3", "2023-12-01", "1", 3.5, 10.0, GAMMA)).await;
        assert!(
            matches!(r, Err(Refusal::Quantity { remaining, .. }) if remaining == 3.0),
            "{b}: {r:?}"
        );
        assert_eq!(
            store.licence(nl.org.id, id).await.unwrap().shipments.len(),
            2
        );
        ship(draw("S-3", "2023-12-01", "1", 3.0, 240.0, GAMMA))
            .await
            .unwrap();
        // Value boundary of line 2: 195 left.
        let r = ship(draw("S-4", "2023-12-10", "2", 1.0, 195.01, GAMMA)).await;
        assert!(
            matches!(r, Err(Refusal::Value { remaining, .. }) if (remaining - 195.0).abs() < 1e-9),
            "{b}: {r:?}"
        );
        ship(draw("S-4", "2023-12-10", "2", 1.0, 20.0, GAMMA))
            .await
            .unwrap();
        // Destination and consignee.
        let mut s = draw("S-5", "2023-12-11", "2", 1.0, 1.0, GAMMA);
        s.destination = "RUS".into();
        assert!(
            matches!(ship(s).await, Err(Refusal::Destination { .. })),
            "{b}"
        );
        let r = ship(draw("S-5", "2023-12-11", "2", 1.0, 1.0, "Unknown Fab")).await;
        assert!(matches!(r, Err(Refusal::Consignee { .. })), "{b}: {r:?}");
        // A reference used before, a date before the last shipment: errors, not refusals.
        let e = store
            .draw_shipment(&nl, id, draw("S-4", "2023-12-12", "2", 1.0, 1.0, GAMMA))
            .await;
        assert!(matches!(e, Err(StoreError::Conflict(_))), "{b}: {e:?}");
        let e = store
            .draw_shipment(&nl, id, draw("S-9", "2023-11-01", "2", 1.0, 1.0, GAMMA))
            .await;
        assert!(
            matches!(e, Err(StoreError::Invalid(ref m)) if m.starts_with("date")),
            "{b}: {e:?}"
        );

        // The January 2024 partial revocation: NXT:2000i withdrawn, one Chinese customer
        // withdrawn, and 2 of the 4 NXT:1980Di still authorised cut.
        let pr = event(
            "2024-01-01",
            EventKind::PartialRevocation {
                items: vec!["1".into()],
                consignees: vec![DELTA.into()],
                end_users: vec![DELTA.into()],
                destinations: vec![],
                quantities: [("2".to_string(), 2.0)].into(),
            },
            "licence partly revoked for the NXT:2000i and one Chinese customer",
        );
        let after = store.add_licence_event(&nl, id, pr).await.unwrap();
        assert_eq!(after.events.len(), 1);
        let e = store
            .add_licence_event(
                &nl,
                id,
                event("2023-12-31", EventKind::Reinstatement, "early"),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(e, StoreError::Invalid(ref m) if m.starts_with("event")),
            "{b}: {e}"
        );
        let r = ship(draw("S-6", "2024-01-02", "1", 0.0, 0.0, GAMMA)).await;
        assert!(matches!(r, Err(Refusal::ItemRevoked { .. })), "{b}: {r:?}");
        let r = ship(draw("S-6", "2024-01-02", "2", 1.0, 1.0, DELTA)).await;
        assert!(matches!(r, Err(Refusal::Consignee { .. })), "{b}: {r:?}");
        let r = ship(draw("S-6", "2024-01-02", "2", 2.5, 1.0, GAMMA)).await;
        assert!(
            matches!(r, Err(Refusal::Quantity { remaining, .. }) if remaining == 2.0),
            "{b}: {r:?}"
        );
        ship(draw("S-6", "2024-01-02", "2", 2.0, 50.0, GAMMA))
            .await
            .unwrap();

        // State reconstructed from the stored rows on any date.
        let rec = store.licence(nl.org.id, id).await.unwrap().record();
        let before = rec.state_on(d("2023-12-31"));
        assert_eq!(before.status, Status::Active);
        assert!(!before.items[0].revoked);
        assert_eq!(before.items[0].remaining_quantity, Some(0.0));
        assert_eq!(before.items[1].remaining_quantity, Some(4.0));
        assert_eq!(before.consignees.len(), 2);
        let now = rec.state_on(d("2024-06-01"));
        assert!(now.items[0].revoked);
        assert_eq!(now.items[1].quantity_ceiling, Some(6.0));
        assert_eq!(now.items[1].remaining_quantity, Some(0.0));
        assert_eq!(now.consignees.len(), 1);
        assert_eq!(now.shipped_value, 160.0 + 105.0 + 240.0 + 20.0 + 50.0);
        assert!(matches!(
            rec.state_on(d("2025-01-01")).status,
            Status::Expired { .. }
        ));
        let r = ship(draw("S-7", "2025-01-01", "2", 0.0, 0.0, GAMMA)).await;
        assert!(matches!(r, Err(Refusal::Expired { .. })), "{b}: {r:?}");

        // Another organisation: not found, for reads and writes alike.
        assert!(matches!(
            store.licence(other.org.id, id).await,
            Err(StoreError::NotFound(_))
        ));
        let e = store
            .draw_shipment(&other, id, draw("X", "2024-02-01", "2", 0.0, 0.0, GAMMA))
            .await;
        assert!(matches!(e, Err(StoreError::NotFound(_))), "{b}: {e:?}");
        let e = store
            .add_licence_event(
                &other,
                id,
                event("2024-02-01", EventKind::FullRevocation, "x"),
            )
            .await;
        assert!(matches!(e, Err(StoreError::NotFound(_))), "{b}: {e:?}");
        assert_eq!(store.licence(nl.org.id, id).await.unwrap().events.len(), 1);

        // Filters on the register.
        let l2 = store
            .register_licence(&nl, {
                let mut l = licence("NL-2023-EX-0043");
                l.holder = "Other Optics B.V.".into();
                l.items.truncate(1);
                l.destinations = vec!["CHN".into(), "HKG".into()];
                l
            })
            .await
            .unwrap();
        store
            .add_licence_event(
                &nl,
                l2.id,
                event("2024-03-01", EventKind::FullRevocation, "revoked in full"),
            )
            .await
            .unwrap();
        let count = |f: LicenceFilter| {
            let store = store.clone();
            let org = nl.org.id;
            async move {
                store
                    .licences(org, &f)
                    .await
                    .unwrap()
                    .iter()
                    .map(|e| e.licence.licence.number.clone())
                    .collect::<Vec<_>>()
            }
        };
        let on = |s: &str| Some(d(s));
        assert_eq!(
            count(LicenceFilter {
                date: on("2024-02-01"),
                ..Default::default()
            })
            .await
            .len(),
            2
        );
        assert_eq!(
            count(LicenceFilter {
                date: on("2024-04-01"),
                status: Some("revoked".into()),
                ..Default::default()
            })
            .await,
            ["NL-2023-EX-0043"]
        );
        assert_eq!(
            count(LicenceFilter {
                date: on("2024-02-01"),
                status: Some("revoked".into()),
                ..Default::default()
            })
            .await
            .len(),
            0
        );
        assert_eq!(
            count(LicenceFilter {
                holder: Some("other optics".into()),
                ..Default::default()
            })
            .await,
            ["NL-2023-EX-0043"]
        );
        assert_eq!(
            count(LicenceFilter {
                destination: Some("hkg".into()),
                date: on("2024-01-01"),
                ..Default::default()
            })
            .await,
            ["NL-2023-EX-0043"]
        );
        assert_eq!(
            count(LicenceFilter {
                product: Some("nxt:1980di".into()),
                ..Default::default()
            })
            .await,
            ["NL-2023-EX-0042"]
        );
        assert_eq!(
            count(LicenceFilter {
                product: Some("3B001.f.1".into()),
                ..Default::default()
            })
            .await
            .len(),
            2
        );
        assert_eq!(
            count(LicenceFilter {
                authority: Some("CDIU".into()),
                text: Some("delta integrated".into()),
                ..Default::default()
            })
            .await
            .len(),
            2
        );
        assert_eq!(
            count(LicenceFilter {
                text: Some("nothing like it".into()),
                ..Default::default()
            })
            .await
            .len(),
            0
        );
        assert_eq!(
            store
                .licences(other.org.id, &LicenceFilter::default())
                .await
                .unwrap()
                .len(),
            1
        );

        // Append-only in the database itself.
        for t in ["licences", "licence_events", "licence_shipments"] {
            let upd = sqlx::query(&format!("UPDATE {t} SET created_at = 0"))
                .execute(store.pool())
                .await;
            assert!(upd.is_err(), "{b}: UPDATE {t} refused");
            let del = sqlx::query(&format!("DELETE FROM {t}"))
                .execute(store.pool())
                .await;
            assert!(del.is_err(), "{b}: DELETE {t} refused");
        }
        // Every write audited; the refused shipments wrote nothing.
        let log = audit::entries(&store, None, 0, 10_000).await.unwrap();
        let n = |a: &str| log.iter().filter(|e| e.action == a).count();
        assert_eq!(n("licence.register"), 3, "{b}");
        assert_eq!(n("licence.shipment"), 5, "{b}");
        assert_eq!(n("licence.event"), 2, "{b}");
        assert!(audit::verify(&store).await.unwrap().ok(), "{b}");
    }
}
