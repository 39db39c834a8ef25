//! Abuse limits: failed authentications are limited per source address and per token prefix
//! (429 `rate_limited` with `Retry-After`, before any database lookup), and `/metrics` needs an
//! admin token unless it is served on its own, admin-chosen listener.

mod common;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use chipwatch_server::{app, AppState, Security};
use common::*;
use tower::ServiceExt;

fn bearer(path: &str, token: &str, source: &str) -> Request<Body> {
    from_source(
        Request::builder()
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .body(Body::empty())
            .unwrap(),
        source,
    )
}

fn random_token() -> String {
    chipwatch_server::auth::new_token_secret()
}

async fn retry_after(app: &axum::Router, req: Request<Body>) -> Option<u64> {
    let resp = app.clone().oneshot(req).await.unwrap();
    if resp.status() != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    resp.headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
}

#[tokio::test]
async fn failed_authentication_is_limited_per_source_address() {
    let env = envs().await.remove(0);
    let a = tenant(&env.store, "A").await;
    let limit = env.state.security.failures_per_source;
    assert!(limit >= 5, "default limit {limit}");
    for _ in 0..limit {
        let (st, v) = send(
            &env.app,
            bearer("/api/v1/me", &random_token(), "10.1.1.1:4000"),
        )
        .await;
        assert_eq!(error_code(st, &v), "unauthenticated");
    }
    // Over the limit: even a valid token from that address waits, and is told how long.
    let (st, v) = send(&env.app, bearer("/api/v1/me", &a.viewer, "10.1.1.1:4001")).await;
    assert_eq!(error_code(st, &v), "rate_limited", "{v}");
    let wait = retry_after(
        &env.app,
        bearer("/api/v1/me", &random_token(), "10.1.1.1:4002"),
    )
    .await
    .expect("429 with a Retry-After header");
    assert!(wait >= 1 && wait <= env.state.security.failure_window.as_secs());
    // Another address is not affected; nor is the same /64 of IPv6 spared by changing the host.
    let (st, _) = send(&env.app, bearer("/api/v1/me", &a.viewer, "10.1.1.2:4000")).await;
    assert_eq!(st, 200);
    for i in 0..limit {
        let src = format!("[2001:db8:1:2::{i:x}]:443");
        send(&env.app, bearer("/api/v1/me", &random_token(), &src)).await;
    }
    let (st, v) = send(
        &env.app,
        bearer("/api/v1/me", &a.viewer, "[2001:db8:1:2::ffff]:1"),
    )
    .await;
    assert_eq!(error_code(st, &v), "rate_limited", "{v}");
    // Successful calls never count.
    for _ in 0..limit * 2 {
        let (st, _) = send(&env.app, bearer("/api/v1/me", &a.viewer, "10.1.1.3:1")).await;
        assert_eq!(st, 200);
    }
}

#[tokio::test]
async fn failed_authentication_is_limited_per_token_prefix() {
    let env = envs().await.remove(0);
    let limit = env.state.security.failures_per_token;
    // One leaked or guessed-at token tried from many addresses.
    let stolen = random_token();
    for i in 0..limit {
        let (st, v) = send(
            &env.app,
            bearer("/api/v1/me", &stolen, &format!("10.2.0.{i}:1")),
        )
        .await;
        assert_eq!(error_code(st, &v), "unauthenticated");
    }
    let (st, v) = send(&env.app, bearer("/api/v1/me", &stolen, "10.9.9.9:1")).await;
    assert_eq!(error_code(st, &v), "rate_limited", "{v}");
    // Tokens sharing the prefix are limited too; other tokens from that address are not.
    let mut sibling = stolen[..20].to_string();
    sibling.push_str(&"0".repeat(stolen.len() - 20));
    let (st, v) = send(&env.app, bearer("/api/v1/me", &sibling, "10.9.9.8:1")).await;
    assert_eq!(error_code(st, &v), "rate_limited", "{v}");
    let (st, v) = send(
        &env.app,
        bearer("/api/v1/me", &random_token(), "10.9.9.9:1"),
    )
    .await;
    assert_eq!(error_code(st, &v), "unauthenticated", "{v}");
}

#[tokio::test]
async fn limits_are_configurable_and_forget_after_the_window() {
    let env = envs().await.remove(0);
    let sec = Security {
        failures_per_source: 2,
        failures_per_token: 100,
        failure_window: std::time::Duration::from_secs(1),
        ..Security::default()
    };
    let app = app(env.state.clone().with_security(sec));
    for _ in 0..2 {
        let (st, _) = send(&app, bearer("/api/v1/me", &random_token(), "10.3.0.1:1")).await;
        assert_eq!(st, 401);
    }
    let (st, _) = send(&app, bearer("/api/v1/me", &random_token(), "10.3.0.1:1")).await;
    assert_eq!(st, 429);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (st, _) = send(&app, bearer("/api/v1/me", &random_token(), "10.3.0.1:1")).await;
    assert_eq!(st, 401, "the window has passed");
}

#[tokio::test]
async fn metrics_need_an_admin_token_or_their_own_listener() {
    let env = envs().await.remove(0);
    let a = tenant(&env.store, "A").await;
    let (st, v) = call(&env.app, "GET", "/metrics", None, None).await;
    assert_eq!(error_code(st, &v), "unauthenticated");
    let (st, v) = call(&env.app, "GET", "/metrics", Some(&a.viewer), None).await;
    assert_eq!(error_code(st, &v), "forbidden");
    let (st, v) = call(&env.app, "GET", "/metrics", Some(&a.admin), None).await;
    assert_eq!(st, 200);
    let text = v.as_str().unwrap();
    assert!(text.contains("chipwatch_http_requests_total"));
    // Failed authentications are counted by reason (the refusal without a token above).
    assert!(
        text.contains("chipwatch_auth_failures_total{reason=\"no_credential\"} 1"),
        "{text}"
    );
    // The metrics-only router (for `serve --metrics-addr`) serves nothing else.
    let m = chipwatch_server::metrics_app(env.state.clone());
    let (st, v) = call(&m, "GET", "/metrics", None, None).await;
    assert_eq!(st, 200);
    assert!(v
        .as_str()
        .unwrap()
        .contains("chipwatch_http_requests_total"));
    let (st, v) = call(&m, "GET", "/api/v1/me", Some(&a.admin), None).await;
    assert_eq!(error_code(st, &v), "not_found");
}

#[tokio::test]
async fn serve_binds_the_metrics_listener_apart() {
    let env = envs().await.remove(0);
    let main = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let metrics = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (main_addr, metrics_addr) = (main.local_addr().unwrap(), metrics.local_addr().unwrap());
    let state: AppState = env.state.clone();
    tokio::spawn(async move {
        chipwatch_server::serve_listeners(main, Some(metrics), state, std::future::pending())
            .await
            .unwrap();
    });
    let http = reqwest::Client::new();
    let r = http
        .get(format!("http://{metrics_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = http
        .get(format!("http://{main_addr}/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // The main listener records the caller's address, so the per-source limit applies there.
    for _ in 0..env.state.security.failures_per_source {
        http.get(format!("http://{main_addr}/api/v1/me"))
            .bearer_auth(random_token())
            .send()
            .await
            .unwrap();
    }
    let r = http
        .get(format!("http://{main_addr}/api/v1/me"))
        .bearer_auth(random_token())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert!(r.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn a_stale_session_cookie_does_not_lock_its_user_out() {
    let env = envs().await.remove(0);
    let a = tenant(&env.store, "A").await;
    let cookie = dashboard_login(&env.app, &a.viewer).await.unwrap();
    let req = |path: &str| {
        from_source(
            Request::builder()
                .uri(path)
                .header("cookie", format!("chipwatch_session={cookie}"))
                .body(Body::empty())
                .unwrap(),
            "10.4.0.1:1",
        )
    };
    let (st, _) = send(&env.app, req("/api/v1/me")).await;
    assert_eq!(st, 200);
    // The session ends (sign-out elsewhere, expiry); the browser keeps sending its cookie.
    let (_, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
    let sid = me["token_id"].as_i64().unwrap();
    set_token_column(&env.store, sid, "revoked_at", chipwatch_store::time::now()).await;
    let limit = env
        .state
        .security
        .failures_per_source
        .max(env.state.security.failures_per_token);
    for _ in 0..limit * 2 {
        let (st, _) = send(&env.app, req("/api/v1/me")).await;
        assert_eq!(st, 401, "a stale cookie is refused, not rate limited");
        send(&env.app, req("/")).await;
    }
    // Signing in again from that browser still works.
    let (st, _) = send(&env.app, bearer("/api/v1/me", &a.viewer, "10.4.0.1:2")).await;
    assert_eq!(st, 200);
    // A forged cookie (never issued) does count.
    for _ in 0..env.state.security.failures_per_source {
        let forged = random_token();
        let r = from_source(
            Request::builder()
                .uri("/api/v1/me")
                .header("cookie", format!("chipwatch_session={forged}"))
                .body(Body::empty())
                .unwrap(),
            "10.4.0.9:1",
        );
        send(&env.app, r).await;
    }
    let (st, v) = send(&env.app, bearer("/api/v1/me", &a.viewer, "10.4.0.9:2")).await;
    assert_eq!(error_code(st, &v), "rate_limited");
}
