//! Restricted-party screening: normalise names (case, width via NFKC, diacritics, punctuation,
//! legal-form words such as "Co., Ltd." / 有限公司 / 株式会社, traditional -> simplified Chinese),
//! add a romanised (pinyin) variant of Chinese names, index every name and alias by character
//! trigrams (blocking), and score the few candidates with edit distances that tolerate typos and
//! word order. A list file is TOML (`data/screening/*.toml`); `csl` and the importers in `lists`
//! convert the official list formats into it.
//!
//! Every list carries its provenance ([`ListInfo`]: authority, publication date, row count,
//! whether it is a partial extract, the file it came from), and every [`Hit`] carries the
//! provenance of the list it came from, so an answer never loses which list, of which date, said
//! so. Ownership data (`lists::ownership`) adds hits for affiliates of listed entities.

use crate::lists::ownership::Affiliation;
use crate::measure::ReviewPolicy;
use crate::{ControlsError, Date};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use unicode_normalization::UnicodeNormalization;

/// Default score from which a name counts as a match.
pub const DEFAULT_THRESHOLD: f64 = 0.85;

/// Candidates scored per query after trigram blocking.
const MAX_CANDIDATES: usize = 16;

/// One restricted party.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListEntry {
    /// List id, e.g. "US-EL" (Entity List).
    pub list: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub licence_requirement: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_policy: Option<ReviewPolicy>,
    pub citation: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub listed_on: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remarks: Option<String>,
}

/// Provenance of a list file (the `[meta]` table of the project's list TOML).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListMeta {
    pub name: String,
    pub source: String,
    /// The authority that publishes the list, e.g. "US Department of Commerce, BIS".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Publication date of the source list (YYYY-MM-DD): the file's own date, or the date the
    /// importer was told with `--date`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// When chipwatch compiled the list (YYYY-MM-DD); stands in for `published` for lists
    /// compiled by hand, such as the built-in one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compiled: Option<String>,
    /// True when the list is an extract, not the whole official list.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Records in the source file (rows or elements) the entries were built from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// Source format, e.g. "US CSL CSV", "EU FSF XML".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The official file the list was imported from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A list file: provenance and entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RestrictedList {
    pub meta: ListMeta,
    #[serde(default, rename = "entry")]
    pub entries: Vec<ListEntry>,
    /// The file this list was read from (not part of the TOML; set by the parser or importer).
    #[serde(skip)]
    pub file: String,
}

/// Provenance of one list a [`Screener`] holds, shown with every answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ListInfo {
    pub name: String,
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authority: Option<String>,
    /// Publication date of the list (for a compiled list, its compilation date); `None` only
    /// for lists built in code without one, shown as "date unknown".
    pub published: Option<Date>,
    /// True when the date is the compilation date of a hand-compiled list.
    pub compiled: bool,
    /// True when the list is a partial extract of the official list.
    pub partial: bool,
    /// Records in the source file, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<usize>,
    /// Entries the screener indexed from this list.
    pub entries: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub format: Option<String>,
    /// The file the screener loaded (project TOML or official file).
    pub file: String,
    /// The official file a project TOML was imported from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub imported_from: Option<String>,
}

impl ListInfo {
    /// Provenance of `list` as loaded from its file.
    pub fn of(list: &RestrictedList) -> ListInfo {
        let m = &list.meta;
        let published = m.published.as_deref().and_then(|d| Date::parse(d).ok());
        let compiled = m.compiled.as_deref().and_then(|d| Date::parse(d).ok());
        ListInfo {
            name: m.name.clone(),
            source: m.source.clone(),
            authority: m.authority.clone(),
            published: published.or(compiled),
            compiled: published.is_none() && compiled.is_some(),
            partial: m.partial,
            rows: m.rows,
            entries: list.entries.len(),
            format: m.format.clone(),
            file: list.file.clone(),
            imported_from: m.imported_from.clone(),
        }
    }
}

impl fmt::Display for ListInfo {
    /// One line: "NAME (AUTHORITY): partial extract, compiled 2026-11-21; 19 entries; FILE".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.name)?;
        if let Some(a) = &self.authority {
            write!(f, " ({a})")?;
        }
        write!(f, ": ")?;
        if self.partial {
            write!(f, "partial extract, ")?;
        }
        match (self.published, self.compiled) {
            (Some(d), true) => write!(f, "compiled {d}")?,
            (Some(d), false) => write!(f, "published {d}")?,
            (None, _) => write!(f, "publication date unknown")?,
        }
        match self.rows {
            Some(r) => write!(f, "; {r} rows, {} entries", self.entries)?,
            None => write!(f, "; {} entries", self.entries)?,
        }
        write!(f, "; {}", self.file)?;
        if let Some(src) = &self.imported_from {
            write!(f, " (imported from {src})")?;
        }
        Ok(())
    }
}

impl RestrictedList {
    /// Parse a list file in the project's TOML format.
    pub fn from_toml_str(text: &str, file: &str) -> Result<RestrictedList, ControlsError> {
        let mut l: RestrictedList = toml::from_str(text).map_err(|e| ControlsError::Toml {
            file: file.to_string(),
            message: e.to_string(),
        })?;
        l.file = file.to_string();
        for (i, e) in l.entries.iter().enumerate() {
            let err = |f: &str, m: &str| ControlsError::Field {
                file: file.to_string(),
                field: format!("entry[{i}].{f}"),
                message: m.to_string(),
            };
            if e.name.trim().is_empty() {
                return Err(err("name", "must not be empty"));
            }
            if e.list.trim().is_empty() {
                return Err(err("list", "must not be empty"));
            }
            if e.citation.trim().is_empty() {
                return Err(err("citation", "every entry needs its citation"));
            }
        }
        let meta_err = |f: &str, m: String| ControlsError::Field {
            file: file.to_string(),
            field: format!("meta.{f}"),
            message: m,
        };
        for (f, v) in [
            ("published", &l.meta.published),
            ("compiled", &l.meta.compiled),
        ] {
            if let Some(d) = v {
                Date::parse(d).map_err(|m| meta_err(f, m))?;
            }
        }
        if l.meta.published.is_none() && l.meta.compiled.is_none() {
            // An answer must say of which date the list is: a list without one is refused.
            return Err(meta_err(
                "published",
                "every list needs its publication date (or `compiled` for a hand-compiled \
                 list); re-import the official file with `--date YYYY-MM-DD` if it has none"
                    .to_string(),
            ));
        }
        Ok(l)
    }

    /// Write in the project's TOML format.
    pub fn to_toml_string(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_default()
    }
}

/// One screening match.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Hit {
    pub query: String,
    pub entry_name: String,
    pub matched_name: String,
    pub score: f64,
    pub list: String,
    pub country: Option<String>,
    pub licence_requirement: String,
    pub review_policy: Option<ReviewPolicy>,
    pub citation: String,
    pub listed_on: Option<String>,
    /// Provenance of the list the entry came from (for an affiliate: the owner's list).
    #[serde(serialize_with = "ser_arc")]
    pub list_info: Arc<ListInfo>,
    /// Set when the entry is not listed itself but owned 50% or more by listed entities
    /// (affiliates rule): the ownership chain, the owner's entry and the rule's dates.
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "ser_opt_arc"
    )]
    pub affiliate_of: Option<Arc<Affiliation>>,
}

/// Serialise what an `Arc` points to (serde's `rc` feature is not enabled in the workspace).
pub(crate) fn ser_arc<T: Serialize, S: Serializer>(v: &Arc<T>, s: S) -> Result<S::Ok, S::Error> {
    v.as_ref().serialize(s)
}

fn ser_opt_arc<T: Serialize, S: Serializer>(v: &Option<Arc<T>>, s: S) -> Result<S::Ok, S::Error> {
    v.as_deref().serialize(s)
}

impl Hit {
    /// Does this hit apply on `date`? The entry must be listed by then (an unparseable or
    /// missing listing date counts as listed: fail closed), and an affiliate hit needs the
    /// affiliates rule in force on that date (it was suspended for a year).
    pub fn applies_on(&self, date: Date) -> bool {
        let listed = self
            .listed_on
            .as_deref()
            .and_then(|d| Date::parse(d).ok())
            .is_none_or(|d| d <= date);
        listed
            && self
                .affiliate_of
                .as_ref()
                .is_none_or(|a| a.rule.in_force_on(date))
    }
}

/// Name normalisation tables (data: `data/screening/zh-t2s.txt`, `data/screening/pinyin.txt`).
#[derive(Debug, Clone, Default)]
pub struct Normaliser {
    t2s: HashMap<char, char>,
    pinyin: HashMap<char, String>,
}

/// Legal-form and filler words dropped from Latin-script names.
const LEGAL_WORDS: &[&str] = &[
    "co",
    "company",
    "ltd",
    "limited",
    "inc",
    "incorporated",
    "corp",
    "corporation",
    "llc",
    "gmbh",
    "ag",
    "bv",
    "nv",
    "plc",
    "sa",
    "sas",
    "srl",
    "spa",
    "kk",
    "pte",
    "pty",
    "jsc",
    "pjsc",
    "ojsc",
    "ooo",
    "oao",
    "zao",
    "the",
    "of",
    "and",
    "lp",
    "llp",
    "ltda",
    "sarl",
];

/// Legal forms in CJK scripts (after traditional -> simplified), longest first.
const CJK_LEGAL: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "株式会社",
    "有限会社",
    "合同会社",
    "주식회사",
    "유한회사",
    "(주)",
    "公司",
];

fn is_han(c: char) -> bool {
    matches!(c as u32, 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

fn is_cjk(c: char) -> bool {
    is_han(c) || matches!(c as u32, 0x3040..=0x30FF | 0xAC00..=0xD7AF | 0x1100..=0x11FF)
}

impl Normaliser {
    /// Build from the two tables: `t2s` lines "繁简" (or "繁<TAB>简"), `pinyin` lines "字 pin".
    pub fn from_tables(t2s: &str, pinyin: &str) -> Normaliser {
        let mut n = Normaliser::default();
        for line in t2s.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let cs: Vec<char> = l.chars().filter(|c| !c.is_whitespace()).collect();
            for pair in cs.chunks(2) {
                if let [t, s] = pair {
                    n.t2s.insert(*t, *s);
                }
            }
        }
        for line in pinyin.lines() {
            let l = line.trim();
            if l.is_empty() || l.starts_with('#') {
                continue;
            }
            let mut it = l.split_whitespace();
            if let (Some(c), Some(p)) = (it.next(), it.next()) {
                let mut cs = c.chars();
                if let (Some(ch), None) = (cs.next(), cs.next()) {
                    n.pinyin.insert(ch, p.to_ascii_lowercase());
                }
            }
        }
        n
    }

    /// Simplified form of a traditional character (identity when unknown).
    pub fn simplify(&self, c: char) -> char {
        *self.t2s.get(&c).unwrap_or(&c)
    }

    /// Normalised forms of a name: the primary form, plus a pinyin form when it has Chinese
    /// characters that all have a reading in the table. Tokens are separated by one space.
    pub fn variants(&self, name: &str) -> Vec<String> {
        let primary = self.primary(name);
        let mut out = vec![primary.clone()];
        if primary.chars().any(is_han) {
            let mut s = String::with_capacity(primary.len() * 3);
            let mut ok = true;
            for c in primary.chars() {
                if is_han(c) {
                    match self.pinyin.get(&c) {
                        Some(p) => {
                            if !s.is_empty() && !s.ends_with(' ') {
                                s.push(' ');
                            }
                            s.push_str(p);
                            s.push(' ');
                        }
                        None => {
                            ok = false;
                            break;
                        }
                    }
                } else {
                    s.push(c);
                }
            }
            if ok {
                let v = s.split_whitespace().collect::<Vec<_>>().join(" ");
                if !v.is_empty() && v != primary {
                    out.push(v);
                }
            }
        }
        out
    }

    /// NFKC, lowercase, simplified Chinese, no diacritics, no punctuation, no legal forms.
    pub fn primary(&self, name: &str) -> String {
        let mut s = String::with_capacity(name.len());
        for c in name.nfkc() {
            for lc in c.to_lowercase() {
                let lc = self.simplify(lc);
                if (lc as u32) < 0x250 && !lc.is_ascii() {
                    // Latin with diacritics: keep the base letters only.
                    unicode_normalization::char::decompose_canonical(lc, |d| {
                        if !unicode_normalization::char::is_combining_mark(d) {
                            s.push(d);
                        }
                    });
                } else {
                    s.push(lc);
                }
            }
        }
        for lf in CJK_LEGAL {
            if s.contains(lf) {
                s = s.replace(lf, " ");
            }
        }
        // Punctuation to spaces; a space between CJK and other scripts.
        let mut t = String::with_capacity(s.len());
        let mut prev_cjk = None;
        for c in s.chars() {
            if c.is_alphanumeric() {
                let cjk = is_cjk(c);
                if prev_cjk.is_some_and(|p| p != cjk) {
                    t.push(' ');
                }
                t.push(c);
                prev_cjk = Some(cjk);
            } else {
                t.push(' ');
                prev_cjk = None;
            }
        }
        // Initials written with dots ("S.A.", "B.V.", "K.K.") become one token first.
        let mut merged: Vec<String> = Vec::new();
        let mut prev_single = false;
        for w in t.split_whitespace() {
            let single = w.len() == 1 && w.as_bytes()[0].is_ascii_alphabetic();
            match merged.last_mut() {
                Some(last) if single && prev_single => last.push_str(w),
                _ => merged.push(w.to_string()),
            }
            prev_single = single;
        }
        let toks: Vec<&str> = merged
            .iter()
            .map(String::as_str)
            .filter(|w| !LEGAL_WORDS.contains(w))
            .collect();
        if toks.is_empty() {
            // A name made only of legal words ("The Company") stays as written.
            return merged.join(" ");
        }
        toks.join(" ")
    }
}

/// One indexed name or alias (one variant of it).
#[derive(Debug, Clone)]
struct NameKey {
    entry: u32,
    original: String,
    compact: Vec<char>,
    sorted: Vec<char>,
    tokens: Vec<String>,
}

fn keys_of(variant: &str) -> (Vec<char>, Vec<char>, Vec<String>) {
    let tokens: Vec<String> = variant.split_whitespace().map(str::to_string).collect();
    let compact: Vec<char> = tokens.iter().flat_map(|t| t.chars()).collect();
    let mut st = tokens.clone();
    st.sort();
    let sorted: Vec<char> = st.iter().flat_map(|t| t.chars()).collect();
    (compact, sorted, tokens)
}

fn trigrams(compact: &[char], out: &mut Vec<u64>) {
    out.clear();
    let mut padded = Vec::with_capacity(compact.len() + 2);
    padded.push('\u{2}');
    padded.extend_from_slice(compact);
    padded.push('\u{3}');
    for w in padded.windows(3) {
        out.push(
            (u64::from(w[0] as u32) << 42)
                | (u64::from(w[1] as u32) << 21)
                | u64::from(w[2] as u32),
        );
    }
    out.sort_unstable();
    out.dedup();
}

/// Levenshtein similarity 1 - d / max(len) on char slices, with one reused row.
fn lev_sim(a: &[char], b: &[char], row: &mut Vec<usize>) -> f64 {
    let (n, m) = (a.len(), b.len());
    if n == 0 && m == 0 {
        return 1.0;
    }
    row.clear();
    row.extend(0..=m);
    for (i, ca) in a.iter().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            let cost = usize::from(ca != cb);
            row[j + 1] = (prev + cost).min(cur + 1).min(row[j] + 1);
            prev = cur;
        }
    }
    1.0 - row[m] as f64 / n.max(m) as f64
}

/// Jaro-Winkler similarity on char slices (prefix scale 0.1, up to 4 characters).
fn jaro_winkler(a: &[char], b: &[char]) -> f64 {
    let (la, lb) = (a.len(), b.len());
    if la == 0 || lb == 0 {
        return if la == lb { 1.0 } else { 0.0 };
    }
    let window = (la.max(lb) / 2).saturating_sub(1);
    let mut b_used = vec![false; lb];
    let mut a_match = Vec::with_capacity(la.min(lb));
    for (i, ca) in a.iter().enumerate() {
        let lo = i.saturating_sub(window);
        let hi = (i + window + 1).min(lb);
        for j in lo..hi {
            if !b_used[j] && b[j] == *ca {
                b_used[j] = true;
                a_match.push(*ca);
                break;
            }
        }
    }
    let m = a_match.len();
    if m == 0 {
        return 0.0;
    }
    let b_match = b.iter().zip(&b_used).filter(|(_, u)| **u).map(|(c, _)| *c);
    let transpositions = a_match
        .iter()
        .zip(b_match)
        .filter(|(x, y)| **x != *y)
        .count()
        / 2;
    let m = m as f64;
    let jaro = (m / la as f64 + m / lb as f64 + (m - transpositions as f64) / m) / 3.0;
    let prefix = a.iter().zip(b).take(4).take_while(|(x, y)| x == y).count();
    jaro + prefix as f64 * 0.1 * (1.0 - jaro)
}

/// The screening index over one or more lists.
#[derive(Debug, Clone, Default)]
pub struct Screener {
    norm: Normaliser,
    entries: Vec<ListEntry>,
    /// Per entry: its list (index into `lists`) and, for an affiliate, the affiliation.
    entry_list: Vec<u32>,
    entry_affiliation: Vec<Option<Arc<Affiliation>>>,
    metas: Vec<ListMeta>,
    lists: Vec<Arc<ListInfo>>,
    names: Vec<NameKey>,
    index: HashMap<u64, Vec<u32>>,
    token_df: HashMap<String, u32>,
}

impl Screener {
    /// Index the entries of `lists`.
    pub fn new(norm: Normaliser, lists: Vec<RestrictedList>) -> Screener {
        let mut s = Screener {
            norm,
            ..Screener::default()
        };
        for l in lists {
            let info = Arc::new(ListInfo::of(&l));
            let li = s.lists.len() as u32;
            s.lists.push(info);
            s.metas.push(l.meta);
            for e in l.entries {
                s.add_entry(e, li, None);
            }
        }
        s.count_tokens();
        s
    }

    /// Register one more list's provenance (e.g. ownership data) without entries; returns its
    /// index for [`Screener::add_entry`].
    pub(crate) fn push_list_info(&mut self, info: ListInfo) -> u32 {
        self.lists.push(Arc::new(info));
        (self.lists.len() - 1) as u32
    }

    pub(crate) fn list_info(&self, entry: usize) -> &Arc<ListInfo> {
        &self.lists[self.entry_list[entry] as usize]
    }

    /// Index of a list, by identity; a list this screener does not hold yet is added (so a
    /// hit never shows another list's provenance).
    pub(crate) fn list_index_of(&mut self, info: &Arc<ListInfo>) -> u32 {
        match self.lists.iter().position(|l| Arc::ptr_eq(l, info)) {
            Some(i) => i as u32,
            None => {
                self.lists.push(info.clone());
                (self.lists.len() - 1) as u32
            }
        }
    }

    /// Index one entry (call [`Screener::count_tokens`] after the last one).
    pub(crate) fn add_entry(&mut self, e: ListEntry, list: u32, aff: Option<Arc<Affiliation>>) {
        let mut tri = Vec::new();
        let ei = self.entries.len() as u32;
        for n in std::iter::once(&e.name).chain(&e.aliases) {
            for v in self.norm.variants(n) {
                let (compact, sorted, tokens) = keys_of(&v);
                if compact.is_empty() {
                    continue;
                }
                trigrams(&compact, &mut tri);
                let ni = self.names.len() as u32;
                for t in &tri {
                    self.index.entry(*t).or_default().push(ni);
                }
                self.names.push(NameKey {
                    entry: ei,
                    original: n.clone(),
                    compact,
                    sorted,
                    tokens,
                });
            }
        }
        self.entries.push(e);
        self.entry_list.push(list);
        self.entry_affiliation.push(aff);
    }

    /// Document frequency of every token over all indexed names (the subset score uses it).
    pub(crate) fn count_tokens(&mut self) {
        self.token_df.clear();
        for n in &self.names {
            let mut toks: Vec<&String> = n.tokens.iter().collect();
            toks.sort();
            toks.dedup();
            for t in toks {
                *self.token_df.entry(t.clone()).or_default() += 1;
            }
        }
    }

    /// Provenance of every list the screener holds, in load order (ownership data included
    /// when loaded): what every answer must show, and what a rule-set digest must cover.
    pub fn lists(&self) -> &[Arc<ListInfo>] {
        &self.lists
    }

    pub fn entries(&self) -> &[ListEntry] {
        &self.entries
    }
    pub fn metas(&self) -> &[ListMeta] {
        &self.metas
    }
    pub fn normaliser(&self) -> &Normaliser {
        &self.norm
    }
    /// Number of indexed name variants (names and aliases, primary and pinyin forms).
    pub fn indexed_names(&self) -> usize {
        self.names.len()
    }

    /// Matches of `query` scoring at least `threshold`, best first, one per entry.
    pub fn screen(&self, query: &str, threshold: f64) -> Vec<Hit> {
        let mut scratch = Scratch::default();
        self.screen_with(query, threshold, &mut scratch)
    }

    /// Matches of `query` that apply on `date`: affiliate hits only while the affiliates rule
    /// is in force (hits on entries listed after `date` are kept, so the caller can say so).
    pub fn screen_on(&self, query: &str, threshold: f64, date: Date) -> Vec<Hit> {
        let mut hits = self.screen(query, threshold);
        hits.retain(|h| {
            h.affiliate_of
                .as_ref()
                .is_none_or(|a| a.rule.in_force_on(date))
        });
        hits
    }

    /// Screen many names, reusing buffers (batch mode).
    pub fn screen_many<'a>(
        &self,
        queries: impl IntoIterator<Item = &'a str>,
        threshold: f64,
    ) -> Vec<Vec<Hit>> {
        let mut scratch = Scratch::default();
        queries
            .into_iter()
            .map(|q| self.screen_with(q, threshold, &mut scratch))
            .collect()
    }

    fn screen_with(&self, query: &str, threshold: f64, sc: &mut Scratch) -> Vec<Hit> {
        if sc.weights.len() != self.names.len() {
            sc.weights = vec![0.0; self.names.len()];
        }
        let mut best: Vec<(u32, f64, u32)> = Vec::new(); // (entry, score, name)
                                                         // Trigrams shared by more than this many names carry little signal (blocking): in a
                                                         // list of company names, "tec", "ogy", "ion" are everywhere.
        let max_df = (self.names.len() / 40).max(64);
        for v in self.norm.variants(query) {
            let (qc, qs, qt) = keys_of(&v);
            if qc.is_empty() {
                continue;
            }
            trigrams(&qc, &mut sc.tri);
            sc.touched.clear();
            let mut total = 0.0f32;
            for t in &sc.tri {
                if let Some(post) = self.index.get(t) {
                    if post.len() > max_df {
                        continue;
                    }
                    // Rare trigrams weigh more (inverse document frequency).
                    let w = 1.0 / (1.0 + post.len() as f32).ln().max(0.5);
                    total += w;
                    for &n in post {
                        let slot = &mut sc.weights[n as usize];
                        if *slot == 0.0 {
                            sc.touched.push(n);
                        }
                        *slot += w;
                    }
                }
            }
            sc.cands.clear();
            for &n in &sc.touched {
                let w = sc.weights[n as usize];
                sc.weights[n as usize] = 0.0;
                // Candidates must share a fair part of the query's evidence.
                if w >= 0.2 * total {
                    sc.cands.push((w, n));
                }
            }
            if sc.cands.len() > MAX_CANDIDATES {
                sc.cands.select_nth_unstable_by(MAX_CANDIDATES, |a, b| {
                    b.0.total_cmp(&a.0).then(a.1.cmp(&b.1))
                });
                sc.cands.truncate(MAX_CANDIDATES);
            }
            for &(_, n) in &sc.cands {
                let nk = &self.names[n as usize];
                let score = self.score(threshold, &qc, &qs, &qt, nk, &mut sc.row);
                if score >= threshold {
                    match best.iter_mut().find(|b| b.0 == nk.entry) {
                        Some(b) if score > b.1 => {
                            b.1 = score;
                            b.2 = n;
                        }
                        Some(_) => {}
                        None => best.push((nk.entry, score, n)),
                    }
                }
            }
        }
        best.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        best.into_iter()
            .map(|(e, score, n)| {
                let en = &self.entries[e as usize];
                Hit {
                    query: query.to_string(),
                    entry_name: en.name.clone(),
                    matched_name: self.names[n as usize].original.clone(),
                    score: (score * 1000.0).round() / 1000.0,
                    list: en.list.clone(),
                    country: en.country.clone(),
                    licence_requirement: en.licence_requirement.clone(),
                    review_policy: en.review_policy,
                    citation: en.citation.clone(),
                    listed_on: en.listed_on.clone(),
                    list_info: self.list_info(e as usize).clone(),
                    affiliate_of: self.entry_affiliation[e as usize].clone(),
                }
            })
            .collect()
    }

    #[allow(clippy::too_many_arguments)]
    fn score(
        &self,
        threshold: f64,
        qc: &[char],
        qs: &[char],
        qt: &[String],
        n: &NameKey,
        row: &mut Vec<usize>,
    ) -> f64 {
        if qc == n.compact.as_slice() || qs == n.sorted.as_slice() {
            return 1.0;
        }
        let (la, lb) = (qc.len(), n.compact.len());
        // Levenshtein similarity is at most min/max length: skip it when that cannot matter.
        let mut s = 0.0;
        if la.min(lb) as f64 / la.max(lb).max(1) as f64 >= threshold.min(0.95) {
            s = lev_sim(qc, &n.compact, row);
            if s < 0.95
                && (qt.len() > 1 || n.tokens.len() > 1)
                && (qs != qc || n.sorted != n.compact)
            {
                s = s.max(lev_sim(qs, &n.sorted, row));
            }
        }
        if s < 0.95 && la >= 6 && lb >= 6 {
            // Jaro-Winkler forgives transpositions; damped because it is lenient on long
            // shared prefixes ("Huawei Cloud" vs "Huawei Device").
            s = s.max(jaro_winkler(qc, &n.compact) - 0.06);
        }
        if s >= 0.95 {
            return s;
        }
        s.max(self.subset_score(qc, qt, n))
    }

    /// A name that is a part of the other ("Huawei" in "Huawei Technologies"): strong when the
    /// shared tokens are rare in the list (not "technology" or "semiconductor").
    fn subset_score(&self, qc: &[char], qt: &[String], n: &NameKey) -> f64 {
        let (short, long) = if qt.len() <= n.tokens.len() {
            (qt, n.tokens.as_slice())
        } else {
            (n.tokens.as_slice(), qt)
        };
        let long_chars: usize = long.iter().map(|t| t.chars().count()).sum();
        if !short.is_empty() && short.iter().all(|t| long.contains(t)) {
            let short_chars: usize = short.iter().map(|t| t.chars().count()).sum();
            let cover = short_chars as f64 / long_chars.max(1) as f64;
            // Strong when the shared part is most of the name, or a token unique to one name
            // in the list (a brand like "hisilicon"), never a generic word shared by several.
            let unique = short
                .iter()
                .any(|t| t.chars().count() >= 4 && self.token_df.get(t).copied().unwrap_or(0) <= 1);
            let rare = short.iter().any(|t| {
                t.chars().count() >= 3
                    && self.token_df.get(t).copied().unwrap_or(0)
                        <= (self.names.len() as u32 / 200).max(3)
            });
            if unique || (rare && cover >= 0.4) {
                return 0.86 + 0.14 * cover;
            }
        }
        // Chinese names have no spaces: substring of at least 2 Han characters and 40%.
        let (a, b) = if qc.len() <= n.compact.len() {
            (qc, n.compact.as_slice())
        } else {
            (n.compact.as_slice(), qc)
        };
        if a.len() >= 2
            && a.iter().all(|c| is_han(*c))
            && a.len() * 5 >= b.len() * 2
            && b.windows(a.len()).any(|w| w == a)
        {
            return 0.86 + 0.14 * a.len() as f64 / b.len() as f64;
        }
        0.0
    }
}

/// Reused buffers for screening many names.
#[derive(Debug, Default)]
struct Scratch {
    weights: Vec<f32>,
    touched: Vec<u32>,
    tri: Vec<u64>,
    cands: Vec<(f32, u32)>,
    row: Vec<usize>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jaro_winkler_matches_strsim() {
        for (a, b) in [
            ("martha", "marhta"),
            ("dixon", "dicksonx"),
            ("huawei", "huawie"),
            ("abc", "xyz"),
            ("a", "a"),
        ] {
            let ca: Vec<char> = a.chars().collect();
            let cb: Vec<char> = b.chars().collect();
            let ours = jaro_winkler(&ca, &cb);
            let theirs = strsim::jaro_winkler(a, b);
            assert!((ours - theirs).abs() < 1e-9, "{a} {b}: {ours} vs {theirs}");
        }
    }

    #[test]
    fn levenshtein_similarity() {
        let c = |s: &str| s.chars().collect::<Vec<_>>();
        let mut row = Vec::new();
        assert_eq!(
            lev_sim(&c("kitten"), &c("sitting"), &mut row),
            1.0 - 3.0 / 7.0
        );
        assert_eq!(lev_sim(&c(""), &c(""), &mut row), 1.0);
        assert_eq!(lev_sim(&c("abc"), &c(""), &mut row), 0.0);
    }
}
