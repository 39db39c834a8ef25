//! The security sweep extended to dead and foreign credentials and to partial-field leaks,
//! generated from the route table like the cross-tenant sweep in tests/security.rs:
//! - revoked and expired API tokens, dashboard sessions whose parent token was revoked or
//!   expired, idle and expired sessions, and a live session secret used as a bearer token get
//!   401 `unauthenticated` on every protected route (by header and by cookie), leak no marker of
//!   the owner's data, change nothing, and reach no dashboard page with partner data;
//! - a federation peer's token gets 403 `forbidden` on every route but the federation inbox and
//!   outbox;
//! - a partner whose agreement releases some fields of a record sees those and never the
//!   others, on every GET route of the table, on the dashboard and in the federation outbox.
//!
//! SQLite always; PostgreSQL when CHIPWATCH_TEST_PG_URL is set.

mod common;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chipwatch_server::{app, route_table, Security};
use chipwatch_store::partner::OrgKind;
use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;

const MARKER: &str = "ZZ-DEAD-CREDENTIAL-MARKER-4410";
/// Values of the fields the partner's agreement does not release.
const HIDDEN: [&str; 4] = [
    "ZZ-HIDDEN-SITE-1",
    "ZZ-HIDDEN-UNIT-2",
    "ZZ-HIDDEN-PERIOD-3",
    "ZZ-HIDDEN-PROVENANCE-4",
];
const RELEASED_PROVIDER: &str = "ZZ-RELEASED-PROVIDER-5";

/// A fresh API token of `org`'s user `user` (via the store, as `chipwatch admin` does).
async fn api_token(env: &Env, org_id: i64, user: &str, expires_at: Option<i64>) -> (String, i64) {
    let u = env
        .store
        .users_of(org_id)
        .await
        .unwrap()
        .into_iter()
        .find(|u| u.name == user)
        .unwrap();
    let secret = chipwatch_server::auth::new_token_secret();
    let t = env
        .store
        .create_token(u.id, &secret, "sweep", expires_at, "test")
        .await
        .unwrap();
    (secret, t.id)
}

#[derive(Debug)]
enum Cred {
    Bearer(String),
    Cookie(String),
}

async fn call_cred(app: &axum::Router, method: &str, path: &str, c: &Cred) -> (StatusCode, Value) {
    let b = Request::builder().method(method).uri(path);
    let b = match c {
        Cred::Bearer(t) => b.header("authorization", format!("Bearer {t}")),
        Cred::Cookie(s) => b.header("cookie", format!("chipwatch_session={s}")),
    };
    send(app, b.body(Body::empty()).unwrap()).await
}

/// Every kind of dead credential, for user `admin` of `a`.
async fn dead_credentials(env: &Env, a: &Tenant) -> BTreeMap<&'static str, Cred> {
    let now = chipwatch_store::time::now();
    let mut out = BTreeMap::new();
    let (revoked, id) = api_token(env, a.org.id, "admin", None).await;
    env.store.revoke_token(a.org.id, id, "test").await.unwrap();
    out.insert("revoked api token", Cred::Bearer(revoked));
    let (expired, _) = api_token(env, a.org.id, "admin", Some(now - 5)).await;
    out.insert("expired api token", Cred::Bearer(expired));

    let (parent, pid) = api_token(env, a.org.id, "admin", None).await;
    let s = dashboard_login(&env.app, &parent).await.unwrap();
    env.store.revoke_token(a.org.id, pid, "test").await.unwrap();
    out.insert("session of a revoked token", Cred::Cookie(s));

    let (parent, pid) = api_token(env, a.org.id, "admin", None).await;
    let s = dashboard_login(&env.app, &parent).await.unwrap();
    set_token_column(&env.store, pid, "expires_at", now - 5).await;
    out.insert("session of an expired token", Cred::Cookie(s));

    let (parent, _) = api_token(env, a.org.id, "admin", None).await;
    let s = dashboard_login(&env.app, &parent).await.unwrap();
    let (_, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &s).await;
    let sid = me["token_id"].as_i64().unwrap();
    set_token_column(&env.store, sid, "last_used_at", now - 24 * 3600).await;
    out.insert("idle session", Cred::Cookie(s));

    let (parent, _) = api_token(env, a.org.id, "admin", None).await;
    let s = dashboard_login(&env.app, &parent).await.unwrap();
    let (_, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &s).await;
    let sid = me["token_id"].as_i64().unwrap();
    set_token_column(&env.store, sid, "expires_at", now - 5).await;
    out.insert("expired session", Cred::Cookie(s));

    let (parent, _) = api_token(env, a.org.id, "admin", None).await;
    let s = dashboard_login(&env.app, &parent).await.unwrap();
    out.insert("live session as bearer token", Cred::Bearer(s));
    out
}

/// What must not change while dead credentials knock.
async fn snapshot(env: &Env, a: &Tenant) -> Value {
    json!({
        "records": env.store.records_of_orgs(&[a.org.id], None, None).await.unwrap().len(),
        "users": env.store.users_of(a.org.id).await.unwrap().len(),
        "tokens": format!("{:?}", env.store.tokens_of_org(a.org.id).await.unwrap()),
        "agreements": format!("{:?}", env.store.agreements_of(a.org.id).await.unwrap()),
    })
}

#[tokio::test]
async fn dead_and_peer_credentials_on_every_route() {
    for env in envs().await {
        let a = tenant(&env.store, "Owner").await;
        let c = tenant(&env.store, "Partner").await;
        let peer = tenant_kind(&env.store, "Peer-Hague", OrgKind::Peer).await;
        let (st, rec) = call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&a.analyst),
            Some(record_body("N20", MARKER, 42.0, "all")),
        )
        .await;
        assert_eq!(st, 201, "{rec}");
        let rec_id = rec["id"].as_i64().unwrap();
        let (st, _) = call(&env.app, "POST", "/api/v1/agreements", Some(&a.admin), Some(json!({"grantee_org_id": peer.org.id, "items": ["*"], "metrics": ["*"], "fields": ["provider", "value"]}))).await;
        assert_eq!(st, 201);
        let (st, _) = call(&env.app, "POST", "/api/v1/agreements", Some(&a.admin), Some(json!({"grantee_org_id": c.org.id, "items": ["*"], "metrics": ["*"], "fields": ["provider"]}))).await;
        assert_eq!(st, 201);
        let dead = dead_credentials(&env, &a).await;
        let before = snapshot(&env, &a).await;
        // Semantics, not the abuse limit: the limit is tested in tests/abuse.rs.
        let sweep_app = app(env.state.clone().with_security(Security {
            failures_per_source: 1_000_000,
            failures_per_token: 1_000_000,
            ..Security::default()
        }));
        let mut checked = 0;
        for route in route_table().into_iter().filter(|r| r.auth) {
            let path = route
                .path
                .replace("{id}", &rec_id.to_string())
                .replace("{name}", "hague");
            let m = route.method.as_str();
            for (what, cred) in &dead {
                let (st, v) = call_cred(&sweep_app, m, &path, cred).await;
                assert_eq!(
                    error_code(st, &v),
                    "unauthenticated",
                    "{}: {what} on {m} {}: {st} {v}",
                    env.backend,
                    route.path
                );
                assert!(!v.to_string().contains(MARKER));
                checked += 1;
            }
            let federation = route.path == "/api/v1/federation/inbox"
                || route.path == "/api/v1/federation/outbox";
            if !federation {
                for t in peer.tokens() {
                    let (st, v) = call(&sweep_app, m, &path, Some(t), None).await;
                    assert_eq!(
                        error_code(st, &v),
                        "forbidden",
                        "{}: peer on {m} {}: {v}",
                        env.backend,
                        route.path
                    );
                    assert!(!v.to_string().contains(MARKER));
                    checked += 1;
                }
            }
        }
        assert!(checked >= 7 * 50, "sweep covered only {checked} calls");
        // Dashboard pages with partner data: back to the sign-in, nothing shown.
        for (what, cred) in &dead {
            if let Cred::Cookie(s) = cred {
                for page in ["/partner", "/scenario", "/login"] {
                    let (st, v) = call_with_cookie(&sweep_app, "GET", page, s).await;
                    let body = v.to_string();
                    assert!(!body.contains(MARKER), "{what} {page}");
                    assert!(
                        !body.contains("Signed in:"),
                        "{}: {what} signed in on {page}",
                        env.backend
                    );
                    if page == "/partner" {
                        assert_eq!(st, StatusCode::SEE_OTHER, "{what}");
                    }
                }
            }
        }
        assert_eq!(
            snapshot(&env, &a).await,
            before,
            "{}: something changed",
            env.backend
        );
        // The owner's live credentials still work (the sweep revoked nothing else).
        let (st, _) = call(
            &env.app,
            "GET",
            &format!("/api/v1/records/{rec_id}"),
            Some(&a.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200);
        // The peer still federates what its agreement allows (provider and value only).
        let (st, v) = call(
            &env.app,
            "GET",
            "/api/v1/federation/outbox",
            Some(&peer.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        let r = &v["records"][0];
        assert_eq!(r["provider"], MARKER, "{v}");
        assert!(
            r["site"].is_null() && r["unit"].is_null() && r["provenance"].is_null(),
            "{v}"
        );
    }
}

/// Every string value anywhere in a JSON document.
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(o) => o.iter().for_each(|(k, x)| {
            out.push(k.clone());
            strings(x, out)
        }),
        _ => {}
    }
}

#[tokio::test]
async fn partial_field_grants_leak_no_other_field_anywhere() {
    for env in envs().await {
        let a = tenant(&env.store, "Owner").await;
        let c = tenant(&env.store, "Partner").await;
        let (st, rec) = call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&a.analyst),
            Some(json!({
                "item": "N20", "provider": RELEASED_PROVIDER, "site": HIDDEN[0], "country": "NLD",
                "metric": "capacity", "value": 77.5, "unit": HIDDEN[1], "period": HIDDEN[2],
                "provenance": HIDDEN[3], "distribution": "community"
            })),
        )
        .await;
        assert_eq!(st, 201, "{rec}");
        let rec_id = rec["id"].as_i64().unwrap();
        let (st, ag) = call(&env.app, "POST", "/api/v1/agreements", Some(&a.admin), Some(json!({"grantee_org_id": c.org.id, "items": ["N20"], "metrics": ["capacity"], "fields": ["provider", "value"]}))).await;
        assert_eq!(st, 201, "{ag}");
        // A request from the owner to the partner, so request routes have an object to show.
        let (st, rq) = call(&env.app, "POST", "/api/v1/requests", Some(&a.analyst), Some(json!({"addressee_org_id": c.org.id, "legal_basis": "Art. 25", "purpose": "sweep", "scope_items": ["N20"], "scope_metrics": ["capacity"], "deadline": "2099-01-01"}))).await;
        assert_eq!(st, 201, "{rq}");
        let ids = BTreeMap::from([
            ("records", rec_id),
            ("agreements", ag["id"].as_i64().unwrap()),
            ("requests", rq["id"].as_i64().unwrap()),
            ("orgs", c.org.id),
        ]);
        let mut seen_released = false;
        let mut checked = 0;
        for route in route_table()
            .into_iter()
            .filter(|r| r.auth && r.method == "GET")
        {
            let kind = route
                .path
                .trim_start_matches("/api/v1/")
                .split('/')
                .next()
                .unwrap();
            let path = route
                .path
                .replace("{id}", &ids.get(kind).copied().unwrap_or(1).to_string())
                .replace("{name}", "x");
            for path in [path.clone(), format!("{path}?scope=all")] {
                for t in c.tokens() {
                    let (_, v) = call(&env.app, "GET", &path, Some(t), None).await;
                    let mut all = Vec::new();
                    strings(&v, &mut all);
                    for h in HIDDEN {
                        assert!(
                            !all.iter().any(|s| s.contains(h)),
                            "{}: {path} leaks an unreleased field: {v}",
                            env.backend
                        );
                    }
                    seen_released |= all.iter().any(|s| s == RELEASED_PROVIDER);
                    checked += 1;
                }
            }
        }
        assert!(checked > 60, "{checked}");
        assert!(
            seen_released,
            "the released field never showed: the sweep proves nothing"
        );
        // The record itself: provider and value, none of the rest (absent, not blanked).
        let (st, v) = call(
            &env.app,
            "GET",
            &format!("/api/v1/records/{rec_id}"),
            Some(&c.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        assert_eq!(
            (v["provider"].as_str(), v["value"].as_f64()),
            (Some(RELEASED_PROVIDER), Some(77.5))
        );
        for f in ["site", "unit", "period", "provenance", "country"] {
            assert!(
                v.get(f).is_none(),
                "{}: field {f} present: {v}",
                env.backend
            );
        }
        // The dashboard shows the partner the same and no more.
        let cookie = dashboard_login(&env.app, &c.viewer).await.unwrap();
        let (st, page) = call_with_cookie(&env.app, "GET", "/partner", &cookie).await;
        assert_eq!(st, 200);
        let page = page.as_str().unwrap_or_default().to_string();
        assert!(
            page.contains("77.5")
                || page.contains(">77.5<")
                || page.contains("77,5")
                || page.contains(RELEASED_PROVIDER),
            "{}",
            &page[..page.len().min(500)]
        );
        for h in HIDDEN {
            assert!(!page.contains(h), "{}: dashboard leaks {h}", env.backend);
        }
    }
}
