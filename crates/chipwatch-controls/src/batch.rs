//! Batch mode (`licence check --batch FILE.csv`).
//!
//! Input: one shipment per row. Columns `from` and `to` are required; `product`, `origin`,
//! `end_user`, `end_use` and `date` are optional; every other column is an item parameter (empty
//! cells are skipped), so a CSV header doubles as the parameter list.
//!
//! Output: [`Batch`] determines the rows one after the other and writes each as a JSON line
//! straight from the engine's buffers. It keeps two memos for the whole batch, both exact (a hit
//! gives the same bytes as recomputing):
//! - end-user screening results (and their JSON), per distinct end-user name;
//! - the resolved item, per distinct (product, parameters) of a row: catalogue values, derived
//!   values, the item report's JSON, and how each measure's item predicate and rule conditions
//!   judge the item, with their explanation text. None of it depends on route, date or end user.
//!   Batches repeat catalogue products, so most rows reuse an item. An item is kept from its
//!   second sighting on (a row with its own parameters is resolved, used and dropped; only its key
//!   is remembered), at most [`ITEM_MEMO`] items and [`ITEM_KEYS`] keys, each set emptied when
//!   full, so rows that all differ cost a bounded amount of memory.
//!
//! Everything that depends on route, date, origin or end user (reach, version in force,
//! destinations, suspensions, end-user lists) is evaluated for every row.

use crate::date::Date;
use crate::engine::{Determination, Draft, Engine, ItemEval, Shipment, END_USER_THRESHOLD};
use crate::screening::Hit;
use crate::value::Value;
use crate::ControlsError;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Most distinct items a [`Batch`] keeps resolved.
pub const ITEM_MEMO: usize = 1024;
/// Most keys of items seen once a [`Batch`] remembers.
pub const ITEM_KEYS: usize = 1 << 16;

/// Determines the shipments of a batch one by one, sharing work between rows (see the module
/// documentation for what is memoised).
#[derive(Debug)]
pub struct Batch<'e> {
    engine: &'e Engine,
    draft: Draft<'e>,
    items: ItemMemo,
    screened: ScreenMemo,
}

impl<'e> Batch<'e> {
    pub fn new(engine: &'e Engine) -> Batch<'e> {
        Batch {
            engine,
            draft: Draft::default(),
            items: ItemMemo::default(),
            screened: ScreenMemo {
                by_name: HashMap::new(),
                none: Screened {
                    hits: Vec::new(),
                    json: b"[]".to_vec(),
                },
            },
        }
    }

    /// Determine one shipment.
    pub fn determine(&mut self, s: &Shipment) -> Result<Determination, ControlsError> {
        let engine = self.engine;
        let parties = engine.screen_parties(s);
        let (draft, item, screened) = self.run(s, &parties)?;
        Ok(draft.to_determination(engine, s, item, screened.hits.clone(), parties))
    }

    /// Determine one shipment and append it to `out` as one JSON line (with its newline), the
    /// same bytes as `serde_json::to_writer` of [`Batch::determine`]'s result. On error `out` is
    /// left as it was.
    pub fn write_json_line(
        &mut self,
        s: &Shipment,
        out: &mut Vec<u8>,
    ) -> Result<(), ControlsError> {
        let engine = self.engine;
        let parties = engine.screen_parties(s);
        let parties_json = if parties.is_empty() {
            b"[]".to_vec()
        } else {
            serde_json::to_vec(&parties)?
        };
        let (draft, item, screened) = self.run(s, &parties)?;
        let item_json = item.report_json()?;
        crate::json::write_determination(
            out,
            draft,
            s,
            item_json,
            &screened.json,
            &parties_json,
            engine.ruleset_json(),
        );
        out.push(b'\n');
        Ok(())
    }

    /// The overall outcome of the shipment last determined (or written) by this batch.
    pub fn last_outcome(&self) -> crate::OutcomeKind {
        self.draft
            .out
            .winners()
            .next()
            .map_or(crate::OutcomeKind::NotRequired, |v| v.outcome)
    }

    /// Draft the determination of `s`; returns the draft, its item and the screening.
    #[allow(clippy::type_complexity)]
    fn run(
        &mut self,
        s: &Shipment,
        parties: &[crate::PartyScreening],
    ) -> Result<(&Draft<'e>, &ItemEval, &Screened), ControlsError> {
        self.draft.start(s)?;
        self.engine.check_end_use(s)?;
        let item = self.items.get(self.engine, s)?;
        let screened = self.screened.get(self.engine, s.end_user.as_deref())?;
        self.engine
            .fill(s, item, &screened.hits, parties, &mut self.draft);
        Ok((&self.draft, item, screened))
    }
}

/// Screening result of one end-user name, with its JSON.
#[derive(Debug)]
struct Screened {
    hits: Vec<Hit>,
    json: Vec<u8>,
}

/// Screening results by end-user name.
#[derive(Debug)]
struct ScreenMemo {
    by_name: HashMap<String, Screened>,
    /// No end user: no hits.
    none: Screened,
}

impl ScreenMemo {
    fn get(&mut self, engine: &Engine, name: Option<&str>) -> Result<&Screened, ControlsError> {
        let name = match name {
            Some(n) if !n.trim().is_empty() => n,
            _ => return Ok(&self.none),
        };
        if !self.by_name.contains_key(name) {
            let hits = engine.screener().screen(name, END_USER_THRESHOLD);
            let json = serde_json::to_vec(&hits)?;
            self.by_name
                .insert(name.to_string(), Screened { hits, json });
        }
        Ok(&self.by_name[name])
    }
}

/// Resolved items by the key [`item_key`] builds.
#[derive(Debug, Default)]
struct ItemMemo {
    items: Vec<ItemEval>,
    index: HashMap<Vec<u8>, usize>,
    /// Keys of items seen once.
    seen: HashSet<Vec<u8>>,
    /// The item of the current row when it is not kept.
    once: Option<ItemEval>,
    key: Vec<u8>,
}

impl ItemMemo {
    /// The shipment's resolved item.
    fn get(&mut self, engine: &Engine, s: &Shipment) -> Result<&ItemEval, ControlsError> {
        item_key(&mut self.key, s.product.as_deref(), &s.params);
        if let Some(&i) = self.index.get(self.key.as_slice()) {
            return Ok(&self.items[i]);
        }
        let item = ItemEval::resolve(engine, s.product.as_deref(), &s.params)?;
        if !self.seen.contains(self.key.as_slice()) {
            // First sighting: most such items (rows with their own parameters) never come back,
            // and keeping them would only fill memory.
            if self.seen.len() >= ITEM_KEYS {
                self.seen.clear();
            }
            self.seen.insert(self.key.clone());
            return Ok(self.once.insert(item));
        }
        if self.items.len() >= ITEM_MEMO {
            self.items.clear();
            self.index.clear();
        }
        self.index.insert(self.key.clone(), self.items.len());
        self.items.push(item);
        Ok(&self.items[self.items.len() - 1])
    }
}

/// An unambiguous key of (product, parameters): every string is length-prefixed and every value
/// tagged; numbers by their bits, so only identical values share a key.
fn item_key(key: &mut Vec<u8>, product: Option<&str>, params: &BTreeMap<String, Value>) {
    let put = |key: &mut Vec<u8>, s: &str| {
        key.extend_from_slice(&(s.len() as u64).to_le_bytes());
        key.extend_from_slice(s.as_bytes());
    };
    key.clear();
    match product {
        Some(p) => {
            key.push(1);
            put(key, p);
        }
        None => key.push(0),
    }
    for (k, v) in params {
        put(key, k);
        match v {
            Value::Bool(b) => key.extend_from_slice(&[b'b', u8::from(*b)]),
            Value::Num(n) => {
                key.push(b'n');
                key.extend_from_slice(&n.to_bits().to_le_bytes());
            }
            Value::Str(s) => {
                key.push(b's');
                put(key, s);
            }
        }
    }
}

const FIXED: [&str; 7] = [
    "product", "from", "to", "origin", "end_user", "end_use", "date",
];

/// Party columns: each names one party of the shipment in that role (see
/// [`crate::PartyRole`]); `exporter_name` is the exporting firm.
const PARTY_COLUMNS: [(&str, crate::PartyRole); 4] = [
    ("purchaser", crate::PartyRole::Purchaser),
    (
        "intermediate_consignee",
        crate::PartyRole::IntermediateConsignee,
    ),
    ("consignee", crate::PartyRole::Consignee),
    ("exporter_name", crate::PartyRole::Exporter),
];

/// Parse a batch CSV; `default_date` applies to rows without a date.
pub fn parse_batch_csv(
    text: &str,
    file: &str,
    default_date: Date,
) -> Result<Vec<Shipment>, ControlsError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    // Headers are trimmed by the reader; fields are trimmed as they are read (`field` below),
    // which spares the reader rebuilding every record.
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::Headers)
        .from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: 1,
            message: e.to_string(),
        })?
        .clone();
    let col = |n: &str| headers.iter().position(|h| h == n);
    for req in ["from", "to"] {
        if col(req).is_none() {
            return Err(ControlsError::MissingColumn {
                file: file.to_string(),
                column: req.to_string(),
            });
        }
    }
    let params: Vec<(usize, String)> = headers
        .iter()
        .enumerate()
        .filter(|(_, h)| {
            !FIXED.contains(h) && !PARTY_COLUMNS.iter().any(|(c, _)| c == h) && !h.is_empty()
        })
        .map(|(i, h)| (i, h.to_string()))
        .collect();
    let [c_product, c_from, c_to, c_origin, c_end_user, c_end_use, c_date] = FIXED.map(col);
    let party_cols: Vec<(usize, crate::PartyRole)> = PARTY_COLUMNS
        .iter()
        .filter_map(|(n, r)| col(n).map(|c| (c, *r)))
        .collect();
    // One shipment per line at most: reserving up front avoids regrowing a large vector.
    let mut out = Vec::with_capacity(text.bytes().filter(|&b| b == b'\n').count());
    let mut rec = csv::StringRecord::new();
    for i in 0.. {
        let line = i as u64 + 2;
        let more = rdr.read_record(&mut rec).map_err(|e| ControlsError::Csv {
            file: file.to_string(),
            line: e.position().map_or(line, |p| p.line()),
            message: e.to_string(),
        })?;
        if !more {
            break;
        }
        let field = |c: Option<usize>| {
            c.and_then(|c| rec.get(c))
                .map(str::trim)
                .filter(|v| !v.is_empty())
        };
        let owned = |c: Option<usize>| field(c).map(str::to_string);
        let field_err = |f: &str, m: String| ControlsError::Csv {
            file: file.to_string(),
            line,
            message: format!("column `{f}`: {m}"),
        };
        let from = field(c_from).ok_or_else(|| field_err("from", "empty".into()))?;
        let to = field(c_to).ok_or_else(|| field_err("to", "empty".into()))?;
        for (f, v) in [("from", from), ("to", to)] {
            if !crate::country::is_iso3(v) {
                let hint = crate::country::suggest(v);
                return Err(field_err(
                    f,
                    format!(
                        "`{v}` is not an ISO 3166-1 alpha-3 country code{}",
                        if hint.is_empty() {
                            String::new()
                        } else {
                            format!("; did you mean {}?", hint.join(", "))
                        }
                    ),
                ));
            }
        }
        let date = match field(c_date) {
            Some(d) => Date::parse(d).map_err(|m| field_err("date", m))?,
            None => default_date,
        };
        let mut p = BTreeMap::new();
        for (c, name) in &params {
            if let Some(v) = field(Some(*c)) {
                p.insert(name.clone(), Value::parse_cli(v));
            }
        }
        out.push(Shipment {
            product: owned(c_product),
            params: p,
            from: from.to_string(),
            to: to.to_string(),
            origin: owned(c_origin),
            end_user: owned(c_end_user),
            end_use: owned(c_end_use),
            date,
            parties: party_cols
                .iter()
                .filter_map(|&(c, role)| {
                    field(Some(c)).map(|n| crate::Party {
                        role,
                        name: n.to_string(),
                    })
                })
                .collect(),
        });
    }
    Ok(out)
}

/// Parse `KEY=VALUE` (the `--param` syntax).
pub fn parse_param(s: &str) -> Result<(String, Value), String> {
    let (k, v) = s
        .split_once('=')
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))?;
    let k = k.trim();
    if k.is_empty() || !k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(format!(
            "`{k}` is not a parameter name (letters, digits, _)"
        ));
    }
    Ok((k.to_string(), Value::parse_cli(v)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_params() {
        let d = Date::parse("2026-11-21").unwrap();
        let rows = parse_batch_csv(
            "product,from,to,date,tpp,die_area_mm2\nH100,USA,CHN,,,\n,USA,DEU,2023-01-01,5000,800\n",
            "b.csv",
            d,
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].date, d);
        assert!(rows[0].params.is_empty());
        assert_eq!(rows[1].params["tpp"], Value::Num(5000.0));
    }

    #[test]
    fn errors_name_file_line_column() {
        let d = Date::parse("2026-11-21").unwrap();
        let e = parse_batch_csv("from\nUSA\n", "b.csv", d).unwrap_err();
        assert_eq!(e.to_string(), "b.csv: missing column `to`");
        let e = parse_batch_csv("from,to,date\nUSA,CHN,2023-13-01\n", "b.csv", d).unwrap_err();
        assert!(e.to_string().starts_with("b.csv:2: column `date`"), "{e}");
        let e = parse_batch_csv("from,to\nUSA,China\n", "b.csv", d).unwrap_err();
        assert!(e.to_string().contains("column `to`"), "{e}");
    }

    /// A mixed batch: catalogue products (repeated, as real batches repeat them), parameter-only
    /// items, dates across versions and suspensions, origins, end uses, end users on and off the
    /// list, and text that JSON must escape.
    fn mixed_rows(n: usize) -> Vec<Shipment> {
        let products = [
            "NXT:2000i",
            "NXT:1980i",
            "NXT:1470",
            "NXE:3800E",
            "H100",
            "H20",
            "RTX 4090",
            "gallium",
            "graphite",
            "antimony",
            "A100",
            "GaAs",
            "",
        ];
        let countries = [
            "NLD", "USA", "CHN", "JPN", "KOR", "TWN", "MAC", "DEU", "RUS", "usa",
        ];
        let users = [
            "",
            "Huawei Technologies",
            "华为技术有限公司",
            "Yangtze Memory",
            "Acme \"Quoted\" \\ Ltd",
            "Nobody Inc",
        ];
        let dates = [
            "2019-06-01",
            "2022-10-07",
            "2023-03-23",
            "2023-09-01",
            "2024-09-07",
            "2024-12-02",
            "2025-11-20",
            "2026-11-21",
        ];
        let mut x: u64 = 7;
        let mut next = |m: usize| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) as usize) % m
        };
        let mut csv = String::from(
            "product,from,to,origin,end_user,end_use,date,tpp,die_area_mm2,wavelength_nm,\
             numerical_aperture,datacenter,material,hs_code,us_content_pct,us_direct_product\n",
        );
        for i in 0..n {
            let product = products[next(products.len())];
            let params = if i % 2 == 0 {
                format!(
                    "{},{},{},{},{},{},{},{},{}",
                    1000 + next(8000),
                    300 + next(600),
                    ["", "193", "13.5", "248"][next(4)],
                    ["", "1.35", "0.33", "x"][next(4)],
                    ["", "true", "false"][next(3)],
                    ["", "gallium", "silicon"][next(3)],
                    ["", "8110.10", "2504 10"][next(3)],
                    next(40),
                    ["", "true"][next(2)],
                )
            } else {
                ",,,,,,,,".to_string()
            };
            csv.push_str(&format!(
                "{product},{},{},{},\"{}\",{},{},{params}\n",
                countries[next(countries.len())],
                countries[next(countries.len())],
                ["", "", "USA", "NLD", "CHN"][next(5)],
                users[next(users.len())].replace('"', "\"\""),
                ["", "", "military", "supercomputer"][next(4)],
                dates[next(dates.len())],
            ));
        }
        parse_batch_csv(&csv, "mixed.csv", Date::parse("2025-06-01").unwrap()).unwrap()
    }

    /// The JSON line written from the engine's buffers is byte for byte the serde_json form of
    /// the determination an engine without memos gives, including after the item memo is emptied.
    #[test]
    fn json_lines_match_fresh_determinations() {
        let engine = crate::default_engine().unwrap();
        // Half the rows are parameter-only items, all distinct (resolved, used, dropped); the
        // catalogue products repeat (memoised from their second row on).
        let rows = mixed_rows(ITEM_MEMO * 5 / 2);
        let mut batch = Batch::new(&engine);
        let mut line = Vec::new();
        let mut escaped = 0;
        for s in &rows {
            line.clear();
            batch.write_json_line(s, &mut line).unwrap();
            let mut want = serde_json::to_vec(&engine.determine(s).unwrap()).unwrap();
            want.push(b'\n');
            assert_eq!(
                String::from_utf8(line.clone()).unwrap(),
                String::from_utf8(want).unwrap()
            );
            escaped += usize::from(line.windows(2).any(|w| w == b"\\\""));
        }
        assert!(escaped > 0, "the batch should exercise JSON escapes");
        assert!(
            !batch.items.items.is_empty(),
            "repeated items should be memoised"
        );
        assert!(
            batch.items.seen.len() > ITEM_MEMO / 2 + batch.items.items.len(),
            "items seen once should not be kept"
        );
    }

    #[test]
    fn batch_determinations_match_single_ones_and_errors_write_nothing() {
        let engine = crate::default_engine().unwrap();
        let mut rows = mixed_rows(300);
        let mut bad = rows[0].clone();
        bad.product = Some("no such product".into());
        rows.insert(150, bad);
        let mut batch = Batch::new(&engine);
        for (s, d) in rows.iter().zip(engine.determine_batch(&rows)) {
            match (engine.determine(s), d) {
                (Ok(a), Ok(b)) => assert_eq!(
                    serde_json::to_string(&a).unwrap(),
                    serde_json::to_string(&b).unwrap()
                ),
                (Err(a), Err(b)) => {
                    assert_eq!(a.to_string(), b.to_string());
                    let mut out = b"kept".to_vec();
                    assert!(batch.write_json_line(s, &mut out).is_err());
                    assert_eq!(out, b"kept");
                }
                (a, b) => panic!("{a:?} vs {b:?}"),
            }
        }
    }

    #[test]
    fn item_keys_are_unambiguous() {
        let key = |p: Option<&str>, kv: &[(&str, Value)]| {
            let mut k = Vec::new();
            let params = kv.iter().map(|(a, b)| (a.to_string(), b.clone())).collect();
            item_key(&mut k, p, &params);
            k
        };
        let n = |v: f64| Value::Num(v);
        assert_ne!(key(None, &[]), key(Some(""), &[]));
        assert_ne!(key(Some("ab"), &[]), key(Some("a"), &[("b", n(1.0))]));
        assert_ne!(
            key(None, &[("a", n(1.0))]),
            key(None, &[("a", Value::Str("1".into()))])
        );
        assert_ne!(key(None, &[("a", n(0.0))]), key(None, &[("a", n(-0.0))]));
        assert_ne!(
            key(None, &[("a", Value::Bool(true))]),
            key(None, &[("a", Value::Bool(false))])
        );
        assert_eq!(
            key(Some("H100"), &[("tpp", n(1.0))]),
            key(Some("H100"), &[("tpp", n(1.0))])
        );
    }

    #[test]
    fn param_syntax() {
        assert_eq!(
            parse_param("tpp=4800").unwrap(),
            ("tpp".into(), Value::Num(4800.0))
        );
        assert_eq!(
            parse_param("datacenter=false").unwrap().1,
            Value::Bool(false)
        );
        assert!(parse_param("tpp").is_err());
        assert!(parse_param("a b=1").is_err());
    }
}
