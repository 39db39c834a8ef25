//! Synthetic trade data, BACI-shaped, at any size.
//!
//! `chipwatch trade gen` writes rows of exporter, importer, HS6 code, value in USD and quantity
//! in tonnes, one per series (importer, exporter, code) and month, straight into the
//! partitioned Parquet dataset (streaming: memory does not grow with the number of rows). The
//! data look like trade:
//!
//! - heavy tails: importer sizes fall with rank, each code has its own ranking of exporters and
//!   a Zipf exponent between 1.0 and 2.5 (so some codes are held by one country, others are
//!   spread), and each importer buys from the top of that ranking;
//! - a trend per series (growth drawn around 3 % a year), seasonality (amplitude 5–25 %, phase
//!   per series) and month-to-month noise (log-normal, σ = 0.05);
//! - unit values per code (10^3–10^7 USD per tonne) with their own noise;
//! - injected shocks with known dates, written to `DIR/_gen/shocks.json`: a flow that stops, a
//!   flow that collapses to a fifth, and a quantity surge with a unit-value drop (quantity
//!   ×2.5, unit value ×0.4). Each shock lasts to the end of the data and starts after at least
//!   48 months, so the alert test has its 36 months of history.
//!
//! The same seed gives the same rows. Rows are rounded up to whole series (less the months after
//! an injected stop).

use crate::schema::{Flow, Source};
use crate::writer::{DatasetWriter, RowRef};
use crate::{Result, TradeError};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Options of the generator.
#[derive(Debug, Clone, PartialEq)]
pub struct GenOptions {
    /// Rows wanted (rounded up to whole series).
    pub rows: u64,
    /// Seed.
    pub seed: u64,
    /// First year.
    pub start_year: i32,
    /// Number of years (monthly data).
    pub years: u32,
    /// Shocks to inject (none when there are fewer than 49 months).
    pub shocks: usize,
}

impl Default for GenOptions {
    fn default() -> Self {
        GenOptions {
            rows: 1_000_000,
            seed: 1,
            start_year: 2019,
            years: 6,
            shocks: 12,
        }
    }
}

/// An injected shock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Shock {
    /// `stop`, `collapse` or `surge_price_drop` (the alert kind it should raise).
    pub kind: String,
    /// Importer.
    pub importer: String,
    /// Exporter.
    pub exporter: String,
    /// HS6 code.
    pub code: String,
    /// First year of the shock.
    pub year: i32,
    /// First month of the shock.
    pub month: u8,
}

/// What the generator wrote.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GenSummary {
    /// Rows written.
    pub rows: u64,
    /// Series (importer, exporter, code).
    pub series: u64,
    /// Months per series.
    pub months: u32,
    /// Injected shocks.
    pub shocks: Vec<Shock>,
}

/// SplitMix64: small, fast, and the same everywhere.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    /// Next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.f64().max(1e-300);
        let v = self.f64();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// Largest trading economies first (for importer sizes), then every other ISO country.
const MAJOR: [&str; 30] = [
    "CHN", "USA", "TWN", "KOR", "JPN", "DEU", "NLD", "SGP", "MYS", "VNM", "HKG", "MEX", "FRA",
    "GBR", "IND", "ITA", "PHL", "THA", "IRL", "ISR", "CAN", "CHE", "BEL", "AUT", "ESP", "POL",
    "CZE", "HUN", "SWE", "BRA",
];

/// HS6 codes the generator writes: the mapping's six-digit codes, then other chip-related ones.
fn codes() -> Vec<String> {
    let mut v: Vec<String> = crate::hs::Mapping::embedded()
        .codes
        .iter()
        .map(|c| c.digits())
        .filter(|d| d.len() == 6)
        .collect();
    for c in [
        "848630", "854141", "854142", "854143", "854149", "854151", "854159", "854160", "854190",
        "903020", "903040", "903089", "903190", "901380",
    ] {
        if !v.iter().any(|x| x == c) {
            v.push(c.to_string());
        }
    }
    v
}

fn countries() -> Vec<String> {
    let mut v: Vec<String> = MAJOR.iter().map(|s| s.to_string()).collect();
    let mut rest: Vec<String> = isocountry::CountryCode::as_array()
        .iter()
        .map(|c| c.alpha3().to_string())
        .filter(|c| !v.contains(c))
        .collect();
    rest.sort();
    v.extend(rest);
    v
}

struct Series {
    importer: usize,
    exporter: usize,
    code: usize,
    base: f64,
    growth: f64,
    amp: f64,
    phase: f64,
    price: f64,
    shock: Option<(usize, u32)>,
}

const KINDS: [&str; 3] = ["stop", "collapse", "surge_price_drop"];

/// Generates the dataset into `out`; writes `out/_gen/shocks.json`.
pub fn generate(opts: &GenOptions, out: &Path) -> Result<GenSummary> {
    if opts.rows == 0 {
        return Err(TradeError::Invalid("--rows must be at least 1".into()));
    }
    if opts.years == 0 || opts.years > 100 {
        return Err(TradeError::Invalid("--years must be 1..=100".into()));
    }
    let months = opts.years * 12;
    let series_wanted = opts.rows.div_ceil(u64::from(months));
    let countries = countries();
    let codes = codes();
    let n = countries.len();
    let mut rng = Rng::new(opts.seed);

    // Per code: a weighted random order of exporters (big economies tend to come first), a
    // Zipf exponent, a unit value.
    let mut rank_of_code: Vec<Vec<usize>> = Vec::new();
    let mut zipf = Vec::new();
    let mut code_price = Vec::new();
    let mut code_size = Vec::new();
    for _ in &codes {
        let mut keyed: Vec<(f64, usize)> = (0..n)
            .map(|i| {
                let w = 1.0 / (1.0 + i as f64).powf(0.7);
                (rng.f64().max(1e-12).powf(1.0 / w), i)
            })
            .collect();
        keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
        rank_of_code.push(keyed.into_iter().map(|(_, i)| i).collect());
        zipf.push(1.0 + 1.5 * rng.f64());
        code_price.push(10f64.powf(3.0 + 4.0 * rng.f64()));
        code_size.push((rng.normal() * 0.8).exp());
    }
    let pairs_total = (n * codes.len()) as u64;
    let k = series_wanted
        .div_ceil(pairs_total)
        .clamp(8.min(n as u64 - 1), n as u64 - 1) as usize;
    let pairs_used = series_wanted.div_ceil(k as u64);
    // Shocks on evenly spaced (importer, code) pairs, on one of the top two partners.
    let shock_pairs: Vec<u64> = if months >= 49 {
        let kk = opts.shocks.min(pairs_used as usize);
        (0..kk)
            .map(|i| ((2 * i as u64 + 1) * pairs_used) / (2 * kk as u64))
            .collect()
    } else {
        Vec::new()
    };

    let mut writer = DatasetWriter::new(out)?;
    let vintage = format!("synthetic-seed{}", opts.seed);
    let mut shocks = Vec::new();
    let mut series_done = 0u64;
    let mut pair = 0u64;
    'outer: for imp in 0..n {
        let isize_ = 1.0 / (1.0 + imp as f64).powf(0.8);
        for c in 0..codes.len() {
            let shock_here = shock_pairs.iter().position(|p| *p == pair);
            pair += 1;
            let partners: Vec<usize> = rank_of_code[c]
                .iter()
                .copied()
                .filter(|e| *e != imp)
                .take(k)
                .collect();
            for (pos, &exp) in partners.iter().enumerate() {
                if series_done >= series_wanted {
                    break 'outer;
                }
                let w = 1.0 / (1.0 + pos as f64).powf(zipf[c]);
                let shock = match shock_here {
                    Some(i) if pos == i % 2 => {
                        let onset = 48 + (rng.next_u64() % u64::from(months - 48)) as u32;
                        Some((i % KINDS.len(), onset))
                    }
                    _ => None,
                };
                let s = Series {
                    importer: imp,
                    exporter: exp,
                    code: c,
                    base: 1e7 * isize_ * code_size[c] * w * (0.5 * rng.normal()).exp(),
                    growth: 0.03 + 0.05 * rng.normal(),
                    amp: 0.05 + 0.2 * rng.f64(),
                    phase: rng.f64() * 12.0,
                    price: code_price[c] * (0.2 * rng.normal()).exp(),
                    shock,
                };
                if let Some((kind, onset)) = s.shock {
                    shocks.push(Shock {
                        kind: KINDS[kind].to_string(),
                        importer: countries[imp].clone(),
                        exporter: countries[exp].clone(),
                        code: codes[c].clone(),
                        year: opts.start_year + (onset / 12) as i32,
                        month: (onset % 12 + 1) as u8,
                    });
                }
                write_series(
                    &mut writer,
                    &s,
                    opts,
                    months,
                    &countries,
                    &codes,
                    &vintage,
                    &mut rng,
                )?;
                series_done += 1;
            }
        }
    }
    let rows = writer.rows();
    writer.finish()?;
    let dir = out.join("_gen");
    std::fs::create_dir_all(&dir).map_err(|e| TradeError::io(&dir, e))?;
    let path = dir.join("shocks.json");
    let json =
        serde_json::to_string_pretty(&shocks).map_err(|e| TradeError::Invalid(e.to_string()))?;
    std::fs::write(&path, json).map_err(|e| TradeError::io(&path, e))?;
    Ok(GenSummary {
        rows,
        series: series_done,
        months,
        shocks,
    })
}

#[allow(clippy::too_many_arguments)]
fn write_series(
    w: &mut DatasetWriter,
    s: &Series,
    opts: &GenOptions,
    months: u32,
    countries: &[String],
    codes: &[String],
    vintage: &str,
    rng: &mut Rng,
) -> Result<()> {
    for t in 0..months {
        let month = (t % 12) as u8 + 1;
        let season =
            1.0 + s.amp * (2.0 * std::f64::consts::PI * (f64::from(month) + s.phase) / 12.0).sin();
        let mut value =
            s.base * (s.growth * f64::from(t) / 12.0).exp() * season * (0.05 * rng.normal()).exp();
        let mut price = s.price * (0.03 * rng.normal()).exp();
        if let Some((kind, onset)) = s.shock {
            if t >= onset {
                match KINDS[kind] {
                    "stop" => continue,
                    "collapse" => value *= 0.2,
                    _ => price *= 0.4, // quantity ×2.5 at the same value
                }
            }
        }
        let quantity = value / price;
        w.push(
            Source::Baci,
            &RowRef {
                year: opts.start_year + (t / 12) as i32,
                month: Some(month),
                reporter: &countries[s.exporter],
                partner: &countries[s.importer],
                flow: Flow::Export,
                code: &codes[s.code],
                value,
                currency: "USD",
                quantity: Some(quantity),
                unit: Some("t"),
                vintage,
            },
        )?;
    }
    Ok(())
}
