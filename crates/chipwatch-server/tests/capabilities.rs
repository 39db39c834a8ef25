//! The analysis capabilities through the API: scenarios (ad hoc and saved; the API returns what
//! the engine returns), licence determination and screening, monitor events and watchlists.

mod common;
use chipwatch_analysis::scenario::{self, Scenario};
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
    let want = serde_json::to_value(scenario::run(&env.state.model, &sc).unwrap()).unwrap();
    assert_eq!(got, want, "the API returns exactly the engine's result");

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
        "/api/v1/controls/determine",
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
        "/api/v1/controls/determine",
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
            "/api/v1/controls/determine",
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
        "/api/v1/controls/determine",
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
    let (st, s) = call(app, "POST", "/api/v1/controls/screen", Some(&t.viewer), Some(json!({"names": ["Semiconductor Manufacturing International Corporation", "Bakery Smith"]}))).await;
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
