//! Indicators and alerts as DataFusion SQL plans over the `bilateral` view.
//!
//! Every function here returns SQL text (so the same plan runs on the embedded engine and on a
//! cluster) built from a validated [`Scope`]; [`run`] executes one on an [`Engine`]. Formulas and
//! their sources: `docs/trade.md`.
//!
//! - [`import_concentration`]: per importer, code and year, the Herfindahl-Hirschman index of
//!   partner shares on the 0–10,000 scale, number of partners, top three partners and shares.
//! - [`export_concentration`]: per code and year, the same over exporters of world exports.
//! - [`imports_over_exports`]: per country, code and year (9999 when exports are zero, as in
//!   GeoDep).
//! - [`dependence`]: the GeoDep strategic-dependency flag (CEPII; Lefebvre and Wibaux 2024): import
//!   HHI > 4000, world export HHI > 4000 and imports over exports > 1, all three in at least two
//!   years of the three-year window ending in the year.
//! - [`bilateral_dependence`]: one importer's share of imports from one exporter, per code and
//!   year (or month).
//! - [`partner_shares`]: one importer's partners and their shares per year.
//! - [`alert_series`] and [`alerts`]: monthly series per importer, exporter and code from SQL,
//!   then the robust year-on-year test in Rust over each series.
//! - [`matrix`]: the bilateral chip trade matrix for the scenario engine.

use crate::engine::{Engine, Table};
use crate::hs::Mapping;
use crate::{Result, TradeError};
use serde::Serialize;
use std::collections::BTreeMap;

/// Which rows an indicator reads.
#[derive(Debug, Clone, PartialEq)]
pub struct Scope {
    /// Source (`baci`, `comtrade`, `comext`): one at a time, since their values overlap and
    /// differ in currency.
    pub source: String,
    /// Code level the indicator works at (digits: 2, 4, 6, 8); finer codes are truncated.
    pub level: usize,
    /// Code prefixes to keep (digits); empty = all.
    pub codes: Vec<String>,
    /// Years to keep (inclusive).
    pub years: Option<(i32, i32)>,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            source: "baci".into(),
            level: 6,
            codes: Vec::new(),
            years: None,
        }
    }
}

impl Scope {
    /// Checks the values that go into SQL text.
    pub fn validate(&self) -> Result<()> {
        if !["baci", "comtrade", "comext"].contains(&self.source.as_str()) {
            return Err(TradeError::Invalid(format!(
                "unknown source `{}` (baci, comtrade, comext)",
                self.source
            )));
        }
        if !(2..=12).contains(&self.level) {
            return Err(TradeError::Invalid(format!(
                "code level {} is outside 2..=12",
                self.level
            )));
        }
        for c in &self.codes {
            if c.is_empty() || c.len() > 12 || !c.bytes().all(|b| b.is_ascii_digit()) {
                return Err(TradeError::Invalid(format!(
                    "`{c}` is not a code prefix (digits, dots removed)"
                )));
            }
        }
        Ok(())
    }

    /// The WHERE clause on `bilateral`.
    pub fn filter(&self) -> String {
        let mut w = vec![
            format!("source = '{}'", self.source),
            format!("code_level >= {}", self.level),
            "exporter <> importer".to_string(),
        ];
        if !self.codes.is_empty() {
            w.push(codes_filter(&self.codes));
        }
        if let Some((a, b)) = self.years {
            w.push(format!("year BETWEEN {a} AND {b}"));
        }
        w.join(" AND ")
    }

    /// The WHERE clause on `bilateral`, narrowed to one importer (checked) if given.
    pub fn filter_for(&self, importer: Option<&str>) -> Result<String> {
        let mut f = self.filter();
        if let Some(c) = importer {
            f.push_str(&format!(" AND importer = '{}'", country(c)?));
        }
        Ok(f)
    }

    /// The code expression at the scope's level: `substr(code, 1, L)`, spelled so that a code
    /// already `L` bytes long is taken as it is. The same value for every string (a string of
    /// `L` bytes has at most `L` characters, and `substr` of a string no longer than `L` is
    /// the string), but the common case (HS6 codes at level 6) skips building a new string per
    /// row (the first aggregation on 10^7 rows: 0.45 s with `substr` alone, 0.39 s spelled so),
    /// and `bit_length` (8 × bytes; DuckDB has no `octet_length` of a string), unlike
    /// `length`, does not scan the strings for non-ASCII bytes.
    fn code(&self) -> String {
        let l = self.level;
        let bits = 8 * l;
        format!("CASE WHEN bit_length(code) = {bits} THEN code ELSE substr(code, 1, {l}) END")
    }
}

/// `code` starts with one of `prefixes` (checked digits), spelled so that codes exactly as long
/// as a prefix cost one hash lookup: `code IN (…)`, and the `LIKE 'p%'` tests only for codes
/// longer than the shortest prefix. The same rows as `code LIKE 'p1%' OR …` (a code that starts
/// with a prefix is either equal to it or longer than it), but on 10^8 BACI rows (all HS6) and the
/// eight chip codes the filter took 0.83 s instead of 1.6-1.7 s (docs/benchmarks.md). The
/// matrix's segment `CASE` tests each prefix the same way.
fn codes_filter(prefixes: &[String]) -> String {
    let shortest = prefixes.iter().map(String::len).min().unwrap_or(0);
    let list: Vec<String> = prefixes.iter().map(|c| format!("'{c}'")).collect();
    let likes: Vec<String> = prefixes
        .iter()
        .map(|c| format!("code LIKE '{c}%'"))
        .collect();
    format!(
        "(code IN ({}) OR (bit_length(code) > {} AND ({})))",
        list.join(", "),
        8 * shortest,
        likes.join(" OR ")
    )
}

/// An ISO alpha-3 code (or `_X`) checked before it goes into SQL text.
pub fn country(s: &str) -> Result<String> {
    let u = s.trim().to_ascii_uppercase();
    if u == "_X" || (u.len() == 3 && u.bytes().all(|b| b.is_ascii_uppercase())) {
        Ok(u)
    } else {
        Err(TradeError::Invalid(format!(
            "`{s}` is not an ISO alpha-3 code"
        )))
    }
}

/// Thresholds of the strategic-dependency flag.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DependenceThresholds {
    /// Import HHI (0–10,000) above which imports are concentrated (GeoDep: 0.4 → 4000).
    pub import_hhi: f64,
    /// World export HHI above which world supply is concentrated (GeoDep: 4000).
    pub export_hhi: f64,
    /// Imports over exports above which domestic supply cannot substitute (GeoDep: 1).
    pub ratio: f64,
    /// Years out of the three-year window in which all three must hold (GeoDep: 2).
    pub years: i64,
}

impl Default for DependenceThresholds {
    fn default() -> Self {
        DependenceThresholds {
            import_hhi: 4000.0,
            export_hhi: 4000.0,
            ratio: 1.0,
            years: 2,
        }
    }
}

/// The Herfindahl-Hirschman index on the 0–10,000 scale over the partner values `v` of a group:
/// 10,000 × Σ v² / (Σ v)², which is 10,000 × Σ share² without a window for the group's total
/// (the windows cost more than the aggregation they fed: 0.27 s of 0.92 s CPU on 10^7 rows,
/// `EXPLAIN ANALYZE`, docs/benchmarks.md).
const HHI: &str = "10000.0 * SUM(v * v) / (SUM(v) * SUM(v))";

fn import_cte(scope: &Scope, importer: Option<&str>) -> Result<String> {
    let f = scope.filter_for(importer)?;
    // With one importer its column is constant: partitioning the window by it as well lets the
    // optimiser drop it from the sort, and a Ballista executor, which does not see the filter
    // of the earlier stage, then refuses the window ("Expects PARTITION BY expression to be
    // ordered"). The same ranks without it.
    let window = if importer.is_some() {
        "year, code"
    } else {
        "year, importer, code"
    };
    // Totals, partner counts and the HHI are aggregates of the group ([`HHI`]), and only the
    // ranks of the top partners come from a window over `b`: never a join of `b` with its own
    // totals (DataFusion does not materialise a CTE named twice, so the join scanned and
    // aggregated the whole dataset twice: 1.46 s against 1.03 s on 10^7 rows,
    // docs/benchmarks.md), nor `SUM(v) OVER (PARTITION BY …)` beside the ranks (a second window
    // pass over every row). The same for `wb` below. The queries over `s` and `ws` group by the
    // window's partition keys in its order, so the aggregation streams over the sorted rows
    // instead of hashing them again.
    Ok(format!(
        "b AS (SELECT year, importer, exporter, {code} AS code, SUM(value) AS v \
           FROM bilateral WHERE {f} GROUP BY year, importer, exporter, {code} HAVING SUM(value) > 0), \
         s AS (SELECT year, importer, code, exporter, v, \
             ROW_NUMBER() OVER (PARTITION BY {window} ORDER BY v DESC, exporter) AS rank FROM b)",
        code = scope.code()
    ))
}

fn export_cte(scope: &Scope) -> String {
    format!(
        "wb AS (SELECT year, exporter, {code} AS code, SUM(value) AS v \
           FROM bilateral WHERE {f} GROUP BY year, exporter, {code} HAVING SUM(value) > 0), \
         ws AS (SELECT year, code, exporter, v, \
             ROW_NUMBER() OVER (PARTITION BY year, code ORDER BY v DESC, exporter) AS rank FROM wb)",
        code = scope.code(),
        f = scope.filter()
    )
}

/// Import concentration per importer (`reporter`), code and year.
pub fn import_concentration(scope: &Scope, importer: Option<&str>) -> Result<String> {
    scope.validate()?;
    let importer = importer.map(country).transpose()?;
    Ok(format!(
        "WITH {cte} \
         SELECT importer AS reporter, code, year, SUM(v) AS imports, COUNT(*) AS partners, \
           {hhi} AS hhi, \
           MAX(CASE WHEN rank = 1 THEN exporter END) AS top1, \
           100.0 * MAX(CASE WHEN rank = 1 THEN v END) / SUM(v) AS top1_share, \
           MAX(CASE WHEN rank = 2 THEN exporter END) AS top2, \
           100.0 * MAX(CASE WHEN rank = 2 THEN v END) / SUM(v) AS top2_share, \
           MAX(CASE WHEN rank = 3 THEN exporter END) AS top3, \
           100.0 * MAX(CASE WHEN rank = 3 THEN v END) / SUM(v) AS top3_share \
         FROM s GROUP BY year, importer, code ORDER BY reporter, code, year",
        hhi = HHI,
        cte = import_cte(scope, importer.as_deref())?
    ))
}

/// World export concentration per code and year.
pub fn export_concentration(scope: &Scope) -> Result<String> {
    scope.validate()?;
    Ok(format!(
        "WITH {cte} \
         SELECT code, year, SUM(v) AS world_exports, COUNT(*) AS exporters, \
           {hhi} AS hhi, \
           MAX(CASE WHEN rank = 1 THEN exporter END) AS top1, \
           100.0 * MAX(CASE WHEN rank = 1 THEN v END) / SUM(v) AS top1_share, \
           MAX(CASE WHEN rank = 2 THEN exporter END) AS top2, \
           100.0 * MAX(CASE WHEN rank = 2 THEN v END) / SUM(v) AS top2_share, \
           MAX(CASE WHEN rank = 3 THEN exporter END) AS top3, \
           100.0 * MAX(CASE WHEN rank = 3 THEN v END) / SUM(v) AS top3_share \
         FROM ws GROUP BY year, code ORDER BY code, year",
        hhi = HHI,
        cte = export_cte(scope)
    ))
}

fn ratio_cte(scope: &Scope) -> String {
    format!(
        "m AS (SELECT year, importer AS country, {code} AS code, SUM(value) AS imports \
           FROM bilateral WHERE {f} AND importer <> '_X' GROUP BY year, importer, {code}), \
         x AS (SELECT year, exporter AS country, {code} AS code, SUM(value) AS exports \
           FROM bilateral WHERE {f} AND exporter <> '_X' GROUP BY year, exporter, {code}), \
         r AS (SELECT m.country, m.code, m.year, m.imports, COALESCE(x.exports, 0.0) AS exports, \
             CASE WHEN COALESCE(x.exports, 0.0) = 0.0 THEN 9999.0 ELSE m.imports / x.exports END AS ratio \
           FROM m LEFT JOIN x ON m.year = x.year AND m.country = x.country AND m.code = x.code \
           WHERE m.imports > 0)",
        code = scope.code(),
        f = scope.filter()
    )
}

/// Imports over exports per country, code and year (9999 when the country exports nothing).
pub fn imports_over_exports(scope: &Scope) -> Result<String> {
    scope.validate()?;
    Ok(format!(
        "WITH {cte} SELECT country, code, year, imports, exports, ratio FROM r \
         ORDER BY country, code, year",
        cte = ratio_cte(scope)
    ))
}

/// The strategic-dependency flag per importer, code and year.
pub fn dependence(
    scope: &Scope,
    importer: Option<&str>,
    th: &DependenceThresholds,
) -> Result<String> {
    scope.validate()?;
    let importer = importer.map(country).transpose()?;
    let only = importer
        .as_deref()
        .map(|c| format!("WHERE ic.reporter = '{c}'"))
        .unwrap_or_default();
    Ok(format!(
        "WITH {icte}, {ecte}, {rcte}, \
         ic AS (SELECT importer AS reporter, code, year, {hhi} AS hhi, \
             MAX(CASE WHEN rank = 1 THEN exporter END) AS top1, \
             100.0 * MAX(CASE WHEN rank = 1 THEN v END) / SUM(v) AS top1_share \
           FROM s GROUP BY year, importer, code), \
         ec AS (SELECT code, year, {hhi} AS hhi FROM wb GROUP BY year, code), \
         c AS (SELECT ic.reporter, ic.code, ic.year, ic.hhi AS import_hhi, ec.hhi AS world_export_hhi, \
             r.ratio, ic.top1, ic.top1_share, \
             (ic.hhi > {ih} AND ec.hhi > {eh} AND r.ratio > {ra}) AS criteria_met \
           FROM ic JOIN ec ON ic.code = ec.code AND ic.year = ec.year \
           JOIN r ON r.country = ic.reporter AND r.code = ic.code AND r.year = ic.year {only}) \
         SELECT reporter, code, year, import_hhi, world_export_hhi, ratio, top1, top1_share, criteria_met, \
           SUM(CASE WHEN criteria_met THEN 1 ELSE 0 END) OVER (PARTITION BY reporter, code ORDER BY year \
             RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) AS years_met, \
           SUM(CASE WHEN criteria_met THEN 1 ELSE 0 END) OVER (PARTITION BY reporter, code ORDER BY year \
             RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) >= {years} AS dependent \
         FROM c ORDER BY reporter, code, year",
        hhi = HHI,
        icte = import_cte(scope, importer.as_deref())?,
        ecte = export_cte(scope),
        rcte = ratio_cte(scope),
        ih = th.import_hhi,
        eh = th.export_hhi,
        ra = th.ratio,
        years = th.years,
    ))
}

/// One importer's imports from one exporter, per code and year (`monthly`: per month).
pub fn bilateral_dependence(
    scope: &Scope,
    importer: &str,
    exporter: &str,
    monthly: bool,
) -> Result<String> {
    scope.validate()?;
    let (imp, exp) = (country(importer)?, country(exporter)?);
    let period = if monthly { "year, month" } else { "year" };
    // One read and one aggregation: the partner's value is a conditional sum beside the total,
    // not a second aggregation of the same rows joined back (DataFusion does not materialise a
    // CTE named twice, so that plan read the importer's rows twice: 0.10 s against DuckDB's
    // 0.02 s on 10^8 rows, docs/benchmarks.md). A period without the partner sums no value:
    // NULL, shown as 0.
    Ok(format!(
        "WITH t AS (SELECT {period}, {code} AS code, SUM(value) AS total, \
             SUM(CASE WHEN exporter = '{exp}' THEN value END) AS v \
           FROM bilateral WHERE {f} AND importer = '{imp}' GROUP BY {period}, {code}) \
         SELECT '{imp}' AS importer, '{exp}' AS exporter, code, {period}, COALESCE(v, 0.0) AS value, \
           total AS imports, 100.0 * COALESCE(v, 0.0) / total AS share \
         FROM t WHERE total > 0 ORDER BY code, {period}",
        code = scope.code(),
        f = scope.filter()
    ))
}

/// One importer's partners over time: per year, each exporter's value and share (percent) of the
/// importer's imports of all codes in the scope together, largest first (the partner-share
/// chart of the dashboard).
pub fn partner_shares(scope: &Scope, importer: &str) -> Result<String> {
    scope.validate()?;
    let imp = country(importer)?;
    Ok(format!(
        "WITH b AS (SELECT year, exporter, SUM(value) AS v FROM bilateral \
           WHERE {f} AND importer = '{imp}' GROUP BY year, exporter HAVING SUM(value) > 0), \
         t AS (SELECT year, SUM(v) AS total FROM b GROUP BY year) \
         SELECT '{imp}' AS importer, b.year, b.exporter, b.v AS value, t.total AS imports, \
           100.0 * b.v / t.total AS share \
         FROM b JOIN t ON b.year = t.year ORDER BY b.year, b.v DESC, b.exporter",
        f = scope.filter()
    ))
}

/// Monthly series per importer, exporter and code (the input of [`alerts`]), ordered by series
/// and month; `t` = year × 12 + month − 1.
pub fn alert_series(scope: &Scope, importer: Option<&str>) -> Result<String> {
    scope.validate()?;
    let f = scope.filter_for(importer)?;
    Ok(format!(
        "SELECT importer, exporter, {code} AS code, year * 12 + month - 1 AS t, \
           SUM(value) AS v, SUM(quantity) AS q, MAX(currency) AS currency \
         FROM bilateral WHERE {f} AND month IS NOT NULL \
         GROUP BY importer, exporter, {code}, year * 12 + month - 1 \
         ORDER BY importer, exporter, code, t",
        code = scope.code()
    ))
}

/// The chip trade matrix: value per segment (from the HS mapping), exporter and importer,
/// summed over the scope's years. Codes the mapping does not tell apart go to `all`.
/// The rows are summed per code first and the segment `CASE` runs on those sums, not on every
/// row read (on 10^8 rows the `CASE` took 0.47 s CPU before the first aggregation; a code is in
/// one segment, so the sums are the same). The period (first-last year) is a window over the
/// aggregated rows, not a second read of `m`.
pub fn matrix(scope: &Scope, mapping: &Mapping) -> Result<String> {
    scope.validate()?;
    let mut cases = Vec::new();
    for (prefix, seg) in mapping.segment_prefixes() {
        let test = codes_filter(std::slice::from_ref(&prefix));
        cases.push(format!("WHEN {test} THEN '{seg}'"));
    }
    let seg = if cases.is_empty() {
        "'all'".to_string()
    } else {
        format!("CASE {} ELSE 'all' END", cases.join(" "))
    };
    let mut scope = scope.clone();
    if scope.codes.is_empty() {
        scope.codes = mapping.chip_prefixes();
    }
    Ok(format!(
        "WITH c AS (SELECT code, exporter, importer, currency, SUM(value) AS value, \
             MIN(year) AS y0, MAX(year) AS y1 \
           FROM bilateral WHERE {f} AND exporter <> '_X' AND importer <> '_X' \
           GROUP BY code, exporter, importer, currency), \
         m AS (SELECT {seg} AS segment, exporter, importer, currency, value, y0, y1 FROM c), \
         a AS (SELECT segment, exporter, importer, currency, SUM(value) AS value, \
             MIN(y0) AS y0, MAX(y1) AS y1 FROM m GROUP BY segment, exporter, importer, currency), \
         w AS (SELECT a.*, MIN(y0) OVER () AS first, MAX(y1) OVER () AS last FROM a) \
         SELECT segment, exporter AS \"from\", importer AS \"to\", value, currency, \
           CASE WHEN first = last THEN CAST(first AS VARCHAR) \
             ELSE CAST(first AS VARCHAR) || '-' || CAST(last AS VARCHAR) END AS period, \
           '{src}' AS source FROM w ORDER BY segment, \"from\", \"to\"",
        f = scope.filter(),
        src = scope.source,
    ))
}

/// Runs SQL on the engine.
pub async fn run(engine: &Engine, sql: &str) -> Result<Table> {
    engine.query(sql).await
}

/// Settings of the alert test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct AlertSettings {
    /// Robust z-score above which a year-on-year change is an outlier.
    pub threshold: f64,
    /// Months of history (of year-on-year changes) the median and MAD are taken over.
    pub window: usize,
    /// Fewest year-on-year changes in the window for the test to run.
    pub min_history: usize,
    /// Smallest absolute log change that can alert (materiality; ln 1.5 by default).
    pub min_log_change: f64,
    /// Unit-value log change below which a quantity surge is a surge with a price drop.
    pub price_drop: f64,
    /// Floor of the robust scale (1.4826 × MAD), so a perfectly smooth series cannot alert on
    /// rounding.
    pub min_scale: f64,
    /// A flow stops when a month has no trade after this many months with trade.
    pub stop_after: usize,
}

impl Default for AlertSettings {
    fn default() -> Self {
        AlertSettings {
            threshold: 3.5,
            window: 36,
            min_history: 24,
            min_log_change: 1.5f64.ln(),
            price_drop: -(1.25f64.ln()),
            min_scale: 0.02,
            stop_after: 12,
        }
    }
}

/// One alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// `stop`, `collapse`, `surge`, `surge_price_drop`.
    pub kind: String,
    /// Importer ISO3.
    pub importer: String,
    /// Exporter ISO3.
    pub exporter: String,
    /// Code at the scope's level.
    pub code: String,
    /// Year of the month that alerted.
    pub year: i32,
    /// Month that alerted.
    pub month: u8,
    /// Value that month.
    pub value: f64,
    /// Value twelve months before.
    pub value_year_before: f64,
    /// Year-on-year log change of the tested quantity (value, or quantity for price drops);
    /// `None` for a stop.
    pub log_change: Option<f64>,
    /// Median of the previous changes.
    pub median: Option<f64>,
    /// Robust z-score.
    pub z: Option<f64>,
    /// Model items the code maps to (from `data/hs/mapping.toml`).
    pub items: Vec<String>,
    /// Currency of the values.
    pub currency: String,
    /// The exporter's share (0–1) of the importer's imports of the code (within the scope) over
    /// the twelve months before the alert; `None` when the importer imported nothing then.
    pub share_of_imports: Option<f64>,
}

/// One month of one series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// year × 12 + month − 1.
    pub t: i64,
    /// Value.
    pub v: f64,
    /// Quantity.
    pub q: Option<f64>,
}

fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

/// Robust z-score of `x` against `hist`: (x − median) / max(1.4826 · MAD, floor).
pub fn robust_z(x: f64, hist: &[f64], floor: f64) -> (f64, f64) {
    let mut h = hist.to_vec();
    let m = median(&mut h);
    let mut dev: Vec<f64> = hist.iter().map(|v| (v - m).abs()).collect();
    let mad = median(&mut dev);
    let scale = (1.4826 * mad).max(floor);
    ((x - m) / scale, m)
}

/// One alert of a series: kind, month index `t`, log change, median of the history, z-score.
pub type SeriesAlert = (String, i64, Option<f64>, Option<f64>, Option<f64>);

/// Alerts of one series (points sorted by `t`, months without trade absent), over months up to
/// `t_end`. An alert is reported at the onset of an episode: the same kind does not alert again
/// in the series within twelve months.
pub fn series_alerts(points: &[Point], t_end: i64, s: &AlertSettings) -> Vec<SeriesAlert> {
    let mut out = Vec::new();
    let Some(first) = points.first() else {
        return out;
    };
    let t0 = first.t;
    let n = (t_end - t0 + 1).max(0) as usize;
    let mut v = vec![0.0f64; n];
    let mut q = vec![None; n];
    for p in points {
        if p.t >= t0 && p.t <= t_end {
            v[(p.t - t0) as usize] += p.v;
            q[(p.t - t0) as usize] = p.q;
        }
    }
    let yoy = |a: &[f64], i: usize| -> Option<f64> {
        (i >= 12 && a[i] > 0.0 && a[i - 12] > 0.0).then(|| (a[i] / a[i - 12]).ln())
    };
    let qv: Vec<f64> = q.iter().map(|x| x.unwrap_or(0.0)).collect();
    let price: Vec<f64> = (0..n)
        .map(|i| match q[i] {
            Some(qq) if qq > 0.0 && v[i] > 0.0 => v[i] / qq,
            _ => 0.0,
        })
        .collect();
    let vy: Vec<Option<f64>> = (0..n).map(|i| yoy(&v, i)).collect();
    let qy: Vec<Option<f64>> = (0..n).map(|i| yoy(&qv, i)).collect();
    let mut last: BTreeMap<&'static str, i64> = BTreeMap::new();
    let mut emit = |kind: &'static str, t: i64, lc, m, z, out: &mut Vec<_>| {
        if last.get(kind).is_some_and(|l| t - l <= 12) {
            last.insert(kind, t);
            return;
        }
        last.insert(kind, t);
        out.push((kind.to_string(), t, lc, m, z));
    };
    for i in 0..n {
        let t = t0 + i as i64;
        // Stop: no trade this month after `stop_after` months with trade.
        if v[i] == 0.0 && i >= s.stop_after && (i - s.stop_after..i).all(|j| v[j] > 0.0) {
            emit("stop", t, None, None, None, &mut out);
            continue;
        }
        let hist = |ys: &[Option<f64>]| -> Vec<f64> {
            ys[i.saturating_sub(s.window)..i]
                .iter()
                .flatten()
                .copied()
                .collect()
        };
        if let Some(x) = vy[i] {
            let h = hist(&vy);
            if h.len() >= s.min_history && x.abs() >= s.min_log_change {
                let (z, m) = robust_z(x, &h, s.min_scale);
                if z.abs() > s.threshold {
                    let kind = if z < 0.0 { "collapse" } else { "surge" };
                    emit(kind, t, Some(x), Some(m), Some(z), &mut out);
                }
            }
        }
        if let Some(x) = qy[i] {
            let h = hist(&qy);
            let dp = (i >= 12 && price[i] > 0.0 && price[i - 12] > 0.0)
                .then(|| (price[i] / price[i - 12]).ln());
            if h.len() >= s.min_history
                && x >= s.min_log_change
                && dp.is_some_and(|d| d < s.price_drop)
            {
                let (z, m) = robust_z(x, &h, s.min_scale);
                if z > s.threshold {
                    emit("surge_price_drop", t, Some(x), Some(m), Some(z), &mut out);
                }
            }
        }
    }
    out
}

/// One importer's monthly series (exporter, code, currency, points), gathered while streaming.
#[derive(Default)]
struct ImporterSeries {
    importer: String,
    series: Vec<(String, String, String, Vec<Point>)>,
}

impl ImporterSeries {
    fn push(&mut self, exporter: &str, code: &str, currency: &str, p: Point) {
        match self.series.last_mut() {
            Some((e, c, _, pts)) if e == exporter && c == code => pts.push(p),
            _ => self.series.push((
                exporter.to_string(),
                code.to_string(),
                currency.to_string(),
                vec![p],
            )),
        }
    }

    /// Tests every series of the importer (with the exporter's share of the importer's imports
    /// of the code over the twelve months before each alert), then starts afresh.
    fn flush(
        &mut self,
        t_end: i64,
        settings: &AlertSettings,
        mapping: Option<&Mapping>,
        out: &mut Vec<Alert>,
    ) {
        let mut totals: BTreeMap<&str, BTreeMap<i64, f64>> = BTreeMap::new();
        for (_, code, _, pts) in &self.series {
            let m = totals.entry(code.as_str()).or_default();
            for p in pts {
                *m.entry(p.t).or_insert(0.0) += p.v;
            }
        }
        for (exporter, code, currency, pts) in &self.series {
            for (kind, t, lc, m, z) in series_alerts(pts, t_end, settings) {
                let at = |t: i64| pts.iter().find(|p| p.t == t).map(|p| p.v).unwrap_or(0.0);
                let own: f64 = pts
                    .iter()
                    .filter(|p| p.t >= t - 12 && p.t < t)
                    .map(|p| p.v)
                    .sum();
                let all: f64 = totals
                    .get(code.as_str())
                    .map(|m| m.range(t - 12..t).map(|(_, v)| v).sum())
                    .unwrap_or(0.0);
                out.push(Alert {
                    currency: currency.clone(),
                    share_of_imports: (all > 0.0).then(|| (own / all).clamp(0.0, 1.0)),
                    kind,
                    importer: self.importer.clone(),
                    exporter: exporter.clone(),
                    items: mapping.map(|m| m.items_of(code)).unwrap_or_default(),
                    code: code.clone(),
                    year: t.div_euclid(12) as i32,
                    month: (t.rem_euclid(12) + 1) as u8,
                    value: at(t),
                    value_year_before: at(t - 12),
                    log_change: lc,
                    median: m,
                    z,
                });
            }
        }
        self.series.clear();
    }
}

/// Runs the alert test over every series of the scope.
///
/// The series are streamed from the engine batch by batch, one importer at a time (the SQL
/// orders them by importer, exporter, code and month), so memory holds one importer's series,
/// not the whole scope: 10^8 rows would not fit as a [`Table`].
pub async fn alerts(
    engine: &Engine,
    scope: &Scope,
    importer: Option<&str>,
    settings: &AlertSettings,
    mapping: Option<&Mapping>,
) -> Result<Vec<Alert>> {
    use datafusion::arrow::array::{Array, Float64Array, Int64Array, StringArray};
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use futures::StreamExt;

    // The last month of the scope: a series that ends before it has stopped.
    let f = scope.filter_for(importer)?;
    let last = engine
        .query(&format!(
            "SELECT MAX(year * 12 + month - 1) AS t_end FROM bilateral WHERE {f} AND month IS NOT NULL"
        ))
        .await?;
    let Some(t_end) = last.rows.first().and_then(|r| r[0].as_i64()) else {
        return Ok(Vec::new());
    };
    let df = engine
        .context()
        .sql(&alert_series(scope, importer)?)
        .await?;
    let mut stream = df.execute_stream().await?;
    let mut out = Vec::new();
    let mut group = ImporterSeries::default();
    let column = |b: &datafusion::arrow::array::RecordBatch, name: &str, ty: &DataType| {
        let c = b
            .column_by_name(name)
            .ok_or_else(|| TradeError::Invalid(format!("no column {name}")))?;
        Ok::<_, TradeError>(cast(c, ty)?)
    };
    while let Some(batch) = stream.next().await {
        let b = batch?;
        let (imp, exp, code, cur) = (
            column(&b, "importer", &DataType::Utf8)?,
            column(&b, "exporter", &DataType::Utf8)?,
            column(&b, "code", &DataType::Utf8)?,
            column(&b, "currency", &DataType::Utf8)?,
        );
        let (t, v, q) = (
            column(&b, "t", &DataType::Int64)?,
            column(&b, "v", &DataType::Float64)?,
            column(&b, "q", &DataType::Float64)?,
        );
        let text = |a: &dyn Array| a.as_any().downcast_ref::<StringArray>().cloned();
        let (Some(imp), Some(exp), Some(code), Some(cur)) = (
            text(imp.as_ref()),
            text(exp.as_ref()),
            text(code.as_ref()),
            text(cur.as_ref()),
        ) else {
            return Err(TradeError::Invalid(
                "alert series: unexpected column types".into(),
            ));
        };
        let (Some(t), Some(v), Some(q)) = (
            t.as_any().downcast_ref::<Int64Array>(),
            v.as_any().downcast_ref::<Float64Array>(),
            q.as_any().downcast_ref::<Float64Array>(),
        ) else {
            return Err(TradeError::Invalid(
                "alert series: unexpected column types".into(),
            ));
        };
        for i in 0..b.num_rows() {
            let importer = if imp.is_null(i) { "" } else { imp.value(i) };
            if importer != group.importer {
                group.flush(t_end, settings, mapping, &mut out);
                group.importer = importer.to_string();
            }
            group.push(
                if exp.is_null(i) { "" } else { exp.value(i) },
                if code.is_null(i) { "" } else { code.value(i) },
                if cur.is_null(i) { "" } else { cur.value(i) },
                Point {
                    t: if t.is_null(i) { 0 } else { t.value(i) },
                    v: if v.is_null(i) { 0.0 } else { v.value(i) },
                    q: (!q.is_null(i)).then(|| q.value(i)),
                },
            );
        }
    }
    group.flush(t_end, settings, mapping, &mut out);
    out.sort_by(|a, b| {
        (a.year, a.month, &a.importer, &a.exporter, &a.code, &a.kind).cmp(&(
            b.year,
            b.month,
            &b.importer,
            &b.exporter,
            &b.code,
            &b.kind,
        ))
    });
    Ok(out)
}
