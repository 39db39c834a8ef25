//! Dashboard sessions are bound to the API token they were minted from (revoked and expired
//! with it, checked on every request), have an absolute lifetime and an idle timeout, and never
//! mint another credential: not through `/login`, not through `POST /api/v1/tokens`, and a
//! session secret is no bearer token. On SQLite and, when configured, PostgreSQL.

mod common;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use serde_json::json;

/// The session's token row, as its organisation's admin lists it.
async fn token_row(env: &Env, admin: &str, id: i64) -> serde_json::Value {
    let (st, v) = call(&env.app, "GET", "/api/v1/tokens", Some(admin), None).await;
    assert_eq!(st, 200, "{v}");
    v["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id)
        .cloned()
        .unwrap_or_else(|| panic!("token {id} not listed: {v}"))
}

#[tokio::test]
async fn session_is_revoked_with_its_parent_token() {
    for env in envs().await {
        let a = tenant(&env.store, "A").await;
        let cookie = dashboard_login(&env.app, &a.analyst).await.unwrap();
        let (st, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(st, 200, "{}: {me}", env.backend);
        let parent = token_id_of(&env.app, &a.analyst).await;
        let (st, _) = call(
            &env.app,
            "DELETE",
            &format!("/api/v1/tokens/{parent}"),
            Some(&a.admin),
            None,
        )
        .await;
        assert_eq!(st, 204);
        let (st, v) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(
            error_code(st, &v),
            "unauthenticated",
            "{}: a session outlived its revoked parent token",
            env.backend
        );
        let (st, _) = call_with_cookie(&env.app, "GET", "/partner", &cookie).await;
        assert_eq!(st, StatusCode::SEE_OTHER, "dashboard sends it to the login");
    }
}

#[tokio::test]
async fn session_expires_with_its_parent_token() {
    for env in envs().await {
        let a = tenant(&env.store, "A").await;
        let parent = token_id_of(&env.app, &a.viewer).await;
        // The parent expires in one hour: the session may not live longer.
        let in_an_hour = chipwatch_store::time::now() + 3600;
        set_token_column(&env.store, parent, "expires_at", in_an_hour).await;
        let cookie = dashboard_login(&env.app, &a.viewer).await.unwrap();
        let (_, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        let session = me["token_id"].as_i64().unwrap();
        let row = token_row(&env, &a.admin, session).await;
        assert!(
            row["expires_at"].as_i64().unwrap() <= in_an_hour,
            "{}: session expires after its parent: {row}",
            env.backend
        );
        assert_eq!(row["parent_id"], parent, "{row}");
        assert_eq!(row["kind"], "session", "{row}");
        // The parent expires now; the session is checked on the next request, not at login.
        set_token_column(
            &env.store,
            parent,
            "expires_at",
            chipwatch_store::time::now() - 1,
        )
        .await;
        let (st, v) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(error_code(st, &v), "unauthenticated", "{}", env.backend);
    }
}

#[tokio::test]
async fn session_has_an_absolute_lifetime_and_an_idle_timeout() {
    for env in envs().await {
        let a = tenant(&env.store, "A").await;
        let lifetime = env.state.security.session_lifetime.as_secs() as i64;
        let idle = env.state.security.session_idle.as_secs() as i64;
        assert!(idle > 0 && idle < lifetime);
        let cookie = dashboard_login(&env.app, &a.admin).await.unwrap();
        let (_, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        let session = me["token_id"].as_i64().unwrap();
        let row = token_row(&env, &a.admin, session).await;
        let (created, expires) = (
            row["created_at"].as_i64().unwrap(),
            row["expires_at"].as_i64().unwrap(),
        );
        assert!(
            expires > created && expires - created <= lifetime,
            "{}: {row}",
            env.backend
        );
        // Used a moment ago: still valid. Unused for longer than the idle timeout: gone.
        let now = chipwatch_store::time::now();
        set_token_column(&env.store, session, "last_used_at", now - idle + 30).await;
        let (st, _) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(st, 200, "{}", env.backend);
        set_token_column(&env.store, session, "last_used_at", now - idle - 1).await;
        let (st, v) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(error_code(st, &v), "unauthenticated", "{}", env.backend);

        // A fresh session past its absolute end is gone however recently it was used.
        let cookie = dashboard_login(&env.app, &a.admin).await.unwrap();
        let (_, me) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        let session = me["token_id"].as_i64().unwrap();
        set_token_column(&env.store, session, "expires_at", now - 1).await;
        let (st, v) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(error_code(st, &v), "unauthenticated", "{}", env.backend);
    }
}

#[tokio::test]
async fn a_session_never_mints_another_credential() {
    for env in envs().await {
        let a = tenant(&env.store, "A").await;
        let cookie = dashboard_login(&env.app, &a.admin).await.unwrap();
        // Posted to /login, a session secret does not start a new session.
        let refused = dashboard_login(&env.app, &cookie).await;
        let (st, page) = refused.expect_err("a session minted a session");
        assert!(st.is_client_error(), "{}: {st}", env.backend);
        assert!(!page.contains(&cookie));
        // Nor does it buy an API token, by cookie ...
        let users = env.store.users_of(a.org.id).await.unwrap();
        let req = Request::builder()
            .method("POST")
            .uri("/api/v1/tokens")
            .header("cookie", format!("chipwatch_session={cookie}"))
            .header("content-type", "application/json")
            .body(Body::from(
                json!({"user_id": users[0].id, "label": "escape"}).to_string(),
            ))
            .unwrap();
        let (st, v) = send(&env.app, req).await;
        assert_eq!(error_code(st, &v), "forbidden", "{}", env.backend);
        // ... and a session secret is no bearer token at all.
        let (st, v) = call(&env.app, "GET", "/api/v1/me", Some(&cookie), None).await;
        assert_eq!(error_code(st, &v), "unauthenticated", "{}", env.backend);
        // Still only the three API tokens and one session exist.
        let (_, toks) = call(&env.app, "GET", "/api/v1/tokens", Some(&a.admin), None).await;
        assert_eq!(toks["tokens"].as_array().unwrap().len(), 4, "{toks}");
        // The session itself still works (the refusals did not end it).
        let (st, _) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(st, 200);
    }
}

#[tokio::test]
async fn logout_ends_the_session_but_not_its_parent() {
    for env in envs().await {
        let a = tenant(&env.store, "A").await;
        let cookie = dashboard_login(&env.app, &a.analyst).await.unwrap();
        let req = Request::builder()
            .method("POST")
            .uri("/logout")
            .header("host", "127.0.0.1:8080")
            .header("origin", "http://127.0.0.1:8080")
            .header("cookie", format!("chipwatch_session={cookie}"))
            .body(Body::empty())
            .unwrap();
        let (st, _) = send(&env.app, req).await;
        assert_eq!(st, StatusCode::SEE_OTHER);
        let (st, _) = call_with_cookie(&env.app, "GET", "/api/v1/me", &cookie).await;
        assert_eq!(st, 401);
        let (st, _) = call(&env.app, "GET", "/api/v1/me", Some(&a.analyst), None).await;
        assert_eq!(st, 200);
    }
}

#[tokio::test]
async fn signing_in_again_replaces_the_current_session() {
    let env = envs().await.remove(0);
    let a = tenant(&env.store, "A").await;
    let first = dashboard_login(&env.app, &a.viewer).await.unwrap();
    let req = Request::builder()
        .method("POST")
        .uri("/login")
        .header("host", "127.0.0.1:8080")
        .header("origin", "http://127.0.0.1:8080")
        .header("cookie", format!("chipwatch_session={first}"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::from(format!("token={}&next=%2F", a.analyst)))
        .unwrap();
    let (st, _) = send(&env.app, req).await;
    assert_eq!(st, StatusCode::SEE_OTHER);
    let (st, _) = call_with_cookie(&env.app, "GET", "/api/v1/me", &first).await;
    assert_eq!(st, 401, "the replaced session still works");
}
