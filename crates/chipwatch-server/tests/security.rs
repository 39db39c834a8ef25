//! Security sweeps generated from the route table (not hand-picked endpoints):
//! - cross-tenant: every route whose path id names a tenant object, called with every role of
//!   another organisation, answers 403/404, leaks no marker of the owner's data and changes
//!   nothing;
//! - bad input: every route, with bad path ids, invalid UTF-8, huge bodies, wrong types and
//!   unknown fields, answers 4xx with a code from the public error table;
//! - OpenAPI: the served document lists exactly the routes of the table and matches
//!   docs/openapi.json.
//!
//! (Log hygiene is in tests/logs.rs: it needs a process of its own for its log subscriber.)

mod common;
use axum::body::Body;
use axum::http::Request;
use chipwatch_server::{route_table, IdKind};
use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

const MARKER: &str = "ZZ-SECRET-MARKER-7731";

struct Owned {
    ids: BTreeMap<&'static str, i64>,
}

/// One object of every tenant-scoped kind, owned by `a` (some shared with `c`, never with `b`).
async fn seed(env: &Env, a: &Tenant, c: &Tenant) -> Owned {
    let app = &env.app;
    let mut ids = BTreeMap::new();
    let (_, r) = call(
        app,
        "POST",
        "/api/v1/records",
        Some(&a.analyst),
        Some(record_body("N20", MARKER, 42.0, "all")),
    )
    .await;
    ids.insert("records", r["id"].as_i64().unwrap());
    let (_, ag) = call(app, "POST", "/api/v1/agreements", Some(&a.admin), Some(json!({"grantee_org_id": c.org.id, "items": ["*"], "metrics": ["*"], "fields": ["provider", "value"]}))).await;
    ids.insert("agreements", ag["id"].as_i64().unwrap());
    let (_, rq) = call(app, "POST", "/api/v1/requests", Some(&a.analyst), Some(json!({"addressee_org_id": c.org.id, "legal_basis": MARKER, "purpose": MARKER, "scope_items": ["N20"], "scope_metrics": ["capacity"], "deadline": "2099-01-01"}))).await;
    ids.insert("requests", rq["id"].as_i64().unwrap());
    let (st, sc) = call(
        app,
        "POST",
        "/api/v1/scenarios",
        Some(&a.analyst),
        Some(json!({"name": MARKER, "horizon_days": 30})),
    )
    .await;
    assert_eq!(st, 201, "{sc}");
    ids.insert("scenarios", sc["id"].as_i64().unwrap());
    let (st, li) = call(
        app,
        "POST",
        "/api/v1/licences",
        Some(&a.analyst),
        Some(licence_body("NL-SWEEP-1", MARKER)),
    )
    .await;
    assert_eq!(st, 201, "{li}");
    ids.insert("licences", li["id"].as_i64().unwrap());
    let config = format!("[[watch]]\nname = \"{MARKER}\"\nitems = [\"N20\"]\n");
    let (st, wl) = call(
        app,
        "POST",
        "/api/v1/monitor/watchlists",
        Some(&a.analyst),
        Some(json!({"name": MARKER, "config": config})),
    )
    .await;
    assert_eq!(st, 201, "{wl}");
    ids.insert("monitor", wl["id"].as_i64().unwrap());
    let (_, toks) = call(app, "GET", "/api/v1/tokens", Some(&a.admin), None).await;
    ids.insert("tokens", toks["tokens"][0]["id"].as_i64().unwrap());
    ids.insert("orgs", a.org.id);
    // A denial notice, community-wide but released to no one (no agreement lists it).
    let (st, dn) = call(
        app,
        "POST",
        "/api/v1/licences/denials",
        Some(&a.analyst),
        Some(json!({
        "reference": MARKER, "authority": "BAFA", "jurisdiction": "DEU", "denied_on": "2025-03-14",
        "item": {"description": MARKER, "control_entry": "3B001.f"}, "destination": "CHN",
        "end_user": MARKER, "reason_category": "other", "reason": MARKER,
        "distribution": "community"})),
    )
    .await;
    assert_eq!(st, 201, "{dn}");
    ids.insert("licences/denials", dn["id"].as_i64().unwrap());
    Owned { ids }
}

/// A valid body for routes that need one, so the sweep reaches the object check.
fn sample_body(method: &str, path: &str, own_record: i64) -> Option<Value> {
    match (method, path) {
        ("POST", "/api/v1/requests/{id}/respond") => Some(json!({"record_ids": [own_record]})),
        ("POST", "/api/v1/orgs/{id}/users") => Some(json!({"name": "intruder", "role": "admin"})),
        ("PUT", "/api/v1/records/{id}") => Some(record_body("N20", "Overwritten", 9.0, "all")),
        ("POST", "/api/v1/licences/denials/{id}/withdrawal") => {
            Some(json!({"withdrawn_on": "2025-09-01", "reason": "intruder"}))
        }
        ("POST", p)
            if p.ends_with("/revoke")
                || p.ends_with("/run")
                || p.ends_with("/decline")
                || p.ends_with("/withdraw") =>
        {
            None
        }
        ("POST", "/api/v1/licences/{id}/shipments") => Some(json!({"reference": "X-1",
            "date": "2023-09-01", "item": "1", "quantity": 1, "value": 1, "destination": "CHN",
            "consignee": "Gamma Semiconductor Co., Ltd."})),
        ("POST", "/api/v1/licences/{id}/events" | "/api/v1/licences/{id}/impact") => {
            Some(json!({"date": "2024-01-01", "kind": "full_revocation", "reason": "intruder"}))
        }
        ("GET", _) | ("DELETE", _) => None,
        _ => panic!("cross-tenant sweep: add a sample body for {method} {path}"),
    }
}

#[tokio::test]
async fn cross_tenant_sweep() {
    for env in envs().await {
        let a = tenant(&env.store, "Owner").await;
        let b = tenant(&env.store, "Intruder").await;
        let c = tenant(&env.store, "Partner").await;
        let owned = seed(&env, &a, &c).await;
        let (_, brec) = call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&b.analyst),
            Some(record_body("N20", "B firm", 1.0, "community")),
        )
        .await;
        let before = env
            .store
            .records_of_orgs(&[a.org.id], None, None)
            .await
            .unwrap();
        let mut checked = 0;
        for route in route_table().into_iter().filter(|r| r.id == IdKind::Tenant) {
            let rest = route.path.trim_start_matches("/api/v1/");
            let kind = rest.split('/').next().unwrap();
            // Objects under a static second segment (`licences/denials/{id}`) have their own
            // seeded object.
            let sub = rest.split('/').take(2).collect::<Vec<_>>().join("/");
            let id = *owned
                .ids
                .get(sub.as_str())
                .or_else(|| owned.ids.get(kind))
                .unwrap_or_else(|| panic!("sweep: no seeded object for {}", route.path));
            let path = route.path.replace("{id}", &id.to_string());
            for token in b.tokens() {
                let body = sample_body(
                    route.method.as_str(),
                    route.path,
                    brec["id"].as_i64().unwrap(),
                );
                let (st, v) = call(&env.app, route.method.as_str(), &path, Some(token), body).await;
                assert!(
                    st == 403 || st == 404,
                    "{} {} {path} as other org: {st} {v}",
                    env.backend,
                    route.method
                );
                error_code(st, &v);
                assert!(
                    !v.to_string().contains(MARKER),
                    "{}: leak via {path}: {v}",
                    env.backend
                );
                checked += 1;
            }
        }
        assert!(checked >= 3 * 15, "sweep covered only {checked} calls");
        // Nothing changed for the owner.
        assert_eq!(
            env.store
                .records_of_orgs(&[a.org.id], None, None)
                .await
                .unwrap(),
            before
        );
        let ag = env
            .store
            .agreement(owned.ids["agreements"])
            .await
            .unwrap()
            .unwrap();
        assert!(ag.revoked_at.is_none());
        let rq = env
            .store
            .request(owned.ids["requests"])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(rq.status, chipwatch_store::partner::RequestStatus::Open);
        let lic = env
            .store
            .licence(a.org.id, owned.ids["licences"])
            .await
            .unwrap();
        assert!(lic.events.is_empty() && lic.shipments.is_empty());
        let (st, _) = call(&env.app, "GET", "/api/v1/me", Some(&a.admin), None).await;
        assert_eq!(st, 200, "owner's admin token still valid");
        assert_eq!(env.store.users_of(a.org.id).await.unwrap().len(), 3);
        // And the lists of the intruder show none of it.
        for p in [
            "/api/v1/records",
            "/api/v1/agreements",
            "/api/v1/requests",
            "/api/v1/scenarios",
            "/api/v1/aggregates",
            "/api/v1/monitor/watchlists",
            "/api/v1/licences",
            "/api/v1/licences/denials?include_withdrawn=true",
        ] {
            let (_, v) = call(&env.app, "GET", p, Some(&b.admin), None).await;
            assert!(
                !v.to_string().contains(MARKER),
                "{}: {p} leaks: {v}",
                env.backend
            );
        }
    }
}

fn body_routes() -> BTreeSet<(String, String)> {
    let doc = serde_json::to_value(chipwatch_server::openapi()).unwrap();
    let mut out = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            if op.get("requestBody").is_some() {
                out.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    out
}

async fn raw(
    app: &axum::Router,
    method: &str,
    path: &str,
    token: &str,
    body: Vec<u8>,
) -> (axum::http::StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    send(app, req).await
}

#[tokio::test]
async fn bad_input_on_every_endpoint() {
    let env = envs().await.remove(0);
    let a = tenant(&env.store, "A").await;
    // The federation inbox and outbox admit peers only: probe them with a peer's token.
    let peer = tenant_kind(&env.store, "Peer", chipwatch_store::partner::OrgKind::Peer).await;
    let with_body = body_routes();
    assert!(with_body.len() >= 8, "{with_body:?}");
    let huge = vec![b' '; 2 << 20];
    let mut cases = 0;
    for route in route_table() {
        let m = route.method.as_str();
        let concrete = route.path.replace("{id}", "1").replace("{name}", "nope");
        let mut probes: Vec<(String, Vec<u8>, &str)> = Vec::new();
        if route.path.contains("{id}") {
            probes.push((
                route.path.replace("{id}", "not-a-number"),
                vec![],
                "wrong id type",
            ));
            probes.push((
                route.path.replace("{id}", "%FF%FE"),
                vec![],
                "invalid UTF-8 in path",
            ));
        }
        if m == "GET" && !route.path.contains('{') {
            probes.push((
                format!("{concrete}?threshold=abc&limit=x&after=y&scope=zz&min_share=q"),
                vec![],
                "wrong query types",
            ));
        }
        if with_body.contains(&(m.to_string(), route.path.to_string())) {
            probes.push((
                concrete.clone(),
                b"{\"name\": \"\xff\xfe\"}".to_vec(),
                "invalid UTF-8 body",
            ));
            probes.push((concrete.clone(), b"{not json".to_vec(), "syntax"));
            probes.push((concrete.clone(), b"[1, 2, 3]".to_vec(), "wrong type"));
            probes.push((
                concrete.clone(),
                b"{\"name\": 5, \"items\": \"x\", \"value\": \"high\", \"user_id\": \"me\"}"
                    .to_vec(),
                "wrong field types",
            ));
            probes.push((
                concrete.clone(),
                b"{\"zz_unknown\": 1}".to_vec(),
                "unknown field",
            ));
            probes.push((concrete.clone(), huge.clone(), "huge body"));
        }
        let token = if route.path.starts_with("/api/v1/federation/") && !route.path.contains('{') {
            &peer.analyst
        } else {
            &a.admin
        };
        for (path, body, what) in probes {
            let (st, v) = raw(&env.app, m, &path, token, body).await;
            let is_public_or_instance = matches!(route.id, IdKind::Public | IdKind::Instance);
            if what.contains("query") && st.is_success() {
                continue; // routes without query parameters ignore a query string
            }
            assert!(
                st.is_client_error(),
                "{m} {} ({what}): {st} {v}",
                route.path
            );
            let code = error_code(st, &v);
            if what == "huge body" {
                assert_eq!(code, "payload_too_large", "{m} {}", route.path);
            }
            if what == "unknown field" {
                assert!(
                    code == "unknown_field" || code == "invalid_json",
                    "{m} {}: {code}",
                    route.path
                );
            }
            if what == "wrong id type" && !is_public_or_instance {
                assert_eq!(code, "invalid_parameter", "{m} {}", route.path);
            }
            cases += 1;
        }
    }
    assert!(cases > 60, "{cases}");
    // Unauthenticated calls on every protected route: 401 with the table code.
    for route in route_table().into_iter().filter(|r| r.auth) {
        let path = route.path.replace("{id}", "1").replace("{name}", "x");
        let (st, v) = call(&env.app, route.method.as_str(), &path, None, None).await;
        assert_eq!(
            error_code(st, &v),
            "unauthenticated",
            "{} {}",
            route.method,
            route.path
        );
        // A fresh unknown token each time: one token tried again and again would meet the
        // per-token failure limit (tests/abuse.rs) and answer 429 instead.
        let (st, v) = call(
            &env.app,
            route.method.as_str(),
            &path,
            Some(&chipwatch_server::auth::new_token_secret()),
            None,
        )
        .await;
        assert_eq!(
            error_code(st, &v),
            "unauthenticated",
            "{} {}",
            route.method,
            route.path
        );
    }
    let (st, v) = call(
        &env.app,
        "GET",
        "/api/v1/no-such-route",
        Some(&a.admin),
        None,
    )
    .await;
    assert_eq!(error_code(st, &v), "not_found");
    let (st, v) = call(&env.app, "PUT", "/api/v1/records", Some(&a.admin), None).await;
    assert_eq!(error_code(st, &v), "method_not_allowed");
    let req = Request::builder()
        .method("POST")
        .uri("/api/v1/records")
        .header("authorization", format!("Bearer {}", a.admin))
        .body(Body::from("{}"))
        .unwrap();
    let (st, v) = send(&env.app, req).await;
    assert_eq!(error_code(st, &v), "unsupported_media_type");
}

#[tokio::test]
async fn openapi_matches_route_table_and_checked_in_document() {
    let doc = serde_json::to_value(chipwatch_server::openapi()).unwrap();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let routed: BTreeSet<(String, String)> = route_table()
        .iter()
        .map(|r| (r.method.to_string(), r.path.to_string()))
        .collect();
    assert_eq!(
        documented, routed,
        "OpenAPI paths and the route table differ"
    );

    let pretty = serde_json::to_string_pretty(&doc).unwrap() + "\n";
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json");
    if std::env::var("UPDATE_OPENAPI").is_ok() {
        std::fs::write(&file, &pretty).unwrap();
    }
    let checked_in = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(checked_in == pretty, "docs/openapi.json is stale: run `UPDATE_OPENAPI=1 cargo test -p chipwatch-server --test security openapi`");

    let env = envs().await.remove(0);
    let (st, served) = call(&env.app, "GET", "/api/v1/openapi.json", None, None).await;
    assert_eq!(st, 200);
    assert_eq!(served, doc);
}

#[test]
fn error_table_is_documented() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api.md")).unwrap();
    for c in chipwatch_server::error::ERROR_CODES {
        let row = format!("| `{}` | {} | {} |", c.code, c.status, c.description);
        assert!(doc.contains(&row), "docs/api.md lacks the row {row}");
    }
    let mut seen = BTreeSet::new();
    assert!(
        chipwatch_server::error::ERROR_CODES
            .iter()
            .all(|c| seen.insert(c.code)),
        "duplicate code"
    );
}
