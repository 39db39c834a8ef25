//! Shared by the binary's end-to-end tests: a minimal HTTP/1.1 client, a W3C WebDriver client
//! for headless Chromium (through chromedriver), and the real `chipwatch` binary as CLI and
//! server. Plain `std::net` calls, so the tests need no extra crates.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Minimal HTTP/1.1 client (one request per connection)

pub struct HttpResp {
    pub status: u16,
    pub body: String,
}

/// `read`, retried when a signal interrupts it (the tests spawn and reap processes, so SIGCHLD
/// can land in the middle of a read; `read` does not retry by itself, unlike `read_to_end`).
fn read_retrying(s: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match s.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            r => return r,
        }
    }
}

pub fn http(
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
        let n = read_retrying(&mut s, &mut buf)?;
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
        let n = read_retrying(&mut s, &mut buf)?;
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

pub fn dechunk(mut b: &[u8]) -> Vec<u8> {
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

pub fn api(addr: &str, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
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

pub struct Driver {
    pub addr: String,
    pub session: String,
    pub child: Child,
    pub shots: PathBuf,
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
    pub fn cmd(&self, method: &str, path: &str, body: Value) -> Value {
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
    pub fn go(&self, base: &str, path: &str) {
        self.cmd("POST", "/url", json!({"url": format!("{base}{path}")}));
    }
    pub fn url(&self) -> String {
        self.cmd("GET", "/url", Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    /// Wait for a navigation (form submissions return before the next page has loaded).
    pub fn wait_url(&self, what: &str, ok: impl Fn(&str) -> bool) {
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
    pub fn source(&self) -> String {
        self.cmd("GET", "/source", Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    pub fn text(&self) -> String {
        let body = self.find("body");
        self.cmd("GET", &format!("/element/{body}/text"), Value::Null)
            .as_str()
            .unwrap_or("")
            .to_string()
    }
    /// The page's text once `ok` holds (the page after a form post may still be loading).
    pub fn wait_text(&self, what: &str, ok: impl Fn(&str) -> bool) -> String {
        let t0 = Instant::now();
        loop {
            let url = format!("/session/{}/element", self.session);
            let found = http(
                &self.addr,
                "POST",
                &url,
                &[("Content-Type", "application/json")],
                Some(&json!({"using": "css selector", "value": "body"}).to_string()),
            )
            .ok()
            .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
            .and_then(|v| {
                v["value"]
                    .as_object()
                    .and_then(|o| o.values().next())
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
            let text = found.and_then(|e| {
                http(
                    &self.addr,
                    "GET",
                    &format!("/session/{}/element/{e}/text", self.session),
                    &[],
                    None,
                )
                .ok()
                .filter(|r| r.status == 200)
                .and_then(|r| serde_json::from_str::<Value>(&r.body).ok())
                .and_then(|v| v["value"].as_str().map(str::to_string))
            });
            if let Some(t) = text.filter(|t| ok(t)) {
                return t;
            }
            assert!(
                t0.elapsed() < Duration::from_secs(30),
                "waiting for {what}; at {}",
                self.url()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    pub fn find(&self, css: &str) -> String {
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
    pub fn click(&self, css: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/click"), json!({}));
    }
    pub fn type_into(&self, css: &str, text: &str) {
        let e = self.find(css);
        self.cmd("POST", &format!("/element/{e}/clear"), json!({}));
        self.cmd(
            "POST",
            &format!("/element/{e}/value"),
            json!({"text": text}),
        );
    }
    /// Set an input's value as a script would (a date input takes keyboard input in the
    /// browser's locale order, which the test should not depend on).
    pub fn set_value(&self, css: &str, value: &str) {
        let r = self.cmd(
            "POST",
            "/execute/sync",
            json!({"script": "const e = document.querySelector(arguments[0]); e.value = arguments[1]; return e.value;",
                   "args": [css, value]}),
        );
        assert_eq!(r.as_str(), Some(value), "set {css}: {r}");
    }
    /// Pick options of a select (Ctrl-click semantics are not needed: clicking an option of a
    /// multi-select through WebDriver toggles it).
    pub fn choose(&self, select: &str, values: &[&str]) {
        for v in values {
            self.click(&format!("{select} option[value=\"{v}\"]"));
        }
    }
    /// A Chrome DevTools Protocol command through chromedriver; `None` if unsupported.
    pub fn cdp(&self, cmd: &str, params: Value) -> Option<Value> {
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
    pub fn screenshot(&self, name: &str) {
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
    pub fn active_element_text(&self) -> String {
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
    pub fn active_element_attr(&self, name: &str) -> String {
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
    pub fn press_key(&self, key: &str) {
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "kb", "actions": [{"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]}),
        );
    }
    pub fn press_tab(&self) {
        self.cmd(
            "POST",
            "/actions",
            json!({"actions": [{"type": "key", "id": "kb", "actions": [{"type": "keyDown", "value": "\u{E004}"}, {"type": "keyUp", "value": "\u{E004}"}]}]}),
        );
    }
}

pub fn base64_decode(s: &str) -> Vec<u8> {
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

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn find_program(names: &[&str]) -> Option<PathBuf> {
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

pub fn start_driver(shots: PathBuf, profile: &Path) -> Option<Driver> {
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

pub struct Server {
    pub child: Child,
    pub addr: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn bin() -> PathBuf {
    assert_cmd::cargo::cargo_bin("chipwatch")
}

pub fn cli(db: &str, args: &[&str]) -> String {
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

pub fn start_server(db: &str) -> Server {
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

pub fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
