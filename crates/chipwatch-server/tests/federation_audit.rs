//! The audit says what federation and reads of shared data actually did: the outbox logs the
//! records it sends (not those it held back), a failed push is logged as failed, checkpoints
//! travel with batches and are kept by the receiver, and repeated identical reads are
//! summarised instead of flooding the log.

mod common;
use chipwatch_store::audit::{self, AuditEntry, AuditKey, Checkpoint};
use chipwatch_store::partner::OrgKind;
use common::*;
use serde_json::{json, Value};

async fn log(env: &Env) -> Vec<AuditEntry> {
    audit::entries(&env.store, None, 0, 100_000).await.unwrap()
}

fn detail(e: &AuditEntry) -> Value {
    serde_json::from_str(&e.detail).unwrap()
}

/// Owner with three records the peer's agreement covers; only the first may travel.
async fn setup(env: &Env) -> (Tenant, Tenant, [i64; 3]) {
    let owner = tenant(&env.store, "Owner").await;
    let peer = tenant_kind(&env.store, "Peer", OrgKind::Peer).await;
    let (st, v) = call(
        &env.app,
        "POST",
        "/api/v1/agreements",
        Some(&owner.admin),
        Some(
            json!({"grantee_org_id": peer.org.id, "items": ["*"], "metrics": ["*"],
                    "fields": ["provider", "value"]}),
        ),
    )
    .await;
    assert_eq!(st, 201, "{v}");
    let mut ids = [0; 3];
    for (i, (dist, tlp)) in [("all", "amber"), ("all", "red"), ("community", "amber")]
        .into_iter()
        .enumerate()
    {
        let mut body = record_body("N20", &format!("Firm {i}"), 10.0 + i as f64, dist);
        body["tlp"] = json!(tlp);
        let (st, v) = call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&owner.analyst),
            Some(body),
        )
        .await;
        assert_eq!(st, 201, "{v}");
        ids[i] = v["id"].as_i64().unwrap();
    }
    (owner, peer, ids)
}

#[tokio::test]
async fn the_outbox_logs_only_what_it_sends_with_a_checkpoint() {
    for env in envs().await {
        let b = &env.backend;
        let (_, peer, ids) = setup(&env).await;
        let before = log(&env).await.len();
        let (st, batch) = call(
            &env.app,
            "GET",
            "/api/v1/federation/outbox",
            Some(&peer.analyst),
            None,
        )
        .await;
        assert_eq!(st, 200, "{b}: {batch}");
        assert_eq!(
            batch["records"].as_array().unwrap().len(),
            1,
            "{b}: {batch}"
        );
        let cp: Checkpoint = serde_json::from_value(batch["checkpoint"].clone()).unwrap();
        assert!(cp.self_signed_ok(), "{b}");

        let new = log(&env).await.split_off(before);
        assert_eq!(new.len(), 1, "{b}: {new:?}");
        assert_eq!(new[0].action, "federation.outbox", "{b}");
        assert_eq!(
            detail(&new[0])["records"],
            json!([ids[0]]),
            "{b}: held-back records are not logged as released"
        );
    }
}

#[tokio::test]
async fn a_failed_push_is_logged_as_failed() {
    for env in envs().await {
        let b = &env.backend;
        let (owner, peer, ids) = setup(&env).await;
        // A port nobody listens on.
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        env.store
            .add_peer(
                "down",
                &format!("http://127.0.0.1:{port}"),
                "cw_x",
                peer.org.id,
                "test",
            )
            .await
            .unwrap();
        let before = log(&env).await.len();
        let (st, v) = call(
            &env.app,
            "POST",
            "/api/v1/federation/peers/down/push",
            Some(&owner.admin),
            None,
        )
        .await;
        assert_eq!(error_code(st, &v), "upstream_failed", "{b}");
        let new = log(&env).await.split_off(before);
        let actions: Vec<&str> = new.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["federation.push_failed"], "{b}");
        let d = detail(&new[0]);
        assert_eq!(d["not_delivered"], json!([ids[0]]), "{b}: {d}");
        assert!(
            d["error"].as_str().unwrap().starts_with("no answer"),
            "{b}: {d}"
        );
    }
}

#[tokio::test]
async fn received_checkpoints_are_kept_and_forged_ones_refused() {
    for env in envs().await {
        let b = &env.backend;
        let peer = tenant_kind(&env.store, "Peer", OrgKind::Peer).await;
        let key = AuditKey::generate();
        let cp = Checkpoint::sign(&key, 41, "ab12", 1_700_000_000_000);
        let send = |cp: Value| {
            call(
                &env.app,
                "POST",
                "/api/v1/federation/inbox",
                Some(&peer.analyst),
                Some(json!({"instance": "seoul", "records": [], "checkpoint": cp})),
            )
        };
        let (st, v) = send(serde_json::to_value(&cp).unwrap()).await;
        assert_eq!(st, 200, "{b}: {v}");
        let (st, _) = send(serde_json::to_value(&cp).unwrap()).await;
        assert_eq!(st, 200, "{b}: the same checkpoint again is fine");
        let kept = env.store.peer_checkpoints(peer.org.id).await.unwrap();
        assert_eq!(kept.len(), 1, "{b}");
        assert_eq!(kept[0].checkpoint, cp, "{b}");

        // Moved to another head without re-signing.
        let mut moved = cp.clone();
        moved.seq = 40;
        let (st, v) = send(serde_json::to_value(&moved).unwrap()).await;
        assert_eq!(error_code(st, &v), "validation_failed", "{b}: {v}");
        // Validly signed, but by another key under the pinned key id.
        let other = AuditKey::from_parts(&key.id, [3; 32]).unwrap();
        let (st, v) =
            send(serde_json::to_value(Checkpoint::sign(&other, 42, "cd", 1)).unwrap()).await;
        assert_eq!(error_code(st, &v), "validation_failed", "{b}: {v}");
        assert_eq!(
            env.store.peer_checkpoints(peer.org.id).await.unwrap().len(),
            1,
            "{b}"
        );
        // The table is append-only.
        let e = chipwatch_store::sqlx::query("DELETE FROM audit_checkpoints")
            .execute(env.store.pool())
            .await;
        assert!(e.is_err(), "{b}");
    }
}

#[tokio::test]
async fn repeated_reads_are_summarised_not_flooding_the_log() {
    for env in envs().await {
        let b = &env.backend;
        let owner = tenant(&env.store, "Owner").await;
        let reader = tenant(&env.store, "Reader").await;
        let (st, _) = call(
            &env.app,
            "POST",
            "/api/v1/agreements",
            Some(&owner.admin),
            Some(json!({"grantee_org_id": reader.org.id, "items": ["*"], "metrics": ["*"], "fields": ["value"]})),
        )
        .await;
        assert_eq!(st, 201);
        let (_, r) = call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&owner.analyst),
            Some(record_body("N20", "A", 1.0, "community")),
        )
        .await;
        let first_id = r["id"].as_i64().unwrap();

        let count = |entries: &[AuditEntry], action: &str| {
            entries.iter().filter(|e| e.action == action).count()
        };
        reads(&env, &reader.viewer, 50).await;
        let l = log(&env).await;
        assert_eq!(
            count(&l, "records.read"),
            1,
            "{b}: 50 identical reads, one entry"
        );
        let first = l.iter().find(|e| e.action == "records.read").unwrap();
        assert_eq!(detail(first)["records"], json!([first_id]), "{b}");

        // A different released set is logged at once.
        call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(&owner.analyst),
            Some(record_body("N20", "B", 2.0, "community")),
        )
        .await;
        reads(&env, &reader.viewer, 3).await;
        let l = log(&env).await;
        assert_eq!(count(&l, "records.read"), 2, "{b}");

        // When the windows close, the repetitions are counted in one entry each.
        chipwatch_server::access_log::flush(&env.state, true)
            .await
            .unwrap();
        let l = log(&env).await;
        let sums: Vec<Value> = l
            .iter()
            .filter(|e| e.action == "records.read.repeated")
            .map(detail)
            .collect();
        assert_eq!(sums.len(), 2, "{b}: {sums:?}");
        assert_eq!(
            sums.iter()
                .map(|d| d["repeats"].as_u64().unwrap())
                .sum::<u64>(),
            49 + 2,
            "{b}: {sums:?}"
        );
        let of_first = sums
            .iter()
            .find(|d| d["first_seq"] == json!(first.seq))
            .unwrap();
        assert_eq!(of_first["repeats"], 49, "{b}: {sums:?}");
        assert!(audit::verify(&env.store).await.unwrap().ok(), "{b}");
    }
}

async fn reads(env: &Env, token: &str, n: usize) {
    for _ in 0..n {
        let (st, v) = call(
            &env.app,
            "GET",
            "/api/v1/records?scope=shared",
            Some(token),
            None,
        )
        .await;
        assert_eq!(st, 200, "{v}");
    }
}
