//! The normalised trade record and its Arrow/Parquet schema.
//!
//! One row is one flow of one product between two countries in one period, as one source
//! publishes it. The dataset on disk is hive-partitioned by `source` and `year`
//! (`DIR/source=baci/year=2022/part-….parquet`), so a query on one source or a range of years
//! reads only those directories; the two partition columns live in the path, not in the files.
//!
//! | column | type | meaning |
//! | --- | --- | --- |
//! | `source` | partition | `baci`, `comtrade`, `comext` |
//! | `year` | partition (int) | reference year |
//! | `month` | int, null | 1–12; null for annual data |
//! | `reporter` | string | ISO 3166-1 alpha-3 of the declaring country (BACI: the exporter) |
//! | `partner` | string | ISO alpha-3 of the partner; `_X` when unknown, not specified or confidential |
//! | `flow` | string | `import`, `export`, `re_import`, `re_export` |
//! | `code` | string | HS6 or finer (CN8, national lines), digits as published |
//! | `code_level` | int | number of digits of `code` (2 for a confidential chapter-only code) |
//! | `value` | float | trade value in `currency` (BACI's thousands converted to units) |
//! | `currency` | string | `USD` or `EUR` |
//! | `quantity` | float, null | quantity in `unit`; null when not published |
//! | `unit` | string, null | `t` (BACI), `kg`, or the source's supplementary unit |
//! | `vintage` | string | release of the source (e.g. `V202401`) or the input file's name |

use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The code written for a partner that is unknown, not specified or confidential.
pub const UNKNOWN_PARTNER: &str = "_X";

/// Direction of a flow, from the reporter's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// Goods entering the reporter.
    Import,
    /// Goods leaving the reporter.
    Export,
    /// Goods re-entering after export, unchanged.
    ReImport,
    /// Foreign goods leaving again, unchanged.
    ReExport,
}

impl Flow {
    /// The name stored in the dataset.
    pub fn as_str(self) -> &'static str {
        match self {
            Flow::Import => "import",
            Flow::Export => "export",
            Flow::ReImport => "re_import",
            Flow::ReExport => "re_export",
        }
    }
}

impl fmt::Display for Flow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Publisher of the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// CEPII BACI (reconciled bilateral flows, annual, HS6, thousand USD and tonnes).
    Baci,
    /// UN Comtrade (declared flows, annual or monthly).
    Comtrade,
    /// Eurostat Comext (EU declarants, monthly, CN8, EUR).
    Comext,
}

impl Source {
    /// The name stored in the dataset (and its partition directory).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Baci => "baci",
            Source::Comtrade => "comtrade",
            Source::Comext => "comext",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One normalised row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TradeRecord {
    /// Reference year.
    pub year: i32,
    /// Month 1–12; `None` for annual data.
    pub month: Option<u8>,
    /// ISO alpha-3 of the declaring country.
    pub reporter: String,
    /// ISO alpha-3 of the partner, or [`UNKNOWN_PARTNER`].
    pub partner: String,
    /// Direction from the reporter's side.
    pub flow: Flow,
    /// HS6 or finer code.
    pub code: String,
    /// Value in `currency`.
    pub value: f64,
    /// `USD` or `EUR`.
    pub currency: &'static str,
    /// Quantity in `unit`.
    pub quantity: Option<f64>,
    /// Unit of `quantity`.
    pub unit: Option<String>,
    /// Publisher.
    pub source: Source,
    /// Release of the source.
    pub vintage: String,
}

impl TradeRecord {
    /// Number of digits of the code (its level: 6 for HS6, 8 for CN8).
    pub fn code_level(&self) -> i32 {
        self.code.chars().take_while(|c| c.is_ascii_digit()).count() as i32
    }
}

/// Schema of the Parquet files (without the partition columns `source` and `year`).
pub fn file_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("month", DataType::Int32, true),
        Field::new("reporter", DataType::Utf8, false),
        Field::new("partner", DataType::Utf8, false),
        Field::new("flow", DataType::Utf8, false),
        Field::new("code", DataType::Utf8, false),
        Field::new("code_level", DataType::Int32, false),
        Field::new("value", DataType::Float64, false),
        Field::new("currency", DataType::Utf8, false),
        Field::new("quantity", DataType::Float64, true),
        Field::new("unit", DataType::Utf8, true),
        Field::new("vintage", DataType::Utf8, false),
    ]))
}

/// The partition columns, in directory order.
pub fn partition_columns() -> Vec<(String, DataType)> {
    vec![
        ("source".to_string(), DataType::Utf8),
        ("year".to_string(), DataType::Int32),
    ]
}
