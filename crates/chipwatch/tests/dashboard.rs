//! End-to-end test of the web dashboard: the real `chipwatch` binary serves a temporary SQLite
//! database on 127.0.0.1, organisations, users and tokens come from the CLI, records, an
//! agreement and an information request from the API, events from `chipwatch monitor ingest`;
//! headless Chromium (driven through chromedriver's W3C WebDriver API) visits every page, runs a
//! scenario, checks a licence, filters events, and signs in as two organisations to confirm each
//! sees only its own and agreed data. Screenshots go to `e2e-screenshots/` (git-ignored) at the
//! workspace root.
//!
//! Skipped, with a note, when `chromedriver` or Chromium is not installed (`.ci/run` installs
//! the Debian packages `chromium` and `chromium-driver`). The WebDriver client is a few plain
//! HTTP/1.1 calls over `std::net`, so the test needs no extra crates.

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Minimal HTTP/1.1 client (one request per connection)

struct HttpResp {
    status: u16,
    body: String,
}

fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<HttpResp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(120)))?;
    let body = body.unwrap_or("");
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes())?;
    // Read by Content-Length (chromedriver keeps connections open despite `Connection: close`).
    let mut raw = Vec::new();
    let mut buf = [0u8; 65536];
    let split = loop {
        if let Some(p) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            break raw.len();
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut rest = raw[(split + 4).min(raw.len())..].to_vec();
    let length = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok());
    let chunked = headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"));
    loop {
        let done = match length {
            Some(l) => rest.len() >= l,
            None if chunked => rest.windows(5).any(|w| w == b"0\r\n\r\n"),
            None => false,
        };
        if done {
            break;
        }
        let n = s.read(&mut buf)?;
        if n == 0 {
            break;
        }
        rest.extend_from_slice(&buf[..n]);
    }
    if chunked {
        rest = dechunk(&rest);
    }
    Ok(HttpResp {
        status,
        body: String::from_utf8_lossy(&rest).into_owned(),
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(nl) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..nl]).trim(), 16).unwrap_or(0);
        if size == 0 || nl + 2 + size > b.len() {
            break;
        }
        out.extend_from_slice(&b[nl + 2..nl + 2 + size]);
        b = &b[(nl + 4 + size).min(b.len())..];
    }
    out
}

fn api(addr: &str, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let auth = format!("Bearer {token}");
    let text = body.map(|b| b.to_string());
    let mut h = vec![("Authorization", auth.as_str())];
    if text.is_some() {
        h.push(("Content-Type", "application/json"));
    }
    let r = http(addr, method, path, &h, text.as_deref()).unwrap();
    assert!(r.status < 300, "{method} {path}: {} {}", r.status, r.body);
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

// ---------------------------------------------------------------------------------------------
// WebDriver

struct Driver {
    addr: String,
    session: String,
    child: Child,
    shots: PathBuf,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = http(
            &self.addr,
            "DELETE",
            &format!("/session/{}", self.session),
            &[],
            None,
        );
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
        let url = format!("/session/{}{path}", self.session);
        let text = body.to_string();
        let r = http(
            &self.addr,
            method,
            &url,
            &[("Content-Type", "application/json")],
            if method == "GET" { None } else { Some(&text) },
        )
        .unwrap();
        let v: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
        assert!(
            r.status < 300,
            "webdriver {method} {path}: {} {}",
            r.status,
            r.body
        );
        v["value"].clone()
    }
    fn go(&self, base: &str, path: &str) {
        self.cmd("POST", "/url", json!({"url": format!("{base}{path}")}));
    }
    fn url(&self) -> String {
        self.cmd("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    /// Wait for a navigation (form submissions return before the next page has loaded).
    fn wait_url(&self, what: &str, ok: impl Fn(&str) -> bool) {
        let t0 = Instant::now();
        while !ok(&self.url()) {
            assert!(
                t0.elapsed() < Duration::from_secs(60),
                "waiting for {what}; at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    fn source(&self) -> String {
        self.cmd("GET", "/source", Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    fn text(&self) -> String {
        let body = self.find("body");
        self.cmd("GET", &format!("/element/{body}/text"), Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    fn find(&self, css: &str) -> String {
        let v = self.cmd(
            "POST",
            "/element",
            json!({"using": "css selector", "value": css}),
        );
        v.as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}"))
            .to_string()
    }
    fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }
    fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/clear"), json!({}));
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({"text": text}),
        );
    }
    /// Pick options of a select (Ctrl-click semantics are not needed: clicking an option of a
    /// multi-select through WebDriver toggles it).
    fn choose(&self, select: &str, values: &[&str]) {
        for v in values {
            self.click(&format!("{select} option[value=\"{v}\"]"));
        }
    }
    /// A Chrome DevTools Protocol command through chromedriver; `None` if unsupported.
    fn cdp(&self, cmd: &str, params: Value) -> Option<Value> {
        let url = format!("/session/{}/goog/cdp/execute", self.session);
        let body = json!({"cmd": cmd, "params": params}).to_string();
        http(
            &self.addr,
            "POST",
            &url,
            &[("Content-Type", "application/json")],
            Some(&body),
        )
        .ok()
        .filter(|r| r.status == 200)
        .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
        .map(|v| v["value"].clone())
    }

    /// `NAME.png`: what a 1366-pixel laptop screen shows; `NAME-full.png`: the whole page
    /// (through chromedriver's CDP bridge; skipped if the driver lacks it).
    fn screenshot(&self, name: &str) {
        let b64 = self.cmd("GET", "/screenshot", Value::Null);
        let png = base64_decode(b64.as_str().unwrap_or(""));
        assert!(png.starts_with(b"\x89PNG"), "screenshot {name} is a PNG");
        std::fs::write(self.shots.join(format!("{name}.png")), png).unwrap();
        let cdp = |cmd: &str, params: Value| self.cdp(cmd, params);
        let Some(m) = cdp("Page.getLayoutMetrics", json!({})) else {
            return;
        };
        let h = m["cssContentSize"]["height"]
            .as_f64()
            .unwrap_or(1400.0)
            .min(12000.0);
        let w = m["cssContentSize"]["width"]
            .as_f64()
            .unwrap_or(1366.0)
            .min(4000.0);
        let clip = json!({"format": "png", "captureBeyondViewport": true, "clip": {"x": 0, "y": 0, "width": w, "height": h, "scale": 1}});
        if let Some(data) =
            cdp("Page.captureScreenshot", clip).and_then(|v| v["data"].as_str().map(str::to_string))
        {
            std::fs::write(
                self.shots.join(format!("{name}-full.png")),
                base64_decode(&data),
            )
            .unwrap();
        }
    }
    fn active_element_text(&self) -> String {
        let v = self.cmd("GET", "/element/active", Value::Null);
        let id = v
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.cmd("GET", &format!("/element/{id}/text"), Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    fn active_element_attr(&self, name: &str) -> String {
        let v = self.cmd("GET", "/element/active", Value::Null);
        let id = v
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        self.cmd(
            "GET",
            &format!("/element/{id}/attribute/{name}"),
            Value::Null,
        )
        .as_str()
        .unwrap_or("")
        .to_string()
    }
    fn press_key(&self, key: &str) {
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "kb", "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}),
        );
    }
    fn press_tab(&self) {
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "kb", "actions": [{"type": "keyDown", "value": "\u{E004}"}, {"type": "keyUp", "value": "\u{E004}"}]}]}),
        );
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter_map(val) {
        acc = (acc << 6) | c;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn find_program(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

fn start_driver(shots: PathBuf, profile: &Path) -> Option<Driver> {
    let chromedriver = find_program(&["chromedriver"])?;
    let chromium = find_program(&["chromium", "chromium-browser", "google-chrome"])?;
    let port = free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let addr = format!("127.0.0.1:{port}");
    let t0 = Instant::now();
    while http(&addr, "GET", "/status", &[], None)
        .map(|r| !r.body.contains("\"ready\":true"))
        .unwrap_or(true)
    {
        assert!(
            t0.elapsed() < Duration::from_secs(30),
            "chromedriver did not start"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let caps = json!({"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
        "binary": chromium,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1366,900", "--lang=en-GB",
                 format!("--user-data-dir={}", profile.display())]}}}});
    let r = http(
        &addr,
        "POST",
        "/session",
        &[("Content-Type", "application/json")],
        Some(&caps.to_string()),
    )
    .unwrap();
    let v: Value = serde_json::from_str(&r.body).unwrap();
    let session = v["value"]["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session: {}", r.body))
        .to_string();
    Some(Driver {
        addr,
        session,
        child,
        shots,
    })
}

// ---------------------------------------------------------------------------------------------
// The server

struct Server {
    child: Child,
    addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("chipwatch")
}

fn cli(db: &str, args: &[&str]) -> String {
    let out = Command::new(bin())
        .args(args)
        .args(["--db", db])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "chipwatch {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn start_server(db: &str) -> Server {
    let mut child = Command::new(bin())
        .args([
            "serve",
            "--addr",
            "127.0.0.1:0",
            "--db",
            db,
            "--log-format",
            "text",
        ])
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Some(a) = line.split("listening on http://").nth(1) {
                let _ = tx.send(a.trim().to_string());
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("server address on stderr");
    Server { child, addr }
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn dashboard_end_to_end_in_chromium() {
    let tmp = tempfile::tempdir().unwrap();
    let shots = workspace().join("e2e-screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    let profile = tmp.path().join("chromium-profile");
    let Some(d) = start_driver(shots.clone(), &profile) else {
        eprintln!("note: chromedriver or chromium not installed; dashboard end-to-end test skipped (apt-get install chromium chromium-driver)");
        return;
    };

    // Tenants, users and tokens through the CLI.
    let db = tmp.path().join("e2e.db").display().to_string();
    cli(&db, &["admin", "org", "create", "Ministry Seoul"]);
    cli(&db, &["admin", "org", "create", "Ministry Hague"]);
    cli(
        &db,
        &[
            "admin",
            "user",
            "create",
            "--org",
            "Ministry Seoul",
            "--name",
            "kim",
            "--role",
            "admin",
        ],
    );
    cli(
        &db,
        &[
            "admin",
            "user",
            "create",
            "--org",
            "Ministry Hague",
            "--name",
            "jansen",
            "--role",
            "admin",
        ],
    );
    let seoul = cli(
        &db,
        &[
            "admin",
            "token",
            "create",
            "--org",
            "Ministry Seoul",
            "--user",
            "kim",
        ],
    );
    let hague = cli(
        &db,
        &[
            "admin",
            "token",
            "create",
            "--org",
            "Ministry Hague",
            "--user",
            "jansen",
        ],
    );
    // Events: the two Chinese seeds and an English page, with a watchlist raising alerts.
    let fx = workspace().join("tests/fixtures");
    let out = Command::new(bin())
        .args(["monitor", "ingest", "--db", &db, "--watch"])
        .arg(fx.join("web/watchlist.toml"))
        .arg(fx.join("monitor/seeds"))
        .arg(fx.join("web/fab-fire-en.html"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ingest: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let srv = start_server(&db);
    let base = format!("http://{}", srv.addr);
    let a = &srv.addr;
    let seoul_org = api(a, "GET", "/api/v1/me", &seoul, None)["org"]["id"]
        .as_i64()
        .unwrap();
    let hague_org = api(a, "GET", "/api/v1/me", &hague, None)["org"]["id"]
        .as_i64()
        .unwrap();
    let rec = |item: &str, provider: &str, value: f64| {
        json!({"item": item, "provider": provider, "country": "KOR", "metric": "capacity", "value": value, "unit": "wafers/month",
               "period": "2025-Q1", "provenance": "e2e survey", "distribution": "community"})
    };
    api(
        a,
        "POST",
        "/api/v1/records",
        &seoul,
        Some(rec("N22", "SeoulFab-Private", 41000.0)),
    );
    api(
        a,
        "POST",
        "/api/v1/records",
        &hague,
        Some(rec("N20", "HagueFab-Shared", 52000.0)),
    );
    api(
        a,
        "POST",
        "/api/v1/records",
        &hague,
        Some(rec("N26", "HagueFab-Unshared", 63000.0)),
    );
    api(
        a,
        "POST",
        "/api/v1/agreements",
        &hague,
        Some(
            json!({"grantee_org_id": seoul_org, "items": ["N20"], "metrics": ["*"], "fields": ["value", "unit", "period"]}),
        ),
    );
    api(
        a,
        "POST",
        "/api/v1/requests",
        &seoul,
        Some(
            json!({"addressee_org_id": hague_org, "legal_basis": "Regulation (EU) 2023/1781, Art. 25(1)",
        "purpose": "EUV tool capacity monitoring", "scope_items": ["N20"], "scope_metrics": ["capacity"], "deadline": "2030-01-31"}),
        ),
    );

    // Overview: diagram, chokepoints, world view; the skip link is the first Tab stop.
    d.go(&base, "/");
    let t = d.text();
    assert!(
        t.contains("Semiconductor value chain")
            && t.contains("Top chokepoints")
            && t.contains("Who supplies what"),
        "{t}"
    );
    assert!(d.source().contains("Logic-chip value chain"));
    d.screenshot("01-overview");
    d.press_tab();
    assert_eq!(d.active_element_text(), "Skip to main content");
    // On a wide screen the whole value-chain diagram fits without scrolling.
    d.cmd(
        "POST",
        "/window/rect",
        json!({"width": 1920, "height": 1100}),
    );
    d.go(&base, "/");
    d.screenshot("00-overview-wide");
    d.cmd(
        "POST",
        "/window/rect",
        json!({"width": 1366, "height": 900}),
    );

    // Item page, reached through the chokepoint table's link.
    d.click("a[href=\"/item/N20\"]");
    d.wait_url("the item page", |u| u.ends_with("/item/N20"));
    let t = d.text();
    assert!(
        t.contains("N20 EUV lithography tools") && t.contains("By firm") && t.contains("ASML"),
        "{t}"
    );
    d.screenshot("02-item-N20");

    // Search from the navigation with the keyboard only: after the skip link, the brand and the
    // seven navigation links, the next Tab stop is the search box; Enter submits it.
    d.go(&base, "/item/N20");
    for _ in 0..10 {
        d.press_tab();
    }
    assert_eq!(d.active_element_attr("id"), "nav-q");
    d.type_into("#nav-q", "ASML");
    d.press_key("\u{E007}");
    d.wait_url("the search results", |u| u.contains("/search?q=ASML"));
    let t = d.text();
    assert!(
        t.contains("Firm") && t.contains("Netherlands (NLD)") && t.contains("Item"),
        "{t}"
    );
    d.screenshot("12-search-ASML");
    // Firm page from the search result, then its HQ country's page.
    d.click("a[href=\"/firms/P88\"]");
    d.wait_url("the firm page", |u| u.ends_with("/firms/P88"));
    let t = d.text();
    assert!(
        t.contains("What it supplies")
            && t.contains("Restricted-party list status")
            && t.contains("No match for ASML"),
        "{t}"
    );
    d.screenshot("13-firm-ASML");
    d.click("main a[href=\"/countries/NLD\"]");
    d.wait_url("the country page", |u| u.ends_with("/countries/NLD"));
    let t = d.text();
    assert!(
        t.contains("Netherlands (NLD)")
            && t.contains("What it depends on")
            && t.contains("Measures it imposes")
            && t.contains("Measures it faces"),
        "{t}"
    );
    d.screenshot("14-country-NLD");

    // Scenario builder: block EUV tools from NLD to CHN and run.
    d.go(&base, "/scenario");
    d.type_into("#name", "EUV block NLD to CHN");
    d.choose("#s0_kind", &["export_block"]);
    d.choose("#s0_from", &["NLD"]);
    d.choose("#s0_to", &["CHN"]);
    d.choose("#s0_items", &["N20"]);
    d.click("form[action=\"/scenario\"] button[type=submit]");
    d.wait_url("the scenario result", |u| u.contains("run=1"));
    let t = d.text();
    assert!(
        t.contains("Result: EUV block NLD to CHN") && t.contains("Binding-constraint chains"),
        "{t}"
    );
    assert!(
        d.url().contains("s0_from=NLD"),
        "the scenario is in the URL"
    );
    d.screenshot("03-scenario");
    // The same page as printed (print stylesheet: no navigation or forms).
    d.cdp("Emulation.setEmulatedMedia", json!({"media": "print"}));
    d.screenshot("03-scenario-print");
    d.cdp("Emulation.setEmulatedMedia", json!({"media": ""}));

    // Licence check of an ASML immersion scanner to China.
    d.go(&base, "/licence");
    d.click("#product option[value*=\"NXT:2000i\"]");
    d.type_into("#from", "NLD");
    d.type_into("#to", "CHN");
    d.click("form[action=\"/licence\"] button[type=submit]");
    d.wait_url("the licence verdict", |u| u.contains("from=NLD"));
    let t = d.text();
    assert!(
        t.contains("Verdict:") && t.to_lowercase().contains("licence required"),
        "{t}"
    );
    d.screenshot("04-licence");

    d.go(
        &base,
        "/screening?names=Huawei%20Technologies%0ASemiconductor%20Manufacturing%20International",
    );
    assert!(d.text().contains("match"));
    d.screenshot("05-screening");

    d.go(
        &base,
        "/measures?measure=NL-semiconductor-equipment&date=2024-06-01",
    );
    let t = d.text();
    assert!(
        t.contains("Impact of NL-semiconductor-equipment") && t.contains("Who is hit"),
        "{t}"
    );
    d.screenshot("06-measure-impact");

    // Monitor: filter to Chinese-language events.
    d.go(&base, "/monitor?all=1");
    let all = d.text();
    assert!(
        all.contains("Events") && all.contains("Alerts") && all.contains("Clusters"),
        "{all}"
    );
    d.choose("#lang", &["zh"]);
    d.click("form[action=\"/monitor\"] button[type=submit]");
    d.wait_url("the filtered feed", |u| u.contains("lang=zh"));
    assert!(d.url().contains("lang=zh"));
    let zh = d.text();
    assert!(
        zh.contains("language zh") && !zh.contains("language en"),
        "{zh}"
    );
    d.screenshot("07-monitor-zh");
    d.go(&base, "/monitor?all=1");
    d.screenshot("08-monitor-all");

    // Partner exchange: login required, then each organisation sees its own and agreed data.
    d.go(&base, "/partner");
    assert!(d.url().contains("/login?next=%2Fpartner"), "{}", d.url());
    d.screenshot("09-login");
    d.type_into("#token", &seoul);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the partner page", |u| u.ends_with("/partner"));
    let t = d.text();
    assert!(
        t.contains("Partner exchange: Ministry Seoul")
            && t.contains("SeoulFab-Private")
            && t.contains("52000"),
        "{t}"
    );
    assert!(
        !t.contains("HagueFab-Shared") && !t.contains("HagueFab-Unshared") && !t.contains("63000"),
        "{t}"
    );
    assert!(
        t.contains("EUV tool capacity monitoring") && t.contains("2030-01-31"),
        "the request with its deadline"
    );
    d.screenshot("10-partner-seoul");
    d.click("form[action=\"/logout\"] button");
    d.wait_url("the sign-out redirect", |u| u.ends_with('/'));
    d.go(&base, "/login?next=%2Fpartner");
    d.type_into("#token", &hague);
    d.click("form[action=\"/login\"] button[type=submit]");
    d.wait_url("the partner page", |u| u.ends_with("/partner"));
    let t = d.text();
    assert!(
        t.contains("Partner exchange: Ministry Hague")
            && t.contains("HagueFab-Shared")
            && t.contains("HagueFab-Unshared"),
        "{t}"
    );
    assert!(
        !t.contains("SeoulFab-Private") && !t.contains("41000"),
        "{t}"
    );
    assert!(t.contains("granted by you") && t.contains("Audit trail"));
    // The audit trail names users and organisations, with details as fields, and the open
    // request's deadline is in words.
    assert!(
        t.contains("jansen (Ministry Hague)") && !t.contains("org:") && !t.contains("{\""),
        "{t}"
    );
    assert!(t.contains("days left)"), "{t}");
    d.screenshot("11-partner-hague");
    eprintln!("screenshots in {}", shots.display());
}
