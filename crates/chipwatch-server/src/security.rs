//! Abuse limits and session policy: the [`Security`] settings (`serve` flags), the bounded
//! in-memory [`FailureLimiter`] for failed authentication, and the caller's source address
//! ([`client_addr`]), which the request middleware records for every request so that every
//! authentication and authorisation failure can be logged with it.
//!
//! The limiter is a sliding window per key: a key that failed `limit` times within `window`
//! is refused (429 `rate_limited`, with `Retry-After`) until its oldest failure in the window
//! ages out. Keys are source addresses (IPv4 address, or the /64 of an IPv6 address, since one
//! host commonly holds a whole /64) and token prefixes (the first [`PREFIX_CHARS`] characters of
//! the presented secret: one guessed-at or leaked token tried from many addresses). Only
//! failures count; a refused request is checked before any database lookup. Memory is bounded:
//! at most `capacity` keys per kind, the stalest evicted first.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Characters of a presented secret that key the per-token limit (`cw_` and 8 hex digits: 32
/// bits of the secret, too few to help an attacker and never logged).
pub const PREFIX_CHARS: usize = 11;

/// Session policy and abuse limits. Defaults are documented in docs/api.md.
#[derive(Debug, Clone, PartialEq)]
pub struct Security {
    /// Absolute lifetime of a dashboard session (never beyond its parent token's expiry).
    pub session_lifetime: Duration,
    /// A dashboard session unused for this long ends.
    pub session_idle: Duration,
    /// Failed authentications per source address within `failure_window` before 429.
    pub failures_per_source: u32,
    /// Failed authentications per token prefix within `failure_window` before 429.
    pub failures_per_token: u32,
    /// The sliding window of the two limits.
    pub failure_window: Duration,
    /// Keys the limiter remembers per kind (addresses, prefixes).
    pub limiter_capacity: usize,
    /// Reverse proxies whose `X-Forwarded-For` is believed: for a request from one of them the
    /// source is the right-most address of that header that is not a trusted proxy itself.
    pub trusted_proxies: Vec<IpAddr>,
}

impl Default for Security {
    fn default() -> Self {
        Security {
            session_lifetime: Duration::from_secs(8 * 3600),
            session_idle: Duration::from_secs(30 * 60),
            failures_per_source: 20,
            failures_per_token: 10,
            failure_window: Duration::from_secs(300),
            limiter_capacity: 10_000,
            trusted_proxies: Vec::new(),
        }
    }
}

impl Security {
    /// Check the settings; the message names the setting.
    pub fn validate(&self) -> Result<(), String> {
        if self.session_lifetime.as_secs() < 60 {
            return Err("session lifetime: at least 60 seconds".into());
        }
        if self.session_idle.as_secs() < 60 || self.session_idle > self.session_lifetime {
            return Err("session idle timeout: at least 60 seconds, at most the lifetime".into());
        }
        if self.failures_per_source == 0 || self.failures_per_token == 0 {
            return Err("failed-authentication limits: at least 1".into());
        }
        if self.failure_window.is_zero() {
            return Err("failure window: at least 1 second".into());
        }
        if self.limiter_capacity == 0 {
            return Err("limiter capacity: at least 1".into());
        }
        Ok(())
    }
}

/// Which limit refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    Source,
    Token,
}

impl Limited {
    pub fn as_str(self) -> &'static str {
        match self {
            Limited::Source => "source_address",
            Limited::Token => "token_prefix",
        }
    }
}

#[derive(Debug)]
struct Windows<K> {
    map: HashMap<K, VecDeque<Instant>>,
}

impl<K> Default for Windows<K> {
    fn default() -> Self {
        Windows {
            map: HashMap::new(),
        }
    }
}

impl<K: std::hash::Hash + Eq + Clone> Windows<K> {
    /// Time until `key` may try again, if it is at its limit now.
    fn blocked(&mut self, key: &K, limit: u32, window: Duration, now: Instant) -> Option<Duration> {
        let q = self.map.get_mut(key)?;
        while q.front().is_some_and(|t| now.duration_since(*t) >= window) {
            q.pop_front();
        }
        if q.is_empty() {
            self.map.remove(key);
            return None;
        }
        if q.len() >= limit as usize {
            let oldest = *q.front()?;
            Some(window.saturating_sub(now.duration_since(oldest)))
        } else {
            None
        }
    }

    fn record(&mut self, key: K, limit: u32, window: Duration, capacity: usize, now: Instant) {
        if !self.map.contains_key(&key) && self.map.len() >= capacity {
            self.map
                .retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < window));
            if self.map.len() >= capacity {
                // Still full of live keys: forget the one whose last failure is oldest.
                let stalest = self
                    .map
                    .iter()
                    .min_by_key(|(_, q)| q.back().copied())
                    .map(|(k, _)| k.clone());
                if let Some(k) = stalest {
                    self.map.remove(&k);
                }
            }
        }
        let q = self.map.entry(key).or_default();
        q.push_back(now);
        while q.len() > limit as usize {
            q.pop_front();
        }
    }
}

/// Failed-authentication limiter (see the module docs).
#[derive(Debug)]
pub struct FailureLimiter {
    settings: Security,
    inner: Mutex<(Windows<IpAddr>, Windows<String>)>,
}

impl FailureLimiter {
    pub fn new(settings: &Security) -> FailureLimiter {
        FailureLimiter {
            settings: settings.clone(),
            inner: Mutex::new((Windows::default(), Windows::default())),
        }
    }

    /// `Err((which, wait))` when the source or the token prefix is at its limit.
    pub fn check(&self, source: Option<IpAddr>, secret: &str) -> Result<(), (Limited, Duration)> {
        self.check_at(source, secret, Instant::now())
    }

    /// [`FailureLimiter::check`] at a given instant (tests drive the clock).
    pub fn check_at(
        &self,
        source: Option<IpAddr>,
        secret: &str,
        now: Instant,
    ) -> Result<(), (Limited, Duration)> {
        let s = &self.settings;
        // A poisoned lock means a panic elsewhere mid-update; the counters are still usable.
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ip) = source.map(source_key) {
            if let Some(w) =
                g.0.blocked(&ip, s.failures_per_source, s.failure_window, now)
            {
                return Err((Limited::Source, w));
            }
        }
        if let Some(w) = g.1.blocked(
            &prefix_key(secret),
            s.failures_per_token,
            s.failure_window,
            now,
        ) {
            return Err((Limited::Token, w));
        }
        Ok(())
    }

    /// Count one failed authentication.
    pub fn record_failure(&self, source: Option<IpAddr>, secret: &str) {
        self.record_failure_at(source, secret, Instant::now())
    }

    /// [`FailureLimiter::record_failure`] at a given instant (tests drive the clock).
    pub fn record_failure_at(&self, source: Option<IpAddr>, secret: &str, now: Instant) {
        let s = &self.settings;
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(ip) = source.map(source_key) {
            g.0.record(
                ip,
                s.failures_per_source,
                s.failure_window,
                s.limiter_capacity,
                now,
            );
        }
        g.1.record(
            prefix_key(secret),
            s.failures_per_token,
            s.failure_window,
            s.limiter_capacity,
            now,
        );
    }

    /// Keys remembered (addresses, prefixes).
    pub fn len(&self) -> (usize, usize) {
        let g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (g.0.map.len(), g.1.map.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == (0, 0)
    }
}

/// IPv4 addresses as they are (IPv4-mapped IPv6 too); IPv6 by its /64.
fn source_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

fn prefix_key(secret: &str) -> String {
    secret.chars().take(PREFIX_CHARS).collect()
}

/// The source address of a request: the connecting peer, or, when that is a trusted proxy,
/// the right-most `X-Forwarded-For` entry that is not a trusted proxy.
pub fn source_of(
    peer: Option<SocketAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[IpAddr],
) -> Option<IpAddr> {
    let peer = peer?.ip();
    if !trusted.contains(&peer) {
        return Some(peer);
    }
    let mut chain: Vec<IpAddr> = Vec::new();
    for v in headers.get_all("x-forwarded-for") {
        let Ok(text) = v.to_str() else {
            return Some(peer);
        };
        for part in text.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => chain.push(ip),
                // A malformed chain is not believed.
                Err(_) => return Some(peer),
            }
        }
    }
    Some(
        chain
            .into_iter()
            .rev()
            .find(|ip| !trusted.contains(ip))
            .unwrap_or(peer),
    )
}

tokio::task_local! {
    static CLIENT: Option<IpAddr>;
}

/// Run `f` with `addr` as the current request's source address (the request middleware does).
pub async fn with_client<F: std::future::Future>(addr: Option<IpAddr>, f: F) -> F::Output {
    CLIENT.scope(addr, f).await
}

/// The current request's source address, when known (a listener without connection info, such
/// as a test calling the router directly, has none).
pub fn client_addr() -> Option<IpAddr> {
    CLIENT.try_with(|c| *c).ok().flatten()
}

/// For logs: the address or `unknown`.
pub fn client_label() -> String {
    client_addr().map_or_else(|| "unknown".to_string(), |a| a.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(source: u32, token: u32, window_ms: u64, capacity: usize) -> Security {
        Security {
            failures_per_source: source,
            failures_per_token: token,
            failure_window: Duration::from_millis(window_ms),
            limiter_capacity: capacity,
            ..Security::default()
        }
    }

    #[test]
    fn blocks_at_the_limit_and_says_how_long() {
        let l = FailureLimiter::new(&settings(3, 100, 60_000, 100));
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        for i in 0..3 {
            assert!(l.check(Some(ip), &format!("cw_{i:08}")).is_ok());
            l.record_failure(Some(ip), &format!("cw_{i:08}"));
        }
        let (which, wait) = l.check(Some(ip), "cw_other000").unwrap_err();
        assert_eq!(which, Limited::Source);
        assert!(wait > Duration::from_secs(59) && wait <= Duration::from_secs(60));
        assert!(l.check(Some("192.0.2.2".parse().unwrap()), "cw_x").is_ok());
        assert!(
            l.check(None, "cw_x").is_ok(),
            "unknown sources skip the address limit"
        );
    }

    #[test]
    fn token_prefix_limit_spans_addresses() {
        let l = FailureLimiter::new(&settings(100, 2, 60_000, 100));
        for i in 0..2 {
            l.record_failure(Some(IpAddr::from([10, 0, 0, i])), "cw_abcdefgh_rest_1");
        }
        assert_eq!(
            l.check(Some("10.9.9.9".parse().unwrap()), "cw_abcdefgh_rest_2")
                .unwrap_err()
                .0,
            Limited::Token
        );
        assert!(l.check(None, "cw_abcdefgX").is_ok());
    }

    #[test]
    fn window_slides() {
        let l = FailureLimiter::new(&settings(1, 100, 50, 100));
        let ip = Some("192.0.2.7".parse().unwrap());
        l.record_failure(ip, "cw_1");
        assert!(l.check(ip, "cw_2").is_err());
        std::thread::sleep(Duration::from_millis(60));
        assert!(l.check(ip, "cw_2").is_ok());
        assert_eq!(l.len().0, 0, "an aged-out key is forgotten");
    }

    #[test]
    fn memory_is_bounded() {
        let l = FailureLimiter::new(&settings(5, 5, 60_000, 64));
        for i in 0..10_000u32 {
            let ip = IpAddr::from(i.to_be_bytes());
            l.record_failure(Some(ip), &format!("cw_{i:08x}"));
        }
        let (a, p) = l.len();
        assert!(a <= 64 && p <= 64, "{a} {p}");
        // The newest offender is remembered.
        for _ in 0..5 {
            l.record_failure(Some("198.51.100.1".parse().unwrap()), "cw_zzzzzzzz");
        }
        assert!(l
            .check(Some("198.51.100.1".parse().unwrap()), "cw_y")
            .is_err());
    }

    #[test]
    fn ipv6_hosts_share_their_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(source_key(a), source_key(b));
        assert_ne!(source_key(a), source_key(c));
        let m: IpAddr = "::ffff:192.0.2.1".parse().unwrap();
        assert_eq!(source_key(m), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.3".parse().unwrap(),
        );
        let proxy: SocketAddr = "10.0.0.1:5000".parse().unwrap();
        let other: SocketAddr = "10.0.0.2:5000".parse().unwrap();
        let trusted = ["10.0.0.1".parse().unwrap()];
        assert_eq!(
            source_of(Some(other), &h, &trusted),
            Some("10.0.0.2".parse().unwrap()),
            "an untrusted peer's header is ignored"
        );
        assert_eq!(
            source_of(Some(proxy), &h, &trusted),
            Some("198.51.100.3".parse().unwrap()),
            "right-most entry: the one the proxy itself saw"
        );
        h.insert("x-forwarded-for", "not-an-ip".parse().unwrap());
        assert_eq!(source_of(Some(proxy), &h, &trusted), Some(proxy.ip()));
        assert_eq!(source_of(None, &h, &trusted), None);
    }

    /// Reference: a key is blocked while at least `limit` of its failures are younger than
    /// the window, until the `limit`-th newest of them ages out.
    fn reference_wait(
        failures: &[Duration],
        limit: u32,
        window: Duration,
        now: Duration,
    ) -> Option<Duration> {
        let mut live: Vec<Duration> = failures
            .iter()
            .copied()
            .filter(|t| now.saturating_sub(*t) < window)
            .collect();
        live.sort_unstable_by(|a, b| b.cmp(a));
        let kth = *live.get(limit as usize - 1)?;
        Some(window - (now - kth))
    }

    proptest::proptest! {
        #[test]
        fn matches_the_reference_sliding_window(
            ops in proptest::collection::vec((0u64..400, 0u8..3, 0u8..3, proptest::bool::ANY), 1..200),
            src_limit in 1u32..5,
            tok_limit in 1u32..5,
        ) {
            let window = Duration::from_millis(1000);
            let l = FailureLimiter::new(&settings(src_limit, tok_limit, 1000, 1_000));
            let base = Instant::now();
            let mut at = Duration::ZERO;
            let mut src_fail: HashMap<u8, Vec<Duration>> = HashMap::new();
            let mut tok_fail: HashMap<u8, Vec<Duration>> = HashMap::new();
            for (step, src, tok, fail) in ops {
                at += Duration::from_millis(step);
                let ip = IpAddr::from([10, 0, 0, src]);
                let secret = format!("cw_{tok:08}_rest");
                let got = l.check_at(Some(ip), &secret, base + at);
                let s_wait = reference_wait(src_fail.get(&src).map_or(&[][..], |v| v), src_limit, window, at);
                let t_wait = reference_wait(tok_fail.get(&tok).map_or(&[][..], |v| v), tok_limit, window, at);
                let want = match (s_wait, t_wait) {
                    (Some(w), _) => Err((Limited::Source, w)),
                    (None, Some(w)) => Err((Limited::Token, w)),
                    (None, None) => Ok(()),
                };
                proptest::prop_assert_eq!(got, want);
                if fail {
                    l.record_failure_at(Some(ip), &secret, base + at);
                    src_fail.entry(src).or_default().push(at);
                    tok_fail.entry(tok).or_default().push(at);
                }
            }
        }
    }

    #[test]
    fn settings_are_validated() {
        assert!(Security::default().validate().is_ok());
        let bad = Security {
            session_idle: Duration::from_secs(10 * 3600),
            ..Security::default()
        };
        assert!(bad.validate().unwrap_err().contains("idle"));
        let bad = Security {
            failures_per_token: 0,
            ..Security::default()
        };
        assert!(bad.validate().is_err());
    }
}
