//! Determination records through the API, on every backend: a licence check kept for a case
//! with its inputs, verdict, rule-set version and override; roles; bad input; search; CSV
//! export; per-organisation visibility; append-only in the database; the audit entry.

mod common;
use axum::body::Body;
use axum::http::Request;
use common::*;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

#[tokio::test]
async fn records_are_kept_searched_exported_and_never_rewritten() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        let shipment = json!({"product": "NXT:2000i", "from": "NLD", "to": "CHN", "date": "2026-06-01",
                              "end_user": "Example Foundry Co"});
        let path = "/api/v1/licence/records";
        let (st, v) = call(
            app,
            "POST",
            path,
            Some(&kr.viewer),
            Some(json!({"case": "K-1", "shipment": shipment})),
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        for (body, code) in [
            (
                json!({"case": "", "shipment": shipment}),
                "validation_failed",
            ),
            (
                json!({"case": "K-1", "shipment": {"product": "NXT:2000i", "from": "NDL", "to": "CHN"}}),
                "validation_failed",
            ),
            (
                json!({"case": "K-1", "shipment": {"product": "NXT:2000i", "from": "NLD", "to": "CHN", "colour": "red"}}),
                "unknown_field",
            ),
            (
                json!({"case": "K-1", "shipment": shipment, "override_outcome": "not_required"}),
                "validation_failed",
            ),
            (
                json!({"case": "K-1", "shipment": shipment, "override_outcome": "maybe", "override_reason": "x"}),
                "validation_failed",
            ),
        ] {
            let (st, v) = call(app, "POST", path, Some(&kr.analyst), Some(body.clone())).await;
            assert_eq!(error_code(st, &v), code, "{b}: {body} -> {v}");
        }
        let (st, r1) = call(
            app,
            "POST",
            path,
            Some(&kr.analyst),
            Some(json!({"case": "K-2026-0001", "shipment": shipment})),
        )
        .await;
        assert_eq!(st, 201, "{b}: {r1}");
        assert_eq!(r1["outcome"], "licence_required", "{b}: {r1}");
        assert_eq!(r1["ruleset"].as_str().unwrap().len(), 64);
        assert_eq!(r1["inputs"], shipment);
        assert_eq!(
            r1["determination"]["overall"]["outcome"],
            "licence_required"
        );
        let (st, r2) = call(app, "POST", path, Some(&kr.analyst), Some(json!({"case": "K-2026-0002",
            "shipment": {"product": "NXT:2000i", "from": "NLD", "to": "DEU", "date": "2026-06-01"},
            "override_outcome": "licence_required", "override_reason": "end user under review, \"catch-all\""}))).await;
        assert_eq!(st, 201, "{b}: {r2}");

        // Search by text and outcome; another organisation sees nothing.
        let (_, all) = call(app, "GET", path, Some(&kr.viewer), None).await;
        assert_eq!(all["records"].as_array().unwrap().len(), 2, "{b}");
        let (_, hit) = call(
            app,
            "GET",
            &format!("{path}?q=example%20foundry"),
            Some(&kr.viewer),
            None,
        )
        .await;
        assert_eq!(hit["records"].as_array().unwrap().len(), 1, "{b}: {hit}");
        let (_, hit) = call(
            app,
            "GET",
            &format!("{path}?outcome=licence_required"),
            Some(&kr.viewer),
            None,
        )
        .await;
        assert_eq!(
            hit["records"].as_array().unwrap().len(),
            2,
            "{b}: the override counts"
        );
        let (_, none) = call(app, "GET", path, Some(&nl.admin), None).await;
        assert!(none["records"].as_array().unwrap().is_empty(), "{b}");
        for bad in [
            "?outcome=maybe",
            "?format=xml",
            "?from=2026-13-01",
            "?limit=0",
        ] {
            let (st, v) = call(app, "GET", &format!("{path}{bad}"), Some(&kr.viewer), None).await;
            assert_eq!(st, 400, "{b}: {bad} {v}");
        }

        // CSV for an auditor: a header, one row per record, quoted fields where needed.
        let req = Request::builder()
            .uri(format!("{path}?format=csv"))
            .header("authorization", format!("Bearer {}", kr.viewer))
            .body(Body::empty())
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert!(resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = String::from_utf8(
            resp.into_body()
                .collect()
                .await
                .unwrap()
                .to_bytes()
                .to_vec(),
        )
        .unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 3, "{b}: {csv}");
        assert!(lines[0].starts_with("id,time_utc,user,case,outcome"));
        assert!(
            csv.contains("\"end user under review, \"\"catch-all\"\"\""),
            "{b}: {csv}"
        );

        // Append-only in the database itself.
        let upd = chipwatch_store::sqlx::query(
            "UPDATE determination_records SET outcome = 'not_required'",
        )
        .execute(env.store.pool())
        .await;
        assert!(
            upd.is_err(),
            "{b}: the database refuses to rewrite a record"
        );
        let del = chipwatch_store::sqlx::query("DELETE FROM determination_records")
            .execute(env.store.pool())
            .await;
        assert!(del.is_err(), "{b}: nor to delete one");

        let (_, audit) = call(
            app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&kr.admin),
            None,
        )
        .await;
        assert!(audit.to_string().contains("determination.record"), "{b}");
    }
}
