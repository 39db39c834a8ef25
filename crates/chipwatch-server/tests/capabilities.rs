//! The analysis capabilities through the API: scenarios (ad hoc and saved; the API returns what
//! the engine returns), licence determination and screening, monitor events and watchlists.

mod common;
use chipwatch_analysis::scenario::Scenario;
use common::*;
use serde_json::json;

#[tokio::test]
async fn scenarios_controls_and_monitor() {
    let env = envs().await.remove(0);
    let app = &env.app;
    let t = tenant(&env.store, "Ministry").await;
    let other = tenant(&env.store, "Other").await;

    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/scenarios/nld-litho-stop.toml"
    ))
    .unwrap();
    let sc = Scenario::from_toml_str(&text, "nld-litho-stop.toml").unwrap();
    let body = serde_json::to_value(&sc).unwrap();
    let (st, got) = call(
        app,
        "POST",
        "/api/v1/scenarios/run",
        Some(&t.viewer),
        Some(body.clone()),
    )
    .await;
    assert_eq!(st, 200, "{got}");
    // The scenario file names its baseline date, so the run is the same whatever day it is.
    let want = serde_json::to_value(
        chipwatch_server::routes::scenarios::execute(&env.state, sc.clone()).unwrap(),
    )
    .unwrap();
    assert_eq!(got, want, "the API returns exactly the engine's result");
    assert!(
        got["economies"].as_array().is_some_and(|e| e.len() >= 12),
        "the segment layer runs through the API: {}",
        got["economies"]
    );

    let (st, v) = call(
        app,
        "POST",
        "/api/v1/scenarios",
        Some(&t.viewer),
        Some(body.clone()),
    )
    .await;
    assert_eq!(error_code(st, &v), "forbidden");
    let (st, saved) = call(
        app,
        "POST",
        "/api/v1/scenarios",
        Some(&t.analyst),
        Some(body),
    )
    .await;
    assert_eq!(st, 201, "{saved}");
    let id = saved["id"].as_i64().unwrap();
    let (st, _) = call(
        app,
        "GET",
        &format!("/api/v1/scenarios/{id}/result"),
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!(st, 404, "not run yet");
    let (st, ran) = call(
        app,
        "POST",
        &format!("/api/v1/scenarios/{id}/run"),
        Some(&t.analyst),
        None,
    )
    .await;
    assert_eq!(st, 200);
    assert_eq!(ran, want);
    let (st, stored) = call(
        app,
        "GET",
        &format!("/api/v1/scenarios/{id}/result"),
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!((st.as_u16(), &stored), (200, &want));
    let (_, list) = call(app, "GET", "/api/v1/scenarios", Some(&other.admin), None).await;
    assert_eq!(list["scenarios"].as_array().unwrap().len(), 0);
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/scenarios/run",
        Some(&t.viewer),
        Some(json!({"name": "x", "horizon_days": 0})),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed", "{v}");

    // Licence determination: an EUV scanner from the Netherlands to China needs a licence.
    let (st, d) = call(
        app,
        "POST",
        "/api/v1/licence/check",
        Some(&t.viewer),
        Some(json!({
            "product": "NXE:3400C", "from": "NLD", "to": "CHN", "date": "2024-06-01"
        })),
    )
    .await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["overall"]["outcome"], "licence_required", "{d}");
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/licence/check",
        Some(&t.viewer),
        Some(json!({"from": "Netherlands", "to": "CHN"})),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed");
    // Fail closed: a code outside ISO 3166-1 and a near-miss product name are errors naming the
    // field; a scanner without its overlay is undetermined, naming the missing value.
    for (body, needle) in [
        (
            json!({"product": "NXT:2000i", "from": "NLD", "to": "NDL"}),
            "`to`",
        ),
        (
            json!({"product": "A10", "from": "USA", "to": "CHN"}),
            "A100",
        ),
        (
            json!({"product": "H20", "from": "USA", "to": "CHN", "end_use": "militar"}),
            "end_use",
        ),
    ] {
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/licence/check",
            Some(&t.viewer),
            Some(body),
        )
        .await;
        assert_eq!(error_code(st, &v), "validation_failed", "{v}");
        assert!(v.to_string().contains(needle), "{v}");
    }
    let (st, d) = call(
        app,
        "POST",
        "/api/v1/licence/check",
        Some(&t.viewer),
        Some(json!({
            "params": {"wavelength_nm": 193, "numerical_aperture": 1.35},
            "from": "NLD", "to": "CHN", "date": "2026-11-21"
        })),
    )
    .await;
    assert_eq!(st, 200, "{d}");
    assert_eq!(d["overall"]["outcome"], "undetermined", "{d}");
    assert!(d["overall"]["missing_parameters"]
        .to_string()
        .contains("dedicated_chuck_overlay_nm"));
    assert_eq!(d["ruleset"]["version"].as_str().unwrap().len(), 64);
    let (st, s) = call(app, "POST", "/api/v1/screening", Some(&t.viewer), Some(json!({"names": ["Semiconductor Manufacturing International Corporation", "Bakery Smith"]}))).await;
    assert_eq!(st, 200, "{s}");
    assert!(
        !s["results"][0]["hits"].as_array().unwrap().is_empty(),
        "{s}"
    );
    assert!(
        s["results"][1]["hits"].as_array().unwrap().is_empty(),
        "{s}"
    );

    // Monitor: empty feed answers 200; watchlists are validated and per organisation.
    let (st, ev) = call(
        app,
        "GET",
        "/api/v1/monitor/events?relevant_only=true",
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!(
        (st.as_u16(), ev["events"].as_array().map(|a| a.len())),
        (200, Some(0))
    );
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/monitor/watchlists",
        Some(&t.analyst),
        Some(json!({"name": "bad", "config": "[[watch]]\nnmae = 1\n"})),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed");
    let (st, w) = call(
        app,
        "POST",
        "/api/v1/monitor/watchlists",
        Some(&t.analyst),
        Some(
            json!({"name": "litho", "config": "[[watch]]\nname = \"litho\"\nitems = [\"N20\"]\n"}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{w}");
    let (st, _) = call(
        app,
        "GET",
        &format!("/api/v1/monitor/watchlists/{}", w["id"]),
        Some(&other.admin),
        None,
    )
    .await;
    assert_eq!(st, 404);
    let (_, mine) = call(
        app,
        "GET",
        "/api/v1/monitor/watchlists",
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!(mine["watchlists"].as_array().unwrap().len(), 1);
}

/// The former paths of the licence check and screening answer exactly what the current ones do,
/// with `Deprecation` and a `Link` to the successor on every answer (also errors), and are
/// marked deprecated in the OpenAPI document.
#[tokio::test]
async fn former_paths_answer_with_deprecation_headers() {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;
    let env = envs().await.remove(0);
    let t = tenant(&env.store, "Ministry").await;
    let shipment =
        json!({"product": "NXT:2000i", "from": "NLD", "to": "CHN", "date": "2026-06-01"});
    for (old, new, body) in [
        (
            "/api/v1/controls/determine",
            "/api/v1/licence/check",
            shipment.clone(),
        ),
        (
            "/api/v1/controls/screen",
            "/api/v1/screening",
            json!({"names": ["Huawei Technologies"]}),
        ),
        // An error answer on a former path is marked too.
        (
            "/api/v1/controls/determine",
            "/api/v1/licence/check",
            json!({"product": "NXT:2000i", "from": "NDL", "to": "CHN"}),
        ),
    ] {
        let (st_new, v_new) =
            call(&env.app, "POST", new, Some(&t.viewer), Some(body.clone())).await;
        let req = Request::builder()
            .method("POST")
            .uri(old)
            .header("authorization", format!("Bearer {}", t.viewer))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = env.app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), st_new, "{old}");
        let h = resp.headers();
        assert_eq!(h["deprecation"], "@1796342400", "{old}");
        assert_eq!(
            h["link"].to_str().unwrap(),
            format!("<{new}>; rel=\"successor-version\""),
            "{old}"
        );
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        let v_old: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v_old, v_new, "{old} answers as {new}");
        // The current path carries no deprecation.
        let req = Request::builder()
            .method("POST")
            .uri(new)
            .header("authorization", format!("Bearer {}", t.viewer))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = env.app.clone().oneshot(req).await.unwrap();
        assert!(resp.headers().get("deprecation").is_none(), "{new}");
    }
    let doc = chipwatch_server::openapi();
    for (path, deprecated) in [
        ("/api/v1/controls/determine", true),
        ("/api/v1/controls/screen", true),
        ("/api/v1/licence/check", false),
        ("/api/v1/screening", false),
    ] {
        assert_eq!(
            doc["paths"][path]["post"]["deprecated"]
                .as_bool()
                .unwrap_or(false),
            deprecated,
            "{path}"
        );
    }
}
