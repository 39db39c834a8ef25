//! The re-identification attacks on country aggregates, run through the API on every backend:
//! differencing two answers around a new firm (or a changed figure), spelling variants of one
//! firm counted as several, and one dominant firm. Each must fail.

mod common;
use common::*;
use serde_json::{json, Value};

async fn publish(env: &Env, t: &Tenant, provider: &str, value: f64, period: &str) {
    let mut body = record_body("N20", provider, value, "community");
    body["period"] = json!(period);
    let (st, v) = call(
        &env.app,
        "POST",
        "/api/v1/records",
        Some(&t.analyst),
        Some(body),
    )
    .await;
    assert_eq!(st, 201, "{v}");
}

async fn grant(env: &Env, from: &Tenant, to: &Tenant, extra: Value) {
    let mut body = json!({"grantee_org_id": to.org.id, "items": ["N20"], "metrics": ["capacity"],
        "fields": [], "granularity": "country", "min_firms": 3});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    let (st, v) = call(
        &env.app,
        "POST",
        "/api/v1/agreements",
        Some(&from.admin),
        Some(body),
    )
    .await;
    assert_eq!(st, 201, "{v}");
}

/// The figures released for `period`: (sum, firms, current).
async fn figures(env: &Env, t: &Tenant, period: &str) -> Vec<(f64, u64, bool)> {
    let (st, v) = call(
        &env.app,
        "GET",
        "/api/v1/aggregates?item=N20",
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!(st, 200, "{v}");
    v["aggregates"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["period"] == period)
        .map(|a| {
            (
                a["value_sum"].as_f64().unwrap(),
                a["firms"].as_u64().unwrap(),
                // Absent before figures could be stale: then every figure was current.
                a["current"].as_bool().unwrap_or(true),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_new_firm_cannot_be_read_off_the_difference_of_two_answers() {
    for env in envs().await {
        let b = &env.backend;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        grant(&env, &kr, &nl, json!({})).await;
        for (firm, v) in [("Firm A", 100.0), ("Firm B", 200.0), ("Firm C", 150.0)] {
            publish(&env, &kr, firm, v, "2024-Q1").await;
        }
        let first = figures(&env, &nl, "2024-Q1").await;
        assert_eq!(first, vec![(450.0, 3, true)], "{b}");

        // One firm joins: the answer does not move, so the difference reveals nothing.
        publish(&env, &kr, "Firm D", 70.0, "2024-Q1").await;
        let second = figures(&env, &nl, "2024-Q1").await;
        assert_eq!(
            second,
            vec![(450.0, 3, false)],
            "{b}: D's 70 must not be the difference"
        );

        // A known firm changes its figure (a second record of the same firm): still no move.
        publish(&env, &kr, "FIRM A Inc.", 1.0, "2024-Q1").await;
        assert_eq!(
            figures(&env, &nl, "2024-Q1").await,
            vec![(450.0, 3, false)],
            "{b}"
        );

        // Two more firms: now three firms differ from the earlier release (D, E and the changed
        // A), so a new figure is released; its difference is a sum over three firms.
        publish(&env, &kr, "Firm E", 30.0, "2024-Q1").await;
        let third = figures(&env, &nl, "2024-Q1").await;
        assert_eq!(third, vec![(551.0, 5, true)], "{b}");
    }
}

#[tokio::test]
async fn spelling_variants_of_one_firm_count_once() {
    for env in envs().await {
        let b = &env.backend;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        grant(&env, &kr, &nl, json!({})).await;
        for (firm, v) in [
            ("SK hynix", 100.0),
            ("SK Hynix Inc.", 100.0),
            ("SK-HYNIX", 100.0),
            ("Samsung", 150.0),
        ] {
            publish(&env, &kr, firm, v, "2024-Q2").await;
        }
        assert_eq!(
            figures(&env, &nl, "2024-Q2").await,
            vec![],
            "{b}: two firms, not four"
        );
        publish(&env, &kr, "DB HiTek Co., Ltd.", 120.0, "2024-Q2").await;
        assert_eq!(
            figures(&env, &nl, "2024-Q2").await,
            vec![(570.0, 3, true)],
            "{b}"
        );
    }
}

#[tokio::test]
async fn a_dominant_firm_suppresses_the_group_unless_agreed() {
    for env in envs().await {
        let b = &env.backend;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        let other = tenant(&env.store, "Other").await;
        grant(&env, &kr, &nl, json!({})).await;
        for (firm, v) in [("Big", 1000.0), ("Small 1", 10.0), ("Small 2", 10.0)] {
            publish(&env, &kr, firm, v, "2024-Q3").await;
        }
        assert_eq!(
            figures(&env, &nl, "2024-Q3").await,
            vec![],
            "{b}: Big is 98% of the total"
        );
        grant(&env, &kr, &other, json!({"max_firm_share": 1.0})).await;
        assert_eq!(
            figures(&env, &other, "2024-Q3").await,
            vec![(1020.0, 3, true)],
            "{b}"
        );
        let (st, v) = call(
            &env.app,
            "POST",
            "/api/v1/agreements",
            Some(&kr.admin),
            Some(
                json!({"grantee_org_id": nl.org.id, "items": ["*"], "metrics": ["*"], "fields": [],
                        "granularity": "country", "max_firm_share": 1.5}),
            ),
        )
        .await;
        assert_eq!(error_code(st, &v), "validation_failed", "{b}: {v}");
    }
}
