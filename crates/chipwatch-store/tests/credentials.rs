//! Credentials in the store: sessions bound to their parent API token, never minted from a
//! session or for a peer; peer tokens sealed at rest, plaintext rows refused until sealed; the
//! pre-0003 sessions ended by the migration. SQLite always, PostgreSQL when configured.

use chipwatch_store::partner::*;
use chipwatch_store::secret::PeerKey;
use chipwatch_store::{test_stores, Store};

async fn api_principal(store: &Store, org: &str, kind: OrgKind) -> (Principal, String) {
    let o = store.create_org(org, kind, "cli").await.unwrap();
    let u = store
        .create_user(o.id, "alice", Role::Admin, "cli")
        .await
        .unwrap();
    let secret = format!("cw_{}_{:0>40}", org, u.id);
    store
        .create_token(
            u.id,
            &secret,
            "test",
            Some(chipwatch_store::time::now() + 600),
            "cli",
        )
        .await
        .unwrap();
    let p = store.principal_for_secret(&secret).await.unwrap().unwrap();
    assert_eq!(p.credential, Credential::Api);
    (p, secret)
}

#[tokio::test]
async fn sessions_are_bound_to_their_parent() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let (p, _) = api_principal(&store, "MOTIE", OrgKind::Local).await;
        let s1 = format!("cw_session_one_{:0>40}", 1);
        let t = store.create_session(&p, &s1, 8 * 3600, 1800).await.unwrap();
        // Capped at the parent's end (10 minutes), not 8 hours.
        assert!(
            t.expires_at.unwrap() <= chipwatch_store::time::now() + 600,
            "{name}"
        );
        assert_eq!(
            (t.kind, t.parent_id),
            (Credential::Session, Some(p.token_id))
        );
        let sp = store.principal_for_secret(&s1).await.unwrap().unwrap();
        assert_eq!(sp.credential, Credential::Session, "{name}");
        assert_eq!((sp.user_id, sp.org.id), (p.user_id, p.org.id));
        // A session never mints a session.
        let e = store
            .create_session(&sp, &format!("cw_session_two_{:0>40}", 2), 3600, 600)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("cannot mint"), "{name}: {e}");
        // Revoking the parent ends the session, and lists it as revoked.
        store
            .revoke_token(p.org.id, p.token_id, "cli")
            .await
            .unwrap();
        assert_eq!(
            store.authenticate(&s1).await.unwrap(),
            Authn::Rejected("revoked_token"),
            "{name}"
        );
        let toks = store.tokens_of_org(p.org.id).await.unwrap();
        assert!(
            toks.iter().all(|t| t.revoked_at.is_some()),
            "{name}: {toks:?}"
        );
        // And a revoked parent mints nothing.
        assert!(store
            .create_session(&p, &format!("cw_session_three_{:0>40}", 3), 3600, 600)
            .await
            .is_err());

        // Peers have no sessions.
        let (peer, _) = api_principal(&store, "Peer", OrgKind::Peer).await;
        assert!(store
            .create_session(&peer, &format!("cw_session_four_{:0>40}", 4), 3600, 600)
            .await
            .is_err());
        // Sign-out ends only sessions.
        let (q, _) = api_principal(&store, "KITA", OrgKind::Local).await;
        assert!(!store.end_session(&q).await.unwrap(), "{name}");
        let s5 = format!("cw_session_five_{:0>40}", 5);
        store.create_session(&q, &s5, 3600, 600).await.unwrap();
        let sq = store.principal_for_secret(&s5).await.unwrap().unwrap();
        assert!(store.end_session(&sq).await.unwrap());
        assert!(store.principal_for_secret(&s5).await.unwrap().is_none());
        assert!(store
            .principal_for_secret(&format!("cw_KITA_{:0>40}", q.user_id))
            .await
            .unwrap()
            .is_some());
    }
}

#[tokio::test]
async fn peer_tokens_are_sealed_at_rest() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let o = store
            .create_org("NL-Hague", OrgKind::Peer, "cli")
            .await
            .unwrap();
        let remote = "cw_remote_secret_0123456789abcdef0123456789abcdef";
        // Without a key nothing is stored.
        let e = store
            .add_peer("hague", "http://127.0.0.1:1", remote, o.id, "cli")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("CHIPWATCH_PEER_KEY_FILE"),
            "{name}: {e}"
        );
        let key = PeerKey::generate();
        let keyed = store.clone().with_peer_key(key.clone());
        keyed
            .add_peer("hague", "http://127.0.0.1:1", remote, o.id, "cli")
            .await
            .unwrap();
        let raw: String = chipwatch_store::sqlx::query_scalar("SELECT remote_token FROM peers")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert!(
            !raw.contains("remote_secret") && raw.starts_with("sealed:v1:"),
            "{name}"
        );
        assert_eq!(
            keyed
                .peer_by_name("hague")
                .await
                .unwrap()
                .unwrap()
                .remote_token,
            remote
        );
        let shown = format!("{:?}", keyed.peer_by_name("hague").await.unwrap().unwrap());
        assert!(!shown.contains("remote_secret"), "Debug leaks: {shown}");
        // Another key, or none, opens nothing.
        assert!(store
            .clone()
            .with_peer_key(PeerKey::generate())
            .peer_by_name("hague")
            .await
            .is_err());
        assert!(store.peer_by_name("hague").await.is_err());

        // A plaintext row (from before encryption at rest) is refused until sealed.
        chipwatch_store::sqlx::query("UPDATE peers SET remote_token = $1")
            .bind(remote)
            .execute(store.pool())
            .await
            .unwrap();
        let e = keyed.peer_by_name("hague").await.unwrap_err().to_string();
        assert!(
            e.contains("plaintext") && e.contains("seal-tokens"),
            "{name}: {e}"
        );
        assert_eq!(keyed.seal_plaintext_peer_tokens("cli").await.unwrap(), 1);
        assert_eq!(keyed.seal_plaintext_peer_tokens("cli").await.unwrap(), 0);
        assert_eq!(
            keyed
                .peer_by_name("hague")
                .await
                .unwrap()
                .unwrap()
                .remote_token,
            remote
        );
        // Bad remote tokens never reach a header.
        for bad in ["", "has space", "line\nbreak", "sealed:v1:00"] {
            assert!(
                keyed
                    .add_peer("x", "http://h", bad, o.id, "cli")
                    .await
                    .is_err(),
                "{bad:?}"
            );
        }
    }
}

#[tokio::test]
async fn labels_are_not_kinds_and_parentless_sessions_are_refused() {
    // The kind column decides, not the label; and a session row without a parent (as sessions
    // before 0003 were) is refused even if something revived it.
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let m = store.migrations().await.unwrap();
        assert!(
            m.iter()
                .any(|m| m.version == 3 && m.description == "auth_hardening"),
            "{name}"
        );
        let (p, _) = api_principal(&store, "MOTIE", OrgKind::Local).await;
        // An API token labelled like a session stays an API token (the label is not the kind).
        let s = format!("cw_labelled_{:0>40}", 9);
        store
            .create_token(p.user_id, &s, SESSION_LABEL, None, "cli")
            .await
            .unwrap();
        assert_eq!(
            store
                .principal_for_secret(&s)
                .await
                .unwrap()
                .unwrap()
                .credential,
            Credential::Api
        );
        // A session row without a parent (as old sessions were) is refused.
        chipwatch_store::sqlx::query(
            "UPDATE tokens SET kind = 'session', expires_at = $1 WHERE label = $2",
        )
        .bind(chipwatch_store::time::now() + 3600)
        .bind(SESSION_LABEL)
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(
            store.authenticate(&s).await.unwrap(),
            Authn::Rejected("session_without_api_parent"),
            "{name}"
        );
    }
}

/// A database at schema version 2 (as an older chipwatch left it) with a live dashboard session
/// and an API token: opening it with this version runs 0003, which ends the parentless session
/// and keeps the API token.
#[tokio::test]
async fn migration_0003_ends_old_sessions_and_keeps_api_tokens() {
    use sha2::{Digest, Sha256};
    let dir = tempfile::tempdir().unwrap();
    let mut urls = vec![(
        "sqlite",
        dir.path().join("old.db").display().to_string(),
        [
            include_str!("../migrations/sqlite/0001_core.sql"),
            include_str!("../migrations/sqlite/0002_watchlists.sql"),
        ],
    )];
    if let Ok(base) = std::env::var("CHIPWATCH_TEST_PG_URL") {
        if !base.is_empty() {
            urls.push((
                "postgres",
                chipwatch_store::create_scratch_database(&base)
                    .await
                    .unwrap(),
                [
                    include_str!("../migrations/postgres/0001_core.sql"),
                    include_str!("../migrations/postgres/0002_watchlists.sql"),
                ],
            ));
        }
    }
    for (name, url, sqls) in urls {
        chipwatch_store::sqlx::any::install_default_drivers();
        let (sqlx_url, _) = chipwatch_store::normalise_url(&url).unwrap();
        let pool = chipwatch_store::sqlx::AnyPool::connect(&sqlx_url)
            .await
            .unwrap();
        chipwatch_store::sqlx::raw_sql(
            "CREATE TABLE _chipwatch_migrations (version BIGINT PRIMARY KEY, \
             description TEXT NOT NULL, checksum TEXT NOT NULL, applied_at BIGINT NOT NULL)",
        )
        .execute(&pool)
        .await
        .unwrap();
        for (i, (sql, desc)) in sqls.iter().zip(["core", "watchlists"]).enumerate() {
            chipwatch_store::sqlx::raw_sql(sql)
                .execute(&pool)
                .await
                .unwrap();
            chipwatch_store::sqlx::query(
                "INSERT INTO _chipwatch_migrations VALUES ($1, $2, $3, $4)",
            )
            .bind(i as i64 + 1)
            .bind(desc)
            .bind(hex::encode(Sha256::digest(sql.as_bytes())))
            .bind(0i64)
            .execute(&pool)
            .await
            .unwrap();
        }
        let future = chipwatch_store::time::now() + 3600;
        chipwatch_store::sqlx::raw_sql(&format!(
            "INSERT INTO orgs (uid, name, kind, created_at) VALUES ('u1', 'MOTIE', 'local', 0);
             INSERT INTO users (org_id, name, role, created_at) VALUES (1, 'kim', 'admin', 0);
             INSERT INTO tokens (user_id, secret_hash, label, created_at, expires_at)
               VALUES (1, '{}', 'cli', 0, {future});
             INSERT INTO tokens (user_id, secret_hash, label, created_at, expires_at)
               VALUES (1, '{}', 'dashboard session', 0, {future});",
            hash_secret("cw_old_api_token_000000000000000000000000000000"),
            hash_secret("cw_old_session_00000000000000000000000000000000"),
        ))
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        assert!(store
            .migrations()
            .await
            .unwrap()
            .iter()
            .any(|m| m.version == 3));
        let api = store
            .principal_for_secret("cw_old_api_token_000000000000000000000000000000")
            .await
            .unwrap();
        assert_eq!(api.map(|p| p.credential), Some(Credential::Api), "{name}");
        assert_eq!(
            store
                .authenticate("cw_old_session_00000000000000000000000000000000")
                .await
                .unwrap(),
            Authn::Rejected("revoked_token"),
            "{name}: an old session survived the migration"
        );
        let toks = store.tokens_of_org(1).await.unwrap();
        assert_eq!(
            toks.iter()
                .map(|t| (t.kind, t.revoked_at.is_some()))
                .collect::<Vec<_>>(),
            vec![(Credential::Api, false), (Credential::Session, true)],
            "{name}"
        );
    }
}
