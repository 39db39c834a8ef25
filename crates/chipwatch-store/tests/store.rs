//! Store tests, run against SQLite always and PostgreSQL when `CHIPWATCH_TEST_PG_URL` is set.

use chipwatch_store::audit::{self, AuditProblem};
use chipwatch_store::partner::*;
use chipwatch_store::{test_stores, Store};

async fn principal(store: &Store, org: &str, role: Role) -> Principal {
    let o = store.create_org(org, OrgKind::Local, "cli").await.unwrap();
    let u = store.create_user(o.id, "alice", role, "cli").await.unwrap();
    let secret = format!("cw_{}_{:0>40}", org, u.id);
    store
        .create_token(u.id, &secret, "test", None, "cli")
        .await
        .unwrap();
    store.principal_for_secret(&secret).await.unwrap().unwrap()
}

fn rec(item: &str, provider: &str, value: f64, dist: Distribution) -> NewRecord {
    NewRecord {
        item: item.into(),
        provider: Some(provider.into()),
        country: Some("KOR".into()),
        metric: "capacity".into(),
        value: Some(value),
        unit: Some("wafers/month".into()),
        period: Some("2024-Q1".into()),
        provenance: Some("survey".into()),
        distribution: Some(dist),
        ..Default::default()
    }
}

#[tokio::test]
async fn migrations_tokens_records_agreements_and_audit() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in test_stores(dir.path()).await {
        let migs = store.migrations().await.unwrap();
        assert!(migs.iter().any(|m| m.version == 1), "{name}: {migs:?}");

        let a = principal(&store, "MOTIE", Role::Admin).await;
        let b = principal(&store, "MinEZK", Role::Analyst).await;
        assert!(store
            .principal_for_secret("cw_wrong_secret_000000000000000000000000")
            .await
            .unwrap()
            .is_none());

        // Token revocation: the next lookup fails.
        let tokens = store.tokens_of_org(b.org.id).await.unwrap();
        assert_eq!(tokens.len(), 1);
        assert!(
            store
                .revoke_token(a.org.id, tokens[0].id, &a.actor())
                .await
                .is_err(),
            "{name}: cross-org revoke"
        );
        store
            .revoke_token(b.org.id, tokens[0].id, &b.actor())
            .await
            .unwrap();
        let secret_b = format!("cw_{}_{:0>40}", "MinEZK", b.user_id);
        assert!(
            store
                .principal_for_secret(&secret_b)
                .await
                .unwrap()
                .is_none(),
            "{name}"
        );

        let r1 = store
            .create_record(&a, rec("N20", "SK hynix", 10.0, Distribution::Community))
            .await
            .unwrap();
        store
            .create_record(&a, rec("N20", "Samsung", 20.0, Distribution::Community))
            .await
            .unwrap();
        let ag = store
            .create_agreement(
                &a,
                NewAgreement {
                    grantee_org_id: b.org.id,
                    items: vec!["N20".into()],
                    metrics: vec!["*".into()],
                    fields: vec!["value".into(), "unit".into()],
                    granularity: Granularity::Firm,
                    min_firms: 1,
                    max_firm_share: 0.6,
                    valid_from: 0,
                    valid_until: None,
                },
            )
            .await
            .unwrap();
        let viewer = policy::Viewer {
            org_id: b.org.id,
            kind: OrgKind::Local,
            groups: vec![],
        };
        let ags = store.agreements_granted_to(b.org.id).await.unwrap();
        let now = chipwatch_store::time::now();
        let acc = policy::record_access(&r1, &viewer, &ags, now);
        let v = policy::view(&r1, &acc).unwrap();
        assert_eq!(v.value, Some(10.0));
        assert_eq!(v.provider, None, "{name}: provider not agreed");
        store.revoke_agreement(&a, ag.id).await.unwrap();
        let ags = store.agreements_granted_to(b.org.id).await.unwrap();
        assert_eq!(
            policy::record_access(&r1, &viewer, &ags, now),
            policy::Access::None
        );

        let report = audit::verify(&store).await.unwrap();
        assert!(report.ok(), "{name}: {:?}", report.problems);
        assert!(report.entries >= 8, "{name}");

        // The database itself refuses to rewrite the log.
        assert!(sqlx::query("DELETE FROM audit_log WHERE seq = 5")
            .execute(store.pool())
            .await
            .is_err());
        // Tamper with entry 3 behind the application's back, around the triggers: verify names it.
        drop_audit_triggers(&store).await;
        sqlx::query("UPDATE audit_log SET detail = '{\"x\":1}' WHERE seq = 3")
            .execute(store.pool())
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE seq = 5")
            .execute(store.pool())
            .await
            .unwrap();
        let report = audit::verify(&store).await.unwrap();
        assert_eq!(
            report.problems,
            vec![
                AuditProblem::Altered { seq: 3 },
                AuditProblem::Removed { from: 5, to: 5 }
            ],
            "{name}"
        );
        store.close().await;
    }
}

/// What an attacker with database write access does first.
async fn drop_audit_triggers(store: &Store) {
    let sql = match store.backend() {
        chipwatch_store::Backend::Sqlite => {
            "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;"
        }
        chipwatch_store::Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log;",
    };
    sqlx::raw_sql(sql).execute(store.pool()).await.unwrap();
}

#[tokio::test]
async fn reopening_keeps_data_and_rejects_bad_urls() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.db").display().to_string();
    {
        let s = Store::open(&path).await.unwrap();
        s.create_org("A", OrgKind::Local, "cli").await.unwrap();
        s.close().await;
    }
    let s = Store::open(&format!("sqlite://{path}")).await.unwrap();
    assert_eq!(s.orgs().await.unwrap().len(), 1);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(s.pool())
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    assert!(Store::open("mysql://x").await.is_err());
    assert!(Store::open("/nonexistent-dir/x.db").await.is_err());
}

#[tokio::test]
async fn edited_or_unknown_migrations_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.db").display().to_string();
    let s = Store::open(&path).await.unwrap();
    sqlx::query("UPDATE _chipwatch_migrations SET checksum = 'x' WHERE version = 1")
        .execute(s.pool())
        .await
        .unwrap();
    s.close().await;
    let err = Store::open(&path).await.unwrap_err();
    assert!(
        matches!(
            err,
            chipwatch_store::StoreError::MigrationChanged { version: 1, .. }
        ),
        "{err}"
    );

    let path = dir.path().join("n.db").display().to_string();
    let s = Store::open(&path).await.unwrap();
    sqlx::query("INSERT INTO _chipwatch_migrations (version, description, checksum, applied_at) VALUES (9999, 'future', 'x', 0)")
        .execute(s.pool())
        .await
        .unwrap();
    s.close().await;
    let err = Store::open(&path).await.unwrap_err();
    assert!(
        matches!(err, chipwatch_store::StoreError::UnknownMigration(9999)),
        "{err}"
    );
}
