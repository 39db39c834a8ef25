//! What the schemathesis run (bench/api-conformance.sh) found, kept as oneshot regressions:
//! each answer is the documented 4xx naming the field, never a 500 or a refusal of data the
//! OpenAPI document allows.

mod common;
use common::*;
use serde_json::json;

#[tokio::test]
async fn schema_conformance_regressions() {
    let env = envs().await.remove(0);
    let t = tenant(&env.store, "conf").await;
    let app = &env.app;

    // An explicit empty consumer list was an internal error (500); it is the caller's input.
    let sc = json!({"name": "x", "consumer": [], "shock": []});
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/scenarios/run",
        Some(&t.viewer),
        Some(sc),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed");
    assert!(v["error"]["message"].as_str().unwrap().contains("consumer"));
    // A shock that is not one is a bad value (422), an unknown top-level field is 400.
    let sc = json!({"name": "x", "shock": [{}]});
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/scenarios/run",
        Some(&t.viewer),
        Some(sc),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed");
    let sc = json!({"name": "x", "nope": 1});
    let (st, v) = call(app, "POST", "/api/v1/scenarios", Some(&t.analyst), Some(sc)).await;
    assert_eq!(error_code(st, &v), "unknown_field");
    // step_days beyond the documented maximum.
    let sc = json!({"name": "x", "step_days": 2147483648u64});
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/scenarios/run",
        Some(&t.viewer),
        Some(sc),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("step_days"));

    // JSON Schema counts 3.0 as an integer: so does the server.
    let body = json!({"name": "grp", "members": [t.org.id as f64]});
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/sharing-groups",
        Some(&t.admin),
        Some(body),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let body = json!({"name": "grp2", "members": [1.5]});
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/sharing-groups",
        Some(&t.admin),
        Some(body),
    )
    .await;
    assert_eq!(error_code(st, &v), "invalid_json");

    // A well-formed country the model lacks is a missing object; a malformed one is 400.
    let (st, v) = call(
        app,
        "GET",
        "/api/v1/dependence?consumer=ZZZ&supplier=NLD",
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!(error_code(st, &v), "not_found");
    let (st, v) = call(
        app,
        "GET",
        "/api/v1/dependence?consumer=KOREA&supplier=NLD",
        Some(&t.viewer),
        None,
    )
    .await;
    assert_eq!(error_code(st, &v), "invalid_parameter");
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("consumer"));

    // Limits outside the documented range are refused, not clamped.
    for path in [
        "/api/v1/monitor/events?limit=0",
        "/api/v1/monitor/alerts?limit=1001",
        "/api/v1/audit?limit=-5",
        "/api/v1/audit?after=-1",
    ] {
        let (st, v) = call(app, "GET", path, Some(&t.admin), None).await;
        assert_eq!(error_code(st, &v), "invalid_parameter", "{path}");
    }
    let (st, _) = call(
        app,
        "GET",
        "/api/v1/monitor/alerts?limit=1000",
        Some(&t.admin),
        None,
    )
    .await;
    assert_eq!(st, 200);
}
