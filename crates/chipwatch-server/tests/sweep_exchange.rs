//! The security sweep extended to the partner-exchange paths that carry data out of a tenant
//! other than the id routes: the federation outbox (every peer, every role), the federation
//! inbox (hostile batches), aggregate contents and partial-field leaks in shared records. A
//! marker is planted in every field an agreement does not release; it must never appear.

mod common;
use chipwatch_store::partner::OrgKind;
use common::*;
use serde_json::{json, Value};

const MARKER: &str = "QQ-HIDDEN-5519";
/// Fields always shown with a shared record (docs/partner-exchange.md).
const ALWAYS: &[&str] = &[
    "id",
    "uid",
    "owner_org_id",
    "item",
    "metric",
    "tlp",
    "distribution",
    "created_at",
];

/// Records of `owner`: every distribution level and TLP:RED, each with the marker in every
/// optional text field and a distinctive value.
async fn plant(env: &Env, owner: &Tenant) -> Vec<(String, String, i64)> {
    let mut out = Vec::new();
    for (dist, tlp) in [
        ("organisation_only", "amber"),
        ("community", "amber"),
        ("connected_communities", "green"),
        ("all", "clear"),
        ("all", "red"),
    ] {
        let body = json!({"item": "N20", "provider": format!("{MARKER} provider"),
            "site": format!("{MARKER} site"), "country": "KOR", "metric": "capacity",
            "value": 55_519.0, "unit": format!("{MARKER} unit"), "period": format!("{MARKER} period"),
            "provenance": format!("{MARKER} provenance"), "tlp": tlp, "distribution": dist});
        let (st, v) = call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&owner.analyst),
            Some(body),
        )
        .await;
        assert_eq!(st, 201, "{v}");
        out.push((dist.to_string(), tlp.to_string(), v["id"].as_i64().unwrap()));
    }
    out
}

/// No key outside `ALWAYS` + `fields`, and the marker only inside released fields.
fn check_fields(b: &str, where_: &str, rec: &Value, fields: &[&str]) {
    for (k, v) in rec.as_object().unwrap() {
        let released = ALWAYS.contains(&k.as_str()) || fields.contains(&k.as_str());
        if !released && !v.is_null() {
            assert!(
                k == "origin" || k == "sharing_group_id",
                "{b}: {where_}: field `{k}` not agreed but present: {rec}"
            );
        }
        if !fields.contains(&k.as_str()) {
            assert!(
                !v.to_string().contains(MARKER),
                "{b}: {where_}: `{k}` leaks: {rec}"
            );
        }
    }
}

#[tokio::test]
async fn federation_outbox_sweep() {
    for env in envs().await {
        let b = &env.backend;
        let owner = tenant(&env.store, "Owner").await;
        let agreed = tenant_kind(&env.store, "Peer agreed", OrgKind::Peer).await;
        let stranger = tenant_kind(&env.store, "Peer stranger", OrgKind::Peer).await;
        let local = tenant(&env.store, "Local").await;
        let (st, v) = call(&env.app, "POST", "/api/v1/agreements", Some(&owner.admin),
            Some(json!({"grantee_org_id": agreed.org.id, "items": ["*"], "metrics": ["*"], "fields": ["value"]}))).await;
        assert_eq!(st, 201, "{v}");
        plant(&env, &owner).await;

        for t in agreed.tokens() {
            let (st, batch) =
                call(&env.app, "GET", "/api/v1/federation/outbox", Some(t), None).await;
            assert_eq!(st, 200, "{b}: {batch}");
            let recs = batch["records"].as_array().unwrap();
            // Only connected_communities and all (not RED) travel.
            assert_eq!(recs.len(), 2, "{b}: {batch}");
            for r in recs {
                assert_ne!(r["tlp"], "red", "{b}");
                assert!(
                    ["community", "all"].contains(&r["distribution"].as_str().unwrap()),
                    "{b}: {r}"
                );
                assert_eq!(r["value"], 55_519.0, "{b}");
                for f in ["provider", "site", "unit", "period", "provenance"] {
                    assert!(r[f].is_null(), "{b}: outbox leaks {f}: {r}");
                }
            }
            assert!(!batch.to_string().contains(MARKER), "{b}: {batch}");
        }
        for t in stranger.tokens() {
            let (st, batch) =
                call(&env.app, "GET", "/api/v1/federation/outbox", Some(t), None).await;
            assert_eq!(st, 200, "{b}");
            assert_eq!(
                batch["records"],
                json!([]),
                "{b}: no agreement, nothing: {batch}"
            );
        }
        for t in local.tokens() {
            let (st, v) = call(&env.app, "GET", "/api/v1/federation/outbox", Some(t), None).await;
            assert_eq!(error_code(st, &v), "forbidden", "{b}");
        }
    }
}

#[tokio::test]
async fn federation_inbox_sweep() {
    for env in envs().await {
        let b = &env.backend;
        let owner = tenant(&env.store, "Owner").await;
        let peer = tenant_kind(&env.store, "Peer", OrgKind::Peer).await;
        let planted = plant(&env, &owner).await;
        let (_, own) = call(
            &env.app,
            "GET",
            &format!("/api/v1/records/{}", planted[1].2),
            Some(&owner.viewer),
            None,
        )
        .await;
        let victim_uid = own["uid"].as_str().unwrap().to_string();
        let rec = |uid: &str, dist: &str, tlp: &str| {
            json!({"uid": uid, "item": "N20", "metric": "capacity",
            "tlp": tlp, "distribution": dist, "provider": null, "site": null, "country": null,
            "value": 1.0, "unit": null, "period": null, "provenance": null, "origin": "evil/x"})
        };
        let push = |records: Vec<Value>, token: String| {
            let app = env.app.clone();
            async move {
                call(
                    &app,
                    "POST",
                    "/api/v1/federation/inbox",
                    Some(&token),
                    Some(json!({"instance": "evil", "records": records})),
                )
                .await
            }
        };
        let before = env
            .store
            .records_of_orgs(&[owner.org.id], None, None)
            .await
            .unwrap();
        // Levels that never travel, and TLP:RED, are refused whole.
        for (dist, tlp) in [
            ("organisation_only", "amber"),
            ("sharing_group", "amber"),
            ("all", "red"),
        ] {
            let (st, v) = push(vec![rec("u-new", dist, tlp)], peer.analyst.clone()).await;
            assert_eq!(error_code(st, &v), "validation_failed", "{b}: {dist}/{tlp}");
        }
        // A viewer of the peer may not push; a local tenant may not push.
        let (st, _) = push(vec![rec("u-new", "all", "clear")], peer.viewer.clone()).await;
        assert_eq!(st, 403, "{b}");
        let (st, _) = push(vec![rec("u-new", "all", "clear")], owner.analyst.clone()).await;
        assert_eq!(st, 403, "{b}");
        // Overwriting a local record by its uid is skipped.
        let (st, v) = push(vec![rec(&victim_uid, "all", "clear")], peer.analyst.clone()).await;
        assert_eq!(
            (st.as_u16(), v["skipped"].as_u64()),
            (200, Some(1)),
            "{b}: {v}"
        );
        assert_eq!(
            env.store
                .records_of_orgs(&[owner.org.id], None, None)
                .await
                .unwrap(),
            before,
            "{b}"
        );
        assert!(
            env.store
                .records_of_orgs(&[peer.org.id], None, None)
                .await
                .unwrap()
                .is_empty(),
            "{b}"
        );
    }
}

#[tokio::test]
async fn shared_records_and_aggregates_leak_no_unagreed_field() {
    for env in envs().await {
        let b = &env.backend;
        let owner = tenant(&env.store, "Owner").await;
        let partner = tenant(&env.store, "Partner").await;
        let bystander = tenant(&env.store, "Bystander").await;
        for (fields, granularity) in [
            (json!(["value", "country"]), "firm"),
            (json!([]), "country"),
        ] {
            let (st, v) = call(
                &env.app,
                "POST",
                "/api/v1/agreements",
                Some(&owner.admin),
                Some(
                    json!({"grantee_org_id": partner.org.id, "items": ["*"], "metrics": ["*"],
                            "fields": fields, "granularity": granularity}),
                ),
            )
            .await;
            assert_eq!(st, 201, "{b}: {v}");
        }
        plant(&env, &owner).await;
        // Three more firms so a country figure exists (it must still carry no firm names).
        for f in ["Alpha", "Beta", "Gamma"] {
            let mut body = record_body("N20", &format!("{MARKER} {f}"), 10.0, "community");
            body["period"] = json!("2025-Q1");
            call(
                &env.app,
                "POST",
                "/api/v1/records",
                Some(&owner.analyst),
                Some(body),
            )
            .await;
        }
        for t in partner.tokens() {
            let (_, v) = call(
                &env.app,
                "GET",
                "/api/v1/records?scope=shared",
                Some(t),
                None,
            )
            .await;
            let recs = v["records"].as_array().unwrap();
            assert!(!recs.is_empty(), "{b}");
            for r in recs {
                assert_ne!(r["distribution"], "organisation_only", "{b}: {r}");
                check_fields(b, "records", r, &["value", "country"]);
                let (_, one) = call(
                    &env.app,
                    "GET",
                    &format!("/api/v1/records/{}", r["id"]),
                    Some(t),
                    None,
                )
                .await;
                check_fields(b, "record", &one, &["value", "country"]);
            }
            let (_, aggs) = call(&env.app, "GET", "/api/v1/aggregates", Some(t), None).await;
            let list = aggs["aggregates"].as_array().unwrap();
            assert!(!list.is_empty(), "{b}: {aggs}");
            assert!(
                !aggs.to_string().contains(MARKER),
                "{b}: aggregates leak a firm: {aggs}"
            );
            for a in list {
                assert!(a["firms"].as_u64().unwrap() >= 3, "{b}: {a}");
                assert!(
                    a.get("provider").is_none() && a.get("site").is_none(),
                    "{b}: {a}"
                );
            }
        }
        for t in bystander.tokens() {
            for p in ["/api/v1/records?scope=shared", "/api/v1/aggregates"] {
                let (_, v) = call(&env.app, "GET", p, Some(t), None).await;
                assert!(
                    !v.to_string().contains(MARKER) && !v.to_string().contains("55519"),
                    "{b}: {p}: {v}"
                );
            }
        }
    }
}
