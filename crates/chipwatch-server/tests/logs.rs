//! Tokens never reach the log; failed authentications and denied functions do. In a test binary
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
    let log = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
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
