//! Shared helpers of the server tests: environments on every backend, tenants with one token
//! per role, and a JSON request helper over `tower::ServiceExt::oneshot`.
#![allow(dead_code)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chipwatch_server::{app, AppState};
use chipwatch_store::partner::{Org, OrgKind, Role};
use chipwatch_store::Store;
use http_body_util::BodyExt;
use serde_json::Value;
use std::sync::OnceLock;
use tower::ServiceExt;

pub struct Env {
    pub backend: String,
    pub app: Router,
    pub state: AppState,
    pub store: Store,
    _dir: std::sync::Arc<tempfile::TempDir>,
}

fn model() -> chipwatch_model::ValueChain {
    static M: OnceLock<chipwatch_model::ValueChain> = OnceLock::new();
    M.get_or_init(chipwatch_data::default_model).clone()
}

/// One environment per backend (SQLite always; PostgreSQL when CHIPWATCH_TEST_PG_URL is set).
pub async fn envs() -> Vec<Env> {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut out = Vec::new();
    for (backend, store) in chipwatch_store::test_stores(dir.path()).await {
        // As a deployment does: a peer key from outside the database seals peer tokens.
        let store = store.with_peer_key(chipwatch_store::secret::PeerKey::generate());
        let state = AppState::new(store.clone(), model(), format!("test-{backend}"));
        out.push(Env {
            backend,
            app: app(state.clone()),
            state,
            store,
            _dir: dir.clone(),
        });
    }
    out
}

/// An organisation with one user and token per role.
#[derive(Debug, Clone)]
pub struct Tenant {
    pub org: Org,
    pub admin: String,
    pub analyst: String,
    pub viewer: String,
}

impl Tenant {
    pub fn tokens(&self) -> [&str; 3] {
        [&self.admin, &self.analyst, &self.viewer]
    }
}

pub async fn tenant_kind(store: &Store, name: &str, kind: OrgKind) -> Tenant {
    let org = store.create_org(name, kind, "test").await.unwrap();
    let mut toks = Vec::new();
    for role in [Role::Admin, Role::Analyst, Role::Viewer] {
        let u = store
            .create_user(org.id, role.as_str(), role, "test")
            .await
            .unwrap();
        let secret = chipwatch_server::auth::new_token_secret();
        store
            .create_token(u.id, &secret, "test", None, "test")
            .await
            .unwrap();
        toks.push(secret);
    }
    Tenant {
        org,
        admin: toks[0].clone(),
        analyst: toks[1].clone(),
        viewer: toks[2].clone(),
    }
}

pub async fn tenant(store: &Store, name: &str) -> Tenant {
    tenant_kind(store, name, OrgKind::Local).await
}

/// Send a request; returns status and the body parsed as JSON (Null when empty, a string when
/// not JSON).
pub async fn call(
    app: &Router,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (StatusCode, Value) {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(t) = token {
        b = b.header("authorization", format!("Bearer {t}"));
    }
    let req = match body {
        Some(v) => b
            .header("content-type", "application/json")
            .body(Body::from(v.to_string()))
            .unwrap(),
        None => b.body(Body::empty()).unwrap(),
    };
    send(app, req).await
}

pub async fn send(app: &Router, req: Request<Body>) -> (StatusCode, Value) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    let v = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    (status, v)
}

/// The error code of an error answer, checked against the public table.
pub fn error_code(status: StatusCode, body: &Value) -> String {
    let code = body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no error code in {status} {body}"));
    let entry = chipwatch_server::error::ERROR_CODES
        .iter()
        .find(|c| c.code == code)
        .unwrap_or_else(|| panic!("code {code} not in ERROR_CODES"));
    assert_eq!(entry.status, status.as_u16(), "status of {code}");
    code.to_string()
}

pub fn record_body(item: &str, provider: &str, value: f64, distribution: &str) -> Value {
    serde_json::json!({
        "item": item, "provider": provider, "site": format!("{provider} fab 1"), "country": "KOR",
        "metric": "capacity", "value": value, "unit": "wafers/month", "period": "2024-Q1",
        "provenance": "company survey", "distribution": distribution
    })
}

/// A request as a browser at `source` sends it (the address a real listener would record).
pub fn from_source(mut req: Request<Body>, source: &str) -> Request<Body> {
    let addr: std::net::SocketAddr = source.parse().expect("socket address");
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(addr));
    req
}

/// Sign in on the dashboard with `token`; the session cookie's value, or the status and page
/// when the sign-in was refused.
pub async fn dashboard_login(app: &Router, token: &str) -> Result<String, (StatusCode, String)> {
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header("host", "127.0.0.1:8080")
        .header("origin", "http://127.0.0.1:8080")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={token}&next=%2F")))
        .unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    match cookie {
        Some(c) if status == StatusCode::SEE_OTHER => {
            let v = c
                .split(';')
                .next()
                .and_then(|kv| kv.split_once('='))
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            Ok(v)
        }
        _ => Err((status, String::from_utf8_lossy(&body).into_owned())),
    }
}

/// A JSON request carrying the dashboard session cookie instead of a bearer token.
pub async fn call_with_cookie(
    app: &Router,
    method: &str,
    path: &str,
    cookie: &str,
) -> (StatusCode, Value) {
    let req = Request::builder()
        .method(method)
        .uri(path)
        .header("cookie", format!("chipwatch_session={cookie}"))
        .body(Body::empty())
        .unwrap();
    send(app, req).await
}

/// Set a column of a token row directly, to put it in the past or revoke it behind the API.
pub async fn set_token_column(store: &Store, token_id: i64, column: &str, value: i64) {
    chipwatch_store::sqlx::query(&format!("UPDATE tokens SET {column} = $1 WHERE id = $2"))
        .bind(value)
        .bind(token_id)
        .execute(store.pool())
        .await
        .unwrap();
}

/// The token id behind a secret (through `/api/v1/me`).
pub async fn token_id_of(app: &Router, token: &str) -> i64 {
    let (st, me) = call(app, "GET", "/api/v1/me", Some(token), None).await;
    assert_eq!(st, StatusCode::OK, "{me}");
    me["token_id"].as_i64().unwrap()
}

/// Start an audit verification as `admin_token` (an instance admin) and wait for its report.
pub async fn verify_via_api(app: &Router, admin_token: &str) -> Value {
    let (st, v) = call(app, "POST", "/api/v1/audit/verify", Some(admin_token), None).await;
    assert_eq!(st, 202, "{v}");
    let run = v["run"].as_u64().unwrap();
    for _ in 0..500 {
        let (st, v) = call(app, "GET", "/api/v1/audit/verify", Some(admin_token), None).await;
        assert_eq!(st, 200, "{v}");
        if v["run"].as_u64() == Some(run) && v["state"] != "running" {
            assert_eq!(v["state"], "done", "{v}");
            return v;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("audit verification did not finish in 5 s");
}

/// A licence to register (`POST /api/v1/licences`): a fictitious Dutch global licence for
/// immersion scanners to two Chinese customers, of the kind partly revoked in January 2024.
pub fn licence_body(number: &str, holder: &str) -> Value {
    serde_json::json!({
        "number": number,
        "authority": "Ministerie van Buitenlandse Zaken, CDIU (fictitious example)",
        "jurisdiction": "NLD", "kind": "global", "holder": holder,
        "consignees": ["Gamma Semiconductor Co., Ltd.", "Delta Integrated Circuit Co., Ltd."],
        "end_users": ["Gamma Semiconductor Co., Ltd.", "Delta Integrated Circuit Co., Ltd."],
        "items": [
            {"id": "1", "description": "ArF immersion scanner", "product": "NXT:2000i",
             "control_entry": "3B001.f.1", "quantity": 5, "value": 400},
            {"id": "2", "description": "ArF immersion scanner", "product": "NXT:1980Di",
             "quantity": 8, "value": 300}
        ],
        "destinations": ["CHN"], "value_ceiling": 800, "currency": "EUR million",
        "granted_on": "2023-06-20", "valid_from": "2023-07-01", "valid_until": "2024-12-31",
        "legal_basis": {"measure_id": "NL-semiconductor-equipment",
                        "version": "2023 (Stcrt. 2023, 18212)"}
    })
}
