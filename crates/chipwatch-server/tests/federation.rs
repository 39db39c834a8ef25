//! Federation between two instances over loopback ("Seoul" and "The Hague"), each a real HTTP
//! server on its own database: push and pull follow the agreements, masked fields stay masked,
//! and no distribution level widens on the way.

mod common;
use chipwatch_server::{app, AppState};
use chipwatch_store::partner::{OrgKind, Role};
use common::*;
use serde_json::{json, Value};

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
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let name = format!(
        "federation{}",
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let u = env
        .store
        .create_user(org.id, &name, Role::Analyst, "test")
        .await
        .unwrap();
    let secret = chipwatch_server::auth::new_token_secret();
    env.store
        .create_token(u.id, &secret, "federation", None, "test")
        .await
        .unwrap();
    secret
}

fn rank(d: &str) -> u8 {
    match d {
        "organisation_only" | "sharing_group" => 0,
        "community" => 1,
        "connected_communities" => 2,
        "all" => 3,
        other => panic!("unknown distribution {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_and_pull_between_two_instances() {
    let seoul = envs().await.remove(0);
    let hague = envs().await.remove(0);
    let (seoul_url, hague_url) = (start(&seoul).await, start(&hague).await);

    let motie = tenant(&seoul.store, "MOTIE").await;
    let kr_company = tenant(&seoul.store, "KR Company").await;
    let nl_on_seoul = seoul
        .store
        .create_org("NL-Hague", OrgKind::Peer, "test")
        .await
        .unwrap();
    let minezk = tenant(&hague.store, "MinEZK").await;
    let kr_on_hague = hague
        .store
        .create_org("KR-Seoul", OrgKind::Peer, "test")
        .await
        .unwrap();

    // Each side issues a token to the other and registers it as a peer.
    let t_hague_for_seoul = peer_token(&hague, &kr_on_hague).await;
    let t_seoul_for_hague = peer_token(&seoul, &nl_on_seoul).await;
    seoul
        .store
        .add_peer(
            "hague",
            &hague_url,
            &t_hague_for_seoul,
            nl_on_seoul.id,
            "test",
        )
        .await
        .unwrap();
    hague
        .store
        .add_peer(
            "seoul",
            &seoul_url,
            &t_seoul_for_hague,
            kr_on_hague.id,
            "test",
        )
        .await
        .unwrap();

    // MOTIE publishes N20 capacity under every distribution level, plus a TLP:RED one and an
    // out-of-agreement item; the agreement with the Hague releases provider and value only.
    let mut uids = std::collections::BTreeMap::new();
    for d in [
        "organisation_only",
        "community",
        "connected_communities",
        "all",
    ] {
        let (st, r) = call(
            &seoul.app,
            "POST",
            "/api/v1/records",
            Some(&motie.analyst),
            Some(record_body("N20", &format!("firm-{d}"), 10.0, d)),
        )
        .await;
        assert_eq!(st, 201, "{r}");
        uids.insert(r["uid"].as_str().unwrap().to_string(), d);
    }
    let mut red = record_body("N20", "firm-red", 1.0, "all");
    red["tlp"] = json!("red");
    call(
        &seoul.app,
        "POST",
        "/api/v1/records",
        Some(&motie.analyst),
        Some(red),
    )
    .await;
    call(
        &seoul.app,
        "POST",
        "/api/v1/records",
        Some(&motie.analyst),
        Some(record_body("N22", "firm-n22", 1.0, "all")),
    )
    .await;
    let (st, _) = call(&seoul.app, "POST", "/api/v1/agreements", Some(&motie.admin), Some(json!({
        "grantee_org_id": nl_on_seoul.id, "items": ["N20"], "metrics": ["capacity"], "fields": ["provider", "value"]
    }))).await;
    assert_eq!(st, 201);

    // A peer token cannot use tenant endpoints, and a tenant cannot use the inbox.
    let (st, _) = call(
        &seoul.app,
        "GET",
        "/api/v1/records",
        Some(&t_seoul_for_hague),
        None,
    )
    .await;
    assert_eq!(st, 403);
    let (st, _) = call(
        &seoul.app,
        "POST",
        "/api/v1/federation/inbox",
        Some(&motie.admin),
        Some(json!({"instance": "x", "records": []})),
    )
    .await;
    assert_eq!(st, 403);
    // Only admins trigger federation.
    let (st, _) = call(
        &seoul.app,
        "POST",
        "/api/v1/federation/peers/hague/push",
        Some(&motie.analyst),
        None,
    )
    .await;
    assert_eq!(st, 403);

    // Push Seoul -> The Hague.
    let (st, pushed) = call(
        &seoul.app,
        "POST",
        "/api/v1/federation/peers/hague/push",
        Some(&motie.admin),
        None,
    )
    .await;
    assert_eq!(st, 200, "{pushed}");
    assert_eq!(
        pushed["sent"], 2,
        "connected_communities and all travel; narrower, red and unagreed do not: {pushed}"
    );
    assert_eq!(pushed["peer_counts"]["inserted"], 2);

    let check_arrivals = |v: &Value| {
        let recs = v["records"].as_array().unwrap().clone();
        assert_eq!(recs.len(), 2, "{v}");
        for r in &recs {
            let orig = uids[r["uid"].as_str().unwrap()];
            let now = r["distribution"].as_str().unwrap();
            assert!(
                rank(now) <= rank(orig),
                "distribution widened: {orig} -> {now}"
            );
            assert!(rank(now) < 3 || orig == "all");
            assert_eq!(r["value"], 10.0);
            assert!(r["provider"].as_str().unwrap().starts_with("firm-"));
            assert!(
                r.get("site").is_none() && r.get("unit").is_none(),
                "masked fields travelled: {r}"
            );
        }
        recs
    };
    // On the Hague, a local org sees the copies by their narrowed level.
    let (_, v) = call(
        &hague.app,
        "GET",
        "/api/v1/records",
        Some(&minezk.viewer),
        None,
    )
    .await;
    let recs = check_arrivals(&v);
    assert!(recs.iter().any(|r| r["distribution"] == "community"));
    assert!(recs.iter().any(|r| r["distribution"] == "all"));

    // Pull The Hague <- Seoul: the same records, updated in place, nothing new.
    let (st, pulled) = call(
        &hague.app,
        "POST",
        "/api/v1/federation/peers/seoul/pull",
        Some(&minezk.admin),
        None,
    )
    .await;
    assert_eq!(st, 200, "{pulled}");
    assert_eq!(
        (pulled["inserted"].as_u64(), pulled["updated"].as_u64()),
        (Some(0), Some(2)),
        "{pulled}"
    );
    let (_, v) = call(
        &hague.app,
        "GET",
        "/api/v1/records",
        Some(&minezk.viewer),
        None,
    )
    .await;
    check_arrivals(&v);

    // Records sent back from The Hague to Seoul never widen either: the Hague has no agreement
    // for the Seoul peer, so it sends nothing.
    let t2 = peer_token(&seoul, &nl_on_seoul).await;
    let (_, out) = call(
        &seoul.app,
        "GET",
        "/api/v1/federation/outbox",
        Some(&t2),
        None,
    )
    .await;
    assert_eq!(out["records"].as_array().unwrap().len(), 2);
    // A misbehaving sender cannot widen: the Hague's inbox refuses organisation_only.
    let (st, v) = call(&hague.app, "POST", "/api/v1/federation/inbox", Some(&t_hague_for_seoul), Some(json!({
        "instance": "rogue", "records": [{"uid": "u1", "item": "N20", "metric": "capacity", "tlp": "amber",
        "distribution": "organisation_only", "provider": null, "site": null, "country": null, "value": 1.0,
        "unit": null, "period": null, "provenance": null, "origin": "rogue/u1"}]
    }))).await;
    assert_eq!(error_code(st, &v), "validation_failed");

    // Revoking the agreement stops the next push at once.
    let (_, ags) = call(
        &seoul.app,
        "GET",
        "/api/v1/agreements",
        Some(&motie.admin),
        None,
    )
    .await;
    let id = ags["agreements"][0]["id"].as_i64().unwrap();
    call(
        &seoul.app,
        "POST",
        &format!("/api/v1/agreements/{id}/revoke"),
        Some(&motie.admin),
        None,
    )
    .await;
    let (_, pushed) = call(
        &seoul.app,
        "POST",
        "/api/v1/federation/peers/hague/push",
        Some(&motie.admin),
        None,
    )
    .await;
    assert_eq!(pushed["sent"], 0, "{pushed}");
    // Seoul's other tenant never saw MOTIE's data at all.
    let (_, v) = call(
        &seoul.app,
        "GET",
        "/api/v1/records",
        Some(&kr_company.admin),
        None,
    )
    .await;
    assert_eq!(v["records"].as_array().unwrap().len(), 0);
    // Both audit chains verify and record the federation.
    for env in [&seoul, &hague] {
        let r = chipwatch_store::audit::verify(&env.store).await.unwrap();
        assert!(r.ok(), "{:?}", r.problems);
        let all = chipwatch_store::audit::entries(&env.store, None, 0, 10_000)
            .await
            .unwrap();
        assert!(all.iter().any(|e| e.action.starts_with("federation.")));
    }
    // The Hague kept Seoul's signed audit checkpoints, from the pushes and from the pull (Seoul's
    // head moved in between: each push was logged), and they are Seoul's own.
    let kept = hague.store.peer_checkpoints(kr_on_hague.id).await.unwrap();
    assert!(
        kept.len() >= 2,
        "checkpoints travel with federation batches: {kept:?}"
    );
    assert!(kept
        .windows(2)
        .all(|w| w[0].checkpoint.seq < w[1].checkpoint.seq));
    let seoul_keys = &seoul.store.audit_config().unwrap().keys;
    assert!(kept.iter().all(|k| k.checkpoint.verify_with(seoul_keys)));
    assert!(seoul
        .store
        .peer_checkpoints(nl_on_seoul.id)
        .await
        .unwrap()
        .is_empty());
    let _ = AppState::clone(&seoul.state);
}
