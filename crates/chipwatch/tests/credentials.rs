//! The real binary's credential commands and flags: `admin peer keygen` writes a private key
//! file and never overwrites one; `admin peer add` refuses to store a peer token without the
//! peer key and stores it sealed with one; plaintext rows from before encryption at rest are
//! refused until `admin peer seal-tokens`; `serve` rejects bad limit settings and serves
//! `/metrics` on `--metrics-addr` without a token while the main address wants one.

use assert_cmd::cargo::cargo_bin;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(cargo_bin("chipwatch"));
    c.args(args)
        .env_remove("CHIPWATCH_PEER_KEY_FILE")
        .env_remove("CHIPWATCH_PEER_KEY");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(args, env);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], env: &[(&str, &str)]) -> String {
    let out = run(args, env);
    assert!(!out.status.success(), "{args:?} succeeded");
    String::from_utf8(out.stderr).unwrap()
}

fn stored_token(db: &str) -> String {
    // Read the row the way an attacker with the file would.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = chipwatch_store::Store::open(db).await.unwrap();
        chipwatch_store::sqlx::query_scalar("SELECT remote_token FROM peers")
            .fetch_one(store.pool())
            .await
            .unwrap()
    })
}

#[test]
fn peer_tokens_need_the_key_and_are_stored_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cw.db").display().to_string();
    let key = dir.path().join("peer.key");
    let key_s = key.display().to_string();
    ok(&["admin", "peer", "keygen", &key_s], &[]);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{mode:o}");
    }
    let first = std::fs::read_to_string(&key).unwrap();
    assert_eq!(first.trim().len(), 64);
    let e = fails(&["admin", "peer", "keygen", &key_s], &[]);
    assert!(e.contains("never overwritten"), "{e}");
    assert_eq!(std::fs::read_to_string(&key).unwrap(), first);

    ok(
        &[
            "admin", "org", "create", "NL-Hague", "--kind", "peer", "--db", &db,
        ],
        &[],
    );
    let tok = dir.path().join("from-hague.token");
    let remote = "cw_from_hague_0123456789abcdef0123456789abcdef0123456789abcdef";
    std::fs::write(&tok, remote).unwrap();
    let tok_s = tok.display().to_string();
    let add = [
        "admin",
        "peer",
        "add",
        "--name",
        "hague",
        "--url",
        "http://127.0.0.1:9",
        "--token-file",
        &tok_s,
        "--org",
        "NL-Hague",
        "--db",
        &db,
    ];
    let e = fails(&add, &[]);
    assert!(e.contains("peer key") && e.contains("keygen"), "{e}");
    ok(&add, &[("CHIPWATCH_PEER_KEY_FILE", &key_s)]);
    let raw = stored_token(&db);
    assert!(
        raw.starts_with("sealed:v1:") && !raw.contains("from_hague"),
        "{raw}"
    );

    // A plaintext row, as a database from before encryption at rest has.
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = chipwatch_store::Store::open(&db).await.unwrap();
        chipwatch_store::sqlx::query("UPDATE peers SET remote_token = $1")
            .bind(remote)
            .execute(store.pool())
            .await
            .unwrap();
    });
    let e = fails(
        &["admin", "peer", "push", "hague", "--db", &db],
        &[("CHIPWATCH_PEER_KEY_FILE", &key_s)],
    );
    assert!(e.contains("plaintext") && e.contains("seal-tokens"), "{e}");
    let out = ok(
        &[
            "admin",
            "peer",
            "seal-tokens",
            "--db",
            &db,
            "--peer-key-file",
            &key_s,
        ],
        &[],
    );
    assert!(out.contains("encrypted 1"), "{out}");
    assert!(stored_token(&db).starts_with("sealed:v1:"));
    // With the key the peer opens again; the push then fails only because nobody listens.
    let e = fails(
        &["admin", "peer", "push", "hague", "--db", &db],
        &[("CHIPWATCH_PEER_KEY", first.trim())],
    );
    assert!(e.contains("upstream_failed"), "{e}");
    // A wrong key opens nothing.
    let other = dir.path().join("other.key");
    ok(
        &["admin", "peer", "keygen", &other.display().to_string()],
        &[],
    );
    let e = fails(
        &["admin", "peer", "push", "hague", "--db", &db],
        &[("CHIPWATCH_PEER_KEY_FILE", &other.display().to_string())],
    );
    assert!(e.contains("does not open"), "{e}");
}

fn get(addr: &str, path: &str) -> u16 {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp.split(' ').nth(1).unwrap().parse().unwrap()
}

#[test]
fn serve_checks_its_settings_and_serves_metrics_apart() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cw.db").display().to_string();
    let e = fails(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            &db,
            "--session-idle-minutes",
            "0",
        ],
        &[],
    );
    assert!(e.contains("idle"), "{e}");
    let e = fails(
        &[
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            &db,
            "--auth-failures-per-source",
            "0",
        ],
        &[],
    );
    assert!(e.contains("limits"), "{e}");

    let mut child = Command::new(cargo_bin("chipwatch"))
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--metrics-addr",
            "127.0.0.1:0",
            "--db",
            &db,
        ])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let (mut main, mut metrics) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while main.is_none() || metrics.is_none() {
        let mut line = String::new();
        assert!(err.read_line(&mut line).unwrap() > 0, "server exited");
        if let Some(a) = line.trim().strip_prefix("chipwatch listening on http://") {
            main = Some(a.to_string());
        }
        if let Some(a) = line.trim().strip_prefix("chipwatch metrics on http://") {
            metrics = Some(a.trim_end_matches("/metrics").to_string());
        }
        assert!(Instant::now() < deadline, "server did not start");
    }
    let (main, metrics) = (main.unwrap(), metrics.unwrap());
    assert_eq!(get(&metrics, "/metrics"), 200);
    assert_eq!(
        get(&metrics, "/api/v1/openapi.json"),
        404,
        "metrics listener serves metrics only"
    );
    assert_eq!(get(&main, "/metrics"), 401);
    assert_eq!(get(&main, "/healthz"), 200);
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn serve_seals_plaintext_peer_tokens_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cw.db").display().to_string();
    let key = dir.path().join("peer.key").display().to_string();
    ok(&["admin", "peer", "keygen", &key], &[]);
    ok(
        &[
            "admin", "org", "create", "KR-Seoul", "--kind", "peer", "--db", &db,
        ],
        &[],
    );
    let tok = dir.path().join("t");
    std::fs::write(&tok, "cw_from_seoul_00112233445566778899aabbccddeeff").unwrap();
    ok(
        &[
            "admin",
            "peer",
            "add",
            "--name",
            "seoul",
            "--url",
            "http://127.0.0.1:9",
            "--token-file",
            &tok.display().to_string(),
            "--org",
            "KR-Seoul",
            "--db",
            &db,
            "--peer-key-file",
            &key,
        ],
        &[],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let store = chipwatch_store::Store::open(&db).await.unwrap();
        chipwatch_store::sqlx::query("UPDATE peers SET remote_token = 'cw_from_seoul_plain'")
            .execute(store.pool())
            .await
            .unwrap();
    });
    let mut child = Command::new(cargo_bin("chipwatch"))
        .args(["serve", "--addr", "127.0.0.1:0", "--db", &db])
        .env("CHIPWATCH_PEER_KEY_FILE", &key)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut err = BufReader::new(child.stderr.take().unwrap());
    let mut log = String::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut line = String::new();
        assert!(
            err.read_line(&mut line).unwrap() > 0,
            "server exited: {log}"
        );
        log.push_str(&line);
        if line.contains("chipwatch listening on") {
            break;
        }
        assert!(Instant::now() < deadline, "server did not start");
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(log.contains("encrypted 1 plaintext peer token"), "{log}");
    let raw = stored_token(&db);
    assert!(
        raw.starts_with("sealed:v1:") && !raw.contains("plain"),
        "{raw}"
    );
}
