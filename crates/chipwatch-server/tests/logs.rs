//! Tokens (and session secrets) never reach the log; failed authentications and denied functions
//! do, each with the caller's source address. In a test binary
//! of its own: tracing caches per-callsite interest process-wide, so a scoped subscriber only
//! sees everything when no other test thread runs at the same time.

mod common;
use common::*;
use serde_json::json;

/// A writer that appends to a shared buffer.
#[derive(Clone, Default)]
struct Buf(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Buf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn tokens_never_reach_the_log() {
    let buf = Buf::default();
    let writer = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .json()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    let env = envs().await.remove(0);
    let a = tenant(&env.store, "A").await;
    let b = tenant(&env.store, "B").await;
    let bogus = "cw_deadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeefdeadbeef";
    let mut secrets = vec![bogus.to_string(), a.admin.clone(), b.viewer.clone()];
    for t in [a.admin.as_str(), b.viewer.as_str(), bogus] {
        call(&env.app, "GET", "/api/v1/me", Some(t), None).await;
        call(
            &env.app,
            "POST",
            "/api/v1/records",
            Some(t),
            Some(record_body("N20", "x", 1.0, "all")),
        )
        .await;
        call(&env.app, "GET", "/api/v1/audit", Some(t), None).await;
    }
    let (_, users) = call(
        &env.app,
        "GET",
        &format!("/api/v1/orgs/{}/users", a.org.id),
        Some(&a.admin),
        None,
    )
    .await;
    let (_, tok) = call(
        &env.app,
        "POST",
        "/api/v1/tokens",
        Some(&a.admin),
        Some(json!({"user_id": users["users"][0]["id"], "label": "x"})),
    )
    .await;
    secrets.push(tok["token"].as_str().unwrap().to_string());

    // Every authentication and authorisation failure names the source address.
    let from = |path: &str, token: &str| {
        from_source(
            axum::http::Request::builder()
                .uri(path)
                .header("authorization", format!("Bearer {token}"))
                .body(axum::body::Body::empty())
                .unwrap(),
            "192.0.2.77:5555",
        )
    };
    let peer = tenant_kind(&env.store, "Peer", chipwatch_store::partner::OrgKind::Peer).await;
    let session = dashboard_login(&env.app, &a.viewer).await.unwrap();
    secrets.push(session.clone());
    secrets.push(peer.admin.clone());
    let probes = [
        ("/api/v1/me", bogus.to_string()),              // unknown token
        ("/api/v1/audit", b.viewer.clone()),            // role too low
        ("/api/v1/items", peer.admin.clone()),          // peer outside federation
        ("/api/v1/federation/outbox", a.admin.clone()), // tenant on a peer route
        ("/api/v1/me", session.clone()),                // session as bearer token
    ];
    for (path, token) in &probes {
        let (st, _) = send(&env.app, from(path, token)).await;
        assert!(st == 401 || st == 403, "{path}: {st}");
    }
    // An object-level refusal (404, like a missing object) is on the access line with its source.
    let other_org = format!("/api/v1/orgs/{}/users", a.org.id);
    let (st, _) = send(&env.app, from(&other_org, &b.admin)).await;
    assert_eq!(st, 404);
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(
        log.lines().any(|l| l.contains("\"status\":404")
            && l.contains("/api/v1/orgs/{id}/users")
            && l.contains("\"source\":\"192.0.2.77\"")),
        "the cross-tenant 404 is logged with its source"
    );
    let failures: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("authentication failed") || l.contains("authorisation failed"))
        .collect();
    let from_probe: Vec<&&str> = failures
        .iter()
        .filter(|l| l.contains("\"source\":\"192.0.2.77\""))
        .collect();
    assert!(
        from_probe.len() >= probes.len(),
        "each probe's failure is logged with its source address: {failures:#?}"
    );
    for reason in [
        "unknown_token",
        "peer_outside_federation",
        "tenant_on_federation_endpoint",
        "session_as_bearer_token",
    ] {
        assert!(
            from_probe.iter().any(|l| l.contains(reason)),
            "no {reason} failure from the probe address: {failures:#?}"
        );
    }
    assert!(
        failures.iter().all(|l| l.contains("\"source\":")),
        "a failure without a source field: {failures:#?}"
    );
    assert!(
        log.contains("authentication failed"),
        "failed logins must be logged"
    );
    assert!(
        log.contains("authorisation failed"),
        "denied functions must be logged: {log}"
    );
    for s in &secrets {
        assert!(!log.contains(s.as_str()), "token in log");
        assert!(!log.contains(&s[3..20]), "token fragment in log");
    }
}
