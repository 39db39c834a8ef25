//! Denial notices through the API (`/api/v1/licences/denials`), on every backend: roles, bad
//! input on every endpoint, per-organisation visibility (404 for others), agreement-scoped
//! fields, revocation, append-only withdrawal, the licence check's `partner_denials` for a
//! variant spelling of the end user, and federation between two instances.

mod common;
use chipwatch_server::app;
use chipwatch_store::partner::{OrgKind, Role};
use common::*;
use serde_json::{json, Value};

const PATH: &str = "/api/v1/licences/denials";

fn notice_body() -> Value {
    json!({
        "reference": "BAFA-2025-0042", "authority": "BAFA", "jurisdiction": "DEU",
        "denied_on": "2025-03-14", "destination": "CHN",
        "item": {"description": "DUV immersion scanner", "product": "NXT:2000i", "control_entry": "3B001.f.1"},
        "end_user": "Shanghai Micro Electronics Equipment Co., Ltd.", "end_user_aliases": ["SMEE"],
        "consignees": ["Acme Trading Ltd"], "reason_category": "military_end_use",
        "reason": "supplies military programmes", "distribution": "community"
    })
}

fn check_body(end_user: &str) -> Value {
    json!({"product": "ASML TWINSCAN NXT:2000i", "from": "NLD", "to": "CHN", "date": "2026-06-01",
           "end_user": end_user})
}

async fn check(app: &axum::Router, token: &str, end_user: &str) -> Vec<Value> {
    let (st, v) = call(
        app,
        "POST",
        "/api/v1/licence/check",
        Some(token),
        Some(check_body(end_user)),
    )
    .await;
    assert_eq!(st, 200, "{v}");
    v["partner_denials"].as_array().unwrap().clone()
}

#[tokio::test]
async fn publish_share_match_and_withdraw() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let de = tenant(&env.store, "BAFA").await;
        let kr = tenant(&env.store, "MOTIE").await;
        let jp = tenant(&env.store, "METI").await;

        // Roles and bad input on publish.
        let (st, v) = call(app, "POST", PATH, Some(&de.viewer), Some(notice_body())).await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        for (key, value, code) in [
            ("destination", json!("China"), "validation_failed"),
            ("destination", json!("chn"), "validation_failed"),
            ("jurisdiction", json!("Germany"), "validation_failed"),
            ("denied_on", json!("2025-02-30"), "validation_failed"),
            ("reason_category", json!("because"), "validation_failed"),
            ("reference", json!(" "), "validation_failed"),
            ("tlp", json!("purple"), "validation_failed"),
            ("distribution", json!("everyone"), "validation_failed"),
            ("end_user", json!(null), "validation_failed"), // aliases without their end user
            ("item", json!({"description": ""}), "validation_failed"),
            (
                "item",
                json!({"description": "x", "colour": "red"}),
                "unknown_field",
            ),
            ("colour", json!("red"), "unknown_field"),
            ("denied_on", json!(20250314), "invalid_json"),
            ("distribution", json!("sharing_group"), "validation_failed"), // without a group
            ("sharing_group_id", json!(5), "validation_failed"),           // with community
            ("consignees", json!(vec!["x"; 51]), "validation_failed"),
        ] {
            let mut body = notice_body();
            body[key] = value.clone();
            let (st, v) = call(app, "POST", PATH, Some(&de.analyst), Some(body)).await;
            assert_eq!(error_code(st, &v), code, "{b}: {key}={value} -> {v}");
            if code == "validation_failed" && key != "end_user" {
                assert!(v.to_string().contains(key), "{b}: error names {key}: {v}");
            }
        }
        let (st, n) = call(app, "POST", PATH, Some(&de.analyst), Some(notice_body())).await;
        assert_eq!(st, 201, "{b}: {n}");
        let id = n["id"].as_i64().unwrap();
        let (st, v) = call(app, "POST", PATH, Some(&de.analyst), Some(notice_body())).await;
        assert_eq!(error_code(st, &v), "conflict", "{b}: {v}");

        // The owner lists and shows it; other organisations see nothing and get 404.
        let (st, l) = call(app, "GET", PATH, Some(&de.viewer), None).await;
        assert_eq!(st, 200);
        assert_eq!(l["denials"].as_array().unwrap().len(), 1, "{b}: {l}");
        assert_eq!(l["denials"][0]["reason"], "supplies military programmes");
        let show = format!("{PATH}/{id}");
        let (st, _) = call(app, "GET", &show, Some(&de.viewer), None).await;
        assert_eq!(st, 200);
        for t in kr.tokens() {
            let (_, l) = call(app, "GET", PATH, Some(t), None).await;
            assert_eq!(l["denials"], json!([]), "{b}");
            let (st, v) = call(app, "GET", &show, Some(t), None).await;
            assert_eq!(error_code(st, &v), "not_found", "{b}");
        }
        assert!(
            check(app, &kr.analyst, "Shanghai Micro Electronics Equipment")
                .await
                .is_empty()
        );

        // An agreement listing `denial_notice` releases the end user, not the reason.
        let (st, ag) = call(app, "POST", "/api/v1/agreements", Some(&de.admin), Some(json!({
            "grantee_org_id": kr.org.id, "items": ["*"], "metrics": ["denial_notice"], "fields": ["end_user"]}))).await;
        assert_eq!(st, 201, "{b}: {ag}");
        let (_, l) = call(app, "GET", PATH, Some(&kr.viewer), None).await;
        let seen = &l["denials"][0];
        assert_eq!(seen["id"], id, "{b}: {l}");
        assert!(
            seen.get("reason").is_none() && seen.get("consignees").is_none(),
            "{b}: {seen}"
        );
        assert_eq!(seen["withheld"], json!(["consignees", "reason"]));
        assert_eq!(seen["authority"], "BAFA");
        let (st, _) = call(app, "GET", &show, Some(&kr.viewer), None).await;
        assert_eq!(st, 200);
        // Scope filters: the partner's notice is shared, not own.
        let (_, l) = call(
            app,
            "GET",
            &format!("{PATH}?scope=own"),
            Some(&kr.viewer),
            None,
        )
        .await;
        assert_eq!(l["denials"], json!([]));
        let (_, l) = call(
            app,
            "GET",
            &format!("{PATH}?scope=shared&destination=CHN&q=duv"),
            Some(&kr.viewer),
            None,
        )
        .await;
        assert_eq!(l["denials"].as_array().unwrap().len(), 1, "{b}: {l}");
        let (_, l) = call(
            app,
            "GET",
            &format!("{PATH}?destination=RUS"),
            Some(&kr.viewer),
            None,
        )
        .await;
        assert_eq!(l["denials"], json!([]));

        // The licence check matches a variant spelling of the end user (and the acronym).
        for variant in [
            "SHANGHAI MICROELECTRONICS EQUIPMENT CO LTD",
            "Shanghai Micro Electronic Equipment",
            "SMEE",
        ] {
            let m = check(app, &kr.analyst, variant).await;
            assert_eq!(m.len(), 1, "{b}: {variant}: {m:?}");
            assert_eq!(m[0]["authority"], "BAFA");
            assert_eq!(m[0]["denied_on"], "2025-03-14");
            assert_eq!(m[0]["reason_category"], "military_end_use");
            assert!(m[0]["reason"].is_null(), "{b}: reason withheld: {}", m[0]);
            assert_eq!(m[0]["match"]["item_rule"], "product");
            assert!(m[0]["consult"]
                .as_str()
                .unwrap()
                .contains("consult the issuing authority"));
        }
        // Near misses do not.
        assert!(
            check(app, &kr.analyst, "Shanghai Microelectronics Institute")
                .await
                .is_empty()
        );
        // A consignee counts as a party.
        let mut body = check_body("Someone Else");
        body["parties"] = json!([{"role": "consignee", "name": "ACME TRADING LIMITED"}]);
        let (_, v) = call(
            app,
            "POST",
            "/api/v1/licence/check",
            Some(&de.analyst),
            Some(body),
        )
        .await;
        assert_eq!(
            v["partner_denials"][0]["match"]["notice_field"], "consignee",
            "{b}: {v}"
        );
        // A third organisation sees nothing.
        assert!(check(app, &jp.analyst, "SMEE").await.is_empty());

        // Revocation releases nothing from the next request on.
        let (st, _) = call(
            app,
            "POST",
            &format!("/api/v1/agreements/{}/revoke", ag["id"]),
            Some(&de.admin),
            None,
        )
        .await;
        assert!(st.is_success(), "{b}: {st}");
        assert!(check(app, &kr.analyst, "SMEE").await.is_empty());
        let (st, _) = call(app, "GET", &show, Some(&kr.viewer), None).await;
        assert_eq!(st, 404);

        // Withdrawal: roles, other organisations, bad input, once only.
        let wpath = format!("{show}/withdrawal");
        let good = json!({"withdrawn_on": "2025-09-01", "reason": "end user left the programme"});
        let (st, v) = call(app, "POST", &wpath, Some(&de.viewer), Some(good.clone())).await;
        assert_eq!(error_code(st, &v), "forbidden", "{b}");
        let (st, v) = call(app, "POST", &wpath, Some(&kr.analyst), Some(good.clone())).await;
        assert_eq!(error_code(st, &v), "not_found", "{b}");
        for (body, code) in [
            (
                json!({"withdrawn_on": "2025-01-01", "reason": "x"}),
                "validation_failed",
            ),
            (
                json!({"withdrawn_on": "yesterday", "reason": "x"}),
                "validation_failed",
            ),
            (
                json!({"withdrawn_on": "2025-09-01", "reason": " "}),
                "validation_failed",
            ),
            (json!({"withdrawn_on": "2025-09-01"}), "invalid_json"),
            (
                json!({"withdrawn_on": "2025-09-01", "reason": "x", "by": "me"}),
                "unknown_field",
            ),
        ] {
            let (st, v) = call(app, "POST", &wpath, Some(&de.analyst), Some(body.clone())).await;
            assert_eq!(error_code(st, &v), code, "{b}: {body} -> {v}");
        }
        let (st, v) = call(
            app,
            "POST",
            &format!("{PATH}/999999/withdrawal"),
            Some(&de.analyst),
            Some(good.clone()),
        )
        .await;
        assert_eq!(error_code(st, &v), "not_found", "{b}");
        let (st, w) = call(app, "POST", &wpath, Some(&de.analyst), Some(good.clone())).await;
        assert_eq!(st, 201, "{b}: {w}");
        assert_eq!(w["withdrawn_on"], "2025-09-01");
        let (st, v) = call(app, "POST", &wpath, Some(&de.analyst), Some(good)).await;
        assert_eq!(error_code(st, &v), "conflict", "{b}: {v}");
        let (_, l) = call(app, "GET", PATH, Some(&de.viewer), None).await;
        assert_eq!(
            l["denials"],
            json!([]),
            "{b}: withdrawn notices are left out"
        );
        let (_, l) = call(
            app,
            "GET",
            &format!("{PATH}?include_withdrawn=true"),
            Some(&de.viewer),
            None,
        )
        .await;
        assert_eq!(
            l["denials"][0]["withdrawal_reason"],
            "end user left the programme"
        );

        // Bad list filters.
        for q in [
            "scope=mine",
            "destination=China",
            "include_withdrawn=perhaps",
            "colour=red",
        ] {
            let (st, v) = call(app, "GET", &format!("{PATH}?{q}"), Some(&de.viewer), None).await;
            assert_eq!(st, 400, "{b}: {q}: {v}");
            error_code(st, &v);
        }
        // The audit chain names publish and withdraw.
        let log = chipwatch_store::audit::entries(&env.store, None, 0, 10_000)
            .await
            .unwrap();
        for action in ["denial.publish", "denial.withdraw", "denials.read"] {
            assert!(log.iter().any(|e| e.action == action), "{b}: {action}");
        }
    }
}

async fn start(env: &Env) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = app(env.state.clone());
    tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    format!("http://{addr}")
}

async fn peer_token(env: &Env, org: &chipwatch_store::partner::Org) -> String {
    let u = env
        .store
        .create_user(org.id, "federation", Role::Analyst, "test")
        .await
        .unwrap();
    let secret = chipwatch_server::auth::new_token_secret();
    env.store
        .create_token(u.id, &secret, "federation", None, "test")
        .await
        .unwrap();
    secret
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notices_are_federated_masked_and_matched_on_the_other_instance() {
    let berlin = envs().await.remove(0);
    let seoul = envs().await.remove(0);
    let seoul_url = start(&seoul).await;
    let bafa = tenant(&berlin.store, "BAFA").await;
    let kr_on_berlin = berlin
        .store
        .create_org("KR-Seoul", OrgKind::Peer, "test")
        .await
        .unwrap();
    let motie = tenant(&seoul.store, "MOTIE").await;
    let de_on_seoul = seoul
        .store
        .create_org("DE-Berlin", OrgKind::Peer, "test")
        .await
        .unwrap();
    let token = peer_token(&seoul, &de_on_seoul).await;
    berlin
        .store
        .add_peer("seoul", &seoul_url, &token, kr_on_berlin.id, "test")
        .await
        .unwrap();

    // Four notices: connected (travels), organisation only (stays), TLP:RED (stays), and one
    // that travels and is withdrawn later.
    let mut ids = Vec::new();
    for (r, dist, tlp) in [
        ("N-1", "connected_communities", "amber"),
        ("N-2", "organisation_only", "amber"),
        ("N-3", "all", "red"),
        ("N-4", "all", "green"),
        ("N-5", "all", "green"),
    ] {
        let mut body = notice_body();
        body["reference"] = json!(r);
        body["distribution"] = json!(dist);
        body["tlp"] = json!(tlp);
        if r == "N-5" {
            // Consignees only, which the agreement withholds: the copy travels without parties.
            body.as_object_mut().unwrap().remove("end_user");
            body["end_user_aliases"] = json!([]);
        }
        if r == "N-4" {
            body["end_user"] = json!("Other End User Ltd");
            body["end_user_aliases"] = json!([]);
        }
        let (st, v) = call(&berlin.app, "POST", PATH, Some(&bafa.analyst), Some(body)).await;
        assert_eq!(st, 201, "{v}");
        ids.push(v["id"].as_i64().unwrap());
    }
    let (st, _) = call(&berlin.app, "POST", "/api/v1/agreements", Some(&bafa.admin), Some(json!({
        "grantee_org_id": kr_on_berlin.id, "items": ["*"], "metrics": ["denial_notice"], "fields": ["end_user", "reason"]}))).await;
    assert_eq!(st, 201);
    let push = |app: axum::Router, admin: String| async move {
        let (st, v) = call(
            &app,
            "POST",
            "/api/v1/federation/peers/seoul/push",
            Some(&admin),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
        v
    };
    let v = push(berlin.app.clone(), bafa.admin.clone()).await;
    assert_eq!(v["peer_counts"]["denials"]["inserted"], 3, "{v}");

    // On Seoul: the two notices, masked (no consignees), at narrowed levels; the check matches.
    let (_, l) = call(&seoul.app, "GET", PATH, Some(&motie.viewer), None).await;
    let got = l["denials"].as_array().unwrap();
    assert_eq!(got.len(), 3, "{l}");
    for n in got {
        assert_eq!(n["federated"], true);
        assert!(n.get("consignees").is_none(), "masked at the sender: {n}");
        assert!(n["reason"].is_string(), "released: {n}");
        assert_ne!(n["tlp"], "red");
        assert!(
            ["community", "all"].contains(&n["distribution"].as_str().unwrap()),
            "{n}"
        );
    }
    let m = check(
        &seoul.app,
        &motie.analyst,
        "Shanghai Micro Electronics Equipment Company Limited",
    )
    .await;
    assert_eq!(m.len(), 1, "{m:?}");
    assert_eq!(m[0]["reference"], "N-1");
    assert_eq!(m[0]["federated"], true);

    // A withdrawal travels with the next push and is appended to the copy.
    let (st, _) = call(
        &berlin.app,
        "POST",
        &format!("{PATH}/{}/withdrawal", ids[0]),
        Some(&bafa.analyst),
        Some(json!({"withdrawn_on": "2025-10-01", "reason": "lifted"})),
    )
    .await;
    assert_eq!(st, 201);
    let v = push(berlin.app.clone(), bafa.admin.clone()).await;
    assert_eq!(v["peer_counts"]["denials"]["withdrawn"], 1, "{v}");
    assert!(check(&seoul.app, &motie.analyst, "SMEE").await.is_empty());
    // The federated copy cannot be withdrawn on the receiving side.
    let (_, l) = call(
        &seoul.app,
        "GET",
        &format!("{PATH}?include_withdrawn=true"),
        Some(&motie.viewer),
        None,
    )
    .await;
    let copy = l["denials"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["reference"] == "N-4")
        .unwrap()
        .clone();
    let (st, _) = call(
        &seoul.app,
        "POST",
        &format!("{PATH}/{}/withdrawal", copy["id"]),
        Some(&motie.analyst),
        Some(json!({"withdrawn_on": "2025-10-01", "reason": "x"})),
    )
    .await;
    assert_eq!(st, 404);
    // A TLP:RED notice pushed by a misconfigured sender is refused by the receiver.
    let mut batch = json!({"instance": "rogue", "records": [], "denials": [{"uid": "r1", "origin": "rogue/r1",
        "tlp": "red", "distribution": "all", "notice": notice_body()}]});
    batch["denials"][0]["notice"]
        .as_object_mut()
        .unwrap()
        .retain(|k, _| !["tlp", "distribution"].contains(&k.as_str()));
    let (st, v) = call(
        &seoul.app,
        "POST",
        "/api/v1/federation/inbox",
        Some(&token),
        Some(batch),
    )
    .await;
    assert_eq!(error_code(st, &v), "validation_failed", "{v}");
}
