//! The audit verification API: only instance admins start it, it runs in the background one at
//! a time (a second start answers 409 while one runs), and its report names tampering done
//! around the database's append-only triggers.

mod common;
use chipwatch_store::partner::OrgKind;
use chipwatch_store::Backend;
use common::*;

#[tokio::test]
async fn only_instance_admins_verify_one_run_at_a_time() {
    for env in envs().await {
        let b = &env.backend;
        let app = &env.app;
        let operator = tenant(&env.store, "Operator").await;
        let other = tenant(&env.store, "Tenant").await;
        let peer = tenant_kind(&env.store, "Peer", OrgKind::Peer).await;

        for t in [
            &operator.viewer,
            &operator.analyst,
            &other.admin,
            &peer.admin,
        ] {
            for m in ["GET", "POST"] {
                let (st, v) = call(app, m, "/api/v1/audit/verify", Some(t), None).await;
                assert_eq!(st, 403, "{b}: {m} {v}");
            }
        }
        let (st, v) = call(
            app,
            "GET",
            "/api/v1/audit/verify",
            Some(&operator.admin),
            None,
        )
        .await;
        assert_eq!(
            (st.as_u16(), v["state"].as_str()),
            (200, Some("idle")),
            "{b}: {v}"
        );

        // Two starts at once: exactly one runs, the other is told one is running. Called
        // directly and polled in order, so the second start always finds the first running (over
        // HTTP the first run can finish before the second request is authenticated).
        let admin = chipwatch_server::auth::authenticate(
            &env.state,
            &operator.admin,
            chipwatch_server::auth::Transport::Bearer,
        )
        .await
        .unwrap();
        let (r1, r2) = tokio::join!(
            chipwatch_server::routes::audit::start_verification(&env.state, &admin),
            chipwatch_server::routes::audit::start_verification(&env.state, &admin),
        );
        assert!(r1.is_ok(), "{b}: {:?}", r1.err().map(|e| e.message));
        let e = r2.expect_err("the second start must be refused while one runs");
        assert_eq!(e.code, "conflict", "{b}: {}", e.message);
        // Over HTTP: 202 when idle, 409 `conflict` while a run is going.
        let (st, v) = call(
            app,
            "POST",
            "/api/v1/audit/verify",
            Some(&operator.admin),
            None,
        )
        .await;
        // Runs started so far: 1, or 2 when the first had already finished.
        let started = match st.as_u16() {
            202 => {
                assert_eq!(v["state"], "running", "{b}: {v}");
                2
            }
            409 => {
                assert_eq!(error_code(st, &v), "conflict");
                1
            }
            _ => panic!("{b}: {st} {v}"),
        };
        // Wait for it; then a new run may start and reports an intact chain.
        for _ in 0..500 {
            let (_, v) = call(
                app,
                "GET",
                "/api/v1/audit/verify",
                Some(&operator.admin),
                None,
            )
            .await;
            if v["state"] != "running" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let v = verify_via_api(app, &operator.admin).await;
        assert_eq!(v["ok"], true, "{b}: {v}");
        assert_eq!(v["run"], started + 1, "{b}: {v}");
        let by = v["started_by"].as_str().unwrap();
        assert!(
            by.starts_with(&format!("org:{}/user:", operator.org.id)),
            "{b}: {v}"
        );
        // Starting a verification is itself audited.
        let (_, e) = call(
            app,
            "GET",
            "/api/v1/audit?limit=1000",
            Some(&operator.admin),
            None,
        )
        .await;
        assert!(e.to_string().contains("audit.verify"), "{b}: {e}");

        // Tamper around the trigger; the next run names the entry.
        let drop = match env.store.backend() {
            Backend::Sqlite => "DROP TRIGGER audit_log_no_update",
            Backend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log",
        };
        chipwatch_store::sqlx::raw_sql(drop)
            .execute(env.store.pool())
            .await
            .unwrap();
        chipwatch_store::sqlx::query("UPDATE audit_log SET actor = 'cli' WHERE seq = 2")
            .execute(env.store.pool())
            .await
            .unwrap();
        let v = verify_via_api(app, &operator.admin).await;
        assert_eq!(v["ok"], false, "{b}: {v}");
        assert_eq!(
            v["problems"][0], "entry 2 was altered (its MAC does not match its content)",
            "{b}: {v}"
        );
        // The report carries no entry content.
        assert!(!v.to_string().contains("\"actor\""), "{b}: {v}");
    }
}

#[tokio::test]
async fn a_named_operator_organisation_holds_the_instance_admins() {
    let env = envs().await.remove(0);
    let first = tenant(&env.store, "First").await;
    let ops = tenant(&env.store, "Ops").await;
    let app = chipwatch_server::app(env.state.clone().with_operator_org("Ops"));
    let (st, _) = call(
        &app,
        "GET",
        "/api/v1/audit/verify",
        Some(&first.admin),
        None,
    )
    .await;
    assert_eq!(st, 403);
    let v = verify_via_api(&app, &ops.admin).await;
    assert_eq!(v["ok"], true, "{v}");
}
