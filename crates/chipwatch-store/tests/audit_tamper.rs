//! Tampering with the audit log the way someone with write access to the database would (drop
//! the append-only triggers first, then rewrite rows), on SQLite always and on PostgreSQL when
//! `CHIPWATCH_TEST_PG_URL` is set. Each kind of tampering must be named precisely by
//! `audit::verify`, with the first wrong entry first.

use chipwatch_store::audit::{self, AuditProblem, KeyRing};
use chipwatch_store::{test_stores, Backend, Store};
use serde_json::json;

const N: i64 = 10;

async fn exec(store: &Store, sql: &str) {
    sqlx::raw_sql(sql)
        .execute(store.pool())
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

async fn drop_triggers(store: &Store) {
    match store.backend() {
        Backend::Sqlite => {
            exec(
                store,
                "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
            )
            .await
        }
        Backend::Postgres => {
            exec(
                store,
                "DROP TRIGGER audit_log_append_only ON audit_log; \
                 DROP TRIGGER audit_log_no_truncate ON audit_log;",
            )
            .await
        }
    }
}

/// Fresh stores with `N` audited writes each.
async fn logs(dir: &std::path::Path) -> Vec<(String, Store)> {
    let mut out = Vec::new();
    for (name, store) in test_stores(dir).await {
        for i in 1..=N {
            store
                .audit("org:1/user:1", "test.write", "x", json!({"n": i}))
                .await
                .unwrap();
        }
        let r = audit::verify(&store).await.unwrap();
        assert!(r.ok(), "{name}: {:?}", r.problems);
        assert_eq!(r.checkpoint.as_ref().map(|c| c.0), Some(N), "{name}");
        out.push((name, store));
    }
    out
}

async fn problems(store: &Store) -> Vec<AuditProblem> {
    audit::verify(store).await.unwrap().problems
}

#[tokio::test]
async fn the_database_refuses_update_and_delete() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        for sql in [
            "UPDATE audit_log SET detail = '{}' WHERE seq = 3",
            "DELETE FROM audit_log WHERE seq = 10",
            "DELETE FROM audit_log",
        ] {
            let e = sqlx::query(sql).execute(store.pool()).await;
            let msg = e
                .expect_err(&format!("{name}: {sql} must fail"))
                .to_string();
            assert!(msg.contains("append-only"), "{name}: {msg}");
        }
        if store.backend() == Backend::Postgres {
            let e = sqlx::query("TRUNCATE audit_log")
                .execute(store.pool())
                .await;
            assert!(e.is_err(), "{name}: TRUNCATE must fail");
        }
        assert!(problems(&store).await.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn deleting_everything_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        exec(&store, "DELETE FROM audit_log").await;
        assert_eq!(
            problems(&store).await,
            vec![AuditProblem::Truncated {
                head: 0,
                checkpoint_seq: N
            }],
            "{name}"
        );
    }
}

#[tokio::test]
async fn dropping_the_last_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        exec(&store, &format!("DELETE FROM audit_log WHERE seq = {N}")).await;
        assert_eq!(
            problems(&store).await,
            vec![AuditProblem::Truncated {
                head: N - 1,
                checkpoint_seq: N
            }],
            "{name}"
        );
    }
}

#[tokio::test]
async fn altering_and_recomputing_later_hashes_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        // Alter entry 4 and recompute the chain after it as the old, unkeyed code would (the
        // attacker has no key): every stored hash from 4 on is replaced.
        let all = audit::entries(&store, None, 0, 100).await.unwrap();
        let mut prev = all[2].hash.clone();
        for e in &all[3..] {
            let detail = if e.seq == 4 { "{\"n\":400}" } else { &e.detail };
            let h = audit::legacy_hash(&prev, e.seq, e.ts, &e.actor, &e.action, &e.object, detail);
            sqlx::query(
                "UPDATE audit_log SET detail = $1, prev_hash = $2, hash = $3 WHERE seq = $4",
            )
            .bind(detail)
            .bind(&prev)
            .bind(&h)
            .bind(e.seq)
            .execute(store.pool())
            .await
            .unwrap();
            prev = h;
        }
        let p = problems(&store).await;
        assert_eq!(p[0], AuditProblem::Altered { seq: 4 }, "{name}: {p:?}");
        assert!(
            p.contains(&AuditProblem::CheckpointMismatch { seq: N }),
            "{name}: {p:?}"
        );
    }
}

#[tokio::test]
async fn altering_content_only_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        exec(&store, "UPDATE audit_log SET actor = 'cli' WHERE seq = 5").await;
        assert_eq!(
            problems(&store).await,
            vec![AuditProblem::Altered { seq: 5 }],
            "{name}"
        );
    }
}

#[tokio::test]
async fn deleting_and_renumbering_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        exec(&store, "DELETE FROM audit_log WHERE seq = 4").await;
        for s in 5..=N {
            exec(
                &store,
                &format!("UPDATE audit_log SET seq = {} WHERE seq = {s}", s - 1),
            )
            .await;
        }
        assert_eq!(
            problems(&store).await,
            vec![
                AuditProblem::Moved {
                    from: 4,
                    to: N - 1,
                    original_from: 5
                },
                AuditProblem::Truncated {
                    head: N - 1,
                    checkpoint_seq: N
                }
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn swapping_entries_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        // Move 3 and 4 out of the way, then back swapped.
        exec(&store, "UPDATE audit_log SET seq = 1003 WHERE seq = 3").await;
        exec(&store, "UPDATE audit_log SET seq = 3 WHERE seq = 4").await;
        exec(&store, "UPDATE audit_log SET seq = 4 WHERE seq = 1003").await;
        assert_eq!(
            problems(&store).await,
            vec![
                AuditProblem::Moved {
                    from: 3,
                    to: 3,
                    original_from: 4
                },
                AuditProblem::Moved {
                    from: 4,
                    to: 4,
                    original_from: 3
                }
            ],
            "{name}"
        );
    }
}

#[tokio::test]
async fn appending_a_forged_entry_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        let head = audit::newest_entries(&store, None, 1).await.unwrap();
        let head = &head[0];
        // No trigger stands in the way of INSERT; the forger has no key, so the MAC is made up
        // (here: the plain SHA-256 chain of the pre-MAC code, under the current key id).
        let seq = head.seq + 1;
        let h = audit::legacy_hash(&head.hash, seq, 1, "cli", "org.create", "org:9", "{}");
        sqlx::query(
            "INSERT INTO audit_log (seq, ts, actor, action, object, detail, prev_hash, hash, key_id) \
             VALUES ($1, 1, 'cli', 'org.create', 'org:9', '{}', $2, $3, $4)",
        )
        .bind(seq)
        .bind(&head.hash)
        .bind(&h)
        .bind(&head.key_id)
        .execute(store.pool())
        .await
        .unwrap();
        assert_eq!(
            problems(&store).await,
            vec![AuditProblem::Forged { seq: N + 1 }],
            "{name}"
        );
    }
}

#[tokio::test]
async fn a_corrupt_column_names_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        drop_triggers(&store).await;
        match store.backend() {
            // SQLite stores what it is given: text in an integer column.
            Backend::Sqlite => exec(&store, "UPDATE audit_log SET ts = 'x' WHERE seq = 6").await,
            Backend::Postgres => {
                exec(
                    &store,
                    "ALTER TABLE audit_log ALTER COLUMN ts DROP NOT NULL; \
                     UPDATE audit_log SET ts = NULL WHERE seq = 6",
                )
                .await
            }
        }
        assert_eq!(
            problems(&store).await,
            vec![AuditProblem::Corrupt {
                seq: 6,
                column: "ts".into()
            }],
            "{name}"
        );
    }
}

#[tokio::test]
async fn key_rotation_keeps_the_chain_verifiable() {
    let dir = tempfile::tempdir().unwrap();
    for (name, store) in logs(dir.path()).await {
        let cfg = store.audit_config().unwrap().clone();
        let key_file = cfg.key_file.clone().unwrap();
        let old_id = cfg.keys.current().id.clone();
        let new_id = KeyRing::rotate_file(&key_file).unwrap();
        // Reopening picks the new key up; the next write hands the chain over.
        let url = match store.backend() {
            // The SQLite default key file is `<database>.audit-key`.
            Backend::Sqlite => key_file
                .display()
                .to_string()
                .strip_suffix(".audit-key")
                .unwrap()
                .to_string(),
            Backend::Postgres => {
                let db: String = sqlx::query_scalar("SELECT current_database()::text")
                    .fetch_one(store.pool())
                    .await
                    .unwrap();
                let base = std::env::var("CHIPWATCH_TEST_PG_URL").unwrap();
                let (head, _) = base.rsplit_once('/').unwrap();
                format!("{head}/{db}")
            }
        };
        store.close().await;
        let opts = audit::AuditOptions {
            key_file: Some(key_file.clone()),
            checkpoint_file: None,
            create_key: false,
        };
        let store = Store::open_opts(&url, 4, &opts).await.unwrap();
        store
            .audit(
                "org:1/user:1",
                "test.write",
                "x",
                json!({"after": "rotation"}),
            )
            .await
            .unwrap();
        let newest = audit::newest_entries(&store, None, 2).await.unwrap();
        assert_eq!(newest[1].action, audit::KEY_ROTATE, "{name}");
        assert_eq!(
            newest[1].key_id, old_id,
            "{name}: rotation MACed by the old key"
        );
        assert!(newest[1].detail.contains(&new_id), "{name}");
        assert_eq!(newest[0].key_id, new_id, "{name}");
        let r = audit::verify(&store).await.unwrap();
        assert!(r.ok(), "{name}: {:?}", r.problems);
        assert_eq!(r.entries as i64, N + 2, "{name}");

        // A checkpoint line forged into the file is reported, not trusted.
        let cp_file = cfg.checkpoints.as_ref().unwrap().path().to_path_buf();
        let mut fake = store.audit_config().unwrap().last_checkpoint().unwrap();
        fake.seq += 100;
        let mut text = std::fs::read_to_string(&cp_file).unwrap();
        text.push_str(&serde_json::to_string(&fake).unwrap());
        text.push('\n');
        std::fs::write(&cp_file, &text).unwrap();
        let lines = text.lines().count();
        assert_eq!(
            problems(&store).await,
            vec![AuditProblem::BadCheckpoint { line: lines }],
            "{name}"
        );
    }
}

#[tokio::test]
async fn writes_fail_closed_without_a_key_and_verify_refuses() {
    let Ok(base) = std::env::var("CHIPWATCH_TEST_PG_URL") else {
        eprintln!("note: CHIPWATCH_TEST_PG_URL unset; PostgreSQL backend skipped");
        return;
    };
    let url = chipwatch_store::create_scratch_database(&base)
        .await
        .unwrap();
    let store = Store::open(&url).await.unwrap();
    let e = store
        .audit("cli", "x", "y", json!({}))
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no audit key"), "{e}");
    assert!(audit::verify(&store).await.is_err());
}
