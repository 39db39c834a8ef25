//! Federation peers on least privilege (like MISP's sync users): a token of a peer organisation
//! may call the federation inbox and outbox only. Every other route of the table, the dashboard
//! and `/metrics` answer 403 `forbidden` for every role of a peer, whatever its role, and change
//! nothing. On SQLite and, when configured, PostgreSQL.

mod common;
use chipwatch_server::route_table;
use chipwatch_store::partner::OrgKind;
use common::*;
use serde_json::json;

fn federation_route(path: &str) -> bool {
    path == "/api/v1/federation/inbox" || path == "/api/v1/federation/outbox"
}

#[tokio::test]
async fn peer_tokens_reach_the_federation_endpoints_only() {
    for env in envs().await {
        let local = tenant(&env.store, "Local").await;
        let peer = tenant_kind(&env.store, "Peer-Seoul", OrgKind::Peer).await;
        let users_before = env.store.users_of(peer.org.id).await.unwrap().len();
        let (_, toks_before) =
            call(&env.app, "GET", "/api/v1/tokens", Some(&local.admin), None).await;
        let mut checked = 0;
        for route in route_table().into_iter().filter(|r| r.auth) {
            if federation_route(route.path) {
                continue;
            }
            // Ids of the peer's own organisation: the refusal must not depend on ownership.
            let path = route
                .path
                .replace("{id}", &peer.org.id.to_string())
                .replace("{name}", "anything");
            for token in peer.tokens() {
                let (st, v) = call(&env.app, route.method.as_str(), &path, Some(token), None).await;
                assert_eq!(
                    error_code(st, &v),
                    "forbidden",
                    "{}: peer token on {} {}: {st} {v}",
                    env.backend,
                    route.method,
                    route.path
                );
                checked += 1;
            }
        }
        assert!(checked >= 3 * 45, "sweep covered only {checked} calls");
        // The admin-only functions named in the issue, with valid bodies: still refused.
        let (st, v) = call(
            &env.app,
            "POST",
            &format!("/api/v1/orgs/{}/users", peer.org.id),
            Some(&peer.admin),
            Some(json!({"name": "sleeper", "role": "admin"})),
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden", "{v}");
        let (st, v) = call(
            &env.app,
            "POST",
            "/api/v1/tokens",
            Some(&peer.admin),
            Some(json!({"user_id": 1, "label": "more"})),
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden", "{v}");
        assert_eq!(
            env.store.users_of(peer.org.id).await.unwrap().len(),
            users_before
        );
        let (_, toks_after) =
            call(&env.app, "GET", "/api/v1/tokens", Some(&local.admin), None).await;
        assert_eq!(toks_before, toks_after);

        // The federation endpoints still work for the peer.
        let (st, v) = call(
            &env.app,
            "GET",
            "/api/v1/federation/outbox",
            Some(&peer.viewer),
            None,
        )
        .await;
        assert_eq!(st, 200, "{}: {v}", env.backend);
        let (st, v) = call(
            &env.app,
            "POST",
            "/api/v1/federation/inbox",
            Some(&peer.analyst),
            Some(json!({"instance": "seoul", "records": []})),
        )
        .await;
        assert_eq!(st, 200, "{}: {v}", env.backend);
        // ... and stay closed to tenants.
        let (st, v) = call(
            &env.app,
            "GET",
            "/api/v1/federation/outbox",
            Some(&local.admin),
            None,
        )
        .await;
        assert_eq!(error_code(st, &v), "forbidden");

        // No dashboard session for a peer.
        let refused = dashboard_login(&env.app, &peer.admin).await;
        assert!(refused.is_err(), "{}: a peer signed in", env.backend);
        let (st, v) = call(&env.app, "GET", "/metrics", Some(&peer.admin), None).await;
        assert_eq!(error_code(st, &v), "forbidden");
    }
}
