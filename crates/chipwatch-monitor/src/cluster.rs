//! Grouping reports of one event. Two articles share a cluster when they fall in one time window
//! and either their texts are near-duplicates (SimHash over the folded text: character bigrams
//! for CJK, words otherwise; rewrites and updates of one report) or they report the same event
//! type about the same entities (translations share no text but share countries, organisations
//! and items).

use crate::detect::Classified;
use crate::normalize::{fold, is_han, is_hangul, is_kana};
use std::collections::BTreeSet;

/// Default time window: reports of one event cluster within three days.
pub const DEFAULT_WINDOW_HOURS: i64 = 72;
/// Hamming distance at or below which two SimHashes are near-duplicates.
pub const NEAR_DUP_BITS: u32 = 8;

/// 64-bit SimHash of a text (after folding).
pub fn simhash(text: &str) -> u64 {
    let f = fold(text);
    let mut acc = [0i32; 64];
    let mut add = |tok: &str| {
        let h = fnv1a(tok.as_bytes());
        for (bit, a) in acc.iter_mut().enumerate() {
            if h >> bit & 1 == 1 {
                *a += 1;
            } else {
                *a -= 1;
            }
        }
    };
    let mut prev: Option<char> = None;
    let mut word = String::new();
    let mut buf = [0u8; 8];
    for c in f.chars() {
        let cjk = is_han(c) || is_hangul(c) || is_kana(c);
        if cjk {
            if !word.is_empty() {
                add(&word);
                word.clear();
            }
            if let Some(p) = prev {
                let n1 = p.encode_utf8(&mut buf[..4]).len();
                let n2 = c.encode_utf8(&mut buf[n1..]).len();
                add(std::str::from_utf8(&buf[..n1 + n2]).unwrap_or(""));
            }
            prev = Some(c);
        } else {
            prev = None;
            if c.is_alphanumeric() {
                word.push(c);
            } else if !word.is_empty() {
                add(&word);
                word.clear();
            }
        }
    }
    if !word.is_empty() {
        add(&word);
    }
    acc.iter()
        .enumerate()
        .fold(0u64, |h, (bit, &a)| if a > 0 { h | 1 << bit } else { h })
}

fn fnv1a(b: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf29ce484222325;
    for &x in b {
        h ^= x as u64;
        h = h.wrapping_mul(0x100000001b3);
    }
    // Final mix so that short tokens spread over all bits.
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51afd7ed558ccd);
    h ^ (h >> 33)
}

/// What the clusterer remembers of an article.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub cluster_id: String,
    pub simhash: u64,
    pub event_type: String,
    pub entities: BTreeSet<String>,
    /// Unix seconds (published or seen), if known.
    pub time: Option<i64>,
}

/// Incremental clusterer; feed articles in time order. The store can re-seed it with
/// [`Clusterer::remember`] so cluster ids stay stable across runs.
#[derive(Debug, Clone)]
pub struct Clusterer {
    pub window_secs: i64,
    members: Vec<Member>,
}

impl Default for Clusterer {
    fn default() -> Self {
        Clusterer {
            window_secs: DEFAULT_WINDOW_HOURS * 3600,
            members: Vec::new(),
        }
    }
}

/// Entities of a classified article used for matching: countries, organisations, items.
pub fn entity_set(c: &Classified) -> BTreeSet<String> {
    let mut s = BTreeSet::new();
    s.extend(c.countries.iter().map(|x| format!("c:{x}")));
    s.extend(c.organisations.iter().map(|o| format!("o:{}", o.id)));
    s.extend(c.items.iter().map(|x| format!("i:{x}")));
    // The state that imposes a measure, when an authority of that state is named: two listings
    // in one week by different states are two events, however many countries and firms they
    // share. (An imposer inferred only from a firm's home country is too weak to split on.)
    s.extend(
        c.actors
            .imposing
            .iter()
            .filter(|x| {
                c.organisations
                    .iter()
                    .any(|o| o.role == "authority" && o.country.as_deref() == Some(x.as_str()))
            })
            .map(|x| format!("by:{x}")),
    );
    s
}

/// The imposing states recorded in an entity set.
fn imposers(s: &BTreeSet<String>) -> BTreeSet<&str> {
    s.iter().filter_map(|e| e.strip_prefix("by:")).collect()
}

/// Unix time of an article: publication time if parseable, else the time it was seen.
pub fn article_time(c: &Classified) -> Option<i64> {
    let parse = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .map(|d| d.timestamp())
            .ok()
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                    .ok()
                    .map(|d| d.and_utc().timestamp())
            })
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .ok()
                    .and_then(|d| d.and_hms_opt(0, 0, 0))
                    .map(|d| d.and_utc().timestamp())
            })
    };
    c.published_at
        .as_deref()
        .and_then(parse)
        .or_else(|| c.seen_at.as_deref().and_then(parse))
}

impl Clusterer {
    pub fn new(window_hours: i64) -> Self {
        Clusterer {
            window_secs: window_hours * 3600,
            members: Vec::new(),
        }
    }

    pub fn remember(&mut self, m: Member) {
        self.members.push(m);
    }

    /// Assign a cluster id to a classified article (and remember it). `text` is its body.
    pub fn assign(&mut self, c: &Classified, text: &str) -> String {
        let sh = simhash(&format!("{}\n{text}", c.title));
        let ents = entity_set(c);
        let time = article_time(c);
        let in_window = |m: &Member| match (m.time, time) {
            (Some(a), Some(b)) => (a - b).abs() <= self.window_secs,
            _ => true,
        };
        let mut best: Option<(f64, usize)> = None;
        for (i, m) in self.members.iter().enumerate() {
            if !in_window(m) {
                continue;
            }
            let dist = (m.simhash ^ sh).count_ones();
            let near_dup = dist <= NEAR_DUP_BITS;
            let (ours, theirs) = (imposers(&ents), imposers(&m.entities));
            let other_state = !ours.is_empty() && !theirs.is_empty() && ours.is_disjoint(&theirs);
            let same_event = c.relevant && m.event_type == c.event_type && !other_state && {
                let shared = m.entities.intersection(&ents).count();
                let union = m.entities.union(&ents).count().max(1);
                shared >= 2 && shared * 2 >= union
            };
            if near_dup || same_event {
                let sim = if near_dup {
                    2.0 - dist as f64 / 64.0
                } else {
                    1.0
                };
                if best.is_none_or(|(b, _)| sim > b) {
                    best = Some((sim, i));
                }
            }
        }
        let id = match best {
            Some((_, i)) => self.members[i].cluster_id.clone(),
            None => format!("c{}", &c.content_hash[..c.content_hash.len().min(12)]),
        };
        self.members.push(Member {
            cluster_id: id.clone(),
            simhash: sh,
            event_type: c.event_type.clone(),
            entities: ents,
            time,
        });
        id
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_duplicates_have_close_simhashes() {
        let a = simhash("荷兰政府吊销了阿斯麦部分光刻机的出口许可证，这将影响少数中国客户。吕特表示措施从不针对特定国家。");
        let b = simhash("荷兰政府吊销了阿斯麦部分光刻机的出口许可证，这将影响少数中国客户。吕特说措施从不针对特定国家。");
        let c = simhash("台积电第三季度营收创新高，人工智能需求强劲，公司上调全年业绩预期。");
        assert!(
            (a ^ b).count_ones() <= NEAR_DUP_BITS,
            "{}",
            (a ^ b).count_ones()
        );
        assert!((a ^ c).count_ones() > NEAR_DUP_BITS);
        assert_eq!(simhash("ＡＳＭＬ licences"), simhash("asml licences"));
    }
}
