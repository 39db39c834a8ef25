//! Feed polling over HTTP(S) with a pure-Rust client (ureq + rustls): conditional GET (ETag /
//! Last-Modified), timeouts, retries with exponential backoff on transport errors, 429 and 5xx,
//! and a body size limit. Each feed's failure is its own: the caller records it and moves on.

use crate::MonitorError;
use serde::Deserialize;
use std::io::Read;
use std::time::Duration;

/// `feeds.toml`: polling options and the feeds.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedsConfig {
    /// Seconds between polls of a feed (default 900).
    #[serde(default = "d_interval")]
    pub interval_secs: u64,
    /// Whole-request timeout in seconds (default 20).
    #[serde(default = "d_timeout")]
    pub timeout_secs: u64,
    /// Retries after the first attempt (default 3).
    #[serde(default = "d_retries")]
    pub retries: u32,
    /// First backoff in milliseconds; doubles each retry (default 500).
    #[serde(default = "d_backoff")]
    pub backoff_ms: u64,
    /// Largest accepted body in bytes (default 20 MB).
    #[serde(default = "d_max")]
    pub max_bytes: u64,
    #[serde(rename = "feed", default)]
    pub feeds: Vec<FeedSpec>,
}

fn d_interval() -> u64 {
    900
}
fn d_timeout() -> u64 {
    20
}
fn d_retries() -> u32 {
    3
}
fn d_backoff() -> u64 {
    500
}
fn d_max() -> u64 {
    crate::input::DEFAULT_MAX_BYTES
}

/// One feed to poll.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSpec {
    pub url: String,
    #[serde(default)]
    pub name: Option<String>,
    /// Overrides the global interval.
    #[serde(default)]
    pub interval_secs: Option<u64>,
}

impl FeedsConfig {
    pub fn from_toml_str(text: &str, file: &str) -> Result<Self, MonitorError> {
        let c: FeedsConfig = toml::from_str(text).map_err(|e| MonitorError::Config {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        if c.feeds.is_empty() {
            return Err(MonitorError::Config {
                file: file.to_string(),
                message: "no [[feed]] entries".into(),
            });
        }
        for (i, f) in c.feeds.iter().enumerate() {
            if !(f.url.starts_with("http://") || f.url.starts_with("https://")) {
                return Err(MonitorError::Config {
                    file: file.to_string(),
                    message: format!(
                        "feed #{}: field `url`: `{}` is not an http(s) URL",
                        i + 1,
                        f.url
                    ),
                });
            }
        }
        Ok(c)
    }

    pub fn options(&self) -> FetchOptions {
        FetchOptions {
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            retries: self.retries,
            backoff: Duration::from_millis(self.backoff_ms),
            max_bytes: self.max_bytes,
        }
    }
}

/// How to fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    pub timeout: Duration,
    pub retries: u32,
    pub backoff: Duration,
    pub max_bytes: u64,
}

impl Default for FetchOptions {
    fn default() -> Self {
        FetchOptions {
            timeout: Duration::from_secs(20),
            retries: 3,
            backoff: Duration::from_millis(500),
            max_bytes: crate::input::DEFAULT_MAX_BYTES,
        }
    }
}

/// Validators from the previous fetch, for a conditional GET.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Result of a fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// 304: nothing new since the validators.
    NotModified,
    Body {
        bytes: Vec<u8>,
        validators: Validators,
        status: u16,
        /// Attempts it took (1 = no retry).
        attempts: u32,
    },
}

fn agent(opts: &FetchOptions) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout_connect(opts.timeout)
        .timeout(opts.timeout)
        .user_agent(concat!("chipwatch-monitor/", env!("CARGO_PKG_VERSION")))
        .redirects(5)
        .build()
}

/// GET a URL (conditionally when validators are given), retrying transient failures.
pub fn fetch(url: &str, prev: &Validators, opts: &FetchOptions) -> Result<Fetched, MonitorError> {
    let agent = agent(opts);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let mut req = agent.get(url);
        if let Some(e) = &prev.etag {
            req = req.set("If-None-Match", e);
        }
        if let Some(l) = &prev.last_modified {
            req = req.set("If-Modified-Since", l);
        }
        let transient = match req.call() {
            Ok(resp) => {
                let status = resp.status();
                if status == 304 {
                    return Ok(Fetched::NotModified);
                }
                let validators = Validators {
                    etag: resp.header("ETag").map(str::to_string),
                    last_modified: resp.header("Last-Modified").map(str::to_string),
                };
                if let Some(len) = resp
                    .header("Content-Length")
                    .and_then(|l| l.parse::<u64>().ok())
                {
                    if len > opts.max_bytes {
                        return Err(MonitorError::Http {
                            url: url.to_string(),
                            message: format!(
                                "body of {len} bytes is over the {}-byte limit",
                                opts.max_bytes
                            ),
                        });
                    }
                }
                let mut bytes = Vec::new();
                match resp
                    .into_reader()
                    .take(opts.max_bytes + 1)
                    .read_to_end(&mut bytes)
                {
                    Ok(_) if bytes.len() as u64 > opts.max_bytes => {
                        return Err(MonitorError::Http {
                            url: url.to_string(),
                            message: format!("body is over the {}-byte limit", opts.max_bytes),
                        });
                    }
                    Ok(_) => {
                        return Ok(Fetched::Body {
                            bytes,
                            validators,
                            status,
                            attempts: attempt,
                        })
                    }
                    Err(e) => format!("reading body: {e}"),
                }
            }
            Err(ureq::Error::Status(code, _)) if code == 429 || code >= 500 => {
                format!("HTTP {code}")
            }
            Err(ureq::Error::Status(code, resp)) => {
                return Err(MonitorError::Http {
                    url: url.to_string(),
                    message: format!("HTTP {code} {}", resp.status_text()),
                });
            }
            Err(ureq::Error::Transport(t)) => t.to_string(),
        };
        if attempt > opts.retries {
            return Err(MonitorError::Http {
                url: url.to_string(),
                message: format!("{transient} (gave up after {attempt} attempts)"),
            });
        }
        std::thread::sleep(opts.backoff.saturating_mul(1 << (attempt - 1).min(10)));
    }
}

/// POST a JSON body (alerts to a webhook), with the same retry policy.
pub fn post_json(url: &str, body: &str, opts: &FetchOptions) -> Result<u16, MonitorError> {
    let agent = agent(opts);
    let mut attempt = 0u32;
    loop {
        attempt += 1;
        let err = match agent
            .post(url)
            .set("Content-Type", "application/json")
            .send_string(body)
        {
            Ok(r) => return Ok(r.status()),
            Err(ureq::Error::Status(code, _)) if code == 429 || code >= 500 => {
                format!("HTTP {code}")
            }
            Err(ureq::Error::Status(code, r)) => {
                return Err(MonitorError::Http {
                    url: url.to_string(),
                    message: format!("HTTP {code} {}", r.status_text()),
                })
            }
            Err(ureq::Error::Transport(t)) => t.to_string(),
        };
        if attempt > opts.retries {
            return Err(MonitorError::Http {
                url: url.to_string(),
                message: format!("{err} (gave up after {attempt} attempts)"),
            });
        }
        std::thread::sleep(opts.backoff.saturating_mul(1 << (attempt - 1).min(10)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    /// A tiny HTTP/1.1 server on 127.0.0.1 answering from a script of responses.
    fn serve(responses: Vec<String>) -> (String, Arc<Mutex<Vec<String>>>) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = format!("http://{}", l.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for r in responses {
                let Ok((mut s, _)) = l.accept() else { return };
                let mut reader = BufReader::new(s.try_clone().unwrap());
                let mut head = String::new();
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                    head.push_str(&line);
                }
                seen2.lock().unwrap().push(head);
                let _ = s.write_all(r.as_bytes());
            }
        });
        (addr, seen)
    }

    fn opts() -> FetchOptions {
        FetchOptions {
            timeout: Duration::from_secs(5),
            retries: 2,
            backoff: Duration::from_millis(10),
            max_bytes: 1000,
        }
    }

    #[test]
    fn conditional_get_retry_and_limits() {
        let ok = "HTTP/1.1 200 OK\r\nETag: \"v1\"\r\nLast-Modified: Mon, 01 Jan 2024 00:00:00 GMT\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello".to_string();
        let busy =
            "HTTP/1.1 503 Busy\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string();
        let not_mod = "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_string();
        let (url, seen) = serve(vec![busy, ok, not_mod]);
        let f = fetch(&url, &Validators::default(), &opts()).unwrap();
        let Fetched::Body {
            bytes,
            validators,
            attempts,
            ..
        } = f
        else {
            panic!("{f:?}")
        };
        assert_eq!(bytes, b"hello");
        assert_eq!(attempts, 2);
        assert_eq!(validators.etag.as_deref(), Some("\"v1\""));
        assert_eq!(
            fetch(&url, &validators, &opts()).unwrap(),
            Fetched::NotModified
        );
        let heads = seen.lock().unwrap();
        assert!(
            heads[2]
                .to_ascii_lowercase()
                .contains("if-none-match: \"v1\""),
            "{}",
            heads[2]
        );
        assert!(heads[2]
            .to_ascii_lowercase()
            .contains("if-modified-since: mon, 01 jan 2024"));
    }

    #[test]
    fn dead_and_oversized_feeds_are_errors() {
        let big = format!(
            "HTTP/1.1 200 OK\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{}",
            "x".repeat(5000)
        );
        let gone =
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_string();
        let (url, _) = serve(vec![big, gone]);
        let e = fetch(&url, &Validators::default(), &opts()).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
        let e = fetch(&url, &Validators::default(), &opts()).unwrap_err();
        assert!(e.to_string().contains("404"), "{e}");
        // Nothing listens on port 9 of localhost (discard); connection refused after retries.
        let e = fetch("http://127.0.0.1:9/feed", &Validators::default(), &opts()).unwrap_err();
        assert!(e.to_string().contains("gave up after 3 attempts"), "{e}");
    }

    #[test]
    fn config_errors_name_the_field() {
        let e =
            FeedsConfig::from_toml_str("[[feed]]\nurl = \"ftp://x\"\n", "feeds.toml").unwrap_err();
        assert!(
            e.to_string().contains("feeds.toml: feed #1: field `url`"),
            "{e}"
        );
        let c = FeedsConfig::from_toml_str(
            "interval_secs = 60\n[[feed]]\nurl = \"https://x/rss\"\n",
            "f",
        )
        .unwrap();
        assert_eq!(c.interval_secs, 60);
        assert_eq!(c.retries, 3);
    }
}
