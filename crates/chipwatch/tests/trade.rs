//! The real binary's `trade` commands: import each published layout from the fixtures, generate
//! data, and run the indicators, alerts, SQL and the chip trade matrix on them.

use assert_cmd::Command;
use std::path::{Path, PathBuf};

fn chipwatch() -> Command {
    let mut c = Command::cargo_bin("chipwatch").unwrap();
    c.env_remove("CHIPWATCH_MODEL")
        .env_remove("CHIPWATCH_TRADE_DATA");
    c
}

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../chipwatch-trade/tests/fixtures")
        .join(p)
}

fn run_ok(args: &[&str]) -> String {
    let out = chipwatch().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "chipwatch {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json(args: &[&str]) -> serde_json::Value {
    let mut a = vec!["--json"];
    a.extend_from_slice(args);
    serde_json::from_str(&run_ok(&a)).unwrap()
}

#[test]
fn import_each_layout_then_query() {
    let tmp = tempfile::tempdir().unwrap();
    let ds = tmp.path().join("ds");
    let d = ds.to_str().unwrap();
    let codes = fixture("baci/country_codes_V202401.csv");
    let baci = fixture("baci/BACI_HS22_Y2022_V202401.csv");
    let s = json(&[
        "trade",
        "import",
        "--layout",
        "baci",
        codes.to_str().unwrap(),
        baci.to_str().unwrap(),
        "--out",
        d,
    ]);
    assert_eq!(s["rows_written"], 10);
    let s = json(&[
        "trade",
        "import",
        "--layout",
        "comtrade",
        fixture("comtrade/comtrade_api_2023.csv").to_str().unwrap(),
        "--out",
        d,
    ]);
    assert_eq!(s["mirror_gap_count"], 1);
    let s = json(&[
        "trade",
        "import",
        "--layout",
        "comext",
        fixture("comext/full202301.csv").to_str().unwrap(),
        "--out",
        d,
    ]);
    assert_eq!(s["counts"]["confidential"], 2);

    // Several sources: the indicators ask which one.
    let out = chipwatch()
        .args(["trade", "dependence", "--data", d])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--source"));

    let rows = json(&[
        "trade",
        "dependence",
        "--indicator",
        "imports",
        "--source",
        "baci",
        "--reporter",
        "KOR",
        "--code",
        "8486.20",
        "--data",
        d,
    ]);
    assert_eq!(rows[0]["top1"], "NLD");
    assert_eq!(rows[0]["partners"], 4);
    let bilateral = [
        "trade",
        "dependence",
        "--indicator",
        "bilateral",
        "--source",
        "comtrade",
        "--reporter",
        "KOR",
        "--partner",
        "NLD",
        "--monthly",
        "--code",
        "8486",
        "--data",
        d,
    ];
    let rows = json(&bilateral);
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    // `--timings` reports the phases on standard error and leaves the answer as it is.
    let out = chipwatch()
        .arg("--json")
        .args(bilateral)
        .arg("--timings")
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("timings: open ") && err.contains(" s, query ") && err.contains("; total "),
        "{err}"
    );
    let timed: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(timed, rows);
    // `--repeat 3` runs the query three times in one session, times each, answers once.
    let out = chipwatch()
        .arg("--json")
        .args(bilateral)
        .args(["--timings", "--repeat", "3"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.matches(" s, again ").count(), 2, "{err}");
    let repeated: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(repeated, rows);
    let out = chipwatch()
        .args(bilateral)
        .args(["--repeat", "0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--repeat"));
    let text = run_ok(&["trade", "dependence", "--source", "baci", "--data", d]);
    assert!(text.starts_with("REPORTER"), "{text}");

    let rows = json(&[
        "trade",
        "sql",
        "SELECT source, COUNT(*) AS n FROM trade GROUP BY source ORDER BY source",
        "--data",
        d,
    ]);
    assert_eq!(rows[0]["source"], "baci");
    assert_eq!(
        (&rows[1]["source"], &rows[1]["n"]),
        (&"comext".into(), &8.into())
    );
    assert_eq!(
        (&rows[2]["source"], &rows[2]["n"]),
        (&"comtrade".into(), &7.into())
    );

    let csv = run_ok(&["trade", "matrix", "--source", "baci", "--data", d]);
    assert_eq!(
        csv.lines().next(),
        Some("segment,from,to,value,currency,period,source")
    );
    assert!(
        csv.contains("\nall,KOR,CHN,7000000,USD,2022,baci\n"),
        "{csv}"
    );

    // The matrix feeds the scenario engine's allocation (issue 12 <- issue 16).
    let m = tmp.path().join("chips.csv");
    std::fs::write(&m, &csv).unwrap();
    let sc =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios/twn-total-stop.toml");
    let r = json(&[
        "scenario",
        "run",
        sc.to_str().unwrap(),
        "--trade-matrix",
        m.to_str().unwrap(),
    ]);
    let origin = r["segment_provenance"]["trade_matrix"].as_str().unwrap();
    assert!(
        origin.contains("chips.csv") && origin.contains("period 2022"),
        "{origin}"
    );
    assert!(
        r["notes"].as_array().unwrap().iter().any(|n| n
            .as_str()
            .unwrap()
            .contains("producer-segment rows taken from it")),
        "{}",
        r["notes"]
    );

    // Errors name what is wrong.
    let out = chipwatch()
        .args([
            "trade",
            "sql",
            "SELECT 1",
            "--data",
            d,
            "--engine",
            "10.0.0.1:50050",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let bad = tmp.path().join("bad.csv");
    std::fs::write(&bad, "t,i,j,k,v,q\n2022,528,410,848620,x,1\n").unwrap();
    let out = chipwatch()
        .args([
            "trade",
            "import",
            "--layout",
            "baci",
            codes.to_str().unwrap(),
            bad.to_str().unwrap(),
            "--out",
            d,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.csv:2: field `v`"), "{err}");
}

#[test]
fn gen_then_alerts_find_the_shocks() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().to_str().unwrap();
    let g = json(&[
        "trade", "gen", "--rows", "40000", "--seed", "3", "--shocks", "4", "--out", d,
    ]);
    assert_eq!(g["shocks"].as_array().unwrap().len(), 4);
    let alerts = json(&["trade", "alerts", "--data", d]);
    assert_eq!(alerts.as_array().unwrap().len(), 4, "{alerts}");
    for s in g["shocks"].as_array().unwrap() {
        assert!(
            alerts
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["kind"] == s["kind"]
                    && a["importer"] == s["importer"]
                    && a["exporter"] == s["exporter"]
                    && a["year"] == s["year"]
                    && a["month"] == s["month"]),
            "shock {s} not alerted: {alerts}"
        );
    }
}

#[test]
fn alerts_join_the_monitor_store_and_watchlists() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    let db = tmp.path().join("monitor.db");
    let db = db.to_str().unwrap();
    let g = json(&[
        "trade", "gen", "--rows", "40000", "--seed", "3", "--shocks", "4", "--out", d,
    ]);
    let shocks = g["shocks"].as_array().unwrap();
    // Watch the importer of the first shock only.
    let importer = shocks[0]["importer"].as_str().unwrap();
    let watch = tmp.path().join("watch.toml");
    std::fs::write(
        &watch,
        format!("[[watch]]\nname = \"imports of {importer}\"\ncountries = [\"{importer}\"]\n"),
    )
    .unwrap();
    let run = || {
        let out = chipwatch()
            .args([
                "--json", "trade", "alerts", "--data", d, "--db", db, "--watch",
            ])
            .arg(&watch)
            .args(["--vintage", "gen-3"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let alerts: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (alerts, String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (alerts, err) = run();
    let n = alerts.as_array().unwrap().len();
    let watched = alerts
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["importer"] == importer || a["exporter"] == importer)
        .count();
    assert!(watched >= 1);
    assert!(
        err.contains(&format!(
            "{n} new, 0 already stored, {watched} watchlist alert(s)"
        )),
        "{err}"
    );
    // Idempotent: the same alerts are stored once.
    let (_, err) = run();
    assert!(
        err.contains(&format!("0 new, {n} already stored, 0 watchlist")),
        "{err}"
    );
    // They are monitor events with their period as the event date and a sentence.
    let ev: Vec<serde_json::Value> = run_ok(&[
        "--json", "monitor", "events", "--all", "--limit", "1000", "--db", db,
    ])
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    assert_eq!(ev.len(), n, "{ev:?}");
    let s0 = &shocks[0];
    let kind = format!("trade_{}", s0["kind"].as_str().unwrap());
    let hit = ev
        .iter()
        .find(|e| {
            e["event_type"] == kind.as_str()
                && e["title"]
                    .as_str()
                    .unwrap()
                    .starts_with(&format!("{importer}'s imports of"))
        })
        .unwrap_or_else(|| panic!("no {kind} event for {importer}: {ev:?}"));
    let month = format!("{}-{:02}", s0["year"], s0["month"].as_u64().unwrap());
    assert!(hit["title"].as_str().unwrap().contains(&month), "{hit}");
}

/// Kills the cluster's processes when the test ends, passed or not.
struct Procs(Vec<std::process::Child>);

impl Drop for Procs {
    fn drop(&mut self) {
        for c in &mut self.0 {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A scheduler with no executor never runs a job: the query is an error after `--timeout`,
/// naming the option, not a wait without end (Ballista's client waits forever).
#[test]
fn a_cluster_query_that_cannot_run_times_out() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    json(&["trade", "gen", "--rows", "2000", "--seed", "5", "--out", d]);
    let bin = assert_cmd::cargo::cargo_bin("chipwatch");
    let sched = format!("127.0.0.1:{}", free_port());
    let procs = Procs(vec![std::process::Command::new(&bin)
        .args(["cluster", "scheduler", "--bind", &sched])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()]);
    let start = std::time::Instant::now();
    let out = chipwatch()
        .args(["trade", "dependence", "--indicator", "imports", "--data", d])
        .args(["--engine", &sched, "--timeout", "4"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("did not finish within 4 s (--timeout)"),
        "{stderr}"
    );
    assert!(start.elapsed().as_secs() < 60, "{:?}", start.elapsed());
    // A time limit that is no number of seconds is refused.
    let out = chipwatch()
        .args(["trade", "dependence", "--data", d, "--timeout=0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--timeout"));
    drop(procs);
}

#[test]
fn cluster_processes_from_the_binary_answer_as_the_local_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("data");
    let d = d.to_str().unwrap();
    json(&[
        "trade", "gen", "--rows", "20000", "--seed", "5", "--shocks", "2", "--out", d,
    ]);
    let bin = assert_cmd::cargo::cargo_bin("chipwatch");
    let port = free_port();
    let sched = format!("127.0.0.1:{port}");
    let mut procs = Procs(vec![std::process::Command::new(&bin)
        .args(["cluster", "scheduler", "--bind", &sched])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()]);
    for i in 0..2 {
        let work = tmp.path().join(format!("executor-{i}"));
        procs.0.push(
            std::process::Command::new(&bin)
                .args([
                    "cluster",
                    "executor",
                    "--scheduler",
                    &sched,
                    "--vcores",
                    "1",
                ])
                .args(["--port", &free_port().to_string()])
                .args(["--grpc-port", &free_port().to_string()])
                .args(["--work-dir", work.to_str().unwrap()])
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap(),
        );
    }
    // The executors register within a few seconds; a query submitted before waits for them.
    let args = ["trade", "dependence", "--indicator", "imports", "--data", d];
    let local = json(&args);
    let mut remote_args = args.to_vec();
    remote_args.extend_from_slice(&["--engine", &sched, "--partitions", "4"]);
    let remote = json(&remote_args);
    let (l, r) = (local.as_array().unwrap(), remote.as_array().unwrap());
    assert!(!l.is_empty());
    assert_eq!(l.len(), r.len());
    for (a, b) in l.iter().zip(r) {
        assert_eq!(a["reporter"], b["reporter"]);
        assert_eq!(a["code"], b["code"]);
        assert_eq!(a["top1"], b["top1"]);
        let (x, y) = (a["hhi"].as_f64().unwrap(), b["hhi"].as_f64().unwrap());
        assert!((x - y).abs() < 1e-6 * x.max(1.0), "{a} vs {b}");
    }
    // A typo in the engine address is an error that names the option, not a local run.
    let out = chipwatch()
        .args([
            "trade",
            "dependence",
            "--data",
            d,
            "--engine",
            "127.0.0.1:notaport",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--engine"));
    drop(procs);
}
