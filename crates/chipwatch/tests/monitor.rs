//! `chipwatch monitor` end to end: classify the seeds, per-file errors that never stop a run,
//! crash-and-resume of ingestion without duplicates or loss, feed polling against a local HTTP
//! server (conditional GET, a dead feed, a garbage feed) and alert delivery to a local webhook.

use assert_cmd::Command;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn bin() -> Command {
    let mut c = Command::cargo_bin("chipwatch").unwrap();
    c.env_remove("CHIPWATCH_DB").env_remove("CHIPWATCH_MODEL");
    c
}

fn json_lines(out: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn classify_seeds_json() {
    let out = bin()
        .args(["monitor", "classify", "--json"])
        .arg(root().join("tests/fixtures/monitor/seeds"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_lines(&out.stdout);
    assert_eq!(v.len(), 2);
    assert_eq!(v[0]["event_type"], "alliance_agreement");
    assert_eq!(v[0]["seen_at"], "2023-12-13T17:15:02Z");
    assert_eq!(v[1]["event_type"], "licence_revocation");
    assert_eq!(v[1]["actors"]["imposing"], serde_json::json!(["NLD"]));
    assert_eq!(v[1]["actors"]["target"], serde_json::json!(["CHN"]));
    for k in [
        "source",
        "url",
        "title",
        "language",
        "published_at",
        "relevant",
        "status",
        "polarity",
        "certainty",
        "countries",
        "organisations",
        "items",
        "severity",
        "cluster_id",
        "evidence",
    ] {
        assert!(v[1].get(k).is_some(), "missing {k}");
    }
}

/// `--explain` says why: the licence-revocation seed's trace names its trigger and the choice,
/// in text and in JSON, and the classification itself is unchanged.
#[test]
fn classify_explains_its_decision() {
    let seeds = root().join("tests/fixtures/monitor/seeds");
    let out = bin()
        .args(["--json", "monitor", "classify", "--explain"])
        .arg(&seeds)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v = json_lines(&out.stdout);
    assert_eq!(v[1]["event_type"], "licence_revocation");
    let lines: Vec<&str> = v[1]["explanation"]
        .as_array()
        .expect("explanation array")
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l.contains("-> licence_revocation")),
        "{lines:?}"
    );
    assert_eq!(lines.last(), Some(&"event type: licence_revocation"));
    let text = bin()
        .args(["monitor", "classify", "--explain"])
        .arg(&seeds)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("| scores: "), "{text}");
    assert!(text.contains("| event type: alliance_agreement"), "{text}");
}

#[test]
fn bad_inputs_are_reported_and_the_rest_classified() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a_garbage.bin.txt"),
        b"\x00\x01\x02\x03garbage\x00",
    )
    .unwrap();
    std::fs::write(dir.path().join("b_bad.xml"), "<rss><channel><item><title>x").unwrap();
    std::fs::copy(
        root().join("tests/fixtures/monitor/seeds/003_0dfa30bb12f098ef.txt"),
        dir.path().join("c_seed.txt"),
    )
    .unwrap();
    let out = bin()
        .args(["monitor", "classify", "--json"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("a_garbage.bin.txt: binary content"),
        "{stderr}"
    );
    let v = json_lines(&out.stdout);
    assert!(
        v.iter().any(|a| a["event_type"] == "licence_revocation"),
        "{v:?}"
    );
}

#[test]
fn ingest_crash_and_resume_without_duplicates_or_loss() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    std::fs::create_dir(&corpus).unwrap();
    let n = 1500;
    for i in 0..n {
        std::fs::write(
            corpus.join(format!("{i:05}.txt")),
            format!("Report {i}\n\nThe Dutch government revoked export licences for ASML lithography machines to China, report number {i}.\n"),
        )
        .unwrap();
    }
    // An exact copy: de-duplicated by content.
    std::fs::write(
        corpus.join("dup1.txt"),
        "Report 1\n\nThe Dutch government revoked export licences for ASML lithography machines to China, report number 1.\n",
    )
    .unwrap();
    let db = dir.path().join("m.db");
    let stored = |db: &Path| -> usize {
        let out = bin()
            .args([
                "monitor", "events", "--all", "--json", "--limit", "100000", "--db",
            ])
            .arg(db)
            .output()
            .unwrap();
        json_lines(&out.stdout).len()
    };
    let exe = assert_cmd::cargo::cargo_bin("chipwatch");
    let mut child = std::process::Command::new(&exe)
        .args(["monitor", "ingest", "--db"])
        .arg(&db)
        .arg(&corpus)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first articles are committed, then crash it (SIGKILL) mid-run.
    let start = std::time::Instant::now();
    while (if db.exists() { stored(&db) } else { 0 }) == 0 && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    let after_crash = stored(&db);
    assert!(
        after_crash > 0 && after_crash < n,
        "crash happened mid-run: {after_crash} of {n} stored"
    );
    let out = bin()
        .args(["monitor", "ingest", "--db"])
        .arg(&db)
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin()
        .args([
            "monitor", "events", "--all", "--json", "--limit", "100000", "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    let v = json_lines(&out.stdout);
    assert_eq!(v.len(), n, "every article exactly once");
    let mut hashes: Vec<&str> = v
        .iter()
        .map(|a| a["content_hash"].as_str().unwrap())
        .collect();
    hashes.sort();
    hashes.dedup();
    assert_eq!(hashes.len(), n);
    // A third run stores nothing new.
    let out = bin()
        .args(["monitor", "ingest", "--db"])
        .arg(&db)
        .arg(&corpus)
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(&format!("0 new, {} duplicate(s)", n + 1))
    );
}

/// Bodies or request heads a test server recorded.
type Log = Arc<Mutex<Vec<String>>>;

/// A local HTTP server: GET /good.xml (ETag, 304 on match), /garbage, POST /hook (recorded).
fn serve(feed: String) -> (String, Log, Log) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", l.local_addr().unwrap());
    let hooks: Log = Arc::new(Mutex::new(Vec::new()));
    let requests: Log = Arc::new(Mutex::new(Vec::new()));
    let (h2, r2) = (hooks.clone(), requests.clone());
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut head = String::new();
            let mut len = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push_str(&line);
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            r2.lock().unwrap().push(head.clone());
            let first = head.lines().next().unwrap_or("").to_string();
            let resp = if first.starts_with("POST /hook") {
                h2.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string()
            } else if first.starts_with("GET /good.xml") {
                if head.to_ascii_lowercase().contains("if-none-match: \"v1\"") {
                    "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_string()
                } else {
                    format!("HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nContent-Type: application/rss+xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", feed.len(), feed)
                }
            } else if first.starts_with("GET /garbage") {
                "HTTP/1.1 200 OK\r\nContent-Length: 12\r\nConnection: close\r\n\r\n\u{0}\u{1}\u{2}garbage\u{0}\u{0}".to_string()
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_string()
            };
            let _ = s.write_all(resp.as_bytes());
        }
    });
    (base, hooks, requests)
}

#[test]
fn run_polls_feeds_conditionally_and_delivers_alerts() {
    let feed = r#"<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>
<item><title>Dutch government revokes ASML export licences for China</title><link>https://news.example/asml</link>
<description><![CDATA[<p>The Dutch government has partially revoked export licences for ASML NXT:2050i lithography machines to China, affecting a few Chinese customers.</p>]]></description>
<pubDate>Mon, 01 Jan 2024 10:00:00 +0000</pubDate></item>
<item><title>Nvidia posts record quarterly revenue</title><link>https://news.example/nvda</link>
<description>Nvidia reported record quarterly revenue and net income on demand for GPUs.</description></item>
</channel></rss>"#;
    let (base, hooks, requests) = serve(feed.to_string());
    let dir = tempfile::tempdir().unwrap();
    let feeds = dir.path().join("feeds.toml");
    std::fs::write(
        &feeds,
        format!(
            "timeout_secs = 5\nretries = 1\nbackoff_ms = 10\n[[feed]]\nurl = \"http://127.0.0.1:9/dead.xml\"\nname = \"dead\"\n[[feed]]\nurl = \"{base}/garbage\"\nname = \"garbage\"\n[[feed]]\nurl = \"{base}/good.xml\"\nname = \"good\"\n"
        ),
    )
    .unwrap();
    let watch = dir.path().join("watch.toml");
    std::fs::write(&watch, format!("webhook = \"{base}/hook\"\n[[watch]]\nname = \"litho\"\nitems = [\"N19\"]\nproviders = [\"P88\"]\n")).unwrap();
    let db = dir.path().join("m.db");
    let out = bin()
        .args(["monitor", "run", "--once", "--json", "--feeds"])
        .arg(&feeds)
        .arg("--watch")
        .arg(&watch)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("error: feed dead:"), "{stderr}");
    assert!(
        stderr.contains("error: feed garbage:") && stderr.contains("binary content"),
        "{stderr}"
    );
    assert!(stderr.contains("feed good: HTTP 200, 2 new"), "{stderr}");
    let alerts = json_lines(&out.stdout);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["event_type"], "licence_revocation");
    let impact = &alerts[0]["impact"];
    assert_eq!(impact["shocks"][0]["kind"], "export_block");
    assert!(
        impact["consumers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["country"] == "CHN"),
        "{impact}"
    );
    let hooks_seen = hooks.lock().unwrap().clone();
    assert_eq!(hooks_seen.len(), 1);
    assert!(hooks_seen[0].contains("\"watch\":\"litho\""));

    // Second round: conditional GET answers 304, nothing new, nothing re-sent.
    let out = bin()
        .args(["monitor", "run", "--once", "--feeds"])
        .arg(&feeds)
        .arg("--watch")
        .arg(&watch)
        .arg("--db")
        .arg(&db)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("feed good: HTTP 304, 0 new"), "{stderr}");
    assert!(requests
        .lock()
        .unwrap()
        .iter()
        .any(|h| h.to_ascii_lowercase().contains("if-none-match: \"v1\"")));
    assert_eq!(hooks.lock().unwrap().len(), 1);

    let out = bin()
        .args([
            "monitor",
            "events",
            "--type",
            "licence_revocation",
            "--since",
            "2023-12-31",
            "--json",
            "--db",
        ])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(json_lines(&out.stdout).len(), 1);
    let out = bin()
        .args(["monitor", "events", "--since", "not-a-date", "--db"])
        .arg(&db)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

/// Analyst feedback becomes an evaluation set: marks stored in the database are exported as
/// labels and text files, and `monitor evaluate` scores the classifier against them.
#[test]
fn feedback_exports_to_an_evaluation_set() {
    use chipwatch_store::monitor_feedback::{NewFeedback, Verdict};
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("fb.db").display().to_string();
    let ok = |args: &[&str]| {
        let out = bin().args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let seeds = root().join("tests/fixtures/monitor/seeds");
    ok(&["monitor", "ingest", "--db", &db, seeds.to_str().unwrap()]);
    ok(&["admin", "org", "create", "Ministry", "--db", &db]);
    ok(&[
        "admin", "user", "create", "--org", "Ministry", "--name", "kim", "--role", "analyst",
        "--db", &db,
    ]);
    let token = ok(&[
        "admin", "token", "create", "--org", "Ministry", "--user", "kim", "--db", &db,
    ]);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let store = chipwatch_store::Store::open(&db).await.unwrap();
            let who = store.principal_for_secret(&token).await.unwrap().unwrap();
            let events = store
                .monitor_events(&chipwatch_store::monitor::EventFilter::default())
                .await
                .unwrap();
            assert!(events.len() >= 2, "{events:?}");
            // One confirmed, one corrected to another type.
            for (e, verdict, ty) in [
                (&events[0], Verdict::Correct, None),
                (&events[1], Verdict::WrongType, Some("diplomatic_statement")),
            ] {
                store
                    .monitor_add_feedback(
                        &who,
                        NewFeedback {
                            article_id: e.id,
                            verdict,
                            event_type: ty.map(str::to_string),
                            entity: None,
                            duplicate_of: None,
                            note: None,
                        },
                        chipwatch_monitor::gazetteer::EVENT_TYPES,
                    )
                    .await
                    .unwrap();
            }
        });
    let out = tmp.path().join("set");
    let msg = ok(&[
        "monitor",
        "feedback",
        "export",
        "--db",
        &db,
        "--org",
        "Ministry",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(msg.starts_with("2 labelled articles"), "{msg}");
    let labels = std::fs::read_to_string(out.join("labels.toml")).unwrap();
    assert!(
        labels.contains("event_type = \"diplomatic_statement\""),
        "{labels}"
    );
    let report: serde_json::Value = serde_json::from_str(&ok(&[
        "--json",
        "monitor",
        "evaluate",
        "--labels",
        out.join("labels.toml").to_str().unwrap(),
    ]))
    .unwrap();
    assert_eq!(report["overall"]["articles"], 2, "{report}");
    // The confirmed event scores right, the corrected one wrong: type accuracy 0.5.
    assert_eq!(report["overall"]["event_type_accuracy"], 0.5, "{report}");
    // A second export into the same directory refuses to overwrite.
    let again = bin()
        .args([
            "monitor",
            "feedback",
            "export",
            "--db",
            &db,
            "--org",
            "Ministry",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
}

/// `monitor evaluate --rules-only` scores the rules and lexicons alone; `classify --json` says
/// what the learned layer read and decided for every article.
#[test]
fn evaluate_with_and_without_the_learned_layer() {
    let labels = root().join("data/eval/monitor-heldout/labels.toml");
    let labels = labels.to_str().unwrap();
    let score = |extra: &[&str]| -> serde_json::Value {
        let mut args = vec!["--json", "monitor", "evaluate", "--labels", labels];
        args.extend_from_slice(extra);
        let out = bin().args(&args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let both = score(&[]);
    let rules = score(&["--rules-only"]);
    let f1 = |r: &serde_json::Value| r["overall"]["f1"].as_f64().unwrap();
    assert!(
        f1(&both) > f1(&rules),
        "with the layer {} against rules alone {}",
        f1(&both),
        f1(&rules)
    );

    let out = bin()
        .args(["--json", "monitor", "classify"])
        .arg(root().join("tests/fixtures/monitor/seeds/003_0dfa30bb12f098ef.txt"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines = json_lines(&out.stdout);
    let learned = &lines[0]["learned"];
    assert_eq!(learned["decision"], "confirmed", "{learned}");
    assert_eq!(learned["event_type"], "licence_revocation", "{learned}");
    assert!(learned["relevant"].as_f64().unwrap() > 0.5, "{learned}");
    assert!(!learned["features"].as_array().unwrap().is_empty());

    // The table says when the layer, not the rules, decided: here the rules read no German and
    // the layer stays out of a language it never saw.
    let dir = tempfile::tempdir().unwrap();
    let de = dir.path().join("de.txt");
    std::fs::write(
        &de,
        "Bundesregierung verschärft Exportkontrollen für Halbleiter

Die Bundesregierung          verschärft die Exportkontrollen für Halbleiter nach China.
",
    )
    .unwrap();
    let out = bin()
        .args(["monitor", "classify"])
        .arg(&de)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("learned layer: outside its languages"),
        "{text}"
    );
    let out = bin()
        .args(["monitor", "classify"])
        .arg(root().join("tests/fixtures/monitor/seeds/003_0dfa30bb12f098ef.txt"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        !text.contains("learned layer"),
        "confirmed is not news: {text}"
    );
}
