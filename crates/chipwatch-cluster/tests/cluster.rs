//! A Ballista scheduler and two executors on 127.0.0.1 inside the test process: every indicator
//! of `chipwatch_trade::indicators` runs on the cluster with more partitions than task slots, so
//! shuffles cross executors; both executors must have run tasks, and every result must equal the
//! embedded engine's row by row (floats to a relative 1e-9: sums may add in another order).

use chipwatch_cluster::{remote_engine, Executor, ExecutorOptions, Scheduler, SchedulerOptions};
use chipwatch_trade::engine::{Engine, Table};
use chipwatch_trade::gen::{generate, GenOptions};
use chipwatch_trade::hs::Mapping;
use chipwatch_trade::indicators::{self as ind, AlertSettings, DependenceThresholds, Scope};
use serde_json::Value;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

fn close(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (
                x.as_f64().unwrap_or(f64::NAN),
                y.as_f64().unwrap_or(f64::NAN),
            );
            x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0)
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| close(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| close(v, w)))
        }
        _ => a == b,
    }
}

fn same_table(name: &str, local: &Table, cluster: &Table) {
    assert_eq!(local.columns, cluster.columns, "{name}: columns");
    assert!(
        !local.rows.is_empty(),
        "{name}: the local engine found no rows"
    );
    assert_eq!(local.rows.len(), cluster.rows.len(), "{name}: row count");
    for (i, (a, b)) in local.rows.iter().zip(&cluster.rows).enumerate() {
        assert!(
            close(&Value::Array(a.clone()), &Value::Array(b.clone())),
            "{name}: row {i} differs\n local:   {a:?}\n cluster: {b:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_indicator_on_a_two_executor_cluster_equals_the_local_engine() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let data = tempfile::tempdir().unwrap();
    let g = generate(
        &GenOptions {
            rows: 40_000,
            seed: 3,
            shocks: 4,
            ..GenOptions::default()
        },
        data.path(),
    )
    .unwrap();
    assert!(g.rows >= 40_000);

    let scheduler = Scheduler::start(SchedulerOptions {
        bind: "127.0.0.1:0".parse().unwrap(),
        min_executors: 2,
        job_data_ttl_secs: 0,
        ..SchedulerOptions::default()
    })
    .await
    .unwrap();
    let port = scheduler.addr().port();
    let work = [tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap()];
    let counters = [Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0))];
    let mut executors = Vec::new();
    for (w, n) in work.iter().zip(&counters) {
        executors.push(
            Executor::start(ExecutorOptions {
                scheduler_host: "127.0.0.1".into(),
                scheduler_port: port,
                bind_host: "127.0.0.1".into(),
                port: free_port(),
                grpc_port: free_port(),
                external_host: Some("127.0.0.1".into()),
                work_dir: Some(w.path().to_path_buf()),
                vcores: 2,
                connect_timeout_secs: 10,
                task_counter: Some(n.clone()),
            })
            .await
            .unwrap(),
        );
    }
    scheduler
        .wait_ready(Duration::from_secs(60))
        .await
        .expect("both executors register");

    // Eight partitions on four task slots: every shuffle has more partitions than one executor
    // runs at once, so both take tasks and read each other's output.
    let local = Engine::open(data.path(), Some(8)).await.unwrap();
    let cluster = remote_engine(&format!("127.0.0.1:{port}"), data.path(), Some(8))
        .await
        .unwrap();

    let scope = Scope::default();
    let ic = local
        .query(&ind::import_concentration(&scope, None).unwrap())
        .await
        .unwrap();
    let importer = ic.rows[0][0].as_str().unwrap().to_string();
    let top = ic.rows[0][ic.column("top1").unwrap()]
        .as_str()
        .unwrap()
        .to_string();
    let queries = [
        (
            "import_concentration",
            ind::import_concentration(&scope, None).unwrap(),
        ),
        (
            "import_concentration(importer)",
            ind::import_concentration(&scope, Some(&importer)).unwrap(),
        ),
        (
            "export_concentration",
            ind::export_concentration(&scope).unwrap(),
        ),
        (
            "imports_over_exports",
            ind::imports_over_exports(&scope).unwrap(),
        ),
        (
            "dependence",
            ind::dependence(&scope, None, &DependenceThresholds::default()).unwrap(),
        ),
        (
            "bilateral_dependence(yearly)",
            ind::bilateral_dependence(&scope, &importer, &top, false).unwrap(),
        ),
        (
            "bilateral_dependence(monthly)",
            ind::bilateral_dependence(&scope, &importer, &top, true).unwrap(),
        ),
        (
            "partner_shares",
            ind::partner_shares(&scope, &importer).unwrap(),
        ),
        ("alert_series", ind::alert_series(&scope, None).unwrap()),
        ("matrix", ind::matrix(&scope, &Mapping::embedded()).unwrap()),
    ];
    for (name, sql) in &queries {
        let a = local.query(sql).await.unwrap();
        let b = cluster
            .query(sql)
            .await
            .unwrap_or_else(|e| panic!("{name} on the cluster: {e}"));
        same_table(name, &a, &b);
    }

    // The alerts stream the series from the engine: the same alerts, in the same order.
    let settings = AlertSettings::default();
    let mapping = Mapping::embedded();
    let a = ind::alerts(&local, &scope, None, &settings, Some(&mapping))
        .await
        .unwrap();
    let b = ind::alerts(&cluster, &scope, None, &settings, Some(&mapping))
        .await
        .unwrap();
    assert!(!a.is_empty(), "the injected shocks alert");
    assert!(
        close(
            &serde_json::to_value(&a).unwrap(),
            &serde_json::to_value(&b).unwrap()
        ),
        "alerts differ"
    );

    let ran: Vec<usize> = counters.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    assert!(
        ran.iter().all(|&n| n > 0),
        "both executors ran tasks: {ran:?}"
    );
    for e in &executors {
        assert!(!e.is_finished(), "an executor stopped during the test");
        e.abort();
    }
    scheduler.abort();
}

#[tokio::test]
async fn a_scheduler_that_is_not_there_is_a_clear_error() {
    let data = tempfile::tempdir().unwrap();
    generate(
        &GenOptions {
            rows: 1_000,
            seed: 1,
            shocks: 0,
            ..GenOptions::default()
        },
        data.path(),
    )
    .unwrap();
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    // Whichever step needs the scheduler first must fail within a minute, not hang or answer
    // an empty table.
    let run = async {
        let engine = remote_engine(&addr, data.path(), None).await?;
        engine.query("SELECT COUNT(*) FROM trade").await?;
        Ok::<_, Box<dyn std::error::Error>>(())
    };
    let err = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("a missing scheduler is an error within a minute")
        .expect_err("a missing scheduler is an error")
        .to_string();
    assert!(!err.is_empty());
    assert!(
        chipwatch_cluster::parse_address("127.0.0.1:notaport", 50050).is_err(),
        "a bad port is refused"
    );
}

#[tokio::test]
async fn an_executor_without_a_scheduler_gives_up_after_its_timeout() {
    let start = std::time::Instant::now();
    let err = Executor::start(ExecutorOptions {
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: free_port(),
        port: free_port(),
        grpc_port: free_port(),
        connect_timeout_secs: 1,
        ..ExecutorOptions::default()
    })
    .await
    .expect_err("no scheduler listens there");
    assert!(
        err.to_string().contains("cannot reach the scheduler"),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(20));
}
