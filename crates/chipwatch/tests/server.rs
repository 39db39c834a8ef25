//! The real binary: bootstrap with `chipwatch admin`, serve, SIGKILL the server in the middle of
//! a concurrent write load, restart it on the same database and check that every write the
//! clients saw acknowledged is there, complete, and that the audit chain still verifies (each
//! write and its audit entry commit in one transaction, so nothing is half-written). The server's
//! log must not contain the token.

use assert_cmd::cargo::cargo_bin;
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn chipwatch(args: &[&str]) -> String {
    let out = Command::new(cargo_bin("chipwatch"))
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Start `chipwatch serve` on a free port; returns the child, its address and its log.
fn serve(db: &str) -> (Child, String, Arc<Mutex<String>>) {
    let mut child = Command::new(cargo_bin("chipwatch"))
        .args(["serve", "--addr", "127.0.0.1:0", "--db", db])
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let log = Arc::new(Mutex::new(String::new()));
    let deadline = Instant::now() + Duration::from_secs(60);
    let addr = loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "server exited: {}",
            log.lock().unwrap()
        );
        log.lock().unwrap().push_str(&line);
        if let Some(rest) = line.trim().strip_prefix("chipwatch listening on http://") {
            break rest.to_string();
        }
        assert!(Instant::now() < deadline, "server did not start");
    };
    let sink = log.clone();
    std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = err.read_to_string(&mut rest);
        sink.lock().unwrap().push_str(&rest);
    });
    (child, addr, log)
}

/// Minimal HTTP/1.1 client (one request per connection).
fn http(
    addr: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
) -> std::io::Result<(u16, Value)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status: u16 = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other("no status line"))?;
    let body = resp.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    let v = serde_json::from_str(body).map_err(|_| std::io::Error::other("incomplete body"))?;
    Ok((status, v))
}

#[test]
fn sigkill_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cw.db").display().to_string();
    chipwatch(&["admin", "org", "create", "MOTIE", "--db", &db]);
    chipwatch(&[
        "admin", "user", "create", "--org", "MOTIE", "--name", "writer", "--role", "analyst",
        "--db", &db,
    ]);
    let token = chipwatch(&[
        "admin", "token", "create", "--org", "MOTIE", "--user", "writer", "--db", &db,
    ])
    .trim()
    .to_string();
    assert!(token.starts_with("cw_") && token.len() == 67, "{token}");

    let (mut child, addr, log1) = serve(&db);
    let acked: Arc<Mutex<Vec<(i64, String)>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let (addr, token, acked, stop) = (addr.clone(), token.clone(), acked.clone(), stop.clone());
        writers.push(std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let marker = format!("w{w}-{n}");
                let body = format!(
                    r#"{{"item":"N20","provider":"{marker}","site":"fab","country":"KOR","metric":"capacity","value":{n},"unit":"wafers/month","period":"2024-Q1","provenance":"load test","distribution":"community"}}"#
                );
                match http(&addr, "POST", "/api/v1/records", &token, Some(&body)) {
                    Ok((201, v)) => acked.lock().unwrap().push((v["id"].as_i64().unwrap(), marker)),
                    Ok((st, v)) => panic!("write refused: {st} {v}"),
                    Err(_) => break, // the server died mid-request: not acknowledged
                }
                n += 1;
            }
        }));
    }
    // Let the load run, then kill without warning.
    let t0 = Instant::now();
    while acked.lock().unwrap().len() < 200 && t0.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(
        acked.len() >= 200,
        "only {} writes before the kill",
        acked.len()
    );

    let (mut child, addr, log2) = serve(&db);
    let (st, list) = http(&addr, "GET", "/api/v1/records?scope=own", &token, None).unwrap();
    assert_eq!(st, 200);
    let stored = list["records"].as_array().unwrap();
    for (id, marker) in &acked {
        let rec = stored.iter().find(|r| r["id"].as_i64() == Some(*id));
        let rec = rec.unwrap_or_else(|| panic!("acknowledged record {id} ({marker}) lost"));
        assert_eq!(rec["provider"], marker.as_str());
    }
    // At most one in-flight write per client may have committed without its answer arriving.
    assert!(
        stored.len() <= acked.len() + 4,
        "{} stored, {} acked",
        stored.len(),
        acked.len()
    );
    for r in stored {
        for f in [
            "provider",
            "site",
            "country",
            "value",
            "unit",
            "period",
            "provenance",
        ] {
            assert!(!r[f].is_null(), "half-written record: {r}");
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let verify = chipwatch(&["audit", "verify", "--db", &db]);
    assert!(verify.contains("audit log intact"), "{verify}");

    for log in [log1, log2] {
        let log = log.lock().unwrap();
        assert!(
            log.contains("\"route\":\"/api/v1/records\""),
            "structured access log expected: {}",
            &log[..log.len().min(500)]
        );
        assert!(
            !log.contains(&token) && !log.contains(&token[3..20]),
            "token in server log"
        );
    }
}

#[test]
fn audit_verify_names_tampered_entries() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cw.db").display().to_string();
    for name in ["A", "B", "C", "D"] {
        chipwatch(&["admin", "org", "create", name, "--db", &db]);
    }
    assert!(chipwatch(&["audit", "verify", "--db", &db]).contains("4 entries"));
    // Tamper with the file directly, as someone with database access would.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = chipwatch_store::Store::open(&db).await.unwrap();
        // The triggers refuse; an attacker with write access to the file drops them first.
        assert!(
            chipwatch_store::sqlx::query("DELETE FROM audit_log WHERE seq = 3")
                .execute(store.pool())
                .await
                .is_err()
        );
        sqlx_exec(&store, "DROP TRIGGER audit_log_no_update").await;
        sqlx_exec(&store, "DROP TRIGGER audit_log_no_delete").await;
        sqlx_exec(
            &store,
            "UPDATE audit_log SET detail = '{\"name\":\"Z\"}' WHERE seq = 2",
        )
        .await;
        sqlx_exec(&store, "DELETE FROM audit_log WHERE seq = 3").await;
        store.close().await;
    });
    let out = Command::new(cargo_bin("chipwatch"))
        .args(["audit", "verify", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("entry 2 was altered"), "{stdout}");
    assert!(stdout.contains("entry 3 was removed"), "{stdout}");
}

#[test]
fn audit_verify_detects_a_dropped_tail_and_survives_key_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cw.db").display().to_string();
    for name in ["A", "B", "C"] {
        chipwatch(&["admin", "org", "create", name, "--db", &db]);
    }
    let key_id = chipwatch(&["audit", "rotate-key", "--db", &db]);
    chipwatch(&["admin", "org", "create", "D", "--db", &db]);
    let out = chipwatch(&["audit", "verify", "--db", &db]);
    // 3 orgs, the rotation entry, the rotate request, 1 org.
    assert!(out.contains("6 entries"), "{out}");
    assert!(out.contains("checkpoint of entry 6"), "{out}");
    let key = std::fs::read_to_string(format!("{db}.audit-key")).unwrap();
    let last_key_line = key.lines().last().unwrap();
    assert!(last_key_line.starts_with(key_id.trim()), "{key}");

    // Verification never creates a key: with another key file it fails instead.
    let other = dir.path().join("other.key").display().to_string();
    let out = Command::new(cargo_bin("chipwatch"))
        .args(["audit", "verify", "--db", &db, "--audit-key-file", &other])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(!std::path::Path::new(&other).exists());

    // Drop the newest entry, as someone with access to the database file would.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = chipwatch_store::Store::open(&db).await.unwrap();
        sqlx_exec(&store, "DROP TRIGGER audit_log_no_delete").await;
        sqlx_exec(&store, "DELETE FROM audit_log WHERE seq = 6").await;
        store.close().await;
    });
    let out = Command::new(cargo_bin("chipwatch"))
        .args(["audit", "verify", "--db", &db])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("truncated: the head is entry 5, but a signed checkpoint covers entry 6"),
        "{stdout}"
    );
}

async fn sqlx_exec(store: &chipwatch_store::Store, sql: &str) {
    chipwatch_store::sqlx::query(sql)
        .execute(store.pool())
        .await
        .unwrap();
}

#[test]
fn a_peers_copy_of_the_checkpoints_detects_truncation_after_the_local_file_is_gone() {
    let dir = tempfile::tempdir().unwrap();
    let db_a = dir.path().join("a.db").display().to_string();
    let db_b = dir.path().join("b.db").display().to_string();
    for name in ["A1", "A2", "A3"] {
        chipwatch(&["admin", "org", "create", name, "--db", &db_a]);
    }
    chipwatch(&[
        "admin", "org", "create", "A-peer", "--kind", "peer", "--db", &db_b,
    ]);
    // What a federation push carries: A's newest checkpoint, kept by B.
    let cp_file = format!("{db_a}.audit-key.checkpoints");
    let text = std::fs::read_to_string(&cp_file).unwrap();
    let cp: chipwatch_store::audit::Checkpoint =
        serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(cp.seq, 3);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let b = chipwatch_store::Store::open(&db_b).await.unwrap();
        let org = b.org_by_name("A-peer").await.unwrap().unwrap();
        assert!(b.store_peer_checkpoint(org.id, &cp).await.unwrap());
        b.close().await;
    });
    let exported = chipwatch(&["audit", "checkpoints", "--org", "A-peer", "--db", &db_b]);
    let peer_copy = dir.path().join("from-peer.jsonl");
    std::fs::write(&peer_copy, &exported).unwrap();

    // An attacker with access to A's files drops the newest entry and the checkpoint file.
    rt.block_on(async {
        let store = chipwatch_store::Store::open(&db_a).await.unwrap();
        sqlx_exec(&store, "DROP TRIGGER audit_log_no_delete").await;
        sqlx_exec(&store, "DELETE FROM audit_log WHERE seq = 3").await;
        store.close().await;
    });
    std::fs::remove_file(&cp_file).unwrap();
    let out = Command::new(cargo_bin("chipwatch"))
        .args(["audit", "verify", "--db", &db_a])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "without an anchor the shorter chain looks intact"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("no signed checkpoint"));
    assert!(
        !std::path::Path::new(&cp_file).exists(),
        "verify creates nothing"
    );
    let out = Command::new(cargo_bin("chipwatch"))
        .args(["audit", "verify", "--db", &db_a, "--audit-checkpoint-file"])
        .arg(&peer_copy)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("the head is entry 2, but a signed checkpoint covers entry 3"),
        "{stdout}"
    );
}

#[test]
fn serve_on_postgres_without_an_audit_key_refuses_to_start() {
    // Checked before connecting: the URL need not even answer.
    let out = Command::new(cargo_bin("chipwatch"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            "postgres://nobody@127.0.0.1:1/none",
        ])
        .env_remove("CHIPWATCH_AUDIT_KEY_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--audit-key-file"), "{err}");
}
