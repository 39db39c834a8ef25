//! The licence register through the API, on every backend: roles (viewer reads, analyst and
//! admin write), another organisation's licence is 404, bad input on every endpoint names the
//! field, draw-down with the refusal on 422, events, the impact of a proposed revocation (nothing
//! recorded), the licence on a date with its timeline, filters and CSV.

mod common;
use axum::body::Body;
use axum::http::Request;
use common::*;
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

const GAMMA: &str = "Gamma Semiconductor Co., Ltd.";
const DELTA: &str = "Delta Integrated Circuit Co., Ltd.";

fn shipment(reference: &str, date: &str, item: &str, q: f64, consignee: &str) -> serde_json::Value {
    json!({"reference": reference, "date": date, "item": item, "quantity": q, "value": 10,
           "destination": "CHN", "consignee": consignee})
}

#[tokio::test]
async fn licences_register_draw_down_events_and_impact() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let nl = tenant(&env.store, "MinBZ").await;
        let kr = tenant(&env.store, "MOTIE").await;
        let base = "/api/v1/licences";

        // Register: viewer refused, analyst 201 with Location, duplicate 409.
        let body = licence_body("NL-2023-EX-0042", "Example Lithography B.V.");
        let (st, v) = call(app, "POST", base, Some(&nl.viewer), Some(body.clone())).await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        let req = Request::builder()
            .method("POST")
            .uri(base)
            .header("authorization", format!("Bearer {}", nl.analyst))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let resp = app.clone().oneshot(req).await.unwrap();
        assert_eq!(resp.status(), 201, "{b}");
        let loc = resp.headers()["location"].to_str().unwrap().to_string();
        let created: serde_json::Value =
            serde_json::from_slice(&resp.into_body().collect().await.unwrap().to_bytes()).unwrap();
        let id = created["id"].as_i64().unwrap();
        assert_eq!(loc, format!("{base}/{id}"));
        let (st, v) = call(app, "POST", base, Some(&nl.admin), Some(body.clone())).await;
        assert_eq!(error_code(st, &v), "conflict", "{b}: {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("number"));

        // Bad licences: unknown fields (events are not taken on create), missing and bad fields.
        let mut with_events = body.clone();
        with_events["event"] = json!([]);
        let mut bad_dest = body.clone();
        bad_dest["number"] = json!("NL-X");
        bad_dest["destinations"] = json!(["CHN", "CNH"]);
        let mut no_items = body.clone();
        no_items["number"] = json!("NL-Y");
        no_items["items"] = json!([]);
        let mut bad_date = body.clone();
        bad_date["valid_until"] = json!("2024-02-30");
        let mut backwards = body.clone();
        backwards["number"] = json!("NL-Z");
        backwards["valid_until"] = json!("2023-01-01");
        let mut no_number = body.clone();
        no_number.as_object_mut().unwrap().remove("number");
        for (bad, code, field) in [
            (with_events, "unknown_field", "event"),
            (bad_dest, "validation_failed", "destinations[1]"),
            (no_items, "validation_failed", "items"),
            (bad_date, "invalid_json", "2024-02-30"),
            (backwards, "validation_failed", "valid_until"),
            (no_number, "invalid_json", "number"),
        ] {
            let (st, v) = call(app, "POST", base, Some(&nl.analyst), Some(bad.clone())).await;
            assert_eq!(error_code(st, &v), code, "{b}: {v}");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(field),
                "{b}: {field}: {v}"
            );
        }

        // Draw-down: 201 with the new state; the refusal on 422 names the limit.
        let ship = format!("{base}/{id}/shipments");
        let (st, v) = call(
            app,
            "POST",
            &ship,
            Some(&nl.viewer),
            Some(shipment("S-1", "2023-09-01", "1", 2.0, GAMMA)),
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        let (st, v) = call(
            app,
            "POST",
            &ship,
            Some(&nl.analyst),
            Some(shipment("S-1", "2023-09-01", "1", 2.0, GAMMA)),
        )
        .await;
        assert_eq!(st, 201, "{b}: {v}");
        assert_eq!(v["drawdown"][0]["remaining_quantity"], 3.0, "{b}: {v}");
        assert_eq!(v["status"], "active");
        let (st, v) = call(
            app,
            "POST",
            &ship,
            Some(&nl.analyst),
            Some(shipment("S-2", "2023-10-01", "1", 3.5, GAMMA)),
        )
        .await;
        assert_eq!(error_code(st, &v), "validation_failed", "{b}: {v}");
        assert_eq!(v["refusal"]["refusal"], "quantity", "{b}: {v}");
        assert_eq!(v["refusal"]["remaining"], 3.0, "{b}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("3 left"),
            "{b}: {v}"
        );
        for (s, refusal) in [
            (
                shipment("S-2", "2023-06-30", "1", 1.0, GAMMA),
                "not_yet_valid",
            ),
            (shipment("S-2", "2025-01-01", "1", 1.0, GAMMA), "expired"),
            (
                shipment("S-2", "2023-10-01", "9", 1.0, GAMMA),
                "unknown_item",
            ),
            (
                shipment("S-2", "2023-10-01", "1", 1.0, "Unknown Fab"),
                "consignee",
            ),
            (shipment("S-2", "2023-10-01", "1", -1.0, GAMMA), "amount"),
        ] {
            let (st, v) = call(app, "POST", &ship, Some(&nl.analyst), Some(s)).await;
            assert_eq!(
                (st.as_u16(), v["refusal"]["refusal"].as_str()),
                (422, Some(refusal)),
                "{b}: {v}"
            );
        }
        for (s, code, field) in [
            (
                json!({"reference": "S-2", "date": "2023-10-01"}),
                "invalid_json",
                "item",
            ),
            (
                json!({"reference": "S-2", "date": "2023-10-01", "item": "1", "quantity": 1,
                    "destination": "CHN", "consignee": GAMMA, "colour": "red"}),
                "unknown_field",
                "colour",
            ),
            (
                shipment("", "2023-10-01", "1", 1.0, GAMMA),
                "validation_failed",
                "reference",
            ),
            (
                shipment("S-0", "2023-08-01", "1", 1.0, GAMMA),
                "validation_failed",
                "date",
            ),
            (
                shipment("S-1", "2023-10-01", "1", 1.0, GAMMA),
                "conflict",
                "reference",
            ),
        ] {
            let (st, v) = call(app, "POST", &ship, Some(&nl.analyst), Some(s)).await;
            assert_eq!(error_code(st, &v), code, "{b}: {v}");
            assert!(
                v["error"]["message"].as_str().unwrap().contains(field),
                "{b}: {field}: {v}"
            );
            assert!(v.get("refusal").is_none());
        }

        // A licence check names the register's licences that cover its requirement (on the
        // check's date, for the destination), and another organisation's check names none.
        let check = json!({"product": "NXT:2000i", "from": "NLD", "to": "CHN",
            "date": "2023-12-01", "end_user": GAMMA});
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/licence/check",
            Some(&nl.viewer),
            Some(check.clone()),
        )
        .await;
        assert_eq!(st, 200, "{b}: {v}");
        let nl_cover = v["licences"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["jurisdiction"] == "NLD")
            .unwrap_or_else(|| panic!("{b}: {v}"));
        assert_eq!(nl_cover["licence"], "NL-2023-EX-0042", "{b}: {v}");
        assert_eq!(nl_cover["covers"], true, "{b}: {nl_cover}");
        let (_, v) = call(
            app,
            "POST",
            "/api/v1/licence/check",
            Some(&kr.admin),
            Some(check),
        )
        .await;
        assert_eq!(v["licences"], json!([]), "{b}: {v}");

        // The impact of a proposed partial revocation (viewer may look; nothing recorded).
        let revocation = json!({"date": "2024-01-01", "kind": "partial_revocation",
            "items": ["1"], "consignees": [DELTA], "end_users": [DELTA],
            "reason": "partly revoked for the NXT:2000i and one Chinese customer",
            "instrument": "decision of the minister (fictitious)"});
        let (st, imp) = call(
            app,
            "POST",
            &format!("{base}/{id}/impact"),
            Some(&nl.viewer),
            Some(revocation.clone()),
        )
        .await;
        assert_eq!(st, 200, "{b}: {imp}");
        assert_eq!(imp["items"][0]["id"], "1");
        assert_eq!(imp["items"][0]["quantity"], 3.0, "{b}: {imp}");
        assert_eq!(imp["consignees_removed"], json!([DELTA]), "{b}: {imp}");
        assert_eq!(imp["stops_everything"], false);
        // Its supply effect: line 1's value left (400 - 10 shipped, EUR million) at the ECB
        // 2024 rate, all to China, the ArF immersion flow NLD -> CHN cut, China affected.
        let d = &imp["decision"];
        let usd = d["value_usd_known"].as_f64().unwrap();
        assert!((usd - 390.0 * 1.0824e6).abs() < 1.0, "{b}: {d}");
        assert_eq!(d["incidence"]["top_destination"], "CHN", "{b}: {d}");
        assert!(d["flows"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["item_id"] == "N22" && f["exporter"] == "NLD" && f["destination"] == "CHN"));
        let chn = d["affected_consumers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["country"] == "CHN")
            .unwrap_or_else(|| panic!("{b}: {d}"));
        assert!(
            chn["final_output_estimate"].as_f64().unwrap() < 1.0,
            "{b}: {d}"
        );
        // The same decision over the register: one licence given twice counts once; bad input
        // names the field; another organisation's licence is 404.
        let decide = format!("{base}/impact");
        let (st, v) = call(
            app,
            "POST",
            &decide,
            Some(&nl.viewer),
            Some(json!({"licences": [id, id], "event": revocation.clone()})),
        )
        .await;
        assert_eq!(st, 200, "{b}: {v}");
        assert_eq!(v["licences"].as_array().unwrap().len(), 1, "{b}: {v}");
        assert!((v["value_usd_known"].as_f64().unwrap() - usd).abs() < 1e-6);
        for (bad, code) in [
            (
                json!({"licences": [], "event": revocation.clone()}),
                "validation_failed",
            ),
            (json!({"licences": [id]}), "invalid_json"),
            (
                json!({"licences": [id], "event": revocation.clone(), "x": 1}),
                "unknown_field",
            ),
            (
                json!({"licences": [id], "event": {"date": "2024-01-01", "kind": "partial_revocation",
                    "items": ["9"], "reason": "r"}}),
                "validation_failed",
            ),
        ] {
            let (st, v) = call(app, "POST", &decide, Some(&nl.analyst), Some(bad)).await;
            assert_eq!(error_code(st, &v), code, "{b}: {v}");
        }
        let (st, v) = call(
            app,
            "POST",
            &decide,
            Some(&kr.admin),
            Some(json!({"licences": [id], "event": revocation.clone()})),
        )
        .await;
        assert_eq!(error_code(st, &v), "not_found", "{b}: {v}");
        let (_, full) = call(
            app,
            "POST",
            &format!("{base}/{id}/impact"),
            Some(&nl.viewer),
            Some(json!({"date": "2024-03-01", "kind": "full_revocation", "reason": "r"})),
        )
        .await;
        assert_eq!(full["stops_everything"], true, "{b}: {full}");
        let (_, l) = call(app, "GET", &format!("{base}/{id}"), Some(&nl.viewer), None).await;
        assert!(
            l["events"].as_array().unwrap().is_empty(),
            "{b}: the impact recorded nothing"
        );

        // Events: viewer refused; bad input names the field; the revocation recorded.
        let events = format!("{base}/{id}/events");
        let (st, v) = call(
            app,
            "POST",
            &events,
            Some(&nl.viewer),
            Some(revocation.clone()),
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        for (e, code, field) in [
            (
                json!({"date": "2024-01-01", "kind": "suspension", "consignees": ["x"], "reason": "r"}),
                "unknown_field",
                "consignees",
            ),
            (
                json!({"date": "2024-01-01", "kind": "cancellation", "reason": "r"}),
                "invalid_json",
                "cancellation",
            ),
            (
                json!({"kind": "suspension", "reason": "r"}),
                "invalid_json",
                "date",
            ),
            (
                json!({"date": "2024-01-01", "kind": "suspension", "reason": " "}),
                "validation_failed",
                "reason",
            ),
            (
                json!({"date": "2024-01-01", "kind": "amendment", "quantities": {"7": 1}, "reason": "r"}),
                "validation_failed",
                "`7`",
            ),
            (
                json!({"date": "2023-08-01", "kind": "suspension", "reason": "late"}),
                "validation_failed",
                "S-1",
            ),
            (json!(["not", "an", "object"]), "invalid_json", "object"),
        ] {
            for path in [&events, &format!("{base}/{id}/impact")] {
                let (st, v) = call(app, "POST", path, Some(&nl.analyst), Some(e.clone())).await;
                // The impact of an event dated before a shipment is computable: only recording it
                // would rewrite history.
                if field == "S-1" && path.ends_with("impact") {
                    assert_eq!(st, 200, "{b}: {v}");
                    continue;
                }
                assert_eq!(error_code(st, &v), code, "{b}: {path} {e}: {v}");
                assert!(
                    v["error"]["message"].as_str().unwrap().contains(field),
                    "{b}: {field}: {v}"
                );
            }
        }
        let (st, v) = call(
            app,
            "POST",
            &events,
            Some(&nl.analyst),
            Some(revocation.clone()),
        )
        .await;
        assert_eq!(st, 201, "{b}: {v}");
        assert_eq!(v["event"]["kind"], "partial_revocation");
        let (st, v) = call(
            app,
            "POST",
            &ship,
            Some(&nl.analyst),
            Some(shipment("S-2", "2024-01-02", "1", 1.0, GAMMA)),
        )
        .await;
        assert_eq!(
            (st.as_u16(), v["refusal"]["refusal"].as_str()),
            (422, Some("item_revoked")),
            "{b}: {v}"
        );
        let (st, v) = call(
            app,
            "POST",
            &ship,
            Some(&nl.analyst),
            Some(shipment("S-2", "2024-01-02", "2", 1.0, DELTA)),
        )
        .await;
        assert_eq!(
            (st.as_u16(), v["refusal"]["refusal"].as_str()),
            (422, Some("consignee")),
            "{b}: {v}"
        );
        let (st, _) = call(
            app,
            "POST",
            &ship,
            Some(&nl.admin),
            Some(shipment("S-2", "2024-01-02", "2", 1.0, GAMMA)),
        )
        .await;
        assert_eq!(st, 201, "{b}");

        // The licence on a date: before and after the revocation; timeline in date order.
        let (st, before) = call(
            app,
            "GET",
            &format!("{base}/{id}?date=2023-12-31"),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200, "{b}: {before}");
        assert_eq!(before["drawdown"]["items"][0]["revoked"], false);
        assert_eq!(before["drawdown"]["items"][0]["remaining_quantity"], 3.0);
        let (_, after) = call(
            app,
            "GET",
            &format!("{base}/{id}?date=2024-06-01"),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(
            after["drawdown"]["items"][0]["revoked"], true,
            "{b}: {after}"
        );
        assert_eq!(after["state"]["consignees"].as_array().unwrap().len(), 1);
        let kinds: Vec<&str> = after["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "grant",
                "valid_from",
                "shipment",
                "partial revocation",
                "shipment",
                "expiry"
            ],
            "{b}"
        );
        let dates: Vec<&str> = after["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["date"].as_str().unwrap())
            .collect();
        assert!(dates.windows(2).all(|w| w[0] <= w[1]), "{b}: {dates:?}");
        assert_eq!(before["timeline"][3]["after_date"], true, "{b}");
        let (_, expired) = call(
            app,
            "GET",
            &format!("{base}/{id}?date=2025-01-01"),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(expired["status"], "expired");
        for bad in ["?date=2024-13-01", "?date=yesterday", "?colour=red"] {
            let (st, v) = call(
                app,
                "GET",
                &format!("{base}/{id}{bad}"),
                Some(&nl.viewer),
                None,
            )
            .await;
            assert_eq!(error_code(st, &v), "invalid_parameter", "{b}: {bad}");
        }
        let (st, v) = call(app, "GET", &format!("{base}/abc"), Some(&nl.viewer), None).await;
        assert_eq!(error_code(st, &v), "invalid_parameter", "{b}");
        let (st, v) = call(
            app,
            "GET",
            &format!("{base}/999999"),
            Some(&nl.viewer),
            None,
        )
        .await;
        assert_eq!(error_code(st, &v), "not_found", "{b}");

        // Another organisation: 404 on every licence endpoint, and an empty register.
        for (m, path, body) in [
            ("GET", format!("{base}/{id}"), None),
            (
                "POST",
                ship.clone(),
                Some(shipment("K-1", "2024-02-01", "2", 1.0, GAMMA)),
            ),
            (
                "POST",
                events.clone(),
                Some(json!({"date": "2024-02-01", "kind": "full_revocation", "reason": "x"})),
            ),
            (
                "POST",
                format!("{base}/{id}/impact"),
                Some(json!({"date": "2024-02-01", "kind": "full_revocation", "reason": "x"})),
            ),
        ] {
            for t in [&kr.admin, &kr.analyst] {
                let (st, v) = call(app, m, &path, Some(t), body.clone()).await;
                assert_eq!(error_code(st, &v), "not_found", "{b}: {m} {path}: {v}");
            }
        }
        let (_, other) = call(app, "GET", base, Some(&kr.viewer), None).await;
        assert!(other["licences"].as_array().unwrap().is_empty(), "{b}");

        // The register: filters, bad filters, CSV.
        let mut second = licence_body("NL-2023-EX-0043", "Other Optics, \"B.V.\"");
        second["destinations"] = json!(["CHN", "HKG"]);
        second["items"] =
            json!([{"id": "1", "description": "DUV dry scanner", "product": "XT:1460K"}]);
        let (st, v) = call(app, "POST", base, Some(&nl.analyst), Some(second)).await;
        assert_eq!(st, 201, "{b}: {v}");
        let list = |q: &str| {
            let q = q.to_string();
            let t = nl.viewer.clone();
            async move {
                let (st, v) = call(app, "GET", &format!("{base}{q}"), Some(&t), None).await;
                assert_eq!(st, 200, "{q}: {v}");
                v["licences"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|l| l["number"].as_str().unwrap().to_string())
                    .collect::<Vec<_>>()
            }
        };
        assert_eq!(list("?date=2024-02-01").await.len(), 2, "{b}");
        assert_eq!(
            list("?date=2025-02-01&status=expired").await.len(),
            2,
            "{b}"
        );
        assert_eq!(
            list("?date=2024-02-01&status=active&destination=hkg").await,
            ["NL-2023-EX-0043"],
            "{b}"
        );
        assert_eq!(
            list("?product=NXT%3A1980Di").await,
            ["NL-2023-EX-0042"],
            "{b}"
        );
        assert_eq!(
            list("?holder=other%20optics").await,
            ["NL-2023-EX-0043"],
            "{b}"
        );
        assert_eq!(
            list("?authority=cdiu&q=delta%20integrated").await.len(),
            2,
            "{b}"
        );
        assert_eq!(list("?limit=1").await.len(), 1, "{b}");
        for bad in [
            "?status=dormant",
            "?destination=XXX",
            "?date=2024-02-30",
            "?format=xml",
            "?limit=0",
            "?colour=red",
        ] {
            let (st, v) = call(app, "GET", &format!("{base}{bad}"), Some(&nl.viewer), None).await;
            assert_eq!(error_code(st, &v), "invalid_parameter", "{b}: {bad}: {v}");
        }
        let req = Request::builder()
            .uri(format!("{base}?format=csv&date=2024-02-01"))
            .header("authorization", format!("Bearer {}", nl.viewer))
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
        assert!(lines[0].starts_with("id,number,authority,jurisdiction,kind,holder,status"));
        assert!(
            lines[1].contains(",active,") && lines[1].contains("NXT:2000i;NXT:1980Di"),
            "{b}: {csv}"
        );
        assert!(csv.contains("\"Other Optics, \"\"B.V.\"\"\""), "{b}: {csv}");

        // Every write is in the audit chain.
        let (_, audit) = call(
            app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&nl.admin),
            None,
        )
        .await;
        let text = audit.to_string();
        for action in ["licence.register", "licence.shipment", "licence.event"] {
            assert!(text.contains(action), "{b}: {action}");
        }
    }
}

/// A dashboard request with the session cookie (a form post when `form` is given).
async fn page(
    app: &axum::Router,
    cookie: &str,
    method: &str,
    path: &str,
    form: Option<&str>,
    origin: &str,
) -> (u16, String, Option<String>) {
    let mut b = Request::builder()
        .method(method)
        .uri(path)
        .header("host", "127.0.0.1:8080")
        .header("cookie", format!("chipwatch_session={cookie}"));
    if form.is_some() {
        b = b
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded");
    }
    let req = b.body(Body::from(form.unwrap_or("").to_string())).unwrap();
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status().as_u16();
    let loc = resp
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    let html = String::from_utf8(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .to_vec(),
    )
    .unwrap();
    (status, html, loc)
}

#[tokio::test]
async fn dashboard_register_licence_page_and_forms() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let nl = tenant(&env.store, "MinBZ").await;
        let kr = tenant(&env.store, "MOTIE").await;
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/licences",
            Some(&nl.analyst),
            Some(licence_body(
                "NL-2023-EX-0042",
                "Example <Lithography> B.V.",
            )),
        )
        .await;
        assert_eq!(st, 201, "{v}");
        let id = v["id"].as_i64().unwrap();
        let analyst = dashboard_login(app, &nl.analyst).await.unwrap();
        let viewer = dashboard_login(app, &nl.viewer).await.unwrap();
        let other = dashboard_login(app, &kr.admin).await.unwrap();
        let here = "http://127.0.0.1:8080";

        let (st, html, _) = page(
            app,
            &viewer,
            "GET",
            "/licences?date=2023-12-01&product=NXT:1980Di",
            None,
            here,
        )
        .await;
        assert_eq!(st, 200, "{b}");
        assert!(
            html.contains("NL-2023-EX-0042") && html.contains("1 licence on 2023-12-01"),
            "{b}"
        );
        assert!(
            html.contains("Example &lt;Lithography&gt; B.V."),
            "{b}: escaped"
        );
        assert!(
            html.contains(r#"href="/licences" aria-current="page""#),
            "{b}: in the navigation"
        );
        let (st, html, _) =
            page(app, &viewer, "GET", "/licences?destination=XXX", None, here).await;
        assert_eq!(st, 400, "{b}");
        assert!(html.contains("destination: `XXX`"), "{b}");
        let (_, html, _) = page(app, &other, "GET", "/licences", None, here).await;
        assert!(
            !html.contains("NL-2023-EX-0042"),
            "{b}: another organisation's register"
        );

        // The licence page: a viewer sees no shipment form and no "Record event" button.
        let lp = format!("/licences/{id}?date=2023-12-01");
        let (st, html, _) = page(app, &viewer, "GET", &lp, None, here).await;
        assert_eq!(st, 200, "{b}");
        assert!(html.contains("id=\"drawdown\"") && html.contains("id=\"timeline\""));
        assert!(
            !html.contains("shipment-form") && !html.contains("Record event"),
            "{b}"
        );
        let (st, _, _) = page(app, &other, "GET", &lp, None, here).await;
        assert_eq!(st, 404, "{b}");
        let (st, _, _) = page(app, &viewer, "GET", "/licences/abc", None, here).await;
        assert_eq!(st, 404, "{b}");

        // Draw a shipment through the form; an over-quantity one is refused with the limit.
        let ship = format!("/licences/{id}/shipments");
        let form = "reference=S-1&date=2023-09-01&item=1&quantity=2&value=160&destination=chn&consignee=Gamma+Semiconductor+Co.%2C+Ltd.";
        let (st, _, _) = page(
            app,
            &analyst,
            "POST",
            &ship,
            Some(form),
            "http://evil.example",
        )
        .await;
        assert_eq!(st, 403, "{b}: cross-site form");
        let (st, _, _) = page(app, &viewer, "POST", &ship, Some(form), here).await;
        assert_eq!(st, 403, "{b}: a viewer cannot draw");
        let (st, _, loc) = page(app, &analyst, "POST", &ship, Some(form), here).await;
        assert_eq!(
            (st, loc.as_deref()),
            (
                303,
                Some(format!("/licences/{id}?date=2023-09-01&done=shipment#drawdown").as_str())
            ),
            "{b}"
        );
        let over = "reference=S-2&date=2023-10-01&item=1&quantity=4&destination=CHN&consignee=Gamma+Semiconductor+Co.%2C+Ltd.";
        let (st, html, _) = page(app, &analyst, "POST", &ship, Some(over), here).await;
        assert_eq!(st, 422, "{b}");
        assert!(
            html.contains("Refused: item line `1`: 4 exceeds the 3 left"),
            "{b}"
        );
        assert!(html.contains(r#"value="S-2""#), "{b}: the values are kept");
        let (st, _, _) = page(app, &other, "POST", &ship, Some(form), here).await;
        assert_eq!(st, 404, "{b}: another organisation's licence");

        // A proposed revocation's impact, shown and not recorded; then recorded.
        let ev = "kind=partial_revocation&date=2024-01-01&items=1&consignees=Delta+Integrated+Circuit+Co.%2C+Ltd.&reason=partly+revoked";
        let (st, html, _) = page(
            app,
            &viewer,
            "POST",
            &format!("/licences/{id}/impact"),
            Some(ev),
            here,
        )
        .await;
        assert_eq!(st, 200, "{b}");
        assert!(
            html.contains("Impact of the proposed partial revocation on 2024-01-01"),
            "{b}"
        );
        assert!(html.contains("Delta Integrated Circuit Co., Ltd."), "{b}");
        assert!(env
            .store
            .licence(nl.org.id, id)
            .await
            .unwrap()
            .events
            .is_empty());
        let (st, html, _) = page(
            app,
            &analyst,
            "POST",
            &format!("/licences/{id}/events"),
            Some("kind=suspension&date=2024-01-01&items=1&reason=r"),
            here,
        )
        .await;
        assert_eq!(st, 400, "{b}");
        assert!(html.contains("unknown field `items`"), "{b}");
        let (st, _, loc) = page(
            app,
            &analyst,
            "POST",
            &format!("/licences/{id}/events"),
            Some(ev),
            here,
        )
        .await;
        assert_eq!(st, 303, "{b}");
        assert!(loc.unwrap().contains("done=event"));
        assert_eq!(
            env.store.licence(nl.org.id, id).await.unwrap().events.len(),
            1
        );
        let (_, html, _) = page(
            app,
            &viewer,
            "GET",
            &format!("/licences/{id}?date=2024-02-01&done=event"),
            None,
            here,
        )
        .await;
        assert!(
            html.contains("Event recorded.") && html.contains("0 (revoked)"),
            "{b}"
        );
    }
}
