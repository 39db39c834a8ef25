//! The HS-to-model mapping (`data/hs/mapping.toml`): which HS codes carry which items of the
//! value-chain model and which scenario segments, and what is ambiguous.
//!
//! A code maps to a list of model item ids (possibly empty: a raw material with no item of its
//! own) and a list of segments. A code is tied to a single segment only when the list has
//! exactly one entry; otherwise trade under it is `all` in the chip trade matrix, because the
//! HS code does not tell which segment the goods belong to.

use crate::{Result, TradeError};
use serde::{Deserialize, Serialize};

/// The mapping shipped with chipwatch.
pub const EMBEDDED: &str = include_str!("../../../data/hs/mapping.toml");

/// The six segments of the scenario engine.
pub const SEGMENTS: [&str; 6] = [
    "logic_leading",
    "logic_advanced",
    "logic_mature",
    "dram",
    "nand",
    "analog_power",
];

/// A citation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Citation {
    /// Id used by the codes.
    pub id: String,
    /// Publisher.
    pub publisher: String,
    /// Title.
    pub title: String,
    /// Year.
    pub year: i32,
    /// Where to read it.
    pub url: String,
}

/// One HS code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeEntry {
    /// Code as the nomenclature writes it (`8486.20`, `8542.31`).
    pub hs: String,
    /// The nomenclature's description, in our words.
    pub label: String,
    /// Model item ids.
    #[serde(default)]
    pub items: Vec<String>,
    /// Scenario segments.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Why the code does not tell items or segments apart, when it does not.
    #[serde(default)]
    pub ambiguous: Option<String>,
    /// Other notes.
    #[serde(default)]
    pub note: Option<String>,
    /// Citation ids.
    pub sources: Vec<String>,
}

impl CodeEntry {
    /// The code's digits (`848620`).
    pub fn digits(&self) -> String {
        self.hs.chars().filter(char::is_ascii_digit).collect()
    }
}

/// Header of the mapping file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Nomenclature edition the codes are of.
    pub nomenclature: String,
    /// What the file is.
    pub description: String,
}

/// The whole mapping.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Header.
    pub meta: Meta,
    /// Citations.
    #[serde(rename = "source")]
    pub sources: Vec<Citation>,
    /// Codes.
    #[serde(rename = "code")]
    pub codes: Vec<CodeEntry>,
}

impl Mapping {
    /// The embedded mapping.
    pub fn embedded() -> Self {
        Self::parse(EMBEDDED).expect("data/hs/mapping.toml is checked by the tests")
    }

    /// Parses and checks a mapping file.
    pub fn parse(text: &str) -> Result<Self> {
        let m: Mapping = toml::from_str(text).map_err(|e| TradeError::Mapping(e.to_string()))?;
        for c in &m.codes {
            let d = c.digits();
            if !(2..=10).contains(&d.len()) {
                return Err(TradeError::Mapping(format!("`{}` is not an HS code", c.hs)));
            }
            for s in &c.segments {
                if !SEGMENTS.contains(&s.as_str()) {
                    return Err(TradeError::Mapping(format!(
                        "{}: unknown segment `{s}` ({})",
                        c.hs,
                        SEGMENTS.join(", ")
                    )));
                }
            }
            if c.sources.is_empty() {
                return Err(TradeError::Mapping(format!("{}: no source", c.hs)));
            }
            for s in &c.sources {
                if !m.sources.iter().any(|x| &x.id == s) {
                    return Err(TradeError::Mapping(format!(
                        "{}: unknown source `{s}`",
                        c.hs
                    )));
                }
            }
            if (c.items.len() > 1 || c.segments.len() > 1) && c.ambiguous.is_none() {
                return Err(TradeError::Mapping(format!(
                    "{}: several items or segments but no `ambiguous` note",
                    c.hs
                )));
            }
        }
        Ok(m)
    }

    /// The entries whose code is a prefix of `code` (digits), most specific first.
    pub fn entries_of(&self, code: &str) -> Vec<&CodeEntry> {
        let mut v: Vec<&CodeEntry> = self
            .codes
            .iter()
            .filter(|c| code.starts_with(&c.digits()))
            .collect();
        v.sort_by_key(|c| std::cmp::Reverse(c.digits().len()));
        v
    }

    /// Model items of `code` (from its most specific entry).
    pub fn items_of(&self, code: &str) -> Vec<String> {
        self.entries_of(code)
            .first()
            .map(|c| c.items.clone())
            .unwrap_or_default()
    }

    /// Codes (digits) tied to exactly one segment, with it; longest first so a SQL `CASE`
    /// picks the most specific.
    pub fn segment_prefixes(&self) -> Vec<(String, String)> {
        let mut v: Vec<(String, String)> = self
            .codes
            .iter()
            .filter(|c| c.segments.len() == 1)
            .map(|c| (c.digits(), c.segments[0].clone()))
            .collect();
        v.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.0.cmp(&b.0)));
        v
    }

    /// Codes (digits) of chips: every code with at least one segment.
    pub fn chip_prefixes(&self) -> Vec<String> {
        self.codes
            .iter()
            .filter(|c| !c.segments.is_empty())
            .map(CodeEntry::digits)
            .collect()
    }
}
