//! End-to-end partner exchange through the router, on every backend: field masking, revocation
//! taking effect at once, country aggregates with a minimum number of firms, information
//! requests, roles, and the audit trail of it all.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn records_agreements_aggregates_requests_and_audit() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        let other = tenant(&env.store, "Bystander").await;

        // Viewers cannot write; analysts can.
        let (st, body) = call(
            app,
            "POST",
            "/api/v1/records",
            Some(&kr.viewer),
            Some(record_body("N20", "SK hynix", 1.0, "community")),
        )
        .await;
        assert_eq!(error_code(st, &body), "forbidden", "{b}");
        let mut ids = Vec::new();
        for (firm, v) in [("SK hynix", 100.0), ("Samsung", 200.0), ("DB HiTek", 50.0)] {
            let (st, body) = call(
                app,
                "POST",
                "/api/v1/records",
                Some(&kr.analyst),
                Some(record_body("N20", firm, v, "community")),
            )
            .await;
            assert_eq!(st, 201, "{b}: {body}");
            ids.push(body["id"].as_i64().unwrap());
        }
        let (_, body) = call(
            app,
            "POST",
            "/api/v1/records",
            Some(&kr.analyst),
            Some(record_body("N20", "Secret Corp", 7.0, "organisation_only")),
        )
        .await;
        let private_id = body["id"].as_i64().unwrap();

        // Nothing shared yet.
        let (st, body) = call(app, "GET", "/api/v1/records", Some(&nl.viewer), None).await;
        assert_eq!(st, 200);
        assert_eq!(body["records"].as_array().unwrap().len(), 0, "{b}");

        // Firm-level agreement: value and unit only; the provider stays hidden.
        let (st, ag) = call(app, "POST", "/api/v1/agreements", Some(&kr.admin), Some(json!({
            "grantee_org_id": nl.org.id, "items": ["N20"], "metrics": ["capacity"], "fields": ["value", "unit"]
        }))).await;
        assert_eq!(st, 201, "{b}: {ag}");
        let (st, body) = call(
            app,
            "POST",
            "/api/v1/agreements",
            Some(&kr.analyst),
            Some(json!({
                "grantee_org_id": nl.org.id, "items": ["*"], "metrics": ["*"], "fields": []
            })),
        )
        .await;
        assert_eq!(
            error_code(st, &body),
            "forbidden",
            "{b}: analysts cannot grant"
        );

        let (_, body) = call(app, "GET", "/api/v1/records", Some(&nl.viewer), None).await;
        let recs = body["records"].as_array().unwrap();
        assert_eq!(recs.len(), 3, "{b}: organisation_only never shared: {body}");
        for r in recs {
            assert!(
                r.get("provider").is_none() && r.get("site").is_none(),
                "{b}: {r}"
            );
            assert!(r["value"].is_number() && r["unit"] == "wafers/month");
        }
        let (st, _) = call(
            app,
            "GET",
            &format!("/api/v1/records/{private_id}"),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(st, 404, "{b}");
        let (st, _) = call(
            app,
            "GET",
            &format!("/api/v1/records/{}", ids[0]),
            Some(&other.admin),
            None,
        )
        .await;
        assert_eq!(st, 404, "{b}: bystander");

        // Revocation takes effect at once.
        let ag_id = ag["id"].as_i64().unwrap();
        let (st, _) = call(
            app,
            "POST",
            &format!("/api/v1/agreements/{ag_id}/revoke"),
            Some(&nl.admin),
            None,
        )
        .await;
        assert_eq!(st, 404, "{b}: only the grantor revokes");
        let (st, _) = call(
            app,
            "POST",
            &format!("/api/v1/agreements/{ag_id}/revoke"),
            Some(&kr.admin),
            None,
        )
        .await;
        assert_eq!(st, 204, "{b}");
        let (_, body) = call(app, "GET", "/api/v1/records", Some(&nl.viewer), None).await;
        assert_eq!(body["records"].as_array().unwrap().len(), 0, "{b}");
        let (st, _) = call(
            app,
            "GET",
            &format!("/api/v1/records/{}", ids[0]),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(st, 404, "{b}");

        // Country-level: with min_firms 3 the KOR sum of 3 firms shows; with 4 nothing does.
        for (min, expect) in [(4, 0usize), (3, 1)] {
            let (st, ag) = call(app, "POST", "/api/v1/agreements", Some(&kr.admin), Some(json!({
                "grantee_org_id": nl.org.id, "items": ["N20"], "metrics": ["capacity"], "fields": ["value"],
                "granularity": "country", "min_firms": min
            }))).await;
            assert_eq!(st, 201, "{b}: {ag}");
            let (_, body) = call(app, "GET", "/api/v1/aggregates", Some(&nl.analyst), None).await;
            let aggs = body["aggregates"].as_array().unwrap();
            assert_eq!(aggs.len(), expect, "{b}: min_firms {min}: {body}");
            if expect == 1 {
                assert_eq!(aggs[0]["value_sum"], 350.0);
                assert_eq!(aggs[0]["firms"], 3);
                assert_eq!(aggs[0]["country"], "KOR");
            }
            // Country agreements never release single records.
            let (_, body) = call(app, "GET", "/api/v1/records", Some(&nl.viewer), None).await;
            assert_eq!(body["records"].as_array().unwrap().len(), 0, "{b}");
            call(
                app,
                "POST",
                &format!("/api/v1/agreements/{}/revoke", ag["id"]),
                Some(&kr.admin),
                None,
            )
            .await;
        }

        // Information request NL -> KR, answered with in-scope records; confidential.
        let (st, rq) = call(app, "POST", "/api/v1/requests", Some(&nl.analyst), Some(json!({
            "addressee_org_id": kr.org.id, "legal_basis": "Regulation (EU) 2023/1781, Art. 25",
            "purpose": "crisis-stage monitoring of EUV supply", "scope_items": ["N20"],
            "scope_metrics": ["capacity"], "deadline": "2099-01-01", "confidentiality": "confidential"
        }))).await;
        assert_eq!(st, 201, "{b}: {rq}");
        let rq_id = rq["id"].as_i64().unwrap();
        let (st, _) = call(
            app,
            "GET",
            &format!("/api/v1/requests/{rq_id}"),
            Some(&other.admin),
            None,
        )
        .await;
        assert_eq!(st, 404, "{b}");
        let (st, body) = call(
            app,
            "POST",
            &format!("/api/v1/requests/{rq_id}/respond"),
            Some(&nl.analyst),
            Some(json!({"record_ids": [ids[0]]})),
        )
        .await;
        assert_eq!(
            error_code(st, &body),
            "validation_failed",
            "{b}: requester cannot respond"
        );
        let (st, body) = call(
            app,
            "POST",
            &format!("/api/v1/requests/{rq_id}/respond"),
            Some(&kr.analyst),
            Some(json!({"record_ids": [ids[0], private_id]})),
        )
        .await;
        assert_eq!(st, 200, "{b}: {body}");
        assert_eq!(body["status"], "answered");
        let (st, _) = call(
            app,
            "GET",
            &format!("/api/v1/requests/{rq_id}/records"),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(st, 403, "{b}: confidential: viewers may not read");
        let (st, body) = call(
            app,
            "GET",
            &format!("/api/v1/requests/{rq_id}/records"),
            Some(&nl.analyst),
            None,
        )
        .await;
        assert_eq!(st, 200, "{b}");
        let recs = body["records"].as_array().unwrap();
        assert_eq!(recs.len(), 2);
        assert!(
            recs.iter().any(|r| r["provider"] == "Secret Corp"),
            "{b}: under the request's terms"
        );
        // Out of scope is refused.
        let (_, other_rec) = call(app, "POST", "/api/v1/records", Some(&kr.analyst), Some(json!({
            "item": "N22", "metric": "capacity", "value": 1.0, "unit": "u", "period": "2024", "provenance": "p"
        }))).await;
        let (st, body) = call(
            app,
            "POST",
            &format!("/api/v1/requests/{rq_id}/respond"),
            Some(&kr.analyst),
            Some(json!({"record_ids": [other_rec["id"]]})),
        )
        .await;
        assert_eq!(error_code(st, &body), "validation_failed", "{b}: {body}");

        // Tokens: admin issues one, it works, revocation is immediate, cross-org revoke is 404.
        let (_, users) = call(
            app,
            "GET",
            &format!("/api/v1/orgs/{}/users", kr.org.id),
            Some(&kr.admin),
            None,
        )
        .await;
        let uid = users["users"][2]["id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{b}: {users}"));
        let (st, tok) = call(
            app,
            "POST",
            "/api/v1/tokens",
            Some(&kr.admin),
            Some(json!({"user_id": uid, "label": "ci", "expires_in_days": 1})),
        )
        .await;
        assert_eq!(st, 201, "{b}: {tok}");
        let secret = tok["token"].as_str().unwrap().to_string();
        let (st, _) = call(app, "GET", "/api/v1/me", Some(&secret), None).await;
        assert_eq!(st, 200);
        let tid = tok["info"]["id"].as_i64().unwrap();
        let (st, _) = call(
            app,
            "DELETE",
            &format!("/api/v1/tokens/{tid}"),
            Some(&nl.admin),
            None,
        )
        .await;
        assert_eq!(st, 404, "{b}");
        let (st, _) = call(
            app,
            "DELETE",
            &format!("/api/v1/tokens/{tid}"),
            Some(&kr.admin),
            None,
        )
        .await;
        assert_eq!(st, 204);
        let (st, body) = call(app, "GET", "/api/v1/me", Some(&secret), None).await;
        assert_eq!(error_code(st, &body), "unauthenticated", "{b}");
        let (_, listed) = call(app, "GET", "/api/v1/tokens", Some(&kr.admin), None).await;
        assert!(
            !listed.to_string().contains(&secret),
            "{b}: secrets are never listed"
        );

        // Audit: the releases to NL are logged; the chain verifies.
        let (_, audit) = call(
            app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&nl.admin),
            None,
        )
        .await;
        let actions: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "records.read",
            "aggregates.read",
            "request.create",
            "request.records.read",
        ] {
            assert!(actions.contains(&a), "{b}: {a} missing from {actions:?}");
        }
        // Verification is for instance admins (MOTIE was created first: the operator).
        let (st, _) = call(app, "POST", "/api/v1/audit/verify", Some(&nl.admin), None).await;
        assert_eq!(
            st, 403,
            "{b}: an admin of another organisation is not an instance admin"
        );
        let (st, _) = call(app, "GET", "/api/v1/audit/verify", Some(&kr.viewer), None).await;
        assert_eq!(st, 403);
        let v = common::verify_via_api(app, &kr.admin).await;
        assert_eq!(v["ok"], true, "{b}: {v}");
    }
}

#[tokio::test]
async fn sharing_groups_and_model_endpoints() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let a = tenant(&env.store, "A").await;
        let g = tenant(&env.store, "G").await;
        let x = tenant(&env.store, "X").await;
        let (st, grp) = call(
            app,
            "POST",
            "/api/v1/sharing-groups",
            Some(&a.admin),
            Some(json!({"name": "alliance", "members": [g.org.id]})),
        )
        .await;
        assert_eq!(st, 201, "{b}: {grp}");
        let mut body = record_body("N20", "F", 1.0, "sharing_group");
        body["sharing_group_id"] = grp["id"].clone();
        let (st, rec) = call(app, "POST", "/api/v1/records", Some(&a.analyst), Some(body)).await;
        assert_eq!(st, 201, "{b}: {rec}");
        for t in [&g, &x] {
            call(app, "POST", "/api/v1/agreements", Some(&a.admin), Some(json!({"grantee_org_id": t.org.id, "items": ["*"], "metrics": ["*"], "fields": ["value"]}))).await;
        }
        let (_, r) = call(app, "GET", "/api/v1/records", Some(&g.viewer), None).await;
        assert_eq!(
            r["records"].as_array().unwrap().len(),
            1,
            "{b}: member sees it"
        );
        let (_, r) = call(app, "GET", "/api/v1/records", Some(&x.viewer), None).await;
        assert_eq!(
            r["records"].as_array().unwrap().len(),
            0,
            "{b}: non-member does not, agreement or not"
        );

        // Model endpoints answer with provenance; unknown ids are 404; no token is 401.
        let (st, v) = call(app, "GET", "/api/v1/items/N20", Some(&x.viewer), None).await;
        assert_eq!(st, 200);
        assert_eq!(v["data"]["name"], "EUV lithography tools");
        assert!(v["provenance"]["dataset"].as_str().unwrap().contains("ETO"));
        let (st, v) = call(app, "GET", "/api/v1/chokepoints", Some(&x.viewer), None).await;
        assert_eq!(st, 200);
        assert!(v["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["item_id"] == "N20" && r["single_point_of_failure"] == true));
        let (st, v) = call(
            app,
            "GET",
            "/api/v1/chokepoints?spof_only=true&threshold=99",
            Some(&x.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert!(v["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["cr1"].as_f64().unwrap() > 99.0));
        let (st, v) = call(
            app,
            "GET",
            "/api/v1/dependence?consumer=KOR&supplier=NLD",
            Some(&x.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200);
        assert!(v["data"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["item_id"] == "N20"));
        let (st, _) = call(app, "GET", "/api/v1/items/NOPE", Some(&x.viewer), None).await;
        assert_eq!(st, 404);
        let (st, v) = call(app, "GET", "/api/v1/items", None, None).await;
        assert_eq!(error_code(st, &v), "unauthenticated");
        let (st, v) = call(app, "GET", "/healthz", None, None).await;
        assert_eq!((st.as_u16(), v["status"].as_str()), (200, Some("ok")));
        // Metrics are for admins (or the metrics-only listener, see tests/abuse.rs).
        let (st, v) = call(app, "GET", "/metrics", None, None).await;
        assert_eq!(error_code(st, &v), "unauthenticated");
        let (st, v) = call(app, "GET", "/metrics", Some(&x.admin), None).await;
        assert_eq!(st, 200);
        assert!(v.as_str().unwrap().contains("chipwatch_http_requests_total{method=\"GET\",route=\"/api/v1/items/{id}\",status=\"200\"}"), "{v}");
    }
}

/// Editing a record (`PUT /api/v1/records/{id}`): the owner's analysts replace its values under
/// the same id and uid; partners see the new values at once; the audit names the changed fields
/// (not their values); a record answering a request stays as answered (409); viewers, other
/// organisations and bad countries are refused.
#[tokio::test]
async fn records_are_edited_in_place_by_their_owner_only() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let kr = tenant(&env.store, "MOTIE").await;
        let nl = tenant(&env.store, "MinEZK").await;
        let (st, rec) = call(
            app,
            "POST",
            "/api/v1/records",
            Some(&kr.analyst),
            Some(record_body("N20", "SK hynix", 100.0, "community")),
        )
        .await;
        assert_eq!(st, 201, "{b}: {rec}");
        let id = rec["id"].as_i64().unwrap();
        let path = format!("/api/v1/records/{id}");
        let (st, ag) = call(app, "POST", "/api/v1/agreements", Some(&kr.admin), Some(json!({
            "grantee_org_id": nl.org.id, "items": ["N20"], "metrics": ["*"], "fields": ["value", "unit", "provider"]
        }))).await;
        assert_eq!(st, 201, "{b}: {ag}");

        let mut edited = record_body("N20", "SK hynix", 120.0, "community");
        edited["period"] = json!("2024-Q2");
        for (token, want) in [(&kr.viewer, 403), (&nl.analyst, 404), (&nl.admin, 404)] {
            let (st, v) = call(app, "PUT", &path, Some(token), Some(edited.clone())).await;
            assert_eq!(st.as_u16(), want, "{b}: {v}");
        }
        let mut bad = edited.clone();
        bad["country"] = json!("KRO");
        let (st, v) = call(app, "PUT", &path, Some(&kr.analyst), Some(bad)).await;
        assert_eq!(error_code(st, &v), "validation_failed", "{b}");
        assert!(v.to_string().contains("KOR"), "suggests the code: {v}");

        let (st, v) = call(app, "PUT", &path, Some(&kr.analyst), Some(edited)).await;
        assert_eq!(st, 200, "{b}: {v}");
        assert_eq!(v["id"], id);
        assert_eq!(v["uid"], rec["uid"], "{b}: same identity");
        assert_eq!(v["value"], 120.0);
        let (_, seen) = call(app, "GET", &path, Some(&nl.viewer), None).await;
        assert_eq!(
            seen["value"], 120.0,
            "{b}: the partner sees the new value: {seen}"
        );
        assert!(seen.get("period").is_none(), "{b}: still masked: {seen}");

        let (_, audit) = call(
            app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&kr.admin),
            None,
        )
        .await;
        let upd = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["action"] == "record.update")
            .unwrap_or_else(|| panic!("{b}: no record.update in {audit}"));
        // The record's uid is random hex and may contain any digits: look for the value
        // everywhere else in the entry.
        let mut d = match &upd["detail"] {
            serde_json::Value::String(t) => {
                serde_json::from_str(t).unwrap_or(serde_json::Value::String(t.clone()))
            }
            v => v.clone(),
        };
        if let Some(o) = d.as_object_mut() {
            o.remove("uid");
        }
        assert!(d.get("uid").is_none(), "{b}: {d}");
        let detail = d.to_string();
        assert!(
            detail.contains("value") && detail.contains("period") && !detail.contains("120"),
            "{b}: fields, not values: {detail}"
        );

        // Attached to an answer: kept as answered.
        let (st, req) = call(app, "POST", "/api/v1/requests", Some(&nl.analyst), Some(json!({
            "addressee_org_id": kr.org.id, "legal_basis": "Regulation (EU) 2023/1781, Art. 25(1)",
            "purpose": "capacity check", "scope_items": ["N20"], "scope_metrics": ["capacity"],
            "deadline": "2030-01-01"
        }))).await;
        assert_eq!(st, 201, "{b}: {req}");
        let rid = req["id"].as_i64().unwrap();
        let (st, v) = call(
            app,
            "POST",
            &format!("/api/v1/requests/{rid}/respond"),
            Some(&kr.analyst),
            Some(json!({"record_ids": [id]})),
        )
        .await;
        assert_eq!(st, 200, "{b}: {v}");
        let (st, v) = call(
            app,
            "PUT",
            &path,
            Some(&kr.analyst),
            Some(record_body("N20", "SK hynix", 1.0, "community")),
        )
        .await;
        assert_eq!(error_code(st, &v), "conflict", "{b}");
        let (_, still) = call(app, "GET", &path, Some(&kr.viewer), None).await;
        assert_eq!(still["value"], 120.0, "{b}");
    }
}
