//! The trade page and `/api/v1/trade/*` over the router, on a generated dataset with injected
//! shocks at known dates: the page shows dependencies, partners and the alerts of the shocks;
//! the API answers with provenance; typos in a country code are errors, not empty answers; a
//! server without a dataset says so.

use super::tests::{get, model, org, page_ok, send, sign_in, Resp};
use crate::{app, AppState};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::Router;
use chipwatch_store::Store;
use chipwatch_trade::engine::Engine;
use chipwatch_trade::gen::{generate, GenOptions, Shock};
use serde_json::Value;

struct TradeEnv {
    app: Router,
    store: Store,
    shocks: Vec<Shock>,
    _dir: tempfile::TempDir,
}

async fn trade_env(with_data: bool) -> TradeEnv {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("gen-trade");
    let summary = generate(
        &GenOptions {
            rows: 40_000,
            seed: 7,
            start_year: 2019,
            years: 6,
            shocks: 6,
        },
        &data,
    )
    .unwrap();
    let store = Store::open(&dir.path().join("web.db").display().to_string())
        .await
        .unwrap();
    let mut state = AppState::new(store.clone(), model(), "test-trade");
    if with_data {
        let engine = Engine::open(&data, Some(2)).await.unwrap();
        state = state.with_trade(engine, Some("gen seed 7".into()));
    }
    TradeEnv {
        app: app(state),
        store,
        shocks: summary.shocks,
        _dir: dir,
    }
}

async fn api(app: &Router, path: &str, token: &str) -> Resp {
    let req = Request::builder()
        .uri(path)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    send(app, req).await
}

fn json(r: &Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or_else(|e| panic!("{e}: {}", r.body))
}

#[tokio::test]
async fn the_trade_page_shows_dependencies_partners_and_the_injected_shocks() {
    let e = trade_env(true).await;
    let (_, token) = org(&e.store, "KITA").await;
    let c = sign_in(&e.app, &token).await;

    let r = get(&e.app, "/trade", None).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "needs a session");

    let r = get(&e.app, "/trade", Some(&c)).await;
    page_ok(&r);
    for want in [
        "Strategic dependencies",
        "Alerts",
        "gen-trade",
        "vintage gen seed 7",
        r#"aria-current="page""#,
    ] {
        assert!(r.body.contains(want), "missing {want}");
    }

    // Every injected stop or collapse shows on its importer's page at its month.
    let stops: Vec<&Shock> = e
        .shocks
        .iter()
        .filter(|s| s.kind == "stop" || s.kind == "collapse")
        .collect();
    assert!(!stops.is_empty());
    for s in stops {
        let r = get(
            &e.app,
            &format!("/trade?importer={}&code={}", s.importer, s.code),
            Some(&c),
        )
        .await;
        page_ok(&r);
        assert!(r.body.contains(&format!("Partners of {}", s.importer)));
        assert!(r.body.contains("<svg"), "partner-share chart");
        let month = format!("{}-{:02}", s.year, s.month);
        assert!(
            r.body.contains(&month) && r.body.contains(&s.kind),
            "alert {} {} {} {} missing",
            s.kind,
            s.importer,
            s.exporter,
            month
        );
    }

    // A typo in the importer is an error naming the field, never an empty page.
    let r = get(&e.app, "/trade?importer=KOX", Some(&c)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
    assert!(r.body.contains("importer"), "{}", r.body);
    let r = get(&e.app, "/trade?source=nope", Some(&c)).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn the_trade_api_answers_with_provenance_and_refuses_typos() {
    let e = trade_env(true).await;
    let (_, token) = org(&e.store, "KITA").await;

    let r = api(&e.app, "/api/v1/trade", &token).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = json(&r);
    assert_eq!(v["sources"][0]["source"], "baci");
    assert_eq!(v["vintage"], "gen seed 7");

    // Unauthenticated: 401.
    let r = send(
        &e.app,
        Request::builder()
            .uri("/api/v1/trade")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);

    let s = e
        .shocks
        .iter()
        .find(|s| s.kind == "stop")
        .expect("the generator injects a stop");
    let r = api(
        &e.app,
        &format!(
            "/api/v1/trade/alerts?importer={}&code={}",
            s.importer, s.code
        ),
        &token,
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let v = json(&r);
    assert_eq!(v["provenance"]["source"], "baci");
    let hit = v["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| {
            a["kind"] == "stop"
                && a["exporter"] == s.exporter.as_str()
                && a["year"] == s.year
                && a["month"] == s.month
        })
        .unwrap_or_else(|| panic!("no stop alert for {s:?} in {}", r.body));
    assert!(hit["summary"].as_str().unwrap().contains("stopped"));
    assert!(hit["share_of_imports"]
        .as_f64()
        .is_some_and(|x| (0.0..=1.0).contains(&x)));

    for path in [
        format!(
            "/api/v1/trade/dependence?indicator=imports&importer={}",
            s.importer
        ),
        "/api/v1/trade/dependence".to_string(),
        format!(
            "/api/v1/trade/bilateral?importer={}&exporter={}&monthly=true",
            s.importer, s.exporter
        ),
        format!("/api/v1/trade/partners?importer={}", s.importer),
        "/api/v1/trade/matrix".to_string(),
    ] {
        let r = api(&e.app, &path, &token).await;
        assert_eq!(r.status, StatusCode::OK, "{path}: {}", r.body);
        let v = json(&r);
        assert!(v["provenance"]["method"].is_string(), "{path}");
        assert!(v["rows"].is_array(), "{path}");
    }
    // One partner: every year of it, and nothing else.
    let r = api(
        &e.app,
        &format!(
            "/api/v1/trade/partners?importer={}&exporter={}",
            s.importer, s.exporter
        ),
        &token,
    )
    .await;
    let v = json(&r);
    let rows = v["rows"].as_array().unwrap();
    assert!(!rows.is_empty(), "{}", r.body);
    assert!(rows.iter().all(|x| x["exporter"] == s.exporter.as_str()));
    let r = api(&e.app, "/api/v1/trade/matrix?format=csv", &token).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(r.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    assert!(r.body.starts_with("segment,from,to,value"), "{}", r.body);

    for bad in [
        "/api/v1/trade/dependence?importer=KOX",
        "/api/v1/trade/bilateral?importer=KOR",
        "/api/v1/trade/alerts?window=3",
        "/api/v1/trade/dependence?indicator=nope",
        "/api/v1/trade/dependence?code=84x",
        "/api/v1/trade/dependence?code=",
        "/api/v1/trade/dependence?code=1234567890123",
        "/api/v1/trade/matrix?to_year=1899",
        "/api/v1/trade/alerts?since_year=1899",
        "/api/v1/trade/dependence?colour=red",
    ] {
        let r = api(&e.app, bad, &token).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{bad}: {}", r.body);
        assert_eq!(json(&r)["error"]["code"], "invalid_parameter", "{bad}");
    }
}

#[tokio::test]
async fn without_a_dataset_the_page_and_the_api_say_how_to_load_one() {
    let e = trade_env(false).await;
    let (_, token) = org(&e.store, "KITA").await;
    let r = api(&e.app, "/api/v1/trade/alerts", &token).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert!(json(&r)["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--trade"));
    let c = sign_in(&e.app, &token).await;
    let r = get(&e.app, "/trade", Some(&c)).await;
    page_ok(&r);
    assert!(r.body.contains("chipwatch serve --trade DIR"));
}
